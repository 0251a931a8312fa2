import CofferCore
import HTTPTypes

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// GitHub Actions secrets and variables of a repository, a deployment environment or an organization.
///
/// REST API version 2022-11-28 (https://docs.github.com/en/rest/actions/secrets,
/// https://docs.github.com/en/rest/actions/variables). Secrets are sealed with ``SealedBox`` to the scope's public
/// key and sent with its `key_id`; plain settings become variables. Listings read `total_count` and the `link`
/// header of the first page, fetch the other pages by number, and must add up, or the plan fails. Writes run at most ``maxConcurrentWrites`` at a time. GitHub never
/// returns a secret's value, so a secret is `unchanged` when the recorded fingerprint matches and `drifted` when its
/// `updated_at` is later than the one recorded after Coffer's push.
package struct GitHubDestination: Destination, Diagnosable {
  /// Where the secrets go.
  package enum Scope: Sendable, Equatable {
    /// Repository secrets of `owner/repo`.
    case repository(owner: String, repo: String)
    /// Secrets of a deployment environment of `owner/repo`.
    case environment(owner: String, repo: String, environment: String)
    /// Organization secrets with a visibility (`all`, `private`, `selected`) and, for `selected`, repository names.
    case organization(org: String, visibility: String, repositories: [String])
  }

  /// The destination's name in the manifest.
  package let name: String
  /// The scope.
  package let scope: Scope
  /// The API root, `https://api.github.com` by default.
  package let base: BaseURL
  /// The token (`Authorization: Bearer`), or `nil` when the variable named in the manifest is unset.
  let token: String?
  /// The name of the variable the token comes from, for messages.
  package let tokenSource: String
  /// The HTTP client.
  package let client: RemoteClient
  /// How many writes run at once (GitHub asks for few; default 4).
  package let maxConcurrentWrites: Int

  /// Creates a GitHub destination.
  /// - Parameters:
  ///   - name: the manifest name.
  ///   - scope: repository, environment or organization.
  ///   - base: the API root.
  ///   - token: the token, or `nil` when missing (every request then fails with a hint).
  ///   - tokenSource: the variable name it came from.
  ///   - client: the HTTP client.
  ///   - maxConcurrentWrites: the write concurrency, default 4.
  package init(
    name: String, scope: Scope, base: BaseURL, token: String?, tokenSource: String, client: RemoteClient,
    maxConcurrentWrites: Int = 4
  ) {
    self.name = name
    self.scope = scope
    self.base = base
    self.token = token
    self.tokenSource = tokenSource
    self.client = client
    self.maxConcurrentWrites = max(1, maxConcurrentWrites)
  }

  // MARK: - Paths

  var ruleScope: GitHubRules.ScopeKind {
    switch scope {
    case .repository: return .repository
    case .environment: return .environment
    case .organization: return .organization
    }
  }

  func collectionPath(_ kind: ItemKind) -> String {
    let leaf = kind == .secret ? "secrets" : "variables"
    switch scope {
    case .repository(let owner, let repo):
      return "/repos/\(percentEncodedSegment(owner))/\(percentEncodedSegment(repo))/actions/\(leaf)"
    case .environment(let owner, let repo, let environment):
      return "/repos/\(percentEncodedSegment(owner))/\(percentEncodedSegment(repo))/environments/"
        + "\(percentEncodedSegment(environment))/\(leaf)"
    case .organization(let org, _, _):
      return "/orgs/\(percentEncodedSegment(org))/actions/\(leaf)"
    }
  }

  /// The organization settings recorded with each push, so a change of visibility or repositories is an update.
  var scopeRecord: String? {
    guard case .organization(_, let visibility, let repositories) = scope else { return nil }
    return visibility == "selected" ? "selected:" + repositories.sorted().joined(separator: ",") : visibility
  }

  var headers: HTTPFields {
    var fields = HTTPFields()
    fields[.accept] = "application/vnd.github+json"
    fields[HTTPField.Name("X-GitHub-Api-Version")!] = "2022-11-28"
    fields[.userAgent] = "coffer/0.1"
    if let token { fields[.authorization] = "Bearer \(token)" }
    return fields
  }

  func request(_ method: HTTPRequest.Method, _ path: String, json: Bool = false) -> HTTPRequest {
    var fields = headers
    if json { fields[.contentType] = "application/json" }
    return base.request(method, path, headers: fields)
  }

  func failure(_ request: HTTPRequest, _ response: RemoteClient.Response) -> String {
    var text = "\(RemoteClient.describe(request)): \(response.status)"
    if let message = try? JSONDecoder().decode(GitHubMessage.self, from: Data(response.body)).message {
      text += " " + String(message.prefix(200))
    }
    if response.status == 401 { text += " (check \(tokenSource))" }
    return text
  }

  // MARK: - Listing

  struct Listed: Sendable {
    var name: String
    var updatedAt: Timestamp?
    var value: String?
    var visibility: String?
  }

  /// Lists every secret or variable of the scope.
  ///
  /// The first page says how many items there are (`total_count`) and, in its `link` header, whether more pages
  /// follow; the remaining pages are then fetched by number, at most ``maxConcurrentWrites`` at a time. The pages
  /// must add up to `total_count` with no name twice, or the listing fails (never read as "remote is empty").
  /// - Throws: ``SyncError`` when any page fails or the pages do not add up.
  func list(_ kind: ItemKind) async throws(SyncError) -> [Listed] {
    let perPage = kind == .secret ? 100 : 30
    let first = try await page(kind, number: 1, perPage: perPage)
    var out = first.items
    if first.hasNext {
      let pages = (first.total + perPage - 1) / perPage
      guard pages <= 1000 else { throw SyncError(.badResponse, destination: name, detail: "too many pages") }
      let numbers = Array(2...max(2, pages))
      let results = await boundedMap(numbers, limit: maxConcurrentWrites) { number in
        do throws(SyncError) {
          return Result<[Listed], SyncError>.success(try await page(kind, number: number, perPage: perPage).items)
        } catch {
          return .failure(error)
        }
      }
      for result in results {
        switch result {
        case .success(let items): out += items
        case .failure(let error): throw error
        }
      }
    }
    guard out.count == first.total, Set(out.map { $0.name.uppercased() }).count == out.count else {
      throw SyncError(
        .badResponse, destination: name,
        detail: "listing \(kind == .secret ? "secrets" : "variables") returned \(out.count) of \(first.total) items")
    }
    return out
  }

  /// One page of a listing: its items, the `total_count`, and whether a `rel="next"` link follows.
  func page(_ kind: ItemKind, number: Int, perPage: Int) async throws(SyncError)
    -> (items: [Listed], total: Int, hasNext: Bool)
  {
    let request = request(.get, collectionPath(kind) + "?per_page=\(perPage)" + (number > 1 ? "&page=\(number)" : ""))
    let response = try await client.send(request)
    guard response.status == 200 else {
      throw SyncError(
        response.status == 401 || response.status == 403 || response.status == 404 ? .accessDenied : .remoteFailed,
        destination: name, detail: failure(request, response))
    }
    let hasNext = response.header("link").flatMap(LinkHeader.next(in:)) != nil
    do {
      if kind == .secret {
        let page = try JSONDecoder().decode(SecretList.self, from: Data(response.body))
        let items = page.secrets.map {
          Listed(name: $0.name, updatedAt: $0.updated_at.flatMap(Timestamp.init(rfc3339:)), visibility: $0.visibility)
        }
        return (items, page.total_count, hasNext)
      } else {
        let page = try JSONDecoder().decode(VariableList.self, from: Data(response.body))
        let items = page.variables.map {
          Listed(
            name: $0.name, updatedAt: $0.updated_at.flatMap(Timestamp.init(rfc3339:)), value: $0.value,
            visibility: $0.visibility)
        }
        return (items, page.total_count, hasNext)
      }
    } catch {
      throw SyncError(.badResponse, destination: name, detail: "\(RemoteClient.describe(request)): unexpected body")
    }
  }

  // MARK: - Plan

  package func plan(_ input: SyncInput) async -> DestinationPlan {
    guard token != nil else {
      return DestinationPlan(destination: name, changes: [], failure: "no token: \(tokenSource) is not set")
    }
    var remote: [ItemKind: [String: Listed]] = [:]
    for kind in [ItemKind.secret, .variable] where input.prune || input.items.contains(where: { $0.kind == kind }) {
      do {
        let listed = try await list(kind)
        remote[kind] = Dictionary(listed.map { ($0.name.uppercased(), $0) }, uniquingKeysWith: { a, _ in a })
      } catch {
        return DestinationPlan(
          destination: name, changes: [],
          failure: "cannot list \(kind == .secret ? "secrets" : "variables"): \(error.detail); nothing will be written")
      }
    }
    return diff(input, remote: remote)
  }

  func diff(_ input: SyncInput, remote: [ItemKind: [String: Listed]]) -> DestinationPlan {
    let blocked = GitHubRules.blocked(
      input.items, remoteNames: remote.mapValues { Set($0.keys) }, scope: ruleScope)
    var changes: [PlannedChange] = []
    var wanted: [ItemKind: Set<String>] = [:]
    let wantedVisibility: String? = {
      if case .organization(_, let visibility, _) = scope { return visibility }
      return nil
    }()
    for item in input.items {
      wanted[item.kind, default: []].insert(item.name.uppercased())
      if let reason = blocked[item.kind]?[item.name] {
        changes.append(PlannedChange(item.name, item.kind, .blocked, reason: reason))
        continue
      }
      let listed = remote[item.kind]?[item.name.uppercased()]
      let state: RemoteItem
      switch (item.kind, listed) {
      case (_, nil): state = .absent
      case (.secret, let listed?): state = .sealed(updatedAt: listed.updatedAt)
      case (.variable, let listed?): state = .readable(fingerprint: input.fingerprint(SecretValue(listed.value ?? "")))
      }
      var change = SyncDiff.classify(
        item, remote: state, record: input.state.record(item.name, item.kind), scope: scopeRecord)
      if change.action == .unchanged, let wantedVisibility, let listed, let visibility = listed.visibility,
        visibility != wantedVisibility
      {
        change = PlannedChange(item.name, item.kind, .update, reason: "visibility is \(visibility)")
      }
      changes.append(input.guarded(change))
    }
    if input.prune {
      for (kind, listed) in remote {
        for (key, entry) in listed where !(wanted[kind]?.contains(key) ?? false) {
          changes.append(PlannedChange(entry.name, kind, .delete))
        }
      }
    }
    return DestinationPlan(destination: name, changes: changes)
  }

  // MARK: - Apply

  package func apply(
    _ plan: DestinationPlan, _ input: SyncInput, progress: @escaping @Sendable (ItemResult) -> Void
  ) async -> SyncReport {
    if let failure = plan.failure { return plan.report(failure: failure, state: input.state) }
    let values = Dictionary(input.items.map { ("\($0.kind.rawValue):\($0.name)", $0) }, uniquingKeysWith: { a, _ in a })
    let writes = plan.writes
    let keys = PublicKeyCache(destination: self)
    var setupFailure: String?
    var repositoryIDs: [Int]?
    if case .organization(_, "selected", let repositories) = scope, writes.contains(where: { $0.action != .delete }) {
      do {
        repositoryIDs = try await resolveRepositoryIDs(repositories)
      } catch {
        setupFailure = error.detail
      }
    }
    let ids = repositoryIDs
    let blockedSetup = setupFailure
    let written = await boundedMap(writes, limit: maxConcurrentWrites) { change -> ItemResult in
      let outcome: ItemResult.Outcome
      if let blockedSetup, change.action != .delete {
        outcome = .failed(blockedSetup)
      } else if change.action == .delete {
        outcome = await delete(change)
      } else if let item = values["\(change.kind.rawValue):\(change.name)"] {
        outcome = change.kind == .secret
          ? await putSecret(item, keys: keys, repositoryIDs: ids)
          : await putVariable(item, exists: change.action != .create, repositoryIDs: ids)
      } else {
        outcome = .failed("no value")
      }
      let result = ItemResult(
        name: change.name, kind: change.kind, action: change.action, outcome: outcome, reason: change.reason)
      progress(result)
      return result
    }
    // Record what was pushed, with the destination's updated_at read back from a fresh listing.
    var state = input.state
    var notes: [String] = []
    var relisted: [ItemKind: [String: Listed]] = [:]
    for kind in [ItemKind.secret, .variable]
    where written.contains(where: { $0.kind == kind && $0.outcome == .done && $0.action != .delete }) {
      do {
        relisted[kind] = Dictionary(
          try await list(kind).map { ($0.name.uppercased(), $0) }, uniquingKeysWith: { a, _ in a })
      } catch {
        notes.append("could not re-read \(kind == .secret ? "secret" : "variable") timestamps: drift since this push will not be detected")
      }
    }
    for result in written where result.outcome == .done {
      if result.action == .delete {
        state.set(result.name, result.kind, nil)
      } else if let item = values["\(result.kind.rawValue):\(result.name)"] {
        let updated = relisted[result.kind]?[result.name.uppercased()]?.updatedAt
        state.set(
          result.name, result.kind,
          DestinationState.Record(fingerprint: item.fingerprint, remoteUpdatedAt: updated?.rfc3339, scope: scopeRecord))
      }
    }
    // Variables found unchanged are recorded too (their values are read back), so a later change shows as drift.
    for change in plan.changes where change.kind == .variable && change.action == .unchanged {
      if state.record(change.name, .variable) == nil, let item = values["variable:\(change.name)"] {
        state.set(change.name, .variable, DestinationState.Record(fingerprint: item.fingerprint, scope: scopeRecord))
      }
    }
    let byKey = Dictionary(written.map { ("\($0.kind.rawValue):\($0.name)", $0) }, uniquingKeysWith: { a, _ in a })
    let results = plan.changes.map { change in
      byKey["\(change.kind.rawValue):\(change.name)"]
        ?? ItemResult(name: change.name, kind: change.kind, action: change.action, outcome: .skipped, reason: change.reason)
    }
    return SyncReport(destination: name, results: results, state: state, notes: notes)
  }

  func putSecret(_ item: SyncItem, keys: PublicKeyCache, repositoryIDs: [Int]?) async -> ItemResult.Outcome {
    var staleRetried = false
    while true {
      let key: PublicKey
      do {
        key = try await keys.current()
      } catch {
        return .failed(error.detail)
      }
      let sealed: [UInt8]
      do {
        sealed = try SealedBox.seal(item.value.reveal(), to: key.bytes)
      } catch {
        return .failed(error.detail)
      }
      var body = SecretPut(encrypted_value: Base64.encode(sealed, padded: true), key_id: key.id)
      if case .organization(_, let visibility, _) = scope {
        body.visibility = visibility
        if visibility == "selected" { body.selected_repository_ids = repositoryIDs ?? [] }
      }
      let request = request(.put, collectionPath(.secret) + "/" + percentEncodedSegment(item.name), json: true)
      do {
        let response = try await client.send(request, body: encode(body))
        if response.status == 201 || response.status == 204 { return .done }
        if response.status == 422, !staleRetried {
          // A key_id that is no longer current: fetch the key again and retry once with the new one.
          staleRetried = true
          if (try? await keys.refresh(replacing: key.id)) == true { continue }
        }
        return .failed(failure(request, response))
      } catch {
        return .failed(error.detail)
      }
    }
  }

  func putVariable(_ item: SyncItem, exists: Bool, repositoryIDs: [Int]?) async -> ItemResult.Outcome {
    var body = VariableBody(name: item.name, value: item.value.revealString())
    if case .organization(_, let visibility, _) = scope {
      body.visibility = visibility
      if visibility == "selected" { body.selected_repository_ids = repositoryIDs ?? [] }
    }
    var update = exists
    for _ in 0..<2 {
      let request = update
        ? request(.patch, collectionPath(.variable) + "/" + percentEncodedSegment(item.name), json: true)
        : request(.post, collectionPath(.variable), json: true)
      do {
        let response = try await client.send(request, body: encode(body))
        if (200..<300).contains(response.status) { return .done }
        // Created or removed by someone else since the listing: switch between create and update once.
        if (update && response.status == 404) || (!update && response.status == 409) {
          update.toggle()
          continue
        }
        return .failed(failure(request, response))
      } catch {
        return .failed(error.detail)
      }
    }
    return .failed("the variable kept changing between create and update")
  }

  func delete(_ change: PlannedChange) async -> ItemResult.Outcome {
    let request = request(.delete, collectionPath(change.kind) + "/" + percentEncodedSegment(change.name))
    do {
      let response = try await client.send(request)
      return response.status == 204 || response.status == 404 ? .done : .failed(failure(request, response))
    } catch {
      return .failed(error.detail)
    }
  }

  func resolveRepositoryIDs(_ names: [String]) async throws(SyncError) -> [Int] {
    guard case .organization(let org, _, _) = scope else { return [] }
    var ids: [Int] = []
    for repository in names {
      let request = request(.get, "/repos/\(percentEncodedSegment(org))/\(percentEncodedSegment(repository))")
      let response = try await client.send(request)
      guard response.status == 200, let repo = try? JSONDecoder().decode(Repository.self, from: Data(response.body))
      else {
        throw SyncError(.remoteFailed, destination: name, detail: "repository \(org)/\(repository): " + failure(request, response))
      }
      ids.append(repo.id)
    }
    return ids.sorted()
  }

  func fetchPublicKey() async throws(SyncError) -> PublicKey {
    let request = request(.get, collectionPath(.secret) + "/public-key")
    let response = try await client.send(request)
    guard response.status == 200 else {
      throw SyncError(.remoteFailed, destination: name, detail: failure(request, response))
    }
    guard let key = try? JSONDecoder().decode(KeyBody.self, from: Data(response.body)),
      let bytes = Base64.decode(key.key, padded: true), bytes.count == SealedBox.publicKeyLength
    else {
      throw SyncError(.badResponse, destination: name, detail: "\(RemoteClient.describe(request)): not a public key")
    }
    return PublicKey(id: key.key_id, bytes: bytes)
  }

  // MARK: - Doctor

  package func diagnose() async -> [DoctorCheck] {
    var checks: [DoctorCheck] = []
    guard token != nil else {
      return [
        DoctorCheck("token present", .failed, detail: "\(tokenSource) is not set",
          fix: "export \(tokenSource)=<a token with Actions secrets write access>, or `coffer set \(tokenSource)`"),
        DoctorCheck("authenticates", .skipped), DoctorCheck("has permission", .skipped),
        DoctorCheck("public key readable", .skipped),
      ]
    }
    checks.append(DoctorCheck("token present", .ok, detail: "from \(tokenSource)"))
    let probe = request(.get, "/rate_limit")
    do {
      let response = try await client.send(probe)
      if response.status == 401 {
        checks.append(DoctorCheck("authenticates", .failed, detail: "401 bad credentials",
          fix: "the token in \(tokenSource) is wrong or expired: create a new one"))
        return checks + [DoctorCheck("has permission", .skipped), DoctorCheck("public key readable", .skipped)]
      }
      checks.append(DoctorCheck("authenticates", .ok))
    } catch {
      checks.append(DoctorCheck("authenticates", .failed, detail: error.detail, fix: "check the network and api_url"))
      return checks + [DoctorCheck("has permission", .skipped), DoctorCheck("public key readable", .skipped)]
    }
    let listing = request(.get, collectionPath(.secret) + "?per_page=1")
    do {
      let response = try await client.send(listing)
      if response.status == 200 {
        checks.append(DoctorCheck("has permission", .ok, detail: "can list secrets (write access is not tested)"))
      } else {
        checks.append(DoctorCheck("has permission", .failed, detail: failure(listing, response),
          fix: "give the token Actions secrets read and write access to \(scopeDescription) (a fine-grained token's "
            + "\"Secrets\" permission, or the classic repo/admin:org scope)"))
        return checks + [DoctorCheck("public key readable", .skipped)]
      }
    } catch {
      checks.append(DoctorCheck("has permission", .failed, detail: error.detail, fix: "check the network and api_url"))
      return checks + [DoctorCheck("public key readable", .skipped)]
    }
    do {
      let key = try await fetchPublicKey()
      checks.append(DoctorCheck("public key readable", .ok, detail: "key_id \(key.id)"))
    } catch {
      checks.append(DoctorCheck("public key readable", .failed, detail: error.detail,
        fix: "check that \(scopeDescription) exists and the token can read its secrets"))
    }
    return checks
  }

  var scopeDescription: String {
    switch scope {
    case .repository(let owner, let repo): return "\(owner)/\(repo)"
    case .environment(let owner, let repo, let environment): return "\(owner)/\(repo) environment \(environment)"
    case .organization(let org, _, _): return "organization \(org)"
    }
  }
}

/// A scope's public key: `key_id` and the 32 key bytes.
struct PublicKey: Sendable, Equatable {
  var id: String
  var bytes: [UInt8]
}

/// Fetches the public key once and shares it among concurrent writes; refreshes it once when a write says it is
/// stale.
actor PublicKeyCache {
  let destination: GitHubDestination
  var key: PublicKey?
  var pending: Task<PublicKey, any Error>?

  init(destination: GitHubDestination) { self.destination = destination }

  func current() async throws(SyncError) -> PublicKey {
    if let key { return key }
    let task: Task<PublicKey, any Error>
    if let pending {
      task = pending
    } else {
      let destination = self.destination
      task = Task { try await destination.fetchPublicKey() }
      pending = task
    }
    do {
      let fetched = try await task.value
      key = fetched
      return fetched
    } catch let error as SyncError {
      pending = nil
      throw error
    } catch {
      pending = nil
      throw SyncError(.remoteFailed, destination: destination.name, detail: "public key: \(error)")
    }
  }

  /// Re-fetches the key if `stale` is still the cached one. Returns whether the key changed.
  func refresh(replacing stale: String) async throws(SyncError) -> Bool {
    if let key, key.id != stale { return true }
    key = nil
    pending = nil
    let fresh = try await current()
    return fresh.id != stale
  }
}

/// Parses RFC 8288 `link` headers as GitHub sends them: `<url>; rel="next", <url>; rel="last"`.
package enum LinkHeader {
  /// The URL with `rel="next"`, if any.
  /// - Parameter header: the header's value.
  package static func next(in header: String) -> String? {
    for part in header.split(separator: ",") {
      let pieces = part.split(separator: ";").map { $0.trimmingCharacters(in: " ") }
      guard let target = pieces.first, target.hasPrefix("<"), target.hasSuffix(">") else { continue }
      if pieces.dropFirst().contains(where: { $0 == "rel=\"next\"" || $0 == "rel=next" }) {
        return String(target.dropFirst().dropLast())
      }
    }
    return nil
  }
}

extension Substring {
  func trimmingCharacters(in set: Character) -> String {
    var s = self
    while s.first == set { s = s.dropFirst() }
    while s.last == set { s = s.dropLast() }
    return String(s)
  }
}

func encode<T: Encodable>(_ value: T) -> [UInt8] {
  let encoder = JSONEncoder()
  encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
  return (try? Array(encoder.encode(value))) ?? []
}

// MARK: - Wire shapes

struct GitHubMessage: Decodable { var message: String }
struct SecretList: Decodable {
  struct Entry: Decodable {
    var name: String
    var updated_at: String?
    var visibility: String?
  }
  var total_count: Int
  var secrets: [Entry]
}
struct VariableList: Decodable {
  struct Entry: Decodable {
    var name: String
    var value: String
    var updated_at: String?
    var visibility: String?
  }
  var total_count: Int
  var variables: [Entry]
}
struct KeyBody: Decodable {
  var key_id: String
  var key: String
}
struct Repository: Decodable { var id: Int }
struct SecretPut: Encodable {
  var encrypted_value: String
  var key_id: String
  var visibility: String?
  var selected_repository_ids: [Int]?
}
struct VariableBody: Encodable {
  var name: String
  var value: String
  var visibility: String?
  var selected_repository_ids: [Int]?
}
