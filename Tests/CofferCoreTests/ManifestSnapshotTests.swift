@testable import CofferCore
import Foundation
import Testing

/// The manifest snapshot (``ManifestSnapshot``): what a command reads instead of decoding an unchanged coffer.yaml
/// must be the manifest the decoder gives, field for field, and bytes that are not a snapshot for the key must be
/// refused without a trap.
@Suite struct ManifestSnapshotTests {
  /// Every field the manifest has, each with a value other than its default.
  static let everything = """
    # every field, for the snapshot
    version: 1
    project: "snap-ü"
    environments: [development, staging, { name: production, store: bao, cache_max_age: 8h }]
    recipients:
      alice: age1p9drn3pdh5jy6tft5nxuhf8d26yl4qax90hd67au8xefcnnvea3suw3y42 ed25519:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=
      bob: age1k822537pgxtfa6sq0hwq4t8hywfkgsnhl8yulw9dycuzp8kq8qcqmwauz4
    admins: [alice]
    access:
      - { environments: [production], groups: [api-keys], recipients: [alice] }
      - { environments: ["*"], groups: ["*"], recipients: [bob], write_only: true }
      - { environments: [development, staging], groups: ["*"], recipients: ["*"] }
    groups:
      api-keys: { rotation: 90d, description: "API keys — für alle" }
      db: { rotation: 2w }
      plain: {}
    secrets:
      OPENAI_API_KEY:
        group: api-keys
        description: "OpenAI key: 'quoted' \\"double\\" $HOME # not a comment"
        required: [staging, production]
        prefix: sk-
        min_length: 40
        max_length: 200
        example: sk-...
        rotation: 30d
      DB_USER: { group: db, secret: false, required: false, pattern: '[a-z]+', format: none }
      DB_PASSWORD: { group: db, required: true, format: stripe-secret-key }
      DATABASE_URL: { compose: "postgres://{{ DB_USER | url }}:{{ DB_PASSWORD|url }}@db/app?x={{DB_USER}}" }
      NODE_OPTIONS: { secret: false, required: false, allow_loader_variable: true }
    destinations:
      bao: { type: openbao, api_url: "http://127.0.0.1:8200", path: app/prod, from: production }
      gh:
        type: github
        repository: acme/api
        from: staging
        only: [OPENAI_API_KEY, DB_PASSWORD]
        nested: { deeper: [1, -2, true, false, null, "text"], empty: [] }

    """

  static func merged(_ text: String) throws -> MergedManifest {
    let source = try ManifestSource.parse(Array(text.utf8), file: "coffer.yaml")
    return try ManifestMerger.merge(ManifestImportGraph(root: "coffer.yaml", sources: ["coffer.yaml": source], edges: [:]))
  }

  /// `SecretSpec` and `AccessRule` leave `line` out of `==`; the snapshot must keep it anyway.
  static func lines(_ m: Manifest) -> [Int] { m.secrets.map(\.line) + (m.access ?? []).map(\.line) }

  @Test func everyFieldComesBackAsDecoded() throws {
    let merged = try Self.merged(Self.everything)
    // The fixture reaches every kind of value the format has.
    #expect(merged.manifest.recipients.contains { $0.signingKey != nil })
    #expect(merged.manifest.secrets.contains { $0.compose != nil } && merged.manifest.secrets.contains { $0.allowLoaderVariable })
    #expect(merged.manifest.stores == ["production": "bao"] && merged.manifest.storeCacheMaxAge == ["production": 28_800])
    #expect(merged.manifest.admins == ["alice"] && merged.manifest.access?.count == 3)
    #expect(merged.provenance.count > 20)

    let key = Array("key".utf8)
    let bytes = try #require(ManifestSnapshot.write(merged, file: "coffer.yaml", key: key))
    let back = try #require(ManifestSnapshot.read(bytes, key: key, file: "coffer.yaml"))
    #expect(back.manifest == merged.manifest)
    #expect(Self.lines(back.manifest) == Self.lines(merged.manifest))
    #expect(back.provenance == merged.provenance)
    #expect(back.importedSecrets.isEmpty)
    // The provenance takes the file name it is given (the display name depends on the working directory).
    let elsewhere = try #require(ManifestSnapshot.read(bytes, key: key, file: "../p/coffer.yaml"))
    #expect(elsewhere.provenance["secrets.DB_USER"]?.description == merged.provenance["secrets.DB_USER"].map {
      "../p/coffer.yaml:\($0.line):\($0.column)"
    })
    // Without provenance: the same manifest, no provenance.
    let lean = try #require(ManifestSnapshot.read(bytes, key: key, file: "coffer.yaml", provenance: false))
    #expect(lean.manifest == merged.manifest && lean.provenance.isEmpty)
  }

  @Test func theReferenceExampleComesBackAsDecoded() throws {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
      "../../examples/reference/coffer.yaml")
    let merged = try Self.merged(try String(contentsOf: url, encoding: .utf8))
    let bytes = try #require(ManifestSnapshot.write(merged, file: "coffer.yaml", key: [1, 2, 3]))
    let back = try #require(ManifestSnapshot.read(bytes, key: [1, 2, 3], file: "coffer.yaml"))
    #expect(back.manifest == merged.manifest && Self.lines(back.manifest) == Self.lines(merged.manifest))
    #expect(back.provenance == merged.provenance)
  }

  /// A field added to these types must be added to the snapshot too: this count fails first and says where.
  @Test func theSnapshotCoversEveryStoredProperty() throws {
    let merged = try Self.merged(Self.everything)
    let m = merged.manifest
    let counts = [
      ("MergedManifest", Mirror(reflecting: merged).children.count, 3),
      ("Manifest", Mirror(reflecting: m).children.count, 12),
      ("SecretSpec", Mirror(reflecting: m.secrets[0]).children.count, 15),
      ("ManifestRecipient", Mirror(reflecting: m.recipients[0]).children.count, 3),
      ("SecretGroup", Mirror(reflecting: m.groups[0]).children.count, 3),
      ("AccessRule", Mirror(reflecting: m.access![0]).children.count, 5),
      ("Composition", Mirror(reflecting: m.secrets.first { $0.compose != nil }!.compose!).children.count, 1),
      ("ManifestLocation", Mirror(reflecting: merged.provenance.first!.value).children.count, 3),
      ("RotationPeriod", Mirror(reflecting: m.groups[0].rotation!).children.count, 1),
    ]
    for (type, count, known) in counts {
      #expect(count == known, "\(type) has \(count) stored properties; ManifestSnapshot writes \(known): add the new one there")
    }
  }

  @Test func aManifestWithImportsHasNoSnapshot() throws {
    var merged = try Self.merged(Self.everything)
    merged.importedSecrets = ["DB_USER"]
    #expect(ManifestSnapshot.write(merged, file: "coffer.yaml", key: []) == nil)
    merged = try Self.merged(Self.everything)
    merged.provenance["secrets.DB_USER"]?.file = "../catalog/coffer.yaml"
    #expect(ManifestSnapshot.write(merged, file: "coffer.yaml", key: []) == nil)
    merged = try Self.merged(Self.everything)
    merged.manifest.imports = [ManifestImport(path: "../catalog")]
    #expect(ManifestSnapshot.write(merged, file: "coffer.yaml", key: []) == nil)
  }

  @Test func bytesThatAreNotASnapshotForTheKeyGiveNil() throws {
    let merged = try Self.merged(Self.everything)
    let key = Array("sha256 exe".utf8)
    let bytes = try #require(ManifestSnapshot.write(merged, file: "coffer.yaml", key: key))
    #expect(ManifestSnapshot.read(bytes, key: Array("sha256 exf".utf8), file: "coffer.yaml") == nil)
    #expect(ManifestSnapshot.read(bytes, key: Array("sha256".utf8), file: "coffer.yaml") == nil)
    #expect(ManifestSnapshot.read(Array(Self.everything.utf8), key: key, file: "coffer.yaml") == nil)
    #expect(ManifestSnapshot.read([], key: key, file: "coffer.yaml") == nil)
    // Every truncation is refused, and trailing bytes too.
    for count in 0..<bytes.count {
      #expect(ManifestSnapshot.read(Array(bytes[..<count]), key: key, file: "coffer.yaml") == nil, "\(count)")
    }
    #expect(ManifestSnapshot.read(bytes + [0], key: key, file: "coffer.yaml") == nil)
    // A changed byte anywhere gives nil or some manifest, never a trap (the snapshot is not authenticated: see
    // docs/access.md, the state-directory row).
    var changed = 0
    for index in stride(from: 0, to: bytes.count, by: 1) {
      for bit in [0x01, 0x80] as [UInt8] {
        var garbled = bytes
        garbled[index] ^= bit
        if ManifestSnapshot.read(garbled, key: key, file: "coffer.yaml")?.manifest != merged.manifest { changed += 1 }
      }
    }
    #expect(changed > 0)
  }

  @Test func nestingDeeperThanTheLimitIsRefused() throws {
    var merged = try Self.merged(Self.everything)
    var value = ManifestValue.string("leaf")
    for _ in 0..<ManifestSnapshot.maximumDepth { value = .sequence([value]) }
    merged.manifest.destinations = value
    let bytes = try #require(ManifestSnapshot.write(merged, file: "coffer.yaml", key: []))
    #expect(ManifestSnapshot.read(bytes, key: [], file: "coffer.yaml") == nil)
  }
}
