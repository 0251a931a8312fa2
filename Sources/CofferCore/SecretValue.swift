/// A secret's value: bytes that never print.
///
/// `print(value)`, string interpolation, `debugPrint` and `dump` all show `<redacted>`. The plaintext leaves this
/// type only through ``reveal()`` or ``revealString()``, explicit and greppable calls made at the edge that needs
/// it (an `execve` environment, an export the user asked for, a value being sealed). Equality is constant-time in
/// the length of the longer value, so comparing a guess with a stored value leaks no prefix length.
public struct SecretValue: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible,
  CustomReflectable
{
  private let bytes: [UInt8]

  /// Wraps raw bytes.
  /// - Parameter bytes: the value, byte for byte; any bytes, including NUL and invalid UTF-8.
  public init(_ bytes: [UInt8]) { self.bytes = bytes }

  /// Wraps the UTF-8 encoding of a string.
  /// - Parameter string: the value; stored as its exact UTF-8 bytes.
  public init(_ string: String) { self.bytes = Array(string.utf8) }

  /// The plaintext bytes. Call only where the value must leave Coffer in clear.
  public func reveal() -> [UInt8] { bytes }

  /// The plaintext as a string, decoding UTF-8 (invalid sequences become U+FFFD; use ``isValidUTF8`` first where
  /// that matters).
  public func revealString() -> String { String(decoding: bytes, as: UTF8.self) }

  /// Number of bytes in the value.
  public var byteCount: Int { bytes.count }

  /// Whether the value has no bytes.
  public var isEmpty: Bool { bytes.isEmpty }

  /// Whether the bytes are well-formed UTF-8.
  public var isValidUTF8: Bool { String(validating: bytes, as: UTF8.self) != nil }

  /// Whether the value contains a NUL byte (such a value cannot be placed in a process environment).
  public var containsNUL: Bool {
    bytes.withUnsafeBufferPointer { b in
      // No early exit: the loop vectorises, and values are short.
      var zero = false
      for byte in b { zero = zero || byte == 0 }
      return zero
    }
  }

  /// Always `<redacted>`.
  public var description: String { "<redacted>" }
  /// Always `<redacted>`.
  public var debugDescription: String { "<redacted>" }
  /// A mirror with no children, so `dump` shows nothing but `<redacted>`.
  public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }

  /// Constant-time comparison: the time taken depends only on the lengths, never on where the values differ.
  public static func == (lhs: SecretValue, rhs: SecretValue) -> Bool {
    let a = lhs.bytes
    let b = rhs.bytes
    let n = max(a.count, b.count)
    var diff: UInt8 = a.count == b.count ? 0 : 1
    var i = 0
    while i < n {
      let x = i < a.count ? a[i] : 0
      let y = i < b.count ? b[i] : 0
      diff |= x ^ y
      i += 1
    }
    return diff == 0
  }
}
