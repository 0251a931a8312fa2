import Foundation
import Testing

/// `imports:` through the CLI: the one place the manifest is loaded merges, and `manifest show` explains it.
@Suite("ImportsCLI")
struct ImportsCLITests {
  static let catalog = """
    version: 1
    project: org-catalog
    groups:
      api-keys:
        rotation: 90d
    secrets:
      OPENAI_API_KEY:
        group: api-keys
        description: OpenAI key
        prefix: sk-
        required: [production]
      SENTRY_DSN:
        required: false

    """

  static let web = """
    version: 1
    project: web
    environments: [development, production]
    imports:
      - ../catalog
    secrets:
      OPENAI_API_KEY:
        example: sk-example
      PORT:
        secret: false
        required: false

    """

  static func organization(web: String = ImportsCLITests.web) throws -> Sandbox {
    let sb = try Sandbox()
    try sb.write("catalog/coffer.yaml", catalog)
    try sb.write("web/coffer.yaml", web)
    return sb
  }

  @Test func manifestShowPrintsTheMergedManifestWithOrigins() throws {
    let sb = try Self.organization()
    let r = sb.run(["manifest", "show"], cwd: sb.dir.appendingPathComponent("web"))
    expectStatus(r, 0, "manifest show")
    #expect(
      r.out == """
        version: 1
        project: web
        environments: [development, production]
        recipients: {}
        groups:
          api-keys:                                 # ../catalog/coffer.yaml:4:3
            rotation: 90d                           # ../catalog/coffer.yaml:5:15
        secrets:
          OPENAI_API_KEY:                           # ../catalog/coffer.yaml:7:3
            group: api-keys                         # ../catalog/coffer.yaml:8:12
            description: OpenAI key                 # ../catalog/coffer.yaml:9:18
            required: [production]                  # ../catalog/coffer.yaml:11:15
            prefix: sk-                             # ../catalog/coffer.yaml:10:13
            example: sk-example                     # coffer.yaml:8:14
          PORT:                                     # coffer.yaml:9:3
            required: false                         # coffer.yaml:11:15
            secret: false                           # coffer.yaml:10:13

        """)
    #expect(r.stderr == "")
    let json = sb.run(["manifest", "show", "--json"], cwd: sb.dir.appendingPathComponent("web"))
    expectStatus(json, 0, "manifest show --json")
    #expect(
      json.out.contains(
        #"{"name":"OPENAI_API_KEY","group":"api-keys","description":"OpenAI key","required":["production"],"prefix":"sk-","pattern":null,"min_length":null,"max_length":null,"example":"sk-example","secret":true,"format":null,"rotation":null,"allow_loader_variable":false,"compose":null,"from":{"":"../catalog/coffer.yaml:7:3","group":"../catalog/coffer.yaml:8:12","description":"../catalog/coffer.yaml:9:18","required":"../catalog/coffer.yaml:11:15","prefix":"../catalog/coffer.yaml:10:13","example":"coffer.yaml:8:14"}}"#
      ))
  }

  @Test func aDestinationMayNameAnImportedGroup() throws {
    let web = Self.web + """
      destinations:
        local: { type: dotenv, path: local.env, from: production, groups: [api-keys] }

      """
    let sb = try Self.organization(web: web)
    let cwd = sb.dir.appendingPathComponent("web")
    expectStatus(sb.run(["set", "OPENAI_API_KEY", "--env", "production"], stdin: Data("sk-imported-group-1".utf8), cwd: cwd), 0, "set")
    let r = sb.run(["sync"], cwd: cwd)
    expectStatus(r, 0, "sync to a destination naming an imported group")
    #expect(try sb.read("web/local.env") == Data("OPENAI_API_KEY=sk-imported-group-1\n".utf8))
  }

  @Test func checkAndTemplateSeeImportedDefinitions() throws {
    let sb = try Self.organization()
    let web = sb.dir.appendingPathComponent("web")
    let set = sb.run(["set", "OPENAI_API_KEY", "--env", "production"], stdin: Data("not-a-key".utf8), cwd: web)
    expectStatus(set, 0, "set")
    let check = sb.run(["check", "--env", "production", "--json"], cwd: web)
    expectStatus(check, 1, "check")
    #expect(check.out.contains("OPENAI_API_KEY"))
    #expect(check.out.contains("sk-"))
    #expect(!check.out.contains("SENTRY_DSN"))
    #expect(!check.all.contains("not-a-key"))
    let template = sb.run(["template"], cwd: web)
    expectStatus(template, 0, "template")
    #expect(template.out.contains("OPENAI_API_KEY=sk-example"))
    #expect(!template.out.contains("SENTRY_DSN"))
  }

  @Test(arguments: [
    (
      "    group: other\n", "coffer.yaml:8:12: secrets.OPENAI_API_KEY.group: cannot change the group of the imported secret OPENAI_API_KEY, defined at ../catalog/coffer.yaml:8:12"
    ),
    (
      "    prefix: sk_\n", "coffer.yaml:8:13: secrets.OPENAI_API_KEY.prefix: cannot change the prefix of the imported secret OPENAI_API_KEY, defined at ../catalog/coffer.yaml:10:13"
    ),
    (
      "    rotation: 30d\n", "coffer.yaml:8:15: secrets.OPENAI_API_KEY.rotation: cannot change the rotation of the imported secret OPENAI_API_KEY, defined at ../catalog/coffer.yaml:7:3"
    ),
    (
      "    required: [development]\n", "coffer.yaml:8:15: secrets.OPENAI_API_KEY.required: cannot require OPENAI_API_KEY in fewer environments than the imported secret OPENAI_API_KEY, defined at ../catalog/coffer.yaml:11:15"
    ),
  ])
  func forbiddenOverridesExitTwoNamingBothPlaces(field: String, message: String) throws {
    let web = Self.web.replacingOccurrences(of: "    example: sk-example\n", with: field)
    let sb = try Self.organization(web: web)
    for args in [["check"], ["template"], ["manifest", "show"]] {
      let r = sb.run(args, cwd: sb.dir.appendingPathComponent("web"))
      expectStatus(r, 2, args.joined(separator: " "))
      #expect(r.out == "")
      #expect(r.stderr.hasPrefix("coffer: error: \(message)\n"))
    }
  }

  @Test func unreadableAndGitImportsAreBadInput() throws {
    let missing = Self.web.replacingOccurrences(of: "../catalog", with: "../nowhere")
    let sb = try Self.organization(web: missing)
    let r = sb.run(["check"], cwd: sb.dir.appendingPathComponent("web"))
    expectStatus(r, 2, "check with a missing import")
    #expect(r.stderr == "coffer: error: coffer.yaml:5:5: imports[0]: cannot read import ../nowhere/coffer.yaml: no such file\n")
    let git = Self.web.replacingOccurrences(of: "- ../catalog", with: "- { git: 'file:///nowhere/catalog.git' }")
    try sb.write("web/coffer.yaml", git)
    let g = sb.run(["check"], cwd: sb.dir.appendingPathComponent("web"))
    expectStatus(g, 2, "check with a git import")
    #expect(
      g.stderr
        == "coffer: error: coffer.yaml:5:5: imports[0]: git import file:///nowhere/catalog.git (HEAD) is not pinned in coffer.lock; run `coffer imports update`\n"
    )
  }

  @Test func aCycleThroughFilesIsNamed() throws {
    let sb = try Sandbox()
    try sb.write("a/coffer.yaml", "version: 1\nimports: [../b]\n")
    try sb.write("b/coffer.yaml", "version: 1\nimports: [../a]\n")
    try sb.write("web/coffer.yaml", "version: 1\nproject: web\nenvironments: [dev]\nimports: [../a]\n")
    let r = sb.run(["check"], cwd: sb.dir.appendingPathComponent("web"))
    expectStatus(r, 2, "check with a cycle")
    #expect(
      r.stderr
        == "coffer: error: ../b/coffer.yaml:2:11: imports[0]: import cycle: ../a/coffer.yaml → ../b/coffer.yaml → ../a/coffer.yaml\n"
    )
  }
}

/// Access rules may name imported groups; `access grant`/`revoke` refuse to edit rules for an imported group
/// (fail closed) and name unknown ones.
@Suite("ImportsAccessCLI")
struct ImportsAccessCLITests {
  @Test(arguments: ["grant", "revoke"])
  func accessEditsOfImportedGroupsAreRefused(verb: String) throws {
    let box = try Sandbox()
    let daveFile = box.path("home/dave.txt")
    let dave = box.run(["keygen", "-o", daveFile]).out.trimmingCharacters(in: .newlines)
    try box.write(
      "catalog/coffer.yaml",
      "version: 1\ngroups:\n  api-keys: { rotation: 90d }\n  infrastructure-credentials: { rotation: 90d }\nsecrets:\n  API_KEY: { group: api-keys }\n  INFRA_TOKEN: { group: infrastructure-credentials }\n"
    )
    try box.write(
      "coffer.yaml",
      """
      version: 1
      project: gov
      environments: [production]
      imports: [catalog]
      recipients:
        alice: \(box.recipient)
        dave: \(dave)
      secrets:
        API_KEY:
        INFRA_TOKEN:
      access:
        - { environments: [production], groups: [infrastructure-credentials], recipients: [alice] }
        - { environments: [production], groups: [api-keys], recipients: [alice, dave] }

      """)
    #expect(box.set("INFRA_TOKEN", "infra-value-Qx7v2", env: "production").status == 0)
    #expect(box.set("API_KEY", "api-value-M3nB8", env: "production").status == 0)
    let daveEnv = ["COFFER_IDENTITY_FILE": daveFile]
    #expect(box.run(["get", "API_KEY", "-n", "--env", "production"], env: daveEnv).out == "api-value-M3nB8")
    expectStatus(box.run(["get", "INFRA_TOKEN", "-n", "--env", "production"], env: daveEnv), 3, "dave reads INFRA_TOKEN")
    let manifest = try box.read("coffer.yaml")
    let imported = box.run(["access", verb, "dave", "--groups", "infrastructure-credentials", "--env", "production"])
    expectStatus(imported, 2, "access \(verb) of an imported group")
    #expect(
      imported.stderr
        == "coffer: error: coffer.yaml: access: infrastructure-credentials is an imported group; `coffer access \(verb)` edits only groups declared in this file\ncoffer: hint: edit the access: rules in coffer.yaml by hand, then run `coffer rewrap`\n"
    )
    let unknown = box.run(["access", verb, "dave", "--groups", "nope", "--env", "production"])
    expectStatus(unknown, 2, "access \(verb) of an unknown group")
    #expect(unknown.stderr == "coffer: error: coffer.yaml: access: no group named \"nope\" is declared under groups or in an import\n")
    #expect(try box.read("coffer.yaml") == manifest)
  }
}
