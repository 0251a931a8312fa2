import Yams

/// A 1-based line and column (in Unicode scalars); (0, 0) when unknown.
struct ManifestPosition: Equatable, Sendable {
  var line: Int
  var column: Int
}

/// The strict decoder behind ``Manifest/decode(_:file:)``: composes the YAML into a node tree with Yams (using the
/// basic resolver, so scalars are typed here, by YAML 1.2 core rules, not by Yams' YAML 1.1 rules), then walks it.
struct ManifestDecoder {
  let file: String
  /// Decoding a file another manifest imports: `project` and `environments` may be left out, and `required` lists
  /// may name any valid environment when the file declares none.
  var importMode = false
  /// Group names referenced by secrets and access rules need not be declared here (the manifest has `imports:`;
  /// references are checked after merging, by ``ManifestMerger``).
  var openGroups = false

  /// A decoded manifest together with what the editor needs to patch its text.
  struct Document {
    var manifest: Manifest
    var root: Node.Mapping
    var text: String
  }

  static let topLevelFields = [
    "version", "project", "environments", "recipients", "admins", "groups", "secrets", "destinations",
    "access", "imports",
  ]
  static let groupFields = ["rotation", "description"]
  static let secretFields = [
    "group", "description", "required", "prefix", "pattern", "min_length", "max_length", "example", "secret",
    "format", "rotation", "allow_loader_variable", "compose",
  ]

  // MARK: - Entry point

  func decodeDocument(_ bytes: [UInt8]) throws(ManifestError) -> Document {
    if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
      // Yams reads UTF-8 without looking for a byte order mark, and would report a confusing error on line 2.
      throw ManifestError(
        file: file, line: 1, column: 1, field: "",
        message: "the file starts with a byte order mark (U+FEFF); save it as UTF-8 without one")
    }
    guard let text = String(validating: bytes, as: UTF8.self) else {
      let position = Self.firstInvalidUTF8(bytes)
      throw ManifestError(
        file: file, line: position.line, column: position.column, field: "",
        message: "the file is not valid UTF-8")
    }
    guard let root = try compose(text) else {
      throw ManifestError(
        file: file, line: 1, column: 1, field: "",
        message: "the manifest is empty; expected a mapping with version, project and environments")
    }
    guard case .mapping(let mapping) = root else {
      throw error(at: root, field: "", "expected a mapping at the top level, found \(kind(of: root))")
    }
    let manifest = try decodeRoot(mapping, node: root)
    return Document(manifest: manifest, root: mapping, text: text)
  }

  // MARK: - Sections

  private func decodeRoot(_ root: Node.Mapping, node: Node) throws(ManifestError) -> Manifest {
    var fields: [String: (key: Node, value: Node)] = [:]
    for (key, value) in root {
      let name = try keyText(key, parent: "")
      guard Self.topLevelFields.contains(name) else {
        throw unknownField(key, name: name, path: name, allowed: Self.topLevelFields)
      }
      fields[name] = (key, value)
    }
    func required(_ name: String) throws(ManifestError) -> Node {
      guard let entry = fields[name] else {
        throw error(at: node, field: name, "missing required field")
      }
      return entry.value
    }

    let versionNode = try required("version")
    guard case .int(let version) = classify(versionNode) else {
      throw error(at: versionNode, field: "version", "expected an integer")
    }
    guard version == 1 else {
      throw error(at: versionNode, field: "version", "unsupported version \(version); this coffer reads version 1")
    }

    var project = file
    if fields["project"] != nil || !importMode {
      let projectNode = try required("project")
      guard let name = try optionalString(projectNode, path: "project"), !name.isEmpty else {
        throw error(at: projectNode, field: "project", "expected a non-empty string")
      }
      project = name
    }

    var stores = StoreDeclarations()
    let environments =
      importMode && fields["environments"] == nil
      ? [] : try decodeEnvironments(try required("environments"), stores: &stores)
    try checkStores(stores, destinations: fields["destinations"]?.value)
    let imports = try fields["imports"].map { (entry) throws(ManifestError) in try decodeImports(entry.value) } ?? []
    var this = self
    this.openGroups = !imports.isEmpty
    let recipients = try fields["recipients"].map { (entry) throws(ManifestError) in
      try decodeRecipients(entry.value)
    } ?? []
    let groups = try fields["groups"].map { (entry) throws(ManifestError) in try decodeGroups(entry.value) } ?? []
    let secrets = try fields["secrets"].map { (entry) throws(ManifestError) in
      try this.decodeSecrets(entry.value, environments: environments, groups: groups)
    } ?? []
    let destinations = try fields["destinations"].map { (entry) throws(ManifestError) in
      try opaque(entry.value, path: "destinations", budget: Self.opaqueNodeLimit)
    }
    let access = try fields["access"].flatMap { (entry) throws(ManifestError) in
      try this.decodeAccess(entry.value, environments: environments, groups: groups, recipients: recipients)
    }
    let admins = try fields["admins"].map { (entry) throws(ManifestError) in
      try this.decodeAdmins(entry.value, recipients: recipients)
    }
    var manifest = Manifest(
      version: version, project: project, environments: environments, recipients: recipients, groups: groups,
      secrets: secrets, destinations: destinations, access: access, imports: imports)
    manifest.admins = admins
    manifest.stores = stores.stores
    manifest.storeCacheMaxAge = stores.cacheMaxAge
    return manifest
  }

  private func decodeEnvironments(_ node: Node, stores: inout StoreDeclarations) throws(ManifestError) -> [String] {
    guard case .sequence(let sequence) = node else {
      throw error(at: node, field: "environments", "expected a list of environment names")
    }
    guard !sequence.isEmpty else {
      throw error(at: node, field: "environments", "expected at least one environment")
    }
    var names: [String] = []
    for (index, item) in sequence.enumerated() {
      let path = "environments[\(index)]"
      let name: String
      if case .mapping(let fields) = item {
        // `{ name: production, store: bao-prod, cache_max_age: 1h }`: an environment whose store is a server.
        name = try decodeStoredEnvironment(fields, node: item, path: path, stores: &stores)
      } else {
        guard let text = try optionalString(item, path: path) else {
          throw error(at: item, field: path, "expected an environment name")
        }
        name = text
      }
      guard ManifestSyntax.isEnvironmentName(name) else {
        throw error(
          at: item, field: path,
          "\"\(name)\" is not a valid environment name; \(ManifestSyntax.environmentNameRule)")
      }
      guard !names.contains(name) else {
        throw error(at: item, field: path, "duplicate environment \"\(name)\"")
      }
      names.append(name)
    }
    return names
  }

  private func decodeRecipients(_ node: Node) throws(ManifestError) -> [ManifestRecipient] {
    guard let mapping = try mappingOrNull(node, path: "recipients", expected: "a mapping of names to age recipients")
    else { return [] }
    var recipients: [ManifestRecipient] = []
    for (key, value) in mapping {
      let name = try keyText(key, parent: "recipients")
      let path = "recipients." + name
      guard ManifestSyntax.isRecipientName(name) else {
        throw error(at: key, field: path, "\"\(name)\" is not a valid recipient name; \(ManifestSyntax.recipientNameRule)")
      }
      guard let text = try optionalString(value, path: path) else {
        throw error(at: value, field: path, ManifestSyntax.recipientRule)
      }
      let parts = text.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
      guard parts.count <= 2, ManifestSyntax.isAgeRecipient(parts[0]) else {
        throw error(at: value, field: path, ManifestSyntax.recipientRule)
      }
      let recipient = parts[0]
      let signingKey = parts.count == 2 ? parts[1] : nil
      if let signingKey, !ManifestSyntax.isSigningKey(signingKey) {
        throw error(at: value, field: path, ManifestSyntax.signingKeyRule)
      }
      if let other = recipients.first(where: { $0.recipient == recipient }) {
        throw error(at: value, field: path, "the same recipient is already listed as \(other.name)")
      }
      recipients.append(ManifestRecipient(name: name, recipient: recipient, signingKey: signingKey))
    }
    return recipients
  }

  private func decodeGroups(_ node: Node) throws(ManifestError) -> [SecretGroup] {
    guard let mapping = try mappingOrNull(node, path: "groups", expected: "a mapping of group names to groups")
    else { return [] }
    var groups: [SecretGroup] = []
    for (key, value) in mapping {
      let name = try keyText(key, parent: "groups")
      let path = "groups." + name
      guard ManifestSyntax.isEnvironmentName(name) else {
        throw error(at: key, field: path, "\"\(name)\" is not a valid group name; \(ManifestSyntax.environmentNameRule)")
      }
      var group = SecretGroup(name: name)
      if let fields = try mappingOrNull(value, path: path, expected: "a mapping with rotation and description") {
        for (fieldKey, fieldValue) in fields {
          let field = try keyText(fieldKey, parent: path)
          let fieldPath = path + "." + field
          switch field {
          case "rotation": group.rotation = try rotation(fieldValue, path: fieldPath)
          case "description": group.description = try optionalString(fieldValue, path: fieldPath)
          default: throw unknownField(fieldKey, name: field, path: fieldPath, allowed: Self.groupFields)
          }
        }
      }
      groups.append(group)
    }
    return groups
  }

  private func decodeSecrets(
    _ node: Node, environments: [String], groups: [SecretGroup]
  ) throws(ManifestError) -> [SecretSpec] {
    guard let mapping = try mappingOrNull(node, path: "secrets", expected: "a mapping of secret names to secrets")
    else { return [] }
    let groupNames = Set(groups.map(\.name))
    let environmentNames = Set(environments)
    var secrets: [SecretSpec] = []
    secrets.reserveCapacity(mapping.count)
    var validPatterns = Set<String>()
    var composeNodes: [String: Node] = [:]
    for (key, value) in mapping {
      let name = try keyText(key, parent: "secrets")
      let path = "secrets." + name
      guard SecretName.isValid(name) else {
        throw error(at: key, field: path, SecretName.message(for: name), hints: SecretName.hints(for: name))
      }
      var spec = SecretSpec(name: name, line: position(of: key).line)
      guard let fields = try mappingOrNull(value, path: path, expected: "a mapping of secret fields") else {
        secrets.append(spec)
        continue
      }
      var minNode: Node?
      var maxNode: Node?
      for (fieldKey, fieldValue) in fields {
        let field = try keyText(fieldKey, parent: path)
        let fieldPath = path + "." + field
        switch field {
        case "group":
          guard let group = try optionalString(fieldValue, path: fieldPath) else { break }
          guard groupNames.contains(group) || openGroups else {
            throw error(at: fieldValue, field: fieldPath, "no group named \"\(group)\" is declared under groups")
          }
          spec.group = group
        case "description":
          spec.description = try optionalString(fieldValue, path: fieldPath)
        case "required":
          spec.required = try requirement(fieldValue, path: fieldPath, environments: environmentNames)
        case "prefix":
          spec.prefix = try optionalString(fieldValue, path: fieldPath)
          if spec.prefix == "" { throw error(at: fieldValue, field: fieldPath, "expected a non-empty string") }
        case "pattern":
          guard let pattern = try optionalString(fieldValue, path: fieldPath) else { break }
          if !validPatterns.contains(pattern) {
            // Compiling dominates decoding time (tens of microseconds per pattern), so each distinct pattern is
            // compiled once.
            do {
              _ = try Regex(pattern)
            } catch {
              throw self.error(at: fieldValue, field: fieldPath, "invalid regular expression: \(error)")
            }
            validPatterns.insert(pattern)
          }
          spec.pattern = pattern
        case "min_length":
          spec.minLength = try nonNegativeInt(fieldValue, path: fieldPath)
          minNode = fieldValue
        case "max_length":
          spec.maxLength = try nonNegativeInt(fieldValue, path: fieldPath)
          maxNode = fieldValue
        case "example":
          spec.example = try optionalString(fieldValue, path: fieldPath)
        case "secret":
          guard case .bool(let flag) = classify(fieldValue) else {
            throw error(at: fieldValue, field: fieldPath, "expected true or false")
          }
          spec.isSecret = flag
        case "format":
          spec.format = try optionalString(fieldValue, path: fieldPath)
          if let format = spec.format, format != FormatCatalog.noFormat,
            FormatCatalog.expectation(named: format) == nil
          {
            let hints = ManifestSyntax.suggestion(for: format, among: FormatCatalog.names).map {
              ["did you mean '\($0)'?"]
            } ?? ["the formats are listed in docs/formats.md; 'none' turns format checks off"]
            throw error(at: fieldValue, field: fieldPath, "unknown format \"\(format)\"", hints: hints)
          }
        case "rotation":
          spec.rotation = try rotation(fieldValue, path: fieldPath)
        case "allow_loader_variable":
          guard case .bool(let flag) = classify(fieldValue) else {
            throw error(at: fieldValue, field: fieldPath, "expected true or false")
          }
          if flag, !LoaderVariables.contains(name) {
            throw error(
              at: fieldValue, field: fieldPath,
              "\(name) is not a loader variable; allow_loader_variable is only for names that change how programs load or run",
              hints: ["remove the field: coffer run injects \(name) without it (the list is in docs/run.md)"])
          }
          spec.allowLoaderVariable = flag
        case "compose":
          guard let text = try optionalString(fieldValue, path: fieldPath) else { break }
          do {
            spec.compose = try Composition.parse(text)
          } catch {
            throw self.error(at: fieldValue, field: fieldPath, error.message)
          }
          composeNodes[name] = fieldValue
        default:
          throw unknownField(fieldKey, name: field, path: fieldPath, allowed: Self.secretFields)
        }
      }
      if let minLength = spec.minLength, let maxLength = spec.maxLength, minLength > maxLength,
        let offending = maxNode ?? minNode
      {
        throw error(
          at: offending, field: path + ".max_length",
          "max_length \(maxLength) is less than min_length \(minLength)")
      }
      secrets.append(spec)
    }
    // Composed secrets: every part declared (here; with imports, after merging), and no cycle.
    let compositions = Dictionary(secrets.compactMap { s in s.compose.map { (s.name, $0) } }, uniquingKeysWith: { a, _ in a })
    let declared = Set(secrets.map(\.name))
    for spec in secrets {
      guard let composition = spec.compose, let node = composeNodes[spec.name] else { continue }
      let path = "secrets.\(spec.name).compose"
      if !openGroups, !importMode, let part = composition.parts.first(where: { !declared.contains($0) }) {
        throw error(at: node, field: path, "\(part) is not declared under secrets", hints: ["declare it, or correct the name"])
      }
      if let chain = Composition.cycle(from: spec.name, in: compositions) {
        throw error(at: node, field: path, "a cycle: \(chain.joined(separator: " → "))")
      }
    }
    return secrets
  }

  private func requirement(
    _ node: Node, path: String, environments: Set<String>
  ) throws(ManifestError) -> Requirement {
    let expected = "expected true, false or a list of environments"
    switch node {
    case .scalar:
      guard case .bool(let flag) = classify(node) else { throw error(at: node, field: path, expected) }
      return flag ? .always : .never
    case .sequence(let sequence):
      guard !sequence.isEmpty else {
        throw error(at: node, field: path, "expected a non-empty list of environments; use false for never")
      }
      var names: [String] = []
      for (index, item) in sequence.enumerated() {
        let itemPath = path + "[\(index)]"
        guard let name = try optionalString(item, path: itemPath) else {
          throw error(at: item, field: itemPath, "expected an environment name")
        }
        guard environments.contains(name) || (importMode && environments.isEmpty && ManifestSyntax.isEnvironmentName(name))
        else {
          throw error(at: item, field: itemPath, "no environment named \"\(name)\" is declared under environments")
        }
        guard !names.contains(name) else {
          throw error(at: item, field: itemPath, "duplicate environment \"\(name)\"")
        }
        names.append(name)
      }
      return .environments(names)
    default:
      throw error(at: node, field: path, expected)
    }
  }

  private func rotation(_ node: Node, path: String) throws(ManifestError) -> RotationPeriod? {
    guard let text = try optionalString(node, path: path) else { return nil }
    guard let period = RotationPeriod(parsing: text) else {
      throw error(at: node, field: path, "expected a period such as 30d, 12w or 1y")
    }
    return period
  }

  /// The most nodes a section kept as written (`destinations`) may hold once YAML aliases are expanded. Aliases
  /// share nodes, so a few lines can stand for billions of them (the "billion laughs" bomb); a real manifest's
  /// destinations hold a few hundred.
  static let opaqueNodeLimit = 100_000

  /// A section kept as written, as a value tree.
  /// - Parameter budget: how many more nodes may be expanded; every node, aliased or not, costs one.
  /// - Throws: ``ManifestError`` for a key that is not a string, an unresolved alias, or a tree larger than the
  ///   budget.
  private func opaque(_ node: Node, path: String, budget: Int) throws(ManifestError) -> ManifestValue {
    var remaining = budget
    return try opaque(node, path: path, remaining: &remaining)
  }

  private func opaque(_ node: Node, path: String, remaining: inout Int) throws(ManifestError) -> ManifestValue {
    remaining -= 1
    guard remaining >= 0 else {
      throw error(
        at: node, field: path,
        "expands to more than \(Self.opaqueNodeLimit) values (YAML aliases repeated within aliases?)")
    }
    switch node {
    case .scalar(let scalar):
      switch classify(node) {
      case .null: return .null
      case .bool(let flag): return .bool(flag)
      case .int(let number): return .int(number)
      case .string: return .string(scalar.string)
      }
    case .sequence(let sequence):
      var items: [ManifestValue] = []
      for (index, item) in sequence.enumerated() {
        items.append(try opaque(item, path: path + "[\(index)]", remaining: &remaining))
      }
      return .sequence(items)
    case .mapping(let mapping):
      var entries: [ManifestValueEntry] = []
      for (key, value) in mapping {
        let name = try keyText(key, parent: path)
        entries.append(ManifestValueEntry(key: name, value: try opaque(value, path: path + "." + name, remaining: &remaining)))
      }
      return .mapping(entries)
    case .alias:
      throw error(at: node, field: path, "aliases are not supported")
    }
  }

  // MARK: - Typed accessors

  enum ScalarValue: Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case string
  }

  /// Types a node by YAML 1.2 core-schema rules: explicit tags win; quoted and block scalars are strings; a plain
  /// scalar is null (`~`, `null`, empty), a boolean (`true`/`false` in lower, title or upper case), a decimal
  /// integer, or else a string. Non-scalars classify as `.string` and are rejected by the callers.
  func classify(_ node: Node) -> ScalarValue {
    guard case .scalar(let scalar) = node else { return .string }
    let text = scalar.string
    let tag = scalar.tag.rawValue
    switch tag {
    case Tag.Name.implicit.rawValue:
      guard scalar.style == .plain || scalar.style == .any else { return .string }
    case Tag.Name.null.rawValue: return .null
    case Tag.Name.bool.rawValue, Tag.Name.int.rawValue: break
    default: return .string
    }
    switch text {
    case "", "~", "null", "Null", "NULL": return tag == Tag.Name.implicit.rawValue ? .null : .string
    case "true", "True", "TRUE": return .bool(true)
    case "false", "False", "FALSE": return .bool(false)
    default: break
    }
    var digits = Substring(text)
    if digits.first == "-" || digits.first == "+" { digits = digits.dropFirst() }
    if !digits.isEmpty, digits.unicodeScalars.allSatisfy(ManifestSyntax.isDigit), let number = Int(text) {
      return .int(number)
    }
    return .string
  }

  /// A scalar's text (whatever its type, so `8080` is the string "8080"), or `nil` for a null scalar.
  func optionalString(_ node: Node, path: String) throws(ManifestError) -> String? {
    guard case .scalar(let scalar) = node else {
      throw error(at: node, field: path, "expected a string, found \(kind(of: node))")
    }
    if classify(node) == .null { return nil }
    return scalar.string
  }

  private func nonNegativeInt(_ node: Node, path: String) throws(ManifestError) -> Int {
    guard case .int(let number) = classify(node), number >= 0 else {
      throw error(at: node, field: path, "expected a non-negative integer")
    }
    return number
  }

  /// A mapping, or `nil` for a null scalar (an empty section).
  func mappingOrNull(_ node: Node, path: String, expected: String) throws(ManifestError) -> Node.Mapping? {
    switch node {
    case .mapping(let mapping): return mapping
    case .scalar where classify(node) == .null: return nil
    default: throw error(at: node, field: path, "expected \(expected), found \(kind(of: node))")
    }
  }

  func keyText(_ key: Node, parent: String) throws(ManifestError) -> String {
    guard case .scalar(let scalar) = key else {
      throw error(at: key, field: parent, "expected a name as the key, found \(kind(of: key))")
    }
    return scalar.string
  }

  func kind(of node: Node) -> String {
    switch node {
    case .mapping: return "a mapping"
    case .sequence: return "a list"
    case .alias: return "an alias"
    case .scalar:
      switch classify(node) {
      case .null: return "null"
      case .bool: return "a boolean"
      case .int: return "an integer"
      case .string: return "a string"
      }
    }
  }

  // MARK: - Errors

  func position(of node: Node) -> ManifestPosition {
    guard let mark = node.mark else { return ManifestPosition(line: 0, column: 0) }
    return ManifestPosition(line: mark.line, column: mark.column)
  }

  func error(at node: Node, field: String, _ message: String, hints: [String] = []) -> ManifestError {
    let position = position(of: node)
    return ManifestError(
      file: file, line: position.line, column: position.column, field: field, message: message, hints: hints)
  }

  func unknownField(_ key: Node, name: String, path: String, allowed: [String]) -> ManifestError {
    var hints: [String] = []
    if let suggestion = ManifestSyntax.suggestion(for: name, among: allowed) {
      hints.append("did you mean '\(suggestion)'?")
    }
    return error(
      at: key, field: path, "unknown field; expected one of \(allowed.joined(separator: ", "))", hints: hints)
  }

  // MARK: - YAML composition

  /// Composes with the basic resolver (typing is done by ``classify(_:)``) and UTF-8, never reading the
  /// environment (Yams' default encoding consults `YAMS_DEFAULT_ENCODING`).
  func compose(_ text: String) throws(ManifestError) -> Node? {
    do {
      return try Yams.compose(yaml: text, Resolver.basic, Constructor.default, .utf8)
    } catch let yamlError as YamlError {
      throw translate(yamlError, text: text)
    } catch {
      throw ManifestError(file: file, line: 0, column: 0, field: "", message: "invalid YAML: \(error)")
    }
  }

  private func translate(_ yamlError: YamlError, text: String) -> ManifestError {
    func syntax(_ context: YamlError.Context?, _ problem: String, _ mark: Mark) -> ManifestError {
      var message = "invalid YAML: \(problem)"
      if problem == "but found another document" {
        message = "invalid YAML: expected a single document, found another"
      } else if let context {
        message += " (\(context.text) at line \(context.mark.line), column \(context.mark.column))"
      }
      return ManifestError(file: file, line: mark.line, column: mark.column, field: "", message: message)
    }
    switch yamlError {
    case .scanner(let context, let problem, let mark, _),
      .parser(let context, let problem, let mark, _),
      .composer(let context, let problem, let mark, _):
      return syntax(context, problem, mark)
    case .reader(let problem, let offset, _, _):
      let position = offset.map { Self.position(ofCharacterOffset: $0, in: text) }
      return ManifestError(
        file: file, line: position?.line ?? 0, column: position?.column ?? 0, field: "",
        message: "invalid YAML: \(problem)")
    case .duplicatedKeysInMapping(let duplicates, let context):
      let key = duplicates.first ?? ""
      let first = ManifestPosition(line: context.mark.line, column: context.mark.column)
      if let found = DuplicateKeyLocator(decoder: self).locate(text: text, key: key, first: first) {
        return ManifestError(
          file: file, line: found.position.line, column: found.position.column, field: found.path,
          message: "duplicate key; first defined at line \(first.line)")
      }
      return ManifestError(
        file: file, line: first.line, column: first.column, field: key, message: "duplicate key")
    default:
      return ManifestError(file: file, line: 0, column: 0, field: "", message: "invalid YAML: \(yamlError)")
    }
  }

  // MARK: - Positions in raw input

  static func firstInvalidUTF8(_ bytes: [UInt8]) -> ManifestPosition {
    var parser = Unicode.UTF8.ForwardParser()
    var iterator = bytes.makeIterator()
    var position = ManifestPosition(line: 1, column: 1)
    while true {
      switch parser.parseScalar(from: &iterator) {
      case .valid(let encoded):
        if Unicode.UTF8.decode(encoded) == "\n" {
          position.line += 1
          position.column = 1
        } else {
          position.column += 1
        }
      case .error, .emptyInput:
        return position
      }
    }
  }

  static func position(ofCharacterOffset offset: Int, in text: String) -> ManifestPosition {
    var position = ManifestPosition(line: 1, column: 1)
    for (index, character) in text.enumerated() {
      if index >= offset { break }
      if character == "\n" || character == "\r\n" {
        position.line += 1
        position.column = 1
      } else {
        position.column += character.unicodeScalars.count
      }
    }
    return position
  }
}

/// Finds the second occurrence of a duplicated mapping key.
///
/// Yams 6 rejects duplicate keys while composing and reports only the first occurrence. To point at the
/// offending (later) key and give its path, the first occurrence is masked with private-use characters of the
/// same length (columns are unchanged), the text is composed again (masking further duplicates if needed), and
/// the tree is searched for the masked key's mapping.
struct DuplicateKeyLocator {
  let decoder: ManifestDecoder

  func locate(text: String, key: String, first: ManifestPosition) -> (position: ManifestPosition, path: String)? {
    var lines = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map { Array($0) }
    var masked: [ManifestPosition: String] = [:]
    var current = (key: key, position: first)
    for attempt in 0..<64 {
      guard let maskScalar = Unicode.Scalar(0xE000 + UInt32(attempt)),
        mask(&lines, at: current.position, key: current.key, with: maskScalar)
      else { return nil }
      masked[current.position] = current.key
      let candidate = lines.map { String(String.UnicodeScalarView($0)) }.joined(separator: "\n")
      do {
        guard let root = try Yams.compose(yaml: candidate, Resolver.basic, Constructor.default, .utf8) else {
          return nil
        }
        return search(root, path: "", key: key, first: first, masked: masked)
      } catch let YamlError.duplicatedKeysInMapping(duplicates, context) {
        current = (duplicates.first ?? "", ManifestPosition(line: context.mark.line, column: context.mark.column))
      } catch {
        return nil
      }
    }
    return nil
  }

  private func mask(
    _ lines: inout [[Unicode.Scalar]], at position: ManifestPosition, key: String, with mask: Unicode.Scalar
  ) -> Bool {
    let row = position.line - 1
    var start = position.column - 1
    guard row >= 0, row < lines.count, start >= 0, start < lines[row].count else { return false }
    let keyScalars = Array(key.unicodeScalars)
    guard !keyScalars.isEmpty else { return false }
    let opening = lines[row][start]
    if opening == "\"" || opening == "'" { start += 1 }
    let end = start + keyScalars.count
    guard end <= lines[row].count, Array(lines[row][start..<end]) == keyScalars else { return false }
    for index in start..<end { lines[row][index] = mask }
    return true
  }

  private func search(
    _ node: Node, path: String, key: String, first: ManifestPosition, masked: [ManifestPosition: String]
  ) -> (position: ManifestPosition, path: String)? {
    switch node {
    case .mapping(let mapping):
      let keys = mapping.map { $0.key }
      if let firstIndex = keys.firstIndex(where: { decoder.position(of: $0) == first }) {
        for candidate in keys[(firstIndex + 1)...] {
          let position = decoder.position(of: candidate)
          let text = masked[position] ?? candidate.scalar?.string
          if text == key {
            return (position, path.isEmpty ? key : path + "." + key)
          }
        }
        return nil
      }
      for (childKey, value) in mapping {
        let position = decoder.position(of: childKey)
        let name = masked[position] ?? childKey.scalar?.string ?? "?"
        if let found = search(value, path: path.isEmpty ? name : path + "." + name, key: key, first: first,
          masked: masked)
        {
          return found
        }
      }
      return nil
    case .sequence(let sequence):
      for (index, item) in sequence.enumerated() {
        if let found = search(item, path: path + "[\(index)]", key: key, first: first, masked: masked) {
          return found
        }
      }
      return nil
    case .scalar, .alias:
      return nil
    }
  }
}

extension ManifestPosition: Hashable {}
