import CofferCore
import CofferTesting
import Testing

@testable import CofferCore

/// `Checker.check` from 512 declared secrets checks on two threads (``Checker/CheckingPlan``); the report must be the
/// one the one-thread loop makes, issue for issue and in the same order.
@Suite struct ParallelCheckTests {
  /// 1,300 declared secrets of nine kinds (every verdict the checker gives), in a shuffled order, and values for
  /// most of them plus some undeclared ones.
  func sample() -> (Manifest, [String: SecretValue]) {
    var random = SeededGenerator(seed: 7)
    var specs: [SecretSpec] = []
    var values: [String: SecretValue] = [:]
    for i in 0..<1_300 {
      let n = String(10_000 + i).dropFirst()
      switch i % 9 {
      case 0:
        specs.append(SecretSpec(name: "OPENAI_API_KEY_\(n)"))
        values[specs.last!.name] = SecretValue("sk-proj-" + String(repeating: "Ab9", count: 20))
      case 1:
        specs.append(SecretSpec(name: "OPENAI_API_KEY_\(n)"))
        values[specs.last!.name] = SecretValue("xoxb-not-openai-\(i)")
      case 2:
        specs.append(SecretSpec(name: "SESSION_SECRET_\(n)"))
        values[specs.last!.name] = SecretValue("short\(i)")
      case 3:
        specs.append(SecretSpec(name: "API_TOKEN_\(n)"))
        values[specs.last!.name] = SecretValue("changeme")
      case 4:
        specs.append(SecretSpec(name: "DATABASE_URL_\(n)", required: .environments(["prod"]), pattern: "postgres://.+"))
        if i % 2 == 0 { values[specs.last!.name] = SecretValue("mysql://db/\(i)") }
      case 5:
        specs.append(SecretSpec(name: "OPTIONAL_\(n)", required: .never, minLength: 5))
        if i % 2 == 0 { values[specs.last!.name] = SecretValue("") }
      case 6:
        specs.append(SecretSpec(name: "PORT_\(n)", pattern: "[0-9]{2,5}", isSecret: false))
        values[specs.last!.name] = SecretValue(i % 4 == 0 ? "80a" : "8080")
      case 7:
        specs.append(SecretSpec(name: "REQUIRED_\(n)", minLength: 3))
      default:
        specs.append(SecretSpec(name: "KEY_\(n)", prefix: "sk-", minLength: 20, maxLength: 60, format: "none"))
        values[specs.last!.name] = SecretValue(i % 2 == 0 ? "sk-" + String(repeating: "é", count: 30) : "pk-\(i)")
      }
      if i % 50 == 0 { values["UNDECLARED_\(n)"] = SecretValue("x") }
    }
    specs.shuffle(using: &random)
    return (Manifest(project: "p", environments: ["dev", "prod"], secrets: specs), values)
  }

  @Test func twoThreadsReportWhatOneDoes() {
    let (manifest, values) = sample()
    for environment in ["dev", "prod"] {
      let one = Checker.check(manifest, environment: environment, values: values, parts: 1)
      let two = Checker.check(manifest, environment: environment, values: values, parts: 2)
      let same = one == two
      #expect(same, "\(environment)")
      // Every kind of verdict is there, so the comparison covers each.
      #expect(Set(one.invalid.map(\.kind)).count >= 5)
      #expect(!one.missing.isEmpty && !one.ok.isEmpty && one.undeclared.count == 26)
    }
  }

  /// `Checker.issues(of:declaredAs:environment:)`, which `set` and `rotate` use on the one value they store, gives
  /// for each value the issues the whole report gives for it.
  @Test func oneValueGetsTheIssuesTheReportGivesIt() {
    let (manifest, values) = sample()
    let report = Checker.check(manifest, environment: "prod", values: values)
    var compared = 0
    for spec in manifest.secrets {
      guard let value = values[spec.name] else { continue }
      let alone = Checker.issues(of: value, declaredAs: spec, environment: "prod")
      let same = alone == report.invalid.filter { $0.name == spec.name }
      #expect(same, "\(spec.name)")
      compared += alone.isEmpty ? 0 : 1
    }
    #expect(compared == report.invalid.map(\.name).reduce(into: Set<String>()) { $0.insert($1) }.count)
  }
}
