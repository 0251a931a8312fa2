import CofferCore
import CofferSystem
import CofferVault

extension Workspace {
  /// The manifest's recipients, parsed.
  package func parsedRecipients() throws -> [String: AgeX25519Recipient] {
    var out: [String: AgeX25519Recipient] = [:]
    for r in manifest.recipients {
      do {
        out[r.name] = try AgeX25519Recipient(parsing: r.recipient)
      } catch {
        throw UsageError(
          description: "\(project.display(project.manifestPath)): recipients.\(r.name): not a valid age X25519 recipient")
      }
    }
    return out
  }

  /// Who each key slot of an environment's vault is wrapped to: `*` (the environment key) to every recipient who
  /// may read at least one group there, each group's data key to the recipients its access rules allow (everyone
  /// without rules). Without any recipient in the manifest, everything is wrapped to this identity.
  package func wrapPolicy(
    _ environment: String, fallback identities: [AgeX25519Identity]
  ) throws -> @Sendable (String) -> [AgeX25519Recipient] {
    if let chain = try policyChain() { return wrapPolicy(environment, chain: chain) }
    return try wrapPolicyV1(environment, fallback: identities)
  }

  /// Trust model v2: who each key slot is wrapped to under an approved policy (never coffer.yaml's edits).
  package func wrapPolicy(_ environment: String, chain: PolicyChain) -> @Sendable (String) -> [AgeX25519Recipient] {
    do {
      let policy = approvedPolicy(chain)
      var parsed: [String: AgeX25519Recipient] = [:]
      for m in chain.head.policy.members { parsed[m.name] = try? AgeX25519Recipient(parsing: m.recipient) }
      let members = parsed
      // The environment key opens no value; it keys the file MAC, which every reader and writer must compute.
      let readersHere = Swift.Set(policy.environmentReaders(environment).map(\.name))
      let environmentKey = chain.head.policy.members.filter { member in
        readersHere.contains(member.name)
          || (policy.rules ?? []).contains { rule in
            rule.environments.matches(environment) && rule.recipients.matches(member.name)
          }
      }.compactMap { members[$0.name] }
      return { slot in
        if slot == VaultGrammar.environmentSlot { return environmentKey }
        return policy.readers(environment: environment, group: slot).compactMap { members[$0.name] }
      }
    }
  }

  package func wrapPolicyV1(
    _ environment: String, fallback identities: [AgeX25519Identity]
  ) throws -> @Sendable (String) -> [AgeX25519Recipient] {
    let parsed = try parsedRecipients()
    if parsed.isEmpty {
      let mine = identities.map(\.recipient)
      return { _ in mine }
    }
    let policy = AccessPolicy(manifest: manifest)
    let everyone = manifest.recipients.compactMap { parsed[$0.name] }
    let environmentKey = policy.environmentReaders(environment).compactMap { parsed[$0.name] }
    return { slot in
      if slot == VaultGrammar.environmentSlot { return environmentKey }
      guard policy.isRestricted else { return everyone }
      return policy.readers(environment: environment, group: slot).compactMap { parsed[$0.name] }
    }
  }

  /// The recipients of a new vault's environment key, refusing an environment nobody may read.
  package func environmentRecipients(
    _ environment: String, _ wrap: @Sendable (String) -> [AgeX25519Recipient]
  ) throws -> [AgeX25519Recipient] {
    let recipients = wrap(VaultGrammar.environmentSlot)
    guard !recipients.isEmpty else {
      throw UsageError(
        description: "no recipient may read anything in \(environment)",
        hints: ["add a rule for \(environment) to the access: list of coffer.yaml (docs/access.md)"])
    }
    return recipients
  }

  /// Reads one secret's value, turning a missing group key into a refusal that names who can grant access.
  package func value(
    of name: String, version: Int? = nil, in vault: Vault, environment: String, identities: [AgeX25519Identity]
  ) throws -> SecretValue {
    guard vault.current(name) == nil || vault.isReadable(name, version: version) || !vault.isKept(name, version: version)
    else {
      throw AccessDenied.group(
        vault.group(of: name) ?? "?", environment: environment, secret: name, vault: vault, manifest: manifest,
        identities: identities)
    }
    return try vault.value(of: name, version: version)
  }
}
