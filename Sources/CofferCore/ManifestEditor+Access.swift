import Yams

/// The outcome of granting or revoking access in the manifest's text.
public struct AccessEdit: Sendable, Equatable {
  /// The edited manifest text (equal to the input when nothing changed).
  public var text: String
  /// The manifest the edited text decodes to.
  public var manifest: Manifest
  /// Whether the text changed.
  public var changed: Bool
  /// The lines (in the original text) of rules whose `"*"` had to be replaced by the names it matched, because a
  /// wildcard cannot exclude one name; such rules no longer cover names declared later.
  public var expandedRuleLines: [Int]
}

extension ManifestEditor {
  /// Lets a recipient read some groups in some environments, by editing the `access:` rules in place.
  ///
  /// When the recipient can already read every requested pair (always the case without an `access:` key, which
  /// lets everyone read everything), the text is returned unchanged. Otherwise, if a rule has exactly the requested
  /// environments and groups and lists its recipients by name, the name is added to that rule's `recipients` list;
  /// else a rule `- { environments: […], groups: […], recipients: [NAME] }` is appended after the last one, with
  /// the same indentation. Every other line, comments included, is kept byte for byte. The result is decoded again
  /// and compared with the intended manifest.
  /// - Parameters:
  ///   - recipient: a recipient name declared under `recipients`.
  ///   - environments: the environments (declared names, or ``AccessSelector/any``).
  ///   - groups: the groups (declared names, `default`, or ``AccessSelector/any``).
  ///   - text: the current manifest text; it must decode.
  ///   - file: the name to show in errors.
  /// - Returns: the edit.
  /// - Throws: ``ManifestError`` when `text` does not decode (with its position), when a name is not declared (no
  ///   position, field `access`), or when the layout of `access:` cannot be edited safely (a flow-style list).
  public static func grantingAccess(
    to recipient: String, environments: AccessSelector, groups: AccessSelector, in text: String,
    file: String = "coffer.yaml"
  ) throws(ManifestError) -> AccessEdit {
    let decoder = ManifestDecoder(file: file)
    let document = try decoder.decodeDocument(Array(text.utf8))
    let manifest = document.manifest
    let policy = AccessPolicy(manifest: manifest)
    try validate(
      recipient: recipient, environments: environments, groups: groups, policy: policy, file: file,
      openGroups: !manifest.imports.isEmpty)
    let envNames = environments.expanded(over: policy.environments)
    let groupNames = groups.expanded(over: policy.groups)
    let missing = envNames.contains { e in groupNames.contains { !policy.canRead(recipient, environment: e, group: $0) } }
    guard missing, let rules = manifest.access else {
      return AccessEdit(text: text, manifest: manifest, changed: false, expandedRuleLines: [])
    }
    var changes = [RuleChange](repeating: .keep, count: rules.count)
    var appended: [AccessRule] = []
    if let index = rules.firstIndex(where: {
      $0.environments == environments && $0.groups == groups && $0.recipients != .any
    }), case .names(let names) = rules[index].recipients {
      changes[index] = .recipients(.names(names + [recipient]))
    } else {
      appended = [AccessRule(environments: environments, groups: groups, recipients: .names([recipient]))]
    }
    return try apply(changes, appending: appended, to: document, decoder: decoder, file: file, expanded: [])
  }

  /// Stops a recipient from reading some groups in some environments, by editing the `access:` rules in place.
  ///
  /// Each rule that lets the recipient read a pair inside the scope is changed: when the scope covers the whole
  /// rule, the name is removed from its `recipients` list (the rule is deleted when nobody is left); otherwise the
  /// rule is replaced by one for the other recipients and one or two rules giving the recipient back what lies
  /// outside the scope. A `"*"` that matched the recipient is replaced by the names it matched (reported in
  /// ``AccessEdit/expandedRuleLines``). Without an `access:` key, rules equivalent to "everyone reads everything
  /// except this" are appended at the end of the file. Other lines, comments included, are kept; a replaced rule
  /// loses comments inside it, except a trailing comment on a one-line rule.
  /// - Parameters:
  ///   - recipient: a recipient name declared under `recipients`.
  ///   - environments: the environments (declared names, or ``AccessSelector/any``).
  ///   - groups: the groups (declared names, `default`, or ``AccessSelector/any``).
  ///   - text: the current manifest text; it must decode.
  ///   - file: the name to show in errors.
  /// - Returns: the edit; unchanged text when the recipient could read nothing in the scope.
  /// - Throws: ``ManifestError`` when `text` does not decode, a name is not declared, the result would have no rule
  ///   at all (nobody could read anything), or the layout of `access:` cannot be edited safely.
  public static func revokingAccess(
    from recipient: String, environments: AccessSelector, groups: AccessSelector, in text: String,
    file: String = "coffer.yaml"
  ) throws(ManifestError) -> AccessEdit {
    let decoder = ManifestDecoder(file: file)
    let document = try decoder.decodeDocument(Array(text.utf8))
    let manifest = document.manifest
    let policy = AccessPolicy(manifest: manifest)
    try validate(
      recipient: recipient, environments: environments, groups: groups, policy: policy, file: file,
      openGroups: !manifest.imports.isEmpty)
    let everything = AccessRule(environments: .any, groups: .any, recipients: .any)
    let rules = manifest.access ?? [everything]
    var changes: [RuleChange] = []
    var expanded: [Int] = []
    for rule in rules {
      let change = revokeChange(rule, recipient: recipient, environments: environments, groups: groups, policy: policy)
      switch change {
      case .keep: break
      case .recipients:
        if rule.recipients == .any { expanded.append(rule.line) }
      case .replace:
        if rule.recipients == .any || rule.environments == .any || rule.groups == .any { expanded.append(rule.line) }
      }
      changes.append(change)
    }
    if changes.allSatisfy({ if case .keep = $0 { return true } else { return false } }) {
      return AccessEdit(text: text, manifest: manifest, changed: false, expandedRuleLines: [])
    }
    if manifest.access == nil {
      // No rules yet: write the whole list, which now restricts everyone, at the end of the file.
      let newRules: [AccessRule]
      switch changes[0] {
      case .keep: newRules = [everything]
      case .recipients(let selector): newRules = [AccessRule(environments: .any, groups: .any, recipients: selector)]
      case .replace(let rules): newRules = rules
      }
      guard !newRules.isEmpty else {
        throw ManifestError(
          file: file, line: 0, column: 0, field: "access",
          message: "revoking \(recipient) would leave no access rule: nobody could read anything")
      }
      return try apply([], appending: newRules, to: document, decoder: decoder, file: file, expanded: [])
    }
    return try apply(
      changes, appending: [], to: document, decoder: decoder, file: file, expanded: manifest.access == nil ? [] : expanded)
  }

  // MARK: - Rule algebra

  enum RuleChange: Equatable {
    case keep
    case recipients(AccessSelector)
    case replace([AccessRule])
  }

  static func validate(
    recipient: String, environments: AccessSelector, groups: AccessSelector, policy: AccessPolicy, file: String,
    openGroups: Bool = false
  ) throws(ManifestError) {
    func failure(_ message: String) -> ManifestError {
      ManifestError(file: file, line: 0, column: 0, field: "access", message: message)
    }
    guard policy.recipients.contains(where: { $0.name == recipient }) else {
      throw failure("no recipient named \"\(recipient)\" is declared under recipients")
    }
    if case .names(let names) = environments {
      guard !names.isEmpty else { throw failure("expected at least one environment") }
      for name in names where !policy.environments.contains(name) {
        throw failure("no environment named \"\(name)\" is declared under environments")
      }
    }
    if case .names(let names) = groups {
      guard !names.isEmpty else { throw failure("expected at least one group") }
      // With imports, groups may be imported ones; the caller checks them against the merged manifest.
      for name in names where !policy.groups.contains(name) && !openGroups {
        throw failure(
          "no group named \"\(name)\" is declared under groups (or \"\(AccessPolicy.ungroupedGroup)\" for ungrouped secrets)")
      }
    }
  }

  static func revokeChange(
    _ rule: AccessRule, recipient: String, environments: AccessSelector, groups: AccessSelector, policy: AccessPolicy
  ) -> RuleChange {
    guard rule.recipients.matches(recipient),
      let inEnvironments = intersect(rule.environments, environments),
      intersect(rule.groups, groups) != nil
    else { return .keep }
    let others = rule.recipients.expanded(over: policy.recipients.map(\.name)).filter { $0 != recipient }
    var remainder: [AccessRule] = []
    if let restEnvironments = subtract(rule.environments, environments, universe: policy.environments) {
      remainder.append(AccessRule(environments: restEnvironments, groups: rule.groups, recipients: .names([recipient])))
    }
    if let restGroups = subtract(rule.groups, groups, universe: policy.groups) {
      remainder.append(AccessRule(environments: inEnvironments, groups: restGroups, recipients: .names([recipient])))
    }
    if remainder.isEmpty { return others.isEmpty ? .replace([]) : .recipients(.names(others)) }
    var out: [AccessRule] = []
    if !others.isEmpty { out.append(AccessRule(environments: rule.environments, groups: rule.groups, recipients: .names(others))) }
    return .replace(out + remainder)
  }

  /// The names both selectors match (`nil` when none).
  static func intersect(_ a: AccessSelector, _ b: AccessSelector) -> AccessSelector? {
    switch (a, b) {
    case (_, .any): return a
    case (.any, _): return b
    case (.names(let x), .names(let y)):
      let both = x.filter(y.contains)
      return both.isEmpty ? nil : .names(both)
    }
  }

  /// The names `a` matches and `b` does not, listed explicitly (`nil` when none).
  static func subtract(_ a: AccessSelector, _ b: AccessSelector, universe: [String]) -> AccessSelector? {
    if b == .any { return nil }
    let rest = a.expanded(over: universe).filter { !b.matches($0) }
    return rest.isEmpty ? nil : .names(rest)
  }

  // MARK: - Text

  /// Applies rule changes (one per existing rule) and appended rules to the text, then verifies the result.
  static func apply(
    _ changes: [RuleChange], appending appended: [AccessRule], to document: ManifestDecoder.Document,
    decoder: ManifestDecoder, file: String, expanded: [Int]
  ) throws(ManifestError) -> AccessEdit {
    let cannotEdit = ManifestError(
      file: file, line: 0, column: 0, field: "access",
      message: "cannot edit this layout of access rules safely; edit coffer.yaml by hand")
    var expected = document.manifest
    var newRules: [AccessRule] = []
    for (index, rule) in (expected.access ?? []).enumerated() {
      switch changes[index] {
      case .keep: newRules.append(rule)
      case .recipients(let selector):
        var changed = rule
        changed.recipients = selector
        newRules.append(changed)
      case .replace(let rules): newRules.append(contentsOf: rules)
      }
    }
    newRules.append(contentsOf: appended)
    guard !newRules.isEmpty else {
      throw ManifestError(
        file: file, line: 0, column: 0, field: "access",
        message: "the change would leave no access rule: nobody could read anything")
    }
    expected.access = newRules

    var editor = LineEditor(text: document.text)
    let pairs = document.root.map { (key: $0.key, value: $0.value) }
    guard let firstKey = pairs.first?.key, editor.scalar(at: decoder.position(of: firstKey)) != "{" else {
      throw cannotEdit
    }
    guard let accessIndex = pairs.firstIndex(where: { $0.key.scalar?.string == "access" }) else {
      // No access key: append a block at the end of the file.
      var last = editor.lineCount
      if editor.lines.last?.isEmpty == true { last -= 1 }
      editor.insert(["access:"] + appended.map { "  - " + YAMLText.accessRule($0) }, afterLine: last)
      return try verify(editor.text, expected: expected, decoder: decoder, expanded: expanded, error: cannotEdit)
    }
    guard case .sequence(let sequence) = pairs[accessIndex].value,
      editor.scalar(at: decoder.position(of: pairs[accessIndex].value)) != "["
    else { throw cannotEdit }
    let items = Array(sequence)
    let blockEnd: Int = {
      let next = accessIndex + 1 < pairs.count ? decoder.position(of: pairs[accessIndex + 1].key).line - 1 : editor.lineCount
      return next
    }()
    // Each item: its dash line, the dash's column, and its last line (trailing blank and comment lines excluded).
    var spans: [(start: Int, end: Int, indent: String)] = []
    for (index, item) in items.enumerated() {
      let position = decoder.position(of: item)
      guard let dash = editor.dashColumn(before: position) else { throw cannotEdit }
      var end = index + 1 < items.count ? decoder.position(of: items[index + 1]).line - 1 : blockEnd
      while end > position.line, editor.isBlankOrComment(line: end) { end -= 1 }
      spans.append((position.line, end, String(repeating: " ", count: dash - 1)))
    }
    guard let lastSpan = spans.last else { throw cannotEdit }
    if !appended.isEmpty {
      editor.insert(appended.map { lastSpan.indent + "- " + YAMLText.accessRule($0) }, afterLine: lastSpan.end)
    }
    // Edit from the bottom up so earlier line numbers stay valid.
    for index in changes.indices.reversed() {
      let span = spans[index]
      switch changes[index] {
      case .keep:
        continue
      case .recipients(let selector):
        if case .mapping(let mapping) = items[index],
          let node = mapping.first(where: { $0.key.scalar?.string == "recipients" })?.value,
          editor.replaceFlowList(at: decoder.position(of: node), with: YAMLText.accessList(selector))
        {
          continue
        }
        guard var rule = document.manifest.access?[index] else { throw cannotEdit }
        rule.recipients = selector
        editor.replaceLines(span.start...span.end, with: [span.indent + "- " + YAMLText.accessRule(rule)], keepTrailingComment: true)
      case .replace(let rules):
        editor.replaceLines(
          span.start...span.end, with: rules.map { span.indent + "- " + YAMLText.accessRule($0) },
          keepTrailingComment: true)
      }
    }
    return try verify(editor.text, expected: expected, decoder: decoder, expanded: expanded, error: cannotEdit)
  }

  static func verify(
    _ text: String, expected: Manifest, decoder: ManifestDecoder, expanded: [Int], error: ManifestError
  ) throws(ManifestError) -> AccessEdit {
    guard let decoded = try? decoder.decodeDocument(Array(text.utf8)).manifest, decoded == expected else {
      throw error
    }
    return AccessEdit(text: text, manifest: decoded, changed: true, expandedRuleLines: expanded)
  }
}

extension YAMLText {
  /// An access selector as a flow list: `['*']` or `[a, b]`.
  static func accessList(_ selector: AccessSelector) -> String {
    switch selector {
    case .any: return "['*']"
    case .names(let names): return flowList(names)
    }
  }
}

extension LineEditor {
  /// The 1-based column of the `-` that introduces the block sequence item starting at `position`, when only
  /// spaces separate them on that line.
  func dashColumn(before position: ManifestPosition) -> Int? {
    let row = position.line - 1
    guard row >= 0, row < lines.count, position.column - 1 <= lines[row].count else { return nil }
    var index = position.column - 2
    while index >= 0, lines[row][index] == " " { index -= 1 }
    guard index >= 0, lines[row][index] == "-" else { return nil }
    guard lines[row][..<index].allSatisfy({ $0 == " " }) else { return nil }
    return index + 1
  }

  /// Replaces the one-line flow list that starts at `position` with `replacement`.
  mutating func replaceFlowList(at position: ManifestPosition, with replacement: String) -> Bool {
    let row = position.line - 1
    let start = position.column - 1
    guard row >= 0, row < lines.count, start >= 0, start < lines[row].count, lines[row][start] == "[",
      let close = Self.matchingClose(lines[row], from: start)
    else { return false }
    lines[row] = Array(lines[row][..<start]) + Array(replacement.unicodeScalars) + Array(lines[row][(close + 1)...])
    return true
  }

  /// Replaces whole lines (1-based, inclusive). With `keepTrailingComment`, a one-line range holding a flow
  /// mapping item (`- { … }  # note`) passes its trailing text to the first new line.
  mutating func replaceLines(_ range: ClosedRange<Int>, with newLines: [String], keepTrailingComment: Bool) {
    var suffix: [Unicode.Scalar] = []
    if keepTrailingComment, range.count == 1, let first = newLines.first, !first.isEmpty {
      let line = lines[range.lowerBound - 1]
      if let open = line.firstIndex(of: "{"), let close = Self.matchingClose(line, from: open) {
        suffix = Array(line[(close + 1)...]).filter { $0 != "\r" }
        if !suffix.contains(where: { $0 != " " && $0 != "\t" }) { suffix = [] }
      }
    }
    var replacement = newLines.map { Array($0.unicodeScalars) + lineEnd }
    if !suffix.isEmpty, !replacement.isEmpty {
      replacement[0] = Array(newLines[0].unicodeScalars) + suffix + lineEnd
    }
    lines.replaceSubrange((range.lowerBound - 1)..<range.upperBound, with: replacement)
  }
}
