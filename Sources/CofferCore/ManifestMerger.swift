/// A project's manifest and everything it imports, as read from disk: the input of ``ManifestMerger``.
public struct ManifestImportGraph: Sendable {
  /// The key of the importing project's own manifest in ``sources``.
  public var root: String
  /// Every manifest reached, keyed by a stable identity (the loader uses the resolved file path).
  public var sources: [String: ManifestSource]
  /// For each key, the keys its `imports:` entries resolve to, in the same order as its ``Manifest/imports``.
  public var edges: [String: [String]]

  /// Creates a graph.
  /// - Parameters:
  ///   - root: the key of the project's manifest.
  ///   - sources: every manifest, by key.
  ///   - edges: each manifest's imports, as keys, in declared order.
  public init(root: String, sources: [String: ManifestSource], edges: [String: [String]]) {
    self.root = root
    self.sources = sources
    self.edges = edges
  }
}

/// The merged manifest and where each of its fields came from.
public struct MergedManifest: Sendable {
  /// The manifest every command sees: the project's own fields, imported groups and the secrets it declares with
  /// their imported definitions applied; its ``Manifest/imports`` is empty.
  public var manifest: Manifest
  /// Dotted field path (`groups.G`, `groups.G.rotation`, `secrets.NAME`, `secrets.NAME.group`, …) → where the
  /// value was written. `secrets.NAME` is where the definition was first written.
  public var provenance: [String: ManifestLocation]
  /// The names of the secrets whose definition comes from an import (the project only narrows or uses them).
  public var importedSecrets: Set<String>
}

/// Merges a manifest with the base manifests it imports. Pure: manifests in, merged manifest and provenance out.
///
/// Rules (docs/manifest.md, "Imports"): an imported definition is used as written. The importing manifest uses a
/// secret by declaring its name (with no fields, or narrowing ones); it may require it in more environments, add an
/// example, raise `min_length` or lower `max_length`, but not change its group, description, format, prefix,
/// pattern, rotation or `secret:`. Imported groups are available as written; redeclaring one may not change its
/// rotation or description. The same name defined by two different imports, and an import cycle, are errors.
public enum ManifestMerger {
  /// Merges the graph.
  /// - Parameter graph: the project's manifest and every manifest it reaches.
  /// - Returns: the merged manifest and its provenance.
  /// - Throws: ``ManifestError`` (exit 2) for an import cycle (naming the chain), a name defined by two imports
  ///   (naming both chains), a forbidden override (at the override, naming the imported definition's place), a
  ///   requirement that drops environments, or a group reference that is declared nowhere.
  public static func merge(_ graph: ManifestImportGraph) throws(ManifestError) -> MergedManifest {
    var state = State(graph: graph)
    try state.checkCycles(graph.root, stack: [])
    let exported = try state.exports(of: graph.root, isRoot: true)
    guard let rootSource = graph.sources[graph.root] else {
      throw ManifestError(file: graph.root, line: 0, column: 0, field: "", message: "no manifest")
    }
    var manifest = rootSource.manifest
    manifest.imports = []
    manifest.groups = exported.groups.map(\.value)
    manifest.secrets = exported.secrets.map(\.value)
    var provenance: [String: ManifestLocation] = [:]
    for group in exported.groups {
      for (field, location) in group.fields { provenance["groups.\(group.value.name)" + field] = location }
    }
    var imported = Set<String>()
    for secret in exported.secrets {
      for (field, location) in secret.fields { provenance["secrets.\(secret.value.name)" + field] = location }
      if secret.origin != graph.root { imported.insert(secret.value.name) }
    }
    // Requirements written in a catalog may name environments this project does not have.
    let environments = Set(manifest.environments)
    for index in manifest.secrets.indices {
      if case .environments(let names) = manifest.secrets[index].required {
        let kept = names.filter(environments.contains)
        manifest.secrets[index].required = kept.isEmpty ? .never : .environments(kept)
      }
    }
    // Every group reference must resolve now.
    let groupNames = Set(manifest.groups.map(\.name))
    for secret in exported.secrets {
      if let group = secret.value.group, !groupNames.contains(group) {
        let location = secret.fields[".group"] ?? secret.fields[""]!
        throw ManifestError(
          file: location.file, line: location.line, column: location.column,
          field: "secrets.\(secret.value.name).group",
          message: "no group named \"\(group)\" is declared under groups or in an import")
      }
    }
    for (ruleIndex, rule) in (manifest.access ?? []).enumerated() {
      guard case .names(let names) = rule.groups else { continue }
      for (index, name) in names.enumerated()
      where name != AccessPolicy.ungroupedGroup && !groupNames.contains(name) {
        let path = "access[\(ruleIndex)].groups[\(index)]"
        let location = rootSource.here(path, or: path)
        throw ManifestError(
          file: location.file, line: location.line, column: location.column, field: path,
          message: "no group named \"\(name)\" is declared under groups or in an import")
      }
    }
    return MergedManifest(manifest: manifest, provenance: provenance, importedSecrets: imported)
  }

  /// A definition with where it came from.
  struct Definition<Value: Sendable>: Sendable {
    var value: Value
    /// The key of the manifest that first defined it.
    var origin: String
    /// Display names from the importing manifest down to the origin.
    var chain: [String]
    /// Field suffix (`""` for the declaration itself, `.group`, `.rotation`, …) → where it is written.
    var fields: [String: ManifestLocation]
  }

  struct Exports {
    var groups: [Definition<SecretGroup>] = []
    var secrets: [Definition<SecretSpec>] = []
  }

  struct State {
    let graph: ManifestImportGraph
    var memo: [String: Exports] = [:]

    init(graph: ManifestImportGraph) { self.graph = graph }

    func source(_ key: String) -> ManifestSource {
      graph.sources[key] ?? ManifestSource(file: key, manifest: Manifest(project: key, environments: []), positions: [:])
    }

    func checkCycles(_ key: String, stack: [String]) throws(ManifestError) {
      let importing = source(key)
      for (index, target) in (graph.edges[key] ?? []).enumerated() {
        if target == key || stack.contains(target) {
          let names = (stack + [key]).drop { $0 != target }.map { source($0).file } + [source(target).file]
          let location = importing.here("imports[\(index)]", or: "imports[\(index)]")
          throw ManifestError(
            file: location.file, line: location.line, column: location.column, field: "imports[\(index)]",
            message: "import cycle: \(names.joined(separator: " → "))")
        }
        try checkCycles(target, stack: stack + [key])
      }
    }

    mutating func exports(of key: String, isRoot: Bool) throws(ManifestError) -> Exports {
      if !isRoot, let done = memo[key] { return done }
      let here = source(key)
      var groups: [Definition<SecretGroup>] = []
      var secrets: [Definition<SecretSpec>] = []
      var groupIndex: [String: Int] = [:]
      var secretIndex: [String: Int] = [:]
      for (index, target) in (graph.edges[key] ?? []).enumerated() {
        let imported = try exports(of: target, isRoot: false)
        let entry = here.here("imports[\(index)]", or: "imports[\(index)]")
        let via = source(target).file
        for var group in imported.groups {
          group.chain = [via] + group.chain
          if let existing = groupIndex[group.value.name] {
            guard groups[existing].origin == group.origin else {
              throw collision("groups", group.value.name, groups[existing], group, at: entry, index: index)
            }
            continue
          }
          groupIndex[group.value.name] = groups.count
          groups.append(group)
        }
        for var secret in imported.secrets {
          secret.chain = [via] + secret.chain
          if let existing = secretIndex[secret.value.name] {
            guard secrets[existing].origin == secret.origin else {
              throw collision("secrets", secret.value.name, secrets[existing], secret, at: entry, index: index)
            }
            continue
          }
          secretIndex[secret.value.name] = secrets.count
          secrets.append(secret)
        }
      }
      let importedSecretCount = secrets.count
      // This manifest's own groups.
      for group in here.manifest.groups {
        let path = "groups.\(group.name)"
        if let existing = groupIndex[group.name] {
          let base = groups[existing]
          if here.location(of: path + ".rotation") != nil, group.rotation != base.value.rotation {
            throw forbidden(here, path + ".rotation", "rotation", base, "rotation", "group")
          }
          if here.location(of: path + ".description") != nil, group.description != base.value.description {
            throw forbidden(here, path + ".description", "description", base, "description", "group")
          }
          continue
        }
        var fields: [String: ManifestLocation] = ["": here.here(path, or: path)]
        for field in ["rotation", "description"] {
          if let location = here.location(of: path + "." + field) { fields["." + field] = location }
        }
        groupIndex[group.name] = groups.count
        groups.append(Definition(value: group, origin: key, chain: [], fields: fields))
      }
      // This manifest's own secrets: narrowings of imported ones, or new definitions. Where each secret's fields are
      // written, gathered in one pass over the positions (looking up every field of every secret by a built path
      // cost more than decoding the YAML at 1,000 secrets).
      var fieldLocations: [String: [String: ManifestLocation]] = [:]
      let knownFields = Set(ManifestDecoder.secretFields)
      for (key, position) in here.positions where key.hasPrefix("secrets.") {
        let rest = key.utf8.dropFirst(8)
        guard let dot = rest.firstIndex(of: UInt8(ascii: ".")) else { continue }
        let field = String(Substring(key.utf8[key.utf8.index(after: dot)...]))
        guard knownFields.contains(field) else { continue }
        let name = String(Substring(rest[..<dot]))
        fieldLocations[name, default: [:]]["." + field] = ManifestLocation(file: here.file, line: position.line, column: position.column)
      }
      var used: [Int] = []
      for spec in here.manifest.secrets {
        let path = "secrets.\(spec.name)"
        if let existing = secretIndex[spec.name], existing < importedSecretCount {
          var merged = secrets[existing]
          try narrow(&merged, with: spec, in: here, path: path)
          merged.value.line = spec.line
          secrets[existing] = merged
          used.append(existing)
          continue
        }
        var fields = fieldLocations[spec.name] ?? [:]
        fields[""] = here.here(path, or: path)
        secretIndex[spec.name] = secrets.count
        used.append(secrets.count)
        secrets.append(Definition(value: spec, origin: key, chain: [], fields: fields))
      }
      // A catalog exports every definition it reaches; the project itself uses only the secrets it declares.
      let result = Exports(groups: groups, secrets: isRoot ? used.map { secrets[$0] } : secrets)
      if !isRoot { memo[key] = result }
      return result
    }

    func narrow(
      _ merged: inout Definition<SecretSpec>, with spec: SecretSpec, in here: ManifestSource, path: String
    ) throws(ManifestError) {
      let base = merged.value
      func written(_ field: String) -> Bool { here.location(of: path + "." + field) != nil }
      func check<T: Equatable>(_ field: String, _ mine: T?, _ theirs: T?, _ what: String) throws(ManifestError) {
        if written(field), let mine, mine != theirs {
          throw forbidden(here, path + "." + field, field, merged, field, what)
        }
      }
      try check("group", spec.group, base.group, "secret")
      try check("description", spec.description, base.description, "secret")
      try check("format", spec.format, base.format, "secret")
      try check("prefix", spec.prefix, base.prefix, "secret")
      try check("pattern", spec.pattern, base.pattern, "secret")
      try check("rotation", spec.rotation, base.rotation, "secret")
      try check("secret", spec.isSecret, base.isSecret, "secret")
      try check("allow_loader_variable", spec.allowLoaderVariable, base.allowLoaderVariable, "secret")
      try check("compose", spec.compose, base.compose, "secret")
      if written("min_length"), let mine = spec.minLength {
        if let theirs = base.minLength, mine < theirs {
          throw forbidden(here, path + ".min_length", "min_length", merged, "min_length", "secret", verb: "lower")
        }
        merged.value.minLength = mine
        merged.fields[".min_length"] = here.location(of: path + ".min_length")
      }
      if written("max_length"), let mine = spec.maxLength {
        if let theirs = base.maxLength, mine > theirs {
          throw forbidden(here, path + ".max_length", "max_length", merged, "max_length", "secret", verb: "raise")
        }
        merged.value.maxLength = mine
        merged.fields[".max_length"] = here.location(of: path + ".max_length")
      }
      if let minLength = merged.value.minLength, let maxLength = merged.value.maxLength, minLength > maxLength {
        let location = here.here(path + ".max_length", or: path + ".min_length")
        throw ManifestError(
          file: location.file, line: location.line, column: location.column, field: path + ".max_length",
          message: "max_length \(maxLength) is less than min_length \(minLength)")
      }
      if written("required") {
        guard Self.covers(spec.required, base.required, environments: here.manifest.environments) else {
          throw forbidden(here, path + ".required", "required", merged, "required", "secret", verb: "require less than")
        }
        merged.value.required = spec.required
        merged.fields[".required"] = here.location(of: path + ".required")
      }
      if written("example"), let example = spec.example {
        merged.value.example = example
        merged.fields[".example"] = here.location(of: path + ".example")
      }
    }

    /// Whether requirement `a` requires a value everywhere `b` does (within `environments` when known).
    static func covers(_ a: Requirement, _ b: Requirement, environments: [String]) -> Bool {
      func set(_ requirement: Requirement) -> Set<String>? {
        switch requirement {
        case .always: return environments.isEmpty ? nil : Set(environments)
        case .never: return []
        case .environments(let names):
          return Set(environments.isEmpty ? names : names.filter(environments.contains))
        }
      }
      guard let wanted = set(b) else { return a == .always }
      guard let given = set(a) else { return true }
      return given.isSuperset(of: wanted)
    }

    func forbidden<T>(
      _ here: ManifestSource, _ path: String, _ field: String, _ base: Definition<T>, _ baseField: String,
      _ what: String, verb: String = "change"
    ) -> ManifestError {
      let location = here.here(path, or: path)
      let theirs = base.fields["." + baseField] ?? base.fields[""] ?? ManifestLocation(file: "", line: 0, column: 0)
      let name = path.split(separator: ".").dropFirst().first.map(String.init) ?? path
      let subject = verb == "require less than" ? "require \(name) in fewer environments than" : "\(verb) the \(field) of"
      return ManifestError(
        file: location.file, line: location.line, column: location.column, field: path,
        message: "cannot \(subject) the imported \(what) \(name), defined at \(theirs)",
        hints: ["an imported definition is used as written; change it in \(theirs.file), or remove this field"])
    }

    func collision<T>(
      _ section: String, _ name: String, _ first: Definition<T>, _ second: Definition<T>, at entry: ManifestLocation,
      index: Int
    ) -> ManifestError {
      let importing = entry.file
      func describe(_ definition: Definition<T>) -> String {
        ([importing] + definition.chain).joined(separator: " → ") + " (\(definition.fields[""] ?? entry))"
      }
      return ManifestError(
        file: entry.file, line: entry.line, column: entry.column, field: "imports[\(index)]",
        message: "\(section).\(name) is defined by two imports: \(describe(first)) and \(describe(second))")
    }
  }
}
