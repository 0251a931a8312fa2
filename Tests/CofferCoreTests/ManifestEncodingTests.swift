import CofferCore
import Testing

@Suite struct ManifestEncodingTests {
  @Test func canonicalTextOfTheExample() throws {
    let manifest = try decode(exampleManifest)
    let expected = """
      version: 1
      project: sophia-ai
      environments: [development, staging, production]
      recipients:
        alice: \(aliceKey)
      groups:
        api-keys:
          rotation: 90d
          description: API keys for external services
        database-credentials:
          rotation: 180d
      secrets:
        OPENAI_API_KEY:
          group: api-keys
          description: OpenAI API key
          required: true
          prefix: sk-
          example: sk-...
          format: openai-api-key
          rotation: 30d
        DATABASE_URL:
          group: database-credentials
          required: [staging, production]
          pattern: ^postgres(ql)?://.+
          min_length: 12
          max_length: 512
        LOG_LEVEL:
          required: false
          example: info
          secret: false

      """
    #expect(manifest.encodedYAML() == expected)
    #expect(try decode(manifest.encodedYAML()) == manifest)
  }

  @Test func roundTripsAwkwardStrings() throws {
    let awkward = [
      "true", "yes", "No", "null", "~", "", " leading", "trailing ", "a: b", "a #b", "#x", "- x", "-x", "it's",
      "say \"hi\"", "back\\slash", "line\nbreak", "tab\there", "bell\u{7}", "é ü 日本", "12", "0x1F", "1.5",
      "2024-01-02", "@at", "`tick", "{}", "[x]", "a,b", "%p", "&a", "*a", "!t", "|", ">", "?", ":", "x:", "=", "<<",
      "\u{2028}", "a\u{FEFF}b", "a  b",
    ]
    var secrets: [SecretSpec] = []
    for (index, text) in awkward.enumerated() {
      secrets.append(
        SecretSpec(
          name: "S\(index)", description: text, required: index % 3 == 0 ? .never : .always,
          prefix: text.isEmpty ? nil : text, pattern: #"^[\w'"]+\.(x|y){2,}$"#, minLength: index, maxLength: 100,
          example: text, isSecret: index % 2 == 0, format: FormatCatalog.names[index % FormatCatalog.names.count],
          rotation: RotationPeriod(days: index + 1)))
    }
    let manifest = Manifest(
      project: "it's: a project #1", environments: ["dev", "1", "true", "null", "x.y_z-w"],
      recipients: [
        ManifestRecipient(name: "alice", recipient: aliceKey), ManifestRecipient(name: "yes", recipient: bobKey),
      ],
      groups: [SecretGroup(name: "g"), SecretGroup(name: "null", description: "null")],
      secrets: secrets + [SecretSpec(name: "R", required: .environments(["true", "1"]))],
      destinations: .mapping([
        ManifestValueEntry(key: "true", value: .string("true")),
        ManifestValueEntry(key: "list", value: .sequence([.null, .bool(false), .int(-3), .string("-3"), .sequence([])])),
        ManifestValueEntry(
          key: "nested",
          value: .sequence([
            .mapping([
              ManifestValueEntry(key: "a", value: .sequence([.string("x"), .mapping([])])),
              ManifestValueEntry(key: "b: c", value: .string("line\nbreak")),
            ]),
            .sequence([.string("s"), .sequence([.int(1)])]),
          ])),
      ]),
      access: [
        AccessRule(environments: .names(["true", "1"]), groups: .names(["null", "default"]), recipients: .names(["yes"])),
        AccessRule(environments: .any, groups: .any, recipients: .names(["alice"])),
      ])
    let text = manifest.encodedYAML()
    let decoded = try decode(text)
    for (index, spec) in decoded.secrets.enumerated() where spec != manifest.secrets[index] {
      Issue.record("secret \(spec.name) differs: \(String(reflecting: spec)) vs \(String(reflecting: manifest.secrets[index]))")
    }
    #expect(decoded.destinations == manifest.destinations)
    #expect(decoded == manifest)
    #expect(decoded.encodedYAML() == text)
  }

  @Test func emptySectionsAndMinimalManifest() throws {
    let manifest = Manifest(project: "p", environments: ["dev"])
    #expect(
      manifest.encodedYAML() == "version: 1\nproject: p\nenvironments: [dev]\nrecipients: {}\ngroups: {}\nsecrets: {}\n")
    #expect(try decode(manifest.encodedYAML()) == manifest)
  }
}
