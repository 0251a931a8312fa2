import CofferCore
import CofferTesting
import Foundation
import Synchronization
import Testing

@testable import CofferVault

/// `VaultFile.open` computes a large file's MAC on a helper thread while it parses the secrets (``VaultFile/EarlyMAC``).
/// Every file, intact or damaged, must open to the same vault or fail with the same error, naming the same line, as
/// on the one-thread path.
@Suite struct EarlyMACTests {
  let alice = AgeX25519Identity.generate()
  let dave = AgeX25519Identity.generate()
  let stranger = AgeX25519Identity.generate()
  let t0 = Timestamp(secondsSinceEpoch: 1_790_000_000)

  /// 1,000 secrets in two groups, `restricted` closed to dave; values of 20 to 120 random bytes.
  func sample() throws -> [UInt8] {
    var v = try Vault.create(environment: "production", recipients: [alice.recipient, dave.recipient], file: "p")
    let (a, d) = (alice.recipient, dave.recipient)
    v.useRecipients(forSlot: { slot in slot == "restricted" ? [a] : [a, d] })
    var random = SeededGenerator(seed: 17)
    for i in 0..<1_000 {
      let bytes = (0..<Int.random(in: 20...120, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
      try v.set("SECRET_\(String(10_000 + i).dropFirst())", to: SecretValue(bytes), group: i % 3 == 0 ? "restricted" : "open", author: "alice", at: t0)
    }
    return VaultFile.seal(v)
  }

  /// What opening `bytes` gives: the error as it would be shown, or a digest of every readable current value.
  func outcome(_ bytes: [UInt8], _ identity: AgeX25519Identity, earlyMACFrom minimum: Int, trust: PolicyChain? = nil) -> String {
    do {
      let vault = try VaultFile.open(bytes, file: "p.vault", with: [identity], trust: trust, allowRolledBack: false, earlyMACFrom: minimum)
      var all: [UInt8] = []
      var count = 0
      try vault.forEachCurrentValue { name, value in
        all += Array(name.utf8) + [0] + Array(value) + [0]
        count += 1
      }
      return "opened \(count) values, SHA-256 \(ContentHash.sha256Hex(all))"
    } catch {
      return "\(error.code): \(error)"
    }
  }

  func lines(_ bytes: [UInt8]) -> [String] { String(decoding: bytes, as: UTF8.self).components(separatedBy: "\n") }
  func join(_ lines: [String]) -> [UInt8] { Array(lines.joined(separator: "\n").utf8) }

  /// The sample, intact and with one kind of damage each, and the error code each must give.
  func damaged() throws -> [(what: String, bytes: [UInt8], identity: AgeX25519Identity, expect: String)] {
    let file = try sample()
    let l = lines(file)
    let secret700 = try #require(l.firstIndex { $0.hasPrefix("secret SECRET_0700 ") })
    let macLine = try #require(l.lastIndex { $0.hasPrefix("mac ") })
    let envKey = try #require(l.firstIndex { $0.hasPrefix("key * ") })
    let openKey = try #require(l.firstIndex { $0.hasPrefix("key open ") })
    var out: [(String, [UInt8], AgeX25519Identity, String)] = [
      ("intact", file, alice, "opened"),
      ("intact, read by a reader of some groups", file, dave, "opened"),
      ("intact, read by a stranger", file, stranger, VaultError.Code.noMatchingIdentity.description),
      ("CRLF line endings", Array(l.joined(separator: "\r\n").utf8), alice, "opened"),
    ]
    var edited = l
    // One character of a sealed value changed, inside the base64 (still canonical).
    var fields = edited[secret700 + 1].components(separatedBy: " ")
    var chars = Array(fields[fields.count - 1])
    chars[10] = chars[10] == "A" ? "B" : "A"
    fields[fields.count - 1] = String(chars)
    edited[secret700 + 1] = fields.joined(separator: " ")
    out.append(("a sealed value edited", join(edited), alice, VaultError.Code.authenticationFailed.description))
    out.append(("a sealed value edited, read by a reader of some groups", join(edited), dave, VaultError.Code.authenticationFailed.description))
    edited = l
    edited.removeSubrange(secret700...(secret700 + 1))
    out.append(("a secret removed", join(edited), alice, VaultError.Code.authenticationFailed.description))
    edited = l
    edited[secret700] = edited[secret700].replacingOccurrences(of: "secret ", with: "secret  ")
    out.append(("a malformed secret line", join(edited), alice, VaultError.Code.malformed.description))
    out.append(("a malformed secret line, read by a stranger", join(edited), stranger, VaultError.Code.malformed.description))
    edited = l
    edited[macLine] = "mac " + Base64.encode([UInt8](repeating: 7, count: 32), padded: true)
    out.append(("the MAC replaced", join(edited), alice, VaultError.Code.authenticationFailed.description))
    edited = l
    edited.insert("secret SECRET_9999 open", at: macLine + 1)
    out.append(("a line after the MAC", join(edited), alice, VaultError.Code.malformed.description))
    edited = l
    edited.removeLast()  // the empty string after the final newline
    out.append(("no final newline", Array((edited.joined(separator: "\n")).utf8.dropLast()), alice, VaultError.Code.malformed.description))
    edited = l
    edited[secret700] = edited[secret700].replacingOccurrences(of: "secret ", with: "secret\r ")
    out.append(("a lone carriage return", join(edited), alice, VaultError.Code.malformed.description))
    edited = l
    // The environment key's wrap replaced by the open group's (which alice unwraps to another 32-byte key).
    edited[envKey] = "key * " + edited[openKey].components(separatedBy: " ")[2]
    out.append(("the environment key swapped for a group key", join(edited), alice, VaultError.Code.authenticationFailed.description))
    edited = l
    edited[envKey] = "key * " + Base64.encode(Array("age-encryption.org/v1\n-> X25519 AAAA\n".utf8), padded: true)
    out.append(("the environment key's wrap damaged", join(edited), alice, VaultError.Code.malformed.description))
    return out
  }

  @Test func largeFilesOpenAsOnOneThread() throws {
    let cases = try damaged()
    #expect(cases[0].bytes.count >= VaultFile.EarlyMAC.minimumBytes)
    for c in cases {
      let early = outcome(c.bytes, c.identity, earlyMACFrom: VaultFile.EarlyMAC.minimumBytes)
      let one = outcome(c.bytes, c.identity, earlyMACFrom: .max)
      #expect(early == one, "\(c.what)")
      #expect(early.hasPrefix(c.expect), "\(c.what): \(early)")
    }
  }

  /// Each file vector, format 1 and 2 (one per insider attack of docs/access.md), through the helper too.
  @Test func everyVectorOpensAsOnOneThread() throws {
    var checked = 0
    for name in VaultVectorTests.names {
      let v = try VaultVectorTests.load(name)
      let identity = try AgeX25519Identity(parsing: v.identity)
      #expect(outcome(v.body, identity, earlyMACFrom: 0) == outcome(v.body, identity, earlyMACFrom: .max), "\(name)")
      checked += 1
    }
    for name in VaultV2VectorTests.names {
      let v = try VaultV2VectorTests.load(name)
      let identity = try AgeX25519Identity(parsing: v.identity)
      checked += 1
      // A vector whose policy does not verify never reaches the vault (VaultV2VectorTests checks it).
      guard let chain = try? PolicyChain.parse(v.policy, file: "policy") else { continue }
      let early = outcome(v.body, identity, earlyMACFrom: 0, trust: chain)
      #expect(early == outcome(v.body, identity, earlyMACFrom: .max, trust: chain), "\(name)")
      #expect(early.hasPrefix(v.expect == "success" || v.expect.hasPrefix("author forged") ? "opened" : v.expect), "\(name): \(early)")
    }
    #expect(checked == 33)
  }

  /// Counts the unwraps it is asked for, and unwraps nothing.
  final class CountingStranger: AgeIdentity, @unchecked Sendable {
    let calls = Atomic<Int>(0)
    func unwrap(_ stanzas: [AgeStanza]) throws(AgeError) -> [UInt8]? {
      calls.wrappingAdd(1, ordering: .relaxed)
      return nil
    }
  }

  /// An environment key that no identity unwraps is tried once on either path (an unwrap may cost scrypt work), and
  /// the error is the same.
  @Test func theEnvironmentKeyIsTriedOnce() throws {
    let file = try sample()
    for minimum in [VaultFile.EarlyMAC.minimumBytes, Int.max] {
      let stranger = CountingStranger()
      do {
        _ = try VaultFile.open(file, file: "p.vault", with: [stranger], trust: nil, allowRolledBack: false, earlyMACFrom: minimum)
        Issue.record("opened")
      } catch {
        #expect(error.code == .noMatchingIdentity)
      }
      #expect(stranger.calls.load(ordering: .relaxed) == 1, "\(minimum)")
    }
  }

  /// The helper's task runs exactly once, whether the helper or the caller takes it.
  @Test func aStartedTaskGivesItsResultOnce() {
    final class Runs: Sendable { let count = Atomic<Int>(0) }
    let runs = Runs()
    let pending = ParallelParts.start {
      runs.count.wrappingAdd(1, ordering: .relaxed)
      return [1, 2, 3]
    }
    #expect(pending.finish() == [1, 2, 3])
    #expect(pending.finish() == [1, 2, 3])
    #expect(runs.count.load(ordering: .relaxed) == 1)
  }

  /// An abandoned task is run at most once (by a helper that had taken it), and never by the caller.
  @Test func anAbandonedTaskIsNotRunByTheCaller() {
    final class Runs: Sendable { let count = Atomic<Int>(0) }
    let caller = pthread_self()
    for _ in 0..<50 {
      let runs = Runs()
      let onCaller = Runs()
      let pending = ParallelParts.start {
        runs.count.wrappingAdd(1, ordering: .relaxed)
        if pthread_equal(pthread_self(), caller) != 0 { onCaller.count.wrappingAdd(1, ordering: .relaxed) }
        return [1]
      }
      pending.abandon()
      let result = pending.finish()
      #expect(runs.count.load(ordering: .relaxed) <= 1)
      #expect(onCaller.count.load(ordering: .relaxed) == 0)
      #expect(result == (runs.count.load(ordering: .relaxed) == 1 ? [1] : nil))
    }
  }
}
