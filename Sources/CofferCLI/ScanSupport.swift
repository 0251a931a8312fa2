import CofferCore
import CofferOperations
import CofferScan
import CofferSystem
import CofferVault

/// The values a scan or a redaction looks for: every kept version of every secret in every environment this
/// identity can read (or the environments asked for), with their keyed fingerprints.
struct KnownValues {
  var values: [KnownValue] = []
  var fingerprinter: ScanFingerprinter
  /// Environments with a vault that were read.
  var environments: [String] = []
  /// Groups this identity cannot read, as `environment/group`.
  var unreadable: [String] = []
  /// The project root, when there is a project.
  var projectRoot: String?
  /// Values not looked for because they are not evidence of a leak (``Evidence``): plain settings, short or common
  /// values, placeholders.
  var skipped: [SkippedValue] = []

  /// Loads the values.
  /// - Parameters:
  ///   - global: `--project`.
  ///   - environments: only these (nil: all the manifest declares).
  ///   - required: whether a project is required (redaction); else a scan without one looks for formats only.
  ///   - action: the audit action (`scan`, `redact`).
  ///   - purpose: which ``Evidence`` rule decides the values left out.
  static func load(
    _ global: GlobalOptions, environments only: [String]?, required: Bool, action: String, purpose: Evidence.Purpose
  ) throws -> KnownValues {
    let project: Project
    do {
      project = try Project.locate(from: global.project)
    } catch {
      if required || global.project != nil { throw error }
      ErrorRenderer.note("no coffer.yaml here or above: looking for private keys only, not for known values")
      let fp = (try? IdentityStore.load()).map { ScanFingerprinter(identity: $0[0]) } ?? .ephemeral()
      return KnownValues(fingerprinter: fp)
    }
    let ws = try Workspace.load(global)
    let identities = try IdentityLoader.load()
    var result = KnownValues(fingerprinter: ScanFingerprinter(identity: identities[0]), projectRoot: project.root)
    var keyed = false
    let wanted = try only.map { try $0.map { try ws.environment(EnvironmentOption(env: $0)) } } ?? ws.manifest.environments
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
      ErrorRenderer.warn("this identity cannot open \(closed.joined(separator: ", ")): their values are not looked for")
    }
    if !result.unreadable.isEmpty {
      ErrorRenderer.warn("not readable with this identity, so not looked for: groups \(result.unreadable.joined(separator: ", "))")
    }
    return result
  }

  /// Notes on stderr which values are not looked for: those shorter than ``Encodings/minimumLength`` bytes by name
  /// (a secret that short is worth knowing about); the others (settings, short, common or placeholder values) as a
  /// count, and by name with the reason under `--verbose`. Never a value.
  static func noteSkipped(_ skipped: [SkippedValue], verbose: Bool) {
    let tooShort = skipped.filter { $0.reason == "shorter than \(Encodings.minimumLength) bytes" }
    let others = skipped.filter { $0.reason != "shorter than \(Encodings.minimumLength) bytes" }
    if !tooShort.isEmpty {
      let list = tooShort.map { "\($0.name) (\($0.environment) v\($0.version))" }.joined(separator: ", ")
      ErrorRenderer.note("\(tooShort.count) value\(tooShort.count == 1 ? " is" : "s are") shorter than \(Encodings.minimumLength) bytes and not looked for: \(list)")
    }
    guard !others.isEmpty else { return }
    if verbose {
      for s in others { ErrorRenderer.note("not looked for: \(s.name) (\(s.environment) v\(s.version)): \(s.reason)") }
    } else {
      ErrorRenderer.note(
        "\(others.count) known value\(others.count == 1 ? " is" : "s are") not looked for (plain settings, short, common or placeholder values; --verbose names them)")
    }
  }
}

/// Sizes on the command line: a number of bytes with an optional K, M or G suffix (powers of 1024).
enum ByteSize {
  static func parse(_ text: String) -> Int? {
    var digits = Substring(text)
    var factor = 1
    if let last = digits.last, let f = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30][String(last).uppercased()] {
      factor = f
      digits = digits.dropLast()
    }
    guard let n = Int(digits), n >= 0 else { return nil }
    return n * factor
  }
}

/// Renders scan results: text lines, JSON (docs/scan.md) or SARIF 2.1.0.
enum ScanReport {
  struct Row {
    let path: String
    let commit: String?
    let finding: Finding
  }

  static let rules: [(id: String, name: String, summary: String)] = [
    ("known-value", "KnownSecretValue", "A value stored in the project's Coffer vault, raw or encoded (base64, percent, hex, JSON, shell), or a line or half of one."),
    ("private-key", "PrivateKeyPEM", "A private key in PEM armor, with real line breaks, spaces or literal \\n escapes."),
    ("age-identity", "AgeIdentity", "An age X25519 identity (AGE-SECRET-KEY-1…), such as a Coffer identity."),
  ]

  static func describe(_ f: Finding) -> String {
    if let secret = f.secret {
      return "\(f.rule) \(secret) (\(f.environment ?? "") v\(f.version ?? 0), \(f.encoding?.rawValue ?? "raw"))"
    }
    return f.rule
  }

  static func text(_ rows: [Row]) -> String {
    var out = ""
    for r in rows {
      let commit = r.commit.map { String($0.prefix(12)) + ":" } ?? ""
      out += "\(commit)\(r.path):\(r.finding.line):\(r.finding.column): \(describe(r.finding)) \(r.finding.fingerprint.prefix(16))\n"
    }
    return out
  }

  static func json(_ rows: [Row], mode: String, skipped: [SkippedValue], summary: ScanSummary, baselined: Int) -> String {
    let findings: [JSON] = rows.map { r in
      let f = r.finding
      return .object([
        ("path", .string(r.path)), ("line", .int(f.line)), ("column", .int(f.column)), ("end_line", .int(f.endLine)),
        ("rule", .string(f.rule)), ("secret", f.secret.map(JSON.string) ?? .null),
        ("environment", f.environment.map(JSON.string) ?? .null), ("version", f.version.map(JSON.int) ?? .null),
        ("encoding", f.encoding.map { .string($0.rawValue) } ?? .null), ("fingerprint", .string(f.fingerprint)),
        ("commit", r.commit.map(JSON.string) ?? .null),
      ])
    }
    let doc = JSON.object([
      ("version", .int(1)),
      ("mode", .string(mode)),
      ("findings", .array(findings)),
      ("skipped_values", .array(skipped.map {
        .object([("secret", .string($0.name)), ("environment", .string($0.environment)), ("version", .int($0.version)), ("reason", .string($0.reason))])
      })),
      ("summary", .object([
        ("findings", .int(rows.count)), ("baselined", .int(baselined)), ("scanned", .int(summary.scanned)),
        ("bytes", .int(summary.bytes)), ("commits", .int(summary.commits)), ("ignored", .int(summary.ignored)),
        ("binary", JSON.strings(summary.binary.sorted())), ("oversized", JSON.strings(summary.oversized.sorted())),
        ("unreadable", JSON.strings(summary.unreadable.sorted())),
      ])),
    ])
    return doc.encoded + "\n"
  }

  /// SARIF 2.1.0 (https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html).
  static func sarif(_ rows: [Row], version: String) -> String {
    let ruleObjects: [JSON] = rules.map { r in
      .object([
        ("id", .string(r.id)), ("name", .string(r.name)), ("shortDescription", .object([("text", .string(r.summary))])),
        ("defaultConfiguration", .object([("level", .string("error"))])),
      ])
    }
    let results: [JSON] = rows.map { r in
      let f = r.finding
      let message = f.secret.map { "\($0) (\(f.environment ?? "") v\(f.version ?? 0)) found, \(f.encoding?.rawValue ?? "raw")" }
        ?? (f.rule == "age-identity" ? "age identity (secret key)" : "private key in PEM form")
      var properties: [(String, JSON)] = []
      if let c = r.commit { properties.append(("commit", .string(c))) }
      if let s = f.secret {
        properties += [("secret", .string(s)), ("environment", .string(f.environment ?? "")), ("version", .int(f.version ?? 0)), ("encoding", .string(f.encoding?.rawValue ?? "raw"))]
      }
      var result: [(String, JSON)] = [
        ("ruleId", .string(f.rule)), ("ruleIndex", .int(rules.firstIndex { $0.id == f.rule } ?? 0)),
        ("level", .string("error")), ("message", .object([("text", .string(message))])),
        ("locations", .array([.object([("physicalLocation", .object([
          ("artifactLocation", .object([("uri", .string(uri(r.path)))])),
          ("region", .object([("startLine", .int(f.line)), ("startColumn", .int(f.column)), ("endLine", .int(f.endLine))])),
        ]))])])),
        ("partialFingerprints", .object([("cofferFingerprint/v1", .string(f.fingerprint))])),
      ]
      if !properties.isEmpty { result.append(("properties", .object(properties))) }
      return .object(result)
    }
    let doc = JSON.object([
      ("$schema", .string("https://json.schemastore.org/sarif-2.1.0.json")),
      ("version", .string("2.1.0")),
      ("runs", .array([.object([
        ("tool", .object([("driver", .object([
          ("name", .string("coffer")), ("version", .string(version)), ("rules", .array(ruleObjects)),
        ]))])),
        ("columnKind", .string("unicodeCodePoints")),
        ("results", .array(results)),
      ])])),
    ])
    return doc.encoded + "\n"
  }

  /// A relative path as a URI reference (RFC 3986): every byte outside the unreserved set and `/` percent-encoded;
  /// an absolute path as a `file://` URI.
  static func uri(_ path: String) -> String {
    var out = path.hasPrefix("/") ? "file://" : ""
    for b in path.utf8 {
      if Encodings.isUnreservedOrSlash(b) {
        out.unicodeScalars.append(Unicode.Scalar(b))
      } else {
        out += "%" + String(b >> 4, radix: 16, uppercase: true) + String(b & 15, radix: 16, uppercase: true)
      }
    }
    return out
  }
}

extension Encodings {
  static func isUnreservedOrSlash(_ b: UInt8) -> Bool {
    (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2D || b == 0x2E
      || b == 0x5F || b == 0x7E || b == 0x2F
  }
}
