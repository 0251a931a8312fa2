/// The matching machinery behind ``SecretFormat``: byte classes and greedy, non-backtracking shapes.
///
/// A shape is a list of segments (a literal, or a run of bytes from one class with a minimum and maximum count).
/// Matching walks the value once per alternative shape and never backtracks: a run takes as many bytes as it may,
/// so catalog shapes are written so that greedy matching is exact (a run is always followed by a literal outside
/// its class, or has a fixed count). Matching is O(n) per alternative, whatever the input.

/// A set of bytes, tested in O(1).
struct ByteClass: Sendable, Hashable {
  private var low: UInt64 = 0
  private var high: UInt64 = 0
  /// A short human name for messages, such as `base62 (A-Z a-z 0-9)`.
  let name: String

  init(_ name: String, _ members: String) {
    self.name = name
    for byte in members.utf8 { insert(byte) }
  }

  init(_ name: String, ranges: [ClosedRange<UInt8>], extra: String = "") {
    self.name = name
    for range in ranges { for byte in range { insert(byte) } }
    for byte in extra.utf8 { insert(byte) }
  }

  private mutating func insert(_ byte: UInt8) {
    if byte < 64 { low |= 1 << UInt64(byte) } else if byte < 128 { high |= 1 << UInt64(byte - 64) }
  }

  func contains(_ byte: UInt8) -> Bool {
    if byte < 64 { return low & (1 << UInt64(byte)) != 0 }
    if byte < 128 { return high & (1 << UInt64(byte - 64)) != 0 }
    return false
  }

  /// The union of two classes, named `name`.
  func union(_ other: ByteClass, name: String) -> ByteClass {
    var result = self
    result.low |= other.low
    result.high |= other.high
    return ByteClass(copying: result, name: name)
  }

  private init(copying other: ByteClass, name: String) {
    self.low = other.low
    self.high = other.high
    self.name = name
  }

  static let digits = ByteClass("digits (0-9)", ranges: [0x30...0x39])
  static let lowerHex = ByteClass("lowercase hex (0-9 a-f)", ranges: [0x30...0x39, 0x61...0x66])
  static let hex = ByteClass("hex (0-9 a-f A-F)", ranges: [0x30...0x39, 0x61...0x66, 0x41...0x46])
  static let upper = ByteClass("uppercase letters (A-Z)", ranges: [0x41...0x5A])
  static let upperAlnum = ByteClass("uppercase letters and digits (A-Z 0-9)", ranges: [0x41...0x5A, 0x30...0x39])
  static let lowerAlnum = ByteClass("lowercase letters and digits (a-z 0-9)", ranges: [0x61...0x7A, 0x30...0x39])
  static let letters = ByteClass("letters (A-Z a-z)", ranges: [0x41...0x5A, 0x61...0x7A])
  static let base32 = ByteClass("base32 (A-Z 2-7)", ranges: [0x41...0x5A, 0x32...0x37])
  static let base62 = ByteClass("base62 (A-Z a-z 0-9)", ranges: [0x41...0x5A, 0x61...0x7A, 0x30...0x39])
  static let word = ByteClass("A-Z a-z 0-9 _", ranges: [0x41...0x5A, 0x61...0x7A, 0x30...0x39], extra: "_")
  static let base64url = ByteClass(
    "base64url (A-Z a-z 0-9 _ -)", ranges: [0x41...0x5A, 0x61...0x7A, 0x30...0x39], extra: "_-")
  static let base64 = ByteClass("base64 (A-Z a-z 0-9 + /)", ranges: [0x41...0x5A, 0x61...0x7A, 0x30...0x39], extra: "+/")
  static let base64Padded = ByteClass(
    "base64 (A-Z a-z 0-9 + / =)", ranges: [0x41...0x5A, 0x61...0x7A, 0x30...0x39], extra: "+/=")
  /// Every byte; used by formats whose structure is checked by a validator.
  static let any: ByteClass = {
    var all = ByteClass("any byte", "")
    all.low = .max
    all.high = .max
    return all
  }()
  /// Printable ASCII without space (0x21-0x7E).
  static let visible = ByteClass("visible ASCII", ranges: [0x21...0x7E])
}

/// One piece of a shape.
enum ShapeSegment: Sendable, Hashable {
  /// Exactly these bytes.
  case literal([UInt8])
  /// Between `min` and `max` bytes of a class, taken greedily.
  case run(ByteClass, min: Int, max: Int)

  static func text(_ string: String) -> ShapeSegment { .literal(Array(string.utf8)) }
  static func exactly(_ count: Int, _ byteClass: ByteClass) -> ShapeSegment { .run(byteClass, min: count, max: count) }
  static func between(_ min: Int, _ max: Int, _ byteClass: ByteClass) -> ShapeSegment {
    .run(byteClass, min: min, max: max)
  }

  var minLength: Int {
    switch self {
    case .literal(let bytes): return bytes.count
    case .run(_, let min, _): return min
    }
  }

  var maxLength: Int {
    switch self {
    case .literal(let bytes): return bytes.count
    case .run(_, _, let max): return max
    }
  }
}

/// A sequence of segments that must cover the whole input.
struct Shape: Sendable, Hashable {
  var segments: [ShapeSegment]

  init(_ segments: [ShapeSegment]) { self.segments = segments }

  var minLength: Int { segments.reduce(0) { $0 + $1.minLength } }
  var maxLength: Int { segments.reduce(0) { $0 &+ $1.maxLength } }

  /// Whether `bytes[range]` is exactly this shape. Greedy, no backtracking: O(count).
  func matches(_ bytes: [UInt8], from start: Int, to end: Int) -> Bool {
    var index = start
    for segment in segments {
      switch segment {
      case .literal(let literal):
        guard end - index >= literal.count else { return false }
        for (offset, byte) in literal.enumerated() where bytes[index + offset] != byte { return false }
        index += literal.count
      case .run(let byteClass, let min, let max):
        var count = 0
        while count < max, index < end, byteClass.contains(bytes[index]) {
          index += 1
          count += 1
        }
        guard count >= min else { return false }
      }
    }
    return index == end
  }
}

/// The allowed total lengths of a value, in bytes (every catalog format is ASCII, so bytes are characters).
public enum LengthRule: Sendable, Hashable {
  /// One of these exact lengths, in increasing order.
  case exactly([Int])
  /// From `min` through `max` inclusive.
  case range(min: Int, max: Int)
  /// At least `min`.
  case atLeast(Int)

  func allows(_ length: Int) -> Bool {
    switch self {
    case .exactly(let lengths): return lengths.contains(length)
    case .range(let min, let max): return length >= min && length <= max
    case .atLeast(let min): return length >= min
    }
  }

  /// `51`, `132 or 164`, `50 to 70`, `at least 60`.
  public var description: String {
    switch self {
    case .exactly(let lengths): return FormatText.list(lengths.map(String.init), conjunction: "or")
    case .range(let min, let max): return "\(min) to \(max)"
    case .atLeast(let min): return "at least \(min)"
    }
  }
}

/// Small text helpers shared by the catalog's messages.
enum FormatText {
  /// `a`, `a or b`, `a, b or c`.
  static func list(_ items: [String], conjunction: String) -> String {
    switch items.count {
    case 0: return ""
    case 1: return items[0]
    default:
      // A loop rather than `dropLast().joined(separator:)`, which the standard library runs unspecialized: its first
      // call made the runtime search every conformance record in the binary (docs/performance.md).
      var out = items[0]
      for item in items[1..<(items.count - 1)] { out += ", " + item }
      return out + " \(conjunction) " + items[items.count - 1]
    }
  }

  /// `a` or `an` for a title, by its first letter (every catalog title starts with a letter that is pronounced as
  /// written: `an AWS access key ID`, `a Slack bot token`, `an npm access token`).
  static func article(_ title: String) -> String {
    guard let first = title.unicodeScalars.first else { return "a" }
    return "AEIOUaeiou".unicodeScalars.contains(first) ? "an" : "a"
  }

  static func characters(_ count: Int) -> String { count == 1 ? "1 character" : "\(count) characters" }
}
