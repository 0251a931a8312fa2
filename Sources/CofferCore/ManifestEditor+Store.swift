import Yams

extension ManifestEditor {
  /// Sets or removes an environment's `store:` (`coffer migrate-store`), changing only that item of the
  /// `environments` list.
  ///
  /// - Setting on a plain item (`production`, in a flow or block list) replaces it with
  ///   `{ name: production, store: NAME }`; on an item that already has a store, its value is replaced.
  /// - Removing turns the item back into the plain name: a one-line flow mapping in place; a block mapping item
  ///   (`- name: production` with `store:` and `cache_max_age:` on lines of their own) loses those lines.
  /// - Parameters:
  ///   - store: the destination's name, or `nil` to remove `store:`.
  ///   - environment: a declared environment.
  ///   - text: the manifest text; it must decode.
  ///   - file: the name to show in errors.
  /// - Returns: the edited text (`text` itself when nothing changes).
  /// - Throws: ``ManifestError`` when `text` does not decode, the result would not decode to the intended
  ///   manifest, or the layout cannot be edited safely.
  public static func settingStore(
    _ store: String?, environment: String, in text: String, file: String = "coffer.yaml"
  ) throws(ManifestError) -> String {
    let decoder = ManifestDecoder(file: file)
    let document = try decoder.decodeDocument(Array(text.utf8))
    var expected = document.manifest
    if expected.stores[environment] == store { return text }
    let cannotEdit = ManifestError(
      file: file, line: 0, column: 0, field: "environments",
      message: "cannot edit this layout of environments safely; edit coffer.yaml by hand")
    expected.stores[environment] = store
    if store == nil { expected.storeCacheMaxAge[environment] = nil }
    guard let entry = document.root.first(where: { $0.key.scalar?.string == "environments" }),
      case .sequence(let items) = entry.value
    else { throw cannotEdit }
    var editor = LineEditor(text: text)
    var done = false
    for item in items {
      switch item {
      case .scalar(let scalar) where scalar.string == environment:
        guard let store else { throw cannotEdit }
        guard
          editor.replaceName(
            at: decoder.position(of: item),
            with: "{ name: \(YAMLText.scalar(environment)), store: \(YAMLText.scalar(store)) }")
        else { throw cannotEdit }
        done = true
      case .mapping(let fields) where fields.first(where: { $0.key.scalar?.string == "name" })?.value.scalar?.string == environment:
        let position = decoder.position(of: item)
        let flow = editor.scalar(at: position) == "{"
        if let store {
          guard let value = fields.first(where: { $0.key.scalar?.string == "store" })?.value,
            editor.replaceName(at: decoder.position(of: value), with: YAMLText.scalar(store))
          else { throw cannotEdit }
        } else if flow {
          guard editor.replaceFlow(at: position, with: YAMLText.scalar(environment)) else { throw cannotEdit }
        } else {
          // Block mapping (`- name: production` first, then `store:` and `cache_max_age:` on lines of their own):
          // drop those lines, bottom first, and write the item as the plain name.
          let lines = fields.filter { ["store", "cache_max_age"].contains($0.key.scalar?.string ?? "") }
            .map { decoder.position(of: $0.key).line }.sorted(by: >)
          guard fields.count - lines.count == 1, !lines.contains(position.line),
            fields.first?.key.scalar?.string == "name"
          else { throw cannotEdit }
          for line in lines { editor.removeLine(line) }
          editor.replaceRestOfLine(at: position, with: YAMLText.scalar(environment))
        }
        done = true
      default:
        continue
      }
      break
    }
    guard done else { throw cannotEdit }
    let result = editor.text
    guard let decoded = try? decoder.decodeDocument(Array(result.utf8)).manifest, decoded == expected else {
      throw cannotEdit
    }
    return result
  }
}

extension LineEditor {
  /// Replaces the one-line flow collection starting at `position` with `replacement`.
  mutating func replaceFlow(at position: ManifestPosition, with replacement: String) -> Bool {
    let row = position.line - 1
    let start = position.column - 1
    guard row >= 0, row < lines.count, start >= 0, start < lines[row].count,
      let close = Self.matchingClose(lines[row], from: start)
    else { return false }
    lines[row] = Array(lines[row][..<start]) + Array(replacement.unicodeScalars) + Array(lines[row][(close + 1)...])
    return true
  }

  /// Replaces the name (an environment or destination name: no spaces, commas or brackets; plain or quoted)
  /// starting at `position`, in block or flow context.
  mutating func replaceName(at position: ManifestPosition, with replacement: String) -> Bool {
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
      end = line[start...].firstIndex { " \t\r,]}#".unicodeScalars.contains($0) } ?? line.count
    }
    lines[row] = Array(line[..<start]) + Array(replacement.unicodeScalars) + Array(line[end...])
    return true
  }

  /// Replaces everything from `position` to the end of its line.
  mutating func replaceRestOfLine(at position: ManifestPosition, with replacement: String) {
    let row = position.line - 1
    let start = position.column - 1
    guard row >= 0, row < lines.count, start >= 0, start <= lines[row].count else { return }
    lines[row] = Array(lines[row][..<start]) + Array(replacement.unicodeScalars) + lineEndOf(row)
  }

  func lineEndOf(_ row: Int) -> [Unicode.Scalar] { lines[row].last == "\r" ? ["\r"] : [] }

  /// Removes a 1-based line.
  mutating func removeLine(_ line: Int) {
    guard line >= 1, line <= lines.count else { return }
    lines.remove(at: line - 1)
  }
}
