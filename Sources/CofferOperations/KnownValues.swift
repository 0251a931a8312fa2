import CofferCore
import CofferScan
import CofferSystem
import CofferVault
import Logging

/// The values a scan or a redaction looks for: every kept version of every secret in every environment this
/// identity can read (or the environments asked for), with their keyed fingerprints.
package struct KnownValues {
  package var values: [KnownValue] = []
  package var fingerprinter: ScanFingerprinter
  /// Environments with a vault that were read.
  package var environments: [String] = []
  /// Groups this identity cannot read, as `environment/group`.
  package var unreadable: [String] = []
  /// The project root, when there is a project.
  package var projectRoot: String?
  /// Values not looked for because they are not evidence of a leak (``Evidence``): plain settings, short or common
  /// values, placeholders.
  package var skipped: [SkippedValue] = []

  package init(
    values: [KnownValue] = [], fingerprinter: ScanFingerprinter, environments: [String] = [], unreadable: [String] = [],
    projectRoot: String? = nil, skipped: [SkippedValue] = []
  ) {
    self.values = values
    self.fingerprinter = fingerprinter
    self.environments = environments
    self.unreadable = unreadable
    self.projectRoot = projectRoot
    self.skipped = skipped
  }

  /// Loads the values; the read of each environment is recorded in the audit log.
  /// - Parameters:
  ///   - start: the project directory (nil: search upward from the working directory).
  ///   - logger: debug lines.
  ///   - environments: only these (nil: all the manifest declares).
  ///   - required: whether a project is required (redaction); else a scan without one looks for formats only.
  ///   - action: the audit action (`scan`, `redact`).
  ///   - purpose: which ``Evidence`` rule decides the values left out.
  /// - Throws: ``SystemError`` without a project when `required` (or `start` was given); what opening a vault or
  ///   the audit log throws.
  package static func load(
    project start: String?, logger: Logger, environments only: [String]?, required: Bool, action: String,
    purpose: Evidence.Purpose
  ) throws -> KnownValues {
    let project: Project
    do {
      project = try Project.locate(from: start)
    } catch {
      if required || start != nil { throw error }
      Notices.note("no coffer.yaml here or above: looking for private keys only, not for known values")
      let fp = (try? IdentityStore.load()).map { ScanFingerprinter(identity: $0[0]) } ?? .ephemeral()
      return KnownValues(fingerprinter: fp)
    }
    let ws = try Workspace.load(project: start, logger: logger)
    let identities = try IdentityLoader.load()
    var result = KnownValues(fingerprinter: ScanFingerprinter(identity: identities[0]), projectRoot: project.root)
    var keyed = false
    let wanted = try only.map { try $0.map { try ws.environment(named: $0) } } ?? ws.manifest.environments
    var closed: [String] = []
    for environment in wanted {
      let opened: Vault?
      do {
        opened = try ws.openVault(environment, identities: identities)
      } catch let error as VaultError where error.code == .noMatchingIdentity && only == nil {
        closed.append(environment)  // an environment this identity is not a recipient of
        continue
      }
      guard let vault = opened else { continue }
      if !keyed {
        result.fingerprinter = ScanFingerprinter(vault: vault)
        keyed = true
      }
      result.environments.append(environment)
      result.unreadable += vault.unreadableGroups.map { "\(environment)/\($0)" }
      var read: [String] = []
      for name in vault.names {
        guard let group = vault.group(of: name), !vault.unreadableGroups.contains(group) else { continue }
        let spec = ws.manifest.secret(named: name)
        for version in vault.versions(of: name) {
          let value = try vault.value(of: name, version: version.number)
          if let reason = Evidence.reasonToSkip(value, isSecret: spec?.isSecret ?? true, example: spec?.example, purpose: purpose) {
            result.skipped.append(SkippedValue(name: name, environment: environment, version: version.number, reason: reason))
            continue
          }
          result.values.append(KnownValue(
            name: name, environment: environment, version: version.number, value: value,
            fingerprint: vault.fingerprint(of: value, name: name)))
        }
        read.append(name)
      }
      try ws.auditor(identities).record(action, environment: environment, secrets: read, durable: false)
    }
    if !closed.isEmpty {
      Notices.warn("this identity cannot open \(closed.joined(separator: ", ")): their values are not looked for")
    }
    if !result.unreadable.isEmpty {
      Notices.warn("not readable with this identity, so not looked for: groups \(result.unreadable.joined(separator: ", "))")
    }
    return result
  }
}
