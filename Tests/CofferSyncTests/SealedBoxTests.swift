import CofferTesting
import CofferCore
import CofferSync
import Foundation
import Testing

@Suite struct SealedBoxTests {
  @Test func roundTripAndLength() throws {
    let (pk, sk) = SealedBox.makeKeyPair()
    for plaintext in [[UInt8](), Array("hello".utf8), [UInt8](repeating: 0xFF, count: 49_152)] {
      let box = try SealedBox.seal(plaintext, to: pk)
      #expect(box.count == plaintext.count + 48)
      #expect(try SealedBox.open(box, publicKey: pk, secretKey: sk) == plaintext)
    }
    // Randomized: sealing twice differs.
    #expect(try SealedBox.seal([1, 2, 3], to: pk) != SealedBox.seal([1, 2, 3], to: pk))
  }

  @Test func rejectsBadKeysAndTampering() throws {
    let (pk, sk) = SealedBox.makeKeyPair()
    #expect(throws: SyncError.self) { try SealedBox.seal([1], to: [0, 1, 2]) }
    var box = try SealedBox.seal(Array("value".utf8), to: pk)
    box[box.count - 1] ^= 1
    #expect(throws: SyncError.self) { try SealedBox.open(box, publicKey: pk, secretKey: sk) }
    #expect(throws: SyncError.self) { try SealedBox.open([1, 2], publicKey: pk, secretKey: sk) }
  }

  /// Runs python3 with PyNaCl; the script reads its inputs (keys, boxes) on stdin, never argv.
  func python(_ script: String, stdin: String) throws -> String {
    let r = try ChildProcess.run(
      "/usr/bin/env", ["python3", "-c", script], cwd: URL(fileURLWithPath: "/"),
      environment: ProcessInfo.processInfo.environment, stdin: Data(stdin.utf8))
    #expect(r.status == 0, "python3 failed (is PyNaCl installed? scripts/deps.sh): \(String(decoding: r.stderr, as: UTF8.self))")
    return String(decoding: r.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
  }

  static let values: [[UInt8]] = [
    [], Array("sk-proj-abc123".utf8), Array("line1\nline2\r\n \"quoted\" 'single' $HOME ${X} `tick`".utf8),
    Array("Grüße, 世界 🔐".utf8), [0, 1, 2, 0xFF, 0xFE], [UInt8](repeating: 0x41, count: 49_152),
  ]

  @Test func coffersBoxesOpenWithPyNaCl() throws {
    let (pk, sk) = SealedBox.makeKeyPair()
    var lines = [Base64.encode(pk, padded: true), Base64.encode(sk, padded: true)]
    for value in Self.values { lines.append(Base64.encode(try SealedBox.seal(value, to: pk), padded: true)) }
    let script = """
      import sys, base64
      from nacl.public import PrivateKey, SealedBox
      lines = sys.stdin.read().split()
      sk = PrivateKey(base64.b64decode(lines[1]))
      box = SealedBox(sk)
      for line in lines[2:]:
          print(base64.b64encode(box.decrypt(base64.b64decode(line))).decode() or "-")
      """
    let opened = try python(script, stdin: lines.joined(separator: "\n") + "\n").split(separator: "\n").map(String.init)
    #expect(opened == Self.values.map { $0.isEmpty ? "-" : Base64.encode($0, padded: true) })
  }

  @Test func pyNaClBoxesOpenWithCoffer() throws {
    let (pk, sk) = SealedBox.makeKeyPair()
    let script = """
      import sys, base64
      from nacl.public import PublicKey, SealedBox
      lines = sys.stdin.read().split()
      box = SealedBox(PublicKey(base64.b64decode(lines[0])))
      for line in lines[1:]:
          value = b"" if line == "-" else base64.b64decode(line)
          print(base64.b64encode(box.encrypt(value)).decode())
      """
    let input = ([Base64.encode(pk, padded: true)] + Self.values.map { $0.isEmpty ? "-" : Base64.encode($0, padded: true) }).joined(separator: "\n")
    let boxes = try python(script, stdin: input + "\n").split(separator: "\n").map(String.init)
    #expect(boxes.count == Self.values.count)
    for (box, value) in zip(boxes, Self.values) {
      let bytes = try #require(Base64.decode(box, padded: true))
      #expect(bytes.count == value.count + 48)
      #expect(try SealedBox.open(bytes, publicKey: pk, secretKey: sk) == value)
    }
  }
}
