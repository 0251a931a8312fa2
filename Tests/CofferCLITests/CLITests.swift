import CofferTesting
import Foundation
import Testing

/// End-to-end behaviour of the built `coffer` binary: stdout, stderr and exit statuses.
@Suite struct CLITests {
  @Test func initWritesManifestIgnoresAndIdentityAndRefusesToOverwrite() throws {
    let box = try Sandbox()
    let fresh = box.dir.appendingPathComponent("fresh")
    try FileManager.default.createDirectory(at: fresh, withIntermediateDirectories: true)
    let newIdentity = box.dir.appendingPathComponent("home/other-identity.txt").path
    let r = box.run(["init", "--project", fresh.path, "--project-name", "demo", "--environments", "dev,prod"], env: ["COFFER_IDENTITY_FILE": newIdentity])
    #expect(r.status == 0, "\(r.stderr)")
    let recipient = r.out.trimmingCharacters(in: .newlines)
    #expect(recipient.hasPrefix("age1"))
    let manifest = try String(contentsOf: fresh.appendingPathComponent("coffer.yaml"), encoding: .utf8)
    // The recipient is published with its signing key, and the user is the first admin (trust model v2).
    let signing = box.run(["identity"], env: ["COFFER_IDENTITY_FILE": newIdentity]).out.trimmingCharacters(in: .newlines)
    #expect(signing.hasPrefix(recipient + " ed25519:"))
    #expect(manifest.contains("project: demo\nenvironments: [dev, prod]\nrecipients:\n  tester: \(signing)\nadmins: [tester]\n"))
    let policy = try String(contentsOf: fresh.appendingPathComponent(".coffer/policy"), encoding: .utf8)
    #expect(policy.hasPrefix("coffer-policy v2\nproject "))
    #expect(policy.contains(" admins tester\n member tester \(signing)\n open\n sig "))
    let ignore = try String(contentsOf: fresh.appendingPathComponent(".gitignore"), encoding: .utf8)
    #expect(ignore == "# coffer: local secrets and state\n.env\n.env.*\n!.env.example\n!.env.sample\n.coffer/.lock\n.coffer/state/\n.coffer/**/.*.tmp-*\n")
    // What git makes of it: local files ignored, the manifest, vaults and example files not.
    let git = { (args: [String]) throws -> (status: Int32, out: String) in
      let r = try ChildProcess.run("/usr/bin/git", args, cwd: fresh, environment: box.baseEnvironment)
      return (r.status, String(decoding: r.stdout, as: UTF8.self))
    }
    #expect(try git(["init", "-q"]).status == 0)
    let local = [".env", ".env.production", ".coffer/.lock", ".coffer/state/gh.json", ".coffer/state/stale.json", ".coffer/vault/.dev.vault.tmp-1"]
    #expect(try git(["check-ignore", "--no-index"] + local).out == local.map { $0 + "\n" }.joined())
    #expect(try git(["check-ignore", "--no-index", "coffer.yaml", ".coffer/vault/dev.vault", ".env.example", ".env.sample", ".gitattributes"]).status == 1)
    #expect(FileManager.default.fileExists(atPath: fresh.appendingPathComponent(".coffer/vault").path))
    let mode = try FileManager.default.attributesOfItem(atPath: newIdentity)[.posixPermissions] as? Int
    #expect(mode == 0o600)
    #expect(r.stderr.contains("created identity \(newIdentity)"))

    let again = box.run(["init", "--project", fresh.path], env: ["COFFER_IDENTITY_FILE": newIdentity])
    #expect(again.status == 2)
    #expect(again.stderr.hasPrefix("coffer: error: refusing to overwrite "))
    #expect(try String(contentsOf: fresh.appendingPathComponent("coffer.yaml"), encoding: .utf8) == manifest)
  }

  @Test func keygenWritesA0600IdentityThatAgeAccepts() throws {
    let box = try Sandbox()
    let path = box.path("k/id.txt")
    let r = box.run(["keygen", "-o", path])
    #expect(r.status == 0)
    let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
    #expect(mode == 0o600)
    // The reference age-keygen derives the same recipient from the file.
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/age-keygen")
    p.arguments = ["-y", path]
    let out = Pipe()
    p.standardOutput = out
    try p.run()
    let derived = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    #expect(derived == r.out)
    #expect(box.run(["keygen", "-o", path]).status == 2)
  }

  @Test func setAndGetKeepEveryByte() throws {
    let box = try Sandbox(manifest: basicManifest)
    // stdin: exactly one trailing LF or CRLF is removed (field report F08).
    #expect(box.run(["set", "A", "--undeclared", "--env", "development"], stdin: Data("fake-token-123\n".utf8)).status == 0)
    #expect(box.run(["get", "A", "-n", "--env", "development"]).out == "fake-token-123")
    #expect(box.run(["set", "A", "--undeclared", "--env", "development"], stdin: Data("two\r\n\r\n".utf8)).status == 0)
    #expect(box.run(["get", "A", "-n", "--env", "development"]).out == "two\r\n")
    #expect(box.run(["set", "A", "--undeclared", "--env", "development", "--keep-newline"], stdin: Data("kept\n".utf8)).status == 0)
    #expect(box.run(["get", "A", "-n", "--env", "development"]).out == "kept\n")
    // --file is byte-exact, including invalid UTF-8.
    let pem = Data("-----BEGIN FAKE PRIVATE KEY-----\nAAAAfake\n-----END FAKE PRIVATE KEY-----\n".utf8) + Data([0xFF])
    try box.write("key.pem", pem)
    #expect(box.run(["set", "PEM", "--undeclared", "--env", "development", "--file", box.path("key.pem")]).status == 0)
    #expect(box.run(["get", "PEM", "-n", "--env", "development"]).stdout == pem)
    // --value is taken as given; an empty value prints an empty line and exits 0.
    #expect(box.run(["set", "EMPTY", "--undeclared", "--env", "development", "--value", ""]).status == 0)
    let empty = box.run(["get", "EMPTY", "--env", "development"])
    #expect(empty.status == 0)
    #expect(empty.out == "\n")
    // Non-ASCII and shell metacharacters survive.
    let tricky = "Zoë Köln пароль $HOME `x` 'q' \"d\" \\ #"
    #expect(box.set("T", tricky).status == 0)
    #expect(box.run(["get", "T", "--env", "development"]).out == tricky + "\n")
    #expect(box.run(["get", "T", "--env", "development", "--json"]).out == "{\"name\":\"T\",\"value\":\"Zoë Köln пароль $HOME `x` 'q' \\\"d\\\" \\\\ #\"}\n")
    // Versions are kept.
    #expect(box.run(["get", "A", "-n", "--env", "development", "--version", "1"]).out == "fake-token-123")
  }

  @Test func getOfAnAbsentSecretExits1() throws {
    let box = try Sandbox(manifest: basicManifest)
    let none = box.run(["get", "NOPE", "--env", "development"])
    #expect(none.status == 1)
    #expect(none.stderr.hasPrefix("coffer: error: NOPE has no value in development (and coffer.yaml does not declare it)\n"))
    box.set("X", "1")
    let r = box.run(["get", "NOPE", "--env", "development"])
    #expect(r.status == 1)
    #expect(r.out == "")
  }

  @Test func unknownEnvironmentIsBadUsage() throws {
    let box = try Sandbox(manifest: basicManifest)
    let r = box.run(["set", "A", "--env", "qa"], stdin: Data("v".utf8))
    #expect(r.status == 2)
    #expect(r.stderr == "coffer: error: unknown environment qa\ncoffer: hint: the manifest declares: development, staging, production\n")
    #expect(!box.exists(".coffer/vault/qa.vault"))
  }

  @Test func removeAndList() throws {
    let box = try Sandbox(manifest: basicManifest)
    box.set("OPENAI_API_KEY", "sk-one")
    box.set("OPENAI_API_KEY", "sk-two")
    box.set("ZED", "z")
    let list = box.run(["list", "--env", "development", "--json"], env: ["COFFER_NOW": "2030-01-01T00:00:00Z"])
    #expect(list.status == 0)
    let doc = try JSONSerialization.jsonObject(with: list.stdout) as? [String: Any]
    let secrets = doc?["secrets"] as? [[String: Any]] ?? []
    #expect(secrets.map { $0["name"] as? String } == ["OPENAI_API_KEY", "ZED"])
    #expect(secrets.map { $0["version"] as? Int } == [2, 1])
    #expect(secrets.map { $0["group"] as? String } == ["api-keys", "default"])
    #expect(secrets.map { $0["declared"] as? Bool } == [true, false])
    #expect(!list.all.contains("sk-two"))
    let text = box.run(["ls", "--env", "development"])
    #expect(text.out.hasPrefix("NAME            GROUP     VERSION  UPDATED   BY\nOPENAI_API_KEY  api-keys  2        just now  "))
    #expect(box.run(["rm", "ZED", "--env", "development"]).status == 0)
    #expect(box.run(["get", "ZED", "--env", "development"]).status == 1)
    #expect(box.run(["rm", "ZED", "--env", "development"]).status == 1)
  }

  @Test func importReportsAndKeepsExistingValuesUnlessOverwrite() throws {
    let box = try Sandbox(manifest: basicManifest)
    box.set("OPENAI_API_KEY", "sk-original")
    try box.write("in.env", "OPENAI_API_KEY=sk-new\nLOG_LEVEL=debug\nEXTRA_THING=1\n")
    let r = box.run(["import", "in.env", "--env", "development"])
    #expect(r.status == 0)
    #expect(r.stderr.contains("imported in.env into development: 2 added, 0 updated, 0 unchanged, 1 skipped"))
    #expect(r.stderr.contains("coffer: warning: undeclared in coffer.yaml: EXTRA_THING"))
    #expect(box.run(["get", "OPENAI_API_KEY", "-n", "--env", "development"]).out == "sk-original")
    let o = box.run(["import-from-env", "--env-file", "in.env", "--env", "development", "--overwrite"])
    #expect(o.stderr.contains("0 added, 1 updated, 2 unchanged, 0 skipped"))
    #expect(box.run(["get", "OPENAI_API_KEY", "-n", "--env", "development"]).out == "sk-new")
  }

  @Test func aBadEnvFileIsRejectedWholeAndWritesNothing() throws {
    let box = try Sandbox(manifest: basicManifest)
    box.set("KEEP", "kept")
    let before = try box.read(".coffer/vault/development.vault")
    // Field report F03: an unassigned $name is an error naming the line, the column of the `$` and the key, never
    // the text after `$` (part of the password; issue 11, kind 3); nothing is imported.
    try box.write("bad.env", "GOOD=1\nPASSWORD=\"abc$def\"\nPW2='ab${NOPE}cd'\n")
    let r = box.run(["import", "bad.env", "--env", "development"])
    #expect(r.status == 2)
    #expect(r.stderr.hasPrefix(
      "coffer: error: bad.env:2: the $ at column 14 in the value of PASSWORD refers to a variable that is not assigned earlier in this file\n"))
    #expect(!r.stderr.contains("def"))
    #expect(try box.read(".coffer/vault/development.vault") == before)
    #expect(box.run(["get", "GOOD", "--env", "development"]).status == 1)
  }

  @Test func exportFormatsRoundTripThroughTheirConsumers() throws {
    let box = try Sandbox(manifest: basicManifest)
    let values = [
      "DB_PASS": "pa$$w0rd`x` \"q\" two words",
      "JSON_BLOB": "{\"field1\":\"v1\", \"field2\": \"stops here#kept-too\"}",
      "PEM": "-----BEGIN FAKE PRIVATE KEY-----\nAAAAfakefakefake\n-----END FAKE PRIVATE KEY-----",
      "QUOTE": "it's 'quoted' \\ and ${BRACED}",
      "UNICODE": "Zoë Köln пароль 🙂",
      "SPACES": "   edge spaces   ",
      "EMPTY": "",
      // Names a YAML 1.1 reader would take for booleans and null if written bare.
      "on": "v-on", "NO": "v-NO", "null": "v-null", "y": "v-y", "True": "v-True", "off": "v-off",
    ]
    for (k, v) in values { #expect(box.set(k, v).status == 0) }
    // shell: sourced by bash, every value exact (field report F15).
    #expect(box.run(["export", "--env", "development", "--format", "shell", "-o", box.path("s.sh")]).status == 0)
    for (k, v) in values {
      let out = try sh(["bash", "-c", ". ./s.sh; printf %s \"$\(k)\""], cwd: box.dir)
      #expect(out == v, "shell export of \(k)")
    }
    // json and yaml: read by Python's json and PyYAML.
    for format in ["json", "yaml"] {
      let r = box.run(["export", "--env", "development", "--format", format])
      #expect(r.status == 0)
      try box.write("out.\(format)", r.stdout)
      let loader = format == "json" ? "import json,sys; d=json.load(open(sys.argv[1]))" : "import yaml,sys; d=yaml.safe_load(open(sys.argv[1]))"
      let dumped = try sh(["python3", "-c", loader + "; import json as j; print(j.dumps(d, sort_keys=True))", "out.\(format)"], cwd: box.dir)
      let parsed = try JSONSerialization.jsonObject(with: Data(dumped.utf8)) as? [String: String]
      #expect(parsed == values, "\(format) export")
    }
    // dotenv: read back by coffer itself and by python-dotenv.
    #expect(box.run(["export-to-env", "--env-file", "out.env", "--env", "development"]).status == 0)
    let mode = try FileManager.default.attributesOfItem(atPath: box.path("out.env"))[.posixPermissions] as? Int
    #expect(mode == 0o600)
    #expect(box.run(["import", "out.env", "--env", "staging"]).status == 0)
    let staged = box.run(["export", "--env", "staging", "--format", "json"])
    let dev = box.run(["export", "--env", "development", "--format", "json"])
    #expect(staged.stdout == dev.stdout)
    // python-dotenv reads the bare and single-quoted forms identically; the double-quoted form (for values with
    // ', \\ or ${) follows Coffer's reading rules, which python-dotenv does not share.
    let py = try sh(["python3", "-c", "import dotenv,json; print(json.dumps(dotenv.dotenv_values('out.env'), sort_keys=True))"], cwd: box.dir)
    var portable = values
    portable["QUOTE"] = nil
    var fromPython = try JSONSerialization.jsonObject(with: Data(py.utf8)) as? [String: String]
    fromPython?["QUOTE"] = nil
    #expect(fromPython == portable)
  }

  /// A name that is not a shell identifier never reaches a shell export: the one naming rule refuses it where it
  /// would enter the vault (issue 11, kind 4), so every stored name can be exported as shell.
  @Test func shellExportNeverMeetsANameThatIsNotAnIdentifier() throws {
    let box = try Sandbox(manifest: basicManifest)
    #expect(box.set("go-version", "1.22").status == 2)
    #expect(box.set("GO_VERSION", "1.22").status == 0)
    let r = box.run(["export", "--env", "development", "--format", "shell", "-o", box.path("s.sh")])
    #expect(r.status == 0)
    #expect(try box.read("s.sh") == Data("export GO_VERSION='1.22'\n".utf8))
  }

  @Test func checkReportsMissingInvalidAndUndeclaredAsJSON() throws {
    let box = try Sandbox(manifest: basicManifest)
    box.set("OPENAI_API_KEY", "pk-wrong-prefix", env: "production")
    box.set("STRAY", "x", env: "production")
    let r = box.run(["check", "--env", "production", "--json"])
    #expect(r.status == 1)
    #expect(r.out == #"{"environment":"production","missing":["DATABASE_URL"],"invalid":[{"name":"OPENAI_API_KEY","reason":"is not an OpenAI API key (sk-): does not start with sk- [format openai-api-key, assumed from the name]","kind":"format-mismatch","format":"openai-api-key"}],"undeclared":["STRAY"],"ok":[],"unreadable_groups":[],"needs_rotation":[]}"# + "\n")
    #expect(!r.all.contains("pk-wrong"))
    box.set("OPENAI_API_KEY", "sk-FAKEFAKEFAKEFAKEFAKET3BlbkFJfakefakefakefakefake", env: "production")
    box.set("DATABASE_URL", "postgres://x", env: "production")
    let ok = box.run(["validate", "--env", "production"])
    #expect(ok.status == 0)
    #expect(ok.out.hasSuffix("result: ok\n"))
    #expect(box.run(["detect-missing", "--env", "development"]).status == 1)
  }

  @Test func templateGroupsDeclaredSecrets() throws {
    let box = try Sandbox(manifest: basicManifest)
    let r = box.run(["template"])
    #expect(r.status == 0)
    #expect(r.out == """
      # cli-test: environment template generated by coffer from coffer.yaml.
      # Copy to .env and fill in; never commit real values.

      # --- api-keys ---
      # OpenAI API key
      OPENAI_API_KEY=sk-...

      # --- database-credentials ---
      # Primary database
      DATABASE_URL=

      # --- ungrouped ---
      # Log verbosity
      LOG_LEVEL=info

      """)
    #expect(box.run(["generate-template", "--output-file", "env.template"]).status == 0)
    #expect(try box.read("env.template") == r.stdout)
    // A template never replaces a file of real values, nor Coffer's own files; template names are rewritten freely.
    try box.write(".env", "OPENAI_API_KEY=sk-real-local-value\n")
    try box.write(".env.production", "OPENAI_API_KEY=sk-real-prod-value\n")
    for (args, target) in [(["template", "-o", ".env"], ".env"), (["generate-template", "--output-file", ".env.production"], ".env.production")] {
      let refused = box.run(args)
      #expect(refused.status == 2)
      #expect(refused.stderr.hasPrefix("coffer: error: refusing to overwrite \(target) with a template: it holds real values (git ignores it for that reason)\n"))
    }
    #expect(String(decoding: try box.read(".env"), as: UTF8.self) == "OPENAI_API_KEY=sk-real-local-value\n")
    #expect(String(decoding: try box.read(".env.production"), as: UTF8.self) == "OPENAI_API_KEY=sk-real-prod-value\n")
    #expect(box.run(["template", "-o", "coffer.yaml"]).status == 2)
    #expect(box.run(["template", "-o", ".env.example"]).status == 0)
    #expect(box.run(["template", "-o", ".env.example"]).status == 0)
    #expect(box.run(["template", "-o", ".env.new"]).status == 0)  // a new file is fine
  }

  @Test func runExecsWithSecretsAndTheChildsStatus() throws {
    let box = try Sandbox(manifest: basicManifest + "  PEM:\n    required: false\n")
    box.set("OPENAI_API_KEY", "sk-run")
    box.set("PEM", "line one\nline two")
    let r = box.run(["run", "--env", "development", "--", "sh", "-c", "printf '%s|%s' \"$OPENAI_API_KEY\" \"$PEM\"; exit 7"])
    #expect(r.status == 7)
    #expect(r.out == "sk-run|line one\nline two")
    // Secrets win over inherited variables unless --no-override.
    #expect(box.run(["run", "--env", "development", "--", "printenv", "OPENAI_API_KEY"], env: ["OPENAI_API_KEY": "inherited"]).out == "sk-run\n")
    #expect(box.run(["run", "--env", "development", "--no-override", "--", "printenv", "OPENAI_API_KEY"], env: ["OPENAI_API_KEY": "inherited"]).out == "inherited\n")
    // Not found: 127.
    let missing = box.run(["run", "--env", "development", "--", "no-such-command-xyz"])
    #expect(missing.status == 127)
    #expect(missing.stderr == "coffer: error: cannot run no-such-command-xyz: command not found\n")
    // Death by signal: 128+N, as a shell reports it.
    #expect(box.run(["run", "--env", "development", "--", "sh", "-c", "kill -KILL $$"]).status == 128 + 9)
  }

  /// The child's environment, exactly: inherited variables in their order, a secret replacing an inherited variable
  /// in its place, the other secrets after them in name order, and never `COFFER_IDENTITY`.
  @Test func runBuildsTheChildEnvironmentInOrder() throws {
    let box = try Sandbox(manifest: basicManifest + "  B_SECRET:\n    required: false\n  A_SECRET:\n    required: false\n")
    box.set("OPENAI_API_KEY", "sk-run")
    box.set("B_SECRET", "b=1")
    box.set("A_SECRET", "a\nline")
    let identity = try String(contentsOf: box.identityFile, encoding: .utf8)
      .split(separator: "\n").first { $0.hasPrefix("AGE-SECRET-KEY-1") }.map(String.init) ?? ""
    let inherited = [
      "ZZZ=last-letter", "OPENAI_API_KEY=inherited", "PATH=/usr/bin:/bin", "COFFER_IDENTITY=\(identity)", "AAA=2",
      "HOME=\(box.dir.path)/home", "USER=tester",
    ]
    let expected = [
      "ZZZ=last-letter", "OPENAI_API_KEY=sk-run", "PATH=/usr/bin:/bin", "AAA=2", "HOME=\(box.dir.path)/home",
      "USER=tester", "A_SECRET=a\nline", "B_SECRET=b=1",
    ]
    let r = box.run(["run", "--env", "development", "--", "env", "-0"], launcher: ["/usr/bin/env", "-i"] + inherited)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.out.split(separator: "\0", omittingEmptySubsequences: false).dropLast().map(String.init) == expected)
    // --no-override keeps the inherited value in its place.
    let kept = box.run(
      ["run", "--env", "development", "--no-override", "--", "env", "-0"], launcher: ["/usr/bin/env", "-i"] + inherited)
    #expect(
      kept.out.split(separator: "\0", omittingEmptySubsequences: false).dropLast().map(String.init)
        == expected.map { $0 == "OPENAI_API_KEY=sk-run" ? "OPENAI_API_KEY=inherited" : $0 })
  }

  /// Starts `coffer run --env development -- sh -c SCRIPT` without waiting for it, stdout on a pipe.
  func startRun(_ box: Sandbox, script: String) throws -> (Process, Pipe) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: Paths.binary)
    p.arguments = ["run", "--env", "development", "--allow-missing", "--", "sh", "-c", script]
    p.currentDirectoryURL = box.dir
    p.environment = ["PATH": "/usr/bin:/bin", "COFFER_IDENTITY_FILE": box.identityFile.path, "HOME": box.dir.path]
    let out = Pipe()
    p.standardOutput = out
    try p.run()
    return (p, out)
  }

  @Test func runReplacesTheProcessSoThePIDIsKept() throws {
    let box = try Sandbox(manifest: basicManifest)
    box.set("A", "1")
    let (p, out) = try startRun(box, script: "echo $$")
    let printed = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    #expect(printed == "\(p.processIdentifier)\n")
  }

  @Test func runForwardsSignalsBecauseThereIsNoMiddleman() throws {
    // Field report F22: the child gets SIGTERM itself and exits cleanly.
    let box = try Sandbox(manifest: basicManifest)
    box.set("A", "1")
    let (p, out) = try startRun(box, script: "trap 'echo got-TERM; exit 0' TERM; echo ready; while :; do sleep 0.1; done")
    var seen = Data()
    while !String(decoding: seen, as: UTF8.self).contains("ready\n") {
      let chunk = out.fileHandleForReading.availableData
      if chunk.isEmpty { break }
      seen += chunk
    }
    kill(p.processIdentifier, SIGTERM)
    seen += out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    #expect(String(decoding: seen, as: UTF8.self) == "ready\ngot-TERM\n")
    #expect(p.terminationStatus == 0)
  }

  @Test func tamperedVaultsExit3NamingTheFile() throws {
    let box = try Sandbox(manifest: basicManifest)
    box.set("A", "one")
    box.set("B", "two")
    let good = try box.read(".coffer/vault/development.vault")
    var lines = String(decoding: good, as: UTF8.self).components(separatedBy: "\n")
    let a = lines.firstIndex { $0.hasPrefix("secret A ") }!
    lines.removeSubrange(a...(a + 1))
    try box.write(".coffer/vault/development.vault", lines.joined(separator: "\n"))
    let r = box.run(["get", "B", "--env", "development"])
    #expect(r.status == 3)
    #expect(r.stderr.hasPrefix("coffer: error: vault authentication failed: .coffer/vault/development.vault\n"))
    #expect(r.stderr.contains("coffer: hint: restore the whole file from git"))
    // A CRLF checkout still opens.
    try box.write(".coffer/vault/development.vault", String(decoding: good, as: UTF8.self).replacingOccurrences(of: "\n", with: "\r\n"))
    #expect(box.run(["get", "B", "-n", "--env", "development"]).out == "two")
  }

  @Test func aStrangerCannotReadAndAddedRecipientsCanAfterRewrap() throws {
    let box = try Sandbox(manifest: basicManifest + "recipients:\n  tester: RECIPIENT\n")
    try box.write("coffer.yaml", basicManifest.replacingOccurrences(of: "groups:", with: "recipients:\n  tester: \(box.recipient)\ngroups:"))
    box.set("A", "one")
    let other = box.path("home/bob.txt")
    let bobRecipient = box.run(["keygen", "-o", other]).out.trimmingCharacters(in: .newlines)
    let denied = box.run(["get", "A", "--env", "development"], env: ["COFFER_IDENTITY_FILE": other])
    #expect(denied.status == 3)
    #expect(denied.stderr == """
      coffer: error: this identity cannot open the development vault (.coffer/vault/development.vault)
      coffer: hint: the identity used came from COFFER_IDENTITY_FILE (\(other)); its recipient is \(bobRecipient)
      coffer: hint: this recipient is not in coffer.yaml: send it to one of tester, to add under recipients: and grant you access
      coffer: hint: if you have another identity, point COFFER_IDENTITY_FILE at it

      """)
    let manifest = String(decoding: try box.read("coffer.yaml"), as: UTF8.self)
    try box.write("coffer.yaml", manifest.replacingOccurrences(of: "recipients:\n", with: "recipients:\n  bob: \(bobRecipient)\n"))
    #expect(box.run(["rewrap"]).status == 0)
    #expect(box.run(["get", "A", "-n", "--env", "development"], env: ["COFFER_IDENTITY_FILE": other]).out == "one")
    // COFFER_IDENTITY carries the key text itself (CI).
    let key = try String(contentsOf: URL(fileURLWithPath: other), encoding: .utf8)
    #expect(box.run(["get", "A", "-n", "--env", "development"], env: ["COFFER_IDENTITY": key, "COFFER_IDENTITY_FILE": "/nonexistent"]).out == "one")
  }

  @Test func anIdentityFileOthersCanReadIsRefused() throws {
    let box = try Sandbox(manifest: basicManifest)
    box.set("A", "one")
    chmod(box.identityFile.path, 0o644)
    let r = box.run(["get", "A", "--env", "development"])
    #expect(r.status == 3)
    #expect(r.stderr == "coffer: error: refusing identity file \(box.identityFile.path): it is readable by group or others (mode 644)\ncoffer: hint: run `chmod 600 \(box.identityFile.path)`\n")
  }

  @Test func concurrentWritersAllLand() throws {
    let box = try Sandbox(manifest: basicManifest)
    box.set("SEED", "0")
    DispatchQueue.concurrentPerform(iterations: 8) { i in
      _ = box.set("CONCURRENT_\(i)", "value-\(i)")
    }
    let json = box.run(["export", "--env", "development", "--format", "json"])
    let values = try JSONSerialization.jsonObject(with: json.stdout) as? [String: String]
    for i in 0..<8 { #expect(values?["CONCURRENT_\(i)"] == "value-\(i)") }
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: box.path(".coffer/vault")).filter { $0.contains(".tmp-") }
    #expect(leftovers == [])
  }

  @Test func projectIsFoundFromASubdirectoryOrWithProject() throws {
    let box = try Sandbox(manifest: basicManifest)
    box.set("A", "one")
    let sub = box.dir.appendingPathComponent("src/deep")
    try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
    #expect(box.run(["get", "A", "-n", "--env", "development"], cwd: sub).out == "one")
    #expect(box.run(["get", "A", "-n", "--env", "development", "--project", box.dir.path], cwd: URL(fileURLWithPath: "/")).out == "one")
    let none = box.run(["list"], cwd: URL(fileURLWithPath: "/"))
    #expect(none.status == 2)
    #expect(none.stderr.contains("coffer: hint: run `coffer init`"))
  }

  @Test func badManifestsNameFileLineAndField() throws {
    let box = try Sandbox(manifest: basicManifest.replacingOccurrences(of: "    required: [production]", with: "    required: [prod]"))
    let r = box.run(["list"])
    #expect(r.status == 2)
    #expect(r.stderr.hasPrefix("coffer: error: coffer.yaml:17:16: secrets.DATABASE_URL.required[0]: no environment named \"prod\" is declared under environments"))
  }

  @Test func helpAndUsageErrors() throws {
    let box = try Sandbox(manifest: basicManifest)
    let help = box.run(["--help"])
    #expect(help.status == 0)
    #expect(help.out.contains("import-from-env"))
    for command in ["init", "keygen", "set", "get", "rm", "list", "import", "import-from-env", "export", "export-to-env", "check", "detect-missing", "validate", "template", "generate-template", "run", "rewrap", "generate"] {
      let r = box.run([command, "--help"])
      #expect(r.status == 0, "\(command) --help")
      #expect(r.out.contains("USAGE: coffer "), "\(command) --help")
    }
    let bad = box.run(["get"])
    #expect(bad.status == 2)
    #expect(box.run(["frobnicate"]).status == 2)
  }
}

/// Runs a helper program and returns its stdout; throws when it fails.
func sh(_ argv: [String], cwd: URL) throws -> String {
  let p = Process()
  p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
  p.arguments = argv
  p.currentDirectoryURL = cwd
  let out = Pipe()
  p.standardOutput = out
  try p.run()
  let data = out.fileHandleForReading.readDataToEndOfFile()
  p.waitUntilExit()
  struct Failed: Error { let status: Int32 }
  guard p.terminationStatus == 0 else { throw Failed(status: p.terminationStatus) }
  return String(decoding: data, as: UTF8.self)
}
