import CofferCore

/// A problem while planning or applying a sync, or while sealing a value.
///
/// ``description`` names the destination, the operation and (for HTTP) the method, path and status; it never
/// contains a secret value or a token. Public codes are struct-wrapped so new ones can be added.
package struct SyncError: CofferError, Equatable {
  /// What went wrong, by kind.
  package struct Code: Hashable, Sendable, CustomStringConvertible {
    let name: String
    /// The remote answered with an error status, or could not be reached after retries.
    package static let remoteFailed = Code(name: "remote failed")
    /// The remote rejected the token (401) or the permission (403).
    package static let accessDenied = Code(name: "access denied")
    /// A response could not be understood (bad JSON, missing field, bad key).
    package static let badResponse = Code(name: "bad response")
    /// A value cannot be sealed (libsodium failure) or opened.
    package static let sealFailed = Code(name: "seal failed")
    /// A destination or option is not usable as given (no token, bad URL).
    package static let badInput = Code(name: "bad input")
    /// A concurrent change won twice in a row (Pulumi ESC 409 after a re-read).
    package static let conflict = Code(name: "conflict")
    package var description: String { name }
  }

  /// The kind of failure.
  package var code: Code
  /// The destination it concerns, or an empty string.
  package var destination: String
  /// What exactly failed: `PUT /repos/o/r/actions/secrets/NAME: 422 …`; never a value or token.
  package var detail: String
  /// Suggestions for the user.
  package var hints: [String]
  /// Whether no answer came at all (connection refused, timeout, after the retries), as opposed to an error
  /// status: an environment whose store is unreachable fails with exit 3 or reads its offline cache.
  package var noAnswer = false

  /// Creates an error.
  /// - Parameters:
  ///   - code: the kind of failure.
  ///   - destination: the destination's name, or "".
  ///   - detail: a lowercase detail without values or tokens.
  ///   - hints: suggestions.
  package init(_ code: Code, destination: String = "", detail: String, hints: [String] = []) {
    self.code = code
    self.destination = destination
    self.detail = detail
    self.hints = hints
  }

  /// ``ExitStatus/remoteFailed`` for remote failures, ``ExitStatus/badInput`` for bad input,
  /// ``ExitStatus/accessDenied`` when the remote refused the token.
  package var exitStatus: ExitStatus {
    switch code {
    case .badInput: return .badInput
    default: return .remoteFailed
    }
  }

  /// `destination: detail`, or just the detail.
  package var description: String { destination.isEmpty ? detail : "\(destination): \(detail)" }
}
