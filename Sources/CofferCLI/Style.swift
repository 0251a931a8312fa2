import CofferOperations
import CofferSystem

/// Colour for the verdicts of `check`, `plan` and `rotate status` on a terminal (docs/run.md, "Colour").
///
/// On only when stdout is a terminal, `NO_COLOR` is unset or empty (no-color.org), `TERM` is not `dumb`, and the
/// command was not given `--no-color`. Colour is added after the text is escaped (``DisplayText``), and only around
/// fixed verdict words, never around a name or a reason; without colour the output is byte for byte the same.
enum Style {
  enum Colour: String {
    case red = "31"
    case green = "32"
    case yellow = "33"
  }

  /// Whether to colour stdout.
  /// - Parameter noColor: the command's `--no-color`.
  static func enabled(noColor: Bool) -> Bool {
    if noColor { return false }
    if let value = ProcessEnvironment.get("NO_COLOR"), !value.isEmpty { return false }
    if ProcessEnvironment.get("TERM") == "dumb" { return false }
    return Terminal.isTTY(1)
  }

  static func paint(_ text: String, _ colour: Colour) -> String { "\u{1B}[\(colour.rawValue)m\(text)\u{1B}[0m" }

  /// `text` with, on each line that starts with `indent` followed by one of `words` (then a space, `:` or the end),
  /// that word painted.
  static func leadingWords(_ text: String, indent: String, _ words: [String: Colour]) -> String {
    mapLines(text) { line in
      guard line.hasPrefix(indent) else { return line }
      let rest = line.dropFirst(indent.count)
      let word = rest.prefix { $0 != " " && $0 != "(" }
      let key = word.hasSuffix(":") ? String(word.dropLast()) : String(word)
      guard let colour = words[key] else { return line }
      return indent + paint(String(word), colour) + rest.dropFirst(word.count)
    }
  }

  static func mapLines(_ text: String, _ body: (String) -> String) -> String {
    text.split(separator: "\n", omittingEmptySubsequences: false).map { body(String($0)) }.joined(separator: "\n")
  }

  /// `check`'s report: section headings and the result.
  static func check(_ text: String) -> String {
    let headings = leadingWords(
      text, indent: "", ["missing": .red, "invalid": .red, "needs": .red, "undeclared": .yellow, "not": .yellow, "ok": .green])
    return mapLines(headings) { line in
      guard line.hasPrefix("result: ") else { return line }
      let verdict = String(line.dropFirst(8))
      return "result: " + paint(verdict, verdict == "ok" ? .green : .red)
    }
  }

  /// `plan`'s text: the action word of each change, `FAILED`.
  static func plan(_ text: String) -> String {
    leadingWords(
      text, indent: "  ",
      ["create": .yellow, "update": .yellow, "delete": .yellow, "drifted": .yellow, "unchanged": .green, "blocked": .red,
       "FAILED": .red])
  }

  /// `rotate status`'s table: the STATE column.
  static func rotation(_ text: String) -> String {
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    guard let header = lines.first, let column = header.firstRange(of: "STATE")?.lowerBound else { return text }
    let offset = header.distance(from: header.startIndex, to: column)
    let colours: [String: Colour] = ["ok": .green, "due-soon": .yellow, "overdue": .red, "needs-rotation": .red]
    for i in lines.indices.dropFirst() where lines[i].count > offset {
      let line = lines[i]
      let start = line.index(line.startIndex, offsetBy: offset)
      let word = line[start...].prefix { $0 != " " }
      guard let colour = colours[String(word)] else { continue }
      lines[i] = String(line[..<start]) + paint(String(word), colour) + line[start...].dropFirst(word.count)
    }
    return lines.joined(separator: "\n")
  }
}
