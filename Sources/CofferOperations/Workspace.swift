import CofferAudit
import CofferCore
import CofferDotEnv
import CofferSystem
import CofferVault
import Logging

/// A located project with its decoded manifest: what most commands start from.
package struct Workspace {
  package let project: Project
  /// The merged manifest: the project's `coffer.yaml` with its `imports:` applied (docs/manifest.md, "Imports").
  package let manifest: Manifest
  package let logger: Logger
  /// Where each merged field came from (`secrets.NAME.group` → file:line:column); empty unless the workspace was
  /// loaded with `provenance: true` (only `manifest show` needs it).
  package var provenance: [String: ManifestLocation] = [:]
  /// The secrets whose definition comes from an import.
  package var importedSecrets: Set<String> = []

  package init(
    project: Project, manifest: Manifest, logger: Logger, provenance: [String: ManifestLocation] = [:],
    importedSecrets: Set<String> = []
  ) {
    self.project = project
    self.manifest = manifest
    self.logger = logger
    self.provenance = provenance
    self.importedSecrets = importedSecrets
  }

  /// Finds the project (from `project`, else the current directory), decodes its manifest and merges its imports.
  /// This is the one place commands load the manifest.
  /// - Parameters:
  ///   - start: the project directory, or nil to search upward from the current directory.
  ///   - logger: where debug lines go (never a value).
  ///   - provenance: whether to fill ``provenance``.
  /// - Throws: ``SystemError`` when no project is found, ``ManifestError`` when coffer.yaml does not decode.
  package static func load(project start: String?, logger: Logger, provenance: Bool = false) throws -> Workspace {
    let project = try Project.locate(from: start)
    let merged = try ManifestLoader.load(
      project.manifestPath, rootDisplay: project.display(project.manifestPath), provenance: provenance)
    let manifest = merged.manifest
    logger.debug("project \(project.root): \(manifest.secrets.count) declared secrets")
    let ws = Workspace(
      project: project, manifest: manifest, logger: logger, provenance: merged.provenance,
      importedSecrets: merged.importedSecrets)
    // Trust model v2: every command names a pending (unapproved) change of the access policy. A policy that does
    // not verify is reported where it matters, when a vault is opened or written.
    _ = try? ws.policyChain()
    return ws
  }

  /// Takes the project lock and runs `body` with the workspace loaded again under it, for commands that edit
  /// coffer.yaml, `.coffer/policy` or several vaults at once. What was read before the lock (the manifest, the
  /// policy chain cached by ``policyChain()``) is read again: another process may have changed it meanwhile.
  package static func underLock<R>(project start: String?, logger: Logger, _ body: (Workspace) throws -> R) throws -> R {
    let loaded = try Workspace.load(project: start, logger: logger)
    return try loaded.holdingLock {
      Trust.cache[loaded.project.root] = nil
      return try body(try Workspace.load(project: start, logger: logger))
    }
  }

  /// Runs `body` holding the project lock (`.coffer/.lock`, `flock`), which serializes every write to the project
  /// across processes. The one place the operations take it; it is not re-entrant.
  package func holdingLock<R>(_ body: () throws -> R) throws -> R {
    try Files.makeDirectory(project.vaultDirectory)
    let lock = try FileLock(path: project.lockPath)
    defer { withExtendedLifetime(lock) {} }
    return try body()
  }

  /// `COFFER_ENV` when set and not empty (an empty variable means "not chosen", as `VAR= cmd` users expect).
  package static var environmentVariable: String? {
    guard let name = ProcessEnvironment.get("COFFER_ENV"), !name.isEmpty else { return nil }
    return name
  }

  /// Resolves an environment name (nil: `COFFER_ENV`, else the first) and checks it is declared.
  package func environment(named explicit: String?) throws -> String {
    let name = explicit ?? Workspace.environmentVariable ?? manifest.environments.first ?? ""
    guard manifest.environments.contains(name) else {
      var hints: [String] = []
      if let close = Suggest.closest(to: name, among: manifest.environments) { hints.append("did you mean \(close)?") }
      hints.append("the manifest declares: \(manifest.environments.joined(separator: ", "))")
      throw UsageError(description: "unknown environment \(name.isEmpty ? "(none)" : name)", hints: hints)
    }
    return name
  }

  /// The name recorded as a change's author: the manifest's name for this identity, else its `age1…` recipient.
  package func author(_ identities: [AgeX25519Identity]) -> String {
    let mine = Set(identities.map(\.recipient.encoded))
    if let chain = Trust.cache[project.root], let member = chain.head.policy.members.first(where: { mine.contains($0.recipient) }) {
      return member.name
    }
    if let named = manifest.recipients.first(where: { mine.contains($0.recipient) }) { return named.name }
    return identities.first?.recipient.encoded ?? ProcessEnvironment.userName()
  }

  /// The group a secret is sealed under: its manifest group, else `default`.
  package func group(of name: String) -> String { manifest.secret(named: name)?.group ?? "default" }

  /// Opens an environment's vault for reading, or returns `nil` when it has no vault file yet.
  package func openVault(_ environment: String, identities: [AgeX25519Identity], allowRolledBack: Bool = false) throws -> Vault? {
    let path = project.vaultPath(environment)
    guard Files.exists(path) else { return nil }
    Heap.prepare(forVault: path)
    let bytes = try Files.read(path)
    let trust = try policyChain()
    let opened = Result { () throws(VaultError) -> Vault in
      try VaultFile.open(bytes, file: project.display(path), with: identities, trust: trust, allowRolledBack: allowRolledBack)
    }
    if case .failure(let error) = opened, error.code == .noMatchingIdentity {
      throw AccessDenied.environment(error, bytes: bytes, environment: environment, manifest: manifest, identities: identities)
    }
    let vault = try opened.get()
    guard vault.environment == environment else {
      throw VaultError(.malformed, file: project.display(path), detail: "holds environment \(vault.environment)")
    }
    if vault.formatVersion == 1, !manifest.recipients.isEmpty, !Trust.warnedV1,
      ProcessEnvironment.get("COFFER_TRUST_V1") != "acknowledged"
    {
      // A team project on trust model v1: say once what that means and how to leave it.
      Trust.warnedV1 = true
      Notices.warn(
        "\(project.display(path)) uses vault format 1 (trust model v1): writers are not authenticated and coffer.yaml's access rules apply without approval; `coffer migrate` moves the project to v2")
    }
    logger.debug("opened \(project.display(path)): \(vault.names.count) secrets")
    return vault
  }

  /// The audit recorder for this project and identity.
  package func auditor(_ identities: [AgeX25519Identity]) -> Auditor {
    Auditor(root: project.root, actor: author(identities), identities: identities)
  }

  /// Changes an environment's vault under the project lock: open (or create), apply `body`, re-wrap each key to the
  /// recipients the manifest's access rules allow if they changed, record the change in the audit log, seal, and
  /// replace the file atomically. Nothing is written if `body` throws or the audit entry cannot be written.
  /// - Parameters:
  ///   - environment: the environment.
  ///   - identities: the caller's identities.
  ///   - action: the audit action (`write`, `import`, `delete`, `rewrap`, …).
  ///   - detail: audit detail text (never a value).
  ///   - body: the change.
  @discardableResult
  package func modifyVault<R>(
    _ environment: String, identities: [AgeX25519Identity], action: String = "write", detail: String? = nil,
    allowRolledBack: Bool = false, _ body: (inout Vault) throws -> R
  ) throws -> R {
    try holdingLock {
      try modifyVaultHoldingLock(
        environment, identities: identities, action: action, detail: detail, allowRolledBack: allowRolledBack, body)
    }
  }

  /// Set by `migrate-store` while it fills or empties a vault of an environment whose `store:` is changing.
  nonisolated(unsafe) package static var migratingStore = false

  /// Refuses a write to the vault of an environment whose store is a server (docs/sync.md).
  /// - Throws: ``UsageError`` (exit 2) naming the store and the command to use instead.
  package func refuseVaultWrite(_ environment: String) throws {
    guard let store = manifest.store(of: environment) else { return }
    throw UsageError(
      description: "\(environment)'s store is \(store) (coffer.yaml): this command writes only to the vault",
      hints: ["use `coffer set NAME --env \(environment)`, or move the environment back with `coffer migrate-store --env \(environment) --to vault`"])
  }

  /// ``modifyVault(_:identities:action:detail:_:)`` for a caller that already holds the project lock.
  package func modifyVaultHoldingLock<R>(
    _ environment: String, identities: [AgeX25519Identity], action: String = "write", detail: String? = nil,
    allowRolledBack: Bool = false, _ body: (inout Vault) throws -> R
  ) throws -> R {
    if !Workspace.migratingStore { try refuseVaultWrite(environment) }
    let path = project.vaultPath(environment)
    let chain = try policyChain()
    let wrap = try wrapPolicy(environment, fallback: identities)
    let signer = try chain.map { try self.signer($0, identities: identities) }
    var vault =
      try openVault(environment, identities: identities, allowRolledBack: allowRolledBack)
      ?? Vault.create(
        environment: environment, recipients: try environmentRecipients(environment, wrap), file: project.display(path),
        signer: signer)
    vault.useRecipients(forSlot: wrap)
    if let signer { try vault.useSigner(signer) }
    // The current version of each name: a new number is a write, new sealed bytes under the same number a re-seal
    // (access revoke re-keys a group); both are recorded.
    let before = Dictionary(uniqueKeysWithValues: vault.names.map { ($0, vault.current($0)) })
    let result = try body(&vault)
    let skipped = try vault.rewrap(wrap, at: SystemClock.now())
    if !skipped.isEmpty {
      Notices.warn("cannot re-wrap groups \(skipped.joined(separator: ", ")): this identity cannot read them")
    }
    // Audit what changed: names whose current version moved or was re-sealed, appeared or disappeared.
    var touched = Set(before.keys.filter { vault.current($0) != before[$0] ?? nil })
    for name in vault.names where before[name] == nil { touched.insert(name) }
    var fingerprints: [String: String] = [:]
    var changed: [(name: String, value: SecretValue)] = []
    for name in touched.sorted() where vault.current(name) != nil {
      if let value = try? vault.value(of: name) { changed.append((name, value)) }
    }
    if changed.count > AuditLog.nameLimit {
      // A large change is recorded as a count and one fingerprint of the set (docs/audit.md).
      fingerprints["*"] = vault.setFingerprint(of: changed)
    } else {
      for (name, value) in changed { fingerprints[name] = vault.fingerprint(of: value, name: name) }
    }
    let auditor = auditor(identities)
    try auditor.record(action, environment: environment, secrets: touched.sorted(), fingerprints: fingerprints, detail: detail, durable: true)
    do {
      try Files.writeAtomically(path, VaultFile.seal(vault), newFileMode: 0o600)
    } catch {
      try? auditor.record(action, environment: environment, secrets: touched.sorted(), outcome: "failed", detail: "\(error)", durable: true)
      // Named as the user sees it (relative to the current directory), like every other message about the vault.
      if error.path == path {
        throw SystemError(
          error.operation, path: project.display(path), reason: error.reason, status: error.exitStatus, hints: error.hints)
      }
      throw error
    }
    logger.debug("wrote \(project.display(path))")
    if GitMergeDriver.isMissing(in: project.root) { Notices.note(GitMergeDriver.missingNote) }
    return result
  }
}

/// Identity loading: `COFFER_IDENTITY`, `COFFER_IDENTITY_FILE`, else the default path (docs/identity.md).
package enum IdentityLoader {
  /// Loads the identities and activates their verified-signature memo (docs/vault-format.md).
  package static func load() throws -> [AgeX25519Identity] {
    let identities = try IdentityStore.load()
    SignatureMemoStore.activate(identities)
    return identities
  }
}

