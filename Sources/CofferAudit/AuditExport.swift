import CofferCore
import FoundationEssentials

/// An exported slice of the audit log (`coffer audit export`, docs/audit.md *Export*): a header line, every line of
/// the log from where the slice starts to its end exactly as stored (across all segments, in order), and an end
/// line. Pure: bytes in, bytes and values out.
///
/// The header records where the slice starts: the sequence number and hash of the line just before its first line
/// (`0` and 64 zeros when it starts at the beginning of the log), so that the chain inside the file can be checked
/// on its own and joined to an earlier export. The end line records how many lines were exported and the last
/// line's sequence number and hash, so that a file cut short is caught.
package enum AuditExport {
  /// The format's name, the value of the header's `export` and the end line's `export_end` keys.
  package static let format = "coffer-audit/v1"

  /// Where an export starts: after this line of the log.
  package struct Start: Sendable, Equatable {
    /// The sequence number of the line before the first exported one (0: the slice starts at the beginning).
    package let sequence: Int
    /// That line's hash (``AuditLog/genesis`` at the beginning): the first exported line's `prev`.
    package let hash: String

    /// Creates a start.
    /// - Parameters:
    ///   - sequence: the sequence number of the line before the first exported line.
    ///   - hash: that line's hash.
    package init(sequence: Int, hash: String) {
      self.sequence = sequence
      self.hash = hash
    }
  }

  /// The result of ``encode(segments:since:exportedAt:head:)``.
  package struct Encoded: Sendable, Equatable {
    /// The file's bytes: header, lines, end line, each ending with LF.
    package let bytes: [UInt8]
    /// Where the slice starts.
    package let start: Start
    /// How many log lines it holds (the header and end line not counted).
    package let lines: Int
  }

  /// Exports a log.
  /// - Parameters:
  ///   - segments: the log's segment files, oldest first (``AuditTrail/read(headKey:)``); empty ones are skipped.
  ///   - since: export from the first line at or after this time to the end (a suffix that still verifies); `nil`
  ///     exports every line.
  ///   - exportedAt: when the export was made (recorded in the header).
  ///   - head: what the exporter found where the log's head should be: `verified`, `missing`, `unauthenticated`
  ///     or `absent` (recorded in the end line, for the reader; it is not part of the chain).
  /// - Returns: the file and where it starts.
  package static func encode(segments: [AuditSegmentFile], since: Timestamp?, exportedAt: Timestamp, head: String) -> Encoded {
    var lines: [ArraySlice<UInt8>] = []
    for segment in segments where !segment.bytes.isEmpty {
      var start = 0
      let bytes = segment.bytes
      while start < bytes.count {
        let end = bytes[start...].firstIndex(of: 0x0A) ?? bytes.count
        lines.append(bytes[start..<end])
        start = end + 1
      }
    }
    var first = 0
    var start = Start(sequence: 0, hash: AuditLog.genesis)
    if let since {
      // The first line at or after `since`; everything after it follows, whatever its time (a suffix).
      first = lines.count
      var previous: AuditRecord?
      for (i, line) in lines.enumerated() {
        let record = AuditLog.parse(Array(line))
        if let record, !(record.event.time < since) {
          first = i
          break
        }
        if let record { previous = record }
      }
      if first < lines.count, let record = AuditLog.parse(Array(lines[first])) {
        start = Start(sequence: record.sequence - 1, hash: record.previousHash)
      } else if let previous {
        start = Start(sequence: previous.sequence, hash: previous.hash)
      }
    } else if let line = lines.first, let record = AuditLog.parse(Array(line)) {
      // A pruned log starts after the last removed line.
      start = Start(sequence: record.sequence - 1, hash: record.previousHash)
    }
    let exported = lines[first...]
    var out: [UInt8] = []
    out.reserveCapacity(exported.reduce(256) { $0 + $1.count + 1 })
    var header: [UInt8] = []
    header += Array("{\"export\":".utf8)
    AuditLog.quote(format, into: &header)
    header += Array(",\"after_seq\":\(start.sequence),\"after_hash\":".utf8)
    AuditLog.quote(start.hash, into: &header)
    header += Array(",\"since\":".utf8)
    if let since { AuditLog.quote(since.rfc3339, into: &header) } else { header += Array("null".utf8) }
    header += Array(",\"exported_at\":".utf8)
    AuditLog.quote(exportedAt.rfc3339, into: &header)
    header += Array("}\n".utf8)
    out += header
    var last = start
    for line in exported {
      out += line
      out.append(0x0A)
      let seq = AuditLog.parse(Array(line))?.sequence ?? last.sequence + 1
      last = Start(sequence: seq, hash: AuditLog.hash(of: line))
    }
    var end: [UInt8] = Array("{\"export_end\":".utf8)
    AuditLog.quote(format, into: &end)
    end += Array(",\"lines\":\(exported.count),\"last_seq\":\(last.sequence),\"last_hash\":".utf8)
    AuditLog.quote(last.hash, into: &end)
    end += Array(",\"head\":".utf8)
    AuditLog.quote(head, into: &end)
    end += Array("}\n".utf8)
    out += end
    return Encoded(bytes: out, start: start, lines: exported.count)
  }

  /// The result of ``verify(_:)``.
  package struct Verification: Sendable, Equatable {
    /// Where the slice says it starts (`nil` when the file has no header).
    package let start: Start?
    /// The log lines that parsed, in file order.
    package let records: [AuditRecord]
    /// Every problem found; each `line` is the line number within the file (the header is line 1).
    package let problems: [AuditProblem]
    /// The prune lines among the exported lines: segments removed on purpose before the export.
    package let prunes: [AuditPruneNote]
    /// Whether the file has no header and end line: a segment or log copied as is, checked from its first line's
    /// `prev`; lines removed at its end cannot be detected.
    package let isRawSegment: Bool
  }

  struct Header: Decodable {
    let export: String
    let after_seq: Int
    let after_hash: String
  }

  struct End: Decodable {
    let export_end: String
    let lines: Int
    let last_seq: Int
    let last_hash: String
  }

  /// Verifies an exported file: the header, the chain from the header's hash through every line (each re-encoded,
  /// as ``AuditLog/verify(segments:head:)`` does), and the end line's count, last sequence number and hash. A file
  /// whose first line is a log line (a segment copied as is) is checked from that line's `prev`, without an end.
  /// - Parameter bytes: the file's contents.
  /// - Returns: where it starts, the records, and every problem (empty when the slice is intact).
  package static func verify(_ bytes: [UInt8]) -> Verification {
    var lines: [[UInt8]] = []
    var start = 0
    while start < bytes.count {
      let end = bytes[start...].firstIndex(of: 0x0A) ?? bytes.count
      lines.append(Array(bytes[start..<end]))
      start = end + 1
    }
    guard let first = lines.first else {
      return Verification(start: nil, records: [], problems: [AuditProblem(line: 1, kind: .exportHeaderMissing)], prunes: [], isRawSegment: false)
    }
    let origin: Start
    let raw: Bool
    if let header = try? JSONDecoder().decode(Header.self, from: Data(first)), header.export == format,
      header.after_seq >= 0, AuditDetail.isHash(header.after_hash)
    {
      origin = Start(sequence: header.after_seq, hash: header.after_hash)
      raw = false
    } else if let record = AuditLog.parse(first),
      (try? JSONDecoder().decode(End.self, from: Data(lines[lines.count - 1]))) == nil
    {
      // A segment (or the log) copied as is, not an export that lost its header: the chain starts from its first
      // line's `prev`.
      origin = Start(sequence: record.sequence - 1, hash: record.previousHash)
      raw = true
    } else {
      return Verification(start: nil, records: [], problems: [AuditProblem(line: 1, kind: .exportHeaderMissing)], prunes: [], isRawSegment: false)
    }
    var problems: [AuditProblem] = []
    if bytes.last != 0x0A { problems.append(AuditProblem(line: nil, kind: .truncatedLine)) }
    var body = raw ? lines[...] : lines.dropFirst()
    let end = raw ? nil : body.last.flatMap { line -> End? in
      guard let e = try? JSONDecoder().decode(End.self, from: Data(line)), e.export_end == format else { return nil }
      return e
    }
    if end != nil { body = body.dropLast() }
    var records: [AuditRecord] = []
    var previous = origin.hash
    var expectedSeq = origin.sequence + 1
    var lastLineNo = 1
    for (i, line) in body.enumerated() {
      let lineNo = i + (raw ? 1 : 2)
      lastLineNo = lineNo
      guard let record = AuditLog.parse(line) else {
        problems.append(AuditProblem(line: lineNo, kind: .unparsable))
        previous = AuditLog.hash(of: line)
        expectedSeq += 1
        continue
      }
      if AuditLog.encode(record.event, sequence: record.sequence, previousHash: record.previousHash) != line {
        problems.append(AuditProblem(line: lineNo, kind: .edited))
      }
      if record.previousHash != previous {
        if record.sequence > expectedSeq {
          problems.append(AuditProblem(line: lineNo, kind: .deletedBefore))
        } else if record.sequence < expectedSeq {
          problems.append(AuditProblem(line: lineNo, kind: .reorderedOrInserted))
        } else if !problems.contains(where: { $0.line == lineNo - 1 }) {
          // In sequence but the chain breaks: the line before it (the header, for the first) changed.
          problems.append(AuditProblem(line: lineNo - 1, kind: .edited))
        }
      } else if record.sequence != expectedSeq {
        problems.append(AuditProblem(line: lineNo, kind: .reorderedOrInserted))
      }
      if record.event.action == AuditLog.gapAction {
        problems.append(AuditProblem(line: lineNo, kind: .gapRecorded(record.event.detail ?? "")))
      }
      records.append(record)
      previous = record.hash
      expectedSeq = record.sequence + 1
    }
    if let end {
      let lastSeq = records.map(\.sequence).max() ?? origin.sequence
      let lastLine = body.isEmpty ? lines.count : lastLineNo
      if lastSeq < end.last_seq {
        problems.append(AuditProblem(line: nil, kind: .exportTruncated(missing: end.last_seq - lastSeq)))
      } else if previous != end.last_hash, !problems.contains(where: { $0.line == lastLine }) {
        // The last line (or the end line itself) changed: the chain has no later line to catch it.
        problems.append(AuditProblem(line: lastLine, kind: .edited))
      } else if body.count != end.lines, problems.isEmpty {
        // An intact chain whose count differs from the end line's: the end line changed.
        problems.append(AuditProblem(line: lines.count, kind: .edited))
      }
    } else if !raw {
      problems.append(AuditProblem(line: nil, kind: .exportEndMissing))
    }
    let prunes = records.compactMap { r -> AuditPruneNote? in
      guard r.event.action == AuditLog.pruneAction, let p = AuditPrune(detail: r.event.detail ?? "") else { return nil }
      return AuditPruneNote(prune: p, event: r.event)
    }
    return Verification(start: origin, records: records, problems: problems, prunes: prunes, isRawSegment: raw)
  }
}
