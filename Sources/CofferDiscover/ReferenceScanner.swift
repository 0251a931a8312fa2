/// Finds the environment variables a source file reads: bytes and a path in, references out. Pure.
///
/// What is recognised, by language (the variable name must be a literal `[A-Za-z_][A-Za-z0-9_]*`; a name built at
/// run time is not reported):
///
/// A string literal counts only when it is the whole argument (`os.getenv("A_" + b)` is not reported).
///
/// | language | forms |
/// |---|---|
/// | Python | `os.environ["X"]`, `os.environ.get("X")`, `os.getenv("X")` (also `environ[…]`, `getenv(…)` imported bare) |
/// | JavaScript, TypeScript | `process.env.X`, `process.env?.X`, `process.env["X"]`, `import.meta.env.X`, `import.meta.env["X"]`, `const { X, Y: y = 1 } = process.env`, `Deno.env.get("X")`, `Bun.env.X` |
/// | Go | `os.Getenv("X")`, `os.LookupEnv("X")`, `syscall.Getenv("X")` (raw strings too) |
/// | Ruby | `ENV["X"]`, `ENV.fetch("X")`, `ENV.fetch "X"`, `ENV.key?("X")` |
/// | Swift | `ProcessInfo.processInfo.environment["X"]`, `ProcessInfo().environment["X"]`, `getenv("X")` |
/// | Rust | `env::var("X")`, `env::var_os("X")` (with any path, such as `std::env::var`), `env!("X")`, `option_env!("X")` |
/// | Java, Kotlin | `System.getenv("X")`, `System.getenv().get("X")`, `System.getenv()["X"]` |
/// | shell | `$X`, `${X}`, `${X:-d}` and the other `${X…}` forms, outside single quotes and quoted here-documents; only all-capital names; not names the script assigned before (`X=…`, `export X=…`, `local X`, `read X`, `for X in`) |
/// | Dockerfile | `ARG X`, `ARG X=d`, `ENV X=v`, `ENV X v`, and `$X`/`${X}` of all-capital names not declared above by `ARG`/`ENV` |
/// | compose | `${X}`, `${X:-d}`, `${X-d}`, `${X:?e}`, `${X?e}`, `${X:+a}`, `$X` (`$$` is a literal `$`) |
/// | GitHub workflows | `secrets.X`, `vars.X`, `secrets['X']`, `vars['X']` (in `${{ }}` and `if:` expressions); not `secrets.GITHUB_TOKEN` |
///
/// Comments are skipped by line: a reference is not reported when a line comment (`#` for Python, Ruby, shell,
/// Dockerfile and YAML; `//` for the C-family languages) starts before it on its line outside quotes, or when a
/// C-family line starts with `/*` or `*`. Block comments spanning lines in other forms (Python docstrings, Ruby
/// `=begin`) are read as code. Names in ``SystemVariables`` are never reported.
public enum ReferenceScanner {
  /// Finds references in a file, choosing the language from its path (and its `#!` line when the name has no
  /// extension).
  /// - Parameters:
  ///   - bytes: the file's contents (UTF-8 expected; other bytes are matched as they are).
  ///   - path: the file's path, used only to choose the language.
  /// - Returns: references sorted by line and column; empty when the file is not a kind discover reads.
  /// - Complexity: linear in the file's size for each form looked for; safe to call concurrently.
  public static func scan(_ bytes: [UInt8], path: String) -> [VariableReference] {
    guard let language = SourceLanguage.detect(path: path, firstLine: bytes.prefix(256)) else { return [] }
    return scan(bytes, language: language)
  }

  /// Finds references in a file of a known language.
  /// - Parameters:
  ///   - bytes: the file's contents.
  ///   - language: the rules to apply.
  /// - Returns: references sorted by line and column.
  public static func scan(_ bytes: [UInt8], language: SourceLanguage) -> [VariableReference] {
    bytes.withUnsafeBufferPointer { buffer in
      var text = ScanText(buffer)
      let found: [(name: String, offset: Int)]
      switch language {
      case .shell: found = ShellScanner.scan(&text)
      case .dockerfile: found = DockerfileScanner.scan(&text)
      case .compose: found = YAMLExpansionScanner.scanCompose(&text)
      case .githubActions: found = YAMLExpansionScanner.scanWorkflow(&text)
      default: found = CallScanner.scan(&text, rules: CallScanner.rules(for: language), style: CommentStyle(language))
      }
      // One pass over the lines for all references, in offset order.
      var out: [VariableReference] = []
      var line = 1
      var lineStart = 0
      var cursor = 0
      var previous = -1
      for item in found.sorted(by: { $0.offset < $1.offset }) where item.offset != previous {
        previous = item.offset
        if SystemVariables.isSystem(item.name) { continue }
        while cursor < item.offset {
          if buffer[cursor] == 0x0A {
            line += 1
            lineStart = cursor + 1
          }
          cursor += 1
        }
        var column = 1
        for i in lineStart..<item.offset where buffer[i] & 0xC0 != 0x80 { column += 1 }
        out.append(VariableReference(name: item.name, line: line, column: column, language: language))
      }
      return out
    }
  }
}

/// A file's bytes with lazily computed line starts, for turning offsets into line and column.
struct ScanText {
  let bytes: UnsafeBufferPointer<UInt8>
  private var lineStarts: [Int] = []

  init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

  var count: Int { bytes.count }

  @inline(__always) subscript(_ i: Int) -> UInt8 { i < bytes.count && i >= 0 ? bytes[i] : 0 }

  /// The 1-based line and column (in Unicode scalars) of a byte offset.
  mutating func position(of offset: Int) -> (Int, Int) {
    if lineStarts.isEmpty {
      lineStarts.append(0)
      for i in 0..<bytes.count where bytes[i] == 0x0A { lineStarts.append(i + 1) }
    }
    var low = 0
    var high = lineStarts.count - 1
    while low < high {
      let mid = (low + high + 1) / 2
      if lineStarts[mid] <= offset { low = mid } else { high = mid - 1 }
    }
    var column = 1
    var i = lineStarts[low]
    while i < offset {
      if bytes[i] & 0xC0 != 0x80 { column += 1 }
      i += 1
    }
    return (low + 1, column)
  }

  /// The offset where the line holding `offset` starts.
  func lineStart(of offset: Int) -> Int {
    var i = offset
    while i > 0 && bytes[i - 1] != 0x0A { i -= 1 }
    return i
  }

  /// Whether `needle` occurs at `offset`.
  @inline(__always) func matches(_ needle: [UInt8], at offset: Int) -> Bool {
    guard offset >= 0, offset + needle.count <= bytes.count else { return false }
    for k in 0..<needle.count where bytes[offset + k] != needle[k] { return false }
    return true
  }

  /// The identifier `[A-Za-z_][A-Za-z0-9_]*` starting at `offset`, if any, and its end.
  func name(at offset: Int) -> (String, Int)? {
    guard offset < bytes.count, Bytes.isNameStart(bytes[offset]) else { return nil }
    var end = offset + 1
    while end < bytes.count && Bytes.isNameByte(bytes[end]) { end += 1 }
    return (String(decoding: UnsafeBufferPointer(rebasing: bytes[offset..<end]), as: UTF8.self), end)
  }
}

/// Byte classes.
enum Bytes {
  @inline(__always) static func isNameStart(_ b: UInt8) -> Bool {
    (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F
  }
  @inline(__always) static func isNameByte(_ b: UInt8) -> Bool { isNameStart(b) || (b >= 0x30 && b <= 0x39) }
  /// Bytes that continue an identifier in the languages scanned (`$` for JavaScript, non-ASCII for all).
  @inline(__always) static func isIdentifierByte(_ b: UInt8) -> Bool { isNameByte(b) || b == 0x24 || b >= 0x80 }
  @inline(__always) static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }
  @inline(__always) static func isBlank(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 }
  /// `[A-Z_][A-Z0-9_]*`: the names shell-like scanners report.
  static func isCapitalName(_ name: String) -> Bool {
    name.utf8.allSatisfy { ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F }
  }
}

/// How line comments look in a language, for ``CommentStyle/isCommented(_:at:)``.
struct CommentStyle {
  /// `#` starts a comment.
  var hash = false
  /// `//` starts a comment, and lines starting with `/*` or `*` are comment lines.
  var slashes = false
  /// The quote bytes that open strings on a line.
  var quotes: [UInt8] = [0x22]

  init(hash: Bool = false, slashes: Bool = false, quotes: [UInt8] = [0x22]) {
    self.hash = hash
    self.slashes = slashes
    self.quotes = quotes
  }

  init(_ language: SourceLanguage) {
    switch language {
    case .python, .ruby: self.init(hash: true, quotes: [0x22, 0x27])
    case .javascript, .typescript: self.init(slashes: true, quotes: [0x22, 0x27, 0x60])
    case .go: self.init(slashes: true, quotes: [0x22, 0x27, 0x60])
    case .java, .kotlin: self.init(slashes: true, quotes: [0x22, 0x27])
    case .swift, .rust: self.init(slashes: true, quotes: [0x22])
    case .shell, .dockerfile, .compose, .githubActions: self.init(hash: true, quotes: [0x22, 0x27])
    }
  }

  /// Whether the byte at `offset` is inside a line comment (judged from its line only).
  func isCommented(_ text: ScanText, at offset: Int) -> Bool {
    var i = text.lineStart(of: offset)
    while i < offset && Bytes.isBlank(text[i]) { i += 1 }
    if slashes && (text[i] == 0x2A || (text[i] == 0x2F && text[i + 1] == 0x2A)) { return true }
    var quote: UInt8 = 0
    while i < offset {
      let c = text[i]
      if quote != 0 {
        if c == 0x5C {
          i += 2
          continue
        }
        if c == quote { quote = 0 }
      } else if quotes.contains(c) {
        quote = c
      } else if hash && c == 0x23 && (i == 0 || Bytes.isSpace(text[i - 1]) || !Bytes.isIdentifierByte(text[i - 1])) {
        return true
      } else if slashes && c == 0x2F && text[i + 1] == 0x2F {
        return true
      }
      i += 1
    }
    return false
  }
}

/// Library calls and member accesses that read a variable: Python, JavaScript, TypeScript, Go, Ruby, Swift, Rust,
/// Java, Kotlin.
enum CallScanner {
  /// What follows a trigger.
  enum Argument {
    /// A string literal holding the name, after optional whitespace (and an optional `(` when `parenthesis`).
    case string(quotes: [UInt8], parenthesis: Bool)
    /// An identifier right after the trigger.
    case member
    /// `{ A, B: b, C = 1 } = <trigger>` before the trigger.
    case destructuring
  }

  /// One form: a literal trigger, the byte that must not precede it, and what follows.
  struct Rule {
    let trigger: [UInt8]
    let argument: Argument
    /// Whether the trigger may follow a `.` (as in `os.getenv` for the trigger `getenv(`).
    let afterDot: Bool

    init(_ trigger: String, _ argument: Argument, afterDot: Bool = true) {
      self.trigger = Array(trigger.utf8)
      self.argument = argument
      self.afterDot = afterDot
    }
  }

  static let dq: [UInt8] = [0x22]
  static let dqsq: [UInt8] = [0x22, 0x27]
  static let js: [UInt8] = [0x22, 0x27, 0x60]

  static let python: [Rule] = [
    Rule("environ[", .string(quotes: dqsq, parenthesis: false)),
    Rule("environ.get(", .string(quotes: dqsq, parenthesis: false)),
    Rule("getenv(", .string(quotes: dqsq, parenthesis: false)),
  ]
  static let javascript: [Rule] = [
    Rule("process.env.", .member), Rule("process.env?.", .member),
    Rule("process.env[", .string(quotes: js, parenthesis: false)),
    Rule("process.env?.[", .string(quotes: js, parenthesis: false)),
    Rule("import.meta.env.", .member), Rule("import.meta.env[", .string(quotes: js, parenthesis: false)),
    Rule("process.env", .destructuring), Rule("import.meta.env", .destructuring),
    Rule("Deno.env.get(", .string(quotes: js, parenthesis: false)), Rule("Bun.env.", .member),
  ]
  static let go: [Rule] = [
    Rule("os.Getenv(", .string(quotes: [0x22, 0x60], parenthesis: false)),
    Rule("os.LookupEnv(", .string(quotes: [0x22, 0x60], parenthesis: false)),
    Rule("syscall.Getenv(", .string(quotes: [0x22, 0x60], parenthesis: false)),
  ]
  static let ruby: [Rule] = [
    Rule("ENV[", .string(quotes: dqsq, parenthesis: false), afterDot: false),
    Rule("ENV.fetch", .string(quotes: dqsq, parenthesis: true), afterDot: false),
    Rule("ENV.key?(", .string(quotes: dqsq, parenthesis: false), afterDot: false),
  ]
  static let swift: [Rule] = [
    Rule("processInfo.environment[", .string(quotes: dq, parenthesis: false)),
    Rule("ProcessInfo().environment[", .string(quotes: dq, parenthesis: false)),
    Rule("getenv(", .string(quotes: dq, parenthesis: false)),
  ]
  static let rust: [Rule] = [
    Rule("env::var(", .string(quotes: dq, parenthesis: false)),
    Rule("env::var_os(", .string(quotes: dq, parenthesis: false)),
    Rule("env!(", .string(quotes: dq, parenthesis: false), afterDot: false),
    Rule("option_env!(", .string(quotes: dq, parenthesis: false), afterDot: false),
  ]
  static let jvm: [Rule] = [
    Rule("System.getenv(", .string(quotes: dq, parenthesis: false)),
    Rule("System.getenv().get(", .string(quotes: dq, parenthesis: false)),
    Rule("System.getenv()[", .string(quotes: dq, parenthesis: false)),
  ]

  static func rules(for language: SourceLanguage) -> [Rule] {
    switch language {
    case .python: return python
    case .javascript, .typescript: return javascript
    case .go: return go
    case .ruby: return ruby
    case .swift: return swift
    case .rust: return rust
    case .java, .kotlin: return jvm
    case .shell, .dockerfile, .compose, .githubActions: return []
    }
  }

  /// One pass over the file: a byte that starts no trigger is skipped with one table lookup.
  static func scan(_ text: inout ScanText, rules: [Rule], style: CommentStyle) -> [(name: String, offset: Int)] {
    var out: [(name: String, offset: Int)] = []
    var starts = [Bool](repeating: false, count: 256)
    for rule in rules { starts[Int(rule.trigger[0])] = true }
    let bytes = text.bytes
    let candidates = starts.withUnsafeBufferPointer { table in
      var positions: [Int] = []
      for start in 0..<bytes.count where table[Int(bytes[start])] { positions.append(start) }
      return positions
    }
    for start in candidates {
      for rule in rules where text.matches(rule.trigger, at: start) {
        let before = text[start - 1]
        if start > 0 && Bytes.isIdentifierByte(before) { continue }
        if start > 0 && before == 0x2E && !rule.afterDot { continue }
        let found: [(String, Int)]
        switch rule.argument {
        case .member:
          found = text.name(at: start + rule.trigger.count).flatMap { name, end in
            Bytes.isIdentifierByte(text[end]) ? nil : [(name, start + rule.trigger.count)]
          } ?? []
        case .string(let quotes, let parenthesis):
          found = stringArgument(text, from: start + rule.trigger.count, quotes: quotes, parenthesis: parenthesis)
            .map { [$0] } ?? []
        case .destructuring:
          found = destructured(text, trigger: start, end: start + rule.trigger.count)
        }
        for item in found where !style.isCommented(text, at: start) { out.append((item.0, item.1)) }
      }
    }
    return out
  }

  /// A string literal that is exactly a name, after whitespace (newlines too) and an optional `(`.
  static func stringArgument(_ text: ScanText, from offset: Int, quotes: [UInt8], parenthesis: Bool) -> (String, Int)? {
    var i = offset
    while Bytes.isSpace(text[i]) { i += 1 }
    if parenthesis && text[i] == 0x28 {
      i += 1
      while Bytes.isSpace(text[i]) { i += 1 }
    }
    let quote = text[i]
    guard quotes.contains(quote), let (name, end) = text.name(at: i + 1), text[end] == quote else { return nil }
    // Not a piece of a longer expression: `"PREFIX_" + x`, `"%s" % x`, `"A".lower()`.
    var k = end + 1
    while Bytes.isBlank(text[k]) { k += 1 }
    if "+.%*&/-".utf8.contains(text[k]) { return nil }
    return (name, i + 1)
  }

  /// `{ A, B: b, C = 1, ...rest } = process.env`: the keys, when the trigger follows `= ` and a `}`.
  static func destructured(_ text: ScanText, trigger: Int, end: Int) -> [(String, Int)] {
    // Only a whole `process.env` expression: not `process.env.X`, `process.env[`, `process.env?.`.
    let next = text[end]
    if next == 0x2E || next == 0x5B || next == 0x3F || Bytes.isIdentifierByte(next) { return [] }
    var i = trigger - 1
    while i >= 0 && Bytes.isSpace(text[i]) { i -= 1 }
    guard i >= 1, text[i] == 0x3D, !"=!<>+-*/%&|^?".utf8.contains(text[i - 1]) else { return [] }
    i -= 1
    while i >= 0 && Bytes.isSpace(text[i]) { i -= 1 }
    guard i >= 0, text[i] == 0x7D else { return [] }
    let close = i
    var depth = 0
    var open = -1
    while i >= 0 {
      if text[i] == 0x7D { depth += 1 }
      if text[i] == 0x7B {
        depth -= 1
        if depth == 0 {
          open = i
          break
        }
      }
      i -= 1
    }
    guard open >= 0 else { return [] }
    var out: [(String, Int)] = []
    var itemStart = true
    depth = 0
    var j = open + 1
    while j < close {
      let c = text[j]
      if depth == 0 && itemStart && !Bytes.isSpace(c) {
        itemStart = false
        if c == 0x22 || c == 0x27 {
          if let (name, e) = text.name(at: j + 1), text[e] == c { out.append((name, j + 1)) }
        } else if let (name, _) = text.name(at: j) {
          out.append((name, j))
        }
      }
      switch c {
      case 0x7B, 0x5B, 0x28: depth += 1
      case 0x7D, 0x5D, 0x29: depth -= 1
      case 0x2C where depth == 0: itemStart = true
      default: break
      }
      j += 1
    }
    return out
  }
}
