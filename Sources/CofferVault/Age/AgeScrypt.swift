import CofferCore
import Crypto
import CryptoExtras

enum AgeScryptParameters {
  static let stanzaType = "scrypt"
  static let label = "age-encryption.org/v1/scrypt"

  static func deriveKey(passphrase: SecretValue, salt: [UInt8], workFactor: Int) -> SymmetricKey? {
    try? KDF.Scrypt.deriveKey(
      from: passphrase.reveal(), salt: Array(label.utf8) + salt, outputByteCount: 32,
      rounds: 1 << workFactor, blockSize: 8, parallelism: 1)
  }
}

/// A passphrase recipient (age `-p`): wraps the file key with a key derived by scrypt.
///
/// An scrypt stanza must be the only stanza in a header, so ``Age/encrypt(_:to:)`` refuses to combine this
/// recipient with any other.
public struct AgeScryptRecipient: AgeRecipient {
  private let passphrase: SecretValue
  /// log2 of the scrypt cost parameter N.
  public let workFactor: Int

  /// Creates a passphrase recipient.
  /// - Parameters:
  ///   - passphrase: the passphrase; must not be empty.
  ///   - workFactor: log2 of scrypt's N, 1…30; age's default is 18 (about a second, 256 MiB). Decrypting needs an
  ///     identity whose maximum work factor is at least this.
  public init(passphrase: SecretValue, workFactor: Int = 18) {
    self.passphrase = passphrase
    self.workFactor = workFactor
  }

  /// Wraps the file key under the passphrase: one `scrypt` stanza with a fresh 16-byte salt.
  /// - Parameter fileKey: the 16-byte file key.
  /// - Returns: one `-> scrypt <salt> <work factor>` stanza.
  /// - Throws: ``AgeError/Code/invalidKeyEncoding`` if the passphrase is empty or the work factor is outside 1…30.
  public func wrap(_ fileKey: [UInt8]) throws(AgeError) -> [AgeStanza] {
    guard !passphrase.isEmpty else { throw AgeError.key("the passphrase is empty") }
    guard (1...30).contains(workFactor) else { throw AgeError.key("scrypt work factor must be 1…30") }
    let salt = AgeCrypto.randomBytes(16)
    guard let key = AgeScryptParameters.deriveKey(passphrase: passphrase, salt: salt, workFactor: workFactor),
      let body = AgeCrypto.seal(fileKey[...], key: key, nonce: AgeCrypto.zeroNonce)
    else { throw AgeError.key("scrypt key derivation failed") }
    return [
      AgeStanza(
        type: AgeScryptParameters.stanzaType, arguments: [AgeBase64.encodeString(salt), String(workFactor)],
        body: body)
    ]
  }
}

/// A passphrase identity: unwraps a file key from an `scrypt` stanza.
public struct AgeScryptIdentity: AgeIdentity {
  private let passphrase: SecretValue
  /// The largest work factor (log2 N) this identity will compute; higher ones are rejected as header failures.
  public let maxWorkFactor: Int

  /// Creates a passphrase identity.
  /// - Parameters:
  ///   - passphrase: the passphrase.
  ///   - maxWorkFactor: the largest log2 N accepted (age's default is 22, about 4 GiB and 15 s); clamped to 1…30.
  public init(passphrase: SecretValue, maxWorkFactor: Int = 22) {
    self.passphrase = passphrase
    self.maxWorkFactor = min(max(maxWorkFactor, 1), 30)
  }

  /// Unwraps the file key from the header's `scrypt` stanza, if there is one.
  ///
  /// Every syntactic check runs before the (deliberately expensive) scrypt computation.
  /// - Parameter stanzas: the header's stanzas.
  /// - Returns: the file key; nil if there is no `scrypt` stanza or the passphrase is wrong.
  /// - Throws: ``AgeError/Code/headerFailure`` if the `scrypt` stanza is not the only stanza, does not have exactly
  ///   two arguments, its salt is not 16 bytes of canonical base64, its work factor is not a decimal without leading
  ///   zeros in 1…``maxWorkFactor``, or its body is not 32 bytes; ``AgeError/Code/invalidKeyEncoding`` if the
  ///   passphrase is empty.
  public func unwrap(_ stanzas: [AgeStanza]) throws(AgeError) -> [UInt8]? {
    guard let stanza = stanzas.first(where: { $0.type == AgeScryptParameters.stanzaType }) else { return nil }
    guard stanzas.count == 1 else {
      throw AgeError.header("an scrypt stanza must be the only stanza in the header")
    }
    guard stanza.arguments.count == 2 else {
      throw AgeError.header("scrypt stanza has \(stanza.arguments.count) arguments, expected 2")
    }
    guard let salt = AgeBase64.decode(stanza.arguments[0]), salt.count == 16 else {
      throw AgeError.header("scrypt salt is not 16 bytes of canonical unpadded base64")
    }
    let factorText = Array(stanza.arguments[1].utf8)
    guard !factorText.isEmpty, factorText.count <= 2, factorText.first != UInt8(ascii: "0"),
      factorText.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) })
    else {
      throw AgeError.header("scrypt work factor is not a decimal number in 1…\(maxWorkFactor)")
    }
    let workFactor = factorText.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
    guard (1...maxWorkFactor).contains(workFactor) else {
      throw AgeError.header("scrypt work factor \(workFactor) is outside 1…\(maxWorkFactor)")
    }
    guard stanza.body.count == 32 else {
      throw AgeError.header("scrypt stanza body is \(stanza.body.count) bytes, expected 32")
    }
    guard !passphrase.isEmpty else { throw AgeError.key("the passphrase is empty") }
    guard let key = AgeScryptParameters.deriveKey(passphrase: passphrase, salt: salt, workFactor: workFactor) else {
      throw AgeError.header("scrypt key derivation failed for work factor \(workFactor)")
    }
    return AgeCrypto.open(stanza.body[...], key: key, nonce: AgeCrypto.zeroNonce)
  }
}
