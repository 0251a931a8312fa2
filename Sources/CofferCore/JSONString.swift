/// JSON string literals (RFC 8259 §7): the one escaper for Coffer's JSON output and state files.
///
/// Escapes `"` and `\`, writes `\n`, `\r`, `\t`, `\b` and `\f` short, every other control character, DEL and the
/// line and paragraph separators (U+2028, U+2029, which some JavaScript readers take for line ends) as `\uXXXX`, and
/// keeps everything else as UTF-8. The audit log has its own byte-level encoder (`AuditLog`), whose output is part
/// of its hash chain and must never change.
public enum JSONString {
  /// Appends `s` as a JSON string literal, quotes included.
  /// - Parameters:
  ///   - s: the text.
  ///   - out: where to append.
  public static func quote(_ s: String, into out: inout String) {
    out += "\""
    for scalar in s.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case "\u{08}": out += "\\b"
      case "\u{0C}": out += "\\f"
      default:
        if scalar.value < 0x20 || scalar.value == 0x7F || scalar.value == 0x2028 || scalar.value == 0x2029 {
          let h = String(scalar.value, radix: 16)
          out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
        } else {
          out.unicodeScalars.append(scalar)
        }
      }
    }
    out += "\""
  }

  /// `s` as a JSON string literal, quotes included.
  public static func quoted(_ s: String) -> String {
    var out = ""
    quote(s, into: &out)
    return out
  }
}
