import CofferCore
import CofferSync
import CofferSystem
import CofferTesting
import HTTPTypes
import Synchronization
import Testing

/// Records ``RemoteClient/Retry`` events.
final class RetryRecorder: Sendable {
  let events = Mutex<[RemoteClient.Retry]>([])
  var recorded: [RemoteClient.Retry] { events.withLock { $0 } }
}

/// A client with the documented default policy (5 tries), recorded waits and recorded retry events.
func defaultPolicyClient(_ harness: Harness, _ retries: RetryRecorder) -> RemoteClient {
  let sleeper = harness.sleeper
  return RemoteClient(
    transport: harness.transport, policy: RetryPolicy(), timeout: .seconds(120), sleep: { await sleeper.sleep($0) },
    now: { 1_750_000_000 }, jitter: { 0.5 }, onRetry: { event in retries.events.withLock { $0.append(event) } })
}

/// docs/sync.md, *Failures, retries, concurrency*: up to 5 tries; a 429 waits `retry-after` seconds. Waits are
/// recorded, never slept.
@Suite struct RetryDocumentationTests {
  func github(_ fake: FakeGitHub, _ harness: Harness, _ retries: RetryRecorder) -> GitHubDestination {
    GitHubDestination(
      name: "gh", scope: .repository(owner: "acme", repo: "api"), base: BaseURL(fake.baseURL)!, token: "test-token",
      tokenSource: "GITHUB_TOKEN", client: defaultPolicyClient(harness, retries), maxConcurrentWrites: 1)
  }

  func withFake(_ body: (FakeGitHub, Harness) async throws -> Void) async throws {
    let fake = FakeGitHub()
    fake.addRepository("acme/api")
    try await withStarted(fake, body)
  }

  @Test func retryAfterOneIsHonouredForFiveTriesThenReported() async throws {
    try await withFake { fake, harness in
      let retries = RetryRecorder()
      fake.inject(.tooManyRequests(retryAfter: 1), method: "PUT", times: 10)
      let (_, report) = await sync(github(fake, harness, retries), input([item("A", "a")]))
      #expect(fake.requests.filter { $0.method == "PUT" }.map(\.status) == [429, 429, 429, 429, 429])
      #expect(harness.sleeper.recorded == [.seconds(1), .seconds(1), .seconds(1), .seconds(1)])
      #expect(retries.recorded.map(\.nextAttempt) == [2, 3, 4, 5])
      #expect(retries.recorded.allSatisfy { $0.status == 429 && $0.maxAttempts == 5 && $0.request == "PUT /repos/acme/api/actions/secrets/A" })
      #expect(report.outcome(of: "A") == .failed("PUT /repos/acme/api/actions/secrets/A: 429 Too Many Requests"))
    }
  }

  @Test func retryAfterOneTwiceThenSuccess() async throws {
    try await withFake { fake, harness in
      let retries = RetryRecorder()
      fake.inject(.tooManyRequests(retryAfter: 1), method: "PUT", times: 2)
      let (_, report) = await sync(github(fake, harness, retries), input([item("A", "a")]))
      #expect(fake.requests.filter { $0.method == "PUT" }.map(\.status) == [429, 429, 201])
      #expect(harness.sleeper.recorded == [.seconds(1), .seconds(1)])
      #expect(report.outcome(of: "A") == .done)
    }
  }

  @Test func retryAfterZeroRetriesAtOnce() async throws {
    try await withFake { fake, harness in
      let retries = RetryRecorder()
      fake.inject(.tooManyRequests(retryAfter: 0), method: "PUT", times: 1)
      let (_, report) = await sync(github(fake, harness, retries), input([item("A", "a")]))
      #expect(fake.requests.filter { $0.method == "PUT" }.map(\.status) == [429, 201])
      #expect(harness.sleeper.recorded == [.zero])
      #expect(report.outcome(of: "A") == .done)
    }
  }

  @Test func retryAfterOverFifteenMinutesIsNotWaited() async throws {
    try await withFake { fake, harness in
      let retries = RetryRecorder()
      fake.inject(.tooManyRequests(retryAfter: 901), method: "PUT", times: 1)
      let (_, report) = await sync(github(fake, harness, retries), input([item("A", "a")]))
      #expect(fake.requests.filter { $0.method == "PUT" }.map(\.status) == [429])
      #expect(harness.sleeper.recorded == [])
      #expect(retries.recorded == [])
      #expect(report.outcome(of: "A") == .failed("PUT /repos/acme/api/actions/secrets/A: 429 Too Many Requests"))
    }
  }

  @Test func retryAfterSevenOnAListingIsHonoured() async throws {
    try await withFake { fake, harness in
      let retries = RetryRecorder()
      fake.inject(.tooManyRequests(retryAfter: 7), method: "GET", pathContains: "/actions/secrets", times: 1)
      let (plan, _) = await sync(github(fake, harness, retries), input([item("A", "a")]))
      #expect(plan.failure == nil)
      #expect(harness.sleeper.recorded == [.seconds(7)])
      #expect(retries.recorded == [
        RemoteClient.Retry(request: "GET /repos/acme/api/actions/secrets", status: 429, wait: .seconds(7), nextAttempt: 2, maxAttempts: 5)
      ])
    }
  }

  @Test func serverErrorsBackOffExponentiallyForFiveTries() async throws {
    try await withFake { fake, harness in
      let retries = RetryRecorder()
      fake.inject(.serverError, method: "PUT", times: 10)
      _ = await sync(github(fake, harness, retries), input([item("A", "a")]))
      #expect(fake.requests.filter { $0.method == "PUT" }.count == 5)
      // 1, 2, 4, 8 s with equal jitter at 0.5: three quarters of each.
      #expect(harness.sleeper.recorded == [.milliseconds(750), .milliseconds(1500), .seconds(3), .seconds(6)])
    }
  }
}

/// `auth: oidc`: the job's GitHub OIDC token exchanged for a short-lived Pulumi token, against both fakes.
@Suite struct OIDCExchangeTests {
  static let requestToken = "actions-request-token-canary-1"

  func withFakes(_ body: (FakeActionsOIDC, FakePulumiESC, Harness) async throws -> Void) async throws {
    let oidc = FakeActionsOIDC(requestToken: Self.requestToken)
    let esc = FakePulumiESC(tokens: [])
    esc.addOrganization("acme")
    esc.addOrganization("other")
    try await oidc.start()
    do {
      try await withStarted(esc) { esc, harness in try await body(oidc, esc, harness) }
    } catch {
      await oidc.stop()
      throw error
    }
    await oidc.stop()
  }

  @Test func theJobTokenIsExchangedAndTheExchangedTokenIsUsed() async throws {
    try await withFakes { oidc, esc, harness in
      let client = harness.client()
      let audience = OIDCExchange.pulumiAudience("acme")
      #expect(audience == "urn:pulumi:org:acme")
      esc.trustIDToken(oidc.idToken(audience: audience), organization: "acme")
      let idToken = try await OIDCExchange.githubIDToken(
        requestURL: oidc.requestURL, requestToken: Self.requestToken, audience: audience, client: client)
      #expect(idToken == oidc.idToken(audience: "urn:pulumi:org:acme"))
      #expect(oidc.requestedAudiences == ["urn:pulumi:org:acme"])
      let token = try await OIDCExchange.pulumiAccessToken(
        idToken: idToken, organization: "acme", base: BaseURL(esc.baseURL)!, client: client)
      #expect(token == "pul-oidc-1-acme")
      #expect(esc.exchangedTokens == ["pul-oidc-1-acme"])
      let destination = PulumiESCDestination(
        name: "esc", organization: "acme", project: "default", environment: "prod", base: BaseURL(esc.baseURL)!,
        token: token, tokenSource: "the OIDC token exchange", client: client)
      let (_, report) = await sync(destination, input([item("API_KEY", "sk-1")]))
      #expect(!report.hasFailures)
      #expect(esc.environmentVariables("acme", "default", "prod")["API_KEY"] == Array("sk-1".utf8))
      #expect(!esc.authorizations.isEmpty)
      #expect(esc.authorizations.allSatisfy { $0 == "token pul-oidc-1-acme" })
    }
  }

  @Test func aWrongBearerIsRefusedByTheRunner() async throws {
    try await withFakes { oidc, _, harness in
      do throws(SyncError) {
        _ = try await OIDCExchange.githubIDToken(
          requestURL: oidc.requestURL, requestToken: "wrong", audience: "urn:pulumi:org:acme", client: harness.client())
        Issue.record("expected a refusal")
      } catch {
        #expect(error.code == .accessDenied)
        #expect(error.description == "the GitHub Actions OIDC token request (GET /_apis/pipelines/idtoken) answered 401")
        #expect(error.hints == ["the job needs `permissions: id-token: write`"])
      }
    }
  }

  /// A token trusted for `acme` asked for another organization's audience, and neighbours: an untrusted token, an
  /// unknown organization, an audience that is not a Pulumi organization URN.
  @Test(arguments: [
    ("other", true), ("acme", false), ("nobody", true),
  ])
  func aRefusedAudienceIsAClearErrorWithoutTheToken(organization: String, trusted: Bool) async throws {
    try await withFakes { oidc, esc, harness in
      let idToken = oidc.idToken(audience: "urn:pulumi:org:acme")
      if trusted { esc.trustIDToken(idToken, organization: "acme") }
      do throws(SyncError) {
        _ = try await OIDCExchange.pulumiAccessToken(
          idToken: idToken, organization: organization, base: BaseURL(esc.baseURL)!, client: harness.client())
        Issue.record("expected a refusal")
      } catch {
        #expect(error.code == .accessDenied)
        #expect(error.description
          == "Pulumi Cloud refused the OIDC token exchange for audience urn:pulumi:org:\(organization) (POST /api/oauth/token: 400)")
        #expect(!error.description.contains(idToken))
        #expect(!error.hints.joined().contains(idToken))
      }
      #expect(esc.exchangedTokens == [])
    }
  }

  @Test func theFakeRefusesAnAudienceThatIsNotAnOrganizationURN() async throws {
    try await withFakes { oidc, esc, harness in
      let idToken = oidc.idToken(audience: "urn:pulumi:org:acme")
      esc.trustIDToken(idToken, organization: "acme")
      // The right token, sent for the audience "acme" (not urn:pulumi:org:acme), through the wire directly.
      var fields = HTTPFields()
      fields[.contentType] = "application/x-www-form-urlencoded"
      let request = BaseURL(esc.baseURL)!.request(.post, "/api/oauth/token", headers: fields)
      let body = "audience=acme&grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange"
        + "&subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aid_token"
        + "&requested_token_type=urn%3Apulumi%3Atoken-type%3Aaccess_token%3Aorganization&subject_token=" + idToken
      let response = try await harness.client().send(request, body: Array(body.utf8), retrying: false)
      #expect(response.status == 400)
      #expect(String(decoding: response.body, as: UTF8.self) == #"{"error":"invalid_request","error_description":"invalid audience"}"#)
      #expect(esc.exchangedTokens == [])
    }
  }
}

/// One source per destination: `sync --from-env` does not replace a value the vault wrote more recently.
@Suite struct FromEnvGuardTests {
  @Test func aValueTheVaultWroteIsNotReplacedFromTheEnvironment() async throws {
    let fake = FakePulumiESC()
    fake.addOrganization("acme")
    try await withStarted(fake) { fake, harness in
      let destination = harness.esc(fake)
      // The vault writes A and B.
      let (_, vault) = await sync(destination, input([item("A", "rotated"), item("B", "b1")]))
      #expect(!vault.hasFailures)
      // The environment has an older A, the same B, and a new C.
      var fromEnv = input([item("A", "old"), item("B", "b1"), item("C", "c1")], state: vault.state)
      fromEnv.origin = .environment
      let (plan, report) = await sync(destination, fromEnv)
      #expect(plan.changes == [
        PlannedChange("A", .secret, .blocked, reason: SyncInput.vaultWroteLaterReason),
        PlannedChange("B", .secret, .unchanged),
        PlannedChange("C", .secret, .create),
      ])
      #expect(!report.hasFailures)
      #expect(fake.environmentVariables("acme", "default", "prod")["A"] == Array("rotated".utf8))
      #expect(fake.environmentVariables("acme", "default", "prod")["C"] == Array("c1".utf8))
    }
  }

  @Test func guardedDecisions() {
    var state = DestinationState()
    state.set("VAULT", .secret, DestinationState.Record(fingerprint: "f"))
    state.set("EXPLICIT", .secret, DestinationState.Record(fingerprint: "f", origin: "vault"))
    state.set("ENV", .secret, DestinationState.Record(fingerprint: "f", origin: "environment"))
    var env = SyncInput(items: [], state: state, prune: false, fingerprint: testFingerprint, origin: .environment)
    let blocked = PlannedChange("VAULT", .secret, .blocked, reason: SyncInput.vaultWroteLaterReason)
    #expect(env.guarded(PlannedChange("VAULT", .secret, .update)) == blocked)
    #expect(env.guarded(PlannedChange("VAULT", .secret, .drifted, reason: "x")) == blocked)
    #expect(env.guarded(PlannedChange("EXPLICIT", .secret, .update)).action == .blocked)
    #expect(env.guarded(PlannedChange("ENV", .secret, .update)) == PlannedChange("ENV", .secret, .update))
    #expect(env.guarded(PlannedChange("NEW", .secret, .update)) == PlannedChange("NEW", .secret, .update))
    #expect(env.guarded(PlannedChange("VAULT", .secret, .unchanged)) == PlannedChange("VAULT", .secret, .unchanged))
    #expect(env.guarded(PlannedChange("VAULT", .variable, .update)) == PlannedChange("VAULT", .variable, .update))
    env.origin = .vault
    #expect(env.guarded(PlannedChange("VAULT", .secret, .update)) == PlannedChange("VAULT", .secret, .update))
  }
}

/// `coffer doctor` for ESC checks what sync needs: the environment itself, not the organization's listing.
@Suite struct ESCDoctorTests {
  @Test func aTokenScopedToOneEnvironmentPasses() async throws {
    let fake = FakePulumiESC()
    fake.addOrganization("acme")
    try await withStarted(fake) { fake, harness in
      try fake.setDefinition("acme", "default", "prod", yaml: "values:\n  A: b\n")
      try fake.setDefinition("acme", "default", "other", yaml: "values:\n  A: b\n")
      // The token may use acme/default/prod only: the organization's listing is forbidden to it.
      fake.scopeToken("pul-test-token", to: "acme/default/prod")
      let checks = await harness.esc(fake).diagnose()
      #expect(checks.map(\.check) == ["token present", "authenticates", "has permission", "definition readable"])
      #expect(checks.map(\.status) == [.ok, .ok, .ok, .ok])
      #expect(checks[2].detail == "can read acme/default/prod")
      #expect(!fake.requests.contains { $0.path == "/api/esc/environments/acme" })
      #expect(fake.requests.map(\.path) == ["/api/esc/environments/acme/default/prod", "/api/esc/environments/acme/default/prod/decrypt"])
    }
  }

  /// Neighbours: a token scoped to another environment fails "has permission" (403) and skips the rest; a bad
  /// token fails "authenticates"; a missing environment passes (sync creates it).
  @Test func otherAnswersAreReportedForWhatSyncNeeds() async throws {
    let fake = FakePulumiESC()
    fake.addOrganization("acme")
    try await withStarted(fake) { fake, harness in
      try fake.setDefinition("acme", "default", "prod", yaml: "values:\n  A: b\n")
      fake.scopeToken("pul-test-token", to: "acme/default/other")
      let scoped = await harness.esc(fake).diagnose()
      #expect(scoped.map(\.status) == [.ok, .ok, .failed, .skipped])
      #expect(scoped[2].detail == "GET /api/esc/environments/acme/default/prod: 403")
      #expect(scoped[2].fix == "give the token read and write access to acme/default/prod")
      let wrong = await harness.esc(fake, token: "pul-wrong").diagnose()
      #expect(wrong.map(\.status) == [.ok, .failed, .skipped, .skipped])
      fake.scopeToken("pul-test-token", to: nil)
      try fake.deleteEnvironment("acme", "default", "prod")
      let missing = await harness.esc(fake).diagnose()
      #expect(missing.map(\.status) == [.ok, .ok, .ok, .ok])
      #expect(missing[3].detail
        == "the environment does not exist yet; sync creates it (the token needs permission to create environments in acme)")
    }
  }
}

/// The new destination fields: `source`, `auth`, `allow_custom_api_url`; and errors at the offending node.
@Suite struct DestinationSourceFieldTests {
  let header = "version: 1\nproject: p\nenvironments: [production]\ndestinations:\n"

  func decode(_ text: String) throws -> [DestinationSpec] {
    try Manifest.decodeDestinations(Array((header + text).utf8), file: "coffer.yaml")
  }

  func failure(_ text: String) -> String {
    do {
      _ = try decode(text)
      return "no error"
    } catch {
      return (error as? ManifestError)?.description ?? "\(error)"
    }
  }

  @Test func decodesSourceAuthAndTheCustomURLAllowance() throws {
    let specs = try decode("""
        mirror: { type: pulumi-esc, organization: acme, environment: m, from: production, source: github, auth: oidc }
        own: { type: pulumi-esc, organization: acme, environment: p, from: production, api_url: "https://pulumi.example.com", allow_custom_api_url: true }
        gh: { type: github, repository: acme/api, from: production, api_url: "https://api.github.com/" }

      """)
    #expect(specs.map(\.source) == [.github, .vault, .vault])
    #expect(specs.map(\.auth) == [.oidc, .token, .token])
    #expect(specs.map(\.allowCustomAPIURL) == [false, true, false])
    #expect(specs.map(\.hasCustomAPIURL) == [false, true, false])
  }

  @Test(arguments: [
    ("  a: { type: pulumi-esc, organization: o, environment: e, from: production, source: gitlab }",
     "coffer.yaml:5:85: destinations.a.source: expected vault or github"),
    ("  a: { type: pulumi-esc, organization: o, environment: e, from: production, auth: password }",
     "coffer.yaml:5:83: destinations.a.auth: expected token or oidc"),
    ("  a: { type: pulumi-esc, organization: o, environment: e, from: production, allow_custom_api_url: yes }",
     "coffer.yaml:5:99: destinations.a.allow_custom_api_url: expected true or false"),
    ("  a: { type: github, repository: o/r, from: production, source: github }",
     "coffer.yaml:5:57: destinations.a.source: unknown field"),
    ("  a: { type: dotenv, path: x.env, from: production, auth: oidc }",
     "coffer.yaml:5:53: destinations.a.auth: unknown field"),
  ])
  func badValuesAreRefusedWhereTheyAre(text: String, message: String) {
    #expect(failure(text + "\n").hasPrefix(message))
  }
}

/// The stale marker's sequence: a marking after a sync read the counter stays, even within the same second.
@Suite struct StaleSequenceTests {
  @Test func markingsAfterTheReadStay() throws {
    let second = Timestamp(rfc3339: "2026-03-01T10:00:00Z")!
    var state = StaleDestinations()
    state.markStale("production", secrets: ["A"], at: second)
    let read = state.sequence  // a sync reads the counter, then the values
    state.markStale("production", secrets: ["B"], at: second)  // a rotation while it runs, same second
    state.markStale("staging", secrets: ["C"], at: second)
    #expect(state.sequence == 3)
    let early = state.clear("production", ifMarkedBy: read)
    #expect(!early)
    let late = state.clear("production", ifMarkedBy: state.sequence)
    #expect(late)
    #expect(state.environments["production"] == nil)
    let again = state.clear("production", ifMarkedBy: 99)
    #expect(!again)
    // The counter never goes down, also after clearing.
    state.markStale("production", secrets: ["D"], at: second)
    #expect(state.environments["production"]?.sequence == 4)
    #expect(String(decoding: state.encoded(), as: UTF8.self) == """
      {"version":1,"sequence":4,"environments":{"production":{"stale_since":"2026-03-01T10:00:00Z","secrets":["D"],"sequence":4},"staging":{"stale_since":"2026-03-01T10:00:00Z","secrets":["C"],"sequence":3}}}

      """)
    #expect(try StaleDestinations.decode(state.encoded(), file: "stale.json") == state)
  }

  @Test func olderFilesReadAsSequenceZero() throws {
    let old = #"{"version":1,"environments":{"production":{"stale_since":"2026-02-01T00:00:00Z","secrets":["API_KEY"]}}}"#
    let state = try StaleDestinations.decode(Array(old.utf8), file: "stale.json")
    #expect(state.sequence == 0)
    #expect(state.environments["production"]?.sequence == 0)
    for bad in [#"{"version":1,"sequence":-1,"environments":{}}"#, #"{"version":1,"sequence":"1","environments":{}}"#] {
      #expect(throws: SystemError.self) { try StaleDestinations.decode(Array(bad.utf8), file: "stale.json") }
    }
  }
}
