import CofferConfiguration
import CofferRuntime
import Configuration
import ConfigurationTesting
import Foundation
import Testing

/// The names swift-configuration's `ProviderCompatTest` reads (its keys, mapped as `EnvironmentVariablesProvider`
/// maps them) and the values it expects, as a vault holds them.
let compatValues: [(String, String)] = [
  ("STRING", "Hello"), ("OTHER_STRING", "Other Hello"),
  ("INT", "42"), ("OTHER_INT", "24"),
  ("DOUBLE", "3.14"), ("OTHER_DOUBLE", "2.72"),
  ("BOOL", "true"), ("OTHER_BOOL", "false"),
  ("BYTES", "bWFnaWM="), ("OTHER_BYTES", "bWFnaWMy"),
  ("STRINGY_ARRAY", "Hello,World"), ("OTHER_STRINGY_ARRAY", "Hello,Swift"),
  ("INTY_ARRAY", "42,24"), ("OTHER_INTY_ARRAY", "16,32"),
  ("DOUBLY_ARRAY", "3.14,2.72"), ("OTHER_DOUBLY_ARRAY", "0.9,1.8"),
  ("BOOLY_ARRAY", "true,false"), ("OTHER_BOOLY_ARRAY", "false,true,true"),
  ("BYTE_CHUNKY_ARRAY", "bWFnaWM=,bWFnaWMy"), ("OTHER_BYTE_CHUNKY_ARRAY", "bWFnaWM=,bWFnaWMy,bWFnaWM="),
]

let providerManifest = """
  version: 1
  project: provider-test
  environments: [development]
  secrets:
    OPENAI_API_KEY: { required: true }
    LOG_LEVEL: { secret: false, required: false }
    PORTS: { required: false }
    FEATURE_ON: { required: false }

  """

extension InProcessTests {
  /// `CofferProvider`: swift-configuration's provider over a Coffer environment.
  @Suite struct ConfigurationProviderTests {
    func makeProvider(_ f: Fixture) throws -> CofferProvider {
      try CofferProvider(options: .init(projectDirectory: f.path, environment: "development"))
    }

    @Test func passesSwiftConfigurationsProviderCompatibilityTest() async throws {
      let declared = compatValues.map { "    \($0.0): { required: false }\n" }.joined()
      let f = try Fixture(
        manifest: "version: 1\nproject: compat\nenvironments: [development]\nsecrets:\n" + declared)
      try f.write("compat.env", compatValues.map { "\($0.0)=\"\($0.1)\"\n" }.joined())
      let imported = try f.coffer(["import", "compat.env", "--env", "development"])
      #expect(imported.status == 0, "import failed: \(imported.err)")
      try await ProviderCompatTest(provider: try makeProvider(f)).runTest()
    }

    @Test func keysMapAsEnvironmentVariablesAndValuesAreSecretUnlessDeclaredOtherwise() throws {
      let f = try Fixture(manifest: providerManifest)
      try f.set("OPENAI_API_KEY", runtimeCanary)
      try f.set("LOG_LEVEL", "debug")
      try f.set("PORTS", "80, 443")
      try f.set("FEATURE_ON", "yes")
      let provider = try makeProvider(f)
      let key = try provider.value(forKey: ["openai", "apiKey"], type: .string)
      #expect(key.encodedKey == "OPENAI_API_KEY")
      #expect(key.value == ConfigValue(.string(runtimeCanary), isSecret: true))
      #expect(try provider.value(forKey: ["log", "level"], type: .string).value == ConfigValue(.string("debug"), isSecret: false))
      #expect(try provider.value(forKey: ["ports"], type: .intArray).value?.content == .intArray([80, 443]))
      #expect(try provider.value(forKey: ["feature", "on"], type: .bool).value?.content == .bool(true))
      #expect(try provider.value(forKey: ["absent"], type: .string).value == nil)
      // The reader a service uses redacts secrets in what it describes; the provider prints names and counts only.
      let config = ConfigReader(provider: provider)
      #expect(config.string(forKey: "openai.apiKey", isSecret: true) == runtimeCanary)
      #expect(provider.description == "CofferProvider[development][4 values]")
      #expect(!leaks([provider.description, String(reflecting: provider), "\(provider.snapshot())"]))
    }

    @Test func aTypeMismatchNamesTheKeyNotTheValue() throws {
      let f = try Fixture(manifest: providerManifest)
      try f.set("OPENAI_API_KEY", runtimeCanary)
      let provider = try makeProvider(f)
      #expect(throws: (any Error).self) { try provider.value(forKey: ["openai", "apiKey"], type: .int) }
      do {
        _ = try provider.value(forKey: ["openai", "apiKey"], type: .int)
      } catch {
        #expect("\(error)".contains("OPENAI_API_KEY"))
        #expect(!leaks(["\(error)", String(reflecting: error)]))
      }
    }

    @Test func reloadsWhenTheVaultChangesAndNotifiesWatchers() async throws {
      let f = try Fixture(manifest: providerManifest)
      try f.set("OPENAI_API_KEY", "first-key")
      let provider = try makeProvider(f)
      #expect(provider.reloadIfChanged() == false)
      try await provider.watchSnapshot { updates in
        var iterator = updates.makeAsyncIterator()
        let first = try await iterator.next()
        #expect(try first?.value(forKey: ["openai", "apiKey"], type: .string).value?.content == .string("first-key"))
        try f.set("OPENAI_API_KEY", "second-key")
        #expect(provider.reloadIfChanged() == true)
        let second = try await iterator.next()
        #expect(try second?.value(forKey: ["openai", "apiKey"], type: .string).value?.content == .string("second-key"))
      }
      #expect(try provider.value(forKey: ["openai", "apiKey"], type: .string).value?.content == .string("second-key"))
      #expect(provider.lastReloadError == nil)
    }

    @Test(arguments: ["mac", "environment", "truncated", "deleted"])
    func aBadNewFileKeepsTheLastGoodValuesAndReportsTheError(_ fault: String) throws {
      let f = try Fixture(manifest: providerManifest)
      try f.set("OPENAI_API_KEY", runtimeCanary)
      let provider = try makeProvider(f)
      let vault = ".coffer/vault/development.vault"
      let good = try f.read(vault)
      let text = String(decoding: good, as: UTF8.self)
      switch fault {
      case "mac":
        try f.write(vault, text.split(separator: "\n", omittingEmptySubsequences: false)
          .map { $0.hasPrefix("mac ") ? "mac " + String(repeating: "A", count: 43) + "=" : String($0) }.joined(separator: "\n"))
      case "environment":
        try f.write(vault, text.replacingOccurrences(of: "development", with: "developmenz"))
      case "truncated":
        try f.write(vault, String(text.prefix(text.count / 2)))
      default:
        try FileManager.default.removeItem(atPath: f.path + "/" + vault)
      }
      #expect(provider.reloadIfChanged() == false)
      let error = try #require(provider.lastReloadError)
      #expect(!leaks([error.description] + error.hints))
      #expect(try provider.value(forKey: ["openai", "apiKey"], type: .string).value?.content == .string(runtimeCanary))
      // Not retried until the file changes again; then the good file is read.
      #expect(provider.reloadIfChanged() == false)
      try f.write(vault, text)
      #expect(provider.reloadIfChanged() == true)
      #expect(provider.lastReloadError == nil)
    }
  }
}
