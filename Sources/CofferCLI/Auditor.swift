import CofferAudit
import CofferCore
import CofferSystem
import CofferVault

/// Records audit events for one command: who, through which trail, keyed by which identity.
struct Auditor {
  let trail: AuditTrail
  let actor: String
  let key: SecretValue

  init(root: String, actor: String, identities: [AgeX25519Identity]) {
    self.trail = AuditTrail.forProject(root: root)
    self.actor = actor
    self.key = identities.first?.encoded ?? SecretValue("")
  }

  /// Appends an event; throws (and so stops the command) when it cannot.
  func record(
    _ action: String, environment: String?, secrets: [String] = [], fingerprints: [String: String] = [:],
    destination: String? = nil, outcome: String = "ok", detail: String? = nil, durable: Bool
  ) throws {
    let event = AuditEvent(
      time: SystemClock.now(), actor: actor, osUser: ProcessEnvironment.userName(), action: action,
      environment: environment, secrets: secrets, fingerprints: fingerprints, destination: destination,
      outcome: outcome, detail: detail)
    try trail.append(event, headKey: key, durable: durable)
  }

  /// Up to this many values, a read records one fingerprint per value; above it, one fingerprint of the whole set
  /// under the key `*` (docs/audit.md), so that a `run` of a large project writes a short line.
  static let perValueFingerprintLimit = 64

  /// Records that values were released (get, export, run), with their keyed fingerprints.
  func recordRead(_ action: String, vault: Vault, values: [(name: String, value: SecretValue)], destination: String? = nil) throws {
    let fps =
      values.count <= Auditor.perValueFingerprintLimit
      ? vault.fingerprints(of: values) : ["*": vault.setFingerprint(of: values)]
    try record(action, environment: vault.environment, secrets: values.map(\.name), fingerprints: fps, destination: destination, durable: false)
  }

  /// Records a read whose fingerprints the caller computed while streaming the values (`run`).
  func recordRead(_ action: String, vault: Vault, names: [String], fingerprints: [String: String]) throws {
    try record(action, environment: vault.environment, secrets: names, fingerprints: fingerprints, durable: false)
  }
}
