public import CofferCore
import Synchronization

/// A place secrets are delivered to: GitHub Actions, a Pulumi ESC environment, a .env file.
///
/// Two steps, both safe to retry: ``plan(_:)`` reads the destination and diffs it with what Coffer wants (it never
/// writes); ``apply(_:_:progress:)`` performs a plan's writes and reports each item. A listing that fails makes the
/// plan fail as a whole, so nothing is ever deleted on partial knowledge.
package protocol Destination: Sendable {
  /// The destination's name in the manifest.
  var name: String { get }
  /// Reads the destination and decides an action per item.
  /// - Parameter input: the wanted items, the recorded state and the options.
  /// - Returns: the plan; its ``DestinationPlan/failure`` is set when the destination could not be read.
  func plan(_ input: SyncInput) async -> DestinationPlan
  /// Performs a plan's writes.
  ///
  /// One failed item does not stop the others. Destinations with optimistic concurrency (Pulumi ESC) re-read and
  /// re-plan once on a conflict.
  /// - Parameters:
  ///   - plan: a plan made by ``plan(_:)`` from the same input.
  ///   - input: the same input.
  ///   - progress: called once per finished item, from any task.
  /// - Returns: a result per planned item and the state to record.
  func apply(_ plan: DestinationPlan, _ input: SyncInput, progress: @escaping @Sendable (ItemResult) -> Void) async
    -> SyncReport
}

/// A destination whose values can be read back: the source of `coffer pull`.
package protocol ValueSource: Destination {
  /// Reads the values the destination holds.
  /// - Returns: name, value and kind of each item, sorted by name.
  /// - Throws: ``SyncError`` when the destination cannot be read.
  func pull() async throws(SyncError) -> [PulledValue]
}

/// A destination that can check its own configuration for `coffer doctor`.
package protocol Diagnosable: Destination {
  /// Runs read-only checks: token present, authentication, permission, key or definition readable.
  /// - Returns: one entry per check, in order; later checks are skipped (not run) after a failure they need.
  func diagnose() async -> [DoctorCheck]
}

/// One value read from a destination.
package struct PulledValue: Sendable {
  /// The name.
  package var name: String
  /// The value.
  package var value: SecretValue
  /// Secret or plain setting, as the destination marks it.
  package var kind: ItemKind

  /// Creates a pulled value.
  package init(name: String, value: SecretValue, kind: ItemKind) {
    self.name = name
    self.value = value
    self.kind = kind
  }
}

/// One line of `coffer doctor`.
package struct DoctorCheck: Sendable, Equatable {
  /// The outcome.
  package enum Status: String, Sendable {
    /// Passed.
    case ok
    /// Failed; see ``fix``.
    case failed
    /// Not run because an earlier check failed.
    case skipped
  }
  /// What was checked, such as `token present` or `public key readable`.
  package var check: String
  /// The outcome.
  package var status: Status
  /// What was found (never a token or value).
  package var detail: String
  /// How to fix a failure.
  package var fix: String?

  /// Creates a check result.
  package init(_ check: String, _ status: Status, detail: String = "", fix: String? = nil) {
    self.check = check
    self.status = status
    self.detail = detail
    self.fix = fix
  }
}

/// What happened to one planned item.
package struct ItemResult: Sendable, Equatable {
  /// The outcome of one item.
  package enum Outcome: Sendable, Equatable {
    /// Written (or deleted) as planned.
    case done
    /// Nothing to do (`unchanged`), or not written by design (`blocked`).
    case skipped
    /// The write failed; the reason names the request and status, never a value.
    case failed(String)
  }
  /// The item's name.
  package var name: String
  /// Secret or plain setting.
  package var kind: ItemKind
  /// The planned action.
  package var action: PlannedChange.Action
  /// The outcome.
  package var outcome: Outcome
  /// The plan's reason, if any.
  package var reason: String?

  /// Creates a result.
  package init(
    name: String, kind: ItemKind, action: PlannedChange.Action, outcome: Outcome, reason: String? = nil
  ) {
    self.name = name
    self.kind = kind
    self.action = action
    self.outcome = outcome
    self.reason = reason
  }

  /// Whether the item failed.
  package var failed: Bool { if case .failed = outcome { return true } else { return false } }
}

/// The result of applying one destination's plan.
package struct SyncReport: Sendable {
  /// The destination's name.
  package var destination: String
  /// One result per planned item, in plan order.
  package var results: [ItemResult]
  /// Set when the destination as a whole failed (unreadable, definition rejected).
  package var failure: String?
  /// The state to record for the next run (only successful writes change it).
  package var state: DestinationState
  /// Remarks (for example: timestamps could not be re-read).
  package var notes: [String]

  /// Creates a report.
  package init(
    destination: String, results: [ItemResult], failure: String? = nil, state: DestinationState, notes: [String] = []
  ) {
    self.destination = destination
    self.results = results
    self.failure = failure
    self.state = state
    self.notes = notes
  }

  /// Whether anything failed.
  package var hasFailures: Bool { failure != nil || results.contains(where: \.failed) }
}

extension DestinationPlan {
  /// A report that marks every change of this plan with the same outcome (for a plan that cannot be applied).
  func report(failure: String?, state: DestinationState) -> SyncReport {
    SyncReport(
      destination: destination,
      results: changes.map {
        ItemResult(
          name: $0.name, kind: $0.kind, action: $0.action,
          outcome: $0.action.writes && failure != nil ? .failed(failure ?? "") : .skipped, reason: $0.reason)
      }, failure: failure, state: state)
  }

  /// The report of a destination that applies all of a plan's writes in one operation (one file, one PATCH): every
  /// write shares that operation's outcome. On success the state records each written value's fingerprint and
  /// forgets deleted names; values found unchanged are recorded too, so a later change at the destination shows as
  /// drift.
  /// - Parameters:
  ///   - input: the sync input the plan was made from (items and the state before).
  ///   - failure: why the operation failed, or nil when it succeeded.
  ///   - progress: called once per write with its result.
  func reportOfSingleWrite(_ input: SyncInput, failure: String?, progress: (ItemResult) -> Void) -> SyncReport {
    var report = report(failure: nil, state: input.state)
    var state = input.state
    let values = Dictionary(input.items.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    for index in report.results.indices {
      let result = report.results[index]
      if result.action.writes {
        if let failure {
          report.results[index].outcome = .failed(failure)
        } else {
          report.results[index].outcome = .done
          if result.action == .delete {
            state.set(result.name, result.kind, nil)
          } else if let item = values[result.name] {
            state.set(result.name, result.kind, DestinationState.Record(fingerprint: item.fingerprint))
          }
        }
        progress(report.results[index])
      } else if result.action == .unchanged, let item = values[result.name], input.state.record(item.name, item.kind) == nil {
        state.set(item.name, item.kind, DestinationState.Record(fingerprint: item.fingerprint))
      }
    }
    report.state = state
    return report
  }
}

/// Runs `body` over `items` with at most `limit` running at once; results keep the input order.
func boundedMap<T: Sendable, R: Sendable>(
  _ items: [T], limit: Int, _ body: @escaping @Sendable (T) async -> R
) async -> [R] {
  await withTaskGroup(of: (Int, R).self) { group in
    var results = [R?](repeating: nil, count: items.count)
    var next = 0
    let width = max(1, limit)
    while next < items.count, next < width {
      let index = next
      group.addTask { (index, await body(items[index])) }
      next += 1
    }
    while let (index, result) = await group.next() {
      results[index] = result
      if next < items.count {
        let index = next
        group.addTask { (index, await body(items[index])) }
        next += 1
      }
    }
    return results.compactMap { $0 }
  }
}

/// What a destination's plan saw of each item (a version), kept for its apply: a destination object is planned
/// and applied once, and a write can then tell that the remote changed in between (a conflict, not an overwrite).
final class PlanMemo: Sendable {
  let seen = Mutex<[String: String]>([:])
  func set(_ name: String, _ marker: String) { seen.withLock { $0[name] = marker } }
  func get(_ name: String) -> String? { seen.withLock { $0[name] } }
}
