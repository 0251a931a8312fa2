import CofferCore
import Testing

/// Issue 11, kinds 3 and 4: the one naming rule and how names are shown in messages.
@Suite struct NameRuleAndDisplayTests {
  @Test(arguments: ["A", "_", "GO_VERSION", "go_version", "a1", "_9", String(repeating: "N", count: 256)])
  func validNames(_ name: String) {
    #expect(SecretName.isValid(name))
    #expect(SecretName.hints(for: name).isEmpty)
  }

  @Test(arguments: [
    "", "go-version", "app.port", "9LIVES", "-A", "A B", "ÉTÉ", "A=B", "\u{FEFF}A", "A\u{200B}", "a$b",
    String(repeating: "N", count: 257),
  ])
  func invalidNames(_ name: String) {
    #expect(!SecretName.isValid(name))
  }

  /// The one message, and the .env hint only for names a .env file may hold.
  @Test func messageAndHints() {
    #expect(
      SecretName.message(for: "go-version")
        == "\"go-version\" is not a valid secret name; use letters, digits and '_', not starting with a digit (at most 256 bytes)")
    #expect(
      SecretName.hints(for: "go-version") == [
        "\"go-version\" is a valid .env key, but not a name a destination accepts: GitHub Actions secrets and variables, "
          + "Pulumi ESC environment variables and shells allow only letters, digits and '_'; call it go_version"
      ])
    #expect(SecretName.hints(for: "a.b-c").first?.hasSuffix("call it a_b_c") == true)
    for name in ["9LIVES", "-A", "A B", "", "ÉTÉ", "\u{FEFF}A"] { #expect(SecretName.hints(for: name).isEmpty, "\(name)") }
    let long = String(repeating: "N", count: 300)
    #expect(SecretName.message(for: long).hasPrefix("\"\(String(repeating: "N", count: 64))…\" (300 bytes) is not a valid secret name"))
  }

  /// Invisible characters are written out; visible text, non-ASCII letters and LF are kept.
  @Test func displayTextEscapesInvisibleCharacters() {
    let cases: [(String, String)] = [
      ("\u{FEFF}API_KEY", "\\u{FEFF}API_KEY"), ("API\u{200B}KEY", "API\\u{200B}KEY"), ("A\u{202E}B", "A\\u{202E}B"),
      ("x\u{2060}", "x\\u{2060}"), ("nb\u{00A0}sp", "nb\\u{A0}sp"), ("esc\u{1B}[0m", "esc\\u{1B}[0m"),
      ("tab\there", "tab\\u{9}here"), ("soft\u{00AD}hyphen", "soft\\u{AD}hyphen"), ("\u{3164}", "\\u{3164}"),
      ("del\u{7F}", "del\\u{7F}"), ("ls\u{2028}", "ls\\u{2028}"), ("pua\u{E000}", "pua\\u{E000}"),
    ]
    for (raw, shown) in cases { #expect(DisplayText.escaped(raw) == shown, "\(shown)") }
    for kept in ["ÉTÉ 東京 🔑", "plain text, with 'quotes' and \"more\"", "line one\nline two", ""] {
      #expect(DisplayText.escaped(kept) == kept)
    }
  }
}
