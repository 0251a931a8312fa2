public import CofferCore

/// Whether an item goes to a destination as a secret or as a plain setting (GitHub: an Actions variable).
package enum ItemKind: String, Sendable, Hashable, Codable {
  /// A secret (`secret: true`, the default).
  case secret
  /// A plain setting (`secret: false`).
  case variable
}

/// One value Coffer wants at a destination.
package struct SyncItem: Sendable {
  /// The variable name.
  package var name: String
  /// The value.
  package var value: SecretValue
  /// Secret or plain setting.
  package var kind: ItemKind
  /// The keyed fingerprint of ``value`` (see ``SyncInput/fingerprint``).
  package var fingerprint: String

  /// Creates an item.
  /// - Parameters:
  ///   - name: the name.
  ///   - value: the value.
  ///   - kind: secret or plain setting.
  ///   - fingerprint: its keyed fingerprint.
  package init(name: String, value: SecretValue, kind: ItemKind, fingerprint: String) {
    self.name = name
    self.value = value
    self.kind = kind
    self.fingerprint = fingerprint
  }
}

/// Everything a destination needs to plan: the desired values, what Coffer recorded last time, and options.
package struct SyncInput: Sendable {
  /// The desired items, in any order (names unique).
  package var items: [SyncItem]
  /// What Coffer recorded after its previous pushes to this destination.
  package var state: DestinationState
  /// Whether remote items Coffer does not want are deleted.
  package var prune: Bool
  /// The keyed fingerprint function (HMAC-SHA256 under a vault-derived key): used for values read back from a
  /// destination, so they compare with ``SyncItem/fingerprint`` without keeping plaintext around.
  package var fingerprint: @Sendable (SecretValue) -> String
  /// Where the items come from: the vault, or the process environment (`sync --from-env`).
  package var origin: Origin

  /// Where a sync's values come from.
  package enum Origin: String, Sendable {
    /// The vault (`coffer sync`).
    case vault
    /// The process environment (`coffer sync --from-env`).
    case environment
  }

  /// The reason of a `blocked` change that `sync --from-env` refuses because the destination's value was last
  /// written from the vault.
  package static let vaultWroteLaterReason =
    "written from the vault by coffer sync more recently; --from-env does not replace it (one source per destination)"

  /// Applies the one-source rule to a destination's decision: with ``Origin/environment``, an `update` or
  /// `drifted` of an item whose latest recorded push came from the vault becomes `blocked`
  /// (``vaultWroteLaterReason``); anything else is returned as is.
  /// - Parameter change: the destination's decision for one item.
  /// - Returns: the decision to plan.
  package func guarded(_ change: PlannedChange) -> PlannedChange {
    guard origin == .environment, change.action == .update || change.action == .drifted,
      let record = state.record(change.name, change.kind), record.fromVault
    else { return change }
    return PlannedChange(change.name, change.kind, .blocked, reason: Self.vaultWroteLaterReason)
  }

  /// Creates an input.
  /// - Parameters:
  ///   - items: the desired items.
  ///   - state: the recorded state.
  ///   - prune: whether to delete unwanted remote items.
  ///   - fingerprint: the keyed fingerprint function.
  ///   - origin: where the items come from (default: the vault).
  package init(
    items: [SyncItem], state: DestinationState, prune: Bool, fingerprint: @escaping @Sendable (SecretValue) -> String,
    origin: Origin = .vault
  ) {
    self.items = items
    self.state = state
    self.prune = prune
    self.fingerprint = fingerprint
    self.origin = origin
  }
}

/// What a sync would do to one item at one destination.
package struct PlannedChange: Sendable, Equatable, Hashable {
  /// The action, as shown in plans.
  package enum Action: String, Sendable, Hashable, CaseIterable {
    /// Absent at the destination: will be written.
    case create
    /// Present with another (or an unknown) value: will be written.
    case update
    /// Present at the destination and not wanted: deleted (only with `--prune`).
    case delete
    /// Already what Coffer wants: nothing to do.
    case unchanged
    /// Changed at the destination after Coffer's last push: Coffer's value will be written back.
    case drifted
    /// Cannot go to this destination (a name or size rule); reported, never written.
    case blocked

    /// Whether applying the plan writes something for this action.
    package var writes: Bool { self == .create || self == .update || self == .delete || self == .drifted }
  }

  /// The item's name as Coffer knows it (for deletes: as the destination lists it).
  package var name: String
  /// Secret or plain setting.
  package var kind: ItemKind
  /// What happens.
  package var action: Action
  /// Why, for `blocked`, `drifted` and some updates; never a value.
  package var reason: String?

  /// Creates a change.
  /// - Parameters:
  ///   - name: the name.
  ///   - kind: secret or plain setting.
  ///   - action: the action.
  ///   - reason: why, if useful.
  package init(_ name: String, _ kind: ItemKind, _ action: Action, reason: String? = nil) {
    self.name = name
    self.kind = kind
    self.action = action
    self.reason = reason
  }
}

/// The plan for one destination: one change per item, sorted by kind then name.
package struct DestinationPlan: Sendable, Equatable {
  /// The destination's name from the manifest.
  package var destination: String
  /// The changes, sorted (secrets first, then by name).
  package var changes: [PlannedChange]
  /// Remarks about the destination as a whole (an ESC environment that will be created).
  package var notes: [String]
  /// Set when the remote could not be read completely: nothing is written to this destination.
  package var failure: String?
  /// Warnings for stderr about what will be written (a `.env` value that other readers will read differently);
  /// never a value.
  package var warnings: [String] = []

  /// Creates a plan; the changes are sorted.
  /// - Parameters:
  ///   - destination: the name.
  ///   - changes: the changes.
  ///   - notes: remarks.
  ///   - failure: why nothing can be planned, if so.
  package init(destination: String, changes: [PlannedChange], notes: [String] = [], failure: String? = nil) {
    self.destination = destination
    self.changes = changes.sorted { ($0.kind == .secret ? 0 : 1, $0.name) < ($1.kind == .secret ? 0 : 1, $1.name) }
    self.notes = notes
    self.failure = failure
  }

  /// The changes that write something.
  package var writes: [PlannedChange] { failure == nil ? changes.filter { $0.action.writes } : [] }

  /// How many changes have each action.
  package func count(_ action: PlannedChange.Action) -> Int { changes.filter { $0.action == action }.count }
}

/// What the destination holds for one item, as far as it can be known.
package enum RemoteItem: Sendable, Equatable {
  /// Not present.
  case absent
  /// Present; the value cannot be read back (GitHub secrets). `updatedAt` is the destination's time, if given.
  case sealed(updatedAt: Timestamp?)
  /// Present with a readable value, kept only as its keyed fingerprint.
  case readable(fingerprint: String)
}

/// The pure diff behind every destination.
package enum SyncDiff {
  /// Decides the action for one wanted item.
  ///
  /// - absent → `create`;
  /// - readable: same fingerprint → `unchanged`; else `drifted` when Coffer's value has not changed since its last
  ///   push (so the destination changed), else `update`;
  /// - sealed: the recorded fingerprint matches → `drifted` if the destination's `updatedAt` is later than the one
  ///   recorded after Coffer's push, else `unchanged`; no record or another fingerprint → `update`.
  /// - Parameters:
  ///   - item: the wanted item.
  ///   - remote: what the destination holds.
  ///   - record: what Coffer recorded after its last push of this item, if anything.
  ///   - scope: extra settings that must match the record (GitHub organization visibility), or `nil`.
  /// - Returns: the change.
  package static func classify(
    _ item: SyncItem, remote: RemoteItem, record: DestinationState.Record?, scope: String? = nil
  ) -> PlannedChange {
    switch remote {
    case .absent:
      return PlannedChange(item.name, item.kind, .create)
    case .readable(let fingerprint):
      if fingerprint == item.fingerprint {
        if let scope, record?.scope != scope { return PlannedChange(item.name, item.kind, .update, reason: "settings changed") }
        return PlannedChange(item.name, item.kind, .unchanged)
      }
      if let record, record.fingerprint == item.fingerprint {
        return PlannedChange(item.name, item.kind, .drifted, reason: "changed at the destination since Coffer's last push")
      }
      return PlannedChange(item.name, item.kind, .update)
    case .sealed(let updatedAt):
      guard let record, record.fingerprint == item.fingerprint else {
        return PlannedChange(
          item.name, item.kind, .update,
          reason: record == nil ? "no record of the value at the destination" : nil)
      }
      if let updatedAt, let pushed = record.remoteUpdatedAt.flatMap(Timestamp.init(rfc3339:)), updatedAt > pushed {
        return PlannedChange(
          item.name, item.kind, .drifted,
          reason: "updated at the destination \(updatedAt.rfc3339), after Coffer's push at \(pushed.rfc3339)")
      }
      if let scope, record.scope != scope { return PlannedChange(item.name, item.kind, .update, reason: "settings changed") }
      return PlannedChange(item.name, item.kind, .unchanged)
    }
  }
}
