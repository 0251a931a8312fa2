import CofferCore

/// The compiled patterns of a redaction: every known value in every encoding ``Encodings`` lists, every line of a
/// multi-line value of at least ``Encodings/minimumLineLength`` bytes, and both halves of a long value.
///
/// Immutable; share it between the redactors of several streams.
package final class RedactionSet: Sendable {
  struct Entry: Sendable {
    let name: String
    /// Index in `tails` of the bytes that follow the key, or nil when the key is the whole variant.
    let tail: Int?
  }

  let automaton: Automaton
  let entries: [[Entry]]  // per automaton key
  let tails: [[UInt8]]

  /// Values that were too short to redact (under ``Encodings/minimumLength`` bytes).
  package let skipped: [SkippedValue]
  /// The longest variant: the most output a redactor ever holds back (a percent-encoded value may hold back up to
  /// three times its length).
  package let maxPatternLength: Int
  /// The values for percent-encoded text; owners are indices in `percentNames`.
  let percent: PercentPatterns
  let percentNames: [String]

  /// Compiles the patterns. Variants longer than 32 bytes are looked for by their first 32 bytes and compared in
  /// full afterwards, so the automaton stays small for long values such as keys and certificates.
  /// - Parameter values: the values; equal values are redacted under the first one's name.
  package init(values: [KnownValue]) {
    var keys: [[UInt8]] = []
    var entries: [[Entry]] = []
    var tails: [[UInt8]] = []
    var index: [ByteString: Int] = [:]
    var seen = Set<ByteString>()
    var skipped: [SkippedValue] = []
    var longest = 0
    var percentValues: [(owner: Int, bytes: [UInt8])] = []
    var percentNames: [String] = []
    var seenValues = Set<ByteString>()
    for v in values {
      let bytes = v.value.reveal()
      guard bytes.count >= Encodings.minimumLength else {
        skipped.append(SkippedValue(name: v.name, environment: v.environment, version: v.version, reason: "shorter than \(Encodings.minimumLength) bytes"))
        continue
      }
      if seenValues.insert(ByteString(bytes)).inserted {
        percentValues.append((percentNames.count, bytes))
        percentNames.append(v.name)
      }
      for variant in Encodings.variants(of: bytes, distinctiveParts: false) where seen.insert(ByteString(variant.bytes)).inserted {
        longest = max(longest, variant.bytes.count)
        let key = Array(variant.bytes.prefix(Scanner.keyLength))
        var entry = Entry(name: v.name, tail: nil)
        if variant.bytes.count > Scanner.keyLength {
          tails.append(Array(variant.bytes[Scanner.keyLength...]))
          entry = Entry(name: v.name, tail: tails.count - 1)
        }
        if let i = index[ByteString(key)] {
          entries[i].append(entry)
        } else {
          index[ByteString(key)] = keys.count
          keys.append(key)
          entries.append([entry])
        }
      }
    }
    automaton = Automaton(patterns: keys)
    self.entries = entries
    self.tails = tails
    self.skipped = skipped
    maxPatternLength = longest
    percent = PercentPatterns(values: percentValues)
    self.percentNames = percentNames
  }
}

/// Copies a stream, replacing every occurrence of a known value (in any of its encodings) with
/// `[redacted:NAME]`.
///
/// Streaming: ``redact(_:)`` returns at once every byte that can no longer be part of a match, and holds back only
/// the bytes that could still begin one (never more than ``RedactionSet/maxPatternLength`` − 1 after the last
/// match). A value split across any number of chunks is still replaced. Overlapping or nested matches are
/// replaced as one span, named after its longest match.
package struct Redactor {
  struct Span {
    var start: Int
    var end: Int
    var name: String
    var length: Int
  }

  struct Pending {
    let start: Int
    let keyLength: Int
    let tail: Int
    let name: String
  }

  let set: RedactionSet
  var cursor = Automaton.Cursor()
  var matches: [Automaton.Match] = []
  var held: [UInt8] = []  // bytes [heldStart, cursor.offset) not yet written
  var heldStart = 0
  var spans: [Span] = []  // disjoint, sorted
  var pending: [Pending] = []  // long variants whose key matched, still being compared

  var percent: PercentStream
  var percentMatches: [PercentMatch] = []

  /// A redactor at the start of a stream.
  package init(_ set: RedactionSet) {
    self.set = set
    percent = PercentStream(set.percent, skipQuiet: false)
  }

  /// Consumes a chunk and returns the output that is now final.
  /// - Parameter chunk: the next bytes of the stream.
  /// - Returns: bytes to write, possibly empty.
  package mutating func redact(_ chunk: UnsafeRawBufferPointer) -> [UInt8] {
    matches.removeAll(keepingCapacity: true)
    set.automaton.feed(chunk, cursor: &cursor, into: &matches)
    held.append(contentsOf: chunk.bindMemory(to: UInt8.self))
    for m in matches {
      let keyLength = set.automaton.patterns[m.pattern].count
      for entry in set.entries[m.pattern] {
        if let tail = entry.tail {
          pending.append(Pending(start: m.end - keyLength, keyLength: keyLength, tail: tail, name: entry.name))
        } else {
          add(Span(start: m.end - keyLength, end: m.end, name: entry.name, length: keyLength))
        }
      }
    }
    compare()
    percentMatches.removeAll(keepingCapacity: true)
    percent.feed(chunk.bindMemory(to: UInt8.self), into: &percentMatches)
    addPercentSpans()
    var safe = min(cursor.offset - set.automaton.pending(cursor), percent.holdFrom)
    if let first = pending.map(\.start).min() { safe = min(safe, first) }
    var emitTo = safe
    if let open = spans.first(where: { $0.end > safe }) { emitTo = min(emitTo, open.start) }
    return emit(upTo: emitTo)
  }

  /// Compares the held bytes after each pending key with the rest of its variant: a mismatch drops it at once, a
  /// full match becomes a span.
  private mutating func compare() {
    guard !pending.isEmpty else { return }
    var still: [Pending] = []
    for p in pending {
      let tail = set.tails[p.tail]
      let from = p.start + p.keyLength - heldStart
      let available = min(held.count - from, tail.count)
      if available > 0, !held[from..<(from + available)].elementsEqual(tail[0..<available]) { continue }
      if available == tail.count {
        add(Span(start: p.start, end: p.start + p.keyLength + tail.count, name: p.name, length: p.keyLength + tail.count))
      } else {
        still.append(p)
      }
    }
    pending = still
  }

  /// Consumes a chunk given as an array.
  package mutating func redact(_ chunk: [UInt8]) -> [UInt8] {
    chunk.withUnsafeBytes { redact($0) }
  }

  /// Ends the stream and returns everything still held (a variant cut short by the end is not a match).
  package mutating func finish() -> [UInt8] {
    pending = []
    percentMatches.removeAll(keepingCapacity: true)
    percent.finish(into: &percentMatches)
    addPercentSpans()
    return emit(upTo: cursor.offset)
  }

  /// Spans for values found percent-encoded: the whole encoded text is replaced.
  private mutating func addPercentSpans() {
    for m in percentMatches {
      add(Span(start: m.start, end: m.end, name: set.percentNames[m.owner], length: m.end - m.start))
    }
  }

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
