/// Why a value looks like a placeholder rather than a real secret: `changeme`, `your-api-key-here`, `<token>`,
/// `xxxxxxxx`, `TODO`, `sk-...`, or the manifest's own `example:` (which is also what `coffer template` writes).
///
/// The description names the rule, never the value or a part of it.
public enum Placeholder: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
  /// The value equals the manifest's `example:` for this secret, which is also the template's value.
  case manifestExample = "it equals the manifest's example, which is also the template's value"
  /// A well-known placeholder word (`changeme`, `TODO`, `example`, `password`, …), ignoring case and separators.
  case knownWord = "a well-known placeholder word"
  /// An instruction to fill something in (`your-api-key-here`, `insert_token`, `replace-me`).
  case instruction = "an instruction to fill in a value"
  /// Text in angle brackets (`<api key>`).
  case angleBrackets = "text in angle brackets"
  /// An unexpanded reference (`${OPENAI_API_KEY}`, `{{ token }}`, `$TOKEN`, `%TOKEN%`).
  case variableReference = "an unexpanded variable reference"
  /// Only one character, repeated (`xxxxxxxx`, `********`, `00000000`), or a value ending in 6 or more `x` or `*`.
  case masked = "masked or repeated filler characters"
  /// The value ends with `...` or `…` (`sk-...`).
  case ellipsis = "it ends with an ellipsis"
  /// The value ends with `EXAMPLE` or `EXAMPLEKEY`, as the keys in AWS documentation do.
  case documentationExample = "it ends with EXAMPLE, as documentation keys do"

  /// The phrase that follows "is a placeholder: ".
  public var description: String { rawValue }

  /// Placeholder words, compared after lowercasing and removing spaces, `-`, `_` and `.`.
  static let words: Set<String> = [
    "changeme", "changethis", "changeit", "changemeplease", "replaceme", "replacethis", "todo", "tbd", "fixme",
    "example", "examplekey", "examplesecret", "exampletoken", "placeholder", "secret", "password", "passwd", "pass",
    "dummy", "dummykey", "sample", "samplekey", "test", "testing", "testkey", "testsecret", "testtoken", "null",
    "none", "nil", "undefined", "empty", "default", "foo", "bar", "baz", "foobar", "abc", "abc123", "123", "1234",
    "12345", "123456", "12345678", "123456789", "qwerty", "letmein", "admin", "mysecret", "mypassword", "secretkey",
    "apikey", "token", "key", "value", "fake", "notset", "unset", "redacted", "hidden", "mysecretkey", "supersecret",
    "secret123", "password123", "notasecret", "xxx", "na",
  ]

  /// Word starts that mark a value as unfinished even with more text after them (`TODO: ask ops`), when the next
  /// character is not a letter or digit.
  static let leadingWords = [
    "todo", "fixme", "tbd", "changeme", "change-me", "change_me", "change me", "replaceme", "replace-me",
    "replace_me", "replace me",
  ]

  /// The first rule the value breaks, if any.
  ///
  /// Rules, in order: equal to `example` (byte for byte); a placeholder word; an instruction (`your…`, `insert…`,
  /// `enter…`, `replace…`, `put…` naming a key, token, secret or password, or ending in `here`); angle brackets; a
  /// variable reference; filler characters; an ellipsis; a documentation key. Surrounding spaces are ignored.
  /// O(n) in the value's length.
  /// - Parameters:
  ///   - value: the value.
  ///   - example: the manifest's `example:` for this secret, if any.
  /// - Returns: the rule, or `nil` when the value does not look like a placeholder.
  public static func detect(_ value: SecretValue, example: String?) -> Placeholder? {
    let bytes = value.reveal()
    if let example, !example.isEmpty, bytes == Array(example.utf8) { return .manifestExample }
    guard let text = String(validating: bytes, as: UTF8.self) else { return nil }
    let trimmed = Substring(text).trimmingSpaces()
    guard !trimmed.isEmpty else { return nil }
    let lower = trimmed.lowercased()
    // The separators are ASCII, so they are dropped from the UTF-8 bytes: filtering the `UnicodeScalarView` built
    // its result one scalar at a time and made `check` spend a third of its time here (docs/performance.md).
    let squeezed = String(decoding: lower.utf8.filter { $0 != 0x20 && $0 != 0x2D && $0 != 0x5F && $0 != 0x2E }, as: UTF8.self)
    if words.contains(squeezed) { return .knownWord }
    for word in leadingWords where lower.hasPrefix(word) {
      let next = lower.unicodeScalars.dropFirst(word.unicodeScalars.count).first
      if next.map({ !ManifestSyntax.isAlpha($0) && !ManifestSyntax.isDigit($0) }) ?? true { return .knownWord }
    }
    if isInstruction(squeezed) { return .instruction }
    if trimmed.first == "<", trimmed.last == ">", trimmed.count >= 3 { return .angleBrackets }
    if isReference(trimmed) { return .variableReference }
    if isFiller(trimmed) { return .masked }
    if trimmed.hasSuffix("...") || trimmed.hasSuffix("…") { return .ellipsis }
    if trimmed.hasSuffix("EXAMPLE") || trimmed.hasSuffix("EXAMPLEKEY") { return .documentationExample }
    return nil
  }

  private static func isInstruction(_ squeezed: String) -> Bool {
    let starts = ["your", "insert", "enter", "replace", "put", "add", "paste", "fill"]
    guard starts.contains(where: { squeezed.hasPrefix($0) }) else { return false }
    if squeezed.hasSuffix("here") { return true }
    return ["key", "token", "secret", "password", "pass", "value", "id"].contains { squeezed.hasSuffix($0) }
  }

  private static func isReference(_ text: Substring) -> Bool {
    if text.hasPrefix("${"), text.hasSuffix("}") { return true }
    if text.hasPrefix("{{"), text.hasSuffix("}}") { return true }
    if text.hasPrefix("%"), text.hasSuffix("%"), text.count >= 3, isIdentifier(text.dropFirst().dropLast()) { return true }
    if text.hasPrefix("$"), text.count >= 2, isIdentifier(text.dropFirst()), text.dropFirst().first?.isNumber == false {
      return true
    }
    return false
  }

  private static func isIdentifier(_ text: Substring) -> Bool {
    !text.isEmpty && text.unicodeScalars.allSatisfy { ManifestSyntax.isAlpha($0) || ManifestSyntax.isDigit($0) || $0 == "_" }
  }

  private static func isFiller(_ text: Substring) -> Bool {
    var first: Unicode.Scalar?
    var count = 0
    var same = true
    for scalar in text.unicodeScalars where scalar != "-" {
      if first == nil { first = scalar } else if scalar != first { same = false }
      count += 1
    }
    if count >= 3, same { return true }
    var masked = 0
    for scalar in text.unicodeScalars.reversed() {
      guard scalar == "x" || scalar == "X" || scalar == "*" || scalar == "•" else { break }
      masked += 1
      if masked >= 6 { return true }
    }
    return false
  }
}

extension Substring {
  /// The text without leading and trailing ASCII spaces, tabs and line breaks.
  func trimmingSpaces() -> Substring {
    let spaces: Set<Character> = [" ", "\t", "\n", "\r", "\r\n"]
    var result = self
    while let first = result.first, spaces.contains(first) { result = result.dropFirst() }
    while let last = result.last, spaces.contains(last) { result = result.dropLast() }
    return result
  }
}
