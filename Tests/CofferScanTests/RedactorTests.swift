import CofferCore
import CofferScan
import Testing

@Suite struct RedactorTests {
  static func run(_ set: RedactionSet, _ chunks: [String]) -> String {
    var r = Redactor(set)
    var out: [UInt8] = []
    for c in chunks { out += r.redact(Array(c.utf8)) }
    out += r.finish()
    return String(decoding: out, as: UTF8.self)
  }

  @Test func splitWritesAtEveryPosition() {
    let set = RedactionSet(values: [Support.known("API_TOKEN", "sk-fake-Zx81kQm2Lp0Wd7Rt")])
    let text = "token=sk-fake-Zx81kQm2Lp0Wd7Rt; done\n"
    let bytes = Array(text.utf8)
    for i in 0...bytes.count {
      for j in i...bytes.count {
        let chunks = [bytes[..<i], bytes[i..<j], bytes[j...]].map { String(decoding: $0, as: UTF8.self) }
        #expect(Self.run(set, chunks) == "token=[redacted:API_TOKEN]; done\n")
      }
    }
  }

  @Test func holdsBackOnlyWhatCouldStillBeAValue() {
    let set = RedactionSet(values: [Support.known("API_TOKEN", "sk-fake-Zx81kQm2Lp0Wd7Rt")])
    var r = Redactor(set)
    #expect(String(decoding: r.redact(Array("hello world\n".utf8)), as: UTF8.self) == "hello world\n")
    #expect(String(decoding: r.redact(Array("key sk-fa".utf8)), as: UTF8.self) == "key ")
    #expect(String(decoding: r.redact(Array("st".utf8)), as: UTF8.self) == "sk-fast")
    #expect(String(decoding: r.redact(Array(" sk-fake-Zx81kQm2Lp0Wd7R".utf8)), as: UTF8.self) == " ")
    #expect(String(decoding: r.redact(Array("t!".utf8)), as: UTF8.self) == "[redacted:API_TOKEN]!")
    #expect(r.finish().isEmpty)
  }

  /// A long value (past the 32-byte key) is held while it still matches and released at the first difference.
  @Test func longValuesAreHeldOnlyWhileTheyStillMatch() {
    let value = "ghp_Qm3xZ81kLp0Wd7RtYv5NbC2aHs9EfUj4Ko6"  // 39 bytes
    let set = RedactionSet(values: [Support.known("GITHUB_TOKEN", value)])
    #expect(set.maxPatternLength == 78)  // its hex form
    var r = Redactor(set)
    #expect(String(decoding: r.redact(Array(("x " + value.prefix(35)).utf8)), as: UTF8.self) == "x ")
    // The first half (19 bytes) is a value's half and stays redacted; the rest is released at the difference.
    let rest = String(value.dropFirst(19).prefix(16))
    #expect(String(decoding: r.redact(Array("Ko!".utf8)), as: UTF8.self) == "[redacted:GITHUB_TOKEN]" + rest + "Ko!")
    #expect(String(decoding: r.redact(Array((" " + value.prefix(36)).utf8)), as: UTF8.self) == " ")
    #expect(String(decoding: r.redact(Array((value.dropFirst(36) + " y").utf8)), as: UTF8.self) == "[redacted:GITHUB_TOKEN] y")
    #expect(r.finish().isEmpty)
  }

  /// F20: each line of a multi-line value is masked wherever it appears, together or alone; short lines are not
  /// masks.
  @Test func multiLineValues() {
    let set = RedactionSet(values: [Support.known("CERT", "line-one-fake-AAAA\nline-two-fake-BBBB\n}\n")])
    #expect(Self.run(set, ["line-one-fake-AAAA\nline-two-fake-BBBB\n}\n"]) == "[redacted:CERT]")
    #expect(Self.run(set, ["x line-one-fake-AA", "AA\n", "line-two-", "fake-BBBB\n"]) == "x [redacted:CERT]\n[redacted:CERT]\n")
    #expect(Self.run(set, ["line-two-fake-BBBB\n", "}\n"]) == "[redacted:CERT]\n}\n")
  }

  @Test func encodingsAreRedactedToo() {
    let value = #"fake/Tok+en'$x"9Qz>>?"#
    let set = RedactionSet(values: [Support.known("API_TOKEN", value)])
    let forms = [
      Support.base64(value), "ZmFrZS9Ub2srZW4nJHgiOVF6Pj4_", "fake%2FTok%2Ben%27%24x%229Qz%3E%3E%3F",
      value.utf8.map { String($0, radix: 16) }.joined(), #"fake\/Tok+en'$x\"9Qz>>?"#, #"fake/Tok+en'\''$x"9Qz>>?"#,
    ]
    for form in forms { #expect(Self.run(set, ["a ", form, " b"]) == "a [redacted:API_TOKEN] b", "\(form)") }
  }

  @Test func overlappingValuesBecomeOneSpanNamedAfterTheLonger() {
    let set = RedactionSet(values: [Support.known("SHORT", "Zx81kQm2"), Support.known("LONG", "Zx81kQm2Lp0Wd7Rt")])
    #expect(Self.run(set, ["a Zx81kQm2Lp0Wd7Rt b Zx81kQm2 c"]) == "a [redacted:LONG] b [redacted:SHORT] c")
  }

  @Test func shortValuesAreSkippedAndReported() {
    let set = RedactionSet(values: [Support.known("PIN", "123"), Support.known("OK", "abcd")])
    #expect(set.skipped.map(\.name) == ["PIN"])
    #expect(Self.run(set, ["123 abcd"]) == "123 [redacted:OK]")
  }
}
