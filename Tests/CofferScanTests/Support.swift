import CofferCore
import CofferScan
import Testing

/// Shared helpers for the CofferScan tests.
enum Support {
  /// A known value with a stand-in fingerprint (`fp-NAME-vVERSION`; the real one is keyed, see CofferVault).
  static func known(_ name: String, _ value: String, environment: String = "production", version: Int = 1) -> KnownValue {
    KnownValue(name: name, environment: environment, version: version, value: SecretValue(value), fingerprint: "fp-\(name)-v\(version)")
  }

  /// A stand-in keyed fingerprint for rule material: FNV-1a under a fixed test key, hex. Never used outside tests.
  static let ruleFingerprint: @Sendable (String, [UInt8]) -> String = { rule, material in
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in Array("test-key/\(rule)/".utf8) + material {
      h ^= UInt64(b)
      h = h &* 0x100_0000_01b3
    }
    return String(h, radix: 16)
  }

  static func scanner(_ values: [KnownValue], rules: [any Rule] = [PrivateKeyRule()]) -> Scanner {
    Scanner(values: values, rules: rules, fingerprint: ruleFingerprint)
  }

  static func base64(_ s: String) -> String { Base64.encode(Array(s.utf8), padded: true) }
}

/// Text with position markers (1️⃣, 2️⃣, …), as swift-format's `MarkedText`: the markers are removed and their
/// byte offsets, lines and columns remembered.
struct MarkedText {
  static let markers = ["1️⃣", "2️⃣", "3️⃣", "4️⃣", "5️⃣", "6️⃣", "7️⃣", "8️⃣", "9️⃣"]
  let bytes: [UInt8]
  /// marker → (offset, line, column), 1-based line and column in Unicode scalars.
  let positions: [String: (offset: Int, line: Int, column: Int)]

  init(_ text: String) {
    var out: [UInt8] = []
    var positions: [String: (Int, Int, Int)] = [:]
    var rest = Substring(text)
    var line = 1
    var column = 1
    while !rest.isEmpty {
      if let m = MarkedText.markers.first(where: { rest.hasPrefix($0) }) {
        positions[m] = (out.count, line, column)
        rest = rest.dropFirst(m.count)
        continue
      }
      let c = rest.removeFirst()
      out += Array(String(c).utf8)
      for scalar in String(c).unicodeScalars {
        if scalar == "\n" {
          line += 1
          column = 1
        } else {
          column += 1
        }
      }
    }
    bytes = out
    self.positions = positions
  }
}

/// What a finding at a marker should be.
struct FindingSpec {
  let marker: String
  let rule: String
  let secret: String?
  let encoding: Encoding?

  init(_ marker: String, rule: String = Scanner.knownValueRule, secret: String? = nil, encoding: Encoding? = nil) {
    self.marker = marker
    self.rule = rule
    self.secret = secret
    self.encoding = encoding
  }
}

/// Scans marked text and expects exactly the given findings, each starting at its marker.
func assertFindings(
  _ text: String, _ specs: [FindingSpec], scanner: Scanner, sourceLocation: SourceLocation = #_sourceLocation
) {
  let marked = MarkedText(text)
  let findings = scanner.scan(marked.bytes)
  #expect(findings.count == specs.count, "findings: \(findings.map { "\($0.line):\($0.column) \($0.rule) \($0.secret ?? "") \($0.encoding?.rawValue ?? "")" })", sourceLocation: sourceLocation)
  for (finding, spec) in zip(findings, specs) {
    let p = marked.positions[spec.marker]
    #expect(finding.offset == p?.offset, "\(spec.marker) offset", sourceLocation: sourceLocation)
    #expect(finding.line == p?.line, "\(spec.marker) line", sourceLocation: sourceLocation)
    #expect(finding.column == p?.column, "\(spec.marker) column", sourceLocation: sourceLocation)
    #expect(finding.rule == spec.rule, "\(spec.marker) rule", sourceLocation: sourceLocation)
    if let s = spec.secret { #expect(finding.secret == s, "\(spec.marker) secret", sourceLocation: sourceLocation) }
    if let e = spec.encoding { #expect(finding.encoding == e, "\(spec.marker) encoding", sourceLocation: sourceLocation) }
  }
}
