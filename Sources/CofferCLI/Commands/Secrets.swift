import ArgumentParser
import CofferCore
import CofferDotEnv
import CofferOperations
import CofferSync
import CofferSystem
import CofferVault

extension CofferCommand {
  /// `coffer set`: record a new version of a secret.
  struct Set: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "set", abstract: "Store a new version of a secret.",
      discussion: """
        The value comes from --file (byte-exact), --value, a hidden prompt when stdin is a terminal, or stdin \
        (exactly one trailing LF or CRLF removed unless --keep-newline). The last 10 versions are kept. A name \
        coffer.yaml does not declare is refused (exit 2, with the closest declared name) unless --undeclared. A \
        value that breaks the secret's rules (prefix, pattern, format, placeholder) is stored with a warning \
        naming the rule, never the value.
        """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var env: EnvironmentOption
    @Argument(help: "The secret's name.", completion: .custom(Completions.secretNames)) var name: String
    @Option(name: .long, help: ArgumentHelp("Read the value from FILE, byte for byte.", valueName: "file"))
    var file: String?
    // `.unconditional`: the next argument is the value even when it starts with `-` (`--value -x`).
    @Option(
      name: .long, parsing: .unconditional,
      help: ArgumentHelp("The value itself (it may start with '-'). Visible to other users of this machine in the process list and shell history: prefer stdin or --file.", valueName: "value"))
    var value: String?
    @Flag(name: .long, help: "Keep a trailing newline read from stdin.")
    var keepNewline = false
    @Flag(name: .long, help: "Store a name coffer.yaml does not declare.")
    var undeclared = false

    mutating func run() throws {
      let ws = try Workspace.load(global)
      let environment = try ws.environment(env)
      try SecretNames.validate(name)
      if ws.manifest.secret(named: name) == nil {
        guard undeclared else { throw ws.undeclaredName(name, action: "set") }
        ErrorRenderer.warn("\(name) is not declared in coffer.yaml")
      }
      SecretNames.warnAboutDestinations([name], ws: ws)
      let secret = try readValue()
      if try StoreCommands.set(ws, environment, name: name, value: secret) { return }
      let identities = try IdentityLoader.load()
      let name = self.name
      let version = try ws.modifyVault(environment, identities: identities) { vault in
        try vault.set(name, to: secret, group: ws.group(of: name), author: ws.author(identities), at: SystemClock.now())
      }
      ErrorRenderer.note("set \(name) in \(environment) (version \(version))")
      ws.warnIfInvalid(name, secret, environment: environment)
    }

    func readValue() throws -> SecretValue {
      try ValueInput.read(name: name, file: file, value: value, generate: nil, keepNewline: keepNewline)
    }
  }

  /// `coffer get`: print one value.
  struct Get: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "Print a secret's value on stdout.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var env: EnvironmentOption
    @Argument(help: "The secret's name.", completion: .custom(Completions.secretNames)) var name: String
    @Option(name: .long, help: "Print this version instead of the current one.") var version: Int?
    @Flag(name: [.customShort("n"), .long], help: "Do not print a newline after the value.") var noNewline = false
    @Flag(name: .long, help: "Print {\"name\": …, \"value\": …}.") var json = false

    mutating func run() throws {
      let ws = try Workspace.load(global)
      let environment = try ws.environment(env)
      if try StoreCommands.get(ws, environment, name: name, version: version, json: json, noNewline: noNewline) { return }
      let identities = try IdentityLoader.load()
      if version == nil, let composed = ws.manifest.secret(named: name)?.compose {
        // Composed from other secrets (docs/manifest.md): computed from their current values.
        guard let vault = try ws.openVault(environment, identities: identities) else { throw ws.noValue(name, environment: environment) }
        let parts = try ComposedValues.partValues(composed, manifest: ws.manifest, vault: vault)
        var values = parts
        if let chain = Composition.apply(ws.manifest, to: &values).first(where: { $0.name == name })?.chain {
          throw ComposedValues.missing(name, chain: chain, environment: environment)
        }
        let value = values[name] ?? SecretValue([UInt8]())
        try ws.auditor(identities).recordRead("read", vault: vault, values: parts.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        try Self.print(name, value, json: json, noNewline: noNewline)
        return
      }
      guard let vault = try ws.openVault(environment, identities: identities), vault.current(name) != nil else {
        throw ws.noValue(name, environment: environment)
      }
      let value = try ws.value(of: name, version: version, in: vault, environment: environment, identities: identities)
      try ws.auditor(identities).recordRead("read", vault: vault, values: [(name, value)])
      try Self.print(name, value, json: json, noNewline: noNewline)
    }

    static func print(_ name: String, _ value: SecretValue, json: Bool, noNewline: Bool) throws {
      if json {
        guard value.isValidUTF8 else { throw UsageError(description: "\(name) is not UTF-8 text and cannot be printed as JSON") }
        Terminal.out(JSON.object([("name", .string(name)), ("value", .string(value.revealString()))]).encoded + "\n")
      } else {
        Terminal.write(1, value.reveal() + (noNewline ? [] : [0x0A]))
      }
    }
  }

  /// `coffer rm`: delete a secret and its history from one environment.
  struct Remove: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove a secret (all its versions) from an environment.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var env: EnvironmentOption
    @Argument(help: "The secret's name.", completion: .custom(Completions.secretNames)) var name: String

    mutating func run() throws {
      let ws = try Workspace.load(global)
      let environment = try ws.environment(env)
      let identities = try IdentityLoader.load()
      let name = self.name
      try StoreCommands.refuseVaultWrite(ws, environment)
      guard Files.exists(ws.project.vaultPath(environment)) else { throw ws.noValue(name, environment: environment, toSet: false) }
      try ws.modifyVault(environment, identities: identities, action: "delete") { vault in
        guard vault.remove(name) else { throw ws.noValue(name, environment: environment, present: vault.names, toSet: false) }
      }
      ErrorRenderer.note("removed \(name) from \(environment)")
    }
  }

  /// `coffer list`: names and metadata, never values.
  struct List: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "list", abstract: "List the secrets in an environment: name, group, version, age, author; never values.",
      aliases: ["ls"])

    @OptionGroup var global: GlobalOptions
    @OptionGroup var env: EnvironmentOption
    @Flag(name: .long, help: "Print JSON.") var json = false

    mutating func run() throws {
      let ws = try Workspace.load(global)
      let environment = try ws.environment(env)
      if try StoreCommands.list(ws, environment, json: json) { return }
      // Verified like any other read when this identity can open the vault (a refused file is refused here too).
      let entries = try VaultMetadata.load(ws, environment) ?? []
      let now = SystemClock.now()
      if json {
        let items: [JSON] = entries.map { e in
          let v = e.versions[0]
          return .object([
            ("name", .string(e.name)), ("group", .string(e.group)), ("version", .int(v.number)),
            ("updated", .string(v.created.rfc3339)), ("author", .string(v.author)),
            ("declared", .bool(ws.manifest.secret(named: e.name) != nil)),
          ])
        }
        Terminal.out(JSON.object([("environment", .string(environment)), ("secrets", .array(items))]).encoded + "\n")
        return
      }
      var rows = [["NAME", "GROUP", "VERSION", "UPDATED", "BY"]]
      for e in entries {
        let v = e.versions[0]
        rows.append([e.name, e.group, String(v.number), RelativeTime.describe(from: v.created, to: now), v.author])
      }
      Terminal.out(Table.render(rows))
    }
  }
}

extension Workspace {
  /// The refusal for a name the manifest does not declare: exit 2, with the closest declared name.
  /// - Parameters:
  ///   - name: the name given.
  ///   - action: the command (`set`), for the hint naming its `--undeclared` flag.
  func undeclaredName(_ name: String, action: String) -> UsageError {
    var hints: [String] = []
    if let close = Suggest.closest(to: name, among: manifest.secrets.map(\.name)) { hints.append("did you mean \(close)?") }
    hints.append("declare it in \(project.display(project.manifestPath)), or pass --undeclared to \(action) it anyway")
    return UsageError(description: "\(name) is not declared in \(project.display(project.manifestPath))", hints: hints)
  }

  /// The error for a secret with no value in an environment (exit 1): says so, suggests a close name that has one,
  /// and how to set it.
  func noValue(_ name: String, environment: String, present: [String] = [], toSet: Bool = true) -> UsageError {
    var hints: [String] = []
    let candidates = manifest.secrets.map(\.name) + present
    if manifest.secret(named: name) == nil, let close = Suggest.closest(to: name, among: candidates) {
      hints.append("did you mean \(close)?")
    }
    if toSet { hints.append("set it with `coffer set \(name) --env \(environment)`") }
    let declared = manifest.secret(named: name) == nil ? " (and coffer.yaml does not declare it)" : ""
    return UsageError(
      description: "\(name) has no value in \(environment)\(declared)", hints: hints, exitStatus: .problemsFound)
  }

  /// Warns (never failing) when a value just stored breaks its declared rules, as `coffer check` would report it.
  func warnIfInvalid(_ name: String, _ value: SecretValue, environment: String) {
    guard let spec = manifest.secret(named: name) else { return }
    for issue in Checker.issues(of: value, declaredAs: spec, environment: environment) {
      ErrorRenderer.warn("\(name) \(issue.reason) (stored anyway; `coffer check` reports it)")
    }
  }
}

/// The one naming rule for secrets (``SecretName`` in CofferCore, the rule coffer.yaml applies), as a usage error.
enum SecretNames {
  /// - Parameters:
  ///   - name: the name given.
  ///   - location: where it was read (`FILE:LINE`), when it came from a file.
  /// - Throws: ``UsageError`` (exit 2) with the one message and, for a name only a .env file may hold, a hint.
  static func validate(_ name: String, at location: String? = nil) throws {
    guard !SecretName.isValid(name) else { return }
    throw UsageError(
      description: (location.map { "\($0): " } ?? "") + SecretName.message(for: name), hints: SecretName.hints(for: name))
  }

  /// Warns about valid names a GitHub destination in the manifest will block (`GITHUB_` prefix), so the surprise
  /// comes when the name is stored, not at the next `sync`.
  /// - Parameters:
  ///   - names: names being stored.
  ///   - ws: the workspace (its manifest's destinations).
  static func warnAboutDestinations(_ names: [String], ws: Workspace) {
    guard let bytes = try? Files.read(ws.project.manifestPath),
      let specs = try? Manifest.decodeDestinations(bytes, file: ws.project.display(ws.project.manifestPath))
    else { return }
    let github = specs.filter { if case .github = $0.target { return true } else { return false } }
    for name in names {
      for spec in github {
        if let groups = spec.groups, !groups.contains(ws.group(of: name)) { continue }
        guard let problem = GitHubRules.nameProblem(name) else { continue }
        ErrorRenderer.warn("\(name) is a valid name, but destination \(spec.name) (GitHub) will block it: \(problem)")
      }
    }
  }
}

/// Human-readable ages for listings.
enum RelativeTime {
  static func describe(from then: Timestamp, to now: Timestamp) -> String {
    let s = now.secondsSinceEpoch - then.secondsSinceEpoch
    if s < 60 { return "just now" }
    if s < 3600 { return "\(s / 60)m ago" }
    if s < 86_400 { return "\(s / 3600)h ago" }
    return "\(s / 86_400)d ago"
  }
}

/// Left-aligned text tables.
enum Table {
  static func render(_ rows: [[String]]) -> String {
    guard let first = rows.first else { return "" }
    var widths = [Int](repeating: 0, count: first.count)
    for row in rows { for (i, c) in row.enumerated() { widths[i] = max(widths[i], c.count) } }
    var out = ""
    for row in rows {
      var line = ""
      for (i, c) in row.enumerated() {
        line += c
        if i < row.count - 1 { line += String(repeating: " ", count: widths[i] - c.count + 2) }
      }
      out += line + "\n"
    }
    return out
  }
}
