import CofferCore

/// Reads a project's manifest and every manifest it imports, then merges them with ``ManifestMerger``.
///
/// This is the edge of the import machinery: it resolves paths and reads files; merging is pure (CofferCore).
package enum ManifestLoader {
  /// Reads `manifestPath`, follows its `imports:` (each file read once), and merges.
  ///
  /// A path import is relative to the importing manifest's directory and names a manifest file (`.yaml`/`.yml`) or a
  /// directory holding `coffer.yaml`.
  ///
  /// A manifest without imports that decoded before is read from its snapshot (``ManifestSnapshotStore``) when its
  /// bytes are unchanged, instead of being decoded again; the result is the same.
  /// - Parameters:
  ///   - manifestPath: the project's `coffer.yaml`.
  ///   - rootDisplay: the name to show for it in errors (default: relative to the current directory).
  ///   - provenance: whether the caller needs ``MergedManifest/provenance``; without, it may be empty (when the
  ///     manifest comes from its snapshot).
  /// - Returns: the merged manifest with provenance (unless `provenance` is false).
  /// - Throws: ``SystemError`` when the project's manifest cannot be read; ``ManifestError`` (exit 2) for an invalid
  ///   manifest, an import that cannot be read (at the `imports:` entry), a `git:` import that is not pinned in
  ///   `coffer.lock`, cannot be fetched, or whose content changed under its pin, or any merge error.
  package static func load(_ manifestPath: String, rootDisplay: String? = nil, provenance: Bool = true) throws
    -> MergedManifest
  {
    let bytes = try Files.read(manifestPath)
    let file = rootDisplay ?? display(Paths.resolved(manifestPath))
    let snapshots = ManifestSnapshotStore(manifestPath: manifestPath, manifest: bytes)
    if let merged = snapshots?.read(file: file, provenance: provenance) { return merged }
    var git: GitImports?
    var cache: [String: ManifestSource] = [:]
    let merged = try loadGraph(manifestPath, rootBytes: bytes, rootDisplay: file, gitImports: &git, cache: &cache).merged
    snapshots?.write(merged, file: file)
    return merged
  }

  /// ``load(_:rootDisplay:)`` with the `git:` import state given (or created, pinned, at the first git import):
  /// `coffer imports update` passes one in update mode and writes its pins afterwards.
  /// - Parameters:
  ///   - manifestPath: the project's `coffer.yaml`.
  ///   - rootDisplay: the name to show for it in errors.
  ///   - git: the git import state; updated with the pins used.
  /// - Returns: the merged manifest with provenance.
  /// - Throws: as ``load(_:rootDisplay:)``, and ``ManifestError`` at the `imports:` entry for a git import that is
  ///   not pinned, cannot be fetched when its commit is not cached, or whose content no longer matches its pin.
  package static func load(_ manifestPath: String, rootDisplay: String? = nil, git: inout GitImports) throws
    -> MergedManifest
  {
    var optional: GitImports? = git
    defer { git = optional! }
    return try load(manifestPath, rootDisplay: rootDisplay, gitImports: &optional)
  }

  /// ``load(_:rootDisplay:)`` that also returns the import graph it read: every imported manifest (a catalog) by
  /// its resolved path (or `git:` key), which `coffer org check` needs to see catalog definitions nobody uses.
  /// - Parameters:
  ///   - manifestPath: the project's `coffer.yaml`.
  ///   - rootDisplay: the name to show for it in errors.
  ///   - cache: imported files already parsed, by resolved path; files read here are added. Many projects that
  ///     import one catalog parse it once.
  /// - Returns: the merged manifest and the graph (its root is `manifestPath` resolved).
  /// - Throws: as ``load(_:rootDisplay:)``.
  package static func loadWithGraph(
    _ manifestPath: String, rootDisplay: String? = nil, cache: inout [String: ManifestSource]
  ) throws -> (merged: MergedManifest, graph: ManifestImportGraph) {
    var git: GitImports?
    return try loadGraph(manifestPath, rootDisplay: rootDisplay, gitImports: &git, cache: &cache)
  }

  static func load(_ manifestPath: String, rootDisplay: String?, gitImports git: inout GitImports?) throws
    -> MergedManifest
  {
    var cache: [String: ManifestSource] = [:]
    return try loadGraph(manifestPath, rootDisplay: rootDisplay, gitImports: &git, cache: &cache).merged
  }

  static func loadGraph(
    _ manifestPath: String, rootBytes: [UInt8]? = nil, rootDisplay: String?, gitImports git: inout GitImports?,
    cache: inout [String: ManifestSource]
  ) throws -> (merged: MergedManifest, graph: ManifestImportGraph) {
    let rootKey = Paths.resolved(manifestPath)
    let bytes = try rootBytes ?? Files.read(manifestPath)
    let root = try ManifestSource.parse(bytes, file: rootDisplay ?? display(rootKey))
    var sources: [String: ManifestSource] = [rootKey: root]
    var edges: [String: [String]] = [:]
    var pending = [rootKey]
    while let key = pending.popLast() {
      guard let source = sources[key] else { continue }
      var targets: [String] = []
      for (index, entry) in source.manifest.imports.enumerated() {
        let location = source.location(of: "imports[\(index)]") ?? ManifestLocation(file: source.file, line: 0, column: 0)
        func fail(_ message: String) -> ManifestError {
          ManifestError(
            file: location.file, line: location.line, column: location.column, field: "imports[\(index)]",
            message: message)
        }
        if entry.git != nil {
          if git == nil { git = try GitImports(manifestPath: manifestPath) }
          let fetched = try git!.resolve(entry, fail: fail)
          targets.append(fetched.key)
          if sources[fetched.key] != nil { continue }
          let parsed = try ManifestSource.parse(fetched.bytes, file: fetched.display, imported: true)
          guard parsed.manifest.imports.isEmpty else {
            throw fail("\(fetched.display) has imports of its own, which a git import may not have")
          }
          sources[fetched.key] = parsed
          continue
        }
        if key.hasPrefix("git:") { throw fail("a git import may not import paths") }
        guard let relative = entry.path else { throw fail("expected path") }
        var path = Paths.join(Paths.parent(key), relative)
        // A directory (or a path that is not a YAML file) means the coffer.yaml inside it.
        if Files.isDirectory(path) || !(relative.hasSuffix(".yaml") || relative.hasSuffix(".yml")) {
          path = Paths.join(path, Project.manifestName)
        }
        let target = Paths.resolved(path)
        targets.append(target)
        if sources[target] != nil { continue }
        if let parsed = cache[target] {
          sources[target] = parsed
          pending.append(target)
          continue
        }
        guard Files.exists(target), !Files.isDirectory(target) else {
          throw fail("cannot read import \(display(target)): no such file")
        }
        let imported: [UInt8]
        do {
          imported = try Files.read(target)
        } catch {
          throw fail("cannot read import \(display(target)): \(error.reason)")
        }
        sources[target] = try ManifestSource.parse(imported, file: display(target), imported: true)
        cache[target] = sources[target]
        pending.append(target)
      }
      edges[key] = targets
    }
    let graph = ManifestImportGraph(root: rootKey, sources: sources, edges: edges)
    return (try ManifestMerger.merge(graph), graph)
  }

  /// A path as shown to the user: relative to the current directory (with `..` where needed), else absolute.
  package static func display(_ path: String) -> String {
    let cwd = Paths.resolved(Paths.currentDirectory())
    let from = cwd.split(separator: "/")
    let to = path.split(separator: "/")
    var common = 0
    while common < from.count, common < to.count, from[common] == to[common] { common += 1 }
    let ups = from.count - common
    guard common > 0 || from.isEmpty, ups <= 3 else { return path }
    let parts = Array(repeating: "..", count: ups) + to[common...].map(String.init)
    return parts.joined(separator: "/")
  }
}
