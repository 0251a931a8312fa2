import CofferCore
import Testing

/// The reference guide's three rules (issue 5), with three recipients.
let accessManifest = """
  version: 1
  project: p
  environments: [development, staging, production]
  recipients:
    ops-lead: age1qvpsxqcrqvpsxqcrqvpsxqcrqvpsxqcrqvpsxqcrqvpsxqcrqvpsewmjt2
    backend-dev: age1qszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgz4v0d
    ci-production: \(aliceKey)
  groups:
    api-keys: { rotation: 90d }
    infrastructure-credentials: {}
  access:
    # production is least-privilege
    - { environments: [production], groups: [infrastructure-credentials], recipients: [ops-lead, ci-production] }
    - { environments: [production], groups: [api-keys], recipients: [ops-lead, backend-dev, ci-production] }  # keys
    - { environments: [development, staging], groups: ["*"], recipients: ["*"] }

  """

/// A header with two recipients and one group, for error positions.
func withAccess(_ rules: String) -> String {
  withHeader("recipients:\n  alice: \(aliceKey)\n  bob: \(bobKey)\ngroups:\n  g: {}\naccess:\n" + rules)
}

@Suite struct AccessPolicyTests {
  @Test func decodesTheRulesInOrderWithWildcards() throws {
    let manifest = try decode(accessManifest)
    #expect(manifest.access == [
      AccessRule(environments: .names(["production"]), groups: .names(["infrastructure-credentials"]), recipients: .names(["ops-lead", "ci-production"])),
      AccessRule(environments: .names(["production"]), groups: .names(["api-keys"]), recipients: .names(["ops-lead", "backend-dev", "ci-production"])),
      AccessRule(environments: .names(["development", "staging"]), groups: .any, recipients: .any),
    ])
    #expect(manifest.access?.map(\.line) == [13, 14, 15])
  }

  @Test func aRecipientReadsWhenSomeRuleListsAllThree() throws {
    let policy = AccessPolicy(manifest: try decode(accessManifest))
    #expect(policy.isRestricted)
    #expect(policy.groups == ["api-keys", "infrastructure-credentials", "default"])
    #expect(policy.readers(environment: "production", group: "infrastructure-credentials").map(\.name) == ["ops-lead", "ci-production"])
    #expect(policy.readers(environment: "production", group: "api-keys").map(\.name) == ["ops-lead", "backend-dev", "ci-production"])
    #expect(policy.readers(environment: "production", group: "default").map(\.name) == [])
    #expect(policy.readers(environment: "staging", group: "default").map(\.name) == ["ops-lead", "backend-dev", "ci-production"])
    #expect(policy.readers(environment: "staging", group: "a-group-only-in-a-vault").count == 3)
    #expect(policy.grantors(environment: "production", group: "infrastructure-credentials") == policy.readers(environment: "production", group: "infrastructure-credentials"))
    #expect(!policy.canRead("backend-dev", environment: "production", group: "infrastructure-credentials"))
    #expect(!policy.canRead("stranger", environment: "staging", group: "api-keys"))
    #expect(policy.environmentReaders("production").map(\.name) == ["ops-lead", "backend-dev", "ci-production"])
    #expect(policy.readable(by: "backend-dev").map { "\($0.environment)/\($0.group)" } == [
      "development/api-keys", "development/infrastructure-credentials", "development/default",
      "staging/api-keys", "staging/infrastructure-credentials", "staging/default", "production/api-keys",
    ])
  }

  @Test func withoutAccessEveryRecipientReadsEverything() throws {
    for tail in ["", "access:\n", "access: ~\n"] {
      let manifest = try decode(withHeader("recipients:\n  alice: \(aliceKey)\n  bob: \(bobKey)\n" + tail))
      let policy = AccessPolicy(manifest: manifest)
      #expect(manifest.access == nil)
      #expect(!policy.isRestricted)
      #expect(policy.readers(environment: "prod", group: "anything").map(\.name) == ["alice", "bob"])
      #expect(policy.environmentReaders("dev").map(\.name) == ["alice", "bob"])
    }
  }

  @Test func anEnvironmentReaderNeedsOnlyOneGroup() throws {
    let manifest = try decode(withAccess("  - { environments: [prod], groups: [g], recipients: [bob] }\n  - { environments: ['*'], groups: [default], recipients: [alice] }\n"))
    let policy = AccessPolicy(manifest: manifest)
    #expect(policy.environmentReaders("prod").map(\.name) == ["alice", "bob"])
    #expect(policy.environmentReaders("dev").map(\.name) == ["alice"])
    #expect(policy.readers(environment: "dev", group: "g").map(\.name) == [])
  }

  @Test func badRulesNameFileLineColumnAndField() {
    #expect(
      failure(withAccess("  - { environments: [dev], groups: [g], recipients: [alice, carol] }\n"))
        == "coffer.yaml:10:61: access[0].recipients[1]: no recipient named \"carol\" is declared under recipients")
    #expect(
      failure(withAccess("  - { environments: [qa], groups: [g], recipients: [alice] }\n"))
        == "coffer.yaml:10:22: access[0].environments[0]: no environment named \"qa\" is declared under environments")
    #expect(
      failure(withAccess("  - { environments: [dev], groups: [h], recipients: [alice] }\n"))
        == "coffer.yaml:10:37: access[0].groups[0]: no group named \"h\" is declared under groups (or \"default\" for ungrouped secrets)")
    #expect(
      failure(withAccess("  - { environments: [dev], groups: [g], recipient: [alice] }\n"))
        == "coffer.yaml:10:41: access[0].recipient: unknown field; expected one of environments, groups, recipients, write_only")
    #expect(
      failure(withAccess("  - { environments: [dev], groups: [g] }\n"))
        == "coffer.yaml:10:5: access[0].recipients: missing required field")
    #expect(
      failure(withAccess("  - { environments: [dev], groups: [\"*\", g], recipients: [alice] }\n"))
        == "coffer.yaml:10:37: access[0].groups[0]: \"*\" already matches every group; list it alone")
    #expect(
      failure(withAccess("  - { environments: [dev], groups: [g, g], recipients: [alice] }\n"))
        == "coffer.yaml:10:40: access[0].groups[1]: duplicate group \"g\"")
    #expect(
      failure(withAccess("  - { environments: [], groups: [g], recipients: [alice] }\n"))
        == "coffer.yaml:10:21: access[0].environments: expected a non-empty list of environment names or [\"*\"]")
    #expect(
      failure(withAccess("  []\n")) == "coffer.yaml:10:3: access: expected at least one rule; remove the access key to let every recipient read everything")
    #expect(failure(withAccess("  everyone\n")) == "coffer.yaml:10:3: access: expected a list of rules, found a string")
    #expect(
      failure(withAccess("  - alice\n"))
        == "coffer.yaml:10:5: access[0]: expected a rule { environments: [...], groups: [...], recipients: [...] }, found a string")
  }

  @Test func misspelledNamesGetAHint() {
    do {
      _ = try decode(withAccess("  - { environments: [dev], groups: [g], recipients: [alcie] }\n"))
      Issue.record("expected an error")
    } catch {
      #expect(error.hints == ["did you mean 'alice'?"])
    }
  }

  @Test func rulesSurviveTheCanonicalEncoding() throws {
    let manifest = try decode(accessManifest)
    let text = manifest.encodedYAML()
    #expect(text.hasSuffix("""
      access:
        - { environments: [production], groups: [infrastructure-credentials], recipients: [ops-lead, ci-production] }
        - { environments: [production], groups: [api-keys], recipients: [ops-lead, backend-dev, ci-production] }
        - { environments: [development, staging], groups: ['*'], recipients: ['*'] }

      """))
    #expect(try decode(text) == manifest)
  }
}

@Suite struct AccessEditorTests {
  func grant(_ name: String, _ envs: AccessSelector, _ groups: AccessSelector, _ text: String) throws -> AccessEdit {
    try ManifestEditor.grantingAccess(to: name, environments: envs, groups: groups, in: text)
  }

  func revoke(_ name: String, _ envs: AccessSelector, _ groups: AccessSelector, _ text: String) throws -> AccessEdit {
    try ManifestEditor.revokingAccess(from: name, environments: envs, groups: groups, in: text)
  }

  @Test func grantAddsTheNameToAMatchingRuleKeepingComments() throws {
    let edit = try grant("backend-dev", .names(["production"]), .names(["infrastructure-credentials"]), accessManifest)
    #expect(edit.changed)
    #expect(edit.text == accessManifest.replacingAll(
      "recipients: [ops-lead, ci-production] }", with: "recipients: [ops-lead, ci-production, backend-dev] }"))
    #expect(AccessPolicy(manifest: edit.manifest).canRead("backend-dev", environment: "production", group: "infrastructure-credentials"))
  }

  @Test func grantAppendsARuleWhenNoneMatches() throws {
    let edit = try grant("backend-dev", .names(["production"]), .names(["default", "infrastructure-credentials"]), accessManifest)
    #expect(edit.text == accessManifest.replacingAll(
      "  - { environments: [development, staging], groups: [\"*\"], recipients: [\"*\"] }\n",
      with: "  - { environments: [development, staging], groups: [\"*\"], recipients: [\"*\"] }\n"
        + "  - { environments: [production], groups: [default, infrastructure-credentials], recipients: [backend-dev] }\n"))
  }

  @Test func grantChangesNothingWhenTheRecipientCanAlreadyRead() throws {
    let edit = try grant("backend-dev", .names(["staging"]), .any, accessManifest)
    #expect(!edit.changed)
    #expect(edit.text == accessManifest)
    let open = withHeader("recipients:\n  alice: \(aliceKey)\n")
    #expect(try grant("alice", .any, .any, open).text == open)
  }

  @Test func grantRefusesUndeclaredNames() {
    #expect(throws: ManifestError.self) { try grant("nobody", .any, .any, accessManifest) }
    #expect(throws: ManifestError.self) { try grant("ops-lead", .names(["qa"]), .any, accessManifest) }
    let error = #expect(throws: ManifestError.self) { try grant("ops-lead", .any, .names(["nope"]), accessManifest) }
    #expect(error?.description == "coffer.yaml: access: no group named \"nope\" is declared under groups (or \"default\" for ungrouped secrets)")
  }

  @Test func revokeRemovesTheNameFromRulesTheScopeCovers() throws {
    let edit = try revoke("ci-production", .names(["production"]), .any, accessManifest)
    #expect(edit.changed)
    #expect(edit.expandedRuleLines == [])
    #expect(edit.text == accessManifest
      .replacingAll("recipients: [ops-lead, ci-production] }", with: "recipients: [ops-lead] }")
      .replacingAll("recipients: [ops-lead, backend-dev, ci-production] }  # keys", with: "recipients: [ops-lead, backend-dev] }  # keys"))
  }

  @Test func revokeSplitsARuleTheScopeCoversInPartAndExpandsWildcards() throws {
    let edit = try revoke("backend-dev", .names(["staging"]), .names(["api-keys"]), accessManifest)
    #expect(edit.expandedRuleLines == [15])
    #expect(edit.text == accessManifest.replacingAll(
      "  - { environments: [development, staging], groups: [\"*\"], recipients: [\"*\"] }\n",
      with: "  - { environments: [development, staging], groups: ['*'], recipients: [ops-lead, ci-production] }\n"
        + "  - { environments: [development], groups: ['*'], recipients: [backend-dev] }\n"
        + "  - { environments: [staging], groups: [infrastructure-credentials, default], recipients: [backend-dev] }\n"))
  }

  @Test func revokeTakesAwayExactlyTheScope() throws {
    let base = AccessPolicy(manifest: try decode(accessManifest))
    let scopes: [(AccessSelector, AccessSelector)] = [
      (.any, .any), (.names(["production"]), .any), (.names(["staging"]), .names(["default"])),
      (.any, .names(["api-keys"])), (.names(["development", "production"]), .names(["api-keys", "default"])),
    ]
    for name in ["ops-lead", "backend-dev", "ci-production"] {
      for (envs, groups) in scopes {
        let after = AccessPolicy(manifest: try revoke(name, envs, groups, accessManifest).manifest)
        for r in base.recipients {
          for e in base.environments {
            for g in base.groups + ["unlisted"] {
              let inScope = r.name == name && envs.matches(e) && groups.matches(g) && g != "unlisted"
              let expected = inScope ? false : base.canRead(r.name, environment: e, group: g)
              // A group no declaration names is only covered by wildcards, which a revoke makes explicit.
              if g == "unlisted", r.name == name, envs.matches(e) { continue }
              #expect(after.canRead(r.name, environment: e, group: g) == expected, "\(name) \(envs) \(groups): \(r.name) \(e) \(g)")
            }
          }
        }
      }
    }
  }

  @Test func revokeWithoutRulesWritesThemAtTheEnd() throws {
    let open = withHeader("recipients:\n  alice: \(aliceKey)\n  bob: \(bobKey)\n") + "# trailing comment\n"
    let edit = try revoke("bob", .names(["prod"]), .any, open)
    #expect(edit.text == open + """
      access:
        - { environments: ['*'], groups: ['*'], recipients: [alice] }
        - { environments: [dev], groups: ['*'], recipients: [bob] }

      """)
    #expect(!AccessPolicy(manifest: edit.manifest).canRead("bob", environment: "prod", group: "x"))
    #expect(AccessPolicy(manifest: edit.manifest).canRead("bob", environment: "dev", group: "x"))
  }

  @Test func revokingTheLastReaderOfEverythingIsRefused() {
    let alone = withHeader("recipients:\n  alice: \(aliceKey)\n")
    let error = #expect(throws: ManifestError.self) { try revoke("alice", .any, .any, alone) }
    #expect(error?.description == "coffer.yaml: access: revoking alice would leave no access rule: nobody could read anything")
  }

  @Test func aBlockStyleRuleIsReplacedAndCRLFKept() throws {
    let text = withAccess("  - environments: [dev, prod]\n    groups: [g]\n    # both\n    recipients: [alice, bob]\n  - { environments: [prod], groups: [default], recipients: [alice] }\n")
      .replacingAll("\n", with: "\r\n")
    let edit = try revoke("bob", .names(["prod"]), .any, text)
    #expect(edit.text == withAccess(
      "  - { environments: [dev, prod], groups: [g], recipients: [alice] }\n  - { environments: [dev], groups: [g], recipients: [bob] }\n  - { environments: [prod], groups: [default], recipients: [alice] }\n")
      .replacingAll("\n", with: "\r\n"))
  }

  @Test func aFlowStyleListIsRefused() {
    let text = withHeader("recipients:\n  alice: \(aliceKey)\n  bob: \(bobKey)\naccess: [{ environments: ['*'], groups: ['*'], recipients: ['*'] }]\n")
    let error = #expect(throws: ManifestError.self) { try revoke("bob", .any, .any, text) }
    #expect(error?.description == "coffer.yaml: access: cannot edit this layout of access rules safely; edit coffer.yaml by hand")
  }
}

extension String {
  func replacingAll(_ target: String, with replacement: String) -> String {
    split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
  }
}
