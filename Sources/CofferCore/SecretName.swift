/// The one naming rule for secrets and settings, everywhere a name enters Coffer: `coffer.yaml`, `set`, `import`,
/// `generate`, `rotate`, `setup-repo`, `init --from`, `pull`.
///
/// A name is `[A-Za-z_][A-Za-z0-9_]*`, at most ``maxLength`` bytes: an environment variable name every shell,
/// `coffer run`, GitHub Actions and Pulumi ESC accept. A `.env` file may hold more (`go-version`, `app.port`), but
/// such a name could never be declared, checked or delivered, so it is refused where it enters, with one message
/// (``message(for:)``) and a hint (``hints(for:)``) that says why when the name is valid in a `.env` file.
public enum SecretName {
  /// The longest name, in UTF-8 bytes.
  public static let maxLength = 256

  /// The rule, as the error message states it.
  public static let rule = "use letters, digits and '_', not starting with a digit (at most 256 bytes)"

  /// Whether a name satisfies the rule.
  /// - Parameter name: the candidate.
  /// - Returns: `true` for `[A-Za-z_][A-Za-z0-9_]*` of at most ``maxLength`` bytes.
  public static func isValid(_ name: String) -> Bool {
    let bytes = name.utf8
    guard let first = bytes.first, bytes.count <= maxLength, isStart(first) else { return false }
    return bytes.allSatisfy { isStart($0) || ($0 >= 0x30 && $0 <= 0x39) }
  }

  /// The one error message for a name that breaks the rule: `"NAME" is not a valid secret name; use …`. The name is
  /// shown as given (the CLI's renderer writes invisible characters out as `\u{…}`); one longer than 64 characters
  /// is cut, with its length.
  /// - Parameter name: the refused name.
  /// - Returns: one lowercase line with no final period.
  public static func message(for name: String) -> String {
    let shown = name.count > 64 ? "\"\(name.prefix(64))…\" (\(name.utf8.count) bytes)" : "\"\(name)\""
    return "\(shown) is not a valid secret name; \(rule)"
  }

  /// Hints for a refused name: when a `.env` file could hold it (`go-version`, `app.port`), why Coffer does not and
  /// what it could be called instead.
  /// - Parameter name: the refused name.
  /// - Returns: zero or one hint.
  public static func hints(for name: String) -> [String] {
    guard !isValid(name), let first = name.utf8.first, isStart(first), name.utf8.count <= maxLength,
      name.utf8.allSatisfy({ isStart($0) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D || $0 == 0x2E })
    else { return [] }
    let suggestion = String(decoding: name.utf8.map { $0 == 0x2D || $0 == 0x2E ? 0x5F : $0 }, as: UTF8.self)
    return [
      "\"\(name)\" is a valid .env key, but not a name a destination accepts: GitHub Actions secrets and variables, "
        + "Pulumi ESC environment variables and shells allow only letters, digits and '_'; call it \(suggestion)"
    ]
  }

  /// `[A-Za-z_]`.
  static func isStart(_ byte: UInt8) -> Bool { (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x5F }
}
