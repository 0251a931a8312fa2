import CofferConfiguration
import CofferRuntime
import Configuration
import Foundation
import Logging
import Synchronization
import Testing

/// Planted values of every awkward shape; each has a marker that must appear nowhere the library writes text.
let libraryCanaries: [(name: String, value: String, marker: String)] = [
  ("SIMPLE_TOKEN", "libcanary-0d1f4c7e-VALUE", "0d1f4c7e"),
  ("MULTI_KEY", "mlcanary-1a2b3c4d-BEGIN\nmlcanary-5e6f7a8b-END", "1a2b3c4d"),
  ("QUOTED_PASS", #"qcanary-3f4e5d6c"it's" $HOME `id`"#, "3f4e5d6c"),
  ("UNICODE_NAME", "ucanary-ünïcødé-東京-🔑-8f1a2b3c", "8f1a2b3c"),
]

/// Collects log lines (the provider reports reload failures through its logger).
final class CollectedLog: Sendable {
  let lines = Mutex<[String]>([])

  var handler: CollectingHandler { CollectingHandler(log: self) }

  struct CollectingHandler: LogHandler {
    let log: CollectedLog
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
      get { metadata[key] }
      set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
      log.lines.withLock { $0.append("\(event.level): \(event.message) \(event.metadata ?? [:])") }
    }
  }
}

extension InProcessTests {
  /// The canary test for the library: the runtime API and the provider put no planted value in an error, a hint, a
  /// log line, a description or a dump, on every path that produces text.
  @Suite struct LibraryCanaryTests {
    func leaked(_ texts: [String]) -> [String] {
      libraryCanaries.filter { canary in texts.contains { $0.contains(canary.marker) } }.map(\.name)
    }

    func project() throws -> Fixture {
      let declared = libraryCanaries.map { "    \($0.name): { required: true }\n" }.joined()
      let f = try Fixture(
        manifest: "version: 1\nproject: library-canary\nenvironments: [development, staging]\nsecrets:\n" + declared
          + "    EMPTY_REQUIRED: { required: [staging] }\n")
      for canary in libraryCanaries { try f.set(canary.name, canary.value) }
      return f
    }

    @Test func noPlantedValueInWhatTheRuntimeAPIPrintsOrThrows() throws {
      let f = try project()
      let secrets = try CofferSecrets.load(.init(projectDirectory: f.path, environment: "development"))
      #expect(secrets.names == libraryCanaries.map(\.name).sorted())
      for canary in libraryCanaries { #expect(secrets[canary.name]?.revealString() == canary.value) }
      var dumped = ""
      dump(secrets, to: &dumped)
      var texts = [secrets.description, String(reflecting: secrets), dumped]
      for name in secrets.names {
        if let value = secrets[name] { texts += ["\(value)", String(reflecting: value)] }
      }

      // Every failure path: another environment's vault, missing secrets, a tampered file, an undeclared
      // environment, a bad manifest.
      let vault = String(decoding: try f.read(".coffer/vault/development.vault"), as: UTF8.self)
      try f.write(".coffer/vault/staging.vault", vault)
      var errors: [CofferSecrets.LoadError] = []
      if let e = loadError(.init(projectDirectory: f.path, environment: "staging")) { errors.append(e) }
      try FileManager.default.removeItem(atPath: f.path + "/.coffer/vault/staging.vault")
      try f.set("SIMPLE_TOKEN", "libcanary-0d1f4c7e-VALUE", env: "staging")
      if let e = loadError(.init(projectDirectory: f.path, environment: "staging")) { errors.append(e) }
      try f.write(
        ".coffer/vault/development.vault",
        vault.split(separator: "\n", omittingEmptySubsequences: false)
          .map { $0.hasPrefix("mac ") ? "mac " + String(repeating: "A", count: 43) + "=" : String($0) }
          .joined(separator: "\n"))
      if let e = loadError(.init(projectDirectory: f.path, environment: "development")) { errors.append(e) }
      if let e = loadError(.init(projectDirectory: f.path, environment: "producton")) { errors.append(e) }
      #expect(errors.map(\.code) == [.wrongEnvironment, .missingSecrets, .untrusted, .unknownEnvironment])
      for error in errors { texts += [error.description, String(reflecting: error)] + error.hints }
      #expect(leaked(texts) == [], "the runtime API showed planted values")
    }

    @Test func noPlantedValueInWhatTheProviderLogsOrDescribes() throws {
      let f = try project()
      let log = CollectedLog()
      let provider = try CofferProvider(
        options: .init(projectDirectory: f.path, environment: "development"),
        logger: Logger(label: "canary", factory: { _ in log.handler }))
      var texts = [provider.description, String(reflecting: provider), "\(provider.snapshot())"]
      let config = ConfigReader(provider: provider)
      #expect(config.string(forKey: "simpleToken", isSecret: true) == "libcanary-0d1f4c7e-VALUE")
      // A reload that fails is logged.
      let vault = String(decoding: try f.read(".coffer/vault/development.vault"), as: UTF8.self)
      try f.write(".coffer/vault/development.vault", String(vault.prefix(vault.count - 10)))
      #expect(provider.reloadIfChanged() == false)
      let lines = log.lines.withLock { $0 }
      #expect(lines.count == 1)
      #expect(lines.first?.hasPrefix("error: coffer: keeping the last good values: ") == true)
      texts += lines
      texts += (provider.lastReloadError.map { [$0.description] + $0.hints } ?? [])
      do {
        _ = try provider.value(forKey: ["unicode", "name"], type: .intArray)
      } catch {
        texts += ["\(error)", String(reflecting: error)]
      }
      #expect(leaked(texts) == [], "the provider showed planted values")
    }
  }
}
