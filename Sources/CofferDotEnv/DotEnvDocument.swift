import CofferCore

/// A `.env` file held losslessly: every original line (comments, blank lines, `export` prefixes, quoting, CRLF
/// endings, a BOM) is kept, so entries that are not edited serialize byte for byte as they were read.
///
/// The document always means what its text means: `DotEnvParser.parse(DotEnvSerializer.serialize(doc))` yields the
/// same ``names`` and ``values``.
///
/// Editing rules:
/// - ``set(_:to:)`` rewrites the **last** assignment of the name in place as `NAME=<encoded>` (keeping its
///   indentation, `export ` prefix and trailing `# comment`) and **removes earlier duplicate assignments** of the
///   same name (so no stale copy of an old secret stays in the file), together with any bare `export NAME` line
///   that would now come before the first assignment. A new name is appended as `NAME=<encoded>` at the end.
/// - ``remove(_:)`` removes every assignment of the name and every bare `export NAME` line.
/// - An edit never changes the value of another key. A later entry whose text expands the edited name (`${NAME}`,
///   `$NAME`, `${NAME:-x}`, …) is rewritten to its current value, literally encoded, so it keeps that value; this
///   is the only case where an edit touches a line other than the edited key's.
public struct DotEnvDocument: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
  /// One assignment line (or several lines, for a multi-line quoted value).
  struct Assignment: Sendable {
    /// The key.
    var name: String
    /// The value, after decoding and expansion.
    var value: SecretValue
    /// Original bytes before the key: indentation and any `export ` prefix.
    var prefix: [UInt8]
    /// Original bytes after the value on its last line (whitespace and a `# comment`), without the line ending.
    var suffix: [UInt8]
    /// Names this entry's text expands; an edit of one of them freezes this entry.
    var references: Set<String>
  }

  /// What a stored item is.
  enum Kind: Sendable {
    /// A blank or comment line.
    case trivia
    /// `export NAME` with no value, for a name assigned earlier.
    case bareExport(String)
    /// An assignment.
    case assignment(Assignment)
  }

  /// A run of original lines and its meaning.
  struct Item: Sendable {
    /// The exact bytes, line ending included (the last line of a file may have none).
    var raw: [UInt8]
    /// The meaning of those bytes.
    var kind: Kind
  }

  /// The items, in file order.
  var items: [Item]
  /// Whether the file started with a UTF-8 byte order mark (kept on output).
  var hasBOM: Bool

  /// Assigned keys in first-assignment order, without duplicates.
  public private(set) var names: [String] = []
  private var finalValues: [String: SecretValue] = [:]

  /// An empty document (serializes to no bytes).
  public init() {
    self.items = []
    self.hasBOM = false
  }

  init(items: [Item], hasBOM: Bool) {
    self.items = items
    self.hasBOM = hasBOM
    reindex()
  }

  /// The value of a key: its last assignment wins.
  /// - Parameter name: the key.
  /// - Returns: the value, or `nil` if the key is not assigned.
  public func value(of name: String) -> SecretValue? { finalValues[name] }

  /// The final value of every key, in ``names`` order.
  public var values: [(name: String, value: SecretValue)] {
    names.compactMap { name in finalValues[name].map { (name: name, value: $0) } }
  }

  /// Sets a key, changing only that entry's text (see the type's editing rules).
  ///
  /// - Precondition: `DotEnvSerializer.isValidName(name)` and `value.isValidUTF8` (a `.env` file is UTF-8 text);
  ///   callers check both first.
  /// - Parameters:
  ///   - name: the key.
  ///   - value: the new value, stored byte-exact and never expanded.
  public mutating func set(_ name: String, to value: SecretValue) {
    precondition(DotEnvSerializer.isValidName(name), "invalid .env key name")
    let indices = assignmentIndices(of: name)
    guard let first = indices.first, let last = indices.last else {
      terminateLastLine()
      items.append(
        Item(
          raw: Array("\(name)=\(DotEnvSerializer.encode(value))\n".utf8),
          kind: .assignment(Assignment(name: name, value: value, prefix: [], suffix: [], references: []))))
      reindex()
      return
    }
    freezeEntries(referencing: name, after: first)
    if case .assignment(var assignment) = items[last].kind {
      assignment.value = value
      assignment.references = []
      items[last] = Self.rewritten(assignment)
    }
    var kept: [Item] = []
    kept.reserveCapacity(items.count)
    for (index, item) in items.enumerated() {
      if index < last {
        switch item.kind {
        case .assignment(let a) where a.name == name: continue
        case .bareExport(let n) where n == name: continue
        default: break
        }
      }
      kept.append(item)
    }
    items = kept
    reindex()
  }

  /// Removes every assignment of a key (and every bare `export NAME` line), keeping everything else.
  /// - Parameter name: the key; nothing happens if it is not assigned.
  public mutating func remove(_ name: String) {
    guard let first = assignmentIndices(of: name).first else { return }
    freezeEntries(referencing: name, after: first)
    items.removeAll { item in
      switch item.kind {
      case .assignment(let a): a.name == name
      case .bareExport(let n): n == name
      case .trivia: false
      }
    }
    reindex()
  }

  /// The document's bytes: the BOM if the original had one, then every item's text.
  var bytes: [UInt8] {
    var out: [UInt8] = hasBOM ? [0xEF, 0xBB, 0xBF] : []
    out.reserveCapacity(items.reduce(out.count) { $0 + $1.raw.count })
    for item in items { out += item.raw }
    return out
  }

  /// `DotEnvDocument(<n> entries)`: never a value.
  public var description: String { "DotEnvDocument(\(names.count) entries)" }
  /// Same as ``description``.
  public var debugDescription: String { description }
  /// A mirror with no children, so `dump` shows no bytes.
  public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }

  // MARK: - Private

  private func assignmentIndices(of name: String) -> [Int] {
    items.indices.filter { index in
      if case .assignment(let a) = items[index].kind { return a.name == name }
      return false
    }
  }

  /// Rewrites entries after `first` whose text expands `name` (other than `name`'s own assignments) so that they
  /// state their current value literally.
  private mutating func freezeEntries(referencing name: String, after first: Int) {
    for index in items.indices where index > first {
      guard case .assignment(var a) = items[index].kind, a.name != name, a.references.contains(name) else {
        continue
      }
      a.references = []
      items[index] = Self.rewritten(a)
    }
  }

  /// The item for an assignment written as `<prefix>NAME=<encoded><comment>\n`.
  private static func rewritten(_ assignment: Assignment) -> Item {
    var raw = assignment.prefix
    raw += Array("\(assignment.name)=\(DotEnvSerializer.encode(assignment.value))".utf8)
    var suffix = assignment.suffix
    while let byte = suffix.last, byte == 0x20 || byte == 0x09 { suffix.removeLast() }
    if let firstByte = suffix.first {
      if firstByte != 0x20 && firstByte != 0x09 { raw.append(0x20) }
      raw += suffix
    }
    raw.append(0x0A)
    var stored = assignment
    stored.suffix = suffix
    return Item(raw: raw, kind: .assignment(stored))
  }

  /// Makes sure the last item ends with a line feed before something is appended after it.
  private mutating func terminateLastLine() {
    guard let lastIndex = items.indices.last, items[lastIndex].raw.last != 0x0A else { return }
    items[lastIndex].raw.append(0x0A)
  }

  private mutating func reindex() {
    var names: [String] = []
    var finals: [String: SecretValue] = [:]
    for item in items {
      guard case .assignment(let a) = item.kind else { continue }
      if finals.updateValue(a.value, forKey: a.name) == nil { names.append(a.name) }
    }
    self.names = names
    self.finalValues = finals
  }
}
