import CofferCore

/// Base64 as age uses it: ``CofferCore/Base64`` with padding off by default (age headers are unpadded; the ASCII
/// armor passes `padded: true`).
public enum AgeBase64 {
  /// Encodes bytes; see ``CofferCore/Base64/encode(_:padded:)``.
  public static func encode<C: Collection>(_ bytes: C, padded: Bool = false) -> [UInt8] where C.Element == UInt8 {
    Base64.encodeBytes(bytes, padded: padded)
  }

  /// Encodes bytes as a string.
  public static func encodeString<C: Collection>(_ bytes: C, padded: Bool = false) -> String where C.Element == UInt8 {
    Base64.encode(bytes, padded: padded)
  }

  /// Decodes canonical base64, or returns `nil`.
  public static func decode<C: Collection>(_ text: C, padded: Bool = false) -> [UInt8]? where C.Element == UInt8 {
    Base64.decode(text, padded: padded)
  }

  /// Decodes canonical unpadded base64 text, or returns `nil`.
  public static func decode(_ text: some StringProtocol, padded: Bool = false) -> [UInt8]? {
    Base64.decode(Array(text.utf8), padded: padded)
  }
}
