import CofferCore
import CofferTesting
import Foundation
import Synchronization
import Testing

@testable import CofferVault

/// `Vault.forEachCurrentValue` on two threads (``Vault/OpeningPlan``, ``ParallelParts``) hands `body` exactly what the
/// one-thread loop does: the same names and bytes in the same order, the same records skipped, and the same error at
/// the same record.
@Suite struct ParallelOpeningTests {
  let alice = AgeX25519Identity.generate()
  let dave = AgeX25519Identity.generate()
  let t0 = Timestamp(secondsSinceEpoch: 1_790_000_000)
  static let count = 1_300

  /// 1,300 secrets (ten chunks and a part) in three groups, with `restricted` closed to dave, every fifth secret in
  /// it; values of 0 to 300 random bytes, so chunk boundaries fall inside runs of every kind.
  func sample() throws -> (file: [UInt8], values: [String: [UInt8]]) {
    var v = try Vault.create(environment: "production", recipients: [alice.recipient, dave.recipient], file: "p")
    let (a, d) = (alice.recipient, dave.recipient)
    v.useRecipients(forSlot: { slot in slot == "restricted" ? [a] : [a, d] })
    var random = SeededGenerator(seed: 16)
    var values: [String: [UInt8]] = [:]
    for i in 0..<Self.count {
      let name = "SECRET_\(String(1_000_000 + i).dropFirst())"
      let bytes = (0..<Int.random(in: 0...300, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
      let group = i % 5 == 0 ? "restricted" : (i % 2 == 0 ? "open" : "other")
      try v.set(name, to: SecretValue(bytes), group: group, author: "alice", at: t0)
      values[name] = bytes
    }
    return (VaultFile.seal(v), values)
  }

  struct Seen {
    var names: [String] = []
    var values: [[UInt8]] = []
    var error: VaultError?
  }

  func seen(_ vault: Vault, parts: Int) -> Seen {
    var out = Seen()
    do {
      try vault.forEachCurrentValue(parts: parts) { name, value in
        out.names.append(name)
        out.values.append(Array(value))
      }
    } catch {
      out.error = error
    }
    return out
  }

  @Test func twoThreadsHandOverExactlyWhatOneDoes() throws {
    let (file, values) = try sample()
    for (identity, readable) in [(alice, Self.count), (dave, Self.count - Self.count / 5)] {
      let vault = try VaultFile.open(file, file: "p", with: [identity])
      let one = seen(vault, parts: 1)
      let two = seen(vault, parts: 2)
      #expect(one.error == nil && two.error == nil)
      #expect(one.names.count == readable)
      let sameNames = two.names == one.names
      let sameValues = two.values == one.values
      let inOrder = one.names == one.names.sorted()
      #expect(sameNames && sameValues && inOrder)
      for (name, value) in zip(two.names, two.values) where values[name] != value {
        Issue.record("\(name): the value handed over is not the one stored")
      }
      // What the public API decides for this many records: the helper.
      var decided = Seen()
      try vault.forEachCurrentValue { name, value in
        decided.names.append(name)
        decided.values.append(Array(value))
      }
      let sameAsDecided = decided.names == one.names && decided.values == one.values
      #expect(sameAsDecided)
    }
  }

  /// A value that does not open stops both at that record: `body` has seen every readable record before it, and the
  /// error names it. The damaged record is the first readable one, inside a chunk, at both sides of a chunk boundary,
  /// in the second half, or the last.
  @Test func aValueThatDoesNotOpenStopsBothAtTheSameRecord() throws {
    let (file, _) = try sample()
    let opened = try VaultFile.open(file, file: "p", with: [dave])
    let names = opened.names
    for position in [1, 6, 127, 128, 129, 701, Self.count - 1] {
      let name = names[position]
      #expect(opened.isReadable(name))
      var vault = opened
      let version = try #require(vault.records[name]?.versions.first)
      var sealed = version.sealed
      sealed[sealed.count - 1] ^= 0x01  // the tag
      vault.records[name]?.versions[0] = SecretVersion(
        number: version.number, created: version.created, author: version.author, sealed: sealed,
        generation: version.generation)
      let one = seen(vault, parts: 1)
      let two = seen(vault, parts: 2)
      let before = names[..<position].filter { vault.isReadable($0) }
      // Compared as Booleans: a failure would otherwise print a thousand names.
      let oneSawThoseBefore = one.names == before
      let twoSawTheSame = two.names == one.names && two.values == one.values
      #expect(oneSawThoseBefore, "at \(name)")
      #expect(twoSawTheSame, "at \(name)")
      #expect(one.error?.code == .authenticationFailed)
      #expect(two.error.map { "\($0)" } == one.error.map { "\($0)" })
      #expect(two.error.map { "\($0)" }?.contains("\(name) version 1") == true)
    }
  }

  /// Values longer than the 4,096-byte buffer each thread starts with, between short ones, come out whole.
  @Test func longValuesGrowTheBuffersAndComeOutWhole() throws {
    var v = try Vault.create(environment: "production", recipients: [alice.recipient], file: "p")
    var random = SeededGenerator(seed: 7)
    var values: [String: [UInt8]] = [:]
    for i in 0..<600 {
      let count = i % 50 == 3 ? Int.random(in: 4_097...20_000, using: &random) : Int.random(in: 0...64, using: &random)
      let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
      let name = "V\(String(10_000 + i))"
      try v.set(name, to: SecretValue(bytes), group: "g", author: "alice", at: t0)
      values[name] = bytes
    }
    let vault = try VaultFile.open(VaultFile.seal(v), file: "p", with: [alice])
    for parts in [1, 2] {
      var got: [String: [UInt8]] = [:]
      try vault.forEachCurrentValue(parts: parts) { got[$0] = Array($1) }
      let same = got == values
      #expect(same, "parts \(parts)")
    }
  }

  /// Two damaged values in different chunks: both paths stop at the first, as the loop does.
  @Test func theFirstOfTwoFailuresIsTheOneThrown() throws {
    let (file, _) = try sample()
    var vault = try VaultFile.open(file, file: "p", with: [alice])
    let names = vault.names
    for position in [901, 301] {  // in `other`, which dave reads too
      let name = names[position]
      let version = try #require(vault.records[name]?.versions.first)
      var sealed = version.sealed
      sealed[20] ^= 0x80  // the ciphertext
      vault.records[name]?.versions[0] = SecretVersion(
        number: version.number, created: version.created, author: version.author, sealed: sealed,
        generation: version.generation)
    }
    let one = seen(vault, parts: 1)
    let two = seen(vault, parts: 2)
    #expect(one.names.count == 301 && two.names.count == 301)
    #expect(two.error.map { "\($0)" } == one.error.map { "\($0)" })
    #expect(one.error.map { "\($0)" }?.contains("\(names[301]) version 1") == true)

    // The same damage written to the file by a member with the environment key (so the file's MAC holds), then read
    // by dave, who reads only some groups: the file opens, and both paths stop at the first damaged value he reads.
    let written = VaultFile.seal(vault)
    let asDave = try VaultFile.open(written, file: "p", with: [dave])
    let daveOne = seen(asDave, parts: 1)
    let daveTwo = seen(asDave, parts: 2)
    let readBefore = names[..<301].filter { asDave.isReadable($0) }.count
    #expect(asDave.isReadable(names[301]))
    #expect(daveOne.names.count == readBefore && daveTwo.names.count == readBefore)
    #expect(daveTwo.error.map { "\($0)" } == daveOne.error.map { "\($0)" })
    #expect(daveOne.error?.code == .authenticationFailed)
    #expect(daveTwo.error.map { "\($0)" }?.contains("\(names[301]) version 1") == true)
  }

  @Test func everyChunkRunsExactlyOnce() {
    for chunks in [0, 1, 2, 3, 7, 64, 1_000] {
      let counts = Mutex([Int](repeating: 0, count: chunks))
      ParallelParts.run(chunks: chunks) { chunk in counts.withLock { $0[chunk] += 1 } }
      #expect(counts.withLock { $0 } == [Int](repeating: 1, count: chunks))
    }
  }

  /// Flags the chunks of ``aSecondThreadTakesChunks()`` share.
  final class Flags: Sendable {
    let secondStarted = Atomic<Bool>(false)
    let firstSawSecond = Atomic<Bool>(false)
  }

  /// The helper really runs: the thread that takes chunk 0 waits (up to 60 s) until chunk 1 has started, which on one
  /// thread alone could happen only after chunk 0 returned. Where this process may use one processor only, no
  /// helper is started, so there is nothing to check.
  @Test(.enabled(if: ParallelParts.availableProcessors >= 2)) func aSecondThreadTakesChunks() {
    let flags = Flags()
    ParallelParts.run(chunks: 2) { chunk in
      if chunk == 1 {
        flags.secondStarted.store(true, ordering: .sequentiallyConsistent)
        return
      }
      let deadline = ContinuousClock.now + .seconds(60)
      while !flags.secondStarted.load(ordering: .sequentiallyConsistent), ContinuousClock.now < deadline {}
      flags.firstSawSecond.store(
        flags.secondStarted.load(ordering: .sequentiallyConsistent), ordering: .sequentiallyConsistent)
    }
    let sawSecond = flags.firstSawSecond.load(ordering: .sequentiallyConsistent)
    #expect(sawSecond)
  }

  @Test func chunksAreHandedOverOnceInOrder() {
    for chunks in [0, 1, 2, 3, 7, 64, 1_000] {
      let runs = Mutex([Int](repeating: 0, count: chunks))
      var handed: [Int] = []
      var ranBeforeHandOver = true
      ParallelParts.run(chunks: chunks, { chunk in runs.withLock { $0[chunk] += 1 } }, inOrder: { chunk in
        ranBeforeHandOver = ranBeforeHandOver && runs.withLock { $0[chunk] } == 1
        handed.append(chunk)
        return true
      })
      #expect(handed == Array(0..<chunks))
      #expect(ranBeforeHandOver)
      #expect(runs.withLock { $0 } == [Int](repeating: 1, count: chunks))
    }
  }

  @Test func aStopEndsTheHandOver() {
    for stop in [0, 5, 63] {
      let runs = Mutex([Int](repeating: 0, count: 64))
      var handed: [Int] = []
      ParallelParts.run(chunks: 64, { chunk in runs.withLock { $0[chunk] += 1 } }, inOrder: { chunk in
        handed.append(chunk)
        return chunk != stop
      })
      #expect(handed == Array(0...stop))
      #expect(runs.withLock { $0 }.allSatisfy { $0 <= 1 })
    }
  }

  /// Flags of ``theCallerHandsOverWhileTheHelperOpens()``.
  final class HandOverFlags: Sendable {
    let secondStarted = Atomic<Bool>(false)
    let firstHandedOver = Atomic<Bool>(false)
    let secondSawHandOver = Atomic<Bool>(false)
  }

  /// The caller takes chunk 0 before it starts the helper. Chunk 0 waits until chunk 1 has started (so the helper has
  /// it), and chunk 1 waits until chunk 0 has been handed over: both end at once only if the caller hands chunks over
  /// while the helper is still opening (each wait gives up after 60 s). Skipped where this process may use one
  /// processor only (`taskset -c 0`), where no helper starts.
  @Test(.enabled(if: ParallelParts.availableProcessors >= 2)) func theCallerHandsOverWhileTheHelperOpens() {
    let flags = HandOverFlags()
    ParallelParts.run(chunks: 2, { chunk in
      let deadline = ContinuousClock.now + .seconds(60)
      if chunk == 1 {
        flags.secondStarted.store(true, ordering: .sequentiallyConsistent)
        while !flags.firstHandedOver.load(ordering: .sequentiallyConsistent), ContinuousClock.now < deadline {}
        flags.secondSawHandOver.store(flags.firstHandedOver.load(ordering: .sequentiallyConsistent), ordering: .sequentiallyConsistent)
      } else {
        while !flags.secondStarted.load(ordering: .sequentiallyConsistent), ContinuousClock.now < deadline {}
      }
    }, inOrder: { chunk in
      if chunk == 0 { flags.firstHandedOver.store(true, ordering: .sequentiallyConsistent) }
      return true
    })
    let sawHandOver = flags.secondSawHandOver.load(ordering: .sequentiallyConsistent)
    #expect(sawHandOver)
  }

  @Test func theHelperStartsFrom512Records() {
    #expect(Vault.OpeningPlan.parts(for: 0) == 1)
    #expect(Vault.OpeningPlan.parts(for: 511) == 1)
    #expect(Vault.OpeningPlan.parts(for: 512) == 2)
    #expect(Vault.OpeningPlan.parts(for: 100_000) == 2)
  }
}
