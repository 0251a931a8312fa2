import CofferCore
import CofferDotEnv
import Foundation
import Testing

/// Field reports (/work/shared/corpora/field-reports/cases.json): each case with its exact expected value, plus
/// neighbouring inputs of the same kind of fault.
@Suite("dotenv field reports")
struct FieldReportTests {
  /// Parses and checks the exact variables, then checks that writing them fresh reads back identically.
  func expectVars(_ text: String, _ vars: [String: String], sourceLocation: SourceLocation = #_sourceLocation)
    throws
  {
    try expectVars(bytes: Array(text.utf8), vars, sourceLocation: sourceLocation)
  }

  func expectVars(bytes: [UInt8], _ vars: [String: String], sourceLocation: SourceLocation = #_sourceLocation)
    throws
  {
    let document = try Support.parse(bytes: bytes).document
    #expect(Support.bytesByName(document) == Support.utf8(vars), sourceLocation: sourceLocation)
    let rewritten = DotEnvSerializer.serialize(document.values)
    let again = try Support.parse(bytes: rewritten).document
    #expect(Support.bytesByName(again) == Support.utf8(vars), "re-import", sourceLocation: sourceLocation)
    #expect(DotEnvSerializer.serialize(document) == bytes, "lossless", sourceLocation: sourceLocation)
  }

  func expectError(
    _ text: String, line: Int, naming names: [String] = [], notNaming absent: [String] = [],
    sourceLocation: SourceLocation = #_sourceLocation
  ) {
    expectError(bytes: Array(text.utf8), line: line, naming: names, notNaming: absent, sourceLocation: sourceLocation)
  }

  func expectError(
    bytes: [UInt8], line: Int, naming names: [String] = [], notNaming absent: [String] = [],
    sourceLocation: SourceLocation = #_sourceLocation
  ) {
    guard let error = Support.parseError(bytes: bytes) else {
      Issue.record("expected an error on line \(line)", sourceLocation: sourceLocation)
      return
    }
    #expect(error.line == line, "\(error)", sourceLocation: sourceLocation)
    #expect(error.description.hasPrefix("test.env:\(line): "), sourceLocation: sourceLocation)
    for name in names { #expect(error.message.contains(name), "\(error)", sourceLocation: sourceLocation) }
    for text in absent {
      #expect(!error.description.contains(text) && !error.hints.joined().contains(text), "\(error)", sourceLocation: sourceLocation)
    }
  }

  // F01 parsing:comments — `#` only starts a comment after a blank, never inside quotes.
  @Test func f01HashInsideUnquotedJSON() throws {
    try expectVars(
      #"SOME_KEY={"field1":"v1", "field2": "stops here#kept-too"}"#,
      ["SOME_KEY": #"{"field1":"v1", "field2": "stops here#kept-too"}"#])
    try expectVars("A=x#y\nB=#x\nC=x/#frag\nD=a##b\n", ["A": "x#y", "B": "#x", "C": "x/#frag", "D": "a##b"])
    try expectVars("A=x #y\nB=x\t#y\nC= # only a comment\nD=#\n", ["A": "x", "B": "x", "C": "", "D": "#"])
    try expectVars("A='x #y'\nB=\"x #y\"\nC='#'\nD=\"a\n# not a comment\nb\"\n",
      ["A": "x #y", "B": "x #y", "C": "#", "D": "a\n# not a comment\nb"])
    try expectVars("A={\"a\":\"#\"} # trailing\n", ["A": "{\"a\":\"#\"}"])
  }

  // F02 multiline/PEM — multi-line quoted values, any quote style, any line ending.
  @Test func f02MultiLinePEM() throws {
    let pem = "-----BEGIN FAKE PRIVATE KEY-----\nAAAAfakefakefake\nBBBBfakefakefake\n-----END FAKE PRIVATE KEY-----"
    try expectVars("PRIVATE_KEY=\"\(pem)\"\nOTHER=ok", ["PRIVATE_KEY": pem, "OTHER": "ok"])
    try expectVars("PRIVATE_KEY='\(pem)'\nOTHER=ok\n", ["PRIVATE_KEY": pem, "OTHER": "ok"])
    let crlf = "PRIVATE_KEY=\"\(pem)\"\nOTHER=ok\n".replacingOccurrences(of: "\n", with: "\r\n")
    try expectVars(crlf, ["PRIVATE_KEY": pem, "OTHER": "ok"])
    try expectVars("K=\"\(pem)\n\"\n", ["K": pem + "\n"])
    try expectVars("K=\"line1\\nline2\"\n", ["K": "line1\nline2"])
    // An unquoted PEM is not silently cut to its first line: the next line is an error.
    expectError("K=-----BEGIN FAKE-----\nAAAA\n-----END FAKE-----\n", line: 2)
    // Unterminated: the line where the quote opened.
    expectError("A=1\nK=\"\(pem)\nOTHER=ok\n", line: 2, naming: ["K"])
    expectError("A=1\nK='\(pem)\nOTHER=ok\n", line: 2, naming: ["K"])
    // Written back and read again: identical bytes.
    let value = SecretValue(pem)
    let file = DotEnvSerializer.serialize([(name: "PRIVATE_KEY", value: value)])
    #expect(try Support.parse(bytes: file).document.value(of: "PRIVATE_KEY") == value)
  }

  // F03 interpolation — no value is ever silently shortened.
  @Test func f03DollarNeverSilentlyShortens() throws {
    // The text after `$` may be part of a password: errors name the key and the column of the `$`, never that
    // text (issue 11, kind 3).
    expectError("PASSWORD=\"abc$def\"\nPW2='ab${NOPE}cd'\nPW3=ab$defgh@jk", line: 1, naming: ["PASSWORD", "column 14"], notNaming: ["def"])
    expectError("PASSWORD=\"abc$def\"\n", line: 1, naming: ["PASSWORD", "column 14"], notNaming: ["def"])
    expectError("PW3=ab$defgh@jk\n", line: 1, naming: ["PW3", "column 7"], notNaming: ["defgh", "jk"])
    try expectVars("PW2='ab${NOPE}cd'\n", ["PW2": "ab${NOPE}cd"])
    let error = try #require(Support.parseError("PASSWORD=\"abc$def\"\n"))
    #expect(error.hints.contains { $0.contains("single-quote") })
    // Neighbours: braced, other quote styles, escapes, defaults; a multi-line value names the line of the `$`.
    expectError("A=x${def}y\n", line: 1, naming: ["A", "column 4"], notNaming: ["def"])
    expectError("A=\"${def}\"\n", line: 1, naming: ["A", "column 4"], notNaming: ["def"])
    expectError("A=1\nB=\"multi\nline $nope\"\n", line: 3, naming: ["B", "column 6"], notNaming: ["nope"])
    expectError("A=${NOPE:?msg}\n", line: 1, naming: ["A", "column 3"], notNaming: ["NOPE", "msg"])
    expectError("E=\nA=${E:?msg}\n", line: 2, naming: ["A", "column 3", "unset or empty"], notNaming: ["msg"])
    expectError("K=é€$pw_tail\n", line: 1, naming: ["K", "column 5"], notNaming: ["pw_tail"])
    try expectVars("E=\nA=${E?msg}\n", ["E": "", "A": ""])
    try expectVars("A=\"abc\\$def\"\nB=abc$$def\nC=\"abc$$def\"\nD=abc$\nE=a$ b\nF=$1\nG='$x'\n",
      ["A": "abc$def", "B": "abc$def", "C": "abc$def", "D": "abc$", "E": "a$ b", "F": "$1", "G": "$x"])
    try expectVars("X=1\nA=${NOPE:-$X}\nB=${X:-$NOPE}\nC=${X:+${X}${X}}\nD=${NOPE+$NOPE}\n",
      ["X": "1", "A": "1", "B": "1", "C": "11", "D": ""])
    expectError("A=${NOPE:-$NOPE2}\n", line: 1, naming: ["A", "column 11"], notNaming: ["NOPE"])
    // A value set through the document is stored byte-exact and never expanded.
    var document = DotEnvDocument()
    document.set("PASSWORD", to: SecretValue("abc$def${x}$(y)"))
    let reread = try Support.parse(bytes: DotEnvSerializer.serialize(document)).document
    #expect(reread.value(of: "PASSWORD") == SecretValue("abc$def${x}$(y)"))
  }

  // F05 round-trip:quotes — any number of write/read cycles keeps the value.
  @Test func f05QuotesSurviveCycles() throws {
    try expectVars("obj={\"test\":1}\n", ["obj": "{\"test\":1}"])
    for text in ["{\"test\":1}", "it's \"x\"", "'\"'\"", "\\\"", "\"${a}\"", "`\"`'"] {
      var bytes = DotEnvSerializer.serialize([(name: "obj", value: SecretValue(text))])
      for cycle in 0..<5 {
        let document = try Support.parse(bytes: bytes).document
        #expect(document.value(of: "obj") == SecretValue(text), "cycle \(cycle) of \(text.debugDescription)")
        bytes = DotEnvSerializer.serialize(document.values)
      }
    }
    #expect(DotEnvSerializer.encode(SecretValue("{\"test\":1}")) == "'{\"test\":1}'")
  }

  // F10 line-endings:CRLF — CRLF is LF, everywhere; a lone CR is an error, never part of a value.
  @Test func f10CRLF() throws {
    try expectVars(bytes: Array("A=1\r\n\r\nB=two words\r\n".utf8), ["A": "1", "B": "two words"])
    try expectVars("A=\"x\"\r\nB='y'\r\nC=z # c\r\nD=\"1\r\n2\"\r\nE='1\r\n2'\r\nF=last",
      ["A": "x", "B": "y", "C": "z", "D": "1\n2", "E": "1\n2", "F": "last"])
    try expectVars("A=\"x\\r\\ny\"\r\n", ["A": "x\r\ny"])
    try expectVars("# comment\r\nexport A=1\r\n", ["A": "1"])
    expectError("A=1\r\nB=2\rC=3\r\n", line: 2)
    expectError("A=1\r", line: 1)
    expectError("A=\"x\ry\"\n", line: 1)
    expectError("# comment\r\n#\r", line: 2)
    // A CR in a value is written escaped, so the file has no lone CR.
    let file = DotEnvSerializer.serialize([(name: "A", value: SecretValue("x\ry\r\n"))])
    #expect(!file.contains(0x0D))
    #expect(try Support.parse(bytes: file).document.value(of: "A") == SecretValue("x\ry\r\n"))
  }

  // F11 encoding:unicode — exact bytes in and out; invalid UTF-8 is an error naming the line.
  @Test func f11Unicode() throws {
    try expectVars("NAME=Zoë\nCITY=Köln\nPASS=пароль-fake", ["NAME": "Zoë", "CITY": "Köln", "PASS": "пароль-fake"])
    // NFC and NFD stay distinct byte sequences (Swift's String == would call them equal).
    let document = try Support.parse("NFC=\u{E9}\nNFD=e\u{301}\n").document
    #expect(document.value(of: "NFC")?.reveal() == [0xC3, 0xA9])
    #expect(document.value(of: "NFD")?.reveal() == [0x65, 0xCC, 0x81])
    try expectVars("A='中 😀 👩‍👩‍👧'\nB=\"e\u{301}\"\n", ["A": "中 😀 👩‍👩‍👧", "B": "e\u{301}"])
    // BOM: one leading BOM is dropped (and kept on lossless output).
    try expectVars(bytes: [0xEF, 0xBB, 0xBF] + Array("A=1\n".utf8), ["A": "1"])
    expectError(bytes: [0xEF, 0xBB, 0xBF, 0xEF, 0xBB, 0xBF] + Array("A=1\n".utf8), line: 1)
    // Invalid UTF-8 anywhere, any kind: an error on the line of the bad byte.
    let bad: [[UInt8]] = [[0xE9], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0x80], [0xFF]]
    for sequence in bad {
      expectError(bytes: Array("A=1\nB=caf".utf8) + sequence + Array("\nC=3\n".utf8), line: 2)
      expectError(bytes: Array("# c".utf8) + sequence + Array("\nA=1\n".utf8), line: 1)
      expectError(bytes: Array("A=1\nB=\"x\ny".utf8) + sequence + Array("\"\n".utf8), line: 3)
    }
    expectError(bytes: Array("A=1\nB=".utf8) + [0xE2, 0x82], line: 2)  // truncated at end of file
  }

  // F12 whitespace — quoted values keep every space; unquoted values are trimmed.
  @Test func f12Whitespace() throws {
    try expectVars("foo=\"    some value      \"\nbar=\"x\"  \nbaz=  unquoted  ",
      ["foo": "    some value      ", "bar": "x", "baz": "unquoted"])
    try expectVars("A='  x  '\t\nB=\"\tx\t\" # c\nC=\t a b \t\nD = ' '\n", ["A": "  x  ", "B": "\tx\t", "C": "a b", "D": " "])
    for text in ["  lead", "trail  ", " both ", "\t", " ", "a\t"] {
      let encoded = DotEnvSerializer.encode(SecretValue(text))
      #expect(encoded.hasPrefix("'") || encoded.hasPrefix("\""), "\(text.debugDescription) must be quoted")
      let file = DotEnvSerializer.serialize([(name: "K", value: SecretValue(text))])
      #expect(try Support.parse(bytes: file).document.value(of: "K") == SecretValue(text))
    }
  }

  // F14 key-names — one rule, the whole import aborts, the error names file:line and the key.
  @Test func f14KeyNames() throws {
    expectError("go-version=1.22\nGOOD_KEY=x\n9LIVES=y\nGITHUB_TOKEN_X=z", line: 3, naming: ["9LIVES"])
    try expectVars("go-version=1.22\nGOOD_KEY=x\nGITHUB_TOKEN_X=z",
      ["go-version": "1.22", "GOOD_KEY": "x", "GITHUB_TOKEN_X": "z"])
    try expectVars("a.b-c_D=1\n_=2\nexport _x=3\n", ["a.b-c_D": "1", "_": "2", "_x": "3"])
    expectError("-A=1\n", line: 1, naming: ["-A"])
    expectError("A=1\n.A=1\n", line: 2, naming: [".A"])
    expectError("export 9X=1\n", line: 1, naming: ["9X"])
    expectError("A B=1\n", line: 1)
    expectError("A=1\n=2\n", line: 2)
    expectError("A=1\nKEY: value\n", line: 2)
    expectError("A=1\nexport\n", line: 2)
    expectError("A=1\nexport NOPE\n", line: 2, naming: ["NOPE"])
    try expectVars("A=1\nexport A\nexport=2\n", ["A": "1", "export": "2"])
  }

  // F15 export:shell-escaping — shell-special characters survive the writer (also read by sh and
  // python-dotenv in RoundTripTests).
  @Test func f15ShellSpecialCharacters() throws {
    let text = "pa$$w0rd`x` \"q\" two words"
    let value = SecretValue(text)
    #expect(DotEnvSerializer.encode(value) == "'\(text)'")
    let file = DotEnvSerializer.serialize([(name: "DB_PASS", value: value)])
    #expect(try Support.parse(bytes: file).document.value(of: "DB_PASS") == value)
    for other in ["$(rm -rf x)", "`id`", "a;b|c&d", "$HOME", "!x", "*", "~", "a\\$b", "'; echo x; '"] {
      let written = DotEnvSerializer.serialize([(name: "K", value: SecretValue(other))])
      #expect(try Support.parse(bytes: written).document.value(of: "K") == SecretValue(other), "\(other)")
    }
  }
}
