import CofferCore
import Foundation
import Crypto
import Testing

@testable import CofferVault

/// Vault format behaviour: round trips, determinism, retention, and every kind of tampering.
@Suite struct VaultTests {
  let alice = AgeX25519Identity.generate()
  let bob = AgeX25519Identity.generate()
  let t0 = Timestamp(secondsSinceEpoch: 1_790_000_000)

  func sample() throws -> Vault {
    var v = try Vault.create(environment: "production", recipients: [alice.recipient, bob.recipient], file: "prod.vault")
    try v.set("OPENAI_API_KEY", to: SecretValue("sk-fake-openai"), group: "api-keys", author: "alice", at: t0)
    try v.set("DATABASE_URL", to: SecretValue("postgres://u:p@h/db"), group: "database-credentials", author: "alice", at: t0)
    try v.set("PEM", to: SecretValue("-----BEGIN FAKE-----\nAAAA\n-----END FAKE-----\n"), group: "api-keys", author: "bob", at: t0)
    return v
  }

  func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

  @Test func roundTripGivesExactValuesAndMetadata() throws {
    let sealed = VaultFile.seal(try sample())
    for id in [alice, bob] {
      let v = try VaultFile.open(sealed, file: "prod.vault", with: [id])
      #expect(v.names == ["DATABASE_URL", "OPENAI_API_KEY", "PEM"])
      #expect(try v.value(of: "OPENAI_API_KEY") == SecretValue("sk-fake-openai"))
      #expect(try v.value(of: "PEM").reveal() == Array("-----BEGIN FAKE-----\nAAAA\n-----END FAKE-----\n".utf8))
      #expect(v.current("PEM")?.author == "bob")
      #expect(v.current("PEM")?.created == t0)
      #expect(v.group(of: "DATABASE_URL") == "database-credentials")
      #expect(v.unreadableGroups == [])
    }
  }

  /// A writer never produces a number the grammar rejects: at 999,999,999 the next version is refused (it used to be
  /// written, and every later read failed as malformed).
  @Test func versionNumbersStopAtTheLargestTheFormatCanWrite() throws {
    var v = try Vault.create(environment: "production", recipients: [alice.recipient], file: "prod.vault")
    try v.set("A", to: SecretValue("first"), group: "api-keys", author: "alice", at: t0)
    let first = try #require(v.records["A"]?.versions.first)
    v.records["A"]?.versions[0] = SecretVersion(
      number: Vault.largestNumber, created: first.created, author: first.author, sealed: first.sealed,
      generation: first.generation)
    do {
      try v.set("A", to: SecretValue("second"), group: "api-keys", author: "alice", at: t0)
      Issue.record("expected an error")
    } catch {
      #expect(error.code == .malformed)
      #expect("\(error)".hasSuffix("the version of A is already at 999999999, the largest number the format can write"))
    }
    #expect(try Vault.number(after: 999_999_998, what: "x", file: "f") == 999_999_999)
    #expect(try Vault.number(after: nil, what: "x", file: "f") == 1)
  }

  @Test func bytesOfEveryKindSurvive() throws {
    var v = try sample()
    let values: [[UInt8]] = [[], [0], Array(0...255), Array("Zoë 中 🙂 $HOME `x` 'q' \"d\" \\ \r\n#".utf8), [0xFF, 0xFE]]
    for (i, bytes) in values.enumerated() {
      try v.set("V\(i)", to: SecretValue(bytes), group: "misc", author: "alice", at: t0)
    }
    let opened = try VaultFile.open(VaultFile.seal(v), file: "x", with: [alice])
    for (i, bytes) in values.enumerated() { #expect(try opened.value(of: "V\(i)").reveal() == bytes) }
  }

  /// A read keeps each version's sealed bytes and attestation as the file's base64 and the records in the parser's
  /// order (docs/performance.md); any change drops that order, so every reader sees the change.
  @Test func aReadVaultKeepsTheFileTextAndSeesEveryLaterChange() throws {
    let sealed = VaultFile.seal(try sample())
    var v = try VaultFile.open(sealed, file: "x", with: [alice])
    let pem = try #require(v.current("PEM"))
    guard case .encoded(let text) = pem.storedSealed else {
      Issue.record("expected the sealed bytes to stay as read")
      return
    }
    #expect(Base64.decode(text, padded: true) == pem.sealed)
    #expect(v.parsedOrder?.map(\.name) == ["DATABASE_URL", "OPENAI_API_KEY", "PEM"])
    #expect(VaultFile.seal(v) == sealed)  // written back byte for byte from the kept text

    func current(_ vault: Vault) throws -> [String: [UInt8]] {
      var out: [String: [UInt8]] = [:]
      try vault.forEachCurrentValue { name, value in out[name] = Array(value) }
      return out
    }
    try v.set("OPENAI_API_KEY", to: SecretValue("sk-fake-rotated"), group: "api-keys", author: "alice", at: t0)
    #expect(v.parsedOrder == nil)
    #expect(try current(v)["OPENAI_API_KEY"] == Array("sk-fake-rotated".utf8))
    let removed = v.remove("PEM")
    #expect(removed)
    #expect(try current(v).keys.sorted() == ["DATABASE_URL", "OPENAI_API_KEY"])
    // Reopened, the change is what the file holds.
    let reopened = try VaultFile.open(VaultFile.seal(v), file: "x", with: [bob])
    #expect(try current(reopened) == ["DATABASE_URL": Array("postgres://u:p@h/db".utf8), "OPENAI_API_KEY": Array("sk-fake-rotated".utf8)])
  }

  /// The set fingerprint fed in chunks is the HMAC of the whole message `name ‖ 0x00 ‖ u64be(count) ‖ value` per
  /// value, however the values fall across chunk boundaries: empty values, values of exactly one chunk, longer ones.
  @Test func theSetFingerprintIsTheHMACOfTheWholeMessage() throws {
    let v = try sample()
    var values: [(name: String, value: SecretValue)] = []
    for (i, size) in [0, 1, 80, 8191, 8192, 8193, 20_000, 3, 8170, 0].enumerated() {
      values.append(("K\(i)", SecretValue((0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ i) })))
    }
    for count in [0, 1, 2, values.count] {
      var message: [UInt8] = []
      for (name, value) in values.prefix(count) {
        message += Array(name.utf8) + [0]
        withUnsafeBytes(of: UInt64(value.byteCount).bigEndian) { message += $0 }
        message += value.reveal()
      }
      let expected = HMAC<SHA256>.authenticationCode(for: message, using: v.fingerprintKey).map { String(format: "%02x", $0) }.joined()
      #expect(v.setFingerprint(of: Array(values.prefix(count))) == expected, "\(count) values")
    }
  }

  /// A vault as read indexes its records by name only on the first lookup: presence is answered by a binary search of
  /// the sorted names (names that sort between, before and after them, lower case after upper case, a non-ASCII query), lookups and
  /// changes see the same records, and a change to one copy leaves another copy as it was.
  @Test func aReadVaultAnswersLookupsBeforeAndAfterItsIndexIsBuilt() throws {
    var v = try sample()
    try v.set("zeta_key", to: SecretValue("é"), group: "api-keys", author: "alice", at: t0)
    try v.set("AAA", to: SecretValue("a"), group: "api-keys", author: "alice", at: t0)
    let read = try VaultFile.open(VaultFile.seal(v), file: "x", with: [alice])
    #expect(read.names == ["AAA", "DATABASE_URL", "OPENAI_API_KEY", "PEM", "zeta_key"])
    for name in read.names { #expect(read.contains(name), "\(name)") }
    for absent in ["", "A", "AAAA", "DATABASE", "OPENAI_API_KEY_2", "PEN", "ZZZ", "zeta", "zeta_keys", "ÉTÉ_KEY", "\u{10FFFF}"] {
      #expect(!read.contains(absent), "\(absent)")
    }
    #expect(read.group(of: "PEM") == "api-keys")
    #expect(read.current("zeta_key")?.number == 1)
    #expect(read.parsedOrder != nil)  // lookups do not drop the parser's order

    var changed = read
    let removed = changed.remove("AAA")
    #expect(removed)
    #expect(!changed.contains("AAA"))
    #expect(changed.parsedOrder == nil)
    #expect(read.contains("AAA"))
    #expect(read.current("AAA")?.number == 1)
    #expect(try read.currentValues().map(\.name) == ["AAA", "DATABASE_URL", "OPENAI_API_KEY", "PEM", "zeta_key"])
    #expect(try changed.currentValues().map(\.name) == ["DATABASE_URL", "OPENAI_API_KEY", "PEM", "zeta_key"])
  }

  @Test func serializationIsDeterministicAndSorted() throws {
    let sealed = VaultFile.seal(try sample())
    let reopened = try VaultFile.open(sealed, file: "x", with: [alice])
    #expect(VaultFile.seal(reopened) == sealed)
    let lines = text(sealed).split(separator: "\n").map(String.init)
    #expect(lines[0] == "coffer-vault v1")
    #expect(lines[1] == "environment production")
    #expect(lines.filter { $0.hasPrefix("key ") }.map { $0.split(separator: " ")[1] } == ["*", "api-keys", "database-credentials"])
    #expect(lines.filter { $0.hasPrefix("secret ") } == [
      "secret DATABASE_URL database-credentials", "secret OPENAI_API_KEY api-keys", "secret PEM api-keys",
    ])
    #expect(lines.last?.hasPrefix("mac ") == true)
    #expect(!text(sealed).contains("sk-fake-openai"))
  }

  @Test func keepsTheLastTenVersionsNewestFirst() throws {
    var v = try sample()
    for i in 2...13 {
      try v.set("OPENAI_API_KEY", to: SecretValue("sk-v\(i)"), group: "api-keys", author: "alice", at: Timestamp(secondsSinceEpoch: t0.secondsSinceEpoch + Int64(i)))
    }
    let opened = try VaultFile.open(VaultFile.seal(v), file: "x", with: [bob])
    #expect(opened.versions(of: "OPENAI_API_KEY").map(\.number) == Array((4...13).reversed()))
    #expect(try opened.value(of: "OPENAI_API_KEY") == SecretValue("sk-v13"))
    #expect(try opened.value(of: "OPENAI_API_KEY", version: 4) == SecretValue("sk-v4"))
    #expect(throws: VaultError.self) { try opened.value(of: "OPENAI_API_KEY", version: 3) }
  }

  @Test func movingAGroupReSealsEveryVersion() throws {
    var v = try sample()
    try v.set("OPENAI_API_KEY", to: SecretValue("sk-2"), group: "api-keys", author: "a", at: t0)
    try v.set("OPENAI_API_KEY", to: SecretValue("sk-3"), group: "security-tokens", author: "a", at: t0)
    let opened = try VaultFile.open(VaultFile.seal(v), file: "x", with: [alice])
    #expect(opened.group(of: "OPENAI_API_KEY") == "security-tokens")
    #expect(try opened.value(of: "OPENAI_API_KEY", version: 1) == SecretValue("sk-fake-openai"))
    #expect(try opened.value(of: "OPENAI_API_KEY") == SecretValue("sk-3"))
  }

  @Test func wrongIdentityIsNoMatch() throws {
    let sealed = VaultFile.seal(try sample())
    let error = #expect(throws: VaultError.self) { try VaultFile.open(sealed, file: "prod.vault", with: [AgeX25519Identity.generate()]) }
    #expect(error?.code == .noMatchingIdentity)
    #expect(error?.exitStatus == .accessDenied)
    #expect(error?.description == "no identity can open the vault: prod.vault")
  }

  @Test func everyFlippedByteIsDetected() throws {
    var v = try Vault.create(environment: "dev", recipients: [alice.recipient], file: "dev.vault")
    try v.set("A", to: SecretValue("one"), group: "g", author: "alice", at: t0)
    let sealed = VaultFile.seal(v)
    var undetected: [Int] = []
    for i in sealed.indices {
      for mask: UInt8 in [0x01, 0x20] {
        var bad = sealed
        bad[i] ^= mask
        if (try? VaultFile.open(bad, file: "dev.vault", with: [alice])) != nil { undetected.append(i) }
      }
    }
    #expect(undetected == [])
  }

  @Test func removingAnEntryIsDetected() throws {
    let lines = text(VaultFile.seal(try sample())).split(separator: "\n", omittingEmptySubsequences: false)
    let start = lines.firstIndex { $0.hasPrefix("secret OPENAI_API_KEY") }!
    var kept = lines
    kept.removeSubrange(start...(start + 1))
    let error = #expect(throws: VaultError.self) {
      try VaultFile.open(Array(kept.joined(separator: "\n").utf8), file: "prod.vault", with: [alice])
    }
    #expect(error?.code == .authenticationFailed)
    #expect(error?.description == "vault authentication failed: prod.vault")
  }

  @Test func reorderingEntriesIsDetected() throws {
    var lines = text(VaultFile.seal(try sample())).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let a = lines.firstIndex { $0.hasPrefix("secret DATABASE_URL") }!
    let b = lines.firstIndex { $0.hasPrefix("secret OPENAI_API_KEY") }!
    lines.swapAt(a, b)
    lines.swapAt(a + 1, b + 1)
    let error = #expect(throws: VaultError.self) {
      try VaultFile.open(Array(lines.joined(separator: "\n").utf8), file: "prod.vault", with: [alice])
    }
    #expect(error?.code == .malformed)
    #expect(error?.line == b + 1)  // the second block is where the order breaks
  }

  @Test func rollingBackOneEntryIsDetectedButAWholeFileRevertIsNot() throws {
    var v = try sample()
    let old = VaultFile.seal(v)
    try v.set("OPENAI_API_KEY", to: SecretValue("sk-rotated"), group: "api-keys", author: "alice", at: t0)
    try v.set("PEM", to: SecretValue("new pem"), group: "api-keys", author: "alice", at: t0)
    let new = VaultFile.seal(v)
    // Put back OPENAI_API_KEY's old block while PEM stays current.
    let oldLines = text(old).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    var newLines = text(new).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let oldStart = oldLines.firstIndex { $0.hasPrefix("secret OPENAI_API_KEY") }!
    let newStart = newLines.firstIndex { $0.hasPrefix("secret OPENAI_API_KEY") }!
    newLines.replaceSubrange(newStart...(newStart + 2), with: oldLines[oldStart...(oldStart + 1)])
    let error = #expect(throws: VaultError.self) {
      try VaultFile.open(Array(newLines.joined(separator: "\n").utf8), file: "prod.vault", with: [alice])
    }
    #expect(error?.code == .authenticationFailed)
    // The whole old file is an older, consistent vault.
    #expect(try VaultFile.open(old, file: "prod.vault", with: [alice]).value(of: "OPENAI_API_KEY") == SecretValue("sk-fake-openai"))
  }

  @Test func swappedCiphertextsFailEvenWithAValidMAC() throws {
    var v = try sample()
    try v.set("ANOTHER", to: SecretValue("other"), group: "api-keys", author: "a", at: t0)
    // An insider who can recompute the MAC still cannot move a ciphertext to another slot.
    let a = v.records["ANOTHER"]!.versions[0]
    let b = v.records["OPENAI_API_KEY"]!.versions[0]
    v.records["ANOTHER"]!.versions[0] = b
    v.records["OPENAI_API_KEY"]!.versions[0] = a
    let opened = try VaultFile.open(VaultFile.seal(v), file: "prod.vault", with: [alice])
    let error = #expect(throws: VaultError.self) { try opened.value(of: "OPENAI_API_KEY") }
    #expect(error?.code == .authenticationFailed)
    #expect(error?.description == "vault authentication failed: prod.vault: OPENAI_API_KEY version 1")
  }

  @Test func crlfCheckoutsStillOpen() throws {
    let sealed = VaultFile.seal(try sample())
    var crlf = [UInt8]()
    for b in sealed { if b == 0x0A { crlf.append(0x0D) }; crlf.append(b) }
    #expect(try VaultFile.open(crlf, file: "x", with: [alice]).value(of: "DATABASE_URL") == SecretValue("postgres://u:p@h/db"))
    var loneCR = sealed
    loneCR.insert(0x0D, at: 5)
    let error = #expect(throws: VaultError.self) { try VaultFile.open(loneCR, file: "x", with: [alice]) }
    #expect(error?.code == .malformed)
  }

  @Test func otherVersionsAreRefusedClearly() throws {
    var sealed = VaultFile.seal(try sample())
    sealed[14] = UInt8(ascii: "3")
    let error = #expect(throws: VaultError.self) { try VaultFile.open(sealed, file: "x", with: [alice]) }
    #expect(error?.code == .unsupportedVersion)
  }

  @Test func rewrapAddsAReader() throws {
    var v = try Vault.create(environment: "dev", recipients: [alice.recipient], file: "x")
    try v.set("A", to: SecretValue("one"), group: "g", author: "alice", at: t0)
    #expect(throws: VaultError.self) { try VaultFile.open(VaultFile.seal(v), file: "x", with: [bob]) }
    #expect(try v.rewrap(to: [alice.recipient, bob.recipient]) == [])
    let opened = try VaultFile.open(VaultFile.seal(v), file: "x", with: [bob])
    #expect(try opened.value(of: "A") == SecretValue("one"))
    #expect(opened.recipients(ofGroup: "g") == [alice.recipient.encoded, bob.recipient.encoded].sorted())
  }

  @Test func fingerprintsAreKeyedAndStable() throws {
    let v = try sample()
    let other = try Vault.create(environment: "production", recipients: [alice.recipient], file: "y")
    #expect(v.fingerprint(of: SecretValue("x")) == v.fingerprint(of: SecretValue("x")))
    #expect(v.fingerprint(of: SecretValue("x")) != other.fingerprint(of: SecretValue("x")))
    #expect(v.fingerprint(of: SecretValue("x")).count == 64)
  }

  @Test func theReferenceAgeCLIOpensAWrappedKey() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("coffer-age-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let idFile = dir.appendingPathComponent("id.txt")
    try Data((alice.encoded.revealString() + "\n").utf8).write(to: idFile)
    let sealed = VaultFile.seal(try sample())
    for line in text(sealed).split(separator: "\n") where line.hasPrefix("key ") {
      let b64 = String(line.split(separator: " ")[2])
      let wrapped = dir.appendingPathComponent("wrapped.age")
      try Data(Base64.decode(b64, padded: true)!).write(to: wrapped)
      let p = Process()
      p.executableURL = URL(fileURLWithPath: "/usr/bin/age")
      p.arguments = ["-d", "-i", idFile.path, wrapped.path]
      let out = Pipe()
      p.standardOutput = out
      try p.run()
      let data = out.fileHandleForReading.readDataToEndOfFile()
      p.waitUntilExit()
      #expect(p.terminationStatus == 0)
      #expect(data.count == 32)
    }
  }
}

/// ChaCha20-Poly1305 comes from libsodium (AgeCrypto); swift-crypto's implementation of the same construction
/// (RFC 8439) must open what it seals, and the other way round, for vault values (nonce ‖ ciphertext ‖ tag, with the
/// slot as associated data) and for age's empty-AAD use.
@Suite struct AEADInteropTests {
  let key = SymmetricKey(size: .bits256)
  let nonce: [UInt8] = (0..<12).map { UInt8($0 * 7 + 3) }
  let aad = Array("coffer-vault/v1 value\0production\0API_KEY\03".utf8)

  @Test(arguments: [0, 1, 15, 16, 17, 63, 64, 65, 1000, 65_536])
  func libsodiumSealsWhatSwiftCryptoOpens(length: Int) throws {
    let plain = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
    for aad in [aad, []] {
      let sealed = try #require(AgeCrypto.seal(plain[...], key: key, nonce: nonce, aad: aad))
      #expect(sealed.count == length + 16)
      let box = try ChaChaPoly.SealedBox(combined: nonce + sealed)
      #expect(Array(try ChaChaPoly.open(box, using: key, authenticating: aad)) == plain)
    }
  }

  @Test(arguments: [0, 1, 16, 64, 1000, 65_536])
  func swiftCryptoSealsWhatLibsodiumOpens(length: Int) throws {
    let plain = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 1) }
    for aad in [aad, []] {
      let box = try ChaChaPoly.seal(plain, using: key, nonce: ChaChaPoly.Nonce(data: nonce), authenticating: aad)
      #expect(AgeCrypto.open((Array(box.ciphertext) + Array(box.tag))[...], key: key, nonce: nonce, aad: aad) == plain)
    }
  }

  @Test func rejectsAlteredBytesWrongAssociatedDataWrongKeyAndShortInput() throws {
    let sealed = try #require(AgeCrypto.seal(Array("canary-value".utf8)[...], key: key, nonce: nonce, aad: aad))
    for i in sealed.indices {
      var bad = sealed
      bad[i] ^= 0x01
      #expect(AgeCrypto.open(bad[...], key: key, nonce: nonce, aad: aad) == nil)
    }
    var badNonce = nonce
    badNonce[0] ^= 1
    #expect(AgeCrypto.open(sealed[...], key: key, nonce: badNonce, aad: aad) == nil)
    #expect(AgeCrypto.open(sealed[...], key: key, nonce: nonce, aad: aad + [0x31]) == nil)
    #expect(AgeCrypto.open(sealed[...], key: SymmetricKey(size: .bits256), nonce: nonce, aad: aad) == nil)
    #expect(AgeCrypto.open(sealed.prefix(15), key: key, nonce: nonce, aad: aad) == nil)
    #expect(AgeCrypto.open(sealed[...], key: key, nonce: Array(nonce.prefix(11)), aad: aad) == nil)
    #expect(AgeCrypto.open(sealed[...], key: key, nonce: nonce, aad: aad) == Array("canary-value".utf8))
  }

  /// A value sealed by the vault opens with swift-crypto given the documented layout and associated data.
  @Test func vaultValuesFollowTheDocumentedLayout() throws {
    var vault = try Vault.create(environment: "production", recipients: [AgeX25519Identity.generate().recipient], file: "t")
    try vault.set("API_KEY", to: SecretValue("canary-value"), group: "default", author: "t", at: Timestamp(secondsSinceEpoch: 0))
    let record = try #require(vault.records["API_KEY"])
    let version = try #require(record.versions.first)
    let key = try #require(vault.key(of: version, group: record.group))
    let box = try ChaChaPoly.SealedBox(combined: version.sealed)
    let plain = try ChaChaPoly.open(box, using: key, authenticating: Array("coffer-vault/v1 value\0production\0API_KEY\01".utf8))
    #expect(Array(plain) == Array("canary-value".utf8))
  }
}
