import Crypto

/// age (https://age-encryption.org/v1) file encryption: X25519 and passphrase (scrypt) recipients, binary and
/// ASCII-armored files. See docs/age.md for the supported subset.
public enum Age {
  /// Stanza types of recipients Coffer knows of but does not implement, named in ``AgeError/Code/noMatch`` details.
  static let knownUnsupportedTypes: Set<String> = [
    "mlkem768x25519", "ssh-ed25519", "ssh-rsa", "piv-p256", "p256tag", "mlkem768p256tag",
  ]

  /// Encrypts to one or more recipients.
  /// - Parameters:
  ///   - plaintext: the bytes to encrypt; may be empty.
  ///   - recipients: who can decrypt; at least one. An ``AgeScryptRecipient`` must be the only recipient.
  /// - Returns: the binary age file (use ``armor(_:)`` for text).
  /// - Throws: ``AgeError/Code/invalidRecipients`` for no recipients, a passphrase recipient mixed with others, or
  ///   a recipient producing a malformed stanza; whatever code a recipient's ``AgeRecipient/wrap(_:)`` throws
  ///   (``AgeError/Code/invalidKeyEncoding`` for an unusable key).
  public static func encrypt(_ plaintext: [UInt8], to recipients: [any AgeRecipient]) throws(AgeError) -> [UInt8] {
    guard !recipients.isEmpty else { throw AgeError(.invalidRecipients, "no recipients") }
    let fileKey = AgeCrypto.randomBytes(16)
    var stanzas: [AgeStanza] = []
    for recipient in recipients { stanzas += try recipient.wrap(fileKey) }
    guard !stanzas.isEmpty, stanzas.allSatisfy(\.isWellFormed) else {
      throw AgeError(.invalidRecipients, "a recipient produced no stanza or a malformed one")
    }
    if stanzas.contains(where: { $0.type == AgeScryptParameters.stanzaType }), stanzas.count != 1 {
      throw AgeError(.invalidRecipients, "a passphrase cannot be combined with other recipients")
    }
    var header = AgeHeader(stanzas: stanzas, mac: [])
    header.mac = headerMAC(header.encodedWithoutMAC()[...], fileKey: fileKey)
    guard let payload = AgeStream.seal(plaintext, fileKey: fileKey) else {
      throw AgeError.payload("payload encryption failed")
    }
    return header.encoded() + payload
  }

  /// Decrypts an age file, binary or armored.
  /// - Parameters:
  ///   - file: the file's bytes; treated as armored when, after optional whitespace, it starts with `-----`.
  ///   - identities: the keys to try, in order; the first that unwraps the file key wins.
  /// - Returns: the plaintext, only if the whole file authenticated.
  /// - Throws: ``AgeError/Code/armorFailure``, ``AgeError/Code/headerFailure``, ``AgeError/Code/noMatch``,
  ///   ``AgeError/Code/hmacFailure`` or ``AgeError/Code/payloadFailure``; an identity's own errors
  ///   (``AgeError/Code/invalidKeyEncoding`` for an empty passphrase).
  public static func decrypt(_ file: [UInt8], with identities: [any AgeIdentity]) throws(AgeError) -> [UInt8] {
    var plaintext: [UInt8] = []
    try decrypt(file, with: identities) { plaintext += $0 }
    return plaintext
  }

  /// Decrypts an age file, handing over plaintext chunk by chunk as each one authenticates.
  ///
  /// On a payload failure `release` has already seen the chunks before the bad one: a streaming consumer must
  /// discard them when this throws. ``decrypt(_:with:)`` does so.
  /// - Parameters:
  ///   - file: the file's bytes, binary or armored.
  ///   - identities: the keys to try, in order.
  ///   - release: called with each authenticated chunk of plaintext (up to 64 KiB), in order.
  /// - Throws: as ``decrypt(_:with:)``.
  public static func decrypt(
    _ file: [UInt8], with identities: [any AgeIdentity], release: (ArraySlice<UInt8>) -> Void
  ) throws(AgeError) {
    let binary = looksArmored(file) ? try dearmor(file) : file
    let (header, macInputLength, payloadOffset) = try AgeHeader.parse(binary)
    if header.stanzas.contains(where: { $0.type == AgeScryptParameters.stanzaType }), header.stanzas.count != 1 {
      throw AgeError.header("an scrypt stanza must be the only stanza in the header")
    }
    var fileKey: [UInt8]?
    for identity in identities {
      if let key = try identity.unwrap(header.stanzas) {
        fileKey = key
        break
      }
    }
    guard let fileKey else {
      let unsupported = Set(header.stanzas.map(\.type)).intersection(knownUnsupportedTypes).sorted()
      if unsupported.isEmpty {
        throw AgeError(.noMatch, "no identity matched any of the file's \(header.stanzas.count) recipient stanzas")
      }
      throw AgeError(
        .noMatch,
        "no identity matched; the file is also encrypted to recipient types coffer does not support: "
          + unsupported.joined(separator: ", "))
    }
    guard fileKey.count == 16 else { throw AgeError.header("the unwrapped file key is not 16 bytes") }
    guard AgeCrypto.constantTimeEqual(headerMAC(binary[..<macInputLength], fileKey: fileKey), header.mac) else { throw AgeError(.hmacFailure, "the header MAC does not match (the header was modified)") }
    try AgeStream.open(binary, from: payloadOffset, fileKey: fileKey, release: release)
  }

  static func headerMACKey(fileKey: [UInt8]) -> [UInt8] {
    AgeCrypto.hkdf(fileKey, salt: [], info: "header").withUnsafeBytes { Array($0) }
  }

  static func headerMAC(_ headerWithoutMAC: ArraySlice<UInt8>, fileKey: [UInt8]) -> [UInt8] {
    AgeCrypto.hmac(headerWithoutMAC, key: SymmetricKey(data: headerMACKey(fileKey: fileKey)))
  }

  /// Parses an identity file as `age-keygen` writes it.
  ///
  /// Lines starting with `#` and blank lines are ignored; every other line must be one `AGE-SECRET-KEY-1…`
  /// identity. Lines may end with LF or CRLF.
  /// - Parameter text: the file's contents.
  /// - Returns: the identities in file order; at least one.
  /// - Throws: ``AgeError/Code/invalidKeyEncoding`` for a line that is not an identity (the detail gives its line
  ///   number, never its text) or a file with no identity; ``AgeError/Code/unsupportedRecipientType`` for a
  ///   post-quantum or plugin identity.
  public static func parseIdentities(_ text: String) throws(AgeError) -> [AgeX25519Identity] {
    var identities: [AgeX25519Identity] = []
    // Split on bytes: as Characters, "\r\n" is one grapheme and would not split on "\n".
    for (index, rawLine) in text.utf8.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
      var line = rawLine
      if line.last == 0x0D { line = line.dropLast() }
      if line.isEmpty || line.first == UInt8(ascii: "#") { continue }
      do {
        identities.append(try AgeX25519Identity(parsing: String(decoding: line, as: UTF8.self)))
      } catch {
        throw AgeError(error.code, "identity file line \(index + 1): \(error.detail)")
      }
    }
    guard !identities.isEmpty else { throw AgeError.key("the identity file contains no identity") }
    return identities
  }
}
