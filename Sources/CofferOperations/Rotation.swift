import CofferCore
import CofferSystem
import CofferVault

/// Writes that change a current value: the vault and the stale-destinations marker, under one lock.
package enum Governed {
  /// Changes an environment's vault (``Workspace/modifyVaultHoldingLock(_:identities:action:detail:allowRolledBack:_:)``)
  /// and marks its destinations stale for the secrets whose current version moved, under one project lock.
  /// - Parameters:
  ///   - ws: the workspace.
  ///   - environment: the environment.
  ///   - identities: the caller's identities.
  ///   - action: the audit action (`rotate`, `rollback`).
  ///   - body: the change.
  /// - Throws: what the change, the vault write or the stale-destinations file throw; nothing is written then.
  package static func write<R>(
    _ ws: Workspace, _ environment: String, identities: [AgeX25519Identity], action: String,
    _ body: (inout Vault) throws -> R
  ) throws -> R {
    try ws.holdingLock {
      var changed: [String] = []
      let result = try ws.modifyVaultHoldingLock(environment, identities: identities, action: action) { vault in
        let before = Dictionary(uniqueKeysWithValues: vault.names.map { ($0, vault.current($0)?.number) })
        let r = try body(&vault)
        changed = vault.names.filter { vault.current($0)?.number != before[$0] ?? nil }
        return r
      }
      var state = try StaleDestinations.load(ws.project)
      state.markStale(environment, secrets: changed, at: SystemClock.now())
      try state.save(ws.project)
      return result
    }
  }
}

/// The checks and vault calls behind `rotate` and `rollback`.
package enum Rotation {
  /// Records a rotation: `secret` becomes the current value of `name`.
  /// - Returns: the new version number.
  /// - Throws: ``VaultError`` `.notFound` when `name` has no value; ``AccessDenied`` when its group is not readable;
  ///   ``UsageError`` when the new value is the current one or a kept older one.
  package static func record(
    _ name: String, _ secret: SecretValue, in vault: inout Vault, ws: Workspace, environment: String,
    identities: [AgeX25519Identity]
  ) throws -> Int {
    guard let current = vault.current(name) else {
      throw VaultError(.notFound, file: vault.file, detail: name)
    }
    guard vault.isReadable(name) else {
      throw AccessDenied.group(
        vault.group(of: name) ?? "?", environment: environment, secret: name, vault: vault, manifest: ws.manifest,
        identities: identities)
    }
    if try vault.value(of: name) == secret {
      throw UsageError(
        description: "the new value of \(name) is the same as the current one (version \(current.number)); nothing was written",
        hints: ["a rotation needs a new value: use --generate, or get a new one from the issuer"])
    }
    for v in vault.versions(of: name).dropFirst() where vault.isReadable(name, version: v.number) {
      if try vault.value(of: name, version: v.number) == secret {
        throw UsageError(
          description: "the new value of \(name) is the value of version \(v.number); nothing was written",
          hints: ["a rotation needs a new value; to restore an old one on purpose, use `coffer rollback \(name) --to \(v.number)`"])
      }
    }
    return try vault.set(name, to: secret, group: ws.group(of: name), author: ws.author(identities), at: SystemClock.now())
  }

  /// Restores a kept version as a new current version.
  /// - Returns: the new version number, and the revocation mark when the restored value was exposed to a reader who
  ///   lost access (it needs rotation).
  /// - Throws: ``VaultError`` `.notFound` when `name` has no value; ``UsageError`` when the version is not kept, is
  ///   the current one or holds the current value; ``AccessDenied`` when it is not readable.
  package static func rollback(
    _ name: String, to target: Int, in vault: inout Vault, ws: Workspace, environment: String,
    identities: [AgeX25519Identity]
  ) throws -> (Int, RevocationMark?) {
    guard let current = vault.current(name) else { throw VaultError(.notFound, file: vault.file, detail: name) }
    guard vault.isKept(name, version: target) else {
      throw UsageError(
        description: "version \(target) of \(name) is not kept in \(environment); nothing was written",
        hints: ["kept versions: \(vault.versions(of: name).map { String($0.number) }.joined(separator: ", "))"])
    }
    guard target != current.number else {
      throw UsageError(description: "version \(target) is already the current version of \(name); nothing was written")
    }
    guard vault.isReadable(name, version: target), vault.isReadable(name) else {
      throw AccessDenied.group(
        vault.group(of: name) ?? "?", environment: environment, secret: name, vault: vault, manifest: ws.manifest,
        identities: identities)
    }
    if try vault.value(of: name, version: target) == vault.value(of: name) {
      throw UsageError(
        description: "version \(target) of \(name) holds the current value; nothing was written")
    }
    let number = try vault.restore(name, version: target, author: ws.author(identities), at: SystemClock.now())
    return (number, vault.needsRotation(name))
  }
}
