import CofferCore
import CofferDotEnv
import Foundation
import Testing

/// Writing rules: `parse(serialize(v)) == v`, the chosen form, and portability of the single-quote form.
@Suite("dotenv writing rules")
struct RoundTripTests {
  /// Pieces rich in everything that is special somewhere.
  static let alphabet: [String] = [
    "\n", "\r", "\r\n", "\t", "'", "\"", "\\", "$", "{", "}", "#", "=", " ", "  ", "`", "${", "$(", ")", "$$",
    "\\n", "\\$", " #", "é", "e\u{301}", "中", "😀", "👩‍👩‍👧", "\u{FEFF}", "a", "Z", "0", "_", "-", ".", "/",
    ":", "@", "%", "+", ",", "export ", "A=", "'\"",
  ]

  static func randomValue(_ rng: inout SplitMix64) -> String {
    let length = Int(rng.next() % 14)
    var text = ""
    for _ in 0..<length {
      text += alphabet[Int(rng.next() % UInt64(alphabet.count))]
    }
    return text
  }

  static func isBare(_ bytes: [UInt8]) -> Bool {
    !bytes.isEmpty
      && bytes.allSatisfy { byte in
        (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
          || Array("_./:@%+,=-".utf8).contains(byte)
      }
  }

  /// The form the writing rules require for a value.
  static func checkForm(_ value: [UInt8], _ encoded: String) {
    let text = Array(encoded.utf8)
    let hasDollarBrace = zip(value, value.dropFirst()).contains { $0 == 0x24 && $1 == 0x7B }
    let hasDoubleBackslash = zip(value, value.dropFirst()).contains { $0 == 0x5C && $1 == 0x5C }
    if isBare(value) {
      #expect(text == value, "bare expected")
    } else if !value.contains(0x27) && !value.contains(0x0D) && !hasDollarBrace && !hasDoubleBackslash
      && value.last != 0x5C
    {
      #expect(text == [0x27] + value + [0x27], "single quotes expected")
      #expect(DotEnvSerializer.differingReaders(SecretValue(value)).isEmpty, "single quotes are portable")
    } else {
      #expect(text.first == 0x22 && text.last == 0x22, "double quotes expected")
      #expect(!text.contains(0x0D), "CR must be escaped")
      // Every `$` and backtick is escaped, so a shell sourcing the file never expands or runs anything.
      var escaped = false
      for byte in text.dropFirst().dropLast() {
        if !escaped { #expect(byte != 0x60 && byte != 0x24 && byte != 0x22, "unescaped special character") }
        escaped = !escaped && byte == 0x5C
      }
    }
  }

  @Test func randomValuesRoundTrip() throws {
    var rng = SplitMix64(seed: 0xC0FFEE)
    var entries: [(name: String, value: SecretValue)] = []
    for index in 0..<5000 {
      let value = SecretValue(Self.randomValue(&rng))
      let file = DotEnvSerializer.serialize([(name: "K", value: value)])
      let encoded = DotEnvSerializer.encode(value)
      Self.checkForm(value.reveal(), encoded)
      #expect(file == Array("K=\(encoded)\n".utf8))
      let result = try Support.parse(bytes: file)
      #expect(result.document.value(of: "K") == value, "case \(index) (seed 0xC0FFEE)")
      #expect(result.document.names == ["K"])
      #expect(result.warnings.isEmpty, "case \(index): \(result.warnings)")
      entries.append((name: "K\(index)", value: value))
    }
    // All of them in one file: no entry bleeds into the next.
    let file = DotEnvSerializer.serialize(entries)
    #expect(!file.starts(with: [0xEF, 0xBB, 0xBF]))
    #expect(file.last == 0x0A)
    let document = try Support.parse(bytes: file).document
    #expect(document.names == entries.map(\.name))
    for entry in entries { #expect(document.value(of: entry.name) == entry.value, "\(entry.name)") }
  }

  @Test func edgeValuesRoundTrip() throws {
    let values = [
      "", " ", "  lead", "trail  ", "\n", "\r", "\r\n", "\\", "\\\\", "'", "\"", "$", "${", "$$", "${A}", "$A",
      "#", " #", "x #y", "=", "==", "a=b==", "`", "\u{0}", "\u{7F}", "\t", "\\n", "\"\n'", "\\\n", "é", "e\u{301}",
      "end\\", "'$(x)'", "${A:-b}", "line1\nline2\n", "-----BEGIN X-----\nAAA\n-----END X-----\n",
    ]
    for text in values {
      let value = SecretValue(text)
      let encoded = DotEnvSerializer.encode(value)
      Self.checkForm(value.reveal(), encoded)
      let document = try Support.parse(bytes: DotEnvSerializer.serialize([(name: "K", value: value)])).document
      #expect(document.value(of: "K")?.reveal() == value.reveal(), "value \(text.debugDescription)")
    }
  }

  @Test func chosenForms() {
    #expect(DotEnvSerializer.encode(SecretValue("abc123")) == "abc123")
    #expect(DotEnvSerializer.encode(SecretValue("a=b==")) == "a=b==")
    #expect(DotEnvSerializer.encode(SecretValue("")) == "''")
    #expect(DotEnvSerializer.encode(SecretValue("a b")) == "'a b'")
    #expect(DotEnvSerializer.encode(SecretValue("pa$$w$rd")) == "'pa$$w$rd'")
    #expect(DotEnvSerializer.encode(SecretValue("l1\nl2")) == "'l1\nl2'")
    #expect(DotEnvSerializer.encode(SecretValue("it's")) == #""it's""#)
    #expect(DotEnvSerializer.encode(SecretValue(#"C:\dir\"#)) == #""C:\\dir\\""#)
    #expect(DotEnvSerializer.encode(SecretValue("it's $5")) == #""it's \$5""#)
    #expect(DotEnvSerializer.encode(SecretValue("x${A}")) == #""x\${A}""#)
    #expect(DotEnvSerializer.encode(SecretValue("a\rb")) == #""a\rb""#)
    #expect(DotEnvSerializer.encode(SecretValue(#"test\test"#)) == #"'test\test'"#)
    #expect(DotEnvSerializer.encode(SecretValue(#"a\\b"#)) == #""a\\\\b""#)
    #expect(DotEnvSerializer.encode(SecretValue("it's `id`")) == #""it's \`id\`""#)
    #expect(DotEnvSerializer.encode(SecretValue("`id` $(id)")) == "'`id` $(id)'")
    #expect(DotEnvSerializer.encode(SecretValue(#"say "hi" it's"#)) == #""say \"hi\" it's""#)
  }

  @Test func validNames() {
    for name in ["A", "a", "_", "A_B", "A.B", "A-B", "go-version", "x9"] {
      #expect(DotEnvSerializer.isValidName(name), "\(name)")
    }
    for name in ["", "9LIVES", "1A", "-A", ".A", "A B", "A$B", "A[0]", "ÉTÉ", "A=B", "A:B", "'A'"] {
      #expect(!DotEnvSerializer.isValidName(name), "\(name)")
    }
  }

  /// Values the writer puts in bare or single-quote form; every reader in the corpus reads those identically.
  static let portableValues: [String] = [
    "abc123", "https://h/p?x=1&y=2#frag", "  lead and trail  ", "abc#123", "#FF0000", "pa$$w$rd $(echo no)",
    "line1\nline2\n", "say \"hi\"", "`cmd`", "", "a=b==", "a\tb", "Zoë Köln пароль 中 😀 e\u{301}",
    "{\"field1\":\"v1\", \"field2\": \"stops here#kept-too\"}", "$HOME", "pa$$w0rd`x` \"q\" two words",
    "-----BEGIN FAKE KEY-----\nAAAA\n-----END FAKE KEY-----",
  ]

  @Test func pythonDotenvReadsWhatWeWrite() throws {
    // Skip when python-dotenv is not installed.
    guard let probe = try? Support.run(["python3", "-c", "import dotenv"]), probe.status == 0 else { return }
    let entries = Self.portableValues.enumerated().map { (name: "K\($0.offset)", value: SecretValue($0.element)) }
    for entry in entries {
      let encoded = DotEnvSerializer.encode(entry.value)
      #expect(encoded.first != "\"", "portable values must not need double quotes")
    }
    let path = try Support.temporaryFile(DotEnvSerializer.serialize(entries))
    defer { try? FileManager.default.removeItem(atPath: path) }
    let script = """
      import json, sys
      from dotenv import dotenv_values
      values = dotenv_values(sys.argv[1])
      sys.stdout.write(json.dumps({k: list(v.encode("utf-8")) for k, v in values.items()}))
      """
    let result = try Support.run(["python3", "-c", script, path])
    #expect(result.status == 0)
    let object = try JSONSerialization.jsonObject(with: Data(result.output)) as? [String: [Int]]
    let read = try #require(object)
    #expect(read.count == entries.count)
    for entry in entries {
      #expect(read[entry.name]?.map { UInt8($0) } == entry.value.reveal(), "python-dotenv read \(entry.name)")
    }
  }

  /// F15's kind: the single-quote form is also what `set -a; . FILE` reads in a POSIX shell.
  @Test func posixShellReadsWhatWeWrite() throws {
    guard let probe = try? Support.run(["sh", "-c", "exit 0"]), probe.status == 0 else { return }
    let entries = Self.portableValues.enumerated().map { (name: "K\($0.offset)", value: SecretValue($0.element)) }
    let path = try Support.temporaryFile(DotEnvSerializer.serialize(entries))
    defer { try? FileManager.default.removeItem(atPath: path) }
    let printed = entries.map { "\"$\($0.name)\"" }.joined(separator: " ")
    let result = try Support.run(["sh", "-c", "set -a; . \"$0\"; printf '%s\\0' \(printed)", path])
    #expect(result.status == 0)
    let fields = result.output.split(separator: 0, omittingEmptySubsequences: false).dropLast().map(Array.init)
    #expect(fields.count == entries.count)
    for (entry, field) in zip(entries, fields) {
      #expect(field == entry.value.reveal(), "sh read \(entry.name)")
    }
  }
}
