import Foundation
import Testing

/// docs/architecture.md stays true: its module table names exactly the targets Package.swift declares (test targets
/// aside).
@Suite struct ArchitectureDocTests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

  /// The first back-quoted name of each row of the table under `## Modules`.
  static func documentedModules(_ text: String) -> [String] {
    guard let start = text.range(of: "\n## Modules\n") else { return [] }
    let section = text[start.upperBound...]
    var out: [String] = []
    for line in section.split(separator: "\n", omittingEmptySubsequences: false) {
      if line.hasPrefix("## ") { break }
      guard line.hasPrefix("| `") else { continue }
      let name = line.dropFirst(3).prefix { $0 != "`" }
      out.append(String(name))
    }
    return out
  }

  /// The names of `.target`, `.executableTarget` and `.systemLibrary` declarations.
  static func declaredTargets(_ text: String) -> [String] {
    var out: [String] = []
    let pattern = /\.(?:target|executableTarget|systemLibrary)\(\s*name:\s*"([^"]+)"/
    for match in text.matches(of: pattern) { out.append(String(match.1)) }
    return out
  }

  @Test func theModuleTableMatchesPackageSwift() throws {
    let doc = try String(contentsOf: Self.root.appendingPathComponent("docs/architecture.md"), encoding: .utf8)
    let package = try String(contentsOf: Self.root.appendingPathComponent("Package.swift"), encoding: .utf8)
    let documented = Self.documentedModules(doc)
    let declared = Self.declaredTargets(package)
    #expect(declared.contains("CofferOperations"))
    #expect(documented.count == Set(documented).count, "a module is documented twice")
    #expect(Set(documented) == Set(declared))
  }

  @Test func theParsersFindRowsAndTargets() {
    let doc = "x\n## Modules\n\n| target | holds |\n|---|---|\n| `A` | a |\n| `B` (tests only) | b |\n\n## Next\n| `C` | c |\n"
    #expect(Self.documentedModules(doc) == ["A", "B"])
    let package = ".target(\n  name: \"A\", dependencies: []),\n.testTarget(name: \"ATests\"),\n.executableTarget(name: \"a\"),\n.systemLibrary(name: \"C\")"
    #expect(Self.declaredTargets(package) == ["A", "a", "C"])
  }
}
