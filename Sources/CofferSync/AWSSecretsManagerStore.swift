public import CofferCore

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// An environment whose store is AWS Secrets Manager (`store:` naming an `aws-secrets-manager` destination).
///
/// Values are read at `AWSCURRENT`. Secrets Manager has no check-and-set: a write reads the secret's current
/// `VersionId`, and reads it again just before `PutSecretValue`; a different one means someone else wrote, and the
/// write fails as a conflict. The window between that second read and the write stays open (documented in
/// docs/sync.md). Versions are numbered 1, 2, … in the order Secrets Manager created them (`ListSecretVersionIds`
/// lists only versions that still have a staging label; older ones are gone).
package struct AWSSecretsManagerStore: EnvironmentStore {
  /// The destination the environment's `store:` names.
  package let destination: AWSSecretsManagerDestination

  /// Creates the store of an environment.
  /// - Parameter destination: the `aws-secrets-manager` destination named by `store:`.
  package init(_ destination: AWSSecretsManagerDestination) {
    self.destination = destination
  }

  var name: String { destination.name }

  package var location: String {
    let where_ =
      destination.settings.layout == .environment
      ? destination.environmentSecret : destination.settings.prefix + "<NAME>"
    return "\(destination.name) (aws-secrets-manager \(destination.base.authority) \(where_))"
  }

  /// A ``SyncError`` as a ``StoreError``: no answer is unreachable, a refused signature or permission is denied.
  func storeError(_ error: SyncError) -> StoreError {
    if error.noAnswer {
      return OpenBaoStore.unreachable(name, destination.base, detail: error.detail)
    }
    let denied =
      error.code == .badInput || error.detail.contains("AccessDenied") || error.detail.contains("UnrecognizedClient")
      || error.detail.contains("InvalidSignature") || error.detail.contains("ExpiredToken")
    return StoreError(denied ? .denied : .failed, store: name, detail: error.detail, hints: error.hints)
  }

  func secretName(_ key: String) -> String {
    destination.settings.layout == .environment ? destination.environmentSecret : destination.settings.prefix + key
  }

  package func readAll() async throws -> [StoredValue] {
    do throws(SyncError) {
      if destination.settings.layout == .environment {
        let current = try await destination.read(destination.environmentSecret)
        guard current.exists else { return [] }
      }
      guard destination.credentials != nil else {
        throw SyncError(.badInput, destination: name, detail: "no AWS credentials: \(destination.credentialSource)")
      }
      return try await destination.values().map { StoredValue(name: $0.name, value: $0.value, version: 0) }
    } catch {
      throw storeError(error)
    }
  }

  package func read(_ key: String, version: Int?) async throws -> StoredValue? {
    do throws(SyncError) {
      let secret = secretName(key)
      let text: String?
      if let version {
        let versions = try await versionIDs(secret)
        guard version >= 1, version <= versions.count else { return nil }
        text = try await value(secret, versionID: versions[version - 1].id)
      } else {
        text = try await destination.read(secret).value
      }
      guard let text else { return nil }
      if destination.settings.layout == .name { return StoredValue(name: key, value: SecretValue(text), version: version ?? 0) }
      let data = try destination.decodeEnvironment(.init(value: text, versionID: nil, exists: true))
      return (data[key] ?? nil).map { StoredValue(name: key, value: SecretValue($0), version: version ?? 0) }
    } catch {
      throw storeError(error)
    }
  }

  package func write(_ key: String, _ value: SecretValue) async throws -> Int {
    try await writeAll([(key, value)])
    return try await versions(of: key).first?.number ?? 1
  }

  package func writeAll(_ values: [(name: String, value: SecretValue)]) async throws {
    for (key, value) in values where !value.isValidUTF8 {
      throw StoreError(
        .badInput, store: name, detail: "the value of \(key) is not UTF-8 text, which SecretString needs; nothing was written")
    }
    do throws(SyncError) {
      switch destination.settings.layout {
      case .environment:
        let secret = destination.environmentSecret
        let before = try await destination.read(secret)
        var data: [String: String] = [:]
        for (key, text) in try destination.decodeEnvironment(before) {
          guard let text else {
            throw SyncError(.badResponse, destination: name, detail: "\(secret) holds values that are not strings; Coffer does not rewrite it")
          }
          data[key] = text
        }
        for (key, value) in values { data[key] = value.revealString() }
        try await put(secret, encodedObject(data), before: before)
      case .name:
        for (key, value) in values {
          let secret = secretName(key)
          try await put(secret, value.revealString(), before: try await destination.read(secret))
        }
      }
    } catch {
      throw storeError(error)
    }
  }

  /// Writes after checking that the secret is still at the version read before (no check-and-set in the API).
  func put(_ secret: String, _ text: String, before: AWSSecretsManagerDestination.Current) async throws(SyncError) {
    let now = try await destination.read(secret)
    guard now.versionID == before.versionID else {
      throw SyncError(
        .conflict, destination: name,
        detail: "conflict: \(secret) was changed at \(destination.base.authority) while Coffer was writing; nothing was written")
    }
    if let failure = await destination.put(secret, text, exists: now.exists) {
      throw SyncError(failure.hasPrefix("conflict") ? .conflict : .remoteFailed, destination: name, detail: failure)
    }
  }

  func encodedObject(_ data: [String: String]) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return String(decoding: (try? encoder.encode(data)) ?? Data("{}".utf8), as: UTF8.self)
  }

  struct VersionID: Sendable {
    var id: String
    var created: Double
    /// 2 for `AWSCURRENT`, 1 for `AWSPREVIOUS`, 0 otherwise.
    var stage: Int
  }

  /// The secret's versions, oldest first.
  func versionIDs(_ secret: String) async throws(SyncError) -> [VersionID] {
    struct Page: Decodable {
      struct Entry: Decodable {
        var VersionId: String
        var CreatedDate: Double?
        var VersionStages: [String]?
      }
      var Versions: [Entry]?
      var NextToken: String?
    }
    struct Request: Encodable {
      var SecretId: String
      var MaxResults = 100
      var NextToken: String?
    }
    var out: [VersionID] = []
    var next: String?
    for _ in 0..<100 {
      let answer = try await destination.call(
        "ListSecretVersionIds", encode(Request(SecretId: secret, NextToken: next)), subject: secret)
      if answer.type == "ResourceNotFoundException" { return [] }
      guard answer.ok, let page = try? JSONDecoder().decode(Page.self, from: Data(answer.body)) else {
        throw SyncError(.remoteFailed, destination: name, detail: destination.failure("ListSecretVersionIds", secret, answer))
      }
      out += (page.Versions ?? []).map {
        VersionID(
          id: $0.VersionId, created: $0.CreatedDate ?? 0,
          stage: $0.VersionStages?.contains("AWSCURRENT") == true
            ? 2 : $0.VersionStages?.contains("AWSPREVIOUS") == true ? 1 : 0)
      }
      guard let token = page.NextToken, !token.isEmpty else { break }
      next = token
    }
    // Creation times have a resolution of a second: within one, AWSPREVIOUS comes before AWSCURRENT.
    return out.sorted { ($0.created, $0.stage) < ($1.created, $1.stage) }
  }

  func value(_ secret: String, versionID: String) async throws(SyncError) -> String? {
    let answer = try await destination.call(
      "GetSecretValue", encode(["SecretId": secret, "VersionId": versionID]), subject: secret)
    guard answer.ok else {
      throw SyncError(.remoteFailed, destination: name, detail: destination.failure("GetSecretValue", secret, answer))
    }
    struct Value: Decodable { var SecretString: String? }
    return (try? JSONDecoder().decode(Value.self, from: Data(answer.body)))?.SecretString
  }

  package func versions(of key: String) async throws -> [StoredVersion] {
    do throws(SyncError) {
      let secret = secretName(key)
      let all = try await versionIDs(secret)
      func date(_ seconds: Double) -> String { Timestamp(secondsSinceEpoch: Int64(seconds)).rfc3339 }
      if destination.settings.layout == .name {
        return all.enumerated().reversed().map { StoredVersion(number: $0.offset + 1, created: date($0.element.created)) }
      }
      var out: [StoredVersion] = []
      var previous: String?? = .none
      for (index, version) in all.enumerated() {
        let text = try await value(secret, versionID: version.id)
        let data = try destination.decodeEnvironment(.init(value: text, versionID: nil, exists: text != nil))
        let current = data[key] ?? nil
        defer { previous = .some(current) }
        guard let current else { continue }
        if case .some(let before) = previous, before == current { continue }
        out.append(StoredVersion(number: index + 1, created: date(version.created)))
      }
      return out.reversed()
    } catch {
      throw storeError(error)
    }
  }
}
