import CofferTesting
import Foundation
import Testing

/// `coffer plan/sync/pull/doctor/init --ci` end to end: the built binary against in-process fakes on 127.0.0.1.
@Suite struct SyncCLITests {
  /// Runs the binary on a Dispatch thread, so that the blocking wait for the child does not hold a thread of
  /// Swift's cooperative pool, which the other tests running meanwhile need.
  func run(_ box: Sandbox, _ args: [String], stdin: Data? = nil, env: [String: String] = [:]) async -> CLIResult {
    await withCheckedContinuation { continuation in
      DispatchQueue.global().async { continuation.resume(returning: box.run(args, stdin: stdin, env: env)) }
    }
  }

  static let canary = "canary-7f3a9e-SECRET"
  static let githubToken = "ghp-canary-token-1234"
  static let pulumiToken = "pul-canary-token-5678"

  func manifest(github: String, esc: String) -> String {
    """
    version: 1
    project: sync-test
    environments: [development, staging, production]
    groups:
      api-keys: { rotation: 90d }
    secrets:
      OPENAI_API_KEY: { group: api-keys }
      DATABASE_URL: {}
      LOG_LEVEL: { secret: false, required: false }
    destinations:
      github-prod:
        type: github
        repository: acme/api
        from: production
        api_url: \(github)
      esc-prod:
        type: pulumi-esc
        organization: acme
        environment: prod
        from: production
        api_url: \(esc)
      local:
        type: dotenv
        path: .env.synced
        from: production

    """
  }

  /// `rotate` marks an environment's destinations stale; only a sync that delivered to every destination fed by
  /// that environment clears the marker (docs/access.md, *Stale destinations*).
  @Test func syncClearsTheStaleMarkerOnlyWhenEveryDestinationIsDelivered() throws {
    let box = try Sandbox(manifest: """
      version: 1
      project: stale-test
      environments: [development, production]
      secrets:
        API_KEY: {}
      destinations:
        one: { type: dotenv, path: one.env, from: production }
        two: { type: dotenv, path: two.env, from: production }
        dev: { type: dotenv, path: dev.env, from: development }

      """)
    #expect(box.set("API_KEY", "first-value", env: "production").status == 0)
    #expect(box.run(["rotate", "API_KEY", "--env", "production", "--value", "second-value"], env: ["COFFER_NOW": "2026-02-01T00:00:00Z"]).status == 0)
    let marker = #"{"version":1,"sequence":1,"environments":{"production":{"stale_since":"2026-02-01T00:00:00Z","secrets":["API_KEY"],"sequence":1}}}"# + "\n"
    func stale() throws -> String { String(decoding: try box.read(".coffer/state/stale.json"), as: UTF8.self) }
    #expect(try stale() == marker)
    #expect(box.run(["sync", "--dry-run"]).status == 0)
    #expect(try stale() == marker)
    let partial = box.run(["sync", "--to", "one", "dev"])
    #expect(partial.status == 0, "\(partial.stderr)")
    #expect(try stale() == marker)  // two has not received the new value
    #expect(!partial.stderr.contains("up to date"))
    let all = box.run(["sync"])
    #expect(all.status == 0, "\(all.stderr)")
    #expect(all.stderr.hasSuffix("coffer: destinations of production are up to date\n"))
    #expect(try stale() == #"{"version":1,"sequence":1,"environments":{}}"# + "\n")
    #expect(String(decoding: try box.read("two.env"), as: UTF8.self) == "API_KEY=second-value\n")
  }

  /// `pull` selects like `sync` (a destination's `groups:`), and its plan shows as blocked what the write would
  /// refuse, instead of failing after planning.
  @Test func pullHonoursGroupsAndPlansWhatItWillDo() throws {
    let box = try Sandbox(manifest: """
      version: 1
      project: pull-test
      environments: [production]
      groups:
        api-keys: { rotation: 90d }
        database-credentials: { rotation: 90d }
      secrets:
        API_KEY: { group: api-keys }
        DB_PASS: { group: database-credentials }
      destinations:
        local: { type: dotenv, path: local.env, from: production, groups: [api-keys] }

      """)
    try box.write("local.env", "API_KEY=sk-pulled-value\nDB_PASS=pulled-db-pass\n")
    let dry = box.run(["pull", "--from", "local", "--dry-run"])
    #expect(dry.status == 1)
    #expect(dry.stderr.hasSuffix("coffer: some items were blocked and not pulled (see `blocked` above): exit status 1; pass --allow-blocked to accept them\n"))
    #expect(dry.out == """
      local → vault production
        create    API_KEY
        blocked   DB_PASS     group database-credentials is not among this destination's groups
        1 to create, 0 to update, 0 unchanged, 1 blocked

      """)
    let pulled = box.run(["pull", "--from", "local"])
    #expect(pulled.status == 1)
    #expect(pulled.out == dry.out)
    #expect(box.run(["get", "-n", "API_KEY", "--env", "production"]).out == "sk-pulled-value")
    #expect(box.run(["get", "DB_PASS", "--env", "production"]).status == 1)
    #expect(!dry.all.contains("pulled-value") && !dry.all.contains("pulled-db-pass"))

    // Access rules that let nobody read database-credentials: the write would be refused, so the plan says so.
    let ruled = try Sandbox()
    try ruled.write("coffer.yaml", """
      version: 1
      project: pull-test
      environments: [production]
      recipients:
        tester: \(ruled.recipient)
      groups:
        api-keys: { rotation: 90d }
        database-credentials: { rotation: 90d }
      secrets:
        API_KEY: { group: api-keys }
        DB_PASS: { group: database-credentials }
      access:
        - { environments: [production], groups: [api-keys], recipients: [tester] }
      destinations:
        all: { type: dotenv, path: all.env, from: production }

      """)
    try ruled.write("all.env", "API_KEY=sk-pulled-value\nDB_PASS=pulled-db-pass\n")
    let planned = ruled.run(["pull", "--from", "all", "--dry-run"])
    #expect(planned.status == 1)
    #expect(planned.out == """
      all → vault production
        create    API_KEY
        blocked   DB_PASS     no recipient may read this key (database-credentials)
        1 to create, 0 to update, 0 unchanged, 1 blocked

      """)
    let done = ruled.run(["pull", "--from", "all", "--allow-blocked"])
    #expect(done.status == 0, "\(done.stderr)")
    #expect(ruled.run(["get", "-n", "API_KEY", "--env", "production"]).out == "sk-pulled-value")
  }

  /// GitHub secret names ignore case: `api_key` after `API_KEY` would read the same secret, so it is left out.
  @Test func ciWorkflowLeavesOutNamesThatCollideIgnoringCase() throws {
    let box = try Sandbox(manifest: """
      version: 1
      project: wf
      environments: [production]
      secrets:
        API_KEY: {}
        api_key: {}
      destinations:
        esc-prod: { type: pulumi-esc, organization: acme, environment: prod, from: production, source: github }

      """)
    let r = box.run(["init", "--ci", "github"])
    #expect(r.status == 0)
    #expect(r.stderr.hasSuffix(
      "coffer: warning: api_key is left out of the workflow: GitHub names ignore case, so it is the same secret as a name already in the workflow\n"))
    let workflow = String(decoding: try box.read(".github/workflows/coffer-sync.yml"), as: UTF8.self)
    #expect(workflow.contains("          API_KEY: ${{ secrets.API_KEY }}\n"))
    #expect(!workflow.contains("api_key"))
  }

  @Test func syncPlanDoctorPullAndCI() async throws {
    let github = FakeGitHub(tokens: [Self.githubToken])
    github.addRepository("acme/api")
    let esc = FakePulumiESC(tokens: [Self.pulumiToken])
    esc.addOrganization("acme")
    try await github.start()
    try await esc.start()
    defer { Task { await github.stop(); await esc.stop() } }

    let box = try Sandbox(manifest: manifest(github: github.baseURL, esc: esc.baseURL))
    box.extraEnvironment = [
      "GITHUB_TOKEN": Self.githubToken, "PULUMI_ACCESS_TOKEN": Self.pulumiToken, "COFFER_TEST_ONLY_NO_SLEEP": "1",
    ]
    let values = [
      "OPENAI_API_KEY": "sk-\(Self.canary)-a\nline2 $HOME \"q\" é",
      "DATABASE_URL": "postgres://u:\(Self.canary)@db/x",
      "LOG_LEVEL": "debug",
    ]
    for (name, value) in values.sorted(by: { $0.key < $1.key }) {
      #expect(await run(box, ["set", name, "--undeclared", "--env", "production"], stdin: Data(value.utf8), env: [:]).status == 0)
    }
    // go-version is refused by the one naming rule (issue 11, kind 4); GITHUB_REF_PIN is a valid name GitHub refuses.
    #expect(await run(box, ["set", "go-version", "--undeclared", "--env", "production"], stdin: Data("1.22".utf8)).status == 2)
    #expect(await run(box, ["set", "GITHUB_REF_PIN", "--undeclared", "--env", "production"], stdin: Data("1.22".utf8)).status == 0)

    var outputs: [CLIResult] = []
    let plan = await run(box, ["plan"])
    outputs.append(plan)
    #expect(plan.status == 0, "\(plan.stderr)")
    #expect(plan.out.contains("  create    OPENAI_API_KEY"))
    #expect(plan.out.contains("  blocked   GITHUB_REF_PIN"))
    #expect(plan.out.contains("starts with GITHUB_, which GitHub reserves"))
    #expect(plan.out.contains("  create    LOG_LEVEL (plain)"))
    #expect(github.writeCount == 0)

    // Something was blocked: sync delivers the rest and exits 1, unless --allow-blocked (issue 11, kind 4).
    let first = await run(box, ["sync"])
    outputs.append(first)
    #expect(first.status == 1, "\(first.all)")
    #expect(first.stderr.hasSuffix(
      "coffer: some items were blocked and not delivered (see `blocked` above): exit status 1; pass --allow-blocked to accept them\n"))
    #expect(github.secret("OPENAI_API_KEY", in: .repository("acme/api"))?.value == Array(values["OPENAI_API_KEY"]!.utf8))
    #expect(github.secret("DATABASE_URL", in: .repository("acme/api"))?.value == Array(values["DATABASE_URL"]!.utf8))
    #expect(github.variable("LOG_LEVEL", in: .repository("acme/api"))?.value == Array("debug".utf8))
    #expect(esc.environmentVariables("acme", "default", "prod")["OPENAI_API_KEY"] == Array(values["OPENAI_API_KEY"]!.utf8))
    let dotenv = String(decoding: try box.read(".env.synced"), as: UTF8.self)
    #expect(dotenv.contains("LOG_LEVEL=debug\n"))
    let mode = try FileManager.default.attributesOfItem(atPath: box.path(".env.synced"))[.posixPermissions] as? Int
    #expect(mode == 0o600)
    let state = String(decoding: try box.read(".coffer/state/github-prod.json"), as: UTF8.self)
    #expect(state.contains("\"OPENAI_API_KEY\""))
    #expect(!state.contains(Self.canary))
    #expect(first.stderr.contains("coffer: github-prod: [1/"))

    // A second sync right after makes no writes anywhere.
    let githubWrites = github.writeCount
    let escPatches = esc.requests.filter { $0.method == "PATCH" }.count
    let second = await run(box, ["sync", "--json", "--allow-blocked"])
    outputs.append(second)
    #expect(second.status == 0)
    #expect(github.writeCount == githubWrites)
    #expect(esc.requests.filter { $0.method == "PATCH" }.count == escPatches)
    #expect(second.out.hasPrefix("{\"ok\":true,\"blocked\":true,\"destinations\":[{\"name\":\"github-prod\""))
    let secondStrict = await run(box, ["sync", "--json"])
    #expect(secondStrict.status == 1)
    #expect(secondStrict.out.hasPrefix("{\"ok\":false,\"blocked\":true,\"destinations\":[{\"name\":\"github-prod\""))
    #expect(!second.out.contains("\"action\":\"update\""))

    // Drift at GitHub shows in the plan.
    github.setSecret("DATABASE_URL", Array("changed elsewhere".utf8), in: .repository("acme/api"))
    let drift = await run(box, ["plan", "--to", "github-prod"])
    outputs.append(drift)
    #expect(drift.out.contains("  drifted   DATABASE_URL"))

    // A failure exits 4, reports the secret, and a rerun converges.
    #expect(await run(box, ["set", "OPENAI_API_KEY", "--undeclared", "--env", "production"], stdin: Data("sk-\(Self.canary)-v2".utf8)).status == 0)
    github.inject(.serverError, method: "PUT", pathContains: "OPENAI_API_KEY", times: 5)
    let failing = await run(box, ["sync-to-github"])
    outputs.append(failing)
    #expect(failing.status == 4)  // a failure wins over a blocked item
    #expect(failing.out.contains("  FAILED    OPENAI_API_KEY "))
    #expect(failing.out.contains("PUT /repos/acme/api/actions/secrets/OPENAI_API_KEY: 500 Server Error\n"))
    #expect(failing.out.contains("  restored  DATABASE_URL"))
    let rerun = await run(box, ["sync-to-github", "--allow-blocked"])
    outputs.append(rerun)
    #expect(rerun.status == 0, "\(rerun.all)")
    #expect(github.secret("OPENAI_API_KEY", in: .repository("acme/api"))?.value == Array("sk-\(Self.canary)-v2".utf8))

    // Doctor: all good, then a missing token.
    let doctor = await run(box, ["doctor"])
    outputs.append(doctor)
    #expect(doctor.status == 0, "\(doctor.all)")
    #expect(doctor.out.contains("github-prod  public key readable"))
    let noToken = await run(box, ["doctor", "--to", "github-prod"], env: ["GITHUB_TOKEN": ""])
    outputs.append(noToken)
    #expect(noToken.status == 1)
    #expect(noToken.out.contains("token present"))
    #expect(noToken.out.contains("export GITHUB_TOKEN="))

    // Pull from ESC into staging: a plan, then new versions.
    let dry = await run(box, ["pull", "--from", "esc-prod", "--env", "staging", "--dry-run"])
    outputs.append(dry)
    #expect(dry.status == 0, "\(dry.all)")
    #expect(dry.out.contains("  create    OPENAI_API_KEY"))
    let pulled = await run(box, ["pull", "--from", "esc-prod", "--env", "staging"])
    outputs.append(pulled)
    #expect(pulled.status == 0)
    #expect(await run(box, ["get", "DATABASE_URL", "--env", "staging", "-n"]).out == values["DATABASE_URL"])
    #expect(await run(box, ["pull", "--from", "github-prod"]).status == 2)

    // --from-env: the process environment does not replace what the vault wrote (one source per destination).
    let fromEnv = await run(box,
      ["sync", "--from-env", "--to", "esc-prod"], env: ["OPENAI_API_KEY": "from-env-\(Self.canary)", "LOG_LEVEL": "warn"])
    outputs.append(fromEnv)
    #expect(fromEnv.status == 4, "\(fromEnv.all)")
    #expect(fromEnv.stderr.contains("coffer: warning: esc-prod: OPENAI_API_KEY was written from the vault by coffer sync more recently"))
    #expect(esc.environmentVariables("acme", "default", "prod")["OPENAI_API_KEY"] == Array(values["OPENAI_API_KEY"]!.utf8))
    #expect(esc.environmentVariables("acme", "default", "prod")["LOG_LEVEL"] == Array("debug".utf8))
    // An empty variable (what GitHub Actions gives for a secret the repository cannot see) is never pushed.
    // ... and, since that secret never arrived, the sync exits 1 unless --allow-blocked.
    let blank = await run(box, ["sync", "--from-env", "--to", "esc-prod"], env: ["OPENAI_API_KEY": "", "LOG_LEVEL": "debug"])
    outputs.append(blank)
    #expect(blank.status == 1, "\(blank.all)")
    #expect(blank.stderr.hasSuffix(
      "coffer: some declared variables were empty and not delivered (see the warning above): exit status 1; pass --allow-blocked to accept them\n"))
    let blankAllowed = await run(
      box, ["sync", "--from-env", "--to", "esc-prod", "--allow-blocked"], env: ["OPENAI_API_KEY": "", "LOG_LEVEL": "debug"])
    outputs.append(blankAllowed)
    #expect(blankAllowed.status == 0, "\(blankAllowed.all)")
    #expect(blank.stderr.contains(
      "coffer: warning: empty in the environment, so not synced (a secret this repository cannot see is empty in GitHub Actions): OPENAI_API_KEY\n"))
    #expect(esc.environmentVariables("acme", "default", "prod")["OPENAI_API_KEY"] == Array(values["OPENAI_API_KEY"]!.utf8))

    // Every delivery is in the audit log, with the destination, names and fingerprints, never a value.
    let audit = await run(box, ["audit", "--json"])
    let syncLines = audit.out.split(separator: "\n").filter { $0.contains(#""action":"sync""#) }
    #expect(syncLines.contains { $0.contains(#""destination":"github-prod""#) && $0.contains(#""OPENAI_API_KEY""#) })
    #expect(syncLines.contains { $0.contains(#""destination":"esc-prod""#) })
    #expect(!audit.out.contains(Self.canary))

    // init --ci github: every remote destination is fed from the vault, so the workflow syncs them with the CI
    // identity; nothing is copied from GitHub on top.
    let ci = await run(box, ["init", "--ci", "github"])
    outputs.append(ci)
    #expect(ci.status == 0, "\(ci.all)")
    let workflow = String(decoding: try box.read(".github/workflows/coffer-sync.yml"), as: UTF8.self)
    #expect(workflow.contains("run: coffer sync --to github-prod esc-prod\n"))
    #expect(!workflow.contains("--from-env"))
    #expect(workflow.contains("COFFER_IDENTITY: ${{ secrets.COFFER_IDENTITY }}"))
    #expect(workflow.contains("GITHUB_TOKEN: ${{ secrets.COFFER_GITHUB_TOKEN }}"))
    #expect(workflow.contains("PULUMI_ACCESS_TOKEN: ${{ secrets.PULUMI_ACCESS_TOKEN }}"))
    #expect(workflow.contains("workflow_dispatch"))
    #expect(workflow.contains("persist-credentials: false"))
    #expect(await run(box, ["init", "--ci", "github"]).status == 2)

    for output in outputs {
      #expect(!output.all.contains(Self.canary))
      #expect(!output.all.contains(Self.githubToken))
      #expect(!output.all.contains(Self.pulumiToken))
    }
  }

  @Test func tokenFromTheVaultIsUsedAndNeverDelivered() async throws {
    let github = FakeGitHub(tokens: [Self.githubToken])
    github.addRepository("acme/api")
    try await github.start()
    defer { Task { await github.stop() } }
    let box = try Sandbox(manifest: manifest(github: github.baseURL, esc: "http://127.0.0.1:9"))
    box.extraEnvironment = ["COFFER_TEST_ONLY_NO_SLEEP": "1"]
    #expect(await run(box, ["set", "GITHUB_TOKEN", "--undeclared", "--env", "production"], stdin: Data(Self.githubToken.utf8)).status == 0)
    #expect(await run(box, ["set", "DATABASE_URL", "--undeclared", "--env", "production"], stdin: Data("db-\(Self.canary)".utf8)).status == 0)
    let result = await run(box, ["sync", "--to", "github-prod"])
    #expect(result.status == 0, "\(result.all)")
    #expect(github.secretNames(in: .repository("acme/api")) == ["DATABASE_URL"])
    #expect(!result.out.contains("GITHUB_TOKEN"))
    #expect(!result.all.contains(Self.githubToken))
    #expect(!result.all.contains(Self.canary))
  }

  @Test func failedListingWithPruneDeletesNothingAndExits4() async throws {
    let github = FakeGitHub(tokens: [Self.githubToken])
    github.addRepository("acme/api")
    for index in 0..<120 { github.setSecret("KEEP_\(index)", [1], in: .repository("acme/api")) }
    try await github.start()
    defer { Task { await github.stop() } }
    let box = try Sandbox(manifest: manifest(github: github.baseURL, esc: "http://127.0.0.1:9"))
    box.extraEnvironment = ["GITHUB_TOKEN": Self.githubToken, "COFFER_TEST_ONLY_NO_SLEEP": "1"]
    #expect(await run(box, ["set", "DATABASE_URL", "--undeclared", "--env", "production"], stdin: Data("x".utf8)).status == 0)
    github.inject(.serverError, method: "GET", pathContains: "/actions/secrets", skip: 1, times: 100)
    let result = await run(box, ["sync", "--to", "github-prod", "--prune"])
    #expect(result.status == 4)
    #expect(result.out.contains("FAILED: cannot list secrets: GET /repos/acme/api/actions/secrets: 500 Server Error"))
    #expect(github.writeCount == 0)
    #expect(github.secretNames(in: .repository("acme/api")).count == 120)
    // Nothing to deliver (no declared name is set in the environment) never turns into "delete everything".
    let empty = await run(box, ["sync", "--from-env", "--to", "github-prod", "--prune"])
    #expect(empty.status == 4)
    #expect(empty.out.contains("FAILED: refusing to prune: there is nothing to deliver from the environment"))
    #expect(github.writeCount == 0)
    let bad = await run(box, ["sync", "--to", "nope"])
    #expect(bad.status == 2)
    #expect(bad.stderr.contains("coffer: error: no destination named nope"))
  }
}

/// `coffer setup-repo --from-pulumi`: a new repository whose vault is filled from a Pulumi ESC environment.
@Suite struct SetupRepoFromPulumiTests {
  @Test func aNewRepositoryIsFilledFromPulumiESC() async throws {
    let esc = FakePulumiESC(tokens: ["pul-setup-token"])
    esc.addOrganization("acme")
    try await esc.start()
    defer { Task { await esc.stop() } }
    try esc.setDefinition("acme", "default", "sophia-ai-production", yaml: """
      values:
        OPENAI_API_KEY:
          fn::secret: sk-from-esc-canary-41d2
        LOG_LEVEL: info
        environmentVariables:
          OPENAI_API_KEY: ${OPENAI_API_KEY}
          LOG_LEVEL: ${LOG_LEVEL}

      """)
    let box = try Sandbox()
    box.extraEnvironment = ["PULUMI_ACCESS_TOKEN": "pul-setup-token", "COFFER_TEST_ONLY_NO_SLEEP": "1"]
    let r = await withCheckedContinuation { continuation in
      DispatchQueue.global().async {
        continuation.resume(returning: box.run([
          "setup-repo", "--name", box.path("from-esc"), "--from-pulumi", "acme/sophia-ai-production",
          "--pulumi-api", esc.baseURL, "--env", "production",
        ]))
      }
    }
    #expect(r.status == 0, "\(r.all)")
    #expect(!r.all.contains("sk-from-esc-canary-41d2") && !r.all.contains("pul-setup-token"))
    let manifest = try String(contentsOfFile: box.path("from-esc/coffer.yaml"), encoding: .utf8)
    #expect(manifest.contains("    type: pulumi-esc\n    organization: acme\n    project: default\n    environment: sophia-ai-production\n"))
    let got = box.run(["get", "OPENAI_API_KEY", "-n", "--env", "production"], cwd: box.dir.appendingPathComponent("from-esc"))
    #expect(got.out == "sk-from-esc-canary-41d2")
  }
}
