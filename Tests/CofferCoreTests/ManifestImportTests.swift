import CofferCore
import Testing

/// Merging a manifest with the catalogs it imports (docs/manifest.md, "Imports").
@Suite struct ManifestImportTests {
  static let catalog = """
    version: 1
    project: catalog
    environments: [development, staging, production]
    groups:
      api-keys:
        rotation: 90d
        description: third-party API keys
    secrets:
      OPENAI_API_KEY:
        group: api-keys
        description: OpenAI key
        required: [production]
        format: openai-api-key
        rotation: 30d
        min_length: 20
        max_length: 200
      STRIPE_KEY:
        group: api-keys
        prefix: sk_
        pattern: 'sk_[a-z]+'
      LOG_LEVEL:
        secret: false
        required: false

    """

  /// Merges `root` (as `coffer.yaml`) with the given imported files; edges are given as file names.
  static func merge(
    _ root: String, files: [String: String] = ["../catalog/coffer.yaml": catalog],
    edges: [String: [String]]? = nil
  ) throws(ManifestError) -> MergedManifest {
    var sources = ["coffer.yaml": try ManifestSource.parse(Array(root.utf8), file: "coffer.yaml")]
    for (name, text) in files {
      sources[name] = try ManifestSource.parse(Array(text.utf8), file: name, imported: true)
    }
    let graph = ManifestImportGraph(
      root: "coffer.yaml", sources: sources,
      edges: edges ?? ["coffer.yaml": Array(files.keys).sorted()])
    return try ManifestMerger.merge(graph)
  }

  static func repo(_ secrets: String, environments: String = "[development, production]") -> String {
    """
    version: 1
    project: web
    environments: \(environments)
    imports:
      - ../catalog
    secrets:
    \(secrets)
    """
  }

  static func failure(_ body: () throws(ManifestError) -> MergedManifest) -> String {
    do {
      _ = try body()
      return "no error"
    } catch {
      return error.description
    }
  }

  @Test func importedDefinitionIsUsedAsWrittenAndNarrowed() throws {
    let merged = try Self.merge(
      Self.repo(
        """
          OPENAI_API_KEY:
            required: true
            example: sk-example-not-real
            min_length: 40
          LOCAL_ONLY:
            required: false
        """))
    let spec = try #require(merged.manifest.secret(named: "OPENAI_API_KEY"))
    #expect(
      spec
        == SecretSpec(
          name: "OPENAI_API_KEY", group: "api-keys", description: "OpenAI key", required: .always, minLength: 40,
          maxLength: 200, example: "sk-example-not-real", format: "openai-api-key",
          rotation: RotationPeriod(parsing: "30d")))
    #expect(merged.manifest.secrets.map(\.name) == ["OPENAI_API_KEY", "LOCAL_ONLY"])
    #expect(merged.manifest.groups == [SecretGroup(name: "api-keys", rotation: RotationPeriod(parsing: "90d"), description: "third-party API keys")])
    #expect(merged.manifest.imports == [])
    #expect(merged.importedSecrets == ["OPENAI_API_KEY"])
    #expect(merged.provenance["secrets.OPENAI_API_KEY.group"]?.description == "../catalog/coffer.yaml:10:12")
    #expect(merged.provenance["secrets.OPENAI_API_KEY.required"]?.description == "coffer.yaml:8:15")
    #expect(merged.provenance["secrets.OPENAI_API_KEY.min_length"]?.description == "coffer.yaml:10:17")
    #expect(merged.provenance["secrets.OPENAI_API_KEY"]?.description == "../catalog/coffer.yaml:9:3")
    #expect(merged.provenance["secrets.LOCAL_ONLY"]?.description == "coffer.yaml:11:3")
    #expect(merged.provenance["groups.api-keys.rotation"]?.description == "../catalog/coffer.yaml:6:15")
  }

  @Test func aBareNameUsesTheCatalogDefinitionAndDropsUnknownEnvironments() throws {
    let merged = try Self.merge(Self.repo("  OPENAI_API_KEY:\n  STRIPE_KEY: {}\n", environments: "[development]"))
    #expect(merged.manifest.secret(named: "OPENAI_API_KEY")?.required == .never)
    #expect(merged.manifest.secret(named: "STRIPE_KEY")?.prefix == "sk_")
    #expect(merged.manifest.secret(named: "LOG_LEVEL") == nil)
  }

  @Test(arguments: [
    ("group: other", "group", "10:12", ""),
    ("description: mine", "description", "11:18", ""),
    ("format: none", "format", "13:13", ""),
    ("prefix: sk-", "prefix", "9:3", ""),
    ("pattern: 'sk-.*'", "pattern", "9:3", ""),
    ("rotation: 60d", "rotation", "14:15", ""),
    ("secret: false", "secret", "9:3", ""),
    ("required: false", "required", "12:15", "require OPENAI_API_KEY in fewer environments than"),
    ("required: [development]", "required", "12:15", "require OPENAI_API_KEY in fewer environments than"),
    ("min_length: 10", "min_length", "15:17", "lower the min_length of"),
    ("max_length: 300", "max_length", "16:17", "raise the max_length of"),
  ])
  func everyForbiddenOverrideNamesBothPlaces(field: String, name: String, theirs: String, verb: String) {
    let text = Self.repo("  OPENAI_API_KEY:\n    \(field)\n")
    let column = 5 + name.count + 2
    let subject = verb.isEmpty ? "change the \(name) of" : verb
    #expect(
      Self.failure { () throws(ManifestError) in try Self.merge(text) }
        == "coffer.yaml:8:\(column): secrets.OPENAI_API_KEY.\(name): cannot \(subject) the imported secret OPENAI_API_KEY, defined at ../catalog/coffer.yaml:\(theirs)"
    )
  }

  @Test func changingTheGroupToAnotherImportedGroupIsAnError() {
    let catalog = Self.catalog.replacing("groups:\n", with: "groups:\n  other: {}\n")
    #expect(
      Self.failure { () throws(ManifestError) in
        try Self.merge(Self.repo("  OPENAI_API_KEY:\n    group: other\n"), files: ["../catalog/coffer.yaml": catalog])
      }
        == "coffer.yaml:8:12: secrets.OPENAI_API_KEY.group: cannot change the group of the imported secret OPENAI_API_KEY, defined at ../catalog/coffer.yaml:11:12"
    )
  }

  @Test func repeatingTheImportedValueIsAllowed() throws {
    let merged = try Self.merge(
      Self.repo("  OPENAI_API_KEY:\n    group: api-keys\n    rotation: 30d\n    format: openai-api-key\n"))
    #expect(merged.manifest.secret(named: "OPENAI_API_KEY")?.rotation == RotationPeriod(parsing: "30d"))
  }

  @Test(arguments: [
    ("rotation: 30d", "rotation", "6:15"),
    ("rotation: 1y", "rotation", "6:15"),
    ("description: mine", "description", "7:18"),
  ])
  func redeclaringAnImportedGroupDifferentlyIsAnError(field: String, name: String, theirs: String) {
    let text = """
      version: 1
      project: web
      environments: [production]
      imports: [../catalog]
      groups:
        api-keys:
          \(field)

      """
    #expect(
      Self.failure { () throws(ManifestError) in try Self.merge(text) }
        == "coffer.yaml:7:\(7 + name.count): groups.api-keys.\(name): cannot change the \(name) of the imported group api-keys, defined at ../catalog/coffer.yaml:\(theirs)"
    )
  }

  static let small = "version: 1\nsecrets:\n  SHARED: {}\n"

  @Test func importCyclesNameTheChain() {
    let a = "version: 1\nimports: [b.yaml]\n"
    let b = "version: 1\nimports: [a.yaml]\n"
    let root = "version: 1\nproject: web\nenvironments: [production]\nimports: [a.yaml]\n"
    #expect(
      Self.failure { () throws(ManifestError) in
        try Self.merge(
          root, files: ["a.yaml": a, "b.yaml": b],
          edges: ["coffer.yaml": ["a.yaml"], "a.yaml": ["b.yaml"], "b.yaml": ["a.yaml"]])
      } == "b.yaml:2:11: imports[0]: import cycle: a.yaml → b.yaml → a.yaml")
    #expect(
      Self.failure { () throws(ManifestError) in
        try Self.merge(root, files: ["a.yaml": "version: 1\nimports: [coffer.yaml]\n"], edges: ["coffer.yaml": ["a.yaml"], "a.yaml": ["coffer.yaml"]])
      } == "a.yaml:2:11: imports[0]: import cycle: coffer.yaml → a.yaml → coffer.yaml")
    #expect(
      Self.failure { () throws(ManifestError) in
        try Self.merge(root, files: ["a.yaml": "version: 1\nimports: [a.yaml]\n"], edges: ["coffer.yaml": ["a.yaml"], "a.yaml": ["a.yaml"]])
      } == "a.yaml:2:11: imports[0]: import cycle: a.yaml → a.yaml")
  }

  @Test func theSameNameFromTwoImportsIsAnErrorNamingBothChains() {
    let root = "version: 1\nproject: web\nenvironments: [production]\nimports: [b.yaml, c.yaml]\nsecrets:\n  SHARED:\n"
    #expect(
      Self.failure { () throws(ManifestError) in
        try Self.merge(root, files: ["b.yaml": Self.small, "c.yaml": Self.small])
      }
        == "coffer.yaml:4:19: imports[1]: secrets.SHARED is defined by two imports: coffer.yaml → b.yaml (b.yaml:3:3) and coffer.yaml → c.yaml (c.yaml:3:3)"
    )
    let group = "version: 1\ngroups:\n  keys: {}\n"
    #expect(
      Self.failure { () throws(ManifestError) in
        try Self.merge(root, files: ["b.yaml": group, "c.yaml": group])
      }
        == "coffer.yaml:4:19: imports[1]: groups.keys is defined by two imports: coffer.yaml → b.yaml (b.yaml:3:3) and coffer.yaml → c.yaml (c.yaml:3:3)"
    )
    // Through an intermediate catalog, the chain shows every step.
    #expect(
      Self.failure { () throws(ManifestError) in
        try Self.merge(
          root, files: ["b.yaml": "version: 1\nimports: [d.yaml]\n", "c.yaml": Self.small, "d.yaml": Self.small],
          edges: ["coffer.yaml": ["b.yaml", "c.yaml"], "b.yaml": ["d.yaml"]])
      }
        == "coffer.yaml:4:19: imports[1]: secrets.SHARED is defined by two imports: coffer.yaml → b.yaml → d.yaml (d.yaml:3:3) and coffer.yaml → c.yaml (c.yaml:3:3)"
    )
  }

  @Test func aDiamondThroughTheSameCatalogIsNotACollision() throws {
    let root = "version: 1\nproject: web\nenvironments: [production]\nimports: [b.yaml, c.yaml]\nsecrets:\n  SHARED:\n"
    let merged = try Self.merge(
      root,
      files: ["b.yaml": "version: 1\nimports: [d.yaml]\n", "c.yaml": "version: 1\nimports: [d.yaml]\n", "d.yaml": Self.small],
      edges: ["coffer.yaml": ["b.yaml", "c.yaml"], "b.yaml": ["d.yaml"], "c.yaml": ["d.yaml"]])
    #expect(merged.manifest.secrets.map(\.name) == ["SHARED"])
    #expect(merged.provenance["secrets.SHARED"]?.description == "d.yaml:3:3")
  }

  @Test func undeclaredGroupsAreReportedAfterMerging() {
    let root = "version: 1\nproject: web\nenvironments: [production]\nimports: [../catalog]\nsecrets:\n  MINE:\n    group: nope\n"
    #expect(
      Self.failure { () throws(ManifestError) in try Self.merge(root) }
        == "coffer.yaml:7:12: secrets.MINE.group: no group named \"nope\" is declared under groups or in an import")
    let access = "version: 1\nproject: web\nenvironments: [production]\nimports: [../catalog]\naccess:\n  - { environments: ['*'], groups: [api-keys, nope], recipients: ['*'] }\n"
    #expect(
      Self.failure { () throws(ManifestError) in try Self.merge(access) }
        == "coffer.yaml:6:47: access[0].groups[1]: no group named \"nope\" is declared under groups or in an import")
  }

  @Test func importsDecodeAndRoundTrip() throws {
    let text = """
      version: 1
      project: web
      environments: [production]
      imports:
        - ../catalog
        - { path: shared/coffer.yaml }
        - { git: 'https://example.com/org/catalog.git', ref: v1, path: catalog }

      """
    let manifest = try Manifest.decode(Array(text.utf8), file: "coffer.yaml")
    #expect(
      manifest.imports == [
        ManifestImport(path: "../catalog"), ManifestImport(path: "shared/coffer.yaml"),
        ManifestImport(path: "catalog", git: "https://example.com/org/catalog.git", ref: "v1"),
      ])
    #expect(try Manifest.decode(Array(manifest.encodedYAML().utf8), file: "x") == manifest)
  }

  @Test(arguments: [
    ("imports: ../catalog", "coffer.yaml:4:10: imports: expected a list of imports (paths or { path, git, ref } mappings)"),
    ("imports: [{ ref: v1 }]", "coffer.yaml:4:11: imports[0]: expected path or git"),
    ("imports: [{ path: x, ref: v1 }]", "coffer.yaml:4:11: imports[0].ref: ref is only meaningful with git"),
    ("imports: [{ paht: x }]", "coffer.yaml:4:13: imports[0].paht: unknown field; expected one of path, git, ref"),
    ("imports: [[x]]", "coffer.yaml:4:11: imports[0]: expected a path or a { path, git, ref } mapping, found a list"),
  ])
  func badImportEntriesAreRejected(line: String, expected: String) {
    let text = "version: 1\nproject: web\nenvironments: [production]\n\(line)\n"
    #expect(Self.failure { () throws(ManifestError) in try Self.merge(text, files: [:], edges: [:]) } == expected)
  }

  @Test func withoutImportsGroupsMustStillBeDeclaredHere() {
    let text = "version: 1\nproject: web\nenvironments: [production]\nsecrets:\n  A:\n    group: nope\n"
    #expect(throws: ManifestError.self) { try Manifest.decode(Array(text.utf8), file: "coffer.yaml") }
  }
}
