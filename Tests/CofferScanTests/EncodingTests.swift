import CofferCore
import CofferScan
import Testing

/// Each encoding of a known value is found, named, and located exactly.
@Suite struct EncodingTests {
  // 21 bytes: a multiple of 3, so padded and unpadded base64 are the same; its base64 has `/` (URL form differs).
  static let value = #"fake/Tok+en'$x"9Qz>>?"#
  let scanner = Support.scanner([Support.known("API_TOKEN", EncodingTests.value)])

  func expect(_ encoded: String, _ encoding: Encoding, sourceLocation: SourceLocation = #_sourceLocation) {
    assertFindings(
      "# config\nkey: 1️⃣\(encoded)\n", [FindingSpec("1️⃣", secret: "API_TOKEN", encoding: encoding)], scanner: scanner,
      sourceLocation: sourceLocation)
  }

  @Test func raw() { expect(Self.value, .raw) }

  @Test func base64StandardPaddedUnpaddedAndWithNewline() {
    expect("ZmFrZS9Ub2srZW4nJHgiOVF6Pj4/", .base64)
    expect("ZmFrZS9Ub2srZW4nJHgiOVF6Pj4/Cg==", .base64)
    expect("ZmFrZS9Ub2srZW4nJHgiOVF6Pj4/Cg", .base64)
  }

  @Test func base64URLAlphabet() {
    expect("ZmFrZS9Ub2srZW4nJHgiOVF6Pj4_", .base64url)
    expect("ZmFrZS9Ub2srZW4nJHgiOVF6Pj4_Cg==", .base64url)
  }

  /// Inside a larger base64 text the value's characters depend on its alignment: all three are found, at the
  /// first character that depends on the value alone.
  @Test(arguments: 0..<6) func base64EmbeddedAtEveryAlignment(prefixLength: Int) {
    let prefix = String(repeating: "p", count: prefixLength)
    let blob = Support.base64(prefix + Self.value + "-and-more-text")
    let first = (8 * prefixLength + 5) / 6
    let index = blob.index(blob.startIndex, offsetBy: first)
    let marked = "data: " + blob[..<index] + "1️⃣" + blob[index...] + "\n"
    assertFindings(marked, [FindingSpec("1️⃣", secret: "API_TOKEN", encoding: .base64)], scanner: scanner)
  }

  @Test func percentUpperAndLower() {
    expect("fake%2FTok%2Ben%27%24x%229Qz%3E%3E%3F", .percent)
    expect("fake%2fTok%2ben%27%24x%229Qz%3e%3e%3f", .percent)
  }

  @Test func hexLowerAndUpper() {
    let lower = Array(Self.value.utf8).map { String($0, radix: 16) }.joined()
    expect(lower, .hex)
    expect(lower.uppercased(), .hex)
  }

  @Test func jsonWithAndWithoutEscapedSlash() {
    expect(#"fake/Tok+en'$x\"9Qz>>?"#, .json)
    expect(#"fake\/Tok+en'$x\"9Qz>>?"#, .json)
  }

  /// Control characters as JSON writers spell them: `\t`/`\n` (Python, Go), `\u001b` or `\u001B` (Jackson, .NET),
  /// or every one as `\u00XX`.
  @Test func jsonControlCharactersInEveryWritersSpelling() {
    let value = "tab\there\u{1B}[0m-Zx81kQm2Lp0Wd7Rt\nend"
    let s = Support.scanner([Support.known("ANSI_SECRET", value)])
    for spelled in [
      #"tab\there\u001b[0m-Zx81kQm2Lp0Wd7Rt\nend"#, #"tab\there\u001B[0m-Zx81kQm2Lp0Wd7Rt\nend"#,
      #"tab\u0009here\u001b[0m-Zx81kQm2Lp0Wd7Rt\u000aend"#, #"tab\u0009here\u001B[0m-Zx81kQm2Lp0Wd7Rt\u000Aend"#,
    ] {
      assertFindings("{\"v\": \"1️⃣" + spelled + "\"}", [FindingSpec("1️⃣", encoding: .json)], scanner: s)
    }
  }

  @Test func shellForms() {
    expect(#"fake/Tok+en'\''$x"9Qz>>?"#, .shellSingleQuoted)
    expect(#"fake/Tok+en\'\$x\"9Qz\>\>\?"#, .shellBackslash)
    expect(#"fake/Tok+en'\$x\"9Qz>>?"#, .shellDoubleQuoted)
  }

  @Test func multiLineValueWholeEachLineAndReflowed() {
    let value = "user=svc-deploy\npassword=Zx81kQm2Lp0Wd7Rt\n"
    let s = Support.scanner([Support.known("DB_CONF", value)])
    assertFindings("a: 1\n1️⃣user=svc-deploy\npassword=Zx81kQm2Lp0Wd7Rt\nb: 2\n", [FindingSpec("1️⃣", encoding: .raw)], scanner: s)
    // One distinctive line on its own is found; the boilerplate line `user=svc-deploy` is not.
    assertFindings("x = \"1️⃣password=Zx81kQm2Lp0Wd7Rt\"\ny = \"user=svc-deploy\"\n", [FindingSpec("1️⃣", encoding: .line)], scanner: s)
    assertFindings("v=1️⃣user=svc-deploy password=Zx81kQm2Lp0Wd7Rt\n", [FindingSpec("1️⃣", encoding: .reflowed)], scanner: s)
    assertFindings("v=1️⃣user=svc-deploy\r\npassword=Zx81kQm2Lp0Wd7Rt\r\n", [FindingSpec("1️⃣", encoding: .reflowed)], scanner: s)
    assertFindings("{\"v\": \"1️⃣user=svc-deploy\\npassword=Zx81kQm2Lp0Wd7Rt\\n\"}", [FindingSpec("1️⃣", encoding: .json)], scanner: s)
  }

  /// A long value split across two string literals (F26's cousin): either half is found.
  @Test func longValueSplitInTwo() {
    let value = "ghp_Qm3xZ81kLp0Wd7RtYv5NbC2aHs9EfUj4Ko6"
    let s = Support.scanner([Support.known("GITHUB_TOKEN", value)])
    // 39 bytes: halves are bytes 0..<19 and 20..<39; a cut anywhere leaves at least one of them whole.
    let bytes = Array(value.utf8)
    for cut in 1..<bytes.count {
      var first = String(decoding: bytes[..<cut], as: UTF8.self)
      var second = String(decoding: bytes[cut...], as: UTF8.self)
      var specs: [FindingSpec] = []
      if cut >= 19 {
        first = "1️⃣" + first
        specs.append(FindingSpec("1️⃣", encoding: .half))
      }
      if cut <= 20 {
        second = String(decoding: bytes[cut..<20], as: UTF8.self) + "2️⃣" + String(decoding: bytes[20...], as: UTF8.self)
        specs.append(FindingSpec("2️⃣", encoding: .half))
      }
      assertFindings("let t = \"\(first)\" +\n  \"\(second)\"\n", specs, scanner: s)
    }
  }

  /// F26: a known value is found whatever the layout around it.
  @Test func assignmentOnTheNextLine() {
    let s = Support.scanner([Support.known("SECRET_KEY", "00000000-fake-fake-fake-000000000000")])
    assertFindings(
      "    app.secret_key = (\n        '1️⃣00000000-fake-fake-fake-000000000000'\n    )\n",
      [FindingSpec("1️⃣", secret: "SECRET_KEY", encoding: .raw)], scanner: s)
  }

  /// F27: no entropy rules, so paths that look random are never reported.
  @Test func pathLikeTokensAreNotFindings() {
    let s = Support.scanner([Support.known("DB_PASSWORD", "Zx81kQm2Lp0Wd7Rt")])
    let text = """
            - "MONGO_INITDB_ROOT_PASSWORD_FILE=/run/secrets/db_password"
            - "MONGO_INITDB_ROOT_USERNAME_FILE=/run/secrets/db_username"
            - "CERT=/etc/ssl/private/aGVsbG8gd29ybGQgdGhpcyBpcyBiYXNlNjQ.pem"

      """
    #expect(s.scan(Array(text.utf8)).isEmpty)
  }

  @Test func shortValuesAreNeverPatternsAndAreReported() {
    let s = Support.scanner([Support.known("PIN", "123"), Support.known("EMPTY", ""), Support.known("OK", "abcd")])
    #expect(s.skipped.map(\.name) == ["PIN", "EMPTY"])
    #expect(s.skipped.map(\.reason) == ["shorter than 4 bytes", "shorter than 4 bytes"])
    #expect(s.scan(Array("123 abc 12345".utf8)).isEmpty)
    #expect(s.scan(Array("xabcdx".utf8)).map(\.secret) == ["OK"])
  }

  @Test func everyVersionAndEnvironmentIsItsOwnFinding() {
    let s = Support.scanner([
      Support.known("TOKEN", "old-value-1234", environment: "production", version: 1),
      Support.known("TOKEN", "new-value-5678", environment: "production", version: 2),
      Support.known("TOKEN", "dev-value-0000", environment: "development", version: 1),
    ])
    let found = s.scan(Array("a=old-value-1234 b=new-value-5678 c=dev-value-0000".utf8))
    #expect(found.map { "\($0.environment ?? "")/\($0.version ?? 0)@\($0.column)" } == ["production/1@3", "production/2@20", "development/1@37"])
    #expect(found.map(\.fingerprint) == ["fp-TOKEN-v1", "fp-TOKEN-v2", "fp-TOKEN-v1"])
  }

  @Test func columnsCountUnicodeScalars() {
    assertFindings("é€😀 = 1️⃣\(Self.value)", [FindingSpec("1️⃣", encoding: .raw)], scanner: scanner)
  }

  /// The canary: no part of a finding's printed form holds the value or any 6-byte piece of it.
  @Test func findingsNeverCarryTheValue() {
    let value = "canary-Zq9#Xk!wPr&Ty*Uv"
    let s = Support.scanner([Support.known("CANARY", value)])
    let text = "a \(value) b \(Support.base64(value)) c \(value.utf8.map { String($0, radix: 16) }.joined())"
    let findings = s.scan(Array(text.utf8))
    #expect(findings.count == 3)
    let printed = findings.map { String(describing: $0) + String(reflecting: $0) }.joined()
    let bytes = Array(value.utf8)
    for i in 0...(bytes.count - 6) {
      let piece = String(decoding: bytes[i..<(i + 6)], as: UTF8.self)
      #expect(!printed.contains(piece))
    }
  }
}
