import Yams

extension Manifest {
  /// The canonical text of this manifest, as `coffer init` writes it.
  ///
  /// The output is deterministic: top-level keys in the order `version`, `project`, `environments`,
  /// `recipients`, `groups`, `secrets`, then `destinations`, `access` and `imports` (one flow mapping per entry) when present; every list in declared
  /// order; access rules one per line in flow style (`- { environments: [production], groups: ['*'],
  /// recipients: [alice] }`); two-space indentation; `environments` and `required` lists in flow style (`[a, b]`); secret fields in
  /// the order `group`, `description`, `required`, `prefix`, `pattern`, `min_length`, `max_length`, `example`,
  /// `secret`, `format`, `rotation`, where `required` is always written, `secret` only when `false`, and other
  /// fields only when set; empty sections written as `{}`. Strings are plain when that is unambiguous, else
  /// single-quoted, else (control characters) double-quoted. No comments are written.
  ///
  /// For a valid manifest `m`, `Manifest.decode(Array(m.encodedYAML().utf8), file:)` equals `m` (``SecretSpec/line``
  /// aside, which equality ignores).
  /// - Returns: the YAML text, ending with a newline.
  public func encodedYAML() -> String {
    var lines: [String] = []
    lines.append("version: \(version)")
    lines.append("project: \(YAMLText.scalar(project))")
    if stores.isEmpty {
      lines.append("environments: \(YAMLText.flowList(environments))")
    } else {
      // An environment with a store is a flow mapping in the list: `{ name: production, store: bao-prod }`.
      let items = environments.map { name -> String in
        guard let store = stores[name] else { return YAMLText.scalar(name) }
        let age = storeCacheMaxAge[name].map { ", cache_max_age: \($0)s" } ?? ""
        return "{ name: \(YAMLText.scalar(name)), store: \(YAMLText.scalar(store))\(age) }"
      }
      lines.append("environments: [" + items.joined(separator: ", ") + "]")
    }
    if recipients.isEmpty {
      lines.append("recipients: {}")
    } else {
      lines.append("recipients:")
      for recipient in recipients {
        lines.append("  \(YAMLText.scalar(recipient.name)): \(YAMLText.scalar(recipient.manifestValue))")
      }
    }
    if let admins { lines.append("admins: \(YAMLText.flowList(admins))") }
    if groups.isEmpty {
      lines.append("groups: {}")
    } else {
      lines.append("groups:")
      for group in groups {
        var fields: [String] = []
        if let rotation = group.rotation { fields.append("rotation: \(rotation)") }
        if let description = group.description { fields.append("description: \(YAMLText.scalar(description))") }
        if fields.isEmpty {
          lines.append("  \(YAMLText.scalar(group.name)): {}")
        } else {
          lines.append("  \(YAMLText.scalar(group.name)):")
          lines.append(contentsOf: fields.map { "    " + $0 })
        }
      }
    }
    if secrets.isEmpty {
      lines.append("secrets: {}")
    } else {
      lines.append("secrets:")
      for spec in secrets {
        lines.append("  \(YAMLText.scalar(spec.name)):")
        lines.append(contentsOf: Self.fields(of: spec).map { "    " + $0 })
      }
    }
    if let destinations { lines.append(contentsOf: YAMLText.entry(key: "destinations", value: destinations, indent: 0)) }
    if let access {
      lines.append("access:")
      lines.append(contentsOf: access.map { "  - " + YAMLText.accessRule($0) })
    }
    if !imports.isEmpty {
      lines.append("imports:")
      for entry in imports {
        var fields: [String] = []
        if let git = entry.git { fields.append("git: " + YAMLText.scalar(git, flow: true)) }
        if let ref = entry.ref { fields.append("ref: " + YAMLText.scalar(ref, flow: true)) }
        if let path = entry.path { fields.append("path: " + YAMLText.scalar(path, flow: true)) }
        lines.append("  - { " + fields.joined(separator: ", ") + " }")
      }
    }
    return lines.joined(separator: "\n") + "\n"
  }

  package static func fields(of spec: SecretSpec) -> [String] {
    var fields: [String] = []
    if let group = spec.group { fields.append("group: \(YAMLText.scalar(group))") }
    if let description = spec.description { fields.append("description: \(YAMLText.scalar(description))") }
    switch spec.required {
    case .always: fields.append("required: true")
    case .never: fields.append("required: false")
    case .environments(let names): fields.append("required: \(YAMLText.flowList(names))")
    }
    if let prefix = spec.prefix { fields.append("prefix: \(YAMLText.scalar(prefix))") }
    if let pattern = spec.pattern { fields.append("pattern: \(YAMLText.scalar(pattern))") }
    if let minLength = spec.minLength { fields.append("min_length: \(minLength)") }
    if let maxLength = spec.maxLength { fields.append("max_length: \(maxLength)") }
    if let example = spec.example { fields.append("example: \(YAMLText.scalar(example))") }
    if !spec.isSecret { fields.append("secret: false") }
    if let format = spec.format { fields.append("format: \(YAMLText.scalar(format))") }
    if let rotation = spec.rotation { fields.append("rotation: \(rotation)") }
    if spec.allowLoaderVariable { fields.append("allow_loader_variable: true") }
    if let compose = spec.compose { fields.append("compose: \(YAMLText.scalar(compose.text))") }
    return fields
  }
}

/// Emits YAML scalars (YAML 1.2, https://yaml.org/spec/1.2.2/) for ``Manifest/encodedYAML()``, ``ManifestEditor``,
/// `coffer init` and `coffer export --format yaml`; each reads back as exactly the given string.
public enum YAMLText {
  /// A scalar in its most readable unambiguous form: plain, else single-quoted, else double-quoted.
  public static func scalar(_ text: String, flow: Bool = false) -> String {
    if isPlainSafe(text, flow: flow) { return text }
    if text.unicodeScalars.allSatisfy(isPrintableInline) { return singleQuoted(text) }
    return doubleQuoted(text)
  }

  static func flowList(_ items: [String]) -> String {
    "[" + items.map { scalar($0, flow: true) }.joined(separator: ", ") + "]"
  }

  /// One access rule as a one-line flow mapping: `{ environments: [...], groups: [...], recipients: [...] }`.
  static func accessRule(_ rule: AccessRule) -> String {
    func list(_ selector: AccessSelector) -> String {
      switch selector {
      case .any: return "['*']"
      case .names(let names): return flowList(names)
      }
    }
    return "{ environments: \(list(rule.environments)), groups: \(list(rule.groups)), "
      + "recipients: \(list(rule.recipients))\(rule.writeOnly ? ", write_only: true" : "") }"
  }

  static func isPrintableInline(_ scalar: Unicode.Scalar) -> Bool {
    let value = scalar.value
    if value < 0x20 || value == 0x7F || (0x80...0x9F).contains(value) { return false }
    if value == 0x2028 || value == 0x2029 || value == 0xFEFF { return false }
    return true
  }

  static func isPlainSafe(_ text: String, flow: Bool) -> Bool {
    let scalars = Array(text.unicodeScalars)
    guard let first = scalars.first, let last = scalars.last else { return false }
    if "-?:,[]{}#&*!|>'\"%@` ".unicodeScalars.contains(first) { return false }
    if last == " " || last == ":" { return false }
    guard scalars.allSatisfy(isPrintableInline) else { return false }
    for index in scalars.indices.dropLast() {
      let (current, next) = (scalars[index], scalars[index + 1])
      if current == ":" && next == " " { return false }
      if current == " " && next == "#" { return false }
    }
    if flow, scalars.contains(where: { ",[]{}:".unicodeScalars.contains($0) }) { return false }
    // Quote whatever a YAML 1.1 reader (Yams' default resolver) or our YAML 1.2 reading would not take as a string.
    guard Resolver.default.resolveTag(of: Node(text)) == .str else { return false }
    guard ManifestDecoder(file: "").classify(Node(text, .implicit, .plain)) == .string else { return false }
    return true
  }

  static func singleQuoted(_ text: String) -> String {
    "'" + text.replacingAll("'", with: "''") + "'"
  }

  public static func doubleQuoted(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\\": out += "\\\\"
      case "\"": out += "\\\""
      case "\n": out += "\\n"
      case "\t": out += "\\t"
      case "\r": out += "\\r"
      case "\0": out += "\\0"
      default:
        if isPrintableInline(scalar) {
          out.unicodeScalars.append(scalar)
        } else {
          let hex = String(scalar.value, radix: 16, uppercase: true)
          out += "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        }
      }
    }
    return out + "\""
  }

  /// The text of a value that fits on its key's line (a scalar or an empty collection), or `nil`.
  static func inline(_ value: ManifestValue) -> String? {
    switch value {
    case .null: return "null"
    case .bool(let flag): return flag ? "true" : "false"
    case .int(let number): return String(number)
    case .string(let text): return scalar(text)
    case .sequence(let items): return items.isEmpty ? "[]" : nil
    case .mapping(let entries): return entries.isEmpty ? "{}" : nil
    }
  }

  /// `key: value` lines at `indent` spaces.
  static func entry(key: String, value: ManifestValue, indent: Int) -> [String] {
    let pad = String(repeating: " ", count: indent)
    if let text = inline(value) { return ["\(pad)\(scalar(key)): \(text)"] }
    return ["\(pad)\(scalar(key)):"] + block(value, indent: indent + 2)
  }

  /// The lines of a non-empty collection in block style at `indent` spaces.
  static func block(_ value: ManifestValue, indent: Int) -> [String] {
    let pad = String(repeating: " ", count: indent)
    switch value {
    case .mapping(let entries):
      return entries.flatMap { entry(key: $0.key, value: $0.value, indent: indent) }
    case .sequence(let items):
      return items.flatMap { item -> [String] in
        if let text = inline(item) { return ["\(pad)- \(text)"] }
        var inner = block(item, indent: indent + 2)
        if let first = inner.first {
          inner[0] = pad + "- " + first.dropFirst(indent + 2)
        }
        return inner
      }
    default:
      return inline(value).map { [pad + $0] } ?? []
    }
  }
}

extension String {
  /// Replaces every occurrence of a non-empty string (stdlib only, no Foundation).
  func replacingAll(_ target: String, with replacement: String) -> String {
    guard !target.isEmpty else { return self }
    var out = ""
    var rest = self[...]
    while let range = rest.firstRange(of: target) {
      out += rest[..<range.lowerBound]
      out += replacement
      rest = rest[range.upperBound...]
    }
    out += rest
    return out
  }
}

