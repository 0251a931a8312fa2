import CofferTesting
import Foundation
import Testing

/// `coffer plan/sync/pull/doctor` with `openbao` and `aws-secrets-manager` destinations, end to end: the built binary
/// against the real `bao server -dev` and `moto_server` on 127.0.0.1. Also the canary check for their messages: no
/// value, token, secret id or AWS secret key in any output, including failures (403, refused login).
@Suite(.serialized) struct ServerDestinationCLITests {
  static let canary = "canary-5b7d1e-SERVER"
  static let rootToken = "bao-root-canary-91c3"
  static let awsSecret = "aws-secret-canary-0e4f"
  static let secretID = "approle-secret-canary-77aa"

  func run(_ box: Sandbox, _ args: [String], stdin: Data? = nil, env: [String: String] = [:]) async -> CLIResult {
    await withCheckedContinuation { continuation in
      DispatchQueue.global().async { continuation.resume(returning: box.run(args, stdin: stdin, env: env)) }
    }
  }

  /// No canary value or credential in stdout or stderr.
  func clean(_ result: CLIResult, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let text = String(decoding: result.stdout, as: UTF8.self) + result.stderr
    let leaked = [Self.canary, "canary-5b7d1e", Self.rootToken, Self.awsSecret, Self.secretID].filter {
      text.contains($0)
    }
    #expect(leaked.isEmpty, "`\(what)` printed \(leaked.count) planted values", sourceLocation: sourceLocation)
  }

  func bao(_ server: LocalServer, _ args: [String], stdin: String? = nil) throws -> String {
    let result = try ChildProcess.run(
      LocalServer.find("bao") ?? "bao", args, cwd: FileManager.default.temporaryDirectory,
      environment: [
        "BAO_ADDR": server.baseURL, "BAO_TOKEN": Self.rootToken, "HOME": FileManager.default.temporaryDirectory.path,
        "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
      ], stdin: stdin.map { Data($0.utf8) })
    #expect(result.status == 0, "bao \(args.first ?? "")")
    return String(decoding: result.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
  }

  @Test func planSyncPullDoctorAgainstOpenBaoAndMoto() async throws {
    let openBao = LocalServer.openBao(rootToken: Self.rootToken)
    let moto = LocalServer.moto()
    try await openBao.start()
    defer { openBao.stop() }
    try await moto.start()
    defer { moto.stop() }

    let box = try Sandbox(
      manifest: """
        version: 1
        project: servers
        environments: [staging, production]
        secrets:
          OPENAI_API_KEY: {}
          DATABASE_URL: {}
          LOG_LEVEL: { secret: false, required: false }
        destinations:
          bao-names:
            type: openbao
            api_url: \(openBao.baseURL)
            path: app/prod
            layout: name
            from: production
          bao-env:
            type: vault
            api_url: \(openBao.baseURL)
            path: app/env
            from: production
          bao-approle:
            type: openbao
            api_url: \(openBao.baseURL)
            path: app/other
            auth: approle
            from: staging
          aws:
            type: aws-secrets-manager
            region: us-east-1
            api_url: \(moto.baseURL)
            prefix: app/prod/
            layout: name
            from: production

        """)
    box.extraEnvironment = [
      "VAULT_TOKEN": Self.rootToken, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": Self.awsSecret,
      "VAULT_ROLE_ID": "no-such-role", "VAULT_SECRET_ID": Self.secretID, "COFFER_TEST_ONLY_NO_SLEEP": "1",
    ]
    let values = [
      "OPENAI_API_KEY": "sk-\(Self.canary)\nline2 $HOME \"q\" é",
      "DATABASE_URL": "postgres://u:\(Self.canary)@db/x",
      "LOG_LEVEL": "debug",
    ]
    for (name, value) in values.sorted(by: { $0.key < $1.key }) {
      #expect(await run(box, ["set", name, "--env", "production"], stdin: Data(value.utf8)).status == 0)
    }

    let plan = await run(box, ["plan", "--to", "bao-names", "bao-env", "aws"])
    clean(plan, "plan")
    #expect(plan.status == 0, "\(plan.stderr)")
    #expect(
      plan.out.contains(
        "bao-names (openbao \(openBao.baseURL) secret/app/prod (one secret per name), from production)\n  create    DATABASE_URL"
      ))
    #expect(
      plan.out.contains(
        "bao-env (openbao \(openBao.baseURL) secret/app/env, from production)\n  note: the KV secret secret/app/env will be created\n"
      ))
    #expect(
      plan.out.contains(
        "aws (aws-secrets-manager us-east-1 app/prod/<NAME>, from production)\n  create    DATABASE_URL"))

    let sync = await run(box, ["sync", "--to", "bao-names", "bao-env", "aws"])
    clean(sync, "sync")
    #expect(sync.status == 0, "\(sync.all)")
    #expect(sync.out.contains("  3 written, 0 failed, 0 unchanged, 0 blocked\n"))
    let again = await run(box, ["sync", "--to", "bao-names", "bao-env", "aws"])
    clean(again, "second sync")
    #expect(again.status == 0)
    #expect(again.out.components(separatedBy: "  0 written, 0 failed, 3 unchanged, 0 blocked\n").count == 4)
    let stored = try bao(openBao, ["kv", "get", "-field=value", "secret/app/prod/OPENAI_API_KEY"])
    #expect(stored == values["OPENAI_API_KEY"]?.trimmingCharacters(in: .whitespacesAndNewlines))

    // A 403 on one name: that item fails (exit 4) with server, path and status; the others are unchanged.
    _ = try bao(
      openBao, ["policy", "write", "no-db", "-"],
      stdin: """
        path "secret/data/app/prod/*" { capabilities = ["create", "update", "read"] }
        path "secret/data/app/prod/DATABASE_URL" { capabilities = ["read"] }
        path "secret/metadata/app/prod/*" { capabilities = ["create", "update", "read", "list"] }
        path "secret/metadata/app/prod" { capabilities = ["list"] }
        """)
    let limited = try bao(openBao, ["token", "create", "-policy=no-db", "-field=token"])
    #expect(
      await run(box, ["set", "DATABASE_URL", "--env", "production"], stdin: Data("postgres://v2-\(Self.canary)".utf8))
        .status == 0)
    let forbidden = await run(box, ["sync", "--to", "bao-names"], env: ["VAULT_TOKEN": limited])
    clean(forbidden, "sync with a 403")
    #expect(!forbidden.all.contains(limited))
    #expect(forbidden.status == 4)
    #expect(
      forbidden.out.contains(
        "  FAILED    DATABASE_URL       \(openBao.baseURL.dropFirst(7)): POST /v1/secret/data/app/prod/DATABASE_URL: 403 permission denied (check the policy of the token from VAULT_TOKEN)\n"
      ))
    let retried = await run(box, ["sync", "--to", "bao-names"])
    #expect(retried.status == 0)
    #expect(retried.out.contains("  1 written, 0 failed, 2 unchanged, 0 blocked\n"))

    // A refused AppRole login (AppRole is not even enabled): no secret id, exit 4.
    let refused = await run(box, ["sync", "--to", "bao-approle"])
    clean(refused, "sync with a refused login")
    #expect(refused.status == 4)
    #expect(
      refused.out.contains(
        "  FAILED: no token: login refused: \(openBao.baseURL.dropFirst(7)): POST /v1/auth/approle/login: 403 permission denied\n"
      ))

    let doctor = await run(box, ["doctor", "--to", "bao-names", "bao-env", "aws"])
    clean(doctor, "doctor")
    #expect(doctor.status == 0, "\(doctor.out)")
    #expect(doctor.out.contains("ok       create, update, read on secret/data/app/env\n"))
    #expect(doctor.out.contains("ok       from AWS_ACCESS_KEY_ID\n"))

    for source in ["bao-env", "aws"] {
      let pull = await run(box, ["pull", "--from", source, "--env", "staging"])
      clean(pull, "pull from \(source)")
      #expect(pull.status == 0, "\(pull.all)")
    }
    let exported = await run(box, ["export", "--env", "staging", "--format", "json"])
    #expect(exported.status == 0)
    let json = try JSONSerialization.jsonObject(with: exported.stdout) as? [String: String]
    #expect(json?["OPENAI_API_KEY"] == values["OPENAI_API_KEY"])
    #expect(json?["DATABASE_URL"] == values["DATABASE_URL"])  // bao-env and aws were not synced after the change
  }

  /// In CI an openbao destination's address must be the one the workflow pins in VAULT_ADDR: the sample (unset)
  /// and its neighbours (another address, GITHUB_ACTIONS instead of CI, and the two ways to allow it).
  @Test func inCIOpenBaoGoesOnlyToVaultAddr() async throws {
    let port = try LocalServer.freePort()  // nothing listens: an allowed run fails to connect (exit 4), never 2
    func box(allow: Bool) throws -> Sandbox {
      let box = try Sandbox(
        manifest: """
          version: 1
          project: ci
          environments: [production]
          destinations:
            bao:
              type: openbao
              api_url: http://127.0.0.1:\(port)
              path: app/prod
              from: production
          \(allow ? "    allow_custom_api_url: true\n" : "")
          """)
      box.extraEnvironment = ["VAULT_TOKEN": Self.rootToken, "COFFER_TEST_ONLY_NO_SLEEP": "1"]
      return box
    }
    let strict = try box(allow: false)
    #expect(strict.set("A", "value-\(Self.canary)", env: "production").status == 0)
    let refusal =
      "coffer: error: bao: api_url http://127.0.0.1:\(port) is not VAULT_ADDR (unset); in CI (CI=true) Coffer sends a "
      + "Vault token or login only to the address the workflow pins\n"
    let cases: [(String, [String: String], [String], Int32)] = [
      ("unset", ["CI": "true"], [], 2),
      ("another address", ["CI": "true", "VAULT_ADDR": "http://127.0.0.1:8200"], [], 2),
      ("GitHub Actions", ["GITHUB_ACTIONS": "true"], [], 2),
      ("pinned", ["CI": "true", "VAULT_ADDR": "http://127.0.0.1:\(port)/"], [], 4),
      ("flag", ["CI": "true"], ["--allow-custom-api-url"], 4),
    ]
    for (label, env, flags, status) in cases {
      let result = await run(strict, ["plan"] + flags, env: env)
      clean(result, "plan in CI (\(label))")
      #expect(result.status == status, "\(label): \(result.stderr)")
      if status == 2 { #expect(result.stderr.hasPrefix(refusal.replacingOccurrences(of: "(unset)", with: label == "another address" ? "(http://127.0.0.1:8200)" : "(unset)")), "\(label)") }
    }
    let allowed = try box(allow: true)
    #expect(allowed.set("A", "value-\(Self.canary)", env: "production").status == 0)
    let result = await run(allowed, ["plan"], env: ["CI": "true"])
    clean(result, "plan in CI with allow_custom_api_url")
    #expect(result.status == 4)
  }

  /// Missing credentials: each destination fails (exit 4) with a message naming what is missing, never a value.
  @Test func missingCredentialsAreNamedNeverShown() async throws {
    let port = try LocalServer.freePort()
    let box = try Sandbox(
      manifest: """
        version: 1
        project: creds
        environments: [production]
        destinations:
          approle: { type: openbao, api_url: "http://127.0.0.1:\(port)", path: a, auth: approle, from: production }
          jwt: { type: openbao, api_url: "http://127.0.0.1:\(port)", path: a, auth: jwt, role: ci, from: production }
          oidc: { type: openbao, api_url: "http://127.0.0.1:\(port)", path: a, auth: oidc, role: ci, from: production }
          token: { type: openbao, api_url: "http://127.0.0.1:\(port)", path: a, from: production }
          aws: { type: aws-secrets-manager, region: eu-west-1, api_url: "http://127.0.0.1:\(port)", from: production }

        """)
    #expect(box.set("A", "value-\(Self.canary)", env: "production").status == 0)
    // Only the secret id: the role id is missing.
    let result = await run(box, ["plan"], env: ["VAULT_SECRET_ID": Self.secretID, "AWS_SECRET_ACCESS_KEY": Self.awsSecret])
    clean(result, "plan without credentials")
    #expect(result.status == 4)
    let home = box.path("home")
    #expect(
      result.out
        == """
        approle (openbao http://127.0.0.1:\(port) secret/a, from production)
          FAILED: no token: auth: approle needs VAULT_ROLE_ID and VAULT_SECRET_ID to be set
        jwt (openbao http://127.0.0.1:\(port) secret/a, from production)
          FAILED: no token: auth: jwt needs VAULT_JWT to hold a JWT
        oidc (openbao http://127.0.0.1:\(port) secret/a, from production)
          FAILED: no token: auth: oidc needs ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN, which GitHub Actions sets only in a job with permissions: id-token: write
        token (openbao http://127.0.0.1:\(port) secret/a, from production)
          FAILED: no token: VAULT_TOKEN is not set
        aws (aws-secrets-manager eu-west-1 production, from production)
          FAILED: no AWS credentials: AWS_ACCESS_KEY_ID is not set and \(home)/.aws/credentials has no profile default with both keys

        """)
  }
}
