import CofferCore
import CofferSync
import CofferSystem
import CofferVault

/// Environments whose store is a server (`store:` in coffer.yaml, docs/sync.md "An environment whose store is a
/// server"): opening the store, logging in, the encrypted offline cache. The commands call in through
/// ``StoreCommands``; everything about the server itself is in CofferSync's ``EnvironmentStore`` implementations.
enum StoreEnvironment {
  /// The destination an environment's `store:` names, or `nil` for an environment kept in the vault.
  /// - Throws: ``UsageError`` (exit 2) when the environment also has a vault file (which one holds the truth is
  ///   not Coffer's guess to make), or the destination cannot be decoded.
  static func spec(_ ws: Workspace, _ environment: String, allowVaultFile: Bool = false) throws -> DestinationSpec? {
    guard let name = ws.manifest.store(of: environment) else { return nil }
    if !allowVaultFile, Files.exists(ws.project.vaultPath(environment)) {
      throw UsageError(
        description: "\(environment) has store: \(name) in \(ws.project.display(ws.project.manifestPath)), but also a "
          + "vault file \(ws.project.display(ws.project.vaultPath(environment))); Coffer does not guess which holds "
          + "its values",
        hints: [
          "copy the vault's values to the server with `coffer migrate-store --env \(environment) --to \(name)` "
            + "(it removes the vault file), or remove store: to keep the vault"
        ])
    }
    let bytes = try Files.read(ws.project.manifestPath)
    let specs = try Manifest.decodeDestinations(
      bytes, file: ws.project.display(ws.project.manifestPath), merged: ws.manifest)
    guard let spec = specs.first(where: { $0.name == name }) else {
      throw UsageError(description: "\(environment): no destination named \(name)")
    }
    return spec
  }

  /// Logs in (when the destination says how) and runs `body` with the store, then closes the connections.
  /// - Throws: ``StoreError`` for a refused or unreachable login (exit 3), what `body` throws.
  static func with<T: Sendable>(
    _ ws: Workspace, _ spec: DestinationSpec,
    _ body: @escaping @Sendable (any EnvironmentStore) async throws -> T
  ) throws -> T {
    try SyncSession(ws: ws, specs: [spec]).checkAPIURLs([spec], allowed: false)
    guard let base = spec.apiURL.flatMap(BaseURL.init) else {
      throw UsageError(description: "\(spec.name): invalid api_url")
    }
    return try AsyncBridge.run { () async throws -> T in
      // An interactive read should not hang on a server that is down: 3 s to connect, 3 tries (docs/sync.md).
      let transport = HTTPClientTransport(connectTimeout: .seconds(3))
      var client = SyncRuntime.client(transport: transport, onRetry: SyncRender.reportRetry)
      client.policy.maxAttempts = 3
      do {
        let store = try await open(spec, base: base, client: client)
        let result = try await body(store)
        await transport.shutdown()
        return result
      } catch {
        await transport.shutdown()
        throw error
      }
    }
  }

  static func open(_ spec: DestinationSpec, base: BaseURL, client: RemoteClient) async throws -> any EnvironmentStore {
    switch spec.target {
    case .openBao(let settings):
      let token: String?
      do throws(SyncError) {
        // Credentials come from the process environment only: the environment's values are at the server.
        token = try await ServerLogin.openBaoToken(
          spec, settings, lookup: { name in ProcessEnvironment.get(name).flatMap { $0.isEmpty ? nil : $0 } },
          client: client)
      } catch {
        let unreachable = error.noAnswer
        throw StoreError(unreachable ? .unreachable : .denied, store: spec.name, detail: error.detail, hints: error.hints)
      }
      return OpenBaoStore(
        OpenBaoDestination(
          name: spec.name, base: base, settings: settings, token: token, tokenSource: ServerLogin.tokenSource(spec),
          client: client))
    case .awsSecretsManager(let settings):
      let (credentials, source) = ServerLogin.awsCredentials(profile: settings.profile)
      return AWSSecretsManagerStore(
        AWSSecretsManagerDestination(
          name: spec.name, base: base, settings: settings, environment: spec.from, credentials: credentials,
          credentialSource: source, client: client))
    default:
      throw UsageError(description: "\(spec.name) is not of type openbao or aws-secrets-manager and cannot be a store")
    }
  }

  /// Every current value of a store environment; when the server cannot be reached and the environment has
  /// `cache_max_age`, the values of the last successful read if they are not older than that (with a warning).
  /// - Throws: ``StoreError`` (exit 3 when unreachable without a usable cache).
  static func readAll(_ ws: Workspace, _ environment: String, _ spec: DestinationSpec) throws -> [StoredValue] {
    let maxAge = ws.manifest.storeCacheMaxAge[environment]
    do {
      let values = try with(ws, spec) { store in try await store.readAll() }
      if maxAge != nil { StoreCache.save(ws, environment, store: spec.name, values) }
      return values
    } catch let error as StoreError where error.kind == .unreachable {
      guard let maxAge else { throw error }
      guard let cached = StoreCache.load(ws, environment, store: spec.name) else {
        throw StoreError(
          error.kind, store: error.store, detail: error.detail + "; and no usable cached copy",
          hints: ["the cache is written by the first successful read (docs/sync.md, \"Offline\")"])
      }
      let age = Int(SystemClock.now().secondsSinceEpoch) - cached.time
      guard age <= maxAge, age >= 0 else {
        throw StoreError(
          error.kind, store: error.store,
          detail: error.detail + "; the cached copy is \(StoreCache.describe(age)) old, older than cache_max_age "
            + StoreCache.describe(maxAge), hints: error.hints)
      }
      ErrorRenderer.warn(
        "store \(spec.name) cannot be reached: using the values cached \(StoreCache.describe(age)) ago "
          + "(cache_max_age \(StoreCache.describe(maxAge)))")
      return cached.values
    }
  }
}

/// The offline cache of a store environment (`cache_max_age`): the values of the last successful read, encrypted
/// with age to this user's identity, at `$XDG_STATE_HOME/coffer/store-cache/<project id>/<environment>.age`
/// (mode 0600, in a directory outside the repository). Written only when the environment has `cache_max_age`; read
/// only when the server cannot be reached (never on a refused token).
enum StoreCache {
  static let header = "coffer-store-cache v1"

  static func path(_ ws: Workspace, _ environment: String) -> String {
    let id = String(ContentHash.sha256Hex(Array(ws.project.root.utf8)).prefix(16))
    return Paths.join(ProcessEnvironment.stateHome(), "coffer/store-cache/\(id)/\(environment).age")
  }

  /// Best effort: a cache that cannot be written only means no offline reads later.
  static func save(_ ws: Workspace, _ environment: String, store: String, _ values: [StoredValue]) {
    guard let identities = try? IdentityLoader.load(), let identity = identities.first else { return }
    var body = Array("\(header)\nstore \(store)\ntime \(SystemClock.now().secondsSinceEpoch)\n".utf8)
    for value in values {
      body += Array("\(value.name)\t\(value.version)\t".utf8) + Base64.encodeBytes(value.value.reveal(), padded: true)
      body.append(0x0A)
    }
    guard let sealed = try? Age.encrypt(body, to: [identity.recipient]) else { return }
    let file = path(ws, environment)
    try? Files.makeDirectory(Paths.parent(file))
    try? Files.writeAtomically(file, sealed, newFileMode: 0o600)
  }

  static func load(_ ws: Workspace, _ environment: String, store: String) -> (time: Int, values: [StoredValue])? {
    guard let identities = try? IdentityLoader.load(), let bytes = try? Files.read(path(ws, environment)),
      let body = try? Age.decrypt(bytes, with: identities)
    else { return nil }
    let lines = body.split(separator: 0x0A, omittingEmptySubsequences: false)
    guard lines.count >= 3, String(decoding: lines[0], as: UTF8.self) == header,
      String(decoding: lines[1], as: UTF8.self) == "store \(store)",
      let time = Int(String(decoding: lines[2], as: UTF8.self).dropFirst(5))
    else { return nil }
    var values: [StoredValue] = []
    for line in lines.dropFirst(3) where !line.isEmpty {
      let parts = line.split(separator: 0x09, maxSplits: 2, omittingEmptySubsequences: false)
      guard parts.count == 3, let version = Int(String(decoding: parts[1], as: UTF8.self)),
        let value = Base64.decode(parts[2], padded: true)
      else { return nil }
      values.append(StoredValue(name: String(decoding: parts[0], as: UTF8.self), value: SecretValue(value), version: version))
    }
    return (time, values)
  }

  /// `45s`, `12m`, `3h`, `2d`.
  static func describe(_ seconds: Int) -> String {
    if seconds < 120 { return "\(seconds)s" }
    if seconds < 7200 { return "\(seconds / 60)m" }
    if seconds < 172_800 { return "\(seconds / 3600)h" }
    return "\(seconds / 86_400)d"
  }
}
