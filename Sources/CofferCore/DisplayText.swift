/// Text shown to a person in an error, warning or note, with every character that would not be seen written out.
///
/// A name holding U+FEFF (a byte-order mark pasted from a Windows file), U+200B (zero-width space), a bidirectional
/// override or a terminal escape looks like a different name, or like nothing, when printed raw. Shown through
/// ``escaped(_:)`` it reads `API\u{FEFF}_KEY`. The CLI's one error renderer passes every message through it, so
/// names are escaped wherever they are rendered in errors.
public enum DisplayText {
  /// Whether a scalar is written out as `\u{…}` rather than shown: controls other than LF, format characters
  /// (U+FEFF, U+200B–U+200F, U+202A–U+202E, U+2060–U+2064, U+2066–U+2069, U+00AD, …), every default-ignorable code
  /// point (U+115F, U+3164, variation selectors, …), line and paragraph separators, spaces other than U+0020,
  /// private-use, surrogate and unassigned code points, and U+2800 (a blank braille pattern).
  /// - Parameter scalar: the scalar.
  /// - Returns: `true` when it is invisible or misleading on a terminal.
  public static func isInvisible(_ scalar: Unicode.Scalar) -> Bool {
    if scalar.value < 0x80 { return (scalar.value < 0x20 && scalar != "\n") || scalar.value == 0x7F }
    if scalar.properties.isDefaultIgnorableCodePoint || scalar.value == 0x2800 { return true }
    switch scalar.properties.generalCategory {
    case .control, .format, .lineSeparator, .paragraphSeparator, .spaceSeparator, .privateUse, .surrogate, .unassigned:
      return true
    default:
      return false
    }
  }

  /// The text with every invisible scalar (see ``isInvisible(_:)``) written as `\u{HEX}` (uppercase hex, no
  /// leading zeros), and everything else unchanged.
  /// - Parameter text: the text to show.
  /// - Returns: the same string when there is nothing to escape.
  public static func escaped(_ text: String) -> String {
    guard text.unicodeScalars.contains(where: isInvisible) else { return text }
    var out = ""
    out.reserveCapacity(text.utf8.count + 8)
    for scalar in text.unicodeScalars {
      if isInvisible(scalar) {
        out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
      } else {
        out.unicodeScalars.append(scalar)
      }
    }
    return out
  }
}
