/// A point in time with one-second resolution, in UTC.
///
/// Written as RFC 3339 `YYYY-MM-DDTHH:MM:SSZ` (https://www.rfc-editor.org/rfc/rfc3339), the only form Coffer reads
/// and writes in its files. Pure: the current time comes from a clock at the edge (`CofferSystem`).
public struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
  /// Seconds since 1970-01-01T00:00:00Z.
  public let secondsSinceEpoch: Int64

  /// Creates a timestamp.
  /// - Parameter secondsSinceEpoch: seconds since the Unix epoch, UTC.
  public init(secondsSinceEpoch: Int64) { self.secondsSinceEpoch = secondsSinceEpoch }

  public static func < (a: Timestamp, b: Timestamp) -> Bool { a.secondsSinceEpoch < b.secondsSinceEpoch }

  /// The RFC 3339 form, e.g. `2026-11-29T09:00:00Z`.
  public var description: String { rfc3339 }

  /// The RFC 3339 form, e.g. `2026-11-29T09:00:00Z`.
  public var rfc3339: String {
    let days = floorDiv(secondsSinceEpoch, 86_400)
    let rem = secondsSinceEpoch - days * 86_400
    let (y, m, d) = Timestamp.civil(fromDays: days)
    return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(rem / 3600, 2)):\(pad(rem / 60 % 60, 2)):\(pad(rem % 60, 2))Z"
  }

  /// Parses the exact form `YYYY-MM-DDTHH:MM:SSZ`.
  /// - Parameter text: the text to parse.
  /// - Returns: `nil` when the text is not in that form or names an impossible date.
  public init?(rfc3339 text: String) {
    self.init(rfc3339Bytes: ArraySlice(text.utf8))
  }

  /// Parses the exact form `YYYY-MM-DDTHH:MM:SSZ` from UTF-8 bytes (no string is made).
  /// - Parameter bytes: the 20 bytes of the time.
  /// - Returns: `nil` when the bytes are not in that form or name an impossible date.
  public init?(rfc3339Bytes bytes: ArraySlice<UInt8>) {
    let b = Array(bytes)
    guard b.count == 20, b[4] == 0x2D, b[7] == 0x2D, b[10] == 0x54, b[13] == 0x3A, b[16] == 0x3A, b[19] == 0x5A
    else { return nil }
    func num(_ r: Range<Int>) -> Int64? {
      var v: Int64 = 0
      for i in r {
        guard b[i] >= 0x30, b[i] <= 0x39 else { return nil }
        v = v * 10 + Int64(b[i] - 0x30)
      }
      return v
    }
    guard let y = num(0..<4), let mo = num(5..<7), let d = num(8..<10), let h = num(11..<13),
      let mi = num(14..<16), let s = num(17..<19), (1...12).contains(mo), d >= 1,
      d <= Timestamp.daysInMonth(y, mo), h < 24, mi < 60, s < 60
    else { return nil }
    let days = Timestamp.days(fromCivil: y, mo, d)
    self.secondsSinceEpoch = days * 86_400 + h * 3600 + mi * 60 + s
  }

  /// Whole days from `self` to `later` (negative when `later` is earlier), rounding toward negative infinity.
  public func days(until later: Timestamp) -> Int64 {
    floorDiv(later.secondsSinceEpoch - secondsSinceEpoch, 86_400)
  }

  // Howard Hinnant's civil-from-days algorithm (http://howardhinnant.github.io/date_algorithms.html).
  static func civil(fromDays z0: Int64) -> (Int64, Int64, Int64) {
    let z = z0 + 719_468
    let era = floorDiv(z, 146_097)
    let doe = z - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
    let y = yoe + era * 400
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let d = doy - (153 * mp + 2) / 5 + 1
    let m = mp < 10 ? mp + 3 : mp - 9
    return (m <= 2 ? y + 1 : y, m, d)
  }

  static func days(fromCivil y0: Int64, _ m: Int64, _ d: Int64) -> Int64 {
    let y = m <= 2 ? y0 - 1 : y0
    let era = floorDiv(y, 400)
    let yoe = y - era * 400
    let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146_097 + doe - 719_468
  }

  static func daysInMonth(_ y: Int64, _ m: Int64) -> Int64 {
    switch m {
    case 2: return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 ? 29 : 28
    case 4, 6, 9, 11: return 30
    default: return 31
    }
  }
}

private func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
  let q = a / b
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}

private func pad(_ v: Int64, _ width: Int) -> String {
  let s = String(v)
  return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
}
