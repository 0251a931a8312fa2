import ArgumentParser
import CofferAudit
import CofferCore
import CofferOperations
import CofferSystem
import CofferVault

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
