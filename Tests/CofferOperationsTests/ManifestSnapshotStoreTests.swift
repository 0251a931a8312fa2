import CofferCore
import CofferOperations
import CofferSystem
import Foundation
import Logging
import Testing

extension InProcessTests {
  /// The manifest snapshot in use: `Workspace.load` keeps one after decoding, reads it while coffer.yaml's bytes
  /// are unchanged, and decodes the YAML again when they change; a manifest that does not decode never gets one.
  @Suite struct ManifestSnapshotStoreTests {
    static let manifest = """
      version: 1
      project: snap
      environments: [development, production]
      groups:
        api-keys: { rotation: 90d }
      secrets:
        OPENAI_API_KEY: { group: api-keys, prefix: sk-, required: [production] }
        LOG_LEVEL: { secret: false, required: false }

      """

    func load(_ f: Fixture, provenance: Bool = false) throws -> Workspace {
      try Workspace.load(
        project: f.path, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }), provenance: provenance)
    }

    /// The snapshot files of this process's state directory.
    func snapshots() -> [String] {
      let dir = Fixture.processHome.appendingPathComponent("state/coffer/manifest").path
      return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
    }

    @Test func aSnapshotIsKeptAndReadUntilTheManifestChanges() throws {
      let f = try Fixture(manifest: Self.manifest)
      let path = Paths.join(f.path, "coffer.yaml")
      let before = Set(snapshots())
      let first = try load(f, provenance: true)
      let added = Set(snapshots()).subtracting(before)
      #expect(added.count == 1 && added.first!.hasSuffix(".snapshot"))
      #expect(first.provenance["secrets.OPENAI_API_KEY.prefix"]?.line == 7)

      // The second load reads the snapshot: a snapshot planted for these bytes (as only someone who can write the
      // state directory could) is what it returns.
      let bytes = try Files.read(path)
      let genuine = try ManifestLoader.load(path, rootDisplay: "coffer.yaml")
      var planted = genuine
      planted.manifest.project = "from-the-snapshot"
      let store = try #require(ManifestSnapshotStore(manifestPath: path, manifest: bytes))
      store.write(planted, file: "coffer.yaml")
      #expect(try load(f).manifest.project == "from-the-snapshot")
      // It is the same manifest the YAML gives, provenance included when asked for.
      store.write(genuine, file: "coffer.yaml")
      let again = try load(f, provenance: true)
      #expect(again.manifest == first.manifest && again.manifest.secrets.map(\.line) == first.manifest.secrets.map(\.line))
      #expect(again.provenance == first.provenance)
      #expect(try load(f).provenance.isEmpty)

      // Other bytes (one comment added) are decoded again, and their own snapshot replaces the old one.
      store.write(planted, file: "coffer.yaml")
      try f.write("coffer.yaml", Self.manifest + "# a comment\n")
      #expect(try load(f).manifest.project == "snap")
      let edited = try Files.read(path)
      #expect(ManifestSnapshotStore(manifestPath: path, manifest: edited)?.read(file: "coffer.yaml", provenance: true)?.manifest == first.manifest)
      #expect(store.read(file: "coffer.yaml", provenance: false) == nil)
      #expect(Set(snapshots()).subtracting(before) == added)
    }

    @Test func aManifestThatDoesNotDecodeGetsNoSnapshot() throws {
      let f = try Fixture(manifest: Self.manifest.replacingOccurrences(of: "prefix: sk-", with: "prefx: sk-"))
      let path = Paths.join(f.path, "coffer.yaml")
      for _ in 0..<2 {
        #expect(throws: ManifestError.self) { try load(f) }
      }
      #expect(ManifestSnapshotStore(manifestPath: path, manifest: try Files.read(path))?.read(file: "coffer.yaml", provenance: true) == nil)
    }

    @Test func aManifestWithImportsIsDecodedEveryTime() throws {
      let f = try Fixture(manifest: Self.manifest + "  SHARED_TOKEN:\nimports: [catalog]\n")
      try f.write("catalog/coffer.yaml", "version: 1\nsecrets:\n  SHARED_TOKEN: { required: false }\n")
      let path = Paths.join(f.path, "coffer.yaml")
      #expect(try load(f).manifest.secret(named: "SHARED_TOKEN")?.prefix == nil)
      #expect(ManifestSnapshotStore(manifestPath: path, manifest: try Files.read(path))?.read(file: "coffer.yaml", provenance: true) == nil)
      // The catalog changes while coffer.yaml does not: the change is seen.
      try f.write("catalog/coffer.yaml", "version: 1\nsecrets:\n  SHARED_TOKEN: { required: false, prefix: tok_ }\n")
      #expect(try load(f).manifest.secret(named: "SHARED_TOKEN")?.prefix == "tok_")
    }
  }
}
