import ArgumentParser
import CofferCore
import CofferOperations
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

  @Flag(name: .customLong("allow-custom-api-url"), help: "In CI, allow destinations whose api_url is not the service's own.")
  var allowCustomAPIURL = false

  @Flag(
    name: .customLong("allow-blocked"),
    help: "Exit 0 even when items were blocked (a rule of the destination, or empty with --from-env); failures still exit 4.")
  var allowBlocked = false
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
    @Flag(name: .customLong("allow-custom-api-url"), help: "In CI, allow destinations whose api_url is not the service's own.")
    var allowCustomAPIURL = false
    @Flag(name: .long, help: "No colour, even on a terminal (also NO_COLOR).") var noColor = false

    mutating func run() throws {
      let session = try SyncSession.load(global)
      let specs = try session.select(to, from: env)
      try SyncRunner.run(
        session, specs, fromEnv: fromEnv, prune: prune, planOnly: true, json: json, explicit: !to.isEmpty,
        allowCustomAPIURL: allowCustomAPIURL, allowBlocked: true, colour: Style.enabled(noColor: noColor))
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
        to retry only what failed. Exit 1 when nothing failed but an item was blocked (a name or value the \
        destination refuses; with --from-env, a declared variable that is empty), unless --allow-blocked. Tokens \
        come from each destination's token_env variable (or a vault secret of that name) and are never printed.
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
      session, specs, fromEnv: options.fromEnv, prune: options.prune, planOnly: options.dryRun, json: options.json,
      explicit: !options.to.isEmpty, allowCustomAPIURL: options.allowCustomAPIURL,
      allowBlocked: options.allowBlocked)
  }

  /// One source per destination (docs/ci.md): a `source: github` destination is written only by
  /// `sync --from-env`. Named with `--to` in a sync from the vault, it is an error; otherwise it is skipped with a
  /// note.
  static func oneSource(_ specs: [DestinationSpec], fromEnv: Bool, explicit: Bool) throws -> [DestinationSpec] {
    guard !fromEnv else { return specs }
    let github = specs.filter { $0.source == .github }
    guard !github.isEmpty else { return specs }
    if explicit {
      throw UsageError(
        description: "\(github.map(\.name).joined(separator: ", ")): source: github; its values come from GitHub "
          + "organization secrets, so coffer sync from the vault does not write it (one source per destination)",
        hints: ["the scheduled workflow runs coffer sync --from-env for it (docs/ci.md)"])
    }
    for spec in github {
      ErrorRenderer.note(
        "\(spec.name): skipped: source: github (written from GitHub organization secrets by coffer sync --from-env)")
    }
    return specs.filter { $0.source != .github }
  }

  /// Plans (and unless `planOnly`, applies) every destination.
  /// - Throws: ``Finish`` with status 4 when a destination or an item failed; else with status 1 when an item was
  ///   blocked (or, with `fromEnv`, a declared variable was empty) and `allowBlocked` is false.
  static func run(
    _ session: SyncSession, _ chosen: [DestinationSpec], fromEnv: Bool, prune: Bool, planOnly: Bool, json: Bool,
    explicit: Bool = false, allowCustomAPIURL: Bool = false, allowBlocked: Bool, colour: Bool = false
  ) throws {
    let specs = try oneSource(chosen, fromEnv: fromEnv, explicit: explicit)
    guard !specs.isEmpty else { return }
    try session.checkAPIURLs(specs, allowed: allowCustomAPIURL)
    // Before the values are read: a rotation after this point keeps its stale marker.
    var staleSequence = 0
    if !fromEnv, !planOnly { staleSequence = try StaleDestinations.load(session.ws.project).sequence }
    var emptyInEnvironment: [String] = []
    let sources = try session.sources(for: specs, fromEnv: fromEnv, empty: &emptyInEnvironment)
    var groups: [String: Set<String>] = [:]
    for spec in specs {
      guard let source = sources[spec.from] else { continue }
      groups[spec.name] = Set(session.items(for: spec, source: source).map { session.ws.group(of: $0.name) })
    }
    for warning in session.audienceWarnings(specs, groupsDelivered: groups) { ErrorRenderer.warn(warning) }
    session.formatWarnings(specs, sources: sources)
    // With --from-env (CI) there may be no identity: the entry is still written, its head keyed by nothing.
    let identities = (try? IdentityLoader.load()) ?? []
    let auditor =
      identities.isEmpty
      ? Auditor(root: session.ws.project.root, actor: "process-environment", identities: [])
      : session.ws.auditor(identities)
    let blockStops = !allowBlocked
    let emptyBlocks = !emptyInEnvironment.isEmpty
    let (failed, blocked, deliveredNames) = try AsyncBridge.run { () async throws -> (Bool, Bool, Set<String>) in
      var delivered: Set<String> = []  // destinations whose plan and apply both succeeded
      let transport = HTTPClientTransport()
      let client = SyncRuntime.client(transport: transport, onRetry: SyncRender.reportRetry)
      var anyFailure = false
      var anyBlocked = false
      var documents: [JSON] = []
      do {
        for spec in specs {
          guard let source = sources[spec.from] else { continue }
          // With --from-env the state is read too: it says which values the vault wrote (one source per destination).
          let state = source.stable || fromEnv ? try session.readState(spec.name) : DestinationState()
          let input = SyncInput(
            items: session.items(for: spec, source: source), state: state, prune: prune,
            fingerprint: source.fingerprint, origin: fromEnv ? .environment : .vault)
          var token: String?
          var tokenFailure: String?
          do throws(SyncError) {
            token = try await session.resolveToken(for: spec, source: source, client: client)
          } catch {
            tokenFailure = "no token: \(error.detail)"
          }
          let destination = try session.destination(spec, token: token, client: client)
          // Nothing to deliver usually means a missing vault or unset variables, never "delete everything".
          let plan: DestinationPlan
          if prune && input.items.isEmpty {
            plan = DestinationPlan(
              destination: spec.name, changes: [],
              failure: "refusing to prune: there is nothing to deliver from \(fromEnv ? "the environment" : spec.from)")
          } else if let tokenFailure {
            plan = DestinationPlan(destination: spec.name, changes: [], failure: tokenFailure)
          } else {
            plan = await destination.plan(input)
          }
          let refused = plan.failure == nil ? plan.changes.filter { $0.reason == SyncInput.vaultWroteLaterReason } : []
          for change in refused {
            ErrorRenderer.warn(
              "\(spec.name): \(change.name) was written from the vault by coffer sync more recently; --from-env does not "
                + "replace it (one source per destination: docs/ci.md)")
          }
          if !planOnly { anyFailure = anyFailure || !refused.isEmpty }
          anyBlocked = anyBlocked || plan.changes.contains { $0.action == .blocked }
          for warning in plan.warnings { ErrorRenderer.warn("\(spec.name): \(warning)") }
          if planOnly {
            anyFailure = anyFailure || plan.failure != nil
            if json { documents.append(SyncRender.json(spec, plan: plan, report: nil)) } else {
              let text = SyncRender.planText(spec, plan)
              Terminal.out(colour ? Style.plan(text) : text)
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
              "sync", environment: fromEnv ? nil : spec.from, secrets: names, includeNames: true,
              fingerprints: fingerprints, destination: spec.name, durable: true)
          }
          let progress = SyncProgress(destination: spec.name, total: plan.writes.count)
          let report = await destination.apply(plan, input, progress: { progress.report($0) })
          progress.finish()
          if report.hasFailures, !names.isEmpty {
            try? auditor.record(
              "sync", environment: fromEnv ? nil : spec.from, secrets: report.results.filter(\.failed).map(\.name),
              includeNames: true, destination: spec.name, outcome: "failed", durable: true)
          }
          var newState = report.state
          if fromEnv { newState = SyncRunner.markEnvironmentOrigin(newState, before: state, report: report) }
          if source.stable || fromEnv, newState != state { try session.writeState(newState, for: spec.name) }
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
        Terminal.out(
          JSON.object([
            ("ok", .bool(!anyFailure && !((anyBlocked || emptyBlocks) && blockStops))),
            ("blocked", .bool(anyBlocked || emptyBlocks)),
            ("destinations", .array(documents)),
          ]).encoded + "\n")
      }
      return (anyFailure, anyBlocked, delivered)
    }
    if !planOnly, !fromEnv { try clearStale(session, delivered: deliveredNames, readSequence: staleSequence) }
    if failed { throw Finish(status: ExitStatus.remoteFailed.rawValue) }
    if blocked || emptyBlocks, blockStops {
      ErrorRenderer.note(
        blocked
          ? "some items were blocked and not delivered (see `blocked` above): exit status 1; pass --allow-blocked to accept them"
          : "some declared variables were empty and not delivered (see the warning above): exit status 1; pass --allow-blocked to accept them")
      throw Finish(status: ExitStatus.problemsFound.rawValue)
    }
  }

  /// The state after a `--from-env` apply: every record this run wrote or first recorded is marked
  /// `origin: environment`; records of the vault's pushes that were not replaced stay as they were.
  static func markEnvironmentOrigin(
    _ after: DestinationState, before: DestinationState, report: SyncReport
  ) -> DestinationState {
    var state = after
    for result in report.results where result.action != .delete {
      guard var record = state.record(result.name, result.kind) else { continue }
      let wrote = result.outcome == .done
      let firstRecorded = before.record(result.name, result.kind) == nil
      guard wrote || firstRecorded else { continue }
      record.origin = "environment"
      state.set(result.name, result.kind, record)
    }
    return state
  }

  /// Clears `.coffer/state/stale.json` for each environment whose destinations all received the vault's values in
  /// this run (docs/access.md, *Stale destinations*), under the project lock. A marker made after the run read the
  /// stale file's sequence (before it read the values) stays: that change may not have been delivered. Destinations
  /// written from GitHub (`source: github`) do not count: the vault does not feed them.
  static func clearStale(_ session: SyncSession, delivered: Set<String>, readSequence: Int) throws {
    let project = session.ws.project
    guard !delivered.isEmpty, Files.exists(StaleDestinations.path(in: project)) else { return }
    let lock = try FileLock(path: project.lockPath)
    defer { withExtendedLifetime(lock) {} }
    var state = try StaleDestinations.load(project)
    var cleared: [String] = []
    for environment in state.environments.keys.sorted() {
      let fed = session.specs.filter { $0.from == environment && $0.source == .vault }
      guard !fed.isEmpty, fed.allSatisfy({ delivered.contains($0.name) }) else { continue }
      if state.clear(environment, ifMarkedBy: readSequence) { cleared.append(environment) }
    }
    guard !cleared.isEmpty else { return }
    try state.save(project)
    ErrorRenderer.note("destinations of \(cleared.sorted().joined(separator: ", ")) are up to date")
  }
}
