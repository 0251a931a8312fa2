import CSodium
import Crypto

/// ChaCha20-Poly1305 for vault values: the IETF construction of RFC 8439 (96-bit nonce, 128-bit tag), from libsodium
/// (`crypto_aead_chacha20poly1305_ietf_*`,
/// https://doc.libsodium.org/secret-key_cryptography/aead/chacha20-poly1305/ietf_chacha20-poly1305_construction).
///
/// A sealed value is `nonce (12 bytes) ‖ ciphertext ‖ tag (16 bytes)`, the layout docs/vault-format.md specifies
/// (and the one swift-crypto's `ChaChaPoly.SealedBox.combined` uses). Opening one value is one library call over the
/// caller's bytes: no per-call context set-up and no intermediate copies, which is what `coffer run` needs when it
/// opens thousands of values before `execve` (docs/performance.md).
enum ValueCipher {
  /// Bytes of nonce in front of the ciphertext.
  static let nonceCount = 12
  /// Bytes of authentication tag after the ciphertext.
  static let tagCount = 16

  /// `sodium_init` once per process; it only selects implementations and is safe to call from any thread.
  private static let ready: Bool = sodium_init() >= 0

  /// Seals a value under a random nonce.
  /// - Parameters:
  ///   - plaintext: the value's bytes.
  ///   - key: the 32-byte data key.
  ///   - aad: the associated data (the value's slot, ``Vault`` builds it).
  /// - Returns: `nonce ‖ ciphertext ‖ tag`, 28 bytes longer than `plaintext`.
  static func seal(_ plaintext: [UInt8], key: SymmetricKey, aad: [UInt8]) -> [UInt8] {
    precondition(ready && key.bitCount == 256, "libsodium unavailable or a data key of the wrong size")
    let total = nonceCount + plaintext.count + tagCount
    return [UInt8](unsafeUninitializedCapacity: total) { out, count in
      let base = out.baseAddress!
      randombytes_buf(base, nonceCount)
      var written: UInt64 = 0
      key.withUnsafeBytes { k in
        _ = crypto_aead_chacha20poly1305_ietf_encrypt(
          base + nonceCount, &written, plaintext, UInt64(plaintext.count), aad, UInt64(aad.count), nil, base,
          k.baseAddress!.assumingMemoryBound(to: UInt8.self))
      }
      count = nonceCount + Int(written)
    }
  }

  /// Opens a sealed value.
  /// - Parameters:
  ///   - sealed: `nonce ‖ ciphertext ‖ tag` as ``seal(_:key:aad:)`` makes it.
  ///   - key: the 32-byte data key.
  ///   - aad: the associated data it was sealed with.
  /// - Returns: the plaintext, or `nil` when `sealed` is shorter than 28 bytes or the tag does not verify (wrong key,
  ///   wrong slot, or altered bytes); nothing is released in that case.
  static func open(_ sealed: [UInt8], key: SymmetricKey, aad: [UInt8]) -> [UInt8]? {
    precondition(ready && key.bitCount == 256, "libsodium unavailable or a data key of the wrong size")
    guard sealed.count >= nonceCount + tagCount else { return nil }
    let plainCount = sealed.count - nonceCount - tagCount
    var ok = false
    let plain = sealed.withUnsafeBufferPointer { s in
      [UInt8](unsafeUninitializedCapacity: max(plainCount, 1)) { out, count in
        var written: UInt64 = 0
        let rc = key.withUnsafeBytes { k in
          crypto_aead_chacha20poly1305_ietf_decrypt(
            out.baseAddress!, &written, nil, s.baseAddress! + nonceCount, UInt64(sealed.count - nonceCount), aad,
            UInt64(aad.count), s.baseAddress!, k.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        ok = rc == 0 && Int(written) == plainCount
        count = ok ? plainCount : 0
      }
    }
    return ok ? plain : nil
  }
}
