import Foundation
import Synchronization
import Yams

/// An in-process fake of the Pulumi ESC environments API, on 127.0.0.1, faithful to REMOTE-APIS.md §2.5: revisions
/// with an `ETag` (base64 of FNV-1a 32 of the stored YAML) and `Pulumi-ESC-Revision`; secrets stored as
/// `fn::secret: {ciphertext: …}` in the `escx` envelope (a toy rot128 cipher, as in the esc CLI's own test fake);
/// `/decrypt`; PATCH with the `ETag` (or `If-Match`) header and 409 on a mismatch; 400 with diagnostics for YAML
/// that does not parse; 401 for a bad `Authorization: token`; faults on demand.
public final class FakePulumiESC: Sendable {
  struct Environment: Sendable {
    var revisions: [String]  // stored YAML (ciphertext form), oldest first
  }

  struct World: Sendable {
    var environments: [String: Environment] = [:]  // "org/project/env"
    var organizations: Set<String> = []
    var tokens: Set<String> = []
    var conflictingPatches = 0
    var externalEdits = 0
    var trustedIDTokens: [String: String] = [:]  // ID token → organization it may get a token for
    var exchanged: [String] = []  // access tokens issued by the OAuth token exchange, in order
    var scopes: [String: String] = [:]  // token → the one "org/project/env" it may use
  }

  let server = FakeHTTPServer()
  let world = Mutex(World())
  let auth = Mutex<[String]>([])

  /// Creates a fake that accepts the given tokens.
  public init(tokens: Set<String> = ["pul-test-token"]) {
    world.withLock { $0.tokens = tokens }
  }

  /// Starts serving on 127.0.0.1 with a free port.
  public func start() async throws {
    try await server.start { [self] request, _ in self.handle(request) }
  }

  /// Stops serving.
  public func stop() async { await server.stop() }

  /// The API root to configure, `http://127.0.0.1:<port>`.
  public var baseURL: String { "http://127.0.0.1:\(server.port)" }

  /// Trusts an OIDC ID token for one organization, as an OIDC issuer with a matching policy would: the OAuth token
  /// exchange (`POST /api/oauth/token`) gives it a short-lived access token when the audience is
  /// `urn:pulumi:org:ORG` for that organization, and refuses (400) anything else.
  /// - Parameters:
  ///   - idToken: the subject token to accept.
  ///   - organization: the organization its access token is for.
  public func trustIDToken(_ idToken: String, organization: String) {
    world.withLock { $0.trustedIDTokens[idToken] = organization }
  }

  /// The access tokens the OAuth token exchange issued, in order (each is accepted by the API from then on).
  public var exchangedTokens: [String] { world.withLock { $0.exchanged } }

  /// The `Authorization` header values of every request so far, in order (to assert which token was used).
  public var authorizations: [String] { auth.withLock { $0 } }

  /// Scopes a token to one environment, as an environment-scoped Pulumi token: every other path (the
  /// organization's listing included) answers 403 to it. `nil` lifts the scope.
  /// - Parameters:
  ///   - token: the token.
  ///   - environment: `org/project/env`, or `nil`.
  public func scopeToken(_ token: String, to environment: String?) {
    world.withLock { $0.scopes[token] = environment }
  }

  /// Deletes an environment as someone else would.
  public func deleteEnvironment(_ org: String, _ project: String, _ environment: String) throws {
    world.withLock { _ = $0.environments.removeValue(forKey: "\(org)/\(project)/\(environment)") }
  }

  /// Registers an organization.
  public func addOrganization(_ name: String) { _ = world.withLock { $0.organizations.insert(name) } }

  /// Creates or replaces an environment's definition as someone else would; plaintext `fn::secret` values are
  /// encrypted as the service does.
  /// - Parameters:
  ///   - yaml: the definition with plaintext secrets.
  public func setDefinition(_ org: String, _ project: String, _ environment: String, yaml: String) throws {
    let stored = try Self.encrypting(yaml)
    world.withLock { world in
      world.organizations.insert(org)
      world.environments["\(org)/\(project)/\(environment)", default: Environment(revisions: [])].revisions.append(stored)
    }
  }

  /// The stored definition (secrets as ciphertext), or `nil`.
  public func definition(_ org: String, _ project: String, _ environment: String) -> String? {
    world.withLock { $0.environments["\(org)/\(project)/\(environment)"]?.revisions.last }
  }

  /// The definition with secrets in plaintext, or `nil`.
  public func decryptedDefinition(_ org: String, _ project: String, _ environment: String) -> String? {
    definition(org, project, environment).flatMap { try? Self.decrypting($0) }
  }

  /// The current revision number (1 for a new environment), or 0 when it does not exist.
  public func revision(_ org: String, _ project: String, _ environment: String) -> Int {
    world.withLock { $0.environments["\(org)/\(project)/\(environment)"]?.revisions.count ?? 0 }
  }

  /// What `esc open` would export as environment variables: each `values.environmentVariables` entry resolved when
  /// it is `${KEY}` for a string or `fn::secret` string under `values`, or a literal string; `$$` becomes `$`.
  public func environmentVariables(_ org: String, _ project: String, _ environment: String) -> [String: [UInt8]] {
    guard let text = decryptedDefinition(org, project, environment),
      let root = try? Yams.compose(yaml: text, Resolver.basic, Constructor.default, .utf8),
      let values = root.mapping?.first(where: { $0.key.scalar?.string == "values" })?.value.mapping,
      let projections = values.first(where: { $0.key.scalar?.string == "environmentVariables" })?.value.mapping
    else { return [:] }
    func plain(_ node: Node) -> String? {
      if let scalar = node.scalar { return scalar.string }
      if let mapping = node.mapping, mapping.count == 1, let first = mapping.first, first.key.scalar?.string == "fn::secret" {
        return first.value.scalar?.string
      }
      return nil
    }
    var out: [String: [UInt8]] = [:]
    for (key, value) in projections {
      guard let name = key.scalar?.string, let text = value.scalar?.string else { continue }
      var resolved = text
      if text.hasPrefix("${"), text.hasSuffix("}") {
        let reference = String(text.dropFirst(2).dropLast())
        guard let node = values.first(where: { $0.key.scalar?.string == reference })?.value, let found = plain(node) else {
          continue
        }
        resolved = found
      }
      out[name] = Array(resolved.replacingOccurrences(of: "$$", with: "$").utf8)
    }
    return out
  }

  /// Makes the next `count` PATCHes lose a race: just before each, someone else edits the environment, so the
  /// client's ETag is stale and it gets 409.
  public func conflictNextPatches(_ count: Int) { world.withLock { $0.conflictingPatches = count } }

  /// Injects a fault into the next `times` requests that match, after letting `skip` of them through.
  public func inject(_ fault: Fault, method: String? = nil, pathContains: String? = nil, skip: Int = 0, times: Int = 1) {
    server.inject(fault, method: method, pathContains: pathContains, skip: skip, times: times)
  }

  /// Every request handled so far.
  public var requests: [RecordedRequest] { server.state.withLock { $0.log } }

  /// Forgets the request log.
  public func resetLog() { server.state.withLock { $0.log = [] } }

  // MARK: - Wire

  static func etag(_ text: String) -> String {
    var hash: UInt32 = 2_166_136_261
    for byte in text.utf8 {
      hash ^= UInt32(byte)
      hash = hash &* 16_777_619
    }
    return Data(withUnsafeBytes(of: hash.bigEndian) { Array($0) }).base64EncodedString()
  }

  static func error(_ status: Int, _ message: String) -> FakeResponse {
    .json(status, #"{"code":\#(status),"message":"\#(message)"}"#)
  }

  /// `POST /api/oauth/token` (RFC 8693, form-encoded), as Pulumi Cloud's OAuth token exchange.
  func exchange(_ request: FakeRequest) -> FakeResponse {
    func refuse(_ message: String) -> FakeResponse {
      .json(400, #"{"error":"invalid_request","error_description":"\#(message)"}"#)
    }
    guard request.method == "POST" else { return Self.error(405, "Method Not Allowed") }
    guard request.headers["content-type"]?.hasPrefix("application/x-www-form-urlencoded") == true else {
      return refuse("expected a form")
    }
    var form: [String: String] = [:]
    for pair in String(decoding: request.body, as: UTF8.self).split(separator: "&") {
      let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
      guard parts.count == 2 else { return refuse("malformed form") }
      form[String(parts[0]).removingPercentEncoding] = String(parts[1]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
    guard form["grant_type"] == "urn:ietf:params:oauth:grant-type:token-exchange" else { return refuse("unsupported grant_type") }
    guard form["subject_token_type"] == "urn:ietf:params:oauth:token-type:id_token" else {
      return refuse("unsupported subject_token_type")
    }
    guard form["requested_token_type"] == "urn:pulumi:token-type:access_token:organization" else {
      return refuse("unsupported requested_token_type")
    }
    guard let audience = form["audience"], audience.hasPrefix("urn:pulumi:org:") else { return refuse("invalid audience") }
    let organization = String(audience.dropFirst("urn:pulumi:org:".count))
    return world.withLock { world -> FakeResponse in
      guard let subject = form["subject_token"], let trusted = world.trustedIDTokens[subject] else {
        return refuse("the subject token is not trusted")
      }
      guard trusted == organization, world.organizations.contains(organization) else {
        return refuse("invalid audience")
      }
      let token = "pul-oidc-\(world.exchanged.count + 1)-\(organization)"
      world.exchanged.append(token)
      world.tokens.insert(token)
      return .json(
        200,
        #"{"access_token":"\#(token)","issued_token_type":"urn:pulumi:token-type:access_token:organization","token_type":"Bearer","expires_in":7200}"#)
    }
  }

  func handle(_ request: FakeRequest) -> FakeResponse {
    if request.path == "/api/oauth/token" { return exchange(request) }
    let auth = request.headers["authorization"] ?? ""
    self.auth.withLock { $0.append(auth) }
    guard auth.hasPrefix("token "), world.withLock({ $0.tokens.contains(String(auth.dropFirst(6))) }) else {
      return Self.error(401, "Unauthorized: No credentials provided or are invalid.")
    }
    let parts = request.path.split(separator: "/").map(String.init)
    guard parts.count >= 4, parts[0] == "api", parts[1] == "esc", parts[2] == "environments" else {
      return Self.error(404, "Not Found")
    }
    let org = parts[3]
    guard world.withLock({ $0.organizations.contains(org) }) else { return Self.error(404, "Organization not found") }
    if let scope = world.withLock({ $0.scopes[String(auth.dropFirst(6))] }),
      parts.count < 6 || "\(org)/\(parts[4])/\(parts[5])" != scope
    {
      return Self.error(403, "Forbidden")
    }
    if parts.count == 4 {
      switch request.method {
      case "GET":
        let names = world.withLock { world in
          world.environments.keys.filter { $0.hasPrefix(org + "/") }.sorted().map { key -> [String: String] in
            let pieces = key.split(separator: "/").map(String.init)
            return ["organization": pieces[0], "project": pieces[1], "name": pieces[2]]
          }
        }
        let data = (try? JSONSerialization.data(withJSONObject: ["environments": names, "nextToken": ""], options: [.sortedKeys])) ?? Data()
        return FakeResponse(status: 200, headers: [("content-type", "application/json")], body: Array(data))
      case "POST":
        guard let object = try? JSONSerialization.jsonObject(with: Data(request.body)) as? [String: String],
          let project = object["project"], let name = object["name"], !project.isEmpty, !name.isEmpty
        else { return Self.error(400, "project and name are required") }
        let created = world.withLock { world -> Bool in
          let key = "\(org)/\(project)/\(name)"
          guard world.environments[key] == nil else { return false }
          world.environments[key] = Environment(revisions: [""])
          return true
        }
        return created ? FakeResponse(status: 204) : Self.error(409, "Environment already exists")
      default:
        return Self.error(405, "Method Not Allowed")
      }
    }
    guard parts.count >= 6 else { return Self.error(404, "Not Found") }
    let key = "\(org)/\(parts[4])/\(parts[5])"
    let suffix = Array(parts.dropFirst(6))
    guard let current = world.withLock({ $0.environments[key]?.revisions }) else {
      return Self.error(404, "Environment not found")
    }
    let text = current.last ?? ""
    let revisionHeader = ("Pulumi-ESC-Revision", String(current.count))
    switch (request.method, suffix) {
    case ("GET", []), ("HEAD", []):
      return FakeResponse(
        status: 200, headers: [("content-type", "application/x-yaml"), ("etag", Self.etag(text)), revisionHeader],
        body: request.method == "HEAD" ? [] : Array(text.utf8))
    case ("GET", ["decrypt"]):
      guard let plain = try? Self.decrypting(text) else { return Self.error(500, "cannot decrypt") }
      return FakeResponse(status: 200, headers: [("content-type", "application/x-yaml")], body: Array(plain.utf8))
    case ("PATCH", []):
      return patch(request, key: key)
    case ("DELETE", []):
      world.withLock { _ = $0.environments.removeValue(forKey: key) }
      return FakeResponse(status: 204)
    default:
      return Self.error(404, "Not Found")
    }
  }

  func patch(_ request: FakeRequest, key: String) -> FakeResponse {
    guard let yaml = String(validating: request.body, as: UTF8.self) else {
      return .json(400, #"{"diagnostics":[{"summary":"the definition is not UTF-8"}]}"#)
    }
    let stored: String
    do {
      stored = try Self.encrypting(yaml)
    } catch {
      return .json(400, #"{"diagnostics":[{"summary":"invalid YAML","path":""}]}"#)
    }
    return world.withLock { world -> FakeResponse in
      if world.conflictingPatches > 0 {
        world.conflictingPatches -= 1
        world.externalEdits += 1
        let previous = world.environments[key]?.revisions.last ?? ""
        world.environments[key]?.revisions.append(previous + "\n# concurrent edit \(world.externalEdits)\n")
      }
      let current = world.environments[key]?.revisions.last ?? ""
      if let given = request.headers["etag"] ?? request.headers["if-match"], !given.isEmpty, given != Self.etag(current) {
        return Self.error(409, "the environment has been modified")
      }
      world.environments[key]?.revisions.append(stored)
      let revision = world.environments[key]?.revisions.count ?? 0
      return .json(200, #"{"diagnostics":[]}"#, headers: [("Pulumi-ESC-Revision", String(revision))])
    }
  }

  // MARK: - Secrets at rest

  static let builtins: Set<String> = [
    "fn::secret", "fn::join", "fn::concat", "fn::split", "fn::select", "fn::toJSON", "fn::fromJSON", "fn::toString",
    "fn::toBase64", "fn::fromBase64", "fn::final", "fn::validate", "fn::stackReference", "fn::invoke", "fn::open",
  ]

  struct DefinitionError: Error {}

  static func transform(_ yaml: String, _ body: (Node) throws -> Node?) throws -> String {
    guard !yaml.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return yaml }
    guard let root = try Yams.compose(yaml: yaml, Resolver.basic, Constructor.default, .utf8) else { return yaml }
    guard root.mapping != nil else { throw DefinitionError() }
    var changed = false
    func walk(_ node: Node) throws -> Node {
      if let replaced = try body(node) {
        changed = true
        return replaced
      }
      switch node {
      case .mapping(let mapping):
        var pairs: [(Node, Node)] = []
        for (key, value) in mapping {
          if let name = key.scalar?.string, name.hasPrefix("fn::"), !builtins.contains(name),
            !name.hasPrefix("fn::open::"), !name.hasPrefix("fn::rotate::")
          {
            throw DefinitionError()
          }
          pairs.append((key, try walk(value)))
        }
        return .mapping(Node.Mapping(pairs, mapping.tag, mapping.style))
      case .sequence(let sequence):
        return .sequence(Node.Sequence(try sequence.map(walk), sequence.tag, sequence.style))
      default:
        return node
      }
    }
    let result = try walk(root)
    return changed ? try Yams.serialize(node: result, indent: 2, width: -1, allowUnicode: true) : yaml
  }

  /// Encrypts every plaintext `fn::secret` string.
  static func encrypting(_ yaml: String) throws -> String {
    try transform(yaml) { node in
      guard let mapping = node.mapping, mapping.count == 1, let first = mapping.first,
        first.key.scalar?.string == "fn::secret", let plain = first.value.scalar?.string
      else { return nil }
      let ciphertext = Node.mapping(Node.Mapping([(Node("ciphertext"), Node(envelope(Array(plain.utf8))))]))
      return .mapping(Node.Mapping([(Node("fn::secret"), ciphertext)]))
    }
  }

  /// Replaces every `fn::secret: {ciphertext: …}` with its plaintext.
  static func decrypting(_ yaml: String) throws -> String {
    try transform(yaml) { node in
      guard let mapping = node.mapping, mapping.count == 1, let first = mapping.first,
        first.key.scalar?.string == "fn::secret", let inner = first.value.mapping,
        let sealed = inner.first(where: { $0.key.scalar?.string == "ciphertext" })?.value.scalar?.string,
        let plain = open(sealed)
      else { return nil }
      return .mapping(Node.Mapping([(Node("fn::secret"), Node(String(decoding: plain, as: UTF8.self), Tag(.str), .doubleQuoted))]))
    }
  }

  /// `base64("escx" ‖ u32be(1) ‖ rot128(plaintext) ‖ u32be(crc32(all before)))`.
  static func envelope(_ plaintext: [UInt8]) -> String {
    var bytes = Array("escx".utf8) + [0, 0, 0, 1] + plaintext.map { $0 &+ 128 }
    let crc = crc32(bytes)
    bytes += [UInt8(crc >> 24), UInt8((crc >> 16) & 0xFF), UInt8((crc >> 8) & 0xFF), UInt8(crc & 0xFF)]
    return Data(bytes).base64EncodedString()
  }

  static func open(_ text: String) -> [UInt8]? {
    guard let data = Data(base64Encoded: text), data.count >= 12 else { return nil }
    let bytes = Array(data)
    guard Array(bytes[0..<4]) == Array("escx".utf8) else { return nil }
    let body = Array(bytes[..<(bytes.count - 4)])
    let crc = crc32(body)
    let tail = bytes.suffix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    guard crc == tail else { return nil }
    return body.dropFirst(8).map { $0 &- 128 }
  }

  static func crc32(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
      crc ^= UInt32(byte)
      for _ in 0..<8 { crc = (crc >> 1) ^ (0xEDB8_8320 & (0 &- (crc & 1))) }
    }
    return ~crc
  }
}
