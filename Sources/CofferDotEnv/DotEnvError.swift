import CofferCore

/// A `.env` file that cannot be read: the whole import is refused and nothing is written.
///
/// The description is `<file>:<line>: <message>`, one lowercase line with no final period. It names the line, and
/// where useful a key and the column of a `$` reference, but never a value or any fragment of one (not the name a
/// `$` refers to either, which may be part of a password), not even
/// the rest of the offending line.
public struct DotEnvError: CofferError, Equatable {
  /// The path named in diagnostics, as given to ``DotEnvParser/parse(_:file:)``.
  public let file: String
  /// The 1-based line the problem is on; for a multi-line quoted value, the line where the quote opened.
  public let line: Int
  /// What is wrong, lowercase, with no final period and no value text.
  public let message: String
  /// A suggestion for the user, if there is one.
  public let hint: String?

  /// Creates an error.
  /// - Parameters:
  ///   - file: the path to name in diagnostics.
  ///   - line: the 1-based line number.
  ///   - message: what is wrong; must not contain any value text.
  ///   - hint: an optional suggestion; must not contain any value text.
  public init(file: String, line: Int, message: String, hint: String? = nil) {
    self.file = file
    self.line = line
    self.message = message
    self.hint = hint
  }

  /// Always ``ExitStatus/badInput``: the input was refused and nothing was written.
  public var exitStatus: ExitStatus { .badInput }

  /// The hint, if any, as a one-element list.
  public var hints: [String] { hint.map { [$0] } ?? [] }

  /// `<file>:<line>: <message>`.
  public var description: String { "\(file):\(line): \(message)" }
}

/// Something in a `.env` file that was read but deserves the user's attention (a duplicate key, a `$(...)` kept
/// literally). Never contains a value.
public struct DotEnvWarning: Sendable, Equatable, CustomStringConvertible {
  /// The 1-based line the warning is about.
  public let line: Int
  /// What was noticed, lowercase, with no value text.
  public let message: String

  /// Creates a warning.
  /// - Parameters:
  ///   - line: the 1-based line number.
  ///   - message: the text; must not contain any value text.
  public init(line: Int, message: String) {
    self.line = line
    self.message = message
  }

  /// `line <n>: <message>`.
  public var description: String { "line \(line): \(message)" }
}

/// The result of reading a `.env` file: the document and the warnings noticed along the way.
public struct DotEnvParseResult: Sendable {
  /// The lossless document.
  public let document: DotEnvDocument
  /// Warnings, in line order.
  public let warnings: [DotEnvWarning]

  /// Creates a result.
  /// - Parameters:
  ///   - document: the parsed document.
  ///   - warnings: the warnings noticed while parsing.
  public init(document: DotEnvDocument, warnings: [DotEnvWarning]) {
    self.document = document
    self.warnings = warnings
  }
}
