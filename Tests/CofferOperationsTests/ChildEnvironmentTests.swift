import CofferCore
import CofferOperations
import CofferSystem
import Testing

/// The environment `run` gives its command, built by the operation directly (``ChildEnvironment``): exact entries
/// in exact order for each rule and its neighbours.
@Suite struct ChildEnvironmentTests {
  static func entries(_ block: EnvironmentBlock) -> [String] { block.entries.map { String(decoding: $0, as: UTF8.self) } }
  static func inherited(_ lines: String...) -> [[UInt8]] { lines.map { Array($0.utf8) } }
  static func secrets(_ pairs: (String, String)...) -> [(name: String, value: SecretValue)] {
    pairs.map { ($0.0, SecretValue(Array($0.1.utf8))) }
  }

  @Test func aSecretReplacesAnInheritedVariableInItsPlaceAndNewOnesFollowInOrder() throws {
    let block = try ChildEnvironment.merge(
      Self.inherited("HOME=/root", "API_KEY=old", "TERM=xterm"), Self.secrets(("B_TOKEN", "b"), ("API_KEY", "new"), ("A_TOKEN", "a=1")),
      override: true)
    #expect(Self.entries(block) == ["HOME=/root", "API_KEY=new", "TERM=xterm", "B_TOKEN=b", "A_TOKEN=a=1"])
  }

  @Test func withoutOverrideTheInheritedValueStays() throws {
    let block = try ChildEnvironment.merge(Self.inherited("API_KEY=old"), Self.secrets(("API_KEY", "new"), ("X", "1")), override: false)
    #expect(Self.entries(block) == ["API_KEY=old", "X=1"])
  }

  /// A name inherited twice: only its first occurrence is kept once a secret of that name is merged (the child
  /// would otherwise see whichever its libc finds first); a name not merged keeps its duplicates untouched.
  @Test func aDuplicatedInheritedNameKeepsOnlyItsFirstOccurrence() throws {
    let inherited = Self.inherited("API_KEY=one", "PATH=/bin", "API_KEY=two", "OTHER=1", "OTHER=2")
    #expect(Self.entries(try ChildEnvironment.merge(inherited, Self.secrets(("API_KEY", "new")), override: true))
      == ["API_KEY=new", "PATH=/bin", "OTHER=1", "OTHER=2"])
    #expect(Self.entries(try ChildEnvironment.merge(inherited, Self.secrets(("API_KEY", "new")), override: false))
      == ["API_KEY=one", "PATH=/bin", "OTHER=1", "OTHER=2"])
  }

  @Test func valuesKeepEveryByte() throws {
    let value = "a b\n'c' \"d\" $e #f \\g é\r\n"
    let block = try ChildEnvironment.merge([], Self.secrets(("V", value), ("EMPTY", "")), override: true)
    #expect(Self.entries(block) == ["V=" + value, "EMPTY="])
    #expect(block.value(of: "V").map { Array($0) } == Array(value.utf8))
  }

  @Test func aValueWithANULIsRefusedNamingOnlyTheSecret() {
    let planted = "canary-7d1e" + "\u{0}" + "tail"
    #expect {
      _ = try ChildEnvironment.merge([], Self.secrets(("OK", "1"), ("BAD", planted)), override: true)
    } throws: { error in
      let text = "\(error)"
      return text.contains("BAD contains a NUL byte") && !text.contains("canary-7d1e")
    }
  }
}
