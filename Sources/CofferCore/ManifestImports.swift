import Yams

/// One entry of a manifest's `imports:` list: a base manifest (a shared catalog) whose groups and secret
/// definitions this manifest draws on.
///
/// Written as a string (a path) or a mapping `{ path: ../catalog }` or `{ git: URL, ref: main, path: catalog }`.
/// A path is relative to the importing manifest's directory (or, with `git`, to the repository's root) and names a
/// manifest file or a directory holding `coffer.yaml`. Equality ignores ``line`` and ``column``.
public struct ManifestImport: Sendable, Equatable, Hashable {
  /// The path of the imported manifest or of its directory, if set.
  public var path: String?
  /// The git repository's URL (or local path) for a `git:` import, if set.
  public var git: String?
  /// The branch, tag or commit to fetch for a `git:` import, if set.
  public var ref: String?
  /// The 1-based line of the entry in the importing manifest, or 0 when built in memory.
  public var line: Int
  /// The 1-based column of the entry, or 0 when built in memory.
  public var column: Int

  /// Creates an import entry.
  /// - Parameters:
  ///   - path: the imported manifest's path (or directory), if any.
  ///   - git: a git repository to fetch it from, if any.
  ///   - ref: the git ref, if any.
  ///   - line: where it is declared, or 0.
  ///   - column: where it is declared, or 0.
  public init(path: String? = nil, git: String? = nil, ref: String? = nil, line: Int = 0, column: Int = 0) {
    self.path = path
    self.git = git
    self.ref = ref
    self.line = line
    self.column = column
  }

  /// Compares every field except ``line`` and ``column``.
  public static func == (lhs: ManifestImport, rhs: ManifestImport) -> Bool {
    lhs.path == rhs.path && lhs.git == rhs.git && lhs.ref == rhs.ref
  }

  /// Hashes every field except ``line`` and ``column``.
  public func hash(into hasher: inout Hasher) {
    hasher.combine(path)
    hasher.combine(git)
    hasher.combine(ref)
  }
}

/// A place in a manifest file: `file:line:column`.
public struct ManifestLocation: Sendable, Equatable, Hashable, CustomStringConvertible {
  /// The file's display name (relative to the importing project where possible).
  public var file: String
  /// The 1-based line, or 0 when unknown.
  public var line: Int
  /// The 1-based column, or 0 when unknown.
  public var column: Int

  /// Creates a location.
  /// - Parameters:
  ///   - file: the file's display name.
  ///   - line: the 1-based line, or 0.
  ///   - column: the 1-based column, or 0.
  public init(file: String, line: Int, column: Int) {
    self.file = file
    self.line = line
    self.column = column
  }

  /// `file:line:column`, or just `file` when the line is unknown.
  public var description: String { line > 0 ? "\(file):\(line):\(column)" : file }
}

/// A decoded manifest together with where each of its fields is written, the input of ``ManifestMerger``.
public struct ManifestSource: Sendable {
  /// The file's display name, used in errors and provenance.
  public let file: String
  /// The decoded manifest, its `imports:` unresolved.
  public let manifest: Manifest
  /// Dotted field path (`secrets.NAME`, `secrets.NAME.group`, `groups.G.rotation`, `imports[0]`,
  /// `access[0].groups[1]`) → where it is written.
  let positions: [String: ManifestPosition]

  /// Decodes a manifest and records where its fields are.
  ///
  /// Pure: the bytes are the whole input.
  /// - Parameters:
  ///   - bytes: the file's contents, UTF-8.
  ///   - file: the name to show in errors and provenance.
  ///   - imported: `true` for a file another manifest imports (a catalog): `project` and `environments` may then
  ///     be left out.
  /// - Returns: the decoded source.
  /// - Throws: ``ManifestError`` as ``Manifest/decode(_:file:)`` does.
  public static func parse(_ bytes: [UInt8], file: String, imported: Bool = false) throws(ManifestError)
    -> ManifestSource
  {
    var decoder = ManifestDecoder(file: file)
    decoder.importMode = imported
    let document = try decoder.decodeDocument(bytes)
    return ManifestSource(file: file, manifest: document.manifest, positions: decoder.fieldPositions(document.root))
  }

  /// Where a dotted field path is written, if it is.
  /// - Parameter path: such as `secrets.OPENAI_API_KEY.group`.
  public func location(of path: String) -> ManifestLocation? {
    positions[path].map { ManifestLocation(file: file, line: $0.line, column: $0.column) }
  }

  func here(_ path: String, or fallback: String) -> ManifestLocation {
    location(of: path) ?? location(of: fallback) ?? ManifestLocation(file: file, line: 0, column: 0)
  }
}

extension ManifestDecoder {
  /// Decodes `imports:` (a list of paths or `{ path, git, ref }` mappings).
  func decodeImports(_ node: Node) throws(ManifestError) -> [ManifestImport] {
    if case .scalar = node, classify(node) == .null { return [] }
    guard case .sequence(let sequence) = node else {
      throw error(at: node, field: "imports", "expected a list of imports (paths or { path, git, ref } mappings)")
    }
    var imports: [ManifestImport] = []
    for (index, item) in sequence.enumerated() {
      let path = "imports[\(index)]"
      let where_ = position(of: item)
      var entry = ManifestImport(line: where_.line, column: where_.column)
      switch item {
      case .scalar:
        guard let text = try optionalString(item, path: path), !text.isEmpty else {
          throw error(at: item, field: path, "expected a path or a { path, git, ref } mapping")
        }
        entry.path = text
      case .mapping(let mapping):
        for (key, value) in mapping {
          let field = try keyText(key, parent: path)
          let fieldPath = path + "." + field
          guard let text = try optionalString(value, path: fieldPath), !text.isEmpty else {
            throw error(at: value, field: fieldPath, "expected a non-empty string")
          }
          switch field {
          case "path": entry.path = text
          case "git": entry.git = text
          case "ref": entry.ref = text
          default: throw unknownField(key, name: field, path: fieldPath, allowed: ["path", "git", "ref"])
          }
        }
        guard entry.path != nil || entry.git != nil else {
          throw error(at: item, field: path, "expected path or git")
        }
        if entry.ref != nil, entry.git == nil {
          throw error(at: item, field: path + ".ref", "ref is only meaningful with git")
        }
      default:
        throw error(at: item, field: path, "expected a path or a { path, git, ref } mapping, found \(kind(of: item))")
      }
      imports.append(entry)
    }
    return imports
  }

  /// Where the fields merging cares about are written: for a mapping entry, its value (a scalar or a list), else
  /// its key.
  func fieldPositions(_ root: Node.Mapping) -> [String: ManifestPosition] {
    var positions: [String: ManifestPosition] = [:]
    func record(_ mapping: Node.Mapping, under prefix: String, depth: Int) {
      for (key, value) in mapping {
        guard let name = key.string else { continue }
        let path = prefix + name
        positions[path] = position(of: key)
        guard depth > 0, case .mapping(let fields) = value else { continue }
        for (fieldKey, fieldValue) in fields {
          guard let field = fieldKey.string else { continue }
          if case .mapping = fieldValue {
            positions[path + "." + field] = position(of: fieldKey)
          } else {
            positions[path + "." + field] = position(of: fieldValue)
          }
        }
      }
    }
    for (key, value) in root {
      guard let section = key.string else { continue }
      switch (section, value) {
      case ("groups", .mapping(let mapping)), ("secrets", .mapping(let mapping)):
        record(mapping, under: section + ".", depth: 1)
      case ("imports", .sequence(let items)):
        for (index, item) in items.enumerated() { positions["imports[\(index)]"] = position(of: item) }
      case ("access", .sequence(let rules)):
        for (index, rule) in rules.enumerated() {
          guard case .mapping(let fields) = rule else { continue }
          for (fieldKey, fieldValue) in fields where fieldKey.string == "groups" {
            guard case .sequence(let items) = fieldValue else { continue }
            for (itemIndex, item) in items.enumerated() {
              positions["access[\(index)].groups[\(itemIndex)]"] = position(of: item)
            }
          }
        }
      default: break
      }
    }
    return positions
  }
}
