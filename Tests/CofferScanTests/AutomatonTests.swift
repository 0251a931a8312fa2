import CofferScan
import Testing

@Suite struct AutomatonTests {
  @Test func findsEveryOccurrenceIncludingOverlaps() {
    let a = Automaton(patterns: [Array("he".utf8), Array("she".utf8), Array("his".utf8), Array("hers".utf8)])
    let found = a.matches(in: Array("ushers".utf8)).map { [$0.pattern, $0.end] }
    #expect(found == [[1, 4], [0, 4], [3, 6]])
  }

  /// Against a naive search, on pseudo-random patterns and text over a 3-letter alphabet (many overlaps), fed in
  /// one piece and in chunks of every size from 1 to 7.
  @Test func agreesWithNaiveSearchInAnyChunking() {
    var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
    func next() -> Int {
      seed ^= seed << 13
      seed ^= seed >> 7
      seed ^= seed << 17
      return Int(seed % 1_000_000)
    }
    for _ in 0..<30 {
      let patterns = (0..<(1 + next() % 12)).map { _ in (0..<(1 + next() % 5)).map { _ in UInt8(97 + next() % 3) } }
      let text = (0..<200).map { _ in UInt8(97 + next() % 3) }
      var expected: [[Int]] = []
      for end in 1...text.count {
        for (i, p) in patterns.enumerated() where p.count <= end && Array(text[(end - p.count)..<end]) == p {
          expected.append([i, end])
        }
      }
      let a = Automaton(patterns: patterns)
      #expect(Set(a.matches(in: text).map { [$0.pattern, $0.end] }) == Set(expected))
      #expect(a.matches(in: text).count == expected.count)
      for size in 1...7 {
        var cursor = Automaton.Cursor()
        var found: [Automaton.Match] = []
        var i = 0
        while i < text.count {
          a.feed(Array(text[i..<min(text.count, i + size)]), cursor: &cursor, into: &found)
          i += size
        }
        #expect(found == a.matches(in: text))
        #expect(cursor.offset == text.count)
      }
    }
  }

  /// Large chunks are walked in four interleaved lanes: the matches (and the final state) are the same as a
  /// byte-by-byte walk, including matches that straddle the lanes' borders.
  @Test func laneWalkAgreesWithNaiveSearchOnLargeChunks() {
    var seed: UInt64 = 0x1234_5678_9ABC_DEF1
    func next() -> Int {
      seed ^= seed << 13
      seed ^= seed >> 7
      seed ^= seed << 17
      return Int(seed % 1_000_000)
    }
    for round in 0..<6 {
      let patterns = (0..<(2 + next() % 10)).map { _ in (0..<(1 + next() % (round < 3 ? 6 : 40))).map { _ in UInt8(97 + next() % 3) } }
      let text = (0..<(20_000 + next() % 5000)).map { _ in UInt8(97 + next() % 3) }
      var expected: [[Int]] = []
      for end in 1...text.count {
        for (i, p) in patterns.enumerated() where p.count <= end && text[(end - p.count)..<end].elementsEqual(p) {
          expected.append([i, end])
        }
      }
      let a = Automaton(patterns: patterns)
      let whole = a.matches(in: text)
      #expect(Set(whole.map { [$0.pattern, $0.end] }) == Set(expected))
      #expect(whole.count == expected.count)
      #expect(zip(whole, whole.dropFirst()).allSatisfy { $0.end <= $1.end })
      // Split anywhere: same matches, same final state.
      let cut = next() % text.count
      var cursor = Automaton.Cursor()
      var found: [Automaton.Match] = []
      a.feed(Array(text[..<cut]), cursor: &cursor, into: &found)
      a.feed(Array(text[cut...]), cursor: &cursor, into: &found)
      #expect(Set(found.map { [$0.pattern, $0.end] }) == Set(expected))
      var byteCursor = Automaton.Cursor()
      var ignored: [Automaton.Match] = []
      for b in text.suffix(100) { a.feed([b], cursor: &byteCursor, into: &ignored) }
      #expect(a.pending(cursor) == a.pending(byteCursor))
    }
  }

  @Test func pendingIsTheLongestSuffixThatBeginsAPattern() {
    let a = Automaton(patterns: [Array("secret".utf8), Array("sesame".utf8)])
    var cursor = Automaton.Cursor()
    var found: [Automaton.Match] = []
    a.feed(Array("open se".utf8), cursor: &cursor, into: &found)
    #expect(a.pending(cursor) == 2)
    a.feed(Array("cr".utf8), cursor: &cursor, into: &found)
    #expect(a.pending(cursor) == 4)
    a.feed(Array("x".utf8), cursor: &cursor, into: &found)
    #expect(a.pending(cursor) == 0)
    #expect(found.isEmpty)
  }
}
