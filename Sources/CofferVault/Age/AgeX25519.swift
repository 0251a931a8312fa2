import CofferCore
import Crypto

/// An X25519 recipient: an `age1…` public key, as `age-keygen` prints and `age -r` accepts.
public struct AgeX25519Recipient: AgeRecipient, Hashable, CustomStringConvertible {
  static let hrp = "age"
  static let stanzaType = "X25519"
  static let label = "age-encryption.org/v1/X25519"

  /// The 32-byte Curve25519 public key.
  public let publicKeyBytes: [UInt8]

  /// Parses an `age1…` recipient string (lowercase Bech32, human-readable part `age`, 32-byte key).
  /// - Parameter string: the recipient text; surrounding whitespace is not allowed.
  /// - Throws: ``AgeError/Code/unsupportedRecipientType`` for post-quantum (`age1pq1…`), plugin (`age1name1…`) or
  ///   SSH recipients; ``AgeError/Code/invalidKeyEncoding`` for anything else that is not a valid X25519 recipient.
  public init(parsing string: String) throws(AgeError) {
    if string.hasPrefix("ssh-") {
      throw AgeError(.unsupportedRecipientType, "ssh recipients are not supported")
    }
    let decoded: (hrp: String, data: [UInt8])
    do {
      decoded = try Bech32.decode(string, limit: nil)
    } catch {
      throw AgeError.key("recipient is not valid bech32 (\(error))")
    }
    guard decoded.hrp == Self.hrp else {
      if decoded.hrp == "age1pq" {
        throw AgeError(.unsupportedRecipientType, "post-quantum hybrid recipients (age1pq1…) are not supported")
      }
      if decoded.hrp.hasPrefix("age1") {
        throw AgeError(.unsupportedRecipientType, "age plugin recipients (\(decoded.hrp)1…) are not supported")
      }
      throw AgeError.key("recipient does not start with age1 (or is not lowercase)")
    }
    guard decoded.data.count == 32 else {
      throw AgeError.key("recipient key is \(decoded.data.count) bytes, expected 32")
    }
    self.publicKeyBytes = decoded.data
  }

  init(publicKey: Curve25519.KeyAgreement.PublicKey) {
    self.publicKeyBytes = Array(publicKey.rawRepresentation)
  }

  /// The `age1…` text.
  public var encoded: String { Bech32.encode(hrp: Self.hrp, data: publicKeyBytes) }

  /// The `age1…` text.
  public var description: String { encoded }

  /// Wraps the file key with an ephemeral X25519 exchange: one `X25519` stanza.
  /// - Parameter fileKey: the 16-byte file key.
  /// - Returns: one stanza `-> X25519 <ephemeral share>` whose body is the ChaCha20-Poly1305-wrapped key.
  /// - Throws: ``AgeError/Code/invalidKeyEncoding`` if the public key is a low-order point (all-zero secret).
  public func wrap(_ fileKey: [UInt8]) throws(AgeError) -> [AgeStanza] {
    let ephemeral = Curve25519.KeyAgreement.PrivateKey()
    let share = Array(ephemeral.publicKey.rawRepresentation)
    guard let theirs = try? Curve25519.KeyAgreement.PublicKey(rawRepresentation: publicKeyBytes),
      let secret = try? ephemeral.sharedSecretFromKeyAgreement(with: theirs)
    else { throw AgeError.key("recipient public key is unusable") }
    let secretBytes = secret.withUnsafeBytes { Array($0) }
    guard secretBytes.contains(where: { $0 != 0 }) else {
      throw AgeError.key("recipient public key is a low-order point")
    }
    let key = AgeCrypto.hkdf(secretBytes, salt: share + publicKeyBytes, info: Self.label)
    guard let body = AgeCrypto.seal(fileKey[...], key: key, nonce: AgeCrypto.zeroNonce) else {
      throw AgeError.key("could not wrap the file key")
    }
    return [AgeStanza(type: Self.stanzaType, arguments: [AgeBase64.encodeString(share)], body: body)]
  }
}

/// An X25519 identity: an `AGE-SECRET-KEY-1…` private key, as `age-keygen` writes.
///
/// Printing it shows only its recipient; the key text leaves this type only through ``encoded``, a ``SecretValue``.
public struct AgeX25519Identity: AgeIdentity, CustomStringConvertible, CustomDebugStringConvertible,
  CustomReflectable
{
  static let hrp = "AGE-SECRET-KEY-"

  private let privateKey: Curve25519.KeyAgreement.PrivateKey
  /// The X25519 scalar's 32 bytes, for deriving this identity's signing key (Signing.swift); never printed.
  var secretBytes: [UInt8] { Array(privateKey.rawRepresentation) }
  /// The matching recipient (public key), computed once.
  public let recipient: AgeX25519Recipient

  /// Parses an `AGE-SECRET-KEY-1…` identity (uppercase Bech32, 32-byte key).
  /// - Parameter string: the identity text, one key without surrounding whitespace.
  /// - Throws: ``AgeError/Code/unsupportedRecipientType`` for post-quantum (`AGE-SECRET-KEY-PQ-1…`) and plugin
  ///   (`AGE-PLUGIN-…`) identities; ``AgeError/Code/invalidKeyEncoding`` otherwise. The detail never quotes the key.
  public init(parsing string: String) throws(AgeError) {
    if string.hasPrefix("AGE-SECRET-KEY-PQ-") {
      throw AgeError(.unsupportedRecipientType, "post-quantum hybrid identities (AGE-SECRET-KEY-PQ-1…) are not supported")
    }
    if string.hasPrefix("AGE-PLUGIN-") {
      throw AgeError(.unsupportedRecipientType, "age plugin identities (AGE-PLUGIN-…) are not supported")
    }
    let decoded: (hrp: String, data: [UInt8])
    do {
      decoded = try Bech32.decode(string, limit: nil)
    } catch {
      throw AgeError.key("identity is not valid bech32 (\(error))")
    }
    guard decoded.hrp == Self.hrp else {
      throw AgeError.key("identity does not start with AGE-SECRET-KEY-1 (or is not uppercase)")
    }
    guard decoded.data.count == 32,
      let key = try? Curve25519.KeyAgreement.PrivateKey(rawRepresentation: decoded.data)
    else {
      throw AgeError.key("identity key is \(decoded.data.count) bytes, expected 32")
    }
    self.init(privateKey: key)
  }

  private init(privateKey: Curve25519.KeyAgreement.PrivateKey) {
    self.privateKey = privateKey
    self.recipient = AgeX25519Recipient(publicKey: privateKey.publicKey)
  }

  /// Generates a new random identity.
  /// - Returns: an identity backed by a fresh Curve25519 key from the system's secure random generator.
  public static func generate() -> AgeX25519Identity {
    AgeX25519Identity(privateKey: Curve25519.KeyAgreement.PrivateKey())
  }

  /// The `AGE-SECRET-KEY-1…` text (uppercase), wrapped so that it never prints.
  public var encoded: SecretValue {
    SecretValue(Bech32.encode(hrp: Self.hrp, data: Array(privateKey.rawRepresentation)).uppercased())
  }

  /// `age identity for age1…`: the recipient, never the key.
  public var description: String { "age identity for \(recipient.encoded)" }
  /// Same as ``description``.
  public var debugDescription: String { description }
  /// A mirror showing only the recipient.
  public var customMirror: Mirror { Mirror(self, children: ["recipient": recipient.encoded], displayStyle: .struct) }

  /// Finds an `X25519` stanza for this key and unwraps the file key.
  ///
  /// Costs one X25519 and one HKDF per `X25519` stanza tried, and a ChaCha20-Poly1305 open of 32 bytes.
  /// - Parameter stanzas: the header's stanzas.
  /// - Returns: the file key, or nil if no `X25519` stanza decrypts with this key.
  /// - Throws: ``AgeError/Code/headerFailure`` for an `X25519` stanza met before a match that does not have exactly
  ///   one argument, whose share is not 32 bytes of canonical base64, whose body is not 32 bytes, or whose share
  ///   gives the all-zero shared secret.
  public func unwrap(_ stanzas: [AgeStanza]) throws(AgeError) -> [UInt8]? {
    for stanza in stanzas where stanza.type == AgeX25519Recipient.stanzaType {
      guard stanza.arguments.count == 1 else {
        throw AgeError.header("X25519 stanza has \(stanza.arguments.count) arguments, expected 1")
      }
      guard let share = AgeBase64.decode(stanza.arguments[0]), share.count == 32 else {
        throw AgeError.header("X25519 stanza share is not 32 bytes of canonical unpadded base64")
      }
      guard stanza.body.count == 32 else {
        throw AgeError.header("X25519 stanza body is \(stanza.body.count) bytes, expected 32")
      }
      guard let publicKey = try? Curve25519.KeyAgreement.PublicKey(rawRepresentation: share),
        let secret = try? privateKey.sharedSecretFromKeyAgreement(with: publicKey)
      else { throw AgeError.header("X25519 stanza share is unusable") }
      let secretBytes = secret.withUnsafeBytes { Array($0) }
      var accumulator: UInt8 = 0
      for byte in secretBytes { accumulator |= byte }
      guard accumulator != 0 else {
        throw AgeError.header("X25519 stanza share is a low-order point (all-zero shared secret)")
      }
      let key = AgeCrypto.hkdf(secretBytes, salt: share + recipient.publicKeyBytes, info: AgeX25519Recipient.label)
      if let fileKey = AgeCrypto.open(stanza.body[...], key: key, nonce: AgeCrypto.zeroNonce) {
        return fileKey
      }
    }
    return nil
  }
}
