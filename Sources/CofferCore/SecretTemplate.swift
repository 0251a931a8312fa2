/// A template with `{{ coffer "NAME" }}` references, as `coffer inject` renders it (docs/run.md).
///
/// A reference is `{{`, optional spaces or tabs, the word `coffer`, spaces or tabs, a double-quoted reference, optional
/// spaces or tabs, `}}`. The quoted text is `NAME` (the environment `inject` was given) or `ENV/NAME` (another
/// environment). Every other `{{` is text and is copied as it is, so templates of other tools (Helm, Go, Jinja) pass
/// through untouched; a `{{ coffer` that does not complete a reference is an error, never text. Rendering is one pass:
/// a value that itself contains `{{ coffer "…" }}` is copied, not expanded. Parsing and rendering work on bytes, so
/// the output is byte-exact (CRLF, invalid UTF-8 and values with newlines included).
public struct SecretTemplate: Sendable, Equatable {
  /// One reference in a template.
  public struct Reference: Sendable, Equatable, Hashable {
    /// The environment named in the reference, or nil for the default one.
    public var environment: String?
    /// The secret's name.
    public var name: String
    /// The 1-based line of the reference's `{{`.
    public var line: Int
    /// The 1-based column (in bytes) of the reference's `{{`.
    public var column: Int

    /// - Parameters:
    ///   - environment: the environment, or nil for the default one.
    ///   - name: the secret's name.
    ///   - line: the 1-based line.
    ///   - column: the 1-based column.
    public init(environment: String?, name: String, line: Int, column: Int) {
      self.environment = environment
      self.name = name
      self.line = line
      self.column = column
    }
  }

  /// A piece of the template: text to copy, or a reference to replace.
  public enum Segment: Sendable, Equatable {
    /// Bytes copied as they are.
    case text([UInt8])
    /// A reference replaced by its value.
    case reference(Reference)
  }

  /// The pieces, in order.
  public var segments: [Segment]

  /// The references, in order of appearance (repeats included).
  public var references: [Reference] {
    segments.compactMap { if case .reference(let r) = $0 { return r } else { return nil } }
  }

  /// Parses a template.
  /// - Parameters:
  ///   - bytes: the template.
  ///   - file: the name shown in errors (`<stdin>` for standard input).
  /// - Returns: the template.
  /// - Throws: ``SecretTemplateError`` (exit 2) naming `file:line:column` for a `{{ coffer` that is not a complete
  ///   reference, or whose environment or name is not valid.
  public static func parse(_ bytes: [UInt8], file: String) throws(SecretTemplateError) -> SecretTemplate {
    var segments: [Segment] = []
    var text: [UInt8] = []
    var i = 0
    var line = 1
    var lineStart = 0
    let n = bytes.count
    func isBlank(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 }
    while i < n {
      if bytes[i] == 0x0A {
        text.append(bytes[i])
        i += 1
        line += 1
        lineStart = i
        continue
      }
      guard bytes[i] == 0x7B, i + 1 < n, bytes[i + 1] == 0x7B else {
        text.append(bytes[i])
        i += 1
        continue
      }
      // `{{`: a reference when the first word inside is `coffer`.
      var j = i + 2
      while j < n, isBlank(bytes[j]) { j += 1 }
      let word = Array("coffer".utf8)
      guard j + word.count <= n, Array(bytes[j..<(j + word.count)]) == word,
        j + word.count == n || isBlank(bytes[j + word.count]) || bytes[j + word.count] == 0x22
          || bytes[j + word.count] == 0x7D || bytes[j + word.count] == 0x0A || bytes[j + word.count] == 0x0D
      else {
        text.append(contentsOf: [0x7B, 0x7B])
        i += 2
        continue
      }
      let column = i - lineStart + 1
      func fail(_ message: String) -> SecretTemplateError {
        SecretTemplateError(file: file, line: line, column: column, message: message)
      }
      let malformed = "expected {{ coffer \"NAME\" }} or {{ coffer \"ENV/NAME\" }}"
      j += word.count
      while j < n, isBlank(bytes[j]) { j += 1 }
      guard j < n, bytes[j] == 0x22 else { throw fail(malformed) }
      j += 1
      let start = j
      while j < n, bytes[j] != 0x22, bytes[j] != 0x0A { j += 1 }
      guard j < n, bytes[j] == 0x22 else { throw fail(malformed) }
      let quoted = String(decoding: bytes[start..<j], as: UTF8.self)
      j += 1
      while j < n, isBlank(bytes[j]) { j += 1 }
      guard j + 1 < n, bytes[j] == 0x7D, bytes[j + 1] == 0x7D else { throw fail(malformed) }
      j += 2
      let parts = quoted.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
      let environment = parts.count == 2 ? parts[0] : nil
      let name = parts.count == 2 ? parts[1] : parts[0]
      if let environment, !ManifestSyntax.isEnvironmentName(environment) {
        throw fail("the environment in a reference must match [a-z0-9][a-z0-9._-]*")
      }
      guard SecretName.isValid(name) else {
        // The text is not shown: a value pasted where a name belongs must not reach a log.
        throw fail("the name in a reference is not a valid secret name ([A-Za-z_][A-Za-z0-9_]*)")
      }
      if !text.isEmpty {
        segments.append(.text(text))
        text = []
      }
      segments.append(.reference(Reference(environment: environment, name: name, line: line, column: column)))
      i = j
    }
    if !text.isEmpty { segments.append(.text(text)) }
    return SecretTemplate(segments: segments)
  }

  /// Renders the template: text as it is, each reference replaced by the bytes `resolve` returns for it.
  /// - Parameter resolve: the value of a reference; called once per reference, in order.
  /// - Returns: the output.
  /// - Throws: whatever `resolve` throws; nothing is returned then.
  public func render<E: Error>(_ resolve: (Reference) throws(E) -> [UInt8]) throws(E) -> [UInt8] {
    var out: [UInt8] = []
    for segment in segments {
      switch segment {
      case .text(let bytes): out.append(contentsOf: bytes)
      case .reference(let reference): out.append(contentsOf: try resolve(reference))
      }
    }
    return out
  }
}

/// A template that cannot be parsed, or a reference that cannot be resolved: `FILE:LINE:COLUMN: message`, never a
/// value.
public struct SecretTemplateError: CofferError, Equatable {
  /// The template's name (`<stdin>` for standard input).
  public let file: String
  /// The 1-based line.
  public let line: Int
  /// The 1-based column, in bytes.
  public let column: Int
  /// What is wrong.
  public let message: String
  /// The exit status: 2, or 3 when the reference names a group this identity cannot read.
  public var exitStatus: ExitStatus
  /// Suggestions.
  public var hints: [String]

  /// - Parameters:
  ///   - file: the template's name.
  ///   - line: the 1-based line.
  ///   - column: the 1-based column.
  ///   - message: what is wrong (no value).
  ///   - exitStatus: 2 by default.
  ///   - hints: suggestions.
  public init(file: String, line: Int, column: Int, message: String, exitStatus: ExitStatus = .badInput, hints: [String] = []) {
    self.file = file
    self.line = line
    self.column = column
    self.message = message
    self.exitStatus = exitStatus
    self.hints = hints
  }

  public var description: String { "\(file):\(line):\(column): \(message)" }
}
