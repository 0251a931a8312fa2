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
