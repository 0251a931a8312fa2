import CofferCore
import Foundation
import Testing

/// The one JSON string escaper (RFC 8259 §7), checked for exact output and against Foundation's JSON reader.
@Suite struct JSONStringTests {
  @Test func escapesExactly() {
    #expect(JSONString.quoted("plain") == "\"plain\"")
    #expect(JSONString.quoted("a\"b\\c") == "\"a\\\"b\\\\c\"")
    #expect(JSONString.quoted("\n\r\t\u{08}\u{0C}") == "\"\\n\\r\\t\\b\\f\"")
    #expect(JSONString.quoted("\u{00}\u{1F}\u{7F}") == "\"\\u0000\\u001f\\u007f\"")
    #expect(JSONString.quoted("\u{2028}\u{2029}") == "\"\\u2028\\u2029\"")
    #expect(JSONString.quoted("é€😀/") == "\"é€😀/\"")
  }

  @Test func foundationReadsBackEveryScalarClass() throws {
    var samples = ["", "$HOME `x` 'q'", "line\nbreak", "é€😀", "\u{2028}x\u{2029}"]
    samples.append(String(decoding: (0..<0x80).map { UInt8($0) }, as: UTF8.self))
    for s in samples {
      let decoded = try JSONSerialization.jsonObject(with: Data("[\(JSONString.quoted(s))]".utf8)) as? [String]
      #expect(decoded == [s])
    }
  }
}
