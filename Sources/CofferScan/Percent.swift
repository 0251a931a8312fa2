/// Known values written percent-encoded (RFC 3986 §2.1), however the encoder chose what to escape.
///
/// Encoders disagree on the safe set (Python's `quote()` keeps `/`, `encodeURI` keeps `;,/?:@&=+$#`, Go's
/// `PathEscape` keeps `:@&=+$`, form encoders write a space as `+`) and on the hex case (`%2f`, `%2F`). Instead of
/// listing forms, the text is decoded while it is matched: every `%XX` (either case) is read as the byte it stands
/// for, and `+` is read as a space, so one pattern per value matches every mixture of escaped and literal bytes. A
/// value's own `+` is matched by `+`, `%2B` or a space (the cost: a value with a `+` also matches that text with a
/// space in its place). Offsets are mapped back, so a match covers the whole encoded span.
final class PercentPatterns: Sendable {
  struct Entry: Sendable {
    /// The caller's number for the value.
    let owner: Int
    /// Index in `tails` of the canonical bytes after the key, or nil when the key is the whole value.
    let tail: Int?
  }

  let automaton: Automaton
  let entries: [[Entry]]  // per automaton pattern
  let tails: [[UInt8]]
  /// The longest value, in bytes (decoded).
  let maxLength: Int
  /// Whether a literal `+` in the input can matter (some value has a space or a `+`).
  let plusMatters: Bool

  /// Compiles the values (canonical form: `+` as space). Values longer than ``Scanner/keyLength`` are looked for by
  /// their first bytes and compared in full afterwards.
  /// - Parameter values: each value's bytes and the caller's number for it; equal values are kept under each owner.
  init(values: [(owner: Int, bytes: [UInt8])]) {
    var keys: [[UInt8]] = []
    var entries: [[Entry]] = []
    var tails: [[UInt8]] = []
    var index: [ByteString: Int] = [:]
    var longest = 0
    var plus = false
    for v in values where v.bytes.count >= Encodings.minimumLength {
      let canonical = v.bytes.map(Self.canonical)
      plus = plus || canonical.contains(0x20)
      longest = max(longest, canonical.count)
      var entry = Entry(owner: v.owner, tail: nil)
      if canonical.count > Scanner.keyLength {
        tails.append(Array(canonical[Scanner.keyLength...]))
        entry = Entry(owner: v.owner, tail: tails.count - 1)
      }
      let key = Array(canonical.prefix(Scanner.keyLength))
      if let i = index[ByteString(key)] {
        entries[i].append(entry)
      } else {
        index[ByteString(key)] = keys.count
        keys.append(key)
        entries.append([entry])
      }
    }
    automaton = Automaton(patterns: keys, equivalents: [(0x2B, 0x20)])
    self.entries = entries
    self.tails = tails
    maxLength = longest
    plusMatters = plus
  }

  /// The byte as matched: `+` is a space.
  @inline(__always) static func canonical(_ byte: UInt8) -> UInt8 { byte == 0x2B ? 0x20 : byte }

  /// The value of a hex digit (either case), or nil.
  @inline(__always) static func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case 0x30...0x39: byte - 0x30
    case 0x41...0x46: byte - 0x41 + 10
    case 0x61...0x66: byte - 0x61 + 10
    default: nil
    }
  }
}

/// One value found by a ``PercentStream``, in offsets of the original input.
struct PercentMatch: Equatable {
  let owner: Int
  let start: Int
  let end: Int
}

/// Decodes a stream's `%XX` escapes and matches ``PercentPatterns`` against the result, chunk by chunk.
///
/// A match is reported once its last byte has been fed, with its start and end in the original input; matches
/// that are plain occurrences of a value are reported too (the callers already find those, and merge overlaps).
/// With `skipQuiet`, chunks are taken in pieces of 4 KiB (or twice the longest value), and a piece with no escape
/// (and no literal `+` when that matters) is not decoded at all unless a match in progress needs it: before the next chunk that is decoded, the last ``PercentPatterns/maxLength`` − 1
/// bytes are decoded again from a fresh state, so a match that starts in skipped bytes is still found (and a match
/// may then be reported twice). Without it every byte is decoded, and ``holdFrom`` is exact.
struct PercentStream {
  struct Pending {
    let owner: Int
    let start: Int  // decoded offset of the key's first byte
    let keyEnd: Int  // decoded offset after the key
    let tail: Int
  }

  let patterns: PercentPatterns
  let skipQuiet: Bool
  var cursor = Automaton.Cursor()  // in decoded offsets
  var consumed = 0  // original bytes fed so far
  var partial: [UInt8] = []  // a `%` or `%X` at the end of what was decoded
  var partialStart = 0
  /// (decoded offset, shift): from that decoded offset on, original = decoded + shift (until the next anchor).
  var anchors: [(decoded: Int, shift: Int)] = [(0, 0)]
  var history: [UInt8] = []  // decoded bytes [historyStart, cursor.offset)
  var historyStart = 0
  var lastEscape = -1  // decoded offset of the last byte that came from an escape
  var pending: [Pending] = []
  var recent: [UInt8] = []  // with skipQuiet: the last maxLength - 1 original bytes, for a replay
  var decodedLast = true  // whether the previous chunk was decoded
  var matches: [Automaton.Match] = []

  init(_ patterns: PercentPatterns, skipQuiet: Bool) {
    self.patterns = patterns
    self.skipQuiet = skipQuiet
  }

  /// The smallest original offset that may still be part of a match not yet reported (without `skipQuiet`).
  var holdFrom: Int {
    guard patterns.automaton.patterns.count > 0 else { return consumed }
    var decoded = cursor.offset - patterns.automaton.pending(cursor)
    for p in pending { decoded = min(decoded, p.start) }
    var out = original(decoded)
    if !partial.isEmpty { out = min(out, partialStart) }
    return min(out, consumed)
  }

  /// The original offset of decoded offset `d` (the start of the byte decoded there, or the end of the input
  /// decoded so far).
  func original(_ d: Int) -> Int {
    var lo = 0
    var hi = anchors.count - 1
    while lo < hi {
      let mid = (lo + hi + 1) / 2
      if anchors[mid].decoded <= d { lo = mid } else { hi = mid - 1 }
    }
    return d + anchors[lo].shift
  }

  /// Feeds the next chunk and appends the matches it completes.
  mutating func feed(_ chunk: UnsafeBufferPointer<UInt8>, into out: inout [PercentMatch]) {
    guard patterns.automaton.patterns.count > 0, chunk.count > 0 else {
      consumed += chunk.count
      return
    }
    guard skipQuiet else {
      decode(chunk, at: consumed, into: &out)
      consumed += chunk.count
      return
    }
    // Pieces of a few KiB, so one escape in a large file costs the decoding of its piece, not of the file.
    let piece = max(4096, 2 * patterns.maxLength)
    var start = 0
    while start < chunk.count {
      let end = min(start + piece, chunk.count)
      feedPiece(UnsafeBufferPointer(rebasing: chunk[start..<end]), into: &out)
      start = end
    }
  }

  /// One piece of a chunk, skipped when quiet (see the type's documentation).
  private mutating func feedPiece(_ chunk: UnsafeBufferPointer<UInt8>, into out: inout [PercentMatch]) {
    let quiet = partial.isEmpty && pending.isEmpty && !inProgressHasEscape && !hasTrigger(chunk)
    if quiet {
      remember(chunk)
      consumed += chunk.count
      decodedLast = false
      return
    }
    if !decodedLast {
      // Replay the remembered bytes from a fresh state so a match that began in skipped bytes is found.
      let replay = recent
      let replayStart = consumed - replay.count
      restart(at: replayStart)
      replay.withUnsafeBufferPointer { decode($0, at: replayStart, into: &out) }
    }
    decodedLast = true
    remember(chunk)
    decode(chunk, at: consumed, into: &out)
    consumed += chunk.count
  }

  /// Ends the input: a `%` or `%X` left at the end is plain text, and long values cut short are not matches.
  mutating func finish(into out: inout [PercentMatch]) {
    if !partial.isEmpty {
      let bytes = partial
      partial = []
      emitPlain(bytes, into: &out)
    }
    pending = []
  }

  // MARK: - Private

  private var inProgressHasEscape: Bool {
    cursor.offset - patterns.automaton.pending(cursor) <= lastEscape
  }

  /// Whether a chunk holds an escape (`%XX`, or a `%` or `%X` at its end), or a `+` when that can matter.
  private func hasTrigger(_ chunk: UnsafeBufferPointer<UInt8>) -> Bool {
    if patterns.plusMatters && firstIndex(of: 0x2B, in: chunk, from: 0) != nil { return true }
    let n = chunk.count
    var from = 0
    while let i = firstIndex(of: 0x25, in: chunk, from: from) {
      if i + 2 >= n { return i + 1 == n || PercentPatterns.hexValue(chunk[i + 1]) != nil }
      if PercentPatterns.hexValue(chunk[i + 1]) != nil && PercentPatterns.hexValue(chunk[i + 2]) != nil {
        return true
      }
      from = i + 1
    }
    return false
  }

  /// The first index at or after `from` holding `byte`, eight bytes at a time.
  private func firstIndex(of byte: UInt8, in chunk: UnsafeBufferPointer<UInt8>, from: Int) -> Int? {
    guard let base = chunk.baseAddress else { return nil }
    let n = chunk.count
    var i = from
    let ones: UInt64 = 0x0101_0101_0101_0101
    let highs: UInt64 = 0x8080_8080_8080_8080
    let pattern = ones &* UInt64(byte)
    let raw = UnsafeRawPointer(base)
    while i + 8 <= n {
      let x = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) ^ pattern
      if (x &- ones) & ~x & highs != 0 { break }  // some byte of these eight is `byte`
      i += 8
    }
    while i < n {
      if base[i] == byte { return i }
      i += 1
    }
    return nil
  }

  private mutating func remember(_ chunk: UnsafeBufferPointer<UInt8>) {
    let keep = max(patterns.maxLength - 1, 0)
    if chunk.count >= keep {
      recent = Array(chunk[(chunk.count - keep)...])
    } else {
      recent.append(contentsOf: chunk)
      if recent.count > keep { recent.removeFirst(recent.count - keep) }
    }
  }

  /// Starts matching afresh at original offset `origin`, keeping decoded offsets increasing.
  private mutating func restart(at origin: Int) {
    var fresh = Automaton.Cursor()
    fresh.offset = cursor.offset
    cursor = fresh
    partial = []
    pending = []
    history = []
    historyStart = cursor.offset
    anchors = [(cursor.offset, origin - cursor.offset)]
  }

  /// Decodes `chunk` (which starts at original offset `at`) and matches the result.
  private mutating func decode(_ chunk: UnsafeBufferPointer<UInt8>, at origin: Int, into out: inout [PercentMatch]) {
    if partial.isEmpty && !chunk.contains(0x25) {
      addAnchor(shift: origin - cursor.offset)
      run(UnsafeRawBufferPointer(chunk), into: &out)
      return
    }
    let startOrigin = partial.isEmpty ? origin : partialStart  // the original offset of the first decoded byte
    if partial.isEmpty {
      decodeEscapes(chunk, startOrigin: startOrigin, into: &out)
    } else {
      let joined = partial + Array(chunk)
      partial = []
      joined.withUnsafeBufferPointer { decodeEscapes($0, startOrigin: startOrigin, into: &out) }
    }
  }

  /// Decodes bytes holding `%` (runs without one are copied whole), records the offset map, and matches.
  private mutating func decodeEscapes(
    _ bytes: UnsafeBufferPointer<UInt8>, startOrigin: Int, into out: inout [PercentMatch]
  ) {
    let base = cursor.offset
    var decoded: [UInt8] = []
    decoded.reserveCapacity(bytes.count)
    var escapes: [(decoded: Int, shift: Int)] = []  // an anchor after each escape
    var originOfNext = startOrigin  // original offset of the next decoded byte
    var lastEscapeHere = -1
    let n = bytes.count
    var i = 0
    while i < n {
      // Copy the run up to the next `%` in one piece.
      var j = i
      while j < n && bytes[j] != 0x25 { j += 1 }
      if j > i {
        decoded.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[i..<j]))
        originOfNext += j - i
        i = j
        continue
      }
      if i + 2 < n {
        if let hi = PercentPatterns.hexValue(bytes[i + 1]), let lo = PercentPatterns.hexValue(bytes[i + 2]) {
          decoded.append(hi << 4 | lo)
          lastEscapeHere = decoded.count - 1
          originOfNext += 3
          escapes.append((decoded.count, originOfNext - (base + decoded.count)))
          i += 3
          continue
        }
      } else if i + 1 == n || PercentPatterns.hexValue(bytes[i + 1]) != nil {
        // `%` or `%X` at the end: decided with the next chunk.
        partial = Array(bytes[i...])
        partialStart = originOfNext
        break
      }
      decoded.append(0x25)  // a `%` that starts no escape
      originOfNext += 1
      i += 1
    }
    addAnchor(shift: startOrigin - base)
    for e in escapes { addAnchor(shift: e.shift, at: base + e.decoded) }
    if lastEscapeHere >= 0 { lastEscape = base + lastEscapeHere }
    decoded.withUnsafeBytes { run($0, into: &out) }
  }

  /// Plain bytes (a dangling `%` at the end of the input).
  private mutating func emitPlain(_ bytes: [UInt8], into out: inout [PercentMatch]) {
    addAnchor(shift: partialStart - cursor.offset)
    bytes.withUnsafeBytes { run($0, into: &out) }
  }

  private mutating func addAnchor(shift: Int, at decoded: Int? = nil) {
    let d = decoded ?? cursor.offset
    if let last = anchors.last, last.shift == shift { return }
    if let last = anchors.last, last.decoded == d {
      anchors[anchors.count - 1] = (d, shift)
    } else {
      anchors.append((d, shift))
    }
  }

  /// Feeds decoded bytes to the automaton, verifies long values, reports matches.
  private mutating func run(_ decoded: UnsafeRawBufferPointer, into out: inout [PercentMatch]) {
    matches.removeAll(keepingCapacity: true)
    patterns.automaton.feed(decoded, cursor: &cursor, into: &matches)
    history.append(contentsOf: decoded.bindMemory(to: UInt8.self))
    for m in matches {
      let keyLength = patterns.automaton.patterns[m.pattern].count
      for entry in patterns.entries[m.pattern] {
        if let tail = entry.tail {
          pending.append(Pending(owner: entry.owner, start: m.end - keyLength, keyEnd: m.end, tail: tail))
        } else {
          out.append(PercentMatch(owner: entry.owner, start: original(m.end - keyLength), end: original(m.end)))
        }
      }
    }
    if !pending.isEmpty {
      var still: [Pending] = []
      for p in pending {
        let tail = patterns.tails[p.tail]
        let from = p.keyEnd - historyStart
        let available = min(history.count - from, tail.count)
        if available > 0,
          !history[from..<(from + available)].lazy.map(PercentPatterns.canonical).elementsEqual(tail[0..<available])
        {
          continue
        }
        if available == tail.count {
          out.append(PercentMatch(owner: p.owner, start: original(p.start), end: original(p.keyEnd + tail.count)))
        } else {
          still.append(p)
        }
      }
      pending = still
    }
    trim()
  }

  /// Drops decoded history and anchors no pending comparison or match in progress can need.
  private mutating func trim() {
    var keepFrom = cursor.offset - Scanner.keyLength
    for p in pending { keepFrom = min(keepFrom, p.start) }
    if keepFrom > historyStart {
      history.removeFirst(min(keepFrom - historyStart, history.count))
      historyStart = keepFrom
    }
    // Anchors: keep the last one at or before keepFrom and everything after.
    if anchors.count > 64 {
      var firstNeeded = 0
      while firstNeeded + 1 < anchors.count, anchors[firstNeeded + 1].decoded <= keepFrom { firstNeeded += 1 }
      if firstNeeded > 0 { anchors.removeFirst(firstNeeded) }
    }
  }
}
