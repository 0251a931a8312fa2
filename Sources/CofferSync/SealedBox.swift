import CSodium
import CofferCore

/// libsodium's anonymous sealed box (`crypto_box_seal`), the encryption GitHub requires for Actions secrets.
///
/// A sealed box is an ephemeral X25519 key pair, XSalsa20-Poly1305, and the nonce blake2b(epk ‖ pk); the output is
/// `epk (32 bytes) ‖ ciphertext ‖ MAC (16 bytes)`, 48 bytes longer than the plaintext, and different every time.
/// Specification: https://doc.libsodium.org/public-key_cryptography/sealed_boxes; GitHub's use:
/// https://docs.github.com/en/rest/guides/encrypting-secrets-for-the-rest-api. Every primitive is libsodium's.
package enum SealedBox {
  /// The length of an X25519 public key, 32.
  package static let publicKeyLength = Int(crypto_box_publickeybytes())
  /// The length of an X25519 secret key, 32.
  package static let secretKeyLength = Int(crypto_box_secretkeybytes())
  /// How many bytes sealing adds, 48.
  package static let overhead = Int(crypto_box_sealbytes())

  private static let initialized: Bool = sodium_init() >= 0

  /// Seals bytes to a public key.
  /// - Parameters:
  ///   - plaintext: any bytes (the value, byte for byte).
  ///   - publicKey: a 32-byte X25519 public key (for GitHub: the base64-decoded `key` of the scope's public key).
  /// - Returns: `48 + plaintext.count` bytes.
  /// - Throws: ``SyncError`` ``SyncError/Code/sealFailed`` if the key is not 32 bytes or libsodium fails.
  package static func seal(_ plaintext: [UInt8], to publicKey: [UInt8]) throws(SyncError) -> [UInt8] {
    guard initialized else { throw SyncError(.sealFailed, detail: "libsodium could not be initialized") }
    guard publicKey.count == publicKeyLength else {
      throw SyncError(.sealFailed, detail: "the public key is \(publicKey.count) bytes, expected \(publicKeyLength)")
    }
    var out = [UInt8](repeating: 0, count: plaintext.count + overhead)
    let status = out.withUnsafeMutableBufferPointer { o in
      plaintext.withUnsafeBufferPointer { p in
        publicKey.withUnsafeBufferPointer { k in
          crypto_box_seal(o.baseAddress!, p.baseAddress ?? UnsafePointer(o.baseAddress!), UInt64(p.count), k.baseAddress!)
        }
      }
    }
    guard status == 0 else { throw SyncError(.sealFailed, detail: "crypto_box_seal failed") }
    return out
  }

  /// Opens a sealed box with the recipient's key pair.
  /// - Parameters:
  ///   - box: the sealed bytes (at least 48).
  ///   - publicKey: the recipient's 32-byte public key.
  ///   - secretKey: the recipient's 32-byte secret key.
  /// - Returns: the plaintext.
  /// - Throws: ``SyncError`` ``SyncError/Code/sealFailed`` if a key has the wrong length, the box is too short,
  ///   or it does not verify.
  package static func open(_ box: [UInt8], publicKey: [UInt8], secretKey: [UInt8]) throws(SyncError) -> [UInt8] {
    guard initialized else { throw SyncError(.sealFailed, detail: "libsodium could not be initialized") }
    guard publicKey.count == publicKeyLength, secretKey.count == secretKeyLength else {
      throw SyncError(.sealFailed, detail: "the key pair has the wrong length")
    }
    guard box.count >= overhead else { throw SyncError(.sealFailed, detail: "the sealed box is too short") }
    var out = [UInt8](repeating: 0, count: box.count - overhead)
    let status = out.withUnsafeMutableBufferPointer { o in
      box.withUnsafeBufferPointer { b in
        publicKey.withUnsafeBufferPointer { pk in
          secretKey.withUnsafeBufferPointer { sk in
            // An empty plaintext still needs a valid output pointer.
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 1) { scratch in
              crypto_box_seal_open(
                o.baseAddress ?? scratch.baseAddress!, b.baseAddress!, UInt64(b.count), pk.baseAddress!,
                sk.baseAddress!)
            }
          }
        }
      }
    }
    guard status == 0 else { throw SyncError(.sealFailed, detail: "the sealed box does not verify") }
    return out
  }

  /// Makes a fresh X25519 key pair (libsodium `crypto_box_keypair`).
  /// - Returns: the 32-byte public and secret keys.
  package static func makeKeyPair() -> (publicKey: [UInt8], secretKey: [UInt8]) {
    _ = initialized
    var pk = [UInt8](repeating: 0, count: publicKeyLength)
    var sk = [UInt8](repeating: 0, count: secretKeyLength)
    _ = pk.withUnsafeMutableBufferPointer { p in sk.withUnsafeMutableBufferPointer { s in crypto_box_keypair(p.baseAddress!, s.baseAddress!) } }
    return (pk, sk)
  }
}
