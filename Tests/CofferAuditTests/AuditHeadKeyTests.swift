import CofferCore
import CofferTesting
import Crypto
import Testing

@testable import CofferAudit

/// The audit head's MAC key is HKDF-SHA256 (RFC 5869) of the identity's secret text, computed without swift-crypto's
/// `HKDF.expand` (docs/performance.md): it must stay the key `HKDF<SHA256>.deriveKey` gives, or heads written before
/// would no longer verify.
@Suite struct AuditHeadKeyTests {
  @Test func theHeadMACIsUnderTheKeySwiftCryptosHKDFDerives() {
    var rng = SeededGenerator(seed: 2104)
    func next() -> UInt64 { rng.next() >> 33 }
    for i in 0..<300 {
      let secret = "AGE-SECRET-KEY-1" + String((0..<(i % 70)).map { _ in Character(UnicodeScalar(UInt8(65 + next() % 26))) })
      let (seq, size) = (Int(next() % 100_000), Int(next() % 10_000_000))
      let digits = Array("0123456789abcdef")
      let hash = String((0..<64).map { _ in digits[Int(next() % 16)] })
      let key = HKDF<SHA256>.deriveKey(
        inputKeyMaterial: SymmetricKey(data: Array(secret.utf8)), salt: [UInt8](),
        info: Array("coffer-audit/v1 head".utf8), outputByteCount: 32)
      let tag = HMAC<SHA256>.authenticationCode(for: Array("\(seq) \(hash) \(size)".utf8), using: key)
      #expect(AuditHead.mac(seq, hash, size, SecretValue(secret)) == hex(Array(tag)), "case \(i)")
    }
  }
}
