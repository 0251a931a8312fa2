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
public final class Automaton: Sendable {
  /// One occurrence of a pattern.
  public struct Match: Sendable, Equatable {
    /// The index of the pattern in the array given to ``init(patterns:)``.
    public let pattern: Int
    /// The absolute offset one past the pattern's last byte.
    public let end: Int
  }

  /// Where a stream is: the automaton state and how many bytes have been fed.
  public struct Cursor: Sendable {
    var state: UInt32 = 0
    /// The number of bytes fed so far (the absolute offset of the next byte).
    public internal(set) var offset: Int = 0
    /// A cursor at the start of a stream.
    public init() {}
  }

  /// The patterns, in the order given.
  public let patterns: [[UInt8]]
  /// The length of the longest pattern, in bytes (0 when there are none).
  public let maxPatternLength: Int
  /// The number of states.
  public let stateCount: Int

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
  public init(patterns: [[UInt8]]) {
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
    classes = classOf

    // Trie in a growable dense table (-1 = no child).
    var trie = [Int32](repeating: -1, count: width)
    var depth: [Int32] = [0]
    var own: [[Int32]] = [[]]
    for (index, p) in patterns.enumerated() where !p.isEmpty {
      var node = 0
      for b in p {
        let c = Int(classOf[Int(b)])
        let next = trie[node * width + c]
        if next >= 0 {
          node = Int(next)
        } else {
          let created = depth.count
          trie[node * width + c] = Int32(created)
          trie.append(contentsOf: repeatElement(-1, count: width))
          depth.append(depth[node] + 1)
          own.append([])
          node = created
        }
      }
      own[node].append(Int32(index))
    }
    let count = depth.count
    stateCount = count

    // Failure links and full transitions, breadth first.
    var fail = [Int32](repeating: 0, count: count)
    var link = [Int32](repeating: -1, count: count)
    var order: [Int] = [0]
    order.reserveCapacity(count)
    var head = 0
    for c in 0..<width {
      let child = trie[c]
      if child < 0 {
        trie[c] = 0
      } else {
        fail[Int(child)] = 0
        order.append(Int(child))
      }
    }
    head = 1
    while head < order.count {
      let u = order[head]
      head += 1
      let f = Int(fail[u])
      link[u] = own[f].isEmpty ? link[f] : Int32(f)
      for c in 0..<width {
        let child = trie[u * width + c]
        if child < 0 {
          trie[u * width + c] = trie[f * width + c]
        } else {
          fail[Int(child)] = trie[f * width + c]
          order.append(Int(child))
        }
      }
    }

    // Renumber: states that report something last, so one comparison tells.
    let reports = (0..<count).map { !own[$0].isEmpty || link[$0] >= 0 }
    var newIndex = [Int32](repeating: 0, count: count)
    var next: Int32 = 0
    for s in 0..<count where !reports[s] {
      newIndex[s] = next
      next += 1
    }
    let firstReporting = next
    for s in 0..<count where reports[s] {
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
    for s in 0..<count {
      let ns = Int(newIndex[s])
      for c in 0..<width {
        dense[ns * width + c] = UInt32(Int(newIndex[Int(trie[s * width + c])]) * width)
      }
      depths[ns] = depth[s]
      start[ns] = Int32(outs.count)
      outCount[ns] = Int32(own[s].count)
      outs.append(contentsOf: own[s])
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
  public func feed(_ bytes: UnsafeRawBufferPointer, cursor: inout Cursor, into matches: inout [Match]) {
    let count = bytes.count
    guard count > 0, let base = bytes.baseAddress else { return }
    let p = base.assumingMemoryBound(to: UInt8.self)
    var s = cursor.state
    let limit = matchMin
    let origin = cursor.offset
    table.withUnsafeBufferPointer { tablePointer in
      classes.withUnsafeBufferPointer { classPointer in
        let t = tablePointer.baseAddress!
        let k = classPointer.baseAddress!
        var i = 0
        while i < count {
          s = t[Int(s) &+ Int(k[Int(p[i])])]
          if s >= limit { report(state: s, end: origin + i + 1, into: &matches) }
          i &+= 1
        }
      }
    }
    cursor.state = s
    cursor.offset = origin + count
  }

  /// Feeds bytes given as an array (convenience for tests and small inputs).
  public func feed(_ bytes: [UInt8], cursor: inout Cursor, into matches: inout [Match]) {
    bytes.withUnsafeBytes { feed($0, cursor: &cursor, into: &matches) }
  }

  /// All matches in one complete input.
  public func matches(in bytes: [UInt8]) -> [Match] {
    var cursor = Cursor()
    var out: [Match] = []
    feed(bytes, cursor: &cursor, into: &out)
    return out
  }

  /// How many of the most recently fed bytes could still be the start of a match: the length of the longest
  /// suffix of the input so far that is a prefix of some pattern. Bytes before `cursor.offset - pending(cursor)`
  /// can never be part of a match that has not been reported yet.
  public func pending(_ cursor: Cursor) -> Int { Int(depths[Int(cursor.state) / stride]) }

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
