import CofferRuntime
import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#endif

let runtimeManifest = """
  version: 1
  project: runtime-test
  environments: [development, staging]
  groups:
    api: {}
  secrets:
    API_KEY:
      group: api
      required: true
    DATABASE_URL:
      required: [staging]
    LOG_LEVEL:
      secret: false
      required: false

  """

/// The planted value: it must appear in no error, hint, description or dump, nor in the audit log.
let runtimeCanary = "canary-rt-5b7e1c9d-VALUE"

/// Whether any text the library produced holds the canary (or its distinctive marker).
func leaks(_ texts: [String]) -> Bool { texts.contains { $0.contains(runtimeCanary) || $0.contains("5b7e1c9d") } }

func loadError(_ options: CofferSecrets.Options) -> CofferSecrets.LoadError? {
  do {
    _ = try CofferSecrets.load(options)
    return nil
  } catch {
    return error
  }
}

extension InProcessTests {
/// The runtime API (`CofferSecrets.load`), called in-process against projects made with the CLI.
@Suite struct RuntimeAPITests {
  @Test func loadsTheDeclaredValuesOfAnEnvironment() throws {
    let f = try Fixture(manifest: runtimeManifest)
    try f.set("API_KEY", runtimeCanary)
    try f.set("LOG_LEVEL", "debug")
    try f.set("UNDECLARED_EXTRA", "left-out")
    let secrets = try CofferSecrets.load(.init(projectDirectory: f.path, environment: "development"))
    #expect(secrets.environment == "development")
    #expect(secrets.names == ["API_KEY", "LOG_LEVEL"])
    #expect(secrets["API_KEY"]?.revealString() == runtimeCanary)
    #expect(secrets["LOG_LEVEL"]?.revealString() == "debug")
    #expect(secrets["UNDECLARED_EXTRA"] == nil)
    #expect(secrets.isSecret("API_KEY"))
    #expect(!secrets.isSecret("LOG_LEVEL"))
    #expect(secrets.unreadableGroups == [])
    #expect(secrets.vaultPath == f.path + "/.coffer/vault/development.vault")
    // Printing or dumping the result shows names only.
    var dumped = ""
    dump(secrets, to: &dumped)
    #expect(!leaks([secrets.description, "\(secrets)", dumped, String(reflecting: secrets)]))
    #expect(secrets.description == "CofferSecrets(development: API_KEY, LOG_LEVEL)")
  }

  @Test func theEnvironmentComesFromCOFFER_ENVWhenNotGiven() throws {
    let f = try Fixture(manifest: runtimeManifest)
    try f.set("API_KEY", "dev-key")
    try f.set("API_KEY", "staging-key", env: "staging")
    try f.set("DATABASE_URL", "postgres://staging", env: "staging")
    #expect(try CofferSecrets.load(.init(projectDirectory: f.path))["API_KEY"]?.revealString() == "dev-key")
    setenv("COFFER_ENV", "staging", 1)
    defer { unsetenv("COFFER_ENV") }
    let staging = try CofferSecrets.load(.init(projectDirectory: f.path))
    #expect(staging.environment == "staging")
    #expect(staging["API_KEY"]?.revealString() == "staging-key")
    // An explicit environment wins over COFFER_ENV.
    #expect(try CofferSecrets.load(.init(projectDirectory: f.path, environment: "development")).environment == "development")
  }

  @Test func theWorkingDirectorysProjectIsFoundUpward() throws {
    let f = try Fixture(manifest: runtimeManifest)
    try f.set("API_KEY", "dev-key")
    let nested = f.dir.appendingPathComponent("Sources/App")
    try FileManager.default.createDirectory(at: nested, withIntermediateDirectories: true)
    let previous = FileManager.default.currentDirectoryPath
    #expect(FileManager.default.changeCurrentDirectoryPath(nested.path))
    defer { _ = FileManager.default.changeCurrentDirectoryPath(previous) }
    let secrets = try CofferSecrets.load()
    #expect(secrets.projectDirectory == f.path)
    #expect(secrets["API_KEY"]?.revealString() == "dev-key")
  }

  @Test func aVaultOfAnotherEnvironmentIsRefused() throws {
    let f = try Fixture(manifest: runtimeManifest)
    try f.set("API_KEY", runtimeCanary)
    try f.write(".coffer/vault/staging.vault", String(decoding: try f.read(".coffer/vault/development.vault"), as: UTF8.self))
    let error = try #require(loadError(.init(projectDirectory: f.path, environment: "staging")))
    #expect(error.code == .wrongEnvironment)
    #expect(error.description.hasPrefix("malformed vault: "))
    #expect(error.description.hasSuffix(".coffer/vault/staging.vault: holds environment development"))
    #expect(!leaks([error.description] + error.hints))
  }

  @Test(arguments: ["production", "", "Development", "develop"])
  func anUndeclaredEnvironmentIsRefused(_ name: String) throws {
    let f = try Fixture(manifest: runtimeManifest)
    let error = try #require(loadError(.init(projectDirectory: f.path, environment: name)))
    #expect(error.code == .unknownEnvironment)
    #expect(error.description == "unknown environment \(name.isEmpty ? "(none)" : name)")
  }

  @Test func aMissingRequiredSecretFailsClosedUnlessAllowed() throws {
    let f = try Fixture(manifest: runtimeManifest)
    try f.set("API_KEY", "staging-key", env: "staging")
    let error = try #require(loadError(.init(projectDirectory: f.path, environment: "staging")))
    #expect(error.code == .missingSecrets)
    #expect(error.description == "1 required secret has no value in staging: DATABASE_URL")
    let partial = try CofferSecrets.load(.init(projectDirectory: f.path, environment: "staging", allowMissing: true))
    #expect(partial.names == ["API_KEY"])
  }

  @Test func anEnvironmentWithoutAVaultFailsClosedUnlessAllowed() throws {
    let f = try Fixture(manifest: runtimeManifest)
    let error = try #require(loadError(.init(projectDirectory: f.path, environment: "development")))
    #expect(error.code == .missingSecrets)
    #expect(error.description == "development has no vault yet (it requires API_KEY)")
    let empty = try CofferSecrets.load(.init(projectDirectory: f.path, environment: "development", allowMissing: true))
    #expect(empty.names == [])
  }

  @Test func noProjectIsATypedError() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("coffer-ops-none-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let error = try #require(loadError(.init(projectDirectory: dir.path)))
    #expect(error.code == .projectNotFound)
  }

  @Test func aBadManifestIsATypedError() throws {
    let f = try Fixture(manifest: "version: 1\nproject: x\nenvironments: [development]\nsecrets:\n  API_KEY: { requird: true }\n")
    let error = try #require(loadError(.init(projectDirectory: f.path)))
    #expect(error.code == .invalidManifest)
    #expect(error.description.contains("coffer.yaml:5:"))
  }

  @Test func aTamperedVaultIsUntrustedAndNamesNoValue() throws {
    let f = try Fixture(manifest: runtimeManifest)
    try f.set("API_KEY", runtimeCanary)
    try f.set("LOG_LEVEL", "debug")
    var text = String(decoding: try f.read(".coffer/vault/development.vault"), as: UTF8.self)
    // Another (well-formed) file MAC: it no longer verifies.
    text = text.split(separator: "\n", omittingEmptySubsequences: false)
      .map { $0.hasPrefix("mac ") ? "mac " + String(repeating: "A", count: 43) + "=" : String($0) }
      .joined(separator: "\n")
    try f.write(".coffer/vault/development.vault", text)
    let error = try #require(loadError(.init(projectDirectory: f.path, environment: "development")))
    #expect(error.code == .untrusted)
    #expect(!leaks([error.description, "\(error)", String(reflecting: error)] + error.hints))
  }

  @Test func trustModelV2IsRequiredWhenCOFFER_TRUSTSaysSo() throws {
    let f = try Fixture(manifest: runtimeManifest)
    try f.set("API_KEY", runtimeCanary)
    setenv("COFFER_TRUST", "v2", 1)
    defer { unsetenv("COFFER_TRUST") }
    let error = try #require(loadError(.init(projectDirectory: f.path, environment: "development")))
    #expect(error.code == .untrusted)
    #expect(error.description.contains("COFFER_TRUST=v2 requires a signed access policy"))
  }

  @Test func unreadableGroupsFailUnlessAPartialReadIsAsked() throws {
    let f = try Fixture(manifest: runtimeManifest)
    let bob = try f.keygen("bob")
    try f.write(
      "coffer.yaml",
      runtimeManifest + """
        recipients:
          me: \(Fixture.recipient)
          bob: \(bob.recipient)
        access:
          - { environments: [development], groups: [api], recipients: [bob] }
          - { environments: [development], groups: [default], recipients: [me, bob] }

        """)
    try f.set("API_KEY", runtimeCanary, identityFile: bob.file)
    try f.set("LOG_LEVEL", "debug", identityFile: bob.file)
    let error = try #require(loadError(.init(projectDirectory: f.path, environment: "development")))
    #expect(error.code == .unreadableGroups)
    #expect(error.description == "cannot read groups api in development with this identity")
    #expect(error.hints.first == "api in development: recipients who can read it and grant access: bob")
    #expect(!leaks([error.description] + error.hints))
    let partial = try CofferSecrets.load(.init(projectDirectory: f.path, environment: "development", allowPartial: true))
    #expect(partial.names == ["LOG_LEVEL"])
    #expect(partial.unreadableGroups == ["api"])
  }

  @Test func loadsFromSeveralTasksAtOnceAgree() async throws {
    let f = try Fixture(manifest: runtimeManifest)
    try f.set("API_KEY", "dev-key")
    let path = f.path
    let values = try await withThrowingTaskGroup(of: String?.self) { group in
      for _ in 0..<8 {
        group.addTask {
          try CofferSecrets.load(.init(projectDirectory: path, environment: "development"))["API_KEY"]?.revealString()
        }
      }
      var out: [String?] = []
      for try await value in group { out.append(value) }
      return out
    }
    #expect(values == Array(repeating: "dev-key", count: 8))
  }

  @Test func theReadIsAuditedAsRunDoesWithoutValues() throws {
    let f = try Fixture(manifest: runtimeManifest)
    try f.set("API_KEY", runtimeCanary)
    _ = try CofferSecrets.load(.init(projectDirectory: f.path, environment: "development"))
    let shown = try f.coffer(["audit", "show", "--json"])
    #expect(shown.status == 0)
    let runs = shown.out.split(separator: "\n").filter { $0.contains(#""action":"run""#) }
    #expect(runs.count == 1)
    #expect(runs.first?.contains(#""secrets":["API_KEY"]"#) == true)
    #expect(!leaks([shown.out, shown.err]))
    let verify = try f.coffer(["audit", "verify"])
    #expect(verify.status == 0)
  }
}
}
