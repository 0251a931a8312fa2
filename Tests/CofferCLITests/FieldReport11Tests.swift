import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#endif

// Issue 11 (field reports, round 2), kinds 1, 3, 4 and 6, through the built binary. Each kind: the reported sample
// and neighbours (other values, positions, commands). As in CanaryTests, failure messages never print a value.

/// The owner, group and permission bits of a file, or nil when it does not exist.
func ownership(_ path: String) -> (uid: uid_t, gid: gid_t, mode: mode_t)? {
  guard let a = try? FileManager.default.attributesOfItem(atPath: path),
    let uid = (a[.ownerAccountID] as? NSNumber)?.uint32Value, let gid = (a[.groupOwnerAccountID] as? NSNumber)?.uint32Value,
    let mode = (a[.posixPermissions] as? NSNumber)?.uint32Value
  else { return nil }
  return (uid_t(uid), gid_t(gid), mode_t(mode & 0o7777))
}

/// `nobody` and `nogroup` from the system's databases (65534 on Debian).
let nobodyUID: uid_t = getpwnam("nobody")?.pointee.pw_uid ?? 65534
let nogroupGID: gid_t = getgrnam("nogroup")?.pointee.gr_gid ?? 65534

/// The setpriv launcher that runs coffer as nobody:nogroup with no supplementary groups.
let asNobody = ["/usr/bin/setpriv", "--reuid=\(nobodyUID)", "--regid=\(nogroupGID)", "--clear-groups"]

/// Whether any scalar of `text` is one a terminal would not show (what `DisplayText` escapes).
func holdsInvisible(_ text: String) -> Bool {
  text.unicodeScalars.contains { s in
    s != "\n" && ((s.value < 0x20) || s.value == 0x7F || s.properties.isDefaultIgnorableCodePoint
      || [.format, .control, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator].contains(s.properties.generalCategory)
      || (s.properties.generalCategory == .spaceSeparator && s != " "))
  }
}

let dotenvDestinationManifest = """
  version: 1
  project: fr11
  environments: [development, production]
  secrets:
    API_KEY: {}
    BLOB: { required: false }
  destinations:
    local: { type: dotenv, path: out/dest.env, from: development }

  """

// MARK: - Kind 1: rewriting a file keeps its owner and group

@Suite("Issue 11 kind 1: owner and group kept", .enabled(if: getuid() == 0, "needs root to give files to nobody"))
struct OwnerKeptTests {
  /// Owners to try: both different from root, only the user, only the group.
  static let owners: [(uid: uid_t, gid: gid_t, mode: mode_t)] = [
    (nobodyUID, nogroupGID, 0o640), (nobodyUID, 0, 0o600), (0, nogroupGID, 0o660),
  ]

  /// The sample: a vault owned by nobody:nogroup, rewritten by root through set, import, rotate and rm.
  @Test func vaultRewritesKeepOwnerGroupAndMode() throws {
    let sb = try seededSandbox()
    let vault = sb.path(".coffer/vault/development.vault")
    try sb.write("in.env", "API_TOKEN=imported-value\nOTHER=2\n")
    let commands: [([String], Data?)] = [
      (["set", "--undeclared", "API_TOKEN"], Data("second".utf8)),
      (["import", "in.env", "--overwrite"], nil),
      (["rotate"], nil),
      (["rm", "OTHER"], nil),
    ]
    for owner in Self.owners {
      for (listed, stdin) in commands {
        // rotate refuses the current value again, so each rotation brings a new one.
        let args = listed[0] == "rotate" ? ["rotate", "API_TOKEN", "--value", "rotated-\(UUID().uuidString)"] : listed
        chown(vault, owner.uid, owner.gid)
        chmod(vault, owner.mode)
        let before = vaultBytes(sb)
        let r = sb.run(args + ["--env", "development"], stdin: stdin)
        expectStatus(r, 0, "\(args[0]) on a vault owned by \(owner.uid):\(owner.gid)")
        let after = ownership(vault)
        let kept = after?.uid == owner.uid && after?.gid == owner.gid && after?.mode == owner.mode
        #expect(kept, "\(args[0]) changed the vault's owner, group or mode to \(String(describing: after))")
        #expect(vaultBytes(sb) != before, "\(args[0]) did not rewrite the vault")
      }
    }
    #expect(allTemporaryFiles(under: sb.dir).isEmpty)
  }

  /// A .env written by `sync` (a dotenv destination) that belongs to the service account keeps it.
  @Test func syncedDotEnvKeepsOwner() throws {
    let sb = try Sandbox(manifest: dotenvDestinationManifest)
    try sb.write("out/dest.env", "API_KEY=old\n")
    let path = sb.path("out/dest.env")
    for (index, owner) in Self.owners.enumerated() {
      chown(path, owner.uid, owner.gid)
      chmod(path, owner.mode)
      expectStatus(sb.set("API_KEY", "value-\(index)"), 0, "set")
      let r = sb.run(["sync"])
      expectStatus(r, 0, "sync to a .env owned by \(owner.uid):\(owner.gid)")
      let after = ownership(path)
      #expect(after?.uid == owner.uid && after?.gid == owner.gid && after?.mode == owner.mode)
      #expect(try sb.read("out/dest.env") == Data("API_KEY=value-\(index)\n".utf8))
    }
  }

  /// `export -o`, `export-to-env` and `template -o` over an existing file keep its owner; a new file is the
  /// caller's, mode 0600 (export) or 0644 (template).
  @Test func overwrittenOutputsKeepOwner() throws {
    let sb = try seededSandbox()
    let cases: [(args: [String], file: String)] = [
      (["export", "--env", "development", "-o", "exported.env"], "exported.env"),
      (["export", "--env", "development", "--format", "json", "-o", "sub/exported.json"], "sub/exported.json"),
      (["export-to-env", "--env", "development", "--env-file", "to-env.env"], "to-env.env"),
      (["template", "-o", "env.example", "--force"], "env.example"),
    ]
    for (index, (args, file)) in cases.enumerated() {
      let owner = Self.owners[index % Self.owners.count]
      try sb.write(file, "OLD=1\n")
      chown(sb.path(file), owner.uid, owner.gid)
      chmod(sb.path(file), owner.mode)
      let r = sb.run(args)
      expectStatus(r, 0, args.joined(separator: " "))
      let after = ownership(sb.path(file))
      let kept = after?.uid == owner.uid && after?.gid == owner.gid && after?.mode == owner.mode
      #expect(kept, "\(args[0]) -> \(file): \(String(describing: after))")
      #expect(try sb.read(file) != Data("OLD=1\n".utf8))
    }
    expectStatus(sb.run(["export", "--env", "development", "-o", "new.env"]), 0, "export to a new file")
    let created = ownership(sb.path("new.env"))
    #expect(created?.uid == 0 && created?.gid == 0 && created?.mode == 0o600)
  }

  /// `access grant` rewrites coffer.yaml and re-wraps a vault: both keep their owners.
  @Test func accessGrantKeepsTheManifestsAndTheVaultsOwner() throws {
    let g = try GovernanceBox()
    let manifest = g.box.path("coffer.yaml")
    let vault = g.box.path(".coffer/vault/production.vault")
    chown(manifest, nobodyUID, nogroupGID)
    chmod(manifest, 0o664)
    chown(vault, 0, nogroupGID)
    chmod(vault, 0o640)
    let grant = g.box.run(["access", "grant", "dave", "--groups", "infrastructure-credentials", "--env", "production"])
    expectStatus(grant, 0, "access grant")
    let m = ownership(manifest)
    let v = ownership(vault)
    #expect(m?.uid == nobodyUID && m?.gid == nogroupGID && m?.mode == 0o664, "coffer.yaml: \(String(describing: m))")
    #expect(v?.uid == 0 && v?.gid == nogroupGID && v?.mode == 0o640, "vault: \(String(describing: v))")
    #expect(String(decoding: try g.box.read("coffer.yaml"), as: UTF8.self).contains("recipients: [alice, dave] }"))
  }

  /// When the owner cannot be kept (coffer runs as nobody, the file belongs to someone else), coffer says so,
  /// exits 3, and the file is untouched: same bytes, same owner, no temporary file.
  @Test func ownerThatCannotBeKeptWritesNothing() throws {
    let sb = try seededSandbox()
    chownTree(sb.dir.path, uid: nobodyUID, gid: nogroupGID)
    // (file, owner, mode, command): another user; nobody's uid but a group nobody is not in; the vault itself.
    let cases: [(file: String, uid: uid_t, gid: gid_t, args: [String])] = [
      ("owned.env", 1, 1, ["export", "--env", "development", "-o", "owned.env"]),
      ("group.json", nobodyUID, 1, ["export", "--env", "development", "--format", "json", "-o", "group.json"]),
      ("daemon.env", 1, nogroupGID, ["export-to-env", "--env", "development", "--env-file", "daemon.env"]),
      (".coffer/vault/development.vault", 1, 1, ["set", "--undeclared", "API_TOKEN", "--env", "development", "--value", "v2"]),
    ]
    for c in cases {
      if !c.file.hasSuffix(".vault") { try sb.write(c.file, "KEEP=1\n") }
      let path = sb.path(c.file)
      chown(path, c.uid, c.gid)
      chmod(path, 0o666)
      let before = try sb.read(c.file)
      let r = sb.run(c.args, launcher: asNobody)
      let what = "\(c.args[0]) as nobody over a file owned by \(c.uid):\(c.gid)"
      expectStatus(r, 3, what)
      let shown = c.file
      let expected = """
        coffer: error: cannot keep the owner of \(shown): changing the new file's owner to uid \(c.uid), gid \(c.gid) \
        failed (Operation not permitted); nothing written
        coffer: hint: run coffer as the file's owner (or as root), or change the file's owner first

        """
      // (set also warns that API_TOKEN is not declared, before it tries to write.)
      #expect(r.stderr.hasSuffix(expected) && r.stderr.hasPrefix(c.args[0] == "set" ? "coffer: warning: " : "coffer: error: "), "\(what): \(r.stderr)")
      #expect(try sb.read(c.file) == before, "\(what) changed the file")
      let after = ownership(path)
      #expect(after?.uid == c.uid && after?.gid == c.gid && after?.mode == 0o666)
      expectNoLeak(r, what, [adversarialCanary])
    }
    #expect(allTemporaryFiles(under: sb.dir).isEmpty, "temporary files left: \(allTemporaryFiles(under: sb.dir))")
  }
}

// MARK: - Kind 3: no fragments of values in messages

@Suite("Issue 11 kind 3: no value fragments in messages")
struct ValueFragmentTests {
  /// (file text, the error line, fragments that must not appear)
  static let dollarCases: [(text: String, error: String, fragments: [String])] = [
    ("PASSWORD=abc$defgh\n",
     "in.env:1: the $ at column 13 in the value of PASSWORD refers to a variable that is not assigned earlier in this file",
     ["defgh"]),
    ("A=1\nDB_PASS=\"x${hunter42}y\"\n",
     "in.env:2: the $ at column 11 in the value of DB_PASS refers to a variable that is not assigned earlier in this file",
     ["hunter42"]),
    ("# comment\nTOKEN=\"first line\nsecond p4ss$w0rdz tail\"\n",
     "in.env:3: the $ at column 12 in the value of TOKEN refers to a variable that is not assigned earlier in this file",
     ["w0rdz", "p4ss"]),
    ("KEY=ünï$cødé9\n",
     "in.env:1: the $ at column 8 in the value of KEY refers to a variable that is not assigned earlier in this file",
     ["cødé9"]),
    ("REQ=${secretpart:?}\n",
     "in.env:1: the $ at column 5 in the value of REQ requires a variable that is unset or empty at this point in the file",
     ["secretpart"]),
    ("export REQ2=pre${hidden_bit?}\n",
     "in.env:1: the $ at column 16 in the value of REQ2 requires a variable that is unset at this point in the file",
     ["hidden_bit"]),
  ]

  /// The sample (`refers to defgh`) and neighbours: braces, a later line, a multi-line value, non-ASCII before the
  /// `$`, `${X:?}` and `${X?}`. The error names file, line, column and key; nothing is written.
  @Test func importReferenceErrorsNameThePlaceNotTheText() throws {
    let sb = try seededSandbox()
    let before = vaultBytes(sb)
    for c in Self.dollarCases {
      try sb.write("in.env", c.text)
      for args in [["import", "in.env"], ["import-from-env", "--env-file", "in.env"]] {
        let r = sb.run(args + ["--env", "development"])
        expectStatus(r, 2, "\(args[0]) of \(c.error.prefix(40))")
        let first = r.stderr.split(separator: "\n").first.map(String.init)
        #expect(first == "coffer: error: " + c.error, "\(String(describing: first))")
        #expect(r.stderr.hasSuffix("coffer: hint: to write a literal $, single-quote the value ('...') or write $$\n"))
        for fragment in c.fragments { #expect(!r.all.contains(fragment), "a fragment of the value was shown") }
        #expect(vaultBytes(sb) == before)
      }
    }
  }

  /// The same text reached `plan` and `sync` output (stdout) for a .env destination holding such a value.
  @Test func planAndSyncOfADotEnvDestinationDoNotQuote() throws {
    let sb = try Sandbox(manifest: dotenvDestinationManifest)
    expectStatus(sb.set("API_KEY", "fresh"), 0, "set")
    for (text, line, column) in [("PASS=abc$defgh\n", 1, 9), ("X=1\nPASS=\"${defgh}\"\n", 2, 7)] {
      try sb.write("out/dest.env", text)
      for args in [["plan"], ["sync"], ["sync", "--dry-run"], ["plan", "--json"]] {
        let r = sb.run(args)
        expectStatus(r, 4, args.joined(separator: " "))
        let message = "out/dest.env:\(line): the $ at column \(column) in the value of PASS refers to a variable that is not assigned earlier in this file"
        #expect(r.out.contains(message), "\(args): \(r.out)")
        #expect(!r.all.contains("defgh"), "\(args) quoted the text after $")
      }
      #expect(try sb.read("out/dest.env") == Data(text.utf8))
    }
  }

  /// `--value` takes the next argument even when it starts with `-`; the value is stored exactly.
  @Test func valuesStartingWithADash() throws {
    let sb = try seededSandbox()
    let values = ["-=q7w8e9-secret", "-x", "--looks-like-an-option", "-", "-e", "--"]
    for value in values {
      let r = sb.run(["set", "--undeclared", "DASHED", "--value", value, "--env", "development"])
      expectStatus(r, 0, "set --value <dash value>")
      expectNoLeak(r, "set --value", [Canary("dash", "DASHED", value, marker: value)].filter { _ in value.count >= 4 })
      let g = sb.run(["get", "-n", "DASHED", "--env", "development"])
      #expect(g.out == value, "set --value with a leading dash did not round-trip")
      let rot = sb.run(["rotate", "API_TOKEN", "--env", "development", "--value", "-r" + value])
      expectStatus(rot, 0, "rotate --value <dash value>")
      #expect(sb.run(["get", "-n", "API_TOKEN", "--env", "development"]).out == "-r" + value)
    }
    expectStatus(sb.run(["set", "--undeclared", "DASHED", "--value=-y9", "--env", "development"]), 0, "--value=-y9")
    #expect(sb.run(["get", "-n", "DASHED", "--env", "development"]).out == "-y9")
  }

  /// Usage errors never show argument text: a value typed where an option or argument was expected, a mistyped
  /// option, a rejected choice; short option clusters too.
  @Test func usageErrorsEchoNoArgumentText() throws {
    let sb = try seededSandbox()
    let marker = "q7w8e9"
    let cases: [[String]] = [
      ["set", "--undeclared", "API_TOKEN", "-=\(marker)-abc"],
      ["rotate", "API_TOKEN", "-\(marker)"],
      ["get", "API_TOKEN", "--pw=\(marker)"],
      ["list", "-Z\(marker)"],
      ["export", "--format", "x\(marker)"],
      ["set", "--undeclared", "API_TOKEN", "--file", "a", "extra-\(marker)"],
      ["check", "--\(marker)"],
      ["rm", "API_TOKEN", "\(marker)-positional"],
      ["set", "--undeclared", "API_TOKEN", "it's-\(marker)"], ["set", "--undeclared", "API_TOKEN", "two\nlines-\(marker)"],
      ["get", "API_TOKEN", "--version", "v\(marker)"],
    ]
    for args in cases {
      let r = sb.run(args)
      expectStatus(r, 2, "\(args[0]) usage error")
      #expect(!r.all.contains(marker), "\(args[0]): a usage error echoed argument text: \(r.stderr)")
      #expect(r.stderr.contains("[redacted]"), "\(args[0]): \(r.stderr)")
    }
    // The Help and Usage lines are Coffer's own text and stay whole, apostrophes included.
    let grant = sb.run(["access", "grant"])
    expectStatus(grant, 2, "access grant without a name")
    #expect(grant.stderr.hasPrefix("Error: Missing expected argument '<name>'\nHelp:  <name>  The recipient's name in coffer.yaml.\n"), "\(grant.stderr)")
    // A missing value names the option, which is Coffer's text.
    let missing = sb.run(["set", "--undeclared", "API_TOKEN", "--value"])
    expectStatus(missing, 2, "set --value with nothing after it")
    #expect(missing.stderr.hasPrefix("Error: Missing value for '--value <value>'\n"), "\(missing.stderr)")
  }

  /// Names with invisible characters are shown escaped, in every error that renders them.
  @Test func invisibleCharactersInNamesAreEscaped() throws {
    let sb = try seededSandbox()
    let dev = ["--env", "development", "--"]
    let cases: [(args: [String], stdin: String?, shown: String, status: Int32)] = [
      (["set"] + dev + ["\u{FEFF}API_KEY"], "v", "\"\\u{FEFF}API_KEY\" is not a valid secret name", 2),
      (["set"] + dev + ["API\u{200B}KEY"], "v", "\"API\\u{200B}KEY\" is not a valid secret name", 2),
      (["get"] + dev + ["TOKEN\u{2060}"], nil, "TOKEN\\u{2060}", 1),
      (["rm"] + dev + ["A\u{202E}B"], nil, "A\\u{202E}B", 1),
      (["list", "--env", "dev\u{200B}"], nil, "dev\\u{200B}", 2),
      (["generate"] + dev + ["KEY\u{00A0}2"], nil, "\"KEY\\u{A0}2\" is not a valid secret name", 2),
      (["set"] + dev + ["ESC\u{1B}[31mRED"], "v", "\"ESC\\u{1B}[31mRED\" is not a valid secret name", 2),
    ]
    for c in cases {
      let r = sb.run(c.args, stdin: c.stdin.map { Data($0.utf8) })
      expectStatus(r, c.status, "\(c.args[0]) with an invisible character")
      #expect(r.stderr.contains(c.shown), "\(c.args[0]): \(r.stderr.debugDescription)")
      #expect(!holdsInvisible(r.stderr), "\(c.args[0]) printed an invisible character raw: \(r.stderr.debugDescription)")
    }
    // In coffer.yaml too.
    let manifest = try Sandbox(manifest: "version: 1\nproject: p\nenvironments: [development]\nsecrets:\n  TOK\u{200B}EN: {}\n")
    let check = manifest.run(["check"])
    expectStatus(check, 2, "check of a manifest with U+200B in a name")
    #expect(check.stderr.contains("\"TOK\\u{200B}EN\" is not a valid secret name"), "\(check.stderr.debugDescription)")
    #expect(!holdsInvisible(check.stderr))
  }
}

// MARK: - Kind 4: one naming rule, sync's status, identity problems

@Suite("Issue 11 kind 4: names and exit statuses")
struct NamesAndStatusesTests {
  static let rule = "is not a valid secret name; use letters, digits and '_', not starting with a digit (at most 256 bytes)"

  static func hint(_ name: String, _ suggestion: String) -> String {
    "coffer: hint: \"\(name)\" is a valid .env key, but not a name a destination accepts: GitHub Actions secrets and "
      + "variables, Pulumi ESC environment variables and shells allow only letters, digits and '_'; call it \(suggestion)\n"
  }

  /// The sample (`go-version`) and neighbours: a dot, both, a leading digit (no .env hint), too long; through set,
  /// import (with file and line), generate, rotate and coffer.yaml, all with the one message.
  @Test func oneNamingRuleEverywhere() throws {
    let long = String(repeating: "N", count: 257)
    let cases: [(name: String, hint: String)] = [
      ("go-version", Self.hint("go-version", "go_version")), ("app.port", Self.hint("app.port", "app_port")),
      ("my-app.key-2", Self.hint("my-app.key-2", "my_app_key_2")), ("9LIVES", ""),
    ]
    for c in cases {
      let sb = try seededSandbox()
      let before = vaultBytes(sb)
      let error = "coffer: error: \"\(c.name)\" \(Self.rule)\n"
      let set = sb.run(["set", "--undeclared", c.name, "--env", "development"], stdin: Data("1.22".utf8))
      expectStatus(set, 2, "set \(c.name)")
      #expect(set.stderr == error + c.hint, "set: \(set.stderr)")
      for args in [["generate", c.name, "--env", "development"], ["rotate", c.name, "--env", "development", "--value", "x"]] {
        let r = sb.run(args)
        expectStatus(r, 2, "\(args[0]) \(c.name)")
        #expect(r.stderr == error + c.hint, "\(args[0]): \(r.stderr)")
      }
      if c.name.first?.isLetter == true {
        try sb.write("in.env", "OK_NAME=1\n\(c.name)=2\n")
        let imp = sb.run(["import", "in.env", "--env", "development"])
        expectStatus(imp, 2, "import \(c.name)")
        #expect(imp.stderr == "coffer: error: in.env:2: \"\(c.name)\" \(Self.rule)\n" + c.hint, "import: \(imp.stderr)")
      }
      #expect(vaultBytes(sb) == before, "a refused name changed the vault")
      try sb.write("coffer.yaml", "version: 1\nproject: p\nenvironments: [development]\nsecrets:\n  \(c.name): {}\n")
      let check = sb.run(["check"])
      expectStatus(check, 2, "check with \(c.name) in coffer.yaml")
      #expect(check.stderr == "coffer: error: coffer.yaml:5:3: secrets.\(c.name): \"\(c.name)\" \(Self.rule)\n" + c.hint, "\(check.stderr)")
    }
    let sb = try seededSandbox()
    let tooLong = sb.run(["set", "--undeclared", long, "--env", "development"], stdin: Data("v".utf8))
    expectStatus(tooLong, 2, "set with a 257-byte name")
    try sb.write("coffer.yaml", "version: 1\nproject: p\nenvironments: [development]\nsecrets:\n  \(long): {}\n")
    expectStatus(sb.run(["check"]), 2, "a 257-byte name in coffer.yaml")
    // What the rule allows is accepted everywhere.
    let ok = try seededSandbox()
    expectStatus(ok.set("GO_VERSION", "1.22"), 0, "set GO_VERSION")
    try ok.write("coffer.yaml", basicManifest + "  GO_VERSION: { required: false }\n")
    expectStatus(ok.run(["check", "--env", "development"]), 1, "check with GO_VERSION declared (others missing)")
  }

  /// A valid name a GitHub destination will block (`GITHUB_` prefix) is stored, with a warning naming the
  /// destination and its rule; a destination whose groups leave the name out says nothing.
  @Test func validNamesGitHubWillBlockAreWarnedAbout() throws {
    let sb = try Sandbox(manifest: """
      version: 1
      project: fr11
      environments: [development]
      groups:
        ci: { rotation: 90d }
      secrets:
        GITHUB_REF_PIN: { required: false }
        GITHUB_CI_ONLY: { group: ci, required: false }
      destinations:
        gh: { type: github, repository: acme/api, from: development }
        gh-ci: { type: github, repository: acme/ci, from: development, groups: [ci] }

      """)
    let set = sb.set("GITHUB_REF_PIN", "v1")
    expectStatus(set, 0, "set GITHUB_REF_PIN")
    #expect(set.stderr.hasPrefix(
      "coffer: warning: GITHUB_REF_PIN is a valid name, but destination gh (GitHub) will block it: starts with GITHUB_, which GitHub reserves\n"), "\(set.stderr)")
    #expect(!set.stderr.contains("gh-ci"))
    try sb.write("in.env", "GITHUB_CI_ONLY=1\nPLAIN=2\n")
    let imp = sb.run(["import", "in.env", "--env", "development"])
    expectStatus(imp, 0, "import GITHUB_CI_ONLY")
    #expect(imp.stderr.hasPrefix(
      "coffer: warning: GITHUB_CI_ONLY is a valid name, but destination gh (GitHub) will block it: starts with GITHUB_, which GitHub reserves\n"
        + "coffer: warning: GITHUB_CI_ONLY is a valid name, but destination gh-ci (GitHub) will block it: starts with GITHUB_, which GitHub reserves\n"),
      "\(imp.stderr)")
    #expect(!imp.stderr.contains("PLAIN is a valid name"))
    #expect(!sb.set("API_KEY", "v").stderr.contains("will block"))
  }

  /// `pull` shows a name the rule refuses as blocked, with the same message.
  @Test func pullBlocksWithTheSameMessage() throws {
    let sb = try Sandbox(manifest: dotenvDestinationManifest)
    try sb.write("out/dest.env", "API_KEY=pulled\ngo-version=1.22\n")
    let r = sb.run(["pull", "--from", "local", "--env", "development", "--dry-run"])
    expectStatus(r, 1, "pull --dry-run (blocked: exit 1, as sync)")
    expectStatus(sb.run(["pull", "--from", "local", "--env", "development", "--dry-run", "--allow-blocked"]), 0, "pull --allow-blocked")
    #expect(r.out.contains("blocked   go-version  \"go-version\" \(Self.rule)\n"), "\(r.out)")
  }

  /// A value a .env file cannot carry (not UTF-8) is blocked at a dotenv destination: sync delivers the rest and
  /// exits 1; --allow-blocked accepts it; plan only reports; a failure still exits 4.
  @Test func syncExitsNonZeroWhenSomethingWasBlocked() throws {
    let sb = try Sandbox(manifest: dotenvDestinationManifest)
    try FileManager.default.createDirectory(atPath: sb.path("out"), withIntermediateDirectories: true)
    expectStatus(sb.set("API_KEY", "delivered"), 0, "set API_KEY")
    try sb.write("blob.bin", Data([0xFF, 0xFE, 0x41]))
    expectStatus(sb.run(["set", "--undeclared", "BLOB", "--env", "development", "--file", "blob.bin"]), 0, "set BLOB")
    let note = "coffer: some items were blocked and not delivered (see `blocked` above): exit status 1; pass --allow-blocked to accept them\n"
    for args in [["sync"], ["sync-all"], ["sync", "--to", "local"], ["sync", "--dry-run"]] {
      let r = sb.run(args)
      expectStatus(r, 1, args.joined(separator: " "))
      #expect(r.stderr.hasSuffix(note), "\(args): \(r.stderr)")
      #expect(r.out.contains("  blocked   BLOB"), "\(args): \(r.out)")
    }
    #expect(try sb.read("out/dest.env") == Data("API_KEY=delivered\n".utf8))
    let json = sb.run(["sync", "--json"])
    expectStatus(json, 1, "sync --json")
    #expect(json.out.hasPrefix(#"{"ok":false,"blocked":true,"destinations":"#))
    let allowed = sb.run(["sync", "--allow-blocked"])
    expectStatus(allowed, 0, "sync --allow-blocked")
    #expect(!allowed.stderr.contains("were blocked"))
    let allowedJSON = sb.run(["sync", "--allow-blocked", "--json"])
    #expect(allowedJSON.out.hasPrefix(#"{"ok":true,"blocked":true,"destinations":"#))
    expectStatus(sb.run(["plan"]), 0, "plan with a blocked item")
    // --from-env: a declared variable that is empty (a secret GitHub Actions could not give) never arrives: exit 1.
    let empty = sb.run(["sync", "--from-env", "--to", "local"], env: ["API_KEY": ""])
    expectStatus(empty, 1, "sync --from-env with an empty variable")
    #expect(empty.stderr.hasSuffix(
      "coffer: some declared variables were empty and not delivered (see the warning above): exit status 1; pass --allow-blocked to accept them\n"),
      "\(empty.stderr)")
    expectStatus(sb.run(["sync", "--from-env", "--to", "local", "--allow-blocked"], env: ["API_KEY": ""]), 0, "--allow-blocked")
    // (The same value the vault delivered: a different one is refused, one source per destination, exit 4.)
    expectStatus(sb.run(["sync", "--from-env", "--to", "local"], env: ["API_KEY": "delivered"]), 0, "--from-env, all set")
    #expect(try sb.read("out/dest.env") == Data("API_KEY=delivered\n".utf8))
    // Nothing blocked: 0, and the JSON says so.
    expectStatus(sb.run(["rm", "BLOB", "--env", "development"]), 0, "rm BLOB")
    let clean = sb.run(["sync", "--json"])
    expectStatus(clean, 0, "sync with nothing blocked")
    #expect(clean.out.hasPrefix(#"{"ok":true,"blocked":false,"destinations":"#))
  }

  /// An identity that cannot be read is exit 3 with the real cause and the path, whatever the command.
  @Test func identityProblemsAreStatus3WithTheRealCause() throws {
    let sb = try seededSandbox()
    let identity = sb.identityFile.path
    try FileManager.default.createDirectory(atPath: sb.path("a-directory"), withIntermediateDirectories: true)
    let commands: [[String]] = [
      ["get", "API_TOKEN"], ["set", "OPENAI_API_KEY", "--value", "v"], ["export"], ["run", "--allow-missing", "--env", "development", "--", "true"],
    ]
    let cases: [(env: [String: String], stderr: String)] = [
      (["COFFER_IDENTITY_FILE": sb.path("a-directory")],
       "coffer: error: cannot read identity \(sb.path("a-directory")): it is a directory, not a file\n"
        + "coffer: hint: COFFER_IDENTITY_FILE names the identity file itself, e.g. ~/.config/coffer/identity.txt\n"),
      (["COFFER_IDENTITY_FILE": identity + "/key.txt"],
       "coffer: error: cannot read identity \(identity)/key.txt: Not a directory\n"),
      (["COFFER_IDENTITY_FILE": sb.path("absent.txt")],
       "coffer: error: no identity at \(sb.path("absent.txt")): file not found\n"
        + "coffer: hint: run `coffer keygen` to make one, or set COFFER_IDENTITY / COFFER_IDENTITY_FILE\n"),
    ]
    for c in cases {
      for args in commands {
        let r = sb.run(args, env: c.env)
        expectStatus(r, 3, "\(args[0]) with \(c.env.values.first ?? "")")
        #expect(r.stderr == c.stderr, "\(args[0]): \(r.stderr)")
      }
    }
  }

  /// As another user: a file it may not read, a folder it may not search (named or the default path).
  @Test(.enabled(if: getuid() == 0, "needs root to run coffer as nobody"))
  func unreadableIdentityAsAnotherUser() throws {
    let sb = try seededSandbox()
    chmod(sb.path("coffer.yaml"), 0o644)
    chmod(sb.dir.path, 0o755)
    // Root's identity, 0600: nobody may not read it.
    let rootOnly = sb.identityFile.path
    // A folder nobody may not search, with nobody's identity inside.
    try FileManager.default.createDirectory(atPath: sb.path("locked/.config/coffer"), withIntermediateDirectories: true)
    try FileManager.default.copyItem(atPath: rootOnly, toPath: sb.path("locked/.config/coffer/identity.txt"))
    chownTree(sb.path("locked"), uid: nobodyUID, gid: nogroupGID)
    chown(sb.path("locked"), 0, 0)
    chmod(sb.path("locked"), 0o700)
    let hint = "coffer: hint: the identity file must be readable, and every folder above it searchable, by the user running coffer\n"
    let cases: [(env: [String: String], path: String)] = [
      (["COFFER_IDENTITY_FILE": rootOnly], rootOnly),
      (["COFFER_IDENTITY_FILE": sb.path("locked/.config/coffer/identity.txt")], sb.path("locked/.config/coffer/identity.txt")),
      (["COFFER_IDENTITY_FILE": "", "HOME": sb.path("locked")], sb.path("locked/.config/coffer/identity.txt")),
    ]
    // init and setup-repo, which make an identity when there is none, must not take "cannot read" for "none".
    try FileManager.default.createDirectory(atPath: sb.path("fresh"), withIntermediateDirectories: true)
    chown(sb.path("fresh"), nobodyUID, nogroupGID)
    for c in cases {
      for args in [
        ["get", "API_TOKEN"], ["export"], ["run", "--allow-missing", "--env", "development", "--", "true"],
        ["init", "--project", sb.path("fresh")], ["setup-repo", "--name", sb.path("fresh/new")],
      ] {
        let r = sb.run(args, env: c.env, launcher: asNobody)
        expectStatus(r, 3, "\(args[0]) as nobody, identity at \(c.path)")
        #expect(r.stderr == "coffer: error: cannot read identity \(c.path): Permission denied\n" + hint, "\(r.stderr)")
      }
      #expect((try? FileManager.default.contentsOfDirectory(atPath: sb.path("fresh"))) == [], "init or setup-repo wrote")
    }
  }
}

// MARK: - Kind 6: what a subprocess inherits

@Suite("Issue 11 kind 6: children never inherit the identity")
struct ChildEnvironmentTests {
  /// Runs `git` with arguments in `dir` (setup only).
  func git(_ args: [String], in dir: String) throws {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/git")
    p.arguments = ["-C", dir] + args
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    try p.run()
    p.waitUntilExit()
  }

  /// Every spawn site: git through `Git` and `Subprocess` (scan of files, index and history with `cat-file`,
  /// hook install, merge-driver registration and its check on a vault write, setup-repo's `git init`), `run`'s
  /// execve (with and without a vault, fast and full argument paths) and `run --redact`'s posix_spawn. A `git`
  /// first on PATH records its environment; COFFER_IDENTITY and COFFER_IDENTITY_FILE are never in it, while an
  /// ordinary variable is.
  @Test func noChildSeesTheIdentityVariables() throws {
    let sb = try seededSandbox()
    let keyText = try String(contentsOf: sb.identityFile, encoding: .utf8).split(separator: "\n")
      .first { $0.hasPrefix("AGE-SECRET-KEY-") }.map(String.init) ?? ""
    #expect(!keyText.isEmpty)
    try FileManager.default.createDirectory(atPath: sb.path("fakebin"), withIntermediateDirectories: true)
    let dump = sb.path("git-env.txt")
    try sb.write("fakebin/git", "#!/bin/sh\nenv >> \"\(dump)\"\necho '--' >> \"\(dump)\"\nexec /usr/bin/git \"$@\"\n")
    chmod(sb.path("fakebin/git"), 0o755)
    try git(["init", "-q"], in: sb.dir.path)
    try git(["config", "user.email", "t@example.com"], in: sb.dir.path)
    try git(["config", "user.name", "t"], in: sb.dir.path)
    try sb.write(".gitattributes", ".coffer/vault/*.vault merge=coffer\n")
    try sb.write("notes.txt", "nothing secret\n")
    try git(["add", "."], in: sb.dir.path)
    try git(["commit", "-q", "-m", "first"], in: sb.dir.path)
    let env = [
      "PATH": sb.path("fakebin") + ":/usr/local/bin:/usr/bin:/bin", "COFFER_IDENTITY": keyText,
      "COFFER_IDENTITY_FILE": sb.identityFile.path, "FR11_ORDINARY": "kept",
    ]
    func clean(_ text: String) -> Bool {
      !text.split(separator: "\n").contains { $0.hasPrefix("COFFER_IDENTITY=") || $0.hasPrefix("COFFER_IDENTITY_FILE=") }
        && !text.contains(keyText)
    }
    // git children.
    let gitCases: [[String]] = [
      ["set", "--undeclared", "API_TOKEN", "--env", "development", "--value", "v2", "--undeclared"],  // the merge-driver check on a vault write
      ["init", "--merge-driver"], ["scan"], ["scan", "--staged"], ["scan", "--history"], ["hook", "install"],
      ["setup-repo", "--name", sb.path("new-repo")],
    ]
    for args in gitCases {
      try? FileManager.default.removeItem(atPath: dump)
      let r = sb.run(args, env: env)
      #expect(r.status == 0 || (args[0] == "scan" && r.status == 1), "\(args.joined(separator: " ")): \(r.status) \(r.stderr)")
      let seen = (try? String(contentsOfFile: dump, encoding: .utf8)) ?? ""
      #expect(seen.contains("FR11_ORDINARY=kept\n"), "\(args.joined(separator: " ")) did not start git")
      #expect(clean(seen), "\(args.joined(separator: " ")): git inherited the identity")
    }
    // run's command and run --redact's child.
    let runCases: [[String]] = [
      ["run", "--allow-missing", "--env", "development", "--", "env"], ["run", "--allow-missing", "-e", "development", "env"],
      ["run", "--allow-missing", "--env", "staging", "--", "env"],  // no vault there: the no-secrets path
      ["run", "--allow-missing", "--redact", "--env", "development", "--", "env"],
      ["run", "--allow-missing", "--allow-partial", "--redact", "--", "env"],
    ]
    for args in runCases {
      let r = sb.run(args, env: env)
      expectStatus(r, 0, args.joined(separator: " "))
      #expect(r.out.contains("FR11_ORDINARY=kept\n"), "\(args.joined(separator: " ")): \(r.stderr)")
      #expect(clean(r.out), "\(args.joined(separator: " ")): the command inherited the identity")
    }
  }
}
