import CofferCore
import CofferOperations
import CofferSync
import CofferSystem
import CofferVault
import Dispatch
import Synchronization

/// Runs async work from a synchronous command: the work runs on the cooperative pool while the main thread waits.
enum AsyncBridge {
  static func run<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let result = Mutex<Result<T, any Error>?>(nil)
    let done = DispatchSemaphore(value: 0)
    Task.detached {
      let outcome: Result<T, any Error>
      do { outcome = .success(try await body()) } catch { outcome = .failure(error) }
      result.withLock { $0 = outcome }
      done.signal()
    }
    done.wait()
    guard let outcome = result.withLock({ $0 }) else { throw UsageError(description: "internal error: no result") }
    return try outcome.get()
  }
}

/// Everything the sync commands share: destinations from the manifest, values from the vault (or the process
/// environment), tokens, state files, and rendering.
struct SyncSession {
  let ws: Workspace
  let specs: [DestinationSpec]

  static func load(_ global: GlobalOptions) throws -> SyncSession {
    let ws = try Workspace.load(global)
    let bytes = try Files.read(ws.project.manifestPath)
    // Checked against the merged manifest: a destination may name a group an import declares.
    let specs = try Manifest.decodeDestinations(bytes, file: ws.project.display(ws.project.manifestPath), merged: ws.manifest)
    return SyncSession(ws: ws, specs: specs)
  }

  /// The destinations named by `--to` (all when empty), optionally only of some types or fed from one environment.
  func select(_ names: [String], types: Set<String>? = nil, from environment: String? = nil) throws -> [DestinationSpec] {
    guard !specs.isEmpty else {
      throw UsageError(
        description: "\(ws.project.display(ws.project.manifestPath)) declares no destinations",
        hints: ["add a destinations: section (docs/manifest.md)"])
    }
    for name in names where !specs.contains(where: { $0.name == name }) {
      throw UsageError(
        description: "no destination named \(name)",
        hints: ["the manifest declares: \(specs.map(\.name).joined(separator: ", "))"])
    }
    var chosen = names.isEmpty ? specs : specs.filter { names.contains($0.name) }
    if let types { chosen = chosen.filter { types.contains($0.typeName) } }
    if let environment {
      guard ws.manifest.hasEnvironment(environment) else {
        throw UsageError(description: "unknown environment \(environment)")
      }
      chosen = chosen.filter { $0.from == environment }
    }
    if chosen.isEmpty { throw UsageError(description: "no destination matches") }
    return chosen
  }

  /// The source of values for one `from` environment.
  struct Source: Sendable {
    var values: [(name: String, value: SecretValue)]
    var fingerprint: @Sendable (SecretValue) -> String
    /// Whether state may be read and written (fingerprints are stable across runs).
    var stable: Bool
  }

  /// Opens every needed environment's vault once (or reads the process environment with `--from-env`).
  func sources(for specs: [DestinationSpec], fromEnv: Bool) throws -> [String: Source] {
    var empty: [String] = []
    return try sources(for: specs, fromEnv: fromEnv, empty: &empty)
  }

  /// Opens every needed environment's vault once (or reads the process environment with `--from-env`).
  /// - Parameter empty: set to the declared names that are empty in the process environment (`--from-env`), which
  ///   are left out with a warning.
  func sources(for specs: [DestinationSpec], fromEnv: Bool, empty: inout [String]) throws -> [String: Source] {
    var out: [String: Source] = [:]
    if fromEnv {
      let throwaway = try Vault.create(
        environment: "from-env", recipients: [AgeX25519Identity.generate().recipient], file: "from-env")
      var values: [(name: String, value: SecretValue)] = []
      for spec in ws.manifest.secrets {
        guard let text = ProcessEnvironment.get(spec.name) else { continue }
        // GitHub Actions expands a secret the repository cannot see (missing, misnamed, not shared with it) to an
        // empty string: pushing that would blank the real value at the destination.
        guard !text.isEmpty else {
          empty.append(spec.name)
          continue
        }
        values.append((spec.name, SecretValue(text)))
      }
      if !empty.isEmpty {
        ErrorRenderer.warn(
          "empty in the environment, so not synced (a secret this repository cannot see is empty in GitHub Actions): "
            + empty.joined(separator: ", "))
      }
      let source = Source(values: values, fingerprint: { throwaway.fingerprint(of: $0) }, stable: false)
      for spec in specs { out[spec.from] = source }
      return out
    }
    let identities = try IdentityLoader.load()
    for environment in Set(specs.map(\.from)) {
      if let stored = try StoreCommands.values(ws, environment, action: "sync") {
        // A store environment: its values come from the server; fingerprints are this run's only.
        let key = try Vault.create(environment: environment, recipients: [AgeX25519Identity.generate().recipient], file: environment)
        out[environment] = Source(values: stored, fingerprint: { key.fingerprint(of: $0) }, stable: false)
        continue
      }
      guard let vault = try ws.openVault(environment, identities: identities) else {
        ErrorRenderer.warn("\(environment) has no vault yet: nothing to deliver from it")
        let empty = try Vault.create(
          environment: environment, recipients: [AgeX25519Identity.generate().recipient], file: environment)
        out[environment] = Source(values: [], fingerprint: { empty.fingerprint(of: $0) }, stable: false)
        continue
      }
      if !vault.unreadableGroups.isEmpty {
        ErrorRenderer.warn("\(environment): cannot read groups \(vault.unreadableGroups.joined(separator: ", ")); their secrets are left out")
      }
      out[environment] = Source(values: try vault.currentValues(), fingerprint: { vault.fingerprint(of: $0) }, stable: true)
    }
    return out
  }

  /// The items a destination wants: its environment's values, filtered by its groups, typed by the manifest. A
  /// destination's own token (`token_env`) is never delivered to it.
  func items(for spec: DestinationSpec, source: Source) -> [SyncItem] {
    source.values.compactMap { entry in
      if entry.name == spec.tokenEnv { return nil }
      let declared = ws.manifest.secret(named: entry.name)
      if let groups = spec.groups, !groups.contains(declared?.group ?? "default") { return nil }
      return SyncItem(
        name: entry.name, value: entry.value, kind: declared?.isSecret == false ? .variable : .secret,
        fingerprint: source.fingerprint(entry.value))
    }
  }

  /// The token: the named variable, else a vault secret of that name in the destination's environment.
  func token(for spec: DestinationSpec, source: Source) -> String? {
    guard let name = spec.tokenEnv else { return nil }
    return variable(named: name, source: source)
  }

  /// A credential: the named process variable, else a vault secret of that name in the source environment.
  func variable(named name: String, source: Source) -> String? {
    if let value = ProcessEnvironment.get(name), !value.isEmpty { return value }
    return source.values.first { $0.name == name }.map { $0.value.revealString() }
  }

  /// Whether Coffer runs in CI: `CI=true` or `GITHUB_ACTIONS=true` (both set by GitHub Actions).
  static var inCI: Bool { ProcessEnvironment.get("CI") == "true" || ProcessEnvironment.get("GITHUB_ACTIONS") == "true" }

  /// In CI, refuses a destination whose `api_url` is not the service's own unless the manifest allows it
  /// (`allow_custom_api_url: true`) or the command was given `--allow-custom-api-url`: a branch must not be able to
  /// send the token and the values to another host by editing coffer.yaml.
  /// - Throws: ``UsageError`` (exit 2) naming the destination, before anything is read or written.
  func checkAPIURLs(_ specs: [DestinationSpec], allowed: Bool) throws {
    guard Self.inCI, !allowed else { return }
    // OpenBao has no address of its own: the workflow pins it in VAULT_ADDR (a repository variable, out of a
    // branch's reach), and a destination must use exactly that one.
    for spec in specs where !spec.allowCustomAPIURL {
      guard case .openBao = spec.target else { continue }
      func bare(_ url: String) -> String { url.hasSuffix("/") ? bare(String(url.dropLast())) : url }
      let pinned = ProcessEnvironment.get("VAULT_ADDR").map(bare) ?? ""
      guard bare(spec.apiURL ?? "") != pinned else { continue }
      throw UsageError(
        description: "\(spec.name): api_url \(spec.apiURL ?? "") is not VAULT_ADDR (\(pinned.isEmpty ? "unset" : pinned)); "
          + "in CI (CI=true) Coffer sends a Vault token or login only to the address the workflow pins",
        hints: [
          "set VAULT_ADDR in the workflow (coffer init --ci github reads it from the repository variable VAULT_ADDR), "
            + "or add allow_custom_api_url: true to the destination \(spec.name) in coffer.yaml"
        ])
    }
    for spec in specs where spec.hasCustomAPIURL && !spec.allowCustomAPIURL {
      throw UsageError(
        description: "\(spec.name): api_url \(spec.apiURL ?? "") is not \(spec.defaultAPIURL ?? ""); in CI (CI=true) "
          + "Coffer does not send a token or values to another host",
        hints: [
          "if this host is yours (GitHub Enterprise Server, self-hosted Pulumi), add allow_custom_api_url: true to the "
            + "destination \(spec.name) in coffer.yaml, or pass --allow-custom-api-url in the workflow"
        ])
    }
  }

  /// The token for a destination. With `auth: oidc` (Pulumi ESC), the GitHub Actions job's OIDC token is requested
  /// (`ACTIONS_ID_TOKEN_REQUEST_URL`, `ACTIONS_ID_TOKEN_REQUEST_TOKEN`, audience `urn:pulumi:org:ORG`) and exchanged
  /// for a short-lived Pulumi organization token (docs/ci.md); otherwise ``token(for:source:)``.
  /// - Throws: ``SyncError`` when the job's token cannot be had or Pulumi refuses the exchange; never shows a token.
  func resolveToken(for spec: DestinationSpec, source: Source, client: RemoteClient) async throws(SyncError) -> String? {
    if case .openBao(let settings) = spec.target {
      return try await ServerLogin.openBaoToken(spec, settings, lookup: { variable(named: $0, source: source) }, client: client)
    }
    guard spec.auth == .oidc, case .pulumiESC(let organization, _, _) = spec.target else {
      return token(for: spec, source: source)
    }
    guard let url = ProcessEnvironment.get("ACTIONS_ID_TOKEN_REQUEST_URL"), !url.isEmpty,
      let requestToken = ProcessEnvironment.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN"), !requestToken.isEmpty
    else {
      throw SyncError(
        .badInput, destination: spec.name,
        detail: "auth: oidc needs ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN, which GitHub Actions "
          + "sets only in a job with permissions: id-token: write")
    }
    guard let base = spec.apiURL.flatMap(BaseURL.init) else {
      throw SyncError(.badInput, destination: spec.name, detail: "invalid api_url")
    }
    do throws(SyncError) {
      let idToken = try await OIDCExchange.githubIDToken(
        requestURL: url, requestToken: requestToken, audience: OIDCExchange.pulumiAudience(organization), client: client)
      return try await OIDCExchange.pulumiAccessToken(idToken: idToken, organization: organization, base: base, client: client)
    } catch {
      var located = error
      located.destination = spec.name
      throw located
    }
  }

  /// Warnings for destinations whose audience is wider than the readers of a group they receive, per the access
  /// rules: repository secrets are readable by every workflow of the repository, organization secrets by every
  /// repository they are shared with, an ESC environment by everyone with access to it. Without access rules
  /// everyone reads everything, so there is nothing to warn about.
  /// - Parameters:
  ///   - specs: the destinations.
  ///   - groupsDelivered: the groups each destination receives, by destination name.
  /// - Returns: one message per destination and group, in order.
  func audienceWarnings(_ specs: [DestinationSpec], groupsDelivered: [String: Set<String>]) -> [String] {
    Self.audienceWarnings(manifest: ws.manifest, specs, groupsDelivered: groupsDelivered)
  }

  /// ``audienceWarnings(_:groupsDelivered:)`` for a manifest (`init --ci`, which reads no vault).
  static func audienceWarnings(
    manifest: Manifest, _ specs: [DestinationSpec], groupsDelivered: [String: Set<String>]
  ) -> [String] {
    let policy = AccessPolicy(manifest: manifest)
    guard policy.isRestricted else { return [] }
    var out: [String] = []
    for spec in specs {
      let audience: String
      switch spec.target {
      case .github(.repository(let owner, let name), nil):
        audience = "repository secrets of \(owner)/\(name), which every workflow in that repository can read"
      case .github(.repository(let owner, let name), let environment?):
        audience = "environment \(environment) secrets of \(owner)/\(name), which every job that uses that environment can read"
      case .github(.organization(let org, let visibility, _), _):
        audience = "organization secrets of \(org) (visibility \(visibility)), which every workflow of the repositories they are shared with can read"
      case .pulumiESC(let organization, let project, let environment):
        audience = "the ESC environment \(organization)/\(project)/\(environment), which everyone with access to it can read"
      case .openBao(let settings):
        audience = "the KV secrets at \(settings.mount)/\(settings.path), which every token whose policy allows it can read"
      case .awsSecretsManager(let settings):
        audience = "AWS Secrets Manager in \(settings.region), which every principal whose IAM policy allows it can read"
      case .dotenv:
        continue
      }
      let all = Set(manifest.recipients.map(\.name))
      for group in (groupsDelivered[spec.name] ?? []).sorted() {
        let readers = policy.readers(environment: spec.from, group: group).map(\.name)
        guard Set(readers) != all else { continue }
        let who = readers.isEmpty ? "no one" : "only " + readers.joined(separator: ", ")
        out.append(
          "\(spec.name): group \(group) in \(spec.from) is readable by \(who) per the access rules, but goes to "
            + "\(audience); leave it out with the destination's groups: filter (docs/sync.md)")
      }
    }
    return out
  }

  /// Warns, once per environment and item, about each value to be delivered that `coffer check` finds malformed
  /// (format, prefix, pattern, length, placeholder, weak): the name and the reason, never the value. The value is
  /// delivered as is.
  func formatWarnings(_ specs: [DestinationSpec], sources: [String: Source]) {
    var seen = Set<String>()
    for spec in specs {
      guard let source = sources[spec.from] else { continue }
      let values = Dictionary(items(for: spec, source: source).map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
      let report = Checker.check(ws.manifest, environment: spec.from, values: values)
      for issue in report.invalid where seen.insert("\(spec.from) \(issue.name) \(issue.reason)").inserted {
        ErrorRenderer.warn(
          "\(issue.name) in \(spec.from) \(issue.reason); it is delivered as is (coffer check --env \(spec.from))")
      }
    }
  }

  /// Builds the destination object for a spec.
  func destination(_ spec: DestinationSpec, token: String?, client: RemoteClient) throws -> any Destination {
    let base = spec.apiURL.flatMap(BaseURL.init)
    switch spec.target {
    case .github(let owner, let environment):
      guard let base else { throw UsageError(description: "\(spec.name): invalid api_url") }
      let scope: GitHubDestination.Scope
      switch owner {
      case .repository(let ownerName, let repo):
        scope = environment.map { .environment(owner: ownerName, repo: repo, environment: $0) }
          ?? .repository(owner: ownerName, repo: repo)
      case .organization(let org, let visibility, let repositories):
        scope = .organization(org: org, visibility: visibility, repositories: repositories)
      }
      return GitHubDestination(
        name: spec.name, scope: scope, base: base, token: token, tokenSource: spec.tokenEnv ?? "GITHUB_TOKEN",
        client: client)
    case .pulumiESC(let organization, let project, let environment):
      guard let base else { throw UsageError(description: "\(spec.name): invalid api_url") }
      return PulumiESCDestination(
        name: spec.name, organization: organization, project: project, environment: environment, base: base,
        token: token, tokenSource: spec.auth == .oidc ? "the OIDC token exchange" : spec.tokenEnv ?? "PULUMI_ACCESS_TOKEN",
        client: client)
    case .openBao(let settings):
      guard let base else { throw UsageError(description: "\(spec.name): invalid api_url") }
      return OpenBaoDestination(
        name: spec.name, base: base, settings: settings, token: token, tokenSource: ServerLogin.tokenSource(spec),
        client: client)
    case .awsSecretsManager(let settings):
      guard let base else { throw UsageError(description: "\(spec.name): invalid api_url") }
      return try ServerLogin.awsDestination(spec, settings, base: base, client: client)
    case .dotenv(let path):
      let full = path.hasPrefix("/") ? path : Paths.join(ws.project.root, path)
      let lockPath = ws.project.lockPath
      let stateDirectory = ws.project.stateDirectory
      return DotEnvDestination(
        name: spec.name, path: ws.project.display(full),
        read: {
          guard Files.exists(full) else { return nil }
          return try Files.read(full)
        },
        write: { bytes in
          try Files.makeDirectory(stateDirectory)
          let lock = try FileLock(path: lockPath)
          defer { withExtendedLifetime(lock) {} }
          try Files.writeAtomically(full, bytes, newFileMode: 0o600)
        })
    }
  }

  // MARK: - State

  func statePath(_ name: String) -> String { Paths.join(Paths.join(ws.project.stateDirectory, "state"), "\(name).json") }

  func readState(_ name: String) throws -> DestinationState {
    let path = statePath(name)
    guard Files.exists(path) else { return DestinationState() }
    return try DestinationState.decode(try Files.read(path), file: ws.project.display(path))
  }

  func writeState(_ state: DestinationState, for name: String) throws {
    let path = statePath(name)
    try Files.makeDirectory(Paths.parent(path))
    let lock = try FileLock(path: ws.project.lockPath)
    defer { withExtendedLifetime(lock) {} }
    try Files.writeAtomically(path, state.encoded(destination: name), newFileMode: 0o600)
  }
}

/// Text and JSON rendering of plans and results. Never shows a value.
enum SyncRender {
  static func target(_ spec: DestinationSpec) -> String {
    switch spec.target {
    case .github(.repository(let owner, let name), let environment):
      return "github \(owner)/\(name)" + (environment.map { " environment \($0)" } ?? "")
    case .github(.organization(let org, let visibility, _), _): return "github organization \(org) (\(visibility))"
    case .pulumiESC(let organization, let project, let environment): return "pulumi-esc \(organization)/\(project)/\(environment)"
    case .dotenv(let path): return "dotenv \(path)"
    case .openBao(let settings):
      return "openbao \(spec.apiURL ?? "") \(settings.mount)/\(settings.path)"
        + (settings.namespace.map { " namespace \($0)" } ?? "") + (settings.layout == .name ? " (one secret per name)" : "")
    case .awsSecretsManager(let settings):
      return "aws-secrets-manager \(settings.region) "
        + (settings.layout == .name ? "\(settings.prefix)<NAME>" : "\(settings.prefix)\(spec.from)")
    }
  }

  /// `coffer: retrying PUT /repos/o/r/actions/secrets/A after 429 in 1 s (try 2 of 5)` on stderr.
  @Sendable static func reportRetry(_ retry: RemoteClient.Retry) {
    ErrorRenderer.note(retryLine(retry))
  }

  static func retryLine(_ retry: RemoteClient.Retry) -> String {
    let cause = retry.status.map { "after \($0)" } ?? "after a connection failure"
    let millis = retry.wait.components.seconds * 1000 + retry.wait.components.attoseconds / 1_000_000_000_000_000
    let fraction = String(millis % 1000)
    let wait =
      millis % 1000 == 0
      ? "\(millis / 1000) s"
      : "\(millis / 1000).\((String(repeating: "0", count: 3 - fraction.count) + fraction).trailingZerosRemoved) s"
    return "retrying \(retry.request) \(cause) in \(wait) (try \(retry.nextAttempt) of \(retry.maxAttempts))"
  }

  static func label(_ name: String, _ kind: ItemKind) -> String { kind == .variable ? "\(name) (plain)" : name }

  static func summary(_ plan: DestinationPlan) -> String {
    let counts = PlannedChange.Action.allCases.map { action -> String in
      let n = plan.count(action)
      let noun: String
      switch action {
      case .create: noun = "to create"
      case .update: noun = "to update"
      case .delete: noun = "to delete"
      case .unchanged: noun = "unchanged"
      case .drifted: noun = "drifted"
      case .blocked: noun = "blocked"
      }
      return "\(n) \(noun)"
    }
    return counts.joined(separator: ", ")
  }

  /// The plan as text (invisible characters in names and reasons written out, ``DisplayText``).
  static func planText(_ spec: DestinationSpec, _ plan: DestinationPlan) -> String {
    DisplayText.escaped(planLines(spec, plan))
  }

  static func planLines(_ spec: DestinationSpec, _ plan: DestinationPlan) -> String {
    var out = "\(spec.name) (\(target(spec)), from \(spec.from))\n"
    if let failure = plan.failure { return out + "  FAILED: \(failure)\n" }
    for note in plan.notes { out += "  note: \(note)\n" }
    let width = max(12, (plan.changes.map { label($0.name, $0.kind).count }.max() ?? 0) + 2)
    for change in plan.changes {
      let name = label(change.name, change.kind)
      var line = "  " + pad(change.action.rawValue, 10) + pad(name, width)
      if let reason = change.reason { line += reason }
      out += line.trailingSpacesRemoved + "\n"
    }
    return out + "  " + summary(plan) + "\n"
  }

  static func outcomeWord(_ result: ItemResult) -> String {
    switch result.outcome {
    case .failed: return "FAILED"
    case .skipped: return result.action.rawValue
    case .done:
      switch result.action {
      case .create: return "created"
      case .update: return "updated"
      case .delete: return "deleted"
      case .drifted: return "restored"
      default: return result.action.rawValue
      }
    }
  }

  /// The results as text (invisible characters in names and reasons written out, ``DisplayText``).
  static func reportText(_ spec: DestinationSpec, _ report: SyncReport) -> String {
    DisplayText.escaped(reportLines(spec, report))
  }

  static func reportLines(_ spec: DestinationSpec, _ report: SyncReport) -> String {
    var out = "\(spec.name) (\(target(spec)), from \(spec.from))\n"
    if let failure = report.failure, report.results.isEmpty { return out + "  FAILED: \(failure)\n" }
    let width = max(12, (report.results.map { label($0.name, $0.kind).count }.max() ?? 0) + 2)
    for result in report.results {
      var line = "  " + pad(outcomeWord(result), 10) + pad(label(result.name, result.kind), width)
      if case .failed(let why) = result.outcome { line += why } else if let reason = result.reason { line += reason }
      out += line.trailingSpacesRemoved + "\n"
    }
    for note in report.notes { out += "  note: \(note)\n" }
    let failed = report.results.filter(\.failed).count
    let done = report.results.filter { $0.outcome == .done }.count
    let blocked = report.results.filter { $0.action == .blocked }.count
    let unchanged = report.results.filter { $0.action == .unchanged }.count
    out += "  \(done) written, \(failed) failed, \(unchanged) unchanged, \(blocked) blocked\n"
    return out
  }

  static func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
  }

  static func json(_ spec: DestinationSpec, plan: DestinationPlan, report: SyncReport?) -> JSON {
    let results = Dictionary(
      (report?.results ?? []).map { ("\($0.kind.rawValue):\($0.name)", $0) }, uniquingKeysWith: { a, _ in a })
    let changes: [JSON] = (report.map { $0.results.map { PlannedChange($0.name, $0.kind, $0.action, reason: $0.reason) } } ?? plan.changes)
      .map { change in
        var pairs: [(String, JSON)] = [
          ("name", .string(change.name)), ("kind", .string(change.kind.rawValue)),
          ("action", .string(change.action.rawValue)), ("reason", change.reason.map(JSON.string) ?? .null),
        ]
        if let result = results["\(change.kind.rawValue):\(change.name)"] {
          switch result.outcome {
          case .done: pairs.append(("result", .string("done")))
          case .skipped: pairs.append(("result", .string("skipped")))
          case .failed(let why):
            pairs.append(("result", .string("failed")))
            pairs.append(("error", .string(why)))
          }
        }
        return .object(pairs)
      }
    return .object([
      ("name", .string(spec.name)), ("type", .string(spec.typeName)), ("from", .string(spec.from)),
      ("failure", (report?.failure ?? plan.failure).map(JSON.string) ?? .null),
      ("notes", JSON.strings(plan.notes + (report?.notes ?? []))), ("changes", .array(changes)),
    ])
  }
}

extension String {
  var trailingZerosRemoved: String {
    var s = Substring(self)
    while s.last == "0" { s = s.dropLast() }
    return String(s)
  }

  var trailingSpacesRemoved: String {
    var s = Substring(self)
    while s.last == " " { s = s.dropLast() }
    return String(s)
  }
}

/// Prints progress on stderr as items finish (a ``ProgressReporter``): on a terminal, one line updated in place
/// (`coffer: sync DEST: 12/500 items (40.0/s)`) with failures on their own lines above it; otherwise plain lines,
/// one per item.
final class SyncProgress: Sendable {
  let destination: String
  let total: Int
  let done = Mutex(0)
  let reporter: ProgressReporter

  init(destination: String, total: Int) {
    self.destination = destination
    self.total = total
    reporter = ProgressReporter("sync \(destination)", unit: "items", total: total)
  }

  /// One item done: on a terminal the line is updated (a failure is printed above it); otherwise a line per item.
  func report(_ result: ItemResult) {
    done.withLock { count in
      count += 1
      var line: String?
      if !reporter.terminal || result.failed {
        var text = "coffer: \(destination): [\(count)/\(total)] \(SyncRender.outcomeWord(result)) \(SyncRender.label(result.name, result.kind))"
        if case .failed(let why) = result.outcome { text += ": \(why)" }
        line = DisplayText.escaped(text)
      }
      reporter.advance(note: line)
    }
  }

  /// The end of this destination's items (erases the progress line on a terminal).
  func finish() { reporter.finish() }
}
