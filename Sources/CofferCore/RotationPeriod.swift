/// How often a secret should be rotated, in whole days.
///
/// Written in the manifest as a positive whole number followed by a unit: `d` (days), `w` (weeks of 7 days) or
/// `y` (years of 365 days), for example `90d`, `12w`, `1y`. Periods compare by their number of days, so `2w`
/// equals `14d`.
public struct RotationPeriod: Sendable, Equatable, Hashable, CustomStringConvertible {
  /// The largest accepted period, in days (100 years).
  public static let maximumDays = 36_500

  /// The length of the period in days; always at least 1 and at most ``maximumDays``.
  public let days: Int

  /// Creates a period from a number of days.
  /// - Parameter days: the length; must be in `1...maximumDays`, otherwise the initializer fails.
  public init?(days: Int) {
    guard days >= 1, days <= RotationPeriod.maximumDays else { return nil }
    self.days = days
  }

  /// Parses the manifest notation.
  /// - Parameter text: `<N>d`, `<N>w` or `<N>y` where `<N>` is a positive decimal number without sign, spaces
  ///   or leading zeros (for example `90d`, `12w`, `1y`). Fails on anything else, including `0d` and periods
  ///   longer than ``maximumDays``.
  public init?(parsing text: String) {
    let scalars = Array(text.unicodeScalars)
    guard scalars.count >= 2, let unit = scalars.last else { return nil }
    let digits = scalars.dropLast()
    guard digits.count <= 6, digits.first != "0" else { return nil }
    var number = 0
    for scalar in digits {
      guard scalar >= "0", scalar <= "9" else { return nil }
      number = number * 10 + Int(scalar.value - 48)
    }
    let multiplier: Int
    switch unit {
    case "d": multiplier = 1
    case "w": multiplier = 7
    case "y": multiplier = 365
    default: return nil
    }
    self.init(days: number * multiplier)
  }

  /// The canonical notation: years when the days divide by 365, else weeks when they divide by 7, else days
  /// (`365` → `1y`, `84` → `12w`, `90` → `90d`). Parsing the description gives an equal period.
  public var description: String {
    if days % 365 == 0 { return "\(days / 365)y" }
    if days % 7 == 0 { return "\(days / 7)w" }
    return "\(days)d"
  }
}
