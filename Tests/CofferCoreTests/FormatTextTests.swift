import Testing

@testable import CofferCore

/// The catalog's list wording, which every "expected …" message of a format with several lengths or prefixes uses.
@Suite struct FormatTextTests {
  @Test func listsJoinWithCommasAndOneConjunction() {
    #expect(FormatText.list([], conjunction: "or") == "")
    #expect(FormatText.list(["a"], conjunction: "or") == "a")
    #expect(FormatText.list(["a", "b"], conjunction: "or") == "a or b")
    #expect(FormatText.list(["a", "b", "c"], conjunction: "or") == "a, b or c")
    #expect(FormatText.list(["40", "64", "72", "93"], conjunction: "and") == "40, 64, 72 and 93")
  }
}
