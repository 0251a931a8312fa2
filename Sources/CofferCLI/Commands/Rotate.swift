import ArgumentParser
import CofferCore
import CofferOperations
import CofferSystem
import CofferVault


extension CofferCommand {
  /// `coffer rotate NAME` (the default subcommand, `secret`): record a new value; `coffer rotate status`: the
  /// schedule.
  struct Rotate: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "rotate",
      abstract: "Record a new value for a secret (a rotation), or show what is due (`coffer rotate status`).",
      discussion: "`coffer rotate NAME` is short for `coffer rotate secret NAME` (use the long form for a secret named status).",
      subcommands: [Secret.self, Status.self], defaultSubcommand: Secret.self)


    /// `coffer rotate [secret] NAME`.
    struct Secret: ParsableCommand {
      static let configuration = CommandConfiguration(
        commandName: "secret",
        abstract: "Record a new value for a secret (a rotation).",
        discussion: """
          The value comes from --generate (random, from the system CSPRNG), --file (byte-exact), --value, or stdin \
          (one trailing LF or CRLF removed unless --keep-newline). A value equal to the current one, or to a kept \
          version, is refused (exit 2); so is one that breaks the manifest's rules. Needs read access to the secret's \
          group. Destinations fed by the environment are marked stale until the next sync.
          """)

      @OptionGroup var global: GlobalOptions
      @OptionGroup var env: EnvironmentOption
      @Argument(help: "The secret's name.", completion: .custom(Completions.secretNames)) var name: String
      @Option(name: .long, help: ArgumentHelp("Read the value from FILE, byte for byte.", valueName: "file"))
      var file: String?
      // `.unconditional`: the next argument is the value even when it starts with `-` (`--value -x`).
      @Option(
        name: .long, parsing: .unconditional,
        help: ArgumentHelp("The value itself, which may start with '-' (visible in the process list: prefer stdin).", valueName: "value"))
      var value: String?
      @Flag(name: .long, help: "Generate a random value (after the manifest's prefix, if any).") var generate = false
      @Option(name: .long, help: "With --generate: bytes of entropy (as `coffer generate`).") var length = 32
      @Option(name: .long, help: "With --generate: base64, hex or alnum.") var charset: SecretCharset = .alnum
      @Flag(name: .long, help: "Keep a trailing newline read from stdin.") var keepNewline = false

      mutating func run() throws {
        let ws = try Workspace.load(global)
        let environment = try ws.environment(env)
        try SecretNames.validate(name)
        let identities = try IdentityLoader.load()
        if generate { try GeneratedRotation.refuseProviderFormat(name, manifest: ws.manifest, environment: environment) }
        let secret = try ValueInput.read(
          name: name, file: file, value: value, generate: generate ? (length, charset, ws.manifest.secret(named: name)?.prefix) : nil,
          keepNewline: keepNewline)
        do {
          try RuleCheck.refuseInvalid(name, secret, manifest: ws.manifest, environment: environment)
        } catch var error as UsageError where generate {
          error.hints = GeneratedRotation.hints(name, manifest: ws.manifest, environment: environment, length: length, tried: charset)
          throw error
        }
        let version = try Governed.write(ws, environment, identities: identities, action: "rotate") { vault in
          try Rotation.record(name, secret, in: &vault, ws: ws, environment: environment, identities: identities)
        }
        ErrorRenderer.note("rotated \(name) in \(environment) (version \(version)); destinations fed by \(environment) are stale until the next sync")
      }
    }

    /// `coffer rotate status`: per secret, last rotated, age, period, due date and state.
    struct Status: ParsableCommand {
      static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show each secret's rotation status: last rotated, age, period, due date, state.",
        discussion: """
          States: ok, due-soon (due within --due-soon-days), overdue, needs-rotation (a reader who saw the value \
          lost access). Exit status 1 when anything is overdue or needs rotation. Reads metadata only; the dates are \
          authenticated when your identity can open the vault. Time comes from the clock (COFFER_NOW in tests).
          """)

      @OptionGroup var global: GlobalOptions
      @Option(name: [.customShort("e"), .long], help: ArgumentHelp("Only this environment (default: all).", valueName: "name"))
      var env: String?
      @Flag(name: .long, help: "Print JSON.") var json = false
      @Option(name: .long, help: "Days before the due date a secret counts as due-soon.") var dueSoonDays = RotationPolicy.defaultDueSoonDays
      @Flag(name: .long, help: "No colour, even on a terminal (also NO_COLOR).") var noColor = false

      mutating func run() throws {
        guard dueSoonDays >= 0 else { throw UsageError(description: "--due-soon-days must be 0 or more") }
        let ws = try Workspace.load(global)
        let environments = try env.map { [try ws.environment(EnvironmentOption(env: $0))] } ?? ws.manifest.environments
        let policy = RotationPolicy(manifest: ws.manifest, dueSoonDays: dueSoonDays)
        let now = SystemClock.now()
        var rows: [(environment: String, status: RotationStatus)] = []
        for environment in environments {
          let entries = try VaultMetadata.load(ws, environment) ?? []
          for status in policy.statuses(of: entries.compactMap(\.rotationFacts), at: now) { rows.append((environment, status)) }
        }
        let table = RotationText.table(rows)
        Terminal.out(json ? RotationText.json(rows, now: now, dueSoonDays: dueSoonDays) : Style.enabled(noColor: noColor) ? Style.rotation(table) : table)
        if RotationPolicy.needsAction(rows.map(\.status)) { throw Finish(status: ExitStatus.problemsFound.rawValue) }
      }
    }
  }

  /// `coffer history NAME`: versions, dates, authors; never values.
  struct History: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "history",
      abstract: "Show a secret's kept versions: number, date, author, rollbacks; never values.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var env: EnvironmentOption
    @Argument(help: "The secret's name.", completion: .custom(Completions.secretNames)) var name: String
    @Flag(name: .long, help: "Print JSON.") var json = false

    mutating func run() throws {
      let ws = try Workspace.load(global)
      let environment = try ws.environment(env)
      if try StoreCommands.history(ws, environment, name: name, json: json) { return }
      let path = ws.project.display(ws.project.vaultPath(environment))
      guard let entry = try VaultMetadata.load(ws, environment)?.first(where: { $0.name == name }) else {
        throw VaultError(.notFound, file: path, detail: name)
      }
      var notes: [Int: String] = [:]
      if let chain = try ws.policyChain(), let identities = try? IdentityLoader.load(),
        let vault = try? ws.openVault(environment, identities: identities)
      {
        // Trust model v2: every author is checked against their signature; a forged one is refused, not shown.
        for v in entry.versions {
          let (check, migratedBy) = vault.authorship(of: name, version: v.number, chain: chain)
          if check == .forged {
            throw VaultError(
              .authenticationFailed, file: path,
              detail: "\(name) version \(v.number): the signature of its author \(v.author) does not verify (authorship forged or value replaced)")
          }
          if let migratedBy { notes[v.number] = "author recorded before signing; attested by \(migratedBy) at migration" }
        }
      }
      Terminal.out(json ? HistoryText.json(entry, environment: environment) : HistoryText.table(entry, notes: notes))
    }
  }

  /// `coffer rollback NAME --to N`: make an old value current again, as a new version.
  struct Rollback: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "rollback",
      abstract: "Make a kept version's value current again, recorded as a new version by you.",
      discussion: """
        A rollback is not a rotation: `coffer rotate status` keeps counting from the date the restored value was \
        first recorded, and a value a revoked reader saw still needs rotation. Destinations fed by the \
        environment are marked stale until the next sync.
        """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var env: EnvironmentOption
    @Argument(help: "The secret's name.", completion: .custom(Completions.secretNames)) var name: String
    @Option(name: .long, help: "The version to restore (see `coffer history`).") var to: Int

    mutating func run() throws {
      let ws = try Workspace.load(global)
      let environment = try ws.environment(env)
      let identities = try IdentityLoader.load()
      let (name, target) = (self.name, to)
      let (number, exposed) = try Governed.write(ws, environment, identities: identities, action: "rollback") { vault in
        try Rotation.rollback(name, to: target, in: &vault, ws: ws, environment: environment, identities: identities)
      }
      ErrorRenderer.note("rolled back \(name) in \(environment) to the value of version \(target) (now version \(number))")
      if let exposed {
        ErrorRenderer.warn("\(exposed.recipient) could read this value before losing access: it still needs rotation")
      }
    }
  }
}

/// Where a value for `set` and `rotate` comes from: --generate, --file (byte-exact), --value, a hidden prompt on a
/// terminal, or stdin with exactly one trailing LF or CRLF removed (unless `keepNewline`).
enum ValueInput {
  static func read(
    name: String, file: String?, value: String?, generate: (length: Int, charset: SecretCharset, prefix: String?)?,
    keepNewline: Bool
  ) throws -> SecretValue {
    let sources = [file != nil, value != nil, generate != nil].filter { $0 }.count
    guard sources <= 1 else {
      throw UsageError(description: generate == nil ? "give at most one of --file and --value" : "give at most one of --file, --value and --generate")
    }
    if let generate {
      guard (16...4096).contains(generate.length) else { throw UsageError(description: "--length must be between 16 and 4096 bytes") }
      var random = SystemRandomNumberGenerator()
      let body = SecretGenerator.generate(byteCount: generate.length, charset: generate.charset, using: &random)
      return SecretValue(Array((generate.prefix ?? "").utf8) + body.reveal())
    }
    if let file { return SecretValue(try Files.read(file)) }
    if let value { return SecretValue(value) }
    if Terminal.isTTY(0) {
      guard let line = Terminal.readHidden(prompt: "value for \(name): ") else {
        throw UsageError(description: "no terminal to prompt on", hints: ["pipe the value on stdin, or use --file"])
      }
      return SecretValue(line)
    }
    var bytes = Terminal.readAllStdin()
    if !keepNewline, bytes.last == 0x0A {
      bytes.removeLast()
      if bytes.last == 0x0D { bytes.removeLast() }
    }
    return SecretValue(bytes)
  }
}

/// `rotate --generate` against the secret's format: a provider-issued format is refused before anything is generated
/// (a random value can never be one), and a generated value that breaks `prefix`/`pattern`/length rules gets a
/// hint naming the `--charset`/`--length` that would meet them, found by generating with each.
enum GeneratedRotation {
  static func refuseProviderFormat(_ name: String, manifest: Manifest, environment: String) throws {
    guard let spec = manifest.secret(named: name),
      let (expected, assumed) = FormatCatalog.expectation(forSecret: name, format: spec.format)
    else { return }
    throw UsageError(
      description: "\(name) holds \(expected.phrase) (format \(expected.id)\(assumed ? ", assumed from the name" : "")), "
        + "which a random value cannot be, so --generate cannot rotate it; nothing was written",
      hints: [
        "issue a new value with the provider and record it: `coffer rotate \(name) --env \(environment)` (stdin or --file)",
        "if the value is really yours to generate, set `format: none` on \(name) in coffer.yaml",
      ])
  }

  static func hints(_ name: String, manifest: Manifest, environment: String, length: Int, tried: SecretCharset) -> [String] {
    let spec = manifest.secret(named: name)
    let prefix = spec?.prefix ?? ""
    var random = SystemRandomNumberGenerator()
    for bytes in [length, 16, 24, 32, 48, 64] where (16...4096).contains(bytes) {
      for charset in SecretCharset.allCases {
        guard bytes != length || charset != tried else { continue }
        let candidate = SecretValue(Array(prefix.utf8) + SecretGenerator.generate(byteCount: bytes, charset: charset, using: &random).reveal())
        if spec.map({ Checker.issues(of: candidate, declaredAs: $0, environment: environment).isEmpty }) ?? true {
          return ["`--generate --charset \(charset.rawValue) --length \(bytes)` makes values that meet the rules in coffer.yaml"]
        }
      }
    }
    return ["no --charset and --length makes a value that meets the rules in coffer.yaml: record one with stdin or --file"]
  }
}

/// Refuses a new value that breaks the manifest's rules for its secret (the reasons never include the value).
enum RuleCheck {
  static func refuseInvalid(_ name: String, _ value: SecretValue, manifest: Manifest, environment: String) throws {
    guard let spec = manifest.secret(named: name) else {
      ErrorRenderer.warn("\(name) is not declared in coffer.yaml")
      return
    }
    let issues = Checker.issues(of: value, declaredAs: spec, environment: environment)
    guard issues.isEmpty else {
      throw UsageError(
        description: "the new value of \(name) \(issues.map(\.reason).joined(separator: "; ")); nothing was written",
        hints: ["with --generate, choose --charset and --length to fit the rules in coffer.yaml"])
    }
  }
}

/// Metadata of an environment's vault, authenticated when possible.
enum VaultMetadata {
  /// The secrets' readable metadata, or `nil` when the environment has no vault. The file MAC is verified when an
  /// identity can open the vault; otherwise a warning says the metadata is not authenticated.
  static func load(_ ws: Workspace, _ environment: String) throws -> [VaultSummary.Entry]? {
    let path = ws.project.vaultPath(environment)
    guard Files.exists(path) else { return nil }
    let bytes = try Files.read(path)
    let label = ws.project.display(path)
    let summary = try VaultFile.inspect(bytes, file: label)
    let identities = Result { () throws(SystemError) in try IdentityStore.load() }
    guard case .success(let ids) = identities else {
      // The real cause when an identity is configured but cannot be read (a folder, permissions, …).
      let cause = identities.failureDescription.flatMap { $0.hasPrefix("no identity at") ? nil : $0 }
      ErrorRenderer.warn(
        "\(label): \(cause.map { "\($0), so " } ?? "")no identity to verify the file MAC with: dates and authors are not authenticated")
      return summary.secrets
    }
    let trust = try ws.policyChain()
    let opened = Result { () throws(VaultError) in try VaultFile.open(bytes, file: label, with: ids, trust: trust) }
    if case .failure(let error) = opened {
      guard error.code == .noMatchingIdentity else { throw error }
      ErrorRenderer.warn("\(label): this identity cannot open it: dates and authors are not authenticated")
    }
    // Verified: format 2 adds the exposures the policy chain implies (a deleted `exposed` line hides nothing).
    if case .success(let vault) = opened { return vault.summaryEntries() }
    return summary.secrets
  }
}

/// Output of `rotate status`.
enum RotationText {
  static func date(_ t: Timestamp) -> String { String(t.rfc3339.prefix(10)) }

  static func table(_ rows: [(environment: String, status: RotationStatus)]) -> String {
    var table = [["ENVIRONMENT", "NAME", "GROUP", "LAST ROTATED", "AGE", "PERIOD", "DUE", "STATE"]]
    for (environment, s) in rows {
      var state = s.state.rawValue
      if let r = s.revoked { state += " (\(r.recipient) lost access \(date(r.time)))" }
      table.append([
        environment, s.name, s.group, date(s.lastRotated), "\(s.ageDays)d", s.period.map { "\($0.days)d" } ?? "-",
        s.due.map(date) ?? "-", state,
      ])
    }
    return Table.render(table)
  }

  static func json(_ rows: [(environment: String, status: RotationStatus)], now: Timestamp, dueSoonDays: Int) -> String {
    let items: [JSON] = rows.map { environment, s in
      .object([
        ("environment", .string(environment)), ("name", .string(s.name)), ("group", .string(s.group)),
        ("last_rotated", .string(s.lastRotated.rfc3339)), ("age_days", .int(s.ageDays)),
        ("period_days", s.period.map { .int($0.days) } ?? .null), ("due", s.due.map { .string($0.rfc3339) } ?? .null),
        ("days_left", s.daysLeft.map { .int($0) } ?? .null), ("state", .string(s.state.rawValue)),
        ("revoked", s.revoked.map { .object([("recipient", .string($0.recipient)), ("at", .string($0.time.rfc3339))]) } ?? .null),
      ])
    }
    return JSON.object([("now", .string(now.rfc3339)), ("due_soon_days", .int(dueSoonDays)), ("secrets", .array(items))]).encoded + "\n"
  }
}

/// Output of `history`.
enum HistoryText {
  static func note(_ v: SecretVersion, current: Bool, entry: VaultSummary.Entry) -> String {
    var parts: [String] = []
    if current { parts.append("current") }
    if let r = v.restores { parts.append("restores version \(r.number) of \(r.created.rfc3339)") }
    if current, let mark = entry.needsRotation { parts.append("needs rotation: \(mark.recipient) lost access \(mark.time.rfc3339)") }
    return parts.joined(separator: "; ")
  }

  static func table(_ entry: VaultSummary.Entry, notes: [Int: String] = [:]) -> String {
    var rows = [["VERSION", "DATE", "BY", "NOTE"]]
    for (i, v) in entry.versions.enumerated() {
      let text = [note(v, current: i == 0, entry: entry), notes[v.number] ?? ""].filter { !$0.isEmpty }.joined(separator: "; ")
      rows.append([String(v.number), v.created.rfc3339, v.author, text])
    }
    // The NOTE column is often empty: drop the padding it leaves at the end of a line.
    return Table.render(rows).split(separator: "\n").map { line in
      var text = String(line)
      while text.hasSuffix(" ") { text.removeLast() }
      return text + "\n"
    }.joined()
  }

  static func json(_ entry: VaultSummary.Entry, environment: String) -> String {
    let versions: [JSON] = entry.versions.enumerated().map { i, v in
      .object([
        ("version", .int(v.number)), ("created", .string(v.created.rfc3339)), ("author", .string(v.author)),
        ("current", .bool(i == 0)),
        ("restores", v.restores.map { .object([("version", .int($0.number)), ("created", .string($0.created.rfc3339))]) } ?? .null),
      ])
    }
    let mark = entry.needsRotation
    return JSON.object([
      ("environment", .string(environment)), ("name", .string(entry.name)), ("group", .string(entry.group)),
      ("needs_rotation", mark.map { .object([("revoked", .string($0.recipient)), ("at", .string($0.time.rfc3339))]) } ?? .null),
      ("versions", .array(versions)),
    ]).encoded + "\n"
  }
}

extension Result {
  /// The failure's description, or nil on success.
  var failureDescription: String? {
    if case .failure(let error) = self { return "\(error)" }
    return nil
  }
}
