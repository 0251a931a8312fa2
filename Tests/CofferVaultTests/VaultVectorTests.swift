import CofferCore
import Foundation
import Testing

@testable import CofferVault

/// Runs the vault test vectors in Vectors/*.vault.txt (format in docs/vault-format.md, "Test vectors").
///
/// Regenerate with `COFFER_WRITE_VECTORS=1 swift test --filter VaultVectorTests/regenerate` (the keys and nonces
/// are random, so regenerated files differ byte-wise but carry the same expectations).
@Suite struct VaultVectorTests {
  static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Vectors")
  /// Test-only identity: never use it for anything else.
  static let testKey = "AGE-SECRET-KEY-162CP8EEG75X5DP7X6FCYVU56ETNSKUE0VJL209NYQ39JRHJ30KZSF4HGW2"

  static var names: [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { $0.hasSuffix(".vault.txt") }.sorted()
  }

  struct Vector {
    var expect: String
    var identity: String
    var values: [String: [UInt8]] = [:]
    var body: [UInt8]
  }

  static func load(_ name: String) throws -> Vector {
    let data = Array(try Data(contentsOf: directory.appendingPathComponent(name)))
    let marker = Array("\n---\n".utf8)
    guard let split = (0...(data.count - marker.count)).first(where: { Array(data[$0..<$0 + marker.count]) == marker }) else {
      throw VectorError(message: "\(name): no --- line")
    }
    var v = Vector(expect: "", identity: "", body: Array(data[(split + marker.count)...]))
    for line in String(decoding: data[..<split], as: UTF8.self).split(separator: "\n") {
      let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
      switch parts[0] {
      case "expect": v.expect = parts[1]
      case "identity": v.identity = parts[1]
      case "value":
        let kv = parts[1].split(separator: "=", maxSplits: 1)
        v.values[String(kv[0])] = Base64.decode(kv.count > 1 ? kv[1] : "", padded: true) ?? []
      default: throw VectorError(message: "\(name): unknown header \(parts[0])")
      }
    }
    return v
  }

  struct VectorError: Error { let message: String }

  @Test func theVectorsAreThere() {
    #expect(Self.names.count == 18)
  }

  @Test(arguments: names)
  func vector(_ name: String) throws {
    let v = try Self.load(name)
    let identity = try AgeX25519Identity(parsing: v.identity)
    let vault: Vault
    do {
      vault = try VaultFile.open(v.body, file: name, with: [identity])
    } catch {
      let outcome = error.code.description
      #expect(outcome == v.expect, "\(name)")
      return
    }
    if v.expect.hasPrefix("value authentication failed") {
      let secret = String(v.expect.split(separator: " ").last ?? "")
      let error = #expect(throws: VaultError.self) { try vault.value(of: secret) }
      #expect(error?.code == .authenticationFailed, "\(name)")
      return
    }
    #expect(v.expect == "success", "\(name): opened, expected \(v.expect)")
    var got: [String: [UInt8]] = [:]
    for (n, value) in try vault.currentValues() { got[n] = value.reveal() }
    #expect(got == v.values, "\(name)")
    // A successful vector re-serializes to the same bytes (after CRLF normalization).
    let normalized = String(decoding: v.body, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
    #expect(VaultFile.seal(vault) == Array(normalized.utf8), "\(name)")
  }

  @Test(.enabled(if: ProcessInfo.processInfo.environment["COFFER_WRITE_VECTORS"] == "1"))
  func regenerate() throws {
    let id = try AgeX25519Identity(parsing: Self.testKey)
    let t = Timestamp(rfc3339: "2026-11-29T09:00:00Z")!
    func base() throws -> Vault {
      var v = try Vault.create(environment: "production", recipients: [id.recipient], file: "v")
      try v.set("DATABASE_URL", to: SecretValue("postgres://fake:fake@db/app"), group: "database-credentials", author: "alice", at: t)
      try v.set("OPENAI_API_KEY", to: SecretValue("sk-fake-000"), group: "api-keys", author: "alice", at: t)
      return v
    }
    func write(_ name: String, expect: String, values: [String: [UInt8]], body: [UInt8]) throws {
      var head = "expect: \(expect)\nidentity: \(Self.testKey)\n"
      for (k, v) in values.sorted(by: { $0.key < $1.key }) { head += "value: \(k)=\(Base64.encode(v, padded: true))\n" }
      try Data(Array(head.utf8) + Array("---\n".utf8) + body).write(to: Self.directory.appendingPathComponent("\(name).vault.txt"))
    }
    func lines(_ b: [UInt8]) -> [String] { String(decoding: b, as: UTF8.self).components(separatedBy: "\n") }
    func join(_ l: [String]) -> [UInt8] { Array(l.joined(separator: "\n").utf8) }
    let good = try base()
    let goodBytes = VaultFile.seal(good)
    let goodValues = ["DATABASE_URL": Array("postgres://fake:fake@db/app".utf8), "OPENAI_API_KEY": Array("sk-fake-000".utf8)]
    try write("success_basic", expect: "success", values: goodValues, body: goodBytes)
    try write("success_crlf", expect: "success", values: goodValues, body: join(lines(goodBytes).map { $0.isEmpty ? $0 : $0 + "\r" }))
    try write("success_empty", expect: "success", values: [:], body: VaultFile.seal(try Vault.create(environment: "staging", recipients: [id.recipient], file: "v")))
    var multi = good
    try multi.set("OPENAI_API_KEY", to: SecretValue("sk-fake-001"), group: "api-keys", author: "bob@example.com", at: Timestamp(secondsSinceEpoch: t.secondsSinceEpoch + 60))
    try multi.set("BINARY", to: SecretValue([0, 0xFF, 0x0A, 0x0D]), group: "misc", author: "alice", at: t)
    let multiValues = goodValues.merging(["OPENAI_API_KEY": Array("sk-fake-001".utf8), "BINARY": [0, 0xFF, 0x0A, 0x0D]]) { $1 }
    let multiBytes = VaultFile.seal(multi)
    try write("success_versions_and_binary", expect: "success", values: multiValues, body: multiBytes)
    // Rolled back: OPENAI_API_KEY's block from the older file inside the newer one.
    var m = lines(multiBytes)
    let g = lines(goodBytes)
    let ms = m.firstIndex { $0.hasPrefix("secret OPENAI_API_KEY") }!
    let gs = g.firstIndex { $0.hasPrefix("secret OPENAI_API_KEY") }!
    m.replaceSubrange(ms...(ms + 2), with: g[gs...(gs + 1)])
    try write("auth_one_entry_rolled_back", expect: "vault authentication failed", values: [:], body: join(m))
    var removed = lines(goodBytes)
    let ds = removed.firstIndex { $0.hasPrefix("secret DATABASE_URL") }!
    removed.removeSubrange(ds...(ds + 1))
    try write("auth_entry_removed", expect: "vault authentication failed", values: [:], body: join(removed))
    var author = lines(goodBytes)
    author[ds + 1] = author[ds + 1].replacingOccurrences(of: " alice ", with: " mallory ")
    try write("auth_author_edited", expect: "vault authentication failed", values: [:], body: join(author))
    var mac = lines(goodBytes)
    let last = mac.count - 2
    mac[last] = "mac " + Base64.encode([UInt8](repeating: 0, count: 32), padded: true)
    try write("auth_mac_replaced", expect: "vault authentication failed", values: [:], body: join(mac))
    var swapped = good
    let a = swapped.records["DATABASE_URL"]!.versions[0]
    let b = swapped.records["OPENAI_API_KEY"]!.versions[0]
    swapped.records["DATABASE_URL"]!.group = "api-keys"
    swapped.records["DATABASE_URL"]!.versions[0] = SecretVersion(number: a.number, created: a.created, author: a.author, sealed: b.sealed)
    try write("value_swapped_ciphertext", expect: "value authentication failed DATABASE_URL", values: [:], body: VaultFile.seal(swapped))
    var unsorted = lines(goodBytes)
    let os = unsorted.firstIndex { $0.hasPrefix("secret OPENAI_API_KEY") }!
    unsorted.swapAt(ds, os)
    unsorted.swapAt(ds + 1, os + 1)
    try write("malformed_unsorted", expect: "malformed vault", values: [:], body: join(unsorted))
    var cr = goodBytes
    cr.insert(0x0D, at: 20)
    try write("malformed_lone_cr", expect: "malformed vault", values: [:], body: cr)
    var pad = lines(goodBytes)
    pad[pad.count - 2] = String(pad[pad.count - 2].dropLast()) + "B"
    try write("malformed_noncanonical_base64", expect: "malformed vault", values: [:], body: join(pad))
    var extra = lines(goodBytes)
    extra.insert("# a comment", at: 2)
    try write("malformed_extra_line", expect: "malformed vault", values: [:], body: join(extra))
    try write("malformed_no_final_newline", expect: "malformed vault", values: [:], body: Array(goodBytes.dropLast()))
    var v2 = goodBytes
    v2[14] = UInt8(ascii: "3")
    try write("unsupported_version", expect: "unsupported vault version", values: [:], body: v2)
    // Key generations, an exposed line and a rollback: a writer who cannot unwrap `g` adds generation 2, the group
    // is marked exposed, and version 1's value is restored as version 3.
    var gens = try Vault.create(environment: "production", recipients: [id.recipient], file: "v")
    try gens.set("A", to: SecretValue("first"), group: "g", author: "alice", at: t)
    let readable = gens.slots["g"]?.key
    gens.slots["g"]?.key = nil
    try gens.set("A", to: SecretValue("second"), group: "g", author: "writer", at: Timestamp(secondsSinceEpoch: t.secondsSinceEpoch + 60))
    gens.slots["g"]?.key = readable
    gens.markExposed(group: "g", to: "mallory", at: Timestamp(secondsSinceEpoch: t.secondsSinceEpoch + 120))
    try gens.restore("A", version: 1, author: "alice", at: Timestamp(secondsSinceEpoch: t.secondsSinceEpoch + 180))
    let gensBytes = VaultFile.seal(gens)
    try write("success_generations_exposed_rollback", expect: "success", values: ["A": Array("first".utf8)], body: gensBytes)
    let dangling = String(decoding: gensBytes, as: UTF8.self).replacingOccurrences(of: " writer #2 ", with: " writer #3 ")
    try write("malformed_generation_without_key", expect: "malformed vault", values: [:], body: Array(dangling.utf8))
    let stranger = AgeX25519Identity.generate()
    var theirs = try Vault.create(environment: "production", recipients: [stranger.recipient], file: "v")
    try theirs.set("A", to: SecretValue("x"), group: "g", author: "eve", at: t)
    try write("no_match", expect: "no identity can open the vault", values: [:], body: VaultFile.seal(theirs))
  }
}
