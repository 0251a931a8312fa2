import CofferCore
import CofferSync
import CofferSystem
import CofferVault

/// What `get`, `set`, `list`, `check`, `export`, `run`, `history` and `sync` do for an environment whose store is
/// a server. Each entry point returns `nil` (or `false`) for an environment kept in the vault, so a command's own
/// code runs unchanged; the call sites are one line each.
///
/// Reads and writes are recorded in the audit log like the vault's (action, environment, names, the store as the
/// destination), without fingerprints: those are keyed by a vault key a store environment does not have.
enum StoreCommands {
  /// Set while `migrate-store --to vault` fills the vault of an environment whose manifest still names a store.
  static var migrating: Bool {
    get { Workspace.migratingStore }
    set { Workspace.migratingStore = newValue }
  }

  /// `coffer get` from a store. Returns `false` for a vault environment.
  static func get(
    _ ws: Workspace, _ environment: String, name: String, version: Int?, json: Bool, noNewline: Bool
  ) throws -> Bool {
    guard let spec = try StoreEnvironment.spec(ws, environment) else { return false }
    let value: SecretValue
    if version == nil, ws.manifest.secret(named: name)?.compose != nil {
      var values: [String: SecretValue] = [:]
      for stored in try StoreEnvironment.readAll(ws, environment, spec) { values[stored.name] = stored.value }
      if let chain = Composition.apply(ws.manifest, to: &values).first(where: { $0.name == name })?.chain {
        throw ComposedValues.missing(name, chain: chain, environment: environment)
      }
      value = values[name] ?? SecretValue([UInt8]())
    } else if let version {
      guard let stored = try StoreEnvironment.with(ws, spec, { try await $0.read(name, version: version) }) else {
        throw UsageError(
          description: "\(name) has no value at version \(version) in \(environment) (store \(spec.name))",
          hints: ["`coffer history \(name) --env \(environment)` lists its versions"], exitStatus: .problemsFound)
      }
      value = stored.value
    } else {
      let stored: StoredValue?
      if ws.manifest.storeCacheMaxAge[environment] != nil {
        stored = try StoreEnvironment.readAll(ws, environment, spec).first { $0.name == name }
      } else {
        stored = try StoreEnvironment.with(ws, spec) { try await $0.read(name, version: nil) }
      }
      guard let stored else { throw ws.noValue(name, environment: environment) }
      value = stored.value
    }
    try record(ws, "read", environment, spec, names: [name])
    try CofferCommand.Get.print(name, value, json: json, noNewline: noNewline)
    return true
  }

  /// `coffer set` into a store, with check-and-set. Returns `false` for a vault environment.
  static func set(_ ws: Workspace, _ environment: String, name: String, value: SecretValue) throws -> Bool {
    guard let spec = try StoreEnvironment.spec(ws, environment) else { return false }
    let version: Int
    do {
      version = try StoreEnvironment.with(ws, spec) { try await $0.write(name, value) }
    } catch let error as StoreError {
      try? record(ws, "write", environment, spec, names: [name], outcome: "failed", detail: error.description)
      throw error
    }
    try record(ws, "write", environment, spec, names: [name], durable: true)
    ErrorRenderer.note("set \(name) in \(environment) at store \(spec.name) (version \(version))")
    ws.warnIfInvalid(name, value, environment: environment)
    return true
  }

  /// Every current value of a store environment, the read recorded as `action` (`check`, `export`, `run`,
  /// `sync`); `nil` for a vault environment.
  /// ``values(_:_:action:destination:)`` as `check` reads a store environment (``EnvironmentCheck``).
  static func checkValues(_ ws: Workspace, _ environment: String) throws -> [(name: String, value: SecretValue)]? {
    try values(ws, environment, action: "check", destination: nil)
  }

  static func values(
    _ ws: Workspace, _ environment: String, action: String, destination: String? = nil
  ) throws -> [(name: String, value: SecretValue)]? {
    guard let spec = try StoreEnvironment.spec(ws, environment) else { return nil }
    let stored = try StoreEnvironment.readAll(ws, environment, spec)
    try record(ws, action, environment, spec, names: stored.map(\.name), target: destination)
    return stored.map { ($0.name, $0.value) }
  }

  /// `coffer list` of a store: name, group, version; never values. Returns `false` for a vault environment.
  static func list(_ ws: Workspace, _ environment: String, json: Bool) throws -> Bool {
    guard let spec = try StoreEnvironment.spec(ws, environment) else { return false }
    let stored = try StoreEnvironment.readAll(ws, environment, spec)
    try record(ws, "list", environment, spec, names: stored.map(\.name))
    if json {
      let items: [JSON] = stored.map { entry in
        .object([
          ("name", .string(entry.name)), ("group", .string(ws.group(of: entry.name))), ("version", .int(entry.version)),
          ("declared", .bool(ws.manifest.secret(named: entry.name) != nil)),
        ])
      }
      Terminal.out(
        JSON.object([("environment", .string(environment)), ("store", .string(spec.name)), ("secrets", .array(items))])
          .encoded + "\n")
      return true
    }
    var rows = [["NAME", "GROUP", "VERSION", "STORE"]]
    for entry in stored { rows.append([entry.name, ws.group(of: entry.name), String(entry.version), spec.name]) }
    Terminal.out(Table.render(rows))
    return true
  }

  /// `coffer history` of a store: the server's versions of the name. Returns `false` for a vault environment.
  static func history(_ ws: Workspace, _ environment: String, name: String, json: Bool) throws -> Bool {
    guard let spec = try StoreEnvironment.spec(ws, environment) else { return false }
    let versions = try StoreEnvironment.with(ws, spec) { try await $0.versions(of: name) }
    guard !versions.isEmpty else { throw ws.noValue(name, environment: environment) }
    if json {
      let items: [JSON] = versions.map {
        .object([("version", .int($0.number)), ("created", .string($0.created)), ("deleted", .bool($0.deleted))])
      }
      Terminal.out(
        JSON.object([
          ("environment", .string(environment)), ("store", .string(spec.name)), ("name", .string(name)),
          ("versions", .array(items)),
        ]).encoded + "\n")
      return true
    }
    var rows = [["VERSION", "CREATED", "STORE"]]
    for v in versions { rows.append([String(v.number) + (v.deleted ? " (deleted)" : ""), v.created, spec.name]) }
    Terminal.out(Table.render(rows))
    return true
  }

  /// Refuses a vault write (import, rotate, rollback, rm, pull, …) to an environment whose store is a server: the
  /// vault file it would create would be ignored.
  static func refuseVaultWrite(_ ws: Workspace, _ environment: String) throws {
    try ws.refuseVaultWrite(environment)
  }

  static func record(
    _ ws: Workspace, _ action: String, _ environment: String, _ spec: DestinationSpec, names: [String],
    target: String? = nil, outcome: String = "ok", detail: String? = nil, durable: Bool = false
  ) throws {
    let identities = (try? IdentityLoader.load()) ?? []
    let auditor =
      identities.isEmpty
      ? Auditor(root: ws.project.root, actor: ProcessEnvironment.userName(), identities: [])
      : ws.auditor(identities)
    try auditor.record(
      action, environment: environment, secrets: names, destination: target ?? "store:" + spec.name,
      outcome: outcome, detail: detail, durable: durable)
  }
}

/// `coffer run` of an environment whose store is a server: the values read from it, the required ones checked
/// (fail closed, as from the vault), the injection rules applied, the read recorded.
enum StoreRun {
  /// The entries to inject, or `nil` when the environment is kept in the vault (the vault path runs as before).
  /// Costs the vault path one read of coffer.yaml: only a manifest that mentions `store:` is decoded here.
  /// Whether coffer.yaml's bytes contain `store:` at all (a byte search: `run` asks on every start).
  static func mentionsStore(_ bytes: [UInt8]) -> Bool { ByteSearch.contains(bytes, "store:") }

  static func entries(
    _ found: RunEnvironment.Located, project: String?, verbose: Bool, env: String?, allowMissing: Bool,
    auditNames: Bool, selection: RunEnvironment.Selection
  ) throws -> [(name: String, value: SecretValue)]? {
    let located = found.project
    guard let bytes = found.manifest, mentionsStore(bytes) else { return nil }
    // `run`'s manifest cache answers without decoding coffer.yaml when it records this environment.
    if let named = env ?? Workspace.environmentVariable,
      let facts = RunEnvironment.RequiredNamesCache.lookup(located, manifest: bytes, environment: named, names: false),
      !facts.stores.contains(named)
    {
      return nil
    }
    let ws = try Workspace.load(project: project, verbose: verbose)
    let environment = try ws.environment(named: env ?? Workspace.environmentVariable)
    guard let spec = try StoreEnvironment.spec(ws, environment) else { return nil }
    if selection.envFile != nil {
      throw UsageError(description: "--env-file is not supported for \(environment), whose store is \(spec.name)")
    }
    let selected = try RunEnvironment.selectedNames(selection, manifest: ws.manifest)
    let stored = try StoreEnvironment.readAll(ws, environment, spec)
    let current = ComposedValues.adding(ws.manifest, to: stored.map { ($0.name, $0.value) }, environment: environment)
    if !allowMissing {
      let present = Set(current.map(\.name))
      let missing = ws.manifest.secrets.filter { $0.isRequired(in: environment) && (selected?.contains($0.name) ?? true) }
        .map(\.name).filter { !present.contains($0) }
      if !missing.isEmpty { throw RunEnvironment.MissingForRun(environment: environment, noVault: false, names: missing) }
    }
    let rules = InjectionRules(ws.manifest, includeUndeclared: selection.includeUndeclared, selected: selected)
    var leftOut = RunEnvironment.LeftOut()
    var values: [(name: String, value: SecretValue)] = []
    for (name, value) in current {
      switch rules.decide(name) {
      case .inject: values.append((name, value))
      case .injectUndeclared:
        leftOut.included.append(name)
        values.append((name, value))
      case .undeclared: leftOut.undeclared.append(name)
      case .loader: leftOut.loader.append(name)
      case .notSelected: break
      }
    }
    if let nul = values.first(where: { $0.value.containsNUL }) {
      throw UsageError(description: "\(nul.name) contains a NUL byte and cannot be placed in an environment")
    }
    leftOut.warn(environment: environment)
    let identities = (try? IdentityLoader.load()) ?? []
    let auditor =
      identities.isEmpty
      ? Auditor(root: ws.project.root, actor: ProcessEnvironment.userName(), identities: [])
      : ws.auditor(identities)
    try auditor.record(
      "run", environment: environment, secrets: values.map(\.name), includeNames: auditNames,
      destination: "store:" + spec.name, durable: false)
    return values
  }
}
