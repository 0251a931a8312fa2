import Foundation
import Testing

/// `coffer inject` (issue 15): `{{ coffer "NAME" }}` and `{{ coffer "ENV/NAME" }}` rendered byte for byte, other
/// template syntax untouched, refusals with file:line:column and nothing written.
@Suite struct InjectTests {
  static let manifest = """
    version: 1
    project: inject-test
    environments: [development, production]
    secrets:
      API_TOKEN: {}
      PEM:
        required: false

    """

  func seeded() throws -> Sandbox {
    let box = try Sandbox(manifest: Self.manifest)
    #expect(box.run(["set", "API_TOKEN", "--env", "development"], stdin: Data("tok-{{ coffer \"PEM\" }}-$HOME".utf8)).status == 0)
    #expect(box.run(["set", "PEM", "--env", "development"], stdin: Data("-----BEGIN-----\r\nline2\n-----END-----\n".utf8)).status == 0)
    #expect(box.run(["set", "API_TOKEN", "--env", "production"], stdin: Data("prod-token".utf8)).status == 0)
    return box
  }

  /// Byte-exact: values with newlines, CRLF and template syntax are inserted as they are (not expanded again);
  /// other `{{ }}` and a CRLF template survive; another environment by `ENV/NAME`.
  @Test func rendersByteExact() throws {
    let box = try seeded()
    let template = "a: {{ coffer \"API_TOKEN\" }}\r\nkey: |\n{{coffer \"PEM\"}}\nhelm: {{ .Values.x }} {{ coffer\t\"production/API_TOKEN\"\t}}\n{{ not coffer }}"
    try box.write("t.tmpl", template)
    let r = box.run(["inject", "-i", "t.tmpl", "--env", "development"])
    #expect(r.status == 0, "\(r.stderr)")
    let expected = "a: tok-{{ coffer \"PEM\" }}-$HOME\r\nkey: |\n-----BEGIN-----\r\nline2\n-----END-----\nhelm: {{ .Values.x }} prod-token\n{{ not coffer }}"
    #expect(r.out == expected)
    #expect(r.stderr == "")
    // stdin → stdout, the same bytes.
    let piped = box.run(["inject", "--env", "development"], stdin: Data(template.utf8))
    #expect(piped.out == expected)
    // -o FILE: mode 0600, a note on stderr, nothing on stdout.
    let written = box.run(["inject", "-i", "t.tmpl", "-o", "out/config.yaml", "--env", "development"])
    #expect(written.status != 0)  // the directory does not exist: refused
    let ok = box.run(["inject", "-i", "t.tmpl", "-o", "config.yaml", "--env", "development"])
    #expect(ok.status == 0)
    #expect(ok.out == "")
    #expect(ok.stderr == "coffer: wrote config.yaml (3 references)\n")
    #expect(String(decoding: try box.read("config.yaml"), as: UTF8.self) == expected)
    let mode = try FileManager.default.attributesOfItem(atPath: box.path("config.yaml"))[.posixPermissions] as? Int
    #expect(mode == 0o600)
    // The audit records each environment's read (two environments, four renderings; the one whose output
    // directory does not exist had read the values before the write failed).
    let audit = box.run(["audit", "--json"]).out.split(separator: "\n").filter { $0.contains("\"inject\"") }
    #expect(audit.count == 8)
  }

  /// Refusals name file:line:column, exit 2, and write nothing (an existing output keeps its contents).
  @Test func refusesUndefinedReferencesAndWritesNothing() throws {
    let box = try seeded()
    try box.write("config.yaml", "previous\n")
    let cases: [(String, String)] = [
      ("ok: {{ coffer \"API_TOKEN\" }}\nbad: {{ coffer \"NOPE\" }}\n",
       "coffer: error: t.tmpl:2:6: NOPE has no value in development (coffer.yaml does not declare it)\ncoffer: hint: `coffer set NOPE --env development`, or correct the reference\n"),
      ("x {{ coffer \"PEM\" }} {{ coffer \"production/PEM\" }}",
       "coffer: error: t.tmpl:1:22: PEM has no value in production\ncoffer: hint: `coffer set PEM --env production`, or correct the reference\n"),
      ("{{ coffer \"staging/API_TOKEN\" }}",
       "coffer: error: t.tmpl:1:1: no environment named staging in coffer.yaml\ncoffer: hint: its environments: development, production\n"),
      ("\n\n  {{ coffer API_TOKEN }}",
       "coffer: error: t.tmpl:3:3: expected {{ coffer \"NAME\" }} or {{ coffer \"ENV/NAME\" }}\n"),
      ("{{ coffer \"sk-live-123 pasted\" }}",
       "coffer: error: t.tmpl:1:1: the name in a reference is not a valid secret name ([A-Za-z_][A-Za-z0-9_]*)\n"),
      ("{{ coffer \"API_TOKEN\" ",
       "coffer: error: t.tmpl:1:1: expected {{ coffer \"NAME\" }} or {{ coffer \"ENV/NAME\" }}\n"),
    ]
    for (template, stderr) in cases {
      try box.write("t.tmpl", template)
      let r = box.run(["inject", "-i", "t.tmpl", "-o", "config.yaml", "--env", "development"])
      #expect(r.status == 2)
      #expect(r.stderr == stderr)
      #expect(r.out == "")
      #expect(String(decoding: try box.read("config.yaml"), as: UTF8.self) == "previous\n")
    }
    // To stdout: nothing at all either.
    let r = box.run(["inject", "--env", "development"], stdin: Data("ok: {{ coffer \"API_TOKEN\" }}\n{{ coffer \"NOPE\" }}".utf8))
    #expect(r.status == 2)
    #expect(r.out == "")
    #expect(r.stderr.hasPrefix("coffer: error: <stdin>:2:1: NOPE has no value in development"))
    // Coffer's own files are refused.
    try box.write("t.tmpl", "x")
    #expect(box.run(["inject", "-i", "t.tmpl", "-o", "coffer.yaml"]).status == 2)
  }
}

/// Unreadable groups (issue 15): `inject` and `--env-file` refuse a reference into a group this identity cannot read
/// (exit 3, file:line, who can grant access), writing nothing; `run --only` needs only the groups it selects.
@Suite struct InjectAccessTests {
  @Test func unreadableGroupsAreRefusedWithFileAndLine() throws {
    let g = try GovernanceBox()
    try g.box.write("t.tmpl", "api={{ coffer \"production/API_KEY\" }}\ninfra={{ coffer \"production/INFRA_TOKEN\" }}\n")
    try g.box.write("out.conf", "previous\n")
    let r = g.asDave(["inject", "-i", "t.tmpl", "-o", "out.conf", "-e", "development"])
    #expect(r.status == 3)
    #expect(r.out == "")
    #expect(r.stderr.hasPrefix(
      "coffer: error: t.tmpl:2:7: INFRA_TOKEN is in group infrastructure-credentials, which this identity cannot read in production\n"
        + "coffer: hint: infrastructure-credentials in production: recipients who can read it and grant access: alice\n"))
    #expect(String(decoding: try g.box.read("out.conf"), as: UTF8.self) == "previous\n")
    #expect(!r.all.contains(GovernanceBox.infra) && !r.all.contains(GovernanceBox.api))
    // The readable reference alone renders.
    try g.box.write("t.tmpl", "api={{ coffer \"production/API_KEY\" }}\n")
    #expect(g.asDave(["inject", "-i", "t.tmpl", "-e", "development"]).out == "api=\(GovernanceBox.api)\n")
    // run --only: a subset that needs no unreadable group runs without --allow-partial; one that does is refused.
    let only = g.asDave(["run", "-e", "production", "--only", "api-keys", "--", "printenv", "API_KEY"])
    #expect(only.status == 0, "\(only.stderr)")
    #expect(only.out == GovernanceBox.api + "\n")
    let infra = g.asDave(["run", "-e", "production", "--only", "infrastructure-credentials", "--", "true"])
    #expect(infra.status == 3)
    #expect(infra.stderr.hasPrefix("coffer: error: cannot read groups infrastructure-credentials in production with this identity\n"))
    // --env-file (here for an environment without a vault): the same refusal, naming the file and line.
    try g.box.write("refs.env", "A=coffer://production/API_KEY\nB=coffer://production/INFRA_TOKEN\n")
    let refs = g.asDave(["run", "-e", "development", "--allow-missing", "--include-undeclared", "--env-file", "refs.env", "--", "true"])
    #expect(refs.status == 3)
    #expect(refs.stderr == "coffer: warning: development has no vault yet: running without secrets (--allow-missing)\ncoffer: error: refs.env:2:1: B: INFRA_TOKEN is in group infrastructure-credentials, which this identity cannot read in production\n")
    try g.box.write("refs.env", "A=coffer://production/API_KEY\nLD_PRELOAD=/tmp/x.so\n")
    let ok = g.asDave(["run", "-e", "development", "--allow-missing", "--include-undeclared", "--env-file", "refs.env", "--", "sh", "-c", "printf '%s|%s' \"$A\" \"${LD_PRELOAD-unset}\""])
    #expect(ok.status == 0)
    #expect(ok.out == "\(GovernanceBox.api)|unset")
  }
}
