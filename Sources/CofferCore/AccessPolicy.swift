/// Which names a field of an access rule matches: every name (`"*"`), or the listed ones.
public enum AccessSelector: Sendable, Equatable, Hashable, CustomStringConvertible {
  /// `"*"`: every declared name, including names declared later.
  case any
  /// The listed names, in declared order; never empty and without repeats when decoded.
  case names([String])

  /// Whether this selector matches a name.
  /// - Parameter name: an environment, group or recipient name.
  public func matches(_ name: String) -> Bool {
    switch self {
    case .any: return true
    case .names(let names): return names.contains(name)
    }
  }

  /// The names matched out of a universe, in the universe's order.
  /// - Parameter universe: every candidate name.
  /// - Returns: the candidates this selector matches.
  public func expanded(over universe: [String]) -> [String] { universe.filter(matches) }

  /// `*` or the names joined with `, `.
  public var description: String {
    switch self {
    case .any: return "*"
    case .names(let names): return names.joined(separator: ", ")
    }
  }
}

/// One entry of the manifest's `access:` list: the recipients it names may read the groups it names in the
/// environments it names.
///
/// Equality ignores ``line``, which is diagnostic metadata.
public struct AccessRule: Sendable, Equatable, Hashable {
  /// The environments the rule covers.
  public var environments: AccessSelector
  /// The groups the rule covers; ``AccessPolicy/ungroupedGroup`` names the group of secrets without one.
  public var groups: AccessSelector
  /// The recipients (names from the manifest's `recipients:` map) the rule lets read.
  public var recipients: AccessSelector
  /// Whether the rule lets its recipients write the groups without reading them (`write_only: true`): their new
  /// values are sealed to the groups' readers (trust model v2, docs/access.md). Other rules grant read and write.
  public var writeOnly: Bool
  /// The 1-based line of the rule in the manifest, or 0 when built in memory.
  public var line: Int

  /// Creates a rule.
  /// - Parameters:
  ///   - environments: the environments covered.
  ///   - groups: the groups covered.
  ///   - recipients: the recipients allowed to read.
  ///   - writeOnly: whether the rule grants writing only.
  ///   - line: where it is declared, or 0.
  public init(
    environments: AccessSelector, groups: AccessSelector, recipients: AccessSelector, writeOnly: Bool = false,
    line: Int = 0
  ) {
    self.environments = environments
    self.groups = groups
    self.recipients = recipients
    self.writeOnly = writeOnly
    self.line = line
  }

  /// Whether the rule covers `recipient`, `group` and `environment` (for reading unless ``writeOnly``).
  /// - Parameters:
  ///   - recipient: a recipient name.
  ///   - environment: an environment name.
  ///   - group: a group name.
  public func allows(_ recipient: String, environment: String, group: String) -> Bool {
    environments.matches(environment) && groups.matches(group) && recipients.matches(recipient)
  }

  /// Compares every field except ``line``.
  public static func == (lhs: AccessRule, rhs: AccessRule) -> Bool {
    lhs.environments == rhs.environments && lhs.groups == rhs.groups && lhs.recipients == rhs.recipients
      && lhs.writeOnly == rhs.writeOnly
  }

  /// Hashes every field except ``line``, consistently with `==`.
  public func hash(into hasher: inout Hasher) {
    hasher.combine(environments)
    hasher.combine(groups)
    hasher.combine(recipients)
    hasher.combine(writeOnly)
  }
}

/// Who may read what: the manifest's `access:` rules evaluated over its recipients, environments and groups.
///
/// A recipient may read an (environment, group) when some rule lists all three (`"*"` matches any name). With no
/// `access:` key every recipient reads everything. Pure: the answers depend on the manifest only. docs/access.md
/// describes the model and what the cryptography guarantees.
public struct AccessPolicy: Sendable, Equatable {
  /// The group that secrets without a `group:` (and undeclared secrets) are sealed under in the vault.
  public static let ungroupedGroup = "default"

  /// The rules, or `nil` when the manifest has no `access:` key (every recipient reads everything).
  public let rules: [AccessRule]?
  /// Every declared recipient, in declared order.
  public let recipients: [ManifestRecipient]
  /// Every declared environment, in declared order.
  public let environments: [String]
  /// Every group a rule can name: the declared groups in order, then ``ungroupedGroup`` unless declared.
  public let groups: [String]
  /// Who may approve changes to the policy (trust model v2); `nil`: every recipient.
  public let admins: [String]?

  /// Builds the policy of a manifest.
  /// - Parameter manifest: a decoded manifest.
  public init(manifest: Manifest) {
    self.init(
      rules: manifest.access, recipients: manifest.recipients, admins: manifest.admins,
      environments: manifest.environments, groups: manifest.groups.map(\.name))
  }

  /// Builds a policy from its parts (for example an approved policy record, with the manifest's names).
  /// - Parameters:
  ///   - rules: the rules, or `nil` for "every recipient reads everything".
  ///   - recipients: the recipients.
  ///   - admins: who may approve policy changes, or `nil` for every recipient.
  ///   - environments: the declared environments.
  ///   - groups: the declared group names (``ungroupedGroup`` is added unless present).
  public init(
    rules: [AccessRule]?, recipients: [ManifestRecipient], admins: [String]?, environments: [String],
    groups: [String]
  ) {
    self.rules = rules
    self.recipients = recipients
    self.admins = admins
    self.environments = environments
    var names = groups
    if !names.contains(Self.ungroupedGroup) { names.append(Self.ungroupedGroup) }
    self.groups = names
  }

  /// Whether a recipient may approve changes to the access policy.
  /// - Parameter recipient: a recipient name.
  public func isAdmin(_ recipient: String) -> Bool {
    guard recipients.contains(where: { $0.name == recipient }) else { return false }
    return admins?.contains(recipient) ?? true
  }

  /// Whether a recipient may write a group in an environment: readers may, and so may recipients of a
  /// `write_only` rule covering it.
  /// - Parameters:
  ///   - recipient: a recipient name.
  ///   - environment: an environment name.
  ///   - group: a group name.
  public func canWrite(_ recipient: String, environment: String, group: String) -> Bool {
    guard self.recipients.contains(where: { $0.name == recipient }) else { return false }
    guard let rules else { return true }
    return rules.contains {
      $0.environments.matches(environment) && $0.groups.matches(group) && $0.recipients.matches(recipient)
    }
  }

  /// The recipients who may write a group in an environment (readers and write-only writers), in declared order.
  public func writers(environment: String, group: String) -> [ManifestRecipient] {
    recipients.filter { canWrite($0.name, environment: environment, group: group) }
  }

  /// Whether access is restricted by rules (`false` when the manifest has no `access:` key).
  public var isRestricted: Bool { rules != nil }

  /// Whether a recipient may read a group in an environment.
  /// - Parameters:
  ///   - recipient: a recipient name from the manifest (names not declared read nothing).
  ///   - environment: an environment name.
  ///   - group: a group name as stored in the vault.
  public func canRead(_ recipient: String, environment: String, group: String) -> Bool {
    guard self.recipients.contains(where: { $0.name == recipient }) else { return false }
    guard let rules else { return true }
    return rules.contains { !$0.writeOnly && $0.allows(recipient, environment: environment, group: group) }
  }

  /// The recipients allowed to read a group in an environment: those its data key is wrapped to.
  /// - Parameters:
  ///   - environment: an environment name.
  ///   - group: a group name as stored in the vault.
  /// - Returns: the recipients, in declared order; empty when no rule covers the pair.
  public func readers(environment: String, group: String) -> [ManifestRecipient] {
    recipients.filter { canRead($0.name, environment: environment, group: group) }
  }

  /// The recipients who can grant access to a group in an environment: granting re-wraps the group's data key,
  /// which only someone who can unwrap it can do, so these are exactly its ``readers(environment:group:)``.
  /// - Parameters:
  ///   - environment: an environment name.
  ///   - group: a group name.
  /// - Returns: the recipients, in declared order.
  public func grantors(environment: String, group: String) -> [ManifestRecipient] {
    readers(environment: environment, group: group)
  }

  /// The recipients the environment key of a vault is wrapped to: everyone who may read at least one group there.
  ///
  /// A group named in no declaration (for example one only found in a vault file) is covered by rules that use
  /// `"*"` for groups, so a recipient matched by such a rule is included too.
  /// - Parameter environment: an environment name.
  /// - Returns: the recipients, in declared order.
  public func environmentReaders(_ environment: String) -> [ManifestRecipient] {
    guard let rules else { return recipients }
    return recipients.filter { r in
      rules.contains { !$0.writeOnly && $0.environments.matches(environment) && $0.recipients.matches(r.name) }
    }
  }

  /// Every (environment, group) a recipient may read, environments and groups in declared order.
  /// - Parameter recipient: a recipient name.
  public func readable(by recipient: String) -> [(environment: String, group: String)] {
    var out: [(environment: String, group: String)] = []
    for environment in environments {
      for group in groups where canRead(recipient, environment: environment, group: group) {
        out.append((environment, group))
      }
    }
    return out
  }
}
