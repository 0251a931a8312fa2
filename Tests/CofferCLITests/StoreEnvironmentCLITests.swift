import CofferTesting
import Foundation
import Testing

/// An environment whose store is a server (`store:` in coffer.yaml): `get`, `set`, `list`, `check`, `export`,
/// `run`, `history`, `sync` and `migrate-store` with the built binary against the real `bao server -dev` on
/// 127.0.0.1; offline behaviour and the encrypted cache; the manifest's validation of `store:`. Also the canary
/// check for every new message: no value or token in any output.
@Suite(.serialized) struct StoreEnvironmentCLITests {
  static let canary = "canary-3f9a2c-STORE"
  static let rootToken = "bao-root-canary-store-5d1e"

  func run(_ box: Sandbox, _ args: [String], stdin: Data? = nil, env: [String: String] = [:]) async -> CLIResult {
    await withCheckedContinuation { continuation in
      DispatchQueue.global().async { continuation.resume(returning: box.run(args, stdin: stdin, env: env)) }
    }
  }

  /// No canary value or token in stdout or stderr (for commands that must not print values).
  func clean(_ result: CLIResult, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let text = String(decoding: result.stdout, as: UTF8.self) + result.stderr
    let leaked = [Self.canary, "canary-3f9a2c", Self.rootToken].filter { text.contains($0) }
    #expect(leaked.isEmpty, "`\(what)` printed \(leaked.count) planted values", sourceLocation: sourceLocation)
  }

  static func manifest(_ address: String, layout: String = "environment", cache: String? = nil, store: Bool = true)
    -> String
  {
    let production = store
      ? "{ name: production, store: bao\(cache.map { ", cache_max_age: \($0)" } ?? "") }" : "production"
    return """
      version: 1
      project: stores
      environments: [staging, \(production)]
      secrets:
        OPENAI_API_KEY: {}
        DATABASE_URL: { required: [production] }
        MULTI: { required: false }
        BIG: { required: false }
        LOG_LEVEL: { secret: false, required: false }
      destinations:
        bao:
          type: openbao
          api_url: \(address)
          path: app/prod
          layout: \(layout)
          from: production
        file:
          type: dotenv
          path: production.env
          from: production

      """
  }

  static let values: [(String, String)] = [
    ("OPENAI_API_KEY", "sk-\(canary)"),
    ("DATABASE_URL", "postgres://u:\(canary)@db/x?a=$HOME&b=\"q\" é"),
    ("MULTI", "line1 \(canary)\n'two'\n\n"),
    ("BIG", String(repeating: "0123456789abcde\(canary.prefix(1))", count: 3072)),
  ]

  @Test func getSetListCheckExportRunHistoryAndSyncAgainstOpenBao() async throws {
    let server = LocalServer.openBao(rootToken: Self.rootToken)
    try await server.start()
    defer { server.stop() }
    let box = try Sandbox(manifest: Self.manifest(server.baseURL))
    box.extraEnvironment = ["VAULT_TOKEN": Self.rootToken, "COFFER_TEST_ONLY_NO_SLEEP": "1"]

    for (name, value) in Self.values {
      let set = await run(box, ["set", name, "--env", "production", "--keep-newline"], stdin: Data(value.utf8))
      clean(set, "set \(name)")
      #expect(set.status == 0, "\(set.stderr)")
    }
    // One KV secret, four writes: versions 1 to 4; nothing in the vault.
    let lastSet = await run(box, ["set", "LOG_LEVEL", "--env", "production"], stdin: Data("debug".utf8))
    #expect(lastSet.stderr == "coffer: set LOG_LEVEL in production at store bao (version 5)\n")
    #expect(!box.exists(".coffer/vault/production.vault"))

    // get: byte for byte, 48 KB included.
    for (name, value) in Self.values {
      let get = await run(box, ["get", name, "--env", "production", "-n"])
      #expect(get.status == 0, "\(get.stderr)")
      #expect(get.stdout == Data(value.utf8), "\(name)")
    }

    let list = await run(box, ["list", "--env", "production"])
    clean(list, "list")
    #expect(
      list.out
        == """
        NAME            GROUP    VERSION  STORE
        BIG             default  5        bao
        DATABASE_URL    default  5        bao
        LOG_LEVEL       default  5        bao
        MULTI           default  5        bao
        OPENAI_API_KEY  default  5        bao

        """)

    // Every required value is at the server; the canary key breaks OPENAI_API_KEY's inferred format (exit 1).
    let check = await run(box, ["check", "--env", "production", "--json"])
    clean(check, "check")
    #expect(check.status == 1, "\(check.out) \(check.stderr)")
    #expect(check.out.contains("\"missing\":[]"))
    #expect(check.out.contains("\"name\":\"OPENAI_API_KEY\""))

    let exported = await run(box, ["export", "--env", "production", "--format", "json"])
    #expect(exported.status == 0)
    let json = try JSONSerialization.jsonObject(with: exported.stdout) as? [String: String]
    #expect(json?["MULTI"] == Self.values[2].1)
    #expect(json?["DATABASE_URL"] == Self.values[1].1)

    // run injects the server's values.
    let printed = await run(box, ["run", "--env", "production", "--", "/usr/bin/printenv", "DATABASE_URL"])
    #expect(printed.status == 0, "\(printed.stderr)")
    #expect(printed.stdout == Data((Self.values[1].1 + "\n").utf8))

    // history: the server's versions in which the value changed.
    let changed = await run(
      box, ["set", "OPENAI_API_KEY", "--env", "production"], stdin: Data("sk-second-\(Self.canary)".utf8))
    #expect(changed.status == 0)
    let history = await run(box, ["history", "OPENAI_API_KEY", "--env", "production", "--json"])
    clean(history, "history")
    #expect(history.status == 0, "\(history.stderr)")
    let versions = try JSONSerialization.jsonObject(with: history.stdout) as? [String: Any]
    #expect((versions?["versions"] as? [[String: Any]])?.map { $0["version"] as? Int } == [6, 1])
    let old = await run(box, ["get", "OPENAI_API_KEY", "--env", "production", "--version", "1", "-n"])
    #expect(old.stdout == Data(Self.values[0].1.utf8))

    // sync delivers from the store (here to a .env file; GitHub and Pulumi ESC the same way).
    let sync = await run(box, ["sync", "--to", "file"])
    clean(sync, "sync from a store")
    #expect(sync.status == 0, "\(sync.all)")
    let delivered = String(decoding: try box.read("production.env"), as: UTF8.self)
    #expect(delivered.contains("OPENAI_API_KEY=sk-second-\(Self.canary)"))

    // A vault write to a store environment is refused (exit 2), nothing written.
    try box.write("in.env", "OPENAI_API_KEY=x\n")
    let imported = await run(box, ["import", "in.env", "--env", "production"])
    clean(imported, "import into a store environment")
    #expect(imported.status == 2)
    #expect(imported.stderr.hasPrefix("coffer: error: production's store is bao (coffer.yaml): this command writes only to the vault\n"))
    #expect(!box.exists(".coffer/vault/production.vault"))

    // The audit log records the store's reads and writes (names, never values).
    let audit = await run(box, ["audit", "--json"])
    clean(audit, "audit")
    #expect(audit.out.contains("\"destination\":\"store:bao\""))
  }

  /// migrate-store in both directions: the plan first, refused without --yes off a terminal, then done.
  @Test func migrateStoreBothWays() async throws {
    let server = LocalServer.openBao(rootToken: Self.rootToken)
    try await server.start()
    defer { server.stop() }
    let box = try Sandbox(manifest: Self.manifest(server.baseURL, layout: "name", store: false))
    box.extraEnvironment = ["VAULT_TOKEN": Self.rootToken, "COFFER_TEST_ONLY_NO_SLEEP": "1"]
    for (name, value) in Self.values {
      let set = await run(box, ["set", name, "--env", "production", "--keep-newline"], stdin: Data(value.utf8))
      #expect(set.status == 0, "\(set.stderr)")
    }
    let manifestBefore = try box.read("coffer.yaml")

    let refused = await run(box, ["migrate-store", "--env", "production", "--to", "bao"])
    clean(refused, "migrate-store without --yes")
    #expect(refused.status == 2)
    #expect(
      refused.out
        == """
        migrate-store: production from the vault to store bao
          create    BIG
          create    DATABASE_URL
          create    MULTI
          create    OPENAI_API_KEY
          then: set store: bao on production in coffer.yaml and remove .coffer/vault/production.vault (its history stays in git)

        """)
    #expect(refused.stderr.hasPrefix("coffer: error: not a terminal: nothing was written\n"))
    #expect(try box.read("coffer.yaml") == manifestBefore)
    #expect(box.exists(".coffer/vault/production.vault"))

    let moved = await run(box, ["migrate-store", "--env", "production", "--to", "bao", "--yes"])
    clean(moved, "migrate-store to the server")
    #expect(moved.status == 0, "\(moved.stderr)")
    #expect(moved.stderr.hasSuffix("coffer: moved production to store bao: 4 written, 0 unchanged\n"))
    #expect(!box.exists(".coffer/vault/production.vault"))
    #expect(
      String(decoding: try box.read("coffer.yaml"), as: UTF8.self).contains(
        "environments: [staging, { name: production, store: bao }]\n"))
    for (name, value) in Self.values {
      let get = await run(box, ["get", name, "--env", "production", "-n"])
      #expect(get.stdout == Data(value.utf8), "\(name) after migrating to the server")
    }

    // A change at the server, then back to the vault.
    #expect(
      await run(box, ["set", "MULTI", "--env", "production"], stdin: Data("changed-\(Self.canary)".utf8)).status == 0)
    let back = await run(box, ["migrate-store", "--env", "production", "--to", "vault", "--yes"])
    clean(back, "migrate-store to the vault")
    #expect(back.status == 0, "\(back.stderr)")
    #expect(back.out.contains("  create    MULTI\n"))
    #expect(try box.read("coffer.yaml") == manifestBefore)
    #expect(box.exists(".coffer/vault/production.vault"))
    let fromVault = await run(box, ["get", "MULTI", "--env", "production", "-n"])
    #expect(fromVault.stdout == Data("changed-\(Self.canary)".utf8))

    // Neighbours: already in the vault; an unknown destination; a destination of another environment.
    let again = await run(box, ["migrate-store", "--env", "production", "--to", "vault", "--yes"])
    #expect(again.status == 2)
    #expect(again.stderr.hasPrefix("coffer: error: production is already kept in the vault (it has no store: in coffer.yaml)\n"))
    let unknown = await run(box, ["migrate-store", "--env", "production", "--to", "nope", "--yes"])
    #expect(unknown.status == 2)
    #expect(unknown.stderr.hasPrefix("coffer: error: no destination named nope\n"))
    let other = await run(box, ["migrate-store", "--env", "staging", "--to", "bao", "--yes"])
    #expect(other.status == 2)
    #expect(other.stderr.hasPrefix("coffer: error: destination bao has from: production; the store of staging must have from: staging\n"))
    let wrongType = await run(box, ["migrate-store", "--env", "production", "--to", "file", "--yes"])
    #expect(wrongType.status == 2)
    #expect(wrongType.stderr.hasPrefix("coffer: error: file is of type dotenv; a store must be of type openbao or aws-secrets-manager\n"))
  }

  /// With the server unreachable, reads fail with exit 3 naming the server, never falling back silently; with
  /// cache_max_age, the encrypted copy of the last read is used (with a warning), and only then.
  @Test func offlineReadsFailWithExit3UnlessACacheIsConfigured() async throws {
    let port = try LocalServer.freePort()
    let box = try Sandbox(manifest: Self.manifest("http://127.0.0.1:\(port)"))
    // Nothing listens: each try ends at its deadline or at once, and fails either way.
    box.extraEnvironment = [
      "VAULT_TOKEN": Self.rootToken, "COFFER_TEST_ONLY_NO_SLEEP": "1", "COFFER_HTTP_TIMEOUT_MS": "300",
    ]
    let expected =
      "coffer: error: store bao: 127.0.0.1:\(port) did not answer: GET /v1/secret/data/app/prod: "
    for args in [
      ["get", "OPENAI_API_KEY", "--env", "production"], ["list", "--env", "production"],
      ["export", "--env", "production"], ["check", "--env", "production"],
      ["run", "--env", "production", "--", "/usr/bin/true"],
    ] {
      let result = await run(box, args)
      clean(result, args[0])
      #expect(result.status == 3, "\(args[0]): \(result.stderr)")
      #expect(result.stderr.contains(expected), "\(args[0]): \(result.stderr)")
      #expect(result.stderr.contains(" after 3 tries\ncoffer: hint: the values of this environment live only at that server"), "\(args[0]): \(result.stderr)")
      #expect(result.stdout.isEmpty, "\(args[0])")
    }
    let write = await run(box, ["set", "OPENAI_API_KEY", "--env", "production"], stdin: Data("sk-\(Self.canary)".utf8))
    #expect(write.status == 3)
    #expect(write.stderr.contains("coffer: error: store bao: 127.0.0.1:\(port) did not answer: GET /v1/secret/data/app/prod: "))

    // With a cache: the first read while the server answers writes it; a later read while it is down uses it.
    let server = LocalServer.openBao(rootToken: Self.rootToken)
    try await server.start()
    let cached = try Sandbox(manifest: Self.manifest(server.baseURL, cache: "1h"))
    cached.extraEnvironment = [
      "VAULT_TOKEN": Self.rootToken, "COFFER_TEST_ONLY_NO_SLEEP": "1", "COFFER_HTTP_TIMEOUT_MS": "2000",
    ]
    // Not read yet: no cache to fall back on.
    #expect(
      await run(cached, ["set", "OPENAI_API_KEY", "--env", "production"], stdin: Data("sk-\(Self.canary)".utf8)).status
        == 0)
    #expect(await run(cached, ["get", "OPENAI_API_KEY", "--env", "production"]).status == 0)
    // A refused token is not "offline": no fallback.
    let denied = await run(cached, ["get", "OPENAI_API_KEY", "--env", "production"], env: ["VAULT_TOKEN": "wrong"])
    clean(denied, "get with a refused token")
    #expect(denied.status == 3)
    #expect(denied.stderr.contains(": 403 permission denied"))
    server.stop()

    let offline = await run(cached, ["get", "OPENAI_API_KEY", "--env", "production", "-n"])
    #expect(offline.status == 0, "\(offline.stderr)")
    #expect(offline.stdout == Data("sk-\(Self.canary)".utf8))
    #expect(offline.stderr.contains("coffer: warning: store bao cannot be reached: using the values cached "))
    #expect(offline.stderr.contains("(cache_max_age 60m)"))
    // The cache is encrypted and private.
    let state = cached.path("home/.local/state/coffer/store-cache")
    let files = (FileManager.default.enumerator(atPath: state)?.allObjects as? [String] ?? []).filter { $0.hasSuffix(".age") }
    #expect(files.count == 1)
    if let file = files.first {
      let bytes = try Data(contentsOf: URL(fileURLWithPath: state + "/" + file))
      #expect(!String(decoding: bytes, as: UTF8.self).contains(Self.canary))
      #expect(bytes.starts(with: Data("age-encryption.org/v1\n".utf8)))
      let mode = try FileManager.default.attributesOfItem(atPath: state + "/" + file)[.posixPermissions] as? Int
      #expect(mode == 0o600)
    }
    // Writes never go to the cache: offline, set fails.
    let offlineSet = await run(cached, ["set", "LOG_LEVEL", "--env", "production"], stdin: Data("x".utf8))
    #expect(offlineSet.status == 3)
    // Another identity cannot read the cache: exit 3 as without one.
    let stranger = await run(cached, ["get", "OPENAI_API_KEY", "--env", "production"], env: ["COFFER_IDENTITY_FILE": box.identityFile.path])
    clean(stranger, "get with another identity")
    #expect(stranger.status == 3)
    #expect(stranger.stderr.contains("; and no usable cached copy\n"))
    // A copy older than cache_max_age is not used (one written with the age CLI, dated 1970), nor one of another
    // store.
    if let file = files.first {
      let value = Data("sk-\(Self.canary)".utf8).base64EncodedString()
      for (store, time, expected) in [
        ("bao", "1000", "; the cached copy is "), ("other", "\(Int(Date().timeIntervalSince1970))", "; and no usable cached copy\n"),
      ] {
        let body = "coffer-store-cache v1\nstore \(store)\ntime \(time)\nOPENAI_API_KEY\t1\t\(value)\n"
        let sealed = try ChildProcess.run(
          "/usr/bin/age", ["-r", cached.recipient], cwd: FileManager.default.temporaryDirectory, environment: [:],
          stdin: Data(body.utf8))
        #expect(sealed.status == 0)
        try sealed.stdout.write(to: URL(fileURLWithPath: state + "/" + file))
        let stale = await run(cached, ["get", "OPENAI_API_KEY", "--env", "production"])
        clean(stale, "get with a stale cache")
        #expect(stale.status == 3, "\(store)")
        #expect(stale.stderr.contains(expected), "\(store): \(stale.stderr)")
        #expect(stale.stdout.isEmpty)
      }
    }
  }

  /// The same commands with AWS Secrets Manager as the store (moto_server on 127.0.0.1), one secret per name.
  @Test func awsSecretsManagerAsTheStore() async throws {
    let moto = LocalServer.moto()
    try await moto.start()
    defer { moto.stop() }
    let box = try Sandbox(
      manifest: """
        version: 1
        project: aws-store
        environments: [{ name: production, store: aws }]
        secrets:
          DATABASE_URL: {}
          MULTI: { required: false }
        destinations:
          aws: { type: aws-secrets-manager, region: us-east-1, api_url: "\(moto.baseURL)", prefix: app/prod/, layout: name, from: production }

        """)
    box.extraEnvironment = [
      "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "aws-secret-\(Self.canary)", "COFFER_TEST_ONLY_NO_SLEEP": "1",
    ]
    for (name, value) in [("DATABASE_URL", Self.values[1].1), ("MULTI", Self.values[2].1)] {
      let set = await run(box, ["set", name, "--env", "production", "--keep-newline"], stdin: Data(value.utf8))
      clean(set, "set \(name) at AWS")
      #expect(set.status == 0, "\(set.stderr)")
      let get = await run(box, ["get", name, "--env", "production", "-n"])
      #expect(get.stdout == Data(value.utf8), "\(name)")
    }
    let again = await run(box, ["set", "MULTI", "--env", "production"], stdin: Data("second".utf8))
    #expect(again.stderr == "coffer: set MULTI in production at store aws (version 2)\n")
    let history = await run(box, ["history", "MULTI", "--env", "production", "--json"])
    clean(history, "history at AWS")
    let versions = try JSONSerialization.jsonObject(with: history.stdout) as? [String: Any]
    #expect((versions?["versions"] as? [[String: Any]])?.map { $0["version"] as? Int } == [2, 1])
    let list = await run(box, ["list", "--env", "production"])
    clean(list, "list at AWS")
    #expect(list.out.hasPrefix("NAME          GROUP    VERSION  STORE\nDATABASE_URL  default  0        aws\n"))
    let printed = await run(box, ["run", "--env", "production", "--", "/usr/bin/printenv", "DATABASE_URL"])
    #expect(printed.status == 0, "\(printed.stderr)")
    #expect(printed.stdout == Data((Self.values[1].1 + "\n").utf8))
  }

  /// `store:` mistakes are refused by every command: exit 2, naming the file, line and field.
  @Test(arguments: [
    (
      "{ name: production, store: nope }",
      "coffer.yaml:3:52: environments[1].store: no destination named \"nope\" is declared under destinations"
    ),
    (
      "{ name: production, store: file }",
      "coffer.yaml:3:52: environments[1].store: destination \"file\" is of type dotenv; a store must be of type openbao, vault or aws-secrets-manager"
    ),
    (
      "{ name: staging, store: bao }",
      "coffer.yaml:3:40: environments[0].store: destination \"bao\" has from: production; the store of staging must have from: staging"
    ),
    (
      "{ name: production, store: bao, cache: 1h }",
      "coffer.yaml:3:57: environments[1].cache: unknown field"
    ),
    (
      "{ name: production, store: bao, cache_max_age: 2y }",
      "coffer.yaml:3:72: environments[1].cache_max_age: expected a duration such as 90s, 15m, 8h or 7d (at most 365d)"
    ),
    (
      "{ store: bao }",
      "coffer.yaml:3:25: environments[1].name: missing required field"
    ),
  ])
  func storeMistakesAreRefusedWithFileLineAndField(_ item: String, _ message: String) async throws {
    var text = Self.manifest("http://127.0.0.1:1", store: false)
    if item.contains("staging") {
      text = text.replacingOccurrences(of: "environments: [staging, production]", with: "environments: [\(item), production]")
    } else {
      text = text.replacingOccurrences(of: "environments: [staging, production]", with: "environments: [staging, \(item)]")
    }
    let box = try Sandbox(manifest: text)
    let result = await run(box, ["list", "--env", "staging"])
    #expect(result.status == 2)
    #expect(result.stderr.hasPrefix("coffer: error: " + message), "\(result.stderr)")
    #expect(result.stdout.isEmpty)
  }
}
