import CofferCore

/// An error from Coffer's age layer: a failure class (``Code``) and a one-line detail.
///
/// The detail never contains key material, passphrases or plaintext; it names what was wrong (a line number, a
/// stanza type, an expected length) so the user can act on it. Decryption failures exit with
/// ``ExitStatus/accessDenied``; malformed keys, identity files and recipient lists exit with ``ExitStatus/badInput``.
public struct AgeError: CofferError, Equatable {
  /// The class of an age failure. The first six match the outcome classes of the age conformance vectors.
  public struct Code: Hashable, Sendable, CustomStringConvertible {
    /// The short lowercase name of the class, e.g. `header failure`.
    public let name: String

    private init(_ name: String) { self.name = name }

    /// The header is malformed, uses an unsupported version, or a stanza addressed to one of the supplied
    /// identities is malformed (wrong argument count, non-canonical base64, wrong lengths, low-order X25519 share,
    /// scrypt stanza not alone, scrypt work factor out of range), or the payload nonce is missing.
    public static let headerFailure = Code("header failure")
    /// The header MAC does not match: the header was modified after encryption.
    public static let hmacFailure = Code("hmac failure")
    /// The payload failed to decrypt: a chunk failed authentication, the final chunk is missing or empty, or data
    /// trails the final chunk.
    public static let payloadFailure = Code("payload failure")
    /// An ASCII-armored file is malformed (wrong begin or end line, bad line lengths, whitespace, non-canonical or
    /// unpadded base64, trailing garbage).
    public static let armorFailure = Code("armor failure")
    /// None of the supplied identities can unwrap the file key.
    public static let noMatch = Code("no match")
    /// A key or recipient uses a type Coffer does not implement (post-quantum hybrid, plugin, SSH).
    public static let unsupportedRecipientType = Code("unsupported recipient type")
    /// A recipient, identity or identity file is not a valid encoding (bad bech32, wrong prefix, wrong length).
    public static let invalidKeyEncoding = Code("invalid key encoding")
    /// The recipients given to ``Age/encrypt(_:to:)`` cannot be used together (none, scrypt mixed with others,
    /// or a recipient produced an invalid stanza).
    public static let invalidRecipients = Code("invalid recipients")

    /// The class name, e.g. `hmac failure`.
    public var description: String { name }
  }

  /// The failure class.
  public let code: Code
  /// What exactly was wrong, as a lowercase phrase; never contains key material or plaintext.
  public let detail: String

  /// Creates an error.
  /// - Parameters:
  ///   - code: the failure class.
  ///   - detail: a lowercase phrase without secrets saying what was wrong.
  public init(_ code: Code, _ detail: String) {
    self.code = code
    self.detail = detail
  }

  /// `age <class>: <detail>`, one lowercase line.
  public var description: String { "age \(code.name): \(detail)" }

  /// ``ExitStatus/accessDenied`` for decryption failures, ``ExitStatus/badInput`` for bad keys and recipients.
  public var exitStatus: ExitStatus {
    switch code {
    case .headerFailure, .hmacFailure, .payloadFailure, .armorFailure, .noMatch: .accessDenied
    default: .badInput
    }
  }

  /// Suggestions for the user.
  public var hints: [String] {
    switch code {
    case .noMatch:
      ["check that the identity is one of the keys the file was encrypted to"]
    case .hmacFailure, .payloadFailure:
      ["the file was modified or truncated after encryption; restore it from a good copy"]
    case .unsupportedRecipientType:
      ["coffer supports X25519 (age1…, AGE-SECRET-KEY-1…) and passphrase (scrypt) recipients"]
    default: []
    }
  }
}

extension AgeError {
  static func header(_ detail: String) -> AgeError { AgeError(.headerFailure, detail) }
  static func payload(_ detail: String) -> AgeError { AgeError(.payloadFailure, detail) }
  static func armor(_ detail: String) -> AgeError { AgeError(.armorFailure, detail) }
  static func key(_ detail: String) -> AgeError { AgeError(.invalidKeyEncoding, detail) }
}
