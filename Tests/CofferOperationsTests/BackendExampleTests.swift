import AsyncHTTPClient
import BackendExample
import CofferConfiguration
import Configuration
import Crypto
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import Testing

let backendManifest = """
  version: 1
  project: backend-example
  environments: [development]
  secrets:
    API_KEY: { required: true }
    DATABASE_URL: { required: true }

  """

/// HMAC-SHA256 of `subject` under `key`, in lowercase hex: what the service's `/token` answers.
func expectedToken(_ subject: String, key: String) -> String {
  HMAC<SHA256>.authenticationCode(for: Array(subject.utf8), using: SymmetricKey(data: Array(key.utf8)))
    .map { String(format: "%02x", $0) }.joined() + "\n"
}

/// GETs a path of the service on 127.0.0.1.
func get(_ path: String, port: Int) async throws -> (status: UInt, body: String) {
  let response = try await HTTPClient.shared.execute(
    HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)"), timeout: .seconds(30))
  let body = try await response.body.collect(upTo: 1 << 16)
  return (response.status.code, String(buffer: body))
}

extension InProcessTests {
  /// examples/backend: the service reads its secrets through `ConfigReader` + `CofferProvider`, and uses a new value
  /// after `coffer set` without a restart.
  @Suite struct BackendExampleTests {
    @Test(.timeLimit(.minutes(2)))  // a safety net against a hang, not an assertion on time
    func theServiceUsesTheVaultsSecretsAndTheirNewValuesWithoutARestart() async throws {
      let f = try Fixture(manifest: backendManifest)
      try f.set("API_KEY", runtimeCanary)
      try f.set("DATABASE_URL", "postgres://db.internal/app")
      let coffer = try CofferProvider(
        options: .init(projectDirectory: f.path, environment: "development"), pollInterval: .milliseconds(20))
      // The port comes from the environment's provider; 0 lets the system pick a free one.
      let config = ConfigReader(providers: [EnvironmentVariablesProvider(environmentVariables: ["HTTP_PORT": "0"]), coffer])
      let (ports, portSink) = AsyncStream<Int>.makeStream()
      let app = BackendService.makeApplication(config: config, services: [coffer]) { portSink.yield($0) }
      let group = ServiceGroup(services: [app], logger: Logger(label: "backend-example-test"))
      try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        var portIterator = ports.makeAsyncIterator()
        let port = try #require(await portIterator.next())

        let health = try await get("/health", port: port)
        #expect(health.status == 200)
        #expect(health.body == "database: configured\n")
        let first = try await get("/token/alice", port: port)
        #expect(first.status == 200)
        #expect(first.body == expectedToken("alice", key: runtimeCanary))
        #expect(!leaks([first.body, health.body]))

        // A new key, written by the CLI; the provider's service notices the file and reloads it.
        try f.set("API_KEY", "rotated-key-2f9c")
        try await coffer.watchSnapshot { updates in
          for await snapshot in updates {
            if try snapshot.value(forKey: ["api", "key"], type: .string).value?.content == .string("rotated-key-2f9c") {
              break
            }
          }
        }
        let second = try await get("/token/alice", port: port)
        #expect(second.status == 200)
        #expect(second.body == expectedToken("alice", key: "rotated-key-2f9c"))

        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
      }
    }
  }
}
