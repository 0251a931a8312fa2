/// The checksum GitHub (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`) and npm (`npm_`) put in the last 6 characters of
/// their 40-character tokens: CRC-32 of the 30 random characters, written in base62 and left-padded with `0`.
///
/// Sources: github.blog, 2021-04-05, "Behind GitHub's new authentication token formats" (the scheme);
/// github.blog, 2021-09-23, "Announcing npm's new access token format" (the same scheme for npm). The blog does not
/// give the base62 digit order; Coffer uses `0-9A-Za-z`, which 20 real (since revoked) GitHub tokens published in
/// therootcompany/base62-token.js `test.js` (commit 17dfd0700742c6b352844bd6ba568cf22269e6b1) all satisfy and which
/// none of them satisfies with `0-9a-zA-Z` or `A-Za-z0-9` (docs/formats.md, and the test that checks it).
///
/// CRC-32 is an error-detecting code, not cryptography: it catches typos and truncated copies.
public enum TokenChecksum {
  /// The base62 digits in value order, `0-9A-Za-z`.
  public static let base62Alphabet: [UInt8] = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

  private static let table: [UInt32] = (0..<256).map { index in
    var crc = UInt32(index)
    for _ in 0..<8 { crc = crc & 1 != 0 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1 }
    return crc
  }

  /// CRC-32 as in ISO-HDLC / IEEE 802.3 / zlib (reflected polynomial 0xEDB88320, initial value and final XOR
  /// 0xFFFFFFFF); `crc32("123456789") == 0xCBF43926`.
  /// - Parameter bytes: the data.
  /// - Returns: the checksum.
  public static func crc32(_ bytes: some Sequence<UInt8>) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
    return crc ^ 0xFFFF_FFFF
  }

  /// Writes a number in base62 with `alphabet`, left-padded with the alphabet's zero digit to `width` digits.
  /// - Parameters:
  ///   - value: the number.
  ///   - width: the minimum number of digits; 6 holds any `UInt32`.
  ///   - alphabet: the 62 digits in value order; ``base62Alphabet`` by default.
  /// - Returns: the digits, most significant first.
  public static func base62(_ value: UInt32, width: Int = 6, alphabet: [UInt8] = base62Alphabet) -> [UInt8] {
    var digits: [UInt8] = []
    var rest = value
    while rest > 0 {
      digits.append(alphabet[Int(rest % 62)])
      rest /= 62
    }
    while digits.count < width { digits.append(alphabet[0]) }
    return digits.reversed()
  }

  /// The 6 checksum characters for a token's random part.
  /// - Parameters:
  ///   - random: the 30 random characters (the token without its 4-character prefix and 6-character checksum).
  ///   - alphabet: the base62 digit order; ``base62Alphabet`` by default.
  /// - Returns: 6 ASCII bytes.
  public static func checksum(of random: some Sequence<UInt8>, alphabet: [UInt8] = base62Alphabet) -> [UInt8] {
    base62(crc32(random), alphabet: alphabet)
  }

  /// Whether a 40-character token's last 6 characters are the checksum of characters 5 through 34.
  /// - Parameters:
  ///   - token: the whole token, prefix included.
  ///   - alphabet: the base62 digit order; ``base62Alphabet`` by default.
  /// - Returns: `false` for any other length.
  public static func verify(_ token: [UInt8], alphabet: [UInt8] = base62Alphabet) -> Bool {
    guard token.count == 40 else { return false }
    return checksum(of: token[4..<34], alphabet: alphabet) == Array(token[34..<40])
  }
}
