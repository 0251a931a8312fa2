import ArgumentParser
import CofferCore
import CofferOperations
import CofferSystem

extension CofferCommand {
  /// `coffer manifest`: inspect the merged manifest.
  struct ManifestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "manifest", abstract: "Inspect the manifest as commands see it (imports applied).",
      subcommands: [Show.self], defaultSubcommand: Show.self)

    struct Show: ParsableCommand {
      static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print the merged manifest with where each field came from.",
        discussion: """
          Prints coffer.yaml with its imports applied (docs/manifest.md, "Imports"); each group, secret and field \
          is followed by a comment naming the file:line:column it was written at. Fields with no comment are \
          defaults. The manifest never holds a value.
          """)

      @OptionGroup var global: GlobalOptions
      @Flag(name: .long, help: "Print JSON: groups and secrets with a `from` object per field.") var json = false

      mutating func run() throws {
        let ws = try Workspace.load(project: global.project, verbose: global.verbose, provenance: true)
        if json {
          Terminal.out(ManifestView.json(ws.manifest, provenance: ws.provenance).encoded + "\n")
        } else {
          Terminal.out(ManifestView.annotated(ws.manifest, provenance: ws.provenance))
        }
      }
    }
  }
}

/// Renders a merged manifest with provenance.
enum ManifestView {
  /// The canonical YAML (``Manifest/encodedYAML()``) with a `# file:line:column` comment after each group, secret
  /// and field that has a recorded origin.
  static func annotated(_ manifest: Manifest, provenance: [String: ManifestLocation]) -> String {
    var out = ""
    var section = ""
    var name = ""
    for line in manifest.encodedYAML().split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
      var key: String?
      if !line.hasPrefix(" ") {
        section = String(line.prefix { $0 != ":" })
      } else if line.hasPrefix("    "), section == "groups" || section == "secrets" {
        let field = line.dropFirst(4).prefix { $0 != ":" }
        key = "\(section).\(name).\(field)"
      } else if line.hasPrefix("  "), !line.hasPrefix("  -"), section == "groups" || section == "secrets" {
        var text = line.dropFirst(2).prefix { $0 != ":" }
        if text.hasPrefix("'"), text.hasSuffix("'"), text.count >= 2 { text = text.dropFirst().dropLast() }
        name = String(text)
        key = "\(section).\(name)"
      }
      if let key, let location = provenance[key] {
        let padding = String(repeating: " ", count: max(1, 44 - line.count))
        out += line + padding + "# " + location.description + "\n"
      } else {
        out += line + "\n"
      }
    }
    return out
  }

  /// `{"project", "environments", "groups": [...], "secrets": [...]}`, each group and secret with its fields and a
  /// `from` object (field → "file:line:column"; `""` → where it was declared).
  static func json(_ manifest: Manifest, provenance: [String: ManifestLocation]) -> JSON {
    func origins(_ prefix: String, _ fields: [String]) -> JSON {
      var pairs: [(String, JSON)] = []
      if let declared = provenance[prefix] { pairs.append(("", .string(declared.description))) }
      for field in fields {
        if let location = provenance[prefix + "." + field] { pairs.append((field, .string(location.description))) }
      }
      return .object(pairs)
    }
    func optional(_ text: String?) -> JSON { text.map { .string($0) } ?? .null }
    let groups: [JSON] = manifest.groups.map { group in
      .object([
        ("name", .string(group.name)), ("rotation", optional(group.rotation?.description)),
        ("description", optional(group.description)),
        ("from", origins("groups.\(group.name)", ["rotation", "description"])),
      ])
    }
    let secrets: [JSON] = manifest.secrets.map { spec in
      let required: JSON
      switch spec.required {
      case .always: required = .bool(true)
      case .never: required = .bool(false)
      case .environments(let names): required = JSON.strings(names)
      }
      return .object([
        ("name", .string(spec.name)), ("group", optional(spec.group)), ("description", optional(spec.description)),
        ("required", required), ("prefix", optional(spec.prefix)), ("pattern", optional(spec.pattern)),
        ("min_length", spec.minLength.map { .int($0) } ?? .null),
        ("max_length", spec.maxLength.map { .int($0) } ?? .null), ("example", optional(spec.example)),
        ("secret", .bool(spec.isSecret)), ("format", optional(spec.format)),
        ("rotation", optional(spec.rotation?.description)),
        ("allow_loader_variable", .bool(spec.allowLoaderVariable)), ("compose", optional(spec.compose?.text)),
        ("from", origins("secrets.\(spec.name)", ManifestDecoderFields.secret)),
      ])
    }
    return .object([
      ("project", .string(manifest.project)), ("environments", JSON.strings(manifest.environments)),
      ("groups", .array(groups)), ("secrets", .array(secrets)),
    ])
  }
}

/// The secret fields in manifest order (as docs/manifest.md lists them).
enum ManifestDecoderFields {
  static let secret = [
    "group", "description", "required", "prefix", "pattern", "min_length", "max_length", "example", "secret",
    "format", "rotation", "allow_loader_variable", "compose",
  ]
}
