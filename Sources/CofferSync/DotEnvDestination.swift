import CofferCore
import CofferDotEnv

/// A `.env` file, edited in place with ``DotEnvDocument``: only Coffer's keys change; comments, order, quoting and
/// every other line stay byte for byte.
///
/// The file itself is read and written through the closures given at creation (CofferSystem passes an atomic write
/// that creates new files with mode 0600 and keeps an existing file's mode), so this type does no I/O of its own.
/// Values are read back, so `drifted` is a direct comparison against the recorded fingerprint. Pruning removes keys
/// Coffer recorded as pushed that it no longer wants; other keys in the file are never removed.
package struct DotEnvDestination: ValueSource {
  /// The destination's name in the manifest.
  package let name: String
  /// The file's path as shown in messages.
  package let path: String
  let read: @Sendable () throws -> [UInt8]?
  let write: @Sendable ([UInt8]) throws -> Void

  /// Creates a dotenv destination.
  /// - Parameters:
  ///   - name: the manifest name.
  ///   - path: the path to show in messages.
  ///   - read: returns the file's bytes, or `nil` when it does not exist.
  ///   - write: replaces the file atomically.
  package init(
    name: String, path: String, read: @escaping @Sendable () throws -> [UInt8]?,
    write: @escaping @Sendable ([UInt8]) throws -> Void
  ) {
    self.name = name
    self.path = path
    self.read = read
    self.write = write
  }

  func load() throws(SyncError) -> DotEnvDocument {
    let bytes: [UInt8]?
    do {
      bytes = try read()
    } catch {
      throw SyncError(.remoteFailed, destination: name, detail: "cannot read \(path)")
    }
    guard let bytes else { return DotEnvDocument() }
    do {
      return try DotEnvParser.parse(bytes, file: path).document
    } catch {
      throw SyncError(.badInput, destination: name, detail: error.description)
    }
  }

  func diff(_ input: SyncInput, _ document: DotEnvDocument) -> DestinationPlan {
    var changes: [PlannedChange] = []
    for item in input.items {
      guard DotEnvSerializer.isValidName(item.name) else {
        changes.append(PlannedChange(item.name, item.kind, .blocked, reason: "not a valid .env key"))
        continue
      }
      guard item.value.isValidUTF8 else {
        changes.append(PlannedChange(item.name, item.kind, .blocked, reason: "value is not UTF-8 text"))
        continue
      }
      let remote: RemoteItem = document.value(of: item.name).map { .readable(fingerprint: input.fingerprint($0)) } ?? .absent
      changes.append(input.guarded(SyncDiff.classify(item, remote: remote, record: input.state.record(item.name, item.kind))))
    }
    if input.prune {
      let wanted = Set(input.items.map(\.name))
      for name in document.names where !wanted.contains(name) {
        guard let kind = [ItemKind.secret, .variable].first(where: { input.state.record(name, $0) != nil }) else { continue }
        changes.append(PlannedChange(name, kind, .delete))
      }
    }
    var plan = DestinationPlan(destination: name, changes: changes)
    let values = Dictionary(input.items.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
    plan.warnings = plan.writes.compactMap { change -> String? in
      guard change.action != .delete, let value = values[change.name] else { return nil }
      return DotEnvSerializer.warning(name: change.name, value: value).map { "\(path): \($0)" }
    }
    return plan
  }

  package func plan(_ input: SyncInput) async -> DestinationPlan {
    do {
      return diff(input, try load())
    } catch {
      return DestinationPlan(destination: name, changes: [], failure: error.detail)
    }
  }

  package func apply(
    _ plan: DestinationPlan, _ input: SyncInput, progress: @escaping @Sendable (ItemResult) -> Void
  ) async -> SyncReport {
    if let failure = plan.failure { return plan.report(failure: failure, state: input.state) }
    let current: DestinationPlan
    var document: DotEnvDocument
    do {
      document = try load()
      current = diff(input, document)
    } catch {
      return plan.report(failure: error.detail, state: input.state)
    }
    let values = Dictionary(input.items.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    for change in current.writes {
      if change.action == .delete {
        document.remove(change.name)
      } else if let item = values[change.name] {
        document.set(item.name, to: item.value)
      }
    }
    var failure: String?
    if !current.writes.isEmpty {
      do {
        try write(DotEnvSerializer.serialize(document))
      } catch {
        failure = "cannot write \(path)"
      }
    }
    return current.reportOfSingleWrite(input, failure: failure, progress: progress)
  }

  package func pull() async throws(SyncError) -> [PulledValue] {
    try load().values.map { PulledValue(name: $0.name, value: $0.value, kind: .secret) }.sorted { $0.name < $1.name }
  }
}
