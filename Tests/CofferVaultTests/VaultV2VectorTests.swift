import CofferCore
import Crypto
import Foundation
import Testing

@testable import CofferVault

/// Format-2 test vectors (docs/vault-format.md, "Version-2 test vectors"): each file carries the reader's identity,
/// the policy chain it is read against and the expected outcome; one vector per insider attack of docs/access.md.
///
/// Regenerate with `COFFER_WRITE_VECTORS=1 swift test --filter VaultV2VectorTests/regenerate` (keys, nonces and
/// signatures are random, so regenerated files differ byte-wise but carry the same expectations).
@Suite struct VaultV2VectorTests {
  static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Vectors/v2")

  static var names: [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { $0.hasSuffix(".txt") }.sorted()
  }

  struct Vector {
    var expect = ""
    var identity = ""
    var policy: [UInt8] = []
    var values: [String: [UInt8]] = [:]
    /// Attack 7: a guessed value and the fingerprint a reader of its group recorded for it.
    var guesses: [String: [UInt8]] = [:]
    var fingerprints: [String: String] = [:]
    var body: [UInt8] = []
  }

  static func load(_ name: String) throws -> Vector {
    let data = Array(try Data(contentsOf: directory.appendingPathComponent(name)))
    let marker = Array("\n---\n".utf8)
    let split = (0...(data.count - marker.count)).first { Array(data[$0..<$0 + marker.count]) == marker }!
    var v = Vector(body: Array(data[(split + marker.count)...]))
    for line in String(decoding: data[..<split], as: UTF8.self).split(separator: "\n") {
      let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
      switch parts[0] {
      case "expect": v.expect = parts[1]
      case "identity": v.identity = parts[1]
      case "policy": v.policy = Base64.decode(parts[1], padded: true) ?? []
      case "value":
        let kv = parts[1].split(separator: "=", maxSplits: 1)
        v.values[String(kv[0])] = Base64.decode(kv.count > 1 ? kv[1] : "", padded: true) ?? []
      case "guess":
        let kv = parts[1].split(separator: "=", maxSplits: 1)
        v.guesses[String(kv[0])] = Base64.decode(kv.count > 1 ? kv[1] : "", padded: true) ?? []
      case "fingerprint":
        let kv = parts[1].split(separator: "=", maxSplits: 1)
        v.fingerprints[String(kv[0])] = kv.count > 1 ? String(kv[1]) : ""
      default: Issue.record("\(name): unknown header \(parts[0])")
      }
    }
    return v
  }

  /// A read keeps each version's attestation and sealed value as the file's base64 until asked for
  /// (docs/performance.md), but still refuses, before anything is opened, a field that is not canonical base64 or
  /// decodes too short, wherever it is: the attestation or the sealed value of a version nobody reads.
  @Test(arguments: [(field: 1, edit: "noncanonical"), (1, "short"), (0, "noncanonical"), (0, "short")])
  func versionFieldsAreCheckedWhenRead(field: Int, edit: String) throws {
    let v = try Self.load("success_team.txt")
    let identity = try AgeX25519Identity(parsing: v.identity)
    let chain = try PolicyChain.parse(v.policy, file: "policy")
    var lines = String(decoding: v.body, as: UTF8.self).components(separatedBy: "\n")
    let n = try #require(lines.lastIndex { $0.hasPrefix(" v ") })
    var fields = lines[n].components(separatedBy: " ")
    // field 0: the sealed value (last); field 1: the attestation (before it).
    let i = fields.count - 1 - field
    if edit == "short" {
      fields[i] = field == 1 ? Base64.encode([UInt8](repeating: 1, count: 99), padded: true) : Base64.encode([UInt8](repeating: 1, count: 27), padded: true)
    } else {
      var chars = Array(fields[i])
      if chars.last == "=", let last = chars.lastIndex(where: { $0 != "=" }) {
        // Padded: the last data character changed so that unused bits are set (same length, not canonical).
        chars[last] = chars[last] == "B" ? "C" : "B"
      } else {
        chars.removeLast()  // unpadded: a length that is no multiple of four
      }
      fields[i] = String(chars)
      #expect(Base64.decode(fields[i], padded: true) == nil)
    }
    lines[n] = fields.joined(separator: " ")
    do {
      _ = try VaultFile.open(Array(lines.joined(separator: "\n").utf8), file: "team", with: [identity], trust: chain)
      Issue.record("opened a vault with a bad \(field == 1 ? "attestation" : "sealed value") (\(edit))")
    } catch {
      #expect(error.code == .malformed, "\(error)")
      #expect(error.line == n + 1)
    }
  }

  @Test func theVectorsAreThere() {
    #expect(Self.names.count == 15)
  }

  @Test(arguments: names)
  func vector(_ name: String) throws {
    let v = try Self.load(name)
    let identity = try AgeX25519Identity(parsing: v.identity)
    let vault: Vault
    let chain: PolicyChain
    do {
      chain = try PolicyChain.parse(v.policy, file: "policy")
      vault = try VaultFile.open(v.body, file: name, with: [identity], trust: chain)
    } catch {
      #expect(error.code.description == v.expect, "\(name): \(error)")
      return
    }
    if v.expect.hasPrefix("author forged") {
      let parts = v.expect.split(separator: " ")
      let (check, _) = vault.authorship(of: String(parts[2]), version: Int(parts[3])!, chain: chain)
      #expect(check == .forged, "\(name)")
      return
    }
    #expect(v.expect == "success", "\(name): opened, expected \(v.expect)")
    var got: [String: [UInt8]] = [:]
    for (n, value) in try vault.currentValues() { got[n] = value.reveal() }
    #expect(got == v.values, "\(name)")
    // Format 2's values (a salt before each) through the two-thread path too (ParallelOpeningTests has the rest).
    var one: [String: [UInt8]] = [:]
    var two: [String: [UInt8]] = [:]
    try vault.forEachCurrentValue(parts: 1) { one[$0] = Array($1) }
    try vault.forEachCurrentValue(parts: 2) { two[$0] = Array($1) }
    #expect(one == v.values && two == v.values, "\(name)")
    // A correct guess reproduces the recorded fingerprint only for an identity that reads the group.
    for (secret, guess) in v.guesses {
      let mine = vault.fingerprint(of: SecretValue(guess), name: secret)
      let readable = vault.isReadable(secret)
      #expect((mine == v.fingerprints[secret]) == readable, "\(name): \(secret)")
    }
    for n in vault.names {
      for version in vault.versions(of: n) {
        #expect(vault.authorship(of: n, version: version.number, chain: chain).0 == .verified, "\(name) \(n)")
      }
    }
  }

  @Test(.enabled(if: ProcessInfo.processInfo.environment["COFFER_WRITE_VECTORS"] == "1"))
  func regenerate() throws {
    let t = Timestamp(rfc3339: "2026-12-01T09:00:00Z")!
    let ids = ["alice": AgeX25519Identity.generate(), "bob": AgeX25519Identity.generate(), "dave": AgeX25519Identity.generate()]
    func member(_ n: String) -> ManifestRecipient {
      ManifestRecipient(name: n, recipient: ids[n]!.recipient.encoded, signingKey: SigningIdentity(deriving: ids[n]!).publicKey.encoded)
    }
    let rules = [
      AccessRule(environments: .any, groups: .any, recipients: .names(["alice"])),
      AccessRule(environments: .names(["production"]), groups: .names(["api-keys"]), recipients: .names(["bob"])),
      AccessRule(environments: .names(["production"]), groups: .names(["infrastructure-credentials"]), recipients: .names(["dave"]), writeOnly: true),
    ]
    func body(_ rules: [AccessRule]) -> PolicyBody {
      PolicyBody(AccessPolicy(rules: rules, recipients: ["alice", "bob", "dave"].map(member), admins: ["alice"], environments: ["production"], groups: []))
    }
    let signing = ids.mapValues { SigningIdentity(deriving: $0) }
    let chain = try PolicyChain.genesis(body(rules), signer: "alice", identity: signing["alice"]!, at: t, project: "0123456789abcdef0123456789abcdef")
    func wrap(_ chain: PolicyChain) -> @Sendable (String) -> [AgeX25519Recipient] {
      let policy = chain.head.policy
      let idsCopy = ids
      return { slot in
        let names = slot == "*"
          ? ["alice", "bob", "dave"].filter { n in (policy.rules ?? []).contains { $0.environments.matches("production") && $0.recipients.matches(n) } }
          : ["alice", "bob", "dave"].filter { policy.canRead($0, environment: "production", group: slot) }
        return names.map { idsCopy[$0]!.recipient }
      }
    }
    func honest(_ chain: PolicyChain) throws -> Vault {
      let signer = VaultSigner(name: "alice", identity: signing["alice"]!, chain: chain)
      var v = try Vault.create(environment: "production", recipients: wrap(chain)("*"), file: "v", signer: signer)
      v.useRecipients(forSlot: wrap(chain))
      try v.set("API_KEY", to: SecretValue("sk-api-v1\n$x\"'"), group: "api-keys", author: "alice", at: t)
      try v.set("INFRA_TOKEN", to: SecretValue("infra-v1"), group: "infrastructure-credentials", author: "alice", at: t)
      return v
    }
    func reopen(_ bytes: [UInt8], as who: String, _ chain: PolicyChain) throws -> Vault {
      var v = try VaultFile.open(bytes, file: "v", with: [ids[who]!], trust: chain)
      v.v2?.signer = VaultSigner(name: who, identity: signing[who]!, chain: chain)
      v.useRecipients(forSlot: wrap(chain))
      return v
    }
    func write(
      _ name: String, _ expect: String, _ chain: PolicyChain, _ bytes: [UInt8], values: [String: String] = [:],
      reader: String = "alice", extra: String = ""
    ) throws {
      var head = "expect: \(expect)\nidentity: \(String(decoding: ids[reader]!.encoded.reveal(), as: UTF8.self))\n" + extra
      head += "policy: \(Base64.encode(chain.serialized(), padded: true))\n"
      for (k, v) in values.sorted(by: { $0.key < $1.key }) { head += "value: \(k)=\(Base64.encode(Array(v.utf8), padded: true))\n" }
      try FileManager.default.createDirectory(at: Self.directory, withIntermediateDirectories: true)
      try Data(Array(head.utf8) + Array("---\n".utf8) + bytes).write(to: Self.directory.appendingPathComponent("\(name).txt"))
    }
    let good = VaultFile.seal(try honest(chain))
    try write("success_team", "success", chain, good, values: ["API_KEY": "sk-api-v1\n$x\"'", "INFRA_TOKEN": "infra-v1"])
    let fail = "vault authentication failed"

    // 1. Adopt a key generation: bob (reads api-keys) plants infra's key, or adds a generation; dave plants it.
    var a = try reopen(good, as: "bob", chain)
    a.slots["infrastructure-credentials"] = try a.wrapSigned(SymmetricKey(size: .bits256), slot: "infrastructure-credentials", to: [ids["alice"]!.recipient])
    try write("attack1_reader_plants_group_key", fail, chain, VaultFile.seal(a))
    a = try reopen(good, as: "bob", chain)
    a.slots["infrastructure-credentials#2"] = try a.wrapSigned(SymmetricKey(size: .bits256), slot: "infrastructure-credentials#2", to: [ids["alice"]!.recipient])
    try write("attack1_reader_adds_generation", fail, chain, VaultFile.seal(a))
    a = try reopen(good, as: "dave", chain)
    a.slots["infrastructure-credentials"] = try a.wrapSigned(SymmetricKey(size: .bits256), slot: "infrastructure-credentials", to: [ids["alice"]!.recipient])
    try write("attack1_writer_plants_group_key", fail, chain, VaultFile.seal(a))

    // 2. Forge authorship: dave writes, then records alice as the author.
    a = try reopen(good, as: "dave", chain)
    try a.set("INFRA_TOKEN", to: SecretValue("infra-by-dave"), group: "infrastructure-credentials", author: "dave", at: t)
    var record = a.records["INFRA_TOKEN"]!
    let v = record.versions[0]
    record.versions[0] = SecretVersion(number: v.number, created: v.created, author: "alice", sealed: v.sealed, generation: v.generation, restores: v.restores, attestation: v.attestation)
    a.records["INFRA_TOKEN"] = record
    try write("attack2_forged_author", "author forged INFRA_TOKEN 2", chain, VaultFile.seal(a))

    // 3. Grant by commit: a record appended by a non-admin.
    let forged = PolicyChain(project: chain.project, records: chain.records + [chain.recordUnchecked(chain.head.policy, signer: "bob", identity: signing["bob"]!)])
    try write("attack3_record_by_non_admin", fail, forged, good)

    // 4. Undo a revocation: epoch 2 removes bob from api-keys; the vault from epoch 1 comes back.
    let revoked = try chain.appending(body([rules[0], rules[2]]), signer: "alice", identity: signing["alice"]!, at: t)
    try write("attack4_vault_from_before_revocation", "restored from before a revocation", revoked, good)

    // 6. Hide a recipient: bob re-wraps api-keys to three, lists two.
    a = try reopen(good, as: "bob", chain)
    var slot = try Vault.wrap(a.slots["api-keys"]!.key!, to: ["alice", "bob", "dave"].map { ids[$0]!.recipient }, file: "v")
    slot.recipients = ["alice", "bob"].map { ids[$0]!.recipient.encoded }.sorted()
    slot.signer = "bob"
    slot.epoch = chain.head.epoch
    slot.signature = signing["bob"]!.sign(VaultV2.keyMessage(project: chain.project, environment: "production", slot: "api-keys", epoch: chain.head.epoch, wrapped: slot.wrapped, recipients: slot.recipients))
    a.slots["api-keys"] = slot
    try write("attack6_hidden_recipient", fail, chain, VaultFile.seal(a))

    // 7. Confirm guesses: fingerprints alice recorded (sync state, audit) for both groups; bob, who reads api-keys
    // only, reproduces the api-keys one from a correct guess and not the infrastructure-credentials one.
    let aliceView = try VaultFile.open(good, file: "v", with: [ids["alice"]!], trust: chain)
    var extra = ""
    for (secret, value) in [("API_KEY", "sk-api-v1\n$x\"'"), ("INFRA_TOKEN", "infra-v1")] {
      extra += "guess: \(secret)=\(Base64.encode(Array(value.utf8), padded: true))\n"
      extra += "fingerprint: \(secret)=\(aliceView.fingerprint(of: SecretValue(value), name: secret))\n"
    }
    try write("attack7_guess_other_groups_fingerprint", "success", chain, good, values: ["API_KEY": "sk-api-v1\n$x\"'"], reader: "bob", extra: extra)

    // 8. Lenient reading: a corrupted key listed for alice; an exposure beyond the newest version; another
    // project's vault; a format-1 vault in a v2 project; an unsigned key.
    a = try reopen(good, as: "bob", chain)
    var s8 = a.slots["api-keys"]!
    s8.wrapped[s8.wrapped.count - 1] ^= 1
    s8.signer = "bob"
    s8.epoch = chain.head.epoch
    s8.signature = signing["bob"]!.sign(VaultV2.keyMessage(project: chain.project, environment: "production", slot: "api-keys", epoch: chain.head.epoch, wrapped: s8.wrapped, recipients: s8.recipients))
    a.slots["api-keys"] = s8
    try write("attack8_corrupted_key_listed_for_reader", fail, chain, VaultFile.seal(a))
    a = try reopen(good, as: "bob", chain)
    a.records["API_KEY"]!.exposure = SecretExposure(throughVersion: 9, time: t, recipient: "x")
    try write("attack8_exposed_beyond_newest", fail, chain, VaultFile.seal(a))
    let other = try PolicyChain.genesis(body(rules), signer: "alice", identity: signing["alice"]!, at: t, project: "fedcba9876543210fedcba9876543210")
    try write("attack8_other_project", fail, other, good)
    var v1 = try Vault.create(environment: "production", recipients: [ids["alice"]!.recipient], file: "v")
    try v1.set("API_KEY", to: SecretValue("downgraded"), group: "api-keys", author: "alice", at: t)
    try write("attack8_format1_in_v2_project", fail, chain, VaultFile.seal(v1))
    var text = String(decoding: good, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    if let i = text.firstIndex(where: { $0.hasPrefix(" by ") }) { text.remove(at: i) }
    try write("malformed_unsigned_key", "malformed vault", chain, Array(text.joined(separator: "\n").utf8))
    // 5 (run) is not a file format matter: RunInjectionTests. A successful rekey after revocation:
    let signer = VaultSigner(name: "alice", identity: signing["alice"]!, chain: revoked)
    var r = try VaultFile.open(good, file: "v", with: [ids["alice"]!], trust: revoked, allowRolledBack: true)
    r.v2?.signer = signer
    r.useRecipients(forSlot: wrap(revoked))
    try r.rekey(group: "api-keys")
    try r.rekeyEnvironment()
    try write("success_rekeyed_after_revocation", "success", revoked, VaultFile.seal(r), values: ["API_KEY": "sk-api-v1\n$x\"'", "INFRA_TOKEN": "infra-v1"])
  }
}
