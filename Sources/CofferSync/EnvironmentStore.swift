public import CofferCore

/// Where an environment's values live: the committed vault (the default), or a server named by the environment's
/// `store:` in coffer.yaml (OpenBao or Vault KV v2, AWS Secrets Manager). `get`, `set`, `list`, `check`, `export`,
/// `run`, `history` and `migrate-store` go through this protocol.
///
/// Every error a store throws names the store, the server, the path and the status, never a value or token.
package protocol EnvironmentStore: Sendable {
  /// The store, for messages: `bao-prod (openbao 127.0.0.1:8200 secret/app/prod)` or `the vault`.
  var location: String { get }

  /// Every current value, sorted by name.
  /// - Returns: the values; empty when the store holds nothing for the environment yet.
  /// - Throws: ``StoreError`` (or the vault's errors) when the store cannot be read.
  func readAll() async throws -> [StoredValue]

  /// One name's value.
  /// - Parameters:
  ///   - name: the secret's name.
  ///   - version: a version number from ``versions(of:)``, or `nil` for the current value.
  /// - Returns: the value, or `nil` when the name has none (at that version).
  /// - Throws: ``StoreError`` when the store cannot be read.
  func read(_ name: String, version: Int?) async throws -> StoredValue?

  /// Writes one value with check-and-set: the write succeeds only if nobody else wrote the name since this
  /// call read it; otherwise it fails with ``StoreError/Kind/conflict`` and nothing is written.
  /// - Parameters:
  ///   - name: the secret's name.
  ///   - value: the new value (UTF-8 text for the server stores).
  /// - Returns: the new version number.
  /// - Throws: ``StoreError``.
  func write(_ name: String, _ value: SecretValue) async throws -> Int

  /// Writes several values (`migrate-store`), each with check-and-set as ``write(_:_:)``.
  /// - Parameter values: names and values; names not given are left as they are.
  /// - Throws: ``StoreError``; values written before the failure stay written.
  func writeAll(_ values: [(name: String, value: SecretValue)]) async throws

  /// The versions of a name, newest first.
  /// - Parameter name: the secret's name.
  /// - Returns: the versions the store keeps in which the name's value changed; empty when it has none.
  /// - Throws: ``StoreError`` when the store cannot be read.
  func versions(of name: String) async throws -> [StoredVersion]
}

/// One value read from an ``EnvironmentStore``.
package struct StoredValue: Sendable {
  /// The secret's name.
  package var name: String
  /// The value.
  package var value: SecretValue
  /// The store's version number of the value (for a server store with one secret per environment, the version of
  /// that secret).
  package var version: Int

  /// Creates a stored value.
  package init(name: String, value: SecretValue, version: Int) {
    self.name = name
    self.value = value
    self.version = version
  }
}

/// One version of a name in an ``EnvironmentStore``: metadata only, never a value.
package struct StoredVersion: Sendable, Equatable {
  /// The version number.
  package var number: Int
  /// When the server recorded it (RFC 3339, as the server gives it), or "".
  package var created: String
  /// Whether the version was deleted (soft delete) at the server.
  package var deleted: Bool

  /// Creates a version entry.
  package init(number: Int, created: String, deleted: Bool = false) {
    self.number = number
    self.created = created
    self.deleted = deleted
  }
}

/// A store that could not be read or written.
///
/// The description names the store, the server, the request path and status, never a value or a token. Exit
/// statuses (docs/architecture.md): a server that cannot be reached, or that refuses the token, is an access
/// failure (3: the values cannot be had); a conflict or another server failure is a remote failure (4); a value the
/// store cannot hold is bad input (2).
package struct StoreError: CofferError, Equatable {
  /// What went wrong, by kind.
  package enum Kind: String, Sendable, Equatable {
    /// No answer from the server (connection refused, timeout) after the retries.
    case unreachable
    /// The server refused the token or the path (401, 403), or no token could be had.
    case denied
    /// Someone else wrote between Coffer's read and its write (check-and-set failed).
    case conflict
    /// Another error status or an answer Coffer does not understand.
    case failed
    /// A value the store cannot hold (not UTF-8 text for KV's JSON).
    case badInput
  }

  /// The kind of failure.
  package var kind: Kind
  /// The store's name (the destination named by `store:`).
  package var store: String
  /// What failed: `127.0.0.1:8200: GET /v1/secret/data/app/prod: 403 permission denied`; never a value or token.
  package var detail: String
  /// Suggestions for the user.
  package var hints: [String]

  /// Creates an error.
  /// - Parameters:
  ///   - kind: the kind of failure.
  ///   - store: the store's name.
  ///   - detail: server, request and status; never a value or token.
  ///   - hints: suggestions.
  package init(_ kind: Kind, store: String, detail: String, hints: [String] = []) {
    self.kind = kind
    self.store = store
    self.detail = detail
    self.hints = hints
  }

  /// 3 when unreachable or refused, 2 for a value the store cannot hold, 4 otherwise.
  package var exitStatus: ExitStatus {
    switch kind {
    case .unreachable, .denied: return .accessDenied
    case .badInput: return .badInput
    case .conflict, .failed: return .remoteFailed
    }
  }

  /// `store bao-prod: detail`.
  package var description: String { "store \(store): \(detail)" }
}
