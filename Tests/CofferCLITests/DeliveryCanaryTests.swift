import Foundation
import Testing

/// Canary tests for issue 15's and issue 10's delivery paths: `inject`, `run --env-file`, `run --only/--names`, run's
/// injection warnings and `completion`. Planted values appear only where the user asked for them (inject's output,
/// the child's environment), never in a message, an error or the audit log.
@Suite("Canary: delivery")
struct DeliveryCanaryTests {
  /// The planted sandbox, plus canaries planted under loader-variable names and an undeclared name.
  func planted() throws -> Sandbox {
    let sb = try plantedSandbox()
    for name in ["BASH_ENV", "LD_PRELOAD", "NODE_OPTIONS", "UNDECLARED_CANARY"] {
      let r = sb.run(["set", name, "--env", "development", "--undeclared"], stdin: Data(Canaries.simple.bytes))
      expectStatus(r, 0, "set \(name)")
      expectNoLeak(r, "set \(name)")
    }
    return sb
  }

  @Test func runWarningsNameVariablesNeverValues() throws {
    let sb = try planted()
    for args in [
      ["run", "-e", "development", "--allow-missing", "--", "true"],
      ["run", "-e", "development", "--allow-missing", "--include-undeclared", "--", "true"],
      ["run", "-e", "development", "--allow-missing", "--redact", "--", "true"],
      ["run", "-e", "development", "--allow-missing", "--verbose", "--only", "api-keys", "--", "true"],
      ["run", "-e", "development", "--allow-missing", "--names", Canaries.simple.name + ",MULTI_KEY", "--", "true"],
      ["run", "-e", "development", "--only", "no-such-group", "--", "true"],
      ["run", "-e", "development", "--names", "NOT_DECLARED_X", "--", "true"],
    ] {
      let r = sb.run(args)
      expectNoLeak(r, args.joined(separator: " "))
    }
    // The child sees the selected values (and only those), exactly.
    let only = sb.run(["run", "-e", "development", "--allow-missing", "--only", "api-keys", "--", "sh", "-c", "printf '%s' \"$\(Canaries.simple.name)\"; printf '%s' \"${MULTI_KEY-}\""])
    expectStatus(only, 0, "run --only api-keys")
    #expect(only.stdout == Data(Canaries.simple.bytes), "run --only: the child did not get exactly the selected value")
    expectStderrClean(only, "run --only api-keys")
    expectProjectFilesClean(sb, "run")
    expectAuditClean(sb, "run")
  }

  @Test func injectPrintsValuesOnlyWhereAsked() throws {
    let sb = try planted()
    let template = Canaries.development.map { "\($0.name): {{ coffer \"\($0.name)\" }}\n" }.joined()
    try sb.write("app.tmpl", template)
    // stdout: the values the template asked for, exactly; stderr clean.
    let out = sb.run(["inject", "-i", "app.tmpl", "-e", "development"])
    expectStatus(out, 0, "inject to stdout")
    expectContainsMarkers(out.out, Canaries.development, "inject to stdout")
    expectStderrClean(out, "inject to stdout")
    // -o FILE: nothing on stdout or stderr; the file has them.
    let file = sb.run(["inject", "-i", "app.tmpl", "-o", "app.conf", "-e", "development", "--verbose"])
    expectStatus(file, 0, "inject -o")
    expectNoLeak(file, "inject -o --verbose")
    expectContainsMarkers(String(decoding: try sb.read("app.conf"), as: UTF8.self), Canaries.development, "inject -o file")
    // Errors: a missing reference after planted ones, a value pasted as a name, a bad environment.
    for (name, text) in [
      ("missing", template + "{{ coffer \"MISSING_ONE\" }}\n"),
      ("pasted value", "{{ coffer \"\(Canaries.simple.text)\" }}\n"),
      ("pasted value 2", "{{ coffer \(Canaries.quoted.text) }}\n"),
      ("bad environment", "{{ coffer \"nosuch/\(Canaries.simple.name)\" }}\n"),
    ] {
      try sb.write("bad.tmpl", text)
      let r = sb.run(["inject", "-i", "bad.tmpl", "-o", "bad.conf", "-e", "development"])
      expectStatus(r, 2, "inject \(name)")
      expectNoLeak(r, "inject \(name)")
      #expect(!sb.exists("bad.conf"), "inject \(name) wrote output")
    }
    expectProjectFilesClean(sb, "inject")
    expectAuditClean(sb, "inject")
  }

  @Test func envFileReferencesNeverEchoValues() throws {
    let sb = try planted()
    try sb.write(
      "refs.env",
      "MULTI_KEY=coffer://development/\(Canaries.simple.name)\nQUOTED_PASS=\(dotenvQuoted(Canaries.quoted.text))\nBASH_ENV=coffer://development/BASH_ENV\n")
    let r = sb.run(["run", "-e", "development", "--allow-missing", "--env-file", "refs.env", "--", "sh", "-c", "printf '%s' \"$MULTI_KEY\""])
    expectStatus(r, 0, "run --env-file")
    #expect(r.stdout == Data(Canaries.simple.bytes), "run --env-file: the reference did not resolve exactly")
    expectStderrClean(r, "run --env-file")
    // A value that merely starts with the scheme is not echoed in the error.
    try sb.write("refs.env", "MULTI_KEY=\"coffer://\(Canaries.simple.text)\"\n")
    let bad = sb.run(["run", "-e", "development", "--allow-missing", "--env-file", "refs.env", "--", "true"])
    expectStatus(bad, 2, "run --env-file with a malformed reference")
    expectNoLeak(bad, "run --env-file with a malformed reference")
    expectAuditClean(sb, "run --env-file")
  }

  /// Composed secrets: the parts' planted values reach the composed value (run, get) and no message.
  @Test func composedSecretsNeverEchoParts() throws {
    let sb = try Sandbox(manifest: """
      version: 1
      project: canary-compose
      environments: [development]
      secrets:
        \(Canaries.simple.name): {}
        \(Canaries.quoted.name): {}
        MISSING_PART:
          required: false
        COMPOSED_URL:
          compose: "x://{{ \(Canaries.simple.name) | url }}:{{ \(Canaries.quoted.name) }}@{{ MISSING_PART }}"

      """)
    for c in [Canaries.simple, Canaries.quoted] {
      expectStatus(sb.run(["set", c.name, "-e", "development"], stdin: Data(c.bytes)), 0, "set \(c.name)")
    }
    for args in [
      ["run", "-e", "development", "--", "true"], ["run", "-e", "development", "--allow-missing", "--", "true"],
      ["get", "COMPOSED_URL", "-e", "development"], ["export", "-e", "development"], ["check", "-e", "development"],
      ["check", "-e", "development", "--json"], ["run", "-e", "development", "--allow-missing", "--redact", "--", "true"],
    ] {
      let r = sb.run(args)
      expectStderrClean(r, args.joined(separator: " "))
    }
    expectStatus(sb.run(["set", "MISSING_PART", "-e", "development"], stdin: Data("host".utf8)), 0, "set MISSING_PART")
    let r = sb.run(["run", "-e", "development", "--", "printenv", "COMPOSED_URL"])
    expectStatus(r, 0, "run with a composed secret")
    expectContainsMarkers(r.out, [Canaries.quoted], "run's composed value")
    expectStderrClean(r, "run with a composed secret")
    expectAuditClean(sb, "composed secrets")
  }

  /// `--mount`: the values reach the child through the FIFO only; coffer prints none, and no regular file holds them.
  @Test func mountGivesValuesOnlyThroughTheFifo() throws {
    let sb = try plantedSandbox()
    try FileManager.default.createDirectory(atPath: sb.path("runtime"), withIntermediateDirectories: true)
    sb.extraEnvironment["XDG_RUNTIME_DIR"] = sb.path("runtime")
    let r = sb.run(["run", "-e", "development", "--allow-missing", "--verbose", "--mount", "s.json:json", "--", "sh", "-c", #"cat "$COFFER_MOUNT""#])
    expectStatus(r, 0, "run --mount")
    expectContainsMarkers(r.out, [Canaries.simple, Canaries.unicode], "run --mount (the child's output)")
    expectStderrClean(r, "run --mount")
    let quiet = sb.run(["run", "-e", "development", "--allow-missing", "--mount", "s.env", "--", "true"])
    expectNoLeak(quiet, "run --mount without reading")
    expectProjectFilesClean(sb, "run --mount")
    expectAuditClean(sb, "run --mount")
  }

  /// `--mount NAME:template=FILE`: the template's values reach the child through the FIFO only; a failing template
  /// (a value pasted as a name) prints none.
  @Test func templateMountGivesValuesOnlyThroughTheFifo() throws {
    let sb = try plantedSandbox()
    try FileManager.default.createDirectory(atPath: sb.path("runtime"), withIntermediateDirectories: true)
    sb.extraEnvironment["XDG_RUNTIME_DIR"] = sb.path("runtime")
    try sb.write("app.tmpl", Canaries.development.map { "\($0.name): {{ coffer \"\($0.name)\" }}\n" }.joined())
    let r = sb.run(["run", "-e", "development", "--verbose", "--mount", "app.conf:template=app.tmpl", "--", "sh", "-c", #"cat "$COFFER_MOUNT""#])
    expectStatus(r, 0, "run --mount template")
    expectContainsMarkers(r.out, Canaries.development, "run --mount template (the child's output)")
    expectStderrClean(r, "run --mount template")
    try sb.write("bad.tmpl", "{{ coffer \"\(Canaries.simple.name)\" }}\n{{ coffer \"\(Canaries.simple.text)\" }}\n")
    let bad = sb.run(["run", "-e", "development", "--mount", "app.conf:template=bad.tmpl", "--", "sh", "-c", #"cat "$COFFER_MOUNT""#])
    expectStatus(bad, 2, "run --mount with a failing template")
    expectNoLeak(bad, "run --mount with a failing template")
    expectProjectFilesClean(sb, "run --mount template")
    expectAuditClean(sb, "run --mount template")
  }

  /// `--watch`: the values reach the command (checked through a hex digest it writes to a FIFO), never coffer's
  /// stderr: not the restart note, not the warning about a tampered vault.
  @Test func watchGivesValuesOnlyToTheCommand() throws {
    let sb = try plantedSandbox()
    func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
    let script = #"{ printf 'start '; printf '%s' "$SIMPLE_TOKEN" | od -An -v -tx1 | tr -d ' \n'; printf '\n'; } > "$OUT"; exec sleep 100000"#
    let run = try Supervised(sb, ["run", "-e", "development", "--allow-missing", "--verbose", "--watch", "--", "sh", "-c", script])
    #expect(run.line() == "start " + hex(Canaries.simple.bytes))
    expectStatus(sb.run(["set", Canaries.simple.name, "-e", "development"], stdin: Data(Canaries.unicode.bytes)), 0, "set during --watch")
    #expect(run.line() == "start " + hex(Canaries.unicode.bytes))
    let vault = sb.path(".coffer/vault/development.vault")
    var tampered = Array(try Data(contentsOf: URL(fileURLWithPath: vault)))
    tampered[tampered.count / 2] ^= 0x01
    try Data(tampered).write(to: URL(fileURLWithPath: vault))
    var lines: [String] = []
    while let line = Optional(run.errorLine()), !line.isEmpty {
      lines.append(line)
      if line.hasPrefix("coffer: warning: development's vault changed but cannot be read") { break }
    }
    run.signal(SIGTERM)
    let end = run.finish()
    #expect(end.status == 128 + SIGTERM)
    let all = CLIResult(status: end.status, stdout: Data(), stderr: lines.joined(separator: "\n") + "\n" + end.stderr)
    #expect(all.stderr.contains("coffer: development's vault changed: restarting the command (SIGTERM)"))
    #expect(all.stderr.contains("the command keeps running with the values it had"))
    expectNoLeak(all, "run --watch")
    expectAuditClean(sb, "run --watch")
  }

  /// Progress on a terminal (sync with its per-item lines, org check): counts and names, never a value.
  @Test func progressNeverPrintsValues() throws {
    let sb = try plantedSandbox()
    try sb.write("coffer.yaml", canaryManifest + """
      destinations:
        local: { type: dotenv, path: local.env, from: development }

      """)
    let sync = try onPseudoTerminal(sb, ["sync", "--allow-blocked"])
    #expect(sync.contains("coffer: sync local: "))
    expectNoLeak(CLIResult(status: 0, stdout: Data(), stderr: sync), "sync on a terminal")
  }

  @Test func completionNeverPrintsValues() throws {
    let sb = try planted()
    for args in [
      ["completion", "bash"], ["completion", "zsh"], ["completion", "fish"],
      ["---completion", "get", "--", "positional@0", "2", "0", "coffer", "get", ""],
      ["---completion", "get", "--", "--env", "3", "0", "coffer", "get", "--env", ""],
    ] {
      let r = sb.run(args)
      expectStatus(r, 0, args.joined(separator: " "))
      expectNoLeak(r, args.joined(separator: " "))
    }
  }
}

/// The audit log holds no planted value (nor a base64/hex form of one).
func expectAuditClean(_ sb: Sandbox, _ after: String, sourceLocation: SourceLocation = #_sourceLocation) {
  let path = sb.run(["audit", "path"]).out.trimmingCharacters(in: .newlines)
  expectFileClean(FileManager.default.contents(atPath: path), "the audit log after \(after)", sourceLocation: sourceLocation)
}
