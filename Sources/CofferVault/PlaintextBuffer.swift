import CSodium

/// Byte arrays that hold decrypted values: grown without leaving a copy of their contents in freed memory, and zeroed
/// when done with (libsodium's `sodium_memzero`, which the compiler cannot drop as a dead store).
///
/// An `[UInt8]` that outgrows its storage copies its contents into new storage and frees the old one as it is; for a
/// buffer of plaintext that would leave the values in the heap for the next allocation to find. These functions
/// allocate the larger storage themselves, copy, and zero the old storage before it is released. The buffer must be
/// uniquely referenced (a local or a stored property no one else holds), or the zeroing would copy instead.
enum PlaintextBuffer {
  /// Makes `buffer` at least `count` bytes long (new bytes are 0), keeping its contents.
  /// - Parameters:
  ///   - buffer: the buffer.
  ///   - count: the length wanted, in bytes.
  static func ensureCount(_ buffer: inout [UInt8], _ count: Int) {
    guard buffer.count < count else { return }
    if buffer.capacity < count { grow(&buffer, capacity: max(count, 2 * buffer.capacity)) }
    buffer.append(contentsOf: repeatElement(0, count: count - buffer.count))
  }

  /// Appends `bytes` to `buffer`, growing it as ``ensureCount(_:_:)`` does.
  /// - Parameters:
  ///   - bytes: the bytes to append.
  ///   - buffer: the buffer.
  static func append(_ bytes: UnsafeBufferPointer<UInt8>, to buffer: inout [UInt8]) {
    if buffer.count + bytes.count > buffer.capacity {
      grow(&buffer, capacity: max(buffer.count + bytes.count, 2 * buffer.capacity))
    }
    buffer.append(contentsOf: bytes)
  }

  /// Moves `buffer`'s contents into new storage of at least `capacity` bytes and zeroes the old storage.
  private static func grow(_ buffer: inout [UInt8], capacity: Int) {
    var grown: [UInt8] = []
    grown.reserveCapacity(capacity)
    buffer.withUnsafeBufferPointer { grown.append(contentsOf: $0) }
    zero(&buffer)
    buffer = grown
  }

  /// Overwrites every byte of `buffer` with 0 (its length stays).
  static func zero(_ buffer: inout [UInt8]) {
    buffer.withUnsafeMutableBytes { b in
      if let base = b.baseAddress { sodium_memzero(base, b.count) }
    }
  }
}
