import Foundation
import Testing

/// `coffer check` with the format catalog, placeholders and weak values; `coffer generate`.
@Suite struct FormatCLITests {
  /// The reference example: the Slack user token where a bot token belongs and the OpenAI key with a wrong prefix
  /// are reported by catalog name, the short JWT secret as weak with its measure.
  @Test func checkOnTheReferenceExampleNamesCatalogFormats() throws {
    let reference = Paths.root.appendingPathComponent("examples/reference")
    let box = try Sandbox(manifest: try String(contentsOf: reference.appendingPathComponent("coffer.yaml"), encoding: .utf8))
    let imported = box.run(["import", reference.appendingPathComponent("sample.env").path, "--env", "development"])
    #expect(imported.status == 0, "\(imported.stderr)")
    let r = box.run(["check", "--env", "development"])
    #expect(r.status == 1)
    #expect(
      r.out == """
        environment: development
        missing (2):
          LINEAR_API_KEY [integration-credentials]
          SNOWFLAKE_PASSWORD [database-credentials]
        invalid (5):
          DATABASE_URL     does not match the pattern 'postgres(ql)?://.+'
          JWT_SECRET       is 14 characters, needs at least 32
          JWT_SECRET       is weak: 14 characters, estimated 42 bits of entropy; needs at least 128 bits for a signing key
          OPENAI_API_KEY   is not an OpenAI API key (sk-): does not start with sk- [format openai-api-key, assumed from the name]
          SLACK_BOT_TOKEN  is a Slack user token (xoxp-), expected a Slack bot token (xoxb-) [format slack-bot-token, assumed from the name]
        undeclared (1): LEGACY_FEATURE_FLAG
        ok (14)
        result: 2 missing, 5 invalid

        """)
    #expect(r.stderr == "")
    // No value from the sample appears in the report (ENVIRONMENT's value is the environment's own name).
    let sample = try String(contentsOf: reference.appendingPathComponent("sample.env"), encoding: .utf8)
    for line in sample.split(separator: "\n") where !line.hasPrefix("#") && !line.hasPrefix("ENVIRONMENT=") {
      guard let equals = line.firstIndex(of: "=") else { continue }
      let value = line[line.index(after: equals)...]
      if value.count >= 8 { #expect(!r.all.contains(value), "\(line.prefix { $0 != "=" })") }
    }
  }

  @Test func checkJSONCarriesKindAndFormat() throws {
    let box = try Sandbox(manifest: basicManifest)
    box.set("OPENAI_API_KEY", "sk-...", env: "production")
    box.set("DATABASE_URL", "mysql://app:@db.invalid/app", env: "production")
    let r = box.run(["check", "--env", "production", "--json"])
    #expect(r.status == 1)
    #expect(
      r.out == #"{"environment":"production","missing":[],"invalid":[{"name":"DATABASE_URL","reason":"is not a database URL (postgres://, postgresql://, mysql://, mongodb://, mongodb+srv://, redis://, rediss://, amqp://, amqps://): has an empty password [format db-connection-url, assumed from the name]","kind":"format-mismatch","format":"db-connection-url"},{"name":"OPENAI_API_KEY","reason":"is a placeholder: it equals the manifest's example, which is also the template's value","kind":"placeholder","format":null}],"undeclared":[],"ok":[],"unreadable_groups":[],"needs_rotation":[]}"#
        + "\n")
  }

  @Test func unknownFormatInTheManifestIsABadInputWithItsPosition() throws {
    let box = try Sandbox(
      manifest: basicManifest.replacingOccurrences(of: "    example: sk-...\n", with: "    format: openai-api-kye\n"))
    let r = box.run(["check", "--env", "development"])
    #expect(r.status == 2)
    #expect(
      r.stderr == """
        coffer: error: coffer.yaml:13:13: secrets.OPENAI_API_KEY.format: unknown format "openai-api-kye"
        coffer: hint: did you mean 'openai-api-key'?

        """)
  }

  /// A new version from the CSPRNG, of the requested size and alphabet, and never printed.
  @Test func generateStoresANewVersionAndNeverPrintsIt() throws {
    let box = try Sandbox(manifest: basicManifest + "  JWT_SECRET: { description: signs sessions }\n")
    box.set("JWT_SECRET", "too-short-fake")
    var outputs: [CLIResult] = []
    let cases: [(args: [String], characters: Int, alphabet: String)] = [
      ([], 44, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="),
      (["--charset", "hex", "--length", "16"], 32, "0123456789abcdef"),
      (["--charset", "alnum"], 43, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"),
      (["--charset", "base64", "--length", "64"], 88, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="),
    ]
    var values: [String] = []
    for (index, item) in cases.enumerated() {
      let r = box.run(["generate", "JWT_SECRET", "--env", "development"] + item.args)
      #expect(r.status == 0, "\(r.stderr)")
      #expect(r.out == "")
      let charset = item.args.firstIndex(of: "--charset").map { item.args[$0 + 1] } ?? "base64"
      let bytes = item.args.firstIndex(of: "--length").map { item.args[$0 + 1] } ?? "32"
      #expect(
        r.stderr
          == "coffer: generated JWT_SECRET in development (version \(index + 2)): \(bytes) random bytes as "
          + "\(item.characters) \(charset) characters\n")
      outputs.append(r)
      let value = box.run(["get", "JWT_SECRET", "-n", "--env", "development"]).out
      #expect(value.count == item.characters)
      #expect(value.allSatisfy { item.alphabet.contains($0) })
      values.append(value)
    }
    #expect(Set(values).count == values.count)
    let list = box.run(["list", "--env", "development", "--json"])
    #expect(list.out.contains(#"{"name":"JWT_SECRET","group":"default","version":5,"#))
    for value in values {
      for output in outputs + [list] { #expect(!output.all.contains(value)) }
    }
    let check = box.run(["check", "--env", "development"])
    #expect(!check.out.contains("JWT_SECRET"))
  }

  @Test func generateRefusesProviderFormatsShortLengthsAndPlainSettings() throws {
    let box = try Sandbox(manifest: basicManifest)
    let openAI = box.run(["generate", "OPENAI_API_KEY", "--env", "development"])
    #expect(openAI.status == 2)
    #expect(
      openAI.stderr == """
        coffer: error: OPENAI_API_KEY holds an OpenAI API key (format openai-api-key, assumed from the name), which a random value cannot be
        coffer: hint: store the value the provider gave you with `coffer set OPENAI_API_KEY`
        coffer: hint: pass --force if this value is really yours to generate, or set `format: none` in coffer.yaml

        """)
    #expect(!box.exists(".coffer/vault/development.vault"))
    let short = box.run(["generate", "SIGNING_KEY", "--length", "8"])
    #expect(short.status == 2)
    #expect(short.stderr.hasPrefix("coffer: error: --length 8 gives 64 bits; a generated secret needs at least 128 (16 bytes)\n"))
    let plain = box.run(["generate", "LOG_LEVEL"])
    #expect(plain.status == 2)
    #expect(plain.stderr.hasPrefix("coffer: error: LOG_LEVEL is a plain setting (secret: false), not a secret to generate\n"))
    #expect(!box.exists(".coffer/vault/development.vault"))
    let forced = box.run(["generate", "OPENAI_API_KEY", "--force", "--charset", "hex"])
    #expect(forced.status == 0)
    #expect(box.run(["get", "OPENAI_API_KEY", "-n"]).out.count == 64)
    #expect(box.run(["generate", "X", "--charset", "base32"]).status == 2)
  }
}
