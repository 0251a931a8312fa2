import Foundation
import Testing

/// `coffer org check` and `coffer org matrix` on a fixture organization: a catalog and three repositories with one
/// planted fault of each kind (docs/organization.md).
@Suite("OrgCLI")
struct OrgCLITests {
  static let catalog = """
    version: 1
    project: catalog
    environments: [development, production]
    groups:
      api-keys: { rotation: 90d }
      db: { rotation: 180d }
    secrets:
      AI_KEY:
        group: api-keys
        required: [production]
        min_length: 32
      DATABASE_URL:
        group: db
        pattern: 'postgres://.+'
      LOG_LEVEL:
        secret: false
        required: false
      UNUSED_KEY:
        group: api-keys
    destinations:
      ai:
        type: github
        organization: acme
        visibility: selected
        repositories: [api, worker]
        from: production
        groups: [api-keys]

    """

  static let api = """
    version: 1
    project: api
    environments: [development, production]
    imports: [../catalog]
    secrets:
      AI_KEY:
      DATABASE_URL:
      QUEUE_URL:
        group: api-keys
        required: false

    """

  static let web = """
    version: 1
    project: web
    environments: [development, production]
    imports: [../catalog]
    secrets:
      AI_KEY:
      LOG_LEVEL:

    """

  static let worker = """
    version: 1
    project: worker
    environments: [development, production]
    imports: [../catalog]
    groups:
      ops: { rotation: 90d }
    secrets:
      DATABASE_URL:
      LOG_LEVEL:
      QUEUE_URL:
        group: ops
        required: false

    """

  static let key = "k9Qz7Lm2Xv4Rt8Wb1Nc6Hy3Pd5Sg0FjT"  // 32 fake characters
  static let now = "2026-06-01T00:00:00Z"

  /// The organization with its vaults: planted missing (worker DATABASE_URL), invalid (api DATABASE_URL) and
  /// overdue (web AI_KEY, set 2026-01-01) in development; production has no vault.
  static func organization(vaults: Bool = true) throws -> Sandbox {
    let sb = try Sandbox()
    try sb.write("catalog/coffer.yaml", catalog)
    try sb.write("api/coffer.yaml", api)
    try sb.write("web/coffer.yaml", web)
    try sb.write("worker/coffer.yaml", worker)
    guard vaults else { return sb }
    func set(_ project: String, _ name: String, _ value: String, at time: String = "2026-05-20T00:00:00Z") {
      let r = sb.run(["set", name, "--env", "development", "--project", project], stdin: Data(value.utf8), env: ["COFFER_NOW": time])
      expectStatus(r, 0, "set \(name) in \(project)")
    }
    set("api", "AI_KEY", key)
    set("api", "DATABASE_URL", "mysql://app@db.internal/app")
    set("web", "AI_KEY", key, at: "2026-01-01T00:00:00Z")
    set("web", "LOG_LEVEL", "info")
    set("worker", "LOG_LEVEL", "info")
    return sb
  }

  static let expectedTable = """
    KIND                   REPOSITORY  ENVIRONMENT  SECRET        DETAIL
    defined-differently    -           -            QUEUE_URL     group differs: api-keys at api/coffer.yaml:8:3 (api); ops at worker/coffer.yaml:10:3 (worker)
    not-in-catalog         api         -            QUEUE_URL     declared at api/coffer.yaml:8:3; the catalog (catalog/coffer.yaml) does not define it
    not-in-catalog         worker      -            QUEUE_URL     declared at worker/coffer.yaml:10:3; the catalog (catalog/coffer.yaml) does not define it
    unused-in-catalog      -           -            UNUSED_KEY    defined at catalog/coffer.yaml:18:3; no repository declares it
    missing                worker      development  DATABASE_URL  required in development, has no value
    invalid                api         development  DATABASE_URL  pattern: does not match the pattern 'postgres://.+'
    overdue                web         development  AI_KEY        last rotated 2026-01-01, period 90d, due 2026-04-01
    visibility-leaves-out  web         -            AI_KEY        destination ai (organization acme, visibility selected) at catalog/coffer.yaml:21 does not list web, which declares AI_KEY
    visibility-includes    worker      -            -             destination ai (organization acme, visibility selected) at catalog/coffer.yaml:21 lists worker, which declares none of its secrets

    """

  @Test func orgCheckReportsEachPlantedFaultExactly() throws {
    let sb = try Self.organization()
    let r = sb.run(["org", "check"], env: ["COFFER_NOW": Self.now])
    expectStatus(r, 1, "org check")
    #expect(r.out == Self.expectedTable)
    #expect(
      r.stderr == """
        coffer: no vault, not checked: api (production), web (production), worker (production)
        coffer: checked 3 repositories and 1 catalog: 9 findings

        """)
  }

  @Test func orgCheckJSON() throws {
    let sb = try Self.organization()
    let r = sb.run(["org", "check", "--json"], env: ["COFFER_NOW": Self.now])
    expectStatus(r, 1, "org check --json")
    #expect(r.stderr == "")
    let doc = try #require(try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any])
    #expect(doc["repositories"] as? [String] == ["api", "web", "worker"])
    #expect(doc["catalogs"] as? [String] == ["catalog/coffer.yaml"])
    let findings = try #require(doc["findings"] as? [[String: Any]])
    func row(_ f: [String: Any]) -> String {
      ["kind", "repository", "environment", "secret", "detail"].map { (f[$0] as? String) ?? "-" }.joined(separator: "|")
    }
    #expect(
      findings.map(row) == [
        "defined-differently|-|-|QUEUE_URL|group differs: api-keys at api/coffer.yaml:8:3 (api); ops at worker/coffer.yaml:10:3 (worker)",
        "not-in-catalog|api|-|QUEUE_URL|declared at api/coffer.yaml:8:3; the catalog (catalog/coffer.yaml) does not define it",
        "not-in-catalog|worker|-|QUEUE_URL|declared at worker/coffer.yaml:10:3; the catalog (catalog/coffer.yaml) does not define it",
        "unused-in-catalog|-|-|UNUSED_KEY|defined at catalog/coffer.yaml:18:3; no repository declares it",
        "missing|worker|development|DATABASE_URL|required in development, has no value",
        "invalid|api|development|DATABASE_URL|pattern: does not match the pattern 'postgres://.+'",
        "overdue|web|development|AI_KEY|last rotated 2026-01-01, period 90d, due 2026-04-01",
        "visibility-leaves-out|web|-|AI_KEY|destination ai (organization acme, visibility selected) at catalog/coffer.yaml:21 does not list web, which declares AI_KEY",
        "visibility-includes|worker|-|-|destination ai (organization acme, visibility selected) at catalog/coffer.yaml:21 lists worker, which declares none of its secrets",
      ])
    #expect(findings.allSatisfy { $0["repository"] != nil && $0["environment"] != nil && $0["secret"] != nil })
    let notChecked = try #require(doc["not_checked"] as? [[String: String]])
    #expect(
      notChecked == [
        ["repository": "api", "environment": "production", "reason": "no vault"],
        ["repository": "web", "environment": "production", "reason": "no vault"],
        ["repository": "worker", "environment": "production", "reason": "no vault"],
      ])
    expectNoValues(r, "org check --json")
  }

  /// No value of the fixture may appear anywhere in the output.
  func expectNoValues(_ r: CLIResult, _ what: String) {
    for value in [Self.key, "mysql://app@db.internal/app"] {
      let clean = !r.all.contains(value)
      #expect(clean, "\(what) printed a value")
    }
  }

  @Test func manifestsOnlySkipsTheVaults() throws {
    let sb = try Self.organization()
    let r = sb.run(["org", "check", "--manifests-only"], env: ["COFFER_NOW": Self.now])
    expectStatus(r, 1, "org check --manifests-only")
    let kinds = r.out.split(separator: "\n").dropFirst().map { String($0.prefix(while: { $0 != " " })) }
    #expect(
      kinds == [
        "defined-differently", "not-in-catalog", "not-in-catalog", "unused-in-catalog", "visibility-leaves-out",
        "visibility-includes",
      ])
    #expect(r.stderr == "coffer: checked 3 repositories and 1 catalog: 6 findings\n")
  }

  @Test func aCleanOrganizationExitsZeroAndPrintsNoTable() throws {
    let sb = try Self.organization(vaults: false)
    try sb.write("catalog/coffer.yaml", Self.catalog.replacing("[api, worker]", with: "[api, web]").replacing("  UNUSED_KEY:\n    group: api-keys\n", with: ""))
    try sb.write("api/coffer.yaml", Self.api.replacing("  QUEUE_URL:\n    group: api-keys\n    required: false\n", with: ""))
    try sb.write("worker/coffer.yaml", Self.worker.replacing("  QUEUE_URL:\n    group: ops\n    required: false\n", with: ""))
    let r = sb.run(["org", "check"])
    expectStatus(r, 0, "org check")
    #expect(r.out == "")
    #expect(
      r.stderr == """
        coffer: no vault, not checked: api (development), api (production), web (development), web (production), worker (development), worker (production)
        coffer: checked 3 repositories and 1 catalog: 0 findings

        """)
  }

  @Test func namedFoldersAndAReposFileSelectRepositories() throws {
    let sb = try Self.organization(vaults: false)
    let named = sb.run(["org", "check", "--manifests-only", "web", "catalog"])
    expectStatus(named, 1, "org check web catalog")
    #expect(
      named.out == """
        KIND                   REPOSITORY  ENVIRONMENT  SECRET        DETAIL
        unused-in-catalog      -           -            DATABASE_URL  defined at catalog/coffer.yaml:12:3; no repository declares it
        unused-in-catalog      -           -            UNUSED_KEY    defined at catalog/coffer.yaml:18:3; no repository declares it
        visibility-leaves-out  web         -            AI_KEY        destination ai (organization acme, visibility selected) at catalog/coffer.yaml:21 does not list web, which declares AI_KEY

        """)
    #expect(named.stderr == "coffer: checked 1 repository and 1 catalog: 3 findings\n")
    try sb.write("list/repos.txt", "# the organization\n../api\n\n../web   # front end\r\n")
    let listed = sb.run(["org", "matrix", "--repos", "list/repos.txt"])
    expectStatus(listed, 0, "org matrix --repos")
    #expect(
      listed.out == """
        SECRET        api                     web
        AI_KEY        production              production
        DATABASE_URL  development,production  -
        LOG_LEVEL     -                       optional
        QUEUE_URL     optional                -

        """)
  }

  @Test func dotNamesTheFolderItself() throws {
    let sb = try Self.organization(vaults: false)
    let r = sb.run(["org", "matrix", "."], cwd: sb.dir.appendingPathComponent("web"))
    expectStatus(r, 0, "org matrix . in web")
    #expect(r.out == "SECRET     web\nAI_KEY     production\nLOG_LEVEL  optional\n")
  }

  @Test(arguments: [
    (["org", "check", "nowhere"], "coffer: error: nowhere has no coffer.yaml\ncoffer: hint: name folders that hold a repository's coffer.yaml\n"),
    (["org", "check", "--repos", "repos.txt"], "coffer: error: repos.txt:2: missing has no coffer.yaml\n"),
    (["org", "check", "web", "--repos", "repos.txt"], "coffer: error: give repository folders or --repos FILE, not both\n"),
    (["org", "matrix", "--json", "--csv"], "coffer: error: give --json or --csv, not both\n"),
  ])
  func badFolderListsAreRefused(args: [String], stderr: String) throws {
    let sb = try Self.organization(vaults: false)
    try sb.write("repos.txt", "api\nmissing\n")
    let r = sb.run(args)
    expectStatus(r, 2, args.joined(separator: " "))
    #expect(r.stderr == stderr)
    #expect(r.out == "")
  }

  @Test func noRepositoriesHereIsAnError() throws {
    let sb = try Sandbox()
    let r = sb.run(["org", "check"])
    expectStatus(r, 2, "org check in an empty folder")
    #expect(
      r.stderr == """
        coffer: error: no repositories here: no folder directly under the working directory has a coffer.yaml
        coffer: hint: run coffer org check in the folder that holds the checkouts, or name them: coffer org check DIR…

        """)
  }

  @Test func aVaultThisIdentityCannotOpenIsNotCheckedAndSaysSo() throws {
    let sb = try Self.organization()
    let other = try Sandbox()
    let r = sb.run(["org", "check", "--json", "web"], env: ["COFFER_NOW": Self.now, "COFFER_IDENTITY_FILE": other.identityFile.path])
    expectStatus(r, 1, "org check with another identity")
    let doc = try #require(try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any])
    let notChecked = try #require(doc["not_checked"] as? [[String: String]])
    #expect(
      notChecked == [
        ["repository": "web", "environment": "development", "reason": "this identity cannot open its vault; not checked"],
        ["repository": "web", "environment": "production", "reason": "no vault"],
      ])
  }

  @Test func withoutAnIdentityOnlyManifestsAreChecked() throws {
    let sb = try Self.organization()
    let missing = sb.path("home/none.txt")
    let r = sb.run(["org", "check"], env: ["COFFER_NOW": Self.now, "COFFER_IDENTITY_FILE": missing])
    expectStatus(r, 1, "org check without an identity")
    #expect(r.out.split(separator: "\n").count == 7)
    #expect(
      r.stderr == """
        coffer: vaults not read: no identity at \(missing): file not found
        coffer: checked 3 repositories and 1 catalog: 6 findings

        """)
  }

  @Test func orgMatrixTableJSONAndCSV() throws {
    let sb = try Self.organization(vaults: false)
    let table = sb.run(["org", "matrix"])
    expectStatus(table, 0, "org matrix")
    #expect(
      table.out == """
        SECRET        api                     web         worker
        AI_KEY        production              production  -
        DATABASE_URL  development,production  -           development,production
        LOG_LEVEL     -                       optional    optional
        QUEUE_URL     optional                -           optional

        """)
    #expect(table.stderr == "")
    let csv = sb.run(["org", "matrix", "--csv"])
    expectStatus(csv, 0, "org matrix --csv")
    #expect(
      csv.out
        == "SECRET,api,web,worker\r\nAI_KEY,production,production,-\r\nDATABASE_URL,\"development,production\",-,\"development,production\"\r\nLOG_LEVEL,-,optional,optional\r\nQUEUE_URL,optional,-,optional\r\n"
    )
    let json = sb.run(["org", "matrix", "--json"])
    expectStatus(json, 0, "org matrix --json")
    #expect(
      json.out
        == #"{"repositories":["api","web","worker"],"secrets":[{"name":"AI_KEY","repositories":[{"repository":"api","required":["production"],"optional":["development"]},{"repository":"web","required":["production"],"optional":["development"]}]},{"name":"DATABASE_URL","repositories":[{"repository":"api","required":["development","production"],"optional":[]},{"repository":"worker","required":["development","production"],"optional":[]}]},{"name":"LOG_LEVEL","repositories":[{"repository":"web","required":[],"optional":["development","production"]},{"repository":"worker","required":[],"optional":["development","production"]}]},{"name":"QUEUE_URL","repositories":[{"repository":"api","required":[],"optional":["development","production"]},{"repository":"worker","required":[],"optional":["development","production"]}]}]}"#
        + "\n")
  }
}
