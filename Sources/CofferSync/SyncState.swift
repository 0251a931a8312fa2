#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// What Coffer recorded after pushing to one destination: per item, a keyed fingerprint of the value pushed and
/// the destination's `updated_at` right after the push. Never a value.
///
/// Stored as `.coffer/state/<destination>.json` (format version 1, UTF-8 JSON):
/// `{"version":1,"destination":"github-prod","secrets":{"NAME":{"fingerprint":"<64 hex>","remote_updated_at":
/// "2025-01-01T00:00:00Z","scope":"private"}},"variables":{…}}`; a record of a value pushed by `sync --from-env`
/// also has `"origin":"environment"`. A missing file is an empty state.
package struct DestinationState: Sendable, Equatable {
  /// One item's record.
  package struct Record: Sendable, Equatable, Codable {
    /// HMAC-SHA256 of the pushed value under a vault-derived key, hex.
    package var fingerprint: String
    /// The destination's `updated_at` after the push (RFC 3339), when it reports one.
    package var remoteUpdatedAt: String?
    /// Extra settings pushed with the value (GitHub organization visibility and repositories), when any.
    package var scope: String?
    /// Where the pushed value came from: `nil` or `vault` for `coffer sync`, `environment` for `sync --from-env`.
    /// `sync --from-env` does not replace a value whose latest push came from the vault (one source per
    /// destination, docs/ci.md).
    package var origin: String?

    /// Creates a record.
    /// - Parameters:
    ///   - fingerprint: the keyed fingerprint.
    ///   - remoteUpdatedAt: the destination's timestamp, if any.
    ///   - scope: the pushed settings, if any.
    ///   - origin: `environment` for a value pushed by `sync --from-env`, else `nil`.
    package init(fingerprint: String, remoteUpdatedAt: String? = nil, scope: String? = nil, origin: String? = nil) {
      self.fingerprint = fingerprint
      self.remoteUpdatedAt = remoteUpdatedAt
      self.scope = scope
      self.origin = origin
    }

    /// Whether the value was pushed from the vault (`origin` absent or `vault`).
    package var fromVault: Bool { origin == nil || origin == "vault" }

    enum CodingKeys: String, CodingKey {
      case fingerprint
      case remoteUpdatedAt = "remote_updated_at"
      case scope
      case origin
    }
  }

  /// Records of secrets, by name.
  package var secrets: [String: Record]
  /// Records of plain settings, by name.
  package var variables: [String: Record]

  /// Creates a state.
  /// - Parameters:
  ///   - secrets: secret records.
  ///   - variables: plain-setting records.
  package init(secrets: [String: Record] = [:], variables: [String: Record] = [:]) {
    self.secrets = secrets
    self.variables = variables
  }

  /// The record of an item.
  package func record(_ name: String, _ kind: ItemKind) -> Record? {
    kind == .secret ? secrets[name] : variables[name]
  }

  /// Sets or removes an item's record.
  package mutating func set(_ name: String, _ kind: ItemKind, _ record: Record?) {
    if kind == .secret { secrets[name] = record } else { variables[name] = record }
  }

  private struct File: Codable {
    var version: Int
    var destination: String
    var secrets: [String: Record]
    var variables: [String: Record]
  }

  /// Decodes a state file.
  /// - Parameters:
  ///   - bytes: the file's contents.
  ///   - file: the name for errors.
  /// - Returns: the state.
  /// - Throws: ``SyncError`` ``SyncError/Code/badInput`` when the JSON is malformed or of another version.
  package static func decode(_ bytes: [UInt8], file: String) throws(SyncError) -> DestinationState {
    do {
      let decoded = try JSONDecoder().decode(File.self, from: Data(bytes))
      guard decoded.version == 1 else {
        throw SyncError(.badInput, detail: "\(file): unsupported state version \(decoded.version)")
      }
      return DestinationState(secrets: decoded.secrets, variables: decoded.variables)
    } catch let error as SyncError {
      throw error
    } catch {
      throw SyncError(
        .badInput, detail: "\(file): not a valid sync state file",
        hints: ["remove it: the next sync rewrites every item once and records it again"])
    }
  }

  /// Encodes the state with sorted keys and a final newline.
  /// - Parameter destination: the destination's name, recorded in the file.
  /// - Returns: UTF-8 JSON.
  package func encoded(destination: String) -> [UInt8] {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
    let data = (try? encoder.encode(File(version: 1, destination: destination, secrets: secrets, variables: variables))) ?? Data()
    return Array(data) + [0x0A]
  }
}
