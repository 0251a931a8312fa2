import CofferCore
import Crypto
import Foundation
import Testing

@testable import CofferVault

/// Key generations, re-keying, exposure marks and rollbacks in the vault format.
@Suite struct VaultGovernanceTests {
  let alice = AgeX25519Identity.generate()
  let dave = AgeX25519Identity.generate()
  let t0 = Timestamp(secondsSinceEpoch: 1_790_000_000)

  func t(_ minutes: Int64) -> Timestamp { Timestamp(secondsSinceEpoch: t0.secondsSinceEpoch + minutes * 60) }

  /// alice reads everything; dave may open the environment and read `open`, but not `restricted`.
  var policy: @Sendable (String) -> [AgeX25519Recipient] {
    let (a, d) = (alice.recipient, dave.recipient)
    return { slot in slot == "restricted" ? [a] : [a, d] }
  }

  func sample() throws -> [UInt8] {
    var v = try Vault.create(environment: "production", recipients: [alice.recipient, dave.recipient], file: "p")
    v.useRecipients(forSlot: policy)
    try v.set("SECRET", to: SecretValue("alice-1"), group: "restricted", author: "alice", at: t0)
    try v.set("OPEN", to: SecretValue("open-1"), group: "open", author: "alice", at: t0)
    return VaultFile.seal(v)
  }

  func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

  @Test func aWriterWithoutAccessAddsAGenerationOnlyReadersOpen() throws {
    let start = try sample()
    var asDave = try VaultFile.open(start, file: "p", with: [dave])
    #expect(asDave.unreadableGroups == ["restricted"])
    #expect(!asDave.isReadable("SECRET"))
    asDave.useRecipients(forSlot: policy)
    #expect(try asDave.set("SECRET", to: SecretValue("dave-2"), group: "restricted", author: "dave", at: t(1)) == 2)
    #expect(try asDave.rewrap(policy) == [])
    let written = VaultFile.seal(asDave)
    let lines = text(written).split(separator: "\n").map(String.init)
    #expect(lines.filter { $0.hasPrefix("key ") }.map { $0.split(separator: " ")[1] } == ["*", "open", "restricted", "restricted#2"])
    let gen2 = try #require(lines.firstIndex { $0.hasPrefix("key restricted#2 ") })
    #expect(lines[gen2 + 1] == " to \(alice.recipient.encoded)")
    #expect(lines[gen2 + 2].hasPrefix("secret ") || lines[gen2 + 2].hasPrefix("key "))
    #expect(lines.contains { $0.hasPrefix(" v 2 ") && $0.contains(" dave #2 ") })

    // dave cannot read his own value back; alice reads both generations.
    let daveAgain = try VaultFile.open(written, file: "p", with: [dave])
    let denied = #expect(throws: VaultError.self) { try daveAgain.value(of: "SECRET") }
    #expect(denied?.code == .groupNotReadable)
    #expect(try daveAgain.value(of: "OPEN") == SecretValue("open-1"))
    let asAlice = try VaultFile.open(written, file: "p", with: [alice])
    #expect(asAlice.unreadableGroups == [])
    #expect(try asAlice.value(of: "SECRET") == SecretValue("dave-2"))
    #expect(try asAlice.value(of: "SECRET", version: 1) == SecretValue("alice-1"))
    #expect(asAlice.generations(ofGroup: "restricted") == [1, 2])
    #expect(asAlice.recipients(ofGroup: "restricted") == [alice.recipient.encoded])
    #expect(VaultFile.seal(asAlice) == written)
  }

  @Test func aReaderKeepsWritingUnderTheNewestGenerationAndOldOnesArePruned() throws {
    var asDave = try VaultFile.open(try sample(), file: "p", with: [dave])
    asDave.useRecipients(forSlot: policy)
    try asDave.set("SECRET", to: SecretValue("dave-2"), group: "restricted", author: "dave", at: t(1))
    var asAlice = try VaultFile.open(VaultFile.seal(asDave), file: "p", with: [alice])
    asAlice.useRecipients(forSlot: policy)
    try asAlice.set("SECRET", to: SecretValue("alice-3"), group: "restricted", author: "alice", at: t(2))
    #expect(asAlice.current("SECRET")?.generation == 2)
    for i in 4...12 {
      try asAlice.set("SECRET", to: SecretValue("v\(i)"), group: "restricted", author: "alice", at: t(Int64(i)))
    }
    // Version 1 (generation 1) fell out of the ten kept; generation 2 is still used, generation 1 stays as the
    // group's key.
    #expect(asAlice.versions(of: "SECRET").map(\.number) == Array((3...12).reversed()))
    #expect(asAlice.generations(ofGroup: "restricted") == [1, 2])
    try asAlice.rekey(group: "restricted")
    #expect(asAlice.generations(ofGroup: "restricted") == [1])
    #expect(asAlice.versions(of: "SECRET").allSatisfy { $0.generation == 1 })
    // A remove drops a generation nobody uses any more.
    var again = try VaultFile.open(try sample(), file: "p", with: [dave])
    again.useRecipients(forSlot: policy)
    try again.set("OTHER", to: SecretValue("x"), group: "restricted", author: "dave", at: t(1))
    #expect(again.generations(ofGroup: "restricted") == [1, 2])
    again.remove("OTHER")
    #expect(again.generations(ofGroup: "restricted") == [1])
  }

  @Test func rekeyReplacesTheDataKeyAndReSealsEveryVersion() throws {
    var v = try VaultFile.open(try sample(), file: "p", with: [alice])
    v.useRecipients(forSlot: policy)
    try v.set("SECRET", to: SecretValue("alice-2"), group: "restricted", author: "alice", at: t(1))
    let before = v
    let oldKey = try #require(v.slots["restricted"]?.key)
    let oldSealed = v.versions(of: "SECRET").map(\.sealed)
    #expect(try v.rekey(group: "restricted") == ["SECRET"])
    let newKey = try #require(v.slots["restricted"]?.key)
    #expect(oldKey != newKey)
    let reopened = try VaultFile.open(VaultFile.seal(v), file: "p", with: [alice])
    #expect(try reopened.value(of: "SECRET") == SecretValue("alice-2"))
    #expect(try reopened.value(of: "SECRET", version: 1) == SecretValue("alice-1"))
    #expect(reopened.versions(of: "SECRET").map(\.number) == [2, 1])
    #expect(reopened.versions(of: "SECRET").map(\.created) == before.versions(of: "SECRET").map(\.created))
    for (old, new) in zip(oldSealed, reopened.versions(of: "SECRET").map(\.sealed)) {
      #expect(old != new)
      // The old key opens none of the new ciphertexts.
      let box = try ChaChaPoly.SealedBox(combined: new)
      #expect(throws: (any Error).self) { try ChaChaPoly.open(box, using: oldKey, authenticating: reopened.aad(name: "SECRET", number: 2)) }
      #expect(throws: (any Error).self) { try ChaChaPoly.open(box, using: oldKey, authenticating: reopened.aad(name: "SECRET", number: 1)) }
    }
    // Other groups are untouched byte for byte.
    #expect(reopened.slots["open"]?.wrapped == before.slots["open"]?.wrapped)
    #expect(reopened.versions(of: "OPEN") == before.versions(of: "OPEN"))
  }

  @Test func rekeyNeedsEveryGeneration() throws {
    var asDave = try VaultFile.open(try sample(), file: "p", with: [dave])
    asDave.useRecipients(forSlot: policy)
    let error = #expect(throws: VaultError.self) { try asDave.rekey(group: "restricted") }
    #expect(error?.code == .groupNotReadable)
    var nobody = try VaultFile.open(try sample(), file: "p", with: [alice])
    nobody.useRecipients(forSlot: { _ in [] })
    #expect((#expect(throws: VaultError.self) { try nobody.rekey(group: "restricted") })?.code == .noRecipients)
  }

  @Test func aNewEnvironmentKeyLocksOutTheOldOne() throws {
    var v = try VaultFile.open(try sample(), file: "p", with: [alice])
    let oldEnv = v.envKey
    let oldFingerprint = v.fingerprint(of: SecretValue("x"))
    v.useRecipients(forSlot: { [a = alice.recipient] _ in [a] })
    try v.rekeyEnvironment()
    let sealed = VaultFile.seal(v)
    // dave held the old key only: he no longer opens the vault, and the old key no longer makes a valid MAC.
    #expect((#expect(throws: VaultError.self) { try VaultFile.open(sealed, file: "p", with: [dave]) })?.code == .noMatchingIdentity)
    let parsed = try VaultFile.parse(sealed, file: "p")
    #expect(VaultFile.mac(parsed.bytes[parsed.authenticated], envKey: oldEnv) != parsed.mac)
    #expect(try VaultFile.open(sealed, file: "p", with: [alice]).fingerprint(of: SecretValue("x")) != oldFingerprint)
  }

  /// ``Vault/currentStates()`` (one walk, for `check`) answers as ``Vault/isReadable(_:version:)`` and
  /// ``Vault/needsRotation(_:)`` do name by name.
  static func statesAgree(_ v: Vault) -> Bool {
    v.currentStates().map { "\($0.name) \($0.readable) \(String(describing: $0.rotation))" }
      == v.names.map { "\($0) \(v.isReadable($0)) \(String(describing: v.needsRotation($0)))" }
  }

  /// ``Vault/currentStates()`` looks a key up once per run of one group and generation: a run whose generations
  /// alternate, read by a member who holds only the first, answers as name-by-name lookups do.
  @Test func statesFollowKeyGenerationsWithinAGroupRun() throws {
    let erin = AgeX25519Identity.generate()
    var v = try Vault.create(environment: "production", recipients: [alice.recipient, dave.recipient, erin.recipient], file: "p")
    let (a, d) = (alice.recipient, dave.recipient)
    v.useRecipients(forSlot: { _ in [a, d] })
    for i in 0..<6 { try v.set("S\(i)", to: SecretValue("alice-\(i)"), group: "g", author: "alice", at: t0) }
    // erin opens the environment but not `g`: her values start generation 2, wrapped to alice alone.
    var asErin = try VaultFile.open(VaultFile.seal(v), file: "p", with: [erin])
    asErin.useRecipients(forSlot: { _ in [a] })
    for i in [1, 2, 4] { try asErin.set("S\(i)", to: SecretValue("erin-\(i)"), group: "g", author: "erin", at: t(1)) }
    let asDave = try VaultFile.open(VaultFile.seal(asErin), file: "p", with: [dave])
    #expect(asDave.currentStates().map(\.readable) == [true, false, false, true, false, true])
    #expect(Self.statesAgree(asDave))
  }

  @Test func exposureLastsUntilANewValueAndReturnsWithARollback() throws {
    var v = try VaultFile.open(try sample(), file: "p", with: [alice])
    v.useRecipients(forSlot: policy)
    try v.set("SECRET", to: SecretValue("alice-2"), group: "restricted", author: "alice", at: t(1))
    #expect(v.markExposed(group: "restricted", to: "dave lee", at: t(2)) == ["SECRET"])
    let mark = RevocationMark(recipient: "dave_lee", time: t(2))
    #expect(v.needsRotation("SECRET") == mark)
    #expect(v.needsRotation("OPEN") == nil)
    #expect(Self.statesAgree(v) && v.currentStates().map(\.rotation) == [nil, mark])
    // Another reader, who cannot read the restricted group, gets the same answers from both.
    let exposed = VaultFile.seal(v)
    let other = try VaultFile.open(exposed, file: "p", with: [dave])
    #expect(Self.statesAgree(other))
    #expect(other.currentStates().map(\.readable) == [true, false])
    #expect(text(VaultFile.seal(v)).contains("secret SECRET restricted\n exposed 2 \(t(2).rfc3339) dave_lee\n v 2 "))
    #expect(v.rotationFacts().map(\.revoked) == [nil, mark])
    try v.set("SECRET", to: SecretValue("alice-3"), group: "restricted", author: "alice", at: t(3))
    #expect(v.needsRotation("SECRET") == nil)
    #expect(v.exposure(of: "SECRET")?.throughVersion == 2)
    // Restoring an exposed value brings the state back; restoring a later one does not.
    #expect(try v.restore("SECRET", version: 1, author: "alice", at: t(4)) == 4)
    #expect(v.needsRotation("SECRET") == mark)
    #expect(Self.statesAgree(v))
    #expect(try v.restore("SECRET", version: 3, author: "alice", at: t(5)) == 5)
    #expect(v.needsRotation("SECRET") == nil)
    // The summary (no key) agrees.
    let summary = try VaultFile.inspect(VaultFile.seal(v), file: "p")
    #expect(summary.secrets.first { $0.name == "SECRET" }?.needsRotation == nil)
    #expect(summary.secrets.first { $0.name == "SECRET" }?.rotationFacts?.lastRotated == t(3))
  }

  @Test func aRollbackKeepsTheOriginalDateThroughChains() throws {
    var v = try VaultFile.open(try sample(), file: "p", with: [alice])
    v.useRecipients(forSlot: policy)
    try v.set("OPEN", to: SecretValue("open-2"), group: "open", author: "alice", at: t(10))
    #expect(try v.restore("OPEN", version: 1, author: "bob", at: t(20)) == 3)
    #expect(try v.restore("OPEN", version: 2, author: "bob", at: t(30)) == 4)
    #expect(try v.restore("OPEN", version: 3, author: "bob", at: t(40)) == 5)
    let reopened = try VaultFile.open(VaultFile.seal(v), file: "p", with: [dave])
    let versions = reopened.versions(of: "OPEN")
    #expect(versions.map(\.restores) == [
      VersionOrigin(number: 1, created: t0), VersionOrigin(number: 2, created: t(10)), VersionOrigin(number: 1, created: t0),
      nil, nil,
    ])
    #expect(versions.map(\.valueSince) == [t0, t(10), t0, t(10), t0])
    #expect(try reopened.value(of: "OPEN") == SecretValue("open-1"))
    #expect(text(VaultFile.seal(reopened)).contains(" v 5 \(t(40).rfc3339) bob <1@\(t0.rfc3339) "))
    #expect((#expect(throws: VaultError.self) { try v.restore("OPEN", version: 9, author: "bob", at: t(50)) })?.code == .notFound)
    var asDave = reopened
    #expect((#expect(throws: VaultError.self) { try asDave.restore("SECRET", version: 1, author: "dave", at: t(50)) })?.code == .groupNotReadable)
  }

  @Test func theNewLinesAreCheckedLikeTheRest() throws {
    var v = try VaultFile.open(try sample(), file: "p", with: [dave])
    v.useRecipients(forSlot: policy)
    try v.set("SECRET", to: SecretValue("dave-2"), group: "restricted", author: "dave", at: t(1))
    v.markExposed(group: "open", to: "eve", at: t(2))
    let good = text(VaultFile.seal(v))
    func outcome(_ from: String, _ to: String) -> String {
      let bad = good.replacingOccurrences(of: from, with: to)
      precondition(bad != good, "no change for \(from)")
      do {
        _ = try VaultFile.open(Array(bad.utf8), file: "p", with: [alice])
        return "opened"
      } catch {
        return "\(error.code) line \(error.line ?? 0)"
      }
    }
    let keyLine = good.split(separator: "\n").firstIndex { $0.hasPrefix("key restricted#2") }.map { $0 + 1 } ?? 0
    #expect(outcome(" dave #2 ", " dave #1 ").hasPrefix("malformed vault"))
    #expect(outcome(" dave #2 ", " dave #02 ").hasPrefix("malformed vault"))
    #expect(outcome(" dave #2 ", " dave #3 ").hasPrefix("malformed vault"))
    #expect(outcome(" dave #2 ", " dave ") == "vault authentication failed line 0")
    #expect(outcome("key restricted#2 ", "key restricted#1 ") == "malformed vault line \(keyLine)")
    #expect(outcome("key restricted ", "key restricted-x ").hasPrefix("malformed vault"))
    #expect(outcome(" exposed 1 ", " exposed 01 ").hasPrefix("malformed vault"))
    #expect(outcome(" exposed 1 ", " exposed  1 ").hasPrefix("malformed vault"))
    #expect(outcome(" exposed 1 ", " exposed 7 ") == "vault authentication failed line 0")
    #expect(outcome(" dave #2 ", " dave #2 <2@\(t0.rfc3339) ").hasPrefix("malformed vault"))
    #expect(outcome(" dave #2 ", " dave <1@\(t0.rfc3339) #2 ").hasPrefix("malformed vault"))
    #expect(outcome(" dave #2 ", " dave #2 <1@\(t0.rfc3339) ") == "vault authentication failed line 0")
  }
}
