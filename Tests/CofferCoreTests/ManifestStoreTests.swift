import CofferCore
import Foundation
import Testing

/// `store:` on an environment (an environment whose values live at a server): decoding, its errors (file, line,
/// field), encoding, and the editor `migrate-store` uses.
@Suite struct ManifestStoreTests {
  static func text(_ environments: String, destinations: String? = nil) -> String {
    """
    version: 1
    project: p
    environments: \(environments)
    destinations:
    \(destinations ?? """
      bao: { type: openbao, api_url: "http://127.0.0.1:8200", path: app/prod, from: production }
      aws: { type: aws-secrets-manager, region: eu-west-1, from: production }
      file: { type: dotenv, path: .env, from: production }
    """)

    """
  }

  func decode(_ text: String) throws -> Manifest {
    try Manifest.decode(Array(text.utf8), file: "coffer.yaml")
  }

  func failure(_ text: String) -> String {
    do {
      _ = try decode(text)
      return "no error"
    } catch {
      return (error as? ManifestError)?.description ?? "\(error)"
    }
  }

  @Test func decodesStoresInFlowAndBlockLists() throws {
    let flow = try decode(Self.text("[staging, { name: production, store: bao, cache_max_age: 8h }]"))
    #expect(flow.environments == ["staging", "production"])
    #expect(flow.stores == ["production": "bao"])
    #expect(flow.storeCacheMaxAge == ["production": 28_800])
    #expect(flow.store(of: "staging") == nil)
    let block = try decode(Self.text("\n  - staging\n  - name: production\n    store: aws"))
    #expect(block.stores == ["production": "aws"])
    #expect(block.storeCacheMaxAge.isEmpty)
    // Both server types, and `vault` as an alias of openbao.
    let vault = try decode(
      Self.text(
        "[{ name: production, store: v }]",
        destinations: "  v: { type: vault, api_url: \"http://127.0.0.1:8200\", path: a, from: production }"))
    #expect(vault.stores == ["production": "v"])
  }

  /// The sample (an undeclared destination) and its neighbours: wrong type, another environment's destination, an
  /// unknown field, a bad duration, a missing name, a missing store.
  @Test(arguments: [
    (
      "[staging, { name: production, store: nope }]",
      "coffer.yaml:3:52: environments[1].store: no destination named \"nope\" is declared under destinations"
    ),
    (
      "[staging, { name: production, store: file }]",
      "coffer.yaml:3:52: environments[1].store: destination \"file\" is of type dotenv; a store must be of type openbao, vault or aws-secrets-manager"
    ),
    (
      "[{ name: staging, store: bao }, production]",
      "coffer.yaml:3:40: environments[0].store: destination \"bao\" has from: production; the store of staging must have from: staging"
    ),
    ("[staging, { name: production, store: bao, cache: 1h }]", "coffer.yaml:3:57: environments[1].cache: unknown field; expected one of name, store, cache_max_age"),
    (
      "[staging, { name: production, store: bao, cache_max_age: 366d }]",
      "coffer.yaml:3:72: environments[1].cache_max_age: expected a duration such as 90s, 15m, 8h or 7d (at most 365d)"
    ),
    ("[staging, { store: bao }]", "coffer.yaml:3:25: environments[1].name: missing required field"),
    ("[staging, { name: production }]", "coffer.yaml:3:25: environments[1].store: missing required field; an environment written as a mapping names its store (a destination of type openbao or aws-secrets-manager)"),
  ])
  func mistakesNameFileLineAndField(_ environments: String, _ message: String) {
    #expect(failure(Self.text(environments)).hasPrefix(message), "\(failure(Self.text(environments)))")
  }

  @Test func durations() {
    let seconds = ["90s": 90, "15m": 900, "8h": 28_800, "7d": 604_800, "365d": 31_536_000]
    for (text, value) in seconds {
      #expect(failure(Self.text("[staging, { name: production, store: bao, cache_max_age: \(text) }]")) == "no error")
      let decoded = try? decode(Self.text("[staging, { name: production, store: bao, cache_max_age: \(text) }]"))
      #expect(decoded?.storeCacheMaxAge["production"] == value)
    }
    for bad in ["0s", "05m", "1w", "h", "-1h", "1.5h", "366d"] {
      #expect(failure(Self.text("[staging, { name: production, store: bao, cache_max_age: \(bad) }]")).contains("cache_max_age"), "\(bad)")
    }
  }

  @Test func encodesAndDecodesBack() throws {
    let manifest = try decode(Self.text("[staging, { name: production, store: bao, cache_max_age: 1h }]"))
    let again = try decode(manifest.encodedYAML())
    #expect(again.stores == manifest.stores)
    #expect(again.storeCacheMaxAge == manifest.storeCacheMaxAge)
    #expect(manifest.encodedYAML().contains("environments: [staging, { name: production, store: bao, cache_max_age: 3600s }]\n"))
  }

  @Test func editorSetsAndRemovesAStoreChangingOnlyThatItem() throws {
    let flow = Self.text("[staging, production]  # comment kept")
    let set = try ManifestEditor.settingStore("bao", environment: "production", in: flow)
    #expect(set == flow.replacingOccurrences(of: "[staging, production]", with: "[staging, { name: production, store: bao }]"))
    #expect(try ManifestEditor.settingStore(nil, environment: "production", in: set) == flow)
    #expect(try ManifestEditor.settingStore("aws", environment: "production", in: set).contains("{ name: production, store: aws }"))
    // Block lists: a plain item becomes a flow mapping; a block mapping item loses its store lines.
    let block = Self.text("\n  - staging\n  - production")
    let blockSet = try ManifestEditor.settingStore("bao", environment: "production", in: block)
    #expect(blockSet.contains("\n  - { name: production, store: bao }\n"))
    let mapping = Self.text("\n  - staging\n  - name: production\n    store: bao\n    cache_max_age: 1h")
    let removed = try ManifestEditor.settingStore(nil, environment: "production", in: mapping)
    #expect(removed == Self.text("\n  - staging\n  - production"))
    #expect(try decode(removed).stores.isEmpty)
    // Nothing to change: the same text.
    #expect(try ManifestEditor.settingStore(nil, environment: "staging", in: flow) == flow)
  }
}
