import CofferCore
import CofferSystem
import CofferVault

/// An access refusal: this identity may not read what was asked. Exit status 3; the hints say who can grant access.
package struct AccessDenied: CofferError {
  package let description: String
  package var hints: [String] = []
  package var exitStatus: ExitStatus { .accessDenied }

  package init(description: String, hints: [String] = []) {
    self.description = description
    self.hints = hints
  }

  /// The environment key is not wrapped to this identity: say where the identity came from, print its recipient
  /// (to send to an admin), whether an access rule keeps it out, and who can open the environment and grant access.
  package static func environment(
    _ error: VaultError, bytes: [UInt8], environment: String, manifest: Manifest?, identities: [AgeX25519Identity]
  ) -> AccessDenied {
    let summary = try? VaultFile.inspect(bytes, file: error.file)
    let holders = Naming.names(summary?.groups[VaultGrammar.environmentSlot] ?? [], manifest: manifest)
    let mine = identities.first?.recipient.encoded ?? "?"
    var hints = [
      "the identity used came from \(IdentitySourceText.describe(IdentityStore.source())); its recipient is \(mine)"
    ]
    let who = holders.isEmpty ? "someone who can open \(environment)" : "one of \(holders.joined(separator: ", "))"
    let approved = Trust.cache.values.first
    if let approved, !approved.head.policy.members.contains(where: { m in identities.contains { $0.recipient.encoded == m.recipient } }) {
      // Trust model v2: membership is what the approved policy says, whatever coffer.yaml lists.
      let admins = approved.head.policy.members.filter { approved.head.policy.isAdmin($0.name) }.map(\.name)
      hints.append(
        "this identity is not a member of the approved access policy (coffer.yaml may list it, but no admin approved that): send what `coffer identity` prints to an admin (\(admins.joined(separator: ", "))), who runs `coffer access add-recipient NAME LINE` and grants you access")
    } else if let manifest, let me = Naming.manifestName(of: identities, in: manifest) {
      let policy = AccessPolicy(manifest: manifest)
      if policy.isRestricted, !policy.environmentReaders(environment).contains(where: { $0.name == me }) {
        hints.append("the access: rules of coffer.yaml give \(me) no group in \(environment), so access was removed or never granted")
        hints.append("ask \(who) to run `coffer access grant \(me) --env \(environment)`")
      } else {
        hints.append("coffer.yaml lists you as \(me), but the \(environment) vault was not re-wrapped to you since: ask \(who) to run `coffer rewrap --env \(environment)`")
      }
    } else {
      hints.append("this recipient is not in coffer.yaml: send it to \(who), to add under recipients: and grant you access")
      hints.append("if you have another identity, point COFFER_IDENTITY_FILE at it")
    }
    return AccessDenied(description: "this identity cannot open the \(environment) vault (\(error.file))", hints: hints)
  }

  /// A group's data key is not wrapped to this identity: name the group, the environment and who can grant.
  package static func group(
    _ group: String, environment: String, secret: String?, vault: Vault, manifest: Manifest,
    identities: [AgeX25519Identity]
  ) -> AccessDenied {
    let about = secret.map { " (secret \($0))" } ?? ""
    return AccessDenied(
      description: "no access to group \(group) in \(environment)\(about): \(vault.file)",
      hints: grantHints(groups: [group], environment: environment, vault: vault, manifest: manifest, identities: identities))
  }

  /// `who can grant` hints for groups of one environment.
  package static func grantHints(
    groups: [String], environment: String, vault: Vault, manifest: Manifest?, identities: [AgeX25519Identity]
  ) -> [String] {
    var hints: [String] = []
    for group in groups {
      let holders = Naming.names(vault.recipients(ofGroup: group), manifest: manifest)
      hints.append(
        holders.isEmpty
          ? "\(group) in \(environment): no recipient holds every generation of its key; `coffer rewrap` by the readers of each generation fixes that"
          : "\(group) in \(environment): recipients who can read it and grant access: \(holders.joined(separator: ", "))")
    }
    let me = manifest.flatMap { Naming.manifestName(of: identities, in: $0) }
    if let me {
      hints.append(
        "ask one of them to run `coffer access grant \(me) --groups \(groups.joined(separator: ",")) --env \(environment)`")
    } else {
      hints.append("your recipient is not in coffer.yaml: ask them to add it and grant you access")
    }
    return hints
  }
}

/// Where the identity came from, for messages: the variable, the file variable and its path, or the default path.
package enum IdentitySourceText {
  package static func describe(_ source: IdentityStore.Source) -> String {
    switch source {
    case .environment: return "the COFFER_IDENTITY variable"
    case .file(let path):
      if let named = ProcessEnvironment.get("COFFER_IDENTITY_FILE"), !named.isEmpty { return "COFFER_IDENTITY_FILE (\(path))" }
      return "the default path \(path)"
    }
  }
}

/// Recipient names for messages.
package enum Naming {
  /// The manifest names of `age1…` recipients, in the manifest's order; unknown ones are shown as they are, last.
  package static func names(_ recipients: [String], manifest: Manifest?) -> [String] {
    guard let manifest else { return recipients }
    let wanted = Set(recipients)
    let named = manifest.recipients.filter { wanted.contains($0.recipient) }
    let known = Set(named.map(\.recipient))
    return named.map(\.name) + recipients.filter { !known.contains($0) }
  }

  /// The manifest name of the first of these identities that the manifest lists.
  package static func manifestName(of identities: [AgeX25519Identity], in manifest: Manifest) -> String? {
    let mine = Set(identities.map(\.recipient.encoded))
    return manifest.recipients.first { mine.contains($0.recipient) }?.name
  }
}
