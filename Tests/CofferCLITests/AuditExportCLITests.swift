import Crypto
import Foundation
import Testing

/// Issue 18 section 4: `coffer audit export` (the log's lines with their hashes, to stdout or a file) and
/// `coffer audit verify FILE` on an exported file; the generated workflow runs exactly that command.
@Suite struct AuditExportCLITests {
  static let genesis = String(repeating: "0", count: 64)

  static func sha(_ line: String) -> String {
    SHA256.hash(data: Data(line.utf8)).map { String(format: "%02x", $0) }.joined()
  }

  static func lines(_ text: String) -> [String] { text.split(separator: "\n").map(String.init) }

  static func lines(file path: String) throws -> [String] { lines(try String(contentsOfFile: path, encoding: .utf8)) }

  static func write(_ lines: [String], to path: String) throws {
    try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: false, encoding: .utf8)
  }

  /// A project with three writes at fixed times (one a minute from 2026-11-02T10:00:00Z).
  static func box() throws -> (box: Sandbox, log: String) {
    let box = try Sandbox(manifest: basicManifest)
    let log = box.run(["audit", "path"]).out.trimmingCharacters(in: .newlines)
    for (i, name) in ["OPENAI_API_KEY", "DATABASE_URL", "LOG_LEVEL"].enumerated() {
      let r = box.run(["set", "--undeclared", name, "--env", "development"], stdin: Data("value-\(i)".utf8), env: ["COFFER_NOW": "2026-11-02T10:0\(i):00Z"])
      #expect(r.status == 0)
    }
    return (box, log)
  }

  static let now = ["COFFER_NOW": "2026-11-03T08:00:00Z"]

  @Test func exportToStdoutAndToAFileVerifies() throws {
    let (box, log) = try Self.box()
    let stored = try Self.lines(file: log)
    #expect(stored.count == 3)
    let r = box.run(["audit", "export"], env: Self.now)
    #expect(r.status == 0)
    #expect(r.stderr == "")
    let last = Self.sha(stored[2])
    #expect(r.out == """
      {"export":"coffer-audit/v1","after_seq":0,"after_hash":"\(Self.genesis)","since":null,"exported_at":"2026-11-03T08:00:00Z"}
      \(stored.joined(separator: "\n"))
      {"export_end":"coffer-audit/v1","lines":3,"last_seq":3,"last_hash":"\(last)","head":"verified"}

      """)
    let f = box.run(["audit", "export", "-o", "audit.jsonl"], env: Self.now)
    #expect(f.status == 0)
    #expect(f.out == "")
    #expect(f.stderr == "coffer: wrote 3 audit entries to audit.jsonl\n")
    #expect(String(decoding: try box.read("audit.jsonl"), as: UTF8.self) == r.out)
    let mode = try FileManager.default.attributesOfItem(atPath: box.path("audit.jsonl"))[.posixPermissions] as? Int
    #expect(mode == 0o600)
    let ok = "starts at the beginning of the log\nok: 3 entries (lines 1-3), chain intact, ends with hash \(last)\n"
    for args in [["audit", "verify", "audit.jsonl"], ["audit", "verify", "--file", "audit.jsonl"]] {
      let v = box.run(args)
      #expect(v.status == 0)
      #expect(v.out == ok)
      #expect(v.stderr == "")
    }
    // Verifying a file needs no project and no identity: the artifact can be checked anywhere.
    let elsewhere = box.run(
      ["audit", "verify", box.path("audit.jsonl")], env: ["COFFER_IDENTITY_FILE": "/nonexistent"],
      cwd: URL(fileURLWithPath: "/"))
    #expect(elsewhere.status == 0)
    #expect(elsewhere.out == ok)
    // Both forms at once is a usage error.
    let both = box.run(["audit", "verify", "audit.jsonl", "--file", "audit.jsonl"])
    #expect(both.status == 2)
    #expect(both.stderr == "coffer: error: give the exported file once: as FILE or as --file\ncoffer: hint: coffer audit verify coffer-audit.jsonl\n")
  }

  /// An existing file keeps its mode and owner.
  @Test func anExistingFileKeepsItsModeAndOwner() throws {
    let (box, _) = try Self.box()
    try box.write("audit.jsonl", "old\n")
    let path = box.path("audit.jsonl")
    #expect(chmod(path, 0o640) == 0)
    #expect(chown(path, 1234, 4321) == 0)  // the tests run as root (the shared machine and CI's container)
    #expect(box.run(["audit", "export", "-o", "audit.jsonl"]).status == 0)
    let attributes = try FileManager.default.attributesOfItem(atPath: path)
    #expect(attributes[.posixPermissions] as? Int == 0o640)
    #expect(attributes[.ownerAccountID] as? Int == 1234)
    #expect(attributes[.groupOwnerAccountID] as? Int == 4321)
    #expect(box.run(["audit", "verify", "audit.jsonl"]).status == 0)
  }

  /// The sample: a field edited in an exported file; neighbours: lines cut at the end, two lines swapped, the end
  /// line removed, a line deleted in the middle.
  @Test func aTamperedExportFailsVerifyNamingTheLine() throws {
    let (box, _) = try Self.box()
    #expect(box.set("OPENAI_API_KEY", "value-4").status == 0)
    #expect(box.run(["audit", "export", "-o", "audit.jsonl"]).status == 0)
    let good = try Self.lines(file: box.path("audit.jsonl"))
    #expect(good.count == 6)
    let start = "starts at the beginning of the log\n"
    let file = "audit.jsonl"
    let cases: [(String, [String], String)] = [
      ("edited", { var l = good; l[2] = l[2].replacingOccurrences(of: #""os_user":"tester""#, with: #""os_user":"mallory""#); return l }(),
       "\(file): line 3: edited after it was written\n"),
      ("truncated", { var l = good; l.removeSubrange(3...4); return l }(),
       "\(file): 2 lines missing at the end (the export was truncated)\n"),
      ("reordered", { var l = good; l.swapAt(2, 3); return l }(),
       "\(file): line 3: one or more lines before it were deleted\n\(file): line 4: out of order or inserted\n"
         + "\(file): line 5: one or more lines before it were deleted\n"),
      ("end removed", Array(good.dropLast()),
       "\(file): the end line is missing (the export was cut short, or lines were added after it)\n"),
      ("deleted", { var l = good; l.remove(at: 2); return l }(),
       "\(file): line 3: one or more lines before it were deleted\n"),
    ]
    for (what, lines, expected) in cases {
      try Self.write(lines, to: box.path(file))
      let v = box.run(["audit", "verify", file])
      #expect(v.status == 1, "\(what)")
      #expect(v.out == start + expected, "\(what)")
      #expect(v.stderr == "", "\(what)")
    }
    // The log itself, copied as is: checked from its first line, with a note that its end cannot be vouched for.
    let log = box.run(["audit", "path"]).out.trimmingCharacters(in: .newlines)
    let raw = box.run(["audit", "verify", log])
    #expect(raw.status == 0)
    #expect(raw.stderr == "coffer: \(log) has no export header or end line (a segment copied as is): lines removed at its end cannot be detected\n")
    #expect(raw.out == "starts at the beginning of the log\nok: 4 entries (lines 1-4), chain intact, ends with hash \(Self.sha(good[4]))\n")
    // Not a log at all.
    try box.write("notes.txt", "hello\n")
    let notes = box.run(["audit", "verify", "notes.txt"])
    #expect(notes.status == 1)
    #expect(notes.out == "notes.txt: line 1: not a coffer audit export (the first line is not its header)\n")
  }

  /// A log that does not verify is exported as stored, with a warning; the export's verification names the line.
  @Test func aTamperedLogIsExportedAsStoredWithAWarning() throws {
    let (box, log) = try Self.box()
    var stored = try Self.lines(file: log)
    stored[1] = stored[1].replacingOccurrences(of: #""os_user":"tester""#, with: #""os_user":"mallory""#)
    try Self.write(stored, to: log)
    let r = box.run(["audit", "export", "-o", "audit.jsonl"])
    #expect(r.status == 0)
    #expect(r.stderr == """
      coffer: warning: the audit log \(log) does not verify (1 problem); exported as stored: `coffer audit verify` says where
      coffer: wrote 3 audit entries to audit.jsonl

      """)
    #expect(Array(try Self.lines(file: box.path("audit.jsonl"))[1...3]) == stored)
    let v = box.run(["audit", "verify", "audit.jsonl"])
    #expect(v.status == 1)
    #expect(v.out == "starts at the beginning of the log\naudit.jsonl: line 3: edited after it was written\n")
  }

  /// `--since` exports a suffix that still verifies and says where it starts; neighbours: a date, a time after
  /// every entry, an invalid time.
  @Test func aSliceSinceATimeVerifies() throws {
    let (box, log) = try Self.box()
    let stored = try Self.lines(file: log)
    let r = box.run(["audit", "export", "--since", "2026-11-02T10:01:00Z", "-o", "slice.jsonl"], env: Self.now)
    #expect(r.status == 0)
    #expect(r.stderr == "coffer: wrote 2 audit entries to slice.jsonl\n")
    let slice = try Self.lines(file: box.path("slice.jsonl"))
    #expect(slice[0] == #"{"export":"coffer-audit/v1","after_seq":1,"after_hash":"\#(Self.sha(stored[0]))","since":"2026-11-02T10:01:00Z","exported_at":"2026-11-03T08:00:00Z"}"#)
    #expect(Array(slice[1...2]) == Array(stored[1...2]))
    let v = box.run(["audit", "verify", "slice.jsonl"])
    #expect(v.status == 0)
    #expect(v.out == "starts after line 1 with hash \(Self.sha(stored[0]))\nok: 2 entries (lines 2-3), chain intact, ends with hash \(Self.sha(stored[2]))\n")
    // A date means its midnight: every entry of that day.
    let day = box.run(["audit", "export", "--since", "2026-11-02"])
    #expect(Self.lines(day.out).count == 5)
    // After every entry: nothing exported, starting after the last line.
    try? FileManager.default.removeItem(atPath: box.path("slice.jsonl"))
    #expect(box.run(["audit", "export", "--since", "2026-12-01T00:00:00Z", "-o", "slice.jsonl"]).status == 0)
    let empty = box.run(["audit", "verify", "slice.jsonl"])
    #expect(empty.status == 0)
    #expect(empty.out == "starts after line 3 with hash \(Self.sha(stored[2]))\nok: 0 entries, chain intact\n")
    for bad in ["yesterday", "2026-13-01", ""] {
      let e = box.run(["audit", "export", "--since", bad, "-o", "bad.jsonl"])
      #expect(e.status == 2)
      #expect(e.stderr == "coffer: error: --since: expected a time like 2026-11-01T00:00:00Z or a date like 2026-11-01\n")
      #expect(!box.exists("bad.jsonl"))
    }
  }

  /// Every segment, in order: the export is the concatenation of the segment files; after a prune it starts after
  /// the removed lines and reports the prune.
  @Test func anExportSpansEverySegment() throws {
    let box = try Sandbox(manifest: basicManifest)
    box.extraEnvironment["COFFER_AUDIT_SEGMENT_BYTES"] = "1500"
    let log = box.run(["audit", "path"]).out.trimmingCharacters(in: .newlines)
    for i in 0..<12 { #expect(box.set(String(format: "S%02d", i), "v\(i)").status == 0) }
    let segments = (1...5).map { log + String(format: ".%06d", $0) } + [log]
    #expect(segments.allSatisfy { FileManager.default.fileExists(atPath: $0) })
    let stored = try segments.flatMap { try Self.lines(file: $0) }
    #expect(stored.count == 17)
    let r = box.run(["audit", "export"])
    #expect(r.status == 0)
    let exported = Self.lines(r.out)
    #expect(Array(exported[1...17]) == stored)
    #expect(exported[18] == #"{"export_end":"coffer-audit/v1","lines":17,"last_seq":17,"last_hash":"\#(Self.sha(stored[16]))","head":"verified"}"#)
    try r.out.write(toFile: box.path("all.jsonl"), atomically: false, encoding: .utf8)
    let v = box.run(["audit", "verify", "all.jsonl"])
    #expect(v.status == 0)
    #expect(v.out == "starts at the beginning of the log\nok: 17 entries (lines 1-17), chain intact, ends with hash \(Self.sha(stored[16]))\n")
    // A closed segment copied as is verifies on its own, from the line before it.
    let second = try Self.lines(file: segments[1])
    let seg = box.run(["audit", "verify", segments[1]])
    #expect(seg.status == 0)
    #expect(seg.out == """
      starts after line 3 with hash \(Self.sha(stored[2]))
      ok: \(second.count) entries (lines 4-\(3 + second.count)), chain intact, ends with hash \(Self.sha(second.last!))

      """)
    // Pruned to the newest 2 segments: the export starts after the last removed line and names the prune.
    let prune = box.run(["audit", "prune", "--keep", "2"], env: Self.now)
    #expect(prune.out == "pruned: segments 1-4 (lines 1-12)\n")
    #expect(box.run(["audit", "export", "-o", "kept.jsonl"]).status == 0)
    let kept = box.run(["audit", "verify", "kept.jsonl"])
    #expect(kept.status == 0)
    let after = try Self.lines(file: log)
    #expect(kept.out == """
      starts after line 12 with hash \(Self.sha(stored[11]))
      pruned: segments 1-4 (lines 1-12) removed at 2026-11-03T08:00:00Z by \(box.recipient) (os user tester)
      ok: 6 entries (lines 13-18), chain intact, ends with hash \(Self.sha(after.last!))

      """)
  }

  /// Like `export -o`: the manifest and anything under .coffer/ are refused, nothing is written.
  @Test(arguments: ["coffer.yaml", ".coffer/audit.jsonl", ".coffer", "./sub/../.coffer/x.jsonl", "./coffer.yaml"])
  func exportRefusesCoffersOwnFiles(target: String) throws {
    let (box, _) = try Self.box()
    try FileManager.default.createDirectory(atPath: box.path("sub"), withIntermediateDirectories: true)
    let manifest = try box.read("coffer.yaml")
    let before = (try? FileManager.default.subpathsOfDirectory(atPath: box.path(".coffer")))?.sorted()
    let r = box.run(["audit", "export", "-o", target])
    #expect(r.status == 2)
    #expect(r.out == "")
    #expect(r.stderr == """
      coffer: error: refusing to write the audit export to \(target): Coffer's own files are committed to git
      coffer: hint: write it outside .coffer/, such as coffer-audit.jsonl

      """)
    #expect(try box.read("coffer.yaml") == manifest)
    #expect((try? FileManager.default.subpathsOfDirectory(atPath: box.path(".coffer")))?.sorted() == before)
  }

  /// Canary: planted values read by get, export and run never reach the exported file, its verification, or any
  /// message of either command.
  @Test func noPlantedValueReachesAnExport() throws {
    let sb = try plantedSandbox()
    for args in [["get", "SIMPLE_TOKEN", "--env", "development"], ["export", "--env", "development"], ["run", "--allow-missing", "--env", "development", "--", "true"]] {
      expectStatus(sb.run(args), 0, args.joined(separator: " "))
    }
    let out = sb.run(["audit", "export"])
    expectStatus(out, 0, "audit export")
    expectNoLeak(out, "audit export")
    let file = sb.run(["audit", "export", "-o", "audit.jsonl", "--verbose"])
    expectStatus(file, 0, "audit export -o")
    expectNoLeak(file, "audit export -o")
    expectFileClean(try sb.read("audit.jsonl"), "the exported audit log")
    let v = sb.run(["audit", "verify", "audit.jsonl"])
    expectStatus(v, 0, "audit verify FILE")
    expectNoLeak(v, "audit verify FILE")
    // A tampered file's messages name lines, never their content.
    var lines = try Self.lines(file: sb.path("audit.jsonl"))
    #expect(lines[2].contains(#""os_user":"tester""#))
    lines[2] = lines[2].replacingOccurrences(of: #""os_user":"tester""#, with: "\"os_user\":\"" + Canaries.simple.text + "\"")
    try Self.write(lines, to: sb.path("audit.jsonl"))
    let bad = sb.run(["audit", "verify", "audit.jsonl"])
    expectStatus(bad, 1, "audit verify FILE (tampered)")
    expectNoLeak(bad, "audit verify FILE (tampered)")
    let refused = sb.run(["audit", "export", "--since", Canaries.simple.text])
    expectStatus(refused, 2, "audit export --since VALUE")
    expectNoLeak(refused, "audit export --since VALUE")
  }

  /// The workflow `init --ci github` writes runs exactly this command: run its line as written, in a fresh
  /// project with no audit entries (a runner whose sync failed early) and after entries, without an identity.
  @Test func theWorkflowsExportCommandExistsAndVerifies() throws {
    let box = try Sandbox(manifest: basicManifest + """
      destinations:
        gh: { type: github, repository: acme/api, from: production }

      """)
    #expect(box.run(["init", "--ci", "github"]).status == 0)
    let workflow = String(decoding: try box.read(".github/workflows/coffer-sync.yml"), as: UTF8.self)
    let runs = workflow.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
      .filter { $0.hasPrefix("run: coffer audit") }
    #expect(runs == ["run: coffer audit export -o coffer-audit.jsonl"])
    let args = Array(try #require(runs.first).dropFirst("run: ".count).split(separator: " ").dropFirst().map(String.init))
    #expect(args == ["audit", "export", "-o", "coffer-audit.jsonl"])
    let empty = box.run(args, env: ["COFFER_IDENTITY_FILE": "/nonexistent"])
    #expect(empty.status == 0)
    #expect(empty.stderr == "coffer: wrote 0 audit entries to coffer-audit.jsonl\n")
    #expect(box.run(["audit", "verify", "coffer-audit.jsonl"]).out == "starts at the beginning of the log\nok: 0 entries, chain intact\n")
    #expect(box.set("OPENAI_API_KEY", "sk-1", env: "production").status == 0)
    #expect(box.run(["get", "OPENAI_API_KEY", "--env", "production"]).status == 0)
    let again = box.run(args, env: ["COFFER_IDENTITY_FILE": "/nonexistent"])
    #expect(again.status == 0)
    #expect(again.stderr == "coffer: wrote 2 audit entries to coffer-audit.jsonl\n")
    let exported = try Self.lines(file: box.path("coffer-audit.jsonl"))
    #expect(exported.last?.hasSuffix(#","head":"unauthenticated"}"#) == true)
    let v = box.run(["audit", "verify", "coffer-audit.jsonl"])
    #expect(v.status == 0)
    #expect(v.out.hasSuffix("ok: 2 entries (lines 1-2), chain intact, ends with hash \(Self.sha(exported[2]))\n"))
    // Every flag the workflow passes is one `audit export --help` documents.
    let help = box.run(["audit", "export", "--help"]).out
    #expect(help.contains("-o, --output <file>"))
    #expect(help.contains("--since <time>"))
    #expect(help.contains("--project <dir>"))
  }

  /// The generated workflow's job: a sync from the vault, then `sync --from-env` in the same job, then the export.
  /// With the CI identity in both steps (as `init --ci github` writes them) the job's log is one chain that
  /// verifies; a second step without it keys the head with nothing, so the next append records a log gap, which
  /// `audit verify` reports.
  @Test func aVaultSyncThenAFromEnvSyncExportOneChain() throws {
    let manifest = """
      version: 1
      project: ci-job
      environments: [production]
      secrets:
        API_KEY: {}
      destinations:
        from-vault: { type: dotenv, path: vault.env, from: production }
        from-github: { type: dotenv, path: github.env, from: production }

      """
    for withIdentity in [true, false] {
      let box = try Sandbox(manifest: manifest)
      #expect(box.set("API_KEY", "from-the-vault", env: "production").status == 0)
      expectStatus(box.run(["sync", "--to", "from-vault"]), 0, "sync from the vault")
      let second = box.run(
        ["sync", "--from-env", "--to", "from-github"],
        env: withIdentity ? ["API_KEY": "from-github"] : ["API_KEY": "from-github", "COFFER_IDENTITY_FILE": "/nonexistent"])
      expectStatus(second, 0, "sync --from-env")
      expectStatus(box.run(["audit", "export", "-o", "coffer-audit.jsonl"]), 0, "audit export")
      let verify = box.run(["audit", "verify", box.path("coffer-audit.jsonl")], env: ["COFFER_IDENTITY_FILE": "/nonexistent"])
      expectStatus(verify, withIdentity ? 0 : 1, "audit verify of the job's export (identity in both steps: \(withIdentity))")
    }
  }
}
