import CofferCore
import CofferDotEnv
import Testing

/// Errors and warnings name lines and keys, never a value or a fragment of one.
@Suite("dotenv error redaction")
struct RedactionTests {
  static let erroneous: [(text: String, line: Int)] = [
    ("A=\"CANARY-7f3a\"garbage\n", 1),
    ("A='CANARY-7f3a's\n", 1),
    ("X=1\nA='CANARY-7f3a\nmore\n", 2),
    ("A=\"CANARY-7f3a\n", 1),
    ("A=CANARY-7f3a$NOPE\n", 1),
    ("A=\"CANARY-7f3a ${NOPE:?CANARY-7f3a}\"\n", 1),
    ("A=${NOPE?CANARY-7f3a}\n", 1),
    ("A=${B.CANARY-7f3a}\n", 1),
    ("A=CANARY-7f3a${\n", 1),
    ("A=${X:-CANARY-7f3a\n", 1),
    ("A=1\nCANARY-7f3a\n", 2),
    ("CANARY 7f3a=x\n", 1),
    ("A=1\n-----BEGIN CANARY-7f3a-----\n", 2),
    ("A=CANARY-7f3a\rB=2\n", 1),
    ("A=1\n'CANARY-7f3a'=1\n", 2),
    ("A:CANARY-7f3a\n", 1),
    ("A:x=CANARY-7f3a\n", 1),
    ("A=CANARY-7f3a\nB=${CANARY-7f3a\n", 2),
    ("=CANARY-7f3a\n", 1),
    ("A B CANARY-7f3a\n", 1),
  ]

  @Test func errorsNeverContainTheValue() throws {
    var cases = Self.erroneous.map { (bytes: Array($0.text.utf8), line: $0.line) }
    cases.append((bytes: Array("A=CANARY-7f3a".utf8) + [0xFF, 0x0A], line: 1))
    for (bytes, line) in cases {
      let error = try #require(Support.parseError(bytes: bytes), "\(String(decoding: bytes, as: UTF8.self))")
      let shown = ([error.description, error.message] + error.hints).joined(separator: "\n")
      #expect(!shown.contains("CANARY") && !shown.contains("7f3a"), "\(shown)")
      #expect(error.line == line, "\(error)")
      #expect(error.exitStatus == .badInput)
      #expect(error.description == "test.env:\(line): \(error.message)")
      #expect(error.message.first?.isLowercase == true, "\(error)")
      #expect(!error.message.hasSuffix("."))
    }
  }

  @Test func warningsNeverContainTheValue() throws {
    let result = try Support.parse("A=CANARY-7f3a\nA=CANARY-7f3a $(CANARY-7f3a)\nB=\"$(echo CANARY-7f3a)\"\n")
    #expect(result.warnings.map(\.line) == [2, 2, 3])
    for warning in result.warnings {
      #expect(!warning.description.contains("CANARY") && !warning.message.contains("7f3a"))
    }
  }

  /// The referenced text may be part of a password (issue 11, kind 3): the key and the column, never the name.
  @Test func referenceErrorsNameTheKeyAndColumnAndHint() throws {
    let error = try #require(Support.parseError("OK=1\nP=\"x$missing_name y\"\n"))
    #expect(error.line == 2)
    #expect(
      error.message
        == "the $ at column 5 in the value of P refers to a variable that is not assigned earlier in this file")
    #expect(!error.description.contains("missing_name"))
    #expect(error.hints.contains { $0.contains("single-quote") })
  }
}
