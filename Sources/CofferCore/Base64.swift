/// Base64 with the standard alphabet (RFC 4648 §4), strict and canonical: the one implementation in Coffer.
///
/// An encoding, not cryptography. The vault format uses it padded; age (https://age-encryption.org/v1) unpadded in
/// headers and padded in ASCII armor. Decoding rejects characters outside the alphabet (including whitespace, CR
/// and LF), impossible lengths, wrong padding, and non-canonical encodings whose unused trailing bits are not zero,
/// so every byte string has exactly one accepted encoding.
public enum Base64 {
  private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

  private static let decodeTable: [UInt8] = {
    var table = [UInt8](repeating: 0xFF, count: 256)
    for (index, char) in alphabet.enumerated() { table[Int(char)] = UInt8(index) }
    return table
  }()

  /// Encodes bytes.
  /// - Parameters:
  ///   - bytes: the data.
  ///   - padded: whether to append `=` to a multiple of four characters.
  /// - Returns: the ASCII characters.
  @inlinable
  public static func encodeBytes<C: Collection>(_ bytes: C, padded: Bool) -> [UInt8] where C.Element == UInt8 {
    // Specialised at the call site, then one concrete loop: a generic call across modules would look up the
    // collection's conformances at run time (a scan of every conformance record, docs/performance.md).
    if let out = bytes.withContiguousStorageIfAvailable({ encode(buffer: $0, padded: padded) }) { return out }
    return Array(bytes).withUnsafeBufferPointer { encode(buffer: $0, padded: padded) }
  }

  @usableFromInline
  static func encode(buffer bytes: UnsafeBufferPointer<UInt8>, padded: Bool) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity((bytes.count + 2) / 3 * 4)
    var iterator = bytes.makeIterator()
    while let b0 = iterator.next() {
      let b1 = iterator.next()
      let b2 = b1 == nil ? nil : iterator.next()
      out.append(alphabet[Int(b0 >> 2)])
      out.append(alphabet[Int((b0 & 0x03) << 4 | (b1 ?? 0) >> 4)])
      if let b1 {
        out.append(alphabet[Int((b1 & 0x0F) << 2 | (b2 ?? 0) >> 6)])
      } else if padded {
        out.append(UInt8(ascii: "="))
      }
      if let b2 {
        out.append(alphabet[Int(b2 & 0x3F)])
      } else if padded {
        out.append(UInt8(ascii: "="))
      }
    }
    return out
  }

  /// Encodes bytes to a string.
  /// - Parameters:
  ///   - bytes: the data.
  ///   - padded: whether to append `=` to a multiple of four characters.
  /// - Returns: the encoding.
  @inlinable
  public static func encode<C: Collection>(_ bytes: C, padded: Bool) -> String where C.Element == UInt8 {
    String(decoding: encodeBytes(bytes, padded: padded), as: UTF8.self)
  }

  /// Decodes a canonical encoding, or returns nil.
  /// - Parameters:
  ///   - text: the encoded characters.
  ///   - padded: whether the input must be padded with `=` to a multiple of four (armor) or must carry no padding
  ///     at all (headers).
  /// - Returns: the bytes, or nil for a character outside the alphabet, a wrong length or padding, or non-zero
  ///   unused trailing bits.
  public static func decode<C: Collection>(_ text: C, padded: Bool) -> [UInt8]? where C.Element == UInt8 {
    if let result = text.withContiguousStorageIfAvailable({ decode(buffer: $0, padded: padded) }) { return result }
    return Array(text).withUnsafeBufferPointer { decode(buffer: $0, padded: padded) }
  }

  /// ``decode(_:padded:)`` for bytes in an array slice, without the generic dispatch (the vault parser's case).
  public static func decode(_ text: ArraySlice<UInt8>, padded: Bool) -> [UInt8]? {
    text.withUnsafeBufferPointer { decode(buffer: $0, padded: padded) }
  }

  /// How many bytes a canonical encoding decodes to, or nil when it is not one: the checks of ``decode(_:padded:)``
  /// without keeping the bytes (the vault parser validates fields it decodes only when asked).
  /// - Parameters:
  ///   - text: the encoded characters.
  ///   - padded: as for ``decode(_:padded:)``.
  /// - Returns: the decoded length, or nil.
  public static func decodedCount(_ text: ArraySlice<UInt8>, padded: Bool) -> Int? {
    text.withUnsafeBufferPointer { validatedCount(buffer: $0, padded: padded) }
  }

  /// The lengths of an encoding: characters without padding, the characters of a last partial block, whole blocks,
  /// and the decoded length; nil when the length or the padding cannot be canonical.
  private static func layout(_ buffer: UnsafeBufferPointer<UInt8>, padded: Bool) -> (remainder: Int, blocks: Int, outCount: Int)? {
    var count = buffer.count
    if padded {
      guard count % 4 == 0 else { return nil }
      var padding = 0
      while padding < 2, count > 0, buffer[count - 1] == UInt8(ascii: "=") {
        count -= 1
        padding += 1
      }
      // A padded encoding carries exactly the padding its length implies.
      if padding > 0, count % 4 != 4 - padding { return nil }
    }
    let remainder = count % 4
    guard remainder != 1 else { return nil }
    let blocks = count / 4
    return (remainder, blocks, blocks * 3 + (remainder == 0 ? 0 : remainder - 1))
  }

  /// ``decodedCount(_:padded:)`` without decoding: every character looked up, none written (a vault's read checks
  /// two fields of every version and decodes only the values it opens).
  static func validatedCount(buffer: UnsafeBufferPointer<UInt8>, padded: Bool) -> Int? {
    guard let (remainder, blocks, outCount) = layout(buffer, padded: padded) else { return nil }
    return decodeTable.withUnsafeBufferPointer { table -> Int? in
      var bad: UInt8 = 0
      for k in 0..<(blocks * 4) { bad |= table[Int(buffer[k])] }
      if remainder >= 2 {
        let i = blocks * 4
        let b = table[Int(buffer[i + 1])]
        let c = remainder == 3 ? table[Int(buffer[i + 2])] : 0
        bad |= table[Int(buffer[i])] | b | c
        // Canonical: the bits after the last whole byte must be zero.
        if (remainder == 2 && b & 0x0F != 0) || (remainder == 3 && c & 0x03 != 0) { bad |= 0x80 }
      }
      return bad & 0x80 == 0 ? outCount : nil
    }
  }

  /// Decodes into the start of a caller's buffer, grown as needed: for decoding many fields with one allocation.
  /// - Parameters:
  ///   - text: the encoded characters.
  ///   - padded: as for ``decode(_:padded:)``.
  ///   - out: the buffer; on success its first `n` bytes are the decoded bytes (the rest is left as it was).
  /// - Returns: `n`, or nil when the text is not canonical (`out`'s content is then unspecified).
  public static func decode(_ text: ArraySlice<UInt8>, padded: Bool, into out: inout [UInt8]) -> Int? {
    text.withUnsafeBufferPointer { buffer in
      withDecoded(buffer: buffer, padded: padded) { decoded -> Int in
        if out.count < decoded.count { out.append(contentsOf: repeatElement(0, count: decoded.count - out.count)) }
        if decoded.count > 0 {
          out.withUnsafeMutableBufferPointer { o in o.baseAddress!.update(from: decoded.baseAddress!, count: decoded.count) }
        }
        return decoded.count
      }
    }
  }

  /// The non-generic decoder behind ``decode(_:padded:)``: one pass, four characters at a time, no copies.
  static func decode(buffer: UnsafeBufferPointer<UInt8>, padded: Bool) -> [UInt8]? {
    withDecoded(buffer: buffer, padded: padded) { Array($0) }
  }

  /// Decodes into a temporary buffer on the stack and hands it to `body`; nil when the text is not canonical.
  static func withDecoded<R>(
    buffer: UnsafeBufferPointer<UInt8>, padded: Bool, _ body: (UnsafeBufferPointer<UInt8>) -> R
  ) -> R? {
    guard let (remainder, blocks, outCount) = layout(buffer, padded: padded) else { return nil }
    guard outCount > 0 else { return body(UnsafeBufferPointer(start: nil, count: 0)) }
    var valid = true
    // Decoded on the stack, then copied into an array: `Array(unsafeUninitializedCapacity:)` takes a generic,
    // unspecialized allocation path that costs more than the copy (docs/performance.md).
    let out = decodeTable.withUnsafeBufferPointer { table in
      withUnsafeTemporaryAllocation(of: UInt8.self, capacity: outCount) { out -> R? in
        // Every character outside the alphabet maps to 0xFF, so OR-ing the looked-up values and testing the high
        // bit once per block rejects them.
        var i = 0
        var j = 0
        var bad: UInt8 = 0
        for _ in 0..<blocks {
          let a = table[Int(buffer[i])]
          let b = table[Int(buffer[i + 1])]
          let c = table[Int(buffer[i + 2])]
          let d = table[Int(buffer[i + 3])]
          bad |= a | b | c | d
          let v = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
          out[j] = UInt8(truncatingIfNeeded: v >> 16)
          out[j + 1] = UInt8(truncatingIfNeeded: v >> 8)
          out[j + 2] = UInt8(truncatingIfNeeded: v)
          i += 4
          j += 3
        }
        if remainder >= 2 {
          let a = table[Int(buffer[i])]
          let b = table[Int(buffer[i + 1])]
          let c = remainder == 3 ? table[Int(buffer[i + 2])] : 0
          bad |= a | b | c
          let v = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6
          out[j] = UInt8(truncatingIfNeeded: v >> 16)
          if remainder == 3 { out[j + 1] = UInt8(truncatingIfNeeded: v >> 8) }
          // Canonical: the bits after the last whole byte must be zero.
          if (remainder == 2 && b & 0x0F != 0) || (remainder == 3 && c & 0x03 != 0) { bad |= 0x80 }
        }
        valid = bad & 0x80 == 0
        return valid ? body(UnsafeBufferPointer(out)) : nil
      }
    }
    return valid ? out : nil
  }

  /// Decodes a canonical unpadded encoding held in a string.
  /// - Parameter text: the encoded characters, without padding.
  /// - Returns: the bytes, or nil if the text is not canonical unpadded base64.
  public static func decode(_ text: some StringProtocol, padded: Bool) -> [UInt8]? {
    decode(Array(text.utf8), padded: padded)
  }

}
