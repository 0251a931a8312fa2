/// Turns absolute byte offsets of a stream into 1-based line and column numbers, chunk by chunk, without keeping
/// the stream: it remembers the line and column where the current chunk starts and the last `window` bytes before
/// it (enough for any match that started in an earlier chunk).
///
/// Columns count Unicode scalars (UTF-8 lead bytes; a stray continuation byte counts as nothing), as SARIF's
/// `unicodeCodePoints` column kind does. A line ends at LF.
struct LineTracker {
  let window: Int
  private(set) var chunkStart = 0
  private var lineAtChunkStart = 1
  private var colAtChunkStart = 0  // scalars since the last LF before chunkStart
  private var tail: [UInt8] = []  // bytes [chunkStart - tail.count, chunkStart)
  private var lineAtTailStart = 1
  private var colAtTailStart = 0
  // Incremental position inside the current chunk.
  private var probe = 0
  private var probeLine = 1
  private var probeCol = 0

  init(window: Int) { self.window = window }

  /// The bytes retained from before the current chunk, and their absolute start.
  var retained: (start: Int, bytes: [UInt8]) { (chunkStart - tail.count, tail) }

  /// Line and column of absolute offset `offset` (which must be within the current chunk or the retained bytes).
  mutating func position(of offset: Int, in chunk: UnsafeBufferPointer<UInt8>) -> (line: Int, column: Int) {
    if offset >= chunkStart {
      if offset < probe || probe < chunkStart {
        probe = chunkStart
        probeLine = lineAtChunkStart
        probeCol = colAtChunkStart
      }
      advance(&probeLine, &probeCol, chunk, from: probe - chunkStart, to: offset - chunkStart)
      probe = offset
      return (probeLine, probeCol + 1)
    }
    let tailStart = chunkStart - tail.count
    precondition(offset >= tailStart, "offset before the retained window")
    var line = lineAtTailStart
    var col = colAtTailStart
    tail.withUnsafeBufferPointer { advance(&line, &col, $0, from: 0, to: offset - tailStart) }
    return (line, col + 1)
  }

  /// Moves past a chunk once every position in it has been asked for.
  mutating func finishChunk(_ chunk: UnsafeBufferPointer<UInt8>) {
    let n = chunk.count
    let end = chunkStart + n
    if n >= window {
      // Fast path: count LFs in the whole chunk, then find the column at the end and at the new tail start.
      let newlines = countNewlines(chunk, from: 0, to: n)
      let lineAtEnd = lineAtChunkStart + newlines
      let colAtEnd = column(before: n, in: chunk)
      let tailFrom = n - window
      let tailNewlines = countNewlines(chunk, from: tailFrom, to: n)
      lineAtTailStart = lineAtEnd - tailNewlines
      colAtTailStart = column(before: tailFrom, in: chunk)
      tail = Array(chunk[tailFrom..<n])
      lineAtChunkStart = lineAtEnd
      colAtChunkStart = colAtEnd
    } else {
      // Small chunk: old tail + chunk, counted forwards.
      var joined = tail
      joined.append(contentsOf: chunk)
      var line = lineAtTailStart
      var col = colAtTailStart
      let keepFrom = max(0, joined.count - window)
      joined.withUnsafeBufferPointer { all in
        advance(&line, &col, all, from: 0, to: keepFrom)
        lineAtTailStart = line
        colAtTailStart = col
        advance(&line, &col, all, from: keepFrom, to: all.count)
      }
      lineAtChunkStart = line
      colAtChunkStart = col
      tail = Array(joined[keepFrom...])
    }
    chunkStart = end
    probe = -1
  }

  /// Scalars between the last LF before `index` (in the chunk, else before the chunk) and `index`.
  private func column(before index: Int, in chunk: UnsafeBufferPointer<UInt8>) -> Int {
    var j = index
    while j > 0, chunk[j - 1] != 0x0A { j -= 1 }
    var col = j == 0 ? colAtChunkStart : 0
    for k in j..<index where chunk[k] & 0xC0 != 0x80 { col += 1 }
    return col
  }

  private func advance(_ line: inout Int, _ col: inout Int, _ bytes: UnsafeBufferPointer<UInt8>, from: Int, to: Int) {
    var i = from
    while i < to {
      let b = bytes[i]
      if b == 0x0A {
        line += 1
        col = 0
      } else if b & 0xC0 != 0x80 {
        col += 1
      }
      i += 1
    }
  }
}

/// The number of LF bytes in `bytes[from..<to]`, eight at a time.
func countNewlines(_ bytes: UnsafeBufferPointer<UInt8>, from: Int, to: Int) -> Int {
  var count = 0
  var i = from
  guard let base = bytes.baseAddress else { return 0 }
  let raw = UnsafeRawPointer(base)
  while i < to, (Int(bitPattern: raw) + i) & 7 != 0 {
    if bytes[i] == 0x0A { count += 1 }
    i += 1
  }
  let lows: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
  let newlines: UInt64 = 0x0A0A_0A0A_0A0A_0A0A
  while i + 8 <= to {
    let x = raw.load(fromByteOffset: i, as: UInt64.self) ^ newlines
    // Exact zero-byte detection: high bit set in each byte of y exactly where x has a zero byte.
    let y = ~(((x & lows) &+ lows) | x | lows)
    count += y.nonzeroBitCount
    i += 8
  }
  while i < to {
    if bytes[i] == 0x0A { count += 1 }
    i += 1
  }
  return count
}
