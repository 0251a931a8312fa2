import Foundation
import Testing

/// Issue 11, kind 5, through the commands: `redact`, `run --redact` and `scan` find a value percent-encoded by
/// Python, JavaScript and Go encoders, in upper- or lower-case hex, and replace the whole encoded text.
@Suite struct PercentCLITests {
  static let password = "Fk9/p@ss:w0rd+x y&z=1?"
  /// python quote, quote_plus, encodeURIComponent, encodeURI, Go PathEscape (see CofferScanTests/PercentTests).
  static let forms = [
    "Fk9/p%40ss%3Aw0rd%2Bx%20y%26z%3D1%3F",  // Python quote()
    "Fk9%2fp%40ss%3aw0rd%2bx+y%26z%3d1%3f",  // Python quote_plus(), lower-case hex
    "Fk9%2Fp%40ss%3Aw0rd%2Bx%20y%26z%3D1%3F",  // encodeURIComponent
    "Fk9/p@ss:w0rd+x%20y&z=1?",  // encodeURI
    "Fk9%2Fp@ss:w0rd+x%20y&z=1%3F",  // Go url.PathEscape
  ]

  func makeProject() throws -> Sandbox {
    let box = try Sandbox(manifest: basicManifest)
    #expect(box.set("DATABASE_URL", "postgres://app:\(Self.password)@db/app", env: "production").status == 0)
    #expect(box.set("DB_PASSWORD", Self.password, env: "production").status == 0)
    return box
  }

  @Test func redactReplacesEveryEncodedForm() throws {
    let box = try makeProject()
    // The URL holds the password encoded: decoded, the whole URL is DATABASE_URL's value, the longer match.
    let input = Self.forms.enumerated().map { "\($0.offset): \($0.element) end\n" }.joined()
      + "url=postgres://app:\(Self.forms[2])@db/app\n" + Self.forms[1]
    let r = box.run(["redact"], stdin: Data(input.utf8))
    #expect(r.status == 0)
    #expect(r.out == (0..<5).map { "\($0): [redacted:DB_PASSWORD] end\n" }.joined()
      + "url=[redacted:DATABASE_URL]\n[redacted:DB_PASSWORD]")
    expectNoLeak([Self.password] + Self.forms, in: [r.out, r.stderr])
  }

  @Test func runRedactReplacesEncodedOutput() throws {
    let box = try makeProject()
    // The child encodes the value itself, with Python's quote() and a hand-made lower-case form.
    let r = box.run([
      "run", "--allow-missing", "--include-undeclared", "--env", "production", "--redact", "--", "python3", "-c",
      "import os, re, urllib.parse as u; p = os.environ['DB_PASSWORD']; print('q=' + u.quote(p)); "
        + "print(re.sub('%..', lambda m: m.group(0).lower(), u.quote_plus(p)) + '!')",
    ])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.out == "q=[redacted:DB_PASSWORD]\n[redacted:DB_PASSWORD]!\n")
    expectNoLeak([Self.password] + Self.forms, in: [r.out, r.stderr])
  }

  @Test func scanFindsEveryEncodedForm() throws {
    let box = try makeProject()
    let text = "# config\n" + Self.forms.map { "v=\($0)\n" }.joined()
    try box.write("config.txt", text)
    let r = box.run(["scan", "--json", "config.txt"])
    #expect(r.status == 1, "\(r.stderr)")
    #expect(jsonFindings(r) == (0..<5).map { "config.txt:\($0 + 2):3 known-value DB_PASSWORD production/1 percent" })
    expectNoLeak([Self.password] + Self.forms, in: [r.out, r.stderr])
  }
}
