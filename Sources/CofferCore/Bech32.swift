/// Bech32 (BIP-173) encoding, as age uses it for recipients (`age1…`) and identities (`AGE-SECRET-KEY-1…`).
///
/// This is the original Bech32 checksum (constant 1), not Bech32m. age does not enforce BIP-173's 90-character
/// limit, so the limit is a parameter. See https://github.com/bitcoin/bips/blob/master/bip-0173.mediawiki.
public enum Bech32 {
  /// Why a string is not valid Bech32.
  public enum DecodingError: Error, Equatable, Sendable {
    /// The string is longer than the limit given to ``decode(_:limit:)``.
    case tooLong
    /// A character is outside US-ASCII 33…126, or a data character is not in the Bech32 alphabet.
    case invalidCharacter
    /// The string mixes upper- and lowercase letters.
    case mixedCase
    /// There is no `1` separator.
    case missingSeparator
    /// The human-readable part before the separator is empty.
    case emptyHumanReadablePart
    /// Fewer than six characters follow the separator.
    case checksumTooShort
    /// The checksum does not verify.
    case invalidChecksum
    /// The 5-bit data does not convert to whole bytes (non-zero or excess padding bits).
    case invalidPadding
  }

  private static let charset: [UInt8] = Array("qpzry9x8gf2tvdw0s3jn54khce6mua7l".utf8)
  private static let charsetReverse: [Int8] = {
    var table = [Int8](repeating: -1, count: 128)
    for (index, char) in charset.enumerated() { table[Int(char)] = Int8(index) }
    return table
  }()

  private static func polymod(_ values: [UInt8]) -> UInt32 {
    let generator: [UInt32] = [0x3b6a_57b2, 0x2650_8e6d, 0x1ea1_19fa, 0x3d42_33dd, 0x2a14_62b3]
    var chk: UInt32 = 1
    for value in values {
      let top = chk >> 25
      chk = (chk & 0x1ff_ffff) << 5 ^ UInt32(value)
      for i in 0..<5 where (top >> UInt32(i)) & 1 == 1 { chk ^= generator[i] }
    }
    return chk
  }

  private static func expand(_ hrp: [UInt8]) -> [UInt8] {
    hrp.map { $0 >> 5 } + [0] + hrp.map { $0 & 31 }
  }

  /// Encodes 5-bit words under a human-readable part, in lowercase.
  /// - Parameters:
  ///   - hrp: the human-readable part; ASCII 33…126, at least one character. Uppercase letters are lowercased.
  ///   - words: values 0…31.
  /// - Returns: `hrp` + `1` + data + checksum, all lowercase.
  public static func encode(hrp: String, words: [UInt8]) -> String {
    let hrpBytes = Array(hrp.lowercased().utf8)
    let values = expand(hrpBytes) + words + [0, 0, 0, 0, 0, 0]
    let mod = polymod(values) ^ 1
    var out = hrpBytes
    out.append(UInt8(ascii: "1"))
    for word in words { out.append(charset[Int(word & 31)]) }
    for i in 0..<6 { out.append(charset[Int((mod >> UInt32(5 * (5 - i))) & 31)]) }
    return String(decoding: out, as: UTF8.self)
  }

  /// Encodes bytes under a human-readable part, in lowercase.
  /// - Parameters:
  ///   - hrp: the human-readable part.
  ///   - data: the bytes, regrouped into 5-bit words with zero padding.
  /// - Returns: the lowercase Bech32 string.
  public static func encode(hrp: String, data: [UInt8]) -> String {
    encode(hrp: hrp, words: convertBits(data, from: 8, to: 5, pad: true) ?? [])
  }

  /// Decodes a Bech32 string into its human-readable part and 5-bit words.
  /// - Parameters:
  ///   - string: the text; all lowercase or all uppercase.
  ///   - limit: the maximum total length (BIP-173 says 90); nil for none, as age uses.
  /// - Returns: the human-readable part exactly as written (so uppercase input gives an uppercase part) and the
  ///   data words without the checksum.
  /// - Throws: a ``DecodingError`` naming the first problem found.
  public static func decodeWords(_ string: String, limit: Int? = 90) throws(DecodingError) -> (hrp: String, words: [UInt8]) {
    let bytes = Array(string.utf8)
    if let limit, bytes.count > limit { throw .tooLong }
    var hasLower = false
    var hasUpper = false
    for byte in bytes {
      guard (33...126).contains(byte) else { throw .invalidCharacter }
      if (97...122).contains(byte) { hasLower = true }
      if (65...90).contains(byte) { hasUpper = true }
    }
    if hasLower && hasUpper { throw .mixedCase }
    let lower = bytes.map { (65...90).contains($0) ? $0 + 32 : $0 }
    guard let separator = lower.lastIndex(of: UInt8(ascii: "1")) else { throw .missingSeparator }
    guard separator >= 1 else { throw .emptyHumanReadablePart }
    guard separator + 7 <= lower.count else { throw .checksumTooShort }
    var words: [UInt8] = []
    words.reserveCapacity(lower.count - separator - 1)
    for char in lower[(separator + 1)...] {
      let value = Int(char) < 128 ? charsetReverse[Int(char)] : -1
      guard value >= 0 else { throw .invalidCharacter }
      words.append(UInt8(value))
    }
    let hrp = Array(lower[..<separator])
    guard polymod(expand(hrp) + words) == 1 else { throw .invalidChecksum }
    words.removeLast(6)
    return (String(decoding: bytes[..<separator], as: UTF8.self), words)
  }

  /// Decodes a Bech32 string carrying bytes.
  /// - Parameters:
  ///   - string: the text; all lowercase or all uppercase.
  ///   - limit: the maximum total length; nil for none.
  /// - Returns: the human-readable part as written and the data bytes.
  /// - Throws: a ``DecodingError``; ``DecodingError/invalidPadding`` if the words are not whole bytes.
  public static func decode(_ string: String, limit: Int? = 90) throws(DecodingError) -> (hrp: String, data: [UInt8]) {
    let (hrp, words) = try decodeWords(string, limit: limit)
    guard let data = convertBits(words, from: 5, to: 8, pad: false) else { throw .invalidPadding }
    return (hrp, data)
  }

  /// Regroups bits (BIP-173 `convertbits`).
  /// - Parameters:
  ///   - values: input groups of `from` bits each.
  ///   - from: input group width.
  ///   - to: output group width.
  ///   - pad: whether to zero-pad a final partial group; when false, leftover bits must be fewer than `from` and
  ///     all zero.
  /// - Returns: the regrouped values, or nil if an input exceeds `from` bits or the padding is invalid.
  public static func convertBits(_ values: [UInt8], from: Int, to: Int, pad: Bool) -> [UInt8]? {
    var accumulator: UInt32 = 0
    var bits = 0
    var out: [UInt8] = []
    let maxValue: UInt32 = (1 << UInt32(to)) - 1
    for value in values {
      guard UInt32(value) >> UInt32(from) == 0 else { return nil }
      accumulator = (accumulator << UInt32(from) | UInt32(value)) & 0xFFFF
      bits += from
      while bits >= to {
        bits -= to
        out.append(UInt8((accumulator >> UInt32(bits)) & maxValue))
      }
    }
    if pad {
      if bits > 0 { out.append(UInt8((accumulator << UInt32(to - bits)) & maxValue)) }
    } else if bits >= from || (accumulator << UInt32(to - bits)) & maxValue != 0 {
      return nil
    }
    return out
  }
}

extension Bech32.DecodingError: CustomStringConvertible {
  /// A phrase for messages, e.g. `no '1' separator`; never the text that was decoded.
  public var description: String {
    switch self {
    case .tooLong: return "too long"
    case .invalidCharacter: return "a character outside the bech32 alphabet"
    case .mixedCase: return "upper- and lowercase letters mixed"
    case .missingSeparator: return "no '1' separator"
    case .emptyHumanReadablePart: return "nothing before the '1' separator"
    case .checksumTooShort: return "fewer than six characters after the '1' separator"
    case .invalidChecksum: return "the checksum does not match (a character is wrong or missing)"
    case .invalidPadding: return "the data does not end on a whole byte"
    }
  }
}
