import CofferCore
import Testing

private func example(_ id: String) -> String { FormatCatalog.format(id: id)?.example ?? "" }

/// The catalog, placeholders and weak values as `Checker` reports them: exact reasons, never the value.
@Suite struct FormatCheckerTests {
  let manifest = Manifest(
    project: "p", environments: ["dev"],
    secrets: [
      SecretSpec(name: "SLACK_BOT_TOKEN"),
      SecretSpec(name: "OPENAI_API_KEY", prefix: "sk-"),
      SecretSpec(name: "GITHUB_TOKEN"),
      SecretSpec(name: "BOT", format: "slack-bot-token"),
      SecretSpec(name: "PAYMENTS", format: "stripe-api-key"),
      SecretSpec(name: "OPAQUE", format: "none"),
      SecretSpec(name: "JWT_SECRET"),
      SecretSpec(name: "SESSION_SECRET", format: "none"),
      SecretSpec(name: "LOG_LEVEL", example: "info", isSecret: false),
      SecretSpec(name: "API_TOKEN", example: "tok-..."),
      SecretSpec(name: "MYSTERY", format: "made-up"),
      SecretSpec(name: "DATABASE_URL"),
      SecretSpec(name: "PINECONE_API_KEY"),
      SecretSpec(name: "SNOWFLAKE_ACCOUNT", isSecret: false),
    ])

  @Test func reportsFormatPlaceholderAndWeakIssuesExactly() {
    let ghp = example("github-ghp")
    let report = Checker.check(
      manifest, environment: "dev",
      values: [
        "SLACK_BOT_TOKEN": SecretValue(example("slack-user-token")),
        "OPENAI_API_KEY": SecretValue("pk-" + String(repeating: "Q", count: 48)),
        "GITHUB_TOKEN": SecretValue(String(ghp.dropLast()) + "E"),
        "BOT": SecretValue(example("slack-bot-token")),
        "PAYMENTS": SecretValue(example("stripe-publishable-key")),
        "OPAQUE": SecretValue("anything at all"),
        "JWT_SECRET": SecretValue("too-short-fake"),
        "SESSION_SECRET": SecretValue("3f9c2b7e8a1d4f6b0c5e9a2d7b4f8e1c"),
        "LOG_LEVEL": SecretValue("changeme"),
        "API_TOKEN": SecretValue("tok-..."),
        "MYSTERY": SecretValue("x9"),
        "DATABASE_URL": SecretValue("postgres://app:@db.invalid/app"),
        "PINECONE_API_KEY": SecretValue(example("pinecone-api-key-legacy")),
        "SNOWFLAKE_ACCOUNT": SecretValue("fakeorg-fake_account"),
      ])
    #expect(
      report.invalid == [
        CheckIssue(
          name: "API_TOKEN", kind: .placeholder,
          reason: "is a placeholder: it equals the manifest's example, which is also the template's value"),
        CheckIssue(
          name: "DATABASE_URL", kind: .formatMismatch,
          reason: "is not a database URL (postgres://, postgresql://, mysql://, mongodb://, mongodb+srv://, redis://, "
            + "rediss://, amqp://, amqps://): has an empty password [format db-connection-url, assumed from the name]",
          format: "db-connection-url"),
        CheckIssue(
          name: "GITHUB_TOKEN", kind: .badChecksum,
          reason: "has the shape of a classic GitHub personal access token (ghp_) but not its checksum (the last 6 "
            + "characters): a typo or a truncated copy [format github-token, assumed from the name]",
          format: "github-token"),
        CheckIssue(
          name: "JWT_SECRET", kind: .weak,
          reason: "is weak: 14 characters, estimated 42 bits of entropy; needs at least 128 bits for a signing key"),
        CheckIssue(
          name: "MYSTERY", kind: .unknownFormat, reason: "cannot be checked: the manifest names an unknown format",
          format: "made-up"),
        // One verdict per problem: the manifest's `prefix: sk-` fails for the same reason as the format, which says more.
        CheckIssue(
          name: "OPENAI_API_KEY", kind: .formatMismatch,
          reason: "is not an OpenAI API key (sk-): does not start with sk- [format openai-api-key, assumed from the name]",
          format: "openai-api-key"),
        CheckIssue(
          name: "PAYMENTS", kind: .wrongFormat,
          reason: "is a Stripe publishable key (pk_live_, pk_test_), expected a Stripe API key (sk_live_, sk_test_, "
            + "rk_live_, rk_test_) [format stripe-api-key]",
          format: "stripe-api-key"),
        CheckIssue(
          name: "SLACK_BOT_TOKEN", kind: .wrongFormat,
          reason: "is a Slack user token (xoxp-), expected a Slack bot token (xoxb-) [format slack-bot-token, assumed "
            + "from the name]",
          format: "slack-bot-token"),
      ])
    #expect(report.ok == ["BOT", "LOG_LEVEL", "OPAQUE", "PINECONE_API_KEY", "SESSION_SECRET", "SNOWFLAKE_ACCOUNT"])
  }

  @Test func startsLikeAnotherFormat() {
    let spec = Manifest(project: "p", environments: ["dev"], secrets: [SecretSpec(name: "SLACK_BOT_TOKEN")])
    let report = Checker.check(spec, environment: "dev", values: ["SLACK_BOT_TOKEN": SecretValue("xoxp-12-34-FAKE")])
    #expect(
      report.invalid == [
        CheckIssue(
          name: "SLACK_BOT_TOKEN", kind: .wrongFormat,
          reason: "starts like a Slack user token (xoxp-), expected a Slack bot token (xoxb-) [format slack-bot-token, "
            + "assumed from the name]",
          format: "slack-bot-token")
      ])
  }

  /// One verdict per problem (issue 15): a manifest prefix and the format failing for the same reason give one
  /// issue, the more specific; unrelated prefixes give both.
  @Test func onePrefixVerdictPerProblem() {
    func issues(_ prefix: String, _ value: String, name: String = "OPENAI_API_KEY") -> [CheckIssue.Kind] {
      let m = Manifest(project: "p", environments: ["dev"], secrets: [SecretSpec(name: name, prefix: prefix)])
      return Checker.check(m, environment: "dev", values: [name: SecretValue(value)]).invalid.map(\.kind)
    }
    let value = "xx-" + String(repeating: "a1B2", count: 12)
    #expect(issues("sk-", value) == [.formatMismatch])  // the same prefix: the format says more
    #expect(issues("s", value) == [.formatMismatch])  // shorter: the format is more specific
    #expect(issues("sk-proj-", value) == [.prefix])  // longer: the manifest's rule is more specific
    #expect(issues("xy-", value) == [.prefix, .formatMismatch])  // unrelated: two problems
    #expect(issues("xoxb-", "xoxp-12-34-FAKE", name: "SLACK_BOT_TOKEN") == [.wrongFormat])
    #expect(issues("xoxb-1-", "xoxp-12-34-FAKE", name: "SLACK_BOT_TOKEN") == [.prefix])
  }

  @Test func placeholdersAreReportedAloneAndNeverForPlainSettings() {
    let spec = Manifest(
      project: "p", environments: ["dev"],
      secrets: [
        SecretSpec(name: "OPENAI_API_KEY", prefix: "sk-", minLength: 40),
        SecretSpec(name: "FEATURE_SECRET", isSecret: false),
      ])
    let report = Checker.check(
      spec, environment: "dev",
      values: ["OPENAI_API_KEY": SecretValue("sk-..."), "FEATURE_SECRET": SecretValue("x")])
    #expect(
      report.invalid == [
        CheckIssue(name: "OPENAI_API_KEY", kind: .placeholder, reason: "is a placeholder: it ends with an ellipsis")
      ])
    #expect(report.ok == ["FEATURE_SECRET"])
  }

  @Test func kindsHaveStableJSONNames() {
    let names = [
      CheckIssue.Kind.empty, .prefix, .pattern, .tooShort, .tooLong, .notText, .badPattern, .formatMismatch, .wrongFormat,
      .badChecksum, .placeholder, .weak, .unknownFormat,
    ].map(\.rawValue)
    #expect(
      names == [
        "empty", "prefix", "pattern", "too-short", "too-long", "not-text", "bad-pattern", "format-mismatch",
        "wrong-format", "bad-checksum", "placeholder", "weak", "unknown-format",
      ])
  }

  /// No reason ever contains the value or any 6-character piece of it, for every catalog format's example and near
  /// misses, each checked as every format (so every wrong-format message is produced), plus placeholder and weak
  /// values. Pieces that are catalog text (a prefix such as `sk-ant-api03-`, a marker such as `T3BlbkFJ`) are
  /// catalog facts, not the value, and are skipped; the canary planted in each value is never catalog text. (Values
  /// shorter than 6 characters have no pieces; the canary covers them.)
  @Test func reasonsNeverContainTheValue() {
    let catalogText = FormatCatalog.formats.flatMap { [$0.id, $0.title, $0.shape, $0.label] + $0.prefixes }
      + FormatCatalog.families.flatMap { [$0.id, $0.title, $0.label] }
    let catalogPieces = catalogText.reduce(into: Set<String>()) { $0.formUnion(sixCharacterPieces($1)) }
    let canary = "Zq7Xw9"
    let withCanary = FormatCatalog.formats.map { format in
      // The example with the canary written over the 6 characters after its prefix (or at its start).
      var characters = Array(format.example)
      let start = format.prefixes.map(\.count).max() ?? 0
      for (offset, character) in canary.enumerated() where start + offset < characters.count {
        characters[start + offset] = character
      }
      return String(characters)
    }
    let byName = ["SLACK_BOT_TOKEN", "OPENAI_API_KEY", "JWT_SECRET", "DATABASE_URL", "GITHUB_TOKEN", "MY_SECRET"]
      .map { SecretSpec(name: $0, example: "sk-...") }
    let everyFormat = FormatCatalog.names.enumerated().map { SecretSpec(name: "S\($0.offset)", format: $0.element) }
    // Examples and canaries as every format; near misses as their own format, its families, and by name.
    var runs: [(String, [SecretSpec])] = (FormatCatalog.formats.map(\.example) + withCanary).map { ($0, everyFormat + byName) }
    runs += nearMisses.map { nearMiss in
      let families = FormatCatalog.families.filter { $0.formats.contains { $0.id == nearMiss.format } }.map(\.id)
      let own = ([nearMiss.format] + families).enumerated().map { SecretSpec(name: "F\($0.offset)", format: $0.element) }
      return (nearMiss.value, own + byName)
    }
    runs += ["changeme-\(canary)", "\(canary)-too-short", "<\(canary)>", "postgres://u:\(canary)@h/db"].map { ($0, byName) }
    var checked = 0
    for (value, secrets) in runs {
      let spec = Manifest(project: "p", environments: ["dev"], secrets: secrets)
      let values = Dictionary(secrets.map { ($0.name, SecretValue(value)) }) { first, _ in first }
      let report = Checker.check(spec, environment: "dev", values: values)
      let pieces = sixCharacterPieces(value).subtracting(catalogPieces)
      for issue in report.invalid {
        checked += 1
        #expect(!issue.reason.contains(canary))
        for piece in sixCharacterPieces(issue.reason).intersection(pieces) {
          Issue.record("\(issue.name) \(issue.kind) repeats a piece of the value: \(piece)")
        }
      }
      #expect(!"\(report)".contains(canary))
    }
    #expect(checked > 5_000)
  }

  private func sixCharacterPieces(_ value: some StringProtocol) -> Set<String> {
    let characters = Array(value)
    guard characters.count >= 6 else { return [] }
    return Set((0...(characters.count - 6)).map { String(characters[$0..<$0 + 6]) })
  }
}
