import CofferAudit
import CofferCore
import Foundation
import Testing

/// `coffer audit export`'s format (docs/audit.md, *Export*): a header, every line exactly as stored across segments,
/// an end line; and the verification of an exported file, naming the file's line where it breaks.
@Suite struct AuditExportTests {
  static let at = Timestamp(secondsSinceEpoch: 1_790_086_400)

  /// Two segments: 3 reads, then the segment line and 2 reads (6 lines).
  static func log() -> SegmentedLog {
    var log = SegmentedLog()
    for _ in 0..<3 { log.add() }
    log.close()
    for _ in 0..<2 { log.add() }
    return log
  }

  static func lines(_ bytes: [UInt8]) -> [String] {
    String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
  }

  static func bytes(_ lines: [String]) -> [UInt8] { Array((lines.joined(separator: "\n") + "\n").utf8) }

  static func problems(_ lines: [String]) -> [String] {
    AuditExport.verify(bytes(lines)).problems.map(\.description)
  }

  @Test func aFullExportHoldsEveryLineAsStoredBetweenItsHeaderAndEnd() throws {
    let log = Self.log()
    let export = AuditExport.encode(segments: log.files, since: nil, exportedAt: Self.at, head: "verified")
    let lines = Self.lines(export.bytes)
    #expect(lines.count == 8)
    #expect(lines[0] == #"{"export":"coffer-audit/v1","after_seq":0,"after_hash":"\#(AuditLog.genesis)","since":null,"exported_at":"2026-09-22T14:13:20Z"}"#)
    let stored = Self.lines(log.closed[0] + log.active)
    #expect(Array(lines[1...6]) == stored)
    #expect(lines[7] == #"{"export_end":"coffer-audit/v1","lines":6,"last_seq":6,"last_hash":"\#(log.previous)","head":"verified"}"#)
    #expect(export.start == AuditExport.Start(sequence: 0, hash: AuditLog.genesis))
    #expect(export.lines == 6)
    let result = AuditExport.verify(export.bytes)
    #expect(result.problems == [])
    #expect(result.start == AuditExport.Start(sequence: 0, hash: AuditLog.genesis))
    #expect(result.records.map(\.sequence) == [1, 2, 3, 4, 5, 6])
    #expect(result.records.last?.hash == log.previous)
  }

  @Test func anEmptyLogExportsAHeaderAndAnEndThatVerify() throws {
    let export = AuditExport.encode(segments: [AuditSegmentFile(number: 1, bytes: [])], since: nil, exportedAt: Self.at, head: "absent")
    #expect(Self.lines(export.bytes) == [
      #"{"export":"coffer-audit/v1","after_seq":0,"after_hash":"\#(AuditLog.genesis)","since":null,"exported_at":"2026-09-22T14:13:20Z"}"#,
      #"{"export_end":"coffer-audit/v1","lines":0,"last_seq":0,"last_hash":"\#(AuditLog.genesis)","head":"absent"}"#,
    ])
    #expect(AuditExport.verify(export.bytes).problems == [])
  }

  /// A slice from a time: the header records the line and hash it chains from, and it verifies on its own.
  @Test func aSliceSinceATimeStartsAfterTheLineBeforeIt() throws {
    let log = Self.log()
    let all = AuditLog.verify(segments: log.files, head: nil).records
    // The 4th line (the segment line) is the first at or after its own time.
    let export = AuditExport.encode(segments: log.files, since: all[3].event.time, exportedAt: Self.at, head: "verified")
    #expect(export.start == AuditExport.Start(sequence: 3, hash: all[2].hash))
    #expect(export.lines == 3)
    let lines = Self.lines(export.bytes)
    #expect(lines[0] == #"{"export":"coffer-audit/v1","after_seq":3,"after_hash":"\#(all[2].hash)","since":"\#(all[3].event.time.rfc3339)","exported_at":"2026-09-22T14:13:20Z"}"#)
    let result = AuditExport.verify(export.bytes)
    #expect(result.problems == [])
    #expect(result.records.map(\.sequence) == [4, 5, 6])
    // Neighbours: a time after every line (nothing exported, starts after the last line), before every line (all),
    // and between two lines (from the later one).
    let late = AuditExport.encode(segments: log.files, since: Timestamp(secondsSinceEpoch: 1_900_000_000), exportedAt: Self.at, head: "verified")
    #expect(late.start == AuditExport.Start(sequence: 6, hash: log.previous))
    #expect(late.lines == 0)
    #expect(AuditExport.verify(late.bytes).problems == [])
    let early = AuditExport.encode(segments: log.files, since: Timestamp(secondsSinceEpoch: 0), exportedAt: Self.at, head: "verified")
    #expect(early.start == AuditExport.Start(sequence: 0, hash: AuditLog.genesis))
    #expect(early.lines == 6)
    let between = AuditExport.encode(
      segments: log.files, since: Timestamp(secondsSinceEpoch: all[1].event.time.secondsSinceEpoch + 1), exportedAt: Self.at, head: "verified")
    #expect(between.start == AuditExport.Start(sequence: 2, hash: all[1].hash))
    #expect(AuditExport.verify(between.bytes).records.map(\.sequence) == [3, 4, 5, 6])
  }

  /// A pruned log starts after the last removed line.
  @Test func aPrunedLogExportStartsAfterTheRemovedLines() throws {
    var log = Self.log()
    log.prune(through: 1)
    let files = Array(log.files.dropFirst())
    let removed = AuditLog.verify(log.closed[0], head: nil).records.last!
    let export = AuditExport.encode(segments: files, since: nil, exportedAt: Self.at, head: "verified")
    #expect(export.start == AuditExport.Start(sequence: 3, hash: removed.hash))
    let result = AuditExport.verify(export.bytes)
    #expect(result.problems == [])
    #expect(result.prunes.map(\.prune) == [AuditPrune(first: 1, last: 1, firstLine: 1, lastLine: 3, hash: AuditLog.hash(of: log.closed[0]))])
  }

  /// The sample: a field edited in the middle; neighbours: the last line edited, a line that no longer parses,
  /// the header's hash edited, the end line's count edited.
  @Test func anEditedExportNamesTheLine() throws {
    let good = Self.lines(AuditExport.encode(segments: Self.log().files, since: nil, exportedAt: Self.at, head: "verified").bytes)
    var edited = good
    edited[2] = edited[2].replacingOccurrences(of: #""os_user":"alice""#, with: #""os_user":"mallory""#)
    #expect(Self.problems(edited) == ["line 3: edited after it was written"])
    var last = good
    last[6] = last[6].replacingOccurrences(of: #""action":"read""#, with: #""action":"write""#)
    #expect(Self.problems(last) == ["line 7: edited after it was written"])
    var broken = good
    broken[4] = String(broken[4].dropLast())
    #expect(Self.problems(broken) == ["line 5: not a coffer audit record"])
    var header = good
    header[0] = header[0].replacingOccurrences(of: #""after_hash":"0000"#, with: #""after_hash":"1111"#)
    #expect(Self.problems(header) == ["line 1: edited after it was written"])
    var count = good
    count[7] = count[7].replacingOccurrences(of: #""lines":6"#, with: #""lines":5"#)
    #expect(Self.problems(count) == ["line 8: edited after it was written"])
  }

  /// The sample: the last two lines cut (the end line kept); neighbours: the end line removed, the file cut
  /// mid-line, the header removed.
  @Test func aTruncatedExportIsCaught() throws {
    let good = Self.lines(AuditExport.encode(segments: Self.log().files, since: nil, exportedAt: Self.at, head: "verified").bytes)
    var cut = good
    cut.removeSubrange(5...6)
    #expect(Self.problems(cut) == ["2 lines missing at the end (the export was truncated)"])
    #expect(Self.problems(Array(good.dropLast())) == [
      "the end line is missing (the export was cut short, or lines were added after it)"
    ])
    let midLine = Array(Self.bytes(good).prefix(Self.bytes(Array(good.prefix(4))).count + 30))
    #expect(AuditExport.verify(midLine).problems.map(\.description) == [
      "the last line is incomplete", "line 5: not a coffer audit record",
      "the end line is missing (the export was cut short, or lines were added after it)",
    ])
    #expect(Self.problems(Array(good.dropFirst())) == ["line 1: not a coffer audit export (the first line is not its header)"])
  }

  /// The sample: two lines swapped; neighbours: a line deleted in the middle, a line duplicated, the first line
  /// moved to the end.
  @Test func aReorderedExportIsCaught() throws {
    let good = Self.lines(AuditExport.encode(segments: Self.log().files, since: nil, exportedAt: Self.at, head: "verified").bytes)
    var swapped = good
    swapped.swapAt(2, 3)
    #expect(Self.problems(swapped) == [
      "line 3: one or more lines before it were deleted", "line 4: out of order or inserted",
      "line 5: one or more lines before it were deleted",
    ])
    var deleted = good
    deleted.remove(at: 3)
    #expect(Self.problems(deleted) == ["line 4: one or more lines before it were deleted"])
    var duplicated = good
    duplicated.insert(good[3], at: 4)
    #expect(Self.problems(duplicated) == ["line 5: out of order or inserted"])
    var moved = good
    let first = moved.remove(at: 1)
    moved.insert(first, at: 6)
    #expect(Self.problems(moved) == ["line 2: one or more lines before it were deleted", "line 7: out of order or inserted"])
  }

  /// A segment copied as is (no header, no end line) is checked from its first line's `prev`; neighbours: the
  /// first segment, an edited line in it (named by its line in the file), a file that is not a log at all.
  @Test func aRawSegmentVerifiesFromItsFirstLine() throws {
    let log = Self.log()
    let second = AuditExport.verify(log.active)
    #expect(second.isRawSegment)
    #expect(second.problems == [])
    let r3 = AuditLog.verify(log.closed[0], head: nil).records[2]
    #expect(second.start == AuditExport.Start(sequence: 3, hash: r3.hash))
    #expect(second.records.map(\.sequence) == [4, 5, 6])
    let first = AuditExport.verify(log.closed[0])
    #expect(first.start == AuditExport.Start(sequence: 0, hash: AuditLog.genesis))
    #expect(first.problems == [])
    var edited = Self.lines(log.closed[0])
    edited[1] = edited[1].replacingOccurrences(of: #""actor":"alice""#, with: #""actor":"bob""#)
    #expect(Self.problems(edited) == ["line 2: edited after it was written"])
    let garbage = AuditExport.verify(Array("hello\n".utf8))
    #expect(garbage.start == nil)
    #expect(garbage.problems.map(\.description) == ["line 1: not a coffer audit export (the first line is not its header)"])
  }
}
