extension Age {
  static let armorBegin = "-----BEGIN AGE ENCRYPTED FILE-----"
  static let armorEnd = "-----END AGE ENCRYPTED FILE-----"

  private static func isArmorWhitespace(_ byte: UInt8) -> Bool {
    byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
  }

  /// Whether bytes look like an armored file: after optional whitespace they start with `-----`.
  static func looksArmored(_ file: [UInt8]) -> Bool {
    guard let first = file.firstIndex(where: { !isArmorWhitespace($0) }) else { return false }
    return file[first...].starts(with: "-----".utf8)
  }

  /// Encodes a binary age file in age's ASCII armor (strict PEM: padded base64 in 64-column lines).
  /// - Parameter file: a binary age file.
  /// - Returns: the armored text, ending with a newline.
  public static func armor(_ file: [UInt8]) -> String {
    let encoded = AgeBase64.encode(file, padded: true)
    var out = armorBegin + "\n"
    var start = 0
    while start < encoded.count {
      let end = min(start + 64, encoded.count)
      out += String(decoding: encoded[start..<end], as: UTF8.self) + "\n"
      start = end
    }
    return out + armorEnd + "\n"
  }

  /// Decodes age's ASCII armor.
  ///
  /// Accepts whitespace (space, tab, CR, LF) before the begin line and after the end line, and LF or CRLF line
  /// endings. Everything else is strict: the exact begin and end lines, no headers, every base64 line 64 columns
  /// except a last one of 1…64, padded canonical base64, no whitespace inside lines.
  /// - Parameter text: the armored file.
  /// - Returns: the binary age file.
  /// - Throws: ``AgeError/Code/armorFailure`` naming the first problem.
  public static func dearmor(_ text: [UInt8]) throws(AgeError) -> [UInt8] {
    guard let first = text.firstIndex(where: { !isArmorWhitespace($0) }),
      let last = text.lastIndex(where: { !isArmorWhitespace($0) })
    else { throw AgeError.armor("the armored file is empty") }
    var lines = text[first...last].split(separator: 0x0A, omittingEmptySubsequences: false).map { line in
      line.last == 0x0D ? line.dropLast() : line
    }
    guard let beginLine = lines.first, beginLine.elementsEqual(armorBegin.utf8) else {
      throw AgeError.armor("the first line is not \(armorBegin)")
    }
    guard lines.count >= 2, let endLine = lines.last, endLine.elementsEqual(armorEnd.utf8) else {
      throw AgeError.armor("the last line is not \(armorEnd)")
    }
    lines.removeFirst()
    lines.removeLast()
    var encoded: [UInt8] = []
    for (index, line) in lines.enumerated() {
      let isLast = index == lines.count - 1
      guard line.count <= 64 else { throw AgeError.armor("line \(index + 2) is longer than 64 columns") }
      guard isLast ? !line.isEmpty : line.count == 64 else {
        throw AgeError.armor("line \(index + 2) is shorter than 64 columns but is not the last line")
      }
      encoded += line
    }
    guard let decoded = AgeBase64.decode(encoded, padded: true) else {
      throw AgeError.armor("the armored data is not canonical padded base64")
    }
    return decoded
  }
}
