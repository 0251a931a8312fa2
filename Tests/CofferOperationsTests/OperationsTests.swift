import CofferCore
import CofferOperations
import CofferSystem
import CofferVault
import Foundation
import Logging
import Testing

/// A v1 team project: this process's identity (`me`) and `bob`, with `rules` as its access rules.
func teamProject(_ rules: String) throws -> (Fixture, bob: (file: String, recipient: String)) {
  let f = try Fixture(manifest: "version: 1\nproject: ops\nenvironments: [development]\n")
  let bob = try f.keygen("bob")
  try f.write(
    "coffer.yaml",
    """
    version: 1
    project: ops
    environments: [development]
    groups:
      api: {}
    secrets:
      API_KEY: { group: api, required: false }
      LOG_LEVEL: { secret: false, required: false }
    recipients:
      me: \(Fixture.recipient)
      bob: \(bob.recipient)
    access:
    \(rules)

    """)
  return (f, bob)
}

func workspace(_ f: Fixture) throws -> Workspace {
  try Workspace.load(project: f.path, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
}

/// The access rules after revoking `name` from `groups` in development, as `coffer access revoke` computes them.
func policyAfterRevoking(_ name: String, groups: AccessSelector, in ws: Workspace) throws -> AccessPolicy {
  let text = String(decoding: try Data(contentsOf: URL(fileURLWithPath: ws.project.manifestPath)), as: UTF8.self)
  let edit = try ManifestEditor.revokingAccess(from: name, environments: .names(["development"]), groups: groups, in: text)
  var edited = ws.manifest
  edited.access = edit.manifest.access
  return AccessPolicy(manifest: edited)
}

extension InProcessTests {
  /// The operations behind `access grant|revoke` and `rotate|rollback`, called directly.
  @Suite struct OperationsTests {
    @Test func aRevokePlansToRekeyTheGroupsTheRecipientLoses() throws {
      let (f, _) = try teamProject("  - { environments: [development], groups: [\"*\"], recipients: [me, bob] }")
      try f.set("API_KEY", "key-1")
      try f.set("LOG_LEVEL", "debug")
      let ws = try workspace(f)
      let identities = try IdentityLoader.load()
      let before = AccessPolicy(manifest: ws.manifest)
      let oneGroup = try ws.accessPlans(
        name: "bob", recipient: try #require(ws.manifest.recipient(named: "bob")?.recipient), groups: .names(["api"]),
        environments: ["development"], before: before, after: try policyAfterRevoking("bob", groups: .names(["api"]), in: ws),
        grant: false, identities: identities)
      #expect(oneGroup == [AccessPlan(environment: "development", rekey: ["api"], rekeyEnvironment: false)])
      let everything = try ws.accessPlans(
        name: "bob", recipient: try #require(ws.manifest.recipient(named: "bob")?.recipient), groups: .any,
        environments: ["development"], before: before, after: try policyAfterRevoking("bob", groups: .any, in: ws),
        grant: false, identities: identities)
      #expect(everything == [AccessPlan(environment: "development", rekey: ["api", "default"], rekeyEnvironment: true)])
      // A grant of what is already readable re-keys nothing; an environment without a vault has no plan.
      let grant = try ws.accessPlans(
        name: "bob", recipient: try #require(ws.manifest.recipient(named: "bob")?.recipient), groups: .any,
        environments: ["development", "staging"], before: before, after: before, grant: true, identities: identities)
      #expect(grant == [AccessPlan(environment: "development")])
    }

    @Test func aRevokeThatLeavesAGroupWithoutReadersIsRefused() throws {
      let (f, _) = try teamProject(
        "  - { environments: [development], groups: [api], recipients: [me] }\n  - { environments: [development], groups: [default], recipients: [me, bob] }")
      try f.set("API_KEY", "key-1")
      let ws = try workspace(f)
      let usageError = #expect(throws: UsageError.self) {
        try ws.accessPlans(
          name: "me", recipient: Fixture.recipient, groups: .names(["api"]), environments: ["development"],
          before: AccessPolicy(manifest: ws.manifest), after: try policyAfterRevoking("me", groups: .names(["api"]), in: ws),
          grant: false, identities: try IdentityLoader.load())
      }
      #expect(usageError?.description == "revoking me would leave nobody able to read group api in development")
    }

    @Test func aGrantOfAGroupThisIdentityCannotReadIsRefused() throws {
      let (f, bob) = try teamProject(
        "  - { environments: [development], groups: [api], recipients: [bob] }\n  - { environments: [development], groups: [default], recipients: [me, bob] }")
      try f.set("API_KEY", "key-1", identityFile: bob.file)
      let ws = try workspace(f)
      let before = AccessPolicy(manifest: ws.manifest)
      let accessDenied = #expect(throws: AccessDenied.self) {
        try ws.accessPlans(
          name: "me", recipient: Fixture.recipient, groups: .names(["api"]), environments: ["development"],
          before: before, after: before, grant: true, identities: try IdentityLoader.load())
      }
      #expect(accessDenied?.description.hasPrefix("no access to group api in development: ") == true)
    }

    @Test func rotationRefusesTheCurrentAndOldValuesAndRecordsANewOne() throws {
      let f = try Fixture(manifest: runtimeManifest)
      try f.set("API_KEY", "key-1")
      try f.set("API_KEY", "key-2")
      let ws = try workspace(f)
      let identities = try IdentityLoader.load()
      func rotate(_ value: String) throws -> Int {
        try Governed.write(ws, "development", identities: identities, action: "rotate") { vault in
          try Rotation.record("API_KEY", SecretValue(value), in: &vault, ws: ws, environment: "development", identities: identities)
        }
      }
      let sameValue = #expect(throws: UsageError.self) {
        try rotate("key-2")
      }
      #expect(sameValue?.description == "the new value of API_KEY is the same as the current one (version 2); nothing was written")
      let olderValue = #expect(throws: UsageError.self) {
        try rotate("key-1")
      }
      #expect(olderValue?.description == "the new value of API_KEY is the value of version 1; nothing was written")
      #expect(try rotate("key-3") == 3)
      let read = try ws.readEnvironment("development", identities: identities, allowPartial: false, allowMissing: false)
      #expect(read.values["API_KEY"]?.revealString() == "key-3")
      // The rotation marks the environment's destinations stale.
      #expect(FileManager.default.fileExists(atPath: f.path + "/.coffer/state/stale.json"))
    }

    @Test func rollbackRestoresAKeptVersionAsANewOne() throws {
      let f = try Fixture(manifest: runtimeManifest)
      try f.set("API_KEY", "key-1")
      try f.set("API_KEY", "key-2")
      let ws = try workspace(f)
      let identities = try IdentityLoader.load()
      func rollback(to target: Int) throws -> Int {
        try Governed.write(ws, "development", identities: identities, action: "rollback") { vault in
          try Rotation.rollback("API_KEY", to: target, in: &vault, ws: ws, environment: "development", identities: identities).0
        }
      }
      let current = #expect(throws: UsageError.self) {
        try rollback(to: 2)
      }
      #expect(current?.description == "version 2 is already the current version of API_KEY; nothing was written")
      let notKept = #expect(throws: UsageError.self) {
        try rollback(to: 7)
      }
      #expect(notKept?.description == "version 7 of API_KEY is not kept in development; nothing was written")
      #expect(try rollback(to: 1) == 3)
      let read = try ws.readEnvironment("development", identities: identities, allowPartial: false, allowMissing: false)
      #expect(read.values["API_KEY"]?.revealString() == "key-1")
    }

    @Test func aPartialReadReturnsTheReadableGroupsAndNamesTheOthers() throws {
      let (f, bob) = try teamProject(
        "  - { environments: [development], groups: [api], recipients: [bob] }\n  - { environments: [development], groups: [default], recipients: [me, bob] }")
      try f.set("API_KEY", "key-1", identityFile: bob.file)
      try f.set("LOG_LEVEL", "debug", identityFile: bob.file)
      let ws = try workspace(f)
      let identities = try IdentityLoader.load()
      let unreadableGroups = #expect(throws: UnreadableGroups.self) {
        try ws.readEnvironment("development", identities: identities, allowPartial: false, allowMissing: false)
      }
      #expect(unreadableGroups?.groups == ["api"])
      let read = try ws.readEnvironment("development", identities: identities, allowPartial: true, allowMissing: false)
      #expect(read.values.keys.sorted() == ["LOG_LEVEL"])
      #expect(read.unreadableGroups == ["api"])
      #expect(read.description == "development: 1 values (LOG_LEVEL)")
    }
  }
}
