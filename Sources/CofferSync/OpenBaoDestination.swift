public import CofferCore
public import HTTPTypes

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// A KV version 2 engine of OpenBao or HashiCorp Vault (`type: openbao`, also `vault`).
///
/// API: REMOTE-APIS.md §3 (https://openbao.org/api-docs/secret/kv/kv-v2/). Two layouts:
/// - `layout: environment`: one KV secret at `<mount>/data/<path>` whose keys are the names. Every write is one
///   check-and-set write of the whole map (other keys kept); a concurrent writer makes the `cas` fail, and Coffer
///   re-reads: items the other writer changed fail as conflicts, the rest are written again once.
/// - `layout: name`: one KV secret per name at `<mount>/data/<path>/<NAME>` holding `{"value": "…"}`, written with
///   `cas` set to the version Coffer read just before, so a concurrent writer makes that item fail as a conflict.
///
/// After each write Coffer sets the secret's `custom_metadata` (`managed-by: coffer`, and `coffer-fingerprint`: the
/// keyed fingerprint, never a value). Values are read back, so `drifted` is a direct comparison. `--prune` soft
/// deletes (`DELETE /data/...`, recoverable with `undelete`), never destroys: with `layout: name` only secrets whose
/// `custom_metadata` says `managed-by: coffer`; with `layout: environment` the key leaves the map (the old version
/// keeps it) when the secret is Coffer's or the state recorded the key. A listing that fails fails the plan.
package struct OpenBaoDestination: ValueSource, Diagnosable {
  /// The destination's name in the manifest.
  package let name: String
  /// The server's address (`https://bao.example.com:8200`).
  package let base: BaseURL
  /// The settings from the manifest.
  package let settings: DestinationSpec.OpenBaoSettings
  let token: String?
  /// Where the token came from, for messages (`VAULT_TOKEN`, `the AppRole login`).
  package let tokenSource: String
  /// The HTTP client.
  package let client: RemoteClient
  /// How many requests run at once with `layout: name`.
  package let maxConcurrentRequests: Int
  /// The version the plan read of each item (`layout: name`): a later write with another version is a conflict.
  let planned = PlanMemo()

  /// Creates an OpenBao destination.
  /// - Parameters:
  ///   - name: the manifest name.
  ///   - base: the server's address.
  ///   - settings: mount, path, layout, namespace.
  ///   - token: the client token (`X-Vault-Token`), or `nil` when none could be had.
  ///   - tokenSource: where it came from, for messages.
  ///   - client: the HTTP client.
  ///   - maxConcurrentRequests: the concurrency with `layout: name`, default 8.
  package init(
    name: String, base: BaseURL, settings: DestinationSpec.OpenBaoSettings, token: String?, tokenSource: String,
    client: RemoteClient, maxConcurrentRequests: Int = 8
  ) {
    self.name = name
    self.base = base
    self.settings = settings
    self.token = token
    self.tokenSource = tokenSource
    self.client = client
    self.maxConcurrentRequests = maxConcurrentRequests
  }

  /// The `custom_metadata` key that marks a secret as written by Coffer.
  package static let managedKey = "managed-by"
  /// The `custom_metadata` key of the keyed fingerprint of what Coffer wrote.
  package static let fingerprintKey = "coffer-fingerprint"

  // MARK: - Requests

  static func encodedPath(_ path: String) -> String {
    path.split(separator: "/").map { percentEncodedSegment(String($0)) }.joined(separator: "/")
  }

  /// `/v1/<mount>/<kind>/<path>[/<key>]`.
  func kvPath(_ kind: String, _ key: String? = nil) -> String {
    "/v1/" + Self.encodedPath(settings.mount) + "/" + kind + "/" + Self.encodedPath(settings.path)
      + (key.map { "/" + percentEncodedSegment($0) } ?? "")
  }

  /// The display path of a KV secret, as `bao kv get` takes it: `secret/app/prod`.
  func display(_ key: String? = nil) -> String {
    settings.mount + "/" + settings.path + (key.map { "/" + $0 } ?? "")
  }

  static func headers(token: String?, namespace: String?, json: Bool) -> HTTPFields {
    var fields = HTTPFields()
    fields[.accept] = "application/json"
    fields[.userAgent] = "coffer/0.1"
    fields[HTTPField.Name("X-Vault-Request")!] = "true"
    if let token { fields[HTTPField.Name("X-Vault-Token")!] = token }
    if let namespace { fields[HTTPField.Name("X-Vault-Namespace")!] = namespace }
    if json { fields[.contentType] = "application/json" }
    return fields
  }

  func request(_ method: HTTPRequest.Method, _ path: String, json: Bool = false) -> HTTPRequest {
    base.request(method, path, headers: Self.headers(token: token, namespace: settings.namespace, json: json))
  }

  /// `127.0.0.1:8200: GET /v1/secret/data/app: 403 permission denied`: server, request, status and the server's
  /// own messages (which name paths and rules, never values); never a token.
  static func failure(_ base: BaseURL, _ request: HTTPRequest, _ response: RemoteClient.Response, tokenSource: String?)
    -> String
  {
    var text = "\(base.authority): \(RemoteClient.describe(request)): \(response.status)"
    if let errors = try? JSONDecoder().decode(VaultErrors.self, from: Data(response.body)).errors, !errors.isEmpty {
      text += " " + String(errors.map(cleaned).joined(separator: "; ").prefix(200))
    }
    if response.status == 403, let tokenSource { text += " (check the policy of the token from \(tokenSource))" }
    return text
  }

  func failure(_ request: HTTPRequest, _ response: RemoteClient.Response) -> String {
    Self.failure(base, request, response, tokenSource: tokenSource)
  }

  /// One line per server message: `1 error occurred:\n\t* permission denied\n\n` (a wrapped error list) becomes
  /// `permission denied`; other whitespace runs become one space.
  static func cleaned(_ message: String) -> String {
    var lines = message.split(whereSeparator: \.isNewline).map {
      $0.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }
    .filter { !$0.isEmpty }
    if let first = lines.first, first.hasSuffix("occurred:"),
      first.split(separator: " ").first.map({ Int($0) != nil }) == true
    {
      lines = lines.dropFirst().map { $0.hasPrefix("* ") ? String($0.dropFirst(2)) : $0 }
    }
    return lines.joined(separator: "; ")
  }

  // MARK: - Reading

  /// One KV secret as read: its string values, version and metadata.
  struct KVSecret: Sendable {
    /// The values; a key whose value is not a string maps to `nil`.
    var data: [String: String?]
    /// The current version (0 when the secret never existed); the `cas` for the next write.
    var version: Int
    /// Whether the latest version is soft-deleted or destroyed (then ``data`` is empty).
    var deleted: Bool
    var customMetadata: [String: String]

    static let missing = KVSecret(data: [:], version: 0, deleted: false, customMetadata: [:])
    var exists: Bool { version > 0 && !deleted }
    var isCoffers: Bool { customMetadata[OpenBaoDestination.managedKey] == "coffer" }
  }

  /// Reads a KV secret's latest version.
  /// - Returns: the secret, ``KVSecret/missing`` for a 404 without metadata, or a deleted one.
  func readSecret(_ key: String?) async throws(SyncError) -> KVSecret {
    let get = request(.get, kvPath("data", key))
    let response = try await client.send(get)
    let decoded = try? JSONDecoder().decode(KVRead.self, from: Data(response.body))
    switch response.status {
    case 200:
      guard let inner = decoded?.data, let metadata = inner.metadata else {
        throw SyncError(
          .badResponse, destination: name,
          detail: "\(base.authority): \(RemoteClient.describe(get)): not a KV v2 answer")
      }
      var data: [String: String?] = [:]
      for (k, v) in inner.data ?? [:] { if case .string(let s) = v { data[k] = s } else { data[k] = .some(nil) } }
      return KVSecret(
        data: data, version: metadata.version ?? 0, deleted: inner.data == nil,
        customMetadata: metadata.custom_metadata ?? [:])
    case 404:
      // Deleted or destroyed: 404 with the metadata; never written: 404 {"errors":[]}.
      if let metadata = decoded?.data?.metadata, let version = metadata.version {
        return KVSecret(data: [:], version: version, deleted: true, customMetadata: metadata.custom_metadata ?? [:])
      }
      return .missing
    default:
      throw SyncError(.remoteFailed, destination: name, detail: failure(get, response))
    }
  }

  /// The names under ``DestinationSpec/OpenBaoSettings/path`` (`layout: name`); folders are left out.
  /// - Throws: ``SyncError`` when the listing fails: never read as "empty".
  func list() async throws(SyncError) -> [String] {
    let get = request(.get, kvPath("metadata") + "?list=true")
    let response = try await client.send(get)
    if response.status == 404 { return [] }  // an empty folder
    guard response.status == 200 else {
      throw SyncError(.remoteFailed, destination: name, detail: failure(get, response))
    }
    guard let listed = try? JSONDecoder().decode(VaultList.self, from: Data(response.body)) else {
      throw SyncError(
        .badResponse, destination: name, detail: "\(base.authority): \(RemoteClient.describe(get)): not a listing")
    }
    return (listed.data?.keys ?? []).filter { !$0.hasSuffix("/") }
  }

  /// Custom metadata of a secret (`layout: name`, for pruning).
  func metadata(_ key: String) async throws(SyncError) -> (custom: [String: String], deleted: Bool) {
    let get = request(.get, kvPath("metadata", key))
    let response = try await client.send(get)
    if response.status == 404 { return ([:], true) }
    guard response.status == 200,
      let meta = try? JSONDecoder().decode(VaultMetadata.self, from: Data(response.body)).data
    else { throw SyncError(.remoteFailed, destination: name, detail: failure(get, response)) }
    let current = meta.versions?[String(meta.current_version ?? 0)]
    let deleted = current.map { !($0.deletion_time ?? "").isEmpty || ($0.destroyed ?? false) } ?? true
    return (meta.custom_metadata ?? [:], deleted)
  }

  // MARK: - Plan

  /// What one plan read: per-environment, the secret; per-name, each wanted item's secret and the prunable names.
  struct Snapshot: Sendable {
    var environment: KVSecret = .missing
    var perName: [String: KVSecret] = [:]
    var prunable: [String] = []
  }

  func read(_ input: SyncInput) async throws(SyncError) -> Snapshot {
    var snapshot = Snapshot()
    switch settings.layout {
    case .environment:
      snapshot.environment = try await readSecret(nil)
    case .name:
      let listed = Set(try await list())
      let wanted = input.items.filter { listed.contains($0.name) && $0.value.isValidUTF8 }.map(\.name)
      let reads = await boundedMap(wanted, limit: maxConcurrentRequests) { key -> Result<KVSecret, SyncError> in
        do throws(SyncError) { return .success(try await readSecret(key)) } catch { return .failure(error) }
      }
      for (key, result) in zip(wanted, reads) { snapshot.perName[key] = try result.get() }
      for item in input.items { planned.set(item.name, String(snapshot.perName[item.name]?.version ?? 0)) }
      if input.prune {
        let names = Set(input.items.map(\.name))
        let candidates = listed.filter { !names.contains($0) }.sorted()
        let metas = await boundedMap(candidates, limit: maxConcurrentRequests) {
          key -> Result<(custom: [String: String], deleted: Bool), SyncError> in
          do throws(SyncError) { return .success(try await metadata(key)) } catch { return .failure(error) }
        }
        for (key, result) in zip(candidates, metas) {
          let meta = try result.get()
          if !meta.deleted, meta.custom[Self.managedKey] == "coffer" { snapshot.prunable.append(key) }
        }
      }
    }
    return snapshot
  }

  func remote(_ item: SyncItem, _ snapshot: Snapshot, _ input: SyncInput) -> (RemoteItem, String?) {
    let value: String??
    switch settings.layout {
    case .environment:
      value = snapshot.environment.data[item.name]
    case .name:
      guard let secret = snapshot.perName[item.name], secret.exists else { return (.absent, nil) }
      value = secret.data["value"] ?? .some(nil)
    }
    switch value {
    case .none: return (.absent, nil)
    case .some(.none): return (.readable(fingerprint: ""), "not a string at the server")
    case .some(.some(let text)): return (.readable(fingerprint: input.fingerprint(SecretValue(text))), nil)
    }
  }

  func diff(_ input: SyncInput, _ snapshot: Snapshot) -> DestinationPlan {
    var changes: [PlannedChange] = []
    for item in input.items {
      guard item.value.isValidUTF8 else {
        changes.append(
          PlannedChange(item.name, item.kind, .blocked, reason: "value is not UTF-8 text, which KV's JSON needs"))
        continue
      }
      let (remote, wrongShape) = remote(item, snapshot, input)
      var change = SyncDiff.classify(item, remote: remote, record: input.state.record(item.name, item.kind))
      if let wrongShape, change.action == .drifted || change.action == .update {
        change.reason = wrongShape
      }
      changes.append(input.guarded(change))
    }
    if input.prune {
      let wanted = Set(input.items.map(\.name))
      switch settings.layout {
      case .environment:
        let secret = snapshot.environment
        for key in secret.data.keys.sorted() where !wanted.contains(key) {
          guard
            let kind = [ItemKind.secret, .variable].first(where: { input.state.record(key, $0) != nil })
              ?? (secret.isCoffers ? .secret : nil)
          else { continue }
          changes.append(PlannedChange(key, kind, .delete))
        }
      case .name:
        for key in snapshot.prunable {
          let kind = input.state.record(key, .variable) != nil ? ItemKind.variable : .secret
          changes.append(PlannedChange(key, kind, .delete))
        }
      }
    }
    var notes: [String] = []
    if settings.layout == .environment, !snapshot.environment.exists, changes.contains(where: { $0.action.writes }) {
      notes.append("the KV secret \(display()) will be created")
    }
    return DestinationPlan(destination: name, changes: changes, notes: notes)
  }

  package func plan(_ input: SyncInput) async -> DestinationPlan {
    guard token != nil else {
      return DestinationPlan(destination: name, changes: [], failure: "no token: \(tokenSource) is not set")
    }
    do {
      return diff(input, try await read(input))
    } catch {
      return DestinationPlan(
        destination: name, changes: [], failure: "cannot read \(display()): \(error.detail); nothing will be written")
    }
  }

  // MARK: - Apply

  package func apply(
    _ plan: DestinationPlan, _ input: SyncInput, progress: @escaping @Sendable (ItemResult) -> Void
  ) async -> SyncReport {
    if let failure = plan.failure { return plan.report(failure: failure, state: input.state) }
    switch settings.layout {
    case .environment: return await applyEnvironment(plan, input, progress: progress)
    case .name: return await applyPerName(plan, input, progress: progress)
    }
  }

  /// The fingerprint recorded in `custom_metadata` for what Coffer wants in one environment secret: keyed, over the
  /// names and values in name order (never a value).
  static func combinedFingerprint(_ items: [SyncItem], _ fingerprint: (SecretValue) -> String) -> String {
    var bytes: [UInt8] = []
    for item in items.sorted(by: { $0.name < $1.name }) {
      bytes += Array(item.name.utf8) + [0] + Array(String(item.value.byteCount).utf8) + [0] + item.value.reveal()
    }
    return fingerprint(SecretValue(bytes))
  }

  /// Writes the whole map with `cas`; on a `cas` mismatch re-reads once: items someone else changed meanwhile
  /// fail as conflicts, the others are written again.
  func applyEnvironment(
    _ plan: DestinationPlan, _ input: SyncInput, progress: @escaping @Sendable (ItemResult) -> Void
  ) async -> SyncReport {
    var snapshot: Snapshot
    do {
      snapshot = try await read(input)
    } catch {
      return plan.reportOfSingleWrite(input, failure: error.detail, progress: progress)
    }
    var current = diff(input, snapshot)
    var conflicts: [String: String] = [:]
    let values = Dictionary(input.items.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    for attempt in 1...2 {
      if current.writes.isEmpty { break }
      var data: [String: String] = [:]
      for (key, value) in snapshot.environment.data { if let value { data[key] = value } }
      // Keys holding something other than a string are kept as the server has them only if untouched; KV has no
      // partial write, so a map with such keys cannot be written back faithfully.
      if snapshot.environment.data.values.contains(where: { $0 == nil }) {
        return current.reportOfSingleWrite(
          input, failure: "\(display()) holds values that are not strings; Coffer does not rewrite it",
          progress: progress)
      }
      for change in current.writes where conflicts[change.name] == nil {
        if change.action == .delete {
          data[change.name] = nil
        } else if let item = values[change.name] {
          data[item.name] = item.value.revealString()
        }
      }
      let post = request(.post, kvPath("data"), json: true)
      let response: RemoteClient.Response
      do {
        response = try await client.send(
          post, body: encode(KVWrite(options: .init(cas: snapshot.environment.version), data: data)))
      } catch {
        return finish(current, input, failure: error.detail, conflicts: conflicts, progress: progress)
      }
      if response.status == 400, Self.isCASMismatch(response), attempt == 1 {
        // Someone wrote between our read and our write: what they changed is theirs (a conflict), the rest is retried.
        let before = snapshot
        do {
          snapshot = try await read(input)
        } catch {
          return finish(current, input, failure: error.detail, conflicts: conflicts, progress: progress)
        }
        for change in current.writes {
          if before.environment.data[change.name] != snapshot.environment.data[change.name] {
            conflicts[change.name] =
              "conflict: \(display()) key \(change.name) was changed at the server while Coffer was writing "
              + "(cas \(before.environment.version) is now \(snapshot.environment.version)); run sync again"
          }
        }
        let planned = current
        current = diff(input, snapshot)
        // Keep the planned actions of items written by nobody else; a conflicting item keeps its planned action.
        current = DestinationPlan(
          destination: name,
          changes: planned.changes.map { change in
            conflicts[change.name] != nil
              ? change : current.changes.first { $0.name == change.name && $0.kind == change.kind } ?? change
          } + current.changes.filter { c in !planned.changes.contains { $0.name == c.name && $0.kind == c.kind } },
          notes: planned.notes)
        continue
      }
      if response.status == 400, Self.isCASMismatch(response) {
        return finish(
          current, input,
          failure: "conflict: \(display()) keeps changing at the server (cas mismatch twice); run sync again",
          conflicts: conflicts, progress: progress)
      }
      guard response.isSuccess else {
        return finish(current, input, failure: failure(post, response), conflicts: conflicts, progress: progress)
      }
      var report = finish(current, input, failure: nil, conflicts: conflicts, progress: progress)
      let wanted = input.items.filter { $0.value.isValidUTF8 }
      let custom: [String: String] =
        input.origin == .vault
        ? [Self.managedKey: "coffer", Self.fingerprintKey: Self.combinedFingerprint(wanted, input.fingerprint)]
        : [Self.managedKey: "coffer"]
      if let note = await writeMetadata(nil, custom) { report.notes.append(note) }
      return report
    }
    return finish(current, input, failure: nil, conflicts: conflicts, progress: progress)
  }

  func finish(
    _ plan: DestinationPlan, _ input: SyncInput, failure: String?, conflicts: [String: String],
    progress: @Sendable (ItemResult) -> Void
  ) -> SyncReport {
    guard !conflicts.isEmpty else { return plan.reportOfSingleWrite(input, failure: failure, progress: progress) }
    // Conflicting items fail on their own; the others share the write's outcome.
    let others = DestinationPlan(
      destination: plan.destination, changes: plan.changes.filter { conflicts[$0.name] == nil }, notes: plan.notes)
    var report = others.reportOfSingleWrite(input, failure: failure, progress: progress)
    for change in plan.changes where conflicts[change.name] != nil {
      let result = ItemResult(
        name: change.name, kind: change.kind, action: change.action, outcome: .failed(conflicts[change.name] ?? ""),
        reason: change.reason)
      progress(result)
      report.results.append(result)
    }
    let order = Dictionary(
      plan.changes.enumerated().map { ("\($0.element.kind):\($0.element.name)", $0.offset) },
      uniquingKeysWith: { a, _ in a })
    report.results.sort { (order["\($0.kind):\($0.name)"] ?? 0) < (order["\($1.kind):\($1.name)"] ?? 0) }
    return report
  }

  static func isCASMismatch(_ response: RemoteClient.Response) -> Bool {
    let errors = (try? JSONDecoder().decode(VaultErrors.self, from: Data(response.body)).errors) ?? []
    return errors.contains { $0.contains("check-and-set") }
  }

  /// Sets `custom_metadata` (no new version). Returns a note when it fails: the value itself was written.
  func writeMetadata(_ key: String?, _ custom: [String: String]) async -> String? {
    let post = request(.post, kvPath("metadata", key), json: true)
    do {
      let response = try await client.send(post, body: encode(MetadataWrite(custom_metadata: custom)))
      if response.isSuccess { return nil }
      return "the custom_metadata of \(display(key)) could not be written: \(failure(post, response))"
    } catch {
      return "the custom_metadata of \(display(key)) could not be written: \(error.detail)"
    }
  }

  /// Per name: re-read each item right before its write and write with `cas` = that version.
  func applyPerName(
    _ plan: DestinationPlan, _ input: SyncInput, progress: @escaping @Sendable (ItemResult) -> Void
  ) async -> SyncReport {
    let values = Dictionary(input.items.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    let results = await boundedMap(plan.writes, limit: maxConcurrentRequests) { change -> (ItemResult, String?) in
      let (outcome, note) = await write(change, values[change.name], input)
      let result = ItemResult(
        name: change.name, kind: change.kind, action: change.action, outcome: outcome, reason: change.reason)
      progress(result)
      return (result, note)
    }
    var state = input.state
    for (result, _) in results where result.outcome == .done {
      if result.action == .delete {
        state.set(result.name, result.kind, nil)
      } else if let item = values[result.name] {
        state.set(result.name, result.kind, DestinationState.Record(fingerprint: item.fingerprint))
      }
    }
    // Values found unchanged are recorded too, so a later change at the server shows as drift.
    for change in plan.changes where change.action == .unchanged {
      if state.record(change.name, change.kind) == nil, let item = values[change.name] {
        state.set(change.name, change.kind, DestinationState.Record(fingerprint: item.fingerprint))
      }
    }
    let byName = Dictionary(results.map { ("\($0.0.kind):\($0.0.name)", $0.0) }, uniquingKeysWith: { a, _ in a })
    let all = plan.changes.map { change in
      byName["\(change.kind):\(change.name)"]
        ?? ItemResult(
          name: change.name, kind: change.kind, action: change.action, outcome: .skipped, reason: change.reason)
    }
    return SyncReport(destination: name, results: all, state: state, notes: results.compactMap(\.1))
  }

  func write(_ change: PlannedChange, _ item: SyncItem?, _ input: SyncInput) async -> (ItemResult.Outcome, String?) {
    let secret: KVSecret
    do {
      secret = try await readSecret(change.name)
    } catch {
      return (.failed(error.detail), nil)
    }
    if change.action == .delete {
      guard secret.exists else { return (.done, nil) }
      let delete = request(.delete, kvPath("data", change.name))
      do {
        let response = try await client.send(delete)
        return (response.isSuccess || response.status == 404 ? .done : .failed(failure(delete, response)), nil)
      } catch {
        return (.failed(error.detail), nil)
      }
    }
    guard let item else { return (.failed("no value"), nil) }
    // The plan was made from an earlier read: if the server changed since, that is someone else's write.
    let now = diff(
      SyncInput(items: [item], state: input.state, prune: false, fingerprint: input.fingerprint, origin: input.origin),
      Snapshot(perName: [change.name: secret]))
    if let again = now.changes.first, again.action == .unchanged { return (.done, nil) }
    let changedSincePlan = planned.get(change.name).map { $0 != String(secret.version) } ?? false
    if let again = now.changes.first, again.action != change.action || changedSincePlan {
      return (
        .failed(
          "conflict: \(display(change.name)) changed at the server since the plan (now version \(secret.version)); run sync again"
        ),
        nil
      )
    }
    let post = request(.post, kvPath("data", change.name), json: true)
    do {
      let response = try await client.send(
        post, body: encode(KVWrite(options: .init(cas: secret.version), data: ["value": item.value.revealString()])))
      if response.status == 400, Self.isCASMismatch(response) {
        return (
          .failed(
            "conflict: \(display(change.name)) was written by someone else while Coffer was writing (cas \(secret.version)); run sync again"
          ),
          nil
        )
      }
      guard response.isSuccess else { return (.failed(failure(post, response)), nil) }
    } catch {
      return (.failed(error.detail), nil)
    }
    let custom: [String: String] =
      input.origin == .vault
      ? [Self.managedKey: "coffer", Self.fingerprintKey: item.fingerprint] : [Self.managedKey: "coffer"]
    return (.done, await writeMetadata(change.name, custom))
  }

  // MARK: - Pull

  package func pull() async throws(SyncError) -> [PulledValue] {
    guard token != nil else {
      throw SyncError(.badInput, destination: name, detail: "no token: \(tokenSource) is not set")
    }
    return try await values().map { PulledValue(name: $0.name, value: $0.value, kind: .secret) }
  }

  /// Every value the destination holds, sorted by name (keys or secrets whose value is not a string are left out).
  /// - Throws: ``SyncError`` when the secret or the listing cannot be read.
  package func values() async throws(SyncError) -> [(name: String, value: SecretValue)] {
    switch settings.layout {
    case .environment:
      let secret = try await readSecret(nil)
      guard secret.exists else {
        throw SyncError(
          .remoteFailed, destination: name, detail: "\(base.authority): the KV secret \(display()) does not exist")
      }
      return secret.data.compactMap { key, value in value.map { (key, SecretValue($0)) } }.sorted { $0.name < $1.name }
    case .name:
      let keys = try await list().sorted()
      let reads = await boundedMap(keys, limit: maxConcurrentRequests) { key -> Result<KVSecret, SyncError> in
        do throws(SyncError) { return .success(try await readSecret(key)) } catch { return .failure(error) }
      }
      var out: [(name: String, value: SecretValue)] = []
      for (key, result) in zip(keys, reads) {
        let secret = try result.get()
        if secret.exists, let value = secret.data["value"] ?? nil { out.append((key, SecretValue(value))) }
      }
      return out
    }
  }

  // MARK: - Doctor

  package func diagnose() async -> [DoctorCheck] {
    guard token != nil else {
      return [
        DoctorCheck(
          "token present", .failed, detail: "\(tokenSource) is not set",
          fix: "export \(tokenSource)=<a token>, or use auth: approle, jwt or oidc (docs/sync.md)"),
        DoctorCheck("authenticates", .skipped), DoctorCheck("has permission", .skipped),
        DoctorCheck("secret readable", .skipped),
      ]
    }
    var checks = [DoctorCheck("token present", .ok, detail: "from \(tokenSource)")]
    let lookup = request(.get, "/v1/auth/token/lookup-self")
    do {
      let response = try await client.send(lookup)
      guard response.status == 200 else {
        checks.append(
          DoctorCheck(
            "authenticates", .failed, detail: failure(lookup, response),
            fix: "the token from \(tokenSource) is wrong, expired or for another namespace"))
        return checks + [DoctorCheck("has permission", .skipped), DoctorCheck("secret readable", .skipped)]
      }
      checks.append(DoctorCheck("authenticates", .ok))
    } catch {
      checks.append(DoctorCheck("authenticates", .failed, detail: error.detail, fix: "check the network and api_url"))
      return checks + [DoctorCheck("has permission", .skipped), DoctorCheck("secret readable", .skipped)]
    }
    // What sync needs: create, update and read at the data path.
    let probe = settings.mount + "/data/" + settings.path + (settings.layout == .name ? "/COFFER_DOCTOR_PROBE" : "")
    let capabilities = request(.post, "/v1/sys/capabilities-self", json: true)
    do {
      let response = try await client.send(capabilities, body: encode(["paths": [probe]]))
      let granted =
        (try? JSONDecoder().decode([String: CapabilityList].self, from: Data(response.body)))?[probe]?.list ?? []
      let needed = ["create", "update", "read"]
      if response.status == 200, granted.contains("root") || needed.allSatisfy(granted.contains) {
        checks.append(DoctorCheck("has permission", .ok, detail: "create, update, read on \(probe)"))
      } else {
        checks.append(
          DoctorCheck(
            "has permission", .failed,
            detail: response.status == 200
              ? "\(probe): \(granted.isEmpty ? "no capabilities" : granted.joined(separator: ", "))"
              : failure(capabilities, response),
            fix: "grant the token's policy create, update, read (and list for layout: name) on \(probe)"))
        return checks + [DoctorCheck("secret readable", .skipped)]
      }
    } catch {
      checks.append(DoctorCheck("has permission", .failed, detail: error.detail, fix: "check the network and api_url"))
      return checks + [DoctorCheck("secret readable", .skipped)]
    }
    do throws(SyncError) {
      switch settings.layout {
      case .environment:
        let secret = try await readSecret(nil)
        checks.append(
          DoctorCheck(
            "secret readable", .ok,
            detail: secret.exists
              ? "\(display()) version \(secret.version)" : "\(display()) does not exist yet; sync creates it"))
      case .name:
        let names = try await list()
        checks.append(DoctorCheck("secret readable", .ok, detail: "\(display()): \(names.count) secrets listed"))
      }
    } catch {
      checks.append(
        DoctorCheck(
          "secret readable", .failed, detail: error.detail,
          fix: "grant the token's policy read (and list) on \(display())"))
    }
    return checks
  }
}

// MARK: - Wire shapes

struct VaultErrors: Decodable { var errors: [String]? }

/// A KV value: a string, or anything else (kept out of Coffer's hands).
enum KVValue: Decodable, Sendable {
  case string(String)
  case other
  init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    if let text = try? container.decode(String.self) { self = .string(text) } else { self = .other }
  }
}

struct KVRead: Decodable {
  struct Metadata: Decodable {
    var version: Int?
    var deletion_time: String?
    var destroyed: Bool?
    var custom_metadata: [String: String]?
  }
  struct Inner: Decodable {
    var data: [String: KVValue]?
    var metadata: Metadata?
  }
  var data: Inner?
}

struct KVWrite: Encodable {
  struct Options: Encodable { var cas: Int }
  var options: Options
  var data: [String: String]
}

struct MetadataWrite: Encodable { var custom_metadata: [String: String] }

struct VaultList: Decodable {
  struct Keys: Decodable { var keys: [String]? }
  var data: Keys?
}

struct VaultMetadata: Decodable {
  struct Version: Decodable {
    var created_time: String?
    var deletion_time: String?
    var destroyed: Bool?
  }
  struct Inner: Decodable {
    var current_version: Int?
    var custom_metadata: [String: String]?
    var versions: [String: Version]?
  }
  var data: Inner?
}

/// `sys/capabilities-self` answers `{"<path>": ["read", …], "capabilities": […]}`; other members are ignored.
struct CapabilityList: Decodable {
  var list: [String]
  init(from decoder: any Decoder) throws {
    list = (try? decoder.singleValueContainer().decode([String].self)) ?? []
  }
}
