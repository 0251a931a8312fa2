import Yams

/// Line-preserving edits of manifest text.
///
/// Edits change only the lines they must; every other line, comments and blank lines included, is kept byte for
/// byte (line endings too: new lines use `\r\n` when the edited file does). Each edit decodes the result again
/// and refuses (with a ``ManifestError``) rather than write a file that would not decode to the intended manifest.
public enum ManifestEditor {
  /// Adds a recipient to the `recipients` mapping, or changes the recipient of an existing name.
  ///
  /// - An existing name has its value replaced in place (the rest of its line, such as a comment, is kept).
  /// - A new name is appended after the last entry of a block `recipients` mapping, with the same indentation.
  /// - An empty `recipients:` gets the entry on the next line; a one-line flow mapping (`recipients: {}`) or a
  ///   null literal on the key's line is turned into a block mapping on that line only.
  /// - Without a `recipients` key, a block is inserted after the `environments` entry (before any blank or
  ///   comment lines that precede the next top-level key).
  ///
  /// Adding a name that already has this exact recipient returns `text` unchanged.
  /// - Parameters:
  ///   - name: the recipient's name, matching `[A-Za-z0-9][A-Za-z0-9._@+-]*`.
  ///   - recipient: an age X25519 recipient (`age1…`, lowercase bech32).
  ///   - text: the current manifest text; it must decode.
  ///   - file: the name to show in errors.
  /// - Returns: the edited text.
  /// - Throws: ``ManifestError`` when `text` does not decode (with its position), when the name or recipient is
  ///   invalid or the recipient is already listed under another name (no position), or when the layout cannot
  ///   be edited safely (for example a top-level flow mapping or a multi-line flow `recipients` mapping).
  public static func addingRecipient(
    name: String, recipient: String, to text: String, file: String = "coffer.yaml"
  ) throws(ManifestError) -> String {
    let field = "recipients." + name
    func failure(_ message: String) -> ManifestError {
      ManifestError(file: file, line: 0, column: 0, field: field, message: message)
    }
    guard ManifestSyntax.isRecipientName(name) else {
      throw failure("\"\(name)\" is not a valid recipient name; \(ManifestSyntax.recipientNameRule)")
    }
    guard ManifestSyntax.isAgeRecipient(recipient) else { throw failure(ManifestSyntax.recipientRule) }

    let decoder = ManifestDecoder(file: file)
    let document = try decoder.decodeDocument(Array(text.utf8))
    var expected = document.manifest
    if let other = expected.recipients.first(where: { $0.recipient == recipient && $0.name != name }) {
      throw failure("the same recipient is already listed as \(other.name)")
    }
    if let index = expected.recipients.firstIndex(where: { $0.name == name }) {
      if expected.recipients[index].recipient == recipient { return text }
      expected.recipients[index].recipient = recipient
    } else {
      expected.recipients.append(ManifestRecipient(name: name, recipient: recipient))
    }

    var editor = LineEditor(text: text)
    let cannotEdit = failure("cannot edit this layout of recipients safely; edit coffer.yaml by hand")
    let root = document.root
    let pairs = root.map { (key: $0.key, value: $0.value) }
    guard let firstKey = pairs.first?.key, editor.scalar(at: decoder.position(of: firstKey)) != "{" else {
      throw cannotEdit
    }
    let entryText = "\(YAMLText.scalar(name)): \(recipient)"

    if let index = pairs.firstIndex(where: { $0.key.scalar?.string == "recipients" }) {
      let keyPosition = decoder.position(of: pairs[index].key)
      let value = pairs[index].value
      let valuePosition = decoder.position(of: value)
      let childIndent = String(repeating: " ", count: keyPosition.column - 1 + 2)
      switch value {
      case .mapping(let mapping) where editor.scalar(at: valuePosition) != "{":
        let entries = mapping.map { (key: $0.key, value: $0.value) }
        if let existing = entries.first(where: { $0.key.scalar?.string == name }) {
          guard editor.replaceToken(at: decoder.position(of: existing.value), with: recipient) else { throw cannotEdit }
        } else {
          guard let firstEntry = entries.first else { throw cannotEdit }
          let indent = String(repeating: " ", count: decoder.position(of: firstEntry.key).column - 1)
          let lastLine = entries.map { decoder.position(of: $0.value).line }.max() ?? keyPosition.line
          editor.insert([indent + entryText], afterLine: lastLine)
        }
      case .scalar(let scalar) where scalar.string.isEmpty && scalar.style != .singleQuoted
        && scalar.style != .doubleQuoted:
        editor.insert([childIndent + entryText], afterLine: keyPosition.line)
      case .mapping, .scalar:
        // A one-line flow mapping or a null literal on the key's line: rewrite that line as a block.
        guard valuePosition.line == keyPosition.line,
          editor.removeInlineValue(at: valuePosition, flow: editor.scalar(at: valuePosition) == "{")
        else { throw cannotEdit }
        let lines = expected.recipients.map { childIndent + "\(YAMLText.scalar($0.name)): \($0.recipient)" }
        editor.insert(lines, afterLine: keyPosition.line)
      default:
        throw cannotEdit
      }
    } else {
      guard let index = pairs.firstIndex(where: { $0.key.scalar?.string == "environments" }) else {
        throw cannotEdit
      }
      let keyPosition = decoder.position(of: pairs[index].key)
      let nextLine = index + 1 < pairs.count ? decoder.position(of: pairs[index + 1].key).line : editor.lineCount + 1
      var last = nextLine - 1
      while last > keyPosition.line, editor.isBlankOrComment(line: last) { last -= 1 }
      let indent = String(repeating: " ", count: keyPosition.column - 1)
      editor.insert([indent + "recipients:", indent + "  " + entryText], afterLine: last)
    }

    let result = editor.text
    guard let decoded = try? decoder.decodeDocument(Array(result.utf8)).manifest, decoded == expected else {
      throw cannotEdit
    }
    return result
  }
}

/// A text as lines of Unicode scalars, addressed by 1-based line and column as in Yams marks.
struct LineEditor {
  var lines: [[Unicode.Scalar]]
  let lineEnd: [Unicode.Scalar]

  init(text: String) {
    lines = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map { Array($0) }
    lineEnd = lines.first?.last == "\r" ? ["\r"] : []
  }

  var lineCount: Int { lines.count }

  var text: String {
    var view = String.UnicodeScalarView()
    for (index, line) in lines.enumerated() {
      if index > 0 { view.append("\n") }
      view.append(contentsOf: line)
    }
    return String(view)
  }

  func scalar(at position: ManifestPosition) -> Unicode.Scalar? {
    let row = position.line - 1
    let column = position.column - 1
    guard row >= 0, row < lines.count, column >= 0, column < lines[row].count else { return nil }
    return lines[row][column]
  }

  func isBlankOrComment(line: Int) -> Bool {
    guard line >= 1, line <= lines.count else { return true }
    let content = lines[line - 1].drop { $0 == " " || $0 == "\t" || $0 == "\r" }
    return content.isEmpty || content.first == "#"
  }

  /// Inserts lines after a 1-based line (0 inserts at the top), each ending like the file's first line.
  mutating func insert(_ newLines: [String], afterLine line: Int) {
    let index = min(max(line, 0), lines.count)
    lines.insert(contentsOf: newLines.map { Array($0.unicodeScalars) + lineEnd }, at: index)
  }

  /// Replaces the plain or quoted one-line scalar starting at `position` with `replacement`.
  mutating func replaceToken(at position: ManifestPosition, with replacement: String) -> Bool {
    let row = position.line - 1
    let start = position.column - 1
    guard row >= 0, row < lines.count, start >= 0, start < lines[row].count else { return false }
    let line = lines[row]
    let end: Int
    switch line[start] {
    case "\"", "'":
      guard let close = line[(start + 1)...].firstIndex(of: line[start]) else { return false }
      end = close + 1
    case "|", ">", "{", "[", "&", "*", "!":
      return false
    default:
      end = line[start...].firstIndex { $0 == " " || $0 == "\t" || $0 == "\r" } ?? line.count
    }
    lines[row] = Array(line[..<start]) + Array(replacement.unicodeScalars) + Array(line[end...])
    return true
  }

  /// Removes the value starting at `position` (a one-line flow collection, or a plain token) and the spaces
  /// before it, keeping what follows (such as a comment).
  mutating func removeInlineValue(at position: ManifestPosition, flow: Bool) -> Bool {
    let row = position.line - 1
    let start = position.column - 1
    guard row >= 0, row < lines.count, start >= 0, start < lines[row].count else { return false }
    let line = lines[row]
    var end: Int
    if flow {
      guard let close = Self.matchingClose(line, from: start) else { return false }
      end = close + 1
    } else {
      end = line[start...].firstIndex { $0 == " " || $0 == "\t" || $0 == "\r" } ?? line.count
    }
    var head = Array(line[..<start])
    while let last = head.last, last == " " || last == "\t" { head.removeLast() }
    if end < line.count, line[end] != "\r", line[end...].contains(where: { $0 != " " && $0 != "\t" && $0 != "\r" }) {
      // Keep the spacing before a trailing comment.
      lines[row] = head + Array(line[end...])
    } else {
      while end < line.count, line[end] == " " || line[end] == "\t" { end += 1 }
      lines[row] = head + Array(line[end...])
    }
    return true
  }

  /// The index of the bracket closing the flow collection opened at `start`, skipping quoted text.
  static func matchingClose(_ line: [Unicode.Scalar], from start: Int) -> Int? {
    var depth = 0
    var index = start
    while index < line.count {
      let scalar = line[index]
      switch scalar {
      case "{", "[": depth += 1
      case "}", "]":
        depth -= 1
        if depth == 0 { return index }
      case "'":
        index += 1
        while index < line.count {
          if line[index] == "'" {
            if index + 1 < line.count, line[index + 1] == "'" { index += 1 } else { break }
          }
          index += 1
        }
      case "\"":
        index += 1
        while index < line.count, line[index] != "\"" {
          if line[index] == "\\" { index += 1 }
          index += 1
        }
      default: break
      }
      index += 1
    }
    return nil
  }
}
