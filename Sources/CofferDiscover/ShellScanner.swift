/// Shell scripts: a small lexer (quotes, escapes, comments, here-documents, `${…}` nesting) produces words,
/// separators and `$` expansions; a second pass finds the names the script assigns itself, so that only variables
/// read before any assignment (that is, from the environment) are reported.
enum ShellScanner {
  /// A word (with the name it assigns when it reads `NAME=…` or `NAME+=…`) or a command separator.
  enum Token {
    case word(text: String, assigns: String?, end: Int)
    case separator
  }

  struct Lexed {
    var tokens: [Token] = []
    var expansions: [(name: String, offset: Int)] = []
  }

  static func scan(_ text: inout ScanText) -> [(name: String, offset: Int)] {
    let lexed = lex(text)
    let assigned = assignments(lexed.tokens)
    return lexed.expansions.filter { item in
      guard Bytes.isCapitalName(item.name) else { return false }
      if let end = assigned[item.name], end <= item.offset { return false }
      return true
    }
  }

  /// The earliest end offset of an assignment of each name.
  static func assignments(_ tokens: [Token]) -> [String: Int] {
    enum State { case command, arguments, declaring(exports: Bool), forVariable, read(skipNext: Bool) }
    let keywords: Set<String> = [
      "if", "then", "else", "elif", "fi", "do", "done", "while", "until", "case", "esac", "{", "}", "!", "time",
      "in", "function",
    ]
    var assigned: [String: Int] = [:]
    func record(_ name: String, _ end: Int) {
      if let old = assigned[name], old <= end { return }
      assigned[name] = end
    }
    func isName(_ s: String) -> Bool {
      guard let first = s.utf8.first, Bytes.isNameStart(first) else { return false }
      return s.utf8.allSatisfy(Bytes.isNameByte)
    }
    var state = State.command
    for token in tokens {
      guard case .word(let text, let assigns, let end) = token else {
        state = .command
        continue
      }
      switch state {
      case .command:
        if let assigns {
          record(assigns, end)
        } else if keywords.contains(text) {
          state = .command
        } else if ["export", "local", "declare", "typeset", "readonly"].contains(text) {
          state = .declaring(exports: text == "export")
        } else if text == "for" || text == "select" {
          state = .forVariable
        } else if text == "read" {
          state = .read(skipNext: false)
        } else {
          state = .arguments
        }
      case .arguments:
        break
      case .declaring(let exports):
        if text.hasPrefix("-") { break }
        if let assigns {
          record(assigns, end)
        } else if !exports && isName(text) {
          record(text, end)
        }
      case .forVariable:
        if isName(text) { record(text, end) }
        state = .arguments
      case .read(let skipNext):
        if skipNext {
          state = .read(skipNext: false)
        } else if text.hasPrefix("-") {
          let takesArgument = ["-p", "-d", "-t", "-n", "-N", "-u"].contains(text)
          state = .read(skipNext: takesArgument)
        } else if isName(text) {
          record(text, end)
        }
      }
    }
    return assigned
  }

  /// The lexer. Positions are byte offsets; expansions are recorded at their name's first byte.
  static func lex(_ text: ScanText) -> Lexed {
    var lexer = Lexer(text)
    return lexer.run()
  }

  /// The lexer's state while it reads one text: the position, the current word, double quotes, `${…}` nesting and
  /// the here-documents whose bodies follow the next newline. One byte (or construct) at a time: ``doubleQuoted(_:)``
  /// inside `"…"`, ``unquoted(_:)`` elsewhere.
  struct Lexer {
    let text: ScanText
    let n: Int
    var out = Lexed()
    var i = 0
    // The current word.
    var wordStart = -1
    var wordBytes: [UInt8] = []
    var wordPlain = true  // no quote or expansion yet (an assignment needs `NAME=` in plain bytes)
    var wordAssigns: String? = nil
    var inDouble = false
    var braceDepth = 0
    var heredocs: [(delimiter: [UInt8], quoted: Bool, stripTabs: Bool)] = []

    init(_ text: ScanText) {
      self.text = text
      n = text.count
    }

    mutating func run() -> Lexed {
      while i < n {
        let c = text[i]
        if inDouble {
          doubleQuoted(c)
        } else {
          unquoted(c)
        }
      }
      endWord(at: n)
      return out
    }

    /// One byte inside `"…"`.
    mutating func doubleQuoted(_ c: UInt8) {
      switch c {
      case 0x22:
        inDouble = false
        addToWord(c, at: i)
        i += 1
      case 0x5C:
        addToWord(c, at: i)
        addToWord(text[i + 1], at: i + 1)
        i += 2
      case 0x24:
        wordPlain = false
        addToWord(c, at: i)
        i = expansion(at: i)
      case 0x7D where braceDepth > 0:
        braceDepth -= 1
        addToWord(c, at: i)
        i += 1
      case 0x0A:
        braceDepth = 0
        addToWord(c, at: i)
        i += 1
      default:
        addToWord(c, at: i)
        i += 1
      }
    }

    /// One byte (or a comment, a quote, an expansion, a here-document operator) outside quotes.
    mutating func unquoted(_ c: UInt8) {
      switch c {
      case 0x20, 0x09, 0x0D:
        if braceDepth > 0 {
          addToWord(c, at: i)
        } else {
          endWord(at: i)
        }
        i += 1
      case 0x0A:
        braceDepth = 0
        endWord(at: i)
        out.tokens.append(.separator)
        i += 1
        if !heredocs.isEmpty { i = heredocBodies(from: i) }
      case 0x23 where wordStart < 0:  // a comment
        while i < n && text[i] != 0x0A { i += 1 }
      case 0x3B, 0x26, 0x7C, 0x28, 0x29:
        if braceDepth > 0 && c != 0x28 && c != 0x29 {
          addToWord(c, at: i)
        } else {
          endWord(at: i)
          out.tokens.append(.separator)
        }
        i += 1
      case 0x3C where braceDepth == 0 && text[i + 1] == 0x3C:
        endWord(at: i)
        if text[i + 2] == 0x3C {  // <<< here-string
          i += 3
          return
        }
        // <<DELIM, <<-DELIM
        var j = i + 2
        var stripTabs = false
        if text[j] == 0x2D {
          stripTabs = true
          j += 1
        }
        while Bytes.isBlank(text[j]) { j += 1 }
        var delimiter: [UInt8] = []
        var quoted = false
        while j < n, !Bytes.isSpace(text[j]), ![0x3B, 0x26, 0x7C, 0x3C, 0x3E, 0x28, 0x29].contains(text[j]) {
          let d = text[j]
          if d == 0x27 || d == 0x22 {
            quoted = true
            var k = j + 1
            while k < n && text[k] != d && text[k] != 0x0A {
              delimiter.append(text[k])
              k += 1
            }
            j = k + 1
            continue
          }
          if d == 0x5C {
            quoted = true
            j += 1
            continue
          }
          delimiter.append(d)
          j += 1
        }
        if !delimiter.isEmpty { heredocs.append((delimiter, quoted, stripTabs)) }
        i = j
      case 0x3C, 0x3E:
        if braceDepth > 0 {
          addToWord(c, at: i)
        } else {
          endWord(at: i)
        }
        i += 1
      case 0x27:  // '…' is literal
        wordPlain = false
        addToWord(c, at: i)
        var j = i + 1
        while j < n && text[j] != 0x27 { j += 1 }
        for k in (i + 1)..<min(j + 1, n) { addToWord(text[k], at: k) }
        i = j + 1
      case 0x22:
        wordPlain = false
        inDouble = true
        addToWord(c, at: i)
        i += 1
      case 0x5C:
        if text[i + 1] == 0x0A {  // line continuation
          i += 2
        } else {
          wordPlain = false
          addToWord(c, at: i)
          addToWord(text[i + 1], at: i + 1)
          i += 2
        }
      case 0x24:
        if text[i + 1] == 0x27 {  // $'…'
          addToWord(c, at: i)
          i += 1
          return
        }
        wordPlain = false
        addToWord(c, at: i)
        i = expansion(at: i)
      case 0x7D where braceDepth > 0:
        braceDepth -= 1
        addToWord(c, at: i)
        i += 1
      case 0x60:
        wordPlain = false
        addToWord(c, at: i)
        i += 1
      default:
        addToWord(c, at: i)
        i += 1
      }
    }

    mutating func endWord(at offset: Int) {
      guard wordStart >= 0 else { return }
      out.tokens.append(.word(text: String(decoding: wordBytes, as: UTF8.self), assigns: wordAssigns, end: offset))
      wordStart = -1
      wordBytes = []
      wordPlain = true
      wordAssigns = nil
    }
    mutating func addToWord(_ byte: UInt8, at offset: Int) {
      if wordStart < 0 { wordStart = offset }
      if byte == 0x3D && wordPlain && wordAssigns == nil && braceDepth == 0 && !inDouble {
        var name = wordBytes
        if name.last == 0x2B { name.removeLast() }
        if let first = name.first, Bytes.isNameStart(first), name.allSatisfy(Bytes.isNameByte) {
          wordAssigns = String(decoding: name, as: UTF8.self)
        }
      }
      wordBytes.append(byte)
    }
    /// Reads a `$` expansion at `dollar` (which holds `$`); returns the offset to continue from.
    mutating func expansion(at dollar: Int) -> Int {
      var j = dollar + 1
      let c = text[j]
      if c == 0x7B {  // ${
        j += 1
        if text[j] == 0x23 || text[j] == 0x21 { j += 1 }  // ${#X} ${!X}
        if let (name, _) = text.name(at: j) { out.expansions.append((name, j)) }
        braceDepth += 1
        return dollar + 2
      }
      if let (name, end) = text.name(at: j) {
        out.expansions.append((name, j))
        return end
      }
      return dollar + 1
    }
    /// Skips here-document bodies after the newline at `i`; returns the offset after them.
    mutating func heredocBodies(from start: Int) -> Int {
      var j = start
      for doc in heredocs {
        while j < n {
          var lineEnd = j
          while lineEnd < n && text[lineEnd] != 0x0A { lineEnd += 1 }
          var k = j
          if doc.stripTabs { while k < lineEnd && text[k] == 0x09 { k += 1 } }
          var contentEnd = lineEnd
          if contentEnd > k && text[contentEnd - 1] == 0x0D { contentEnd -= 1 }
          let line = Array(UnsafeBufferPointer(rebasing: text.bytes[k..<contentEnd]))
          if line == doc.delimiter {
            j = lineEnd + 1
            break
          }
          if !doc.quoted {
            var m = j
            while m < lineEnd {
              if text[m] == 0x5C {
                m += 2
                continue
              }
              if text[m] == 0x24 {
                let saved = braceDepth
                m = expansion(at: m)
                braceDepth = saved
                continue
              }
              m += 1
            }
          }
          j = lineEnd + 1
        }
      }
      heredocs.removeAll()
      return j
    }
  }
}

/// Dockerfiles: `ARG` and `ENV` declare names (reported where declared), other `$X`/`${X}` expansions of
/// all-capital names not declared above are reported where used.
enum DockerfileScanner {
  static func scan(_ text: inout ScanText) -> [(name: String, offset: Int)] {
    var out: [(name: String, offset: Int)] = []
    var declared = Set<String>()
    var i = 0
    let n = text.count
    while i < n {
      // One instruction: from here to an end of line not preceded by a backslash.
      var start = i
      while start < n && Bytes.isBlank(text[start]) { start += 1 }
      var end = start
      while end < n {
        if text[end] == 0x0A {
          var k = end - 1
          if text[k] == 0x0D { k -= 1 }
          while k > start && Bytes.isBlank(text[k]) { k -= 1 }
          if k >= start && text[k] == 0x5C {
            end += 1
            continue
          }
          break
        }
        end += 1
      }
      defer { i = end + 1 }
      if start >= end || text[start] == 0x23 { continue }
      var j = start
      while j < end && Bytes.isNameByte(text[j]) { j += 1 }
      let instruction = String(decoding: UnsafeBufferPointer(rebasing: text.bytes[start..<j]), as: UTF8.self).uppercased()
      if instruction == "ARG" || instruction == "ENV" {
        // Declarations: NAME[=value] words; the legacy `ENV NAME value` form declares only the first name.
        var k = j
        var legacy = false
        var first = true
        while k < end {
          while k < end && Bytes.isSpace(text[k]) || (text[k] == 0x5C && k + 1 < end && Bytes.isSpace(text[k + 1])) {
            k += 1
          }
          guard k < end, let (name, nameEnd) = text.name(at: k) else { break }
          if !declared.contains(name) { out.append((name, k)) }
          declared.insert(name)
          if instruction == "ENV" && first && text[nameEnd] != 0x3D { legacy = true }
          first = false
          k = nameEnd
          if legacy { break }
          if text[k] == 0x3D {
            k += 1
            // Skip the value: quoted or up to whitespace; expansions in it are references.
            k = value(text, from: k, end: end, declared: declared, into: &out)
          }
        }
        if legacy { _ = expansions(text, from: k, end: end, declared: declared, into: &out) }
      } else {
        _ = expansions(text, from: j, end: end, declared: declared, into: &out)
      }
    }
    return out
  }

  /// Skips one value (a quoted string or a run of non-space bytes), collecting its expansions.
  static func value(_ text: ScanText, from start: Int, end: Int, declared: Set<String>, into out: inout [(name: String, offset: Int)]) -> Int {
    var k = start
    var quote: UInt8 = 0
    while k < end {
      let c = text[k]
      if quote == 0 && Bytes.isSpace(c) { break }
      if c == 0x5C {
        k += 2
        continue
      }
      if quote == 0 && (c == 0x22 || c == 0x27) {
        quote = c
      } else if c == quote {
        quote = 0
      } else if c == 0x24 && quote != 0x27 {
        k = expansion(text, at: k, declared: declared, into: &out)
        continue
      }
      k += 1
    }
    return k
  }

  /// Collects `$X`/`${X}` expansions outside single quotes in `start..<end`.
  static func expansions(_ text: ScanText, from start: Int, end: Int, declared: Set<String>, into out: inout [(name: String, offset: Int)]) -> Int {
    var k = start
    var single = false
    var double = false
    while k < end {
      let c = text[k]
      if c == 0x5C && !single {
        k += 2
        continue
      }
      if c == 0x27 && !double {
        single.toggle()
      } else if c == 0x22 && !single {
        double.toggle()
      } else if c == 0x24 && !single {
        k = expansion(text, at: k, declared: declared, into: &out)
        continue
      }
      k += 1
    }
    return k
  }

  static func expansion(_ text: ScanText, at dollar: Int, declared: Set<String>, into out: inout [(name: String, offset: Int)]) -> Int {
    var j = dollar + 1
    if text[j] == 0x7B { j += 1 }
    guard let (name, nameEnd) = text.name(at: j) else { return dollar + 1 }
    if !declared.contains(name) && Bytes.isCapitalName(name) { out.append((name, j)) }
    return nameEnd
  }
}

/// YAML files: compose interpolation and GitHub workflow contexts. `#` comments (at a line's start or after a
/// space, outside quotes) are skipped.
enum YAMLExpansionScanner {
  /// Compose: `${X…}` and `$X`; `$$` is a literal dollar.
  static func scanCompose(_ text: inout ScanText) -> [(name: String, offset: Int)] {
    var out: [(name: String, offset: Int)] = []
    forEachCodeByte(text) { i in
      guard text[i] == 0x24 else { return 1 }
      if text[i + 1] == 0x24 { return 2 }
      var j = i + 1
      if text[j] == 0x7B { j += 1 }
      guard let (name, end) = text.name(at: j) else { return 1 }
      out.append((name, j))
      return end - i
    }
    return out
  }

  /// Workflows: `secrets.X`, `vars.X`, `secrets['X']`, `vars["X"]` inside `${{ … }}` and on `if:` lines, except
  /// `secrets.GITHUB_TOKEN`.
  static func scanWorkflow(_ text: inout ScanText) -> [(name: String, offset: Int)] {
    workflowReferences(text).map { ($0.name, $0.offset) }
  }

  /// The names of `secrets.X` (with `isSecret`) and `vars.X` references, in order.
  static func workflowReferences(_ text: ScanText) -> [(name: String, offset: Int, isSecret: Bool)] {
    var out: [(name: String, offset: Int, isSecret: Bool)] = []
    let contexts: [[UInt8]] = [Array("secrets".utf8), Array("vars".utf8)]
    let open: [UInt8] = Array("${{".utf8)
    let ifKey: [UInt8] = Array("if:".utf8)
    var expressionEnd = -1  // inside an expression up to this offset
    forEachCodeByte(text) { i in
      if i >= expressionEnd {
        if text.matches(open, at: i) {
          var j = i + 3
          while j < text.count && !(text[j] == 0x7D && text[j + 1] == 0x7D) { j += 1 }
          expressionEnd = j
          return 3
        }
        if text.matches(ifKey, at: i) {
          var k = i - 1
          while k >= 0 && (Bytes.isBlank(text[k]) || text[k] == 0x2D) { k -= 1 }
          if k < 0 || text[k] == 0x0A {
            var j = i
            while j < text.count && text[j] != 0x0A { j += 1 }
            expressionEnd = j
            return 3
          }
        }
        return 1
      }
      let c = text[i]
      guard c == 0x73 || c == 0x76, !(Bytes.isIdentifierByte(text[i - 1]) || text[i - 1] == 0x2E) else { return 1 }
      for context in contexts where text.matches(context, at: i) {
        var j = i + context.count
        var quote: UInt8 = 0
        if text[j] == 0x2E {
          j += 1
        } else if text[j] == 0x5B, text[j + 1] == 0x27 || text[j + 1] == 0x22 {
          quote = text[j + 1]
          j += 2
        } else {
          continue
        }
        guard let (name, end) = text.name(at: j), quote == 0 || text[end] == quote else { continue }
        if quote == 0 && Bytes.isIdentifierByte(text[end]) { continue }
        // GitHub's own token, in any case: contexts ignore case (`secrets.github_token` is the same secret).
        if !(context[0] == 0x73 && name.uppercased() == "GITHUB_TOKEN") { out.append((name, j, context[0] == 0x73)) }
        return end - i
      }
      return 1
    }
    return out
  }

  /// Calls `body` at each offset outside YAML comments; `body` returns how far to advance.
  static func forEachCodeByte(_ text: ScanText, _ body: (Int) -> Int) {
    var i = 0
    var quote: UInt8 = 0
    let n = text.count
    while i < n {
      let c = text[i]
      if c == 0x0A {
        quote = 0
        i += 1
        continue
      }
      if quote == 0 && c == 0x23 && (i == 0 || Bytes.isSpace(text[i - 1])) {
        while i < n && text[i] != 0x0A { i += 1 }
        continue
      }
      if quote == 0 && (c == 0x22 || c == 0x27) && (i == 0 || !Bytes.isNameByte(text[i - 1])) {
        quote = c
      } else if quote != 0 && c == quote {
        quote = 0
      }
      i += max(1, body(i))
    }
  }
}
