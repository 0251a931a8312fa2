import CofferCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The one error type of the I/O edge: which operation on which path failed and why. Never carries a value.
package struct SystemError: CofferError, Equatable {
  /// What failed, e.g. `cannot read`.
  package let operation: String
  /// The path involved.
  package let path: String
  /// The reason (from `strerror`, or a sentence).
  package let reason: String
  /// Suggestions for the user.
  package let hints: [String]
  /// How the CLI should exit.
  package let exitStatus: ExitStatus

  /// Creates an error.
  /// - Parameters:
  ///   - operation: what was attempted (`cannot read`, `cannot write`).
  ///   - path: the file involved.
  ///   - reason: why it failed.
  ///   - status: the exit status to use.
  ///   - hints: suggestions.
  package init(_ operation: String, path: String, reason: String, status: ExitStatus = .badInput, hints: [String] = []) {
    self.operation = operation
    self.path = path
    self.reason = reason
    self.exitStatus = status
    self.hints = hints
  }

  static func errno(_ operation: String, path: String, status: ExitStatus = .badInput) -> SystemError {
    let code = Glibc.errno
    return SystemError(operation, path: path, reason: String(cString: strerror(code)), status: status)
  }

  package var description: String { "\(operation) \(path): \(reason)" }
}
