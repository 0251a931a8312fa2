import ArgumentParser
import CofferCore
import CofferDotEnv
import CofferOperations
import CofferSync
import CofferSystem
import CofferVault

extension CofferCommand {
  /// `coffer pull`: bring values from a destination that can return them (Pulumi ESC, .env) into the vault.
  struct Pull: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "pull",
      abstract: "Copy values from a pulumi-esc, openbao, aws-secrets-manager or dotenv destination into the vault, as new versions.",
      discussion: """
        Shows the plan of vault changes (create, update, unchanged, blocked), then records a new version of each \
        value that differs. GitHub cannot return secret values, so github destinations cannot be pulled from. \
        Exit status 1 when an item was blocked (the rest are still written), unless --allow-blocked, as for sync.
        """)

    @OptionGroup var global: GlobalOptions
    @Option(name: .long, help: ArgumentHelp("The destination to read.", valueName: "name")) var from: String
    @Option(name: [.customShort("e"), .long], help: ArgumentHelp("The environment to write (default: the destination's from).", valueName: "name"))
    var env: String?
    @Flag(name: .customLong("dry-run"), help: "Show the plan; write nothing.") var dryRun = false
    @Flag(name: .customLong("allow-blocked"), help: "Exit 0 even when items were blocked.") var allowBlocked = false

    mutating func run() throws {
      try PullAction.run(global: global, from: from, env: env, dryRun: dryRun)
      if PullAction.lastBlocked > 0, !allowBlocked {
        ErrorRenderer.note("some items were blocked and not pulled (see `blocked` above): exit status 1; pass --allow-blocked to accept them")
        throw Finish(status: ExitStatus.problemsFound.rawValue)
      }
    }
  }

  /// `coffer doctor`: can each destination be reached and written?
  struct Doctor: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "doctor",
      abstract: "Check each destination: token present, authenticates, has permission, key or definition readable.",
      discussion: "Prints a table with a fix for each failure. Exit 1 when any check fails. Never prints a token.")

    @OptionGroup var global: GlobalOptions
    @Option(name: .long, parsing: .upToNextOption, help: ArgumentHelp("Only these destinations.", valueName: "name"))
    var to: [String] = []
    @Flag(name: .customLong("allow-custom-api-url"), help: "In CI, allow destinations whose api_url is not the service's own.")
    var allowCustomAPIURL = false

    mutating func run() throws {
      let session = try SyncSession.load(global)
      let specs = try session.select(to)
      try session.checkAPIURLs(specs, allowed: allowCustomAPIURL)
      // Tokens may live in the vault; without an identity only the environment is used.
      let sources = (try? session.sources(for: specs, fromEnv: false)) ?? [:]
      let rows = try AsyncBridge.run { () async throws -> [(String, DoctorCheck)] in
        let transport = HTTPClientTransport()
        let client = SyncRuntime.client(transport: transport, onRetry: SyncRender.reportRetry)
        var rows: [(String, DoctorCheck)] = []
        for spec in specs {
          let source = sources[spec.from] ?? SyncSession.Source(values: [], fingerprint: { _ in "" }, stable: false)
          let checks: [DoctorCheck]
          let token: String?
          do throws(SyncError) {
            token = try await session.resolveToken(for: spec, source: source, client: client)
          } catch {
            rows.append((spec.name, DoctorCheck("token present", .failed, detail: error.detail, fix: error.hints.first)))
            continue
          }
          if case .dotenv(let path) = spec.target {
            checks = DotEnvDoctor.check(path: path, root: session.ws.project.root)
          } else if let destination = try? session.destination(spec, token: token, client: client) as? any Diagnosable {
            checks = await destination.diagnose()
          } else {
            checks = [DoctorCheck("configuration", .failed, detail: "invalid api_url", fix: "fix api_url in coffer.yaml")]
          }
          rows += checks.map { (spec.name, $0) }
        }
        await transport.shutdown()
        return rows
      }
      let nameWidth = max(13, (rows.map(\.0.count).max() ?? 0) + 2)
      let checkWidth = max(7, (rows.map(\.1.check.count).max() ?? 0) + 2)
      var text = SyncRender.pad("DESTINATION", nameWidth) + SyncRender.pad("CHECK", checkWidth) + SyncRender.pad("STATUS", 9) + "DETAIL\n"
      for (name, check) in rows {
        text += (SyncRender.pad(name, nameWidth) + SyncRender.pad(check.check, checkWidth) + SyncRender.pad(check.status.rawValue, 9) + check.detail).trailingSpacesRemoved + "\n"
      }
      let fixes = rows.filter { $0.1.status == .failed && $0.1.fix != nil }
      if !fixes.isEmpty {
        text += "\nfixes:\n"
        for (name, check) in fixes { text += "  \(name): \(check.check): \(check.fix ?? "")\n" }
      }
      Terminal.out(text)
      if rows.contains(where: { $0.1.status == .failed }) { throw Finish(status: ExitStatus.problemsFound.rawValue) }
    }
  }
}

/// Local checks for a dotenv destination.
enum DotEnvDoctor {
  static func check(path: String, root: String) -> [DoctorCheck] {
    let full = path.hasPrefix("/") ? path : Paths.join(root, path)
    let directory = Paths.parent(full)
    guard Files.isDirectory(directory) else {
      return [DoctorCheck("directory exists", .failed, detail: directory, fix: "create \(directory)")]
    }
    var checks = [DoctorCheck("directory exists", .ok, detail: directory)]
    guard Files.exists(full) else {
      checks.append(DoctorCheck("file readable", .ok, detail: "does not exist yet; sync creates it (mode 0600)"))
      return checks
    }
    do {
      _ = try DotEnvParser.parse(try Files.read(full), file: path)
      checks.append(DoctorCheck("file readable", .ok, detail: "parses"))
    } catch {
      checks.append(DoctorCheck("file readable", .failed, detail: "\(error)", fix: "fix the file, or remove it to start over"))
    }
    return checks
  }
}

/// `coffer pull`'s work, shared with `coffer setup-repo --from-pulumi`.
enum PullAction {
  /// How many items the last run found blocked (the command turns a non-zero count into exit status 1).
  nonisolated(unsafe) static var lastBlocked = 0

  static func run(global: GlobalOptions, from: String, env: String?, dryRun: Bool) throws {
    let session = try SyncSession.load(global)
    guard let spec = try session.select([from]).first else { return }
    try session.checkAPIURLs([spec], allowed: false)
    if case .github = spec.target {
      throw UsageError(description: "\(spec.name): GitHub cannot return secret values", hints: ["pull from a pulumi-esc, openbao, aws-secrets-manager or dotenv destination"])
    }
    let environment = env ?? spec.from
    guard session.ws.manifest.hasEnvironment(environment) else { throw UsageError(description: "unknown environment \(environment)") }
    let identities = try IdentityLoader.load()
    let vault = try session.ws.openVault(environment, identities: identities)
    let tokenValues = try vault?.currentValues() ?? []
    let token: String? = spec.tokenEnv.flatMap { name in
      ProcessEnvironment.get(name).flatMap { $0.isEmpty ? nil : $0 }
        ?? tokenValues.first { $0.name == name }.map { $0.value.revealString() }
    }
    let pulled = try AsyncBridge.run { () async throws -> [PulledValue] in
      let transport = HTTPClientTransport()
      do {
        let client = SyncRuntime.client(transport: transport, onRetry: SyncRender.reportRetry)
        // auth: oidc: the job's OIDC token, exchanged (docs/ci.md).
        // Server logins (AppRole, JWT) may take their credentials from the vault, like tokens.
        let token =
          spec.auth != .token
          ? try await session.resolveToken(
            for: spec,
            source: SyncSession.Source(values: tokenValues, fingerprint: { _ in "" }, stable: false), client: client)
          : token
        let destination = try session.destination(spec, token: token, client: client)
        guard let source = destination as? any ValueSource else {
          throw UsageError(description: "\(spec.name) cannot return values")
        }
        let values = try await source.pull()
        await transport.shutdown()
        return values
      } catch {
        await transport.shutdown()
        throw error
      }
    }
    var changes: [(name: String, action: String, reason: String?)] = []
    var writes: [PulledValue] = []
    let ws = session.ws
    // What the write would do, tried on a copy: anything it would refuse is blocked in the plan, not an error after.
    let wrap = try ws.wrapPolicy(environment, fallback: identities)
    var trial = try vault ?? Vault.create(
      environment: environment, recipients: try ws.environmentRecipients(environment, wrap),
      file: ws.project.display(ws.project.vaultPath(environment)))
    trial.useRecipients(forSlot: wrap)
    let now = SystemClock.now()
    let progress = ProgressReporter("pull \(spec.name)", unit: "values", total: pulled.count)
    for item in pulled {
      defer { progress.advance() }
      guard SecretName.isValid(item.name) else {
        changes.append((item.name, "blocked", SecretName.message(for: item.name)))
        continue
      }
      let group = ws.group(of: item.name)
      if let groups = spec.groups, !groups.contains(group) {
        // The same selection as sync, in the other direction.
        changes.append((item.name, "blocked", "group \(group) is not among this destination's groups"))
        continue
      }
      if let vault, vault.current(item.name) != nil, (try? vault.value(of: item.name)) == item.value {
        changes.append((item.name, "unchanged", nil))
        continue
      }
      do {
        try trial.set(item.name, to: item.value, group: group, author: ws.author(identities), at: now)
      } catch {
        changes.append((item.name, "blocked", error.code.description + (error.detail.map { " (\($0))" } ?? "")))
        continue
      }
      changes.append((item.name, vault?.current(item.name) != nil ? "update" : "create", nil))
      writes.append(item)
    }
    progress.finish()
    var text = "\(spec.name) → vault \(environment)\n"
    for change in changes {
      text += ("  " + SyncRender.pad(change.action, 10) + SyncRender.pad(change.name, 12) + (change.reason ?? "")).trailingSpacesRemoved + "\n"
    }
    let count = { (action: String) in changes.filter { $0.action == action }.count }
    text += "  \(count("create")) to create, \(count("update")) to update, \(count("unchanged")) unchanged, \(count("blocked")) blocked\n"
    Terminal.out(text)
    lastBlocked = count("blocked")
    guard !dryRun, !writes.isEmpty else { return }
    try ws.modifyVault(environment, identities: identities, action: "pull", detail: "from \(spec.name)") { vault in
      for item in writes {
        try vault.set(item.name, to: item.value, group: ws.group(of: item.name), author: ws.author(identities), at: now)
      }
    }
    ErrorRenderer.note("pulled \(writes.count) value\(writes.count == 1 ? "" : "s") from \(spec.name) into \(environment)")
  }
}
