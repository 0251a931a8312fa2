import CofferCore
import CofferSystem
import CofferVault

/// One environment's values as a process receives them: what ``Workspace/readEnvironment(_:identities:allowPartial:allowMissing:action:)``
/// returns. Prints nothing; its description names the environment and the secrets, never a value.
package struct EnvironmentRead: Sendable, CustomStringConvertible {
  /// The environment read.
  package var environment: String
  /// The current values of the secrets coffer.yaml declares (composed ones included), by name.
  package var values: [String: SecretValue]
  /// The vault's groups this identity cannot read (empty unless a partial read was allowed).
  package var unreadableGroups: [String]
  /// The vault file's absolute path (it may not exist when a missing vault was allowed).
  package var vaultPath: String

  package var description: String {
    "\(environment): \(values.count) values (\(values.keys.sorted().joined(separator: ", ")))"
  }
}

/// An environment lacks secrets coffer.yaml requires there (or has no vault at all): a read for a process fails
/// closed, naming them, never a value. Exit status 1, as `run`'s refusal.
package struct MissingSecrets: CofferError {
  package let environment: String
  /// Whether the environment has no vault file.
  package let noVault: Bool
  /// The required names without a value (for a composed secret, its first missing part).
  package let names: [String]
  package var exitStatus: ExitStatus { .problemsFound }

  package init(environment: String, noVault: Bool, names: [String]) {
    self.environment = environment
    self.noVault = noVault
    self.names = names
  }

  package var description: String {
    let list = names.isEmpty ? "" : ": " + names.joined(separator: ", ")
    if noVault { return "\(environment) has no vault yet\(list.isEmpty ? "" : " (it requires\(list.dropFirst()))")" }
    return "\(names.count) required secret\(names.count == 1 ? " has" : "s have") no value in \(environment)\(list)"
  }

  package var hints: [String] {
    ["`coffer set \(names.first ?? "NAME") --env \(environment)` sets one; `coffer check --env \(environment)` lists what is missing"]
  }
}

/// Some groups of the environment cannot be read with this identity, and a partial read was not asked for. Exit
/// status 3; the hints name who can grant access.
package struct UnreadableGroups: CofferError {
  package let environment: String
  package let groups: [String]
  package let hints: [String]
  package var exitStatus: ExitStatus { .accessDenied }
  package var description: String {
    "cannot read groups \(groups.joined(separator: ", ")) in \(environment) with this identity"
  }
}

extension Workspace {
  /// Reads an environment for a process, as `coffer run` does by default: the current values of the secrets
  /// coffer.yaml declares (undeclared names in the vault are left out), composed secrets composed, the read recorded
  /// in the audit log with keyed fingerprints. Fails closed.
  /// - Parameters:
  ///   - environment: a declared environment (see ``environment(named:)``).
  ///   - identities: the caller's identities.
  ///   - allowPartial: read what this identity can when some groups are unreadable, instead of throwing.
  ///   - allowMissing: return what there is when the vault or a required secret is missing, instead of throwing.
  ///   - action: the audit action (`run`).
  /// - Throws: ``MissingSecrets`` (no vault, or a required secret without a value), ``UnreadableGroups``,
  ///   ``AccessDenied`` (the environment is not wrapped to this identity), ``VaultError`` (tampered, rolled back, a
  ///   vault of another environment, an untrusted policy), or the audit log's error.
  package func readEnvironment(
    _ environment: String, identities: [AgeX25519Identity], allowPartial: Bool, allowMissing: Bool,
    action: String = "run"
  ) throws -> EnvironmentRead {
    let path = project.vaultPath(environment)
    let required = manifest.secrets.filter { $0.isRequired(in: environment) }.map(\.name)
    guard let vault = try openVault(environment, identities: identities) else {
      if allowMissing || required.isEmpty {
        return EnvironmentRead(environment: environment, values: [:], unreadableGroups: [], vaultPath: path)
      }
      throw MissingSecrets(environment: environment, noVault: true, names: required)
    }
    let unreadable = vault.unreadableGroups
    if !unreadable.isEmpty, !allowPartial {
      throw UnreadableGroups(
        environment: environment, groups: unreadable,
        hints: AccessDenied.grantHints(
          groups: unreadable, environment: environment, vault: vault, manifest: manifest, identities: identities))
    }
    var values: [String: SecretValue] = [:]
    for (name, value) in try vault.currentValues() where manifest.secret(named: name) != nil { values[name] = value }
    let composed = Composition.apply(manifest, to: &values)
    if !allowMissing {
      // A value in a group this identity cannot read is present, not missing.
      let present = Set(vault.names)
      var missing: [String] = []
      for name in required where values[name] == nil {
        let part = composed.first { $0.name == name }?.chain.last ?? name
        if present.contains(part), !vault.isReadable(part) { continue }
        if !missing.contains(part) { missing.append(part) }
      }
      if !missing.isEmpty { throw MissingSecrets(environment: environment, noVault: false, names: missing) }
    }
    let read = values.keys.sorted().compactMap { name in values[name].map { (name: name, value: $0) } }
    try auditor(identities).recordRead(action, vault: vault, values: read)
    return EnvironmentRead(environment: environment, values: values, unreadableGroups: unreadable, vaultPath: path)
  }
}
