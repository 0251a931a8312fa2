import CofferCore

/// How a value appears in the text where it was found.
package enum Encoding: String, Sendable, CaseIterable, Comparable {
  /// The bytes as stored.
  case raw
  /// Base64, standard alphabet (RFC 4648 §4), padded or not, of the value or of the value and a trailing newline,
  /// or embedded in a longer base64 text at any of the three byte alignments.
  case base64
  /// Base64 with the URL and filename safe alphabet (RFC 4648 §5), in the same forms as ``base64``.
  case base64url
  /// Percent-encoding (RFC 3986 §2.1) of any subset of the bytes, with upper- or lower-case hex, and `+` for a
  /// space (form encoding): found by decoding while matching, not by listing forms.
  case percent
  /// Every byte as two hex digits, lower- or upper-case.
  case hex
  /// The contents of a JSON string (RFC 8259 §7), with or without `\/`.
  case json
  /// The contents of a POSIX shell single-quoted word, each `'` written `'\''`.
  case shellSingleQuoted = "shell-single-quoted"
  /// A POSIX shell word with each special character escaped by a backslash (as bash's `printf %q` writes it).
  case shellBackslash = "shell-backslash"
  /// The contents of a POSIX shell double-quoted word (`$`, `` ` ``, `"` and `\` escaped).
  case shellDoubleQuoted = "shell-double-quoted"
  /// A multi-line value with CRLF line ends, or with its line breaks turned into spaces.
  case reflowed
  /// One line of a multi-line value.
  case line
  /// The first or the last half of a long single-line value: the value split in two anywhere, e.g. across two
  /// string literals.
  case half

  /// Which of two encodings to name when both match the same text: the more specific, earlier in this order.
  package static func < (a: Encoding, b: Encoding) -> Bool {
    let order = Encoding.allCases
    return order.firstIndex(of: a)! < order.firstIndex(of: b)!
  }
}

/// One byte string to look for, and the encoding it represents.
package struct Variant: Sendable, Equatable {
  /// The bytes to find.
  package let bytes: [UInt8]
  /// What they are.
  package let encoding: Encoding
}

/// The forms a value takes when it leaks, as byte strings to look for.
///
/// Pure and deterministic. Forms shorter than ``minimumLength`` are never produced.
package enum Encodings {
  /// Values shorter than this many bytes produce no variants at all (they would match everywhere).
  package static let minimumLength = 4
  /// Lines of a multi-line value shorter than this are not looked for on their own.
  package static let minimumLineLength = 8
  /// Single-line values at least this long are also looked for in halves.
  package static let minimumSplitLength = 24

  /// Every form of a value worth looking for, without duplicates, raw first.
  ///
  /// - Parameters:
  ///   - value: the value's bytes.
  ///   - distinctiveParts: when true (scanning), lines and halves are kept only when they carry a run of letters
  ///     and digits that cannot be boilerplate (12 characters for a line, 8 for a half, with at least two of lower
  ///     case, upper case and digits), so a line like `"type": "service_account",` of a JSON key file does not
  ///     match every other key file; when false (redaction), every line of at least ``minimumLineLength`` bytes and
  ///     both halves are kept.
  /// - Returns: an empty array when the value is shorter than ``minimumLength``.
  package static func variants(of value: [UInt8], distinctiveParts: Bool) -> [Variant] {
    guard value.count >= minimumLength else { return [] }
    var out: [Variant] = []
    var seen = Set<ByteString>()
    func add(_ bytes: [UInt8], _ encoding: Encoding) {
      guard bytes.count >= minimumLength, seen.insert(ByteString(bytes)).inserted else { return }
      out.append(Variant(bytes: bytes, encoding: encoding))
    }
    add(value, .raw)
    for v in base64Forms(value, urlSafe: false) { add(v, .base64) }
    for v in base64Forms(value, urlSafe: true) { add(v, .base64url) }
    // Percent-encoding is not listed here: encoders escape different subsets in either case, so ``PercentStream``
    // decodes the text while matching instead (see Percent.swift).
    add(hex(value, upper: false), .hex)
    add(hex(value, upper: true), .hex)
    // JSON writers differ in the hex case of `\u00XX` (Python and Go lower, Jackson and .NET upper) and in whether
    // `\n`, `\t`, … are spelled out or written as `\u000a`: every combination, with and without `\/`. Values without
    // control characters or slashes give one form.
    for escapeSlash in [false, true] {
      for upper in [false, true] {
        for shortEscapes in [true, false] {
          add(json(value, escapeSlash: escapeSlash, upper: upper, shortEscapes: shortEscapes), .json)
        }
      }
    }
    add(shellSingleQuoted(value), .shellSingleQuoted)
    if let b = shellBackslash(value) { add(b, .shellBackslash) }
    add(shellDoubleQuoted(value), .shellDoubleQuoted)
    let lines = splitLines(value)
    if lines.count > 1 {
      add(Array(lines.joined(separator: [0x0A])), .reflowed)
      add(Array(lines.joined(separator: [0x0D, 0x0A])), .reflowed)
      add(Array(lines.joined(separator: [0x20])), .reflowed)
      for line in lines where line.count >= minimumLineLength && !isArmor(line) {
        if !distinctiveParts || isDistinctive(line, minimumRun: 12) { add(line, .line) }
      }
    } else if value.count >= minimumSplitLength {
      let half = value.count / 2
      for part in [Array(value.prefix(half)), Array(value.suffix(half))] {
        if !distinctiveParts || isDistinctive(part, minimumRun: 8) { add(part, .half) }
      }
    }
    return out
  }

  // MARK: - The encodings

  static let standardAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

  /// Base64 forms: full (padded and unpadded) of the value and of the value plus LF, and the three alignments of
  /// the value inside a longer encoded text (only the characters that depend on the value's bytes alone).
  static func base64Forms(_ value: [UInt8], urlSafe: Bool) -> [[UInt8]] {
    var forms: [[UInt8]] = []
    for input in [value, value + [0x0A]] {
      let padded = Base64.encodeBytes(input, padded: true)
      forms.append(padded)
      forms.append(Array(padded.prefix { $0 != UInt8(ascii: "=") }))
    }
    for shift in 0..<3 {
      let encoded = Base64.encodeBytes([UInt8](repeating: 0, count: shift) + value, padded: false)
      // Character i carries bits [6i, 6i+6); the value's bits are [8·shift, 8·(shift+n)).
      let first = (8 * shift + 5) / 6
      let end = 8 * (shift + value.count) / 6
      if end > first { forms.append(Array(encoded[first..<end])) }
    }
    guard urlSafe else { return forms }
    return forms.map { form in
      form.map { $0 == UInt8(ascii: "+") ? UInt8(ascii: "-") : $0 == UInt8(ascii: "/") ? UInt8(ascii: "_") : $0 }
    }
  }

  static func hexDigits(upper: Bool) -> [UInt8] {
    Array((upper ? "0123456789ABCDEF" : "0123456789abcdef").utf8)
  }

  static func percent(_ value: [UInt8], upper: Bool) -> [UInt8] {
    let digits = hexDigits(upper: upper)
    var out: [UInt8] = []
    for b in value {
      if isAlphanumeric(b) || b == UInt8(ascii: "-") || b == UInt8(ascii: ".") || b == UInt8(ascii: "_")
        || b == UInt8(ascii: "~")
      {
        out.append(b)
      } else {
        out += [UInt8(ascii: "%"), digits[Int(b >> 4)], digits[Int(b & 15)]]
      }
    }
    return out
  }

  static func hex(_ value: [UInt8], upper: Bool) -> [UInt8] {
    let digits = hexDigits(upper: upper)
    var out: [UInt8] = []
    out.reserveCapacity(value.count * 2)
    for b in value { out += [digits[Int(b >> 4)], digits[Int(b & 15)]] }
    return out
  }

  /// The contents of a JSON string holding `value` (RFC 8259 §7).
  /// - Parameters:
  ///   - escapeSlash: whether `/` is written `\/`.
  ///   - upper: whether `\u00XX` uses upper-case hex digits.
  ///   - shortEscapes: whether LF, CR, tab, backspace and form feed are `\n` `\r` `\t` `\b` `\f` (else `\u00XX`).
  static func json(_ value: [UInt8], escapeSlash: Bool, upper: Bool = false, shortEscapes: Bool = true) -> [UInt8] {
    let digits = hexDigits(upper: upper)
    var out: [UInt8] = []
    for b in value {
      switch b {
      case 0x22: out += Array(#"\""#.utf8)
      case 0x5C: out += Array(#"\\"#.utf8)
      case 0x2F where escapeSlash: out += Array(#"\/"#.utf8)
      case 0x0A where shortEscapes: out += Array(#"\n"#.utf8)
      case 0x0D where shortEscapes: out += Array(#"\r"#.utf8)
      case 0x09 where shortEscapes: out += Array(#"\t"#.utf8)
      case 0x08 where shortEscapes: out += Array(#"\b"#.utf8)
      case 0x0C where shortEscapes: out += Array(#"\f"#.utf8)
      case 0..<0x20: out += Array(#"\u00"#.utf8) + [digits[Int(b >> 4)], digits[Int(b & 15)]]
      default: out.append(b)
      }
    }
    return out
  }

  static func shellSingleQuoted(_ value: [UInt8]) -> [UInt8] {
    var out: [UInt8] = []
    for b in value {
      if b == UInt8(ascii: "'") { out += Array(#"'\''"#.utf8) } else { out.append(b) }
    }
    return out
  }

  /// Backslash before every byte outside `[A-Za-z0-9_./:@%+=,^-]` and below 0x80; nil when the value holds a
  /// control character (bash writes those as `$'…'`, which this form does not cover).
  static func shellBackslash(_ value: [UInt8]) -> [UInt8]? {
    var out: [UInt8] = []
    for b in value {
      if b < 0x20 || b == 0x7F { return nil }
      if b >= 0x80 || isAlphanumeric(b) || Array("_./:@%+=,^-".utf8).contains(b) {
        out.append(b)
      } else {
        out += [UInt8(ascii: "\\"), b]
      }
    }
    return out
  }

  static func shellDoubleQuoted(_ value: [UInt8]) -> [UInt8] {
    var out: [UInt8] = []
    for b in value {
      if b == UInt8(ascii: "$") || b == UInt8(ascii: "`") || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") {
        out.append(UInt8(ascii: "\\"))
      }
      out.append(b)
    }
    return out
  }

  // MARK: - Lines

  /// The lines of a value split at LF, each without a trailing CR; a final empty line is dropped.
  static func splitLines(_ value: [UInt8]) -> [[UInt8]] {
    var lines = value.split(separator: 0x0A, omittingEmptySubsequences: false).map { line -> [UInt8] in
      line.last == 0x0D ? Array(line.dropLast()) : Array(line)
    }
    if lines.count > 1, lines.last?.isEmpty == true { lines.removeLast() }
    return lines
  }

  /// Whether a line is PEM armor (`-----BEGIN …-----`/`-----END …-----`): the same in every key, never secret.
  static func isArmor(_ line: [UInt8]) -> Bool {
    let trimmed = line.drop { $0 == 0x20 || $0 == 0x09 }
    return trimmed.starts(with: Array("-----BEGIN ".utf8)) || trimmed.starts(with: Array("-----END ".utf8))
  }

  /// Whether some maximal run of ASCII letters and digits is at least `minimumRun` long and mixes at least two of
  /// lower case, upper case and digits.
  static func isDistinctive(_ bytes: [UInt8], minimumRun: Int) -> Bool {
    var run = 0
    var kinds: UInt8 = 0
    for b in bytes + [0x20] {
      if isAlphanumeric(b) {
        run += 1
        kinds |= b <= 0x39 ? 1 : b <= 0x5A ? 2 : 4
      } else {
        if run >= minimumRun, kinds.nonzeroBitCount >= 2 { return true }
        run = 0
        kinds = 0
      }
    }
    return false
  }

  static func isAlphanumeric(_ b: UInt8) -> Bool {
    (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
  }
}

/// A byte string as a set or dictionary key, hashed in one call over its bytes (an array hashes byte by byte).
struct ByteString: Hashable {
  let bytes: [UInt8]

  init(_ bytes: [UInt8]) { self.bytes = bytes }

  func hash(into hasher: inout Hasher) {
    bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
  }
}
