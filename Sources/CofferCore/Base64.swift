/// Base64 (RFC 4648 §4, standard alphabet) with strict, canonical decoding.
///
/// An encoding, not cryptography. Coffer's files use the padded form; decoding rejects anything a canonical
/// encoder would not have produced (wrong padding, non-zero trailing bits, characters outside the alphabet).
public enum Base64 {
  private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
  private static let reverse: [Int16] = {
    var t = [Int16](repeating: -1, count: 256)
    for (i, c) in alphabet.enumerated() { t[Int(c)] = Int16(i) }
    return t
  }()

  /// Encodes bytes.
  /// - Parameters:
  ///   - bytes: the data.
  ///   - padded: whether to append `=` padding (RFC 4648 §3.2).
  /// - Returns: the ASCII text.
  public static func encode(_ bytes: some Collection<UInt8>, padded: Bool = true) -> String {
    let input = Array(bytes)
    var out = [UInt8]()
    out.reserveCapacity((input.count + 2) / 3 * 4)
    var i = 0
    while i + 3 <= input.count {
      let n = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8 | UInt32(input[i + 2])
      out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], alphabet[Int(n & 63)]]
      i += 3
    }
    let rest = input.count - i
    if rest == 1 {
      let n = UInt32(input[i]) << 16
      out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)]]
      if padded { out += [0x3D, 0x3D] }
    } else if rest == 2 {
      let n = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8
      out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)]]
      if padded { out += [0x3D] }
    }
    return String(decoding: out, as: UTF8.self)
  }

  /// Decodes canonical base64.
  /// - Parameters:
  ///   - text: the encoded text, with no whitespace.
  ///   - padded: whether padding is required (`true`) or forbidden (`false`).
  /// - Returns: the bytes, or `nil` when the text is not canonical base64 of that kind.
  public static func decode(_ text: some StringProtocol, padded: Bool = true) -> [UInt8]? {
    var chars = Array(text.utf8)
    if padded {
      guard chars.count % 4 == 0 else { return nil }
      var pads = 0
      while pads < 2, chars.last == 0x3D { chars.removeLast(); pads += 1 }
    }
    guard chars.count % 4 != 1 else { return nil }
    var out = [UInt8]()
    out.reserveCapacity(chars.count * 3 / 4)
    var acc: UInt32 = 0
    var bits = 0
    for c in chars {
      let v = reverse[Int(c)]
      guard v >= 0 else { return nil }
      acc = acc << 6 | UInt32(v)
      bits += 6
      if bits >= 8 {
        bits -= 8
        out.append(UInt8(truncatingIfNeeded: acc >> UInt32(bits)))
        acc &= (1 << UInt32(bits)) - 1
      }
    }
    guard acc == 0 else { return nil }  // non-zero trailing bits: not canonical
    return out
  }
}
