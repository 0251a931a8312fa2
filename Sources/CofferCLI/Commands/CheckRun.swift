import ArgumentParser
import CofferCore
import CofferDotEnv
import CofferSystem
import CofferVault

extension CofferCommand {
  /// `coffer check`: what is missing, malformed or undeclared.
  struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Report missing, invalid and undeclared secrets in an environment; never a value.",
      discussion: "Exit status 1 when a required secret is missing or a value breaks its rules.",
      aliases: ["detect-missing", "validate"])

    @OptionGroup var global: GlobalOptions
    @OptionGroup var env: EnvironmentOption
    @Flag(name: .long, help: "Print the report as JSON.") var json = false

    mutating func run() throws {
      let ws = try Workspace.load(global)
      let environment = try ws.environment(env)
      let identities = try IdentityLoader.load()
      var values: [String: SecretValue] = [:]
      var unreadable: [String] = []
      if let vault = try ws.openVault(environment, identities: identities) {
        for (name, value) in try vault.currentValues() { values[name] = value }
        unreadable = vault.unreadableGroups
        try ws.auditor(identities).record("check", environment: environment, secrets: vault.names, durable: false)
      }
      let report = Checker.check(ws.manifest, environment: environment, values: values)
      if json {
        let doc = JSON.object([
          ("environment", .string(report.environment)),
          ("missing", JSON.strings(report.missing)),
          ("invalid", .array(report.invalid.map { .object([("name", .string($0.name)), ("reason", .string($0.reason))]) })),
          ("undeclared", JSON.strings(report.undeclared)),
          ("ok", JSON.strings(report.ok)),
          ("unreadable_groups", JSON.strings(unreadable)),
        ])
        Terminal.out(doc.encoded + "\n")
      } else {
        Terminal.out(CheckText.render(report, manifest: ws.manifest, unreadable: unreadable))
      }
      if report.hasProblems { throw Finish(status: ExitStatus.problemsFound.rawValue) }
    }
  }

  /// `coffer template`: an env.example from the manifest.
  struct Template: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Write an env.example: every declared secret, grouped, with its description and example.")

    @OptionGroup var global: GlobalOptions
    @Option(name: .shortAndLong, help: ArgumentHelp("Write to FILE instead of stdout.", valueName: "file"))
    var output: String?

    mutating func run() throws {
      let ws = try Workspace.load(global)
      try TemplateWriter.write(ws.manifest, to: output)
    }
  }

  /// `coffer generate-template`: the reference guide's name for `template`.
  struct GenerateTemplate: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "generate-template", abstract: "Write an env template (the reference guide's name for `coffer template`).")

    @OptionGroup var global: GlobalOptions
    @Option(name: .long, help: "The file to write.") var outputFile = "env.example"

    mutating func run() throws {
      let ws = try Workspace.load(global)
      try TemplateWriter.write(ws.manifest, to: outputFile)
    }
  }

  /// `coffer run`: exec a program with the secrets in its environment.
  struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Run a command with an environment's secrets added to its environment.",
      discussion: """
        The command replaces coffer (execve, looked up on PATH, no shell): it keeps the process id, receives \
        signals directly, and its exit status is coffer's. Secrets override inherited variables unless \
        --no-override. Exit status 127 when the command is not found.
        """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var env: EnvironmentOption
    @Flag(name: .long, help: "Keep variables already set in the environment.") var noOverride = false
    @Flag(name: .long, help: "Run even if some groups are not readable with this identity.") var allowPartial = false
    @Flag(name: .long, help: "Run the command as a child with its output redacted (values become [redacted:NAME]); see docs/scan.md.")
    var redact = false
    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments (after --).")
    var command: [String] = []

    mutating func run() throws {
      var argv = command
      if argv.first == "--help" || argv.first == "-h" { throw CleanExit.helpRequest(self) }
      if argv.first == "--" { argv.removeFirst() }
      guard !argv.isEmpty else { throw UsageError(description: "no command given", hints: ["coffer run --env NAME -- COMMAND ARGS…"]) }
      let entries = try RunEnvironment.secrets(global: global, env: env, allowPartial: allowPartial)
      let environment = try RunEnvironment.merge(ProcessEnvironment.entries(), entries, override: !noOverride)
      if redact { try RedactedRunCommand.run(argv: argv, environment: environment, global: global, env: env) }
      try Exec.replaceProcess(argv: argv, environment: environment)
    }
  }

  /// `coffer rewrap`: re-wrap data keys to the manifest's recipients.
  struct Rewrap: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Re-wrap every vault's data keys to the recipients in coffer.yaml (after adding or removing one).")

    @OptionGroup var global: GlobalOptions
    @Option(name: [.customShort("e"), .long], help: "Only this environment.") var env: String?

    mutating func run() throws {
      let ws = try Workspace.load(global)
      let identities = try IdentityLoader.load()
      let environments = try env.map { [try ws.environment(EnvironmentOption(env: $0))] } ?? ws.manifest.environments
      for environment in environments where Files.exists(ws.project.vaultPath(environment)) {
        try ws.modifyVault(environment, identities: identities, action: "rewrap") { _ in }
        ErrorRenderer.note("re-wrapped \(environment)")
      }
    }
  }
}

extension EnvironmentOption {
  init(env: String?) {
    self.init()
    self.env = env
  }
}

/// The `run` path, kept lean: it reads the vault and the identity, and the manifest only when it must.
enum RunEnvironment {
  static func secrets(global: GlobalOptions, env: EnvironmentOption, allowPartial: Bool) throws -> [(name: String, value: SecretValue)] {
    let project = try Project.locate(from: global.project)
    var environment = env.env ?? ProcessEnvironment.get("COFFER_ENV")
    if environment == nil || !isSafeEnvironmentName(environment!) || !Files.exists(project.vaultPath(environment!)) {
      // Slow path: the manifest decides the default and whether the name is declared at all.
      let ws = try Workspace.load(global)
      environment = try ws.environment(EnvironmentOption(env: environment))
    }
    guard let environment else { return [] }
    let path = project.vaultPath(environment)
    guard Files.exists(path) else {
      ErrorRenderer.warn("\(environment) has no vault yet: running without secrets")
      return []
    }
    let identities = try IdentityLoader.load()
    let vault = try VaultFile.open(try Files.read(path), file: project.display(path), with: identities)
    try Partial.check(vault, environment: environment, allowPartial: allowPartial)
    let values = try vault.currentValues()
    // The manifest is not read on this path, so the actor is the identity's recipient.
    let auditor = Auditor(root: project.root, actor: identities[0].recipient.encoded, identities: identities)
    try auditor.recordRead("run", vault: vault, values: values)
    return values
  }

  static func isSafeEnvironmentName(_ s: String) -> Bool {
    VaultGrammar.isToken(s) && !s.hasPrefix(".")
  }

  /// The child's environment: the inherited one with the secrets added (replacing same-named variables unless
  /// `override` is false). Order: inherited variables in place, then new ones in name order.
  static func merge(_ inherited: [[UInt8]], _ secrets: [(name: String, value: SecretValue)], override: Bool) throws -> [[UInt8]] {
    var byName: [String: SecretValue] = [:]
    for s in secrets {
      guard !s.value.containsNUL else {
        throw UsageError(description: "\(s.name) contains a NUL byte and cannot be placed in an environment")
      }
      byName[s.name] = s.value
    }
    var out: [[UInt8]] = []
    out.reserveCapacity(inherited.count + secrets.count)
    var placed = Swift.Set<String>()
    for entry in inherited {
      let name = String(decoding: entry.prefix { $0 != 0x3D }, as: UTF8.self)
      if let value = byName[name] {
        if placed.contains(name) { continue }
        placed.insert(name)
        out.append(override ? Array(name.utf8) + [0x3D] + value.reveal() : entry)
      } else {
        out.append(entry)
      }
    }
    for s in secrets where !placed.contains(s.name) {
      placed.insert(s.name)
      out.append(Array(s.name.utf8) + [0x3D] + s.value.reveal())
    }
    return out
  }
}

/// The human-readable check report.
enum CheckText {
  static func render(_ report: CheckReport, manifest: Manifest, unreadable: [String]) -> String {
    var out = "environment: \(report.environment)\n"
    if !report.missing.isEmpty {
      out += "missing (\(report.missing.count)):\n"
      for name in report.missing {
        let group = manifest.secret(named: name)?.group.map { " [\($0)]" } ?? ""
        out += "  \(name)\(group)\n"
      }
    }
    if !report.invalid.isEmpty {
      out += "invalid (\(report.invalid.count)):\n"
      let width = report.invalid.map(\.name.count).max() ?? 0
      for issue in report.invalid {
        out += "  \(issue.name)\(String(repeating: " ", count: width - issue.name.count))  \(issue.reason)\n"
      }
    }
    if !report.undeclared.isEmpty {
      out += "undeclared (\(report.undeclared.count)): \(report.undeclared.joined(separator: ", "))\n"
    }
    if !unreadable.isEmpty {
      out += "not readable with this identity: groups \(unreadable.joined(separator: ", "))\n"
    }
    out += "ok (\(report.ok.count))\n"
    out += report.hasProblems ? "result: \(report.missing.count) missing, \(report.invalid.count) invalid\n" : "result: ok\n"
    return out
  }
}

/// Writes env templates from the manifest.
enum TemplateWriter {
  static func render(_ manifest: Manifest) -> String {
    var out = "# \(manifest.project): environment template generated by coffer from coffer.yaml.\n"
    out += "# Copy to .env and fill in; never commit real values.\n"
    var groupOrder = manifest.groups.map(\.name)
    for s in manifest.secrets where !groupOrder.contains(s.group ?? "") { groupOrder.append(s.group ?? "") }
    for group in groupOrder {
      let members = manifest.secrets.filter { ($0.group ?? "") == group }
      guard !members.isEmpty else { continue }
      out += "\n# --- \(group.isEmpty ? "ungrouped" : group)"
      if let d = manifest.group(named: group)?.description { out += ": \(oneLine(d))" }
      out += " ---\n"
      for s in members {
        if let d = s.description { out += "# \(oneLine(d))\n" }
        let example = s.example.map { DotEnvSerializer.encode(SecretValue($0)) } ?? ""
        out += "\(s.name)=\(example)\n"
      }
    }
    return out
  }

  static func write(_ manifest: Manifest, to output: String?) throws {
    let text = render(manifest)
    if let output {
      try Files.writeAtomically(output, Array(text.utf8), newFileMode: 0o644)
      ErrorRenderer.note("wrote \(output)")
    } else {
      Terminal.out(text)
    }
  }

  static func oneLine(_ s: String) -> String {
    String(s.unicodeScalars.map { $0 == "\n" || $0 == "\r" ? " " : Character($0) })
  }
}
