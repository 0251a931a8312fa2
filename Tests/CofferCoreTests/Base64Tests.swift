import CofferTesting
import CofferCore
import Testing

/// The strict, canonical base64 of RFC 4648 §4, checked against its own encoder as the definition of canonical:
/// a string decodes exactly when it is the encoding of what it decodes to.
@Suite struct Base64Tests {
  @Test(arguments: [true, false]) func rfc4648Vectors(padded: Bool) {
    // RFC 4648 §10.
    let vectors = [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy")]
    for (plain, encoded) in vectors {
      let text = padded ? encoded : String(encoded.filter { $0 != "=" })
      #expect(Base64.encode(Array(plain.utf8), padded: padded) == text)
      #expect(Base64.decode(text, padded: padded) == Array(plain.utf8))
      #expect(Base64.decode(Array(text.utf8)[...], padded: padded) == Array(plain.utf8))
    }
  }

  @Test func rejectsNonCanonicalAndForeignCharacters() {
    for bad in ["Zh==", "Zm9=", "Zg=", "Zg", "Z===", "====", "Zm9v\n", " Zm9v", "Zm-v", "Zm9vY", "Zm9vYg=a"] {
      #expect(Base64.decode(bad, padded: true) == nil, "\(bad)")
    }
    for bad in ["Zh", "Zm9", "Zg==", "Zm9vY", "Zm9v_"] {
      #expect(Base64.decode(bad, padded: false) == nil, "\(bad)")
    }
  }

  @Test(arguments: [true, false]) func roundTripsEveryLength(padded: Bool) {
    var rng = SeededGenerator(seed: 0xC0FF_EE)
    for length in 0..<200 {
      let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
      let text = Base64.encodeBytes(bytes, padded: padded)
      #expect(Base64.decode(text[...], padded: padded) == bytes)
    }
  }

  /// A random string of up to `maxLength` characters over part of the alphabet, `=`, `-`, `_`, space and LF; half of
  /// them with `=` and `-` replaced by `A`, so that more are canonical.
  static func randomText(_ rng: inout SeededGenerator, maxLength: Int) -> [UInt8] {
    let chars = Array("ABCDQRSTghijwxyz0189+/=-_ \n".utf8)
    let length = Int(rng.next() % UInt64(maxLength + 1))
    let text = (0..<length).map { _ in chars[Int(rng.next() % UInt64(chars.count))] }
    guard rng.next() % 2 == 0 else { return text }
    return text.map { $0 == UInt8(ascii: "=") || $0 == UInt8(ascii: "-") ? UInt8(ascii: "A") : $0 }
  }

  /// Random strings over the alphabet, `=` and a few foreign characters: accepted exactly when canonical.
  @Test(arguments: [true, false]) func acceptsExactlyTheCanonicalStrings(padded: Bool) {
    var rng = SeededGenerator(seed: 42)
    var accepted = 0
    for _ in 0..<20_000 {
      let text = Self.randomText(&rng, maxLength: 12)
      let decoded = Base64.decode(text[...], padded: padded)
      if let decoded {
        accepted += 1
        #expect(Base64.encodeBytes(decoded, padded: padded) == text, "\(String(decoding: text, as: UTF8.self))")
      } else {
        // Not canonical: re-encoding whatever a lenient decoder would make of it cannot give the same text.
        #expect(!isCanonical(text, padded: padded), "\(String(decoding: text, as: UTF8.self))")
      }
    }
    #expect(accepted > 100)
  }

  /// `decodedCount` and `decode(_:padded:into:)` (the vault parser's validation and its decoding into one reused
  /// buffer) accept exactly what `decode` accepts and give the same bytes, whatever the buffer held before.
  @Test(arguments: [true, false]) func everyEntryPointAgrees(padded: Bool) {
    var rng = SeededGenerator(seed: 7)
    var scratch = [UInt8](repeating: 0xAA, count: 3)
    var agreed = 0
    for _ in 0..<20_000 {
      let text = Self.randomText(&rng, maxLength: 16)
      let expected = Base64.decode(text[...], padded: padded)
      #expect(Base64.decodedCount(text[...], padded: padded) == expected?.count, "\(String(decoding: text, as: UTF8.self))")
      let before = scratch
      let n = Base64.decode(text[...], padded: padded, into: &scratch)
      #expect(n == expected?.count, "\(String(decoding: text, as: UTF8.self))")
      if let expected, let n {
        agreed += 1
        #expect(Array(scratch[..<n]) == expected)
        // Only the decoded prefix is written; what lies beyond it is kept.
        #expect(scratch.count >= before.count)
        if before.count > n { #expect(Array(scratch[n..<before.count]) == Array(before[n...])) }
      }
    }
    #expect(agreed > 100)
    var exact = [UInt8]()
    #expect(Base64.decode(Array("Zm9vYmFy".utf8)[...], padded: true, into: &exact) == 6)
    #expect(exact == Array("foobar".utf8))
    #expect(Base64.decodedCount(Array("Zm9vYg==".utf8)[...], padded: true) == 4)
    #expect(Base64.decodedCount(Array("Zm9vYh==".utf8)[...], padded: true) == nil)
  }

  /// Fields as long as the vault's (the tests above stop at 16 characters): every byte value at every position of
  /// encodings of 16, 32, 33 and 68 bytes, at two alignments in memory, is accepted by `decodedCount` and `decode`
  /// exactly when the independent definition accepts it.
  @Test(arguments: [true, false]) func everyByteAtEveryPositionOfLongFields(padded: Bool) {
    var rng = SeededGenerator(seed: 16)
    var cases = 0
    for length in [16, 32, 33, 68] {
      let plain = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
      let valid = Base64.encodeBytes(plain, padded: padded)
      for offset in 0..<2 {
        for position in 0..<valid.count {
          for byte in 0...255 {
            var text = [UInt8](repeating: UInt8(ascii: "A"), count: offset) + valid
            text[offset + position] = UInt8(byte)
            let field = text[offset...]
            let expected = isCanonical(Array(field), padded: padded)
            #expect((Base64.decodedCount(field, padded: padded) != nil) == expected, "\(length) \(position) \(byte)")
            #expect((Base64.decode(field, padded: padded) != nil) == expected, "\(length) \(position) \(byte)")
            cases += 1
          }
        }
      }
    }
    #expect(cases > 30_000)
  }

  /// An independent definition: all characters in the alphabet (plus trailing `=` when padded), a possible length,
  /// and zero unused bits.
  private func isCanonical(_ text: [UInt8], padded: Bool) -> Bool {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    var body = text[...]
    if padded {
      guard text.count % 4 == 0 else { return false }
      var pads = 0
      while pads < 2, body.last == UInt8(ascii: "=") { body = body.dropLast(); pads += 1 }
      if pads > 0, body.count % 4 != 4 - pads { return false }
    }
    guard body.count % 4 != 1, body.allSatisfy({ alphabet.contains($0) }) else { return false }
    guard let last = body.last.flatMap({ alphabet.firstIndex(of: $0) }) else { return true }
    switch body.count % 4 {
    case 2: return last & 0x0F == 0
    case 3: return last & 0x03 == 0
    default: return true
    }
  }
}
