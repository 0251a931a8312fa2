import Testing

import CofferCore
import CofferVault

/// BIP-173 test vectors (https://github.com/bitcoin/bips/blob/master/bip-0173.mediawiki#test-vectors).
@Suite("bech32 (BIP-173)")
struct Bech32Tests {
  static let valid: [String] = [
    "A12UEL5L",
    "a12uel5l",
    "an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs",
    "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
    "11" + String(repeating: "q", count: 82) + "c8247j",
    "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w",
    "?1ezyfcl",
  ]

  static let invalid: [(String, Bech32.DecodingError)] = [
    ("\u{20}1nwldj5", .invalidCharacter),  // HRP character out of range
    ("\u{7F}1axkwrx", .invalidCharacter),  // HRP character out of range
    ("\u{80}1eym55h", .invalidCharacter),  // HRP character out of range
    ("an84characterslonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1569pvx", .tooLong),
    ("pzry9x0s0muk", .missingSeparator),
    ("1pzry9x0s0muk", .emptyHumanReadablePart),
    ("x1b4n0q5v", .invalidCharacter),  // invalid data character
    ("li1dgmt3", .checksumTooShort),
    ("de1lg7wt\u{FF}", .invalidCharacter),  // invalid character in checksum
    ("A1G7SGD8", .invalidChecksum),  // checksum calculated with uppercase form of HRP
    ("10a06t8", .emptyHumanReadablePart),
    ("1qzzfhee", .emptyHumanReadablePart),
  ]

  @Test(arguments: valid)
  func validStringDecodesAndReencodes(_ string: String) throws {
    let (hrp, words) = try Bech32.decodeWords(string)
    #expect(Bech32.encode(hrp: hrp, words: words) == string.lowercased())
    // Flipping any one data character breaks the checksum.
    var bytes = Array(string.lowercased().utf8)
    let last = bytes.count - 1
    bytes[last] = bytes[last] == UInt8(ascii: "q") ? UInt8(ascii: "p") : UInt8(ascii: "q")
    #expect(throws: Bech32.DecodingError.invalidChecksum) {
      try Bech32.decodeWords(String(decoding: bytes, as: UTF8.self))
    }
  }

  @Test func invalidStringsAreRejectedForTheRightReason() {
    for (string, reason) in Self.invalid {
      #expect(throws: reason, "\(string.debugDescription)") { try Bech32.decodeWords(string) }
    }
  }

  @Test func mixedCaseIsRejected() {
    #expect(throws: Bech32.DecodingError.mixedCase) { try Bech32.decodeWords("a12UEL5L") }
    #expect(throws: Bech32.DecodingError.mixedCase) { try Bech32.decodeWords("A12uEL5L") }
  }

  @Test func ageDisablesTheLengthLimit() throws {
    let long = "an84characterslonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1569pvx"
    #expect(try Bech32.decodeWords(long, limit: nil).hrp.count == 84)
  }

  @Test func bytesRoundTripAndPaddingIsStrict() throws {
    let data: [UInt8] = (0..<32).map { UInt8($0 * 7 % 256) }
    let encoded = Bech32.encode(hrp: "age", data: data)
    let decoded = try Bech32.decode(encoded)
    #expect(decoded.hrp == "age")
    #expect(decoded.data == data)
    // 52 words carry 260 bits: 32 bytes and 4 padding bits, which must be zero.
    var words = try Bech32.decodeWords(encoded).words
    words[words.count - 1] |= 1
    #expect(throws: Bech32.DecodingError.invalidPadding) { try Bech32.decode(Bech32.encode(hrp: "age", words: words)) }
    // A segwit address from BIP-173 decodes as plain bech32.
    #expect(try Bech32.decodeWords("BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4").hrp == "BC")
  }
}
