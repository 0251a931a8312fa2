import CofferCore

/// GitHub's rules for Actions secret and variable names and sizes, checked before any write.
///
/// Source: GitHub docs, "Naming your secrets" (actions-secrets-and-variables-naming.md) and "Limits for secrets"
/// (using-secrets-in-github-actions.md): names use only `[A-Za-z0-9_]`, do not start with a digit or with
/// `GITHUB_`, and are not case-sensitive; a secret is at most 48 KB; at most 100 secrets per repository and per
/// environment and 1,000 per organization. Variables follow the same naming rules; limits from "Limits for
/// configuration variables": 48 KB each, 500 per repository, 100 per environment, 1,000 per organization.
package enum GitHubRules {
  /// The largest value, in bytes: 48 KB = 49,152.
  package static let maxValueBytes = 48 * 1024

  /// Where secrets live at GitHub.
  package enum ScopeKind: Sendable, Equatable {
    /// Repository secrets and variables.
    case repository
    /// Deployment-environment secrets and variables.
    case environment
    /// Organization secrets and variables.
    case organization
  }

  /// The most items of a kind a scope may hold.
  /// - Parameters:
  ///   - kind: secret or plain setting.
  ///   - scope: the scope.
  /// - Returns: 100/100/1,000 for secrets; 500/100/1,000 for variables.
  package static func maxCount(_ kind: ItemKind, in scope: ScopeKind) -> Int {
    switch (kind, scope) {
    case (.secret, .repository), (_, .environment): return 100
    case (.variable, .repository): return 500
    case (_, .organization): return 1000
    }
  }

  /// Why a name cannot be used at GitHub, or `nil` when it can.
  /// - Parameter name: the name as Coffer knows it.
  /// - Returns: a reason such as `contains '-'; GitHub allows only letters, digits and _`.
  package static func nameProblem(_ name: String) -> String? {
    guard let first = name.unicodeScalars.first else { return "is empty" }
    for scalar in name.unicodeScalars {
      let ok = scalar.isASCII && (scalar == "_" || ("A"..."Z").contains(scalar) || ("a"..."z").contains(scalar)
        || ("0"..."9").contains(scalar))
      if !ok { return "contains '\(scalar)'; GitHub allows only letters, digits and _" }
    }
    if ("0"..."9").contains(first) { return "starts with a digit, which GitHub does not allow" }
    if name.uppercased().hasPrefix("GITHUB_") { return "starts with GITHUB_, which GitHub reserves" }
    return nil
  }

  /// Checks every wanted item against the rules.
  ///
  /// Order matters only for collisions and counts: items are taken sorted by name; a name equal to an earlier one
  /// ignoring case is blocked; creations beyond the scope's limit (counting what the destination already holds and
  /// keeps) are blocked, the rest proceed.
  /// - Parameters:
  ///   - items: the wanted items.
  ///   - remoteNames: the names the destination holds now, per kind (any case).
  ///   - scope: the scope written to.
  /// - Returns: blocked item names (per kind) with the reason.
  package static func blocked(
    _ items: [SyncItem], remoteNames: [ItemKind: Set<String>], scope: ScopeKind
  ) -> [ItemKind: [String: String]] {
    var result: [ItemKind: [String: String]] = [:]
    for kind in [ItemKind.secret, .variable] {
      var reasons: [String: String] = [:]
      var seen: [String: String] = [:]
      let remote = Set((remoteNames[kind] ?? []).map { $0.uppercased() })
      var count = remote.count
      let limit = maxCount(kind, in: scope)
      for item in items.filter({ $0.kind == kind }).sorted(by: { $0.name < $1.name }) {
        if let problem = nameProblem(item.name) {
          reasons[item.name] = "name " + problem
          continue
        }
        let key = item.name.uppercased()
        if let other = seen[key] {
          reasons[item.name] = "name equals \(other) ignoring case; GitHub names are not case-sensitive"
          continue
        }
        if item.value.byteCount > maxValueBytes {
          reasons[item.name] = "value is \(item.value.byteCount) bytes; GitHub allows at most \(maxValueBytes)"
          continue
        }
        if kind == .variable, !item.value.isValidUTF8 {
          reasons[item.name] = "value is not UTF-8 text, which a GitHub variable needs"
          continue
        }
        if !remote.contains(key) {
          if count >= limit {
            reasons[item.name] = "the \(scopeName(scope)) would hold more than \(limit) \(kind == .secret ? "secrets" : "variables")"
            continue
          }
          count += 1
        }
        seen[key] = item.name
      }
      if !reasons.isEmpty { result[kind] = reasons }
    }
    return result
  }

  static func scopeName(_ scope: ScopeKind) -> String {
    switch scope {
    case .repository: return "repository"
    case .environment: return "environment"
    case .organization: return "organization"
    }
  }
}
