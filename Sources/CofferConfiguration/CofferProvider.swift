public import Configuration
@_exported public import CofferRuntime
public import Logging
public import ServiceLifecycle
import Foundation
import Synchronization

/// A swift-configuration provider over a Coffer environment: its secrets as configuration values, reloaded when
/// the vault changes.
///
/// Keys map as ``Configuration/EnvironmentVariablesProvider`` maps them (`openai.apiKey` ↔ `OPENAI_API_KEY`), with
/// the same conversions for integers, doubles, booleans, base64 bytes and comma-separated arrays. Every value is
/// marked secret (so swift-configuration's access logging redacts it) unless coffer.yaml declares it `secret: false`.
///
/// The provider is a `Service`: run it in a `ServiceGroup` and it checks the vault (and the access policy) every
/// `pollInterval`; when they change it loads them again through ``CofferRuntime/CofferSecrets/load(_:)`` (verified,
/// audited) and notifies its watchers. A new file that cannot be loaded (tampered, undecryptable, another
/// environment) leaves the last good values in place; the error is logged (never a value) and kept in
/// ``lastReloadError``.
///
/// ## Usage
///
/// ```swift
/// import CofferConfiguration
/// import Configuration
///
/// let coffer = try CofferProvider(options: .init(environment: "production"))
/// let config = ConfigReader(providers: [EnvironmentVariablesProvider(), coffer])
/// let apiKey = config.string(forKey: "openai.apiKey", isSecret: true)   // OPENAI_API_KEY
/// ```
public final class CofferProvider: Sendable {
  struct Storage {
    var snapshot: Snapshot
    /// The vault file watched (it may move when `COFFER_ENV` changes between loads).
    var vaultPath: String
    var fingerprint: [UInt8]
    var lastError: CofferSecrets.LoadError?
    var watchers: [UUID: AsyncStream<Snapshot>.Continuation] = [:]
  }

  /// One loaded state: the values as an `EnvironmentVariablesProvider` keeps them. Prints its name and count only.
  struct Snapshot: ConfigSnapshot, CustomStringConvertible, CustomDebugStringConvertible {
    let providerName: String
    let values: EnvironmentVariablesProvider
    let count: Int

    func value(forKey key: AbsoluteConfigKey, type: ConfigType) throws -> LookupResult {
      try values.value(forKey: key, type: type)
    }

    var description: String { "\(providerName)[\(count) values]" }
    var debugDescription: String { description }
  }

  private let options: CofferSecrets.Options
  private let pollInterval: Duration
  private let logger: Logger
  private let storage: Mutex<Storage>

  /// Loads the environment once.
  /// - Parameters:
  ///   - options: the project, environment and read options, as for ``CofferRuntime/CofferSecrets/load(_:)``.
  ///   - pollInterval: how often ``run()`` checks the vault for changes.
  ///   - logger: where reload failures are reported (descriptions only, never a value).
  /// - Throws: ``CofferRuntime/CofferSecrets/LoadError`` when the first load fails.
  public init(
    options: CofferSecrets.Options = .init(), pollInterval: Duration = .seconds(2),
    logger: Logger = Logger(label: "coffer", factory: { _ in SwiftLogNoOpLogHandler() })
  ) throws(CofferSecrets.LoadError) {
    self.options = options
    self.pollInterval = pollInterval
    self.logger = logger
    let secrets = try CofferSecrets.load(options)
    storage = Mutex(
      Storage(
        snapshot: Self.snapshot(secrets), vaultPath: secrets.vaultPath,
        fingerprint: Self.fingerprint(vaultPath: secrets.vaultPath)))
  }

  /// The error of the last reload that failed, or nil when the last reload succeeded.
  public var lastReloadError: CofferSecrets.LoadError? { storage.withLock { $0.lastError } }

  /// Checks the vault and the policy now and, when they changed since the last load, loads them again and notifies
  /// the watchers; a load that fails keeps the last good values.
  /// - Returns: whether new values were loaded.
  @discardableResult
  public func reloadIfChanged() -> Bool {
    let (vaultPath, previous) = storage.withLock { ($0.vaultPath, $0.fingerprint) }
    guard Self.fingerprint(vaultPath: vaultPath) != previous else { return false }
    return reload()
  }

  /// Loads the environment again and notifies the watchers; a load that fails keeps the last good values (and is
  /// logged, and kept in ``lastReloadError``).
  /// - Returns: whether new values were loaded.
  @discardableResult
  public func reload() -> Bool {
    // Taken before the load, so that a change made while it runs is noticed by the next check.
    let watched = storage.withLock { $0.vaultPath }
    let before = Self.fingerprint(vaultPath: watched)
    do throws(CofferSecrets.LoadError) {
      let secrets = try CofferSecrets.load(options)
      let snapshot = Self.snapshot(secrets)
      let fingerprint = secrets.vaultPath == watched ? before : Self.fingerprint(vaultPath: secrets.vaultPath)
      let watchers = storage.withLock { storage in
        storage.snapshot = snapshot
        storage.vaultPath = secrets.vaultPath
        storage.fingerprint = fingerprint
        storage.lastError = nil
        return Array(storage.watchers.values)
      }
      for watcher in watchers { watcher.yield(snapshot) }
      return true
    } catch {
      storage.withLock { storage in
        storage.lastError = error
        // Not again until the file changes once more.
        storage.fingerprint = before
      }
      logger.error("coffer: keeping the last good values: \(error.description)")
      return false
    }
  }

  static func snapshot(_ secrets: CofferSecrets) -> Snapshot {
    var values: [String: String] = [:]
    for name in secrets.names { values[name] = secrets[name]?.revealString() }
    let secret = Set(secrets.names.filter { secrets.isSecret($0) })
    return Snapshot(
      providerName: "CofferProvider[\(secrets.environment)]",
      values: EnvironmentVariablesProvider(environmentVariables: values, secretsSpecifier: .specific(secret)),
      count: values.count)
  }

  /// What a change is noticed by: the bytes of the vault file and of the access policy.
  static func fingerprint(vaultPath: String) -> [UInt8] {
    let policy = URL(fileURLWithPath: vaultPath).deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("policy").path
    var out: [UInt8] = []
    out += FileManager.default.contents(atPath: vaultPath).map { Array($0) + [1] } ?? [2]
    out += FileManager.default.contents(atPath: policy).map { Array($0) + [1] } ?? [2]
    return out
  }
}

extension CofferProvider: ConfigProvider {
  public var providerName: String { storage.withLock { $0.snapshot.providerName } }

  public func value(forKey key: AbsoluteConfigKey, type: ConfigType) throws -> LookupResult {
    try storage.withLock { $0.snapshot }.value(forKey: key, type: type)
  }

  nonisolated(nonsending) public func fetchValue(forKey key: AbsoluteConfigKey, type: ConfigType) async throws -> LookupResult {
    try value(forKey: key, type: type)
  }

  nonisolated(nonsending) public func watchValue<Return: ~Copyable>(
    forKey key: AbsoluteConfigKey, type: ConfigType,
    updatesHandler: nonisolated(nonsending) (_ updates: ConfigUpdatesAsyncSequence<Result<LookupResult, any Error>, Never>)
      async throws -> Return
  ) async throws -> Return {
    let (stream, id) = addWatcher()
    defer { removeWatcher(id) }
    return try await updatesHandler(
      ConfigUpdatesAsyncSequence(
        stream.map { (snapshot: Snapshot) -> Result<LookupResult, any Error> in
          Result { try snapshot.value(forKey: key, type: type) }
        }))
  }

  public func snapshot() -> any ConfigSnapshot { storage.withLock { $0.snapshot } }

  nonisolated(nonsending) public func watchSnapshot<Return: ~Copyable>(
    updatesHandler: nonisolated(nonsending) (_ updates: ConfigUpdatesAsyncSequence<any ConfigSnapshot, Never>) async throws
      -> Return
  ) async throws -> Return {
    let (stream, id) = addWatcher()
    defer { removeWatcher(id) }
    return try await updatesHandler(ConfigUpdatesAsyncSequence(stream.map { $0 as any ConfigSnapshot }))
  }

  /// A stream of snapshots that starts with the current one.
  private func addWatcher() -> (AsyncStream<Snapshot>, UUID) {
    let (stream, continuation) = AsyncStream<Snapshot>.makeStream(bufferingPolicy: .bufferingNewest(1))
    let id = UUID()
    storage.withLock { storage in
      storage.watchers[id] = continuation
      continuation.yield(storage.snapshot)
    }
    return (stream, id)
  }

  private func removeWatcher(_ id: UUID) {
    let continuation = storage.withLock { $0.watchers.removeValue(forKey: id) }
    continuation?.finish()
  }
}

extension CofferProvider: Service {
  /// Checks the vault every `pollInterval` until the task is cancelled or the service group shuts down gracefully.
  public func run() async throws {
    await cancelWhenGracefulShutdown {
      while !Task.isCancelled {
        do {
          try await Task.sleep(for: self.pollInterval)
        } catch {
          return
        }
        self.reloadIfChanged()
      }
    }
  }
}

extension CofferProvider: CustomStringConvertible {
  /// The provider's name and how many values it holds; never a value.
  public var description: String {
    storage.withLock { "\($0.snapshot.providerName)[\($0.snapshot.count) values]" }
  }
}
