import ArgumentParser
import CofferCore
import CofferDotEnv
import CofferOperations
import CofferSystem
import CofferVault

extension CofferCommand {
  /// `coffer inject`: render a template's `{{ coffer "NAME" }}` references.
  struct Inject: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "inject", abstract: "Render a template's {{ coffer \"NAME\" }} references with values from the vault.",
      discussion: """
        References are {{ coffer "NAME" }} (the --env environment) or {{ coffer "ENV/NAME" }} (another one); every \
        other {{ … }} is copied as it is, and values are inserted byte for byte, never expanded again. The template \
        comes from -i FILE, else stdin; the output goes to -o FILE (written atomically, mode 0600 for a new file), \
        else stdout. A reference to a name without a value, or in a group this identity cannot read, is an error \
        naming FILE:LINE:COLUMN (exit 2, or 3 for access), and nothing is written. See docs/run.md.
        """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var env: EnvironmentOption
    @Option(name: .shortAndLong, help: ArgumentHelp("The template (default: stdin).", valueName: "template"))
    var input: String?
    @Option(name: .shortAndLong, help: ArgumentHelp("Write to FILE instead of stdout.", valueName: "file"))
    var output: String?

    mutating func run() throws {
      let ws = try Workspace.load(global)
      let environment = try ws.environment(env)
      if let output { try Exporter.refuseCofferFiles(output, project: ws.project) }
      let file = input.flatMap { $0 == "-" ? nil : $0 }
      let bytes = try file.map { try Files.read($0) } ?? Terminal.readAllStdin()
      let rendered = try Injector.render(bytes, file: file ?? "<stdin>", environment: environment, ws: ws, destination: output)
      if let output {
        try Files.writeAtomically(output, rendered.bytes, newFileMode: 0o600)
        ErrorRenderer.note("wrote \(output) (\(rendered.count) reference\(rendered.count == 1 ? "" : "s"))")
      } else {
        Terminal.write(1, rendered.bytes)
      }
    }
  }
}

/// Renders `{{ coffer "…" }}` templates (``SecretTemplate``) from the vaults, recording each environment's read.
enum Injector {
  /// - Parameters:
  ///   - bytes: the template.
  ///   - file: its name for errors.
  ///   - environment: the environment of references without one.
  ///   - ws: the workspace.
  ///   - destination: the output file, for the audit line (nil: stdout).
  /// - Returns: the output and how many references it replaced.
  /// - Throws: ``SecretTemplateError`` naming `file:line:column` (exit 2; 3 for a group this identity cannot read);
  ///   nothing is rendered then.
  static func render(
    _ bytes: [UInt8], file: String, environment: String, ws: Workspace, destination: String?
  ) throws -> (bytes: [UInt8], count: Int) {
    let template = try SecretTemplate.parse(bytes, file: file)
    let references = template.references
    guard !references.isEmpty else { return (bytes, 0) }
    let identities = try IdentityLoader.load()
    var vaults: [String: Vault?] = [:]
    var used: [String: [(name: String, value: SecretValue)]] = [:]
    var order: [String] = []
    var values: [SecretTemplate.Reference: SecretValue] = [:]
    // Resolve everything first: one error stops the command before any output.
    for reference in references {
      func fail(_ message: String, status: ExitStatus = .badInput, hints: [String] = []) -> SecretTemplateError {
        SecretTemplateError(
          file: file, line: reference.line, column: reference.column, message: message, exitStatus: status, hints: hints)
      }
      let env = reference.environment ?? environment
      guard ws.manifest.hasEnvironment(env) else {
        throw fail("no environment named \(env) in coffer.yaml", hints: ["its environments: " + ws.manifest.environments.joined(separator: ", ")])
      }
      if vaults[env] == nil {
        vaults[env] = .some(try ws.openVault(env, identities: identities))
        order.append(env)
      }
      guard let vault = vaults[env] ?? nil else {
        throw fail("\(reference.name) has no value in \(env): it has no vault yet", hints: ["`coffer set \(reference.name) --env \(env)`"])
      }
      if let composition = ws.manifest.secret(named: reference.name)?.compose {
        // Composed from other secrets: computed from their current values.
        var parts = try ComposedValues.partValues(composition, manifest: ws.manifest, vault: vault)
        let read = parts
        if let chain = Composition.apply(ws.manifest, to: &parts).first(where: { $0.name == reference.name })?.chain {
          throw fail(ComposedValues.missing(reference.name, chain: chain, environment: env).description)
        }
        values[reference] = parts[reference.name]
        for (name, value) in read.sorted(by: { $0.key < $1.key }) where !(used[env] ?? []).contains(where: { $0.name == name }) {
          used[env, default: []].append((name, value))
        }
        continue
      }
      guard vault.current(reference.name) != nil else {
        let declared = ws.manifest.secret(named: reference.name) != nil
        throw fail(
          "\(reference.name) has no value in \(env)\(declared ? "" : " (coffer.yaml does not declare it)")",
          hints: ["`coffer set \(reference.name) --env \(env)`, or correct the reference"])
      }
      guard vault.isReadable(reference.name) else {
        let group = vault.group(of: reference.name) ?? "default"
        throw fail(
          "\(reference.name) is in group \(group), which this identity cannot read in \(env)", status: .accessDenied,
          hints: AccessDenied.grantHints(groups: [group], environment: env, vault: vault, manifest: ws.manifest, identities: identities))
      }
      if values[reference] == nil {
        let key = SecretTemplate.Reference(environment: reference.environment, name: reference.name, line: 0, column: 0)
        if let known = values[key] {
          values[reference] = known
        } else {
          let value = try vault.value(of: reference.name)
          values[key] = value
          values[reference] = value
          used[env, default: []].append((reference.name, value))
        }
      }
    }
    for env in order {
      guard let vault = vaults[env] ?? nil, let read = used[env] else { continue }
      try ws.auditor(identities).recordRead(
        "inject", vault: vault, values: read, destination: destination.map { "file:" + Paths.lastComponent($0) })
    }
    let out = template.render { reference in values[reference]?.reveal() ?? [] }
    return (out, references.count)
  }
}

/// `run --env-file FILE`: a dotenv file whose values may be references, `coffer://ENV/NAME`, resolved from the
/// vault (as `op run` resolves `op://`); every other value is used as written (docs/run.md).
enum EnvFileReferences {
  /// One entry of the file, resolved.
  struct Entry {
    let name: String
    let value: SecretValue
    /// The environment whose vault the value came from, or nil for a value written in the file.
    let source: String?
    /// The secret's name in that vault.
    let secret: String?
  }

  static let scheme = "coffer://"

  /// `[a-z0-9][a-z0-9._-]*`, the environment-name rule.
  static func isEnvironmentName(_ name: String) -> Bool {
    let bytes = Array(name.utf8)
    func lowerAlnum(_ b: UInt8) -> Bool { (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) }
    guard let first = bytes.first, lowerAlnum(first) else { return false }
    return bytes.allSatisfy { lowerAlnum($0) || $0 == 0x2E || $0 == 0x5F || $0 == 0x2D }
  }

  /// Reads and resolves the file.
  /// - Parameters:
  ///   - file: the dotenv file.
  ///   - vault: the vault `run` opened (references to its environment are read from it), nil when it has none.
  ///   - environment: `run`'s environment.
  ///   - project: the `--project` option.
  ///   - verbose: `--verbose`.
  /// - Throws: ``DotEnvError`` for a malformed file; ``SecretTemplateError`` naming `FILE:LINE` for a reference that
  ///   is malformed (exit 2), has no value (exit 2) or lies in a group this identity cannot read (exit 3).
  static func load(_ file: String, vault: Vault?, environment: String, project: String?, verbose: Bool) throws -> [Entry] {
    let parsed = try DotEnvParser.parse(try Files.read(file), file: file)
    for w in parsed.warnings { ErrorRenderer.warn("\(file):\(w.line): \(w.message)") }
    var others: [String: Vault?] = [:]
    var workspace: Workspace?
    var identities: [AgeX25519Identity]?
    var out: [Entry] = []
    for (name, value) in parsed.document.values {
      let line = parsed.document.line(of: name) ?? 1
      func fail(_ message: String, status: ExitStatus = .badInput, hints: [String] = []) -> SecretTemplateError {
        SecretTemplateError(file: file, line: line, column: 1, message: message, exitStatus: status, hints: hints)
      }
      let text = value.revealString()
      guard value.isValidUTF8, text.hasPrefix(scheme) else {
        out.append(Entry(name: name, value: value, source: nil, secret: nil))
        continue
      }
      let parts = text.dropFirst(scheme.count).split(separator: "/", omittingEmptySubsequences: false).map(String.init)
      guard parts.count == 2, isEnvironmentName(parts[0]), SecretName.isValid(parts[1]) else {
        // The text is not shown: it may be a value that happens to start with the scheme.
        throw fail("\(name): a coffer:// reference must be coffer://ENV/NAME")
      }
      let (env, secret) = (parts[0], parts[1])
      let source: Vault?
      if env == environment {
        source = vault
      } else if let known = others[env] {
        source = known
      } else {
        let ws = try workspace ?? Workspace.load(project: project, verbose: verbose)
        workspace = ws
        guard ws.manifest.hasEnvironment(env) else {
          throw fail("\(name): no environment named \(env) in coffer.yaml")
        }
        let ids = try identities ?? IdentityLoader.load()
        identities = ids
        let opened = try ws.openVault(env, identities: ids)
        others[env] = .some(opened)
        source = opened
      }
      guard let source, source.current(secret) != nil else {
        throw fail("\(name): \(secret) has no value in \(env)", hints: ["`coffer set \(secret) --env \(env)`, or correct the reference"])
      }
      guard source.isReadable(secret) else {
        throw fail(
          "\(name): \(secret) is in group \(source.group(of: secret) ?? "default"), which this identity cannot read in \(env)",
          status: .accessDenied)
      }
      out.append(Entry(name: name, value: try source.value(of: secret), source: env, secret: secret))
    }
    return out
  }

  /// Records the reads of environments other than `run`'s own (each in its own audit line).
  static func recordOtherEnvironments(_ entries: [Entry], except environment: String, project: String?, verbose: Bool, auditNames: Bool) throws {
    let others = entries.filter { $0.source != nil && $0.source != environment }
    guard !others.isEmpty else { return }
    let ws = try Workspace.load(project: project, verbose: verbose)
    let identities = try IdentityLoader.load()
    var done: Swift.Set<String> = []
    for entry in others {
      guard let env = entry.source, !done.contains(env), let vault = try ws.openVault(env, identities: identities) else { continue }
      done.insert(env)
      let values = others.filter { $0.source == env }.map { (name: $0.secret ?? $0.name, value: $0.value) }
      try ws.auditor(identities).recordRead("run", vault: vault, values: values, includeNames: auditNames)
    }
  }
}

/// Reading composed secrets (``Composition``) from a vault.
enum ComposedValues {
  /// The current values of every part a composition needs, however deep, that the vault holds and this identity can
  /// read.
  static func partValues(_ composition: Composition, manifest: Manifest, vault: Vault) throws -> [String: SecretValue] {
    var out: [String: SecretValue] = [:]
    var queue = composition.parts
    var seen = Swift.Set<String>()
    while let name = queue.popLast() {
      guard seen.insert(name).inserted else { continue }
      if let nested = manifest.secret(named: name)?.compose {
        queue += nested.parts
      } else if vault.current(name) != nil, vault.isReadable(name) {
        out[name] = try vault.value(of: name)
      }
    }
    return out
  }

  /// The error for a composed secret with a part missing: names the chain.
  static func missing(_ name: String, chain: [String], environment: String) -> UsageError {
    UsageError(
      description: "\(name) is composed from \(chain.last ?? name), which has no value in \(environment) (\(chain.joined(separator: " → ")))",
      hints: ["`coffer set \(chain.last ?? name) --env \(environment)`"], exitStatus: .problemsFound)
  }

  /// `values` (in order) with every composed secret added or replaced, warning about those that cannot be composed.
  static func adding(_ manifest: Manifest, to values: [(name: String, value: SecretValue)], environment: String) -> [(name: String, value: SecretValue)] {
    guard manifest.secrets.contains(where: { $0.compose != nil }) else { return values }
    var byName = Dictionary(values.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
    for (name, chain) in Composition.apply(manifest, to: &byName) {
      ErrorRenderer.warn(missing(name, chain: chain, environment: environment).description)
    }
    let composed = manifest.secrets.filter { $0.compose != nil }.map(\.name)
    var out = values.filter { !composed.contains($0.name) }
    for name in composed { if let value = byName[name] { out.append((name, value)) } }
    return out
  }
}
