import Foundation
import Testing

/// Issue 10, attack 5: code execution through `run`. A reader of one group plants a variable that changes how
/// programs load or run (`coffer set --undeclared`, or by editing the files); `coffer run` must not hand it to the
/// command. Only declared names are injected by default, loader variables only with `allow_loader_variable: true`,
/// and the command is looked up on the caller's `PATH`.
@Suite struct RunInjectionTests {
  /// One declared secret (required), one plain setting, and nothing else.
  static let manifest = """
    version: 1
    project: run-test
    environments: [development]
    groups:
      api-keys: {}
      db: {}
    secrets:
      API_TOKEN:
        group: api-keys
      DB_PASSWORD:
        group: db
        required: false
      LOG_LEVEL:
        secret: false
        required: false

    """

  static func warnLoader(_ names: String, one: Bool = true) -> String {
    "coffer: warning: not injected: \(names): \(one ? "it changes" : "they change") how programs load or run; to inject \(one ? "it" : "one"), declare it in coffer.yaml with allow_loader_variable: true (docs/run.md)\n"
  }

  /// The child's environment as `NAME=value` lines (env -0), with coffer's harness variables removed.
  static func childEnvironment(_ r: CLIResult) -> [String] {
    r.out.split(separator: "\0").map(String.init).filter { entry in
      !["PATH=", "HOME=", "USER=", "LANG="].contains { entry.hasPrefix($0) }
    }
  }

  /// The sample attack: a teammate plants `BASH_ENV` (a script that would run before every `bash -c`) with
  /// `coffer set --undeclared`; CI's `coffer run -- bash -c …` does not run it and the child never sees it.
  @Test func plantedBashEnvIsNotExecuted() throws {
    let box = try Sandbox(manifest: Self.manifest)
    let marker = box.path("pwned")
    try box.write("evil.sh", "echo \"$API_TOKEN\" > \(marker)\n")
    #expect(box.set("API_TOKEN", "tok-1").status == 0)
    #expect(box.set("BASH_ENV", box.path("evil.sh")).status == 0)
    let r = box.run(["run", "--env", "development", "--", "bash", "-c", "printf '%s|%s' \"$API_TOKEN\" \"${BASH_ENV-unset}\""])
    #expect(r.status == 0)
    #expect(r.out == "tok-1|unset")
    #expect(r.stderr == Self.warnLoader("BASH_ENV"))
    #expect(!FileManager.default.fileExists(atPath: marker))
    // --include-undeclared does not let an undeclared loader variable in either.
    let included = box.run(["run", "--env", "development", "--include-undeclared", "--", "bash", "-c", "printf '%s' \"${BASH_ENV-unset}\""])
    #expect(included.out == "unset")
    #expect(included.stderr == Self.warnLoader("BASH_ENV"))
    #expect(!FileManager.default.fileExists(atPath: marker))
    // Nor does --redact (the same rules, a child instead of execve).
    let redacted = box.run(["run", "--env", "development", "--redact", "--", "bash", "-c", "printf '%s' \"${BASH_ENV-unset}\""])
    #expect(redacted.out == "unset")
    #expect(redacted.stderr == Self.warnLoader("BASH_ENV"))
    #expect(!FileManager.default.fileExists(atPath: marker))
  }

  /// A `PATH` in the vault neither reaches the child nor chooses which program runs: the command is looked up on
  /// the caller's `PATH`.
  @Test func vaultPathDoesNotChooseTheProgram() throws {
    let box = try Sandbox(manifest: Self.manifest)
    try box.write("bin/true", "#!/bin/sh\necho hijacked\n")
    #expect(chmod(box.path("bin/true"), 0o755) == 0)
    #expect(box.set("API_TOKEN", "tok-1").status == 0)
    #expect(box.set("PATH", box.path("bin")).status == 0)
    let r = box.run(["run", "--env", "development", "--", "true"])
    #expect(r.status == 0)
    #expect(r.out == "")
    #expect(r.stderr == Self.warnLoader("PATH"))
    let env = box.run(["run", "--env", "development", "--", "printenv", "PATH"])
    #expect(env.out == "/usr/local/bin:/usr/bin:/bin\n")
  }

  /// Declared with `allow_loader_variable: true`, a loader variable is injected; even then the program is found on
  /// the caller's `PATH`, not the injected one.
  @Test func declaredLoaderVariableIsInjectedButNotSearched() throws {
    let box = try Sandbox(manifest: Self.manifest + "  PATH:\n    secret: false\n    required: false\n    allow_loader_variable: true\n")
    try box.write("bin/true", "#!/bin/sh\necho hijacked\n")
    #expect(chmod(box.path("bin/true"), 0o755) == 0)
    #expect(box.set("API_TOKEN", "tok-1").status == 0)
    #expect(box.set("PATH", box.path("bin") + ":/usr/bin:/bin").status == 0)
    let r = box.run(["run", "--env", "development", "--", "true"])
    #expect(r.status == 0)
    #expect(r.out == "")
    #expect(r.stderr == "")
    let env = box.run(["run", "--env", "development", "--", "printenv", "PATH"])
    #expect(env.out == box.path("bin") + ":/usr/bin:/bin\n")
  }

  /// Declaring a loader variable without the flag is not enough.
  @Test func declaredLoaderVariableWithoutTheFlagIsLeftOut() throws {
    let box = try Sandbox(manifest: Self.manifest + "  NODE_OPTIONS:\n    required: false\n")
    #expect(box.set("API_TOKEN", "tok-1").status == 0)
    #expect(box.run(["set", "NODE_OPTIONS", "--env", "development"], stdin: Data("--require /tmp/x.js".utf8)).status == 0)
    let r = box.run(["run", "--env", "development", "--", "env", "-0"])
    #expect(r.status == 0)
    #expect(Self.childEnvironment(r) == ["API_TOKEN=tok-1"])
    #expect(r.stderr == Self.warnLoader("NODE_OPTIONS"))
  }

  /// Neighbours: LD_PRELOAD, GIT_SSH_COMMAND and a lower-case twin are left out together; the warning names them
  /// sorted, once.
  @Test func loaderPrefixesAndCaseAreLeftOut() throws {
    let box = try Sandbox(manifest: Self.manifest)
    #expect(box.set("API_TOKEN", "tok-1").status == 0)
    for (name, value) in [("LD_PRELOAD", "/tmp/evil.so"), ("GIT_SSH_COMMAND", "sh -c 'id'"), ("node_options", "--require x")] {
      #expect(box.set(name, value).status == 0)
    }
    let r = box.run(["run", "--env", "development", "--include-undeclared", "--", "env", "-0"])
    #expect(r.status == 0)
    #expect(Self.childEnvironment(r) == ["API_TOKEN=tok-1"])
    #expect(r.stderr == Self.warnLoader("GIT_SSH_COMMAND, LD_PRELOAD, node_options", one: false))
  }

  /// A harmless undeclared name is left out by default with a warning naming it, and injected with
  /// --include-undeclared with a warning naming it; values are never shown.
  @Test func undeclaredHarmlessNameNeedsTheFlag() throws {
    let box = try Sandbox(manifest: Self.manifest)
    #expect(box.set("API_TOKEN", "tok-1").status == 0)
    #expect(box.set("EXTRA_ONE", "extra-value-1").status == 0)
    #expect(box.set("EXTRA_TWO", "extra-value-2").status == 0)
    let r = box.run(["run", "--env", "development", "--", "env", "-0"])
    #expect(r.status == 0)
    #expect(Self.childEnvironment(r) == ["API_TOKEN=tok-1"])
    #expect(
      r.stderr
        == "coffer: warning: not injected: 2 names that coffer.yaml does not declare: EXTRA_ONE, EXTRA_TWO; declare them, or pass --include-undeclared\n"
    )
    let included = box.run(["run", "--env", "development", "--include-undeclared", "--", "env", "-0"])
    #expect(included.status == 0)
    #expect(Self.childEnvironment(included) == ["API_TOKEN=tok-1", "EXTRA_ONE=extra-value-1", "EXTRA_TWO=extra-value-2"])
    #expect(
      included.stderr
        == "coffer: warning: injecting 2 names that coffer.yaml does not declare (--include-undeclared): EXTRA_ONE, EXTRA_TWO\n")
    #expect(!included.stderr.contains("extra-value"))
  }

  /// Declared and undeclared names interleaved in the vault's order, and an `--env-file` whose names come after the
  /// vault's walk and out of its order (`run` tells declared names by walking both sorted lists, and must answer
  /// names asked out of order as well): exactly the declared ones are injected, each undeclared one is named.
  @Test func declaredNamesAreToldApartInAnyOrder() throws {
    let box = try Sandbox(manifest: Self.manifest)
    for (name, value) in [
      ("AAA_EXTRA", "v-aaa"), ("API_TOKEN", "tok-1"), ("API_TOKEN_2", "v-tok2"), ("B_EXTRA", "v-b"),
      ("DB_PASSWORD", "pw-1"), ("ZZZ_EXTRA", "v-zzz"),
    ] {
      #expect(box.set(name, value).status == 0)
    }
    try box.write("refs.env", "LOG_LEVEL=debug\nAAA_FILE=v-file\nAPI_TOKEN=tok-from-file\n")
    let r = box.run(["run", "--env", "development", "--env-file", "refs.env", "--", "env", "-0"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(Self.childEnvironment(r).sorted() == ["API_TOKEN=tok-from-file", "DB_PASSWORD=pw-1", "LOG_LEVEL=debug"])
    #expect(
      r.stderr
        == "coffer: warning: not injected: 5 names that coffer.yaml does not declare: AAA_EXTRA, AAA_FILE, API_TOKEN_2, B_EXTRA, ZZZ_EXTRA; declare them, or pass --include-undeclared\n"
    )
    let plain = box.run(["run", "--env", "development", "--", "env", "-0"])
    #expect(Self.childEnvironment(plain).sorted() == ["API_TOKEN=tok-1", "DB_PASSWORD=pw-1"])
  }

  /// `allow_loader_variable` is refused on a name that is not a loader variable, and must be a boolean.
  @Test func allowLoaderVariableIsStrict() throws {
    let box = try Sandbox(manifest: Self.manifest.replacingOccurrences(of: "    group: api-keys\n", with: "    group: api-keys\n    allow_loader_variable: true\n"))
    let r = box.run(["check"])
    #expect(r.status == 2)
    #expect(r.stderr.contains("secrets.API_TOKEN.allow_loader_variable: API_TOKEN is not a loader variable"))
    let notBool = try Sandbox(manifest: Self.manifest + "  LD_PRELOAD:\n    allow_loader_variable: yes\n")
    let r2 = notBool.run(["check"])
    #expect(r2.status == 2)
    #expect(r2.stderr.contains("secrets.LD_PRELOAD.allow_loader_variable: expected true or false"))
  }

  // MARK: - Subsets (issue 15)

  /// --only GROUPS and --names A,B inject exactly those secrets (their union), and the audit line records exactly
  /// what was injected.
  @Test func onlyAndNamesInjectASubsetAndTheAuditSaysSo() throws {
    let box = try Sandbox(manifest: Self.manifest)
    #expect(box.set("API_TOKEN", "tok-1").status == 0)
    #expect(box.set("DB_PASSWORD", "pw-1").status == 0)
    #expect(box.set("LOG_LEVEL", "debug").status == 0)
    let only = box.run(["run", "--env", "development", "--only", "db", "--", "env", "-0"])
    #expect(only.status == 0, "\(only.stderr)")
    #expect(Self.childEnvironment(only) == ["DB_PASSWORD=pw-1"])
    #expect(only.stderr == "")
    let names = box.run(["run", "--env", "development", "--names", "LOG_LEVEL,API_TOKEN", "--", "env", "-0"])
    #expect(Self.childEnvironment(names) == ["API_TOKEN=tok-1", "LOG_LEVEL=debug"])
    let both = box.run(["run", "--env", "development", "--only=db", "--names=LOG_LEVEL", "--", "env", "-0"])
    #expect(Self.childEnvironment(both) == ["DB_PASSWORD=pw-1", "LOG_LEVEL=debug"])
    let audit = box.run(["audit", "--json"])
    let runs = audit.out.split(separator: "\n").filter { $0.contains("\"run\"") }
    #expect(runs.count == 3)
    #expect(runs.count == 3 && runs[0].contains("\"secrets\":[\"DB_PASSWORD\"]"))
    #expect(runs.count == 3 && runs[1].contains("\"secrets\":[\"API_TOKEN\",\"LOG_LEVEL\"]"))
    #expect(runs.count == 3 && runs[2].contains("\"secrets\":[\"DB_PASSWORD\",\"LOG_LEVEL\"]"))
  }

  /// A subset is checked: an unknown group or undeclared name is exit 2 before anything runs; a selected required
  /// secret without a value still fails closed, an unselected one does not.
  @Test func subsetsAreChecked() throws {
    let box = try Sandbox(manifest: Self.manifest)
    #expect(box.set("DB_PASSWORD", "pw-1").status == 0)
    let group = box.run(["run", "--env", "development", "--only", "nope", "--", "true"])
    #expect(group.status == 2)
    #expect(group.stderr == "coffer: error: --only: no group named nope in coffer.yaml\ncoffer: hint: its groups: api-keys, db\n")
    let name = box.run(["run", "--env", "development", "--names", "NOPE_X", "--", "true"])
    #expect(name.status == 2)
    #expect(name.stderr.hasPrefix("coffer: error: --names: coffer.yaml does not declare NOPE_X\n"))
    let empty = box.run(["run", "--env", "development", "--names", "A,,B", "--", "true"])
    #expect(empty.status == 2)
    #expect(empty.stderr == "coffer: error: --names expects a comma-separated list without empty items\n")
    // API_TOKEN is required and has no value: only a subset without it runs.
    #expect(box.run(["run", "--env", "development", "--only", "db", "--", "true"]).status == 0)
    let missing = box.run(["run", "--env", "development", "--only", "api-keys", "--", "true"])
    #expect(missing.status == 1)
    #expect(missing.stderr.hasPrefix("coffer: error: 1 required secret has no value in development, so the command was not started: API_TOKEN\n"))
  }

  // MARK: - References in .env files (issue 15)

  /// `run --env-file FILE` resolves `coffer://ENV/NAME` values from the vault, leaves other values as written, lets
  /// the file's entry win over the vault's same-named secret, and follows the same injection rules.
  @Test func envFileReferencesAreResolved() throws {
    let box = try Sandbox(manifest: Self.manifest.replacingOccurrences(of: "[development]", with: "[development, production]"))
    #expect(box.set("API_TOKEN", "tok-dev").status == 0)
    #expect(box.set("API_TOKEN", "tok-prod", env: "production").status == 0)
    #expect(box.set("DB_PASSWORD", "pw-dev").status == 0)
    try box.write(
      "refs.env",
      "LOG_LEVEL=debug\nDB_PASSWORD=coffer://production/API_TOKEN\nBASH_ENV=/tmp/evil.sh\nPLAIN_UNDECLARED=x\n")
    let r = box.run(["run", "--env", "development", "--env-file", "refs.env", "--", "env", "-0"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(Self.childEnvironment(r) == ["API_TOKEN=tok-dev", "LOG_LEVEL=debug", "DB_PASSWORD=tok-prod"])
    #expect(
      r.stderr
        == Self.warnLoader("BASH_ENV")
        + "coffer: warning: not injected: 1 name that coffer.yaml does not declare: PLAIN_UNDECLARED; declare it, or pass --include-undeclared\n"
    )
    // Refusals name FILE:LINE and start nothing.
    for (text, stderr) in [
      ("LOG_LEVEL=x\nDB_PASSWORD=coffer://production/DB_PASSWORD\n",
       "coffer: error: refs.env:2:1: DB_PASSWORD: DB_PASSWORD has no value in production\ncoffer: hint: `coffer set DB_PASSWORD --env production`, or correct the reference\n"),
      ("DB_PASSWORD=coffer://staging/API_TOKEN\n", "coffer: error: refs.env:1:1: DB_PASSWORD: no environment named staging in coffer.yaml\n"),
      ("DB_PASSWORD=coffer://API_TOKEN\n", "coffer: error: refs.env:1:1: DB_PASSWORD: a coffer:// reference must be coffer://ENV/NAME\n"),
    ] {
      try box.write("refs.env", text)
      let refused = box.run(["run", "--env", "development", "--env-file", "refs.env", "--", "sh", "-c", "echo started"])
      #expect(refused.status == 2)
      #expect(refused.out == "")
      #expect(refused.stderr == stderr)
    }
  }
}
