import Crypto

/// SHA-256 of public bytes, in hex: the content hash `coffer.lock` records for a git-imported manifest. Never used
/// on a secret value (a value's fingerprint is keyed: ``Vault/fingerprint(of:)``).
public enum ContentHash {
  /// The SHA-256 of `bytes` as 64 lowercase hex digits.
  /// - Parameter bytes: public bytes, such as a manifest file.
  public static func sha256Hex(_ bytes: [UInt8]) -> String {
    let digest = SHA256.hash(data: bytes)
    // Hex through one byte buffer: appending `Character`s one at a time costs more than the hash of a small input.
    return digest.withUnsafeBytes { raw in
      String(unsafeUninitializedCapacity: raw.count * 2) { out in
        for (i, byte) in raw.enumerated() {
          out[2 * i] = hexDigit(byte >> 4)
          out[2 * i + 1] = hexDigit(byte & 0xF)
        }
        return raw.count * 2
      }
    }
  }

  private static func hexDigit(_ v: UInt8) -> UInt8 { v < 10 ? 0x30 + v : 0x57 + v }
}
