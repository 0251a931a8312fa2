#if os(Linux)
  import CGlibc
#endif

/// Whether bytes contain a byte string: the one substring search over UTF-8 in Coffer, for hot paths where
/// `String.contains(_:)` (which compares `Character`s) costs too much.
package enum ByteSearch {
  /// Whether `needle` occurs in `haystack`.
  /// - Parameters:
  ///   - haystack: the bytes searched.
  ///   - needle: the bytes looked for; an empty needle is found everywhere.
  package static func contains(_ haystack: UnsafeBufferPointer<UInt8>, _ needle: UnsafeBufferPointer<UInt8>) -> Bool {
    guard let needleStart = needle.baseAddress, !needle.isEmpty else { return true }
    guard let haystackStart = haystack.baseAddress, haystack.count >= needle.count else { return false }
    #if os(Linux)
      // glibc's memmem. On YAML, whose common letters start many false candidates, a first-byte scan was about 1.2 %
      // of `run` at 10,000 secrets (docs/performance.md, "Issue 16, fifth pass" and "sixth pass").
      return memmem(haystackStart, haystack.count, needleStart, needle.count) != nil
    #else
      let first = needleStart.pointee
      var i = 0
      while i <= haystack.count - needle.count {
        if haystackStart[i] == first, haystack[i..<(i + needle.count)].elementsEqual(needle) { return true }
        i += 1
      }
      return false
    #endif
  }

  /// Whether `needle`'s UTF-8 occurs in `haystack`.
  package static func contains(_ haystack: [UInt8], _ needle: StaticString) -> Bool {
    haystack.withUnsafeBufferPointer { contains($0, needle) }
  }

  /// Whether `needle`'s UTF-8 occurs in `haystack`.
  package static func contains(_ haystack: UnsafeBufferPointer<UInt8>, _ needle: StaticString) -> Bool {
    contains(haystack, bytes(needle))
  }

  /// Whether `haystack` starts with `prefix`'s UTF-8.
  package static func hasPrefix(_ haystack: UnsafeBufferPointer<UInt8>, _ prefix: StaticString) -> Bool {
    haystack.count >= prefix.utf8CodeUnitCount && haystack.starts(with: bytes(prefix))
  }

  /// Whether `haystack` ends with `suffix`'s UTF-8.
  package static func hasSuffix(_ haystack: UnsafeBufferPointer<UInt8>, _ suffix: StaticString) -> Bool {
    let n = suffix.utf8CodeUnitCount
    return haystack.count >= n && haystack[(haystack.count - n)...].elementsEqual(bytes(suffix))
  }

  private static func bytes(_ s: StaticString) -> UnsafeBufferPointer<UInt8> {
    UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount)
  }
}
