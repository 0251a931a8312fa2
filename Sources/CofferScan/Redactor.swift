import CofferCore

/// The compiled patterns of a redaction: every known value in every encoding ``Encodings`` lists, every line of a
/// multi-line value of at least ``Encodings/minimumLineLength`` bytes, and both halves of a long value.
///
/// Immutable; share it between the redactors of several streams.
public final class RedactionSet: Sendable {
  let automaton: Automaton
  let names: [String]  // per pattern: the secret's name

  /// Values that were too short to redact (under ``Encodings/minimumLength`` bytes).
  public let skipped: [SkippedValue]
  /// The longest pattern: the most output a redactor ever holds back.
  public var maxPatternLength: Int { automaton.maxPatternLength }

  /// Compiles the patterns.
  /// - Parameter values: the values; equal values are redacted under the first one's name.
  public init(values: [KnownValue]) {
    var patterns: [[UInt8]] = []
    var names: [String] = []
    var seen = Set<ByteString>()
    var skipped: [SkippedValue] = []
    for v in values {
      let bytes = v.value.reveal()
      guard bytes.count >= Encodings.minimumLength else {
        skipped.append(SkippedValue(name: v.name, environment: v.environment, version: v.version, reason: "shorter than \(Encodings.minimumLength) bytes"))
        continue
      }
      for variant in Encodings.variants(of: bytes, distinctiveParts: false) where seen.insert(ByteString(variant.bytes)).inserted {
        patterns.append(variant.bytes)
        names.append(v.name)
      }
    }
    automaton = Automaton(patterns: patterns)
    self.names = names
    self.skipped = skipped
  }
}

/// Copies a stream, replacing every occurrence of a known value (in any of its encodings) with
/// `[redacted:NAME]`.
///
/// Streaming: ``redact(_:)`` returns at once every byte that can no longer be part of a match, and holds back only
/// the bytes that could still begin one (never more than ``RedactionSet/maxPatternLength`` − 1 after the last
/// match). A value split across any number of chunks is still replaced. Overlapping or nested matches are
/// replaced as one span, named after its longest match.
public struct Redactor {
  struct Span {
    var start: Int
    var end: Int
    var name: String
    var length: Int
  }

  let set: RedactionSet
  var cursor = Automaton.Cursor()
  var matches: [Automaton.Match] = []
  var held: [UInt8] = []  // bytes [heldStart, cursor.offset) not yet written
  var heldStart = 0
  var spans: [Span] = []  // disjoint, sorted

  /// A redactor at the start of a stream.
  public init(_ set: RedactionSet) { self.set = set }

  /// Consumes a chunk and returns the output that is now final.
  /// - Parameter chunk: the next bytes of the stream.
  /// - Returns: bytes to write, possibly empty.
  public mutating func redact(_ chunk: UnsafeRawBufferPointer) -> [UInt8] {
    matches.removeAll(keepingCapacity: true)
    set.automaton.feed(chunk, cursor: &cursor, into: &matches)
    held.append(contentsOf: chunk.bindMemory(to: UInt8.self))
    for m in matches {
      let length = set.automaton.patterns[m.pattern].count
      add(Span(start: m.end - length, end: m.end, name: set.names[m.pattern], length: length))
    }
    let safe = cursor.offset - set.automaton.pending(cursor)
    var emitTo = safe
    if let open = spans.first(where: { $0.end > safe }) { emitTo = min(emitTo, open.start) }
    return emit(upTo: emitTo)
  }

  /// Consumes a chunk given as an array.
  public mutating func redact(_ chunk: [UInt8]) -> [UInt8] {
    chunk.withUnsafeBytes { redact($0) }
  }

  /// Ends the stream and returns everything still held.
  public mutating func finish() -> [UInt8] { emit(upTo: cursor.offset) }

  private mutating func add(_ span: Span) {
    var merged = span
    var keep: [Span] = []
    for s in spans {
      if s.end > merged.start && s.start < merged.end {
        let longer = s.length >= merged.length ? s : merged
        merged = Span(start: min(s.start, merged.start), end: max(s.end, merged.end), name: longer.name, length: longer.length)
      } else {
        keep.append(s)
      }
    }
    keep.append(merged)
    spans = keep.sorted { $0.start < $1.start }
  }

  private mutating func emit(upTo end: Int) -> [UInt8] {
    guard end > heldStart else { return [] }
    var out: [UInt8] = []
    out.reserveCapacity(end - heldStart)
    var position = heldStart
    var remaining: [Span] = []
    for s in spans {
      guard s.end <= end else {
        remaining.append(s)
        continue
      }
      if s.start > position { out.append(contentsOf: held[(position - heldStart)..<(s.start - heldStart)]) }
      out.append(contentsOf: Array("[redacted:\(s.name)]".utf8))
      position = max(position, s.end)
    }
    if end > position { out.append(contentsOf: held[(position - heldStart)..<(end - heldStart)]) }
    held.removeFirst(end - heldStart)
    heldStart = end
    spans = remaining
    return out
  }
}
