import CofferTesting
import Crypto
import Testing

@testable import CofferVault

/// ``AgeCrypto/hkdf(_:salt:info:)``: HKDF-SHA256 to 32 bytes, with Expand's single block composed from swift-crypto's
/// HMAC (docs/performance.md). RFC 5869's own vectors (the first 32 bytes of each OKM) and swift-crypto's
/// `HKDF<SHA256>.deriveKey` on input key material of 0 to 130 bytes, salts of 0 to 96 (across HMAC's 64-byte key
/// block) and info of 0 to 139 bytes.
@Suite struct AgeCryptoTests {
  static func bytes(_ hex: String) -> [UInt8] {
    var out: [UInt8] = []
    var i = hex.startIndex
    while i < hex.endIndex {
      let j = hex.index(i, offsetBy: 2)
      out.append(UInt8(hex[i..<j], radix: 16)!)
      i = j
    }
    return out
  }

  static func derived(_ ikm: [UInt8], salt: [UInt8], info: [UInt8]) -> [UInt8] {
    AgeCrypto.hkdf(SymmetricKey(data: ikm), salt: salt, info: info).withUnsafeBytes { Array($0) }
  }

  /// RFC 5869 appendix A, test cases 1 to 3 (https://www.rfc-editor.org/rfc/rfc5869#appendix-A).
  @Test func rfc5869Vectors() {
    let ikm = [UInt8](repeating: 0x0b, count: 22)
    #expect(
      Self.derived(ikm, salt: Self.bytes("000102030405060708090a0b0c"), info: Self.bytes("f0f1f2f3f4f5f6f7f8f9"))
        == Self.bytes("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"))
    #expect(
      Self.derived(Array(0x00...0x4f), salt: Array(0x60...0xaf), info: Array(0xb0...0xff))
        == Self.bytes("b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"))
    #expect(Self.derived(ikm, salt: [], info: []) == Self.bytes("8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"))
  }

  @Test func agreesWithSwiftCryptosHKDF() {
    var rng = SeededGenerator(seed: 5869)
    func byte() -> UInt8 { UInt8.random(in: 0...255, using: &rng) }
    for n in 0..<1_000 {
      let ikm = (0..<(n % 131)).map { _ in byte() }
      let salt = (0..<((n / 3) % 97)).map { _ in byte() }
      let info = (0..<((n / 7) % 140)).map { _ in byte() }
      let expected = HKDF<SHA256>.deriveKey(
        inputKeyMaterial: SymmetricKey(data: ikm), salt: salt, info: info, outputByteCount: 32
      ).withUnsafeBytes { Array($0) }
      #expect(Self.derived(ikm, salt: salt, info: info) == expected, "case \(n)")
    }
  }
}
