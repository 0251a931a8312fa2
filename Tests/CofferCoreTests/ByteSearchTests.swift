import CofferTesting
import Testing

@testable import CofferCore

/// The one byte-string search (`ByteSearch`): found at the start, the end and in the middle; not found for a near
/// miss, a needle longer than the bytes, or across a partial match.
@Suite struct ByteSearchTests {
  @Test func findsAndMisses() {
    let text = Array("environments: [a, { name: b, store: bao }]".utf8)
    #expect(ByteSearch.contains(text, "store:"))
    #expect(ByteSearch.contains(text, "environments"))
    #expect(ByteSearch.contains(text, "}]"))
    #expect(!ByteSearch.contains(text, "stores:"))
    #expect(!ByteSearch.contains(Array("sto".utf8), "store:"))
    #expect(!ByteSearch.contains(Array("ststor store".utf8), "store:"))
    #expect(ByteSearch.contains(Array("ststorstore:".utf8), "store:"))
    #expect(ByteSearch.contains([], ""))
    #expect(!ByteSearch.contains([], "x"))
  }

  /// The same answers as a plain scan of every position, for needles of 1 to 9 bytes over a small alphabet (so near
  /// misses are common) and haystacks up to 1,500 bytes, with needles at the very start and end.
  @Test func longHaystacksAgreeWithAPlainScan() {
    var rng = SeededGenerator(seed: 0x5EED)
    func next(_ bound: Int) -> Int { Int.random(in: 0..<bound, using: &rng) }
    let alphabet = Array("sto:re ".utf8)
    func plain(_ h: [UInt8], _ n: [UInt8]) -> Bool {
      guard !n.isEmpty else { return true }
      guard h.count >= n.count else { return false }
      return (0...(h.count - n.count)).contains { h[$0..<($0 + n.count)].elementsEqual(n) }
    }
    var found = 0
    for length in stride(from: 0, through: 1_500, by: 7) {
      let haystack = (0..<length).map { _ in alphabet[next(alphabet.count)] }
      for _ in 0..<6 {
        let needle = (0..<(1 + next(9))).map { _ in alphabet[next(alphabet.count)] }
        let expected = plain(haystack, needle)
        let got = haystack.withUnsafeBufferPointer { h in needle.withUnsafeBufferPointer { ByteSearch.contains(h, $0) } }
        #expect(got == expected, "\(length) \(String(decoding: needle, as: UTF8.self))")
        if expected { found += 1 }
      }
      // A needle placed at the very end and at the very start.
      if length >= 8 {
        let end = Array(haystack[(length - 6)...])
        let start = Array(haystack[..<6])
        #expect(haystack.withUnsafeBufferPointer { h in end.withUnsafeBufferPointer { ByteSearch.contains(h, $0) } })
        #expect(haystack.withUnsafeBufferPointer { h in start.withUnsafeBufferPointer { ByteSearch.contains(h, $0) } })
      }
    }
    #expect(found > 200)
    let yaml = Array((String(repeating: "  SECRET_0001: { group: api-keys, description: x }\n", count: 100) + "  e: { store: bao }\n").utf8)
    #expect(ByteSearch.contains(yaml, "store:"))
    #expect(!ByteSearch.contains(Array(yaml.dropLast(12)), "store:"))
  }

  @Test func prefixesAndSuffixes() {
    Array("JWT_SECRET".utf8).withUnsafeBufferPointer { b in
      #expect(ByteSearch.hasPrefix(b, "JWT_") && ByteSearch.hasPrefix(b, "JWT_SECRET") && ByteSearch.hasPrefix(b, ""))
      #expect(!ByteSearch.hasPrefix(b, "JWT_SECRETS") && !ByteSearch.hasPrefix(b, "WT_"))
      #expect(ByteSearch.hasSuffix(b, "SECRET") && ByteSearch.hasSuffix(b, "JWT_SECRET") && ByteSearch.hasSuffix(b, ""))
      #expect(!ByteSearch.hasSuffix(b, "_JWT_SECRET") && !ByteSearch.hasSuffix(b, "SECRE"))
      #expect(ByteSearch.contains(b, "T_S") && !ByteSearch.contains(b, "TS"))
    }
  }

  @Test func secretUseInferenceUsesIt() {
    #expect(SecretUse.inferred(fromName: "JWT_SECRET") == .signingKey)
    #expect(SecretUse.inferred(fromName: "STRIPE_PUBLIC_KEY") == nil)
    #expect(SecretUse.inferred(fromName: "app_encryption_key") == .encryptionKey)
    #expect(SecretUse.inferred(fromName: "SESSION_KEY") == .sessionSecret)
  }
}
