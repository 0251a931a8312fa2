import Crypto

/// The age payload: a 16-byte nonce, then STREAM (ChaCha20-Poly1305 in 64 KiB chunks with a big-endian chunk
/// counter and a last-chunk flag) under a key HKDF-derived from the file key and the nonce.
enum AgeStream {
  static let chunkSize = 64 * 1024
  static let tagSize = 16
  static let nonceSize = 16

  static func payloadKey(fileKey: [UInt8], nonce: ArraySlice<UInt8>) -> SymmetricKey {
    AgeCrypto.hkdf(fileKey, salt: Array(nonce), info: "payload")
  }

  static func chunkNonce(_ counter: UInt64, last: Bool) -> [UInt8] {
    var nonce = [UInt8](repeating: 0, count: 12)
    for i in 0..<8 { nonce[10 - i] = UInt8(truncatingIfNeeded: counter >> UInt64(8 * i)) }
    nonce[11] = last ? 1 : 0
    return nonce
  }

  /// Encrypts a payload; returns the nonce followed by the sealed chunks.
  static func seal(_ plaintext: [UInt8], fileKey: [UInt8]) -> [UInt8]? {
    let nonce = AgeCrypto.randomBytes(nonceSize)
    let key = payloadKey(fileKey: fileKey, nonce: nonce[...])
    var out = nonce
    let chunkCount = max(1, (plaintext.count + chunkSize - 1) / chunkSize)
    out.reserveCapacity(nonceSize + plaintext.count + chunkCount * tagSize)
    for index in 0..<chunkCount {
      let start = index * chunkSize
      let end = min(start + chunkSize, plaintext.count)
      guard
        let sealed = AgeCrypto.seal(
          plaintext[start..<end], key: key, nonce: chunkNonce(UInt64(index), last: index == chunkCount - 1))
      else { return nil }
      out += sealed
    }
    return out
  }

  /// Decrypts the payload starting at `offset` (its nonce), handing each authenticated chunk to `release`.
  ///
  /// A chunk is released once it authenticates, so on failure `release` has seen a prefix of the plaintext; the
  /// caller decides whether to keep it. A full-size chunk is first tried as a non-final chunk, then as the final
  /// one, matching the reference implementation.
  static func open(
    _ file: [UInt8], from offset: Int, fileKey: [UInt8], release: (ArraySlice<UInt8>) -> Void
  ) throws(AgeError) {
    guard file.count - offset >= nonceSize else {
      throw AgeError.header("the payload nonce is missing or shorter than 16 bytes")
    }
    let key = payloadKey(fileKey: fileKey, nonce: file[offset..<(offset + nonceSize)])
    var position = offset + nonceSize
    let sealedChunkSize = chunkSize + tagSize
    var counter: UInt64 = 0
    guard position < file.count else { throw AgeError.payload("the payload has no chunks") }
    while true {
      let remaining = file.count - position
      guard remaining > 0 else {
        throw AgeError.payload("the payload ends without a final chunk (truncated file)")
      }
      if remaining >= sealedChunkSize {
        let chunk = file[position..<(position + sealedChunkSize)]
        position += sealedChunkSize
        if let plaintext = AgeCrypto.open(chunk, key: key, nonce: chunkNonce(counter, last: false)) {
          release(plaintext[...])
          counter += 1
          continue
        }
        guard let plaintext = AgeCrypto.open(chunk, key: key, nonce: chunkNonce(counter, last: true)) else {
          throw AgeError.payload("payload chunk \(counter) failed to authenticate")
        }
        release(plaintext[...])
        guard position == file.count else { throw AgeError.payload("data trails the final payload chunk") }
        return
      }
      guard remaining >= tagSize,
        let plaintext = AgeCrypto.open(file[position...], key: key, nonce: chunkNonce(counter, last: true))
      else {
        throw AgeError.payload("payload chunk \(counter) failed to authenticate (or the file is truncated)")
      }
      guard !plaintext.isEmpty || counter == 0 else {
        throw AgeError.payload("the final payload chunk is empty")
      }
      release(plaintext[...])
      return
    }
  }
}
