import CofferCore
import CofferDotEnv
import Yams

/// One variable a template mentions, with what the template says about it. The value, if any, stays a
/// ``SecretValue``: templates can hold real secrets by mistake.
public struct TemplateEntry: Sendable {
  /// Where in a template the variable was found.
  public enum Origin: String, Sendable, Hashable {
    /// `NAME=value` in a dotenv template.
    case dotenv
    /// `# NAME=value`: commented out in a dotenv template.
    case commentedOut
    /// `KEY=value` / `KEY: value` under a compose service's `environment:`.
    case composeEnvironment
    /// `- KEY` / `KEY:` under `environment:`: passed through from the environment compose runs in.
    case composePassThrough
    /// `${KEY}`, `${KEY:-default}`, … anywhere in a compose file.
    case composeInterpolation
    /// `secrets.KEY` in a GitHub workflow expression.
    case workflowSecret
    /// `vars.KEY` in a GitHub workflow expression.
    case workflowVariable
    /// `KEY: literal` in a workflow's `env:` map.
    case workflowEnvironment
  }

  /// The variable's name as written (it may not be a valid manifest name; inference checks).
  public var name: String
  /// The template's value or default, if it gives one (an empty value is `SecretValue("")`).
  public var value: SecretValue?
  /// The comment above the variable (or after it on its line), cleaned of `#` and banners.
  public var description: String?
  /// The template's path, as given.
  public var file: String
  /// The 1-based line.
  public var line: Int
  /// Where it was found.
  public var origin: Origin
  /// Why the template suggests the variable is optional, if it does (never a value).
  public var optionalHint: String?
  /// Why the template suggests it is required, if it does.
  public var requiredHint: String?
  /// Why the template suggests its value must be changed, if it does.
  public var mustChangeHint: String?

  /// Creates an entry.
  /// - Parameters:
  ///   - name: the variable's name.
  ///   - value: the template's value, if any.
  ///   - description: the comment describing it, if any.
  ///   - file: the template's path.
  ///   - line: the 1-based line.
  ///   - origin: where it was found.
  ///   - optionalHint: why it seems optional, if it does.
  ///   - requiredHint: why it seems required, if it does.
  ///   - mustChangeHint: why its value seems to need changing, if it does.
  public init(
    name: String, value: SecretValue?, description: String? = nil, file: String, line: Int, origin: Origin,
    optionalHint: String? = nil, requiredHint: String? = nil, mustChangeHint: String? = nil
  ) {
    self.name = name
    self.value = value
    self.description = description
    self.file = file
    self.line = line
    self.origin = origin
    self.optionalHint = optionalHint
    self.requiredHint = requiredHint
    self.mustChangeHint = mustChangeHint
  }
}

/// What a template holds.
public struct TemplateScan: Sendable {
  /// The variables, in file order.
  public var entries: [TemplateEntry] = []
  /// Files a compose file names in `env_file:`, as written (relative to the compose file's directory).
  public var envFiles: [String] = []

  /// Creates an empty scan.
  public init() {}
}

/// The kinds of template `coffer init --from` reads.
public enum TemplateKind: String, Sendable {
  /// `.env.example`, `.env.sample`, `example.env` and any other dotenv file.
  case dotenv
  /// A docker compose file.
  case compose
  /// A GitHub Actions workflow.
  case workflow
}

/// Reads templates: dotenv files, compose files and GitHub workflows. Pure: bytes in, entries out.
public enum TemplateReader {
  /// Chooses how to read a file: by name (`docker-compose*.yml`, `compose*.yaml`, `.github/workflows/*.yml`), else
  /// for other `.yml`/`.yaml` files by a top-level `jobs:` (workflow) or `services:` (compose) key, else dotenv.
  /// - Parameters:
  ///   - path: the file's path.
  ///   - bytes: its contents (looked at only for YAML files with other names).
  /// - Returns: the kind.
  public static func kind(of path: String, bytes: [UInt8]) -> TemplateKind {
    switch SourceLanguage.detect(path: path) {
    case .language(.compose): return .compose
    case .language(.githubActions): return .workflow
    default: break
    }
    let lower = path.lowercased()
    guard lower.hasSuffix(".yml") || lower.hasSuffix(".yaml") else { return .dotenv }
    let text = String(decoding: bytes, as: UTF8.self)
    if text.split(separator: "\n").contains(where: { $0.hasPrefix("jobs:") }) { return .workflow }
    return .compose
  }

  /// Reads a template.
  /// - Parameters:
  ///   - bytes: the file's contents.
  ///   - file: its path as given, for entries and errors.
  ///   - kind: how to read it (see ``kind(of:bytes:)``).
  /// - Returns: the variables it mentions.
  /// - Throws: `DotEnvError` for a dotenv file Coffer cannot read; ``DiscoverError`` for a YAML file that is not
  ///   valid YAML (the line, and libyaml's problem, never the text).
  public static func read(_ bytes: [UInt8], file: String, as kind: TemplateKind) throws -> TemplateScan {
    switch kind {
    case .dotenv: return try DotEnvTemplate.read(bytes, file: file)
    case .compose: return try ComposeTemplate.read(bytes, file: file)
    case .workflow: return try WorkflowTemplate.read(bytes, file: file)
    }
  }
}

/// Comment text and hints shared by the readers.
enum CommentText {
  /// A comment line's text without `#` marks and banner decoration, or `nil` for a pure banner line.
  static func clean(_ line: Substring) -> String? {
    var s = line.drop { $0 == " " || $0 == "\t" }
    s = s.drop { $0 == "#" }
    let decoration: Set<Character> = ["#", "-", "=", "*", "_", "~", " ", "\t"]
    s = s.drop { decoration.contains($0) }
    while let last = s.last, decoration.contains(last) { s = s.dropLast() }
    return s.isEmpty ? nil : String(s)
  }

  /// Whether a comment line is a section heading framed by decoration: after its `#` marks, it starts and ends with
  /// two or more of `-`, `=`, `*`, `~` or `#`, or starts or ends with three or more (`# --- Third-party APIs ---`,
  /// `# -- Mail --`, `# ==== Database`); `# -- a note` is not one.
  static func isHeading(_ line: Substring) -> Bool {
    var s: Substring = line.drop(while: { $0 == " " || $0 == "\t" })
    s = s.drop(while: { $0 == "#" })
    s = s.drop(while: { $0 == " " || $0 == "\t" })
    while let last = s.last, last == " " || last == "\t" { s = s.dropLast() }
    let decoration: Set<Character> = ["-", "=", "*", "~", "#"]
    let leading = s.prefix { decoration.contains($0) }.count
    let trailing = s.reversed().prefix { decoration.contains($0) }.count
    return (leading >= 2 && trailing >= 2) || leading >= 3 || trailing >= 3
  }

  /// Phrases saying a variable is optional.
  static let optionalPhrases = [
    "optional", "if you", "only required", "only needed", "not required", "required if", "required when",
    "needed if", "needed when", "to enable", "can be used", "if set", "if provided", "if using", "when using",
    "leave empty", "leave blank", "leave it empty", "uncomment", "when you want", "deprecated",
  ]
  /// Phrases saying a variable must be set.
  static let requiredPhrases = ["required", "mandatory", "must be set", "must set"]
  /// Phrases saying a value must be changed.
  static let mustChangePhrases = [
    "must change", "should change", "change it", "change these before", "must be changed", "should be changed",
    "replace", "must be updated", "should be updated",
  ]

  static func phrase(in text: String, from phrases: [String]) -> String? {
    let lower = text.lowercased()
    return phrases.first { lower.contains($0) }
  }

  /// The YAML comment lines directly above `line` (1-based) in `lines`, cleaned and joined, or `nil`. A comment
  /// line indented deeper than `line` is not one: it is text inside a block scalar (a `run: |` script), which
  /// describes nothing and may hold anything.
  static func above(_ line: Int, in lines: [Substring]) -> String? {
    guard line >= 1, line <= lines.count else { return nil }
    let indent = { (text: Substring) in text.prefix { $0 == " " || $0 == "\t" }.count }
    let itemIndent = indent(lines[line - 1])
    var texts: [String] = []
    var index = line - 2
    while index >= 0 {
      let trimmed = lines[index].drop { $0 == " " || $0 == "\t" }
      guard trimmed.first == "#", indent(lines[index]) <= itemIndent else { break }
      if let text = clean(trimmed) { texts.append(text) }
      index -= 1
    }
    return texts.isEmpty ? nil : texts.reversed().joined(separator: " ")
  }
}

/// Reads dotenv templates: values with ``DotEnvParser``, layout (comments, sections, commented-out variables)
/// line by line.
enum DotEnvTemplate {
  static func read(_ bytes: [UInt8], file: String) throws -> TemplateScan {
    let document = try DotEnvParser.parse(bytes, file: file).document
    let names = Set(document.names)
    var body = bytes[...]
    if body.starts(with: [0xEF, 0xBB, 0xBF]) { body = body.dropFirst(3) }
    let text = String(decoding: body, as: UTF8.self)
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> Substring in
      line.hasSuffix("\r") ? line.dropLast() : line
    }
    var scan = TemplateScan()
    var block: [(text: String?, line: Int, banner: Bool)] = []  // comment lines since the last blank line or assignment
    var optionalSection: String? = nil
    var mustChangeSection: String? = nil
    var seen = Set<String>()

    /// The comment lines after the last banner line (`#####`) of the block, joined.
    func description(_ block: [(text: String?, line: Int, banner: Bool)]) -> String? {
      let start = (block.lastIndex { $0.banner }).map { $0 + 1 } ?? 0
      let texts = block[start...].compactMap(\.text)
      return texts.isEmpty ? nil : texts.joined(separator: " ")
    }
    func closeSection() {
      defer { block = [] }
      // A section heading is a short line (six words at most): "OPTIONAL", "Optional settings", "MANDATORY (…)";
      // "only required if …" and "not required" count anywhere.
      var optional: String? = nil
      var mandatory = false
      var mustChange: String? = nil
      for (text, line, _) in block {
        guard let text else { continue }
        let short = text.split(separator: " ").count <= 6
        if optional == nil, let phrase = CommentText.phrase(in: text, from: ["only required", "only needed", "not required"])
          ?? (short ? CommentText.phrase(in: text, from: ["optional"]) : nil)
        {
          optional = "its section (line \(line)) says \"\(phrase)\""
        } else if short, CommentText.phrase(in: text, from: ["mandatory", "required"]) != nil {
          mandatory = true
        }
        if mustChange == nil, let phrase = CommentText.phrase(in: text, from: CommentText.mustChangePhrases) {
          mustChange = "its section (line \(line)) says \"\(phrase)\""
        }
      }
      guard block.contains(where: { $0.text != nil }) else { return }
      if let optional {
        optionalSection = optional
      } else if mandatory {
        optionalSection = nil
      }
      mustChangeSection = mustChange
    }
    func hints(_ entry: inout TemplateEntry) {
      if let text = entry.description {
        if let phrase = CommentText.phrase(in: text, from: CommentText.optionalPhrases) {
          entry.optionalHint = "its comment says \"\(phrase)\""
        } else if let phrase = CommentText.phrase(in: text, from: CommentText.requiredPhrases) {
          entry.requiredHint = "its comment says \"\(phrase)\""
        }
        if let phrase = CommentText.phrase(in: text, from: CommentText.mustChangePhrases) {
          entry.mustChangeHint = "its comment says \"\(phrase)\""
        }
      }
      // In a section marked optional, the section decides unless the entry's own comment says it is optional.
      if entry.optionalHint == nil, let optionalSection {
        entry.optionalHint = optionalSection
        entry.requiredHint = nil
      }
      if entry.mustChangeHint == nil { entry.mustChangeHint = mustChangeSection }
    }

    for (index, line) in lines.enumerated() {
      let number = index + 1
      let trimmed = line.drop { $0 == " " || $0 == "\t" }
      if trimmed.isEmpty {
        closeSection()
        continue
      }
      if trimmed.first == "#" {
        if let (name, value) = commentedAssignment(trimmed) {
          var entry = TemplateEntry(
            name: name, value: SecretValue(value), description: description(block), file: file, line: number,
            origin: .commentedOut)
          hints(&entry)
          scan.entries.append(entry)
          block.append((nil, number, false))
        } else {
          // A pure banner line, or a heading framed by decoration (`# --- Third-party APIs ---`), ends the block
          // of description lines: it titles a section, it does not describe the next variable.
          let text = CommentText.clean(trimmed)
          block.append((text, number, text == nil || CommentText.isHeading(trimmed)))
        }
        continue
      }
      if let name = assignedName(trimmed), names.contains(name), !seen.contains(name) {
        seen.insert(name)
        var entry = TemplateEntry(
          name: name, value: document.value(of: name), description: description(block) ?? trailingComment(trimmed),
          file: file, line: number, origin: .dotenv)
        hints(&entry)
        scan.entries.append(entry)
      }
      block = []
    }
    return scan
  }

  /// `NAME` of a line `NAME=…` or `export NAME=…`.
  static func assignedName(_ line: Substring) -> String? {
    var s = line
    if s.hasPrefix("export ") || s.hasPrefix("export\t") { s = s.dropFirst(7).drop { $0 == " " || $0 == "\t" } }
    let name = s.prefix { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "." || $0 == "-") }
    guard !name.isEmpty else { return nil }
    let rest = s.dropFirst(name.count).drop { $0 == " " || $0 == "\t" }
    return rest.first == "=" ? String(name) : nil
  }

  /// `# NAME=value` (an all-capital name of two or more characters right after the `#` marks): the name and the
  /// value (unquoted; an unquoted value ends at ` #`).
  static func commentedAssignment(_ line: Substring) -> (String, String)? {
    var s = line.drop { $0 == "#" }.drop { $0 == " " || $0 == "\t" }
    if s.hasPrefix("export ") { s = s.dropFirst(7) }
    let name = s.prefix { ($0 >= "A" && $0 <= "Z") || ($0 >= "0" && $0 <= "9") || $0 == "_" }
    guard name.count >= 2, let first = name.first, first != "_" ? !(first >= "0" && first <= "9") : true,
      s.dropFirst(name.count).first == "="
    else { return nil }
    var value = s.dropFirst(name.count + 1)
    if let quote = value.first, quote == "\"" || quote == "'" {
      value = value.dropFirst()
      value = value.prefix { $0 != quote }
    } else {
      if let hash = value.firstRange(of: " #") { value = value[..<hash.lowerBound] }
      while let last = value.last, last == " " || last == "\t" { value = value.dropLast() }
    }
    return (String(name), String(value))
  }

  /// The text of a `# comment` after an assignment's value on its line.
  static func trailingComment(_ line: Substring) -> String? {
    guard let equals = line.firstIndex(of: "=") else { return nil }
    var rest = line[line.index(after: equals)...]
    if let quote = rest.first, quote == "\"" || quote == "'" {
      var i = rest.index(after: rest.startIndex)
      while i < rest.endIndex && rest[i] != quote {
        if rest[i] == "\\" && quote == "\"" { i = rest.index(after: i) }
        if i < rest.endIndex { i = rest.index(after: i) }
      }
      guard i < rest.endIndex else { return nil }
      rest = rest[rest.index(after: i)...]
      guard let hash = rest.firstIndex(of: "#"), rest[..<hash].allSatisfy({ $0 == " " || $0 == "\t" }) else {
        return nil
      }
      return CommentText.clean(rest[hash...])
    }
    guard let range = rest.firstRange(of: " #") ?? rest.firstRange(of: "\t#") else { return nil }
    return CommentText.clean(rest[range.upperBound...])
  }
}

/// Composition of a YAML file for templates, with errors that carry a line and libyaml's problem only.
enum TemplateYAML {
  static func compose(_ bytes: [UInt8], file: String) throws(DiscoverError) -> (Node?, [Substring]) {
    let text = String(decoding: bytes, as: UTF8.self)
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.hasSuffix("\r") ? $0.dropLast() : $0 }
    do {
      return (try Yams.compose(yaml: text, Resolver.basic, Constructor.default, .utf8), lines)
    } catch let error as YamlError {
      switch error {
      case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
        throw DiscoverError(file: file, line: mark.line, message: "invalid YAML: \(problem)")
      case .duplicatedKeysInMapping(_, let context):
        // The key itself is not named: errors give lines, never text that might be a value.
        throw DiscoverError(
          file: file, line: context.mark.line, message: "invalid YAML: a key on this line appears again later in the same mapping")
      default:
        throw DiscoverError(file: file, message: "invalid YAML")
      }
    } catch {
      throw DiscoverError(file: file, message: "invalid YAML")
    }
  }

  static func scalar(_ node: Node?) -> String? {
    guard case .scalar(let scalar)? = node else { return nil }
    return scalar.string
  }

  static func isNull(_ node: Node) -> Bool {
    guard case .scalar(let scalar) = node else { return false }
    return scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string)
  }

  static func line(_ node: Node) -> Int { node.mark?.line ?? 0 }
}

/// Reads compose files: `services.*.environment` (list or map), `env_file`, and `${…}` interpolations.
enum ComposeTemplate {
  static func read(_ bytes: [UInt8], file: String) throws(DiscoverError) -> TemplateScan {
    let (root, lines) = try TemplateYAML.compose(bytes, file: file)
    var scan = TemplateScan()
    scan.entries = interpolations(bytes, file: file, lines: lines)
    guard case .mapping(let top)? = root, case .mapping(let services)? = top["services"] else { return scan }
    for (_, service) in services {
      guard case .mapping(let fields) = service else { continue }
      switch fields["env_file"] {
      case .scalar(let scalar)?: scan.envFiles.append(scalar.string)
      case .sequence(let items)?:
        for item in items {
          if let path = TemplateYAML.scalar(item) {
            scan.envFiles.append(path)
          } else if case .mapping(let entry) = item, let path = TemplateYAML.scalar(entry["path"]) {
            scan.envFiles.append(path)
          }
        }
      default: break
      }
      switch fields["environment"] {
      case .sequence(let items)?:
        for item in items {
          guard let text = TemplateYAML.scalar(item) else { continue }
          if let equals = text.firstIndex(of: "=") {
            add(String(text[..<equals]), value: String(text[text.index(after: equals)...]), node: item, lines, file, &scan)
          } else {
            add(text, value: nil, node: item, lines, file, &scan)
          }
        }
      case .mapping(let map)?:
        for (key, value) in map {
          guard let name = TemplateYAML.scalar(key) else { continue }
          add(name, value: TemplateYAML.isNull(value) ? nil : TemplateYAML.scalar(value), node: key, lines, file, &scan)
        }
      default: break
      }
    }
    // File order: by line, interpolations of a line before its entry.
    scan.entries = scan.entries.enumerated().sorted { ($0.element.line, $0.offset) < ($1.element.line, $1.offset) }
      .map(\.element)
    return scan
  }

  private static func add(_ name: String, value: String?, node: Node, _ lines: [Substring], _ file: String, _ scan: inout TemplateScan) {
    let name = name.trimmingBlanks()
    // A value built from interpolations is compose's business; the interpolated names are entries already. `$$`
    // is compose's literal `$`.
    if let value, value.replacing("$$", with: "").contains("$") { return }
    let literal = value.map { $0.replacing("$$", with: "$") }
    let line = TemplateYAML.line(node)
    scan.entries.append(
      TemplateEntry(
        name: name, value: literal.map { SecretValue($0) }, description: CommentText.above(line, in: lines), file: file,
        line: line, origin: value == nil ? .composePassThrough : .composeEnvironment))
  }

  /// `${NAME}`, `${NAME:-default}`, `${NAME-default}`, `${NAME:?error}`, `${NAME?error}`, `${NAME:+alt}`, `$NAME`.
  static func interpolations(_ bytes: [UInt8], file: String, lines: [Substring]) -> [TemplateEntry] {
    var entries: [TemplateEntry] = []
    bytes.withUnsafeBufferPointer { buffer in
      var text = ScanText(buffer)
      var found: [(String, Int, String?, String?, String?)] = []  // name, offset, default, required, optional
      YAMLExpansionScanner.forEachCodeByte(text) { i in
        guard text[i] == 0x24 else { return 1 }
        if text[i + 1] == 0x24 { return 2 }
        let braced = text[i + 1] == 0x7B
        let start = braced ? i + 2 : i + 1
        guard let (name, end) = text.name(at: start) else { return 1 }
        guard braced else {
          found.append((name, start, nil, nil, nil))
          return end - i
        }
        // The modifier and its word, up to the matching brace.
        var j = end
        var depth = 1
        var word: [UInt8] = []
        var op: [UInt8] = []
        while j < text.count && (text[j] == 0x3A || text[j] == 0x2D || text[j] == 0x3F || text[j] == 0x2B) && op.count < 2 {
          op.append(text[j])
          j += 1
          if op.last != 0x3A { break }
        }
        while j < text.count {
          if text[j] == 0x7B { depth += 1 }
          if text[j] == 0x7D {
            depth -= 1
            if depth == 0 { break }
          }
          word.append(text[j])
          j += 1
        }
        let kind = op.last
        // A default that is itself an interpolation (`${OUTER:-${INNER:-x}}`) is no example; `$$` is a literal `$`.
        let wordText = String(decoding: word, as: UTF8.self)
        let literal = !wordText.replacing("$$", with: "").contains("$")
        let value: String? = kind == 0x2D && literal ? wordText.replacing("$$", with: "$") : nil
        let required = kind == 0x3F ? "compose stops when it is unset (${\(name)\(op.first == 0x3A ? ":" : "")?…})" : nil
        let optional = kind == 0x2B ? "compose uses it only when it is set (${\(name):+…})" : nil
        found.append((name, start, value, required, optional))
        // Go on inside the word, where nested interpolations name variables too.
        return literal ? j - i : end + op.count - i
      }
      for (name, offset, value, required, optional) in found {
        let (line, _) = text.position(of: offset)
        entries.append(
          TemplateEntry(
            name: name, value: value.map { SecretValue($0) }, description: CommentText.above(line, in: lines),
            file: file, line: line, origin: .composeInterpolation, optionalHint: optional, requiredHint: required))
      }
    }
    return entries
  }
}

/// Reads GitHub workflows: `secrets.X` and `vars.X` in expressions, and literal values in `env:` maps.
enum WorkflowTemplate {
  static func read(_ bytes: [UInt8], file: String) throws(DiscoverError) -> TemplateScan {
    let (root, lines) = try TemplateYAML.compose(bytes, file: file)
    var scan = TemplateScan()
    bytes.withUnsafeBufferPointer { buffer in
      var text = ScanText(buffer)
      for (name, offset, isSecret) in YAMLExpansionScanner.workflowReferences(text) {
        let (line, _) = text.position(of: offset)
        scan.entries.append(
          TemplateEntry(
            name: name, value: nil, description: CommentText.above(line, in: lines), file: file, line: line,
            origin: isSecret ? .workflowSecret : .workflowVariable))
      }
    }
    var literal: [TemplateEntry] = []
    func visit(_ node: Node) {
      switch node {
      case .mapping(let map):
        for (key, value) in map {
          if TemplateYAML.scalar(key) == "env", case .mapping(let env) = value {
            for (name, setting) in env {
              guard let name = TemplateYAML.scalar(name), let text = TemplateYAML.scalar(setting),
                !text.contains("${{")
              else { continue }
              let line = TemplateYAML.line(setting)
              literal.append(
                TemplateEntry(
                  name: name, value: SecretValue(text), description: CommentText.above(line, in: lines), file: file,
                  line: line, origin: .workflowEnvironment))
            }
          } else {
            visit(value)
          }
        }
      case .sequence(let items): items.forEach(visit)
      default: break
      }
    }
    if let root { visit(root) }
    scan.entries = (scan.entries + literal).sorted { $0.line < $1.line }
    return scan
  }
}

extension String {
  func trimmingBlanks() -> String {
    var s = Substring(self)
    while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
    while let l = s.last, l == " " || l == "\t" { s.removeLast() }
    return String(s)
  }
}
