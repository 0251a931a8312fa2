import CofferCore
import Crypto
import FoundationEssentials

/// One audit record: who did what to which secrets, with keyed fingerprints and never a value.
///
/// Encoded as one JSON line (see docs/audit.md). Every field is plain metadata; the only value-derived data are
/// ``fingerprints``, HMAC-SHA256 under a key held in the vault (`Vault.fingerprint(of:)`), never a plain hash.
package struct AuditEvent: Sendable, Equatable {
  /// When it happened.
  package var time: Timestamp
  /// Who: a recipient name from the manifest, or the identity's `age1…` recipient.
  package var actor: String
  /// The operating-system user who ran Coffer.
  package var osUser: String
  /// What: `read`, `write`, `delete`, `import`, `export`, `run`, `sync`, `rewrap`, `rotate`, `rollback`, `access`…
  package var action: String
  /// The environment, when one applies.
  package var environment: String?
  /// The secret names involved, sorted; empty when ``count`` says how many there were instead.
  package var secrets: [String]
  /// How many secrets were involved when ``secrets`` leaves their names out (a set larger than
  /// ``AuditLog/nameLimit`` whose names were not asked for); `nil` when ``secrets`` names every one.
  package var count: Int?
  /// Name → keyed fingerprint (64 hex digits) of the value involved.
  package var fingerprints: [String: String]
  /// The destination, for sync.
  package var destination: String?
  /// `ok`, `denied`, `failed`, or another short word.
  package var outcome: String
  /// Free text without values (e.g. "version 3", "rolled back to version 2").
  package var detail: String?

  /// Creates an event.
  package init(
    time: Timestamp, actor: String, osUser: String, action: String, environment: String? = nil,
    secrets: [String] = [], count: Int? = nil, fingerprints: [String: String] = [:], destination: String? = nil,
    outcome: String = "ok", detail: String? = nil
  ) {
    self.time = time
    self.actor = actor
    self.osUser = osUser
    self.action = action
    self.environment = environment
    self.secrets = secrets.sorted()
    self.count = count
    self.fingerprints = fingerprints
    self.destination = destination
    self.outcome = outcome
    self.detail = detail
  }
}

/// A parsed audit line.
package struct AuditRecord: Sendable, Equatable {
  /// The 1-based sequence number.
  package let sequence: Int
  /// The event.
  package let event: AuditEvent
  /// The SHA-256 (hex) of the previous line's bytes, or 64 zeros for the first line.
  package let previousHash: String
  /// The SHA-256 (hex) of this line's bytes (without its LF).
  package let hash: String
}

/// The hash-chained JSON-lines encoding of the audit log, and its verification. Pure: bytes in, values out.
///
/// Each line is a JSON object with keys in a fixed order: `seq`, `time`, `actor`, `os_user`, `action`,
/// `environment`, `secrets`, `fingerprints`, `destination`, `outcome`, `detail`, `prev`. `prev` is the lowercase hex
/// SHA-256 of the previous line's exact bytes (64 zeros on the first line), so editing, deleting, inserting or
/// reordering a line breaks the chain at a specific place. Truncation at the end is caught with a *head*: the
/// sequence number and hash of the last line, authenticated with an HMAC under a key only the identity holder has
/// (``AuditHead``).
package enum AuditLog {
  /// The `prev` value of the first line.
  package static let genesis = String(repeating: "0", count: 64)

  /// The action of the line an append writes, before its own, when the log no longer matches its head: the
  /// evidence of a truncation or edit outside Coffer stays in the chain, so a later append cannot erase it.
  package static let gapAction = "log-gap"

  /// Up to this many secrets, a line names each one (and a read records one fingerprint per value); above it, the
  /// line records ``AuditEvent/count`` and one keyed fingerprint of the whole set (`"*"`) instead, unless the names
  /// were asked for (`run --audit-names`). Keeps a `run` of a large project to a few hundred bytes (docs/audit.md).
  package static let nameLimit = 20

  /// The names and count a line records for a set of secrets.
  /// - Parameters:
  ///   - names: every name involved.
  ///   - includeNames: whether the caller asked for the names whatever their number.
  /// - Returns: the names to list and the count to record (`nil` when the names are listed).
  package static func summarize(_ names: [String], includeNames: Bool) -> (secrets: [String], count: Int?) {
    names.count <= nameLimit || includeNames ? (names, nil) : ([], names.count)
  }

  /// Why the lines before an append cannot be vouched for, or nil when they can: the head (when it authenticates)
  /// must still find its own line in the log, unchanged.
  /// - Parameters:
  ///   - records: the log's records, as ``verify(_:head:)`` parsed them.
  ///   - head: the head, when it exists and authenticates with this identity.
  ///   - headExists: whether a head file exists at all (`false`: deleted).
  /// - Returns: a sentence for the gap line's `detail`, never holding a value.
  package static func gap(records: [AuditRecord], head: AuditHead?, headExists: Bool) -> String? {
    guard !records.isEmpty else {
      guard let head, head.sequence > 0 else { return nil }
      return "the log was empty but its head recorded line \(head.sequence): lines were removed outside coffer"
    }
    guard headExists else { return "the log had no head: lines before this one may have been removed" }
    guard let head else {
      return "the head was written under another identity or forged: lines before this one may have been removed"
    }
    if records.contains(where: { $0.sequence == head.sequence && $0.hash == head.hash }) { return nil }
    return "the log no longer held line \(head.sequence) as its head recorded it (it ended at line "
      + "\(records.last?.sequence ?? 0)): lines were removed or edited outside coffer"
  }

  /// Encodes an event as the next line of a log.
  /// - Parameters:
  ///   - event: the event.
  ///   - sequence: its 1-based position.
  ///   - previousHash: the hash of the previous line (``genesis`` for the first).
  /// - Returns: the line's bytes without the trailing LF.
  package static func encode(_ event: AuditEvent, sequence: Int, previousHash: String) -> [UInt8] {
    var out = [UInt8]()
    out.reserveCapacity(256 + event.secrets.reduce(0) { $0 + $1.utf8.count + 3 } + event.fingerprints.count * 90)
    func raw(_ s: StaticString) { s.withUTF8Buffer { out.append(contentsOf: $0) } }
    func str(_ s: String) { quote(s, into: &out) }
    func optional(_ s: String?) { if let s { str(s) } else { raw("null") } }
    raw("{\"seq\":")
    out.append(contentsOf: String(sequence).utf8)
    raw(",\"time\":")
    str(event.time.rfc3339)
    raw(",\"actor\":")
    str(event.actor)
    raw(",\"os_user\":")
    str(event.osUser)
    raw(",\"action\":")
    str(event.action)
    raw(",\"environment\":")
    optional(event.environment)
    raw(",\"secrets\":[")
    for (i, name) in event.secrets.enumerated() {
      if i > 0 { out.append(0x2C) }
      str(name)
    }
    out.append(0x5D)
    if let count = event.count {
      raw(",\"count\":")
      out.append(contentsOf: String(count).utf8)
    }
    raw(",\"fingerprints\":{")
    for (i, key) in event.fingerprints.keys.sorted().enumerated() {
      if i > 0 { out.append(0x2C) }
      str(key)
      out.append(0x3A)
      str(event.fingerprints[key] ?? "")
    }
    raw("},\"destination\":")
    optional(event.destination)
    raw(",\"outcome\":")
    str(event.outcome)
    raw(",\"detail\":")
    optional(event.detail)
    raw(",\"prev\":")
    str(previousHash)
    out.append(0x7D)
    return out
  }

  /// The hash that the next line's `prev` must carry.
  /// - Parameter line: a line's bytes without its LF.
  /// - Returns: 64 lowercase hex digits.
  package static func hash(of line: [UInt8]) -> String {
    hash(of: line[...])
  }

  /// ``hash(of:)`` for a slice, without copying it.
  package static func hash(of line: ArraySlice<UInt8>) -> String {
    var hasher = SHA256()
    line.withUnsafeBytes { hasher.update(bufferPointer: $0) }
    return hex(hasher.finalize().withUnsafeBytes { Array($0) })
  }

  /// Parses and verifies a whole log.
  /// - Parameters:
  ///   - bytes: the log file's contents.
  ///   - head: the authenticated head, if one is kept; a log shorter than the head, or whose last line differs from
  ///     it, is reported as truncated or rewritten.
  /// - Returns: the records that parsed, and every problem found, in order (empty when the log is intact).
  package static func verify(_ bytes: [UInt8], head: AuditHead?) -> (records: [AuditRecord], problems: [AuditProblem]) {
    let result = verify(segments: [AuditSegmentFile(number: 1, bytes: bytes)], head: head)
    return (result.records, result.problems.map { AuditProblem(line: $0.line, kind: $0.kind) })
  }

  /// Parses one line without checking the chain.
  /// - Parameter line: the line's bytes without LF.
  /// - Returns: the record, or `nil` when it is not a line this encoder writes.
  package static func parse(_ line: [UInt8]) -> AuditRecord? {
    struct Wire: Decodable {
      let seq: Int
      let time: String
      let actor: String
      let os_user: String
      let action: String
      let environment: String?
      let secrets: [String]
      let count: Int?
      let fingerprints: [String: String]
      let destination: String?
      let outcome: String
      let detail: String?
      let prev: String
    }
    guard let w = try? JSONDecoder().decode(Wire.self, from: Data(line)), let time = Timestamp(rfc3339: w.time) else {
      return nil
    }
    let event = AuditEvent(
      time: time, actor: w.actor, osUser: w.os_user, action: w.action, environment: w.environment,
      secrets: w.secrets, count: w.count, fingerprints: w.fingerprints, destination: w.destination, outcome: w.outcome,
      detail: w.detail)
    return AuditRecord(sequence: w.seq, event: event, previousHash: w.prev, hash: hash(of: line))
  }

  /// Appends `s` as a JSON string: `"` and `\\` escaped, control characters as `\\n`, `\\r`, `\\t` or `\\u00XX`.
  ///
  /// Not `JSONString`: these exact bytes are what `verify` re-encodes and the hash chain covers, so this encoding is
  /// part of the log format (docs/audit.md) and must not follow changes to the general escaper.
  static func quote(_ s: String, into out: inout [UInt8]) {
    out.append(0x22)
    // Names, times and hashes need no escaping: copy them whole.
    var text = s
    let plain = text.withUTF8 { u in
      for b in u where b < 0x20 || b == 0x22 || b == 0x5C || b == 0x7F { return false }
      out.append(contentsOf: u)
      return true
    }
    if plain {
      out.append(0x22)
      return
    }
    for b in s.utf8 {
      switch b {
      case 0x22: out.append(0x5C); out.append(0x22)
      case 0x5C: out.append(0x5C); out.append(0x5C)
      case 0x0A: out.append(0x5C); out.append(0x6E)
      case 0x0D: out.append(0x5C); out.append(0x72)
      case 0x09: out.append(0x5C); out.append(0x74)
      case 0..<0x20, 0x7F:
        let digits = Array("0123456789abcdef".utf8)
        out.append(contentsOf: [0x5C, 0x75, 0x30, 0x30, digits[Int(b >> 4)], digits[Int(b & 15)]])
      default: out.append(b)
      }
    }
    out.append(0x22)
  }
}

/// Something wrong with a log, and where.
package struct AuditProblem: Sendable, Equatable, CustomStringConvertible {
  /// What is wrong.
  package enum Kind: Sendable, Equatable {
    /// The line is not a record this encoder writes.
    case unparsable
    /// The line's content changed after it was written.
    case edited
    /// One or more lines before this one were removed.
    case deletedBefore
    /// This line is out of order or was not written in this place.
    case reorderedOrInserted
    /// Lines at the end were removed (known from the head).
    case truncated(missing: Int)
    /// The last line has no LF: a write was cut short or the file was cut.
    case truncatedLine
    /// An append found the log not matching its head and recorded it in this line (``AuditLog/gapAction``); the
    /// text says what it found.
    case gapRecorded(String)
    /// Segments `from` through `through` are not on disk and no prune line records their removal.
    case segmentsMissing(from: Int, through: Int)
    /// This closed segment's bytes differ from the hash the next segment recorded when it opened (edited,
    /// truncated or replaced after it closed).
    case segmentChanged(next: Int)
    /// This segment file holds another segment (renamed or reordered); the number is the one its first line records.
    case segmentMisplaced(holds: Int)
    /// This segment does not begin with the line that opens a segment (its start was removed).
    case segmentUnopened
    /// An exported file (``AuditExport``) whose first line is not the export's header.
    case exportHeaderMissing
    /// An exported file without its end line: it was cut short (or lines were added after the end).
    case exportEndMissing
    /// An exported file whose end line records this many more lines than it holds: lines were removed at its end.
    case exportTruncated(missing: Int)
  }
  /// The 1-based line within its segment, when the problem is at one.
  package let line: Int?
  /// The kind.
  package let kind: Kind
  /// The segment the problem is in, from ``AuditLog/verify(segments:head:)``; `nil` from the single-file
  /// ``AuditLog/verify(_:head:)`` and for problems of the whole log.
  package let segment: Int?

  /// Creates a problem.
  /// - Parameters:
  ///   - line: the 1-based line within its segment, if any.
  ///   - kind: what is wrong.
  ///   - segment: the segment number, if any.
  package init(line: Int?, kind: Kind, segment: Int? = nil) {
    self.line = line
    self.kind = kind
    self.segment = segment
  }

  package var description: String {
    let at = line.map { "line \($0): " } ?? ""
    switch kind {
    case .unparsable: return at + "not a coffer audit record"
    case .edited: return at + "edited after it was written"
    case .deletedBefore: return at + "one or more lines before it were deleted"
    case .reorderedOrInserted: return at + "out of order or inserted"
    case .truncated(let n): return "\(n) line\(n == 1 ? "" : "s") missing at the end (the log was truncated)"
    case .truncatedLine: return "the last line is incomplete"
    case .gapRecorded(let found): return at + "recorded when appended: " + found
    case .segmentsMissing(let a, let b):
      return (a == b ? "segment \(a) is" : "segments \(a)-\(b) are") + " missing and no prune line records the removal"
    case .segmentChanged(let next):
      return "changed after it closed (its SHA-256 differs from the one segment \(next) recorded)"
    case .segmentMisplaced(let holds): return at + "this file holds segment \(holds) (renamed or reordered)"
    case .segmentUnopened: return at + "the segment does not begin with its segment line (its start was removed)"
    case .exportHeaderMissing: return at + "not a coffer audit export (the first line is not its header)"
    case .exportEndMissing: return "the end line is missing (the export was cut short, or lines were added after it)"
    case .exportTruncated(let n): return "\(n) line\(n == 1 ? "" : "s") missing at the end (the export was truncated)"
    }
  }
}

/// The authenticated head of a log: the last sequence number and line hash, with an HMAC-SHA256 under a key
/// derived (HKDF-SHA256, info `coffer-audit/v1 head`) from the identity, so that only its holder can move it.
package struct AuditHead: Sendable, Equatable {
  /// The last line's sequence number (0 for an empty log).
  package let sequence: Int
  /// The last line's hash (``AuditLog/genesis`` for an empty log).
  package let hash: String
  /// The log's size in bytes when this head was written (lets an append trust the head without re-reading the log).
  package let size: Int

  /// Creates a head.
  package init(sequence: Int, hash: String, size: Int) {
    self.sequence = sequence
    self.hash = hash
    self.size = size
  }

  /// Encodes the head with its MAC, one line: `SEQ HASH SIZE MAC`.
  /// - Parameter key: the identity's secret text (its bytes are the HKDF input).
  package func encoded(key: SecretValue) -> [UInt8] {
    Array("\(sequence) \(hash) \(size) \(AuditHead.mac(sequence, hash, size, key))\n".utf8)
  }

  /// Decodes and authenticates a head.
  /// - Parameters:
  ///   - bytes: the head file.
  ///   - key: the identity's secret text.
  /// - Returns: the head, or `nil` when it is malformed or its MAC does not verify.
  package static func decode(_ bytes: [UInt8], key: SecretValue) -> AuditHead? {
    let parts = String(decoding: bytes, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" })
    guard parts.count == 4, let seq = Int(parts[0]), seq >= 0, parts[1].utf8.count == 64, let size = Int(parts[2]),
      size >= 0
    else { return nil }
    guard mac(seq, String(parts[1]), size, key) == String(parts[3]) else { return nil }
    return AuditHead(sequence: seq, hash: String(parts[1]), size: size)
  }

  static func mac(_ seq: Int, _ hash: String, _ size: Int, _ key: SecretValue) -> String {
    // HKDF-SHA256 (RFC 5869) to 32 bytes, as CofferVault's AgeCrypto.hkdf computes it: swift-crypto's Extract (an
    // empty salt is RFC 5869's default), then Expand's one block T(1) = HMAC(PRK, info ‖ 0x01), which avoids a search
    // of every conformance record in the binary on first use (docs/performance.md). AuditHeadKeyTests checks the key
    // against HKDF<SHA256>.deriveKey.
    let prk = HKDF<SHA256>.extract(inputKeyMaterial: SymmetricKey(data: key.reveal()), salt: [UInt8]())
    let block = Array("coffer-audit/v1 head".utf8) + [1]
    let k = SymmetricKey(data: block.withUnsafeBytes { HMAC<SHA256>.authenticationCode(for: $0, using: SymmetricKey(data: prk)) })
    let message = Array("\(seq) \(hash) \(size)".utf8)
    return hex(message.withUnsafeBytes { HMAC<SHA256>.authenticationCode(for: $0, using: k).withUnsafeBytes { Array($0) } })
  }
}

func hex(_ bytes: [UInt8]) -> String {
  let digits = Array("0123456789abcdef".utf8)
  var out = [UInt8]()
  out.reserveCapacity(bytes.count * 2)
  for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
  return String(decoding: out, as: UTF8.self)
}
