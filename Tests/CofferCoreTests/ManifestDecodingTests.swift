import CofferCore
import Testing

let aliceKey = "age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq"
let bobKey = "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj"

let exampleManifest = """
  version: 1
  project: sophia-ai
  environments: [development, staging, production]
  recipients:                 # name -> age X25519 recipient
    alice: age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq
  groups:
    api-keys:             { rotation: 90d,  description: API keys for external services }
    database-credentials: { rotation: 180d }
  secrets:
    OPENAI_API_KEY:
      group: api-keys
      description: OpenAI API key
      required: true              # true | false | a list of environments
      prefix: "sk-"               # and/or pattern: '<regex>' (whole-value match), min_length: N, max_length: N
      example: sk-...             # shown in templates, never a real value
      secret: true                # false = a plain setting (port, log level); default true
      format: openai-api-key      # optional catalog format name
      rotation: 30d               # optional override of the group's period
    DATABASE_URL:
      group: database-credentials
      required: [staging, production]
      pattern: '^postgres(ql)?://.+'
      min_length: 12
      max_length: 512
    LOG_LEVEL:
      secret: false
      required: false
      example: info

  """

func decode(_ text: String) throws(ManifestError) -> Manifest {
  try Manifest.decode(Array(text.utf8), file: "coffer.yaml")
}

/// The description of the error decoding `text` throws, or "no error".
func failure(_ text: String) -> String {
  do {
    _ = try decode(text)
    return "no error"
  } catch {
    return error.description
  }
}

/// A minimal valid header followed by `rest`.
func withHeader(_ rest: String) -> String {
  "version: 1\nproject: p\nenvironments: [dev, prod]\n" + rest
}

@Suite struct ManifestDecodingTests {
  @Test func decodesTheExample() throws {
    let manifest = try decode(exampleManifest)
    #expect(manifest.version == 1)
    #expect(manifest.project == "sophia-ai")
    #expect(manifest.environments == ["development", "staging", "production"])
    #expect(manifest.recipients == [ManifestRecipient(name: "alice", recipient: aliceKey)])
    #expect(
      manifest.groups == [
        SecretGroup(name: "api-keys", rotation: RotationPeriod(days: 90), description: "API keys for external services"),
        SecretGroup(name: "database-credentials", rotation: RotationPeriod(days: 180)),
      ])
    #expect(manifest.secrets.map(\.name) == ["OPENAI_API_KEY", "DATABASE_URL", "LOG_LEVEL"])
    let openAI = try #require(manifest.secret(named: "OPENAI_API_KEY"))
    #expect(
      openAI
        == SecretSpec(
          name: "OPENAI_API_KEY", group: "api-keys", description: "OpenAI API key", required: .always, prefix: "sk-",
          example: "sk-...", isSecret: true, format: "openai-api-key", rotation: RotationPeriod(days: 30)))
    #expect(openAI.line == 10)
    let database = try #require(manifest.secret(named: "DATABASE_URL"))
    #expect(database.required == .environments(["staging", "production"]))
    #expect(database.pattern == "^postgres(ql)?://.+")
    #expect(database.minLength == 12)
    #expect(database.maxLength == 512)
    #expect(database.isSecret)
    #expect(database.line == 19)
    #expect(database.isRequired(in: "staging"))
    #expect(!database.isRequired(in: "development"))
    let logLevel = try #require(manifest.secret(named: "LOG_LEVEL"))
    #expect(logLevel == SecretSpec(name: "LOG_LEVEL", required: .never, example: "info", isSecret: false))
    #expect(manifest.group(named: "api-keys")?.rotation?.days == 90)
    #expect(manifest.group(named: "nope") == nil)
    #expect(manifest.secret(named: "openai_api_key") == nil)
    #expect(manifest.effectiveRotation(of: openAI) == RotationPeriod(days: 30))
    #expect(manifest.effectiveRotation(of: database) == RotationPeriod(days: 180))
    #expect(manifest.effectiveRotation(of: logLevel) == nil)
    #expect(manifest.destinations == nil)
    #expect(manifest.access == nil)
  }

  @Test func defaultsAndOptionalSections() throws {
    let manifest = try decode(
      """
      version: 1
      project: p
      environments: [dev]
      secrets:
        PORT:
        TOKEN: {}
        "QUOTED": { example: 8080, description: ~ }

      """)
    #expect(manifest.recipients.isEmpty)
    #expect(manifest.groups.isEmpty)
    #expect(
      manifest.secrets == [
        SecretSpec(name: "PORT"), SecretSpec(name: "TOKEN"), SecretSpec(name: "QUOTED", example: "8080"),
      ])
    #expect(manifest.secrets.map(\.isSecret) == [true, true, true])
    #expect(manifest.secrets.map(\.required) == [.always, .always, .always])
  }

  @Test func keepsReservedSectionsOpaque() throws {
    let manifest = try decode(
      withHeader(
        """
        destinations:
          vercel:
            project: web
            targets: [preview, production]
            secrets:
              - name: A
                optional: true
              - B
            retries: 3
            empty: {}
        access:

        """))
    #expect(
      manifest.destinations
        == .mapping([
          ManifestValueEntry(
            key: "vercel",
            value: .mapping([
              ManifestValueEntry(key: "project", value: .string("web")),
              ManifestValueEntry(key: "targets", value: .sequence([.string("preview"), .string("production")])),
              ManifestValueEntry(
                key: "secrets",
                value: .sequence([
                  .mapping([
                    ManifestValueEntry(key: "name", value: .string("A")),
                    ManifestValueEntry(key: "optional", value: .bool(true)),
                  ]),
                  .string("B"),
                ])),
              ManifestValueEntry(key: "retries", value: .int(3)),
              ManifestValueEntry(key: "empty", value: .mapping([])),
            ]))
        ]))
    #expect(manifest.access == nil)
  }

  @Test func rotationPeriods() {
    #expect(RotationPeriod(parsing: "90d")?.days == 90)
    #expect(RotationPeriod(parsing: "12w")?.days == 84)
    #expect(RotationPeriod(parsing: "1y")?.days == 365)
    #expect(RotationPeriod(parsing: "2y")?.days == 730)
    #expect(RotationPeriod(parsing: "1d")?.days == 1)
    #expect(RotationPeriod(parsing: "100y")?.days == 36_500)
    for bad in ["", "d", "0d", "00d", "090d", "-1d", "+1d", "1", "1m", "1D", " 1d", "1d ", "1.5d", "101y", "１d"] {
      #expect(RotationPeriod(parsing: bad) == nil, "\(bad)")
    }
    #expect(RotationPeriod(days: 0) == nil)
    #expect(RotationPeriod(parsing: "2w") == RotationPeriod(parsing: "14d"))
    #expect(RotationPeriod(parsing: "90d")?.description == "90d")
    #expect(RotationPeriod(parsing: "14d")?.description == "2w")
    #expect(RotationPeriod(parsing: "365d")?.description == "1y")
    #expect(RotationPeriod(parsing: "12w")?.description == "12w")
  }

  @Test func errorMetadata() {
    let error = ManifestError(file: "coffer.yaml", line: 12, column: 5, field: "a.b", message: "bad")
    #expect(error.exitStatus == .badInput)
    #expect(error.description == "coffer.yaml:12:5: a.b: bad")
    #expect(ManifestError(file: "f", line: 0, column: 0, field: "", message: "m").description == "f: m")
  }

  @Test func decodesAThousandSecretsQuickly() throws {
    var text = withHeader("groups:\n  g: { rotation: 30d }\nsecrets:\n")
    for index in 0..<1000 {
      text += "  SECRET_\(index):\n    group: g\n    required: [prod]\n    prefix: \"sk-\"\n"
      text += "    pattern: '^sk-[a-z0-9]+$'\n    min_length: 10\n    max_length: 80\n    description: number \(index)\n"
    }
    let clock = ContinuousClock()
    var manifest: Manifest?
    let elapsed = try clock.measure { manifest = try decode(text) }
    #expect(manifest?.secrets.count == 1000)
    #expect(manifest?.secrets.last?.name == "SECRET_999")
    // Generous bound for debug builds on a shared machine; release takes a few milliseconds.
    #expect(elapsed < .seconds(2))
  }
}
