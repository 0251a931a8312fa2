import CofferCore
import CofferTesting
import Crypto
import Foundation
import Testing

@testable import CofferVault

/// Trust model v2 (issue 10, docs/access.md "Threat model"): each attack is performed the way an insider would, with
/// their own identity and a script that edits the files (here: the library, which is what such a script would
/// use), and then an honest teammate runs the commands.
///
/// The team: alice (admin, reads everything), bob (reads api-keys in production), dave (writes
/// infrastructure-credentials in production without reading it), mallory (commit rights, no access).
final class Team: @unchecked Sendable {
  let box: Sandbox
  var identities: [String: URL] = [:]

  static let rules = """
    access:
      - { environments: [development, production], groups: ["*"], recipients: [alice] }
      - { environments: [production], groups: [api-keys], recipients: [bob] }
      - { environments: [production], groups: [infrastructure-credentials], recipients: [dave], write_only: true }

    """

  init() throws {
    box = try Sandbox()
    identities["alice"] = box.identityFile
    let initResult = box.run(["init", "--name", "alice", "--environments", "development,production"])
    precondition(initResult.status == 0, initResult.stderr)
    for who in ["bob", "dave", "mallory"] {
      let file = box.dir.appendingPathComponent("home/\(who).txt")
      precondition(box.run(["keygen", "-o", file.path]).status == 0)
      identities[who] = file
    }
    var yaml = String(decoding: try box.read("coffer.yaml"), as: UTF8.self)
    yaml = yaml.replacingOccurrences(
      of: "secrets: {}",
      with: "secrets:\n  API_KEY: { group: api-keys }\n  INFRA_TOKEN: { group: infrastructure-credentials }\n  DB_PASSWORD: { group: database-credentials }")
    try box.write("coffer.yaml", yaml)
    for who in ["bob", "dave"] {
      let added = run("alice", ["access", "add-recipient", who, line(who)])
      precondition(added.status == 0, added.stderr)
    }
    // Epoch 4: the access rules.
    try box.write("coffer.yaml", String(decoding: try box.read("coffer.yaml"), as: UTF8.self) + Self.rules)
    let approved = run("alice", ["access", "approve"])
    precondition(approved.status == 0, approved.stderr)
    precondition(run("alice", ["set", "API_KEY", "--env", "production"], stdin: "api-v1").status == 0)
    precondition(run("alice", ["set", "INFRA_TOKEN", "--env", "production"], stdin: "infra-v1").status == 0)
  }

  /// Runs coffer as one member.
  @discardableResult
  func run(_ who: String, _ args: [String], stdin: String? = nil) -> CLIResult {
    box.run(args, stdin: stdin.map { Data($0.utf8) }, env: ["COFFER_IDENTITY_FILE": identities[who]!.path])
  }

  /// What `coffer identity` prints for a member.
  func line(_ who: String) -> String {
    run(who, ["identity"]).out.trimmingCharacters(in: .newlines)
  }

  func identity(_ who: String) throws -> AgeX25519Identity {
    try AgeX25519Identity.load(String(contentsOf: identities[who]!, encoding: .utf8))
  }

  var vaultFile: String { ".coffer/vault/production.vault" }
  var vaultBytes: [UInt8] { get throws { Array(try box.read(vaultFile)) } }

  func chain() throws -> PolicyChain {
    try PolicyChain.parse(Array(try box.read(".coffer/policy")), file: "policy")
  }

  /// An insider's script: open the production vault with their own identity, edit it, and write it back signed
  /// with their own key (group seals, MAC) as a tool built on the library would.
  func tamper(as who: String, _ edit: (inout Vault, VaultSigner) throws -> Void) throws {
    let chain = try chain()
    let id = try identity(who)
    var vault = try VaultFile.open(try vaultBytes, file: vaultFile, with: [id], trust: chain)
    let signer = VaultSigner(name: who, identity: SigningIdentity(deriving: id), chain: chain)
    vault.v2?.signer = signer
    try edit(&vault, signer)
    try box.write(vaultFile, Data(VaultFile.seal(vault)))
  }

  /// Whether the reference `age` CLI opens a key slot's wrapped key with a member's identity.
  func ageOpens(slot: String, as who: String) throws -> Bool {
    let text = String(decoding: try vaultBytes, as: UTF8.self)
    guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("key \(slot) ") }) else { return false }
    let wrapped = Base64.decode(String(line.split(separator: " ")[2]), padded: true)!
    let file = box.dir.appendingPathComponent("wrapped-\(UUID().uuidString).age")
    try Data(wrapped).write(to: file)
    let r = try ChildProcess.run(
      "/usr/bin/age", ["-d", "-i", identities[who]!.path, file.path], cwd: box.dir, environment: ["PATH": "/usr/bin:/bin"])
    return r.status == 0
  }
}

extension AgeX25519Identity {
  static func load(_ text: String) throws -> AgeX25519Identity {
    try Age.parseIdentities(text)[0]
  }
}

@Suite struct TrustModelTests {
  // MARK: 1. Adopt a key generation

  @Test func readerOfAnotherGroupCannotPlantAGroupKey() throws {
    let team = try Team()
    let alice = try team.identity("alice")
    try team.tamper(as: "bob") { vault, _ in
      vault.slots["infrastructure-credentials"] = try vault.wrapSigned(
        SymmetricKey(size: .bits256), slot: "infrastructure-credentials", to: [alice.recipient])
    }
    let before = try team.vaultBytes
    let r = team.run("alice", ["set", "INFRA_TOKEN", "--env", "production"], stdin: "infra-v2")
    #expect(r.status == 3)
    #expect(r.stderr.contains("group infrastructure-credentials was last written by bob, who may not write it in production"))
    #expect(try team.vaultBytes == before)
  }

  @Test func readerOfAnotherGroupCannotAddAGeneration() throws {
    let team = try Team()
    let alice = try team.identity("alice")
    try team.tamper(as: "bob") { vault, _ in
      vault.slots["infrastructure-credentials#2"] = try vault.wrapSigned(
        SymmetricKey(size: .bits256), slot: "infrastructure-credentials#2", to: [alice.recipient])
    }
    let r = team.run("alice", ["get", "INFRA_TOKEN", "--env", "production"])
    #expect(r.status == 3)
    #expect(r.stderr.contains("last written by bob"))
  }

  @Test func writeOnlyWriterCannotReplaceTheReadersKey() throws {
    let team = try Team()
    let alice = try team.identity("alice")
    try team.tamper(as: "dave") { vault, _ in
      vault.slots["infrastructure-credentials"] = try vault.wrapSigned(
        SymmetricKey(size: .bits256), slot: "infrastructure-credentials", to: [alice.recipient])
    }
    let r = team.run("alice", ["set", "INFRA_TOKEN", "--env", "production"], stdin: "infra-v2")
    #expect(r.status == 3)
    #expect(r.stderr.contains("key infrastructure-credentials was created by dave, who may not read infrastructure-credentials in production"))
  }

  @Test func readersNeverSealUnderAWritersGeneration() throws {
    let team = try Team()
    // dave writes as he may: his value goes under a generation of his own, wrapped to the readers.
    let d = team.run("dave", ["set", "INFRA_TOKEN", "--env", "production"], stdin: "infra-by-dave")
    #expect(d.status == 0, "\(d.stderr)")
    let text = String(decoding: try team.vaultBytes, as: UTF8.self)
    #expect(text.contains("key infrastructure-credentials#2 "))
    #expect(team.run("alice", ["get", "INFRA_TOKEN", "--env", "production"]).out == "infra-by-dave\n")
    // alice's next value goes under generation 1, which dave never held.
    #expect(team.run("alice", ["set", "INFRA_TOKEN", "--env", "production"], stdin: "infra-v3").status == 0)
    let vault = try VaultFile.open(try team.vaultBytes, file: "v", with: [try team.identity("alice")], trust: try team.chain())
    #expect(vault.current("INFRA_TOKEN")?.generation == 1)
    #expect(try team.ageOpens(slot: "infrastructure-credentials", as: "dave") == false)
    #expect(try team.ageOpens(slot: "infrastructure-credentials", as: "alice") == true)
    #expect(team.run("dave", ["get", "INFRA_TOKEN", "--env", "production"]).status == 3)
  }

  // MARK: 2. Forge authorship

  @Test func aWriterCannotRecordAnotherMemberAsAuthor() throws {
    let team = try Team()
    #expect(team.run("dave", ["set", "INFRA_TOKEN", "--env", "production"], stdin: "infra-by-dave").status == 0)
    try team.tamper(as: "dave") { vault, _ in
      var record = vault.records["INFRA_TOKEN"]!
      let v = record.versions[0]
      record.versions[0] = SecretVersion(
        number: v.number, created: v.created, author: "alice", sealed: v.sealed, generation: v.generation,
        restores: v.restores, attestation: v.attestation)
      vault.records["INFRA_TOKEN"] = record
    }
    let r = team.run("alice", ["history", "INFRA_TOKEN", "--env", "production"])
    #expect(r.status == 3)
    #expect(r.stderr.contains("INFRA_TOKEN version 2: the signature of its author alice does not verify"))
    #expect(r.out.isEmpty)
  }

  @Test func honestHistoryVerifies() throws {
    let team = try Team()
    let r = team.run("alice", ["history", "API_KEY", "--env", "production"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.out.contains("1        ") && r.out.contains("alice  current"))
  }

  @Test func aWriterCannotPassOffItsValueAsAnotherMembersVersion() throws {
    let team = try Team()
    // dave takes alice's signed attestation and puts his own value under it (a new generation of his).
    let alice = try team.identity("alice").recipient
    try team.tamper(as: "dave") { vault, signer in
      vault.useRecipients(forSlot: { _ in [alice] })
      var record = vault.records["INFRA_TOKEN"]!
      let v = record.versions[0]
      let (key, gen) = try vault.writingKey(for: "infrastructure-credentials")
      let forged = try vault.sealRaw(
        Array(repeating: 0, count: 16) + Array("daves-value".utf8), name: "INFRA_TOKEN", number: v.number,
        created: v.created, author: v.author, key: key, generation: gen, restores: nil, storedAttestation: v.storedAttestation)
      record.versions[0] = forged
      vault.records["INFRA_TOKEN"] = record
    }
    let r = team.run("alice", ["history", "INFRA_TOKEN", "--env", "production"])
    #expect(r.status == 3)
    #expect(r.stderr.contains("INFRA_TOKEN version 1: the signature of its author alice does not verify"))
  }

  // MARK: 3. Grant by commit

  @Test func aCommitAddingARecipientGrantsNothing() throws {
    let team = try Team()
    var yaml = String(decoding: try team.box.read("coffer.yaml"), as: UTF8.self)
    yaml = yaml.replacingOccurrences(of: "admins: [alice]", with: "  mallory: \(team.line("mallory"))\nadmins: [alice]")
    yaml = yaml.replacingOccurrences(of: "recipients: [alice] }", with: "recipients: [alice, mallory] }")
    try team.box.write("coffer.yaml", yaml)
    let r = team.run("alice", ["set", "API_KEY", "--env", "production"], stdin: "api-v2")
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stderr.contains("coffer.yaml's recipients/access differ from the approved policy (epoch 4, approved by alice)"))
    #expect(r.stderr.contains("+ member mallory age1"))
    #expect(r.stderr.contains("admins who can approve with `coffer access approve`: alice"))
    let mallory = try team.identity("mallory").recipient.encoded
    #expect(!String(decoding: try team.vaultBytes, as: UTF8.self).contains(mallory))
    #expect(try team.ageOpens(slot: "api-keys", as: "mallory") == false)
    #expect(team.run("mallory", ["get", "API_KEY", "--env", "production"]).status == 3)
  }

  @Test func aRecordSignedByANonAdminIsRefused() throws {
    let team = try Team()
    let chain = try team.chain()
    let bob = SigningIdentity(deriving: try team.identity("bob"))
    // bob appends a record (his script bypasses the admin check by building the bytes himself).
    let forged = PolicyChain(
      project: chain.project,
      records: chain.records + [
        chain.recordUnchecked(chain.head.policy, signer: "bob", identity: bob)
      ])
    try team.box.write(".coffer/policy", Data(forged.serialized()))
    let r = team.run("alice", ["get", "API_KEY", "--env", "production"])
    #expect(r.status == 3)
    #expect(r.stderr.contains("record 5 is signed by bob, who was not an admin with a signing key at epoch 4"))
  }

  @Test func aReplacedPolicyIsRefused() throws {
    let team = try Team()
    let mallory = try team.identity("mallory")
    let body = PolicyBody(
      AccessPolicy(
        rules: nil,
        recipients: [ManifestRecipient(name: "mallory", recipient: mallory.recipient.encoded, signingKey: SigningIdentity(deriving: mallory).publicKey.encoded)],
        admins: nil, environments: ["production"], groups: []))
    let own = try PolicyChain.genesis(
      body, signer: "mallory", identity: SigningIdentity(deriving: mallory), at: Timestamp(rfc3339: "2026-01-01T00:00:00Z")!,
      project: try team.chain().project)
    try team.box.write(".coffer/policy", Data(own.serialized()))
    let r = team.run("alice", ["get", "API_KEY", "--env", "production"])
    #expect(r.status == 3)
    #expect(r.stderr.contains("the policy is at epoch 1, but this clone has seen epoch 4"))
  }

  // MARK: 4. Undo a revocation

  @Test func restoringAVaultFromBeforeARevocationIsRefused() throws {
    let team = try Team()
    let old = try team.vaultBytes
    let r = team.run("alice", ["access", "revoke", "bob", "--groups", "api-keys", "--env", "production"])
    #expect(r.status == 0, "\(r.stderr)")
    try team.box.write(team.vaultFile, Data(old))
    let get = team.run("alice", ["get", "API_KEY", "--env", "production"])
    #expect(get.status == 3)
    #expect(get.stderr.contains("restored from before a revocation"))
    #expect(get.stderr.contains("group api-keys was written at policy epoch 4, before the revocation at epoch 5"))
    // Recovery: a reader re-keys; bob's identity opens nothing written afterwards.
    let rekey = team.run("alice", ["access", "rekey", "--env", "production", "--groups", "api-keys"])
    #expect(rekey.status == 0, "\(rekey.stderr)")
    #expect(team.run("alice", ["get", "API_KEY", "--env", "production"]).out == "api-v1\n")
    #expect(try team.ageOpens(slot: "api-keys", as: "bob") == false)
  }

  @Test func restoringThePolicyFromBeforeARevocationIsRefused() throws {
    let team = try Team()
    let oldVault = try team.vaultBytes
    let oldPolicy = try team.box.read(".coffer/policy")
    #expect(team.run("alice", ["access", "revoke", "bob", "--groups", "api-keys", "--env", "production"]).status == 0)
    try team.box.write(team.vaultFile, Data(oldVault))
    try team.box.write(".coffer/policy", oldPolicy)
    let r = team.run("alice", ["set", "API_KEY", "--env", "production"], stdin: "api-v2")
    #expect(r.status == 3)
    #expect(r.stderr.contains("the policy is at epoch 4, but this clone has seen epoch 5"))
    let deleted = team.box.dir.appendingPathComponent(".coffer/policy")
    try FileManager.default.removeItem(at: deleted)
    let r2 = team.run("alice", ["get", "API_KEY", "--env", "production"])
    #expect(r2.status == 3)
    #expect(r2.stderr.contains("the signed access policy is missing"))
  }

  @Test func deletingTheExposureMarkDoesNotHideANeededRotation() throws {
    let team = try Team()
    #expect(team.run("alice", ["access", "revoke", "bob", "--groups", "api-keys", "--env", "production"]).status == 0)
    // A writer of the group deletes the `exposed` line and re-seals the group with their own key.
    try team.tamper(as: "alice") { vault, _ in vault.records["API_KEY"]!.exposure = nil }
    #expect(!String(decoding: try team.vaultBytes, as: UTF8.self).contains(" exposed "))
    let status = team.run("alice", ["rotate", "status", "--env", "production"])
    #expect(status.status == 1, "\(status.stderr)")
    #expect(status.out.contains("needs-rotation"))
    let check = team.run("alice", ["check", "--env", "production"])
    #expect(check.status == 1)
    // A new value ends it; a rollback to the exposed value brings it back.
    #expect(team.run("alice", ["rotate", "API_KEY", "--env", "production", "--generate"]).status == 0)
    #expect(team.run("alice", ["rotate", "status", "--env", "production"]).out.contains("needs-rotation") == false)
    #expect(team.run("alice", ["rollback", "API_KEY", "--env", "production", "--to", "1"]).status == 0)
    #expect(team.run("alice", ["rotate", "status", "--env", "production"]).out.contains("needs-rotation"))
  }

  @Test func aFreshCloneWithCofferTrustV2RefusesAMissingPolicy() throws {
    let team = try Team()
    try FileManager.default.removeItem(at: team.box.dir.appendingPathComponent(".coffer/policy"))
    // A fresh clone (no memory of the policy), as a CI job is: COFFER_TRUST=v2 makes the policy mandatory.
    let fresh = ["XDG_STATE_HOME": team.box.path("fresh-state")]
    let strict = team.box.run(
      ["get", "API_KEY", "--env", "production"],
      env: fresh.merging(["COFFER_TRUST": "v2", "COFFER_IDENTITY_FILE": team.identities["alice"]!.path]) { $1 })
    #expect(strict.status == 3)
    #expect(strict.stderr.contains("COFFER_TRUST=v2 requires a signed access policy, and there is none"))
    // The clone that saw the policy refuses without being told.
    let seen = team.run("alice", ["get", "API_KEY", "--env", "production"])
    #expect(seen.status == 3)
    #expect(seen.stderr.contains("the signed access policy is missing"))
  }

  @Test func revokedReaderOpensNothingWrittenAfter() throws {
    let team = try Team()
    #expect(try team.ageOpens(slot: "api-keys", as: "bob") == true)
    #expect(team.run("alice", ["access", "revoke", "bob", "--groups", "api-keys", "--env", "production"]).status == 0)
    #expect(team.run("alice", ["set", "API_KEY", "--env", "production"], stdin: "api-v2").status == 0)
    #expect(try team.ageOpens(slot: "api-keys", as: "bob") == false)
    #expect(try team.ageOpens(slot: "*", as: "bob") == false)
    let r = team.run("bob", ["get", "API_KEY", "--env", "production"])
    #expect(r.status == 3)
  }

  // Red-team findings (a helper attacking this build as an insider): each closed as a kind, with neighbours.

  @Test func aCommitCannotMoveASecretIntoAGroupSomeoneElseReads() throws {
    let team = try Team()
    var yaml = String(decoding: try team.box.read("coffer.yaml"), as: UTF8.self)
    yaml = yaml.replacingOccurrences(of: "INFRA_TOKEN: { group: infrastructure-credentials }", with: "INFRA_TOKEN: { group: api-keys }")
    try team.box.write("coffer.yaml", yaml)
    let before = try team.vaultBytes
    try team.box.write("in.env", "INFRA_TOKEN=infra-v2\n")
    for args in [
      ["set", "INFRA_TOKEN", "--env", "production"], ["import", "in.env", "--env", "production", "--overwrite"],
      ["rotate", "INFRA_TOKEN", "--env", "production", "--generate"],
    ] {
      let r = team.run("alice", args, stdin: "infra-v2")
      #expect(r.status == 3, "\(args)")
      #expect(r.stderr.contains("INFRA_TOKEN is in group infrastructure-credentials here, but coffer.yaml puts it in api-keys"), "\(args): \(r.stderr)")
      #expect(try team.vaultBytes == before, "\(args)")
    }
    #expect(team.run("bob", ["get", "INFRA_TOKEN", "--env", "production"]).status == 3)
  }

  @Test func aDemotedReaderCannotPutBackTheKeyTheyKept() throws {
    let team = try Team()
    let kept = try team.vaultBytes
    // bob goes from reading api-keys to writing it only: the approval re-keys api-keys at epoch 5.
    var yaml = String(decoding: try team.box.read("coffer.yaml"), as: UTF8.self)
    yaml = yaml.replacingOccurrences(
      of: "groups: [api-keys], recipients: [bob] }", with: "groups: [api-keys], recipients: [bob], write_only: true }")
    try team.box.write("coffer.yaml", yaml)
    let approve = team.run("alice", ["access", "approve"])
    #expect(approve.status == 0, "\(approve.stderr)")
    #expect(approve.stderr.contains("production: re-keyed api-keys"))
    // bob, now a writer of api-keys, puts back the api-keys key block he could open, and seals the group himself.
    let old = try VaultFile.open(kept, file: "v", with: [try team.identity("bob")], trust: try team.chain(), allowRolledBack: true)
    try team.tamper(as: "bob") { vault, _ in
      vault.slots["api-keys"] = old.slots["api-keys"]
      vault.records["API_KEY"] = old.records["API_KEY"]
    }
    let r = team.run("alice", ["set", "API_KEY", "--env", "production"], stdin: "api-v2")
    #expect(r.status == 3)
    #expect(r.stderr.contains("key api-keys was wrapped at policy epoch 4, before the revocation at epoch 5"))
  }

  @Test func grantAndRevokeDoNotSignOtherPendingEdits() throws {
    let team = try Team()
    var yaml = String(decoding: try team.box.read("coffer.yaml"), as: UTF8.self)
    yaml = yaml.replacingOccurrences(of: "admins: [alice]", with: "  mallory: \(team.line("mallory"))\nadmins: [alice]")
    yaml = yaml.replacingOccurrences(of: "groups: [infrastructure-credentials], recipients: [dave]", with: "groups: [infrastructure-credentials], recipients: [dave, mallory]")
    try team.box.write("coffer.yaml", yaml)
    let policy = try team.box.read(".coffer/policy")
    for args in [
      ["access", "revoke", "bob", "--groups", "api-keys", "--env", "production"],
      ["access", "grant", "bob", "--groups", "database-credentials", "--env", "production"],
      ["access", "add-recipient", "erin", team.line("bob")],
    ] {
      let r = team.run("alice", args)
      #expect(r.status == 2, "\(args)")
      #expect(r.stderr.contains("coffer.yaml has access policy changes nobody approved"), "\(args): \(r.stderr)")
      #expect(r.stderr.contains("+ member mallory age1"), "\(args)")
      #expect(try team.box.read(".coffer/policy") == policy, "\(args)")
    }
  }

  @Test func onlyTheMigrationAttestsForSomeoneElse() throws {
    let team = try Team()
    #expect(team.run("dave", ["set", "INFRA_TOKEN", "--env", "production"], stdin: "infra-by-dave").status == 0)
    try team.tamper(as: "dave") { vault, signer in
      var record = vault.records["INFRA_TOKEN"]!
      let v = record.versions[0]
      let parts = VaultV2.parts(of: v.attestation!)!
      let signature = signer.identity.sign(
        VaultV2.versionMessage(
          project: signer.project, environment: "production", name: "INFRA_TOKEN", number: v.number, created: v.created,
          author: "alice", restores: v.restores, originEpoch: parts.originEpoch, commitment: parts.commitment))
      record.versions[0] = SecretVersion(
        number: v.number, created: v.created, author: "alice", sealed: v.sealed, generation: v.generation,
        restores: v.restores,
        attestation: VaultV2.attestation(commitment: parts.commitment, originEpoch: parts.originEpoch, signature: signature, migratedBy: "dave"))
      vault.records["INFRA_TOKEN"] = record
    }
    let r = team.run("alice", ["history", "INFRA_TOKEN", "--env", "production"])
    #expect(r.status == 3)
    #expect(r.stderr.contains("INFRA_TOKEN version 2: the signature of its author alice does not verify"))
  }

  // MARK: 6. Hide a recipient

  @Test func aKeyWrappedToMoreRecipientsThanListedIsRefused() throws {
    let team = try Team()
    let ids = try ["alice", "bob", "mallory"].map { try team.identity($0) }
    try team.tamper(as: "bob") { vault, signer in
      let key = vault.slots["api-keys"]!.key!
      var slot = try Vault.wrap(key, to: ids.map(\.recipient), file: "v")
      slot.recipients = [ids[0], ids[1]].map(\.recipient.encoded).sorted()
      slot.signer = "bob"
      slot.epoch = signer.epoch
      slot.signature = signer.identity.sign(
        VaultV2.keyMessage(project: signer.project, environment: "production", slot: "api-keys", epoch: signer.epoch, wrapped: slot.wrapped, recipients: slot.recipients))
      vault.slots["api-keys"] = slot
    }
    let r = team.run("alice", ["get", "API_KEY", "--env", "production"])
    #expect(r.status == 3)
    #expect(r.stderr.contains("key api-keys is not wrapped to exactly the recipients its `to` lines list"))
  }

  @Test func anArmoredOrScryptWrapIsRefused() throws {
    for variant in ["armor", "scrypt"] {
      let team = try Team()
      try team.tamper(as: "bob") { vault, signer in
        var slot = vault.slots["api-keys"]!
        if variant == "armor" {
          slot.wrapped = Array("-----BEGIN AGE ENCRYPTED FILE-----\n".utf8) + slot.wrapped
        } else {
          slot.wrapped = Array(String(decoding: slot.wrapped, as: UTF8.self).replacingOccurrences(of: "-> X25519", with: "-> scrypt").utf8)
        }
        slot.signature = signer.identity.sign(
          VaultV2.keyMessage(project: signer.project, environment: "production", slot: "api-keys", epoch: signer.epoch, wrapped: slot.wrapped, recipients: slot.recipients))
        slot.signer = "bob"
        slot.epoch = signer.epoch
        vault.slots["api-keys"] = slot
      }
      let r = team.run("alice", ["get", "API_KEY", "--env", "production"])
      #expect(r.status == 3, "\(variant)")
      #expect(r.stderr.contains("key api-keys is not wrapped to exactly the recipients its `to` lines list") || r.stderr.contains("is listed for this identity but does not open"), "\(variant): \(r.stderr)")
    }
  }

  // MARK: 7. Confirm guesses

  @Test func fingerprintsAreKeyedPerGroup() throws {
    let team = try Team()
    #expect(team.run("alice", ["set", "DB_PASSWORD", "--env", "production"], stdin: "same-guessable").status == 0)
    #expect(team.run("alice", ["set", "API_KEY", "--env", "production"], stdin: "same-guessable").status == 0)
    let alice = try VaultFile.open(try team.vaultBytes, file: "v", with: [try team.identity("alice")], trust: try team.chain())
    let bob = try VaultFile.open(try team.vaultBytes, file: "v", with: [try team.identity("bob")], trust: try team.chain())
    let value = SecretValue("same-guessable")
    let db = alice.fingerprint(of: value, name: "DB_PASSWORD")
    #expect(db != alice.fingerprint(of: value, name: "API_KEY"))
    // bob reads api-keys only: what he can compute for a database-credentials name matches nothing recorded.
    #expect(bob.fingerprint(of: value, name: "API_KEY") == alice.fingerprint(of: value, name: "API_KEY"))
    #expect(bob.fingerprint(of: value, name: "DB_PASSWORD") != db)
    #expect(bob.fingerprint(of: value) != alice.fingerprint(of: value))
  }

  // MARK: 8. Lenient reading

  @Test func aCorruptedKeyListedForMeIsDamageNotNoAccess() throws {
    let team = try Team()
    try team.tamper(as: "bob") { vault, signer in
      var slot = vault.slots["api-keys"]!
      slot.wrapped[slot.wrapped.count - 1] ^= 1
      slot.signature = signer.identity.sign(
        VaultV2.keyMessage(project: signer.project, environment: "production", slot: "api-keys", epoch: signer.epoch, wrapped: slot.wrapped, recipients: slot.recipients))
      slot.signer = "bob"
      slot.epoch = signer.epoch
      vault.slots["api-keys"] = slot
    }
    let r = team.run("alice", ["get", "API_KEY", "--env", "production"])
    #expect(r.status == 3)
    #expect(r.stderr.contains("key api-keys is listed for this identity but does not open"))
    #expect(!r.stderr.contains("ask one of them"))
  }

  @Test func anExposureBeyondTheNewestVersionIsRefused() throws {
    let team = try Team()
    try team.tamper(as: "bob") { vault, _ in
      vault.records["API_KEY"]!.exposure = SecretExposure(throughVersion: 99, time: Timestamp(rfc3339: "2026-01-01T00:00:00Z")!, recipient: "x")
    }
    let r = team.run("alice", ["get", "API_KEY", "--env", "production"])
    #expect(r.status == 3)
    #expect(r.stderr.contains("secret API_KEY: exposed through version 99, beyond its newest version 1"))
  }

  @Test func anotherProjectsVaultIsRefused() throws {
    let team = try Team()
    // alice's other project, with an environment of the same name.
    let other = team.box.dir.appendingPathComponent("other")
    try FileManager.default.createDirectory(at: other, withIntermediateDirectories: true)
    #expect(team.box.run(["init", "--name", "alice", "--environments", "production"], cwd: other).status == 0)
    #expect(team.box.run(["set", "API_KEY", "--env", "production", "--undeclared"], stdin: Data("other".utf8), cwd: other).status == 0)
    try team.box.write(team.vaultFile, try Data(contentsOf: other.appendingPathComponent(".coffer/vault/production.vault")))
    let r = team.run("alice", ["get", "API_KEY", "--env", "production"])
    #expect(r.status == 3)
    #expect(r.stderr.contains("the vault belongs to another project"))
  }

  @Test func anInvalidToLineIsMalformed() throws {
    let team = try Team()
    var text = String(decoding: try team.vaultBytes, as: UTF8.self)
    let bob = try team.identity("bob").recipient.encoded
    text = text.replacingOccurrences(of: " to \(bob)", with: " to age1notarecipient")
    try team.box.write(team.vaultFile, text)
    let r = team.run("alice", ["get", "API_KEY", "--env", "production"])
    #expect(r.status == 3)
    #expect(r.stderr.contains("malformed vault") || r.stderr.contains("vault authentication failed"))
  }

  @Test func aFormatOneVaultInAVersionTwoProjectIsRefused() throws {
    let team = try Team()
    let alice = try team.identity("alice")
    var v1 = try Vault.create(environment: "production", recipients: [alice.recipient], file: "v")
    try v1.set("API_KEY", to: SecretValue("downgraded"), group: "api-keys", author: "alice", at: Timestamp(rfc3339: "2026-01-01T00:00:00Z")!)
    try team.box.write(team.vaultFile, Data(VaultFile.seal(v1)))
    let r = team.run("alice", ["get", "API_KEY", "--env", "production"])
    #expect(r.status == 3)
    #expect(r.stderr.contains("a format-1 vault in a project with a signed access policy"))
  }
}

@Suite struct TrustMigrationTests {
  /// A v1 team project (hand-written recipients, no policy): warned once per command, then migrated; history and
  /// values survive, and the warning can be acknowledged.
  @Test func aVersionOneProjectIsWarnedThenMigrated() throws {
    let g = try GovernanceBox()
    g.box.extraEnvironment["COFFER_TRUST_V1"] = nil
    let warned = g.box.run(["get", "API_KEY", "--env", "production"])
    #expect(warned.status == 0)
    #expect(warned.out == GovernanceBox.api + "\n")
    #expect(warned.stderr == "coffer: warning: .coffer/vault/production.vault uses vault format 1 (trust model v1): writers are not authenticated and coffer.yaml's access rules apply without approval; `coffer migrate` moves the project to v2\n")
    let quiet = g.box.run(["get", "API_KEY", "--env", "production"], env: ["COFFER_TRUST_V1": "acknowledged"])
    #expect(quiet.stderr.isEmpty)
    let before = try g.box.read(".coffer/vault/production.vault")
    let plan = g.box.run(["migrate"])
    #expect(plan.status == 0, "\(plan.stderr)")
    #expect(plan.stderr.contains("would coffer.yaml: add your signing key to recipients.alice"))
    #expect(plan.stderr.contains("would .coffer/vault/production.vault: rewrite in format 2 (2 secret(s))"))
    #expect(plan.stderr.contains("nothing written; run `coffer migrate --yes` to do it"))
    #expect(try g.box.read(".coffer/vault/production.vault") == before)
    #expect(!g.box.exists(".coffer/policy"))
    let done = g.box.run(["migrate", "--yes"])
    #expect(done.status == 0, "\(done.stderr)")
    #expect(g.box.exists(".coffer/policy"))
    #expect(String(decoding: try g.box.read(".coffer/vault/production.vault"), as: UTF8.self).hasPrefix("coffer-vault v2\nproject "))
    let after = g.box.run(["get", "API_KEY", "--env", "production"])
    #expect(after.out == GovernanceBox.api + "\n")
    #expect(after.stderr.isEmpty, "\(after.stderr)")
    let history = g.box.run(["history", "API_KEY", "--env", "production"])
    #expect(history.status == 0, "\(history.stderr)")
    #expect(history.out.contains("author recorded before signing; attested by alice at migration"))
    // dave has no signing key published yet: he reads what he was given but cannot write.
    let daveGet = g.asDave(["get", "API_KEY", "--env", "production"])
    #expect(daveGet.out == GovernanceBox.api + "\n")
    let daveSet = g.asDave(["set", "API_KEY", "--env", "production"], stdin: Data("sk-x".utf8))
    #expect(daveSet.status == 3)
    #expect(daveSet.stderr.contains("dave has no signing key in the approved policy, so cannot write"))
  }
}
