import CofferCore
import CofferSync
import CofferTesting
import Foundation
import Testing

/// The sync benchmark (Benchmarks/sync.sh): 500 secrets to the fake GitHub with 20 ms added to every request.
/// Runs only with COFFER_BENCH_SYNC=1; prints numbers and asserts nothing about speed.
@Suite struct SyncBenchmark {
  @Test(.enabled(if: ProcessInfo.processInfo.environment["COFFER_BENCH_SYNC"] == "1"))
  func fiveHundredSecretsToGitHub() async throws {
    let count = Int(ProcessInfo.processInfo.environment["COFFER_BENCH_SECRETS"] ?? "") ?? 500
    let latencyMS = Int(ProcessInfo.processInfo.environment["COFFER_BENCH_LATENCY_MS"] ?? "") ?? 20
    let fake = FakeGitHub()
    fake.addOrganization("acme")
    try await fake.start()
    fake.setLatency(.milliseconds(latencyMS))
    let harness = Harness()
    let destination = harness.github(fake, scope: .organization(org: "acme", visibility: "all", repositories: []))
    let items = (0..<count).map { item(String(format: "SECRET_%04d", $0), "value-\($0)-" + String(repeating: "x", count: 40)) }

    let clock = ContinuousClock()
    let start = clock.now
    let (_, first) = await sync(destination, input(items))
    let elapsed = clock.now - start
    let requests = fake.requests.count
    let concurrency = 4
    let ideal = Duration.milliseconds(requests * latencyMS) / concurrency

    fake.resetLog()
    let secondStart = clock.now
    let (_, second) = await sync(destination, input(items, state: first.state))
    let secondElapsed = clock.now - secondStart
    let secondRequests = fake.requests
    await harness.shutdown()
    await fake.stop()

    func ms(_ d: Duration) -> Int { Int(d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000) }
    let lines = [
      "secrets: \(count)", "latency_ms: \(latencyMS)", "concurrency: \(concurrency)",
      "first_sync_requests: \(requests)", "first_sync_wall_ms: \(ms(elapsed))", "ideal_ms: \(ms(ideal))",
      "ratio: \(String(format: "%.3f", Double(ms(elapsed)) / Double(max(1, ms(ideal)))))",
      "first_sync_failures: \(first.results.filter(\.failed).count)",
      "second_sync_requests: \(secondRequests.count)",
      "second_sync_methods: \(Set(secondRequests.map(\.method)).sorted().joined(separator: ","))",
      "second_sync_writes: \(second.results.filter { $0.outcome == .done }.count)",
      "second_sync_wall_ms: \(ms(secondElapsed))",
    ]
    let text = lines.joined(separator: "\n") + "\n"
    print("SYNC-BENCHMARK-BEGIN\n" + text + "SYNC-BENCHMARK-END")
    if let path = ProcessInfo.processInfo.environment["COFFER_BENCH_OUT"] {
      try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }
  }
}
