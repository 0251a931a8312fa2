import CofferCore

/// Writes `.env` text by Coffer's writing rules (docs/dotenv.md).
///
/// `KEY=VALUE` with no spaces around `=`, LF endings, a final newline and no BOM. A value is written bare when it
/// matches `^[A-Za-z0-9_./:@%+,=-]+$`; otherwise in single quotes (newlines written as real newlines) when it has
/// no `'`, no CR, no `${`, no `\\` (two backslashes in a row) and does not end in `\`; otherwise in double quotes,
/// escaping `\` `"` `$` `` ` `` and CR as `\\` `\"` `\$` `` \` `` `\r`, so that a shell sourcing the file never runs a
/// command. Every value survives `parse(serialize(value)) == value`; ``differingReaders(_:)`` names the other
/// readers that would read the written form differently (docs/dotenv.md has the table).
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

  /// A fresh file, as ``serialize(_:)-([(name:value:)])`` writes it, and one warning per entry that some other
  /// reader would read differently. The warnings are data: the caller renders them (never with the value).
  ///
  /// - Precondition: every name satisfies ``isValidName(_:)`` and every value is valid UTF-8.
  /// - Parameter entries: the names and values.
  /// - Returns: the file's bytes and the warnings, in entry order.
  public static func serializeWithWarnings(
    _ entries: [(name: String, value: SecretValue)]
  ) -> (bytes: [UInt8], warnings: [DotEnvWriteWarning]) {
    (serialize(entries), entries.compactMap { warning(name: $0.name, value: $0.value) })
  }

  /// The warning for writing one value under a name, or `nil` when every known reader reads it identically.
  ///
  /// - Precondition: `value.isValidUTF8`.
  /// - Parameters:
  ///   - name: the key, named in the warning.
  ///   - value: the value (never part of the warning).
  /// - Returns: the warning naming the readers that differ, or `nil`.
  public static func warning(name: String, value: SecretValue) -> DotEnvWriteWarning? {
    let readers = differingReaders(value)
    guard !readers.isEmpty else { return nil }
    return DotEnvWriteWarning(
      name: name, readers: readers, mayHideFollowingLines: form(of: value.reveal()) == .double && value.reveal().last == 0x5C)
  }

  /// The readers (other than Coffer) that read ``encode(_:)``'s output for this value as something else.
  ///
  /// Bare and single-quoted values are read identically by all of them. A double-quoted value is read the same by
  /// Coffer, compose-go, Ruby dotenv and the shells as long as it has no CR or backtick; the others read some
  /// escapes literally (docs/dotenv.md has the table and where each row comes from).
  /// - Precondition: `value.isValidUTF8`.
  /// - Parameter value: the value.
  /// - Returns: the readers that differ, in ``DotEnvReader`` declaration order; empty when the file is portable.
  public static func differingReaders(_ value: SecretValue) -> [DotEnvReader] {
    let bytes = value.reveal()
    guard form(of: bytes) == .double else { return [] }
    let backslash = bytes.contains(0x5C), quote = bytes.contains(0x22), dollar = bytes.contains(0x24)
    let backtick = bytes.contains(0x60), cr = bytes.contains(0x0D)
    var out: [DotEnvReader] = []
    // python-dotenv keeps `\$` and `\`` as written (and expands `${` after the backslash); and it takes the `\"` of
    // a value that ends in `\` for an escaped quote, so it reads on to the next `"` in the file.
    if dollar || backtick || bytes.last == 0x5C { out.append(.pythonDotenv) }
    // motdotla/dotenv decodes only `\n` and `\r`: `\\`, `\"`, `\$`, `\`` keep their backslash.
    if backslash || quote || dollar || backtick { out.append(.dotenvNode) }
    // dotenvx decodes `\$` but keeps `\\` and `\"`; `\`` is not known to be decoded.
    if backslash || quote || backtick { out.append(.dotenvx) }
    // Node's util.parseEnv decodes only `\n` (and ends a value at `\"`).
    if backslash || quote || dollar || backtick || cr { out.append(.nodeParseEnv) }
    // compose-go decodes `\\ \" \$ \r` but keeps `\``.
    if backtick { out.append(.composeGo) }
    // Ruby dotenv and the shells keep `\r` as two characters.
    if cr { out += [.rubyDotenv, .bash, .dash] }
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
    if form(of: bytes) == .bare {
      return String(decoding: bytes, as: UTF8.self)
    }
    if form(of: bytes) == .single {
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
      case 0x60: out += [0x5C, 0x60]  // ` -> \`
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

  /// The three ways a value is written.
  enum Form { case bare, single, double }

  /// Which form the writing rules choose for a value.
  static func form(of bytes: [UInt8]) -> Form {
    if !bytes.isEmpty && bytes.allSatisfy(isBareByte) { return .bare }
    if bytes.last == 0x5C { return .double }
    var previous: UInt8 = 0
    for byte in bytes {
      switch byte {
      case 0x27, 0x0D: return .double
      case 0x7B where previous == 0x24: return .double  // ${
      case 0x5C where previous == 0x5C: return .double  // \\
      default: break
      }
      previous = byte
    }
    return .single
  }
}

/// A program that reads `.env` files, other than Coffer, whose reading of Coffer's output is known
/// (docs/dotenv.md, "Who reads what Coffer writes").
public enum DotEnvReader: String, CaseIterable, Sendable {
  /// python-dotenv (`dotenv_values`, `load_dotenv`).
  case pythonDotenv = "python-dotenv"
  /// motdotla/dotenv for Node (`require('dotenv').config()`).
  case dotenvNode = "dotenv (Node)"
  /// dotenvx.
  case dotenvx = "dotenvx"
  /// Node's built-in `util.parseEnv`, `process.loadEnvFile` and `node --env-file`.
  case nodeParseEnv = "Node util.parseEnv"
  /// docker compose's reader (compose-go).
  case composeGo = "docker compose"
  /// Ruby dotenv.
  case rubyDotenv = "Ruby dotenv"
  /// `set -a; . FILE` in bash.
  case bash = "bash"
  /// `set -a; . FILE` in dash (`/bin/sh` on Debian and Ubuntu).
  case dash = "dash"
}

/// A value was written exactly for Coffer's reader (and safely for shells), but some other readers will read it as
/// something else. Names the key and the readers; never contains the value.
public struct DotEnvWriteWarning: Sendable, Equatable, CustomStringConvertible {
  /// The key whose value is affected.
  public let name: String
  /// The readers that read it differently, in ``DotEnvReader/allCases`` order.
  public let readers: [DotEnvReader]
  /// Whether python-dotenv may also misread the lines after this entry (a value that ends in `\`: python-dotenv
  /// reads on to the next `"` in the file).
  public let mayHideFollowingLines: Bool

  /// Creates a warning.
  /// - Parameters:
  ///   - name: the key.
  ///   - readers: the readers that differ (not empty).
  ///   - mayHideFollowingLines: whether python-dotenv may also misread the lines that follow.
  public init(name: String, readers: [DotEnvReader], mayHideFollowingLines: Bool = false) {
    self.name = name
    self.readers = readers
    self.mayHideFollowingLines = mayHideFollowingLines
  }

  /// `<name>: no .env quoting is read the same by every reader; <readers> will read this value differently`, and
  /// `(python-dotenv may also misread the lines after it)` when ``mayHideFollowingLines``.
  public var description: String {
    "\(name): no .env quoting is read the same by every reader; "
      + "\(readers.map(\.rawValue).joined(separator: ", ")) will read this value differently"
      + (mayHideFollowingLines ? " (python-dotenv may also misread the lines after it)" : "")
  }
}
