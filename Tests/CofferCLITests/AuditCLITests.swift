import Foundation
import Testing

/// The audit log as the CLI writes it: every read and write recorded, never a value, and no operation unrecorded.
@Suite struct AuditCLITests {
  @Test func readsAndWritesAreRecordedWithFingerprintsNotValues() throws {
    let box = try Sandbox(manifest: basicManifest)
    let canary = "canary-audit-5f2e9d-VALUE"
    box.set("OPENAI_API_KEY", canary)
    _ = box.run(["get", "OPENAI_API_KEY", "--env", "development"])
    _ = box.run(["export", "--env", "development", "--format", "json"])
    _ = box.run(["run", "--env", "development", "--allow-missing", "--", "true"])
    _ = box.run(["rm", "OPENAI_API_KEY", "--env", "development"])
    let path = box.run(["audit", "path"]).out.trimmingCharacters(in: .newlines)
    #expect(path.hasPrefix(box.dir.appendingPathComponent("home/.local/state/coffer/audit/").path))
    let log = try String(contentsOfFile: path, encoding: .utf8)
    #expect(!log.contains(canary))
    let lines = log.split(separator: "\n").map { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    #expect(lines.map { $0?["action"] as? String } == ["write", "read", "export", "run", "delete"])
    #expect(lines.map { $0?["actor"] as? String }.allSatisfy { $0?.hasPrefix("age1") == true })
    #expect(lines.map { $0?["os_user"] as? String }.allSatisfy { $0 == "tester" })
    let fp = (lines[0]?["fingerprints"] as? [String: String])?["OPENAI_API_KEY"]
    #expect(fp?.count == 64)
    #expect((lines[1]?["fingerprints"] as? [String: String])?["OPENAI_API_KEY"] == fp)
    #expect((lines[3]?["fingerprints"] as? [String: String]) == ["OPENAI_API_KEY": fp ?? ""])
    #expect(lines[4]?["secrets"] as? [String] == ["OPENAI_API_KEY"])
    let verify = box.run(["audit", "verify"])
    #expect(verify.status == 0)
    #expect(verify.out == "ok: 5 entries, chain intact, head verified\n")
    let shown = box.run(["audit", "--name", "OPENAI_API_KEY", "--json"])
    #expect(shown.out.split(separator: "\n").count == 5)
  }

  /// `run` records the recipient (it does not read the manifest); the table names it as the manifest does, and
  /// `--json` keeps the stored bytes.
  @Test func theTableNamesRecipientsTheManifestNames() throws {
    let box = try Sandbox()
    try box.write("coffer.yaml", basicManifest + "recipients:\n  alice: \(box.recipient)\n")
    box.set("OPENAI_API_KEY", "sk-audit-actor")
    #expect(box.run(["run", "--env", "development", "--allow-missing", "--", "true"]).status == 0)
    let stored = box.run(["audit", "--json"]).out.split(separator: "\n")
      .map { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    #expect(stored.map { $0?["actor"] as? String } == ["alice", box.recipient])
    let table = box.run(["audit"]).out.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true) }
    #expect(table.map { $0.count > 1 ? String($0[1]) : "" } == ["ACTOR", "alice", "alice"])
    #expect(table.map { $0.count > 3 ? String($0[3]) : "" } == ["ACTION", "write", "run"])
  }

  /// Above 20 values a read records a count and one fingerprint of the whole set; `run` computes it while streaming
  /// the values into the child's environment, `export` from the values it holds: they must agree.
  @Test func largeReadsRecordOneSetFingerprint() throws {
    let box = try Sandbox(manifest: basicManifest)
    let env = (0..<65).map { String(format: "BULK_%02d=value-%02d\n", $0, $0) }.joined()
    try env.write(to: box.dir.appendingPathComponent("bulk.env"), atomically: true, encoding: .utf8)
    #expect(box.run(["import", "bulk.env", "--env", "development"]).status == 0)
    #expect(box.run(["run", "--env", "development", "--allow-missing", "--include-undeclared", "--", "true"]).status == 0)
    #expect(box.run(["export", "--env", "development", "--format", "json"]).status == 0)
    let path = box.run(["audit", "path"]).out.trimmingCharacters(in: .newlines)
    let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
      .map { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    let run = try #require(lines.first { $0?["action"] as? String == "run" } ?? nil)
    let export = try #require(lines.first { $0?["action"] as? String == "export" } ?? nil)
    #expect(run["secrets"] as? [String] == [])
    #expect(run["count"] as? Int == 65)
    let runPrint = try #require(run["fingerprints"] as? [String: String])
    #expect(runPrint.keys.sorted() == ["*"])
    #expect(runPrint["*"]?.count == 64)
    #expect(export["fingerprints"] as? [String: String] == runPrint)
  }

  @Test func tamperingIsReportedByLine() throws {
    let box = try Sandbox(manifest: basicManifest)
    for i in 0..<4 { box.set("S\(i)", "v\(i)") }
    let path = box.run(["audit", "path"]).out.trimmingCharacters(in: .newlines)
    let original = try String(contentsOfFile: path, encoding: .utf8)
    var lines = original.split(separator: "\n").map(String.init)
    lines.remove(at: 1)
    try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    let deleted = box.run(["audit", "verify"])
    #expect(deleted.status == 1)
    #expect(deleted.out == "\(path): line 2: one or more lines before it were deleted\n")
    // Truncating the end is caught by the authenticated head.
    let all = original.split(separator: "\n").map(String.init)
    try (all.prefix(2).joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    let truncated = box.run(["audit", "verify"])
    #expect(truncated.status == 1)
    #expect(truncated.out == "\(path): 2 lines missing at the end (the log was truncated)\n")
    // The next command does not erase that: its append finds the head's line gone and records the gap first.
    box.set("S9", "v9")
    let after = box.run(["audit", "verify"])
    #expect(after.status == 1)
    #expect(after.out == "\(path): line 3: recorded when appended: the log no longer held line 4 as its head recorded it (it ended at line 2): lines were removed or edited outside coffer\n")
    let actions = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
      .map { (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["action"] as? String }
    #expect(actions == ["write", "write", "log-gap", "write"])
    // Nor does deleting the head as well.
    try (all.prefix(2).joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    try FileManager.default.removeItem(atPath: path + ".head")
    box.set("S10", "v10")
    let headless = box.run(["audit", "verify"])
    #expect(headless.status == 1)
    #expect(headless.out == "\(path): line 3: recorded when appended: the log had no head: lines before this one may have been removed\n")
    // A crash between the log write and the head write (the log one line longer than its head) is not a gap.
    let clean = try Sandbox(manifest: basicManifest)
    clean.set("A", "v1")
    let cleanPath = clean.run(["audit", "path"]).out.trimmingCharacters(in: .newlines)
    let staleHead = try Data(contentsOf: URL(fileURLWithPath: cleanPath + ".head"))
    clean.set("B", "v2")
    try staleHead.write(to: URL(fileURLWithPath: cleanPath + ".head"))
    clean.set("C", "v3")
    let crash = clean.run(["audit", "verify"])
    #expect(crash.status == 0)
    #expect(crash.out == "ok: 3 entries, chain intact, head verified\n")
  }

  @Test func anUnwritableLogStopsTheOperation() throws {
    let box = try Sandbox(manifest: basicManifest)
    box.set("A", "secret-value-1")
    let before = try box.read(".coffer/vault/development.vault")
    let blocked = ["COFFER_AUDIT_LOG": box.dir.path]  // a directory: cannot be opened as a log
    let write = box.run(["set", "A", "--undeclared", "--env", "development"], stdin: Data("secret-value-2".utf8), env: blocked)
    #expect(write.status == 3)
    #expect(write.stderr.contains("coffer: error: cannot write audit log \(box.dir.path): "))
    #expect(try box.read(".coffer/vault/development.vault") == before)
    let read = box.run(["get", "A", "--env", "development"], env: blocked)
    #expect(read.status == 3)
    #expect(read.out == "")
    let run = box.run(["run", "--env", "development", "--allow-missing", "--", "echo", "ran"], env: blocked)
    #expect(run.status == 3)
    #expect(run.out == "")
  }
}
