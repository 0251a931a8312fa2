import CofferCore
import CofferSync
import CofferTesting
import Foundation
import Testing

/// GitHub destination against the in-process fake GitHub, over real HTTP on 127.0.0.1.
@Suite struct GitHubSyncTests {
  func withFake(
    environments: [String] = ["production"], _ body: (FakeGitHub, Harness) async throws -> Void
  ) async throws {
    let fake = FakeGitHub()
    fake.addRepository("acme/api", environments: environments)
    fake.addRepository("acme/web")
    fake.addOrganization("acme")
    try await withStarted(fake, body)
  }

  static let tricky: [(String, [UInt8])] = [
    ("MULTILINE", Array("-----BEGIN KEY-----\nabc\ndef\n-----END KEY-----\n".utf8)),
    ("QUOTES", Array(#"he said "hi" and 'bye' \n not a newline"#.utf8)),
    ("DOLLARS", Array("pa$$word ${HOME} $(whoami) `id`".utf8)),
    ("UNICODE", Array("Grüße 世界 🔐 \u{200B}".utf8)),
    ("TRAILING_NEWLINES", Array("value\r\n\n".utf8)),
    ("EMPTY", []),
    ("MAX_SIZE", [UInt8](repeating: 0x7A, count: 49_152)),
  ]

  @Test func valuesArriveByteExactAndASecondSyncMakesNoWrites() async throws {
    try await withFake { fake, harness in
      let destination = harness.github(fake)
      let items = Self.tricky.map { item($0.0, bytes: $0.1) }
      let (plan, report) = await sync(destination, input(items))
      #expect(plan.failure == nil)
      #expect(plan.changes.map(\.action) == Array(repeating: .create, count: items.count))
      #expect(!report.hasFailures)
      for (name, bytes) in Self.tricky {
        #expect(fake.secret(name, in: .repository("acme/api"))?.value == bytes, "\(name)")
      }
      // 201 for every create, public key fetched once.
      #expect(fake.requests.filter { $0.method == "PUT" }.map(\.status) == Array(repeating: 201, count: items.count))
      #expect(fake.requests.filter { $0.path.hasSuffix("/public-key") }.count == 1)
      // Every record has the remote updated_at.
      #expect(report.state.secrets.count == items.count)
      #expect(report.state.secrets.values.allSatisfy { $0.remoteUpdatedAt != nil })

      fake.resetLog()
      let (again, secondReport) = await sync(destination, input(items, state: report.state))
      #expect(again.changes.map(\.action) == Array(repeating: .unchanged, count: items.count))
      #expect(fake.writeCount == 0)
      #expect(fake.requests.map(\.method) == ["GET"])  // one listing page
      #expect(secondReport.state == report.state)
    }
  }

  @Test func updatesAre204AndChangedValuesOnly() async throws {
    try await withFake { fake, harness in
      let destination = harness.github(fake)
      let first = await sync(destination, input([item("A", "1"), item("B", "2")])).1
      fake.resetLog()
      let (plan, report) = await sync(destination, input([item("A", "1"), item("B", "3")], state: first.state))
      #expect(plan.action(of: "A") == .unchanged)
      #expect(plan.action(of: "B") == .update)
      #expect(report.outcome(of: "B") == .done)
      #expect(fake.requests.filter { $0.method == "PUT" }.map(\.status) == [204])
      #expect(fake.secret("B", in: .repository("acme/api"))?.value == Array("3".utf8))
    }
  }

  @Test func unknownRemoteValueIsUpdatedOnce() async throws {
    try await withFake { fake, harness in
      fake.setSecret("A", Array("old".utf8), in: .repository("acme/api"))
      let destination = harness.github(fake)
      let (plan, report) = await sync(destination, input([item("A", "new")]))
      #expect(plan.changes == [PlannedChange("A", .secret, .update, reason: "no record of the value at the destination")])
      #expect(fake.secret("A", in: .repository("acme/api"))?.value == Array("new".utf8))
      let (again, _) = await sync(destination, input([item("A", "new")], state: report.state))
      #expect(again.action(of: "A") == .unchanged)
    }
  }

  @Test func driftIsDetectedAndRestored() async throws {
    try await withFake { fake, harness in
      let destination = harness.github(fake)
      let first = await sync(destination, input([item("A", "mine"), item("B", "b")])).1
      fake.setSecret("A", Array("someone else's".utf8), in: .repository("acme/api"))
      let plan = await destination.plan(input([item("A", "mine"), item("B", "b")], state: first.state))
      #expect(plan.action(of: "A") == .drifted)
      #expect(plan.action(of: "B") == .unchanged)
      #expect(plan.changes.first?.reason?.hasPrefix("updated at the destination 2025-") == true)
      let report = await destination.apply(plan, input([item("A", "mine"), item("B", "b")], state: first.state), progress: { _ in })
      #expect(report.outcome(of: "A") == .done)
      #expect(fake.secret("A", in: .repository("acme/api"))?.value == Array("mine".utf8))
      let after = await destination.plan(input([item("A", "mine"), item("B", "b")], state: report.state))
      #expect(after.changes.allSatisfy { $0.action == .unchanged })
    }
  }

  @Test func blockedNamesAreReportedAndTheRestProceed() async throws {
    try await withFake { fake, harness in
      let destination = harness.github(fake)
      let items = [
        item("GOOD_KEY", "x"), item("go-version", "1.22"), item("9LIVES", "y"), item("GITHUB_TOKEN_X", "z"),
        item("github_lower", "w"), item("Good_Key", "dup"), item("TOO_BIG", String(repeating: "a", count: 49_153)),
      ]
      let (plan, report) = await sync(destination, input(items))
      #expect(plan.action(of: "GOOD_KEY") == .create)
      let blocked = Dictionary(uniqueKeysWithValues: plan.changes.filter { $0.action == .blocked }.map { ($0.name, $0.reason ?? "") })
      #expect(
        blocked == [
          "go-version": "name contains '-'; GitHub allows only letters, digits and _",
          "9LIVES": "name starts with a digit, which GitHub does not allow",
          "GITHUB_TOKEN_X": "name starts with GITHUB_, which GitHub reserves",
          "github_lower": "name starts with GITHUB_, which GitHub reserves",
          "Good_Key": "name equals GOOD_KEY ignoring case; GitHub names are not case-sensitive",
          "TOO_BIG": "value is 49153 bytes; GitHub allows at most 49152",
        ])
      #expect(!report.hasFailures)
      #expect(fake.secretNames(in: .repository("acme/api")) == ["GOOD_KEY"])
      #expect(fake.requests.filter { $0.method == "PUT" }.count == 1)
    }
  }

  @Test func countLimitBlocksOnlyTheOverflow() async throws {
    try await withFake { fake, harness in
      for index in 0..<98 { fake.setSecret(String(format: "OLD_%03d", index), [1], in: .repository("acme/api")) }
      let items = ["A", "B", "C", "OLD_000"].map { item($0, "v") }
      let plan = await harness.github(fake).plan(input(items))
      #expect(plan.action(of: "A") == .create)
      #expect(plan.action(of: "B") == .create)
      #expect(plan.action(of: "C") == .blocked)
      #expect(plan.changes.first { $0.name == "C" }?.reason == "the repository would hold more than 100 secrets")
      #expect(plan.action(of: "OLD_000") == .update)
    }
  }

  @Test func paginationAndPrune() async throws {
    try await withFake { fake, harness in
      for index in 0..<250 { fake.setSecret(String(format: "S_%03d", index), [1], in: .organization("acme")) }
      let destination = harness.github(fake, scope: .organization(org: "acme", visibility: "private", repositories: []))
      let keep = (0..<5).map { item(String(format: "S_%03d", $0), "v") }
      fake.resetLog()
      let (plan, report) = await sync(destination, input(keep, prune: true))
      let listings = fake.requests.filter { $0.method == "GET" && $0.path == "/orgs/acme/actions/secrets" }
      #expect(listings.count == 4)  // 3 pages before; 1 page after (timestamps of the 5 kept)
      #expect(plan.count(.delete) == 245)
      #expect(plan.count(.update) == 5)
      #expect(!report.hasFailures)
      #expect(fake.secretNames(in: .organization("acme")) == keep.map(\.name))
      #expect(fake.secret("S_000", in: .organization("acme"))?.visibility == "private")
      #expect(fake.maxConcurrentRequests <= 4)
    }
  }

  @Test func failedListingWithPruneDeletesNothing() async throws {
    try await withFake { fake, harness in
      for index in 0..<150 { fake.setSecret(String(format: "S_%03d", index), [1], in: .repository("acme/web")) }
      // The second page keeps failing (F30): retries run out.
      fake.inject(.tooManyRequests(retryAfter: 2), method: "GET", pathContains: "/actions/secrets", skip: 1, times: 1)
      fake.inject(.serverError, method: "GET", pathContains: "/actions/secrets", skip: 1, times: 100)
      let destination = harness.github(fake, scope: .repository(owner: "acme", repo: "web"), attempts: 3)
      let (plan, report) = await sync(destination, input([item("S_000", "v")], prune: true))
      #expect(plan.failure?.hasPrefix("cannot list secrets: GET /repos/acme/web/actions/secrets: 500") == true)
      #expect(plan.writes.isEmpty)
      #expect(report.hasFailures)
      #expect(fake.writeCount == 0)
      #expect(fake.secretNames(in: .repository("acme/web")).count == 150)
      // Page 1 arrived; page 2 got 429 (retry-after honoured), then 500 with exponential backoff and equal jitter
      // (jitter 0.5 → 3/4 of the 2 s delay), then retries ran out.
      #expect(harness.sleeper.recorded == [.seconds(2), .milliseconds(1500)])
      #expect(fake.requests.filter { $0.method == "GET" }.map(\.status) == [200, 429, 500, 500])
    }
  }

  @Test func partialFailureReportsPerSecretAndARerunConverges() async throws {
    try await withFake { fake, harness in
      let destination = harness.github(fake, attempts: 2)
      let items = ["A", "B", "C", "D"].map { item($0, "value-\($0)") }
      fake.inject(.serverError, method: "PUT", pathContains: "/secrets/B", times: 2)
      fake.inject(.serverError, method: "PUT", pathContains: "/secrets/D", times: 2)
      let (_, report) = await sync(destination, input(items))
      #expect(report.outcome(of: "A") == .done)
      #expect(report.outcome(of: "B") == .failed("PUT /repos/acme/api/actions/secrets/B: 500 Server Error"))
      #expect(report.outcome(of: "C") == .done)
      #expect(report.outcome(of: "D") == .failed("PUT /repos/acme/api/actions/secrets/D: 500 Server Error"))
      #expect(Set(report.state.secrets.keys) == ["A", "C"])
      fake.resetLog()
      let (plan, rerun) = await sync(destination, input(items, state: report.state))
      #expect(plan.writes.map(\.name) == ["B", "D"])
      #expect(!rerun.hasFailures)
      #expect(
        fake.requests.filter { $0.method == "PUT" }.map(\.path).sorted()
          == ["/repos/acme/api/actions/secrets/B", "/repos/acme/api/actions/secrets/D"])
      for name in ["A", "B", "C", "D"] {
        #expect(fake.secret(name, in: .repository("acme/api"))?.value == Array("value-\(name)".utf8))
      }
    }
  }

  @Test func rateLimitsAreHonoured() async throws {
    try await withFake { fake, harness in
      fake.inject(.secondaryRateLimit(retryAfter: 30), method: "PUT", times: 1)
      fake.inject(.secondaryRateLimit(retryAfter: nil), method: "PUT", times: 1)
      fake.inject(.primaryRateLimit(resetAt: 1_750_000_120), method: "PUT", times: 1)
      let (_, report) = await sync(harness.github(fake, concurrency: 1), input([item("A", "a")]))
      #expect(!report.hasFailures)
      #expect(harness.sleeper.recorded == [.seconds(30), .seconds(60), .seconds(121)])
      #expect(fake.secret("A", in: .repository("acme/api"))?.value == Array("a".utf8))
    }
  }

  @Test func hungAndResetConnectionsAreRetried() async throws {
    try await withFake { fake, harness in
      fake.inject(.hang, method: "PUT", times: 1)
      fake.inject(.reset, method: "PUT", times: 1)
      // The hang costs one real timeout; a loaded machine may time out other requests too, hence >= below.
      let destination = harness.github(fake, timeout: .milliseconds(500), concurrency: 1)
      let (_, report) = await sync(destination, input([item("A", "a")]))
      #expect(!report.hasFailures)
      #expect(harness.sleeper.recorded.count >= 2)
      #expect(Array(fake.requests.filter { $0.method == "PUT" }.map(\.status).prefix(3)) == [0, 0, 201])
      #expect(fake.secret("A", in: .repository("acme/api"))?.value == Array("a".utf8))
    }
  }

  @Test func staleKeyIDIsRefetchedOnce() async throws {
    try await withFake { fake, harness in
      let before = fake.keyID(.repository("acme/api"))
      fake.inject(.rotateKey, method: "PUT", times: 1)
      let (_, report) = await sync(harness.github(fake, concurrency: 1), input([item("A", "a"), item("B", "b")]))
      #expect(!report.hasFailures)
      #expect(fake.keyID(.repository("acme/api")) != before)
      #expect(fake.requests.filter { $0.path.hasSuffix("/public-key") }.count == 2)
      #expect(fake.requests.filter { $0.method == "PUT" }.map(\.status) == [422, 201, 201])
    }
  }

  @Test func environmentAndOrganizationScopesAndVariables() async throws {
    try await withFake { fake, harness in
      let env = harness.github(fake, scope: .environment(owner: "acme", repo: "api", environment: "production"))
      let (_, envReport) = await sync(env, input([item("TOKEN", "t"), item("LOG_LEVEL", "debug", .variable)]))
      #expect(!envReport.hasFailures)
      #expect(fake.secret("TOKEN", in: .environment("acme/api", "production"))?.value == Array("t".utf8))
      #expect(fake.variable("LOG_LEVEL", in: .environment("acme/api", "production"))?.value == Array("debug".utf8))

      let webID = fake.addRepository("acme/site", id: 42)
      let org = harness.github(fake, scope: .organization(org: "acme", visibility: "selected", repositories: ["site"]))
      let (_, orgReport) = await sync(org, input([item("SHARED", "s"), item("REGION", "eu", .variable)]))
      #expect(!orgReport.hasFailures)
      let shared = fake.secret("SHARED", in: .organization("acme"))
      #expect(shared?.visibility == "selected")
      #expect(shared?.selectedRepositoryIDs == [webID])
      #expect(fake.variable("REGION", in: .organization("acme"))?.visibility == "selected")

      // Plain settings compare directly: a variable changed at GitHub is drift; the same value is unchanged.
      let state = envReport.state
      let plan = await env.plan(input([item("TOKEN", "t"), item("LOG_LEVEL", "debug", .variable)], state: state))
      #expect(plan.changes.allSatisfy { $0.action == .unchanged })
      let missingEnvironment = harness.github(fake, scope: .environment(owner: "acme", repo: "api", environment: "nope"))
      #expect(await missingEnvironment.plan(input([item("A", "a")])).failure?.contains("404") == true)
    }
  }

  @Test func badTokenAndReadOnlyTokenFailWithoutLeaking() async throws {
    try await withFake { fake, harness in
      let bad = await harness.github(fake, token: "wrong-token-canary").plan(input([item("A", "a")]))
      #expect(bad.failure == "cannot list secrets: GET /repos/acme/api/actions/secrets: 401 Bad credentials (check GITHUB_TOKEN); nothing will be written")
      #expect(bad.failure?.contains("wrong-token-canary") == false)
      let missing = await harness.github(fake, token: nil).plan(input([item("A", "a")]))
      #expect(missing.failure == "no token: GITHUB_TOKEN is not set")
      let checks = await harness.github(fake, token: "wrong-token-canary").diagnose()
      #expect(checks.map(\.status) == [.ok, .failed, .skipped, .skipped])
      let good = await harness.github(fake).diagnose()
      #expect(good.map(\.status) == [.ok, .ok, .ok, .ok])
    }
  }

  @Test func writesRunAtMostFourAtATime() async throws {
    try await withFake { fake, harness in
      fake.setLatency(.milliseconds(5))
      let items = (0..<40).map { item(String(format: "K_%02d", $0), "v\($0)") }
      let (_, report) = await sync(harness.github(fake, scope: .organization(org: "acme", visibility: "all", repositories: [])), input(items))
      #expect(!report.hasFailures)
      #expect(fake.maxConcurrentRequests <= 4)  // bounded; how close to 4 depends on scheduling
    }
  }
}
