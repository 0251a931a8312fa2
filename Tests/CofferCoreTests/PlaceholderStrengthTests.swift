import CofferTesting
@testable import CofferCore
import Testing

/// Placeholder values and weak generated secrets.
@Suite struct PlaceholderStrengthTests {
  static let placeholders: [(String, Placeholder)] = [
    ("changeme", .knownWord), ("CHANGE_ME", .knownWord), ("change-me-later", .knownWord), ("TODO", .knownWord),
    ("TODO: ask ops", .knownWord), ("example", .knownWord), ("password", .knownWord), ("  secret \n", .knownWord),
    ("your-api-key-here", .instruction), ("YOUR_OPENAI_API_KEY", .instruction), ("insert_token", .instruction),
    ("<your token>", .angleBrackets), ("<...>", .angleBrackets), ("${OPENAI_API_KEY}", .variableReference),
    ("{{ secrets.TOKEN }}", .variableReference), ("$TOKEN", .variableReference), ("%TOKEN%", .variableReference),
    ("xxxxxxxx", .masked), ("XXXX-XXXX-XXXX", .masked), ("sk-xxxxxxxxxxxxxxxx", .masked), ("********", .masked),
    ("00000000", .masked), ("sk-...", .ellipsis), ("xoxb-…", .ellipsis), ("pat-na1-...", .ellipsis),
    ("AKIAIOSFODNN7EXAMPLE", .documentationExample), ("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", .documentationExample),
  ]

  @Test(arguments: placeholders)
  func placeholderIsRecognized(_ value: String, _ expected: Placeholder) {
    #expect(Placeholder.detect(SecretValue(value), example: nil) == expected)
  }

  @Test func manifestExampleIsAPlaceholderEvenWhenItLooksReal() {
    let example = "postgresql://user:password@localhost:5432/sophia"
    #expect(Placeholder.detect(SecretValue(example), example: example) == .manifestExample)
    #expect(Placeholder.detect(SecretValue(example + "x"), example: example) == nil)
    #expect(Placeholder.detect(SecretValue("sk-..."), example: "sk-...") == .manifestExample)
  }

  @Test func realLookingValuesAreNotPlaceholders() {
    let values = [
      "hunter2", "todolist-api", "0", "--", "3f9c2b7e8a1d4f6b0c5e9a2d7b4f8e1c", "Tr0ub4dor&3", "enterprise",
      "xoxb-000000000000-0000000000000-FAKEfakeFAKEfakeFAKEfake",
    ] + FormatCatalog.formats.map(\.example)
    for value in values { #expect(Placeholder.detect(SecretValue(value), example: nil) == nil, "\(value.prefix(8))") }
    #expect(Placeholder.detect(SecretValue([0xFF, 0xFE]), example: nil) == nil)
  }

  static let uses: [(String, SecretUse?)] = [
    ("JWT_SECRET", .signingKey), ("JWT_SIGNING_KEY", .signingKey), ("WEBHOOK_SIGNING_SECRET", .signingKey),
    ("SLACK_SIGNING_SECRET", .signingKey), ("SESSION_SECRET", .sessionSecret), ("SESSION_KEY", .sessionSecret),
    ("APP_SESSION_SECRET", .sessionSecret), ("DATA_ENCRYPTION_KEY", .encryptionKey), ("ENCRYPTION_KEY", .encryptionKey),
    ("SECRET_KEY", .applicationSecret), ("DJANGO_SECRET_KEY", .applicationSecret),
    ("SECRET_KEY_BASE", .applicationSecret), ("NEXTAUTH_SECRET", .applicationSecret), ("secret", .applicationSecret),
    ("GONG_CLIENT_SECRET", nil), ("JWT_PUBLIC_KEY", nil), ("JWT_EXPIRES_IN", nil), ("SESSION_TTL", nil),
    ("OPENAI_API_KEY", nil), ("SECRETARY_NAME", nil), ("LOG_LEVEL", nil),
  ]

  @Test(arguments: uses)
  func useIsInferredFromTheName(_ name: String, _ expected: SecretUse?) {
    #expect(SecretUse.inferred(fromName: name) == expected)
  }

  /// Exact estimates; the method is in ``StrengthEstimate``'s documentation.
  static let estimates: [(String, Int, Int)] = [
    ("3f9c2b7e8a1d4f6b0c5e9a2d7b4f8e1c", 32, 128),  // 32 random hex digits: 4 bits each
    ("q3Jr7Yp0tV9mW2xZ4bN8cD1fG6hK5jL0sA9eR3uT7iQ=", 44, 289),  // 32 random bytes in base64
    ("too-short-fake", 14, 42),  // t o o, -, word, repeated -, word
    (String(repeating: "a", count: 40), 40, 27),  // 5 characters, then one copy
    ("0123456789abcdef0123456789abcdef", 32, 23),  // a sequence, then a copy
    ("my-super-secret-jwt-key-for-dev-2024", 36, 101),
    ("hunter2", 7, 36),
    ("FAKEfake00FAKEfake00FAKEfake00FAKEfake00", 40, 37),
  ]

  @Test(arguments: estimates)
  func estimateIsExact(_ value: String, _ characters: Int, _ bits: Int) {
    #expect(StrengthEstimate.estimate(SecretValue(value)) == StrengthEstimate(characters: characters, bits: bits))
  }

  @Test func bytesThatAreNotTextCountEightBitsEach() {
    #expect(StrengthEstimate.estimate(SecretValue([UInt8](repeating: 0xFF, count: 16))) == StrengthEstimate(characters: 16, bits: 128))
  }

  @Test func randomValuesOfTheRequiredSizeAreNotWeak() {
    var generator = SeededGenerator(seed: 42)
    for _ in 0..<200 {
      for charset in SecretCharset.allCases {
        let value = SecretGenerator.generate(byteCount: 32, charset: charset, using: &generator)
        #expect(StrengthEstimate.estimate(value).bits >= 128, "\(charset)")
      }
      // At exactly 128 bits, hex and base64 still score 128 or more.
      for charset in [SecretCharset.hex, .base64] {
        let value = SecretGenerator.generate(byteCount: 16, charset: charset, using: &generator)
        #expect(StrengthEstimate.estimate(value).bits >= 128, "\(charset)")
      }
    }
  }

  /// The byte-level rules for printable ASCII give what the `String` rules give, on every placeholder above and on
  /// 40,000 values assembled from the rules' own pieces (words, separators, brackets, fillers, line breaks and
  /// non-ASCII text, which must take the `String` path). Fails when a byte rule drifts from its `String` rule.
  @Test func theByteRulesAgreeWithTheTextRules() {
    let pieces = [
      "your", "YOUR", "api", "key", "here", "Key", "token", "secret", "password", "pass", "value", "id", "insert",
      "enter", "replace", "put", "add", "paste", "fill", "todo", "TODO", "fixme", "tbd", "change", "me", "changeme",
      "example", "EXAMPLE", "KEY", "test", "abc", "123", "0", "9", "a", "Z", "x", "X", "*", "xxxxxx", "-", "_", ".",
      " ", "  ", "$", "${", "{", "}", "{{", "}}", "%", "<", ">", "...", ":", "/", "=", "+", "\t", "\n", "\r\n", "\r",
      "é", "e\u{301}", "•", "…", "ß", "\u{7F}", "\u{0}", "sk-", "xoxb-", "AKIA",
    ]
    var rng = SeededGenerator(seed: 16)
    var values = Self.placeholders.map(\.0) + ["", " ", "\t\n", "$1", "$_", "%%", "%a%", "<>", "<a>", "{{}}", "${}"]
    for _ in 0..<40_000 {
      values.append((0..<Int.random(in: 1...5, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined())
    }
    var disagreements: [String] = []
    for value in values {
      let bytes = Array(value.utf8)
      let fast = Placeholder.detect(bytes, example: nil, bytewise: true)
      let text = Placeholder.detect(bytes, example: nil, bytewise: false)
      if fast != text { disagreements.append("\(value.debugDescription): \(String(describing: fast)) vs \(String(describing: text))") }
    }
    #expect(disagreements.isEmpty, "\(disagreements.prefix(10))")
    // Both paths are taken.
    #expect(values.contains { Array($0.utf8).withUnsafeBufferPointer(Placeholder.printableASCII) != nil })
    #expect(values.contains { Array($0.utf8).withUnsafeBufferPointer(Placeholder.printableASCII) == nil })
  }

  /// The ASCII path (uppercased on the stack) gives what the path for any name (uppercased as a `String`) gives, on
  /// 40,000 names assembled from the rules' own pieces in both cases; a name outside ASCII takes the `String` path.
  @Test func theASCIINameRulesAgreeWithTheTextRules() {
    let pieces = [
      "JWT", "jwt", "SESSION", "session", "SECRET", "secret", "KEY", "key", "PUBLIC", "public", "CLIENT", "SIGNING",
      "ENCRYPTION", "BASE", "base", "_", "_", "_", "A", "b", "1", "API", "TOKEN", "Jwt_", "Secret_Key",
    ]
    var rng = SeededGenerator(seed: 10)
    var names = ["", "_", "SECRET", "SECRET_KEY", "SECRET_KEY_BASE", "secret_key_base", "X_SECRET", "JWT_KEY"]
    for _ in 0..<40_000 {
      names.append((0..<Int.random(in: 1...5, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined())
    }
    var disagreements: [String] = []
    for name in names {
      let bytes = Array(name.utf8)
      let fast = bytes.withUnsafeBufferPointer(SecretUse.asciiInferred)
      if fast != .some(SecretUse.inferredText(name)) { disagreements.append("\(name): \(String(describing: fast))") }
    }
    #expect(disagreements.isEmpty, "\(disagreements.prefix(10))")
    #expect(names.contains { SecretUse.inferred(fromName: $0) == .applicationSecret })
    #expect(names.contains { SecretUse.inferred(fromName: $0) == .signingKey })
    #expect(names.contains { SecretUse.inferred(fromName: $0) == .sessionSecret })
    #expect(names.contains { SecretUse.inferred(fromName: $0) == .encryptionKey })
    #expect(Array("straße_secret".utf8).withUnsafeBufferPointer(SecretUse.asciiInferred) == nil)
    #expect(SecretUse.inferred(fromName: "straße_secret") == .applicationSecret)
  }

  /// ASCII lengths counted on bytes are `String.count`: CR LF is one character, every other byte one.
  @Test func asciiLengthsAreCharacterCounts() {
    var rng = SeededGenerator(seed: 11)
    let alphabet: [UInt8] = Array("ab1 \r\n\t-".utf8)
    for _ in 0..<5_000 {
      let bytes = (0..<Int.random(in: 0...12, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }
      #expect(Checker.asciiCharacterCount(bytes) == String(decoding: bytes, as: UTF8.self).count, "\(bytes)")
    }
    #expect(Checker.asciiCharacterCount(Array("é".utf8)) == nil)
  }
}
