import CofferCore

/// One segment file of a log, as read from disk. Pure data: ``AuditLog/verify(segments:head:)`` checks them.
package struct AuditSegmentFile: Sendable, Equatable {
  /// The segment's number (1 for the first segment ever written; never reused).
  package let number: Int
  /// The file's bytes.
  package let bytes: [UInt8]

  /// Creates a segment.
  /// - Parameters:
  ///   - number: the segment's number, from its file name (the active segment: the one after the last closed).
  ///   - bytes: its contents.
  package init(number: Int, bytes: [UInt8]) {
    self.number = number
    self.bytes = bytes
  }
}

/// What the first line of every segment after the first records (action ``AuditLog/segmentAction``, in
/// `detail`): the segment it opens and the SHA-256 of the whole segment before it, so that the segments form a
/// chain of their own on top of the line chain.
package struct AuditSegmentLink: Sendable, Equatable {
  /// The segment this line opens.
  package let number: Int
  /// The sequence number of the previous segment's last line.
  package let lastSequence: Int
  /// The previous segment's size in bytes.
  package let size: Int
  /// SHA-256 (lowercase hex) of the previous segment's bytes.
  package let hash: String

  /// Creates a link.
  /// - Parameters:
  ///   - number: the segment being opened (the previous one is `number - 1`).
  ///   - lastSequence: the previous segment's last sequence number.
  ///   - size: the previous segment's size in bytes.
  ///   - hash: SHA-256 (hex) of the previous segment's bytes.
  package init(number: Int, lastSequence: Int, size: Int, hash: String) {
    self.number = number
    self.lastSequence = lastSequence
    self.size = size
    self.hash = hash
  }

  static let template = ["segment ", " follows segment ", ": ", " bytes to line ", ", sha256 ", ""]

  /// The `detail` text: `segment N follows segment N-1: SIZE bytes to line SEQ, sha256 HASH`.
  package var detail: String {
    "segment \(number) follows segment \(number - 1): \(size) bytes to line \(lastSequence), sha256 \(hash)"
  }

  /// Parses a `detail` written by ``detail``; `nil` for anything else.
  package init?(detail: String) {
    guard let f = AuditDetail.fields(detail, AuditSegmentLink.template), f.count == 5, let n = Int(f[0]),
      Int(f[1]) == n - 1, let size = Int(f[2]), let seq = Int(f[3]), AuditDetail.isHash(f[4])
    else { return nil }
    self.init(number: n, lastSequence: seq, size: size, hash: f[4])
    guard self.detail == detail else { return nil }
  }
}

/// What a prune line records (action ``AuditLog/pruneAction``, in `detail`): which segments were removed, the lines
/// they held, and the SHA-256 of the last one, which the first kept segment's ``AuditSegmentLink`` must match.
package struct AuditPrune: Sendable, Equatable {
  /// The first segment removed.
  package let first: Int
  /// The last segment removed.
  package let last: Int
  /// The first line (sequence number) removed.
  package let firstLine: Int
  /// The last line (sequence number) removed.
  package let lastLine: Int
  /// SHA-256 (hex) of the last removed segment's bytes.
  package let hash: String

  /// Creates a prune record.
  package init(first: Int, last: Int, firstLine: Int, lastLine: Int, hash: String) {
    self.first = first
    self.last = last
    self.firstLine = firstLine
    self.lastLine = lastLine
    self.hash = hash
  }

  static let template = ["removed segments ", "-", " (lines ", "-", "); segment ", " sha256 ", ""]

  /// The `detail` text: `removed segments A-B (lines X-Y); segment B sha256 HASH`.
  package var detail: String {
    "removed segments \(first)-\(last) (lines \(firstLine)-\(lastLine)); segment \(last) sha256 \(hash)"
  }

  /// Parses a `detail` written by ``detail``; `nil` for anything else.
  package init?(detail: String) {
    guard let f = AuditDetail.fields(detail, AuditPrune.template), f.count == 6, let a = Int(f[0]), let b = Int(f[1]),
      let x = Int(f[2]), let y = Int(f[3]), f[4] == f[1], AuditDetail.isHash(f[5])
    else { return nil }
    self.init(first: a, last: b, firstLine: x, lastLine: y, hash: f[5])
    guard self.detail == detail else { return nil }
  }
}

/// A prune found in the log: what was removed, and when and by whom (from the prune line).
package struct AuditPruneNote: Sendable, Equatable, CustomStringConvertible {
  /// What was removed.
  package let prune: AuditPrune
  /// The prune line's event (time, actor, OS user).
  package let event: AuditEvent

  package var description: String {
    let p = prune
    let segments = p.first == p.last ? "segment \(p.first)" : "segments \(p.first)-\(p.last)"
    return "\(segments) (lines \(p.firstLine)-\(p.lastLine)) removed at \(event.time.rfc3339) by \(event.actor) "
      + "(os user \(event.osUser))"
  }
}

/// The result of verifying a segmented log.
package struct AuditVerification: Sendable, Equatable {
  /// Every record that parsed, oldest first, across segments.
  package let records: [AuditRecord]
  /// Every problem found, in order (empty when the log is intact).
  package let problems: [AuditProblem]
  /// The prune lines found, oldest first: earlier segments removed on purpose.
  package let prunes: [AuditPruneNote]
  /// The number of segments that hold lines.
  package let segments: Int
}

enum AuditDetail {
  /// Splits `text` along a template of literal pieces (`[lit0, lit1, …, litN]`), returning the N fields between them.
  static func fields(_ text: String, _ template: [String]) -> [String]? {
    var rest = Substring(text)
    guard rest.hasPrefix(template[0]) else { return nil }
    rest = rest.dropFirst(template[0].count)
    var out: [String] = []
    for literal in template.dropFirst() {
      if literal.isEmpty {
        out.append(String(rest))
        rest = ""
        continue
      }
      guard let r = rest.firstRange(of: literal) else { return nil }
      out.append(String(rest[..<r.lowerBound]))
      rest = rest[r.upperBound...]
    }
    return rest.isEmpty ? out : nil
  }

  static func isHash(_ s: String) -> Bool {
    s.utf8.count == 64 && s.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
  }
}

extension AuditLog {
  /// The action of the first line of every segment after the first (``AuditSegmentLink`` in `detail`).
  package static let segmentAction = "segment"
  /// The action of the line `coffer audit prune` writes before it removes segments (``AuditPrune`` in `detail`).
  package static let pruneAction = "prune"

  /// Verifies a log kept in segments: the line chain runs through all of them, each segment after the first opens
  /// with a line recording the SHA-256 of the one before, and segments missing at the start must be covered by a
  /// prune line whose hash matches.
  /// - Parameters:
  ///   - segments: the segment files present, in ascending number; the active segment last.
  ///   - head: the authenticated head, if one is kept (it describes the active segment's last line).
  /// - Returns: the records, problems (each naming its segment and line within it) and prunes found.
  package static func verify(segments: [AuditSegmentFile], head: AuditHead?) -> AuditVerification {
    var records: [AuditRecord] = []
    var problems: [AuditProblem] = []
    var previous = genesis
    var expectedSeq = 1
    var prior: (number: Int, hash: String)?
    var needsPrune: (through: Int, hash: String?)?
    var lastSegment: Int?
    var lastLineNo = 0
    for segment in segments where !segment.bytes.isEmpty {
      let n = segment.number
      let bytes = segment.bytes
      let firstEnd = bytes.firstIndex(of: 0x0A) ?? bytes.count
      let first = parse(Array(bytes[0..<firstEnd]))
      let link = first.flatMap { $0.event.action == segmentAction ? AuditSegmentLink(detail: $0.event.detail ?? "") : nil }
      var resync = false
      if let link, link.number != n {
        problems.append(AuditProblem(line: 1, kind: .segmentMisplaced(holds: link.number), segment: n))
        resync = true
      }
      if let prior {
        if n != prior.number + 1 {
          problems.append(AuditProblem(line: nil, kind: .segmentsMissing(from: prior.number + 1, through: n - 1), segment: n))
          resync = true
        } else if link == nil {
          problems.append(AuditProblem(line: 1, kind: .segmentUnopened, segment: n))
          resync = true
        } else if !resync, link?.hash != prior.hash {
          problems.append(AuditProblem(line: nil, kind: .segmentChanged(next: n), segment: prior.number))
          resync = true
        }
      } else if n > 1 {
        // The oldest segment present is not the first: earlier ones were pruned (a prune line must say so).
        if link == nil { problems.append(AuditProblem(line: 1, kind: .segmentUnopened, segment: n)) }
        needsPrune = (n - 1, link?.hash)
        resync = true
      }
      if resync, let first {
        previous = first.previousHash
        expectedSeq = first.sequence
      }
      if bytes.last != 0x0A { problems.append(AuditProblem(line: nil, kind: .truncatedLine, segment: n)) }
      var lineNo = 0
      var start = 0
      while start < bytes.count {
        let end = bytes[start...].firstIndex(of: 0x0A) ?? bytes.count
        let line = Array(bytes[start..<end])
        lineNo += 1
        start = end + 1
        guard let record = parse(line) else {
          problems.append(AuditProblem(line: lineNo, kind: .unparsable, segment: n))
          previous = hash(of: line)
          expectedSeq += 1
          continue
        }
        // Re-encoding must give the same bytes: any edit to a field is caught even if the chain were recomputed.
        if encode(record.event, sequence: record.sequence, previousHash: record.previousHash) != line {
          problems.append(AuditProblem(line: lineNo, kind: .edited, segment: n))
        }
        if record.previousHash != previous {
          if record.sequence > expectedSeq {
            problems.append(AuditProblem(line: lineNo, kind: .deletedBefore, segment: n))
          } else if record.sequence < expectedSeq {
            problems.append(AuditProblem(line: lineNo, kind: .reorderedOrInserted, segment: n))
          } else if lineNo > 1 || prior == nil {
            // In sequence but the chain breaks: the line before this one changed after it was written.
            problems.append(AuditProblem(line: lineNo - 1, kind: .edited, segment: n))
          } else {
            problems.append(AuditProblem(line: nil, kind: .segmentChanged(next: n), segment: prior?.number))
          }
        } else if record.sequence != expectedSeq {
          problems.append(AuditProblem(line: lineNo, kind: .reorderedOrInserted, segment: n))
        }
        if record.event.action == gapAction {
          problems.append(AuditProblem(line: lineNo, kind: .gapRecorded(record.event.detail ?? ""), segment: n))
        }
        records.append(record)
        previous = record.hash
        expectedSeq = record.sequence + 1
      }
      prior = (n, hash(of: bytes))
      lastSegment = n
      lastLineNo = lineNo
    }
    if let head {
      if let last = records.last {
        if last.sequence < head.sequence {
          problems.append(AuditProblem(line: nil, kind: .truncated(missing: head.sequence - last.sequence), segment: lastSegment))
        } else if last.sequence == head.sequence, last.hash != head.hash {
          problems.append(AuditProblem(line: lastLineNo, kind: .edited, segment: lastSegment))
        }
      } else if head.sequence > 0 {
        problems.append(AuditProblem(line: nil, kind: .truncated(missing: head.sequence), segment: segments.last?.number))
      }
    }
    let prunes = records.compactMap { r -> AuditPruneNote? in
      guard r.event.action == pruneAction, let p = AuditPrune(detail: r.event.detail ?? "") else { return nil }
      return AuditPruneNote(prune: p, event: r.event)
    }
    if let needsPrune, !prunes.contains(where: { $0.prune.last == needsPrune.through && $0.prune.hash == needsPrune.hash }) {
      problems.insert(AuditProblem(line: nil, kind: .segmentsMissing(from: 1, through: needsPrune.through)), at: 0)
    }
    return AuditVerification(
      records: records, problems: problems, prunes: prunes, segments: segments.filter { !$0.bytes.isEmpty }.count)
  }

  /// Which closed segments a prune removes: the oldest ones, up to the last segment that `keep` or `before` allows.
  /// - Parameters:
  ///   - closed: the closed segments' numbers and the time of each one's last line, oldest first.
  ///   - keep: keep this many of the newest segments, counting the active one (at least 1).
  ///   - before: remove segments whose last line is earlier than this time.
  /// - Returns: the number of the last segment to remove, or `nil` when there is nothing to remove.
  package static func pruneThrough(closed: [(number: Int, lastTime: Timestamp)], keep: Int?, before: Timestamp?) -> Int? {
    var through: Int?
    for (i, segment) in closed.enumerated() {
      if let keep, closed.count - i < keep { break }  // the active segment counts as one kept
      if let before, !(segment.lastTime < before) { break }
      through = segment.number
    }
    return through
  }
}
