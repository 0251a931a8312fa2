import CofferCore
import CofferOperations
import CofferScan
import CofferSystem
import CofferVault

extension KnownValues {
  /// ``KnownValues/load(project:logger:environments:required:action:purpose:)`` for a command's options.
  static func load(
    _ global: GlobalOptions, environments only: [String]?, required: Bool, action: String, purpose: Evidence.Purpose
  ) throws -> KnownValues {
    try load(
      project: global.project, logger: CLILog.make(verbose: global.verbose), environments: only, required: required,
      action: action, purpose: purpose)
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
