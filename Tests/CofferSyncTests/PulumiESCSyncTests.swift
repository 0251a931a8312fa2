import CofferCore
import CofferSync
import CofferTesting
import Synchronization
import Testing

/// Pulumi ESC destination against the in-process fake, over real HTTP on 127.0.0.1.
@Suite struct PulumiESCSyncTests {
  func withFake(_ body: (FakePulumiESC, Harness) async throws -> Void) async throws {
    let fake = FakePulumiESC()
    fake.addOrganization("acme")
    try await withStarted(fake, body)
  }

  static let existing = """
    imports:
      - shared/base
    values:
      dbHost: db.internal
      other:
        fn::secret: not-coffers
      url: https://${dbHost}:5432
      environmentVariables:
        DB_HOST: ${dbHost}
      pulumiConfig:
        aws:region: eu-west-1
    """

  @Test func mergesSecretsAndKeepsEverythingElse() async throws {
    try await withFake { fake, harness in
      try fake.setDefinition("acme", "default", "prod", yaml: Self.existing)
      let values: [(String, String)] = [
        ("API_KEY", "sk-live-1"), ("MULTI", "a\nb\n\"c\" 'd'\n"), ("DOLLAR", "pa$$ ${HOME} $x"),
        ("UNICODE", "Grüße 世界 🔐"), ("BIG", String(repeating: "x", count: 49_152)),
      ]
      let items = values.map { item($0.0, $0.1) } + [item("LOG_LEVEL", "info", .variable)]
      let (plan, report) = await sync(harness.esc(fake), input(items))
      #expect(plan.changes.map(\.action) == Array(repeating: .create, count: items.count))
      #expect(!report.hasFailures)
      let exported = fake.environmentVariables("acme", "default", "prod")
      for (name, value) in values { #expect(exported[name] == Array(value.utf8), "\(name)") }
      #expect(exported["LOG_LEVEL"] == Array("info".utf8))
      #expect(exported["DB_HOST"] == Array("db.internal".utf8))  // not Coffer's: left as written
      let stored = try #require(fake.definition("acme", "default", "prod"))
      #expect(stored.contains("- shared/base"))
      #expect(stored.contains("dbHost: db.internal"))
      #expect(stored.contains("aws:region: eu-west-1"))
      #expect(stored.contains("url: https://${dbHost}:5432"))
      #expect(!stored.contains("sk-live-1"))  // secrets are stored encrypted
      let plain = try #require(fake.decryptedDefinition("acme", "default", "prod"))
      #expect(plain.contains("not-coffers"))
      #expect(fake.revision("acme", "default", "prod") == 2)

      fake.resetLog()
      let (again, _) = await sync(harness.esc(fake), input(items, state: report.state))
      #expect(again.changes.allSatisfy { $0.action == .unchanged })
      #expect(fake.requests.map(\.method) == ["GET", "GET"])  // definition and decrypt; no PATCH
    }
  }

  @Test func warnsThatCommentsAreDropped() async throws {
    try await withFake { fake, harness in
      try fake.setDefinition("acme", "default", "prod", yaml: "# owned by the platform team\nvalues:\n  keep: 1 # yes\n")
      let plan = await harness.esc(fake).plan(input([item("A", "a")]))
      #expect(plan.notes == ["the definition has comments; writing re-serializes it, which drops them (everything else is kept)"])
      let unchanged = await harness.esc(fake).plan(input([]))
      #expect(unchanged.notes.isEmpty)
    }
  }

  @Test func createsAMissingEnvironment() async throws {
    try await withFake { fake, harness in
      let plan = await harness.esc(fake).plan(input([item("A", "a")]))
      #expect(plan.notes == ["the ESC environment acme/default/prod will be created"])
      let (_, report) = await sync(harness.esc(fake), input([item("A", "a")]))
      #expect(!report.hasFailures)
      #expect(fake.environmentVariables("acme", "default", "prod") == ["A": Array("a".utf8)])
    }
  }

  @Test func conflictIsReplannedOnceThenReported() async throws {
    try await withFake { fake, harness in
      try fake.setDefinition("acme", "default", "prod", yaml: "values:\n  keep: 1\n")
      fake.conflictNextPatches(1)
      let (_, report) = await sync(harness.esc(fake), input([item("A", "a")]))
      #expect(report.outcome(of: "A") == .done)
      #expect(fake.requests.filter { $0.method == "PATCH" }.map(\.status) == [409, 200])
      #expect(fake.environmentVariables("acme", "default", "prod")["A"] == Array("a".utf8))

      fake.resetLog()
      fake.conflictNextPatches(2)
      let (_, second) = await sync(harness.esc(fake), input([item("A", "a"), item("B", "b")], state: report.state))
      #expect(second.outcome(of: "B") == .failed("PATCH /api/esc/environments/acme/default/prod: 409 conflict twice: the environment keeps changing; run sync again"))
      #expect(second.outcome(of: "A") == .skipped)
      #expect(fake.requests.filter { $0.method == "PATCH" }.map(\.status) == [409, 409])
      #expect(second.state == report.state)
    }
  }

  @Test func driftPruneAndPull() async throws {
    try await withFake { fake, harness in
      let items = [item("A", "a"), item("B", "b"), item("C", "c", .variable)]
      let first = await sync(harness.esc(fake), input(items)).1
      // Someone edits A at ESC.
      let edited = try #require(fake.decryptedDefinition("acme", "default", "prod")).replacing("\"a\"", with: "\"changed\"")
      try fake.setDefinition("acme", "default", "prod", yaml: edited)
      let plan = await harness.esc(fake).plan(input(items, state: first.state))
      #expect(plan.action(of: "A") == .drifted)
      #expect(plan.action(of: "B") == .unchanged)

      let pulled = try await harness.esc(fake).pull()
      #expect(pulled.map(\.name) == ["A", "B", "C"])
      #expect(pulled.map { $0.value.revealString() } == ["changed", "b", "c"])
      #expect(pulled.map(\.kind) == [.secret, .secret, .variable])

      let (pruning, report) = await sync(harness.esc(fake), input([item("A", "a")], state: first.state, prune: true))
      #expect(pruning.action(of: "B") == .delete)
      #expect(pruning.action(of: "C", .variable) == .delete)
      #expect(!report.hasFailures)
      #expect(fake.environmentVariables("acme", "default", "prod") == ["A": Array("a".utf8)])
    }
  }

  @Test func unreadableEnvironmentWritesNothing() async throws {
    try await withFake { fake, harness in
      try fake.setDefinition("acme", "default", "prod", yaml: "values:\n  A: 1\n")
      fake.inject(.serverError, method: "GET", times: 2)
      let (plan, report) = await sync(harness.esc(fake, attempts: 2), input([item("A", "a")], prune: true))
      #expect(plan.failure == "cannot read the environment: GET /api/esc/environments/acme/default/prod: 500")
      #expect(report.hasFailures)
      #expect(fake.requests.allSatisfy { $0.method == "GET" })
      let bad = await harness.esc(fake, token: "nope").plan(input([item("A", "a")]))
      #expect(bad.failure == "cannot read the environment: GET /api/esc/environments/acme/default/prod: 401 (check PULUMI_ACCESS_TOKEN)")
      #expect(await harness.esc(fake).diagnose().map(\.status) == [.ok, .ok, .ok, .ok])
    }
  }
}

@Suite struct DotEnvSyncTests {
  final class File: Sendable {
    let bytes: Mutex<[UInt8]?>
    let writes = Mutex(0)
    init(_ text: String?) { bytes = Mutex(text.map { Array($0.utf8) }) }
    var text: String { String(decoding: bytes.withLock { $0 } ?? [], as: UTF8.self) }
  }

  func destination(_ file: File) -> DotEnvDestination {
    DotEnvDestination(
      name: "local", path: ".env", read: { file.bytes.withLock { $0 } },
      write: { bytes in
        file.bytes.withLock { $0 = bytes }
        file.writes.withLock { $0 += 1 }
      })
  }

  @Test func editsOnlyCoffersKeys() async throws {
    let file = File("# local settings\nexport A=old # keep this comment\nMINE='do not touch'\r\n\nB=\"x\"\n")
    let items = [item("A", "new value"), item("B", "x"), item("C", "multi\nline $HOME \"q\"")]
    let (plan, report) = await sync(destination(file), input(items))
    #expect(plan.action(of: "A") == .update)
    #expect(plan.action(of: "B") == .unchanged)
    #expect(plan.action(of: "C") == .create)
    #expect(!report.hasFailures)
    #expect(file.text.hasPrefix("# local settings\nexport A='new value' # keep this comment\nMINE='do not touch'\r\n\nB=\"x\"\n"))
    let values = try await destination(file).pull()
    #expect(values.first { $0.name == "C" }?.value.revealString() == "multi\nline $HOME \"q\"")
    #expect(values.first { $0.name == "MINE" }?.value.revealString() == "do not touch")

    let (again, _) = await sync(destination(file), input(items, state: report.state))
    #expect(again.changes.allSatisfy { $0.action == .unchanged })
    #expect(file.writes.withLock { $0 } == 1)

    // Prune removes only keys Coffer pushed.
    let (pruned, _) = await sync(destination(file), input([item("A", "new value")], state: report.state, prune: true))
    #expect(pruned.changes.filter { $0.action == .delete }.map(\.name).sorted() == ["B", "C"])
    #expect(file.text.contains("MINE='do not touch'"))
    #expect(!file.text.contains("C="))
  }

  @Test func newFileAndBlockedValues() async throws {
    let file = File(nil)
    let (plan, report) = await sync(destination(file), input([item("A", "a"), item("BIN", bytes: [0xFF, 0xFE])]))
    #expect(plan.action(of: "BIN") == .blocked)
    #expect(!report.hasFailures)
    #expect(file.text == "A=a\n")
  }
}
