import CofferSystem
import Dispatch
import Foundation
import Testing

/// The trust memory (docs/access.md, "old clone" row): the newest policy epoch a clone has seen is never replaced by
/// an older one, even when several processes (here: threads, each taking the lock file with its own descriptor)
/// remember epochs at once.
@Suite struct TrustMemoryTests {
  @Test func concurrentRemembersKeepTheNewestEpoch() throws {
    let home = FileManager.default.temporaryDirectory.appendingPathComponent("coffer-trust-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: home) }
    let project = "8db2f53ea6a0918a85a7cc9e35388f4f"
    // Epochs in a scrambled order, so that older ones are often written after newer ones are read.
    let epochs = (1...64).map { ($0 * 37) % 64 + 1 }
    DispatchQueue.concurrentPerform(iterations: epochs.count) { i in
      TrustMemory.remember(project: project, .init(epoch: epochs[i], hash: "hash-\(epochs[i])"), stateHome: home)
    }
    #expect(TrustMemory.recall(project: project, stateHome: home) == .init(epoch: 64, hash: "hash-64"))
    // An older epoch afterwards changes nothing; a newer one is kept.
    TrustMemory.remember(project: project, .init(epoch: 3, hash: "hash-3"), stateHome: home)
    #expect(TrustMemory.recall(project: project, stateHome: home) == .init(epoch: 64, hash: "hash-64"))
    TrustMemory.remember(project: project, .init(epoch: 65, hash: "hash-65"), stateHome: home)
    #expect(TrustMemory.recall(project: project, stateHome: home) == .init(epoch: 65, hash: "hash-65"))
    let mode = try FileManager.default.attributesOfItem(atPath: home + "/coffer/trust/" + project)[.posixPermissions] as? Int
    #expect(mode == 0o600)
  }
}
