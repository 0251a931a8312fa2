/// A reader who could see a secret's current value lost access: the value must be replaced.
public struct RevocationMark: Sendable, Equatable, Hashable {
  /// The recipient whose access was revoked (a manifest name or an `age1…` recipient).
  public var recipient: String
  /// When access was revoked.
  public var time: Timestamp

  /// Creates a mark.
  /// - Parameters:
  ///   - recipient: who lost access.
  ///   - time: when.
  public init(recipient: String, time: Timestamp) {
    self.recipient = recipient
    self.time = time
  }
}

/// What rotation status needs to know about one secret, all of it readable metadata (no value).
public struct RotationFacts: Sendable, Equatable {
  /// The secret's name.
  public var name: String
  /// The group it is stored under in the vault (`default` for secrets without one).
  public var group: String
  /// When its current value was first recorded: the current version's date, or for a rollback the date of the
  /// version it restored (a rollback is not a rotation).
  public var lastRotated: Timestamp
  /// Set when someone who could read the current value has since lost access.
  public var revoked: RevocationMark?

  /// Creates the facts about one secret.
  /// - Parameters:
  ///   - name: the secret's name.
  ///   - group: its vault group.
  ///   - lastRotated: when its current value was first recorded.
  ///   - revoked: the revocation that exposed the current value, if any.
  public init(name: String, group: String, lastRotated: Timestamp, revoked: RevocationMark? = nil) {
    self.name = name
    self.group = group
    self.lastRotated = lastRotated
    self.revoked = revoked
  }
}

/// Where a secret stands against its rotation schedule.
public enum RotationState: String, Sendable, Equatable, Hashable, CaseIterable {
  /// Not due within the due-soon window, or no period applies.
  case ok
  /// Due within the window (and not yet due).
  case dueSoon = "due-soon"
  /// Due date reached or passed.
  case overdue
  /// A reader who saw the current value lost access; takes precedence over the dates.
  case needsRotation = "needs-rotation"
}

/// One secret's rotation status at a point in time.
public struct RotationStatus: Sendable, Equatable {
  /// The secret's name.
  public var name: String
  /// Its vault group.
  public var group: String
  /// When its current value was first recorded.
  public var lastRotated: Timestamp
  /// Whole days (of 86,400 seconds) since ``lastRotated``, rounded down; 0 when ``lastRotated`` is in the future.
  public var ageDays: Int
  /// The period that applies (its own `rotation:`, else its group's), or `nil` when none does.
  public var period: RotationPeriod?
  /// ``lastRotated`` plus the period, or `nil` without a period.
  public var due: Timestamp?
  /// `period − ageDays`: whole days left until due (0 or less when overdue), or `nil` without a period.
  public var daysLeft: Int?
  /// The state.
  public var state: RotationState
  /// The revocation behind ``RotationState/needsRotation``, if any.
  public var revoked: RevocationMark?
}

/// The rotation schedule of a manifest: periods from `groups.*.rotation` and `secrets.*.rotation`.
///
/// Pure: the current time is a parameter. A secret is `overdue` once `ageDays >= period` (that is, from the exact
/// second `lastRotated + period × 86,400 s`), `due-soon` while `1 <= period − ageDays <= dueSoonDays`, and
/// `needs-rotation` whenever it carries a ``RevocationMark``, whatever its dates. Days are exact 86,400-second
/// spans in UTC, so leap years and month lengths need no special case.
public struct RotationPolicy: Sendable {
  /// The default due-soon window, in days.
  public static let defaultDueSoonDays = 14

  /// The manifest the periods come from.
  public let manifest: Manifest
  /// The due-soon window in days (0 disables `due-soon`).
  public let dueSoonDays: Int

  /// Creates a policy.
  /// - Parameters:
  ///   - manifest: the manifest.
  ///   - dueSoonDays: the window before the due date in which a secret is `due-soon`, in days; negative values
  ///     count as 0.
  public init(manifest: Manifest, dueSoonDays: Int = RotationPolicy.defaultDueSoonDays) {
    self.manifest = manifest
    self.dueSoonDays = max(0, dueSoonDays)
  }

  /// The period that applies to a secret: its declaration's `rotation:`, else its declared group's, else (for a
  /// secret the manifest does not declare) the period of the group it is stored under.
  /// - Parameters:
  ///   - name: the secret's name.
  ///   - group: the group it is stored under in the vault.
  /// - Returns: the period, or `nil` when none applies.
  public func period(of name: String, group: String) -> RotationPeriod? {
    if let spec = manifest.secret(named: name) { return manifest.effectiveRotation(of: spec) }
    return manifest.group(named: group)?.rotation
  }

  /// Computes one secret's status. A plain setting (`secret: false`) is never `needs-rotation`.
  /// - Parameters:
  ///   - facts: what the vault says about it.
  ///   - now: the current time.
  /// - Returns: the status.
  public func status(of facts: RotationFacts, at now: Timestamp) -> RotationStatus {
    let age = max(0, Int(facts.lastRotated.days(until: now)))
    let period = period(of: facts.name, group: facts.group)
    var state = RotationState.ok
    var due: Timestamp?
    var daysLeft: Int?
    if let period {
      due = Timestamp(secondsSinceEpoch: facts.lastRotated.secondsSinceEpoch + Int64(period.days) * 86_400)
      let left = period.days - age
      daysLeft = left
      if left <= 0 {
        state = .overdue
      } else if left <= dueSoonDays {
        state = .dueSoon
      }
    }
    // A plain setting (`secret: false`) may be shown to anyone: a reader losing access exposes nothing.
    let revoked = manifest.secret(named: facts.name)?.isSecret == false ? nil : facts.revoked
    if revoked != nil { state = .needsRotation }
    return RotationStatus(
      name: facts.name, group: facts.group, lastRotated: facts.lastRotated, ageDays: age, period: period, due: due,
      daysLeft: daysLeft, state: state, revoked: revoked)
  }

  /// Computes the status of many secrets.
  /// - Parameters:
  ///   - facts: what the vault says about each.
  ///   - now: the current time.
  /// - Returns: one status per secret, sorted by name (UTF-8 byte order).
  public func statuses(of facts: [RotationFacts], at now: Timestamp) -> [RotationStatus] {
    facts.map { status(of: $0, at: now) }.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
  }

  /// Whether any status calls for action now (`overdue` or `needs-rotation`): `coffer rotate status` exits 1.
  /// - Parameter statuses: computed statuses.
  public static func needsAction(_ statuses: [RotationStatus]) -> Bool {
    statuses.contains { $0.state == .overdue || $0.state == .needsRotation }
  }
}
