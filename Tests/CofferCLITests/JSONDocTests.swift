import Foundation
import Testing

/// docs/json.md (issue 15): every documented `--json` example parses and matches what the command prints, exactly
/// or (blocks marked `shape`) key for key with the same types.
@Suite struct JSONDocTests {
  struct Example {
    let command: [String]
    let exact: Bool
    let json: String
  }

  /// The `sh` + `json` block pairs of docs/json.md, and its YAML block (the project).
  static func examples() throws -> (manifest: String, examples: [Example]) {
    let text = try String(contentsOf: Paths.root.appendingPathComponent("docs/json.md"), encoding: .utf8)
    let manifest = try #require(text.components(separatedBy: "```yaml\n").dropFirst().first?.components(separatedBy: "```").first)
    var out: [Example] = []
    for chunk in text.components(separatedBy: "```sh\n").dropFirst() {
      let command = try #require(chunk.components(separatedBy: "\n").first)
      let afterCommand = try #require(chunk.components(separatedBy: "```json ").dropFirst().first)
      let mode = afterCommand.prefix { $0 != "\n" }
      let body = try #require(afterCommand.drop { $0 != "\n" }.components(separatedBy: "```").first)
      out.append(Example(command: command.split(separator: " ").dropFirst().map(String.init), exact: mode == "exact", json: body))
    }
    return (manifest, out)
  }

  static func parse(_ text: String) -> Any? { try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) }

  /// Same keys at every level, same kinds of values (arrays: the first elements compared).
  static func sameShape(_ a: Any, _ b: Any, path: String = "$") -> String? {
    switch (a, b) {
    case (let x as [String: Any], let y as [String: Any]):
      if Set(x.keys) != Set(y.keys) { return "\(path): keys \(x.keys.sorted()) vs \(y.keys.sorted())" }
      for key in x.keys.sorted() { if let d = sameShape(x[key]!, y[key]!, path: path + "." + key) { return d } }
      return nil
    case (let x as [Any], let y as [Any]):
      if x.isEmpty != y.isEmpty { return "\(path): one array is empty" }
      guard let first = x.first, let other = y.first else { return nil }
      return sameShape(first, other, path: path + "[0]")
    case (is NSNull, is NSNull), (is String, is String), (is NSNumber, is NSNumber): return nil
    default: return "\(path): \(type(of: a)) vs \(type(of: b))"
    }
  }

  @Test func everyDocumentedExampleMatchesTheCommand() throws {
    let (template, examples) = try Self.examples()
    #expect(examples.count == 11)
    let box = try Sandbox(manifest: template.replacingOccurrences(of: "age1…", with: "PLACEHOLDER"))
    try box.write("coffer.yaml", template.replacingOccurrences(of: "age1…", with: box.recipient))
    box.extraEnvironment["COFFER_NOW"] = "2026-12-01T10:00:00Z"
    // The state directory outside the project, as a user's is: `scan` walks the sandbox, and the manifest snapshot
    // there is a binary file its summary would list.
    let state = FileManager.default.temporaryDirectory.appendingPathComponent("coffer-json-state-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: state) }
    box.extraEnvironment["XDG_STATE_HOME"] = state.path
    #expect(box.run(["set", "OPENAI_API_KEY", "-e", "production"], stdin: Data("sk-test-value-1234567890".utf8)).status == 0)
    #expect(box.run(["set", "LOG_LEVEL", "-e", "production"], stdin: Data("info".utf8)).status == 0)
    #expect(box.run(["set", "STRAY", "-e", "production", "--undeclared"], stdin: Data("x".utf8)).status == 0)
    for example in examples {
      let what = example.command.joined(separator: " ")
      let documented = try #require(Self.parse(example.json), "docs/json.md: the example of `coffer \(what)` does not parse")
      let r = box.run(example.command)
      #expect([0, 1].contains(r.status), "coffer \(what): \(r.stderr)")
      let printed = example.command.first == "audit" ? String(r.out.split(separator: "\n").first ?? "") : r.out
      let actual = try #require(Self.parse(printed), "coffer \(what) printed something that does not parse")
      if let difference = Self.sameShape(documented, actual) {
        Issue.record("coffer \(what): the documented shape differs: \(difference)")
      }
      if example.exact {
        #expect(NSDictionary(dictionary: ["v": documented]).isEqual(to: ["v": actual]), "coffer \(what): the documented example differs from the output:\n\(printed)")
      }
    }
  }
}
