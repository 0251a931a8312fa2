import Dispatch
import Testing

@testable import CofferVault

/// The verified-signature memo (docs/vault-format.md): it remembers only valid triples, its tags need the identity,
/// and a stored form it does not recognise is an empty memo. The assertions use the memo's own tag and lookup, not
/// ``SignatureMemo/active``: other suites verify signatures in parallel. The tests here that set it run one at a time.
@Suite(.serialized) struct SignatureMemoTests {
  let signer = SigningIdentity(deriving: AgeX25519Identity.generate())
  let message = Array("coffer-vault/v2 seal\u{0}project\u{0}production\u{0}".utf8)

  @Test func aValidSignatureIsRememberedAndReadBack() {
    let memo = SignatureMemo(identity: AgeX25519Identity.generate(), stored: [])
    let signature = signer.sign(message)
    let tag = memo.tag(signer.publicKey.raw, signature, message)
    #expect(!memo.contains(tag))
    memo.insert(tag)
    #expect(memo.contains(tag) && memo.changed && memo.count == 1)
    #expect(memo.serialized == SignatureMemo.header + tag)
  }

  @Test func tagsAreKeyedByTheIdentity() throws {
    let alice = AgeX25519Identity.generate()
    let mallory = AgeX25519Identity.generate()
    let signature = signer.sign(message)
    let forged = SignatureMemo(identity: mallory, stored: [])
    let mine = SignatureMemo(identity: alice, stored: [])
    let tagByMallory = forged.tag(signer.publicKey.raw, signature, message)
    #expect(tagByMallory != mine.tag(signer.publicKey.raw, signature, message))
    // A memo file written with another identity's key vouches for nothing under alice's.
    let planted = SignatureMemo(identity: alice, stored: SignatureMemo.header + tagByMallory)
    #expect(planted.count == 1)
    #expect(!planted.contains(planted.tag(signer.publicKey.raw, signature, message)))
    // Neighbours: the same tag for another message, another key, another signature are all different.
    var other = message
    other[0] ^= 1
    #expect(mine.tag(signer.publicKey.raw, signature, other) != mine.tag(signer.publicKey.raw, signature, message))
    let second = SigningIdentity(deriving: AgeX25519Identity.generate())
    #expect(mine.tag(second.publicKey.raw, signature, message) != mine.tag(signer.publicKey.raw, signature, message))
    #expect(mine.tag(signer.publicKey.raw, signer.sign(other), message) != mine.tag(signer.publicKey.raw, signature, message))
  }

  /// A vault entry names one file (by its MAC) under one policy record of one project's environment, and needs the
  /// identity: changing any of them, or the identity, gives another tag; and it is never a signature entry.
  @Test func vaultTagsBindTheFileThePolicyAndTheIdentity() {
    let alice = AgeX25519Identity.generate()
    let memo = SignatureMemo(identity: alice, stored: [])
    let mac = (0..<32).map { UInt8($0) }
    let tag = memo.vaultTag(project: "p1", environment: "production", policyRecord: "ab12", mac: mac)
    #expect(tag.count == 16)
    #expect(tag == SignatureMemo(identity: alice, stored: []).vaultTag(project: "p1", environment: "production", policyRecord: "ab12", mac: mac))
    var otherMAC = mac
    otherMAC[31] ^= 1
    let neighbours = [
      memo.vaultTag(project: "p2", environment: "production", policyRecord: "ab12", mac: mac),
      memo.vaultTag(project: "p1", environment: "staging", policyRecord: "ab12", mac: mac),
      memo.vaultTag(project: "p1", environment: "production", policyRecord: "ab13", mac: mac),
      memo.vaultTag(project: "p1", environment: "production", policyRecord: "ab12", mac: otherMAC),
      // The fields are separated: moving a byte from one field to the next is another entry.
      memo.vaultTag(project: "p1p", environment: "roduction", policyRecord: "ab12", mac: mac),
      SignatureMemo(identity: AgeX25519Identity.generate(), stored: []).vaultTag(
        project: "p1", environment: "production", policyRecord: "ab12", mac: mac),
    ]
    #expect(Set(neighbours + [tag]).count == neighbours.count + 1)
    #expect(memo.tag(signer.publicKey.raw, signer.sign(message), message) != tag)
  }

  /// A library process verifies from several threads at once: every tag inserted concurrently is kept, none twice,
  /// and lookups meanwhile see whole tags (the memo was an unsynchronised array before).
  @Test func concurrentInsertsAndLookupsKeepEveryTag() {
    let memo = SignatureMemo(identity: AgeX25519Identity.generate(), stored: [])
    let signature = signer.sign(message)
    let tags = (0..<400).map { i in memo.tag(signer.publicKey.raw, signature, message + [UInt8(i & 0xFF), UInt8(i >> 8)]) }
    DispatchQueue.concurrentPerform(iterations: tags.count) { i in
      memo.insert(tags[i])
      _ = memo.contains(tags[(i * 7) % tags.count])
    }
    #expect(memo.count == tags.count)
    #expect(tags.allSatisfy(memo.contains))
    // Two threads activating at once agree on one memo.
    let made = (0..<8).map { _ in SignatureMemo(identity: AgeX25519Identity.generate(), stored: []) }
    let previous = SignatureMemo.active
    SignatureMemo.active = nil
    DispatchQueue.concurrentPerform(iterations: made.count) { i in SignatureMemo.activateIfNone { made[i] } }
    let winner = SignatureMemo.active
    #expect(winner != nil && made.contains { $0 === winner })
    SignatureMemo.active = previous
  }

  /// Through `verify` with an active memo: an invalid signature never passes, even with the valid one remembered
  /// for the same key and message, and is never remembered.
  @Test func anInvalidSignatureNeverPassesAndIsNeverRemembered() {
    let memo = SignatureMemo(identity: AgeX25519Identity.generate(), stored: [])
    let previous = SignatureMemo.active
    SignatureMemo.active = memo
    defer { SignatureMemo.active = previous }
    let signature = signer.sign(message)
    #expect(signer.publicKey.verify(signature, of: message))
    #expect(memo.contains(memo.tag(signer.publicKey.raw, signature, message)))
    #expect(signer.publicKey.verify(signature, of: message), "from the memo")
    var bad = signature
    bad[10] ^= 0x40
    #expect(!signer.publicKey.verify(bad, of: message))
    #expect(!memo.contains(memo.tag(signer.publicKey.raw, bad, message)))
    var otherMessage = message
    otherMessage.append(1)
    #expect(!signer.publicKey.verify(signature, of: otherMessage))
    #expect(!signer.publicKey.verify(Array(signature.prefix(63)), of: message))
  }

  @Test func anUnrecognisedStoredFormIsAnEmptyMemo() {
    let id = AgeX25519Identity.generate()
    for stored: [UInt8] in [
      Array("garbage".utf8), SignatureMemo.header + [1, 2, 3], Array("coffer-signature-memo v2\n".utf8) + [UInt8](repeating: 7, count: 16), [],
    ] {
      #expect(SignatureMemo(identity: id, stored: stored).count == 0, "\(stored.count) bytes")
    }
  }

  @Test func onlyTheNewestTagsAreKept() {
    func tag(_ i: Int) -> [UInt8] { (0..<16).map { $0 < 8 ? UInt8(truncatingIfNeeded: i >> (8 * $0)) : 0xAB } }
    let memo = SignatureMemo(identity: AgeX25519Identity.generate(), stored: [])
    for i in 0..<(SignatureMemo.limit + 5) { memo.insert(tag(i)) }
    let reread = SignatureMemo(identity: AgeX25519Identity.generate(), stored: memo.serialized)
    #expect(reread.count == SignatureMemo.limit)
    #expect(reread.contains(tag(SignatureMemo.limit + 4)))
    #expect(reread.contains(tag(5)))
    #expect(!reread.contains(tag(4)))
    #expect(!reread.contains(tag(0)))
  }
}
