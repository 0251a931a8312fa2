import Foundation
import Testing

/// `coffer import --from-project DIR` and `coffer setup-repo --from-project DIR` (docs/organization.md, "Moving
/// secrets between projects").
@Suite("ProjectCopyCLI")
struct ProjectCopyCLITests {
  static let source = """
    version: 1
    project: src
    environments: [development, production]
    groups:
      db: {}
      ops: {}
    secrets:
      DB_URL: { group: db }
      DB_USER: { group: db, secret: false }
      OPS_TOKEN: { group: ops }
      EXTRA: {}

    """

  static let target = """
    version: 1
    project: dst
    environments: [development, staging]
    groups:
      db: {}
      ops: {}
    secrets:
      DB_URL: { group: db }
      DB_USER: { group: db, secret: false }
      OPS_TOKEN: { group: ops }

    """

  /// `src` and `dst` side by side; src's development holds four values, dst's holds DB_USER (the same) and
  /// DB_URL (another value).
  static func projects() throws -> Sandbox {
    let sb = try Sandbox()
    try sb.write("src/coffer.yaml", source)
    try sb.write("dst/coffer.yaml", target)
    for (name, value) in [("DB_URL", "postgres://src-9f3a"), ("DB_USER", "app"), ("OPS_TOKEN", "ops-token-7c1e"), ("EXTRA", "extra-5d2b")] {
      expectStatus(sb.run(["set", name, "--env", "development", "--project", "src"], stdin: Data(value.utf8)), 0, "set \(name)")
    }
    expectStatus(sb.run(["set", "DB_USER", "--env", "development", "--project", "dst"], stdin: Data("app".utf8)), 0, "set DB_USER")
    expectStatus(sb.run(["set", "DB_URL", "--env", "development", "--project", "dst"], stdin: Data("postgres://dst-11aa".utf8)), 0, "set DB_URL")
    return sb
  }

  func get(_ sb: Sandbox, _ name: String, env: String = "development", project: String = "dst") -> String {
    let out = sb.run(["get", name, "--env", env, "--project", project]).out
    return out.hasSuffix("\n") ? String(out.dropLast()) : out
  }

  func auditLines(_ sb: Sandbox) throws -> [String] {
    let dir = sb.dir.appendingPathComponent("home/.local/state/coffer/audit")
    var lines: [String] = []
    for file in try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() where file.hasSuffix(".jsonl") {
      lines += String(decoding: try Data(contentsOf: dir.appendingPathComponent(file)), as: UTF8.self).split(separator: "\n").map(String.init)
    }
    return lines
  }

  @Test func copiesValuesWithTheUsualSummaryAndRefusals() throws {
    let sb = try Self.projects()
    let sourceVault = try sb.read("src/.coffer/vault/development.vault")
    let r = sb.run(["import", "--from-project", "../src", "--env", "development"], cwd: sb.dir.appendingPathComponent("dst"))
    expectStatus(r, 0, "import --from-project")
    #expect(r.out == "")
    #expect(
      r.stderr == """
        coffer: copied from ../src (development) into development: 1 added, 0 updated, 1 unchanged, 2 skipped
        coffer: skipped (already set, differing): DB_URL; use --overwrite to replace
        coffer: warning: not declared in coffer.yaml, not copied: EXTRA

        """)
    #expect(get(sb, "OPS_TOKEN") == "ops-token-7c1e")
    #expect(get(sb, "DB_URL") == "postgres://dst-11aa")
    #expect(try sb.read("src/.coffer/vault/development.vault") == sourceVault)
    let again = sb.run(["import", "--from-project", "src", "--env", "development", "--overwrite", "--project", "dst"])
    expectStatus(again, 0, "import --from-project --overwrite")
    #expect(
      again.stderr == """
        coffer: copied from src (development) into development: 0 added, 1 updated, 2 unchanged, 1 skipped
        coffer: warning: not declared in coffer.yaml, not copied: EXTRA

        """)
    #expect(get(sb, "DB_URL") == "postgres://src-9f3a")
    #expect(try sb.read("src/.coffer/vault/development.vault") == sourceVault)
    // Both sides are in the audit log: the source's read (export, to the project) and this project's import.
    let lines = try auditLines(sb)
    #expect(lines.contains { $0.contains(#""action":"export","environment":"development","secrets":["DB_URL","DB_USER","OPS_TOKEN"]"#) && $0.contains(#""destination":"project:dst/development""#) })
    #expect(lines.contains { $0.contains(#""action":"import","environment":"development","secrets":["DB_URL"]"#) && $0.contains(#""detail":"from project src (development)""#) })
    for line in lines {
      let clean = !line.contains("src-9f3a") && !line.contains("ops-token-7c1e")
      #expect(clean, "the audit log holds a value")
    }
  }

  @Test(arguments: [
    (["--names", "OPS_TOKEN"], ["OPS_TOKEN"], "1 added, 0 updated, 0 unchanged, 0 skipped"),
    (["--names", " DB_URL , OPS_TOKEN "], ["DB_URL", "OPS_TOKEN"], "2 added, 0 updated, 0 unchanged, 0 skipped"),
    (["--groups", "db"], ["DB_URL", "DB_USER"], "2 added, 0 updated, 0 unchanged, 0 skipped"),
    (["--groups", "db,default"], ["DB_URL", "DB_USER"], "2 added, 0 updated, 0 unchanged, 1 skipped"),
  ])
  func namesAndGroupsChooseWhatIsCopiedToAnotherEnvironment(options: [String], copied: [String], counts: String) throws {
    let sb = try Self.projects()
    let r = sb.run(["import", "--from-project", "src", "--env", "development", "--to-env", "staging", "--project", "dst"] + options)
    expectStatus(r, 0, "import --from-project \(options)")
    #expect(r.stderr.hasPrefix("coffer: copied from src (development) into staging: \(counts)\n"))
    let listed = sb.run(["list", "--env", "staging", "--project", "dst", "--json"]).out
    for name in ["DB_URL", "DB_USER", "OPS_TOKEN"] {
      #expect(listed.contains("\"\(name)\"") == copied.contains(name), "\(name) in staging after \(options)")
    }
  }

  @Test(arguments: [
    (["import", "--from-project", "src", "--project", "dst"], "coffer: error: --from-project needs --env NAME, the environment of src to copy from\n"),
    (["import", "x.env", "--from-project", "src", "--env", "development", "--project", "dst"], "coffer: error: give a .env file or --from-project DIR, not both\n"),
    (["import", "--from-project", "src", "--env", "development", "--names", "DB_URL", "--groups", "db", "--project", "dst"], "coffer: error: give --names or --groups, not both\n"),
    (["import", "--from-project", "src", "--env", "development", "--names", "DB_URLL", "--project", "dst"], "coffer: error: DB_URLL has no value in src (development)\ncoffer: hint: did you mean DB_URL?\n"),
    (["import", "--from-project", "src", "--env", "development", "--groups", "nope", "--project", "dst"], "coffer: error: no secret of group nope in src (development)\ncoffer: hint: its vault holds the groups: db, default, ops\n"),
    (["import", "--from-project", "src", "--env", "production", "--to-env", "staging", "--project", "dst"], "coffer: error: src has no vault for production: nothing to copy\n"),
    (["import", "--from-project", "src", "--env", "development", "--project", "dst", "--to-env", "production"], "coffer: error: unknown environment production\ncoffer: hint: the manifest declares: development, staging\n"),
    (["import", "--from-project", "dst", "--env", "development", "--project", "dst"], "coffer: error: --from-project dst is this project\ncoffer: hint: to copy between environments of one project, use export and import\n"),
    (["import", "--from-project", "home", "--env", "development", "--project", "dst"], "coffer: error: --from-project home: no coffer.yaml there\n"),
    (["import", "x.env", "--to-env", "staging", "--project", "dst"], "coffer: error: --to-env goes with --from-project\n"),
  ])
  func badRequestsWriteNothing(args: [String], stderr: String) throws {
    let sb = try Self.projects()
    let before = try sb.read("dst/.coffer/vault/development.vault")
    let r = sb.run(args)
    expectStatus(r, 2, args.joined(separator: " "))
    #expect(r.stderr == stderr)
    #expect(try sb.read("dst/.coffer/vault/development.vault") == before)
    #expect(!sb.exists("dst/.coffer/vault/staging.vault"))
  }

  /// The source restricts group ops to another identity; the target lets nobody read group ops in development.
  static func restricted(_ sb: Sandbox, other: Sandbox, targetRule: String) throws {
    try sb.write(
      "src/coffer.yaml",
      source + """
        recipients:
          me: \(sb.recipient)
          other: \(other.recipient)
        access:
          - { environments: [development], groups: [db, default], recipients: [me, other] }
          - { environments: [development], groups: [ops], recipients: [other] }

        """)
    try sb.write(
      "dst/coffer.yaml",
      target + """
        recipients:
          me: \(sb.recipient)
        access:
          - { environments: [development, staging], groups: [\(targetRule)], recipients: [me] }

        """)
    // The other identity (who reads everything in src) re-wraps src so that only it reads ops.
    expectStatus(sb.run(["rewrap", "--project", "src"], env: ["COFFER_IDENTITY_FILE": other.identityFile.path]), 0, "rewrap src")
  }

  @Test func groupsThisIdentityCannotReadAreRefusedUnlessAllowPartial() throws {
    let sb = try Self.projects()
    // Hand-written v1 team projects (no signed policy): their v1 warning is acknowledged to keep stderr exact.
    sb.extraEnvironment["COFFER_TRUST_V1"] = "acknowledged"
    let other = try Sandbox()
    // Before restricting, the other identity must be able to open src: write it as the current identity first,
    // wrapped to both.
    try sb.write("src/coffer.yaml", Self.source + "recipients:\n  me: \(sb.recipient)\n  other: \(other.recipient)\n")
    expectStatus(sb.run(["rewrap", "--project", "src"]), 0, "rewrap to both")
    try Self.restricted(sb, other: other, targetRule: "db, ops, default")
    let refused = sb.run(["import", "--from-project", "src", "--env", "development", "--project", "dst"])
    expectStatus(refused, 3, "import --from-project with an unreadable group")
    #expect(refused.stderr.hasPrefix("coffer: error: cannot read groups ops in src (development) with this identity\n"))
    #expect(refused.stderr.hasSuffix("coffer: hint: pass --allow-partial to copy the rest, or choose with --names or --groups\n"))
    let named = sb.run(["import", "--from-project", "src", "--env", "development", "--names", "OPS_TOKEN", "--project", "dst"])
    expectStatus(named, 3, "import --from-project --names OPS_TOKEN")
    let partial = sb.run(["import", "--from-project", "src", "--env", "development", "--allow-partial", "--overwrite", "--project", "dst"])
    expectStatus(partial, 0, "import --from-project --allow-partial")
    #expect(
      partial.stderr == """
        coffer: warning: not readable with this identity in src (development), not copied: OPS_TOKEN (groups ops)
        coffer: copied from src (development) into development: 0 added, 1 updated, 1 unchanged, 2 skipped
        coffer: warning: not declared in coffer.yaml, not copied: EXTRA

        """)
    #expect(get(sb, "DB_URL") == "postgres://src-9f3a")
    let groups = sb.run(["import", "--from-project", "src", "--env", "development", "--groups", "db", "--to-env", "staging", "--project", "dst"])
    expectStatus(groups, 0, "import --from-project --groups db (readable)")
  }

  @Test func groupsNobodyMayReadHereAreBlocked() throws {
    let sb = try Self.projects()
    try sb.write("dst/coffer.yaml", Self.target + "recipients:\n  me: \(sb.recipient)\naccess:\n  - { environments: [development, staging], groups: [db, default], recipients: [me] }\n")
    let r = sb.run(["import", "--from-project", "src", "--env", "development", "--to-env", "staging", "--project", "dst"])
    expectStatus(r, 0, "import --from-project with a blocked group")
    #expect(
      r.stderr == """
        coffer: copied from src (development) into staging: 2 added, 0 updated, 0 unchanged, 2 skipped
        coffer: warning: not declared in coffer.yaml, not copied: EXTRA
        coffer: warning: blocked, nobody may read their group in staging here: OPS_TOKEN (group ops)

        """)
    #expect(get(sb, "DB_URL", env: "staging") == "postgres://src-9f3a")
  }

  @Test func setupRepoFromProjectCopiesTheManifestAndEveryVault() throws {
    let sb = try Self.projects()
    expectStatus(sb.run(["set", "DB_URL", "--env", "production", "--project", "src"], stdin: Data("postgres://prod-42".utf8)), 0, "set production")
    let r = sb.run(["setup-repo", "--name", "svc", "--from-project", "src"])
    expectStatus(r, 0, "setup-repo --from-project")
    #expect(r.out == sb.dir.appendingPathComponent("svc").path + "\n" || r.out.hasSuffix("/svc\n"))
    #expect(
      r.stderr == """
        coffer: copied from src (development) into development: 4 added, 0 updated, 0 unchanged, 0 skipped
        coffer: copied from src (production) into production: 1 added, 0 updated, 0 unchanged, 0 skipped
        coffer: set up svc: coffer.yaml, .gitignore, .gitattributes, env.example, .coffer/vault; review and commit

        """)
    let manifest = String(decoding: try sb.read("svc/coffer.yaml"), as: UTF8.self)
    #expect(manifest == Self.source.replacing("project: src", with: "project: svc"))
    #expect(get(sb, "EXTRA", project: "svc") == "extra-5d2b")
    #expect(get(sb, "DB_URL", env: "production", project: "svc") == "postgres://prod-42")
    // A source whose manifest imports a catalog can only be copied beside it (the import paths are relative).
    try sb.write("catalog/coffer.yaml", "version: 1\nsecrets:\n  SHARED: {}\n")
    try sb.write("src/coffer.yaml", Self.source.replacing("groups:\n", with: "imports: [../catalog]\ngroups:\n"))
    let nested = sb.run(["setup-repo", "--name", "deeper/svc3", "--from-project", "src"])
    expectStatus(nested, 2, "setup-repo --from-project a project with imports, elsewhere")
    #expect(
      nested.stderr == """
        coffer: error: the coffer.yaml of src has imports, whose paths are relative to its folder: set up the new repository beside it
        coffer: hint: coffer setup-repo --name svc3 --from-project src

        """)
    #expect(!sb.exists("deeper"))
    let refused = sb.run(["setup-repo", "--name", "svc2", "--from-project", "src", "--template", "reference"])
    expectStatus(refused, 2, "setup-repo with two sources")
    #expect(refused.stderr == "coffer: error: give at most one of --source-env, --from-pulumi, --template and --from-project\n")
    #expect(!sb.exists("svc2"))
  }
}
