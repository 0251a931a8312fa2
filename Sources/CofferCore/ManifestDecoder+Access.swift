import Yams

extension ManifestDecoder {
  static let accessRuleFields = ["environments", "groups", "recipients"]
  static let accessRuleOptionalFields = ["write_only"]

  /// Decodes `admins:`: a non-empty list of declared recipient names, without repeats.
  func decodeAdmins(_ node: Node, recipients: [ManifestRecipient]) throws(ManifestError) -> [String] {
    guard case .sequence(let sequence) = node, !sequence.isEmpty else {
      throw error(at: node, field: "admins", "expected a non-empty list of recipient names")
    }
    var names: [String] = []
    for (index, item) in sequence.enumerated() {
      let path = "admins[\(index)]"
      guard let name = try optionalString(item, path: path), recipients.contains(where: { $0.name == name }) else {
        throw error(at: item, field: path, "expected the name of a recipient declared under recipients")
      }
      guard !names.contains(name) else { throw error(at: item, field: path, "duplicate admin \"\(name)\"") }
      names.append(name)
    }
    return names
  }

  /// Decodes `access:`: `nil` for a null value (no rules), else a non-empty list of rules, each a mapping with
  /// exactly `environments`, `groups` and `recipients`, each a non-empty list of declared names or `["*"]`.
  func decodeAccess(
    _ node: Node, environments: [String], groups: [SecretGroup], recipients: [ManifestRecipient]
  ) throws(ManifestError) -> [AccessRule]? {
    switch node {
    case .scalar where classify(node) == .null:
      return nil
    case .sequence(let sequence):
      guard !sequence.isEmpty else {
        throw error(
          at: node, field: "access",
          "expected at least one rule; remove the access key to let every recipient read everything")
      }
      var groupNames = groups.map(\.name)
      if !groupNames.contains(AccessPolicy.ungroupedGroup) { groupNames.append(AccessPolicy.ungroupedGroup) }
      var rules: [AccessRule] = []
      for (index, item) in sequence.enumerated() {
        rules.append(
          try decodeAccessRule(
            item, path: "access[\(index)]", environments: environments, groups: groupNames,
            recipients: recipients.map(\.name)))
      }
      return rules
    default:
      throw error(at: node, field: "access", "expected a list of rules, found \(kind(of: node))")
    }
  }

  private func decodeAccessRule(
    _ node: Node, path: String, environments: [String], groups: [String], recipients: [String]
  ) throws(ManifestError) -> AccessRule {
    guard case .mapping(let mapping) = node else {
      throw error(
        at: node, field: path,
        "expected a rule { environments: [...], groups: [...], recipients: [...] }, found \(kind(of: node))")
    }
    var selectors: [String: AccessSelector] = [:]
    var writeOnly = false
    for (key, value) in mapping {
      let field = try keyText(key, parent: path)
      let fieldPath = path + "." + field
      let universe: (names: [String], kind: String, section: String)
      switch field {
      case "write_only":
        guard case .scalar(let scalar) = value, scalar.string == "true" || scalar.string == "false" else {
          throw error(at: value, field: fieldPath, "expected true or false")
        }
        writeOnly = scalar.string == "true"
        continue
      case "environments": universe = (environments, "environment", "environments")
      case "groups": universe = (groups, "group", "groups")
      case "recipients": universe = (recipients, "recipient", "recipients")
      default:
        throw unknownField(key, name: field, path: fieldPath, allowed: Self.accessRuleFields + Self.accessRuleOptionalFields)
      }
      selectors[field] = try accessSelector(value, path: fieldPath, universe: universe)
    }
    for field in Self.accessRuleFields where selectors[field] == nil {
      throw error(at: node, field: path + "." + field, "missing required field")
    }
    return AccessRule(
      environments: selectors["environments"] ?? .any, groups: selectors["groups"] ?? .any,
      recipients: selectors["recipients"] ?? .any, writeOnly: writeOnly, line: position(of: node).line)
  }

  private func accessSelector(
    _ node: Node, path: String, universe: (names: [String], kind: String, section: String)
  ) throws(ManifestError) -> AccessSelector {
    guard case .sequence(let sequence) = node, !sequence.isEmpty else {
      throw error(at: node, field: path, "expected a non-empty list of \(universe.kind) names or [\"*\"]")
    }
    var names: [String] = []
    var wildcard = false
    for (index, item) in sequence.enumerated() {
      let itemPath = path + "[\(index)]"
      guard let name = try optionalString(item, path: itemPath), !name.isEmpty else {
        throw error(at: item, field: itemPath, "expected a \(universe.kind) name or \"*\"")
      }
      if name == "*" {
        wildcard = true
      } else {
        guard universe.names.contains(name) || (openGroups && universe.kind == "group") else {
          var hints: [String] = []
          if let suggestion = ManifestSyntax.suggestion(for: name, among: universe.names) {
            hints.append("did you mean '\(suggestion)'?")
          }
          let extra = universe.kind == "group" ? " (or \"\(AccessPolicy.ungroupedGroup)\" for ungrouped secrets)" : ""
          throw error(
            at: item, field: itemPath,
            "no \(universe.kind) named \"\(name)\" is declared under \(universe.section)\(extra)", hints: hints)
        }
        guard !names.contains(name) else {
          throw error(at: item, field: itemPath, "duplicate \(universe.kind) \"\(name)\"")
        }
        names.append(name)
      }
      if wildcard && sequence.count > 1 {
        throw error(at: item, field: itemPath, "\"*\" already matches every \(universe.kind); list it alone")
      }
    }
    return wildcard ? .any : .names(names)
  }
}
