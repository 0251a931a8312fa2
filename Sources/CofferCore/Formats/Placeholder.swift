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
    detect(value.reveal(), example: example, bytewise: true)
  }

  /// ``detect(_:example:)`` of raw bytes; `bytewise: false` skips the byte-level path for printable ASCII, so
  /// that tests can check the two paths agree.
  static func detect(_ bytes: [UInt8], example: String?, bytewise: Bool) -> Placeholder? {
    if let example, !example.isEmpty, bytes.elementsEqual(example.utf8) { return .manifestExample }
    if bytewise, let verdict = bytes.withUnsafeBufferPointer(printableASCII) { return verdict }
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

  /// The rules after `example`, on bytes, for a value that is printable ASCII once its surrounding spaces, tabs and
  /// line breaks are trimmed; `.none` for any other value (the `String` rules then apply). For such a value a
  /// `Character` is one byte, so each rule below is the `String` rule of ``detect(_:example:)`` exactly; checking
  /// 1,000 values this way costs a tenth of building, lowercasing and comparing `String`s (docs/performance.md).
  static func printableASCII(_ all: UnsafeBufferPointer<UInt8>) -> Placeholder?? {
    func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }
    var start = 0
    var end = all.count
    while start < end, isSpace(all[start]) { start += 1 }
    while end > start, isSpace(all[end - 1]) { end -= 1 }
    guard start < end else { return .some(nil) }
    let t = UnsafeBufferPointer(rebasing: all[start..<end])
    for b in t where b < 0x20 || b > 0x7E { return nil }
    func lower(_ b: UInt8) -> UInt8 { b >= 0x41 && b <= 0x5A ? b | 0x20 : b }
    func isAlnum(_ b: UInt8) -> Bool { (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) }
    func hasPrefix(_ p: StaticString) -> Bool { ByteSearch.hasPrefix(t, p) }
    func hasSuffix(_ p: StaticString) -> Bool { ByteSearch.hasSuffix(t, p) }
    // The first 17 squeezed bytes (lowercased, without spaces, `-`, `_` and `.`), on the stack: whether they are a
    // word (the longest is 14 bytes), and whether they start an instruction.
    let (isWord, startsInstruction) = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 17) { buffer in
      var count = 0
      for b in t where b != 0x20 && b != 0x2D && b != 0x5F && b != 0x2E {
        buffer[count] = lower(b)
        count += 1
        if count == 17 { break }
      }
      let head = UnsafeBufferPointer(rebasing: buffer[..<count])
      let isWord = count <= 16 && words.contains(String(decoding: head, as: UTF8.self))
      return (isWord, instructionStartBytes.contains { count >= $0.count && head[0] == $0[0] && head.starts(with: $0) })
    }
    if isWord { return .knownWord }
    for w in leadingWordBytes where t.count >= w.count && lower(t[0]) == w[0] {
      guard (1..<w.count).allSatisfy({ lower(t[$0]) == w[$0] }) else { continue }
      if t.count == w.count || !isAlnum(t[w.count]) { return .knownWord }
    }
    if startsInstruction, endsInstruction(t, lower: lower) { return .instruction }
    if t.first == 0x3C, t.last == 0x3E, t.count >= 3 { return .angleBrackets }
    func isIdentifier(_ r: Range<Int>) -> Bool { !r.isEmpty && r.allSatisfy { isAlnum(t[$0]) || t[$0] == 0x5F } }
    if (hasPrefix("${") && t.last == 0x7D) || (hasPrefix("{{") && hasSuffix("}}"))
      || (t.first == 0x25 && t.last == 0x25 && t.count >= 3 && isIdentifier(1..<(t.count - 1)))
      || (t.first == 0x24 && t.count >= 2 && isIdentifier(1..<t.count) && !(t[1] >= 0x30 && t[1] <= 0x39))
    {
      return .variableReference
    }
    // Filler: one character repeated (`-` ignored) at least 3 times, or 6 trailing `x`, `X` or `*`.
    var first: UInt8?
    var count = 0
    var same = true
    for b in t where b != 0x2D {
      if first == nil { first = b } else if b != first { same = false }
      count += 1
    }
    if count >= 3, same { return .masked }
    var masked = 0
    for b in t.reversed() {
      guard b == 0x78 || b == 0x58 || b == 0x2A else { break }
      masked += 1
      if masked >= 6 { return .masked }
    }
    if hasSuffix("...") { return .ellipsis }
    if hasSuffix("EXAMPLE") || hasSuffix("EXAMPLEKEY") { return .documentationExample }
    return .some(nil)
  }

  /// The end of ``isInstruction(_:)`` on the trimmed bytes: the squeezed text ends with `here` or names what to fill
  /// in (its start is checked by the caller).
  private static func endsInstruction(_ t: UnsafeBufferPointer<UInt8>, lower: (UInt8) -> UInt8) -> Bool {
    // The squeezed bytes' last 8 (every end word is shorter).
    var tail: [UInt8] = []
    for b in t.reversed() where b != 0x20 && b != 0x2D && b != 0x5F && b != 0x2E {
      tail.append(lower(b))
      if tail.count == 8 { break }
    }
    tail.reverse()
    return instructionEnds.contains { tail.count >= $0.utf8.count && tail.suffix($0.utf8.count).elementsEqual($0.utf8) }
  }

  static let instructionStarts = ["your", "insert", "enter", "replace", "put", "add", "paste", "fill"]
  /// ``instructionStarts`` and ``leadingWords`` as bytes, for ``printableASCII(_:)``.
  static let instructionStartBytes = instructionStarts.map { Array($0.utf8) }
  static let leadingWordBytes = leadingWords.map { Array($0.utf8) }
  static let instructionEnds = ["here", "key", "token", "secret", "password", "pass", "value", "id"]

  private static func isInstruction(_ squeezed: String) -> Bool {
    guard instructionStarts.contains(where: { squeezed.hasPrefix($0) }) else { return false }
    return instructionEnds.contains { squeezed.hasSuffix($0) }
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
