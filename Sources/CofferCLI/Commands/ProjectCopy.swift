import CofferCore
import CofferOperations
import CofferSystem
import CofferVault

/// `coffer import --from-project DIR` and `coffer setup-repo --from-project DIR`: values copied from another
/// project's vault, which is only read (docs/organization.md, "Moving secrets between projects").
enum ProjectCopy {
  /// A comma-separated option as a list (`nil` when the option was not given).
  static func list(_ text: String?) -> [String]? {
    text.map { $0.split(separator: ",").map { String($0).trimmingSpaces() }.filter { !$0.isEmpty } }
  }

  /// The project in `dir` itself (not a parent: a folder without `coffer.yaml` is an error, exit 2).
  static func loadSource(_ dir: String, verbose: Bool) throws -> Workspace {
    guard Files.exists(Paths.join(dir, Project.manifestName)) else {
      throw UsageError(description: "--from-project \(dir): no \(Project.manifestName) there")
    }
    return try Workspace.load(project: dir, verbose: verbose)
  }

  /// `coffer import --from-project`.
  static func run(
    global: GlobalOptions, from dir: String, sourceEnv: String?, targetEnv: String?, names: [String]?,
    groups: [String]?, overwrite: Bool, allowPartial: Bool
  ) throws {
    guard let sourceEnv = sourceEnv ?? Workspace.environmentVariable else {
      throw UsageError(description: "--from-project needs --env NAME, the environment of \(dir) to copy from")
    }
    let ws = try Workspace.load(global)
    let source = try loadSource(dir, verbose: global.verbose)
    guard Paths.resolved(source.project.root) != Paths.resolved(ws.project.root) else {
      throw UsageError(description: "--from-project \(dir) is this project", hints: ["to copy between environments of one project, use export and import"])
    }
    let from = try source.environment(named: sourceEnv)
    let to = try ws.environment(named: targetEnv ?? from)
    let identities = try IdentityLoader.load()
    try copy(
      from: source, label: dir, environment: from, into: ws, environment: to, names: names, groups: groups,
      overwrite: overwrite, allowPartial: allowPartial, identities: identities)
  }

  /// Copies one environment's values from `source` into `ws`: selects (`names`, else `groups`, else every secret
  /// of the source vault), refuses unreadable source groups unless `allowPartial`, leaves out names `ws` does not
  /// declare and names whose group nobody may read in `target`, records the read in the source's audit log and the
  /// write in this one, and prints the usual summary.
  /// - Throws: ``UsageError`` (exit 2, nothing written) for a source environment without a vault, or a name or
  ///   group it does not hold; ``AccessDenied`` (exit 3) for unreadable groups without `allowPartial`.
  static func copy(
    from source: Workspace, label: String, environment sourceEnv: String, into ws: Workspace,
    environment target: String, names: [String]?, groups: [String]?, overwrite: Bool, allowPartial: Bool,
    identities: [AgeX25519Identity]
  ) throws {
    guard let vault = try source.openVault(sourceEnv, identities: identities) else {
      throw UsageError(description: "\(label) has no vault for \(sourceEnv): nothing to copy")
    }
    var selected: [String]
    if let names {
      for name in names {
        try SecretNames.validate(name)
        guard vault.current(name) != nil else {
          var hints: [String] = []
          if let close = Suggest.closest(to: name, among: vault.names) { hints.append("did you mean \(close)?") }
          throw UsageError(description: "\(name) has no value in \(label) (\(sourceEnv))", hints: hints)
        }
      }
      selected = names
    } else if let groups {
      let present = Set(vault.names.compactMap { vault.group(of: $0) })
      for group in groups where !present.contains(group) {
        throw UsageError(
          description: "no secret of group \(group) in \(label) (\(sourceEnv))",
          hints: ["its vault holds the groups: \(present.sorted().joined(separator: ", "))"])
      }
      selected = vault.names.filter { groups.contains(vault.group(of: $0) ?? "") }
    } else {
      selected = vault.names
    }
    let unreadable = selected.filter { !vault.isReadable($0) }
    if !unreadable.isEmpty {
      let unreadableGroups = Set(unreadable.compactMap { vault.group(of: $0) }).sorted()
      guard allowPartial else {
        throw AccessDenied(
          description: "cannot read groups \(unreadableGroups.joined(separator: ", ")) in \(label) (\(sourceEnv)) with this identity",
          hints: AccessDenied.grantHints(
            groups: unreadableGroups, environment: sourceEnv, vault: vault, manifest: source.manifest, identities: identities)
            + ["pass --allow-partial to copy the rest, or choose with --names or --groups"])
      }
      ErrorRenderer.warn(
        "not readable with this identity in \(label) (\(sourceEnv)), not copied: \(unreadable.joined(separator: ", ")) "
          + "(groups \(unreadableGroups.joined(separator: ", ")))")
      selected.removeAll { unreadable.contains($0) }
    }
    let undeclared = selected.filter { ws.manifest.secret(named: $0) == nil }
    let wrap = try ws.wrapPolicy(target, fallback: identities)
    let blocked = selected.filter { ws.manifest.secret(named: $0) != nil && wrap(ws.group(of: $0)).isEmpty }
    let copied = selected.filter { !undeclared.contains($0) && !blocked.contains($0) }
    var values: [(name: String, value: SecretValue)] = []
    for name in copied { values.append((name, try vault.value(of: name))) }
    let refused = unreadable.count + undeclared.count + blocked.count
    var summary = Importer.Summary()
    if !values.isEmpty {
      // The source records the read before anything is written here.
      try source.auditor(identities).recordRead(
        "export", vault: vault, values: values, destination: "project:\(ws.manifest.project)/\(target)")
      summary = try Importer.store(
        values, in: ws, target, identities: identities, overwrite: overwrite,
        detail: "from project \(source.manifest.project) (\(sourceEnv))")
    }
    summary.report("copied from \(label) (\(sourceEnv)) into \(target)", extraSkipped: refused)
    if !undeclared.isEmpty {
      ErrorRenderer.warn("not declared in coffer.yaml, not copied: \(undeclared.joined(separator: ", "))")
    }
    if !blocked.isEmpty {
      let detail = blocked.map { "\($0) (group \(ws.group(of: $0)))" }.joined(separator: ", ")
      ErrorRenderer.warn("blocked, nobody may read their group in \(target) here: \(detail)")
    }
  }
}
