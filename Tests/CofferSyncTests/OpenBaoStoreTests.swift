import CofferCore
import CofferSync
import CofferSystem
import CofferTesting
import Foundation
import Testing

/// An environment whose store is OpenBao (``OpenBaoStore``), against the real `bao server -dev` on 127.0.0.1.
@Suite(.serialized) struct OpenBaoStoreTests {
  func store(_ bao: OpenBao, layout: DestinationSpec.Layout = .environment, token: String? = OpenBao.rootToken)
    -> OpenBaoStore
  {
    OpenBaoStore(bao.destination(layout: layout, token: token))
  }

  @Test(arguments: [DestinationSpec.Layout.environment, .name])
  func roundTripsBytesExactly(_ layout: DestinationSpec.Layout) async throws {
    try await withOpenBao { bao in
      let store = store(bao, layout: layout)
      #expect(try await store.readAll().isEmpty)
      try await store.writeAll(OpenBaoSyncTests.tricky.map { ($0.0, SecretValue($0.1)) })
      let all = try await store.readAll()
      #expect(all.map(\.name) == OpenBaoSyncTests.tricky.map(\.0).sorted())
      for (name, value) in OpenBaoSyncTests.tricky {
        #expect(all.first { $0.name == name }?.value.reveal() == Array(value.utf8), "\(name)")
        let one = try await store.read(name, version: nil)
        #expect(one?.value.reveal() == Array(value.utf8), "\(name)")
      }
      #expect(try await store.read("ABSENT", version: nil) == nil)
      // The server holds exactly the bytes (read behind Coffer's back).
      let big = OpenBaoSyncTests.tricky.first { $0.0 == "BIG" }!.1
      let behind =
        layout == .environment ? try await bao.kv("app/prod")?["BIG"] : try await bao.kv("app/prod/BIG")?["value"]
      #expect(behind == big)
      #expect(big.utf8.count == 49_152)
    }
  }

  @Test(arguments: [DestinationSpec.Layout.environment, .name])
  func versionsAreTheServersAndOldOnesReadBack(_ layout: DestinationSpec.Layout) async throws {
    try await withOpenBao { bao in
      let store = store(bao, layout: layout)
      let v1 = try await store.write("A", SecretValue("a1"))
      let other = try await store.write("B", SecretValue("b1"))
      let v2 = try await store.write("A", SecretValue("a2"))
      if layout == .environment {
        #expect([v1, other, v2] == [Int]([1, 2, 3]))
        // B's write made version 2 of the one secret, in which A did not change.
        #expect(try await store.versions(of: "A").map(\.number) == [3, 1])
        #expect(try await store.versions(of: "B").map(\.number) == [2])
      } else {
        #expect([v1, other, v2] == [Int]([1, 1, 2]))
        #expect(try await store.versions(of: "A").map(\.number) == [2, 1])
      }
      #expect(try await store.versions(of: "A").allSatisfy { $0.created.hasPrefix("20") && !$0.deleted })
      #expect(try await store.read("A", version: v1)?.value.revealString() == "a1")
      #expect(try await store.read("A", version: nil)?.value.revealString() == "a2")
      #expect(try await store.versions(of: "NEVER").isEmpty)
    }
  }

  @Test func casConflictOnTheSameNameWritesNothing() async throws {
    try await withOpenBao { bao in
      let store = store(bao)
      _ = try await store.write("A", SecretValue("a1"))
      bao.recording.once(before: "POST /v1/secret/data/app/prod") {
        try? await bao.write("app/prod", ["A": "theirs"])
      }
      do {
        _ = try await store.write("A", SecretValue("mine"))
        Issue.record("no conflict")
      } catch let error as StoreError {
        #expect(error.kind == .conflict)
        #expect(error.exitStatus == .remoteFailed)
        #expect(
          error.description
            == "store bao: conflict: A was changed at \(bao.base.authority) (secret/app/prod) while Coffer was writing (read version 1, now 2); nothing was written"
        )
      }
      #expect(try await bao.kv("app/prod") == ["A": "theirs"])  // no lost update
    }
  }

  @Test(arguments: [DestinationSpec.Layout.environment, .name])
  func casConflictPerLayoutNeighbours(_ layout: DestinationSpec.Layout) async throws {
    try await withOpenBao { bao in
      let store = store(bao, layout: layout)
      _ = try await store.write("A", SecretValue("a1"))
      _ = try await store.write("B", SecretValue("b1"))
      // Another writer changes B just before Coffer writes A.
      let path = layout == .environment ? "app/prod" : "app/prod/B"
      let theirs: [String: String] = layout == .environment ? ["A": "a1", "B": "theirs"] : ["value": "theirs"]
      bao.recording.once(before: "POST /v1/secret/data/app/prod") {
        try? await bao.write(path, theirs)
      }
      _ = try await store.write("A", SecretValue("a2"))
      // A is written; B keeps the other writer's value (with one secret per environment, the write was retried on
      // the new version because the other writer left A alone).
      #expect(try await store.read("A", version: nil)?.value.revealString() == "a2")
      #expect(try await store.read("B", version: nil)?.value.revealString() == "theirs")
    }
  }

  /// Failures name the server, the path and the status, never a value or token; unreachable and refused are exit 3.
  @Test func failuresAreClassifiedAndNamed() async throws {
    try await withOpenBao { bao in
      // No token.
      do {
        _ = try await store(bao, token: nil).readAll()
        Issue.record("read without a token")
      } catch let error as StoreError {
        #expect(error.kind == .denied)
        #expect(error.exitStatus == .accessDenied)
        #expect(error.description == "store bao: no token: VAULT_TOKEN is not set")
      }
      // A token the server refuses.
      do {
        _ = try await store(bao, token: "not-a-token-canary").readAll()
        Issue.record("read with a bad token")
      } catch let error as StoreError {
        #expect(error.kind == .denied)
        #expect(error.exitStatus == .accessDenied)
        #expect(error.description.hasPrefix("store bao: \(bao.base.authority): GET /v1/secret/data/app/prod: 403"))
        #expect(!error.description.contains("not-a-token-canary"))
      }
      // A value KV's JSON cannot hold.
      do {
        _ = try await store(bao).write("BIN", SecretValue([0xFF, 0xFE]))
        Issue.record("non-UTF-8 value written")
      } catch let error as StoreError {
        #expect(error.kind == .badInput)
        #expect(error.exitStatus == .badInput)
      }
    }
    // Nobody listening.
    let port = try LocalServer.freePort()
    let harness = Harness()
    let destination = OpenBaoDestination(
      name: "bao", base: BaseURL("http://127.0.0.1:\(port)")!, settings: .init(path: "app/prod"), token: "t-canary",
      tokenSource: "VAULT_TOKEN", client: harness.client(attempts: 2))
    do {
      _ = try await OpenBaoStore(destination).readAll()
      Issue.record("read from nowhere")
    } catch let error as StoreError {
      #expect(error.kind == .unreachable)
      #expect(error.exitStatus == .accessDenied)
      #expect(error.description.hasPrefix("store bao: 127.0.0.1:\(port) did not answer: GET /v1/secret/data/app/prod: "))
      #expect(!error.description.contains("t-canary"))
    }
    await harness.shutdown()
  }
}
