import CofferCore
import Testing

/// The CRC-32/base62 checksum of GitHub and npm tokens, and the evidence for its base62 digit order.
@Suite struct TokenChecksumTests {
  /// Twenty real GitHub personal access tokens, generated on github.com and published (already revoked) as the
  /// "actual, real-world GitHub tokens" fixture of therootcompany/base62-token.js, test.js, commit
  /// 17dfd0700742c6b352844bd6ba568cf22269e6b1 (public since January 2022; GitHub revokes tokens pushed to public
  /// repositories). They settle the digit order the GitHub blog leaves unstated.
  static let publishedRevokedTokens = [
    "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", "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",
    "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", "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",
    "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", "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",
    "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", "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",
    "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", "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",
    "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", "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",
    "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", "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",
    "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", "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",
    "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", "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",
    "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", "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",
  ]

  static let digitsUpperLower = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)
  static let digitsLowerUpper = Array("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)
  static let upperLowerDigits = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)

  @Test func crc32MatchesTheStandardCheckValue() {
    #expect(TokenChecksum.crc32(Array("123456789".utf8)) == 0xCBF4_3926)
    #expect(TokenChecksum.crc32([UInt8]()) == 0)
    #expect(TokenChecksum.crc32(Array("The quick brown fox jumps over the lazy dog".utf8)) == 0x414F_A339)
  }

  @Test func base62PadsToSixDigits() {
    #expect(TokenChecksum.base62(0) == Array("000000".utf8))
    #expect(TokenChecksum.base62(61) == Array("00000z".utf8))
    #expect(TokenChecksum.base62(62) == Array("000010".utf8))
    #expect(TokenChecksum.base62(UInt32.max) == Array("4gfFC3".utf8))
  }

  /// All twenty published tokens verify with 0-9A-Za-z, and none with the two other orders the sources mention.
  @Test func publishedRevokedTokensSettleTheDigitOrder() {
    #expect(TokenChecksum.base62Alphabet == Self.digitsUpperLower)
    for token in Self.publishedRevokedTokens {
      let bytes = Array(token.utf8)
      #expect(TokenChecksum.verify(bytes), "\(token.prefix(4))…")
      #expect(!TokenChecksum.verify(bytes, alphabet: Self.digitsLowerUpper))
      #expect(!TokenChecksum.verify(bytes, alphabet: Self.upperLowerDigits))
      #expect(FormatCatalog.format(id: "github-ghp")?.verdict(for: SecretValue(token)) == .match)
    }
  }

  @Test func catalogExamplesCarryValidChecksums() {
    for id in ["github-ghp", "github-gho", "github-ghu", "github-ghs", "github-ghr", "npm-access-token"] {
      let example = FormatCatalog.format(id: id)?.example ?? ""
      #expect(TokenChecksum.verify(Array(example.utf8)), "\(id)")
      #expect(TokenChecksum.checksum(of: Array(example.utf8)[4..<34]) == Array("3KZkhD".utf8))
    }
  }

  @Test func onlyFortyCharacterTokensVerify() {
    #expect(!TokenChecksum.verify(Array("ghp_abc".utf8)))
    #expect(!TokenChecksum.verify(Array((Self.publishedRevokedTokens[0] + "x").utf8)))
  }
}
