import CofferCore
import CofferVault

/// The verdict `coffer check` gives on one environment, shared with `coffer org check` so both apply the same rules.
package enum EnvironmentCheck {
  package struct Verdict {
    /// ``Checker``'s report; values this identity cannot read are present, not missing; a secret that needs
    /// rotation is listed in ``needsRotation`` rather than as ok.
    package var report: CheckReport
    /// The vault's groups this identity cannot read.
    package var unreadable: [String] = []
    /// Secrets (not plain settings) whose current value a revoked reader saw.
    package var needsRotation: [(name: String, mark: RevocationMark)] = []
    /// What `rotate status` computes its schedule from (empty without a vault).
    package var rotationFacts: [RotationFacts] = []
  }

  /// Opens the environment's vault (if it has one) with ``Workspace/openVault(_:identities:)``, calls `partial` on
  /// it (which may refuse a partly readable vault), records the read in the audit log as `check`, and checks the
  /// readable values. An environment whose store is a server is read through `storeValues` instead (the CLI passes
  /// its store reader; it returns `nil` for an environment kept in the vault).
  /// - Parameter rotation: whether to fill ``Verdict/rotationFacts`` (`org check` reports the schedule; `check`
  ///   does not).
  /// - Throws: what opening the vault, `partial`, `storeValues` or the audit log throw.
  package static func verdict(
    _ ws: Workspace, _ environment: String, identities: [AgeX25519Identity], auditDetail: String? = nil,
    rotation: Bool = true,
    storeValues: (Workspace, String) throws -> [(name: String, value: SecretValue)]? = { _, _ in nil },
    partial: (Vault) throws -> Void
  ) throws -> Verdict {
    var values: [String: SecretValue] = [:]
    if let stored = try storeValues(ws, environment) {
      for (name, value) in stored { values[name] = value }
      Composition.apply(ws.manifest, to: &values)
      return Verdict(report: Checker.check(ws.manifest, environment: environment, values: values))
    }
    var verdict = Verdict(report: CheckReport(environment: environment))
    var notReadable: Set<String> = []
    if let vault = try ws.openVault(environment, identities: identities) {
      try partial(vault)
      let current = try vault.currentValues()
      values.reserveCapacity(current.count)
      for (name, value) in current { values[name] = value }
      // Composed secrets are checked like any other (their format too); one with a part missing is missing.
      Composition.apply(ws.manifest, to: &values)
      verdict.unreadable = vault.unreadableGroups
      let states = vault.currentStates()
      notReadable = Set(states.filter { !$0.readable }.map(\.name))
      // Plain settings (`secret: false`) never need rotation, whatever an older coffer recorded.
      // One set, not a search of the manifest per name (quadratic at 1,000 secrets).
      let settings = Set(ws.manifest.secrets.filter { !$0.isSecret }.map(\.name))
      verdict.needsRotation = states.compactMap { state in
        state.rotation.flatMap { settings.contains(state.name) ? nil : (state.name, $0) }
      }
      if rotation { verdict.rotationFacts = vault.rotationFacts() }
      try ws.auditor(identities).record("check", environment: environment, secrets: vault.names, detail: auditDetail, durable: false)
    }
    var report = Checker.check(ws.manifest, environment: environment, values: values)
    // A value this identity cannot read is present, not missing; it is simply not checked.
    report.missing.removeAll { notReadable.contains($0) }
    // A secret that needs rotation is listed there, not also as ok.
    let rotate = Set(verdict.needsRotation.map(\.name))
    report.ok.removeAll { rotate.contains($0) }
    verdict.report = report
    return verdict
  }
}
