import CofferCore
import CofferSystem
import CofferVault

/// One environment's part of a grant or revoke under trust model v1 (coffer.yaml's access rules): the groups whose
/// data keys get a fresh key because a reader left, and whether the environment key is replaced too.
package struct AccessPlan: Equatable, Sendable {
  package var environment: String
  /// Groups to re-key (a revoke of a reader who held their key).
  package var rekey: [String] = []
  /// Whether the environment key is replaced (the reader keeps no group in this environment).
  package var rekeyEnvironment = false

  package init(environment: String, rekey: [String] = [], rekeyEnvironment: Bool = false) {
    self.environment = environment
    self.rekey = rekey
    self.rekeyEnvironment = rekeyEnvironment
  }
}

extension Workspace {
  /// Plans a grant or revoke for every environment that has a vault, and checks it can be done, before anything is
  /// written: a grant needs this identity to read every group it touches; a revoke re-keys the groups the recipient
  /// could read (by the old rules or by a key still wrapped to them) and may no longer, and refuses to leave a group
  /// without readers.
  /// - Parameters:
  ///   - name: the recipient's name in coffer.yaml.
  ///   - recipient: its `age1…` recipient.
  ///   - groups: the groups the change applies to.
  ///   - environments: the environments it applies to (expanded).
  ///   - before: the access rules before the change.
  ///   - policy: the access rules after it.
  ///   - grant: a grant (true) or a revoke.
  ///   - identities: the caller's identities.
  /// - Returns: one plan per environment with a vault, in the order given.
  /// - Throws: ``AccessDenied`` for a group this identity cannot read; ``UsageError`` for a revoke that would leave a
  ///   group without readers; what opening a vault throws.
  package func accessPlans(
    name: String, recipient: String, groups: AccessSelector, environments: [String], before: AccessPolicy,
    after policy: AccessPolicy, grant: Bool, identities: [AgeX25519Identity]
  ) throws -> [AccessPlan] {
    var plans: [AccessPlan] = []
    for environment in environments where Files.exists(project.vaultPath(environment)) {
      guard let vault = try openVault(environment, identities: identities) else { continue }
      var plan = AccessPlan(environment: environment)
      let touched = vault.groups.filter { groups.matches($0) }
      if grant {
        for group in touched where !vault.canRead(group: group) {
          throw AccessDenied.group(
            group, environment: environment, secret: nil, vault: vault, manifest: manifest, identities: identities)
        }
      } else {
        for group in touched {
          let could = before.canRead(name, environment: environment, group: group)
            || vault.anyRecipients(ofGroup: group).contains(recipient)
          guard could, !policy.canRead(name, environment: environment, group: group) else { continue }
          guard vault.canRead(group: group) else {
            throw AccessDenied.group(
              group, environment: environment, secret: nil, vault: vault, manifest: manifest, identities: identities)
          }
          guard !policy.readers(environment: environment, group: group).isEmpty else {
            throw UsageError(description: "revoking \(name) would leave nobody able to read group \(group) in \(environment)")
          }
          plan.rekey.append(group)
        }
        let keptEnvironment = policy.environmentReaders(environment).contains { $0.name == name }
        plan.rekeyEnvironment = !keptEnvironment && vault.anyRecipients(ofGroup: VaultGrammar.environmentSlot).contains(recipient)
      }
      plans.append(plan)
    }
    return plans
  }
}
