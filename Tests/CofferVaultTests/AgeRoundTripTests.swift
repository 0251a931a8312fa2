import CofferCore
import Crypto
import Testing

import CofferVault

@Suite("age round trips, keys and tampering")
struct AgeRoundTripTests {
  static let sizes = [0, 1, 47, 48, 100, 65_535, 65_536, 65_537, 131_072, 200_000]

  static func pattern(_ count: Int) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) } }

  @Test(arguments: sizes)
  func x25519RoundTrip(size: Int) throws {
    let identity = AgeX25519Identity.generate()
    let plaintext = Self.pattern(size)
    let file = try Age.encrypt(plaintext, to: [identity.recipient])
    #expect(try Age.decrypt(file, with: [identity]) == plaintext)
    // Armored, too.
    let armored = Age.armor(file)
    #expect(try Age.dearmor(Array(armored.utf8)) == file)
    #expect(try Age.decrypt(Array(armored.utf8), with: [identity]) == plaintext)
    // Chunking: one chunk per started 64 KiB, at least one.
    let chunks = max(1, (size + 65_535) / 65_536)
    let (_, _, payloadOffset) = try AgeHeader.parse(file)
    #expect(file.count - payloadOffset == 16 + size + 16 * chunks)
  }

  @Test func multipleRecipientsEachDecrypt() throws {
    let identities = (0..<3).map { _ in AgeX25519Identity.generate() }
    let plaintext = Array("three keys, one file".utf8)
    let file = try Age.encrypt(plaintext, to: identities.map(\.recipient))
    let (header, _, _) = try AgeHeader.parse(file)
    #expect(header.stanzas.count == 3)
    for identity in identities {
      #expect(try Age.decrypt(file, with: [identity]) == plaintext)
    }
    // An unrelated identity listed first does not prevent a later one from matching.
    #expect(try Age.decrypt(file, with: [AgeX25519Identity.generate(), identities[2]]) == plaintext)
  }

  @Test func wrongIdentityIsNoMatch() throws {
    let file = try Age.encrypt([1, 2, 3], to: [AgeX25519Identity.generate().recipient])
    let error = #expect(throws: AgeError.self) { try Age.decrypt(file, with: [AgeX25519Identity.generate()]) }
    #expect(error?.code == .noMatch)
    #expect(error?.exitStatus == .accessDenied)
    let none = #expect(throws: AgeError.self) { try Age.decrypt(file, with: []) }
    #expect(none?.code == .noMatch)
  }

  @Test func scryptRoundTripAndLimits() throws {
    let passphrase = SecretValue("correct horse battery staple")
    let file = try Age.encrypt(Array("hi".utf8), to: [AgeScryptRecipient(passphrase: passphrase, workFactor: 10)])
    #expect(try Age.decrypt(file, with: [AgeScryptIdentity(passphrase: passphrase)]) == Array("hi".utf8))
    let wrong = #expect(throws: AgeError.self) {
      try Age.decrypt(file, with: [AgeScryptIdentity(passphrase: SecretValue("nope"))])
    }
    #expect(wrong?.code == .noMatch)
    let tooExpensive = #expect(throws: AgeError.self) {
      try Age.decrypt(file, with: [AgeScryptIdentity(passphrase: passphrase, maxWorkFactor: 9)])
    }
    #expect(tooExpensive?.code == .headerFailure)
    // An X25519 identity alone finds no stanza of its type.
    let x = #expect(throws: AgeError.self) { try Age.decrypt(file, with: [AgeX25519Identity.generate()]) }
    #expect(x?.code == .noMatch)
  }

  @Test func recipientListsThatCannotWork() {
    let none = #expect(throws: AgeError.self) { try Age.encrypt([1], to: []) }
    #expect(none?.code == .invalidRecipients)
    let mixed = #expect(throws: AgeError.self) {
      try Age.encrypt(
        [1], to: [AgeScryptRecipient(passphrase: SecretValue("p"), workFactor: 1), AgeX25519Identity.generate().recipient])
    }
    #expect(mixed?.code == .invalidRecipients)
    #expect(mixed?.exitStatus == .badInput)
    let empty = #expect(throws: AgeError.self) {
      try Age.encrypt([1], to: [AgeScryptRecipient(passphrase: SecretValue(""), workFactor: 1)])
    }
    #expect(empty?.code == .invalidKeyEncoding)
  }

  @Test func lowOrderRecipientIsRefused() throws {
    let zero = try AgeX25519Recipient(parsing: Bech32.encode(hrp: "age", data: [UInt8](repeating: 0, count: 32)))
    let error = #expect(throws: AgeError.self) { try Age.encrypt([1], to: [zero]) }
    #expect(error?.code == .invalidKeyEncoding)
  }

  /// Flip every bit position class (low bit and high bit) of every byte of a small file: decryption must fail,
  /// with the failure class of the region the byte is in.
  @Test func everyFlippedByteFailsWithTheRightClass() throws {
    let identity = AgeX25519Identity.generate()
    let file = try Age.encrypt(Array("a small secret".utf8), to: [identity.recipient])
    let (_, macInputLength, payloadOffset) = try AgeHeader.parse(file)
    let versionEnd = AgeHeader.versionLine.utf8.count + 1
    for index in file.indices {
      for mask: UInt8 in [0x01, 0x80] {
        var tampered = file
        tampered[index] ^= mask
        var outcome: AgeError?
        do { _ = try Age.decrypt(tampered, with: [identity]) } catch { outcome = error }
        let allowed: Set<AgeError.Code>
        switch index {
        case ..<versionEnd: allowed = [.headerFailure]
        case ..<(macInputLength - 3): allowed = [.headerFailure, .noMatch]  // stanza: syntax, type, share, body
        case ..<(macInputLength + 1): allowed = [.headerFailure]  // "---" and its space
        case ..<(payloadOffset - 1): allowed = [.headerFailure, .hmacFailure]  // the MAC's base64
        case ..<payloadOffset: allowed = [.headerFailure]  // the MAC line's newline
        default: allowed = [.payloadFailure]  // nonce and chunk
        }
        #expect(
          outcome.map { allowed.contains($0.code) } == true,
          "byte \(index) ^ \(mask): \(outcome?.description ?? "decrypted") not in \(allowed.map(\.name).sorted())")
      }
    }
  }

  @Test func everyTruncationFails() throws {
    let identity = AgeX25519Identity.generate()
    let file = try Age.encrypt(Self.pattern(70_000), to: [identity.recipient])
    let (_, _, payloadOffset) = try AgeHeader.parse(file)
    let cuts = Array(0..<(payloadOffset + 40)) + [payloadOffset + 16 + 65_552, file.count - 1]
    for length in cuts {
      var outcome: AgeError?
      do { _ = try Age.decrypt(Array(file[..<length]), with: [identity]) } catch { outcome = error }
      let expected: AgeError.Code = length < payloadOffset + 16 ? .headerFailure : .payloadFailure
      #expect(outcome?.code == expected, "truncated to \(length): \(outcome?.description ?? "decrypted")")
    }
    var extended = file
    extended.append(0)
    let trailing = #expect(throws: AgeError.self) { try Age.decrypt(extended, with: [identity]) }
    #expect(trailing?.code == .payloadFailure)
  }

  @Test func keyEncodingsAndParsing() throws {
    let identity = AgeX25519Identity.generate()
    let secret = identity.encoded.revealString()
    #expect(secret.hasPrefix("AGE-SECRET-KEY-1") && secret == secret.uppercased() && secret.count == 74)
    #expect(identity.recipient.encoded.hasPrefix("age1") && identity.recipient.encoded.count == 62)
    let reparsed = try AgeX25519Identity(parsing: secret)
    #expect(reparsed.recipient == identity.recipient)
    #expect(try AgeX25519Recipient(parsing: identity.recipient.encoded) == identity.recipient)

    // Printing never shows the key.
    var dumped = ""
    dump(identity, to: &dumped)
    for text in [identity.description, "\(identity)", String(reflecting: identity), dumped, "\(identity.encoded)"] {
      #expect(!text.contains("AGE-SECRET-KEY"), "\(text)")
    }
    #expect(identity.description.contains(identity.recipient.encoded))

    // Case and prefixes are strict.
    for bad in [secret.lowercased(), secret + "Q", String(secret.dropLast()), identity.recipient.encoded] {
      let error = #expect(throws: AgeError.self) { try AgeX25519Identity(parsing: bad) }
      #expect(error?.code == .invalidKeyEncoding)
      #expect(error.map { !$0.description.contains(secret.dropFirst(16).prefix(20)) } == true)
      #expect(error?.exitStatus == .badInput)
    }
    for bad in [identity.recipient.encoded.uppercased(), "age1", "", secret] {
      let error = #expect(throws: AgeError.self) { try AgeX25519Recipient(parsing: bad) }
      #expect(error?.code == .invalidKeyEncoding)
    }
    let pq = "AGE-SECRET-KEY-PQ-1HZLGZUPT4ETPKDEV8HSGFDCYZ4E522W0A7PU2LHT8EH9W6YLNC3SW78XKG"
    #expect(throws: AgeError(.unsupportedRecipientType, "post-quantum hybrid identities (AGE-SECRET-KEY-PQ-1…) are not supported")) {
      try AgeX25519Identity(parsing: pq)
    }
    let pqRecipient = Bech32.encode(hrp: "age1pq", data: [UInt8](repeating: 1, count: 40))
    let pqError = #expect(throws: AgeError.self) { try AgeX25519Recipient(parsing: pqRecipient) }
    #expect(pqError?.code == .unsupportedRecipientType)
    let ssh = #expect(throws: AgeError.self) { try AgeX25519Recipient(parsing: "ssh-ed25519 AAAA") }
    #expect(ssh?.code == .unsupportedRecipientType)
  }

  @Test func identityFiles() throws {
    let a = AgeX25519Identity.generate()
    let b = AgeX25519Identity.generate()
    let text = "# created: now\r\n# public key: \(a.recipient)\r\n\(a.encoded.revealString())\r\n\n\(b.encoded.revealString())"
    let parsed = try Age.parseIdentities(text)
    #expect(parsed.map(\.recipient) == [a.recipient, b.recipient])
    let empty = #expect(throws: AgeError.self) { try Age.parseIdentities("# nothing\n\n") }
    #expect(empty?.code == .invalidKeyEncoding)
    let bad = #expect(throws: AgeError.self) {
      try Age.parseIdentities("# key\n\(a.encoded.revealString())\n \(b.encoded.revealString())\n")
    }
    #expect(bad?.code == .invalidKeyEncoding)
    #expect(bad?.detail.hasPrefix("identity file line 3:") == true)
    #expect(bad.map { !$0.description.contains("AGE-SECRET-KEY-1") } == true)
  }

  @Test func base64IsCanonical() {
    #expect(AgeBase64.decode("AA") == [0])
    #expect(AgeBase64.decode("AB") == nil)  // non-zero trailing bits
    #expect(AgeBase64.decode("AA==") == nil)  // padding in an unpadded context
    #expect(AgeBase64.decode("A") == nil)
    #expect(AgeBase64.decode(Array("AA==".utf8), padded: true) == [0])
    #expect(AgeBase64.decode(Array("AA".utf8), padded: true) == nil)
    #expect(AgeBase64.decode(Array("AA=A".utf8), padded: true) == nil)
    #expect(AgeBase64.decode(Array("A===".utf8), padded: true) == nil)
    #expect(AgeBase64.decode(Array("AAA=".utf8), padded: true) == [0, 0])
    for count in 0..<70 {
      let bytes = AgeRoundTripTests.pattern(count)
      #expect(AgeBase64.decode(AgeBase64.encode(bytes)) == bytes)
      #expect(AgeBase64.decode(AgeBase64.encode(bytes, padded: true), padded: true) == bytes)
    }
  }

  @Test func errorsPresentThemselves() {
    let error = AgeError(.hmacFailure, "the header MAC does not match")
    #expect(error.description == "age hmac failure: the header MAC does not match")
    #expect(error.exitStatus == .accessDenied)
    #expect(!error.hints.isEmpty)
    #expect(AgeError(.invalidKeyEncoding, "x").exitStatus == .badInput)
    #expect(AgeError(.armorFailure, "x").exitStatus == .accessDenied)
  }
}
