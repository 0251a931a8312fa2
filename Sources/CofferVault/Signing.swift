import CofferCore
import Crypto

/// An identity's Ed25519 signing key (RFC 8032), used by trust model v2 to sign vault entries and access policy
/// records (docs/vault-format.md, "Signing keys").
///
/// It is derived from the age X25519 identity, so an existing identity file keeps working and there is nothing
/// new to store: `seed = HKDF-SHA256(ikm: X25519 secret (32 bytes), salt: empty, info: "coffer identity/v2
/// ed25519", 32 bytes)` (RFC 5869), and the key pair is swift-crypto's `Curve25519.Signing.PrivateKey(seed)`.
/// Its public half is published beside the recipient in the manifest: `age1… ed25519:BASE64`.
public struct SigningIdentity: Sendable, CustomStringConvertible {
  let key: Curve25519.Signing.PrivateKey
  /// The public half.
  public let publicKey: SigningPublicKey

  /// Derives the signing key of an age identity.
  /// - Parameter identity: the X25519 identity.
  public init(deriving identity: AgeX25519Identity) {
    let seed = AgeCrypto.hkdf(identity.secretBytes, salt: [], info: "coffer identity/v2 ed25519")
    // A 32-byte seed is always a valid Ed25519 private key.
    key = seed.withUnsafeBytes { try! Curve25519.Signing.PrivateKey(rawRepresentation: Array($0)) }
    publicKey = SigningPublicKey(raw: Array(key.publicKey.rawRepresentation))
  }

  /// Signs a message (Ed25519, 64 bytes).
  func sign(_ message: [UInt8]) -> [UInt8] {
    // Signing with a valid key does not fail.
    (try? key.signature(for: message)).map { Array($0) } ?? []
  }

  /// Never the key: the public half only.
  public var description: String { "SigningIdentity(\(publicKey.encoded))" }
}

/// The public half of a signing key: `ed25519:` and 32 bytes in canonical padded base64.
public struct SigningPublicKey: Sendable, Hashable, CustomStringConvertible {
  let raw: [UInt8]

  init(raw: [UInt8]) { self.raw = raw }

  /// Parses `ed25519:BASE64`.
  /// - Parameter text: the encoded key.
  /// - Returns: `nil` when it is not 32 bytes of canonical padded base64 after `ed25519:`.
  public init?(parsing text: some StringProtocol) {
    guard text.hasPrefix("ed25519:"), let raw = Base64.decode(String(text.dropFirst(8)), padded: true), raw.count == 32,
      (try? Curve25519.Signing.PublicKey(rawRepresentation: raw)) != nil
    else { return nil }
    self.raw = raw
  }

  /// `ed25519:BASE64`.
  public var encoded: String { "ed25519:" + Base64.encode(raw, padded: true) }
  public var description: String { encoded }

  /// Whether `signature` is a valid Ed25519 signature of `message` under this key.
  /// Consults ``SignatureMemo/active`` first: a triple this user's identity already verified is not verified again.
  func verify(_ signature: [UInt8], of message: [UInt8]) -> Bool {
    guard signature.count == 64 else { return false }
    let memo = SignatureMemo.active
    let tag = memo?.tag(raw, signature, message)
    if let memo, let tag, memo.contains(tag) { return true }
    guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw), key.isValidSignature(signature, for: message)
    else { return false }
    if let memo, let tag { memo.insert(tag) }
    return true
  }
}

/// Builds the byte strings that are signed: a domain label, then fields each followed by 0x00. Fields are tokens,
/// numbers, times or base64 and never contain 0x00, so the encoding is unambiguous; a raw digest goes last.
struct SignedMessage {
  private(set) var bytes: [UInt8]

  init(_ label: String) {
    bytes = Array(label.utf8)
    bytes.append(0)
  }

  mutating func add(_ field: String) {
    bytes.append(contentsOf: field.utf8)
    bytes.append(0)
  }

  mutating func add(raw: [UInt8]) { bytes.append(contentsOf: raw) }
}

func sha256(_ bytes: some Sequence<UInt8>) -> [UInt8] {
  var h = SHA256()
  h.update(data: Array(bytes))
  return h.finalize().withUnsafeBytes { Array($0) }
}
