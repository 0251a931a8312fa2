import CofferAudit
import CofferCore
import CofferSystem
import CofferVault

/// Approving an access policy (trust model v2): a new signed record, then every vault re-keyed where a reader was
/// removed and re-wrapped where one was added, all computed before anything is written.
package enum PolicyApproval {
  /// Refuses a grant, revoke or add-recipient while coffer.yaml holds other unapproved policy edits: signing the
  /// file would approve them too, unseen (docs/access.md, "Admins, writers and approval").
  package static func refusePending(_ ws: Workspace, _ chain: PolicyChain, doing verb: String) throws {
    let pending = ws.pendingPolicyChanges(chain)
    guard !pending.isEmpty else { return }
    throw UsageError(
      description: "coffer.yaml has access policy changes nobody approved; `coffer access \(verb)` would sign them too: \(pending.joined(separator: "; "))",
      hints: [
        "review them: if they are wanted, `coffer access approve` signs them; if not, restore coffer.yaml's recipients:, admins: and access: from the approved policy (`cat .coffer/policy` shows it)"
      ])
  }

  /// Signs `manifest`'s recipients, admins and rules as the next policy epoch and applies them to every vault.
  /// The caller holds the project lock.
  /// - Returns: false when there was nothing to approve.
  @discardableResult
  package static func apply(_ ws: Workspace, manifest: Manifest, manifestText: String?, identities: [AgeX25519Identity], verb: String) throws -> Bool {
    guard let chain = try ws.policyChain() else {
      throw UsageError(
        description: "this project has no signed access policy (trust model v1)",
        hints: ["run `coffer migrate` to sign one and move the vaults to format 2"])
    }
    let body = PolicyBody(AccessPolicy(manifest: manifest))
    let me = try ws.signer(chain, identities: identities)
    guard body.lines != chain.head.body else {
      if let manifestText { try Files.writeAtomically(ws.project.manifestPath, Array(manifestText.utf8), newFileMode: 0o644) }
      return false
    }
    let now = SystemClock.now()
    let next: PolicyChain
    do {
      next = try chain.appending(body, signer: me.name, identity: me.identity, at: now)
    } catch {
      throw VaultError(.notPermitted, file: ws.project.display(ws.project.policyPath), detail: error.detail ?? "not an admin")
    }
    let old = chain.head.policy
    let new = body
    let after = Workspace(
      project: ws.project, manifest: manifest, logger: ws.logger, provenance: ws.provenance, importedSecrets: ws.importedSecrets)
    let settings = Swift.Set(manifest.secrets.filter { !$0.isSecret }.map(\.name))
    var writes: [(path: String, bytes: [UInt8], environment: String, note: String)] = []
    for environment in ws.manifest.environments where Files.exists(ws.project.vaultPath(environment)) {
      let opened: Vault?
      do {
        opened = try ws.openVault(environment, identities: identities)
      } catch let denied as AccessDenied {
        // An environment this admin cannot open: fine when nobody loses access there (its readers re-wrap keys to
        // added readers with `coffer rewrap`); a revocation there needs someone who can re-key it.
        let groups = AccessPolicy(manifest: ws.manifest).groups
        let losesAccess = groups.contains { group in
          old.members.contains { m in
            old.canRead(m.name, environment: environment, group: group)
              && !(new.canRead(m.name, environment: environment, group: group) && new.member(m.name)?.recipient == m.recipient)
          }
        }
        if losesAccess { throw denied }
        Notices.warn(
          "\(environment): this identity cannot open it, and nobody loses access there: left as it is; a reader runs `coffer rewrap --env \(environment)` to wrap its keys to added readers")
        continue
      }
      guard var vault = opened else { continue }
      var rekeyed: [String] = []
      var marked: [String] = []
      let wrap = after.wrapPolicy(environment, chain: next)
      vault.useRecipients(forSlot: wrap)
      try vault.useSigner(VaultSigner(name: me.name, identity: me.identity, chain: next))
      for group in vault.groups {
        let removed = old.members.filter { m in
          old.canRead(m.name, environment: environment, group: group)
            && !(new.canRead(m.name, environment: environment, group: group) && new.member(m.name)?.recipient == m.recipient)
        }
        guard !removed.isEmpty else { continue }
        guard vault.canRead(group: group) else {
          throw AccessDenied.group(group, environment: environment, secret: nil, vault: vault, manifest: ws.manifest, identities: identities)
        }
        guard !wrap(group).isEmpty else {
          throw UsageError(description: "the new policy leaves nobody able to read group \(group) in \(environment)")
        }
        try vault.rekey(group: group)
        rekeyed.append(group)
        for m in removed { marked += vault.markExposed(group: group, to: m.name, at: now, except: settings) }
      }
      let wanted = Swift.Set(wrap(VaultGrammar.environmentSlot).map(\.encoded))
      if !vault.recipients(ofGroup: VaultGrammar.environmentSlot).allSatisfy(wanted.contains) { try vault.rekeyEnvironment() }
      let skipped = try vault.rewrap(wrap, at: now)
      if !skipped.isEmpty {
        Notices.warn("\(environment): cannot re-wrap groups \(skipped.joined(separator: ", ")) to their new readers: this identity cannot read them; one of their readers runs `coffer rewrap --env \(environment)`")
      }
      var note = "\(environment): " + (rekeyed.isEmpty ? "re-wrapped" : "re-keyed \(rekeyed.joined(separator: ", "))")
      if !marked.isEmpty { note += "; \(Swift.Set(marked).count) secret(s) now need rotation: \(Swift.Set(marked).sorted().joined(separator: ", "))" }
      writes.append((ws.project.vaultPath(environment), VaultFile.seal(vault), environment, note))
    }
    // Everything is computed; now write: the manifest, the policy, then the vaults.
    if let manifestText { try Files.writeAtomically(ws.project.manifestPath, Array(manifestText.utf8), newFileMode: 0o644) }
    try Files.writeAtomically(ws.project.policyPath, next.serialized(), newFileMode: 0o644)
    Trust.cache[ws.project.root] = next
    TrustMemory.remember(project: next.project, .init(epoch: next.head.epoch, hash: next.head.hash))
    for w in writes {
      try Files.writeAtomically(w.path, w.bytes, newFileMode: 0o600)
      Notices.note(w.note)
    }
    try? ws.auditor(identities).record(
      "access", environment: "*", secrets: [], detail: "\(verb): policy epoch \(next.head.epoch)", durable: true)
    Notices.note("approved the access policy as epoch \(next.head.epoch) (signed by \(me.name))")
    return true
  }
}
