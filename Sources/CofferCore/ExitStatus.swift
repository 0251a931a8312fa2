/// The process exit statuses Coffer uses, by meaning.
///
/// Scripts may branch on these numbers; they are part of the CLI's contract (docs/architecture.md).
public enum ExitStatus: Int32, Sendable {
  /// Success.
  case ok = 0
  /// A check or scan ran and found problems; a sync delivered what it could but blocked something.
  case problemsFound = 1
  /// Bad usage or bad input; nothing was written.
  case badInput = 2
  /// Access or decryption failure (no identity, an identity that cannot be read, wrong key, tampered vault, a file
  /// whose owner cannot be kept).
  case accessDenied = 3
  /// A remote destination failed; results are reported per secret.
  case remoteFailed = 4
}

/// An error that knows how the command line should present it.
///
/// Every module's error type conforms. `description` is one lowercase line with no final period and never contains
/// a secret value; ``hints`` are extra lines the CLI prints as `coffer: hint: …`.
public protocol CofferError: Error, CustomStringConvertible {
  /// The exit status the CLI uses when this error ends a command.
  var exitStatus: ExitStatus { get }
  /// Suggestions for the user, one per line; may be empty.
  var hints: [String] { get }
}

extension CofferError {
  public var hints: [String] { [] }
}
