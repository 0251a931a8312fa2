import Yams

/// A Pulumi ESC environment definition (YAML), read and edited as a node tree.
///
/// Coffer owns, for each item `NAME`, the entry `values.NAME` (`{fn::secret: "…"}` for a secret, a string for a
/// plain setting) and its projection `values.environmentVariables.NAME: ${NAME}`. Everything else (imports, other
/// values, `files`, `pulumiConfig`, the order of keys) is kept as it was. Comments are not kept: the definition is
/// re-serialized. Literal `$` in values is written as `$$`, ESC's escape for interpolation
/// (https://www.pulumi.com/docs/esc/environments/syntax/).
struct ESCDefinition {
  var pairs: [(Node, Node)]

  static let reservedKeys: Set<String> = ["environmentVariables", "files", "pulumiConfig"]

  /// Parses a definition; empty text is an empty definition.
  init(yaml: String) throws(SyncError) {
    let node: Node?
    do {
      node = try Yams.compose(yaml: yaml, Resolver.basic, Constructor.default, .utf8)
    } catch {
      throw SyncError(.badResponse, detail: "the environment definition is not valid YAML")
    }
    if let node, !Self.fits(node, budget: Self.nodeLimit) {
      throw SyncError(
        .badResponse, detail: "the environment definition expands to more than \(Self.nodeLimit) nodes (YAML aliases within aliases?)")
    }
    switch node {
    case nil: pairs = []
    case .mapping(let mapping)?: pairs = mapping.map { ($0.key, $0.value) }
    case .scalar(let scalar)? where scalar.string.isEmpty: pairs = []
    default: throw SyncError(.badResponse, detail: "the environment definition is not a mapping")
    }
  }

  /// The most nodes a definition may hold once aliases are expanded. Writing re-serializes the tree, which expands
  /// every alias, so a few lines of aliases within aliases (the "billion laughs") would otherwise exhaust memory.
  static let nodeLimit = 1_000_000

  /// Whether `node`, aliases expanded, has at most `budget` nodes (stops counting as soon as it has more).
  static func fits(_ node: Node, budget: Int) -> Bool {
    var remaining = budget
    func count(_ node: Node) -> Bool {
      remaining -= 1
      guard remaining >= 0 else { return false }
      switch node {
      case .mapping(let mapping): return mapping.allSatisfy { count($0.key) && count($0.value) }
      case .sequence(let sequence): return sequence.allSatisfy(count)
      default: return true
      }
    }
    return count(node)
  }

  /// The serialized YAML.
  func yaml() throws(SyncError) -> String {
    do {
      return try Yams.serialize(
        node: .mapping(Node.Mapping(pairs)), indent: 2, width: -1, allowUnicode: true)
    } catch {
      throw SyncError(.badResponse, detail: "the environment definition cannot be serialized")
    }
  }

  static func lookup(_ pairs: [(Node, Node)], _ key: String) -> Node? {
    pairs.last(where: { $0.0.scalar?.string == key })?.1
  }

  static func setting(_ pairs: [(Node, Node)], _ key: String, _ value: Node?) -> [(Node, Node)] {
    var out = pairs
    if let index = out.lastIndex(where: { $0.0.scalar?.string == key }) {
      if let value { out[index] = (out[index].0, value) } else { out.remove(at: index) }
    } else if let value {
      out.append((Node(key), value))
    }
    return out
  }

  var values: [(Node, Node)] {
    guard case .mapping(let mapping)? = Self.lookup(pairs, "values") else { return [] }
    return mapping.map { ($0.key, $0.value) }
  }

  var projections: [(Node, Node)] {
    guard case .mapping(let mapping)? = Self.lookup(values, "environmentVariables") else { return [] }
    return mapping.map { ($0.key, $0.value) }
  }

  /// What `values.NAME` holds: a string value and whether it is wrapped in `fn::secret`, or `nil` when absent or
  /// not a plain string (an expression Coffer does not evaluate).
  enum Entry: Equatable {
    case absent
    case string(String, secret: Bool)
    case other
  }

  func entry(_ name: String) -> Entry {
    guard let node = Self.lookup(values, name) else { return .absent }
    switch node {
    case .scalar(let scalar):
      return .string(Self.unescape(scalar.string), secret: false)
    case .mapping(let mapping) where mapping.count == 1:
      guard let pair = mapping.first, pair.key.scalar?.string == "fn::secret", case .scalar(let scalar) = pair.value
      else { return .other }
      return .string(Self.unescape(scalar.string), secret: true)
    default:
      return .other
    }
  }

  /// Whether `values.environmentVariables.NAME` is `${NAME}`.
  func isProjected(_ name: String) -> Bool {
    Self.lookup(projections, name)?.scalar?.string == "${\(name)}"
  }

  /// Names Coffer manages: projected as `${NAME}` and present under `values`.
  var managedNames: [String] {
    projections.compactMap { pair -> String? in
      guard let name = pair.0.scalar?.string, pair.1.scalar?.string == "${\(name)}",
        Self.lookup(values, name) != nil
      else { return nil }
      return name
    }
  }

  /// Sets `values.NAME` and its projection.
  mutating func set(_ name: String, value: String, secret: Bool) {
    let scalar = Node(Self.escape(value), Tag(.str), .doubleQuoted)
    let node: Node = secret ? .mapping(Node.Mapping([(Node("fn::secret"), scalar)])) : scalar
    var newValues = Self.setting(values, name, node)
    var newProjections: [(Node, Node)] = []
    if case .mapping(let existing)? = Self.lookup(newValues, "environmentVariables") {
      newProjections = existing.map { pair in (pair.key, pair.value) }
    }
    newProjections = Self.setting(newProjections, name, Node("${\(name)}", Tag(.str), .plain))
    newValues = Self.setting(newValues, "environmentVariables", .mapping(Node.Mapping(newProjections)))
    pairs = Self.setting(pairs, "values", .mapping(Node.Mapping(newValues)))
  }

  /// Removes `values.NAME` and its projection.
  mutating func remove(_ name: String) {
    var newValues = Self.setting(values, name, nil)
    if let projections = Self.lookup(newValues, "environmentVariables")?.mapping {
      let kept = Self.setting(projections.map { ($0.key, $0.value) }, name, nil)
      newValues = Self.setting(newValues, "environmentVariables", .mapping(Node.Mapping(kept)))
    }
    pairs = Self.setting(pairs, "values", .mapping(Node.Mapping(newValues)))
  }

  /// Resolves every projection to a value when it is `${KEY}` for a string or `fn::secret` string under `values`,
  /// or a literal string. Other expressions are reported by name.
  func resolvedProjections() -> (values: [(name: String, value: String, secret: Bool)], skipped: [String]) {
    var out: [(name: String, value: String, secret: Bool)] = []
    var skipped: [String] = []
    for (key, value) in projections {
      guard let name = key.scalar?.string else { continue }
      guard let text = value.scalar?.string else {
        skipped.append(name)
        continue
      }
      if text.hasPrefix("${"), text.hasSuffix("}"), !text.dropFirst(2).dropLast().contains("$") {
        let reference = String(text.dropFirst(2).dropLast())
        if case .string(let resolved, let secret) = entry(reference) {
          out.append((name, resolved, secret))
        } else {
          skipped.append(name)
        }
      } else if !text.replacing("$$", with: "").contains("$") {
        out.append((name, Self.unescape(text), false))
      } else {
        skipped.append(name)
      }
    }
    return (out, skipped)
  }

  static func escape(_ value: String) -> String { value.replacing("$", with: "$$") }
  static func unescape(_ value: String) -> String { value.replacing("$$", with: "$") }
}

