import CofferCore
import Crypto

/// Who writes a format-2 vault: a member of the approved policy, with their signing identity.
public struct VaultSigner: Sendable {
  /// The member's name in the policy.
  public let name: String
  /// The member's signing identity (derived from their age identity).
  public let identity: SigningIdentity
  /// The project the policy chain belongs to.
  public let project: String
  /// The head epoch of the policy chain: written into the seals this writer makes.
  public let epoch: Int
  /// The approved policy.
  public let policy: PolicyBody

  /// Creates a signer.
  /// - Parameters:
  ///   - name: the member's name.
  ///   - identity: their signing identity.
  ///   - chain: the verified policy chain (its project and head epoch and policy are used).
  public init(name: String, identity: SigningIdentity, chain: PolicyChain) {
    self.name = name
    self.identity = identity
    project = chain.project
    epoch = chain.head.epoch
    policy = chain.head.policy
  }
}

/// Trust model v2 constructions of the vault format (docs/vault-format.md, version 2).
public enum VaultV2 {
  /// The first line of a format-2 vault.
  public static let magic = "coffer-vault v2"
  /// Bytes of random salt before each value's plaintext.
  static let saltCount = 16

  /// A group's seal: the writer who last changed the group, the policy epoch they wrote under, and their signature
  /// over the group's lines.
  struct GroupSeal: Sendable, Equatable {
    var epoch: Int
    var signer: String
    var signature: [UInt8]
  }

  struct State: Sendable {
    var project: String
    var seals: [String: GroupSeal]
    /// Each group's lines when the file was read.
    var groupLines: GroupLines
    /// The digest of each group's lines when the file was read: a group whose lines are unchanged keeps its seal.
    var sealedDigests: [String: [UInt8]] { groupLines.digests }
    var signer: VaultSigner?
    /// Per group, the newest removal of a reader in the policy chain (epoch, who, when): values first recorded at an
    /// earlier epoch were readable by them and need rotation, whatever the file's `exposed` lines say.
    var removals: [String: PolicyChain.Removal] = [:]

    init(project: String, seals: [String: GroupSeal], groupLines: GroupLines, signer: VaultSigner?) {
      self.project = project
      self.seals = seals
      self.groupLines = groupLines
      self.signer = signer
    }

    init(project: String, seals: [String: GroupSeal], sealedDigests: [String: [UInt8]], signer: VaultSigner?) {
      self.init(project: project, seals: seals, groupLines: GroupLines(digests: sealedDigests), signer: signer)
    }
  }

  static func commitment(plaintext: [UInt8]) -> [UInt8] {
    var m = SignedMessage("coffer-vault/v2 commit")
    m.add(raw: plaintext)
    return sha256(m.bytes)
  }

  static func keyMessage(
    project: String, environment: String, slot: String, epoch: Int, wrapped: [UInt8], recipients: [String]
  ) -> [UInt8] {
    var m = SignedMessage("coffer-vault/v2 key")
    m.add(project)
    m.add(environment)
    m.add(slot)
    m.add(String(epoch))
    // Joined by hand: the generic `joined(separator:)` makes the runtime search every conformance in the binary on
    // first use, on `run`'s path (docs/performance.md).
    var list = ""
    for (i, r) in recipients.enumerated() {
      if i > 0 { list += "," }
      list += r
    }
    m.add(list)
    m.add(raw: sha256(wrapped))
    return m.bytes
  }

  /// `commitment (32) ‖ origin epoch (4, big-endian) ‖ signature (64)`, then `migrated:MEMBER` for a migrated one.
  static func attestation(commitment: [UInt8], originEpoch: Int, signature: [UInt8], migratedBy: String? = nil) -> [UInt8] {
    let e = UInt32(clamping: originEpoch)
    return commitment + [UInt8(e >> 24), UInt8((e >> 16) & 0xFF), UInt8((e >> 8) & 0xFF), UInt8(e & 0xFF)] + signature
      + (migratedBy.map { Array("migrated:\($0)".utf8) } ?? [])
  }

  /// The parts of an attestation, or `nil` when it is too short.
  static func parts(of a: [UInt8]) -> (commitment: [UInt8], originEpoch: Int, signature: [UInt8], tail: [UInt8])? {
    guard a.count >= 100 else { return nil }
    let epoch = Int(a[32]) << 24 | Int(a[33]) << 16 | Int(a[34]) << 8 | Int(a[35])
    return (Array(a[0..<32]), epoch, Array(a[36..<100]), Array(a[100...]))
  }

  static func versionMessage(
    project: String, environment: String, name: String, number: Int, created: Timestamp, author: String,
    restores: VersionOrigin?, originEpoch: Int, commitment: [UInt8]
  ) -> [UInt8] {
    var m = SignedMessage("coffer-vault/v2 version")
    m.add(project)
    m.add(environment)
    m.add(name)
    m.add(String(number))
    m.add(created.rfc3339)
    m.add(author)
    m.add(restores.map { "\($0.number)@\($0.created.rfc3339)" } ?? "-")
    m.add(String(originEpoch))
    m.add(raw: commitment)
    return m.bytes
  }

  static func sealMessage(project: String, environment: String, group: String, epoch: Int, digest: [UInt8]) -> [UInt8] {
    var m = SignedMessage("coffer-vault/v2 seal")
    m.add(project)
    m.add(environment)
    m.add(group)
    m.add(String(epoch))
    m.add(raw: digest)
    return m.bytes
  }

  /// Whether a wrapped key is a binary age v1 file whose header has exactly `count` X25519 stanzas and nothing else.
  static func isStrictWrap(_ wrapped: [UInt8], count: Int) -> Bool {
    guard wrapped.starts(with: Array("\(AgeHeader.versionLine)\n".utf8)),
      let parsed = try? AgeHeader.parse(wrapped)
    else { return false }
    return parsed.header.stanzas.count == count && parsed.header.stanzas.allSatisfy { $0.type == "X25519" }
  }
}

/// How the author of a version checks out (``Vault/authorship(of:version:chain:)``).
public enum Authorship: Sendable, Equatable {
  /// Format 1: authors are not signed.
  case unsigned
  /// The author's signature verifies, and the value matches what they signed when this identity could open it.
  case verified
  /// The signature does not verify under any key the policy ever published for the author.
  case forged
}

extension Vault {
  /// The project this vault is bound to (format 2), else `nil`.
  public var project: String? { v2?.project }

  /// Sets who writes this vault from now on (format 2), or converts a format-1 vault to format 2 (`coffer migrate`):
  /// every key is re-wrapped and signed, every version re-sealed with a salt and attested by `signer` as migrated.
  /// - Parameter signer: the writer.
  /// - Throws: ``VaultError`` `.invalidName` when the vault belongs to another project; when converting,
  ///   `.groupNotReadable` if some group cannot be read (every value must be re-sealed).
  public mutating func useSigner(_ signer: VaultSigner) throws(VaultError) {
    if v2 != nil {
      guard v2?.project == signer.project else {
        throw VaultError(.authenticationFailed, file: file, detail: "the vault belongs to another project")
      }
      v2?.signer = signer
      return
    }
    // Migration from format 1: open everything under the old rules, then write it again under format 2.
    for group in groups where !canRead(group: group) {
      throw VaultError(.groupNotReadable, file: file, detail: group)
    }
    var plain: [String: [(SecretVersion, SecretValue)]] = [:]
    for name in names {
      guard let record = records[name] else { continue }
      var list: [(SecretVersion, SecretValue)] = []
      for v in record.versions {
        guard let k = key(of: v, group: record.group) else { throw VaultError(.groupNotReadable, file: file, detail: record.group) }
        list.append((v, try open(v, name: name, key: k)))
      }
      plain[name] = list
    }
    v2 = VaultV2.State(project: signer.project, seals: [:], sealedDigests: [:], signer: signer)
    var keys: [String: SymmetricKey] = [:]
    for group in groups { keys[group] = SymmetricKey(size: .bits256) }
    slots = [:]
    envKey = SymmetricKey(size: .bits256)
    slots[VaultGrammar.environmentSlot] = try wrapSigned(envKey, slot: VaultGrammar.environmentSlot, to: wrapTo(VaultGrammar.environmentSlot))
    for (group, k) in keys { slots[group] = try wrapSigned(k, slot: group, to: wrapTo(group)) }
    for name in names {
      guard var record = records[name], let k = keys[record.group] else { continue }
      var versions: [SecretVersion] = []
      for (v, value) in plain[name] ?? [] {
        // The migrating member attests every kept version; the recorded author stays as it was, marked in history
        // as migrated (docs/vault-format.md, "Migration").
        let salt = AgeCrypto.randomBytes(VaultV2.saltCount)
        let bytes = salt + value.reveal()
        let commitment = VaultV2.commitment(plaintext: bytes)
        let signature = signer.identity.sign(
          VaultV2.versionMessage(
            project: signer.project, environment: environment, name: name, number: v.number, created: v.created,
            author: v.author, restores: v.restores, originEpoch: 0, commitment: commitment))
        versions.append(
          try sealRaw(
            bytes, name: name, number: v.number, created: v.created, author: v.author, key: k, generation: 1,
            restores: v.restores,
            storedAttestation: .decoded(
              VaultV2.attestation(commitment: commitment, originEpoch: 0, signature: signature, migratedBy: signer.name))))
      }
      record.versions = versions
      records[name] = record
    }
  }

  /// Checks a version's recorded author (format 2): the author's signature over the version's metadata and value
  /// commitment, under any signing key the policy chain ever published for them, and, when this identity can open
  /// the version, that the value is the one committed to.
  /// - Parameters:
  ///   - name: the secret's name.
  ///   - version: the version number.
  ///   - chain: the verified policy chain.
  /// - Returns: ``Authorship/unsigned`` for format 1; `.verified` or `.forged`; and who attested it when a
  ///   migration did (the original author's name is then as format 1 recorded it).
  public func authorship(of name: String, version: Int, chain: PolicyChain) -> (Authorship, migratedBy: String?) {
    guard let v2, let record = records[name], let v = record.versions.first(where: { $0.number == version }) else {
      return (.unsigned, nil)
    }
    guard let attestation = v.attestation, let parts = VaultV2.parts(of: attestation) else { return (.forged, nil) }
    let commitment = parts.commitment
    let signature = parts.signature
    var attester = v.author
    var migratedBy: String?
    if !parts.tail.isEmpty {
      let tail = String(decoding: parts.tail, as: UTF8.self)
      guard tail.hasPrefix("migrated:") else { return (.forged, nil) }
      attester = String(tail.dropFirst(9))
      migratedBy = attester
      // Only `coffer migrate` attests for someone else: the member who signed policy record 1, for versions
      // recorded before it.
      guard let genesis = chain.records.first, attester == genesis.signer, v.created <= genesis.time else {
        return (.forged, migratedBy)
      }
    }
    let message = VaultV2.versionMessage(
      project: v2.project, environment: environment, name: name, number: v.number, created: v.created, author: v.author,
      restores: v.restores, originEpoch: parts.originEpoch, commitment: commitment)
    guard chain.signingKeys(of: attester).contains(where: { $0.verify(signature, of: message) }) else {
      return (.forged, migratedBy)
    }
    if let k = key(of: v, group: record.group) {
      guard let plain = try? openRaw(v, name: name, key: k), VaultV2.commitment(plaintext: plain) == commitment else {
        return (.forged, migratedBy)
      }
    }
    return (.verified, migratedBy)
  }

  /// Format 2: the key new values of a group are sealed under (docs/vault-format.md, "Writing"). Readers use
  /// generation 1 when a reader created it and it is wrapped to readers only (re-wrapping it to readers added
  /// since); anyone else, or a reader when generation 1 is unusable, seals under a fresh generation of their own.
  mutating func writingKeyV2(for group: String) throws(VaultError) -> (SymmetricKey, Int) {
    guard let signer = v2?.signer else { throw VaultError(.invalidName, file: file, detail: "no signing identity to write with") }
    guard signer.policy.canWrite(signer.name, environment: environment, group: group) else {
      throw VaultError(.notPermitted, file: file, detail: "\(signer.name) may not write group \(group) in \(environment)")
    }
    let readers = wrapTo(group)
    guard !readers.isEmpty else { throw VaultError(.noRecipients, file: file, detail: group) }
    let wanted = readers.map(\.encoded).sorted(by: utf8Less)
    let isReader = signer.policy.canRead(signer.name, environment: environment, group: group)
    if isReader {
      if let first = slots[group], let key = first.key, let by = first.signer,
        signer.policy.canRead(by, environment: environment, group: group),
        first.recipients.allSatisfy(wanted.contains)
      {
        if first.recipients != wanted { slots[group] = try wrapSigned(key, slot: group, to: readers) }
        return (key, 1)
      }
      if slots[group] == nil {
        let key = SymmetricKey(size: .bits256)
        slots[group] = try wrapSigned(key, slot: group, to: readers)
        return (key, 1)
      }
    }
    let newest = generations(ofGroup: group).last
    let generation = try Vault.number(after: max(newest ?? 1, 1), what: "the key generation of \(group)", file: file)
    let key = SymmetricKey(size: .bits256)
    let slot = VaultGrammar.slotName(group: group, generation: generation)
    slots[slot] = try wrapSigned(key, slot: slot, to: readers)
    return (key, generation)
  }

  /// Format 2: checks every signature and rule of the file against the approved policy (docs/vault-format.md,
  /// "Reading", steps 5–8). Called by ``VaultFile/open(_:file:with:trust:)``.
  /// - Parameter digests: each group's digest, to verify its seal's signature; nil when the memo vouches that this
  ///   identity verified these exact bytes' seals under `chain`'s head (every other check is still made).
  mutating func verifyTrust(_ chain: PolicyChain, digests: [String: [UInt8]]?, allowRolledBack: Bool = false) throws(VaultError) {
    guard let v2 else { return }
    let policy = chain.head.policy
    guard v2.project == chain.project else {
      throw VaultError(.authenticationFailed, file: file, detail: "the vault belongs to another project (\(v2.project))")
    }
    func refuse(_ what: String) -> VaultError { VaultError(.authenticationFailed, file: file, detail: what) }
    let environmentMemberList = policy.members.filter { m in
      policy.rules == nil
        || policy.rules!.contains { $0.environments.matches(environment) && $0.recipients.matches(m.name) }
    }
    let environmentMembers = Set(environmentMemberList.map(\.recipient))
    let environmentMembersByName = Set(environmentMemberList.map(\.name))
    for group in groups {
      guard let seal = v2.seals[group] else { throw refuse("group \(group) has no seal") }
      guard policy.canWrite(seal.signer, environment: environment, group: group) || policy.isAdmin(seal.signer),
        let key = policy.member(seal.signer)?.signingKey
      else {
        throw refuse("group \(group) was last written by \(seal.signer), who may not write it in \(environment)")
      }
      if let digests {
        guard let digest = digests[group],
          key.verify(seal.signature, of: VaultV2.sealMessage(project: v2.project, environment: environment, group: group, epoch: seal.epoch, digest: digest))
        else {
          throw refuse("group \(group): the seal of \(seal.signer) does not verify (the group's lines were changed by someone else)")
        }
      }
      guard seal.epoch <= chain.head.epoch else { throw refuse("group \(group) is sealed at epoch \(seal.epoch), after the policy's newest") }
      let removal = chain.lastReaderRemoval(environment: environment, group: group)
      guard seal.epoch >= removal || allowRolledBack else {
        throw VaultError(
          .rolledBack, file: file,
          detail: "group \(group) was written at policy epoch \(seal.epoch), before the revocation at epoch \(removal)")
      }
    }
    for (slotName, slot) in slots {
      guard let parsed = VaultGrammar.parseSlot(slotName), let by = slot.signer, let signature = slot.signature,
        let keyEpoch = slot.epoch
      else {
        throw refuse("key \(slotName) is not signed")
      }
      guard keyEpoch <= chain.head.epoch else { throw refuse("key \(slotName) is signed at epoch \(keyEpoch), after the policy's newest") }
      // The exact stanza count was checked by VaultFile.open before any key was tried.
      let message = VaultV2.keyMessage(
        project: v2.project, environment: environment, slot: slotName, epoch: keyEpoch, wrapped: slot.wrapped,
        recipients: slot.recipients)
      let keys = parsed.generation == 1 ? [policy.member(by)?.signingKey].compactMap { $0 } : chain.signingKeys(of: by)
      guard keys.contains(where: { $0.verify(signature, of: message) }) else {
        throw refuse("key \(slotName): the signature of \(by) does not verify")
      }
      if slotName == VaultGrammar.environmentSlot {
        guard policy.member(by) != nil, environmentMembersByName.contains(by) || policy.isAdmin(by) else {
          throw refuse("key *: signed by \(by), who has no access to \(environment)")
        }
        guard slot.recipients.allSatisfy(environmentMembers.contains) || allowRolledBack else {
          throw refuse("key * is wrapped to a recipient who has no access to \(environment)")
        }
        continue
      }
      let readers = Set(policy.members.filter { policy.canRead($0.name, environment: environment, group: parsed.group) }.map(\.recipient))
      if parsed.generation == 1, !policy.canRead(by, environment: environment, group: parsed.group) {
        throw refuse("key \(slotName) was created by \(by), who may not read \(parsed.group) in \(environment)")
      }
      // A group key wrapped before a reader of the group was removed may be one they kept: never accepted (a
      // re-key replaces it at the revocation's epoch).
      let removal = chain.lastReaderRemoval(environment: environment, group: parsed.group)
      if parsed.generation == 1, keyEpoch < removal, !allowRolledBack {
        throw VaultError(
          .rolledBack, file: file,
          detail: "key \(slotName) was wrapped at policy epoch \(keyEpoch), before the revocation at epoch \(removal)")
      }
      guard slot.recipients.allSatisfy(readers.contains) || allowRolledBack else {
        throw refuse("key \(slotName) is wrapped to a recipient who may not read \(parsed.group) in \(environment)")
      }
    }
    for group in v2.seals.keys where !groups.contains(group) { throw refuse("seal of group \(group), which has no key") }
    for group in groups {
      if let r = chain.readerRemoval(environment: environment, group: group) { self.v2?.removals[group] = r }
    }
    for (name, record) in recordsInOrder {
      guard let newest = record.versions.first else { continue }
      if let e = record.exposure, e.throughVersion > newest.number {
        throw refuse("secret \(name): exposed through version \(e.throughVersion), beyond its newest version \(newest.number)")
      }
      for v in record.versions where v.storedAttestation == nil { throw refuse("secret \(name) version \(v.number) is not signed") }
    }
  }
}
