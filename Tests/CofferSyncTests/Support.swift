import CofferCore
import CofferSync
import CofferSystem
import CofferTesting
import Synchronization

/// Records the waits a ``RemoteClient`` asks for instead of sleeping.
final class SleepRecorder: Sendable {
  let waits = Mutex<[Duration]>([])
  func sleep(_ duration: Duration) async { waits.withLock { $0.append(duration) } }
  var recorded: [Duration] { waits.withLock { $0 } }
}

/// A deterministic stand-in for the vault's keyed fingerprint (FNV-1a 64, hex): tests need equality, not secrecy.
@Sendable func testFingerprint(_ value: SecretValue) -> String {
  var hash: UInt64 = 0xcbf2_9ce4_8422_2325
  for byte in value.reveal() {
    hash ^= UInt64(byte)
    hash = hash &* 0x100_0000_01b3
  }
  return String(hash, radix: 16) + ":\(value.byteCount)"
}

func item(_ name: String, _ value: String, _ kind: ItemKind = .secret) -> SyncItem {
  SyncItem(name: name, value: SecretValue(value), kind: kind, fingerprint: testFingerprint(SecretValue(value)))
}

func item(_ name: String, bytes: [UInt8]) -> SyncItem {
  SyncItem(name: name, value: SecretValue(bytes), kind: .secret, fingerprint: testFingerprint(SecretValue(bytes)))
}

func input(_ items: [SyncItem], state: DestinationState = DestinationState(), prune: Bool = false) -> SyncInput {
  SyncInput(items: items, state: state, prune: prune, fingerprint: testFingerprint)
}

/// A fake server the sync tests start before and stop after each test.
protocol StartableFake: Sendable {
  func start() async throws
  func stop() async
}

extension FakeGitHub: StartableFake {}
extension FakePulumiESC: StartableFake {}

/// Starts `fake`, runs `body` with it and a fresh harness, and shuts both down whether or not `body` throws.
func withStarted<Fake: StartableFake>(_ fake: Fake, _ body: (Fake, Harness) async throws -> Void) async throws {
  try await fake.start()
  let harness = Harness()
  do {
    try await body(fake, harness)
  } catch {
    await harness.shutdown()
    await fake.stop()
    throw error
  }
  await harness.shutdown()
  await fake.stop()
}

/// A real AsyncHTTPClient transport with recorded (not real) retry waits.
///
/// The default per-try timeout is long on purpose: tests that count requests or waits must never see a time-out
/// that only a loaded machine caused. The test of hung connections sets its own short one.
struct Harness {
  let transport = HTTPClientTransport()
  let sleeper = SleepRecorder()

  func client(attempts: Int = 5, timeout: Duration = .seconds(120)) -> RemoteClient {
    let sleeper = self.sleeper
    return RemoteClient(
      transport: transport, policy: RetryPolicy(maxAttempts: attempts), timeout: timeout,
      sleep: { await sleeper.sleep($0) }, now: { 1_750_000_000 }, jitter: { 0.5 })
  }

  func github(
    _ fake: FakeGitHub, scope: GitHubDestination.Scope = .repository(owner: "acme", repo: "api"),
    token: String? = "test-token", attempts: Int = 5, timeout: Duration = .seconds(120), concurrency: Int = 4
  ) -> GitHubDestination {
    GitHubDestination(
      name: "gh", scope: scope, base: BaseURL(fake.baseURL)!, token: token, tokenSource: "GITHUB_TOKEN",
      client: client(attempts: attempts, timeout: timeout), maxConcurrentWrites: concurrency)
  }

  func esc(_ fake: FakePulumiESC, token: String? = "pul-test-token", attempts: Int = 5) -> PulumiESCDestination {
    PulumiESCDestination(
      name: "esc", organization: "acme", project: "default", environment: "prod", base: BaseURL(fake.baseURL)!,
      token: token, tokenSource: "PULUMI_ACCESS_TOKEN", client: client(attempts: attempts))
  }

  func shutdown() async { await transport.shutdown() }
}

/// Plans and applies, returning both.
func sync(_ destination: any Destination, _ input: SyncInput) async -> (DestinationPlan, SyncReport) {
  let plan = await destination.plan(input)
  let report = await destination.apply(plan, input, progress: { _ in })
  return (plan, report)
}

extension DestinationPlan {
  func action(of name: String, _ kind: ItemKind = .secret) -> PlannedChange.Action? {
    changes.first { $0.name == name && $0.kind == kind }?.action
  }
}

extension SyncReport {
  func outcome(of name: String, _ kind: ItemKind = .secret) -> ItemResult.Outcome? {
    results.first { $0.name == name && $0.kind == kind }?.outcome
  }
}
