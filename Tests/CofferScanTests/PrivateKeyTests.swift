import CofferCore
import CofferScan
import Testing

/// F25: a PEM private key is found with real line breaks, with spaces instead, and with literal `\n` escapes.
@Suite struct PrivateKeyTests {
  static let body = [
    "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun",
    "VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK",
    "LxoS2tFczGkPLPgizskuemMghRniWaoLcyehkd3qqGElvW/VDL5AaWTg0nLVkjRo",
  ]
  static let layouts: [String] = [
    "-----BEGIN RSA PRIVATE KEY-----\n" + body.joined(separator: "\n") + "\n-----END RSA PRIVATE KEY-----\n",
    "-----BEGIN RSA PRIVATE KEY----- " + body.joined(separator: " ") + " -----END RSA PRIVATE KEY-----",
    "-----BEGIN RSA PRIVATE KEY-----\\n" + body.joined(separator: "\\n") + "\\n-----END RSA PRIVATE KEY-----\\n",
  ]
  let scanner = Support.scanner([])

  @Test func allThreeLayoutsAreFoundWithOneFingerprint() {
    var fingerprints: [String] = []
    for layout in Self.layouts {
      let text = "config:\n  private_key=\"1️⃣\(layout)\"\nnext: 1\n"
      assertFindings(text, [FindingSpec("1️⃣", rule: "private-key")], scanner: scanner)
      fingerprints += scanner.scan(MarkedText(text).bytes).map(\.fingerprint)
    }
    #expect(fingerprints.count == 3)
    #expect(Set(fingerprints).count == 1)
  }

  @Test func fieldReportF25() {
    let text = """
      private_key=1️⃣-----BEGIN RSA PRIVATE KEY----- MIIfakeAAAA BBBBfake== -----END RSA PRIVATE KEY-----
      KEY2="2️⃣-----BEGIN PRIVATE KEY-----\\nMIIfakeCCCC\\n-----END PRIVATE KEY-----\\n"

      """
    assertFindings(text, [FindingSpec("1️⃣", rule: "private-key"), FindingSpec("2️⃣", rule: "private-key")], scanner: scanner)
  }

  @Test func otherArmorsCRLFAndConcatenatedLiterals() {
    let crlf = "1️⃣-----BEGIN OPENSSH PRIVATE KEY-----\r\n" + Self.body.joined(separator: "\r\n") + "\r\n-----END OPENSSH PRIVATE KEY-----\r\n"
    assertFindings(crlf, [FindingSpec("1️⃣", rule: "private-key")], scanner: scanner)
    let swift = "let key = \"1️⃣-----BEGIN EC PRIVATE KEY-----\\n\" +\n  \"" + Self.body.joined(separator: "\\n\" +\n  \"") + "\\n-----END EC PRIVATE KEY-----\"\n"
    assertFindings(swift, [FindingSpec("1️⃣", rule: "private-key")], scanner: scanner)
    let pgp = "1️⃣-----BEGIN PGP PRIVATE KEY BLOCK-----\nVersion: fake 1.0\n\n" + Self.body.joined(separator: "\n") + "\n=AbCd\n-----END PGP PRIVATE KEY BLOCK-----\n"
    assertFindings(pgp, [FindingSpec("1️⃣", rule: "private-key")], scanner: scanner)
  }

  @Test func headersWithoutABodyOrAnEndAreNotKeys() {
    let texts = [
      #"if line == "-----BEGIN RSA PRIVATE KEY-----" { state = .body }"#,
      "-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n",
      "-----BEGIN RSA PRIVATE KEY-----\n" + Self.body[0] + "\n-----END EC PRIVATE KEY-----\n",
      "-----BEGIN RSA PRIVATE KEY-----\n" + Self.body[0] + "\n",
      "-----BEGIN CERTIFICATE-----\n" + Self.body[0] + "\n-----END CERTIFICATE-----\n",
    ]
    for text in texts { #expect(scanner.scan(Array(text.utf8)).isEmpty, "\(text.prefix(40))") }
  }

  @Test func aKnownKeyIsReportedAsTheKnownValueNotTwice() {
    let key = Self.layouts[0]
    let s = Support.scanner([Support.known("TLS_KEY", key)])
    assertFindings("x\n1️⃣\(key)y\n", [FindingSpec("1️⃣", secret: "TLS_KEY", encoding: .raw)], scanner: s)
  }

  @Test func aKeyAcrossChunksOfEverySize() {
    let text = Array(("pad\n" + Self.layouts[2] + "\n").utf8)
    let whole = scanner.scan(text)
    #expect(whole.count == 1)
    for size in [1, 2, 7, 64, 100, 1000] {
      var stream = scanner.makeStream()
      var i = 0
      while i < text.count {
        stream.feed(Array(text[i..<min(text.count, i + size)]))
        i += size
      }
      #expect(stream.finish() == whole, "chunk size \(size)")
    }
  }
}

/// An age identity (what a Coffer identity file holds) is a finding wherever it appears.
@Suite struct AgeIdentityTests {
  static let key = "AGE-SECRET-KEY-1" + String(repeating: "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L", count: 2).prefix(58)

  @Test func foundWithItsExactLength() {
    let scanner = Support.scanner([], rules: [AgeIdentityRule()])
    assertFindings("# created: 2026-01-01\nexport COFFER_IDENTITY=1️⃣\(Self.key)\n", [FindingSpec("1️⃣", rule: "age-identity")], scanner: scanner)
    #expect(scanner.scan(Array(String(Self.key.dropLast()).utf8)).isEmpty)
    #expect(scanner.scan(Array((Self.key + "Q").utf8)).isEmpty)
    #expect(scanner.scan(Array(Self.key.lowercased().utf8)).isEmpty)
    #expect(scanner.scan(Array("AGE-SECRET-KEY-1 is the prefix".utf8)).isEmpty)
  }
}
