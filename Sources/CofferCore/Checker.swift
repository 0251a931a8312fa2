/// One problem found with one value. The reason never contains the value or any part of it.
public struct CheckIssue: Sendable, Equatable, Hashable {
  /// Which rule failed.
  ///
  /// The raw value is the kind's name in `coffer check --json` output.
  public enum Kind: String, Sendable, Equatable, Hashable {
    /// A required value is empty.
    case empty
    /// The value does not start with the declared prefix.
    case prefix
    /// The value does not match the declared pattern as a whole.
    case pattern
    /// The value has fewer characters than `min_length`.
    case tooShort = "too-short"
    /// The value has more characters than `max_length`.
    case tooLong = "too-long"
    /// The value is not UTF-8 text, so its pattern or length cannot be checked.
    case notText = "not-text"
    /// The manifest's pattern does not compile (possible only for a manifest built in memory).
    case badPattern = "bad-pattern"
    /// The value is not of the expected catalog format (named by `format:` or assumed from the name).
    case formatMismatch = "format-mismatch"
    /// The value is of another catalog format than the expected one (a Slack user token where a bot token belongs).
    case wrongFormat = "wrong-format"
    /// The value has the expected format's shape but its checksum does not match.
    case badChecksum = "bad-checksum"
    /// The value is a placeholder (`changeme`, `<token>`, the manifest's example), not a real secret.
    case placeholder
    /// A secret the team generates (signing key, session secret, encryption key) is too short or too guessable.
    case weak
    /// The manifest names a format the catalog does not have (possible only for a manifest built in memory).
    case unknownFormat = "unknown-format"
  }

  /// The secret's name.
  public var name: String
  /// Which rule failed.
  public var kind: Kind
  /// A lowercase phrase that follows the name, such as `is 12 characters, needs at least 20`.
  public var reason: String
  /// For the format kinds, the expected format or family id (``FormatExpectation/id``); otherwise `nil`.
  public var format: String?

  /// Creates an issue.
  /// - Parameters:
  ///   - name: the secret's name.
  ///   - kind: which rule failed.
  ///   - reason: the explanation; must not contain the value.
  ///   - format: the expected format's id, for the format kinds.
  public init(name: String, kind: Kind, reason: String, format: String? = nil) {
    self.name = name
    self.kind = kind
    self.reason = reason
    self.format = format
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
  /// Values that break a rule, one issue per failed rule, sorted by name (rules in the order empty or placeholder,
  /// prefix, pattern, length, format, weak).
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
  /// Then the catalog (docs/formats.md): the value must be of the format the secret's `format:` names, or, without
  /// one, of the format its name implies (``FormatCatalog/inferredExpectation(forName:)``, reported as "assumed
  /// from the name"); `format: none` turns this off. A value of another catalog format is reported as that format
  /// (``CheckIssue/Kind/wrongFormat``). For secrets (not plain settings): a placeholder value
  /// (``Placeholder/detect(_:example:)``) is reported alone, as ``CheckIssue/Kind/placeholder``; and a secret the
  /// team generates (``SecretUse/inferred(fromName:)``, with no format) whose ``StrengthEstimate`` is below
  /// ``SecretUse/requiredBits`` is ``CheckIssue/Kind/weak``, with the measure in the reason.
  ///
  /// One verdict per problem: when the declared `prefix` and the format's prefix both fail and one prefix starts with
  /// the other, only the longer (more specific) one is reported, the format's on a tie.
  ///
  /// Reasons name the rule and the lengths, never the value or a fragment of it (catalog prefixes such as `xoxp-`
  /// are catalog text). The environment is not validated here: callers check ``Manifest/hasEnvironment(_:)`` first.
  /// - Parameters:
  ///   - manifest: the decoded manifest.
  ///   - environment: the environment whose requirements apply.
  ///   - values: the values present, by name.
  /// - Returns: the report, every list sorted by name.
  ///
  /// From 512 declared secrets on, the secrets are checked in chunks of 128 on two threads (``ParallelParts``);
  /// the report is the same.
  public static func check(_ manifest: Manifest, environment: String, values: [String: SecretValue]) -> CheckReport {
    check(manifest, environment: environment, values: values, parts: nil)
  }

  /// What checking one declared secret found.
  enum Finding: Sendable {
    /// No value, and none needed.
    case absent
    case missing
    case ok
    case invalid([CheckIssue])
  }

  /// When ``check(_:environment:values:)`` checks on two threads, and in what chunks: a secret takes about 0.9 µs
  /// to check, and starting the helper costs the caller about 60 µs (docs/performance.md, "Issue 16, seventh pass").
  enum CheckingPlan {
    static let chunkSize = 128
    static let minimumForHelper = 512
  }

  /// ``check(_:environment:values:)`` on the calling thread alone (`parts` 1) or with a helper (2); nil: as
  /// ``CheckingPlan`` decides. For the tests.
  static func check(_ manifest: Manifest, environment: String, values: [String: SecretValue], parts wanted: Int?) -> CheckReport {
    let specs = manifest.secrets
    var findings = [Finding](repeating: .absent, count: specs.count)
    if (wanted ?? (specs.count >= CheckingPlan.minimumForHelper ? 2 : 1)) > 1 {
      findings.withUnsafeMutableBufferPointer { out in
        let slots = ParallelParts.Slots(out.baseAddress!)
        let chunks = (specs.count + CheckingPlan.chunkSize - 1) / CheckingPlan.chunkSize
        ParallelParts.run(chunks: chunks) { chunk in
          let lower = chunk * CheckingPlan.chunkSize
          for k in lower..<min(lower + CheckingPlan.chunkSize, specs.count) {
            slots.base[k] = Checker.finding(specs[k], values[specs[k].name], environment: environment)
          }
        }
      }
    } else {
      for k in specs.indices { findings[k] = finding(specs[k], values[specs[k].name], environment: environment) }
    }
    var report = CheckReport(environment: environment)
    var declared = Set<String>()
    declared.reserveCapacity(specs.count)
    for (spec, found) in zip(specs, findings) {
      declared.insert(spec.name)
      switch found {
      case .absent: break
      case .missing: report.missing.append(spec.name)
      case .ok: report.ok.append(spec.name)
      case .invalid(let issues): report.invalid.append(contentsOf: issues)
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

  /// Checks one declared secret against its value, if any.
  static func finding(_ spec: SecretSpec, _ value: SecretValue?, environment: String) -> Finding {
    let required = spec.isRequired(in: environment)
    guard let value else { return required ? .missing : .absent }
    let issues = self.issues(spec, value, required: required)
    return issues.isEmpty ? .ok : .invalid(issues)
  }

  /// The issues one value has against its secret's declared rules and format, as ``check(_:environment:values:)``
  /// reports them for it (for `set` and `rotate`, which check the one value they store).
  /// - Parameters:
  ///   - value: the value.
  ///   - spec: the secret's declaration.
  ///   - environment: the environment whose requirements apply.
  /// - Returns: the issues, in rule order; empty when the value passes.
  package static func issues(of value: SecretValue, declaredAs spec: SecretSpec, environment: String) -> [CheckIssue] {
    guard case .invalid(let issues) = finding(spec, value, environment: environment) else { return [] }
    return issues
  }

  private static func issues(_ spec: SecretSpec, _ value: SecretValue, required: Bool) -> [CheckIssue] {
    let name = spec.name
    if value.isEmpty {
      return required ? [CheckIssue(name: name, kind: .empty, reason: "is empty")] : []
    }
    if spec.isSecret, let placeholder = Placeholder.detect(value, example: spec.example) {
      return [CheckIssue(name: name, kind: .placeholder, reason: "is a placeholder: \(placeholder)")]
    }
    var issues = declaredRuleIssues(spec, value)
    let expectation = self.expectation(for: spec)
    switch expectation {
    case .some(.known(let expected, let assumed)):
      if let (issue, formatPrefixes) = formatIssue(name, value, expected, assumed: assumed) {
        // One verdict per problem: when the manifest's prefix and the format fail for the same reason (a wrong
        // prefix, one prefix starting with the other), only the more specific one is reported: the manifest's when
        // its prefix is longer, else the format's (it names what was expected, or what the value is).
        var keepFormat = true
        if let wanted = formatPrefixes, let own = spec.prefix,
          let related = wanted.filter({ own.hasPrefix($0) || $0.hasPrefix(own) }).max(by: { $0.count < $1.count }),
          let index = issues.firstIndex(where: { $0.kind == .prefix })
        {
          if own.count > related.count { keepFormat = false } else { issues.remove(at: index) }
        }
        if keepFormat { issues.append(issue) }
      }
    case .some(.unknown(let format)):
      issues.append(
        CheckIssue(
          name: name, kind: .unknownFormat, reason: "cannot be checked: the manifest names an unknown format",
          format: format))
    case .none:
      if spec.isSecret, let use = SecretUse.inferred(fromName: name) {
        let estimate = StrengthEstimate.estimate(value)
        if estimate.bits < use.requiredBits {
          issues.append(
            CheckIssue(
              name: name, kind: .weak,
              reason: "is weak: \(characters(estimate.characters)), estimated \(estimate.bits) bits of entropy; "
                + "needs at least \(use.requiredBits) bits for \(use.phrase)"))
        }
      }
    }
    return issues
  }

  /// What a secret's value is expected to be: the manifest's `format:`, else what the name implies.
  enum Expectation {
    case known(FormatExpectation, assumed: Bool)
    case unknown(String)
  }

  static func expectation(for spec: SecretSpec) -> Expectation? {
    if let format = spec.format, format != FormatCatalog.noFormat, FormatCatalog.expectation(named: format) == nil {
      return .unknown(format)
    }
    return FormatCatalog.expectation(forSecret: spec.name, format: spec.format).map {
      .known($0.expectation, assumed: $0.assumed)
    }
  }

  private static func formatIssue(
    _ name: String, _ value: SecretValue, _ expected: FormatExpectation, assumed: Bool
  ) -> (CheckIssue, prefixes: [String]?)? {
    let tail = " [format \(expected.id)\(assumed ? ", assumed from the name" : "")]"
    let wanted = "\(expected.phrase) (\(expected.label))"
    switch expected.check(value) {
    case .matches:
      return nil
    case .badChecksum(let format):
      return (CheckIssue(
        name: name, kind: .badChecksum,
        reason: "has the shape of \(format.phrase) (\(format.label)) but not its "
          + "checksum (the last 6 characters): a typo or a truncated copy" + tail,
        format: expected.id), nil)
    case .otherFormat(let other, let exact):
      let found = "\(other.phrase) (\(other.label))"
      return (CheckIssue(
        name: name, kind: .wrongFormat,
        reason: (exact ? "is " : "starts like ") + found + ", expected " + wanted + tail, format: expected.id),
        expected.formats.flatMap(\.prefixes))
    case .mismatch(_, let mismatch):
      return (CheckIssue(
        name: name, kind: .formatMismatch, reason: "is not \(wanted): \(mismatch)" + tail, format: expected.id),
        { if case .prefix(let prefixes) = mismatch { return prefixes } else { return nil } }())
    }
  }

  /// The rules the manifest declares for this secret: prefix, pattern, lengths.
  private static func declaredRuleIssues(_ spec: SecretSpec, _ value: SecretValue) -> [CheckIssue] {
    let name = spec.name
    var issues: [CheckIssue] = []
    let bytes = value.reveal()
    if let prefix = spec.prefix, !bytes.starts(with: prefix.utf8) {
      issues.append(
        CheckIssue(name: name, kind: .prefix, reason: "does not start with the required prefix \(quoted(prefix))"))
    }
    let needsText = spec.pattern != nil || spec.minLength != nil || spec.maxLength != nil
    guard needsText else { return issues }
    if spec.pattern == nil, let length = asciiCharacterCount(bytes) {
      // Lengths only, of ASCII text: no `String` needed.
      issues += lengthIssues(spec, length)
      return issues
    }
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
      issues += lengthIssues(spec, asciiCharacterCount(bytes) ?? text.count)
    }
    return issues
  }

  /// `min_length` and `max_length` against a length in `Character`s.
  private static func lengthIssues(_ spec: SecretSpec, _ length: Int) -> [CheckIssue] {
    var issues: [CheckIssue] = []
    if let minLength = spec.minLength, length < minLength {
      issues.append(
        CheckIssue(name: spec.name, kind: .tooShort, reason: "is \(characters(length)), needs at least \(minLength)"))
    }
    if let maxLength = spec.maxLength, length > maxLength {
      issues.append(
        CheckIssue(name: spec.name, kind: .tooLong, reason: "is \(characters(length)), allows at most \(maxLength)"))
    }
    return issues
  }

  /// The number of `Character`s of ASCII bytes, without making a `String`: one a byte, except that CR LF is one
  /// (Unicode's grapheme rules break between any other two ASCII characters); nil when a byte is not ASCII.
  static func asciiCharacterCount(_ bytes: [UInt8]) -> Int? {
    var count = 0
    var previous: UInt8 = 0
    for b in bytes {
      guard b < 0x80 else { return nil }
      if !(b == 0x0A && previous == 0x0D) { count += 1 }
      previous = b
    }
    return count
  }

  private static func characters(_ count: Int) -> String {
    count == 1 ? "1 character" : "\(count) characters"
  }

  private static func quoted(_ text: String) -> String {
    "'" + text + "'"
  }
}
