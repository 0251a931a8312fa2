import CofferCore
import Crypto

/// Three-way merge of vault files, for git's merge driver (docs/vault-format.md, "Merging").
///
/// Each secret block and each key slot is merged as a unit: a block changed on one side only takes that side's
/// version; changed identically on both sides it is kept; changed differently on both sides it is a conflict. Both
/// sides must open and verify with the caller's identities and share the same environment key; the result gets a
/// fresh MAC.
public enum VaultMerge {
  /// The outcome of a merge that could not be done automatically.
  public struct Conflict: CofferError, Equatable {
    /// The secrets (or `key GROUP` slots) changed differently on both sides.
    public let names: [String]
    /// The file label.
    public let file: String
    public var description: String { "cannot merge \(file): changed on both sides: \(names.joined(separator: ", "))" }
    public var exitStatus: ExitStatus { .problemsFound }
    public var hints: [String] { ["resolve by setting the value again on the merged branch: coffer set NAME --env ENV"] }
  }

  /// Merges `ours` and `theirs` against their common ancestor.
  /// - Parameters:
  ///   - base: the ancestor's bytes, or `nil` when the file did not exist there.
  ///   - ours: the current branch's bytes.
  ///   - theirs: the other branch's bytes.
  ///   - file: the label for errors.
  ///   - identities: identities that can open both sides.
  /// - Returns: the merged file's bytes, sealed with a new MAC.
  /// - Throws: ``VaultError`` when a side does not open or verify (or they use different environment keys), and
  ///   ``Conflict`` when a secret or key slot changed differently on both sides.
  public static func merge(
    base: [UInt8]?, ours: [UInt8], theirs: [UInt8], file: String, identities: [any AgeIdentity],
    trust: PolicyChain? = nil, signer: VaultSigner? = nil
  ) throws -> [UInt8] {
    // Format 2: both sides verify against the approved policy, and the merger re-seals the groups whose lines
    // changed (so the merger must be allowed to write them).
    let a = try VaultFile.open(ours, file: file, with: identities, trust: trust)
    let b = try VaultFile.open(theirs, file: file, with: identities, trust: trust)
    let o = base.flatMap { try? VaultFile.parse($0, file: file) }
    let oldRecords = o.map { Dictionary(uniqueKeysWithValues: $0.inOrder.map { ($0.name, $0.record) }) }
    let sameKey = a.envKey.withUnsafeBytes { x in b.envKey.withUnsafeBytes { y in Array(x) == Array(y) } }
    guard sameKey, a.environment == b.environment else {
      throw VaultError(.authenticationFailed, file: file, detail: "the two sides use different environment keys")
    }
    var merged = a
    var conflicts: [String] = []

    for name in Set(a.records.keys).union(b.records.keys).sorted(by: utf8Less) {
      let mine = a.records[name].map(RecordID.init)
      let their = b.records[name].map(RecordID.init)
      let old = oldRecords?[name].map(RecordID.init)
      switch pick(old, mine, their) {
      case .ours: break
      case .theirs: merged.records[name] = b.records[name]
      case .conflict: conflicts.append(name)
      }
    }
    for group in Set(a.slots.keys).union(b.slots.keys).sorted(by: utf8Less) {
      let mine = a.slots[group].map(SlotID.init)
      let their = b.slots[group].map(SlotID.init)
      let old = o?.slots[group].map(SlotID.init)
      switch pick(old, mine, their) {
      case .ours: break
      case .theirs: merged.slots[group] = b.slots[group]
      case .conflict:
        // Both sides re-wrapped the same key (to different recipients): either wrapping opens every value.
        if let x = a.slots[group]?.key, let y = b.slots[group]?.key,
          x.withUnsafeBytes({ p in y.withUnsafeBytes { q in Array(p) == Array(q) } })
        {
          break
        }
        // Both sides created or re-wrapped this group's key: keep ours when theirs holds no secret of its own
        // under it; otherwise the values sealed under their key would become unreadable.
        let theirsUseIt = b.records.contains { $0.value.group == group && merged.records[$0.key].map(RecordID.init) == RecordID($0.value) }
        if theirsUseIt { conflicts.append("key \(group)") }
      }
    }
    guard conflicts.isEmpty else { throw Conflict(names: conflicts, file: file) }
    merged.reindex()
    if merged.v2 != nil {
      guard let signer else {
        throw VaultError(.notPermitted, file: file, detail: "merging format-2 vaults needs a member's identity to re-seal the merged groups")
      }
      merged.v2?.signer = signer
    }
    for (name, record) in merged.records where merged.slots[record.group] == nil && merged.v2 == nil {
      throw VaultError(.malformed, file: file, detail: "\(name): group \(record.group) has no key after merging")
    }
    return VaultFile.seal(merged)
  }

  enum Side { case ours, theirs, conflict }

  static func pick<T: Equatable>(_ base: T?, _ ours: T?, _ theirs: T?) -> Side {
    if ours == theirs { return .ours }
    if ours == base { return .theirs }
    if theirs == base { return .ours }
    return .conflict
  }

  struct RecordID: Equatable {
    let group: String
    let exposure: SecretExposure?
    let versions: [SecretVersion]
    init(_ r: Vault.Record) {
      group = r.group
      exposure = r.exposure
      versions = r.versions
    }
  }

  struct SlotID: Equatable {
    let recipients: [String]
    let wrapped: [UInt8]
    init(_ s: Vault.KeySlot) {
      recipients = s.recipients
      wrapped = s.wrapped
    }
  }
}
