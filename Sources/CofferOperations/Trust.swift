import CofferCore
import CofferSystem
import CofferVault

/// Trust model v2: the approved policy chain, this clone's memory of it, pending changes of
/// coffer.yaml, and who writes (docs/access.md).
package enum Trust {
  /// Chains already loaded in this process, by project root (commands load the workspace more than once).
  nonisolated(unsafe) package static let cache = ChainCache()
  nonisolated(unsafe) package static var warnedPending = false
  nonisolated(unsafe) package static var warnedV1 = false
}

/// The policy chains a process has loaded, by project root: a list of boxes rather than a dictionary, whose
/// generic storage would make the runtime build type metadata for every field of ``PolicyChain`` on `run`'s path
/// (docs/performance.md).
package final class ChainCache {
  private final class Entry {
    let root: String
    let chain: PolicyChain
    init(root: String, chain: PolicyChain) {
      self.root = root
      self.chain = chain
    }
  }
  private var entries: [Entry] = []

  /// The chain loaded for a project root; assigning `nil` forgets it.
  package subscript(root: String) -> PolicyChain? {
    get { entries.first { $0.root == root }?.chain }
    set {
      entries.removeAll { $0.root == root }
      if let newValue { entries.append(Entry(root: root, chain: newValue)) }
    }
  }

  /// Every chain loaded, oldest first.
  package var values: [PolicyChain] { entries.map(\.chain) }
}

extension Workspace {
  /// The approved policy chain, verified and checked against what this clone saw before; `nil` when the project has
  /// no `.coffer/policy` (trust model v1).
  /// - Throws: ``VaultError`` when the file does not verify, `.rolledBack` when it is older than (or diverges from)
  ///   what this clone saw, or is missing after this clone saw one.
  package func policyChain() throws -> PolicyChain? {
    guard let chain = try Trust.chain(for: project) else { return nil }
    warnPending(chain)
    return chain
  }
}

extension Trust {
  /// ``Workspace/policyChain()`` without the manifest (for `run`'s fast path): no pending-change warning.
  package static func chain(for project: Project) throws -> PolicyChain? {
    if let cached = Trust.cache[project.root] { return cached }
    let path = project.policyPath
    let display = project.display(path)
    let rootDigest = ContentHash.sha256Hex(Array(project.root.utf8))
    guard Files.exists(path) else {
      if ProcessEnvironment.get("COFFER_TRUST") == "v2" {
        // A fresh clone (a CI job) has no memory of the policy: COFFER_TRUST=v2 says one must exist.
        throw VaultError(
          .rolledBack, file: display,
          detail: "COFFER_TRUST=v2 requires a signed access policy, and there is none: it was deleted, or the project was never migrated")
      }
      if let seen = TrustMemory.recallRoot(digest: rootDigest) {
        throw VaultError(
          .rolledBack, file: display,
          detail: "the signed access policy is missing, but this clone has seen one (project \(seen)); it was deleted or the repository rolled back")
      }
      return nil
    }
    let chain = try PolicyChain.parse(try Files.read(path), file: display)
    let seenRoot = TrustMemory.recallRoot(digest: rootDigest)
    if let project = seenRoot, project != chain.project {
      throw VaultError(
        .authenticationFailed, file: display,
        detail: "the policy belongs to project \(chain.project), but this clone has seen project \(project) here: it was replaced")
    }
    let seen = TrustMemory.recall(project: chain.project)
    if let seen {
      if seen.epoch > chain.head.epoch {
        throw VaultError(
          .rolledBack, file: display,
          detail: "the policy is at epoch \(chain.head.epoch), but this clone has seen epoch \(seen.epoch): it was restored from an older commit")
      }
      if chain.records[seen.epoch - 1].hash != seen.hash {
        throw VaultError(
          .authenticationFailed, file: display,
          detail: "record \(seen.epoch) differs from the one this clone saw: the policy's history was rewritten")
      }
    }
    // Written only when something is new (each read or write is a file: `run` pays for them on every start).
    if seen.map({ $0.epoch < chain.head.epoch }) ?? true {
      TrustMemory.remember(project: chain.project, .init(epoch: chain.head.epoch, hash: chain.head.hash))
    }
    if seenRoot != chain.project {
      TrustMemory.rememberRoot(project.root, project: chain.project, digest: rootDigest)
    }
    Trust.cache[project.root] = chain
    return chain
  }
}

extension Workspace {

  /// The lines of coffer.yaml's policy that differ from the approved one: `+ …` asked for, `- …` approved.
  package func pendingPolicyChanges(_ chain: PolicyChain) -> [String] {
    let wanted = PolicyBody(AccessPolicy(manifest: manifest)).lines
    let approved = chain.head.body
    guard wanted != approved else { return [] }
    return approved.filter { !wanted.contains($0) }.map { "- " + $0 } + wanted.filter { !approved.contains($0) }.map { "+ " + $0 }
  }

  /// Says once per process that coffer.yaml asks for a policy nobody approved, what changes and who can approve it.
  package func warnPending(_ chain: PolicyChain) {
    guard !Trust.warnedPending else { return }
    let pending = pendingPolicyChanges(chain)
    guard !pending.isEmpty else { return }
    Trust.warnedPending = true
    let admins = chain.head.policy.members.filter { chain.head.policy.isAdmin($0.name) }.map(\.name)
    Notices.warn(
      "coffer.yaml's recipients/access differ from the approved policy (epoch \(chain.head.epoch), approved by \(chain.head.signer)); "
        + "the approved one applies until an admin approves: " + pending.joined(separator: "; "))
    Notices.note("admins who can approve with `coffer access approve`: \(admins.joined(separator: ", "))")
  }

  /// The approved policy as CofferCore evaluates it, over this manifest's environments and groups.
  package func approvedPolicy(_ chain: PolicyChain) -> AccessPolicy {
    chain.head.policy.accessPolicy(environments: manifest.environments, groups: AccessPolicy(manifest: manifest).groups)
  }

  /// The member of the approved policy these identities are, with their signing identity.
  /// - Throws: ``VaultError`` `.notPermitted` when no identity is a member whose published signing key is its own.
  package func signer(_ chain: PolicyChain, identities: [AgeX25519Identity]) throws -> VaultSigner {
    for id in identities {
      guard let member = chain.head.policy.members.first(where: { $0.recipient == id.recipient.encoded }) else { continue }
      let signing = SigningIdentity(deriving: id)
      guard member.signingKey == signing.publicKey else {
        throw VaultError(
          .notPermitted, file: project.display(project.policyPath),
          detail: member.signingKey == nil
            ? "\(member.name) has no signing key in the approved policy, so cannot write; an admin adds `\(id.recipient.encoded) \(signing.publicKey.encoded)` as recipients.\(member.name) and runs `coffer access approve`"
            : "the signing key published for \(member.name) is not this identity's")
      }
      return VaultSigner(name: member.name, identity: signing, chain: chain)
    }
    throw VaultError(
      .notPermitted, file: project.display(project.policyPath),
      detail: "this identity (\(identities.first?.recipient.encoded ?? "none")) is not a member of the approved access policy")
  }
}
