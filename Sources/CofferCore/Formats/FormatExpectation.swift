/// What a secret is expected to hold: one catalog format, or a family of them (``FormatCatalog/families``), such as
/// `openai-api-key` for the three kinds of OpenAI API key.
public struct FormatExpectation: Sendable, Hashable, Identifiable {
  /// The name used by `format:` in coffer.yaml: a format's or a family's ``SecretFormat/id``.
  public let id: String
  /// What it is, without an article, such as `OpenAI API key`.
  public let title: String
  /// The formats any one of which satisfies the expectation, in catalog order.
  public let formats: [SecretFormat]

  /// Creates an expectation.
  /// - Parameters:
  ///   - id: the name used by `format:`.
  ///   - title: a noun phrase without an article.
  ///   - formats: the accepted formats; at least one.
  public init(id: String, title: String, formats: [SecretFormat]) {
    self.id = id
    self.title = title
    self.formats = formats
  }

  /// The expectation of exactly one format.
  /// - Parameter format: the format.
  public init(_ format: SecretFormat) {
    self.init(id: format.id, title: format.title, formats: [format])
  }

  /// The title with its article, such as `an OpenAI API key`.
  public var phrase: String { FormatText.article(title) + " " + title }

  /// What to show in parentheses after the title: the shortest prefixes that cover every member, then the short
  /// shapes of members that have one instead (no prefix, or a prefix that says little), such as `sk-` or
  /// `pcsk_, UUID`.
  public var label: String {
    var parts = Self.minimalPrefixes(formats.filter { $0.shortLabel == nil }.flatMap(\.prefixes))
    for format in formats where format.shortLabel != nil || format.prefixes.isEmpty {
      if !parts.contains(format.label) { parts.append(format.label) }
    }
    return parts.joined(separator: ", ")
  }

  /// Checks a value against the expectation and, when it fails, against the rest of the catalog.
  ///
  /// In order: a member that matches wins (``FormatCheck/matches(_:)``); else a member whose checksum alone fails
  /// (``FormatCheck/badChecksum(_:)``); else another catalog format that identifies itself and matches the value, or
  /// whose distinctive prefix the value starts with (``FormatCheck/otherFormat(_:exact:)``); else the closest
  /// member's failure (``FormatCheck/mismatch(_:_:)``): the member whose prefix the value starts with (the longest),
  /// or, when it starts with none of them, every member's prefix. O(n) per catalog format.
  /// - Parameter value: the value to check.
  /// - Returns: the verdict.
  public func check(_ value: SecretValue) -> FormatCheck { check(value.reveal()) }

  /// Checks raw bytes; see ``check(_:)-(SecretValue)``.
  /// - Parameter bytes: the value's bytes.
  /// - Returns: the verdict.
  public func check(_ bytes: [UInt8]) -> FormatCheck {
    var verdicts: [(SecretFormat, FormatVerdict)] = []
    for format in formats {
      let verdict = format.verdict(for: bytes)
      if verdict == .match { return .matches(format) }
      verdicts.append((format, verdict))
    }
    if let (format, _) = verdicts.first(where: { $0.1 == .badChecksum }) { return .badChecksum(format) }
    if let (other, exact) = FormatCatalog.identify(bytes, excluding: Set(formats.map(\.id))) {
      return .otherFormat(other, exact: exact)
    }
    var closest: (format: SecretFormat, prefix: Int, mismatch: FormatMismatch)?
    for (format, verdict) in verdicts {
      guard case .mismatch(let mismatch) = verdict else { continue }
      if case .prefix = mismatch { continue }
      let prefix = format.matchedPrefix(bytes) ?? 0
      if let current = closest, prefix <= current.prefix { continue }
      closest = (format, prefix, mismatch)
    }
    if let closest { return .mismatch(closest.format, closest.mismatch) }
    return .mismatch(formats[0], .prefix(expected: Self.minimalPrefixes(formats.flatMap(\.prefixes))))
  }

  /// The prefixes that are not extensions of another one in the list, in first-seen order: `sk-`, `sk-proj-` →
  /// `sk-`.
  static func minimalPrefixes(_ prefixes: [String]) -> [String] {
    var result: [String] = []
    for prefix in prefixes where !result.contains(prefix) {
      if prefixes.contains(where: { $0 != prefix && prefix.hasPrefix($0) }) { continue }
      result.append(prefix)
    }
    return result
  }
}

/// The verdict of checking a value against a ``FormatExpectation``.
public enum FormatCheck: Sendable, Hashable {
  /// The value is of this expected format.
  case matches(SecretFormat)
  /// The value has the shape of this expected format but its checksum does not match.
  case badChecksum(SecretFormat)
  /// The value is of another catalog format (`exact`), or starts with another format's distinctive prefix.
  case otherFormat(SecretFormat, exact: Bool)
  /// The value is none of the expected formats; the closest one and why.
  case mismatch(SecretFormat, FormatMismatch)
}
