import CofferCore
import CofferTesting
import Foundation
import Testing

/// Issue 17, "The first day with Coffer": no false alarms from plain settings, fail-closed commands, messages that
/// say what to do, and the install targets. Everything through the built binary.
@Suite struct FirstDayTests {
  static let token = "sk-fake-Fd7Wq2Zr9Lp4Yt1XmQ"

  // MARK: - 1. scan and redact look for secrets only

  /// A fresh project with plain settings and placeholders passes its own pre-commit hook on the adoption commit.
  @Test func theAdoptionCommitPassesItsOwnHook() throws {
    let box = try Sandbox()
    let repo = try GitRepo(box)
    try repo.write(".env.example", """
      # --- App settings ---
      FEATURE_X=true
      LOG_LEVEL=debug
      PORT=3000

      # --- Third-party APIs ---
      # Stripe secret key
      STRIPE_SECRET_KEY=changeme
      # Database password (change me)
      DATABASE_PASSWORD=changeme

      """)
    let initialized = repo.coffer(["init", "--from", ".env.example"])
    #expect(initialized.status == 0, "\(initialized.stderr)")
    try repo.write(".env", "FEATURE_X=true\nLOG_LEVEL=debug\nPORT=3000\nSTRIPE_SECRET_KEY=changeme\nDATABASE_PASSWORD=changeme\n")
    let imported = repo.coffer(["import", ".env", "--env", "development"])
    #expect(imported.status == 0, "\(imported.stderr)")
    #expect(repo.coffer(["hook", "install"]).status == 0)
    try repo.git("add", "coffer.yaml", ".coffer", ".gitignore", ".env.example")
    let commit = repo.run(["commit", "-q", "-m", "adopt coffer"])
    #expect(commit.status == 0, "\(commit.err)")
    #expect(try repo.git("ls-tree", "--name-only", "HEAD").contains("coffer.yaml\n"))

    // init --from: the banner is not glued into the next variable's description.
    let manifest = try Manifest.decode(Array(try box.read("repo/coffer.yaml")), file: "coffer.yaml")
    #expect(manifest.secret(named: "STRIPE_SECRET_KEY")?.description == "Stripe secret key")
    #expect(manifest.secret(named: "FEATURE_X")?.description == nil)

    // --verbose names every value left out, and why; never the value.
    let verbose = repo.coffer(["scan", "--verbose", "--json"])
    #expect(verbose.status == 0)
    for name in ["FEATURE_X", "LOG_LEVEL", "PORT", "STRIPE_SECRET_KEY", "DATABASE_PASSWORD"] {
      #expect(verbose.stderr.contains("coffer: not looked for: \(name) (development v1): "), "\(name)")
    }
    #expect(verbose.stderr.contains(
      "coffer: not looked for: STRIPE_SECRET_KEY (development v1): a placeholder: it equals the manifest's example, which is also the template's value\n"))
    #expect(verbose.stderr.contains("coffer: not looked for: PORT (development v1): a plain setting (secret: false)\n"))
    let quiet = repo.coffer(["scan"])
    #expect(quiet.stderr.contains("coffer: 5 known values are not looked for (plain settings, short, common or placeholder values; --verbose names them)\n"))
    let doc = try JSONSerialization.jsonObject(with: verbose.stdout) as? [String: Any]
    let skipped = (doc?["skipped_values"] as? [[String: Any]])?.compactMap { $0["secret"] as? String }.sorted()
    #expect(skipped == ["DATABASE_PASSWORD", "FEATURE_X", "LOG_LEVEL", "PORT", "STRIPE_SECRET_KEY"])
  }

  /// A real secret is still found, and the hook still blocks it, next to skipped settings.
  @Test func aRealSecretIsStillFoundBesideSettings() throws {
    let box = try Sandbox(manifest: basicManifest)
    #expect(box.set("OPENAI_API_KEY", Self.token, env: "development").status == 0)
    #expect(box.set("LOG_LEVEL", "debug", env: "development").status == 0)
    #expect(box.set("DATABASE_URL", "postgres://localhost/app", env: "staging").status == 0)
    let repo = try GitRepo(box)
    try repo.write("app.env", "# debug logging\nLOG_LEVEL=debug\nKEY=\(Self.token)\n")
    let r = repo.coffer(["scan", "--json", "--verbose"])
    #expect(r.status == 1)
    #expect(jsonFindings(r) == ["app.env:3:5 known-value OPENAI_API_KEY development/1 raw"])
    #expect(r.stderr.contains("coffer: not looked for: LOG_LEVEL (development v1): a plain setting (secret: false)\n"))
    expectNoLeak([Self.token], in: [r.stderr])
  }

  /// The evidence rule for secrets (`secret: true`): short, common, numeric and placeholder values are left out of a
  /// scan; a redaction leaves out common, numeric and placeholder values but masks short secrets.
  @Test func evidenceRuleForSecretValues() throws {
    let manifest = """
      version: 1
      project: evidence
      environments: [development]
      secrets:
        A_FLAG: { required: false }
        A_PORT: { required: false }
        A_PIN: { required: false }
        A_WORD: { required: false }
        A_REAL: { required: false }

      """
    let box = try Sandbox(manifest: manifest)
    for (name, value) in [("A_FLAG", "true"), ("A_PORT", "8080"), ("A_PIN", "hunter2"), ("A_WORD", "changeme"), ("A_REAL", "Zq9Xk3wPr7Ty")] {
      #expect(box.set(name, value).status == 0)
    }
    let scan = box.run(["scan", "--verbose", "/dev/stdin"], stdin: Data("true 8080 hunter2 changeme Zq9Xk3wPr7Ty\n".utf8))
    #expect(scan.status == 1)
    #expect(scan.out.hasPrefix("/dev/stdin:1:28: known-value A_REAL (development v1, raw) "))
    #expect(scan.out.split(separator: "\n").count == 1)
    #expect(scan.stderr.contains("coffer: not looked for: A_FLAG (development v1): shorter than 8 bytes\n"))
    #expect(scan.stderr.contains("coffer: not looked for: A_PIN (development v1): shorter than 8 bytes\n"))
    #expect(scan.stderr.contains("coffer: not looked for: A_WORD (development v1): a placeholder: a well-known placeholder word\n"))
    let redact = box.run(["redact", "--verbose"], stdin: Data("true 8080 hunter2 changeme Zq9Xk3wPr7Ty\n".utf8))
    #expect(redact.out == "true 8080 [redacted:A_PIN] changeme [redacted:A_REAL]\n")
    #expect(redact.stderr.contains("coffer: not looked for: A_FLAG (development v1): a common configuration word\n"))
    #expect(redact.stderr.contains("coffer: not looked for: A_PORT (development v1): a small number\n"))
  }

  /// `redact` and `run --redact` leave settings' values alone.
  @Test func redactionLeavesSettingsAlone() throws {
    let box = try Sandbox(manifest: basicManifest)
    #expect(box.set("OPENAI_API_KEY", Self.token, env: "development").status == 0)
    #expect(box.set("LOG_LEVEL", "verbose-logging", env: "development").status == 0)
    let r = box.run(["redact", "--env", "development"], stdin: Data("level verbose-logging key \(Self.token)\n".utf8))
    #expect(r.out == "level verbose-logging key [redacted:OPENAI_API_KEY]\n")
    let run = box.run(["run", "--env", "development", "--redact", "--", "sh", "-c", #"echo "$LOG_LEVEL $OPENAI_API_KEY""#])
    #expect(run.status == 0)
    #expect(run.out == "verbose-logging [redacted:OPENAI_API_KEY]\n")
  }

  // MARK: - 3. fail closed

  @Test func runRefusesWithoutAVaultOrRequiredSecrets() throws {
    let box = try Sandbox(manifest: basicManifest)
    // No vault for staging: the fast path (--env) and ArgumentParser's path (--redact), and COFFER_ENV.
    for (args, env) in [
      (["run", "--env", "staging", "--", "echo", "ran"], [String: String]()),
      (["run", "--env", "staging", "--redact", "--", "echo", "ran"], [:]),
      (["run", "--", "echo", "ran"], ["COFFER_ENV": "staging"]),
    ] {
      let r = box.run(args, env: env)
      #expect(r.status == 1, "\(args)")
      #expect(r.out == "", "\(args)")
      #expect(r.stderr == """
        coffer: error: staging has no vault yet, so the command was not started (it requires 1 secret: OPENAI_API_KEY)
        coffer: hint: set its secrets (`coffer set OPENAI_API_KEY --env staging`, or `coffer import FILE --env staging`), or pass --allow-missing to run anyway

        """, "\(args)")
    }
    // A vault missing a required secret: DATABASE_URL is required in production only.
    #expect(box.set("OPENAI_API_KEY", Self.token, env: "production").status == 0)
    for args in [["run", "--env", "production", "--", "echo", "ran"], ["run", "-e", "production", "--redact", "--", "echo", "ran"]] {
      let r = box.run(args)
      #expect(r.status == 1, "\(args)")
      #expect(r.out == "")
      #expect(r.stderr.hasPrefix("coffer: error: 1 required secret has no value in production, so the command was not started: DATABASE_URL\n"))
    }
    // --allow-missing runs anyway, on both paths.
    let allowed = box.run(["run", "--env", "production", "--allow-missing", "--", "echo", "ran"])
    #expect(allowed.status == 0)
    #expect(allowed.out == "ran\n")
    let noVault = box.run(["run", "--env", "staging", "--allow-missing", "--", "echo", "ran"])
    #expect(noVault.status == 0)
    #expect(noVault.out == "ran\n")
    #expect(noVault.stderr == "coffer: warning: staging has no vault yet: running without secrets (--allow-missing)\n")
    let redacted = box.run(["run", "--env", "production", "--allow-missing", "--redact", "--", "echo", "ran"])
    #expect(redacted.status == 0)
    #expect(redacted.out == "ran\n")
    // development requires only OPENAI_API_KEY: once set, run starts.
    #expect(box.set("OPENAI_API_KEY", Self.token, env: "development").status == 0)
    #expect(box.run(["run", "--env", "development", "--", "echo", "ran"]).out == "ran\n")
  }

  /// `run`'s required names come from its cache (outside the repository) while `coffer.yaml` is unchanged, and from the
  /// manifest again as soon as it changes (by its SHA-256); a garbled cache is ignored; a manifest with `imports:`
  /// is never cached (docs/performance.md).
  @Test func runsRequiredNamesFollowTheManifestThroughTheCache() throws {
    let box = try Sandbox(manifest: basicManifest)
    // Outside the repository, beside the audit log ($XDG_STATE_HOME, here under the sandbox's HOME).
    let cacheDirectory = box.path("home/.local/state/coffer/required")
    func cachePath() throws -> String {
      let files = try FileManager.default.contentsOfDirectory(atPath: cacheDirectory)
      #expect(files.count == 1 && files[0].hasSuffix(".cache"), "\(files)")
      return cacheDirectory + "/" + (files.first ?? "")
    }
    #expect(box.set("OPENAI_API_KEY", Self.token, env: "production").status == 0)
    let first = box.run(["run", "--env", "production", "--", "echo", "ran"])
    #expect(first.status == 1)
    #expect(first.stderr.hasPrefix("coffer: error: 1 required secret has no value in production, so the command was not started: DATABASE_URL\n"))
    let cache = try cachePath()
    #expect(!box.exists(".coffer/state"), "nothing is cached inside the repository")
    let text = try String(contentsOfFile: cache, encoding: .utf8)
    #expect(text.hasPrefix("coffer-required-cache v4\nmanifest "))
    // Names sorted by UTF-8 bytes, so that `run` walks them beside the vault's sorted names.
    #expect(text.contains("\n+declared\tDATABASE_URL,LOG_LEVEL,OPENAI_API_KEY\n+loader\t\n+composed\t\n+environments\tdevelopment,staging,production\n+policy\t"))
    #expect(text.hasSuffix("\n+recipients\t0\n+stores\t\ndevelopment\tOPENAI_API_KEY\nstaging\tOPENAI_API_KEY\nproduction\tDATABASE_URL,OPENAI_API_KEY\n"))
    // From the cache: the same refusal, and it starts once the value is there.
    #expect(box.run(["run", "--env", "production", "--", "echo", "ran"]).stderr == first.stderr)
    #expect(box.set("DATABASE_URL", "postgres://u:p@db.example.com:5432/app", env: "production").status == 0)
    #expect(box.run(["run", "--env", "production", "--", "echo", "ran"]).out == "ran\n")
    // A new required secret in coffer.yaml: the cache no longer matches, so it is refused at once.
    try box.write("coffer.yaml", basicManifest + "  STRIPE_SECRET_KEY:\n    required: [production]\n")
    let changed = box.run(["run", "--env", "production", "--", "echo", "ran"])
    #expect(changed.status == 1)
    #expect(changed.stderr.hasPrefix("coffer: error: 1 required secret has no value in production, so the command was not started: STRIPE_SECRET_KEY\n"), "\(changed.stderr)")
    // A garbled cache is ignored, and rewritten.
    try "garbage\n".write(toFile: cache, atomically: false, encoding: .utf8)
    #expect(box.run(["run", "--env", "production", "--", "echo", "ran"]).stderr == changed.stderr)
    #expect(try String(contentsOfFile: cache, encoding: .utf8).hasPrefix("coffer-required-cache v4\n"))
    // A cache in the previous format (names in manifest order) for this very manifest is not read either, even one
    // that says nothing is required.
    let current = try String(contentsOfFile: cache, encoding: .utf8)
    let manifestLine = try #require(current.split(separator: "\n").dropFirst().first)
    try ("coffer-required-cache v3\n\(manifestLine)\n+declared\tOPENAI_API_KEY,DATABASE_URL,LOG_LEVEL,STRIPE_SECRET_KEY\n+loader\t\n"
      + "+composed\t\n+environments\tdevelopment,staging,production\n+policy\t\n+recipients\t0\n+stores\t\n"
      + "development\t\nstaging\t\nproduction\t\n").write(toFile: cache, atomically: false, encoding: .utf8)
    #expect(box.run(["run", "--env", "production", "--", "echo", "ran"]).stderr == changed.stderr)
    #expect(try String(contentsOfFile: cache, encoding: .utf8) == current)
  }

  @Test func exportOfNothingFailsUnlessAllowed() throws {
    let box = try Sandbox(manifest: basicManifest)
    let none = box.run(["export", "--env", "staging"])
    #expect(none.status == 1)
    #expect(none.out == "")
    #expect(none.stderr.hasPrefix("coffer: error: staging has no values to export (it has no vault yet)\n"))
    let file = box.run(["export", "--env", "staging", "-o", "out.env"])
    #expect(file.status == 1)
    #expect(!box.exists("out.env"))
    let toEnv = box.run(["export-to-env", "--env", "staging", "--env-file", "out.env"])
    #expect(toEnv.status == 1)
    let allowed = box.run(["export", "--env", "staging", "--allow-empty"])
    #expect(allowed.status == 0)
    #expect(allowed.out == "")
    #expect(box.set("OPENAI_API_KEY", Self.token, env: "staging").status == 0)
    #expect(box.run(["rm", "OPENAI_API_KEY", "--env", "staging"]).status == 0)
    let emptied = box.run(["export", "--env", "staging", "--format", "json"])
    #expect(emptied.status == 1)
    #expect(emptied.stderr.hasPrefix("coffer: error: staging has no values to export\n"))
  }

  @Test func setRefusesAnUndeclaredNameWithASuggestion() throws {
    let box = try Sandbox(manifest: basicManifest)
    let r = box.run(["set", "OPENAI_API_KY", "--env", "development"], stdin: Data(Self.token.utf8))
    #expect(r.status == 2)
    #expect(r.stderr == """
      coffer: error: OPENAI_API_KY is not declared in coffer.yaml
      coffer: hint: did you mean OPENAI_API_KEY?
      coffer: hint: declare it in coffer.yaml, or pass --undeclared to set it anyway

      """)
    #expect(!box.exists(".coffer/vault/development.vault"))
    let lower = box.run(["set", "openai_api_key"], stdin: Data(Self.token.utf8))
    #expect(lower.status == 2)
    #expect(lower.stderr.contains("coffer: hint: did you mean OPENAI_API_KEY?\n"))
    let far = box.run(["set", "SOMETHING_ELSE"], stdin: Data(Self.token.utf8))
    #expect(far.status == 2)
    #expect(!far.stderr.contains("did you mean"))
    let forced = box.run(["set", "SOMETHING_ELSE", "--undeclared"], stdin: Data(Self.token.utf8))
    #expect(forced.status == 0)
    #expect(forced.stderr.hasPrefix("coffer: warning: SOMETHING_ELSE is not declared in coffer.yaml\n"))
    expectNoLeak([Self.token], in: [r.all, lower.all, far.all, forced.all])
  }

  @Test func setWarnsWhenTheValueBreaksItsRules() throws {
    let box = try Sandbox(manifest: basicManifest)
    let placeholder = box.set("OPENAI_API_KEY", "changeme")
    #expect(placeholder.status == 0)
    #expect(placeholder.stderr.hasSuffix(
      "coffer: warning: OPENAI_API_KEY is a placeholder: a well-known placeholder word (stored anyway; `coffer check` reports it)\n"))
    let prefix = box.set("OPENAI_API_KEY", "pk-Zq9Xk3wPr7Ty2Uv8Lm4N")
    #expect(prefix.status == 0)
    #expect(prefix.stderr.contains("coffer: warning: OPENAI_API_KEY "))
    #expect(prefix.stderr.contains("(stored anyway; `coffer check` reports it)\n"))
    #expect(box.run(["get", "OPENAI_API_KEY"]).out == "pk-Zq9Xk3wPr7Ty2Uv8Lm4N\n")
    let fine = box.set("LOG_LEVEL", "info")
    #expect(fine.stderr == "coffer: set LOG_LEVEL in development (version 1)\n")
    expectNoLeak(["pk-Zq9Xk3wPr7Ty2Uv8Lm4N"], in: [prefix.stderr])
  }

  @Test func templateRefusesToReplaceAnExistingFileWithoutForce() throws {
    let box = try Sandbox(manifest: basicManifest)
    try box.write("env.example", "# hand-written\nOPENAI_API_KEY=\n")
    let r = box.run(["template", "-o", "env.example"])
    #expect(r.status == 2)
    #expect(r.stderr.hasPrefix("coffer: error: refusing to replace env.example: it exists and differs from the template"))
    #expect(try box.read("env.example") == Data("# hand-written\nOPENAI_API_KEY=\n".utf8))
    #expect(box.run(["generate-template", "--output-file", "env.example"]).status == 2)
    #expect(box.run(["template", "-o", "env.example", "--force"]).status == 0)
    #expect(try box.read("env.example") != Data("# hand-written\nOPENAI_API_KEY=\n".utf8))
    // The same template again is no replacement.
    #expect(box.run(["template", "-o", "env.example"]).status == 0)
    #expect(box.run(["template", "-o", "new.example"]).status == 0)
  }

  @Test func rotateGenerateMeetsTheFormatOrSaysWhichOptionWould() throws {
    let manifest = """
      version: 1
      project: rotate
      environments: [development]
      secrets:
        STRIPE_SECRET_KEY: { description: Stripe }
        HEX_TOKEN: { pattern: "[0-9a-f]{64}" }

      """
    let box = try Sandbox(manifest: manifest)
    #expect(box.set("STRIPE_SECRET_KEY", "sk_test_" + String(repeating: "a1B2", count: 6)).status == 0)
    let stripe = box.run(["rotate", "STRIPE_SECRET_KEY", "--generate"])
    #expect(stripe.status == 2)
    #expect(stripe.stderr.contains(", assumed from the name), which a random value cannot be, so --generate cannot rotate it; nothing was written\n"))
    #expect(stripe.stderr.contains("coffer: hint: if the value is really yours to generate, set `format: none` on STRIPE_SECRET_KEY in coffer.yaml\n"))
    #expect(box.set("HEX_TOKEN", String(repeating: "ab", count: 32)).status == 0)
    let hex = box.run(["rotate", "HEX_TOKEN", "--generate"])
    #expect(hex.status == 2)
    #expect(hex.stderr.contains("coffer: hint: `--generate --charset hex --length 32` makes values that meet the rules in coffer.yaml\n"))
    let fixed = box.run(["rotate", "HEX_TOKEN", "--generate", "--charset", "hex", "--length", "32"])
    #expect(fixed.status == 0, "\(fixed.stderr)")
  }

  // MARK: - 4. messages

  @Test func didYouMeanForCommandsEnvironmentsAndNames() throws {
    let box = try Sandbox(manifest: basicManifest)
    for (typed, meant) in [("sacn", "scan"), ("exprot", "export"), ("rotat", "rotate"), ("chekc", "check")] {
      let r = box.run([typed])
      #expect(r.status == 2)
      #expect(r.stderr == "coffer: error: unknown command '\(typed)'\ncoffer: hint: did you mean `coffer \(meant)`?\ncoffer: hint: `coffer --help` lists the commands\n")
    }
    let pasted = box.run([Self.token])
    #expect(pasted.status == 2)
    #expect(pasted.stderr.hasPrefix("coffer: error: unknown command\n"))
    expectNoLeak([Self.token], in: [pasted.all])
    for (typed, meant) in [("prodution", "production"), ("Staging", "staging"), ("devlopment", "development")] {
      let r = box.run(["list", "--env", typed])
      #expect(r.status == 2)
      #expect(r.stderr == "coffer: error: unknown environment \(typed)\ncoffer: hint: did you mean \(meant)?\ncoffer: hint: the manifest declares: development, staging, production\n")
    }
    let run = box.run(["run", "--env", "prodution", "--", "true"])
    #expect(run.stderr.contains("coffer: hint: did you mean production?\n"))
    #expect(box.set("OPENAI_API_KEY", Self.token).status == 0)
    let get = box.run(["get", "OPENAI_API_KY"])
    #expect(get.status == 1)
    #expect(get.stderr == """
      coffer: error: OPENAI_API_KY has no value in development (and coffer.yaml does not declare it)
      coffer: hint: did you mean OPENAI_API_KEY?
      coffer: hint: set it with `coffer set OPENAI_API_KY --env development`

      """)
    let never = box.run(["get", "DATABASE_URL"])
    #expect(never.status == 1)
    #expect(never.stderr == "coffer: error: DATABASE_URL has no value in development\ncoffer: hint: set it with `coffer set DATABASE_URL --env development`\n")
    let rm = box.run(["rm", "OPENAI_API_KY"])
    #expect(rm.status == 1)
    #expect(rm.stderr == "coffer: error: OPENAI_API_KY has no value in development (and coffer.yaml does not declare it)\ncoffer: hint: did you mean OPENAI_API_KEY?\n")
    let noVault = box.run(["get", "DATABASE_URL", "--env", "production"])
    #expect(noVault.stderr.hasPrefix("coffer: error: DATABASE_URL has no value in production\n"))
  }

  @Test func aWrongIdentitySaysWhereItCameFromAndPrintsTheRecipient() throws {
    let box = try Sandbox(manifest: basicManifest)
    #expect(box.set("OPENAI_API_KEY", Self.token).status == 0)
    let otherFile = box.path("home/other.txt")
    let other = box.run(["keygen", "-o", otherFile]).out.trimmingCharacters(in: .newlines)
    #expect(other.hasPrefix("age1"))
    let viaFile = box.run(["get", "OPENAI_API_KEY"], env: ["COFFER_IDENTITY_FILE": otherFile])
    #expect(viaFile.status == 3)
    #expect(viaFile.stderr == """
      coffer: error: this identity cannot open the development vault (.coffer/vault/development.vault)
      coffer: hint: the identity used came from COFFER_IDENTITY_FILE (\(otherFile)); its recipient is \(other)
      coffer: hint: this recipient is not in coffer.yaml: send it to one of \(box.recipient), to add under recipients: and grant you access
      coffer: hint: if you have another identity, point COFFER_IDENTITY_FILE at it

      """)
    let key = try String(contentsOfFile: otherFile, encoding: .utf8).split(separator: "\n").first { $0.hasPrefix("AGE-SECRET-KEY-1") }.map(String.init) ?? ""
    let viaVariable = box.run(["get", "OPENAI_API_KEY"], env: ["COFFER_IDENTITY": key])
    #expect(viaVariable.status == 3)
    #expect(viaVariable.stderr.contains("coffer: hint: the identity used came from the COFFER_IDENTITY variable; its recipient is \(other)\n"))
    // The default path, under HOME.
    try FileManager.default.createDirectory(atPath: box.path("home/.config/coffer"), withIntermediateDirectories: true)
    try FileManager.default.copyItem(atPath: otherFile, toPath: box.path("home/.config/coffer/identity.txt"))
    let viaDefault = box.run(["run", "--env", "development", "--", "true"], env: ["COFFER_IDENTITY_FILE": ""])
    #expect(viaDefault.status == 3)
    #expect(viaDefault.stderr.contains("coffer: hint: the identity used came from the default path \(box.path("home/.config/coffer/identity.txt")); its recipient is \(other)\n"))
    // scan and check say the same.
    let check = box.run(["check"], env: ["COFFER_IDENTITY_FILE": otherFile])
    #expect(check.status == 3)
    #expect(check.stderr.contains("its recipient is \(other)"))
    expectNoLeak([Self.token, key], in: [viaFile.all, viaVariable.all, viaDefault.all, check.all])
  }

  @Test func anInvalidIdentityInTheVariableIsNotCalledAFileLine() throws {
    let box = try Sandbox(manifest: basicManifest)
    for (text, reason) in [
      ("AGE-SECRET-KEY-NOPE", "identity is not valid bech32 (no '1' separator)"),
      ("AGE-SECRET-KEY-1QQQQ", "identity is not valid bech32 (fewer than six characters after the '1' separator)"),
      ("age-secret-key-1Q", "identity is not valid bech32 (upper- and lowercase letters mixed)"),
      ("# only a comment", "it holds no AGE-SECRET-KEY-1 identity"),
    ] {
      let r = box.run(["list"], env: ["COFFER_IDENTITY": text])
      let got = box.run(["get", "OPENAI_API_KEY"], env: ["COFFER_IDENTITY": text])
      #expect(got.status == 3, "\(text)")
      #expect(got.stderr.hasPrefix("coffer: error: invalid identity in the COFFER_IDENTITY variable: \(reason)\n"), "\(got.stderr)")
      #expect(!got.stderr.contains("identity file line"))
      #expect(!got.stderr.contains("(missingSeparator)") && !got.stderr.contains("Separator"))
      _ = r
    }
  }

  @Test func accessRemovedByARuleSaysSoAndWhoCanGrant() throws {
    let gov = try GovernanceBox()
    let revoke = gov.box.run(["access", "revoke", "dave", "--env", "production"])
    #expect(revoke.status == 0, "\(revoke.stderr)")
    let r = gov.asDave(["get", "API_KEY", "--env", "production"])
    #expect(r.status == 3)
    #expect(r.stderr.contains("coffer: hint: the identity used came from COFFER_IDENTITY_FILE (\(gov.daveFile)); its recipient is \(gov.dave)\n"))
    #expect(r.stderr.contains("coffer: hint: the access: rules of coffer.yaml give dave no group in production, so access was removed or never granted\n"))
    #expect(r.stderr.contains("coffer: hint: ask one of alice to run `coffer access grant dave --env production`\n"))
    #expect(!r.stderr.contains("rewrap"))
  }

  /// `check` does not count a secret that needs rotation as ok, and plain settings are never marked.
  @Test func checkAndRotationAfterARevoke() throws {
    let box = try Sandbox()
    box.extraEnvironment["COFFER_NOW"] = "2026-01-01T00:00:00Z"
    let daveFile = box.path("home/dave.txt")
    let dave = box.run(["keygen", "-o", daveFile]).out.trimmingCharacters(in: .newlines)
    try box.write("coffer.yaml", """
      version: 1
      project: gov
      environments: [production]
      recipients:
        alice: \(box.recipient)
        dave: \(dave)
      groups:
        api-keys: { rotation: 90d }
      secrets:
        API_KEY: { group: api-keys, prefix: "sk-" }
        OTHER_KEY: { group: api-keys }
        LOG_LEVEL: { group: api-keys, secret: false, required: false }

      """)
    #expect(box.set("API_KEY", "sk-canary-api-M3nB8sTq", env: "production").status == 0)
    #expect(box.set("OTHER_KEY", "Zq9Xk3wPr7Ty2Uv8Lm4NaB7c", env: "production").status == 0)
    #expect(box.set("LOG_LEVEL", "debug", env: "production").status == 0)
    let revoke = box.run(["access", "revoke", "dave", "--groups", "api-keys", "--env", "production"])
    #expect(revoke.status == 0, "\(revoke.stderr)")
    #expect(revoke.stderr.contains("dave could read 2 secret(s) that now need rotation: API_KEY, OTHER_KEY\n"))
    let check = box.run(["check", "--env", "production"])
    #expect(check.status == 1)
    #expect(check.out.contains("needs rotation (2):\n"))
    #expect(check.out.contains("ok (1)\n"))
    #expect(!check.out.contains("LOG_LEVEL  dave"))
    let json = box.run(["check", "--env", "production", "--json"])
    let doc = try JSONSerialization.jsonObject(with: json.stdout) as? [String: Any]
    #expect(doc?["ok"] as? [String] == ["LOG_LEVEL"])
    let status = box.run(["rotate", "status", "--env", "production", "--json"])
    #expect(status.status == 1)
    #expect(status.out.contains("\"API_KEY\""))
    let rows = (try JSONSerialization.jsonObject(with: status.stdout) as? [String: Any])?["secrets"] as? [[String: Any]] ?? []
    let states = rows.map { "\($0["name"] as? String ?? "?") \($0["state"] as? String ?? "?")" }
    #expect(states.contains("LOG_LEVEL ok") || states.contains("LOG_LEVEL due-soon"), "\(states)")
    #expect(states.contains("API_KEY needs-rotation"), "\(states)")
  }

  @Test func auditHelpSaysTheLogIsThisUsersOnThisMachine() throws {
    let help = try Sandbox().run(["audit", "--help"])
    #expect(help.status == 0)
    #expect(help.out.contains("on this machine"))
    let readme = try String(contentsOf: Paths.root.appendingPathComponent("README.md"), encoding: .utf8)
    #expect(readme.contains("(your log, on this machine)"))
  }

  // MARK: - 2. install and dist (the debug build, already built: no release build in the test suite)

  @Test func makeInstallAndDistWithTheDebugBuild() throws {
    let box = try Sandbox()
    let prefix = box.path("prefix")
    let make = { (args: [String]) throws -> ChildProcess.Result in
      try ChildProcess.run(
        "/usr/bin/make", ["-s", "-C", Paths.root.path] + args + ["CONFIG=debug", "SKIP_BUILD=1", "BIN=\(Paths.binary)"],
        cwd: box.dir, environment: ["PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": box.path("home")])
    }
    let install = try make(["install", "PREFIX=\(prefix)"])
    #expect(install.status == 0, "\(String(decoding: install.stderr, as: UTF8.self))")
    let version = box.run(["--version"]).out
    let installed = try ChildProcess.run(prefix + "/bin/coffer", ["--version"], cwd: box.dir, environment: [:])
    #expect(installed.status == 0)
    #expect(String(decoding: installed.stdout, as: UTF8.self) == version)
    let mode = try FileManager.default.attributesOfItem(atPath: prefix + "/bin/coffer")[.posixPermissions] as? Int
    #expect(mode == 0o755)

    let dist = box.path("dist")
    let packaged = try make(["dist", "DISTDIR=\(dist)"])
    #expect(packaged.status == 0, "\(String(decoding: packaged.stderr, as: UTF8.self))")
    let arch = try ChildProcess.run("/usr/bin/uname", ["-m"], cwd: box.dir, environment: [:])
    let name = "coffer-\(version.trimmingCharacters(in: .newlines))-linux-\(String(decoding: arch.stdout, as: UTF8.self).trimmingCharacters(in: .newlines))"
    #expect(FileManager.default.fileExists(atPath: "\(dist)/\(name).tar.gz"))
    let verify = try ChildProcess.run("/usr/bin/sha256sum", ["-c", "\(name).tar.gz.sha256"], cwd: URL(fileURLWithPath: dist), environment: [:])
    #expect(verify.status == 0)
    #expect(String(decoding: verify.stdout, as: UTF8.self) == "\(name).tar.gz: OK\n")
    let list = try ChildProcess.run("/bin/tar", ["-tzf", "\(name).tar.gz"], cwd: URL(fileURLWithPath: dist), environment: [:])
    let entries = String(decoding: list.stdout, as: UTF8.self).split(separator: "\n").map(String.init).sorted()
    #expect(entries == ["\(name)/", "\(name)/.pre-commit-hooks.yaml", "\(name)/README.md", "\(name)/bin/", "\(name)/bin/coffer"])
    // A tampered archive fails the check.
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: "\(dist)/\(name).tar.gz"))
    try handle.seekToEnd()
    try handle.write(contentsOf: Data([0]))
    try handle.close()
    let tampered = try ChildProcess.run("/usr/bin/sha256sum", ["-c", "\(name).tar.gz.sha256"], cwd: URL(fileURLWithPath: dist), environment: [:])
    #expect(tampered.status == 1)
  }
}
