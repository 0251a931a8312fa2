/// A multi-pattern byte matcher: an Aho-Corasick automaton compiled to a dense DFA over byte classes.
///
/// Construction follows Aho and Corasick, "Efficient string matching: an aid to bibliographic search" (CACM 18(6),
/// 1975): a trie of the patterns, failure links by breadth-first search, and every missing transition resolved
/// through the failure links so matching takes exactly one table lookup per input byte, whatever the number of
/// patterns. Bytes that occur in no pattern share one class, so a row has one entry per distinct pattern byte plus
/// one. States are numbered so that every state that ends at least one pattern comes after all the others, and
/// state numbers are premultiplied by the row width: the inner loop is one load of the class, one load of the next
/// state and one comparison.
///
/// Matching is streaming: ``Cursor`` carries the state and the absolute offset from one ``feed(_:cursor:into:)``
/// to the next, so a match that spans two chunks is found exactly as if the input had come in one piece. Every
/// occurrence of every pattern is reported, overlapping ones included.
///
/// Immutable after construction; safe to use from many threads at once, each with its own ``Cursor``.
package final class Automaton: Sendable {
  /// One occurrence of a pattern.
  package struct Match: Sendable, Equatable {
    /// The index of the pattern in the array given to ``init(patterns:)``.
    package let pattern: Int
    /// The absolute offset one past the pattern's last byte.
    package let end: Int
  }

  /// Where a stream is: the automaton state and how many bytes have been fed.
  package struct Cursor: Sendable {
    var state: UInt32 = 0
    /// The number of bytes fed so far (the absolute offset of the next byte).
    public internal(set) var offset: Int = 0
    /// A cursor at the start of a stream.
    package init() {}
  }

  /// The patterns, in the order given.
  package let patterns: [[UInt8]]
  /// The length of the longest pattern, in bytes (0 when there are none).
  package let maxPatternLength: Int
  /// The number of states.
  package let stateCount: Int

  private let stride: Int
  private let matchMin: UInt32
  // Dense transitions, premultiplied: next = table[state + class[byte]].
  private let table: [UInt32]
  private let classes: [UInt8]
  // Per state index (state / stride): its depth, its own patterns and the next state on its failure chain with any.
  private let depths: [Int32]
  private let outputStart: [Int32]
  private let outputCount: [Int32]
  private let outputPatterns: [Int32]
  private let dictionaryLink: [Int32]

  /// Compiles patterns.
  ///
  /// Takes O(Σ|pattern| × classes) time and 4 × states × classes bytes of table.
  /// - Parameter patterns: the byte strings to find; empty patterns are ignored, duplicates are reported under
  ///   each of their indices.
  package convenience init(patterns: [[UInt8]]) {
    self.init(patterns: patterns, equivalents: [])
  }

  /// Compiles patterns, reading some input bytes as others.
  /// - Parameters:
  ///   - patterns: the byte strings to find, as for ``init(patterns:)``.
  ///   - equivalents: pairs `(input, as)`: the input byte `input` moves the automaton exactly as `as` does (for
  ///     example `+` as a space in form-encoded text). Costs nothing per byte.
  package init(patterns: [[UInt8]], equivalents: [(UInt8, UInt8)]) {
    self.patterns = patterns
    maxPatternLength = patterns.map(\.count).max() ?? 0

    // Byte classes: 0 for bytes in no pattern, then one per distinct byte.
    var classOf = [UInt8](repeating: 0, count: 256)
    var used = [Bool](repeating: false, count: 256)
    for p in patterns { for b in p { used[Int(b)] = true } }
    var n = 1
    for b in 0..<256 where used[b] {
      classOf[b] = UInt8(n)
      n += 1
    }
    let width = n
    for (input, target) in equivalents { classOf[Int(input)] = classOf[Int(target)] }
    classes = classOf

    // 1. The trie, sparse: children as sibling lists.
    let capacity = patterns.reduce(1) { $0 + $1.count }
    var firstChild = [Int32](repeating: -1, count: capacity)
    var nextSibling = [Int32](repeating: -1, count: capacity)
    var edge = [UInt8](repeating: 0, count: capacity)
    var depth = [Int32](repeating: 0, count: capacity)
    var ownFirst = [Int32](repeating: -1, count: capacity)  // linked list of patterns ending here
    var ownNext = [Int32](repeating: -1, count: patterns.count)
    var count = 1
    func child(_ node: Int, _ c: UInt8) -> Int {
      var x = firstChild[node]
      while x >= 0 {
        if edge[Int(x)] == c { return Int(x) }
        x = nextSibling[Int(x)]
      }
      return -1
    }
    for (index, p) in patterns.enumerated() where !p.isEmpty {
      var node = 0
      for b in p {
        let c = classOf[Int(b)]
        var next = child(node, c)
        if next < 0 {
          next = count
          count += 1
          edge[next] = c
          depth[next] = depth[node] + 1
          nextSibling[next] = firstChild[node]
          firstChild[node] = Int32(next)
        }
        node = next
      }
      ownNext[index] = ownFirst[node]
      ownFirst[node] = Int32(index)
    }
    stateCount = count

    // 2. Failure links, breadth first, by walking failure chains (Aho–Corasick's algorithm 3); whether each state
    //    reports (its own patterns or a state on its failure chain).
    var fail = [Int32](repeating: 0, count: count)
    var link = [Int32](repeating: -1, count: count)
    var reports = [Bool](repeating: false, count: count)
    var order: [Int] = [0]
    order.reserveCapacity(count)
    var head = 0
    while head < order.count {
      let u = order[head]
      head += 1
      var x = firstChild[u]
      while x >= 0 {
        let v = Int(x)
        let c = edge[v]
        var f = u == 0 ? -1 : Int(fail[u])
        var target = 0
        while f >= 0 {
          let t = child(f, c)
          if t >= 0 {
            target = t
            break
          }
          f = f == 0 ? -1 : Int(fail[f])
        }
        fail[v] = Int32(target)
        link[v] = ownFirst[target] >= 0 ? Int32(target) : link[target]
        reports[v] = ownFirst[v] >= 0 || link[v] >= 0
        order.append(v)
        x = nextSibling[v]
      }
    }

    // 3. Numbers: states that report last, so one comparison tells; then every row of the dense table, in
    //    breadth-first order so a row can copy its failure state's row.
    var newIndex = [Int32](repeating: 0, count: count)
    var next: Int32 = 0
    for s in order where !reports[s] {
      newIndex[s] = next
      next += 1
    }
    let firstReporting = next
    for s in order where reports[s] {
      newIndex[s] = next
      next += 1
    }
    stride = width
    matchMin = UInt32(Int(firstReporting) * width)
    var dense = [UInt32](repeating: 0, count: count * width)
    var depths = [Int32](repeating: 0, count: count)
    var start = [Int32](repeating: 0, count: count)
    var outCount = [Int32](repeating: 0, count: count)
    var outs: [Int32] = []
    var dict = [Int32](repeating: -1, count: count)
    dense.withUnsafeMutableBufferPointer { table in
      for s in order {
        let row = Int(newIndex[s]) * width
        if s != 0 {
          let failRow = Int(newIndex[Int(fail[s])]) * width
          for c in 0..<width { table[row + c] = table[failRow + c] }
        }
        var x = firstChild[s]
        while x >= 0 {
          table[row + Int(edge[Int(x)])] = UInt32(Int(newIndex[Int(x)]) * width)
          x = nextSibling[Int(x)]
        }
      }
    }
    for s in 0..<count {
      let ns = Int(newIndex[s])
      depths[ns] = depth[s]
      start[ns] = Int32(outs.count)
      var own: [Int32] = []
      var i = ownFirst[s]
      while i >= 0 {
        own.append(i)
        i = ownNext[Int(i)]
      }
      outCount[ns] = Int32(own.count)
      outs.append(contentsOf: own.reversed())
      dict[ns] = link[s] >= 0 ? newIndex[Int(link[s])] : -1
    }
    table = dense
    self.depths = depths
    outputStart = start
    outputCount = outCount
    outputPatterns = outs
    dictionaryLink = dict
  }

  /// Feeds the next chunk of a stream and appends every match that ends inside it.
  ///
  /// O(chunk length + matches). A match that began in an earlier chunk is reported here, with its absolute end.
  /// - Parameters:
  ///   - bytes: the chunk.
  ///   - cursor: the stream's position; advanced by `bytes.count`.
  ///   - matches: where matches are appended, in order of their end.
  package func feed(_ bytes: UnsafeRawBufferPointer, cursor: inout Cursor, into matches: inout [Match]) {
    let count = bytes.count
    guard count > 0, let base = bytes.baseAddress else { return }
    let p = base.assumingMemoryBound(to: UInt8.self)
    let origin = cursor.offset
    let warmup = max(maxPatternLength - 1, 0)
    if count >= 4 * (warmup + 1024) {
      cursor.state = feedInLanes(p, count: count, state: cursor.state, origin: origin, warmup: warmup, into: &matches)
    } else {
      cursor.state = feedOneLane(p, from: 0, to: count, state: cursor.state, origin: origin, reportAfter: 0, into: &matches)
    }
    cursor.offset = origin + count
  }

  /// The plain loop over `p[from..<to]`, reporting matches that end after `reportAfter` (relative).
  private func feedOneLane(
    _ p: UnsafePointer<UInt8>, from: Int, to: Int, state: UInt32, origin: Int, reportAfter: Int,
    into matches: inout [Match]
  ) -> UInt32 {
    var s = state
    let limit = matchMin
    table.withUnsafeBufferPointer { tablePointer in
      classes.withUnsafeBufferPointer { classPointer in
        let t = tablePointer.baseAddress!
        let k = classPointer.baseAddress!
        var i = from
        while i < to {
          s = t[Int(s) &+ Int(k[Int(p[i])])]
          if s >= limit, i + 1 > reportAfter { report(state: s, end: origin + i + 1, into: &matches) }
          i &+= 1
        }
      }
    }
    return s
  }

  /// Four independent walks over the four quarters of a chunk, interleaved, so the processor overlaps their
  /// table loads instead of waiting for each one (a DFA walk is one long chain of dependent loads). Quarters 2–4
  /// start from the initial state `warmup` bytes early: after that many bytes an automaton is in the same state
  /// whatever came before, because no pattern is longer than `warmup + 1`. Matches in the warm-up bytes were already
  /// seen by the previous quarter and are not reported twice.
  private func feedInLanes(
    _ p: UnsafePointer<UInt8>, count: Int, state: UInt32, origin: Int, warmup: Int, into matches: inout [Match]
  ) -> UInt32 {
    let quarter = count / 4
    let b1 = quarter
    let b2 = 2 * quarter
    let b3 = 3 * quarter
    // Lane j walks [start_j, end_j); lanes 1–3 begin `warmup` bytes before their quarter.
    let start1 = b1 - warmup
    let start2 = b2 - warmup
    let start3 = b3 - warmup
    let common = quarter  // lane 0 walks exactly `quarter` bytes; the others walk warmup + quarter (+ remainder)
    var s0 = state
    var s1: UInt32 = 0
    var s2: UInt32 = 0
    var s3: UInt32 = 0
    var hits: [(lane: Int, end: Int, state: UInt32)] = []
    let limit = matchMin
    table.withUnsafeBufferPointer { tablePointer in
      classes.withUnsafeBufferPointer { classPointer in
        let t = tablePointer.baseAddress!
        let k = classPointer.baseAddress!
        var i = 0
        while i < common {
          s0 = t[Int(s0) &+ Int(k[Int(p[i])])]
          s1 = t[Int(s1) &+ Int(k[Int(p[start1 &+ i])])]
          s2 = t[Int(s2) &+ Int(k[Int(p[start2 &+ i])])]
          s3 = t[Int(s3) &+ Int(k[Int(p[start3 &+ i])])]
          if s0 >= limit || s1 >= limit || s2 >= limit || s3 >= limit {
            if s0 >= limit { hits.append((0, i + 1, s0)) }
            if s1 >= limit, start1 + i + 1 > b1 { hits.append((1, start1 + i + 1, s1)) }
            if s2 >= limit, start2 + i + 1 > b2 { hits.append((2, start2 + i + 1, s2)) }
            if s3 >= limit, start3 + i + 1 > b3 { hits.append((3, start3 + i + 1, s3)) }
          }
          i &+= 1
        }
      }
    }
    // Finish lanes 1–3 (their last `warmup` bytes, and the remainder for lane 3), one after the other.
    var tailMatches: [[Match]] = [[], [], []]
    s1 = feedOneLane(p, from: start1 + common, to: b2, state: s1, origin: origin, reportAfter: b1, into: &tailMatches[0])
    s2 = feedOneLane(p, from: start2 + common, to: b3, state: s2, origin: origin, reportAfter: b2, into: &tailMatches[1])
    s3 = feedOneLane(p, from: start3 + common, to: count, state: s3, origin: origin, reportAfter: b3, into: &tailMatches[2])
    // Report in order of end: lane by lane, the interleaved part then the finishing part.
    for lane in 0..<4 {
      for h in hits where h.lane == lane { report(state: h.state, end: origin + h.end, into: &matches) }
      if lane > 0 { matches += tailMatches[lane - 1] }
    }
    return s3
  }

  /// Feeds bytes given as an array (convenience for tests and small inputs).
  package func feed(_ bytes: [UInt8], cursor: inout Cursor, into matches: inout [Match]) {
    bytes.withUnsafeBytes { feed($0, cursor: &cursor, into: &matches) }
  }

  /// All matches in one complete input.
  package func matches(in bytes: [UInt8]) -> [Match] {
    var cursor = Cursor()
    var out: [Match] = []
    feed(bytes, cursor: &cursor, into: &out)
    return out
  }

  /// How many of the most recently fed bytes could still be the start of a match: the length of the longest
  /// suffix of the input so far that is a prefix of some pattern. Bytes before `cursor.offset - pending(cursor)`
  /// can never be part of a match that has not been reported yet.
  package func pending(_ cursor: Cursor) -> Int { Int(depths[Int(cursor.state) / stride]) }

  @inline(never)
  private func report(state: UInt32, end: Int, into matches: inout [Match]) {
    var index = Int(state) / stride
    while index >= 0 {
      let start = Int(outputStart[index])
      for j in start..<(start + Int(outputCount[index])) {
        matches.append(Match(pattern: Int(outputPatterns[j]), end: end))
      }
      index = Int(dictionaryLink[index])
    }
  }
}
