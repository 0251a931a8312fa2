/// One problem found with one value. The reason never contains the value or any part of it.
public struct CheckIssue: Sendable, Equatable, Hashable {
  /// Which rule failed.
  public enum Kind: Sendable, Equatable, Hashable {
    /// A required value is empty.
    case empty
    /// The value does not start with the declared prefix.
    case prefix
    /// The value does not match the declared pattern as a whole.
    case pattern
    /// The value has fewer characters than `min_length`.
    case tooShort
    /// The value has more characters than `max_length`.
    case tooLong
    /// The value is not UTF-8 text, so its pattern or length cannot be checked.
    case notText
    /// The manifest's pattern does not compile (possible only for a manifest built in memory).
    case badPattern
  }

  /// The secret's name.
  public var name: String
  /// Which rule failed.
  public var kind: Kind
  /// A lowercase phrase that follows the name, such as `is 12 characters, needs at least 20`.
  public var reason: String

  /// Creates an issue.
  /// - Parameters:
  ///   - name: the secret's name.
  ///   - kind: which rule failed.
  ///   - reason: the explanation; must not contain the value.
  public init(name: String, kind: Kind, reason: String) {
    self.name = name
    self.kind = kind
    self.reason = reason
  }
}

/// The verdict of checking one environment's values against the manifest.
///
/// Every list is sorted by name (Swift `String` order, which is byte order for the ASCII names the manifest
/// allows). Each declared secret appears in at most one of ``missing``, ``invalid`` (possibly several times, once
/// per failed rule) and ``ok``; an optional secret without a value appears in none.
public struct CheckReport: Sendable, Equatable {
  /// The environment checked.
  public var environment: String
  /// Secrets required in this environment that have no value.
  public var missing: [String]
  /// Values that break a rule, one issue per failed rule, sorted by name (rules in the order empty, prefix,
  /// pattern, length).
  public var invalid: [CheckIssue]
  /// Names that have a value but are not declared in the manifest.
  public var undeclared: [String]
  /// Declared secrets whose value passed every rule (including an empty value of an optional secret).
  public var ok: [String]

  /// Creates a report.
  /// - Parameters:
  ///   - environment: the environment checked.
  ///   - missing: names of missing required secrets.
  ///   - invalid: issues found.
  ///   - undeclared: names with values but no declaration.
  ///   - ok: names that passed.
  public init(
    environment: String, missing: [String] = [], invalid: [CheckIssue] = [], undeclared: [String] = [],
    ok: [String] = []
  ) {
    self.environment = environment
    self.missing = missing
    self.invalid = invalid
    self.undeclared = undeclared
    self.ok = ok
  }

  /// Whether anything is missing or invalid (undeclared values alone are not a problem).
  public var hasProblems: Bool { !missing.isEmpty || !invalid.isEmpty }
}

/// Checks values against the manifest's declarations.
public enum Checker {
  /// Checks one environment's values.
  ///
  /// For each declared secret (plain settings included): without a value it is `missing` when
  /// ``SecretSpec/isRequired(in:)``; an empty value is invalid when required and otherwise ok with no further
  /// rule applied; a non-empty value must start with `prefix` (bytes), match `pattern` as a whole (Swift
  /// `Regex.wholeMatch`), and have a length within `min_length`...`max_length`. Length is counted in Swift
  /// `Character`s (extended grapheme clusters), so `é` written as one or two scalars is 1 character. Pattern and
  /// length need UTF-8 text; a value that is not UTF-8 fails them with ``CheckIssue/Kind/notText``.
  ///
  /// Reasons name the rule and the lengths, never the value or a fragment of it. The environment is not
  /// validated here: callers check ``Manifest/hasEnvironment(_:)`` first.
  /// - Parameters:
  ///   - manifest: the decoded manifest.
  ///   - environment: the environment whose requirements apply.
  ///   - values: the values present, by name.
  /// - Returns: the report, every list sorted by name.
  public static func check(_ manifest: Manifest, environment: String, values: [String: SecretValue]) -> CheckReport {
    var report = CheckReport(environment: environment)
    var declared = Set<String>()
    for spec in manifest.secrets {
      declared.insert(spec.name)
      guard let value = values[spec.name] else {
        if spec.isRequired(in: environment) { report.missing.append(spec.name) }
        continue
      }
      let issues = self.issues(spec, value, required: spec.isRequired(in: environment))
      if issues.isEmpty {
        report.ok.append(spec.name)
      } else {
        report.invalid.append(contentsOf: issues)
      }
    }
    report.undeclared = values.keys.filter { !declared.contains($0) }
    report.missing.sort()
    report.ok.sort()
    report.undeclared.sort()
    // Stable by name, keeping the rule order within one name.
    report.invalid = report.invalid.enumerated().sorted {
      $0.element.name != $1.element.name ? $0.element.name < $1.element.name : $0.offset < $1.offset
    }.map(\.element)
    return report
  }

  private static func issues(_ spec: SecretSpec, _ value: SecretValue, required: Bool) -> [CheckIssue] {
    let name = spec.name
    if value.isEmpty {
      return required ? [CheckIssue(name: name, kind: .empty, reason: "is empty")] : []
    }
    var issues: [CheckIssue] = []
    let bytes = value.reveal()
    if let prefix = spec.prefix, !bytes.starts(with: prefix.utf8) {
      issues.append(
        CheckIssue(name: name, kind: .prefix, reason: "does not start with the required prefix \(quoted(prefix))"))
    }
    let needsText = spec.pattern != nil || spec.minLength != nil || spec.maxLength != nil
    guard needsText else { return issues }
    guard let text = String(validating: bytes, as: UTF8.self) else {
      issues.append(
        CheckIssue(name: name, kind: .notText, reason: "is not UTF-8 text, so its pattern and length cannot be checked"))
      return issues
    }
    if let pattern = spec.pattern {
      do {
        let regex = try Regex(pattern)
        if (try? regex.wholeMatch(in: text)) == nil {
          issues.append(CheckIssue(name: name, kind: .pattern, reason: "does not match the pattern \(quoted(pattern))"))
        }
      } catch {
        issues.append(
          CheckIssue(name: name, kind: .badPattern, reason: "cannot be checked: the manifest's pattern is invalid"))
      }
    }
    if spec.minLength != nil || spec.maxLength != nil {
      let length = text.count
      if let minLength = spec.minLength, length < minLength {
        issues.append(
          CheckIssue(
            name: name, kind: .tooShort, reason: "is \(characters(length)), needs at least \(minLength)"))
      }
      if let maxLength = spec.maxLength, length > maxLength {
        issues.append(
          CheckIssue(name: name, kind: .tooLong, reason: "is \(characters(length)), allows at most \(maxLength)"))
      }
    }
    return issues
  }

  private static func characters(_ count: Int) -> String {
    count == 1 ? "1 character" : "\(count) characters"
  }

  private static func quoted(_ text: String) -> String {
    "'" + text + "'"
  }
}
