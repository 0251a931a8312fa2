import CofferAudit
import CofferCore
import Foundation
import Testing

@Suite struct AuditLogTests {
  let key = SecretValue("AGE-SECRET-KEY-1TEST-ONLY")

  func event(_ i: Int) -> AuditEvent {
    AuditEvent(
      time: Timestamp(secondsSinceEpoch: 1_790_000_000 + Int64(i)), actor: "alice", osUser: "alice",
      action: i % 2 == 0 ? "read" : "write", environment: "production", secrets: ["B", "A\(i)"],
      fingerprints: ["A\(i)": String(repeating: "ab", count: 32)], outcome: "ok", detail: i == 2 ? "quote \" and \\ and \n" : nil)
  }

  /// Builds a log of `n` lines and returns its lines and head.
  func log(_ n: Int) -> (lines: [[UInt8]], head: AuditHead) {
    var lines: [[UInt8]] = []
    var prev = AuditLog.genesis
    for i in 1...n {
      let line = AuditLog.encode(event(i), sequence: i, previousHash: prev)
      prev = AuditLog.hash(of: line)
      lines.append(line)
    }
    return (lines, AuditHead(sequence: n, hash: prev, size: lines.reduce(0) { $0 + $1.count + 1 }))
  }

  func join(_ lines: [[UInt8]]) -> [UInt8] { lines.flatMap { $0 + [0x0A] } }

  @Test func encodesAFixedShape() {
    let line = AuditLog.encode(event(1), sequence: 1, previousHash: AuditLog.genesis)
    #expect(String(decoding: line, as: UTF8.self) == #"{"seq":1,"time":"2026-09-21T14:13:21Z","actor":"alice","os_user":"alice","action":"write","environment":"production","secrets":["A1","B"],"fingerprints":{"A1":"abababababababababababababababababababababababababababababababab"},"destination":null,"outcome":"ok","detail":null,"prev":"0000000000000000000000000000000000000000000000000000000000000000"}"#)
  }

  @Test func anIntactLogVerifiesAndParses() {
    let (lines, head) = log(5)
    let result = AuditLog.verify(join(lines), head: head)
    #expect(result.problems == [])
    #expect(result.records.map(\.sequence) == [1, 2, 3, 4, 5])
    #expect(result.records[1].event == event(2))
  }

  @Test func anEditedLineIsNamed() {
    var (lines, head) = log(5)
    lines[2] = Array(String(decoding: lines[2], as: UTF8.self).replacingOccurrences(of: "\"alice\"", with: "\"mallory\"").utf8)
    let problems = AuditLog.verify(join(lines), head: head).problems
    #expect(problems == [AuditProblem(line: 3, kind: .edited)])
    #expect(problems.map(\.description) == ["line 3: edited after it was written"])
  }

  @Test func aDeletedLineIsNamed() {
    var (lines, head) = log(5)
    lines.remove(at: 1)
    #expect(AuditLog.verify(join(lines), head: head).problems == [AuditProblem(line: 2, kind: .deletedBefore)])
  }

  @Test func anInsertedLineIsNamed() {
    var (lines, head) = log(5)
    lines.insert(AuditLog.encode(event(9), sequence: 3, previousHash: AuditLog.hash(of: lines[1])), at: 2)
    let problems = AuditLog.verify(join(lines), head: head).problems
    #expect(problems.first == AuditProblem(line: 4, kind: .reorderedOrInserted))
  }

  @Test func reorderedLinesAreNamed() {
    var (lines, head) = log(5)
    lines.swapAt(1, 2)
    let problems = AuditLog.verify(join(lines), head: head).problems
    #expect(problems.first == AuditProblem(line: 2, kind: .deletedBefore))
    #expect(problems.contains(AuditProblem(line: 3, kind: .reorderedOrInserted)))
  }

  @Test func truncationIsCaughtByTheHead() {
    let (lines, head) = log(5)
    #expect(AuditLog.verify(join(Array(lines.prefix(3))), head: head).problems == [AuditProblem(line: nil, kind: .truncated(missing: 2))])
    #expect(AuditLog.verify([], head: head).problems == [AuditProblem(line: nil, kind: .truncated(missing: 5))])
    var cut = join(lines)
    cut.removeLast(10)
    #expect(AuditLog.verify(cut, head: head).problems.contains(AuditProblem(line: nil, kind: .truncatedLine)))
  }

  @Test func theHeadIsAuthenticated() {
    let head = AuditHead(sequence: 7, hash: String(repeating: "c", count: 64), size: 1234)
    let bytes = head.encoded(key: key)
    #expect(AuditHead.decode(bytes, key: key) == head)
    #expect(AuditHead.decode(bytes, key: SecretValue("another key")) == nil)
    var forged = Array(String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "7 ", with: "3 ").utf8)
    #expect(AuditHead.decode(forged, key: key) == nil)
    forged = AuditHead(sequence: 3, hash: head.hash, size: 99).encoded(key: SecretValue("attacker"))
    #expect(AuditHead.decode(forged, key: key) == nil)
  }

  @Test func garbageIsUnparsable() {
    let (lines, head) = log(2)
    let bad = join(lines) + Array("not json\n".utf8)
    #expect(AuditLog.verify(bad, head: head).problems.first == AuditProblem(line: 3, kind: .unparsable))
  }
}
