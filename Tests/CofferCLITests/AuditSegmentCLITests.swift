import Foundation
import Testing

/// The audit log's bounded size (docs/audit.md): large sets recorded as a count and a set fingerprint, segments that
/// close at a size limit and chain by hash, and pruning that is itself audited.
@Suite struct AuditSegmentCLITests {
  /// A sandbox whose audit log closes segments at `limit` bytes.
  static func box(limit: Int? = 1500) throws -> (box: Sandbox, log: String) {
    let box = try Sandbox(manifest: basicManifest)
    if let limit { box.extraEnvironment["COFFER_AUDIT_SEGMENT_BYTES"] = String(limit) }
    let log = box.run(["audit", "path"]).out.trimmingCharacters(in: .newlines)
    return (box, log)
  }

  static func records(_ text: String) -> [[String: Any]] {
    text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
  }

  static func lines(_ path: String) throws -> [String] {
    try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
  }

  static func write(_ lines: [String], to path: String) throws {
    try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: false, encoding: .utf8)
  }

  /// The closed segment files beside the log, by name.
  static func closed(_ log: String) -> [String] {
    let dir = (log as NSString).deletingLastPathComponent
    let base = (log as NSString).lastPathComponent + "."
    return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [])
      .filter { $0.hasPrefix(base) && $0.dropFirst(base.count).allSatisfy(\.isNumber) }.sorted()
  }

  /// Writes `n` secrets, one audit line each, in the development environment.
  static func writes(_ box: Sandbox, _ range: Range<Int>) {
    for i in range { box.set(String(format: "S%02d", i), "v\(i)") }
  }

  @Test func aRunOfAThousandSecretsRecordsACountAndNoNames() throws {
    let (box, log) = try Self.box(limit: nil)
    let env = (0..<1000).map { String(format: "SERVICE_%04d_API_KEY=value-%04d\n", $0, $0) }.joined()
    try box.write("bulk.env", env)
    #expect(box.run(["import", "bulk.env", "--env", "development"]).status == 0)
    #expect(box.run(["run", "--allow-missing", "--include-undeclared", "--env", "development", "--", "true"]).status == 0)
    #expect(box.run(["run", "--allow-missing", "--include-undeclared", "--env", "development", "--redact", "--", "true"]).status == 0)
    #expect(box.run(["export", "--env", "development", "--format", "json", "-o", "out.json"]).status == 0)
    #expect(box.run(["check", "--env", "development"]).status == 1)
    #expect(box.run(["run", "--allow-missing", "--include-undeclared", "--env", "development", "--audit-names", "--", "true"]).status == 0)
    let text = try String(contentsOfFile: log, encoding: .utf8)
    let lines = text.split(separator: "\n")
    let records = Self.records(text)
    #expect(records.map { $0["action"] as? String } == ["import", "run", "run", "redact", "export", "check", "run"])
    // Every line but the asked-for one: no name, the count, one set fingerprint (none for redact and check), a few
    // hundred bytes.
    for i in 0..<6 {
      #expect(records[i]["secrets"] as? [String] == [])
      #expect(records[i]["count"] as? Int == 1000)
      #expect(!lines[i].contains("SERVICE_"))
      #expect(lines[i].utf8.count < 600)
    }
    let setPrint = try #require((records[1]["fingerprints"] as? [String: String])?["*"])
    #expect(setPrint.count == 64)
    for i in [0, 1, 2, 4] { #expect(records[i]["fingerprints"] as? [String: String] == ["*": setPrint]) }
    for i in [3, 5] { #expect(records[i]["fingerprints"] as? [String: String] == [:]) }
    // Asked for: every name, still one set fingerprint.
    #expect((records[6]["secrets"] as? [String])?.count == 1000)
    #expect(records[6]["count"] == nil)
    #expect(records[6]["fingerprints"] as? [String: String] == ["*": setPrint])
    #expect(lines[6].utf8.count == 23_396)
    // The bounded line, exactly: 410 bytes for the run of 1,000 (it was over 23 KB with the names).
    #expect(lines[1].utf8.count == 410)
    // The table shows the count.
    let table = box.run(["audit"]).out.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
    #expect(table.map { $0.count > 5 ? $0[5] : "" }.prefix(3) == ["SECRETS", "(1000)", "(1000)"])
    #expect(box.run(["audit", "verify"]).out == "ok: 7 entries, chain intact, head verified\n")
  }

  /// Up to 20 secrets are named with a fingerprint each; 21 are counted.
  @Test func smallSetsAreNamedAndTwentyOneAreCounted() throws {
    for (n, named) in [(1, true), (20, true), (21, false)] {
      let (box, log) = try Self.box(limit: nil)
      try box.write("few.env", (0..<n).map { String(format: "K%02d=value-%02d\n", $0, $0) }.joined())
      #expect(box.run(["import", "few.env", "--env", "development"]).status == 0)
      #expect(box.run(["run", "--allow-missing", "--include-undeclared", "--env", "development", "--", "true"]).status == 0)
      let records = Self.records(try String(contentsOfFile: log, encoding: .utf8))
      #expect(records.count == 2)
      for r in records {
        let expectedNames = named ? (0..<n).map { String(format: "K%02d", $0) } : []
        #expect(r["secrets"] as? [String] == expectedNames)
        #expect(r["count"] as? Int == (named ? nil : n))
        #expect((r["fingerprints"] as? [String: String])?.keys.sorted() == (named ? expectedNames : ["*"]))
      }
    }
  }

  @Test func segmentsRollOverAtTheLimitAndVerifyAcrossThem() throws {
    let (box, log) = try Self.box(limit: 1500)
    Self.writes(box, 0..<12)
    let closed = Self.closed(log)
    #expect(closed.map { String($0.suffix(6)) } == ["000001", "000002", "000003", "000004", "000005"])
    let dir = (log as NSString).deletingLastPathComponent
    for name in closed {
      let size = try FileManager.default.attributesOfItem(atPath: dir + "/" + name)[.size] as? Int ?? -1
      #expect(size <= 1500 && size > 1000)
      let mode = try FileManager.default.attributesOfItem(atPath: dir + "/" + name)[.posixPermissions] as? Int
      #expect(mode == 0o600)
    }
    // Each later segment opens with the link to the one before.
    let second = Self.records(try String(contentsOfFile: log + ".000002", encoding: .utf8))
    #expect(second.first?["action"] as? String == "segment")
    let sha = try Data(contentsOf: URL(fileURLWithPath: log + ".000001"))
    #expect((second.first?["detail"] as? String)?.hasPrefix("segment 2 follows segment 1: \(sha.count) bytes to line 3, sha256 ") == true)
    let verify = box.run(["audit", "verify"])
    #expect(verify.status == 0)
    #expect(verify.out == "ok: 17 entries in 6 segments, chain intact, head verified\n")
    // `audit --json` and the table read every segment, in order.
    let all = Self.records(box.run(["audit", "--json"]).out)
    #expect(all.map { $0["seq"] as? Int } == Array(1...17))
    #expect(all.map { $0["action"] as? String }.filter { $0 == "segment" }.count == 5)
    #expect(all.filter { $0["action"] as? String == "write" }.count == 12)
    #expect(box.run(["audit", "--name", "S00", "--json"]).out.split(separator: "\n").count == 1)
    #expect(box.run(["audit"]).out.split(separator: "\n").count == 18)
  }

  /// The same attacks on a closed middle segment: edited, truncated, deleted, reordered.
  @Test func tamperingWithAMiddleSegmentIsNamed() throws {
    let (box, log) = try Self.box(limit: 1500)
    Self.writes(box, 0..<12)
    let second = log + ".000002"
    let third = log + ".000003"
    let original = try Self.lines(second)
    // Edited: a field changed in the middle of segment 2.
    var edited = original
    edited[1] = edited[1].replacingOccurrences(of: #""os_user":"tester""#, with: #""os_user":"mallory""#)
    try Self.write(edited, to: second)
    var r = box.run(["audit", "verify"])
    #expect(r.status == 1)
    #expect(r.out == "\(second): line 2: edited after it was written\n\(second): changed after it closed (its SHA-256 differs from the one segment 3 recorded)\n")
    // Truncated: its last line removed.
    try Self.write(Array(original.dropLast()), to: second)
    r = box.run(["audit", "verify"])
    #expect(r.out == "\(second): changed after it closed (its SHA-256 differs from the one segment 3 recorded)\n")
    // Reordered: segments 2 and 3 swapped.
    try Self.write(original, to: second)
    let thirdLines = try Self.lines(third)
    try Self.write(thirdLines, to: second)
    try Self.write(original, to: third)
    r = box.run(["audit", "verify"])
    #expect(r.out == "\(second): line 1: this file holds segment 3 (renamed or reordered)\n\(third): line 1: this file holds segment 2 (renamed or reordered)\n\(third): changed after it closed (its SHA-256 differs from the one segment 4 recorded)\n")
    // Deleted.
    try Self.write(thirdLines, to: third)
    try FileManager.default.removeItem(atPath: second)
    r = box.run(["audit", "verify"])
    #expect(r.status == 1)
    #expect(r.out == "\(third): segment 2 is missing and no prune line records the removal\n")
    // An oldest segment removed by hand (not through prune) is named too.
    try FileManager.default.removeItem(atPath: log + ".000001")
    r = box.run(["audit", "verify"])
    #expect(r.out == "\(log): segments 1-2 are missing and no prune line records the removal\n")
    // And prune refuses to tidy that up.
    let prune = box.run(["audit", "prune", "--keep", "1"])
    #expect(prune.status == 1)
    #expect(prune.stderr.contains("coffer: error: the audit log \(log) does not verify: nothing was pruned\n"))
    #expect(FileManager.default.fileExists(atPath: third))
  }

  @Test func pruneIsAuditedAndVerifyStillPasses() throws {
    let (box, log) = try Self.box(limit: 1500)
    Self.writes(box, 0..<12)
    let prune = box.run(["audit", "prune", "--keep", "2"])
    #expect(prune.status == 0)
    #expect(prune.out == "pruned: segments 1-4 (lines 1-12)\n")
    #expect(Self.closed(log).map { String($0.suffix(6)) } == ["000005"])
    let records = Self.records(box.run(["audit", "--json"]).out)
    #expect(records.first?["seq"] as? Int == 13)
    let line = try #require(records.last)
    #expect(line["action"] as? String == "prune")
    #expect(line["actor"] as? String == box.recipient)
    let sha = try #require((line["detail"] as? String)?.split(separator: " ").last)
    #expect(line["detail"] as? String == "removed segments 1-4 (lines 1-12); segment 4 sha256 \(sha)")
    let verify = box.run(["audit", "verify"])
    #expect(verify.status == 0)
    let time = try #require(line["time"] as? String)
    #expect(verify.out == "pruned: segments 1-4 (lines 1-12) removed at \(time) by \(box.recipient) (os user tester)\nok: 6 entries in 2 segments, chain intact, head verified\n")
    // Appends go on; a second prune removes the rest of the closed segments, by date.
    Self.writes(box, 12..<14)
    let byDate = box.run(["audit", "prune", "--before", "2999-01-01"])
    #expect(byDate.status == 0)
    #expect(byDate.out == "pruned: segments 5-6 (lines 13-18)\n")
    // The prune line itself did not fit in segment 7, which closed: segment 8 holds it.
    #expect(Self.closed(log).map { String($0.suffix(6)) } == ["000007"])
    let second = try #require(Self.records(try String(contentsOfFile: log, encoding: .utf8)).last)
    #expect(second["action"] as? String == "prune")
    let secondTime = try #require(second["time"] as? String)
    let who = "by \(box.recipient) (os user tester)"
    // The first prune line went with segment 6; the second one covers what verify needs.
    var after = box.run(["audit", "verify"])
    #expect(after.status == 0)
    #expect(after.out == "pruned: segments 5-6 (lines 13-18) removed at \(secondTime) \(who)\nok: 5 entries in 2 segments, chain intact, head verified\n")
    let third = box.run(["audit", "prune", "--keep", "1"])
    #expect(third.out == "pruned: segment 7 (lines 19-21)\n")
    #expect(Self.closed(log) == [])
    let thirdTime = try #require(Self.records(try String(contentsOfFile: log, encoding: .utf8)).last?["time"] as? String)
    after = box.run(["audit", "verify"])
    #expect(after.status == 0)
    #expect(after.out == "pruned: segments 5-6 (lines 13-18) removed at \(secondTime) \(who)\npruned: segment 7 (lines 19-21) removed at \(thirdTime) \(who)\nok: 3 entries, chain intact, head verified\n")
    // Nothing left to prune: a note, no line.
    let nothing = box.run(["audit", "prune", "--keep", "1"])
    #expect(nothing.status == 0)
    #expect(nothing.out == "")
    #expect(nothing.stderr == "coffer: nothing to prune: 0 closed segments\n")
    #expect(Self.records(box.run(["audit", "--json"]).out).map { $0["action"] as? String } == ["segment", "prune", "prune"])
  }

  @Test func pruneArgumentsAreChecked() throws {
    let (box, log) = try Self.box(limit: 1500)
    Self.writes(box, 0..<6)
    for args in [["audit", "prune"], ["audit", "prune", "--keep", "0"], ["audit", "prune", "--keep", "1", "--before", "2026-01-01"],
                 ["audit", "prune", "--before", "yesterday"], ["audit", "prune", "--keep", "two"],
                 ["audit", "prune", "--keep", "-1"], ["audit", "prune", "--keep", "1.5"]] {
      let r = box.run(args)
      #expect(r.status == 2)
      #expect(r.out == "")
      #expect(!r.stderr.contains("yesterday") && !r.stderr.contains("two") && !r.stderr.contains("1.5"))
    }
    #expect(Self.closed(log).count == 2)
    // A date before every segment removes nothing.
    let early = box.run(["audit", "prune", "--before", "2000-01-01"])
    #expect(early.status == 0)
    #expect(early.stderr == "coffer: nothing to prune: 2 closed segments\n")
    #expect(box.run(["audit", "verify"]).out == "ok: 8 entries in 3 segments, chain intact, head verified\n")
  }

  /// A log written before segments existed is segment 1: it keeps verifying, and closes like any other.
  @Test func anExistingSingleFileLogBecomesTheFirstSegment() throws {
    let (box, log) = try Self.box(limit: nil)
    Self.writes(box, 0..<6)
    let before = try Data(contentsOf: URL(fileURLWithPath: log))
    #expect(box.run(["audit", "verify"]).out == "ok: 6 entries, chain intact, head verified\n")
    box.extraEnvironment["COFFER_AUDIT_SEGMENT_BYTES"] = String(before.count + 100)
    Self.writes(box, 6..<8)
    #expect(try Data(contentsOf: URL(fileURLWithPath: log + ".000001")) == before)
    #expect(box.run(["audit", "verify"]).out == "ok: 9 entries in 2 segments, chain intact, head verified\n")
  }

  /// The protections that lived on one file work across segments: a deleted active segment is a gap the next
  /// append records, chaining to the last closed segment.
  @Test func aDeletedActiveSegmentIsRecordedAsAGap() throws {
    let (box, log) = try Self.box(limit: 1500)
    Self.writes(box, 0..<6)
    try FileManager.default.removeItem(atPath: log)
    let r = box.run(["audit", "verify"])
    #expect(r.status == 1)
    #expect(r.out == "\(log + ".000002"): 2 lines missing at the end (the log was truncated)\n")
    Self.writes(box, 6..<7)
    let after = box.run(["audit", "verify"])
    #expect(after.status == 1)
    #expect(after.out == "\(log): line 2: recorded when appended: the log no longer held line 8 as its head recorded it (it ended at line 6): lines were removed or edited outside coffer\n")
    let actions = Self.records(try String(contentsOfFile: log, encoding: .utf8)).map { $0["action"] as? String }
    #expect(actions == ["segment", "log-gap", "write"])
  }

  /// A single-file log emptied (or deleted) while its head stays: the next append records the gap rather than
  /// starting a clean history.
  @Test func anEmptiedLogIsRecordedAsAGap() throws {
    for delete in [false, true] {
      let (box, log) = try Self.box(limit: nil)
      Self.writes(box, 0..<3)
      if delete { try FileManager.default.removeItem(atPath: log) } else { try Data().write(to: URL(fileURLWithPath: log)) }
      #expect(box.run(["audit", "verify"]).out == "\(log): 3 lines missing at the end (the log was truncated)\n")
      Self.writes(box, 3..<4)
      let after = box.run(["audit", "verify"])
      #expect(after.status == 1)
      #expect(after.out == "\(log): line 1: recorded when appended: the log was empty but its head recorded line 3: lines were removed outside coffer\n")
    }
  }

  @Test func anInvalidSegmentSizeIsRefusedAndNothingIsWritten() throws {
    let box = try Sandbox(manifest: basicManifest)
    box.set("OPENAI_API_KEY", "first-value")
    let vault = try box.read(".coffer/vault/development.vault")
    for bad in ["0", "-5", "1.5", "1MB", "99999999999999999999"] {
      let r = box.run(["set", "OPENAI_API_KEY", "--env", "development"], stdin: Data("second-value".utf8), env: ["COFFER_AUDIT_SEGMENT_BYTES": bad])
      #expect(r.status == 2)
      #expect(r.stderr == "coffer: error: invalid setting COFFER_AUDIT_SEGMENT_BYTES: expected a whole number of bytes from 1 to 1099511627776 (unset: 1048576)\n")
      #expect(try box.read(".coffer/vault/development.vault") == vault)
      let run = box.run(["run", "--allow-missing", "--env", "development", "--", "echo", "ran"], env: ["COFFER_AUDIT_SEGMENT_BYTES": bad])
      #expect(run.status == 2)
      #expect(run.out == "")
    }
    #expect(box.run(["audit", "verify"]).out == "ok: 1 entries, chain intact, head verified\n")
  }
}

/// Canary: no value reaches any audit segment, the head, or anything the audit commands print (new messages
/// included), with small sets, counted sets, asked-for names, rollover and pruning.
@Suite struct AuditCanaryTests {
  @Test func noValueReachesAnySegmentOrAuditMessage() throws {
    let sb = try plantedSandbox()
    try sb.write("bulk.env", (0..<25).map { "BULK_\($0)=canary-0d1f4c7e-VALUE-\($0)\n" }.joined())
    let imp = sb.run(["import", "bulk.env", "--env", "development"])
    expectStatus(imp, 0, "import bulk.env")
    expectNoLeak(imp, "import bulk.env")
    try FileManager.default.removeItem(atPath: sb.path("bulk.env"))
    sb.extraEnvironment["COFFER_AUDIT_SEGMENT_BYTES"] = "1500"
    let commands: [([String], Int32)] = [
      (["run", "--allow-missing", "--", "true"], 0), (["run", "--allow-missing", "--audit-names", "--", "true"], 0),
      (["run", "--allow-missing", "--redact", "--audit-names", "--", "true"], 0), (["run", "--allow-missing", "--redact", "--", "true"], 0),
      (["export", "-o", "out.env"], 0), (["check"], 1), (["run", "--allow-missing", "-e", "production", "--", "true"], 0),
      (["audit"], 0), (["audit", "--json"], 0), (["audit", "verify"], 0), (["audit", "prune", "--keep", "2"], 0),
      (["audit", "verify"], 0), (["audit", "prune"], 2), (["audit", "prune", "--before", "2999-01-01"], 0),
      (["audit", "prune", "--keep", "1"], 0), (["audit", "verify"], 0), (["audit", "--json"], 0),
    ]
    for (args, expected) in commands {
      let r = sb.run(args)
      let what = args.joined(separator: " ")
      expectStatus(r, expected, what)
      expectNoLeak(r, what)
    }
    // An invalid segment size is never echoed (it could be anything pasted there).
    let bad = sb.run(["run", "--allow-missing", "--", "true"], env: ["COFFER_AUDIT_SEGMENT_BYTES": Canaries.simple.text])
    expectStatus(bad, 2, "run with an invalid COFFER_AUDIT_SEGMENT_BYTES")
    expectNoLeak(bad, "run with an invalid COFFER_AUDIT_SEGMENT_BYTES")
    // A tampered log's report names files and lines, never values.
    let log = sb.run(["audit", "path"]).out.trimmingCharacters(in: .newlines)
    let dir = (log as NSString).deletingLastPathComponent
    var text = try String(contentsOfFile: log, encoding: .utf8)
    text = text.replacingOccurrences(of: #""os_user":"tester""#, with: #""os_user":"mallory""#)
    try text.write(toFile: log, atomically: false, encoding: .utf8)
    let tampered = sb.run(["audit", "verify"])
    expectStatus(tampered, 1, "audit verify (tampered)")
    expectNoLeak(tampered, "audit verify (tampered)")
    let files = try FileManager.default.contentsOfDirectory(atPath: dir)
    #expect(files.count >= 3)
    for name in files {
      expectFileClean(try Data(contentsOf: URL(fileURLWithPath: dir + "/" + name)), "audit file \(name)")
    }
  }
}
