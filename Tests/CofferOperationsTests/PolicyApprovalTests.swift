import CofferCore
import CofferOperations
import CofferSystem
import CofferVault
import Foundation
import Logging
import Synchronization
import Testing

extension InProcessTests {
  /// `PolicyApproval.apply` (trust model v2), called directly: a new signed epoch applied to every vault.
  @Suite struct PolicyApprovalTests {
    /// A v2 project made by `coffer init` (this process's identity is its admin `me`), with bob added as a member.
    func project() throws -> (Fixture, bob: (file: String, recipient: String)) {
      let f = try Fixture(manifest: "")
      try FileManager.default.removeItem(atPath: f.path + "/coffer.yaml")
      let made = try f.coffer(["init", "--name", "me", "--environments", "development"])
      #expect(made.status == 0, "init failed: \(made.err)")
      var yaml = String(decoding: try f.read("coffer.yaml"), as: UTF8.self)
      yaml = yaml.replacingOccurrences(of: "secrets: {}", with: "secrets:\n  API_KEY: { group: api-keys }")
      try f.write("coffer.yaml", yaml)
      let bob = try f.keygen("bob")
      let line = try f.coffer(["identity"], identityFile: bob.file).out.trimmingCharacters(in: .newlines)
      let added = try f.coffer(["access", "add-recipient", "bob", line])
      #expect(added.status == 0, "add-recipient failed: \(added.err)")
      try f.set("API_KEY", "key-1")
      return (f, bob)
    }

    func approve(_ f: Fixture, access: [AccessRule]) throws -> (approved: Bool, notes: [String], epoch: Int) {
      // Loaded first: coffer.yaml's own (unapproved) rules make loading note the pending change.
      let ws = try workspace(f)
      let notes = Mutex<[String]>([])
      Notices.handler = { notice in
        if case .note(let text) = notice { notes.withLock { $0.append(text) } }
      }
      defer { Notices.handler = { _ in } }
      var manifest = ws.manifest
      manifest.access = access
      let approved = try ws.holdingLock {
        try PolicyApproval.apply(ws, manifest: manifest, manifestText: nil, identities: try IdentityLoader.load(), verb: "test")
      }
      let epoch = try #require(try Trust.chain(for: ws.project)).head.epoch
      return (approved, notes.withLock { $0 }, epoch)
    }

    @Test func anApprovedRevocationRekeysAndAGrantRewraps() throws {
      let (f, bob) = try project()
      // Without access rules every member reads everything.
      #expect(try f.coffer(["get", "API_KEY", "--env", "development"], identityFile: bob.file).out == "key-1\n")

      let onlyMe = AccessRule(environments: .any, groups: .any, recipients: .names(["me"]))
      let revoke = try approve(f, access: [onlyMe])
      #expect(revoke.approved)
      #expect(revoke.epoch == 3)  // init, add-recipient bob, this
      #expect(revoke.notes == [
        "development: re-keyed api-keys; 1 secret(s) now need rotation: API_KEY",
        "approved the access policy as epoch 3 (signed by me)",
      ])
      #expect(try f.coffer(["get", "API_KEY", "--env", "development"], identityFile: bob.file).status == 3)

      let everyone = AccessRule(environments: .any, groups: .any, recipients: .names(["me", "bob"]))
      let grant = try approve(f, access: [everyone])
      #expect(grant.approved)
      #expect(grant.notes == ["development: re-wrapped", "approved the access policy as epoch 4 (signed by me)"])
      let read = try f.coffer(["get", "API_KEY", "--env", "development"], identityFile: bob.file)
      #expect(read.status == 0)
      #expect(read.out == "key-1\n")

      // The same policy again: nothing to approve, nothing written.
      let again = try approve(f, access: [everyone])
      #expect(!again.approved)
      #expect(again.notes == [])
      #expect(again.epoch == 4)
    }
  }
}
