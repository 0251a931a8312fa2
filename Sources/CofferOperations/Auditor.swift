import CofferAudit
import CofferCore
import CofferSystem
import CofferVault

/// Records audit events for one command: who, through which trail, keyed by which identity.
package struct Auditor {
  package let trail: AuditTrail
  package let actor: String
  package let key: SecretValue

  package init(root: String, actor: String, identities: [AgeX25519Identity]) {
    self.trail = AuditTrail.forProject(root: root)
    self.actor = actor
    self.key = identities.first?.encoded ?? SecretValue("")
  }

  /// Appends an event; throws (and so stops the command) when it cannot. A set of more than
  /// ``AuditLog/nameLimit`` secrets is recorded as a count, without names, unless `includeNames`; the caller passes
  /// then one set fingerprint (`"*"`) rather than one per name.
  package func record(
    _ action: String, environment: String?, secrets: [String] = [], includeNames: Bool = false,
    fingerprints: [String: String] = [:], destination: String? = nil, outcome: String = "ok", detail: String? = nil,
    durable: Bool
  ) throws {
    let (names, count) = AuditLog.summarize(secrets, includeNames: includeNames)
    let event = AuditEvent(
      time: SystemClock.now(), actor: actor, osUser: ProcessEnvironment.userName(), action: action,
      environment: environment, secrets: names, count: count,
      fingerprints: count != nil && fingerprints.count > 1 ? [:] : fingerprints, destination: destination,
      outcome: outcome, detail: detail)
    try trail.append(event, headKey: key, durable: durable)
  }

  /// Up to this many values, a read records one fingerprint per value; above it, one fingerprint of the whole set
  /// under the key `*` (docs/audit.md), so that a `run` of a large project writes a short line.
  package static let perValueFingerprintLimit = AuditLog.nameLimit

  /// Records that values were released (get, export, run), with their keyed fingerprints.
  package func recordRead(
    _ action: String, vault: Vault, values: [(name: String, value: SecretValue)], destination: String? = nil,
    includeNames: Bool = false
  ) throws {
    let fps =
      values.count <= Auditor.perValueFingerprintLimit
      ? vault.fingerprints(of: values) : ["*": vault.setFingerprint(of: values)]
    try record(
      action, environment: vault.environment, secrets: values.map(\.name), includeNames: includeNames, fingerprints: fps,
      destination: destination, durable: false)
  }

  /// Records a read whose fingerprints the caller computed while streaming the values (`run`).
  package func recordRead(_ action: String, vault: Vault, names: [String], fingerprints: [String: String], includeNames: Bool = false) throws {
    try record(
      action, environment: vault.environment, secrets: names, includeNames: includeNames, fingerprints: fingerprints,
      durable: false)
  }
}
