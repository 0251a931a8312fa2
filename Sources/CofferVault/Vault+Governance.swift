import CofferCore
import Crypto

extension Vault {
  /// The revocation recorded on a secret, if any (whether or not its current value is still affected).
  /// - Parameter name: the secret's name.
  public func exposure(of name: String) -> SecretExposure? { record(named: name)?.exposure }

  /// Whether a secret must be rotated because someone who could read its current value lost access.
  /// - Parameter name: the secret's name.
  /// - Returns: who lost access and when, or `nil` when the current value was recorded after that (or no access
  ///   was ever revoked, or there is no such secret).
  public func needsRotation(_ name: String) -> RevocationMark? {
    record(named: name).flatMap(needsRotation)
  }

  /// ``needsRotation(_:)`` of a record in hand.
  func needsRotation(_ record: Record) -> RevocationMark? {
    guard let current = record.versions.first, let exposure = effectiveExposure(record), exposure.covers(current)
    else { return nil }
    return RevocationMark(recipient: exposure.recipient, time: exposure.time)
  }

  /// The exposure that applies to a secret: the file's `exposed` line, or, in a format-2 vault read against the
  /// policy chain, the newest reader removal of its group, covering every kept version whose value was first
  /// recorded at an earlier epoch (signed in each version's attestation). Deleting `exposed` lines therefore does
  /// not hide a needed rotation.
  public func effectiveExposure(_ name: String) -> SecretExposure? {
    record(named: name).flatMap(effectiveExposure)
  }

  /// ``effectiveExposure(_:)`` of a record in hand.
  func effectiveExposure(_ record: Record) -> SecretExposure? {
    guard let removal = v2?.removals[record.group] else { return record.exposure }
    let exposedVersions = record.versions.filter { v in
      guard let a = v.attestation, let parts = VaultV2.parts(of: a) else { return false }
      return parts.originEpoch < removal.epoch
    }
    guard let through = exposedVersions.map(\.originNumber).max() ?? exposedVersions.map(\.number).max() else {
      return record.exposure
    }
    let computed = SecretExposure(
      throughVersion: max(through, record.exposure?.throughVersion ?? 0), time: removal.time,
      recipient: VaultGrammar.sanitizeAuthor(removal.members.joined(separator: ",")))
    return computed
  }

  /// Every secret's current state, in name order, in one walk of the records (for `check`, instead of a lookup a
  /// name for each question): whether this identity can read its current value (``isReadable(_:version:)``), and
  /// the revocation that makes it need rotation (``needsRotation(_:)``), if any.
  public func currentStates() -> [(name: String, readable: Bool, rotation: RevocationMark?)] {
    // Secrets of one group usually follow each other: the key is looked up once per run of one group and generation.
    var last: (group: String, generation: Int, readable: Bool)?
    return recordsInOrder.map { name, record in
      guard let current = record.versions.first else { return (name, false, nil) }
      let readable: Bool
      if let last, last.generation == current.generation, last.group == record.group {
        readable = last.readable
      } else {
        readable = key(of: current, group: record.group) != nil
        last = (record.group, current.generation, readable)
      }
      return (name, readable, needsRotation(record))
    }
  }

  /// The readable metadata of every secret, with ``effectiveExposure(_:)``: what `history` and `rotate status` show
  /// once the file is verified.
  public func summaryEntries() -> [VaultSummary.Entry] {
    names.compactMap { name in
      records[name].map { VaultSummary.Entry(name: name, group: $0.group, versions: $0.versions, exposure: effectiveExposure(name)) }
    }
  }

  /// What rotation status needs to know about every secret (metadata only).
  /// - Returns: one entry per secret, sorted by name.
  public func rotationFacts() -> [RotationFacts] {
    recordsInOrder.compactMap { name, record in
      guard let current = record.versions.first else { return nil }
      return RotationFacts(
        name: name, group: record.group, lastRotated: current.valueSince, revoked: needsRotation(record))
    }
  }

  /// Replaces a group's data key with a fresh one and re-seals every kept version of every secret in it.
  ///
  /// Every generation collapses into one new generation-1 key wrapped to the group's readers (the policy set with
  /// ``useRecipients(forSlot:)`` or ``rewrap(_:)``). Version numbers, dates, authors and rollback origins are kept;
  /// only the sealed bytes and key lines change. Ciphertexts made from now on cannot be opened with any earlier key.
  /// - Parameter group: the group name.
  /// - Returns: the names of the secrets re-sealed, sorted.
  /// - Throws: ``VaultError`` ``VaultError/Code/groupNotReadable`` when some generation of the group's key cannot be
  ///   unwrapped with this identity, ``VaultError/Code/noRecipients`` when nobody may read the group,
  ///   ``VaultError/Code/authenticationFailed`` when a stored version does not verify.
  @discardableResult
  public mutating func rekey(group: String) throws(VaultError) -> [String] {
    guard canRead(group: group) else { throw VaultError(.groupNotReadable, file: file, detail: group) }
    let recipients = wrapTo(group)
    guard !recipients.isEmpty else { throw VaultError(.noRecipients, file: file, detail: group) }
    let fresh = SymmetricKey(size: .bits256)
    var resealed: [String] = []
    for name in names {
      guard var record = records[name], record.group == group else { continue }
      var versions: [SecretVersion] = []
      for v in record.versions {
        guard let old = key(of: v, group: group) else { throw VaultError(.groupNotReadable, file: file, detail: group) }
        versions.append(try reseal(v, name: name, from: old, to: fresh, generation: 1))
      }
      record.versions = versions
      records[name] = record
      resealed.append(name)
    }
    for generation in generations(ofGroup: group) {
      slots[VaultGrammar.slotName(group: group, generation: generation)] = nil
    }
    slots[group] = try wrapSigned(fresh, slot: group, to: recipients)
    return resealed
  }

  /// Replaces the environment key (which keys the file MAC and the value fingerprints) with a fresh one wrapped to
  /// the policy's recipients for `*`.
  ///
  /// Someone who kept the old key can no longer produce a MAC this vault accepts. Fingerprints made under the old
  /// key (audit lines, sync state) no longer match new ones.
  /// - Throws: ``VaultError`` ``VaultError/Code/noRecipients`` when nobody may open the environment.
  public mutating func rekeyEnvironment() throws(VaultError) {
    let recipients = wrapTo(VaultGrammar.environmentSlot)
    guard !recipients.isEmpty else { throw VaultError(.noRecipients, file: file, detail: VaultGrammar.environmentSlot) }
    let fresh = SymmetricKey(size: .bits256)
    slots[VaultGrammar.environmentSlot] = try wrapSigned(fresh, slot: VaultGrammar.environmentSlot, to: recipients)
    envKey = fresh
  }

  /// Records that a reader of a group lost access: every secret in the group needs rotation until it gets a value
  /// recorded after now (a rollback to an older value needs rotation again).
  /// - Parameters:
  ///   - group: the group name.
  ///   - recipient: who lost access (a manifest name or `age1…`; characters outside the author alphabet become
  ///     `_`).
  ///   - time: when.
  ///   - except: names not to mark (plain settings, `secret: false`, which need no rotation).
  /// - Returns: the names of the secrets marked, sorted.
  @discardableResult
  public mutating func markExposed(group: String, to recipient: String, at time: Timestamp, except: Set<String> = []) -> [String] {
    var marked: [String] = []
    for name in names where !except.contains(name) {
      guard var record = records[name], record.group == group, let newest = record.versions.first else { continue }
      let through = max(newest.number, record.exposure?.throughVersion ?? 0)
      record.exposure = SecretExposure(
        throughVersion: through, time: time, recipient: VaultGrammar.sanitizeAuthor(recipient))
      records[name] = record
      marked.append(name)
    }
    return marked
  }

  /// Makes a kept version's value current again as a new version (a rollback).
  ///
  /// The new version records where its value came from (``SecretVersion/restores``), so its "last rotated" date
  /// stays the original one and a value exposed by a revocation still needs rotation.
  /// - Parameters:
  ///   - name: the secret's name.
  ///   - version: the kept version to restore.
  ///   - author: who does it.
  ///   - time: when.
  /// - Returns: the new version number.
  /// - Throws: ``VaultError`` ``VaultError/Code/notFound`` when the secret or version is not kept,
  ///   ``VaultError/Code/groupNotReadable`` when this identity cannot open that version,
  ///   ``VaultError/Code/authenticationFailed`` when it does not verify.
  @discardableResult
  public mutating func restore(
    _ name: String, version: Int, author: String, at time: Timestamp
  ) throws(VaultError) -> Int {
    guard var record = records[name] else { throw VaultError(.notFound, file: file, detail: name) }
    guard let old = record.versions.first(where: { $0.number == version }) else {
      throw VaultError(.notFound, file: file, detail: "\(name) version \(version)")
    }
    guard let oldKey = key(of: old, group: record.group) else {
      throw VaultError(.groupNotReadable, file: file, detail: "\(record.group) (secret \(name))")
    }
    let plain = try open(old, name: name, key: oldKey)
    let (key, generation) = try writingKey(for: record.group)
    let originEpoch = old.attestation.flatMap { VaultV2.parts(of: $0)?.originEpoch }
    let number = try Vault.number(after: record.versions.first?.number, what: "the version of \(name)", file: file)
    let entry = try seal(
      plain, name: name, number: number, created: time, author: VaultGrammar.sanitizeAuthor(author), key: key,
      generation: generation, restores: VersionOrigin(number: old.originNumber, created: old.valueSince),
      originEpoch: originEpoch)
    record.versions.insert(entry, at: 0)
    if record.versions.count > Vault.retainedVersions {
      record.versions.removeLast(record.versions.count - Vault.retainedVersions)
    }
    records[name] = record
    pruneKeyGenerations()
    return number
  }
}
