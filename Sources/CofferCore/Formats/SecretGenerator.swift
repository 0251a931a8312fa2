/// How `coffer generate` writes random bytes as text.
public enum SecretCharset: String, Sendable, Hashable, CaseIterable {
  /// RFC 4648 §4 base64 with padding: 4 characters per 3 bytes.
  case base64
  /// Lowercase hex: 2 characters per byte.
  case hex
  /// Letters and digits (`A-Z a-z 0-9`), each drawn uniformly: enough characters to carry at least as many bits as
  /// the requested bytes (43 characters for 32 bytes).
  case alnum
}

/// Makes new random secrets for values the team controls (signing keys, session secrets, encryption keys).
///
/// Pure: the caller passes the random number generator (`SystemRandomNumberGenerator`, the operating system's
/// CSPRNG, in the CLI), so the module reads no device. Not cryptography: it only draws and encodes bytes.
public enum SecretGenerator {
  /// A new random value.
  /// - Parameters:
  ///   - byteCount: the entropy, in bytes (8 bits each); at least 1.
  ///   - charset: how to write it.
  ///   - generator: the source of randomness; must be a CSPRNG for real secrets.
  /// - Returns: the value, of ``characterCount(byteCount:charset:)`` ASCII characters.
  public static func generate(
    byteCount: Int, charset: SecretCharset, using generator: inout some RandomNumberGenerator
  ) -> SecretValue {
    switch charset {
    case .base64:
      return SecretValue(Array(Base64.encode(randomBytes(byteCount, using: &generator), padded: true).utf8))
    case .hex:
      let digits = Array("0123456789abcdef".utf8)
      var out: [UInt8] = []
      out.reserveCapacity(byteCount * 2)
      for byte in randomBytes(byteCount, using: &generator) {
        out.append(digits[Int(byte >> 4)])
        out.append(digits[Int(byte & 0x0F)])
      }
      return SecretValue(out)
    case .alnum:
      let alphabet = TokenChecksum.base62Alphabet
      let count = characterCount(byteCount: byteCount, charset: .alnum)
      return SecretValue((0..<count).map { _ in alphabet[Int.random(in: 0..<62, using: &generator)] })
    }
  }

  /// How many characters ``generate(byteCount:charset:using:)`` writes.
  /// - Parameters:
  ///   - byteCount: the entropy, in bytes.
  ///   - charset: the encoding.
  /// - Returns: 4⌈n/3⌉ for base64, 2n for hex, and for alnum the least k with 62^k ≥ 2^(8n).
  public static func characterCount(byteCount: Int, charset: SecretCharset) -> Int {
    switch charset {
    case .base64: return (byteCount + 2) / 3 * 4
    case .hex: return byteCount * 2
    case .alnum:
      // k·log2(62) ≥ 8n; log2(62) = 5.954196310386876, rounded up in the last digit so k is never too small.
      return Int((Double(8 * byteCount) / 5.954_196_310_386_875).rounded(.up))
    }
  }

  private static func randomBytes(_ count: Int, using generator: inout some RandomNumberGenerator) -> [UInt8] {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(count + 8)
    while bytes.count < count {
      var word = generator.next()
      for _ in 0..<8 where bytes.count < count {
        bytes.append(UInt8(truncatingIfNeeded: word))
        word >>= 8
      }
    }
    return bytes
  }
}
