import CofferCore

/// Reads `.env` files by Coffer's reading rules (docs/dotenv.md).
public enum DotEnvParser {
  /// Parses a whole `.env` file.
  ///
  /// Works on bytes: UTF-8 is validated, one leading BOM is dropped, CRLF is read as LF (lone CR is an error).
  /// Expansion (`$NAME`, `${NAME…}`) uses only keys assigned earlier in the same file, never the environment.
  ///
  /// - Parameters:
  ///   - bytes: the file's exact contents.
  ///   - file: the path to name in diagnostics.
  /// - Returns: the lossless document and any warnings (duplicate keys, `$(...)` kept literally).
  /// - Throws: ``DotEnvError`` naming the first offending line; the whole file is refused.
  public static func parse(_ bytes: [UInt8], file: String) throws(DotEnvError) -> DotEnvParseResult {
    var parser = Parser(file: file, input: bytes)
    return try parser.run()
  }
}

// MARK: - Implementation

private enum Byte {
  static let tab: UInt8 = 0x09
  static let lf: UInt8 = 0x0A
  static let cr: UInt8 = 0x0D
  static let space: UInt8 = 0x20
  static let doubleQuote: UInt8 = 0x22
  static let hash: UInt8 = 0x23
  static let dollar: UInt8 = 0x24
  static let singleQuote: UInt8 = 0x27
  static let openParen: UInt8 = 0x28
  static let closeParen: UInt8 = 0x29
  static let plus: UInt8 = 0x2B
  static let minus: UInt8 = 0x2D
  static let colon: UInt8 = 0x3A
  static let equals: UInt8 = 0x3D
  static let question: UInt8 = 0x3F
  static let backslash: UInt8 = 0x5C
  static let openBrace: UInt8 = 0x7B
  static let closeBrace: UInt8 = 0x7D

  static func isBlank(_ byte: UInt8) -> Bool { byte == space || byte == tab }
  static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
  /// `[A-Za-z0-9_]`: characters of a name in an expansion.
  static func isReferenceByte(_ byte: UInt8) -> Bool {
    DotEnvSerializer.isNameStartByte(byte) || isDigit(byte)
  }
}

private let literalDollarHint = "to write a literal $, single-quote the value ('...') or write $$"
private let keyRuleHint = "a key must match [A-Za-z_][A-Za-z0-9_.-]*"
private let lineShapeHint =
  "each line must be NAME=VALUE, `export NAME=VALUE`, a # comment or blank; quote values that span lines"

private struct Parser {
  let file: String
  let input: [UInt8]

  /// Input without BOM, CRLF read as LF.
  var buf: [UInt8] = []
  /// Start of each line in `buf`; one extra element, `buf.count`, at the end.
  var lineStart: [Int] = []
  /// Start of each line in `input`; one extra element, `input.count`, at the end.
  var rawLineStart: [Int] = []

  /// Values assigned so far (for expansion and `export NAME`).
  var assigned: [String: [UInt8]] = [:]
  /// How many more bytes references may substitute in this file (``Expander/substitutionLimit``).
  var substitutionBudget = Expander.substitutionLimit
  /// Line of each key's first assignment, for duplicate warnings.
  var firstLine: [String: Int] = [:]
  var warnings: [DotEnvWarning] = []
  var items: [DotEnvDocument.Item] = []

  init(file: String, input: [UInt8]) {
    self.file = file
    self.input = input
  }

  func error(_ line: Int, _ message: String, hint: String? = nil) -> DotEnvError {
    DotEnvError(file: file, line: line, message: message, hint: hint)
  }

  mutating func run() throws(DotEnvError) -> DotEnvParseResult {
    let hasBOM = input.count >= 3 && input[0] == 0xEF && input[1] == 0xBB && input[2] == 0xBF
    try split(from: hasBOM ? 3 : 0)
    var line = 0
    let lineCount = lineStart.count - 1
    while line < lineCount {
      line = try statement(at: line)
    }
    return DotEnvParseResult(document: DotEnvDocument(items: items, hasBOM: hasBOM), warnings: warnings)
  }

  /// Splits the input into lines, validating UTF-8 and line endings, and builds `buf`.
  mutating func split(from start: Int) throws(DotEnvError) {
    buf.reserveCapacity(input.count - start)
    var i = start
    var lineNumber = 0
    while i < input.count {
      lineNumber += 1
      rawLineStart.append(i)
      lineStart.append(buf.count)
      var j = i
      while j < input.count && input[j] != Byte.lf { j += 1 }
      // input[i..<j] is the line's content (with a CR of a CRLF at its end).
      var contentEnd = j
      if j < input.count && j > i && input[j - 1] == Byte.cr { contentEnd = j - 1 }
      if UTF8Check.firstInvalid(input, from: i, to: contentEnd) != nil {
        throw error(lineNumber, "invalid utf-8 (a .env file must be utf-8 text)", hint: "re-save the file as UTF-8")
      }
      var k = i
      while k < contentEnd {
        if input[k] == Byte.cr {
          throw error(
            lineNumber, "carriage return not followed by a line feed",
            hint: "use LF or CRLF line endings; write a CR inside a value as \\r in double quotes")
        }
        k += 1
      }
      buf.append(contentsOf: input[i..<contentEnd])
      if j < input.count {
        buf.append(Byte.lf)
        i = j + 1
      } else {
        i = j
      }
    }
    rawLineStart.append(input.count)
    lineStart.append(buf.count)
  }

  /// End of line `line`'s content in `buf` (the index of its LF, or `buf.count`).
  func contentEnd(_ line: Int) -> Int {
    let next = lineStart[line + 1]
    return next > lineStart[line] && buf[next - 1] == Byte.lf ? next - 1 : next
  }

  func rawBytes(lines first: Int, through last: Int) -> [UInt8] {
    Array(input[rawLineStart[first]..<rawLineStart[last + 1]])
  }

  func skipBlanks(_ i: inout Int, _ end: Int) {
    while i < end && Byte.isBlank(buf[i]) { i += 1 }
  }

  /// Reads the statement starting at line index `line`; returns the index of the next unread line.
  mutating func statement(at line: Int) throws(DotEnvError) -> Int {
    let number = line + 1
    let start = lineStart[line]
    let end = contentEnd(line)
    var i = start
    skipBlanks(&i, end)
    if i == end || buf[i] == Byte.hash {
      items.append(.init(raw: rawBytes(lines: line, through: line), kind: .trivia))
      return line + 1
    }

    // Optional `export` prefix: `export` + blanks, then something that is not `=` (else `export` is the key).
    var exported = false
    if end - i > 6 && buf[i..<(i + 6)].elementsEqual("export".utf8) && Byte.isBlank(buf[i + 6]) {
      var j = i + 6
      skipBlanks(&j, end)
      if j < end && buf[j] != Byte.equals && buf[j] != Byte.hash {
        exported = true
        i = j
      }
    }

    let keyStart = i
    while i < end && DotEnvSerializer.isNameByte(buf[i]) { i += 1 }
    let keyEnd = i
    if i < end && !Byte.isBlank(buf[i]) && buf[i] != Byte.equals {
      throw invalidKey(number, keyStart: keyStart, lineEnd: end)
    }
    if keyStart == keyEnd {
      throw error(number, "empty key before '='", hint: keyRuleHint)
    }
    if !DotEnvSerializer.isNameStartByte(buf[keyStart]) {
      throw invalidKey(number, keyStart: keyStart, lineEnd: end)
    }
    let name = String(decoding: buf[keyStart..<keyEnd], as: UTF8.self)
    skipBlanks(&i, end)

    if i == end || buf[i] == Byte.hash {
      guard exported else {
        throw error(number, "expected NAME=VALUE, found a line without '='", hint: lineShapeHint)
      }
      guard assigned[name] != nil else {
        throw error(
          number, "export of \(name), which is not assigned earlier in the file",
          hint: "write export \(name)=VALUE, or assign \(name) on an earlier line")
      }
      items.append(.init(raw: rawBytes(lines: line, through: line), kind: .bareExport(name)))
      return line + 1
    }
    guard buf[i] == Byte.equals else {
      throw error(number, "expected '=' after the first word", hint: lineShapeHint)
    }
    i += 1
    skipBlanks(&i, end)

    var value: [UInt8]
    var references: Set<String> = []
    let valueEnd: Int  // in buf: where the suffix (comment, whitespace) starts
    var lastLine = line
    var sawCommand = false

    if i < end && (buf[i] == Byte.singleQuote || buf[i] == Byte.doubleQuote) {
      let quote = buf[i]
      let open = i + 1
      var j = open
      var close: Int?
      while j < buf.count {
        let byte = buf[j]
        if byte == quote {
          close = j
          break
        }
        if byte == Byte.lf { lastLine += 1 }
        if quote == Byte.doubleQuote && byte == Byte.backslash && j + 1 < buf.count {
          if buf[j + 1] == Byte.lf { lastLine += 1 }
          j += 2
          continue
        }
        j += 1
      }
      guard let close else {
        let kind = quote == Byte.singleQuote ? "single" : "double"
        throw error(
          number, "unterminated \(kind)-quoted value of \(name) (the quote opened on this line)",
          hint: "add the closing \(kind == "single" ? "'" : "\"")")
      }
      if quote == Byte.singleQuote {
        value = Array(buf[open..<close])
      } else {
        var expander = Expander(
          buf: buf, position: open, end: close, doubleQuoted: true, key: name, line: number, lineStart: start, file: file,
          assigned: assigned, budget: substitutionBudget)
        value = try expander.expandAll()
        substitutionBudget = expander.budget
        references = expander.references
        sawCommand = expander.sawCommand
      }
      // Rule 8: only blanks and a comment may follow.
      let tailEnd = contentEnd(lastLine)
      var t = close + 1
      skipBlanks(&t, tailEnd)
      if t < tailEnd && buf[t] != Byte.hash {
        throw error(
          number, "unexpected text after the closing quote of \(name)",
          hint: "only spaces and a # comment may follow a quoted value; quote the whole value")
      }
      valueEnd = close + 1
    } else {
      // Unquoted: to end of line; `#` after a blank starts a comment; trimmed.
      var j = i
      var stop = end
      while j < end {
        if buf[j] == Byte.hash && j > start && Byte.isBlank(buf[j - 1]) {
          stop = j
          break
        }
        j += 1
      }
      while stop > i && Byte.isBlank(buf[stop - 1]) { stop -= 1 }
      var expander = Expander(
        buf: buf, position: i, end: stop, doubleQuoted: false, key: name, line: number, lineStart: start, file: file,
        assigned: assigned, budget: substitutionBudget)
      value = try expander.expandAll()
      substitutionBudget = expander.budget
      references = expander.references
      sawCommand = expander.sawCommand
      valueEnd = stop
    }

    if sawCommand {
      warnings.append(
        DotEnvWarning(line: number, message: "$(...) in the value of \(name) is not executed; it is kept as literal text"))
    }
    if let earlier = firstLine[name] {
      warnings.append(
        DotEnvWarning(
          line: number, message: "duplicate key \(name) (first assigned on line \(earlier)); the last assignment wins"))
    } else {
      firstLine[name] = number
    }
    assigned[name] = value
    let assignment = DotEnvDocument.Assignment(
      name: name, value: SecretValue(value), prefix: Array(buf[start..<keyStart]),
      suffix: Array(buf[valueEnd..<contentEnd(lastLine)]), references: references)
    items.append(.init(raw: rawBytes(lines: line, through: lastLine), kind: .assignment(assignment)))
    return lastLine + 1
  }

  /// An invalid-key error. The key is named only when it is a short token directly followed by `=` and made only of
  /// name-like characters (letters, digits, `_ . - [ ]`), so a line of value text (a stray PEM or base64 line with
  /// `+`, `/` or `=`, a pasted secret) is never echoed.
  func invalidKey(_ number: Int, keyStart: Int, lineEnd: Int) -> DotEnvError {
    var j = keyStart
    while j < lineEnd && buf[j] != Byte.equals { j += 1 }
    let token = buf[keyStart..<j]
    let nameLike = token.allSatisfy { c in
      (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F || c == 0x2E
        || c == 0x2D || c == 0x5B || c == 0x5D
    }
    if j < lineEnd && !token.isEmpty && token.count <= 64 && nameLike {
      return error(number, "invalid key '\(String(decoding: token, as: UTF8.self))'", hint: keyRuleHint)
    }
    return error(number, "invalid key or malformed line", hint: keyRuleHint)
  }
}

/// Decodes escapes (double quotes only) and expands references in one value.
private struct Expander {
  /// The deepest `${…}` may nest inside another's word (`${A:-${B:-…}}`): beyond it the file is an attack or a
  /// mistake, and recursion must stay bounded.
  static let maxBraceDepth = 64
  /// The most bytes references may substitute in one file, all values together (64 MiB): a few lines that each
  /// repeat the previous value many times would otherwise grow without bound (the dotenv "billion laughs").
  static let substitutionLimit = 64 << 20

  let buf: [UInt8]
  var position: Int
  let end: Int
  let doubleQuoted: Bool
  let key: String
  let line: Int
  /// Where the assignment's first line starts in `buf`, to locate a `$` by line and column.
  let lineStart: Int
  let file: String
  let assigned: [String: [UInt8]]
  var references: Set<String> = []
  var sawCommand = false
  /// Depth inside `$(...)`: while positive, `$` is literal.
  var parenDepth = 0
  /// Depth inside `${…}`.
  var braceDepth = 0
  /// Bytes references may still substitute (shared by the file's values).
  var budget: Int

  init(
    buf: [UInt8], position: Int, end: Int, doubleQuoted: Bool, key: String, line: Int, lineStart: Int, file: String,
    assigned: [String: [UInt8]], budget: Int
  ) {
    self.lineStart = lineStart
    self.budget = budget
    self.buf = buf
    self.position = position
    self.end = end
    self.doubleQuoted = doubleQuoted
    self.key = key
    self.line = line
    self.file = file
    self.assigned = assigned
  }

  func error(_ message: String, hint: String? = nil) -> DotEnvError {
    DotEnvError(file: file, line: line, message: message, hint: hint)
  }

  /// The line (1-based, in the file) and column (1-based, in characters) of the byte at `offset`. A reference's text
  /// is value text (a password may hold `$abc`), so errors about it give its place instead.
  func location(of offset: Int) -> (line: Int, column: Int) {
    var number = line
    var begin = lineStart
    for k in lineStart..<offset where buf[k] == Byte.lf {
      number += 1
      begin = k + 1
    }
    var column = 1
    for k in begin..<offset where buf[k] & 0xC0 != 0x80 { column += 1 }
    return (number, column)
  }

  /// An error about the reference whose `$` is at `offset`: its line and column and the key, never its text.
  func referenceError(at offset: Int, _ what: String) -> DotEnvError {
    let (number, column) = location(of: offset)
    return DotEnvError(
      file: file, line: number, message: "the $ at column \(column) in the value of \(key) \(what)", hint: literalDollarHint)
  }

  mutating func expandAll() throws(DotEnvError) -> [UInt8] {
    // Fast path: nothing to decode or expand.
    var plain = true
    for index in position..<end where buf[index] == Byte.dollar || (doubleQuoted && buf[index] == Byte.backslash) {
      plain = false
      break
    }
    if plain { return Array(buf[position..<end]) }
    return try word(insideBraces: false, active: true)
  }

  /// Reads text up to `end` (or, inside `${...}`, up to the closing brace, which is left unread).
  /// - Parameter active: whether references are evaluated (an unused default is read but not evaluated).
  mutating func word(insideBraces: Bool, active: Bool) throws(DotEnvError) -> [UInt8] {
    var out: [UInt8] = []
    while position < end {
      let byte = buf[position]
      if insideBraces && byte == Byte.closeBrace && parenDepth == 0 { return out }
      if doubleQuoted && byte == Byte.backslash && position + 1 < end {
        let next = buf[position + 1]
        switch next {
        case 0x6E: out.append(Byte.lf)  // \n
        case 0x72: out.append(Byte.cr)  // \r
        case 0x74: out.append(Byte.tab)  // \t
        case Byte.doubleQuote, Byte.backslash, Byte.dollar, 0x60: out.append(next)  // \" \\ \$ \`
        default: out += [byte, next]
        }
        position += 2
        continue
      }
      if byte == Byte.dollar && parenDepth == 0 && position + 1 < end {
        let next = buf[position + 1]
        if next == Byte.dollar {
          out.append(Byte.dollar)
          position += 2
          continue
        }
        if next == Byte.openParen {
          sawCommand = true
          parenDepth = 1
          out += [Byte.dollar, Byte.openParen]
          position += 2
          continue
        }
        if next == Byte.openBrace {
          let dollar = position
          position += 2
          out += try braced(active: active, dollar: dollar)
          continue
        }
        if DotEnvSerializer.isNameStartByte(next) {
          let dollar = position
          position += 1
          let name = readName()
          out += try resolve(name, active: active, dollar: dollar)
          continue
        }
      }
      if parenDepth > 0 {
        if byte == Byte.openParen { parenDepth += 1 }
        if byte == Byte.closeParen { parenDepth -= 1 }
      }
      out.append(byte)
      position += 1
    }
    if insideBraces {
      throw error("unterminated ${ in the value of \(key)", hint: literalDollarHint)
    }
    return out
  }

  mutating func readName() -> String {
    let start = position
    while position < end && Byte.isReferenceByte(buf[position]) { position += 1 }
    return String(decoding: buf[start..<position], as: UTF8.self)
  }

  /// `$NAME` or `${NAME}`: the value of a name assigned earlier, or an error naming the `$`'s place, not the name
  /// (which may be part of a password).
  mutating func resolve(_ name: String, active: Bool, dollar: Int) throws(DotEnvError) -> [UInt8] {
    references.insert(name)
    guard active else { return [] }
    guard let value = assigned[name] else {
      throw referenceError(at: dollar, "refers to a variable that is not assigned earlier in this file")
    }
    return try substituted(value)
  }

  /// A referenced value, charged to the file's budget.
  mutating func substituted(_ value: [UInt8]) throws(DotEnvError) -> [UInt8] {
    budget -= value.count
    guard budget >= 0 else {
      throw error(
        "references expand to more than \(Self.substitutionLimit >> 20) MiB in this file (at the value of \(key))",
        hint: "a reference repeated within references multiplies the size; write the value out")
    }
    return value
  }

  /// After `${`: `NAME}`, or `NAME` then one of `:- - :+ + :? ?`, a word, and `}`.
  mutating func braced(active: Bool, dollar: Int) throws(DotEnvError) -> [UInt8] {
    braceDepth += 1
    defer { braceDepth -= 1 }
    guard braceDepth <= Self.maxBraceDepth else {
      throw error(
        "${...} nested more than \(Self.maxBraceDepth) deep in the value of \(key)",
        hint: "nest fewer defaults, or write the value out")
    }
    guard position < end, DotEnvSerializer.isNameStartByte(buf[position]) else {
      throw error("invalid ${...} expression in the value of \(key)", hint: literalDollarHint)
    }
    let name = readName()
    guard position < end else {
      throw error("unterminated ${ in the value of \(key)", hint: literalDollarHint)
    }
    if buf[position] == Byte.closeBrace {
      position += 1
      return try resolve(name, active: active, dollar: dollar)
    }
    var colon = false
    if buf[position] == Byte.colon {
      colon = true
      position += 1
    }
    guard position < end, [Byte.minus, Byte.plus, Byte.question].contains(buf[position]) else {
      throw error("invalid ${...} expression in the value of \(key)", hint: literalDollarHint)
    }
    let op = buf[position]
    position += 1
    references.insert(name)
    let current = assigned[name]
    let isSet = current != nil
    let isNonEmpty = !(current?.isEmpty ?? true)
    let present = colon ? isNonEmpty : isSet
    let useWord: Bool
    switch op {
    case Byte.minus: useWord = !present
    case Byte.plus: useWord = present
    default: useWord = false
    }
    let text = try word(insideBraces: true, active: active && useWord)
    position += 1  // the closing brace; `word` threw if there was none
    guard active else { return [] }
    switch op {
    case Byte.minus: return present ? try substituted(current ?? []) : text
    case Byte.plus: return present ? text : []
    default:
      guard present else {
        throw referenceError(
          at: dollar, "requires a variable that is \(colon ? "unset or empty" : "unset") at this point in the file")
      }
      return try substituted(current ?? [])
    }
  }
}

/// UTF-8 validation on byte ranges (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF).
enum UTF8Check {
  /// The index of the first byte of the first invalid sequence in `bytes[from..<to]`, or `nil`.
  static func firstInvalid(_ bytes: [UInt8], from: Int, to: Int) -> Int? {
    var i = from
    while i < to {
      let b0 = bytes[i]
      if b0 < 0x80 {
        i += 1
        continue
      }
      let length: Int
      var lower: UInt8 = 0x80
      var upper: UInt8 = 0xBF
      switch b0 {
      case 0xC2...0xDF: length = 2
      case 0xE0:
        length = 3
        lower = 0xA0
      case 0xE1...0xEC, 0xEE...0xEF: length = 3
      case 0xED:
        length = 3
        upper = 0x9F
      case 0xF0:
        length = 4
        lower = 0x90
      case 0xF1...0xF3: length = 4
      case 0xF4:
        length = 4
        upper = 0x8F
      default: return i
      }
      guard i + length <= to else { return i }
      let b1 = bytes[i + 1]
      guard b1 >= lower && b1 <= upper else { return i }
      var k = 2
      while k < length {
        guard bytes[i + k] & 0xC0 == 0x80 else { return i }
        k += 1
      }
      i += length
    }
    return nil
  }
}
