import Testing

@testable import CofferSync

/// A definition whose aliases expand past the limit is refused before anything walks or re-serializes it.
@Suite struct ESCDefinitionBoundsTests {
  @Test func aliasBombIsRefused() throws {
    var bomb = "values:\n  d0: &d0 [x, x, x, x, x, x, x, x, x, x]\n"
    for level in 1...9 {
      bomb += "  d\(level): &d\(level) [" + Array(repeating: "*d\(level - 1)", count: 10).joined(separator: ", ") + "]\n"
    }
    do {
      _ = try ESCDefinition(yaml: bomb)
      Issue.record("expected an error")
    } catch {
      #expect(error.detail == "the environment definition expands to more than 1000000 nodes (YAML aliases within aliases?)")
    }
    let shared = "values:\n  a: &a {x: 1}\n  b: *a\n"
    #expect(try ESCDefinition(yaml: shared).values.count == 2)
  }
}
