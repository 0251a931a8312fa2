/// Something a file key can be encrypted to: produces the header stanzas for one recipient.
public protocol AgeRecipient: Sendable {
  /// Wraps a file key for this recipient.
  /// - Parameter fileKey: the file's 16-byte symmetric key.
  /// - Returns: the stanzas to place in the header (usually one).
  /// - Throws: ``AgeError/Code/invalidKeyEncoding`` if this recipient's key cannot be used (for X25519, a
  ///   low-order public key).
  func wrap(_ fileKey: [UInt8]) throws(AgeError) -> [AgeStanza]
}

/// Something that can recover a file key from header stanzas.
public protocol AgeIdentity: Sendable {
  /// Looks for a stanza addressed to this identity and unwraps the file key from it.
  /// - Parameter stanzas: all stanzas of the header, in order.
  /// - Returns: the 16-byte file key, or nil if no stanza is for this identity (none of its type, or none
  ///   that decrypts with this key).
  /// - Throws: ``AgeError/Code/headerFailure`` if a stanza of this identity's type is malformed.
  func unwrap(_ stanzas: [AgeStanza]) throws(AgeError) -> [UInt8]?
}
