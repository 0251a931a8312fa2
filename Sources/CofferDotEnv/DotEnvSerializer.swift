import CofferCore

/// Writes `.env` text by Coffer's writing rules (docs/dotenv.md).
///
/// `KEY=VALUE` with no spaces around `=`, LF endings, a final newline and no BOM. A value is written bare when it
/// matches `^[A-Za-z0-9_./:@%+,=-]+$`; otherwise in single quotes (newlines written as real newlines) when it has
/// no `'`, `\`, CR or `${`; otherwise in double quotes, escaping `\` `"` `$` and CR as `\\` `\"` `\$` `\r`.
/// Every value survives `parse(serialize(value)) == value`.
public enum DotEnvSerializer {
  /// The bytes of a document: untouched lines exactly as read, edited and new lines with LF endings.
  /// - Parameter document: the document.
  /// - Returns: the file's bytes.
  public static func serialize(_ document: DotEnvDocument) -> [UInt8] { document.bytes }

  /// A fresh file: one `NAME=<encoded>` line per entry, in the given order.
  ///
  /// - Precondition: every name satisfies ``isValidName(_:)`` and every value is valid UTF-8.
  /// - Parameter entries: the names and values; a repeated name is written twice (the last one wins on reading).
  /// - Returns: the file's bytes.
  public static func serialize(_ entries: [(name: String, value: SecretValue)]) -> [UInt8] {
    var out: [UInt8] = []
    for entry in entries {
      precondition(isValidName(entry.name), "invalid .env key name")
      out += entry.name.utf8
      out.append(0x3D)
      out += encode(entry.value).utf8
      out.append(0x0A)
    }
    return out
  }

  /// The right-hand side of `NAME=` for a value: bare, `'...'` or `"..."` per the writing rules.
  ///
  /// - Precondition: `value.isValidUTF8` (a `.env` file is UTF-8 text; check ``canEncode(_:)`` first).
  /// - Parameter value: the value, stored byte-exact.
  /// - Returns: the encoded text, which reads back as exactly `value`.
  public static func encode(_ value: SecretValue) -> String {
    precondition(value.isValidUTF8, ".env values must be valid UTF-8")
    let bytes = value.reveal()
    if !bytes.isEmpty && bytes.allSatisfy(isBareByte) {
      return String(decoding: bytes, as: UTF8.self)
    }
    if !needsDoubleQuotes(bytes) {
      var out: [UInt8] = [0x27]
      out += bytes
      out.append(0x27)
      return String(decoding: out, as: UTF8.self)
    }
    var out: [UInt8] = [0x22]
    out.reserveCapacity(bytes.count + 8)
    for byte in bytes {
      switch byte {
      case 0x5C: out += [0x5C, 0x5C]  // \ -> \\
      case 0x22: out += [0x5C, 0x22]  // " -> \"
      case 0x24: out += [0x5C, 0x24]  // $ -> \$
      case 0x0D: out += [0x5C, 0x72]  // CR -> \r
      default: out.append(byte)
      }
    }
    out.append(0x22)
    return String(decoding: out, as: UTF8.self)
  }

  /// Whether a value can be written to a `.env` file (it must be valid UTF-8).
  /// - Parameter value: the value.
  /// - Returns: `true` if ``encode(_:)`` accepts it.
  public static func canEncode(_ value: SecretValue) -> Bool { value.isValidUTF8 }

  /// Whether a key name is valid: `[A-Za-z_][A-Za-z0-9_.-]*`.
  /// - Parameter name: the candidate key.
  /// - Returns: `true` if the name may be read and written.
  public static func isValidName(_ name: String) -> Bool {
    var iterator = name.utf8.makeIterator()
    guard let first = iterator.next(), isNameStartByte(first) else { return false }
    while let byte = iterator.next() {
      guard isNameByte(byte) else { return false }
    }
    return true
  }

  // MARK: - Byte classes

  /// `[A-Za-z_]`.
  static func isNameStartByte(_ byte: UInt8) -> Bool {
    (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x5F
  }

  /// `[A-Za-z0-9_.-]`.
  static func isNameByte(_ byte: UInt8) -> Bool {
    isNameStartByte(byte) || (byte >= 0x30 && byte <= 0x39) || byte == 0x2E || byte == 0x2D
  }

  /// `[A-Za-z0-9_./:@%+,=-]`.
  static func isBareByte(_ byte: UInt8) -> Bool {
    if isNameStartByte(byte) || (byte >= 0x30 && byte <= 0x39) { return true }
    switch byte {
    case 0x2E, 0x2F, 0x3A, 0x40, 0x25, 0x2B, 0x2C, 0x3D, 0x2D: return true  // . / : @ % + , = -
    default: return false
    }
  }

  /// Whether the single-quote form is ruled out: the value has `'`, `\`, CR or `${`.
  private static func needsDoubleQuotes(_ bytes: [UInt8]) -> Bool {
    var previous: UInt8 = 0
    for byte in bytes {
      switch byte {
      case 0x27, 0x5C, 0x0D: return true
      case 0x7B where previous == 0x24: return true
      default: break
      }
      previous = byte
    }
    return false
  }
}
