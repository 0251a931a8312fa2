import Crypto

/// SHA-256 of public bytes, in hex: the content hash `coffer.lock` records for a git-imported manifest. Never used
/// on a secret value (a value's fingerprint is keyed: ``Vault/fingerprint(of:)``).
public enum ContentHash {
  /// The SHA-256 of `bytes` as 64 lowercase hex digits.
  /// - Parameter bytes: public bytes, such as a manifest file.
  public static func sha256Hex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef")
    var text = ""
    for byte in SHA256.hash(data: bytes) {
      text.append(digits[Int(byte >> 4)])
      text.append(digits[Int(byte & 0xF)])
    }
    return text
  }
}
