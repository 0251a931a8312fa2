import Foundation
import Testing

/// Secrets composed from others (issue 15): `compose:` in the manifest, percent-encoding with `| url`, cycles and
/// missing parts named by their chain, composed values checked against their format.
@Suite struct ComposeTests {
  static let manifest = """
    version: 1
    project: compose-test
    environments: [production]
    secrets:
      DB_USER: {}
      DB_PASSWORD: {}
      DB_HOST:
        required: false
      DATABASE_URL:
        compose: "postgres://{{ DB_USER | url }}:{{ DB_PASSWORD | url }}@{{ DB_HOST }}/app"

    """

  static let url = "postgres://app%20user:p%40ss%3A%2Fw%7B%7Bx%7D%7D%0A@db.example.com:5432/app"

  func seeded(host: Bool = true) throws -> Sandbox {
    let box = try Sandbox(manifest: Self.manifest)
    #expect(box.run(["set", "DB_USER", "-e", "production"], stdin: Data("app user".utf8)).status == 0)
    #expect(box.run(["set", "DB_PASSWORD", "-e", "production", "--keep-newline"], stdin: Data("p@ss:/w{{x}}\n".utf8)).status == 0)
    if host { #expect(box.run(["set", "DB_HOST", "-e", "production"], stdin: Data("db.example.com:5432".utf8)).status == 0) }
    return box
  }

  /// `manifest show --json` reports `compose` (its text) and `allow_loader_variable`, with where they were written.
  @Test func manifestShowJSONReportsComposeAndLoaderFlag() throws {
    let box = try Sandbox(manifest: Self.manifest + """
        NODE_OPTIONS:
          required: false
          allow_loader_variable: true

      """)
    let r = box.run(["manifest", "show", "--json"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stderr == "")
    #expect(r.out.contains(
      #"{"name":"DATABASE_URL","group":null,"description":null,"required":true,"prefix":null,"pattern":null,"min_length":null,"max_length":null,"example":null,"secret":true,"format":null,"rotation":null,"allow_loader_variable":false,"compose":"postgres://{{ DB_USER | url }}:{{ DB_PASSWORD | url }}@{{ DB_HOST }}/app","from":{"":"coffer.yaml:9:3","compose":"coffer.yaml:10:14"}}"#))
    #expect(r.out.contains(
      #"{"name":"NODE_OPTIONS","group":null,"description":null,"required":false,"prefix":null,"pattern":null,"min_length":null,"max_length":null,"example":null,"secret":true,"format":null,"rotation":null,"allow_loader_variable":true,"compose":null,"from":{"":"coffer.yaml:11:3","required":"coffer.yaml:12:15","allow_loader_variable":"coffer.yaml:13:28"}}"#))
  }

  @Test func composedValueEverywhereItIsRead() throws {
    let box = try seeded()
    let run = box.run(["run", "-e", "production", "--", "printenv", "DATABASE_URL"])
    #expect(run.status == 0, "\(run.stderr)")
    #expect(run.out == Self.url + "\n")
    #expect(run.stderr == "")
    #expect(box.run(["get", "DATABASE_URL", "-e", "production", "-n"]).out == Self.url)
    #expect(box.run(["export", "-e", "production", "--format", "json"]).out.contains("\"DATABASE_URL\":\"\(Self.url)\""))
    #expect(box.run(["inject", "-e", "production"], stdin: Data("url={{ coffer \"DATABASE_URL\" }}".utf8)).out == "url=" + Self.url)
    let check = box.run(["check", "-e", "production"])
    #expect(check.status == 0)
    #expect(check.out == "environment: production\nok (4)\nresult: ok\n")
    // --names selects the composed secret alone.
    let only = box.run(["run", "-e", "production", "--names", "DATABASE_URL", "--", "env", "-0"])
    #expect(only.out.split(separator: "\0").map(String.init).filter { $0.hasPrefix("D") } == ["DATABASE_URL=" + Self.url])
  }

  /// A missing part: run refuses (naming the part), get names the chain; an optional composed secret is left out
  /// with a warning naming the chain.
  @Test func missingPartsNameTheChain() throws {
    let box = try seeded(host: false)
    let run = box.run(["run", "-e", "production", "--", "true"])
    #expect(run.status == 1)
    #expect(run.stderr.hasPrefix("coffer: error: 1 required secret has no value in production, so the command was not started: DB_HOST\n"))
    let get = box.run(["get", "DATABASE_URL", "-e", "production"])
    #expect(get.status == 1)
    #expect(get.stderr == "coffer: error: DATABASE_URL is composed from DB_HOST, which has no value in production (DATABASE_URL → DB_HOST)\ncoffer: hint: `coffer set DB_HOST --env production`\n")
    let allowed = box.run(["run", "-e", "production", "--allow-missing", "--", "sh", "-c", "echo ${DATABASE_URL-unset}"])
    #expect(allowed.out == "unset\n")
    #expect(allowed.stderr == "coffer: warning: DATABASE_URL is composed from DB_HOST, which has no value in production (DATABASE_URL → DB_HOST)\n")
    let check = box.run(["check", "-e", "production"])
    #expect(check.status == 1)
    #expect(check.out.contains("missing (1):\n  DATABASE_URL\n"))
  }

  /// Composed values are checked against their format like any other.
  @Test func composedValuesAreCheckedAgainstTheirFormat() throws {
    let box = try Sandbox(manifest: """
      version: 1
      project: compose-format
      environments: [production]
      secrets:
        DB_USER: {}
        DB_HOST: {}
        DATABASE_URL:
          compose: "postgres://{{ DB_USER }}:@{{ DB_HOST }}/app"

      """)
    #expect(box.set("DB_USER", "app", env: "production").status == 0)
    #expect(box.set("DB_HOST", "db", env: "production").status == 0)
    let check = box.run(["check", "-e", "production"])
    #expect(check.status == 1)
    #expect(check.out.contains("  DATABASE_URL  is not a database URL"))
    #expect(check.out.contains("has an empty password [format db-connection-url, assumed from the name]\n"))
  }

  /// Cycles and undeclared parts are manifest errors naming the chain (exit 2); so is a malformed `compose:`.
  @Test func cyclesAndUndeclaredPartsAreManifestErrors() throws {
    let cases: [(String, String)] = [
      ("  A:\n    compose: \"{{ B }}\"\n  B:\n    compose: \"x{{ C | url }}\"\n  C:\n    compose: \"{{ A }}\"\n",
       "coffer: error: coffer.yaml:7:14: secrets.A.compose: a cycle: A → B → C → A\n"),
      ("  A:\n    compose: \"{{ A }}\"\n", "coffer: error: coffer.yaml:7:14: secrets.A.compose: a cycle: A → A\n"),
      ("  A:\n    compose: \"{{ NOPE }}\"\n", "coffer: error: coffer.yaml:7:14: secrets.A.compose: NOPE is not declared under secrets\ncoffer: hint: declare it, or correct the name\n"),
      ("  A:\n    compose: \"{{ B | base64 }}\"\n  B: {}\n", "coffer: error: coffer.yaml:7:14: secrets.A.compose: expected {{ NAME }} or {{ NAME | url }} inside {{ }}\n"),
      ("  A:\n    compose: \"plain\"\n", "coffer: error: coffer.yaml:7:14: secrets.A.compose: names no part; expected at least one {{ NAME }}\n"),
    ]
    for (secrets, stderr) in cases {
      let box = try Sandbox(manifest: "version: 1\nproject: p\nenvironments: [production]\nsecrets:\n  X: {}\n" + secrets)
      let r = box.run(["check", "-e", "production"])
      #expect(r.status == 2)
      #expect(r.stderr == stderr)
    }
  }
}
