/// A problem with a manifest (`coffer.yaml`), located at the node that caused it.
///
/// ``description`` reads `coffer.yaml:12:5: secrets.OPENAI_API_KEY.required: expected true, false or a list of
/// environments`: file, 1-based line and column (columns count Unicode scalars, as libyaml does), the dotted
/// ``field`` path, then the message. When the error is not tied to a position in the file (``line`` is 0, as for
/// a bad argument given to ``ManifestEditor``), the position is left out; when ``field`` is empty (a YAML syntax
/// error, an empty file), the field is left out. The message never contains a secret value.
public struct ManifestError: CofferError, Equatable {
  /// The file name as given to the decoder (for display only; nothing is read).
  public var file: String
  /// The 1-based line of the offending node, or 0 when the error has no position.
  public var line: Int
  /// The 1-based column of the offending node, counted in Unicode scalars, or 0 when the error has no position.
  public var column: Int
  /// The dotted path of the offending field, such as `secrets.OPENAI_API_KEY.required` or `environments[2]`
  /// (list indices are 0-based); empty when the error concerns the document as a whole.
  public var field: String
  /// What is wrong, one lowercase line with no final period.
  public var message: String
  /// Suggestions for the user (for example a likely intended field name); may be empty.
  public var hints: [String]

  /// Creates a manifest error.
  /// - Parameters:
  ///   - file: the file name to show.
  ///   - line: the 1-based line, or 0 when there is no position.
  ///   - column: the 1-based column in Unicode scalars, or 0 when there is no position.
  ///   - field: the dotted field path, or an empty string.
  ///   - message: one lowercase line with no final period.
  ///   - hints: suggestions for the user.
  public init(file: String, line: Int, column: Int, field: String, message: String, hints: [String] = []) {
    self.file = file
    self.line = line
    self.column = column
    self.field = field
    self.message = message
    self.hints = hints
  }

  /// Always ``ExitStatus/badInput``: a manifest error means nothing was done.
  public var exitStatus: ExitStatus { .badInput }

  /// `file:line:column: field: message`, leaving out the position when ``line`` is 0 and the field when empty.
  public var description: String {
    var text = file
    if line > 0 { text += ":\(line):\(column)" }
    text += ": "
    if !field.isEmpty { text += field + ": " }
    return text + message
  }
}
