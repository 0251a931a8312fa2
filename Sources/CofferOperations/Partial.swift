import CofferCore
import CofferVault

/// Refuses to act on a partial view of an environment unless asked to.
package enum Partial {
  /// Throws (exit 3) naming every unreadable group and who can grant access to it, unless `allowPartial`, in which
  /// case it warns. `manifest` maps recipients to names (`age1…` is shown without it).
  package static func check(
    _ vault: Vault, environment: String, allowPartial: Bool, manifest: Manifest?, identities: [AgeX25519Identity]
  ) throws {
    let unreadable = vault.unreadableGroups
    guard !unreadable.isEmpty else { return }
    if allowPartial {
      Notices.warn("not readable with this identity in \(environment): groups \(unreadable.joined(separator: ", "))")
      return
    }
    throw AccessDenied(
      description: "cannot read groups \(unreadable.joined(separator: ", ")) in \(environment) with this identity",
      hints: AccessDenied.grantHints(
        groups: unreadable, environment: environment, vault: vault, manifest: manifest, identities: identities)
        + ["pass --allow-partial to continue without them"])
  }
}
