import ArgumentParser
import CofferCore
import CofferSync
import CofferSystem
import CofferVault

/// Options shared by `sync` and its aliases.
struct SyncOptions: ParsableArguments {
  @Option(name: .long, parsing: .upToNextOption, help: ArgumentHelp("Only these destinations (default: all).", valueName: "name"))
  var to: [String] = []

  @Flag(name: .long, help: "Delete items at the destination that Coffer does not want (never after a failed listing).")
  var prune = false

  @Flag(name: .customLong("dry-run"), help: "Show the plan; write nothing.")
  var dryRun = false

  @Flag(name: .long, help: "Print the plan or results as JSON on stdout.")
  var json = false

  @Flag(name: .customLong("from-env"), help: "Take values from the process environment (names declared in the manifest) instead of the vault.")
  var fromEnv = false
}

extension CofferCommand {
  /// `coffer plan`: what a sync would do, per destination and item.
  struct Plan: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "plan",
      abstract: "Show what `coffer sync` would change at each destination; writes nothing.",
      discussion: """
        Per destination and item: create, update, delete (only with --prune), unchanged, drifted (changed at the \
        destination after Coffer's last push) or blocked (with why). Never shows a value. Exit 4 when a \
        destination cannot be read.
        """)

    @OptionGroup var global: GlobalOptions
    @Option(name: [.customShort("e"), .long], help: ArgumentHelp("Only destinations fed from this environment.", valueName: "name"))
    var env: String?
    @Option(name: .long, parsing: .upToNextOption, help: ArgumentHelp("Only these destinations (default: all).", valueName: "name"))
    var to: [String] = []
    @Flag(name: .long, help: "Include deletions of items Coffer does not want.") var prune = false
    @Flag(name: .long, help: "Print the plan as JSON on stdout.") var json = false
    @Flag(name: .customLong("from-env"), help: "Take values from the process environment instead of the vault.")
    var fromEnv = false

    mutating func run() throws {
      let session = try SyncSession.load(global)
      let specs = try session.select(to, from: env)
      try SyncRunner.run(session, specs, fromEnv: fromEnv, prune: prune, planOnly: true, json: json)
    }
  }

  /// `coffer sync`: deliver secrets to destinations.
  struct Sync: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "sync",
      abstract: "Deliver each destination's environment to it: GitHub Actions, Pulumi ESC, .env files.",
      discussion: """
        Plans first (see `coffer plan`), then writes only what differs; a second run right after makes no writes. \
        One failed item does not stop the others; the summary lists each. Exit 4 when anything failed: run again \
        to retry only what failed. Tokens come from each destination's token_env variable (or a vault secret of \
        that name) and are never printed.
        """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var options: SyncOptions

    mutating func run() throws { try SyncRunner.sync(global, options, types: nil) }
  }

  /// `coffer sync-to-github`: every GitHub destination.
  struct SyncToGitHub: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "sync-to-github", abstract: "Sync every github destination (same as sync with their names).")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var options: SyncOptions
    mutating func run() throws { try SyncRunner.sync(global, options, types: ["github"]) }
  }

  /// `coffer sync-to-pulumi`: every Pulumi ESC destination.
  struct SyncToPulumi: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "sync-to-pulumi", abstract: "Sync every pulumi-esc destination.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var options: SyncOptions
    mutating func run() throws { try SyncRunner.sync(global, options, types: ["pulumi-esc"]) }
  }

  /// `coffer sync-all`: every destination.
  struct SyncAll: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sync-all", abstract: "Sync every destination.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var options: SyncOptions
    mutating func run() throws { try SyncRunner.sync(global, options, types: nil) }
  }
}

/// The plan/apply loop behind `plan`, `sync` and its aliases.
enum SyncRunner {
  static func sync(_ global: GlobalOptions, _ options: SyncOptions, types: Set<String>?) throws {
    let session = try SyncSession.load(global)
    let specs = try session.select(options.to, types: types)
    try run(
      session, specs, fromEnv: options.fromEnv, prune: options.prune, planOnly: options.dryRun, json: options.json)
  }

  static func run(
    _ session: SyncSession, _ specs: [DestinationSpec], fromEnv: Bool, prune: Bool, planOnly: Bool, json: Bool
  ) throws {
    let started = SystemClock.now()  // before the values are read: a later stale marker is not cleared
    let sources = try session.sources(for: specs, fromEnv: fromEnv)
    // With --from-env (CI) there may be no identity: the entry is still written, its head keyed by nothing.
    let identities = (try? IdentityLoader.load()) ?? []
    let auditor =
      identities.isEmpty
      ? Auditor(root: session.ws.project.root, actor: "process-environment", identities: [])
      : session.ws.auditor(identities)
    let (failed, delivered) = try AsyncBridge.run { () async throws -> (Bool, Set<String>) in
      var delivered: Set<String> = []  // destinations whose plan and apply both succeeded
      let transport = HTTPClientTransport()
      let client = SyncRuntime.client(transport: transport)
      var anyFailure = false
      var documents: [JSON] = []
      do {
        for spec in specs {
          guard let source = sources[spec.from] else { continue }
          let state = source.stable ? try session.readState(spec.name) : DestinationState()
          let input = SyncInput(
            items: session.items(for: spec, source: source), state: state, prune: prune,
            fingerprint: source.fingerprint)
          let destination = try session.destination(spec, token: session.token(for: spec, source: source), client: client)
          // Nothing to deliver usually means a missing vault or unset variables, never "delete everything".
          let plan =
            prune && input.items.isEmpty
            ? DestinationPlan(
              destination: spec.name, changes: [],
              failure: "refusing to prune: there is nothing to deliver from \(fromEnv ? "the environment" : spec.from)")
            : await destination.plan(input)
          for warning in plan.warnings { ErrorRenderer.warn("\(spec.name): \(warning)") }
          if planOnly {
            anyFailure = anyFailure || plan.failure != nil
            if json { documents.append(SyncRender.json(spec, plan: plan, report: nil)) } else {
              Terminal.out(SyncRender.planText(spec, plan))
            }
            continue
          }
          if !json, plan.failure == nil {
            ErrorRenderer.note("\(spec.name): \(SyncRender.summary(plan))")
          }
          // Recorded before anything is delivered: no unrecorded sync (docs/audit.md).
          let names = plan.writes.map(\.name)
          var fingerprints: [String: String] = [:]
          for item in input.items where names.contains(item.name) { fingerprints[item.name] = item.fingerprint }
          if !names.isEmpty {
            try auditor.record(
              "sync", environment: fromEnv ? nil : spec.from, secrets: names, fingerprints: fingerprints,
              destination: spec.name, durable: true)
          }
          let progress = SyncProgress(destination: spec.name, total: plan.writes.count)
          let report = await destination.apply(plan, input, progress: { progress.report($0) })
          if report.hasFailures, !names.isEmpty {
            try? auditor.record(
              "sync", environment: fromEnv ? nil : spec.from, secrets: report.results.filter(\.failed).map(\.name),
              destination: spec.name, outcome: "failed", durable: true)
          }
          if source.stable, report.state != state { try session.writeState(report.state, for: spec.name) }
          anyFailure = anyFailure || report.hasFailures
          if plan.failure == nil, !report.hasFailures { delivered.insert(spec.name) }
          if json { documents.append(SyncRender.json(spec, plan: plan, report: report)) } else {
            Terminal.out(SyncRender.reportText(spec, report))
          }
        }
      } catch {
        await transport.shutdown()
        throw error
      }
      await transport.shutdown()
      if json {
        Terminal.out(JSON.object([("ok", .bool(!anyFailure)), ("destinations", .array(documents))]).encoded + "\n")
      }
      return (anyFailure, delivered)
    }
    if !planOnly, !fromEnv { try clearStale(session, delivered: delivered, readAt: started) }
    if failed { throw Finish(status: ExitStatus.remoteFailed.rawValue) }
  }

  /// Clears `.coffer/state/stale.json` for each environment whose destinations all received the vault's values in
  /// this run (docs/access.md, *Stale destinations*), under the project lock. A marker from the second the values
  /// were read, or later, stays: that change may not have been delivered.
  static func clearStale(_ session: SyncSession, delivered: Set<String>, readAt: Timestamp) throws {
    let project = session.ws.project
    guard !delivered.isEmpty, Files.exists(StaleDestinations.path(in: project)) else { return }
    let lock = try FileLock(path: project.lockPath)
    defer { withExtendedLifetime(lock) {} }
    var state = try StaleDestinations.load(project)
    var cleared: [String] = []
    for (environment, marker) in state.environments where marker.since < readAt {
      let fed = session.specs.filter { $0.from == environment }
      guard !fed.isEmpty, fed.allSatisfy({ delivered.contains($0.name) }) else { continue }
      state.clear(environment)
      cleared.append(environment)
    }
    guard !cleared.isEmpty else { return }
    try state.save(project)
    ErrorRenderer.note("destinations of \(cleared.sorted().joined(separator: ", ")) are up to date")
  }
}
