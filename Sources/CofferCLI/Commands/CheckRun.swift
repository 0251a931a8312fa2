import ArgumentParser
import CofferCore
import CofferDotEnv
import CofferOperations
import CofferSystem
import CofferVault

extension CofferCommand {
  /// `coffer run`: exec a program with the secrets in its environment.
  struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "run", abstract: "Run a command with an environment's secrets added to its environment.",
      discussion: """
        The command replaces coffer (execve, looked up on PATH, no shell): it keeps the process id, receives \
        signals directly, and its exit status is coffer's. Secrets override inherited variables unless \
        --no-override. Exit status 127 when the command is not found. When the environment has no vault, or a \
        secret coffer.yaml requires there has no value, the command is not started (exit status 1, naming what is \
        missing) unless --allow-missing. Only names coffer.yaml declares are injected (--include-undeclared adds the \
        others, with a warning naming them); a variable that changes how programs load or run (PATH, BASH_ENV, \
        LD_PRELOAD, NODE_OPTIONS, GIT_*, …) only when coffer.yaml declares it with allow_loader_variable: true. The \
        command is looked up on coffer's own PATH, never one among the secrets. With --mount or --watch coffer stays \
        in front (the command is a child; signals are passed on; coffer's status is the command's last): --mount \
        gives the secrets as a FIFO, --watch restarts the command when the vault changes. See docs/run.md.
        """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var env: EnvironmentOption
    @Flag(name: .long, help: "Keep variables already set in the environment.") var noOverride = false
    @Flag(name: .long, help: "Run even if some groups are not readable with this identity.") var allowPartial = false
    @Flag(name: .long, help: "Run even if the environment has no vault or required secrets have no value.") var allowMissing = false
    @Flag(name: .long, help: "Run the command as a child with its output redacted (values become [redacted:NAME]); see docs/scan.md.")
    var redact = false
    @Flag(name: .long, help: "Record every secret's name in the audit log, however many (by default a run of more than 20 records a count and a set fingerprint; see docs/audit.md).")
    var auditNames = false
    @Flag(name: .long, help: "Also inject the vault's names coffer.yaml does not declare (never a loader variable; a warning names them).")
    var includeUndeclared = false
    @Option(name: .long, help: ArgumentHelp("Inject only the secrets of these groups (comma-separated).", valueName: "groups"))
    var only: String?
    @Option(name: .long, help: ArgumentHelp("Inject only these secrets (comma-separated).", valueName: "names"))
    var names: String?
    @Option(name: .long, help: ArgumentHelp("Also inject a dotenv file's entries, resolving coffer://ENV/NAME values from the vault.", valueName: "file"))
    var envFile: String?
    @Option(name: .long, help: ArgumentHelp("Give the secrets as a file that never reaches a disk (a FIFO named NAME; FORMAT dotenv, json, yaml or template=FILE), its path in COFFER_MOUNT, instead of the environment.", valueName: "name[:format]"))
    var mount: String?
    @Option(name: .long, help: ArgumentHelp("Remove the mount after N reads.", valueName: "n"))
    var mountMaxReads: Int?
    @Flag(name: .long, help: "Restart the command when the environment's vault changes (see docs/run.md, \"Watching\").")
    var watch = false
    @Option(name: .long, help: ArgumentHelp("With --watch: the signal that asks the command to exit for a restart (default TERM).", valueName: "signal"))
    var restartSignal: String?
    @Option(name: .long, help: ArgumentHelp("With --watch: how long the command may take to exit before it is killed (default 10s).", valueName: "duration"))
    var grace: String?
    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments (after --).")
    var command: [String] = []

    mutating func run() throws {
      if command.first == "--help" || command.first == "-h" { throw CleanExit.helpRequest(self) }
      // Passthrough capture starts at the first argument ArgumentParser does not know, so a mistyped option before
      // `--` would otherwise be run as the command.
      if let first = command.first, first.hasPrefix("-"), first != "--", command.dropFirst().contains("--") {
        // Its text is not shown: argument text in a usage error may be a secret.
        throw UsageError(
          description: "an option before -- is not one run knows",
          hints: ["coffer run [--env NAME] [--no-override] [--allow-partial] [--allow-missing] [--redact] [--audit-names] [--include-undeclared] [--only GROUPS] [--names A,B] [--env-file FILE] -- COMMAND ARGS…"])
      }
      let selection = try RunEnvironment.Selection(
        includeUndeclared: includeUndeclared, groups: Self.list(only, option: "--only"), names: Self.list(names, option: "--names"),
        envFile: envFile)
      if watch {
        guard mount == nil, !redact else { throw UsageError(description: "--watch cannot be combined with --mount or --redact") }
        var argv = command
        if argv.first == "--" { argv.removeFirst() }
        guard !argv.isEmpty else { throw UsageError(description: "no command given", hints: ["coffer run --watch -- COMMAND ARGS…"]) }
        let decisions = try RunWatch.decisions(restartSignal: restartSignal, grace: grace)
        let (project, verbose, name, partial, missing, audit, override) = (
          global.project, global.verbose, env.env, allowPartial, allowMissing, auditNames, !noOverride)
        try RunWatch.run(argv: argv, project: project, verbose: verbose, env: name, decisions: decisions) {
          let read = try RunEnvironment.readSecrets(
            project: project, verbose: verbose, env: name, allowPartial: partial, allowMissing: missing,
            auditNames: audit, selection: selection)
          return (try RunEnvironment.childEnvironment(read.values, override: override), read.record)
        }
      }
      if restartSignal != nil || grace != nil { throw UsageError(description: "--restart-signal and --grace need --watch") }
      if let mount {
        var argv = command
        if argv.first == "--" { argv.removeFirst() }
        guard !argv.isEmpty else { throw UsageError(description: "no command given", hints: ["coffer run --mount NAME -- COMMAND ARGS…"]) }
        let parts = mount.split(separator: ":", maxSplits: 1).map(String.init)
        let name = parts.first ?? ""
        guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else {
          throw UsageError(description: "--mount expects a file name (no /), optionally with :dotenv, :json, :yaml or :template=FILE")
        }
        if let n = mountMaxReads, n < 1 { throw UsageError(description: "--mount-max-reads must be 1 or more") }
        let content: [UInt8]
        if parts.count == 2, parts[1].hasPrefix("template=") {
          content = try RunMount.template(
            String(parts[1].dropFirst(9)), name: name, project: global.project, verbose: global.verbose, env: env.env,
            selection: selection)
        } else {
          guard let format = ExportFormat(rawValue: parts.count == 2 ? parts[1] : "dotenv"), format != .shell else {
            throw UsageError(description: "--mount: the format must be dotenv, json, yaml or template=FILE")
          }
          let entries = try RunEnvironment.secrets(
            project: global.project, verbose: global.verbose, env: env.env, allowPartial: allowPartial,
            allowMissing: allowMissing, auditNames: auditNames, selection: selection)
          content = try ExportFormatter.render(entries, as: format)
        }
        let status = try MountedRun.run(
          argv: argv, environment: RunEnvironment.inheritedEnvironment(), name: name, content: content,
          maxReads: mountMaxReads, variable: "COFFER_MOUNT")
        throw Finish(status: status)
      }
      if mountMaxReads != nil { throw UsageError(description: "--mount-max-reads needs --mount") }
      if redact {
        var argv = command
        if argv.first == "--" { argv.removeFirst() }
        guard !argv.isEmpty else { throw UsageError(description: "no command given", hints: ["coffer run --env NAME -- COMMAND ARGS…"]) }
        let entries = try RunEnvironment.secrets(
          project: global.project, verbose: global.verbose, env: env.env, allowPartial: allowPartial,
          allowMissing: allowMissing, auditNames: auditNames, selection: selection)
        let environment = try RunEnvironment.childEnvironment(entries, override: !noOverride)
        try RedactedRunCommand.run(argv: argv, environment: environment.entries, global: global, env: env)
      }
      try RunEnvironment.execute(
        project: global.project, verbose: global.verbose, env: env.env, noOverride: noOverride,
        allowPartial: allowPartial, allowMissing: allowMissing, auditNames: auditNames, selection: selection,
        command: command)
    }

    /// A comma-separated option value as a list; nil when the option was not given.
    /// - Throws: ``UsageError`` for an empty list or an empty item.
    static func list(_ text: String?, option: String) throws -> [String]? {
      guard let text else { return nil }
      let items = text.split(separator: ",", omittingEmptySubsequences: false).map { String($0.filter { $0 != " " }) }
      guard !items.isEmpty, !items.contains(where: \.isEmpty) else {
        throw UsageError(description: "\(option) expects a comma-separated list without empty items")
      }
      return items
    }
  }
}

/// The `run` path, kept lean: it reads the vault and the identity, and the manifest only when it must.
enum RunEnvironment {
  /// Parses `coffer run …` without ArgumentParser when the arguments are the common ones, so that `run` starts as
  /// fast as it can; returns `nil` for anything else (help, unknown flags), which then goes through ArgumentParser.
  struct FastArguments {
    var project: String?
    var verbose = false
    var env: String?
    var noOverride = false
    var allowPartial = false
    var allowMissing = false
    var auditNames = false
    var includeUndeclared = false
    var command: [String] = []

    init?(_ args: ArraySlice<String>) {
      var scan = ArgumentScan(args)
      while !scan.atEnd {
        let arg = scan.current
        if arg == "--" {
          command = Array(args[(scan.index + 1)...])
          break
        }
        if !arg.hasPrefix("-") || arg == "-" {
          command = Array(args[scan.index...])
          break
        }
        switch arg {
        case "--no-override": noOverride = true
        case "--allow-partial": allowPartial = true
        case "--allow-missing": allowMissing = true
        case "--audit-names": auditNames = true
        case "--include-undeclared": includeUndeclared = true
        case "--verbose": verbose = true
        default:
          guard scan.environmentOrProject(env: &env, project: &project) == true else { return nil }
        }
        scan.advance()
      }
      guard !command.isEmpty else { return nil }
    }
  }

  /// What `run` injects beyond (or instead of) its defaults: undeclared names, a subset (docs/run.md).
  struct Selection {
    /// `--include-undeclared`: also the vault's names the manifest does not declare (never a loader variable).
    var includeUndeclared = false
    /// `--only GROUPS`: only the secrets of these groups (with `names`, their union).
    var groups: [String]?
    /// `--names A,B`: only these secrets (with `groups`, their union).
    var names: [String]?
    /// `--env-file FILE`: a dotenv file whose entries are injected too, `coffer://ENV/NAME` values resolved.
    var envFile: String?

    /// Whether a subset was asked for (the manifest must then be decoded to learn the groups).
    var narrows: Bool { groups != nil || names != nil }
  }

  /// Reads the secrets and replaces this process with the command.
  static func execute(
    project: String?, verbose: Bool, env: String?, noOverride: Bool, allowPartial: Bool, allowMissing: Bool,
    auditNames: Bool = false, selection: Selection = Selection(),
    command: [String]
  ) throws {
    var argv = command
    if argv.first == "--" { argv.removeFirst() }
    guard !argv.isEmpty else { throw UsageError(description: "no command given", hints: ["coffer run --env NAME -- COMMAND ARGS…"]) }
    let located = try Located(project)
    if let stored = try StoreRun.entries(
      located, project: project, verbose: verbose, env: env, allowMissing: allowMissing, auditNames: auditNames,
      selection: selection)
    {
      try Exec.replaceProcess(argv: argv, environment: try childEnvironment(stored, override: !noOverride))
    }
    guard
      let opened = try openVault(
        located, project: project, verbose: verbose, env: env, allowPartial: allowPartial, allowMissing: allowMissing,
        selection: selection)
    else {
      // No vault (--allow-missing): only an --env-file's entries, by the same rules.
      let entries = try selection.envFile.map { try fileEntriesWithoutVault($0, project: project, verbose: verbose, env: env, selection: selection) } ?? []
      try Exec.replaceProcess(argv: argv, environment: try childEnvironment(entries, override: !noOverride))
    }
    // Values go from the decryption buffer straight into the child's environment and the audit's set fingerprint:
    // no SecretValue per value (docs/performance.md).
    var merger = EnvironmentMerger(inherited: inheritedEnvironment(), override: !noOverride, expected: opened.vault.names.count)
    var names: [String] = []
    names.reserveCapacity(opened.vault.names.count)
    var firstValues: [(name: String, value: SecretValue)] = []  // for per-value fingerprints of a small read
    var setFingerprint = opened.vault.setFingerprintBuilder()
    var nulIn: String?
    var leftOut = LeftOut()
    let fromFile = try selection.envFile.map { file in
      try EnvFileReferences.load(file, vault: opened.vault, environment: opened.vault.environment, project: project, verbose: verbose)
    } ?? []
    let fileNames = Swift.Set(fromFile.map(\.name))
    let composedNames = Swift.Set(opened.composing?.secrets.filter { $0.compose != nil }.map(\.name) ?? [])
    var partValues: [String: SecretValue] = [:]
    try opened.vault.forEachCurrentValue { name, value in
      if !fileNames.isEmpty, fileNames.contains(name) { return }  // the file's entry wins
      if opened.composing != nil {
        partValues[name] = SecretValue(Array(value))
        if composedNames.contains(name) { return }  // composed, never stored
      }
      switch opened.decide(name) {
      case .inject: break
      case .injectUndeclared: leftOut.included.append(name)
      case .undeclared: leftOut.undeclared.append(name); return
      case .loader: leftOut.loader.append(name); return
      case .notSelected: return
      }
      if nulIn == nil, value.contains(0) { nulIn = name }
      names.append(name)
      if names.count <= Auditor.perValueFingerprintLimit { firstValues.append((name, SecretValue(Array(value)))) }
      setFingerprint.add(name: name, value: value)
      merger.add(name: name, value: value)
    }
    if let manifest = opened.composing {
      for (name, chain) in Composition.apply(manifest, to: &partValues) where opened.decide(name) == .inject {
        ErrorRenderer.warn(ComposedValues.missing(name, chain: chain, environment: opened.vault.environment).description)
      }
      for name in manifest.secrets.filter({ $0.compose != nil }).map(\.name) where !fileNames.contains(name) {
        guard let value = partValues[name] else { continue }
        switch opened.decide(name) {
        case .loader: leftOut.loader.append(name); continue
        case .inject, .injectUndeclared: break
        case .undeclared, .notSelected: continue
        }
        if nulIn == nil, value.containsNUL { nulIn = name }
        names.append(name)
        if names.count <= Auditor.perValueFingerprintLimit { firstValues.append((name, value)) }
        value.reveal().withUnsafeBufferPointer { bytes in
          setFingerprint.add(name: name, value: bytes)
          merger.add(name: name, value: bytes)
        }
      }
    }
    for entry in fromFile {
      switch opened.decide(entry.name) {
      case .inject: break
      case .injectUndeclared: leftOut.included.append(entry.name)
      case .undeclared: leftOut.undeclared.append(entry.name); continue
      case .loader: leftOut.loader.append(entry.name); continue
      case .notSelected: continue
      }
      if nulIn == nil, entry.value.containsNUL { nulIn = entry.name }
      entry.value.reveal().withUnsafeBufferPointer { value in
        merger.add(name: entry.name, value: value)
        guard entry.source == opened.vault.environment else { return }
        let secret = entry.secret ?? entry.name
        names.append(secret)
        if names.count <= Auditor.perValueFingerprintLimit { firstValues.append((secret, entry.value)) }
        setFingerprint.add(name: secret, value: value)
      }
    }
    if let nulIn { throw UsageError(description: "\(nulIn) contains a NUL byte and cannot be placed in an environment") }
    leftOut.warn(environment: opened.vault.environment)
    try EnvFileReferences.recordOtherEnvironments(fromFile, except: opened.vault.environment, project: project, verbose: verbose, auditNames: auditNames)
    try opened.auditor.recordRead(
      "run", vault: opened.vault, names: names,
      fingerprints: names.count <= Auditor.perValueFingerprintLimit
        ? opened.vault.fingerprints(of: firstValues) : ["*": setFingerprint.finish()],
      includeNames: auditNames)
    let environment = merger.finish()
    SignatureMemoStore.flush()
    // Keep the vault alive until execve: freeing thousands of objects the kernel is about to discard is wasted work.
    try withExtendedLifetime(opened) {
      try Exec.replaceProcess(argv: argv, environment: environment)
    }
  }

  /// An `--env-file`'s entries when the environment has no vault: references to other environments resolved, the
  /// injection rules applied (with their warnings).
  static func fileEntriesWithoutVault(
    _ file: String, project: String?, verbose: Bool, env: String?, selection: Selection
  ) throws -> [(name: String, value: SecretValue)] {
    let ws = try Workspace.load(project: project, verbose: verbose)
    let environment = try ws.environment(named: env ?? Workspace.environmentVariable)
    let rules = InjectionRules(ws.manifest, includeUndeclared: selection.includeUndeclared, selected: try selectedNames(selection, manifest: ws.manifest))
    let loaded = try EnvFileReferences.load(file, vault: nil, environment: environment, project: project, verbose: verbose)
    var leftOut = LeftOut()
    var out: [(name: String, value: SecretValue)] = []
    for entry in loaded {
      switch rules.decide(entry.name) {
      case .inject: out.append((entry.name, entry.value))
      case .injectUndeclared:
        leftOut.included.append(entry.name)
        out.append((entry.name, entry.value))
      case .undeclared: leftOut.undeclared.append(entry.name)
      case .loader: leftOut.loader.append(entry.name)
      case .notSelected: break
      }
    }
    leftOut.warn(environment: environment)
    try EnvFileReferences.recordOtherEnvironments(loaded, except: environment, project: project, verbose: verbose, auditNames: false)
    return out
  }

  /// The vault's names `run` left out or added against its defaults, for the warnings that name them (never values).
  struct LeftOut {
    /// Undeclared names injected because of `--include-undeclared`.
    var included: [String] = []
    /// Undeclared names left out.
    var undeclared: [String] = []
    /// Loader variables left out.
    var loader: [String] = []

    /// The warnings, on stderr.
    func warn(environment: String) {
      for message in messages(environment: environment) { ErrorRenderer.warn(message) }
    }

    /// The warning texts (docs/run.md).
    func messages(environment: String) -> [String] {
      var out: [String] = []
      func count(_ n: Int) -> String { n == 1 ? "1 name" : "\(n) names" }
      // At most 20 names in a line; the rest as a count.
      func listed(_ names: [String]) -> String {
        let sorted = names.sorted()
        return sorted.prefix(20).joined(separator: ", ") + (sorted.count > 20 ? " and \(sorted.count - 20) more" : "")
      }
      if !loader.isEmpty {
        let list = loader
        out.append(
          "not injected: \(listed(list)): \(list.count == 1 ? "it changes" : "they change") how programs load or run; "
            + "to inject \(list.count == 1 ? "it" : "one"), declare it in coffer.yaml with allow_loader_variable: true (docs/run.md)")
      }
      if !undeclared.isEmpty {
        out.append(
          "not injected: \(count(undeclared.count)) that coffer.yaml does not declare: "
            + "\(listed(undeclared)); declare \(undeclared.count == 1 ? "it" : "them"), or pass --include-undeclared")
      }
      if !included.isEmpty {
        out.append(
          "injecting \(count(included.count)) that coffer.yaml does not declare (--include-undeclared): "
            + listed(included))
      }
      return out
    }
  }

  /// The inherited environment without `COFFER_IDENTITY` (the key that opens every environment and every kept
  /// version) or `COFFER_IDENTITY_FILE` (where it is).
  static func inheritedEnvironment() -> [[UInt8]] {
    ProcessEnvironment.childEntries()
  }

  /// The child's environment: the inherited one with the secrets merged in, and never `COFFER_IDENTITY` (the key
  /// that opens every environment and every kept version) or `COFFER_IDENTITY_FILE`.
  static func childEnvironment(_ entries: [(name: String, value: SecretValue)], override: Bool) throws -> EnvironmentBlock {
    try ChildEnvironment.merge(inheritedEnvironment(), entries, override: override)
  }

  /// The values `run` injects, with the read recorded and the left-out names warned about (`run --redact`, which
  /// needs them all at once).
  static func secrets(
    project projectOption: String?, verbose: Bool, env: String?, allowPartial: Bool, allowMissing: Bool,
    auditNames: Bool = false, selection: Selection = Selection()
  ) throws -> [(name: String, value: SecretValue)] {
    let read = try readSecrets(
      project: projectOption, verbose: verbose, env: env, allowPartial: allowPartial, allowMissing: allowMissing,
      auditNames: auditNames, selection: selection)
    try read.record()
    return read.values
  }

  /// ``secrets(project:verbose:env:allowPartial:allowMissing:auditNames:selection:)`` with the read's audit line left
  /// to the caller (`run --watch` records a read when it restarts the command with it).
  static func readSecrets(
    project projectOption: String?, verbose: Bool, env: String?, allowPartial: Bool, allowMissing: Bool,
    auditNames: Bool = false, selection: Selection = Selection()
  ) throws -> (values: [(name: String, value: SecretValue)], record: () throws -> Void) {
    // A `store:` environment reads its server; StoreRun records the read itself.
    let located = try Located(projectOption)
    if let stored = try StoreRun.entries(
      located, project: projectOption, verbose: verbose, env: env, allowMissing: allowMissing, auditNames: auditNames,
      selection: selection)
    {
      return (stored, {})
    }
    guard
      let opened = try openVault(
        located, project: projectOption, verbose: verbose, env: env, allowPartial: allowPartial,
        allowMissing: allowMissing, selection: selection)
    else {
      return ([], {})
    }
    var leftOut = LeftOut()
    var values: [(name: String, value: SecretValue)] = []
    let fromFile = try selection.envFile.map { file in
      try EnvFileReferences.load(file, vault: opened.vault, environment: opened.vault.environment, project: projectOption, verbose: verbose)
    } ?? []
    let fileNames = Swift.Set(fromFile.map(\.name))
    var current = try opened.vault.currentValues()
    if let manifest = opened.composing {
      current = ComposedValues.adding(manifest, to: current, environment: opened.vault.environment)
    }
    for (name, value) in current where !fileNames.contains(name) {
      switch opened.decide(name) {
      case .inject: values.append((name, value))
      case .injectUndeclared:
        leftOut.included.append(name)
        values.append((name, value))
      case .undeclared: leftOut.undeclared.append(name)
      case .loader: leftOut.loader.append(name)
      case .notSelected: break
      }
    }
    var recorded = values
    for entry in fromFile {
      switch opened.decide(entry.name) {
      case .inject: break
      case .injectUndeclared: leftOut.included.append(entry.name)
      case .undeclared: leftOut.undeclared.append(entry.name); continue
      case .loader: leftOut.loader.append(entry.name); continue
      case .notSelected: continue
      }
      values.append((entry.name, entry.value))
      if entry.source == opened.vault.environment { recorded.append((entry.secret ?? entry.name, entry.value)) }
    }
    leftOut.warn(environment: opened.vault.environment)
    return (values, {
      try EnvFileReferences.recordOtherEnvironments(fromFile, except: opened.vault.environment, project: projectOption, verbose: verbose, auditNames: auditNames)
      try opened.auditor.recordRead("run", vault: opened.vault, values: recorded, includeNames: auditNames)
    })
  }

  /// An environment's vault opened for `run`: the auditor that records the read and the rules for what to inject.
  /// A class, so that keeping it alive until `execve` needs no run-time type metadata for its fields.
  final class Opened {
    let vault: Vault
    let auditor: Auditor
    /// The rules, without the declared names (``InjectionRules/declared`` is empty): those are in ``declared``, and
    /// every decision goes through ``decide(_:)``.
    private let rules: InjectionRules
    private var declared: SortedNames
    /// The manifest, when it composes secrets from others (``Composition``); nil otherwise.
    var composing: Manifest?

    /// - Parameters:
    ///   - declared: the names the manifest declares, sorted by UTF-8 bytes.
    ///   - rules: the other rules (the loader variables allowed, `--include-undeclared`, the selection).
    init(vault: Vault, auditor: Auditor, declared: [String], rules: InjectionRules, composing: Manifest?) {
      self.vault = vault
      self.auditor = auditor
      self.declared = SortedNames(declared)
      self.rules = rules
      self.composing = composing
    }

    /// Whether and why `run` injects a name (``InjectionRules/decide(_:isDeclared:)``). Cheapest when asked in the
    /// vault's order, as `run` does.
    func decide(_ name: String) -> InjectionRules.Decision {
      rules.decide(name, isDeclared: declared.contains(name))
    }
  }

  /// Names sorted by UTF-8 bytes, all of them ASCII (secret names, `[A-Za-z_][A-Za-z0-9_]*`), so `String`'s `<`
  /// agrees with that order and takes its fast path. Membership is asked mostly in the same order (the vault's), so
  /// a cursor walks forward: a comparison or two a name instead of a hash; a name asked out of order is found by a
  /// binary search.
  struct SortedNames {
    let names: [String]
    private var cursor = 0

    /// - Parameter sorted: the names, sorted by UTF-8 bytes (an unsorted list only makes some answers "absent").
    init(_ sorted: [String]) { names = sorted }

    /// Whether `name` is one of the names.
    mutating func contains(_ name: String) -> Bool {
      if cursor > 0, !(names[cursor - 1] < name) {
        var lo = 0
        var hi = cursor
        while lo < hi {
          let mid = (lo + hi) / 2
          if names[mid] < name { lo = mid + 1 } else { hi = mid }
        }
        return lo < names.count && names[lo] == name
      }
      while cursor < names.count, names[cursor] < name { cursor += 1 }
      return cursor < names.count && names[cursor] == name
    }
  }

  /// Opens the environment's vault for `run`, with the auditor that records the read and the injection rules; nil
  /// when the environment has no vault yet and `allowMissing` (a warning says so). Fails closed: without
  /// `allowMissing`, a missing vault or a required (and selected) secret without a value is a ``MissingForRun``
  /// error (exit 1) before anything runs.
  static func openVault(
    _ located: Located, project projectOption: String?, verbose: Bool, env: String?, allowPartial: Bool,
    allowMissing: Bool, selection: Selection = Selection()
  ) throws -> Opened? {
    let project = located.project
    var environment = env ?? Workspace.environmentVariable
    var workspace: Workspace?
    if selection.narrows || environment == nil || !isSafeEnvironmentName(environment!)
      || !Files.exists(project.vaultPath(environment!))
    {
      // Slow path: the manifest decides the default and whether the name is declared at all (and, for a subset,
      // which secrets each group holds).
      let ws = try Workspace.load(project: projectOption, verbose: verbose)
      environment = try ws.environment(named: environment)
      workspace = ws
    }
    guard let environment else { return nil }
    let selected = try workspace.flatMap { try selectedNames(selection, manifest: $0.manifest) }
    let path = project.vaultPath(environment)
    guard Files.exists(path) else {
      if allowMissing {
        ErrorRenderer.warn("\(environment) has no vault yet: running without secrets (--allow-missing)")
        return nil
      }
      let required = workspace.map { ws in
        ws.manifest.secrets.filter { $0.isRequired(in: environment) && selected?.contains($0.name) ?? true }.map(\.name)
      } ?? []
      throw MissingForRun(environment: environment, noVault: true, names: required)
    }
    Heap.prepare(forVault: path)
    let identities = try IdentityLoader.load()
    let bytes = try Files.read(path)
    let trust = try workspace?.policyChain() ?? Trust.chain(for: project)
    // A large manifest's cached facts are looked up beside the vault's opening.
    let early = workspace == nil ? EarlyFacts.start(located, environment: environment) : nil
    // A typed do/catch, not `Result<Vault, VaultError>`: instantiating that type makes the runtime search every
    // conformance in the binary for `VaultError: Error` (docs/performance.md).
    let vault: Vault
    do {
      vault = try VaultFile.open(bytes, file: project.display(path), with: identities, trust: trust)
    } catch {
      guard error.code == .noMatchingIdentity else { throw error }
      let manifest = try? (workspace ?? Workspace.load(project: projectOption, verbose: verbose)).manifest
      throw AccessDenied.environment(error, bytes: bytes, environment: environment, manifest: manifest, identities: identities)
    }
    guard vault.environment == environment else {
      throw VaultError(.malformed, file: project.display(path), detail: "holds environment \(vault.environment)")
    }
    let unreadable = vault.unreadableGroups
    // A subset that needs no unreadable group runs without them.
    let needed = selected.map { names in unreadable.filter { g in names.contains { vault.group(of: $0) == g } } } ?? unreadable
    if !needed.isEmpty {
      // Only on this path is the manifest read: to name who can grant access.
      let manifest = try? (workspace ?? Workspace.load(project: projectOption, verbose: verbose)).manifest
      try Partial.check(vault, environment: environment, allowPartial: allowPartial, manifest: manifest, identities: identities)
    }
    // The manifest says what this environment declares and requires. Decoding it costs about 13 µs a declared
    // secret (docs/performance.md), so the answer is cached by the manifest's SHA-256.
    let facts: ManifestFacts
    if let workspace {
      facts = ManifestFacts(workspace.manifest, environment: environment)
    } else {
      let manifestBytes = try located.manifest ?? Files.read(project.manifestPath)
      let cached: ManifestFacts?
      if let early {
        cached = early.finish()
      } else {
        cached = RequiredNamesCache.lookup(project, manifest: manifestBytes, environment: environment)
      }
      if let cached {
        facts = cached
        if let trust, policyDigest(trust.head.body) != cached.policyDigest {
          // coffer.yaml asks for a policy nobody approved: loading the workspace names the pending change.
          workspace = try Workspace.load(project: projectOption, verbose: verbose)
        }
      } else {
        let ws = try Workspace.load(project: projectOption, verbose: verbose)
        facts = ManifestFacts(ws.manifest, environment: environment)
        RequiredNamesCache.store(project, manifest: manifestBytes, ws.manifest)
      }
    }
    // Composed secrets need the manifest's compositions.
    var composing: Manifest?
    if !facts.composed.isEmpty {
      let ws = try workspace ?? Workspace.load(project: projectOption, verbose: verbose)
      workspace = ws
      composing = ws.manifest
    }
    if !allowMissing {
      // Fail closed. A composed secret is present when its parts are; otherwise its first missing part is named.
      var missing: [String] = []
      var present: Swift.Set<String>?  // only for compositions
      // Both lists are sorted: one walk instead of a lookup a name.
      var held = SortedNames(vault.names)
      for name in facts.required where selected?.contains(name) ?? true {
        if let manifest = composing, facts.composed.contains(name) {
          present = present ?? Swift.Set(vault.names)
          if let chain = Composition.missingChain(of: name, in: manifest, present: present!), let part = chain.last,
            !missing.contains(part)
          {
            missing.append(part)
          }
        } else if !held.contains(name), !missing.contains(name) {
          missing.append(name)
        }
      }
      if !missing.isEmpty { throw MissingForRun(environment: environment, noVault: false, names: missing) }
    }
    let rules = InjectionRules(
      declared: [], allowedLoaderVariables: facts.allowedLoaderVariables,
      includeUndeclared: selection.includeUndeclared, selected: selected)
    // The manifest is not read on this path, so the actor is the identity's recipient.
    return Opened(
      vault: vault, auditor: Auditor(root: project.root, actor: identities[0].recipient.encoded, identities: identities),
      declared: facts.declared, rules: rules, composing: composing)
  }

  /// The project `run` works in and its coffer.yaml's bytes, found and read once for both the `store:` check and
  /// the vault's manifest cache.
  struct Located {
    let project: Project
    /// coffer.yaml's bytes; nil when it could not be read (the reader that needs them reports why).
    let manifest: [UInt8]?

    /// Finds the project from `--project` or the working directory and reads its coffer.yaml.
    /// - Throws: ``SystemError`` when there is no project.
    init(_ projectOption: String?) throws {
      project = try Project.locate(from: projectOption)
      manifest = try? Files.read(project.manifestPath)
    }
  }

  /// The names `--only` and `--names` select, or nil for all.
  /// - Throws: ``UsageError`` (exit 2) for a group or a name the manifest does not declare.
  static func selectedNames(_ selection: Selection, manifest: Manifest) throws -> Swift.Set<String>? {
    guard selection.narrows else { return nil }
    var out = Swift.Set<String>()
    for group in selection.groups ?? [] {
      guard manifest.group(named: group) != nil else {
        let declared = manifest.groups.map(\.name)
        throw UsageError(
          description: "--only: no group named \(DisplayText.escaped(group)) in coffer.yaml",
          hints: [declared.isEmpty ? "coffer.yaml declares no groups" : "its groups: " + declared.joined(separator: ", ")])
      }
      for spec in manifest.secrets where spec.group == group { out.insert(spec.name) }
    }
    for name in selection.names ?? [] {
      guard manifest.secret(named: name) != nil || (selection.includeUndeclared && SecretName.isValid(name)) else {
        let shown = SecretName.isValid(name) ? name : "a name"
        throw UsageError(
          description: "--names: coffer.yaml does not declare \(shown)",
          hints: ["declare it, or pass --include-undeclared as well to inject a name the vault holds undeclared"])
      }
      out.insert(name)
    }
    return out
  }

  /// ``RequiredNamesCache/lookup(_:manifest:environment:names:)`` of a large coffer.yaml on a helper thread
  /// (CofferCore's `ParallelParts`), started before the vault is opened: the lookup hashes the manifest and reads a
  /// line of names per declared secret (about 0.5 ms at 10,000 secrets), which the helper does while the calling
  /// thread parses the vault (docs/performance.md, "Issue 16, eighth pass"). A smaller manifest is looked up on the
  /// calling thread, where it costs less than starting the thread.
  final class EarlyFacts {
    /// coffer.yaml's size from which the lookup moves to the helper (about 2,500 declared secrets); chosen, not
    /// measured at the boundary.
    static let minimumManifestBytes = 128 * 1024

    /// The lookup under way. The task captures only what the lookup reads, so releasing an unfinished `EarlyFacts`
    /// (a throw while the vault opens) releases this handle, which abandons or joins the task.
    private let pending: ParallelParts.Pending<ManifestFacts?>

    private init(_ located: Located, manifest: [UInt8], environment: String) {
      let project = located.project
      pending = ParallelParts.start {
        RequiredNamesCache.lookup(project, manifest: manifest, environment: environment)
      }
    }

    /// Starts the lookup when coffer.yaml was read while locating the project and is large enough.
    /// - Returns: the lookup under way, or nil: the caller looks the facts up itself.
    static func start(_ located: Located, environment: String) -> EarlyFacts? {
      guard let manifest = located.manifest, manifest.count >= minimumManifestBytes else { return nil }
      return EarlyFacts(located, manifest: manifest, environment: environment)
    }

    /// Waits for the lookup (or makes it here, where no helper started).
    /// - Returns: what ``RequiredNamesCache/lookup(_:manifest:environment:names:)`` returned: nil when the cache does
    ///   not answer.
    func finish() -> ManifestFacts? {
      pending.finish() ?? nil
    }
  }

  /// What `run` needs from the manifest: the names an environment requires, every declared name, and the declared
  /// loader variables marked `allow_loader_variable: true`.
  struct ManifestFacts: Equatable {
    /// The names the environment requires, sorted by UTF-8 bytes.
    var required: [String]
    /// Every declared name, sorted by UTF-8 bytes.
    var declared: [String]
    var allowedLoaderVariables: Swift.Set<String>
    /// The composed secrets' names (their values come from other secrets).
    var composed: Swift.Set<String> = []
    /// The declared environments, in order.
    var environments: [String] = []
    /// ``RunEnvironment/policyDigest(_:)`` of the access policy coffer.yaml asks for: when it differs from the
    /// approved policy's, a change is pending and the slow path names it.
    var policyDigest = ""
    /// How many recipients coffer.yaml lists.
    var recipientCount = 0
    /// The environments whose store is a server (`store:`), which the vault fast paths never answer for.
    var stores: [String] = []

    init(
      required: [String], declared: [String], allowedLoaderVariables: Swift.Set<String>, composed: Swift.Set<String> = [],
      environments: [String] = [], policyDigest: String = "", recipientCount: Int = 0, stores: [String] = []
    ) {
      self.required = required
      self.declared = declared
      self.allowedLoaderVariables = allowedLoaderVariables
      self.composed = composed
      self.environments = environments
      self.policyDigest = policyDigest
      self.recipientCount = recipientCount
      self.stores = stores
    }

    init(_ manifest: Manifest, environment: String) {
      required = manifest.secrets.filter { $0.isRequired(in: environment) }.map(\.name).sorted()
      declared = manifest.secrets.map(\.name).sorted()
      allowedLoaderVariables = Swift.Set(manifest.secrets.filter(\.allowLoaderVariable).map(\.name))
      composed = Swift.Set(manifest.secrets.filter { $0.compose != nil }.map(\.name))
      environments = manifest.environments
      policyDigest = RunEnvironment.policyDigest(PolicyBody(AccessPolicy(manifest: manifest)).lines)
      recipientCount = manifest.recipients.count
      stores = manifest.environments.filter { manifest.store(of: $0) != nil }
    }
  }

  /// A digest of a policy body's lines (``PolicyBody/lines``), to tell whether coffer.yaml asks for the approved
  /// policy without decoding it.
  static func policyDigest(_ lines: [String]) -> String {
    // The lines joined by LF, by hand: the generic `joined(separator:)` makes the runtime scan every conformance
    // record for `[String]: Collection` on first use, and this is on `run`'s path (docs/performance.md).
    var bytes: [UInt8] = []
    for (i, line) in lines.enumerated() {
      if i > 0 { bytes.append(0x0A) }
      bytes.append(contentsOf: line.utf8)
    }
    return ContentHash.sha256Hex(bytes)
  }

  /// What `run` needs from the manifest (``ManifestFacts``), so that it does not decode the manifest every time:
  /// `$XDG_STATE_HOME/coffer/required/<id>.cache`, `<id>` from the SHA-256 of the project's path. It sits beside
  /// the audit log, outside the repository, so no commit can plant one that declares nothing required (or a loader
  /// variable allowed). Mode 0600; valid only for the `coffer.yaml` whose SHA-256 it records. A manifest with
  /// `imports:` is never cached (the imported files are not in the hash), and a cache that does not match, or
  /// cannot be read, is ignored: the manifest is decoded as before.
  ///
  /// Format: `coffer-required-cache v4`, then `manifest <sha256 hex>`, then `+declared\t<NAME>,<NAME>,…` (every
  /// declared name, sorted by UTF-8 bytes, as are the required names below: `run` walks them beside the vault's), `+loader\t<NAME>,…` (those with `allow_loader_variable: true`), `+composed\t<NAME>,…` (those
  /// with `compose:`, which make `run` decode the manifest), `+environments\t<ENV>,…`, `+policy\t<hex>` (the
  /// digest of the access policy coffer.yaml asks for, ``policyDigest(_:)``), `+recipients\t<count>`,
  /// `+stores\t<ENV>,…` (the environments whose `store:` is a server), then one line per environment:
  /// `<environment>\t<NAME>,<NAME>,…` (the required names; environment and secret names hold neither tabs nor
  /// commas, and no environment name starts with `+`).
  enum RequiredNamesCache {
    static let header = "coffer-required-cache v4"

    static func path(_ project: Project) -> String {
      let id = String(ContentHash.sha256Hex(Array(project.root.utf8)).prefix(16))
      return Paths.join(ProcessEnvironment.stateHome(), "coffer/required/\(id).cache")
    }

    /// What the manifest says about `environment`, or nil when the cache is absent, stale or does not list it.
    /// - Parameters:
    ///   - manifest: the bytes of `coffer.yaml` as read now.
    ///   - names: whether to read the declared and loader-variable names (`run` needs them, `get` does not);
    ///     without, ``ManifestFacts/declared`` and ``ManifestFacts/allowedLoaderVariables`` are empty.
    static func lookup(_ project: Project, manifest: [UInt8], environment: String, names wantNames: Bool = true) -> ManifestFacts? {
      guard let bytes = try? Files.read(path(project)) else { return nil }
      // Read as bytes: the names are ASCII tokens, and splitting a `String` by `Character` cost more than the rest
      // of `run` at 1,000 declared secrets (docs/performance.md).
      return bytes.withUnsafeBufferPointer { buffer -> ManifestFacts? in
        // Plain pairs, not `Range<Int>`: an array of ranges costs a run-time conformance lookup (docs/performance.md).
        struct Span { var lowerBound: Int, upperBound: Int }
        var spans: [Span] = []
        var start = 0
        while start < buffer.count {
          let end = buffer[start...].firstIndex(of: 0x0A) ?? buffer.count
          spans.append(Span(lowerBound: start, upperBound: end))
          start = end + 1
        }
        func line(_ i: Int) -> Range<Int> { spans[i].lowerBound..<spans[i].upperBound }
        func text(_ r: Range<Int>) -> String { String(decoding: UnsafeBufferPointer(rebasing: buffer[r]), as: UTF8.self) }
        func hasPrefix(_ r: Range<Int>, _ prefix: String) -> Bool {
          r.count >= prefix.utf8.count && buffer[r.lowerBound..<(r.lowerBound + prefix.utf8.count)].elementsEqual(prefix.utf8)
        }
        /// The comma-separated names after the first tab of a line.
        func names(_ r: Range<Int>) -> [String] {
          guard let tab = buffer[r].firstIndex(of: 0x09) else { return [] }
          var out: [String] = []
          var a = tab + 1
          while a < r.upperBound {
            let b = buffer[a..<r.upperBound].firstIndex(of: 0x2C) ?? r.upperBound
            if b > a { out.append(text(a..<b)) }
            a = b + 1
          }
          return out
        }
        guard spans.count >= 9, text(line(0)) == header, text(line(1)) == "manifest " + ContentHash.sha256Hex(manifest),
          hasPrefix(line(2), "+declared\t"), hasPrefix(line(3), "+loader\t"), hasPrefix(line(4), "+composed\t"),
          hasPrefix(line(5), "+environments\t"), hasPrefix(line(6), "+policy\t"), hasPrefix(line(7), "+recipients\t"),
          hasPrefix(line(8), "+stores\t"),
          let recipients = Int(text(line(7)).dropFirst("+recipients\t".count))
        else {
          return nil
        }
        let prefix = environment + "\t"
        for i in 9..<spans.count where hasPrefix(line(i), prefix) {
          return ManifestFacts(
            required: wantNames ? names(line(i)) : [], declared: wantNames ? names(line(2)) : [],
            allowedLoaderVariables: wantNames ? Swift.Set(names(line(3))) : [], composed: Swift.Set(names(line(4))),
            environments: names(line(5)), policyDigest: String(text(line(6)).dropFirst("+policy\t".count)),
            recipientCount: recipients, stores: names(line(8)))
        }
        return nil
      }
    }

    /// Records what `manifest` (decoded from `bytes`) declares and requires; best effort, never an error.
    static func store(_ project: Project, manifest bytes: [UInt8], _ manifest: Manifest) {
      guard manifest.imports.isEmpty, !String(decoding: bytes, as: UTF8.self).contains("imports"),
        (try? Files.read(project.manifestPath)) == bytes  // unchanged since it was decoded
      else { return }
      var text = header + "\nmanifest " + ContentHash.sha256Hex(bytes) + "\n"
      text += "+declared\t" + manifest.secrets.map(\.name).sorted().joined(separator: ",") + "\n"
      text += "+loader\t" + manifest.secrets.filter(\.allowLoaderVariable).map(\.name).joined(separator: ",") + "\n"
      text += "+composed\t" + manifest.secrets.filter { $0.compose != nil }.map(\.name).joined(separator: ",") + "\n"
      text += "+environments\t" + manifest.environments.joined(separator: ",") + "\n"
      text += "+policy\t" + policyDigest(PolicyBody(AccessPolicy(manifest: manifest)).lines) + "\n"
      text += "+recipients\t\(manifest.recipients.count)\n"
      text += "+stores\t" + manifest.environments.filter { manifest.store(of: $0) != nil }.joined(separator: ",") + "\n"
      for environment in manifest.environments {
        text += environment + "\t" + manifest.secrets.filter { $0.isRequired(in: environment) }.map(\.name).sorted().joined(separator: ",") + "\n"
      }
      let file = path(project)
      try? Files.makeDirectory(Paths.parent(file))
      try? Files.writeAtomically(file, Array(text.utf8))
    }
  }

  /// `run` refuses to start a command without the secrets the manifest requires (exit 1), naming them, never values.
  struct MissingForRun: CofferError {
    let environment: String
    let noVault: Bool
    let names: [String]
    var exitStatus: ExitStatus { .problemsFound }
    var description: String {
      let list = names.isEmpty ? "" : ": " + names.joined(separator: ", ")
      if noVault {
        return "\(environment) has no vault yet, so the command was not started"
          + (names.isEmpty ? "" : " (it requires \(names.count) secret\(names.count == 1 ? "" : "s")\(list))")
      }
      return "\(names.count) required secret\(names.count == 1 ? " has" : "s have") no value in \(environment), so the command was not started\(list)"
    }
    var hints: [String] {
      let first = names.first.map { "`coffer set \($0) --env \(environment)`" } ?? "`coffer set NAME --env \(environment)`"
      return [
        "set \(noVault ? "its secrets" : "them") (\(first), or `coffer import FILE --env \(environment)`), or pass --allow-missing to run anyway"
      ]
    }
  }

  static func isSafeEnvironmentName(_ s: String) -> Bool {
    VaultGrammar.isToken(s) && !s.hasPrefix(".")
  }

}

