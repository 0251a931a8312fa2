import CofferCore
import Testing

@Suite struct CheckerTests {
  let manifest = Manifest(
    project: "p", environments: ["dev", "prod"],
    secrets: [
      // The declared rules alone: `format: none` turns off the catalog check the name would imply, and no name
      // here implies a generated secret, so no weak check applies (both are covered by FormatCheckerTests).
      SecretSpec(name: "OPENAI_API_KEY", prefix: "sk-", minLength: 20, maxLength: 60, format: "none"),
      SecretSpec(name: "DATABASE_URL", required: .environments(["prod"]), pattern: "postgres://.+"),
      SecretSpec(name: "LOG_LEVEL", required: .never, pattern: "debug|info|warn|error", isSecret: false),
      SecretSpec(name: "PORT", pattern: "[0-9]{2,5}", isSecret: false),
      SecretSpec(name: "WEBHOOK_TOKEN", minLength: 3),
      SecretSpec(name: "EMPTY_OK", required: .never, minLength: 5),
    ])

  @Test func reportsEveryVerdictSortedByName() {
    let canary = "CANARY-zx81-secret-value"
    let report = Checker.check(
      manifest, environment: "prod",
      values: [
        "OPENAI_API_KEY": SecretValue(canary),
        "DATABASE_URL": SecretValue("mysql://\(canary)"),
        "LOG_LEVEL": SecretValue("info"),
        "PORT": SecretValue(""),
        "EMPTY_OK": SecretValue(""),
        "ZZZ_EXTRA": SecretValue(canary),
        "AAA_EXTRA": SecretValue("x"),
      ])
    #expect(report.environment == "prod")
    #expect(report.missing == ["WEBHOOK_TOKEN"])
    #expect(
      report.invalid == [
        CheckIssue(name: "DATABASE_URL", kind: .pattern, reason: "does not match the pattern 'postgres://.+'"),
        CheckIssue(name: "OPENAI_API_KEY", kind: .prefix, reason: "does not start with the required prefix 'sk-'"),
        CheckIssue(name: "PORT", kind: .empty, reason: "is empty"),
      ])
    #expect(report.undeclared == ["AAA_EXTRA", "ZZZ_EXTRA"])
    #expect(report.ok == ["EMPTY_OK", "LOG_LEVEL"])
    #expect(report.hasProblems)
    for issue in report.invalid {
      #expect(!issue.reason.contains("CANARY"))
      #expect(!issue.reason.contains("mysql"))
      #expect(!issue.reason.contains("zx81"))
    }
    #expect(!"\(report)".contains("CANARY"))
  }

  @Test func lengthsInCharacters() {
    let short = Checker.check(
      manifest, environment: "dev",
      values: [
        "OPENAI_API_KEY": SecretValue("sk-abcdefghi"), "PORT": SecretValue("8080"), "WEBHOOK_TOKEN": SecretValue("e\u{301}ab"),
      ])
    #expect(
      short.invalid == [CheckIssue(name: "OPENAI_API_KEY", kind: .tooShort, reason: "is 12 characters, needs at least 20")])
    #expect(short.ok == ["PORT", "WEBHOOK_TOKEN"])
    #expect(short.missing.isEmpty)

    let long = Checker.check(
      manifest, environment: "dev",
      values: [
        "OPENAI_API_KEY": SecretValue("pk-" + String(repeating: "é", count: 70)),
        "PORT": SecretValue("80a"),
        "WEBHOOK_TOKEN": SecretValue("ab"),
      ])
    #expect(
      long.invalid == [
        CheckIssue(name: "OPENAI_API_KEY", kind: .prefix, reason: "does not start with the required prefix 'sk-'"),
        CheckIssue(name: "OPENAI_API_KEY", kind: .tooLong, reason: "is 73 characters, allows at most 60"),
        CheckIssue(name: "PORT", kind: .pattern, reason: "does not match the pattern '[0-9]{2,5}'"),
        CheckIssue(name: "WEBHOOK_TOKEN", kind: .tooShort, reason: "is 2 characters, needs at least 3"),
      ])
  }

  @Test func allGoodAndNonText() {
    let good = Checker.check(
      manifest, environment: "dev",
      values: [
        "OPENAI_API_KEY": SecretValue("sk-" + String(repeating: "a", count: 30)),
        "PORT": SecretValue("443"), "WEBHOOK_TOKEN": SecretValue([0xFF, 0x00, 0x01]),
      ])
    #expect(good.missing.isEmpty)
    #expect(
      good.invalid == [
        CheckIssue(
          name: "WEBHOOK_TOKEN", kind: .notText, reason: "is not UTF-8 text, so its pattern and length cannot be checked")
      ])
    #expect(good.ok == ["OPENAI_API_KEY", "PORT"])

    let clean = Checker.check(
      manifest, environment: "dev",
      values: [
        "OPENAI_API_KEY": SecretValue("sk-" + String(repeating: "a", count: 30)),
        "PORT": SecretValue("443"), "WEBHOOK_TOKEN": SecretValue("k9z"),
      ])
    #expect(!clean.hasProblems)
    #expect(clean == CheckReport(environment: "dev", ok: ["OPENAI_API_KEY", "PORT", "WEBHOOK_TOKEN"]))
  }

  @Test func patternIsAWholeMatch() {
    let spec = Manifest(project: "p", environments: ["dev"], secrets: [SecretSpec(name: "A", pattern: "[a-z]+")])
    #expect(Checker.check(spec, environment: "dev", values: ["A": SecretValue("xyz")]).ok == ["A"])
    #expect(Checker.check(spec, environment: "dev", values: ["A": SecretValue("xyz1")]).invalid.map(\.kind) == [.pattern])
  }

  @Test func missingDependsOnTheEnvironment() {
    let dev = Checker.check(manifest, environment: "dev", values: [:])
    #expect(dev.missing == ["OPENAI_API_KEY", "PORT", "WEBHOOK_TOKEN"])
    let prod = Checker.check(manifest, environment: "prod", values: [:])
    #expect(prod.missing == ["DATABASE_URL", "OPENAI_API_KEY", "PORT", "WEBHOOK_TOKEN"])
  }
}
