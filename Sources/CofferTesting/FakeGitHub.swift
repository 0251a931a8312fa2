import CSodium
import Foundation
import Synchronization

/// An in-process fake of GitHub's Actions secrets and variables REST API, on 127.0.0.1, faithful to
/// REMOTE-APIS.md §1.9: per-scope X25519 key pairs with a `key_id`; every sealed box is opened with libsodium and the
/// plaintext stored, so tests assert the exact bytes that arrived; 201 on create and 204 on update; name rules,
/// 48 KB and count limits with 422; `link` pagination; 401 for a bad token, 403 for a read-only one; rate-limit and
/// connection faults on demand. Timestamps come from a fake clock that ticks one second per write.
public final class FakeGitHub: Sendable {
  /// A place secrets live.
  public enum Scope: Hashable, Sendable {
    /// Repository secrets of `owner/repo`.
    case repository(String)
    /// Secrets of an environment of `owner/repo`.
    case environment(String, String)
    /// Organization secrets.
    case organization(String)
  }

  /// A stored secret.
  public struct StoredSecret: Sendable, Equatable {
    /// The name as stored (upper-cased).
    public var name: String
    /// The plaintext that arrived, byte for byte.
    public var value: [UInt8]
    /// Creation time, Unix seconds.
    public var createdAt: Int64
    /// Last update, Unix seconds.
    public var updatedAt: Int64
    /// Organization visibility, if any.
    public var visibility: String?
    /// Selected repository ids (organization secrets with `selected`).
    public var selectedRepositoryIDs: [Int]
  }

  struct KeyPair: Sendable {
    var id: String
    var publicKey: [UInt8]
    var secretKey: [UInt8]
  }

  struct ScopeState: Sendable {
    var key: KeyPair
    var secrets: [String: StoredSecret] = [:]
    var variables: [String: StoredSecret] = [:]
  }

  struct World: Sendable {
    var repositories: [String: Int] = [:]  // "owner/repo" → id
    var environments: Set<String> = []  // "owner/repo/env"
    var organizations: Set<String> = []
    var scopes: [Scope: ScopeState] = [:]
    var tokens: Set<String> = []
    var readOnlyTokens: Set<String> = []
    var clock: Int64 = 1_750_000_000
    var keyCounter = 0
  }

  let server = FakeHTTPServer()
  let world = Mutex(World())

  /// Creates a fake that accepts the given tokens.
  /// - Parameters:
  ///   - tokens: tokens with write access.
  ///   - readOnlyTokens: tokens that may read but get 403 on writes.
  public init(tokens: Set<String> = ["test-token"], readOnlyTokens: Set<String> = []) {
    world.withLock {
      $0.tokens = tokens
      $0.readOnlyTokens = readOnlyTokens
    }
  }

  /// Starts serving on 127.0.0.1 with a free port.
  public func start() async throws {
    try await server.start { [self] request, faults in
      if faults.contains(.rotateKey), let scope = self.scope(of: request.path) { self.rotateKey(scope) }
      var response = self.handle(request)
      // Primary rate-limit headers on every response, as GitHub sends them.
      let used = self.server.state.withLock { $0.log.count } + 1
      response.headers += [
        ("x-ratelimit-limit", "5000"), ("x-ratelimit-remaining", String(max(0, 5000 - used))),
        ("x-ratelimit-used", String(used)), ("x-ratelimit-reset", "1750003600"), ("x-ratelimit-resource", "core"),
      ]
      return response
    }
  }

  /// Stops serving.
  public func stop() async { await server.stop() }

  /// The base URL, `http://127.0.0.1:<port>`.
  public var baseURL: String { "http://127.0.0.1:\(server.port)" }

  // MARK: - Setup and inspection

  /// Registers a repository (and its deployment environments); its id is returned.
  @discardableResult
  public func addRepository(_ fullName: String, id: Int? = nil, environments: [String] = []) -> Int {
    world.withLock { world in
      let repositoryID = id ?? 1_296_269 + world.repositories.count
      world.repositories[fullName] = repositoryID
      for environment in environments { world.environments.insert("\(fullName)/\(environment)") }
      return repositoryID
    }
  }

  /// Registers an organization.
  public func addOrganization(_ name: String) {
    _ = world.withLock { $0.organizations.insert(name) }
  }

  /// The plaintext bytes of a stored secret (name compared ignoring case), or `nil`.
  public func secret(_ name: String, in scope: Scope) -> StoredSecret? {
    world.withLock { $0.scopes[scope]?.secrets[name.uppercased()] }
  }

  /// Every stored secret name in a scope, sorted.
  public func secretNames(in scope: Scope) -> [String] {
    world.withLock { ($0.scopes[scope]?.secrets.keys).map { Array($0).sorted() } ?? [] }
  }

  /// A stored variable, or `nil`.
  public func variable(_ name: String, in scope: Scope) -> StoredSecret? {
    world.withLock { $0.scopes[scope]?.variables[name.uppercased()] }
  }

  /// Sets a secret as someone else would (the clock ticks, so `updated_at` moves).
  public func setSecret(_ name: String, _ value: [UInt8], in scope: Scope) {
    world.withLock { world in
      world.clock += 1
      var state = world.scopes[scope] ?? ScopeState(key: Self.makeKey(&world))
      let key = name.uppercased()
      let created = state.secrets[key]?.createdAt ?? world.clock
      state.secrets[key] = StoredSecret(
        name: key, value: value, createdAt: created, updatedAt: world.clock, visibility: nil, selectedRepositoryIDs: [])
      world.scopes[scope] = state
    }
  }

  /// Rotates a scope's key pair: a client still holding the old `key_id` gets 422.
  public func rotateKey(_ scope: Scope) {
    world.withLock { world in
      var state = world.scopes[scope] ?? ScopeState(key: Self.makeKey(&world))
      state.key = Self.makeKey(&world)
      world.scopes[scope] = state
    }
  }

  /// The current `key_id` of a scope.
  public func keyID(_ scope: Scope) -> String {
    world.withLock { world in
      if let state = world.scopes[scope] { return state.key.id }
      let state = ScopeState(key: Self.makeKey(&world))
      world.scopes[scope] = state
      return state.key.id
    }
  }

  /// Injects a fault into the next `times` requests that match, after letting `skip` of them through.
  /// - Parameters:
  ///   - fault: the misbehaviour.
  ///   - method: only this method, if given.
  ///   - pathContains: only paths containing this, if given.
  ///   - skip: how many matching requests pass untouched first.
  ///   - times: how many requests.
  public func inject(_ fault: Fault, method: String? = nil, pathContains: String? = nil, skip: Int = 0, times: Int = 1) {
    server.inject(fault, method: method, pathContains: pathContains, skip: skip, times: times)
  }

  /// Every request handled so far.
  public var requests: [RecordedRequest] { server.state.withLock { $0.log } }

  /// Forgets the request log.
  public func resetLog() {
    server.state.withLock {
      $0.log = []
      $0.maxInFlight = 0
    }
  }

  /// The most requests handled at the same time.
  public var maxConcurrentRequests: Int { server.state.withLock { $0.maxInFlight } }

  /// Adds latency to every request (for benchmarks).
  public func setLatency(_ latency: Duration) { server.state.withLock { $0.latency = latency } }

  /// Requests that change something (PUT, POST, PATCH, DELETE).
  public var writeCount: Int { requests.filter { $0.method != "GET" && $0.method != "HEAD" }.count }

  // MARK: - Handling

  static func makeKey(_ world: inout World) -> KeyPair {
    world.keyCounter += 1
    var pk = [UInt8](repeating: 0, count: Int(crypto_box_publickeybytes()))
    var sk = [UInt8](repeating: 0, count: Int(crypto_box_secretkeybytes()))
    _ = sodium_init()
    _ = pk.withUnsafeMutableBufferPointer { p in sk.withUnsafeMutableBufferPointer { s in crypto_box_keypair(p.baseAddress!, s.baseAddress!) } }
    return KeyPair(id: "5683\(String(format: "%014d", world.keyCounter))", publicKey: pk, secretKey: sk)
  }

  /// `YYYY-MM-DDTHH:MM:SSZ` (UTC), as GitHub writes timestamps.
  static func iso(_ seconds: Int64) -> String {
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
    let rest = seconds - days * 86_400
    let z = days + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let doe = z - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let day = doy - (153 * mp + 2) / 5 + 1
    let month = mp < 10 ? mp + 3 : mp - 9
    let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
    func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
    return "\(year)-\(two(month))-\(two(day))T\(two(rest / 3600)):\(two(rest / 60 % 60)):\(two(rest % 60))Z"
  }

  static func error(_ status: Int, _ message: String) -> FakeResponse {
    .json(status, json(["message": message, "documentation_url": "https://docs.github.com/rest"]))
  }

  static func validation(_ message: String, field: String, code: String = "invalid") -> FakeResponse {
    .json(
      422,
      json([
        "message": "Validation Failed", "documentation_url": "https://docs.github.com/rest",
        "errors": [["resource": "Secret", "field": field, "code": code, "message": message]],
      ]))
  }

  static func json(_ object: Any) -> String {
    let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
    return String(decoding: data, as: UTF8.self)
  }

  /// Which scope a path addresses, if any.
  func scope(of path: String) -> Scope? {
    let parts = path.split(separator: "/").map(String.init)
    if parts.count >= 4, parts[0] == "repos", parts[3] == "actions" { return .repository("\(parts[1])/\(parts[2])") }
    if parts.count >= 5, parts[0] == "repos", parts[3] == "environments" {
      return .environment("\(parts[1])/\(parts[2])", parts[4])
    }
    if parts.count >= 3, parts[0] == "repositories", parts[2] == "environments", parts.count >= 4,
      let id = Int(parts[1])
    {
      let name = world.withLock { $0.repositories.first { $0.value == id }?.key }
      return name.map { .environment($0, parts[3]) }
    }
    if parts.count >= 3, parts[0] == "orgs", parts[2] == "actions" { return .organization(parts[1]) }
    return nil
  }

  func handle(_ request: FakeRequest) -> FakeResponse {
    // Auth.
    let auth = request.headers["authorization"] ?? ""
    let token = auth.hasPrefix("Bearer ") ? String(auth.dropFirst(7)) : auth.hasPrefix("token ") ? String(auth.dropFirst(6)) : ""
    let (valid, readOnly) = world.withLock { ($0.tokens.contains(token), $0.readOnlyTokens.contains(token)) }
    guard valid || readOnly else { return Self.error(401, "Bad credentials") }
    if let version = request.headers["x-github-api-version"], version != "2022-11-28" {
      return Self.error(400, "Unsupported API version")
    }
    let isWrite = request.method != "GET" && request.method != "HEAD"
    if isWrite, readOnly, !valid { return Self.error(403, "Resource not accessible by personal access token") }

    let parts = request.path.split(separator: "/").map(String.init)
    if request.path == "/rate_limit" {
      return .json(200, #"{"resources":{"core":{"limit":5000,"remaining":4999,"reset":1750003600,"used":1}}}"#)
    }
    if parts.count == 3, parts[0] == "repos", request.method == "GET" {
      let full = "\(parts[1])/\(parts[2])"
      guard let id = world.withLock({ $0.repositories[full] }) else { return Self.error(404, "Not Found") }
      return .json(200, Self.json(["id": id, "name": parts[2], "full_name": full]))
    }
    guard let scope = scope(of: request.path) else { return Self.error(404, "Not Found") }
    guard exists(scope) else { return Self.error(404, "Not Found") }
    // The part after …/secrets or …/variables.
    guard let leafIndex = parts.firstIndex(where: { $0 == "secrets" || $0 == "variables" }) else {
      return Self.error(404, "Not Found")
    }
    let isSecret = parts[leafIndex] == "secrets"
    let rest = Array(parts[(leafIndex + 1)...])
    if isSecret {
      return handleSecrets(request, scope: scope, rest: rest)
    }
    return handleVariables(request, scope: scope, rest: rest)
  }

  func exists(_ scope: Scope) -> Bool {
    world.withLock { world in
      switch scope {
      case .repository(let name): return world.repositories[name] != nil
      case .environment(let name, let environment): return world.environments.contains("\(name)/\(environment)")
      case .organization(let org): return world.organizations.contains(org)
      }
    }
  }

  func limit(_ scope: Scope, secret: Bool) -> Int {
    switch scope {
    case .repository: return secret ? 100 : 500
    case .environment: return 100
    case .organization: return 1000
    }
  }

  static func nameProblem(_ name: String) -> String? {
    guard let first = name.unicodeScalars.first else { return "name is empty" }
    let ok = name.unicodeScalars.allSatisfy { $0.isASCII && ($0 == "_" || $0.properties.isAlphabetic || ("0"..."9").contains($0)) }
    if !ok { return "Secret names can only contain alphanumeric characters ([a-z], [A-Z], [0-9]) or underscores (_)." }
    if ("0"..."9").contains(first) { return "Secret names must not start with a number." }
    if name.uppercased().hasPrefix("GITHUB_") { return "Secret names must not start with the GITHUB_ prefix." }
    return nil
  }

  func list(
    _ request: FakeRequest, items: [StoredSecret], key: String, maxPerPage: Int, withValue: Bool, organization: Bool
  ) -> FakeResponse {
    let perPage = min(maxPerPage, max(1, Int(request.query["per_page"] ?? "") ?? 30))
    let page = max(1, Int(request.query["page"] ?? "") ?? 1)
    let sorted = items.sorted { $0.name < $1.name }
    let pages = max(1, (sorted.count + perPage - 1) / perPage)
    let slice = sorted.dropFirst((page - 1) * perPage).prefix(perPage)
    let entries: [[String: Any]] = slice.map { item in
      var entry: [String: Any] = [
        "name": item.name, "created_at": Self.iso(item.createdAt), "updated_at": Self.iso(item.updatedAt),
      ]
      if withValue { entry["value"] = String(decoding: item.value, as: UTF8.self) }
      if organization {
        entry["visibility"] = item.visibility ?? "private"
        if item.visibility == "selected" {
          entry["selected_repositories_url"] = "\(baseURL)\(request.path)/\(item.name)/repositories"
        }
      }
      return entry
    }
    var headers: [(String, String)] = []
    if pages > 1 {
      func link(_ number: Int, _ rel: String) -> String { "<\(baseURL)\(request.path)?per_page=\(perPage)&page=\(number)>; rel=\"\(rel)\"" }
      var links: [String] = []
      if page > 1 { links.append(link(page - 1, "prev")) }
      if page < pages { links.append(link(page + 1, "next")) }
      links.append(link(pages, "last"))
      if page > 1 { links.append(link(1, "first")) }
      headers.append(("link", links.joined(separator: ", ")))
    }
    return .json(200, Self.json(["total_count": sorted.count, key: entries]), headers: headers)
  }

  func handleSecrets(_ request: FakeRequest, scope: Scope, rest: [String]) -> FakeResponse {
    let organization: Bool = { if case .organization = scope { return true } else { return false } }()
    switch (request.method, rest.count) {
    case ("GET", 0):
      let items = world.withLock { world -> [StoredSecret] in
        if world.scopes[scope] == nil { world.scopes[scope] = ScopeState(key: Self.makeKey(&world)) }
        return Array(world.scopes[scope]?.secrets.values ?? [:].values)
      }
      return list(request, items: items, key: "secrets", maxPerPage: 100, withValue: false, organization: organization)
    case ("GET", 1) where rest[0] == "public-key":
      let key = world.withLock { world -> KeyPair in
        if let state = world.scopes[scope] { return state.key }
        let state = ScopeState(key: Self.makeKey(&world))
        world.scopes[scope] = state
        return state.key
      }
      return .json(200, Self.json(["key_id": key.id, "key": Data(key.publicKey).base64EncodedString()]))
    case ("GET", 1):
      guard let stored = secret(rest[0], in: scope) else { return Self.error(404, "Not Found") }
      return .json(200, Self.json(["name": stored.name, "created_at": Self.iso(stored.createdAt), "updated_at": Self.iso(stored.updatedAt)]))
    case ("PUT", 1):
      return putSecret(request, scope: scope, name: rest[0], organization: organization)
    case ("DELETE", 1):
      let removed = world.withLock { $0.scopes[scope]?.secrets.removeValue(forKey: rest[0].uppercased()) != nil }
      return removed ? FakeResponse(status: 204) : Self.error(404, "Not Found")
    case ("GET", 2) where rest[1] == "repositories" && organization:
      guard let stored = secret(rest[0], in: scope) else { return Self.error(404, "Not Found") }
      let repos = world.withLock { world in
        stored.selectedRepositoryIDs.compactMap { id in world.repositories.first { $0.value == id } }
          .map { ["id": $0.value, "full_name": $0.key, "name": String($0.key.split(separator: "/").last ?? "")] as [String: Any] }
      }
      return .json(200, Self.json(["total_count": repos.count, "repositories": repos]))
    case ("PUT", 2) where rest[1] == "repositories" && organization:
      guard let stored = secret(rest[0], in: scope) else { return Self.error(404, "Not Found") }
      guard stored.visibility == "selected" else { return Self.error(409, "Conflict when visibility type is not set to selected") }
      guard let object = try? JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any],
        let ids = object["selected_repository_ids"] as? [Any]
      else { return Self.validation("selected_repository_ids is required", field: "selected_repository_ids", code: "missing") }
      let numbers = ids.compactMap { ($0 as? Int) ?? ($0 as? String).flatMap { Int($0) } }
      world.withLock { $0.scopes[scope]?.secrets[stored.name]?.selectedRepositoryIDs = numbers.sorted() }
      return FakeResponse(status: 204)
    case ("PUT", 3) where rest[1] == "repositories" && organization,
      ("DELETE", 3) where rest[1] == "repositories" && organization:
      guard let stored = secret(rest[0], in: scope), let id = Int(rest[2]) else { return Self.error(404, "Not Found") }
      guard stored.visibility == "selected" else { return Self.error(409, "Conflict when visibility type is not set to selected") }
      world.withLock { world in
        var ids = Set(stored.selectedRepositoryIDs)
        if request.method == "PUT" { ids.insert(id) } else { ids.remove(id) }
        world.scopes[scope]?.secrets[stored.name]?.selectedRepositoryIDs = ids.sorted()
      }
      return FakeResponse(status: 204)
    default:
      return Self.error(404, "Not Found")
    }
  }

  func putSecret(_ request: FakeRequest, scope: Scope, name: String, organization: Bool) -> FakeResponse {
    if let problem = Self.nameProblem(name) { return Self.validation(problem, field: "name") }
    guard let object = try? JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any] else {
      return Self.error(400, "Problems parsing JSON")
    }
    var visibility: String?
    var selected: [Int] = []
    if organization {
      guard let given = object["visibility"] as? String else {
        return Self.validation("visibility is required", field: "visibility", code: "missing")
      }
      guard ["all", "private", "selected"].contains(given) else {
        return Self.validation("visibility must be all, private or selected", field: "visibility")
      }
      visibility = given
      if let ids = object["selected_repository_ids"] as? [Any] {
        guard given == "selected" else {
          return Self.validation("selected_repository_ids is only allowed with visibility selected", field: "selected_repository_ids")
        }
        selected = ids.compactMap { ($0 as? Int) ?? ($0 as? String).flatMap { Int($0) } }.sorted()
      }
    }
    let encrypted = object["encrypted_value"] as? String
    let keyID = object["key_id"] as? String
    if !organization, encrypted == nil || keyID == nil {
      return Self.validation("encrypted_value and key_id are required", field: "encrypted_value", code: "missing")
    }
    return world.withLock { world -> FakeResponse in
      if world.scopes[scope] == nil { world.scopes[scope] = ScopeState(key: Self.makeKey(&world)) }
      guard var state = world.scopes[scope] else { return Self.error(500, "Server Error") }
      let key = name.uppercased()
      let existing = state.secrets[key]
      var value = existing?.value ?? []
      if let encrypted {
        guard keyID == state.key.id else {
          return Self.validation("key_id does not match the current public key", field: "key_id")
        }
        guard let box = Data(base64Encoded: encrypted).map(Array.init), box.count >= Int(crypto_box_sealbytes()) else {
          return Self.validation("encrypted_value is not valid base64", field: "encrypted_value")
        }
        var plain = [UInt8](repeating: 0, count: box.count - Int(crypto_box_sealbytes()) + 1)
        let status = plain.withUnsafeMutableBufferPointer { p in
          box.withUnsafeBufferPointer { b in
            state.key.publicKey.withUnsafeBufferPointer { pk in
              state.key.secretKey.withUnsafeBufferPointer { sk in
                crypto_box_seal_open(p.baseAddress!, b.baseAddress!, UInt64(b.count), pk.baseAddress!, sk.baseAddress!)
              }
            }
          }
        }
        guard status == 0 else { return Self.validation("encrypted_value could not be decrypted", field: "encrypted_value") }
        plain.removeLast()
        guard plain.count <= 48 * 1024 else {
          return Self.validation("secret value exceeds 48 KB", field: "encrypted_value")
        }
        value = plain
      } else if existing == nil {
        return Self.validation("encrypted_value is required to create a secret", field: "encrypted_value", code: "missing")
      }
      if existing == nil, state.secrets.count >= limit(scope, secret: true) {
        return Self.validation("too many secrets", field: "name")
      }
      world.clock += 1
      state.secrets[key] = StoredSecret(
        name: key, value: value, createdAt: existing?.createdAt ?? world.clock, updatedAt: world.clock,
        visibility: visibility, selectedRepositoryIDs: selected)
      world.scopes[scope] = state
      return existing == nil ? .json(201, "{}") : FakeResponse(status: 204)
    }
  }

  func handleVariables(_ request: FakeRequest, scope: Scope, rest: [String]) -> FakeResponse {
    let organization: Bool = { if case .organization = scope { return true } else { return false } }()
    switch (request.method, rest.count) {
    case ("GET", 0):
      let items = world.withLock { Array($0.scopes[scope]?.variables.values ?? [:].values) }
      return list(request, items: items, key: "variables", maxPerPage: 30, withValue: true, organization: organization)
    case ("GET", 1):
      guard let stored = variable(rest[0], in: scope) else { return Self.error(404, "Not Found") }
      return .json(200, Self.json(["name": stored.name, "value": String(decoding: stored.value, as: UTF8.self), "updated_at": Self.iso(stored.updatedAt)]))
    case ("POST", 0), ("PATCH", 1):
      guard let object = try? JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any] else {
        return Self.error(400, "Problems parsing JSON")
      }
      let name = request.method == "POST" ? (object["name"] as? String ?? "") : rest[0]
      if let problem = Self.nameProblem(name) { return Self.validation(problem, field: "name") }
      guard let value = object["value"] as? String else { return Self.validation("value is required", field: "value", code: "missing") }
      guard value.utf8.count <= 48 * 1024 else { return Self.validation("variable value exceeds 48 KB", field: "value") }
      let visibility = object["visibility"] as? String
      if organization, request.method == "POST", visibility == nil {
        return Self.validation("visibility is required", field: "visibility", code: "missing")
      }
      return world.withLock { world -> FakeResponse in
        if world.scopes[scope] == nil { world.scopes[scope] = ScopeState(key: Self.makeKey(&world)) }
        guard var state = world.scopes[scope] else { return Self.error(500, "Server Error") }
        let key = name.uppercased()
        let existing = state.variables[key]
        if request.method == "POST", existing != nil { return Self.error(409, "Already exists") }
        if request.method == "PATCH", existing == nil { return Self.error(404, "Not Found") }
        if existing == nil, state.variables.count >= limit(scope, secret: false) {
          return Self.validation("too many variables", field: "name")
        }
        world.clock += 1
        state.variables[key] = StoredSecret(
          name: key, value: Array(value.utf8), createdAt: existing?.createdAt ?? world.clock, updatedAt: world.clock,
          visibility: visibility ?? existing?.visibility, selectedRepositoryIDs: [])
        world.scopes[scope] = state
        return request.method == "POST" ? .json(201, "{}") : FakeResponse(status: 204)
      }
    case ("DELETE", 1):
      let removed = world.withLock { $0.scopes[scope]?.variables.removeValue(forKey: rest[0].uppercased()) != nil }
      return removed ? FakeResponse(status: 204) : Self.error(404, "Not Found")
    default:
      return Self.error(404, "Not Found")
    }
  }
}
