/// One provider's credential format in the built-in catalog (``FormatCatalog``): its prefix, length, alphabet,
/// structure and checksum, the variable names it usually lives in, and where those facts come from.
///
/// Checking a value never backtracks and is O(n) in the value's length (a constant number of passes), so any value,
/// however long or hostile, is checked quickly. Every text a format produces (``FormatMismatch/description``,
/// ``label``, ``title``) comes from the catalog, never from the value. The facts are listed in docs/formats.md.
public struct SecretFormat: Sendable, Hashable, Identifiable, CustomStringConvertible {
  /// The stable name used by `format:` in coffer.yaml, such as `slack-bot-token`.
  public let id: String
  /// Who issues it, such as `Slack`.
  public let provider: String
  /// What it is, as a noun phrase without an article, such as `Slack bot token`.
  public let title: String
  /// The shape in words, such as `xoxb- + 10-13 digits + - + 10-13 digits + - + 20-40 base62`.
  public let shape: String
  /// The fixed prefixes a value may start with (any one of them); empty when the format has none.
  public let prefixes: [String]
  /// The allowed total lengths, in characters.
  public let lengths: LengthRule
  /// The checksum a value carries, if any.
  public let checksum: FormatChecksum?
  /// The variable names this format usually lives in (the names ``FormatCatalog/inferredExpectation(forName:)``
  /// maps to it).
  public let usualNames: [String]
  /// Where the facts come from (repositories at a commit, documentation pages).
  public let sources: [String]
  /// A valid, obviously fake example (used in docs/formats.md and the tests).
  public let example: String
  /// Whether the value is a secret; `false` for identifiers and publishable keys.
  public let isSecret: Bool
  /// Whether a full match is specific enough to name the format when it appears where another was expected
  /// (a distinctive prefix or marker); `false` for bare UUIDs, hex or base64 strings.
  public let identifiesItself: Bool

  let alphabet: ByteClass
  let structure: [Shape]
  let validator: (@Sendable ([UInt8]) -> String?)?
  let shortLabel: String?
  let prefixIdentifies: Bool
  let lengthIsCapped: Bool
  /// Whether a URL scheme among ``prefixes`` may carry a driver (`postgresql+asyncpg://` for `postgresql://`), as
  /// SQLAlchemy and others write them: `+` and letters, digits or `_` before `://`.
  let schemeDrivers: Bool

  init(
    id: String, provider: String, title: String, shape: String, prefixes: [String] = [], lengths: LengthRule,
    alphabet: ByteClass, structure: [Shape] = [], validator: (@Sendable ([UInt8]) -> String?)? = nil,
    checksum: FormatChecksum? = nil, usualNames: [String], sources: [String], example: String,
    isSecret: Bool = true, identifiesItself: Bool = true, label: String? = nil, prefixIdentifies: Bool = true,
    lengthIsCapped: Bool = false, schemeDrivers: Bool = false
  ) {
    self.id = id
    self.provider = provider
    self.title = title
    self.shape = shape
    self.prefixes = prefixes
    self.lengths = lengths
    self.alphabet = alphabet
    self.structure = structure
    self.validator = validator
    self.checksum = checksum
    self.usualNames = usualNames
    self.sources = sources
    self.example = example
    self.isSecret = isSecret
    self.identifiesItself = identifiesItself
    self.shortLabel = label
    self.prefixIdentifies = prefixIdentifies
    self.lengthIsCapped = lengthIsCapped
    self.schemeDrivers = schemeDrivers
  }

  /// The title with its article, such as `a Slack bot token`.
  public var phrase: String { FormatText.article(title) + " " + title }

  /// What to show in parentheses after the title: the prefixes (`xoxb-`), or a short shape for formats without one
  /// (`UUID`). Always catalog text.
  public var label: String { shortLabel ?? FormatExpectation.minimalPrefixes(prefixes).joined(separator: ", ") }

  /// The ``id``.
  public var description: String { id }

  /// Formats are identified by ``id``.
  public static func == (lhs: SecretFormat, rhs: SecretFormat) -> Bool { lhs.id == rhs.id }

  /// Hashes the ``id``.
  public func hash(into hasher: inout Hasher) { hasher.combine(id) }

  /// Checks a value against this format.
  ///
  /// Rules apply in this order and the first that fails is the verdict: prefix, alphabet (after the prefix), length,
  /// structure, checksum.
  /// - Parameter value: the value.
  /// - Returns: ``FormatVerdict/match``, ``FormatVerdict/badChecksum``, or ``FormatVerdict/mismatch(_:)`` with the
  ///   rule that failed.
  public func verdict(for value: SecretValue) -> FormatVerdict { verdict(for: value.reveal()) }

  /// Checks raw bytes against this format; see ``verdict(for:)-(SecretValue)``.
  /// - Parameter bytes: the value's bytes.
  /// - Returns: the verdict.
  public func verdict(for bytes: [UInt8]) -> FormatVerdict {
    let prefixLength: Int
    if prefixes.isEmpty {
      prefixLength = 0
    } else if let matched = matchedPrefix(bytes) {
      prefixLength = matched
    } else {
      return .mismatch(.prefix(expected: FormatExpectation.minimalPrefixes(prefixes)))
    }
    var position = 0  // 1-based, in Unicode scalars from the start of the value
    for index in bytes.indices {
      let byte = bytes[index]
      if byte & 0xC0 != 0x80 { position += 1 }
      if index >= prefixLength, !alphabet.contains(byte) {
        return .mismatch(.alphabet(position: position, alphabet: alphabet.name))
      }
    }
    let length = Self.scalarCount(bytes)
    guard lengths.allows(length) else { return .mismatch(.length(actual: length, expected: lengths)) }
    if !structure.isEmpty, !structure.contains(where: { $0.matches(bytes, from: prefixLength, to: bytes.count) }) {
      return .mismatch(.structure("does not have the shape " + shape))
    }
    if let validator, let detail = validator(bytes) { return .mismatch(.structure(detail)) }
    if checksum == .crc32Base62, !TokenChecksum.verify(bytes) { return .badChecksum }
    return .match
  }

  /// The length of the longest prefix that `bytes` starts with, if any.
  func matchedPrefix(_ bytes: [UInt8]) -> Int? {
    var best: Int?
    for prefix in prefixes where bytes.starts(with: prefix.utf8) {
      best = Swift.max(best ?? 0, prefix.utf8.count)
    }
    if best == nil, schemeDrivers {
      // `scheme+driver://`: the scheme of a prefix, `+`, a non-empty driver name, then `://`.
      for prefix in prefixes where prefix.hasSuffix("://") {
        let scheme = Array(prefix.utf8.dropLast(3)) + [UInt8(ascii: "+")]
        guard bytes.starts(with: scheme) else { continue }
        var index = scheme.count
        while index < bytes.count, bytes[index] == UInt8(ascii: "_") || (bytes[index] < 0x80 && UInt8(bytes[index]).isASCIILetterOrDigit) {
          index += 1
        }
        if index > scheme.count, bytes[index...].starts(with: Array("://".utf8)) {
          best = Swift.max(best ?? 0, index + 3)
        }
      }
    }
    return best
  }

  /// Whether ``lengths`` agrees with what the prefixes and shapes allow (checked when the catalog is built in debug
  /// builds): exact lengths within their bounds, a range equal to them (or, for a format whose length is capped
  /// below what its shapes allow, such as Snowflake's 63 characters, with a smaller maximum). Formats without shapes
  /// agree trivially.
  var lengthsAgreeWithStructure: Bool {
    guard !structure.isEmpty else { return true }
    let prefixLengths = prefixes.isEmpty ? [0] : prefixes.map(\.utf8.count)
    let low = (prefixLengths.min() ?? 0) + (structure.map(\.minLength).min() ?? 0)
    let high = (prefixLengths.max() ?? 0) + (structure.map(\.maxLength).max() ?? 0)
    switch lengths {
    case .exactly(let list): return list.allSatisfy { (low...high).contains($0) }
    case .range(let min, let max): return min == low && (max == high || lengthIsCapped && max < high)
    case .atLeast: return false
    }
  }

  static func scalarCount(_ bytes: [UInt8]) -> Int { bytes.reduce(0) { $0 + ($1 & 0xC0 == 0x80 ? 0 : 1) } }
}

/// A checksum a format carries inside its values.
public enum FormatChecksum: String, Sendable, Hashable {
  /// The last 6 characters are the CRC-32 of characters 5-34, in base62 (``TokenChecksum``): GitHub `gh*_` and npm.
  case crc32Base62 = "CRC-32 of the 30 random characters, base62 (0-9A-Za-z), last 6 characters"
}

/// The result of checking one value against one format.
public enum FormatVerdict: Sendable, Hashable {
  /// Every rule holds.
  case match
  /// The value has the right shape, but its checksum does not match: a typo or a truncated copy.
  case badChecksum
  /// A rule fails.
  case mismatch(FormatMismatch)
}

/// Why a value is not of a format. The description is catalog text and positions; it never quotes the value.
public enum FormatMismatch: Sendable, Hashable, CustomStringConvertible {
  /// The value starts with none of these prefixes.
  case prefix(expected: [String])
  /// The value has the wrong number of characters.
  case length(actual: Int, expected: LengthRule)
  /// The character at this 1-based position is outside the format's alphabet.
  case alphabet(position: Int, alphabet: String)
  /// The characters are right but they are not arranged as the format requires.
  case structure(String)

  /// `does not start with xoxb-`, `is 50 characters, needs 51`, `has a character outside base62 (A-Z a-z 0-9) at
  /// position 12`, `does not have the shape …`.
  public var description: String {
    switch self {
    case .prefix(let expected): return "does not start with " + FormatText.list(expected, conjunction: "or")
    case .length(let actual, let expected): return "is \(FormatText.characters(actual)), needs \(expected.description)"
    case .alphabet(let position, let alphabet): return "has a character outside \(alphabet) at position \(position)"
    case .structure(let detail): return detail
    }
  }
}

extension UInt8 {
  /// `[A-Za-z0-9]`.
  fileprivate var isASCIILetterOrDigit: Bool {
    (0x30...0x39).contains(self) || (0x41...0x5A).contains(self) || (0x61...0x7A).contains(self)
  }
}
