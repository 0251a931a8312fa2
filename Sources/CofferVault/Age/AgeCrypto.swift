import Crypto

/// Thin wrappers over swift-crypto for the few operations age needs. No primitive is implemented here.
enum AgeCrypto {
  /// HKDF-SHA256 (RFC 5869) with a 32-byte output.
  static func hkdf(_ inputKeyMaterial: [UInt8], salt: [UInt8], info: String) -> SymmetricKey {
    HKDF<SHA256>.deriveKey(
      inputKeyMaterial: SymmetricKey(data: inputKeyMaterial), salt: salt, info: Array(info.utf8),
      outputByteCount: 32)
  }

  /// `count` bytes from the system's cryptographically secure generator, via swift-crypto.
  static func randomBytes(_ count: Int) -> [UInt8] {
    SymmetricKey(size: SymmetricKeySize(bitCount: count * 8)).withUnsafeBytes { Array($0) }
  }

  /// ChaCha20-Poly1305 seal; returns ciphertext followed by the 16-byte tag.
  static func seal(_ plaintext: ArraySlice<UInt8>, key: SymmetricKey, nonce: [UInt8]) -> [UInt8]? {
    guard let nonce = try? ChaChaPoly.Nonce(data: nonce),
      let box = try? ChaChaPoly.seal(plaintext, using: key, nonce: nonce)
    else { return nil }
    return Array(box.ciphertext) + Array(box.tag)
  }

  /// ChaCha20-Poly1305 open of ciphertext followed by its 16-byte tag; nil if it does not authenticate.
  static func open(_ sealed: ArraySlice<UInt8>, key: SymmetricKey, nonce: [UInt8]) -> [UInt8]? {
    guard sealed.count >= 16, let nonce = try? ChaChaPoly.Nonce(data: nonce) else { return nil }
    let split = sealed.endIndex - 16
    guard let box = try? ChaChaPoly.SealedBox(nonce: nonce, ciphertext: sealed[..<split], tag: sealed[split...]),
      let plaintext = try? ChaChaPoly.open(box, using: key)
    else { return nil }
    return Array(plaintext)
  }

  /// The all-zero 12-byte nonce age uses to wrap file keys (each wrapping key is used once).
  static let zeroNonce = [UInt8](repeating: 0, count: 12)
}
