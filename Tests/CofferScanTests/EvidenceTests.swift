import CofferCore
import CofferScan
import Testing

/// Which known values are evidence of a leak (docs/scan.md, "What is not looked for"): the rule, each reason and
/// its neighbours on both sides.
@Suite struct EvidenceTests {
  func reason(_ value: String, secret: Bool = true, example: String? = nil, _ purpose: Evidence.Purpose = .scan) -> String? {
    Evidence.reasonToSkip(SecretValue(value), isSecret: secret, example: example, purpose: purpose)
  }

  @Test func plainSettingsAreNeverLookedFor() {
    for value in ["debug", "3000", "Zq9Xk3wPr7Ty2Uv8Lm4N", ""] {
      #expect(reason(value, secret: false) == "a plain setting (secret: false)")
      #expect(reason(value, secret: false, .redact) == "a plain setting (secret: false)")
    }
  }

  @Test func shortValuesAreLeftOutOfAScanOnly() {
    #expect(reason("hunter2") == "shorter than 8 bytes")
    #expect(reason("abcdefg") == "shorter than 8 bytes")
    #expect(reason("Zq9Xk3wP") == nil)  // 8 bytes: looked for
    #expect(reason("hunter2", .redact) == nil)
    #expect(reason("abc") == nil)  // under 4 bytes: the scanner itself reports it
    #expect(reason("") == "empty")
  }

  @Test(arguments: ["true", "FALSE", "Enable", " off ", "enabled", "debug", "WARNING", "production", "staging", "localhost", "127.0.0.1", " info "])
  func commonWords(_ value: String) {
    #expect(reason(value, .redact) == "a common configuration word")
  }

  @Test func smallNumbers() {
    #expect(reason("3000", .redact) == "a small number")
    #expect(reason("-4200", .redact) == "a small number")
    #expect(reason("-42", .redact) == nil)  // under 4 bytes: the scanner and redactor report it
    #expect(reason("999999", .redact) == "a small number")
    #expect(reason("1234567", .redact) == nil)  // 7 digits: could be an account number, a PIN
    #expect(reason("12345679") == nil)
    #expect(reason("12345678") == "a placeholder: a well-known placeholder word")
    #expect(reason("3000a", .redact) == nil)
  }

  @Test func placeholders() {
    #expect(reason("changeme") == "a placeholder: a well-known placeholder word")
    #expect(reason("your-api-key-here") == "a placeholder: an instruction to fill in a value")
    #expect(reason("<token here>") == "a placeholder: text in angle brackets")
    #expect(reason("sk-live-Zq9Xk3wPr7", example: "sk-live-Zq9Xk3wPr7") == "a placeholder: it equals the manifest's example, which is also the template's value")
    #expect(reason("sk-live-Zq9Xk3wPr7", example: "sk-live-other") == nil)
    #expect(reason("Zq9Xk3wPr7Ty2Uv8Lm4N") == nil)
  }
}
