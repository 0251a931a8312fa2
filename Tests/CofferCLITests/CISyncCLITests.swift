import CofferTesting
import Foundation
import Testing

/// Issue 18: one source per destination, the generated workflow, OIDC, and sync that matches its docs. The built
/// binary against in-process fakes on 127.0.0.1; no sleeps (retry waits are no-ops in debug builds).
@Suite struct CISyncCLITests {
  func run(_ box: Sandbox, _ args: [String], stdin: Data? = nil, env: [String: String] = [:]) async -> CLIResult {
    await withCheckedContinuation { continuation in
      DispatchQueue.global().async { continuation.resume(returning: box.run(args, stdin: stdin, env: env)) }
    }
  }

  func workflow(_ box: Sandbox) throws -> String {
    String(decoding: try box.read(".github/workflows/coffer-sync.yml"), as: UTF8.self)
  }

  // MARK: - 1. One source per destination

  func twoDestinations(_ first: String, _ second: String) -> String {
    """
    version: 1
    project: two
    environments: [staging, production]
    secrets:
      API_KEY: {}
    destinations:
      first: { \(first) }
      second: { \(second) }

    """
  }

  /// The sample: the vault and GitHub organization secrets both writing one ESC environment.
  @Test func initCIRefusesTheVaultAndGitHubWritingOneESCEnvironment() throws {
    let box = try Sandbox(manifest: twoDestinations(
      "type: pulumi-esc, organization: acme, environment: prod, from: production",
      "type: pulumi-esc, organization: acme, environment: prod, from: production, source: github"))
    let r = box.run(["init", "--ci", "github"])
    #expect(r.status == 2)
    #expect(r.stderr == """
      coffer: error: coffer.yaml: destinations first and second write the same place (pulumi-esc acme/default/prod) \
      from two sources: the production vault and GitHub organization secrets; a rotation in one would be undone by \
      the other
      coffer: hint: keep one of them (one source per destination, docs/ci.md)

      """)
    #expect(!box.exists(".github/workflows/coffer-sync.yml"))
  }

  /// Neighbours: two vault environments into one repository (refused), the same vault twice with different groups
  /// (one source: allowed), two different ESC environments (allowed).
  @Test(arguments: [
    ("type: github, repository: acme/api, from: staging", "type: github, repository: ACME/api, from: production", true),
    ("type: pulumi-esc, organization: acme, environment: prod, from: production",
     "type: pulumi-esc, organization: acme, project: default, environment: prod, from: staging", true),
    ("type: github, organization: acme, from: production", "type: github, organization: acme, from: production, groups: [default]", false),
    ("type: pulumi-esc, organization: acme, environment: prod, from: production",
     "type: pulumi-esc, organization: acme, environment: mirror, from: production, source: github", false),
  ])
  func initCIOneSourceNeighbours(first: String, second: String, refused: Bool) throws {
    let box = try Sandbox(manifest: twoDestinations(first, second))
    let r = box.run(["init", "--ci", "github"])
    #expect(r.status == (refused ? 2 : 0), "\(r.stderr)")
    #expect(r.stderr.contains("from two sources") == refused)
    #expect(box.exists(".github/workflows/coffer-sync.yml") == !refused)
  }

  /// The issue's manifest: the vault to GitHub and to ESC. The workflow syncs both from the vault with a CI
  /// identity and has no GitHub-to-ESC copy on top.
  @Test func theVaultToGitHubAndESCGivesNoSecondSource() throws {
    let box = try Sandbox(manifest: """
      version: 1
      project: wf
      environments: [production]
      secrets:
        JWT_SECRET: {}
      destinations:
        gh-org: { type: github, organization: acme, from: production }
        esc-prod: { type: pulumi-esc, organization: acme, environment: prod, from: production }

      """)
    let r = box.run(["init", "--ci", "github"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stderr == """
      coffer: wrote .github/workflows/coffer-sync.yml: syncs the vault to gh-org, esc-prod every 6 hours and on demand

      """)
    let text = try workflow(box)
    #expect(text.contains("""
            - name: Sync from the vault
              env:
                COFFER_IDENTITY: ${{ secrets.COFFER_IDENTITY }}
                GITHUB_TOKEN: ${{ secrets.COFFER_GITHUB_TOKEN }}
                PULUMI_ACCESS_TOKEN: ${{ secrets.PULUMI_ACCESS_TOKEN }}
              run: coffer sync --to gh-org esc-prod

      """))
    #expect(!text.contains("--from-env"))
    #expect(!text.contains("JWT_SECRET"))
  }

  /// `sync` from the vault never writes a `source: github` destination: skipped among all, refused by name.
  @Test func syncFromTheVaultLeavesASourceGitHubDestination() async throws {
    let box = try Sandbox(manifest: """
      version: 1
      project: wf
      environments: [production]
      secrets:
        API_KEY: {}
      destinations:
        local: { type: dotenv, path: local.env, from: production }
        mirror: { type: pulumi-esc, organization: acme, environment: mirror, from: production, source: github, api_url: "http://127.0.0.1:9" }

      """)
    #expect(box.set("API_KEY", "v1", env: "production").status == 0)
    let all = await run(box, ["sync"])
    #expect(all.status == 0, "\(all.stderr)")
    #expect(all.stderr.hasPrefix(
      "coffer: mirror: skipped: source: github (written from GitHub organization secrets by coffer sync --from-env)\n"))
    let named = await run(box, ["sync", "--to", "mirror"])
    #expect(named.status == 2)
    #expect(named.stderr == """
      coffer: error: mirror: source: github; its values come from GitHub organization secrets, so coffer sync from \
      the vault does not write it (one source per destination)
      coffer: hint: the scheduled workflow runs coffer sync --from-env for it (docs/ci.md)

      """)
  }

  static let guardManifest = """
    version: 1
    project: guard
    environments: [production]
    secrets:
      JWT_SECRET: {}
      NEW_ONE: {}
    destinations:
      local: { type: dotenv, path: local.env, from: production }

    """

  /// The sample: rotate, sync from the vault, then the scheduled copy with the old value. It is refused, by name
  /// and destination, exit 4; the rotated value stays; a name the vault never wrote is delivered.
  @Test func fromEnvDoesNotReplaceWhatTheVaultWroteLater() async throws {
    let box = try Sandbox(manifest: Self.guardManifest)
    #expect(box.set("JWT_SECRET", "old-jwt-canary-91c2-Qm7Xp2Lr9Vt4Wz8Bn1Kc6Fh3Jd5Gs0Ya", env: "production").status == 0)
    #expect(box.run(["rotate", "JWT_SECRET", "--env", "production", "--value", "rotated-jwt-canary-4d7e-Tz3Mq8Rv1Lp6Xw9Cb2Nk7Fj4Hd5Gs0Ya"]).status == 0)
    #expect(await run(box, ["sync"]).status == 0)
    let copy = await run(box, ["sync", "--from-env"], env: ["JWT_SECRET": "old-jwt-canary-91c2-Qm7Xp2Lr9Vt4Wz8Bn1Kc6Fh3Jd5Gs0Ya", "NEW_ONE": "n1"])
    #expect(copy.status == 4)
    #expect(copy.stderr.contains(
      "coffer: warning: local: JWT_SECRET was written from the vault by coffer sync more recently; --from-env does not "
        + "replace it (one source per destination: docs/ci.md)\n"))
    #expect(copy.out.contains(
      "  blocked   JWT_SECRET  written from the vault by coffer sync more recently; --from-env does not replace it "
        + "(one source per destination)\n"))
    #expect(!copy.all.contains("jwt-canary"))
    #expect(String(decoding: try box.read("local.env"), as: UTF8.self) == "JWT_SECRET=rotated-jwt-canary-4d7e-Tz3Mq8Rv1Lp6Xw9Cb2Nk7Fj4Hd5Gs0Ya\nNEW_ONE=n1\n")
    let state = String(decoding: try box.read(".coffer/state/local.json"), as: UTF8.self)
    #expect(state.contains("\"origin\" : \"environment\""))
    #expect(!state.contains("canary"))
  }

  /// Neighbours: the same value from the environment (unchanged, exit 0); a value the environment wrote last
  /// (replaced, exit 0); a vault sync after the environment's write (the vault is the source: replaced).
  @Test func fromEnvGuardNeighbours() async throws {
    let box = try Sandbox(manifest: Self.guardManifest)
    #expect(box.set("JWT_SECRET", "vault-1", env: "production").status == 0)
    #expect(await run(box, ["sync"]).status == 0)
    let same = await run(box, ["sync", "--from-env"], env: ["JWT_SECRET": "vault-1"])
    #expect(same.status == 0, "\(same.all)")
    #expect(same.out.contains("  unchanged JWT_SECRET\n"))
    let first = await run(box, ["sync", "--from-env"], env: ["NEW_ONE": "env-1"])
    #expect(first.status == 0, "\(first.all)")
    let second = await run(box, ["sync", "--from-env"], env: ["NEW_ONE": "env-2"])
    #expect(second.status == 0, "\(second.all)")
    #expect(String(decoding: try box.read("local.env"), as: UTF8.self) == "JWT_SECRET=vault-1\nNEW_ONE=env-2\n")
    #expect(box.set("NEW_ONE", "vault-2", env: "production").status == 0)
    let vault = await run(box, ["sync"])
    #expect(vault.status == 0, "\(vault.all)")
    #expect(String(decoding: try box.read("local.env"), as: UTF8.self) == "JWT_SECRET=vault-1\nNEW_ONE=vault-2\n")
    let after = await run(box, ["sync", "--from-env"], env: ["NEW_ONE": "env-3"])
    #expect(after.status == 4)
  }

  // MARK: - 2. The generated workflow

  static let workflowManifest = """
    version: 1
    project: wf
    environments: [production]
    groups:
      infra: {}
    secrets:
      API_KEY: {}
      LOG_LEVEL: { secret: false, required: false }
      DEPLOY_KEY: { group: infra }
    destinations:
      gh-org: { type: github, organization: acme, from: production, groups: [default] }
      esc-vault: { type: pulumi-esc, organization: acme, environment: prod, from: production, auth: oidc, groups: [default] }
      esc-mirror: { type: pulumi-esc, organization: acme, environment: mirror, from: production, source: github, groups: [default] }

    """

  @Test func theWorkflowMatchesTheManifestAndIsHardened() throws {
    let box = try Sandbox(manifest: Self.workflowManifest)
    let r = box.run(["init", "--ci", "github"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stderr == """
      coffer: wrote .github/workflows/coffer-sync.yml: syncs the vault to gh-org, esc-vault; GitHub organization \
      secrets to esc-mirror every 6 hours and on demand

      """)
    let text = try workflow(box)
    // One source per destination: the vault (with the CI identity; OIDC for esc-vault, so no Pulumi token), and
    // GitHub organization secrets for esc-mirror.
    #expect(text.contains("""
                COFFER_IDENTITY: ${{ secrets.COFFER_IDENTITY }}
                GITHUB_TOKEN: ${{ secrets.COFFER_GITHUB_TOKEN }}
              run: coffer sync --to gh-org esc-vault

      """))
    #expect(text.contains("""
                PULUMI_ACCESS_TOKEN: ${{ secrets.PULUMI_ACCESS_TOKEN }}
                API_KEY: ${{ secrets.API_KEY }}
                LOG_LEVEL: ${{ vars.LOG_LEVEL }}
              run: coffer sync --from-env --to esc-mirror

      """))
    #expect(!text.contains("DEPLOY_KEY"))
    // Hardening.
    #expect(text.contains("\npermissions:\n  contents: read\n  id-token: write\n"))
    #expect(text.contains("\n    environment: coffer-sync\n    timeout-minutes: 20\n"))
    let uses = text.split(separator: "\n").filter { $0.contains("uses:") }.map { String($0) }
    #expect(uses == [
      "      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2",
      "        uses: actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02 # v4.6.2",
    ])
    for line in uses {
      let ref = line.components(separatedBy: "@")[1].prefix(40)
      #expect(ref.count == 40 && ref.allSatisfy { $0.isHexDigit && !$0.isUppercase })
    }
    let update = try #require(text.range(of: "sudo apt-get update"))
    let install = try #require(text.range(of: "sudo apt-get install"))
    #expect(update.lowerBound < install.lowerBound)
    #expect(text.contains("COFFER_SHA256: ${{ vars.COFFER_SHA256 }}"))
    #expect(text.contains("COFFER_DIST_URL: ${{ vars.COFFER_DIST_URL }}"))
    #expect(text.contains(#"echo "$COFFER_SHA256  $RUNNER_TEMP/coffer.tar.gz" | sha256sum --check --strict -"#))
    #expect(!text.contains("swift build"))
    // The install script takes its inputs from env, never spliced ${{ }}, and holds no secret.
    let script = text.components(separatedBy: "- name: Install coffer")[1].components(separatedBy: "- name: Sync")[0]
    #expect(!script.components(separatedBy: "run: |")[1].contains("${{"))
    #expect(!script.contains("secrets."))
    // The audit trail leaves the runner, whatever happened before.
    #expect(text.contains("""
            - name: Export the audit log
              if: always()
              run: coffer audit export -o coffer-audit.jsonl
            - name: Upload the audit log
              if: always()
              uses: actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02 # v4.6.2
              with:
                name: coffer-audit-${{ github.run_id }}-${{ github.run_attempt }}
                path: coffer-audit.jsonl

      """))
  }

  /// GitHub's workflow schema (check-jsonschema's builtin vendor.github-workflows, offline), for the sample
  /// workflow and its neighbours: vault only, GitHub only, OIDC only.
  @Test(arguments: [
    workflowManifest,
    "version: 1\nproject: a\nenvironments: [production]\nsecrets:\n  A: {}\ndestinations:\n  gh: { type: github, repository: acme/api, from: production }\n",
    "version: 1\nproject: a\nenvironments: [production]\nsecrets:\n  A: {}\ndestinations:\n  m: { type: pulumi-esc, organization: acme, environment: m, from: production, source: github }\n",
    "version: 1\nproject: a\nenvironments: [production]\nsecrets:\n  A: {}\ndestinations:\n  m: { type: pulumi-esc, organization: acme, environment: m, from: production, source: github, auth: oidc }\n",
  ])
  func theWorkflowValidatesAgainstGitHubsSchema(manifest: String) throws {
    let box = try Sandbox(manifest: manifest)
    #expect(box.run(["init", "--ci", "github"]).status == 0)
    let result = try ChildProcess.run(
      "/usr/bin/env", ["check-jsonschema", "--builtin-schema", "vendor.github-workflows", box.path(".github/workflows/coffer-sync.yml")],
      cwd: box.dir, environment: ProcessInfo.processInfo.environment, stdin: nil)
    let output = String(decoding: result.stdout, as: UTF8.self) + String(decoding: result.stderr, as: UTF8.self)
    #expect(result.status == 0, "\(output)")
    #expect(output.contains("ok -- validation done"))
  }

  // MARK: - OIDC against the fakes

  func oidcBox(_ esc: FakePulumiESC, allow: Bool = true) throws -> Sandbox {
    try Sandbox(manifest: """
      version: 1
      project: oidc
      environments: [production]
      secrets:
        API_KEY: {}
      destinations:
        esc-prod:
          type: pulumi-esc
          organization: acme
          environment: prod
          from: production
          auth: oidc
          api_url: \(esc.baseURL)
          allow_custom_api_url: \(allow)

      """)
  }

  static let requestToken = "actions-request-token-canary-5e1f"

  @Test func oidcExchangeFeedsESCWithAShortLivedToken() async throws {
    let oidc = FakeActionsOIDC(requestToken: Self.requestToken)
    let esc = FakePulumiESC(tokens: [])
    esc.addOrganization("acme")
    try await oidc.start()
    try await esc.start()
    defer { Task { await oidc.stop(); await esc.stop() } }
    esc.trustIDToken(oidc.idToken(audience: "urn:pulumi:org:acme"), organization: "acme")
    let box = try oidcBox(esc)
    let env = [
      "CI": "true", "GITHUB_ACTIONS": "true", "ACTIONS_ID_TOKEN_REQUEST_URL": oidc.requestURL,
      "ACTIONS_ID_TOKEN_REQUEST_TOKEN": Self.requestToken, "API_KEY": "from-github-canary-77aa",
    ]
    let r = await run(box, ["sync", "--from-env"], env: env)
    #expect(r.status == 0, "\(r.all)")
    #expect(oidc.requestedAudiences == ["urn:pulumi:org:acme"])
    #expect(esc.exchangedTokens == ["pul-oidc-1-acme"])
    #expect(!esc.authorizations.isEmpty && esc.authorizations.allSatisfy { $0 == "token pul-oidc-1-acme" })
    #expect(esc.environmentVariables("acme", "default", "prod")["API_KEY"] == Array("from-github-canary-77aa".utf8))
    #expect(!r.all.contains("canary") && !r.all.contains("pul-oidc") && !r.all.contains(oidc.idToken(audience: "urn:pulumi:org:acme")))
  }

  /// `doctor` and `pull` do the same exchange: doctor reports it as "token present", pull reads with the token.
  @Test func doctorAndPullUseTheExchangedToken() async throws {
    let oidc = FakeActionsOIDC(requestToken: Self.requestToken)
    let esc = FakePulumiESC(tokens: [])
    esc.addOrganization("acme")
    try await oidc.start()
    try await esc.start()
    defer { Task { await oidc.stop(); await esc.stop() } }
    esc.trustIDToken(oidc.idToken(audience: "urn:pulumi:org:acme"), organization: "acme")
    try esc.setDefinition("acme", "default", "prod", yaml: "values:\n  API_KEY:\n    fn::secret: pulled-canary-0c1d\n  environmentVariables:\n    API_KEY: ${API_KEY}\n")
    let box = try oidcBox(esc)
    box.extraEnvironment = [
      "ACTIONS_ID_TOKEN_REQUEST_URL": oidc.requestURL, "ACTIONS_ID_TOKEN_REQUEST_TOKEN": Self.requestToken,
    ]
    let doctor = await run(box, ["doctor"])
    #expect(doctor.status == 0, "\(doctor.all)")
    #expect(doctor.out.contains("esc-prod     token present        ok       from the OIDC token exchange\n"), "\(doctor.out)")
    let pull = await run(box, ["pull", "--from", "esc-prod"])
    #expect(pull.status == 0, "\(pull.all)")
    #expect(box.run(["get", "API_KEY", "-n", "--env", "production"]).out == "pulled-canary-0c1d")
    #expect(esc.exchangedTokens == ["pul-oidc-1-acme", "pul-oidc-2-acme"])
    #expect(!doctor.all.contains("pul-oidc") && !pull.all.contains("pul-oidc") && !pull.all.contains("canary"))
  }

  /// A refused audience (the token is trusted for another organization) and neighbours: an untrusted token, a
  /// wrong request token, a job without id-token permission (no request URL). Each fails the destination, exit 4,
  /// with a clear message and no token.
  @Test(arguments: ["other-org", "untrusted", "wrong-bearer", "no-permission"])
  func oidcRefusalsAreClearAndExit4(kind: String) async throws {
    let oidc = FakeActionsOIDC(requestToken: Self.requestToken)
    let esc = FakePulumiESC(tokens: [])
    esc.addOrganization("acme")
    esc.addOrganization("other")
    try await oidc.start()
    try await esc.start()
    defer { Task { await oidc.stop(); await esc.stop() } }
    let idToken = oidc.idToken(audience: "urn:pulumi:org:acme")
    if kind == "other-org" { esc.trustIDToken(idToken, organization: "other") }
    let box = try oidcBox(esc)
    var env = [
      "ACTIONS_ID_TOKEN_REQUEST_URL": oidc.requestURL, "ACTIONS_ID_TOKEN_REQUEST_TOKEN": Self.requestToken,
      "API_KEY": "v", "COFFER_TEST_ONLY_NO_SLEEP": "1",
    ]
    if kind == "wrong-bearer" { env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] = "wrong-request-token" }
    if kind == "no-permission" { env["ACTIONS_ID_TOKEN_REQUEST_URL"] = nil }
    let r = await run(box, ["sync", "--from-env"], env: env)
    #expect(r.status == 4)
    let expected: String
    switch kind {
    case "other-org", "untrusted":
      expected = "FAILED: no token: Pulumi Cloud refused the OIDC token exchange for audience urn:pulumi:org:acme (POST /api/oauth/token: 400)"
    case "wrong-bearer":
      expected = "FAILED: no token: the GitHub Actions OIDC token request (GET /_apis/pipelines/idtoken) answered 401"
    default:
      expected = "FAILED: no token: auth: oidc needs ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN, which GitHub Actions sets only in a job with permissions: id-token: write"
    }
    #expect(r.out.contains(expected + "\n"), "\(r.out)")
    #expect(esc.exchangedTokens == [])
    #expect(esc.revision("acme", "default", "prod") == 0)
    #expect(!r.all.contains(Self.requestToken) && !r.all.contains(idToken))
  }

  // MARK: - api_url in CI

  /// In CI a destination whose api_url is not the service's own is refused (exit 2, nothing read or written)
  /// unless the manifest or the command allows it; outside CI it is used.
  @Test(arguments: [
    (["CI": "true"], false, [String](), true),
    (["GITHUB_ACTIONS": "true"], false, [String](), true),
    (["CI": "true"], true, [String](), false),
    (["CI": "true"], false, ["--allow-custom-api-url"], false),
    ([String: String](), false, [String](), false),
  ])
  func customAPIURLsAreRefusedInCI(env: [String: String], allow: Bool, flags: [String], refused: Bool) async throws {
    let esc = FakePulumiESC(tokens: ["pul-ci-token"])
    esc.addOrganization("acme")
    try await esc.start()
    defer { Task { await esc.stop() } }
    let box = try Sandbox(manifest: """
      version: 1
      project: ci
      environments: [production]
      secrets:
        API_KEY: {}
      destinations:
        esc-prod: { type: pulumi-esc, organization: acme, environment: prod, from: production, api_url: "\(esc.baseURL)", allow_custom_api_url: \(allow) }

      """)
    let r = await run(
      box, ["sync", "--from-env"] + flags, env: env.merging(["API_KEY": "v", "PULUMI_ACCESS_TOKEN": "pul-ci-token"]) { $1 })
    #expect(r.status == (refused ? 2 : 0), "\(r.all)")
    if refused {
      #expect(r.stderr == """
        coffer: error: esc-prod: api_url \(esc.baseURL) is not https://api.pulumi.com; in CI (CI=true) Coffer does not \
        send a token or values to another host
        coffer: hint: if this host is yours (GitHub Enterprise Server, self-hosted Pulumi), add allow_custom_api_url: \
        true to the destination esc-prod in coffer.yaml, or pass --allow-custom-api-url in the workflow

        """)
      #expect(esc.requests.isEmpty)
    } else {
      #expect(esc.environmentVariables("acme", "default", "prod")["API_KEY"] == Array("v".utf8))
    }
  }

  // MARK: - 3. Sync that matches its docs

  /// Each retry is announced with its cause, wait and try number: a 429 with retry-after: 1 waits 1 s, up to 5
  /// tries (waits are no-ops here: COFFER_TEST_ONLY_NO_SLEEP).
  @Test func retriesAreAnnouncedWithTheHonouredRetryAfter() async throws {
    let esc = FakePulumiESC(tokens: ["pul-ci-token"])
    esc.addOrganization("acme")
    try await esc.start()
    defer { Task { await esc.stop() } }
    let box = try Sandbox(manifest: """
      version: 1
      project: retry
      environments: [production]
      secrets:
        API_KEY: {}
      destinations:
        esc-prod: { type: pulumi-esc, organization: acme, environment: prod, from: production, api_url: "\(esc.baseURL)" }

      """)
    box.extraEnvironment = ["COFFER_TEST_ONLY_NO_SLEEP": "1", "PULUMI_ACCESS_TOKEN": "pul-ci-token", "API_KEY": "v"]
    esc.inject(.tooManyRequests(retryAfter: 1), method: "GET", times: 2)
    let ok = await run(box, ["plan", "--from-env"])
    #expect(ok.status == 0, "\(ok.all)")
    #expect(ok.stderr == """
      coffer: retrying GET /api/esc/environments/acme/default/prod after 429 in 1 s (try 2 of 5)
      coffer: retrying GET /api/esc/environments/acme/default/prod after 429 in 1 s (try 3 of 5)

      """)
    esc.resetLog()
    esc.inject(.tooManyRequests(retryAfter: 1), method: "GET", times: 10)
    let failed = await run(box, ["plan", "--from-env"])
    #expect(failed.status == 4)
    #expect(esc.requests.map(\.status) == [429, 429, 429, 429, 429])
    #expect(failed.stderr.components(separatedBy: "after 429 in 1 s").count == 5)
    #expect(failed.stderr.hasSuffix("(try 5 of 5)\n"))
    #expect(failed.out.contains("FAILED: cannot read the environment: GET /api/esc/environments/acme/default/prod: 429\n"))
  }

  /// The stale marker: a rotation and a sync within the same second (COFFER_NOW fixes both) clear it, because
  /// the sync read the marking counter before the values.
  @Test func rotateAndSyncInTheSameSecondClearTheMarker() async throws {
    let box = try Sandbox(manifest: Self.guardManifest)
    let now = ["COFFER_NOW": "2026-03-01T10:00:00Z"]
    #expect(box.run(["set", "JWT_SECRET", "--env", "production"], stdin: Data("one-Qm7Xp2Lr9Vt4Wz8Bn1Kc6Fh3Jd5Gs0Ya".utf8), env: now).status == 0)
    #expect(box.run(["rotate", "JWT_SECRET", "--env", "production", "--value", "two-Tz3Mq8Rv1Lp6Xw9Cb2Nk7Fj4Hd5Gs0Ya"], env: now).status == 0)
    let marked = String(decoding: try box.read(".coffer/state/stale.json"), as: UTF8.self)
    #expect(marked == #"{"version":1,"sequence":1,"environments":{"production":{"stale_since":"2026-03-01T10:00:00Z","secrets":["JWT_SECRET"],"sequence":1}}}"# + "\n")
    let sync = await run(box, ["sync"], env: now)
    #expect(sync.status == 0, "\(sync.all)")
    #expect(sync.stderr.hasSuffix("coffer: destinations of production are up to date\n"))
    #expect(String(decoding: try box.read(".coffer/state/stale.json"), as: UTF8.self) == #"{"version":1,"sequence":1,"environments":{}}"# + "\n")
    // A second rotation in that same second marks again, with a later sequence.
    #expect(box.run(["rotate", "JWT_SECRET", "--env", "production", "--value", "three-Wc5Nr2Kp8Lx1Vq7Zb4Mf9Hj3Gd6Ts0Ya"], env: now).status == 0)
    #expect(String(decoding: try box.read(".coffer/state/stale.json"), as: UTF8.self).contains(#""sequence":2}}}"#))
  }

  static let audienceManifest = """
    version: 1
    project: audience
    environments: [production]
    recipients:
      admin: age1l2f25288x4xhvpvwvdnjhx5erv82mgxv0xnpjmlvm56huczfa5nqsxnvhz
      ci: age1vzawt6xcld3h73jftjx3sj3lmlxtnwzhtp4y7qlpk0qq0lfw293sar97an
      dev: age165kn7pum7rgmwjpvlsfz9ly83xwj0yq26yrlqtrfqafefdkhl5ksn2a6sq
    groups:
      infra: {}
      app: {}
    secrets:
      DEPLOY_KEY: { group: infra }
      API_KEY: { group: app }
    access:
      - { environments: [production], groups: [infra], recipients: [admin, ci] }
      - { environments: [production], groups: [app], recipients: ["*"] }
    destinations:
      gh-repo: { type: github, repository: acme/api, from: production }

    """

  /// A group readable only by admin and CI pushed to repository secrets: init --ci warns, pointing at groups:.
  @Test func initCIWarnsWhenADestinationIsWiderThanTheGroupsReaders() throws {
    let box = try Sandbox(manifest: Self.audienceManifest)
    let r = box.run(["init", "--ci", "github"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stderr.hasSuffix("""
      coffer: warning: gh-repo: group infra in production is readable by only admin, ci per the access rules, but goes \
      to repository secrets of acme/api, which every workflow in that repository can read; leave it out with the \
      destination's groups: filter (docs/sync.md)

      """))
    #expect(!r.stderr.contains("group app"))
  }

  /// Neighbours: the groups: filter leaves infra out (no warning); no access rules (no warning); an ESC
  /// destination (warned, with its own audience).
  @Test(arguments: [
    ("gh-repo: { type: github, repository: acme/api, from: production, groups: [app] }", true, nil),
    ("gh-repo: { type: github, repository: acme/api, from: production }", false, nil),
    ("esc: { type: pulumi-esc, organization: acme, environment: prod, from: production }", true,
     "esc: group infra in production is readable by only admin, ci per the access rules, but goes to the ESC environment acme/default/prod, which everyone with access to it can read"),
  ] as [(String, Bool, String?)])
  func audienceWarningNeighbours(destination: String, rules: Bool, warning: String?) throws {
    var manifest = Self.audienceManifest.replacingOccurrences(
      of: "  gh-repo: { type: github, repository: acme/api, from: production }", with: "  " + destination)
    if !rules {
      manifest = manifest.replacingOccurrences(
        of: "access:\n  - { environments: [production], groups: [infra], recipients: [admin, ci] }\n  - { environments: [production], groups: [app], recipients: [\"*\"] }\n",
        with: "")
    }
    let box = try Sandbox(manifest: manifest)
    let r = box.run(["init", "--ci", "github"])
    #expect(r.status == 0, "\(r.stderr)")
    if let warning {
      #expect(r.stderr.contains("coffer: warning: " + warning + "; leave it out with the destination's groups: filter (docs/sync.md)\n"))
    } else {
      #expect(!r.stderr.contains("warning"), "\(r.stderr)")
    }
  }

  /// `plan` and `sync` warn too (the vault is read, so only groups actually delivered count).
  @Test func planWarnsAboutTheAudience() async throws {
    let github = FakeGitHub(tokens: ["ghp-audience"])
    github.addRepository("acme/api")
    try await github.start()
    defer { Task { await github.stop() } }
    let box = try Sandbox(manifest: Self.audienceManifest.replacingOccurrences(
      of: "from: production }", with: "from: production, api_url: \"\(github.baseURL)\" }")
      .replacingOccurrences(of: "  admin: age1l2f25288x4xhvpvwvdnjhx5erv82mgxv0xnpjmlvm56huczfa5nqsxnvhz", with: "  admin: PLACEHOLDER"))
    let manifest = String(decoding: try box.read("coffer.yaml"), as: UTF8.self).replacingOccurrences(of: "PLACEHOLDER", with: box.recipient)
    try box.write("coffer.yaml", manifest)
    box.extraEnvironment = ["GITHUB_TOKEN": "ghp-audience", "COFFER_TEST_ONLY_NO_SLEEP": "1"]
    #expect(box.set("DEPLOY_KEY", "k", env: "production").status == 0)
    #expect(box.set("API_KEY", "a", env: "production").status == 0)
    let plan = await run(box, ["plan"])
    #expect(plan.status == 0, "\(plan.all)")
    #expect(plan.stderr.contains(
      "coffer: warning: gh-repo: group infra in production is readable by only admin, ci per the access rules, but goes "
        + "to repository secrets of acme/api, which every workflow in that repository can read; leave it out with the "
        + "destination's groups: filter (docs/sync.md)\n"))
    #expect(!plan.stderr.contains("group app"))
  }

  /// `sync` warns per item about a value `check` flags, by name and reason, and delivers it as is.
  @Test func syncWarnsAboutMalformedValues() async throws {
    let box = try Sandbox(manifest: """
      version: 1
      project: fmt
      environments: [production]
      secrets:
        API_KEY: { prefix: "sk-" }
        SHORT: { min_length: 20 }
        FINE: {}
      destinations:
        local: { type: dotenv, path: local.env, from: production }

      """)
    #expect(box.set("API_KEY", "nope-canary-3b1a", env: "production").status == 0)
    #expect(box.set("SHORT", "tiny-canary", env: "production").status == 0)
    #expect(box.set("FINE", "fine-canary", env: "production").status == 0)
    let r = await run(box, ["sync"])
    #expect(r.status == 0, "\(r.all)")
    let warnings = r.stderr.split(separator: "\n").filter { $0.hasPrefix("coffer: warning:") }
    #expect(warnings.count == 2)
    #expect(warnings.first?.hasPrefix("coffer: warning: API_KEY in production does not start with the required prefix ") == true)
    #expect(warnings.first?.hasSuffix("; it is delivered as is (coffer check --env production)") == true)
    #expect(warnings.last == "coffer: warning: SHORT in production is 11 characters, needs at least 20; it is delivered as is (coffer check --env production)")
    #expect(!r.all.contains("canary"))
    #expect(String(decoding: try box.read("local.env"), as: UTF8.self).contains("API_KEY=nope-canary-3b1a\n"))
  }

  /// The canaries stay out of every new message: format warnings, the --from-env refusal, the plan.
  @Test func newSyncMessagesNeverPrintCanaries() throws {
    let sb = try plantedSandbox()
    var manifest = String(decoding: try sb.read("coffer.yaml"), as: UTF8.self)
    manifest += "destinations:\n  local: { type: dotenv, path: canary.env, from: development }\n"
    try sb.write("coffer.yaml", manifest)
    let sync = sb.run(["sync"])
    expectStatus(sync, 0, "sync")
    expectNoLeak(sync, "sync")
    #expect(sync.stderr.contains("coffer: warning: SIMPLE_TOKEN in development "))
    var env: [String: String] = [:]
    for canary in Canaries.development { env[canary.name] = "changed-" + canary.marker }
    let copy = sb.run(["sync", "--from-env"], env: env)
    expectStatus(copy, 4, "sync --from-env")
    expectNoLeak(copy, "sync --from-env")
    #expect(copy.stderr.contains("--from-env does not replace it"))
    let plan = sb.run(["plan", "--from-env"], env: env)
    expectNoLeak(plan, "plan --from-env")
  }
}
