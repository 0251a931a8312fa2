import CofferCore
import CofferOperations

/// A small, deterministic JSON writer (RFC 8259) for `--json` output: keys keep the order they are given.
enum JSON {
  case string(String)
  case int(Int)
  case bool(Bool)
  case null
  case array([JSON])
  case object([(String, JSON)])

  /// The compact encoding followed by nothing.
  var encoded: String {
    var out = ""
    write(into: &out)
    return out
  }

  func write(into out: inout String) {
    switch self {
    case .string(let s): JSONString.quote(s, into: &out)
    case .int(let i): out += String(i)
    case .bool(let b): out += b ? "true" : "false"
    case .null: out += "null"
    case .array(let items):
      out += "["
      for (i, item) in items.enumerated() {
        if i > 0 { out += "," }
        item.write(into: &out)
      }
      out += "]"
    case .object(let pairs):
      out += "{"
      for (i, (k, v)) in pairs.enumerated() {
        if i > 0 { out += "," }
        JSONString.quote(k, into: &out)
        out += ":"
        v.write(into: &out)
      }
      out += "}"
    }
  }

  static func strings(_ items: [String]) -> JSON { .array(items.map { .string($0) }) }
}
