import CofferCore
import Crypto

/// Keyed fingerprints of what a format rule matched (a private key's body, a token), for scan findings that have
/// no known value: `hex(HMAC-SHA256(K, rule ‖ 0x00 ‖ material))` (RFC 2104), never a plain hash.
///
/// The key `K` is derived with HKDF-SHA256 (RFC 5869, empty salt, 32 bytes) from, in order of preference: a
/// vault's environment key (info `coffer-vault/v1 scan fingerprint`), so everyone who can read that environment
/// gets the same fingerprints and can share a baseline; or the user's identity (info
/// `coffer-scan/v1 identity fingerprint`), when there is no vault; or a random key for one run, when there is
/// neither (such fingerprints match nothing later).
public struct ScanFingerprinter: Sendable {
  let key: SymmetricKey
  /// Where the key comes from: `environment NAME`, `identity` or `ephemeral`.
  public let source: String

  /// Keyed by a vault's environment key.
  /// - Parameter vault: an opened vault.
  public init(vault: Vault) {
    // Format 2 keys it from the group keys this identity holds (``Vault/fingerprintKey``), not the environment
    // key every member of the environment holds.
    key = HKDF<SHA256>.deriveKey(
      inputKeyMaterial: vault.v2 == nil ? vault.envKey : vault.fingerprintKey,
      info: Array("coffer-vault/v1 scan fingerprint".utf8), outputByteCount: 32)
    source = "environment \(vault.environment)"
  }

  /// Keyed by an identity's secret key.
  /// - Parameter identity: the user's age identity.
  public init(identity: AgeX25519Identity) {
    key = HKDF<SHA256>.deriveKey(
      inputKeyMaterial: SymmetricKey(data: identity.encoded.reveal()),
      info: Array("coffer-scan/v1 identity fingerprint".utf8), outputByteCount: 32)
    source = "identity"
  }

  /// Keyed by a random key that lives for this process only.
  public static func ephemeral() -> ScanFingerprinter { ScanFingerprinter(key: SymmetricKey(size: .bits256)) }

  private init(key: SymmetricKey) {
    self.key = key
    source = "ephemeral"
  }

  /// The fingerprint.
  /// - Parameters:
  ///   - rule: the rule's id.
  ///   - material: the matched secret material.
  /// - Returns: 64 lowercase hex digits.
  public func fingerprint(rule: String, material: [UInt8]) -> String {
    let mac = HMAC<SHA256>.authenticationCode(for: Array(rule.utf8) + [0] + material, using: key)
    return hex(Array(mac))
  }
}
