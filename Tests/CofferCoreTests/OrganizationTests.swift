import CofferCore
import Testing

/// `OrgAnalysis` and `OrgMatrix` (docs/organization.md, "Organization-wide checks"): one planted fault of each
/// kind, and neighbours that must or must not be findings.
@Suite struct OrganizationTests {
  static let catalogText = """
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
      DATABASE_URL:
        group: db
      UNUSED_KEY:
        group: api-keys
        min_length: 20
    destinations:
      ai:
        type: github
        organization: acme
        visibility: selected
        repositories: [api, docs]
        from: production
        groups: [api-keys]

    """

  /// A repository importing `../catalog` when `imports` is true.
  static func repo(_ name: String, _ secrets: String, imports: Bool = true, groups: String = "") -> String {
    """
    version: 1
    project: \(name)
    environments: [development, production]
    \(imports ? "imports: [../catalog]\n" : "")\(groups)secrets:
    \(secrets)
    """
  }

  /// Merges a repository (as `NAME/coffer.yaml`) with the catalog.
  static func repository(_ name: String, _ text: String, verdicts: [OrgEnvironmentVerdict] = []) throws -> OrgRepository {
    let file = "\(name)/coffer.yaml"
    var sources = [file: try ManifestSource.parse(Array(text.utf8), file: file)]
    sources["catalog/coffer.yaml"] = try ManifestSource.parse(Array(catalogText.utf8), file: "catalog/coffer.yaml", imported: true)
    let importsCatalog = text.contains("imports:")
    let merged = try ManifestMerger.merge(
      ManifestImportGraph(root: file, sources: sources, edges: [file: importsCatalog ? ["catalog/coffer.yaml"] : []]))
    return OrgRepository(
      name: name, manifestFile: file, manifest: merged.manifest, provenance: merged.provenance,
      importedSecrets: merged.importedSecrets, verdicts: verdicts)
  }

  static func catalog(_ text: String = catalogText) throws -> OrgCatalog {
    let source = try ManifestSource.parse(Array(text.utf8), file: "catalog/coffer.yaml", imported: true)
    let merged = try ManifestMerger.merge(
      ManifestImportGraph(root: "catalog/coffer.yaml", sources: ["catalog/coffer.yaml": source], edges: [:]))
    let destinations = try Manifest.decodeDestinations(Array(text.utf8), file: "catalog/coffer.yaml", merged: merged.manifest)
    return OrgCatalog(file: "catalog/coffer.yaml", manifest: merged.manifest, provenance: merged.provenance, destinations: destinations)
  }

  static func lines(_ findings: [OrgFinding]) -> [String] {
    findings.map { "\($0.kind.rawValue) \($0.repository ?? "-") \($0.environment ?? "-") \($0.secret ?? "-"): \($0.detail)" }
  }

  static func findings(_ repositories: [OrgRepository], catalogs: [OrgCatalog]? = nil) throws -> [String] {
    lines(OrgAnalysis.findings(repositories: repositories, catalogs: try catalogs ?? [catalog()]))
  }

  /// Two clean repositories that between them use every catalog secret and match the destination's list.
  static func cleanPair() throws -> [OrgRepository] {
    [
      try repository("api", repo("api", "  AI_KEY:\n  UNUSED_KEY:\n")),
      try repository("web", repo("web", "  DATABASE_URL:\n")),
    ]
  }

  @Test func aCleanOrganizationHasNoFindings() throws {
    #expect(try Self.findings(Self.cleanPair()) == [])
  }

  // MARK: definitions

  @Test func theSameSecretDefinedWithAnotherGroupIsOneFinding() throws {
    var repositories = try Self.cleanPair()
    repositories.append(
      try Self.repository(
        "billing", Self.repo("billing", "  DATABASE_URL:\n    group: ledger\n", imports: false, groups: "groups:\n  ledger: { rotation: 180d }\n")))
    #expect(
      try Self.findings(repositories) == [
        "defined-differently - - DATABASE_URL: group differs: db at catalog/coffer.yaml:11:3 (web); ledger at billing/coffer.yaml:7:3 (billing)"
      ])
  }

  @Test(arguments: [
    ("    group: db\n    format: postgres-url\n", "format differs: (none) at catalog/coffer.yaml:11:3 (web); postgres-url at billing/coffer.yaml:7:3 (billing)"),
    ("    group: db\n    rotation: 30d\n", "rotation differs: 180d at catalog/coffer.yaml:11:3 (web); 30d at billing/coffer.yaml:7:3 (billing)"),
    ("    group: db\n    secret: false\n", "secret differs: secret at catalog/coffer.yaml:11:3 (web); setting at billing/coffer.yaml:7:3 (billing)"),
  ])
  func eachComparedFieldIsItsOwnFinding(fields: String, detail: String) throws {
    var repositories = try Self.cleanPair()
    repositories.append(
      try Self.repository("billing", Self.repo("billing", "  DATABASE_URL:\n" + fields, imports: false, groups: "groups:\n  db: { rotation: 180d }\n")))
    #expect(try Self.findings(repositories) == ["defined-differently - - DATABASE_URL: \(detail)"])
  }

  @Test func anIdenticalLocalDefinitionIsNotAFinding() throws {
    var repositories = try Self.cleanPair()
    repositories.append(
      try Self.repository("billing", Self.repo("billing", "  DATABASE_URL:\n    group: db\n", imports: false, groups: "groups:\n  db: { rotation: 180d }\n")))
    #expect(try Self.findings(repositories) == [])
  }

  @Test func twoRepositoriesDefiningTheirOwnSecretDifferentlyIsAFindingAndTwoCatalogFindings() throws {
    var repositories = try Self.cleanPair()
    repositories[0] = try Self.repository("api", Self.repo("api", "  AI_KEY:\n  UNUSED_KEY:\n  QUEUE_URL:\n    group: api-keys\n"))
    repositories[1] = try Self.repository("web", Self.repo("web", "  DATABASE_URL:\n  QUEUE_URL:\n    group: db\n"))
    #expect(
      try Self.findings(repositories) == [
        "defined-differently - - QUEUE_URL: group differs: api-keys at api/coffer.yaml:8:3 (api); db at web/coffer.yaml:7:3 (web)",
        "defined-differently - - QUEUE_URL: rotation differs: 180d at web/coffer.yaml:7:3 (web); 90d at api/coffer.yaml:8:3 (api)",
        "not-in-catalog api - QUEUE_URL: declared at api/coffer.yaml:8:3; the catalog (catalog/coffer.yaml) does not define it",
        "not-in-catalog web - QUEUE_URL: declared at web/coffer.yaml:7:3; the catalog (catalog/coffer.yaml) does not define it",
      ])
  }

  // MARK: the catalog

  @Test func aSecretTheCatalogDoesNotDefineIsAFinding() throws {
    var repositories = try Self.cleanPair()
    repositories[1] = try Self.repository("web", Self.repo("web", "  DATABASE_URL:\n  WEB_SESSION_SECRET:\n"))
    #expect(
      try Self.findings(repositories) == [
        "not-in-catalog web - WEB_SESSION_SECRET: declared at web/coffer.yaml:7:3; the catalog (catalog/coffer.yaml) does not define it"
      ])
  }

  @Test func withoutACatalogLocalSecretsAreNotFindings() throws {
    let repositories = [try Self.repository("web", Self.repo("web", "  WEB_SESSION_SECRET:\n", imports: false))]
    #expect(try Self.findings(repositories, catalogs: []) == [])
  }

  @Test func aCatalogSecretNobodyDeclaresIsAFinding() throws {
    var repositories = try Self.cleanPair()
    repositories[0] = try Self.repository("api", Self.repo("api", "  AI_KEY:\n"))
    #expect(
      try Self.findings(repositories) == [
        "unused-in-catalog - - UNUSED_KEY: defined at catalog/coffer.yaml:13:3; no repository declares it"
      ])
  }

  @Test func aCatalogSecretOneRepositoryDeclaresLocallyIsUsed() throws {
    var repositories = try Self.cleanPair()
    repositories[0] = try Self.repository("api", Self.repo("api", "  AI_KEY:\n"))
    repositories.append(
      try Self.repository("billing", Self.repo("billing", "  UNUSED_KEY:\n    group: api-keys\n", imports: false, groups: "groups:\n  api-keys: { rotation: 90d }\n")))
    // Used, so not unused-in-catalog; billing is not on the ai destination's list, which delivers it.
    #expect(
      try Self.findings(repositories) == [
        "visibility-leaves-out billing - UNUSED_KEY: destination ai (organization acme, visibility selected) at catalog/coffer.yaml:17 does not list billing, which declares UNUSED_KEY"
      ])
  }

  // MARK: vault verdicts

  static func verdict(
    _ repository: OrgRepository, _ environment: String, values: [String: String],
    rotated: [String: String] = [:], revoked: Set<String> = [], now: String = "2026-06-01T00:00:00Z"
  ) -> OrgEnvironmentVerdict {
    let check = Checker.check(
      repository.manifest, environment: environment, values: values.mapValues { SecretValue($0) })
    let facts = rotated.map { name, date in
      RotationFacts(
        name: name, group: repository.manifest.secret(named: name)?.group ?? "default",
        lastRotated: Timestamp(rfc3339: date)!,
        revoked: revoked.contains(name) ? RevocationMark(recipient: "mallory", time: Timestamp(rfc3339: "2026-05-01T00:00:00Z")!) : nil)
    }
    let rotation = RotationPolicy(manifest: repository.manifest).statuses(of: facts, at: Timestamp(rfc3339: now)!)
    return OrgEnvironmentVerdict(environment: environment, check: check, rotation: rotation)
  }

  static let key = "k9Qz7Lm2Xv4Rt8Wb1Nc6Hy3Pd5Sg0FjA1b2C3d4"

  @Test func missingInvalidAndOverdueComeFromTheVerdicts() throws {
    var repositories = try Self.cleanPair()
    let api = repositories[0]
    repositories[0].verdicts = [
      Self.verdict(
        api, "production", values: ["UNUSED_KEY": "short", "AI_KEY": Self.key],
        rotated: ["AI_KEY": "2026-01-01T00:00:00Z", "UNUSED_KEY": "2026-05-01T00:00:00Z"]),
      Self.verdict(api, "development", values: [:]),
    ]
    #expect(
      try Self.findings(repositories) == [
        "missing api development UNUSED_KEY: required in development, has no value",
        "invalid api production UNUSED_KEY: too-short: is 5 characters, needs at least 20",
        "overdue api production AI_KEY: last rotated 2026-01-01, period 90d, due 2026-04-01",
      ])
  }

  @Test(arguments: [
    ("production", ["UNUSED_KEY": "k9Qz7Lm2Xv4Rt8Wb1Nc6Hy3Pd5Sg0FjA1b2C3d4"], ["missing api production AI_KEY: required in production, has no value"]),
    ("production", ["UNUSED_KEY": "k9Qz7Lm2Xv4Rt8Wb1Nc6Hy3Pd5Sg0FjA1b2C3d4", "AI_KEY": ""], ["invalid api production AI_KEY: empty: is empty"]),
    ("development", ["UNUSED_KEY": "k9Qz7Lm2Xv4Rt8Wb1Nc"], ["invalid api development UNUSED_KEY: too-short: is 19 characters, needs at least 20"]),
    ("development", ["UNUSED_KEY": "k9Qz7Lm2Xv4Rt8Wb1Nc6"], []),
    ("development", ["UNUSED_KEY": "k9Qz7Lm2Xv4Rt8Wb1Nc6Hy3Pd5Sg0FjA1b2C3d4", "STRAY": "x"], []),
  ])
  func checkVerdictNeighbours(environment: String, values: [String: String], expected: [String]) throws {
    var repositories = try Self.cleanPair()
    repositories[0].verdicts = [Self.verdict(repositories[0], environment, values: values)]
    #expect(try Self.findings(repositories) == expected)
  }

  @Test func unusedSecretsOfEachCatalogAreNamedWithTheirFile() throws {
    let second = try Self.catalog(
      "version: 1\nproject: second\nenvironments: [production]\nsecrets:\n  SECOND_ONLY: {}\n  AI_KEY:\n    group: api-keys\ngroups:\n  api-keys: { rotation: 90d }\n")
    var renamed = second
    renamed.file = "second/coffer.yaml"
    renamed.provenance = renamed.provenance.mapValues { ManifestLocation(file: "second/coffer.yaml", line: $0.line, column: $0.column) }
    #expect(
      try Self.findings(Self.cleanPair(), catalogs: [Self.catalog(), renamed]) == [
        "unused-in-catalog - - SECOND_ONLY: defined at second/coffer.yaml:5:3; no repository declares it"
      ])
  }

  @Test func anOptionalSecretWithoutAValueIsNotMissing() throws {
    var repositories = try Self.cleanPair()
    // AI_KEY is required in production only.
    repositories[0].verdicts = [Self.verdict(repositories[0], "development", values: ["UNUSED_KEY": Self.key])]
    #expect(try Self.findings(repositories) == [])
  }

  @Test func dueSoonIsNotAFindingAndNeedsRotationIs() throws {
    var repositories = try Self.cleanPair()
    repositories[0].verdicts = [
      Self.verdict(
        repositories[0], "production", values: ["UNUSED_KEY": Self.key, "AI_KEY": Self.key],
        rotated: ["AI_KEY": "2026-03-10T00:00:00Z", "UNUSED_KEY": "2026-05-20T00:00:00Z"], revoked: ["UNUSED_KEY"])
    ]
    #expect(
      try Self.findings(repositories) == [
        "needs-rotation api production UNUSED_KEY: mallory lost access 2026-05-01"
      ])
  }

  @Test func theDayItFallsDueIsOverdue() throws {
    var repositories = try Self.cleanPair()
    repositories[0].verdicts = [
      Self.verdict(
        repositories[0], "production", values: ["UNUSED_KEY": Self.key, "AI_KEY": Self.key],
        rotated: ["AI_KEY": "2026-03-03T00:00:00Z"])
    ]
    #expect(
      try Self.findings(repositories) == [
        "overdue api production AI_KEY: last rotated 2026-03-03, period 90d, due 2026-06-01"
      ])
  }

  // MARK: GitHub visibility

  @Test func aSelectedListThatLeavesOutOrIncludesTheWrongRepositoryIsAFinding() throws {
    let repositories = [
      try Self.repository("api", Self.repo("api", "  AI_KEY:\n  DATABASE_URL:\n")),
      try Self.repository("web", Self.repo("web", "  UNUSED_KEY:\n")),
      try Self.repository("docs", Self.repo("docs", "  DATABASE_URL:\n")),
    ]
    #expect(
      try Self.findings(repositories) == [
        "visibility-leaves-out web - UNUSED_KEY: destination ai (organization acme, visibility selected) at catalog/coffer.yaml:17 does not list web, which declares UNUSED_KEY",
        "visibility-includes docs - -: destination ai (organization acme, visibility selected) at catalog/coffer.yaml:17 lists docs, which declares none of its secrets",
      ])
  }

  @Test(arguments: ["visibility: all", "visibility: private"])
  func otherVisibilitiesAreNotJudged(visibility: String) throws {
    let text = Self.catalogText.replacing("visibility: selected\n    repositories: [api, docs]", with: visibility)
    let repositories = [
      try Self.repository("api", Self.repo("api", "  AI_KEY:\n  DATABASE_URL:\n  UNUSED_KEY:\n")),
      try Self.repository("docs", Self.repo("docs", "  DATABASE_URL:\n")),
    ]
    #expect(try Self.findings(repositories, catalogs: [Self.catalog(text)]) == [])
  }

  @Test func withoutGroupsADestinationDeliversEverySecretOfItsManifest() throws {
    let text = Self.catalogText.replacing("    groups: [api-keys]\n", with: "")
    let repositories = [
      try Self.repository("api", Self.repo("api", "  AI_KEY:\n  UNUSED_KEY:\n")),
      try Self.repository("docs", Self.repo("docs", "  DATABASE_URL:\n")),
      try Self.repository("web", Self.repo("web", "  DATABASE_URL:\n")),
    ]
    #expect(
      try Self.findings(repositories, catalogs: [Self.catalog(text)]) == [
        "visibility-leaves-out web - DATABASE_URL: destination ai (organization acme, visibility selected) at catalog/coffer.yaml:17 does not list web, which declares DATABASE_URL"
      ])
  }

  @Test func listedRepositoriesThatWereNotCheckedAreNotJudged() throws {
    // docs is listed but not among the repositories: nothing is known about it.
    #expect(try Self.findings(Self.cleanPair()) == [])
  }

  // MARK: matrix

  @Test func theMatrixListsRequiredAndOptionalEnvironments() throws {
    let repositories = [
      try Self.repository("api", Self.repo("api", "  AI_KEY:\n  LOCAL:\n    required: false\n")),
      try Self.repository("web", Self.repo("web", "  AI_KEY:\n    required: true\n")),
    ]
    let matrix = OrgMatrix.build(repositories)
    #expect(matrix.repositories == ["api", "web"])
    #expect(
      matrix.rows == [
        OrgMatrix.Row(
          name: "AI_KEY",
          uses: [
            .init(repository: "api", required: ["production"], optional: ["development"]),
            .init(repository: "web", required: ["development", "production"], optional: []),
          ]),
        OrgMatrix.Row(name: "LOCAL", uses: [.init(repository: "api", required: [], optional: ["development", "production"])]),
      ])
  }
}
