import CofferAudit
import CofferCore
import Foundation
import Testing

/// Builds a segmented log the way `AuditTrail` writes one: the line chain runs through every segment, and each
/// segment after the first opens with a `segment` line recording the SHA-256 of the one before.
struct SegmentedLog {
  var closed: [[UInt8]] = []
  var active: [UInt8] = []
  var sequence = 0
  var previous = AuditLog.genesis
  var clock: Int64 = 1_790_000_000

  mutating func add(_ event: AuditEvent) {
    let line = AuditLog.encode(event, sequence: sequence + 1, previousHash: previous)
    sequence += 1
    previous = AuditLog.hash(of: line)
    active += line + [0x0A]
  }

  mutating func add(action: String = "read", actor: String = "alice", detail: String? = nil) {
    clock += 60
    add(AuditEvent(
      time: Timestamp(secondsSinceEpoch: clock), actor: actor, osUser: actor, action: action, environment: "production",
      secrets: ["API_KEY"], fingerprints: ["API_KEY": String(repeating: "ab", count: 32)], detail: detail))
  }

  /// Closes the active segment and opens the next one with its link line.
  mutating func close() {
    let link = AuditSegmentLink(
      number: closed.count + 2, lastSequence: sequence, size: active.count, hash: AuditLog.hash(of: active))
    closed.append(active)
    active = []
    clock += 1
    add(AuditEvent(
      time: Timestamp(secondsSinceEpoch: clock), actor: "alice", osUser: "alice", action: AuditLog.segmentAction,
      detail: link.detail))
  }

  /// A prune line for segments 1 through `through`, as `coffer audit prune` writes it.
  mutating func prune(through: Int, actor: String = "bob") {
    let last = closed[through - 1]
    let lastLine = AuditLog.verify(last, head: nil).records.last!.sequence
    let record = AuditPrune(first: 1, last: through, firstLine: 1, lastLine: lastLine, hash: AuditLog.hash(of: last))
    clock += 60
    add(AuditEvent(
      time: Timestamp(secondsSinceEpoch: clock), actor: actor, osUser: actor + "-os", action: AuditLog.pruneAction,
      detail: record.detail))
  }

  var files: [AuditSegmentFile] {
    closed.enumerated().map { AuditSegmentFile(number: $0.offset + 1, bytes: $0.element) }
      + [AuditSegmentFile(number: closed.count + 1, bytes: active)]
  }

  var head: AuditHead { AuditHead(sequence: sequence, hash: previous, size: active.count) }

  /// Four segments: 3 reads each, the later ones after their link line.
  static func four() -> SegmentedLog {
    var log = SegmentedLog()
    for s in 0..<4 {
      if s > 0 { log.close() }
      for _ in 0..<3 { log.add() }
    }
    return log
  }
}

func splitLines(_ bytes: [UInt8]) -> [[UInt8]] { bytes.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast().map(Array.init) }
func joinLines(_ lines: [[UInt8]]) -> [UInt8] { lines.flatMap { $0 + [0x0A] } }

@Suite struct AuditSizeTests {
  let names = (0..<1000).map { String(format: "SERVICE_%04d_API_KEY", $0) }

  /// A run of 1,000 secrets records a count and one set fingerprint: a short line without a single name.
  @Test func aLargeSetIsACountAndASetFingerprint() throws {
    let (secrets, count) = AuditLog.summarize(names, includeNames: false)
    #expect(secrets == [])
    #expect(count == 1000)
    let event = AuditEvent(
      time: Timestamp(secondsSinceEpoch: 1_790_000_000), actor: "age1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq",
      osUser: "ci", action: "run", environment: "production", secrets: secrets, count: count,
      fingerprints: ["*": String(repeating: "cd", count: 32)])
    let line = AuditLog.encode(event, sequence: 7, previousHash: String(repeating: "e", count: 64))
    let text = String(decoding: line, as: UTF8.self)
    #expect(text == #"{"seq":7,"time":"2026-09-21T14:13:20Z","actor":"age1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq","os_user":"ci","action":"run","environment":"production","secrets":[],"count":1000,"fingerprints":{"*":"cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"},"destination":null,"outcome":"ok","detail":null,"prev":"eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"}"#)
    #expect(line.count == 405)
    #expect(!names.contains { text.contains($0) })
    // It parses back to the same event and re-encodes to the same bytes.
    let record = try #require(AuditLog.parse(line))
    #expect(record.event == event)
    #expect(record.event.count == 1000)
    #expect(AuditLog.encode(record.event, sequence: 7, previousHash: record.previousHash) == line)
  }

  /// Up to 20 names are listed; 21 are counted; asked-for names are listed whatever their number.
  @Test func smallSetsAreNamedAndNamesCanBeAskedFor() {
    #expect(AuditLog.nameLimit == 20)
    #expect(AuditLog.summarize(["B", "A"], includeNames: false).secrets == ["B", "A"])
    #expect(AuditLog.summarize(["B", "A"], includeNames: false).count == nil)
    #expect(AuditLog.summarize(Array(names.prefix(20)), includeNames: false).secrets == Array(names.prefix(20)))
    #expect(AuditLog.summarize(Array(names.prefix(20)), includeNames: false).count == nil)
    #expect(AuditLog.summarize(Array(names.prefix(21)), includeNames: false).secrets == [])
    #expect(AuditLog.summarize(Array(names.prefix(21)), includeNames: false).count == 21)
    #expect(AuditLog.summarize(names, includeNames: true).secrets == names)
    #expect(AuditLog.summarize(names, includeNames: true).count == nil)
    #expect(AuditLog.summarize([], includeNames: false).count == nil)
  }

  /// A line written before `count` existed (no key) still re-encodes exactly; adding or nulling `count` is an edit.
  @Test func linesWithoutACountKeepVerifying() {
    let old = Array(#"{"seq":1,"time":"2026-09-21T14:13:21Z","actor":"alice","os_user":"alice","action":"write","environment":"production","secrets":["A1","B"],"fingerprints":{},"destination":null,"outcome":"ok","detail":null,"prev":"0000000000000000000000000000000000000000000000000000000000000000"}"#.utf8)
    #expect(AuditLog.verify(old + [0x0A], head: nil).problems == [])
    #expect(AuditLog.parse(old)?.event.count == nil)
    let nulled = Array(String(decoding: old, as: UTF8.self).replacingOccurrences(of: #""B"],"#, with: #""B"],"count":null,"#).utf8)
    #expect(AuditLog.verify(nulled + [0x0A], head: nil).problems == [AuditProblem(line: 1, kind: .edited)])
    // A count added in the canonical place re-encodes the same: the next line's chain names the edit.
    let counted = Array(String(decoding: old, as: UTF8.self).replacingOccurrences(of: #""B"],"#, with: #""B"],"count":2,"#).utf8)
    let next = AuditLog.encode(
      AuditEvent(time: Timestamp(secondsSinceEpoch: 1_790_000_100), actor: "alice", osUser: "alice", action: "read"),
      sequence: 2, previousHash: AuditLog.hash(of: old))
    #expect(AuditLog.verify(old + [0x0A] + next + [0x0A], head: nil).problems == [])
    #expect(AuditLog.verify(counted + [0x0A] + next + [0x0A], head: nil).problems == [AuditProblem(line: 1, kind: .edited)])
  }
}

@Suite struct AuditSegmentTests {
  @Test func detailsRoundTripAndRejectAnythingElse() {
    let link = AuditSegmentLink(number: 3, lastSequence: 41, size: 9000, hash: String(repeating: "a", count: 64))
    #expect(link.detail == "segment 3 follows segment 2: 9000 bytes to line 41, sha256 " + String(repeating: "a", count: 64))
    #expect(AuditSegmentLink(detail: link.detail) == link)
    #expect(AuditSegmentLink(detail: link.detail.replacingOccurrences(of: "segment 2", with: "segment 1")) == nil)
    #expect(AuditSegmentLink(detail: link.detail + " ") == nil)
    #expect(AuditSegmentLink(detail: link.detail.replacingOccurrences(of: "aaaa", with: "AAAA")) == nil)
    let prune = AuditPrune(first: 1, last: 4, firstLine: 1, lastLine: 88, hash: String(repeating: "b", count: 64))
    #expect(prune.detail == "removed segments 1-4 (lines 1-88); segment 4 sha256 " + String(repeating: "b", count: 64))
    #expect(AuditPrune(detail: prune.detail) == prune)
    #expect(AuditPrune(detail: prune.detail.replacingOccurrences(of: "; segment 4", with: "; segment 3")) == nil)
    #expect(AuditPrune(detail: "removed segments 1-4") == nil)
  }

  @Test func anIntactLogVerifiesAcrossFourSegments() {
    let log = SegmentedLog.four()
    let result = AuditLog.verify(segments: log.files, head: log.head)
    #expect(result.problems == [])
    #expect(result.segments == 4)
    #expect(result.records.map(\.sequence) == Array(1...15))
    #expect(result.records.map(\.event.action).filter { $0 == AuditLog.segmentAction }.count == 3)
    #expect(result.prunes == [])
  }

  /// The same line-level tampering as in one file, inside a closed middle segment.
  @Test func aLineEditedInAMiddleSegmentIsNamed() {
    var log = SegmentedLog.four()
    var middle = splitLines(log.closed[1])
    middle[1] = Array(String(decoding: middle[1], as: UTF8.self).replacingOccurrences(of: "\"alice\"", with: "\"mallory\"").utf8)
    log.closed[1] = joinLines(middle)
    #expect(AuditLog.verify(segments: log.files, head: log.head).problems == [
      AuditProblem(line: 2, kind: .edited, segment: 2),
      AuditProblem(line: nil, kind: .segmentChanged(next: 3), segment: 2),
    ])
  }

  @Test func aMiddleSegmentEditedAtItsLastLineIsNamed() {
    var log = SegmentedLog.four()
    var middle = splitLines(log.closed[1])
    middle[3] = Array(String(decoding: middle[3], as: UTF8.self).replacingOccurrences(of: "\"read\"", with: "\"write\"").utf8)
    log.closed[1] = joinLines(middle)
    let problems = AuditLog.verify(segments: log.files, head: log.head).problems
    #expect(problems == [AuditProblem(line: nil, kind: .segmentChanged(next: 3), segment: 2)])
    #expect(problems.map(\.description) == ["changed after it closed (its SHA-256 differs from the one segment 3 recorded)"])
  }

  @Test func aTruncatedMiddleSegmentIsNamed() {
    var log = SegmentedLog.four()
    log.closed[1] = joinLines(Array(splitLines(log.closed[1]).dropLast()))
    #expect(AuditLog.verify(segments: log.files, head: log.head).problems == [
      AuditProblem(line: nil, kind: .segmentChanged(next: 3), segment: 2)
    ])
    // Cut mid-line as well.
    var cut = SegmentedLog.four()
    cut.closed[2].removeLast(7)
    #expect(AuditLog.verify(segments: cut.files, head: cut.head).problems == [
      AuditProblem(line: nil, kind: .truncatedLine, segment: 3),
      AuditProblem(line: 4, kind: .unparsable, segment: 3),
      AuditProblem(line: nil, kind: .segmentChanged(next: 4), segment: 3),
    ])
  }

  @Test func aDeletedMiddleSegmentIsNamed() {
    let log = SegmentedLog.four()
    var files = log.files
    files.remove(at: 1)
    let problems = AuditLog.verify(segments: files, head: log.head).problems
    #expect(problems == [AuditProblem(line: nil, kind: .segmentsMissing(from: 2, through: 2), segment: 3)])
    #expect(problems.map(\.description) == ["segment 2 is missing and no prune line records the removal"])
    files.remove(at: 1)
    #expect(AuditLog.verify(segments: files, head: log.head).problems == [
      AuditProblem(line: nil, kind: .segmentsMissing(from: 2, through: 3), segment: 4)
    ])
  }

  /// Two middle segments swapped (their files renamed into each other's place).
  @Test func reorderedSegmentsAreNamed() {
    let log = SegmentedLog.four()
    var files = log.files
    files[1] = AuditSegmentFile(number: 2, bytes: log.closed[2])
    files[2] = AuditSegmentFile(number: 3, bytes: log.closed[1])
    let problems = AuditLog.verify(segments: files, head: log.head).problems
    #expect(problems == [
      AuditProblem(line: 1, kind: .segmentMisplaced(holds: 3), segment: 2),
      AuditProblem(line: 1, kind: .segmentMisplaced(holds: 2), segment: 3),
      AuditProblem(line: nil, kind: .segmentChanged(next: 4), segment: 3),
    ])
    #expect(problems[0].description == "line 1: this file holds segment 3 (renamed or reordered)")
  }

  /// A middle segment that lost its first (link) line.
  @Test func aSegmentWithoutItsOpeningLineIsNamed() {
    var log = SegmentedLog.four()
    log.closed[2] = joinLines(Array(splitLines(log.closed[2]).dropFirst()))
    #expect(AuditLog.verify(segments: log.files, head: log.head).problems == [
      AuditProblem(line: 1, kind: .segmentUnopened, segment: 3),
      AuditProblem(line: nil, kind: .segmentChanged(next: 4), segment: 3),
    ])
  }

  /// Truncation at the end of the active segment is still caught by the head, and a deleted active segment too.
  @Test func theHeadStillCatchesTruncationOfTheActiveSegment() {
    var log = SegmentedLog.four()
    let head = log.head
    log.active = joinLines(Array(splitLines(log.active).prefix(2)))
    #expect(AuditLog.verify(segments: log.files, head: head).problems == [
      AuditProblem(line: nil, kind: .truncated(missing: 2), segment: 4)
    ])
    #expect(AuditLog.verify(segments: Array(SegmentedLog.four().files.prefix(3)), head: head).problems == [
      AuditProblem(line: nil, kind: .truncated(missing: 4), segment: 3)
    ])
  }

  @Test func prunedSegmentsAreReportedNotFlagged() throws {
    var log = SegmentedLog.four()
    log.prune(through: 2)
    let files = Array(log.files.dropFirst(2))
    let result = AuditLog.verify(segments: files, head: log.head)
    #expect(result.problems == [])
    #expect(result.records.map(\.sequence) == Array(8...16))
    #expect(result.segments == 2)
    let note = try #require(result.prunes.first)
    #expect(result.prunes.count == 1)
    #expect(note.description == "segments 1-2 (lines 1-7) removed at 2026-09-21T14:26:23Z by bob (os user bob-os)")
    // Every segment kept, with the prune line present (a crash before the files went): still intact.
    #expect(AuditLog.verify(segments: log.files, head: log.head).problems == [])
  }

  @Test func segmentsRemovedWithoutAPruneLineAreNamed() {
    let log = SegmentedLog.four()
    let problems = AuditLog.verify(segments: Array(log.files.dropFirst(2)), head: log.head).problems
    #expect(problems == [AuditProblem(line: nil, kind: .segmentsMissing(from: 1, through: 2))])
    #expect(problems.map(\.description) == ["segments 1-2 are missing and no prune line records the removal"])
    // Only the first segment gone.
    #expect(AuditLog.verify(segments: Array(log.files.dropFirst()), head: log.head).problems == [
      AuditProblem(line: nil, kind: .segmentsMissing(from: 1, through: 1))
    ])
  }

  /// A prune line covers only what it names: one more segment removed than recorded, or a prune line whose hash is
  /// not the removed segment's, is a removal without a record.
  @Test func aPruneLineCoversOnlyWhatItRecorded() {
    var log = SegmentedLog.four()
    log.prune(through: 1)
    #expect(AuditLog.verify(segments: Array(log.files.dropFirst(2)), head: log.head).problems == [
      AuditProblem(line: nil, kind: .segmentsMissing(from: 1, through: 2))
    ])
    var forged = SegmentedLog.four()
    forged.clock += 60
    forged.add(AuditEvent(
      time: Timestamp(secondsSinceEpoch: forged.clock), actor: "mallory", osUser: "mallory", action: AuditLog.pruneAction,
      detail: AuditPrune(first: 1, last: 2, firstLine: 1, lastLine: 7, hash: String(repeating: "0", count: 64)).detail))
    #expect(AuditLog.verify(segments: Array(forged.files.dropFirst(2)), head: forged.head).problems == [
      AuditProblem(line: nil, kind: .segmentsMissing(from: 1, through: 2))
    ])
  }

  @Test func anEmptyLogWithAHeadIsAGap() {
    let head = AuditHead(sequence: 4, hash: String(repeating: "d", count: 64), size: 900)
    #expect(AuditLog.gap(records: [], head: head, headExists: true)
      == "the log was empty but its head recorded line 4: lines were removed outside coffer")
    #expect(AuditLog.gap(records: [], head: nil, headExists: true) == nil)
    #expect(AuditLog.gap(records: [], head: AuditHead(sequence: 0, hash: AuditLog.genesis, size: 0), headExists: true) == nil)
  }

  @Test func pruneSelectsTheOldestClosedSegments() {
    let t = { (s: Int64) in Timestamp(secondsSinceEpoch: 1_790_000_000 + s) }
    let closed = [(number: 3, lastTime: t(10)), (number: 4, lastTime: t(20)), (number: 5, lastTime: t(30))]
    #expect(AuditLog.pruneThrough(closed: closed, keep: 1, before: nil) == 5)
    #expect(AuditLog.pruneThrough(closed: closed, keep: 2, before: nil) == 4)
    #expect(AuditLog.pruneThrough(closed: closed, keep: 4, before: nil) == nil)
    #expect(AuditLog.pruneThrough(closed: closed, keep: nil, before: t(20)) == 3)
    #expect(AuditLog.pruneThrough(closed: closed, keep: nil, before: t(21)) == 4)
    #expect(AuditLog.pruneThrough(closed: closed, keep: nil, before: t(5)) == nil)
    #expect(AuditLog.pruneThrough(closed: [], keep: 1, before: nil) == nil)
  }
}
