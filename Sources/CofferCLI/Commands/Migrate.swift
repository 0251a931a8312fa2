import ArgumentParser
import CofferAudit
import CofferCore
import CofferOperations
import CofferSystem
import CofferVault

/// Approving an access policy (trust model v2): a new signed record, then every vault re-keyed where a reader was
/// removed and re-wrapped where one was added, all computed before anything is written.
enum PolicyApproval {
  /// Refuses a grant, revoke or add-recipient while coffer.yaml holds other unapproved policy edits: signing the
  /// file would approve them too, unseen (docs/access.md, "Admins, writers and approval").
  static func refusePending(_ ws: Workspace, _ chain: PolicyChain, doing verb: String) throws {
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
  static func apply(_ ws: Workspace, manifest: Manifest, manifestText: String?, identities: [AgeX25519Identity], verb: String) throws -> Bool {
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
        ErrorRenderer.warn(
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
        ErrorRenderer.warn("\(environment): cannot re-wrap groups \(skipped.joined(separator: ", ")) to their new readers: this identity cannot read them; one of their readers runs `coffer rewrap --env \(environment)`")
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
      ErrorRenderer.note(w.note)
    }
    try? ws.auditor(identities).record(
      "access", environment: "*", secrets: [], detail: "\(verb): policy epoch \(next.head.epoch)", durable: true)
    ErrorRenderer.note("approved the access policy as epoch \(next.head.epoch) (signed by \(me.name))")
    return true
  }
}

extension CofferCommand {
  /// `coffer migrate`: trust model v1 → v2.
  struct Migrate: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "migrate",
      abstract: "Move a project to trust model v2: sign its access policy and rewrite its vaults in format 2.",
      discussion: """
        Shows what it will do; with --yes it does it. Adds your signing key to your recipients: entry (creating \
        the entry when coffer.yaml lists no recipients), signs the recipients, admins and access rules as policy \
        epoch 1 with you as approver, and re-seals every vault in format 2 (your identity must read every group). \
        Versions keep their numbers, dates and authors; history marks them as migrated by you.
        """)

    @OptionGroup var global: GlobalOptions
    @Flag(name: .long, help: "Do it (without it, only show the plan).")
    var yes = false

    mutating func run() throws {
      let identities = try IdentityLoader.load()
      let yes = yes
      try Workspace.underLock(global) { ws in try Self.migrate(ws, identities: identities, yes: yes) }
    }

    static func migrate(_ ws: Workspace, identities: [AgeX25519Identity], yes: Bool) throws {
      guard try ws.policyChain() == nil else {
        ErrorRenderer.note("already on trust model v2 (\(ws.project.display(ws.project.policyPath)) exists)")
        return
      }
      let id = identities[0]
      let signing = SigningIdentity(deriving: id)
      let file = ws.project.display(ws.project.manifestPath)
      var text = String(decoding: try Files.read(ws.project.manifestPath), as: UTF8.self)
      var plan: [String] = []
      let name: String
      if let mine = ws.manifest.recipients.first(where: { $0.recipient == id.recipient.encoded }) {
        name = mine.name
        if mine.signingKey == nil {
          let parts = text.split(separator: id.recipient.encoded, maxSplits: 1, omittingEmptySubsequences: false)
          guard parts.count == 2 else { throw UsageError(description: "\(file): cannot find your recipient to add your signing key") }
          text = parts[0] + "\(id.recipient.encoded) \(signing.publicKey.encoded)" + parts[1]
          plan.append("\(file): add your signing key to recipients.\(name)")
        }
      } else if ws.manifest.recipients.isEmpty {
        name = VaultGrammar.sanitizeAuthor(ProcessEnvironment.userName())
        if text.contains("\nrecipients:") || text.hasPrefix("recipients:") {
          throw UsageError(description: "\(file): recipients: is empty; add yourself (`coffer identity` prints the value) and run again")
        }
        if !text.hasSuffix("\n") { text += "\n" }
        text += "recipients:\n  \(name): \(id.recipient.encoded) \(signing.publicKey.encoded)\n"
        plan.append("\(file): add recipients.\(name) (this identity, with its signing key)")
      } else {
        throw UsageError(
          description: "this identity (\(id.recipient.encoded)) is not among the recipients of \(file)",
          hints: ["migrate with the identity of a listed recipient who can read every group"])
      }
      let manifest = try Manifest.decode(Array(text.utf8), file: file)
      var merged = ws.manifest
      merged.recipients = manifest.recipients
      merged.admins = manifest.admins
      let body = PolicyBody(AccessPolicy(manifest: merged))
      let chain = try PolicyChain.genesis(body, signer: name, identity: signing, at: SystemClock.now(), project: PolicyChain.newProjectID())
      plan.append("\(ws.project.display(ws.project.policyPath)): sign the access policy as epoch 1 (\(body.members.count) member(s); admins: \(body.admins?.joined(separator: ", ") ?? "every member"))")
      let after = Workspace(
        project: ws.project, manifest: merged, logger: ws.logger, provenance: ws.provenance, importedSecrets: ws.importedSecrets)
      let signer = VaultSigner(name: name, identity: signing, chain: chain)
      var writes: [(String, [UInt8])] = []
      for environment in ws.manifest.environments where Files.exists(ws.project.vaultPath(environment)) {
        guard var vault = try ws.openVault(environment, identities: identities) else { continue }
        vault.useRecipients(forSlot: after.wrapPolicy(environment, chain: chain))
        if let unreadable = vault.unreadableGroups.first {
          throw UsageError(
            description: "cannot migrate \(environment): this identity cannot read group \(unreadable)",
            hints: ["migrate with an identity that reads every group, or grant this one access first"])
        }
        try vault.useSigner(signer)
        writes.append((ws.project.vaultPath(environment), VaultFile.seal(vault)))
        plan.append("\(ws.project.display(ws.project.vaultPath(environment))): rewrite in format 2 (\(vault.names.count) secret(s))")
      }
      for line in plan { ErrorRenderer.note((yes ? "" : "would ") + line) }
      guard yes else {
        ErrorRenderer.note("nothing written; run `coffer migrate --yes` to do it")
        return
      }
      try Files.writeAtomically(ws.project.manifestPath, Array(text.utf8), newFileMode: 0o644)
      try Files.writeAtomically(ws.project.policyPath, chain.serialized(), newFileMode: 0o644)
      for (path, bytes) in writes { try Files.writeAtomically(path, bytes, newFileMode: 0o600) }
      Trust.cache[ws.project.root] = chain
      TrustMemory.remember(project: chain.project, .init(epoch: 1, hash: chain.head.hash))
      TrustMemory.rememberRoot(ws.project.root, project: chain.project, digest: ContentHash.sha256Hex(Array(ws.project.root.utf8)))
      try? ws.auditor(identities).record("migrate", environment: "*", secrets: [], detail: "trust model v2, policy epoch 1", durable: true)
      ErrorRenderer.note("migrated to trust model v2; commit coffer.yaml, .coffer/policy and the vaults together")
    }
  }
}
