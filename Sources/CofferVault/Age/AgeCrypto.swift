import CSodium
import Crypto

/// The cryptographic operations Coffer's age layer and vault format need, each behind one concrete signature.
/// No primitive is implemented here:
/// - HKDF-SHA256 (RFC 5869) and HMAC-SHA256 (RFC 2104) from swift-crypto;
/// - ChaCha20-Poly1305 in its IETF form (RFC 8439: 96-bit nonce, 128-bit tag) from libsodium
///   (`crypto_aead_chacha20poly1305_ietf_*`,
///   https://doc.libsodium.org/secret-key_cryptography/aead/chacha20-poly1305/ietf_chacha20-poly1305_construction).
///
/// Why one signature each: every distinct generic instantiation of a swift-crypto API costs a one-time runtime
/// metadata and conformance lookup that scans the binary's ~10,000 conformance records, and libsodium opens a value
/// in one call over the caller's bytes, without the per-call context and copies of the generic AEAD path. Both
/// matter to `coffer run`, which opens thousands of values before `execve` (docs/performance.md). The tests check
/// this AEAD against swift-crypto's ChaChaPoly in both directions, and the age layer against the `age` CLI.
enum AgeCrypto {
  /// HKDF-SHA256 (RFC 5869) with a 32-byte output.
  ///
  /// Extract is swift-crypto's `HKDF<SHA256>.extract`. Expand, for an output of one SHA-256 block, is the single
  /// block RFC 5869 §2.3 defines, T(1) = HMAC-SHA256(PRK, info ‖ 0x01), with swift-crypto's HMAC: swift-crypto's own
  /// `expand` hands its result through a generic slice whose first use makes the Swift runtime search every
  /// conformance record in the binary and build the metadata it needs, 0.15–0.2 ms of every command that opens a
  /// vault (docs/performance.md).
  /// `AgeCryptoTests` checks it against RFC 5869's test vectors and against `HKDF<SHA256>.deriveKey`.
  /// - Parameters:
  ///   - inputKeyMaterial: the input key material.
  ///   - salt: the salt; empty for none (RFC 5869 then uses a zero-filled one, which is the same HMAC key).
  ///   - info: the context string.
  static func hkdf(_ inputKeyMaterial: SymmetricKey, salt: [UInt8], info: [UInt8]) -> SymmetricKey {
    let prk = HKDF<SHA256>.extract(inputKeyMaterial: inputKeyMaterial, salt: salt)
    var block = info
    block.append(1)
    let okm = block.withUnsafeBytes { HMAC<SHA256>.authenticationCode(for: $0, using: SymmetricKey(data: prk)) }
    return SymmetricKey(data: okm)
  }

  /// HKDF-SHA256 with a 32-byte output, from raw input key material and a text label.
  static func hkdf(_ inputKeyMaterial: [UInt8], salt: [UInt8], info: String) -> SymmetricKey {
    hkdf(SymmetricKey(data: inputKeyMaterial), salt: salt, info: Array(info.utf8))
  }

  /// HMAC-SHA256 of `message` under `key`: 32 bytes.
  static func hmac(_ message: UnsafeRawBufferPointer, key: SymmetricKey) -> [UInt8] {
    HMAC<SHA256>.authenticationCode(for: message, using: key).withUnsafeBytes { Array($0) }
  }

  /// HMAC-SHA256 of bytes in an array or a slice of one.
  static func hmac(_ message: ArraySlice<UInt8>, key: SymmetricKey) -> [UInt8] {
    message.withUnsafeBytes { hmac($0, key: key) }
  }

  /// Constant-time equality of two byte strings (lengths are not secret).
  static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    var d: UInt8 = 0
    for i in 0..<a.count { d |= a[i] ^ b[i] }
    return d == 0
  }

  /// `count` bytes from the system's cryptographically secure generator, via swift-crypto.
  static func randomBytes(_ count: Int) -> [UInt8] {
    SymmetricKey(size: SymmetricKeySize(bitCount: count * 8)).withUnsafeBytes { Array($0) }
  }

  /// Bytes of ChaCha20-Poly1305 nonce.
  static let nonceCount = 12
  /// Bytes of ChaCha20-Poly1305 authentication tag.
  static let tagCount = 16

  // No `sodium_init` here. The AEAD below uses no randomness, and its portable implementations are what libsodium
  // starts with; `sodium_init` would switch ChaCha20 and Poly1305 to its AVX2 and SSE2 ones, which are about twice as
  // slow on values of this size (80 bytes: 330 against 600 ns a value, measured on this project's machine;
  // docs/performance.md). Sealed boxes (CofferSync) call it for their randomness; either choice opens the same bytes.

  /// ChaCha20-Poly1305 seal.
  /// - Parameters:
  ///   - plaintext: the bytes to seal.
  ///   - key: a 32-byte key.
  ///   - nonce: 12 bytes.
  ///   - aad: associated data (empty for age).
  /// - Returns: ciphertext followed by the 16-byte tag; nil only if the key or nonce has the wrong size.
  static func seal(_ plaintext: ArraySlice<UInt8>, key: SymmetricKey, nonce: [UInt8], aad: [UInt8] = []) -> [UInt8]? {
    guard nonce.count == nonceCount, key.bitCount == 256 else { return nil }
    let total = plaintext.count + tagCount
    return [UInt8](unsafeUninitializedCapacity: total) { out, count in
      plaintext.withUnsafeBufferPointer { p in
        key.withUnsafeBytes { k in
          var written: UInt64 = 0
          _ = crypto_aead_chacha20poly1305_ietf_encrypt(
            out.baseAddress!, &written, p.baseAddress, UInt64(p.count), aad, UInt64(aad.count), nil, nonce,
            k.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
      }
      count = total
    }
  }

  /// ChaCha20-Poly1305 open of ciphertext followed by its 16-byte tag.
  /// - Parameters:
  ///   - sealed: ciphertext ‖ tag.
  ///   - key: a 32-byte key.
  ///   - nonce: 12 bytes.
  ///   - aad: the associated data it was sealed with.
  /// - Returns: the plaintext, or nil if it does not authenticate (nothing is released then) or a size is wrong.
  static func open(_ sealed: ArraySlice<UInt8>, key: SymmetricKey, nonce: [UInt8], aad: [UInt8] = []) -> [UInt8]? {
    nonce.withUnsafeBytes { open(sealed, key: key, nonce: $0, aad: aad) }
  }

  /// ``open(_:key:nonce:aad:)`` with the nonce given as raw bytes (for example inside the sealed value's buffer).
  static func open(_ sealed: ArraySlice<UInt8>, key: SymmetricKey, nonce: UnsafeRawBufferPointer, aad: [UInt8]) -> [UInt8]? {
    guard sealed.count >= tagCount, nonce.count == nonceCount, key.bitCount == 256 else { return nil }
    let plainCount = sealed.count - tagCount
    var ok = false
    let plain = sealed.withUnsafeBufferPointer { s in
      [UInt8](unsafeUninitializedCapacity: max(plainCount, 1)) { out, count in
        var written: UInt64 = 0
        let rc = key.withUnsafeBytes { k in
          crypto_aead_chacha20poly1305_ietf_decrypt(
            out.baseAddress!, &written, nil, s.baseAddress!, UInt64(s.count), aad, UInt64(aad.count),
            nonce.baseAddress!.assumingMemoryBound(to: UInt8.self), k.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        ok = rc == 0 && Int(written) == plainCount
        count = ok ? plainCount : 0
      }
    }
    return ok ? plain : nil
  }

  /// ChaCha20-Poly1305 open into a caller's scratch buffer, for opening many values with one allocation each (the
  /// caller copies the plaintext out, which is cheaper than a fresh uninitialized array per value).
  /// - Parameters:
  ///   - sealed: ciphertext ‖ tag.
  ///   - key: a 32-byte key.
  ///   - nonce: 12 bytes.
  ///   - aad: the associated data it was sealed with.
  ///   - scratch: grown as needed (``PlaintextBuffer``, so no earlier plaintext is left in freed storage); on success
  ///     its first `n` bytes are the plaintext.
  /// - Returns: `n`, or nil if it does not authenticate or a size is wrong (the scratch content is then undefined).
  static func open(
    _ sealed: ArraySlice<UInt8>, key: SymmetricKey, nonce: UnsafeRawBufferPointer, aad: [UInt8],
    into scratch: inout [UInt8]
  ) -> Int? {
    guard sealed.count >= tagCount, nonce.count == nonceCount, key.bitCount == 256 else { return nil }
    let plainCount = sealed.count - tagCount
    PlaintextBuffer.ensureCount(&scratch, max(plainCount, 1))  // the old storage may hold an earlier plaintext
    let rc = sealed.withUnsafeBufferPointer { s in
      scratch.withUnsafeMutableBufferPointer { out in
        key.withUnsafeBytes { k in
          var written: UInt64 = 0
          let rc = crypto_aead_chacha20poly1305_ietf_decrypt(
            out.baseAddress!, &written, nil, s.baseAddress!, UInt64(s.count), aad, UInt64(aad.count),
            nonce.baseAddress!.assumingMemoryBound(to: UInt8.self), k.baseAddress!.assumingMemoryBound(to: UInt8.self))
          return rc == 0 && Int(written) == plainCount ? 0 : -1
        }
      }
    }
    return rc == 0 ? plainCount : nil
  }

  /// The all-zero 12-byte nonce age uses to wrap file keys (each wrapping key is used once).
  static let zeroNonce = [UInt8](repeating: 0, count: 12)
}
