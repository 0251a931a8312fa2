import CofferCore

/// The one error type of CofferDiscover: a template that cannot be read, with its file and line. Never carries a
/// value or a fragment of the file's text.
public struct DiscoverError: CofferError, Equatable {
  /// The file as given.
  public var file: String
  /// The 1-based line, or 0 when the problem has no position.
  public var line: Int
  /// What is wrong, one lowercase line with no final period.
  public var message: String
  /// Suggestions for the user.
  public var hints: [String]

  /// Creates an error.
  /// - Parameters:
  ///   - file: the file as given.
  ///   - line: the 1-based line, or 0.
  ///   - message: one lowercase line with no final period, never containing a value.
  ///   - hints: suggestions.
  public init(file: String, line: Int = 0, message: String, hints: [String] = []) {
    self.file = file
    self.line = line
    self.message = message
    self.hints = hints
  }

  /// Always ``ExitStatus/badInput``.
  public var exitStatus: ExitStatus { .badInput }

  /// `file:line: message`, without the line when it is 0.
  public var description: String { line > 0 ? "\(file):\(line): \(message)" : "\(file): \(message)" }
}
