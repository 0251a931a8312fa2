public import CofferCore
import HTTPTypes

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// An environment whose store is a KV v2 engine of OpenBao or Vault (`store:` naming an `openbao` destination).
///
/// With `layout: environment` the environment is one KV secret whose keys are the names; a write reads the secret,
/// changes one key and writes the whole map back with `cas` set to the version it read. If another writer got in
/// between, the write is retried on the new version when that writer left this name alone, and fails as a
/// conflict when it changed it. With `layout: name` each name is its own KV secret, written with `cas` set to its
/// version as read just before. Versions are the KV engine's (`max_versions`, 10 by default, are kept).
package struct OpenBaoStore: EnvironmentStore {
  /// The destination the environment's `store:` names: server, settings, token and HTTP client.
  package let destination: OpenBaoDestination

  /// Creates the store of an environment.
  /// - Parameter destination: the `openbao` destination named by `store:`.
  package init(_ destination: OpenBaoDestination) {
    self.destination = destination
  }

  var name: String { destination.name }

  package var location: String {
    "\(destination.name) (openbao \(destination.base.authority) \(destination.display()))"
  }

  // MARK: - Requests

  func send(_ request: HTTPRequest, body: [UInt8]? = nil) async throws(StoreError) -> RemoteClient.Response {
    guard destination.token != nil else {
      throw StoreError(
        .denied, store: name, detail: "no token: \(destination.tokenSource) is not set",
        hints: ["export \(destination.tokenSource)=<a token>, or use auth: approle or jwt (docs/sync.md)"])
    }
    do {
      return try await destination.client.send(request, body: body)
    } catch {
      throw Self.unreachable(name, destination.base, detail: error.detail)
    }
  }

  /// The error for a server that did not answer: exit 3, and no fallback.
  static func unreachable(_ store: String, _ base: BaseURL, detail: String) -> StoreError {
    StoreError(
      .unreachable, store: store, detail: "\(base.authority) did not answer: \(detail)",
      hints: [
        "the values of this environment live only at that server: start it or check the network and api_url; "
          + "to allow reads from a local encrypted copy while it is down, set cache_max_age on the environment "
          + "(docs/sync.md, \"Offline\")"
      ])
  }

  func failure(_ request: HTTPRequest, _ response: RemoteClient.Response) -> StoreError {
    let kind: StoreError.Kind = response.status == 401 || response.status == 403 ? .denied : .failed
    return StoreError(kind, store: name, detail: destination.failure(request, response))
  }

  /// A KV secret (`nil`: the environment's; else the per-name secret), at a version or the latest.
  func readKV(_ key: String?, version: Int? = nil) async throws(StoreError) -> OpenBaoDestination.KVSecret {
    var path = destination.kvPath("data", key)
    if let version { path += "?version=\(version)" }
    let get = destination.request(.get, path)
    let response = try await send(get)
    let decoded = try? JSONDecoder().decode(KVRead.self, from: Data(response.body))
    switch response.status {
    case 200:
      guard let inner = decoded?.data, let metadata = inner.metadata else {
        throw StoreError(
          .failed, store: name,
          detail: "\(destination.base.authority): \(RemoteClient.describe(get)): not a KV v2 answer")
      }
      var data: [String: String?] = [:]
      for (k, v) in inner.data ?? [:] { if case .string(let s) = v { data[k] = s } else { data[k] = .some(nil) } }
      return .init(
        data: data, version: metadata.version ?? 0, deleted: inner.data == nil,
        customMetadata: metadata.custom_metadata ?? [:])
    case 404:
      if let metadata = decoded?.data?.metadata, let number = metadata.version {
        return .init(data: [:], version: number, deleted: true, customMetadata: metadata.custom_metadata ?? [:])
      }
      return .missing
    default:
      throw failure(get, response)
    }
  }

  /// Writes a KV secret's data with `cas`; `nil` on a `cas` mismatch, else the new version.
  func writeKV(_ key: String?, _ data: [String: String], cas: Int) async throws(StoreError) -> Int? {
    let post = destination.request(.post, destination.kvPath("data", key), json: true)
    let response = try await send(post, body: encode(KVWrite(options: .init(cas: cas), data: data)))
    if response.status == 400, OpenBaoDestination.isCASMismatch(response) { return nil }
    guard response.isSuccess else { throw failure(post, response) }
    struct Written: Decodable {
      struct Inner: Decodable { var version: Int? }
      var data: Inner?
    }
    let version = (try? JSONDecoder().decode(Written.self, from: Data(response.body)))?.data?.version ?? cas + 1
    if cas == 0 {
      // A secret Coffer created: marked as Coffer's (never a value or fingerprint); best effort.
      _ = await destination.writeMetadata(key, [OpenBaoDestination.managedKey: "coffer"])
    }
    return version
  }

  static func strings(_ data: [String: String?]) -> [String: String] {
    var out: [String: String] = [:]
    for (key, value) in data { if let value { out[key] = value } }
    return out
  }

  func text(_ value: SecretValue, _ key: String) throws(StoreError) -> String {
    guard value.isValidUTF8 else {
      throw StoreError(
        .badInput, store: name,
        detail: "the value of \(key) is not UTF-8 text, which KV's JSON needs; nothing was written")
    }
    return value.revealString()
  }

  // MARK: - EnvironmentStore

  package func readAll() async throws -> [StoredValue] {
    try await readAllTyped()
  }

  func readAllTyped() async throws(StoreError) -> [StoredValue] {
    switch destination.settings.layout {
    case .environment:
      let secret = try await readKV(nil)
      guard secret.exists else { return [] }
      return Self.strings(secret.data).map { StoredValue(name: $0.key, value: SecretValue($0.value), version: secret.version) }
        .sorted { $0.name < $1.name }
    case .name:
      let keys = try await listNames()
      let reads = await boundedMap(keys, limit: destination.maxConcurrentRequests) {
        key -> Result<OpenBaoDestination.KVSecret, StoreError> in
        do throws(StoreError) { return .success(try await readKV(key)) } catch { return .failure(error) }
      }
      var out: [StoredValue] = []
      for (key, result) in zip(keys, reads) {
        let secret = try result.get()
        if secret.exists, let value = secret.data["value"] ?? nil {
          out.append(StoredValue(name: key, value: SecretValue(value), version: secret.version))
        }
      }
      return out
    }
  }

  func listNames() async throws(StoreError) -> [String] {
    let get = destination.request(.get, destination.kvPath("metadata") + "?list=true")
    let response = try await send(get)
    if response.status == 404 { return [] }
    guard response.status == 200 else { throw failure(get, response) }
    guard let listed = try? JSONDecoder().decode(VaultList.self, from: Data(response.body)) else {
      throw StoreError(
        .failed, store: name, detail: "\(destination.base.authority): \(RemoteClient.describe(get)): not a listing")
    }
    return (listed.data?.keys ?? []).filter { !$0.hasSuffix("/") }.sorted()
  }

  package func read(_ key: String, version: Int?) async throws -> StoredValue? {
    switch destination.settings.layout {
    case .environment:
      let secret = try await readKV(nil, version: version)
      guard secret.exists, let value = secret.data[key] ?? nil else { return nil }
      return StoredValue(name: key, value: SecretValue(value), version: secret.version)
    case .name:
      let secret = try await readKV(key, version: version)
      guard secret.exists, let value = secret.data["value"] ?? nil else { return nil }
      return StoredValue(name: key, value: SecretValue(value), version: secret.version)
    }
  }

  package func write(_ key: String, _ value: SecretValue) async throws -> Int {
    try await writeTyped([(key, value)])
  }

  package func writeAll(_ values: [(name: String, value: SecretValue)]) async throws {
    guard !values.isEmpty else { return }
    switch destination.settings.layout {
    case .environment:
      _ = try await writeTyped(values)
    case .name:
      for value in values { _ = try await writeTyped([value]) }
    }
  }

  /// Writes values with `cas`. With `layout: environment` all go in one write of the map; with `layout: name`
  /// exactly one value is given.
  func writeTyped(_ values: [(name: String, value: SecretValue)]) async throws(StoreError) -> Int {
    var texts: [(String, String)] = []
    for (key, value) in values { texts.append((key, try text(value, key))) }
    switch destination.settings.layout {
    case .environment:
      var secret = try await readKV(nil)
      // Another writer's change to other names is kept (the write is retried on their version); a change to one of
      // these names is a conflict. Three tries, then the server is too busy to write safely.
      for _ in 1...3 {
        if secret.data.values.contains(where: { $0 == nil }) {
          throw StoreError(
            .failed, store: name,
            detail: "\(destination.display()) holds values that are not strings; Coffer does not rewrite it")
        }
        var data = Self.strings(secret.data)
        for (key, text) in texts { data[key] = text }
        if let version = try await writeKV(nil, data, cas: secret.version) { return version }
        let now = try await readKV(nil)
        for (key, _) in texts where now.data[key] != secret.data[key] {
          throw conflict(key, read: secret.version, now: now.version)
        }
        secret = now
      }
      throw StoreError(
        .conflict, store: name,
        detail: "\(destination.display()) keeps changing at the server (cas mismatch three times); nothing was written",
        hints: ["run the command again"])
    case .name:
      guard let first = texts.first else { return 0 }
      let (key, text) = first
      let secret = try await readKV(key)
      guard let version = try await writeKV(key, ["value": text], cas: secret.version) else {
        let now = try await readKV(key)
        throw conflict(key, read: secret.version, now: now.version)
      }
      return version
    }
  }

  func conflict(_ key: String, read: Int, now: Int) -> StoreError {
    StoreError(
      .conflict, store: name,
      detail: "conflict: \(key) was changed at \(destination.base.authority) (\(destination.display())) while Coffer "
        + "was writing (read version \(read), now \(now)); nothing was written",
      hints: ["see `coffer history \(key)`, then run the command again"])
  }

  package func versions(of key: String) async throws -> [StoredVersion] {
    let perName = destination.settings.layout == .name
    let get = destination.request(.get, destination.kvPath("metadata", perName ? key : nil))
    let response = try await send(get)
    if response.status == 404 { return [] }
    guard response.status == 200,
      let meta = try? JSONDecoder().decode(VaultMetadata.self, from: Data(response.body)).data
    else { throw failure(get, response) }
    let all = (meta.versions ?? [:]).compactMap { entry -> (Int, VaultMetadata.Version)? in
      Int(entry.key).map { ($0, entry.value) }
    }
    .sorted { $0.0 < $1.0 }
    func isDeleted(_ v: VaultMetadata.Version) -> Bool { !(v.deletion_time ?? "").isEmpty || (v.destroyed ?? false) }
    if perName {
      return all.reversed().map { StoredVersion(number: $0.0, created: $0.1.created_time ?? "", deleted: isDeleted($0.1)) }
    }
    // One secret per environment: the versions in which this name's value changed (each read once).
    var out: [StoredVersion] = []
    var previous: String?? = .none
    for (number, version) in all where !isDeleted(version) {
      let secret = try await readKV(nil, version: number)
      let value = secret.data[key] ?? nil
      defer { previous = .some(value) }
      guard let value else { continue }
      if case .some(let before) = previous, before == value { continue }
      out.append(StoredVersion(number: number, created: version.created_time ?? ""))
    }
    return out.reversed()
  }
}
