import CofferCore
import CofferScan
import Foundation
import Testing

/// Issue 11, kind 5: a known value percent-encoded by any common encoder (any subset of bytes escaped, either hex
/// case, `+` for a space) is found by scan and replaced whole by redaction, at any position and chunking.
@Suite struct PercentTests {
  /// Reserved and special characters from every encoder's safe set, a space and non-ASCII.
  static let value = "S3cr3t/p@ss:w0rd+x y&z=1?#$,;~'()!*é"

  /// The exact output of each encoder for ``value``. Python and JavaScript strings were produced by running
  /// `urllib.parse.quote` / `quote_plus` (Python 3.11) and `encodeURIComponent` / `encodeURI` (Node 20); Go's by
  /// its documented rules (`url.QueryEscape`: everything but `A-Za-z0-9-_.~` escaped, space as `+`;
  /// `url.PathEscape`: also keeps `$&+:=@`, escapes `/;,?`), upper-case hex, as Go writes it.
  static let encoderForms: [(encoder: String, text: String)] = [
    ("python quote", "S3cr3t/p%40ss%3Aw0rd%2Bx%20y%26z%3D1%3F%23%24%2C%3B~%27%28%29%21%2A%C3%A9"),
    ("python quote safe=''", "S3cr3t%2Fp%40ss%3Aw0rd%2Bx%20y%26z%3D1%3F%23%24%2C%3B~%27%28%29%21%2A%C3%A9"),
    ("python quote_plus", "S3cr3t%2Fp%40ss%3Aw0rd%2Bx+y%26z%3D1%3F%23%24%2C%3B~%27%28%29%21%2A%C3%A9"),
    ("js encodeURIComponent", "S3cr3t%2Fp%40ss%3Aw0rd%2Bx%20y%26z%3D1%3F%23%24%2C%3B~'()!*%C3%A9"),
    ("js encodeURI", "S3cr3t/p@ss:w0rd+x%20y&z=1?#$,;~'()!*%C3%A9"),
    ("go QueryEscape", "S3cr3t%2Fp%40ss%3Aw0rd%2Bx+y%26z%3D1%3F%23%24%2C%3B~%27%28%29%21%2A%C3%A9"),
    ("go PathEscape", "S3cr3t%2Fp@ss:w0rd+x%20y&z=1%3F%23$%2C%3B~%27%28%29%21%2A%C3%A9"),
  ]

  /// Each form as written, and with lower-case hex (`%2f`, as some encoders write it).
  static var allForms: [(label: String, text: String)] {
    encoderForms.flatMap { form in
      [(form.encoder, form.text), (form.encoder + " lower-case", lowerHex(form.text))]
    }
  }

  static func lowerHex(_ text: String) -> String {
    var out: [UInt8] = []
    var escape = 0
    for b in text.utf8 {
      if b == 0x25 {
        escape = 2
        out.append(b)
      } else if escape > 0 {
        escape -= 1
        out.append(b >= 0x41 && b <= 0x46 ? b + 0x20 : b)
      } else {
        out.append(b)
      }
    }
    return String(decoding: out, as: UTF8.self)
  }

  let scanner = Support.scanner([
    Support.known("DB_PASSWORD", PercentTests.value), Support.known("OTHER", "unrelated-Qx7Zm2Lp0Wd"),
  ])

  @Test(arguments: 0..<14) func everyEncoderFormAtStartMiddleAndEnd(index: Int) {
    let form = Self.allForms[index]
    // Start of a line, middle of a URL, end of a line (and of the input, with no newline).
    let text = "1️⃣\(form.text) first\nurl=https://u:2️⃣\(form.text)@db.example/x?y=1\nlast=3️⃣\(form.text)"
    let raw = form.text == Self.value
    assertFindings(
      text,
      ["1️⃣", "2️⃣", "3️⃣"].map { FindingSpec($0, secret: "DB_PASSWORD", encoding: raw ? .raw : .percent) },
      scanner: scanner)
    // The finding covers the whole encoded text.
    let found = scanner.scan(Array(text.replacingOccurrences(of: "1️⃣", with: "").utf8))
    #expect(found.first?.length == form.text.utf8.count, "\(form.label)")
  }

  /// Whatever subset of bytes is escaped, in whatever mixture of cases: found, and redacted whole.
  @Test func randomSubsetsAndCases() {
    var rng = PercentRNG(state: 0x5EC2E7)
    let values = [Self.value, "hunter2 with spaces+plus", "Zoë-Köln/東京🔑:p@ss", "AKIAFAKE0123456789AB"]
    let set = RedactionSet(values: values.enumerated().map { Support.known("V\($0.offset)", $0.element) })
    let scanner = Support.scanner(values.enumerated().map { Support.known("V\($0.offset)", $0.element) })
    for round in 0..<200 {
      let which = Int(rng.next() % UInt64(values.count))
      var encoded: [UInt8] = []
      for b in values[which].utf8 {
        let choice = rng.next() % 3
        if b == 0x20 && choice == 0 {
          encoded.append(0x2B)  // form encoding
        } else if choice == 1 && b < 0x80 && b != 0x25 {
          encoded.append(b)  // left alone
        } else {
          let hex = Array(String(b, radix: 16, uppercase: rng.next() % 2 == 0).utf8)
          encoded += [0x25] + (hex.count == 1 ? [0x30] : []) + hex
        }
      }
      let text = Array("x=".utf8) + encoded + Array("&y=2\n".utf8)
      let findings = scanner.scan(text)
      let exact = findings.count == 1 && findings.first?.secret == "V\(which)" && findings.first?.offset == 2
        && findings.first?.length == encoded.count
      #expect(exact, "round \(round): \(String(decoding: encoded, as: UTF8.self))")
      var redactor = Redactor(set)
      let out = redactor.redact(text) + redactor.finish()
      #expect(String(decoding: out, as: UTF8.self) == "x=[redacted:V\(which)]&y=2\n", "round \(round)")
    }
  }

  /// Split into chunks at every position: the scanner and the redactor give the same result as in one piece.
  @Test func acrossChunkBoundaries() {
    let form = Self.encoderForms[0].text  // python quote
    let text = "a \(Self.lowerHex(form)) b\n"
    let bytes = Array(text.utf8)
    let set = RedactionSet(values: [Support.known("DB_PASSWORD", Self.value)])
    let whole = scanner.scan(bytes)
    #expect(whole.count == 1 && whole.first?.offset == 2 && whole.first?.length == form.utf8.count)
    for i in 0...bytes.count {
      for j in stride(from: i, through: bytes.count, by: 7) {
        var stream = scanner.makeStream()
        for piece in [bytes[..<i], bytes[i..<j], bytes[j...]] { stream.feed(Array(piece)) }
        let found = stream.finish()
        #expect(found.map(\.offset) == [2] && found.map(\.length) == [form.utf8.count], "split \(i) \(j)")
        let chunks = [bytes[..<i], bytes[i..<j], bytes[j...]].map { String(decoding: $0, as: UTF8.self) }
        #expect(RedactorTests.run(set, chunks) == "a [redacted:DB_PASSWORD] b\n", "split \(i) \(j)")
      }
    }
  }

  /// A long value (past the 32-byte key) in a long stream: an encoded occurrence after many quiet chunks (which
  /// the scanner skips), split between two chunks, is still found.
  @Test func afterQuietChunksAndAcrossThem() {
    let long = "-----FAKE-----/MIIEvQIBADANBgkqhkiG9w0BAQEFAASC/+key=" + String(repeating: "Zq9", count: 30)
    let scanner = Support.scanner([Support.known("LONG", long)])
    let encoded = long.replacingOccurrences(of: "/", with: "%2f").replacingOccurrences(of: "+", with: "%2B")
      .replacingOccurrences(of: "=", with: "%3D")
    // 120 lines of 34 bytes: the value starts just before 4096, where the scanner's 4 KiB pieces meet.
    let filler = String(repeating: "quiet text with no escapes at all\n", count: 120)
    let text = filler + "v: " + encoded + "\n" + filler
    let bytes = Array(text.utf8)
    let start = filler.utf8.count + 3
    for split in [start - 5, start, start + 2, start + 40, start + encoded.utf8.count - 1] {
      for chunk in [16, 64, 1000, 1 << 20] {
        var stream = scanner.makeStream()
        var position = 0
        while position < bytes.count {
          let end = position < split && split < position + chunk ? split : min(position + chunk, bytes.count)
          stream.feed(Array(bytes[position..<end]))
          position = end
        }
        let found = stream.finish()
        #expect(found.map(\.offset) == [start] && found.map(\.length) == [encoded.utf8.count]
          && found.first?.encoding == .percent && found.first?.line == 121 && found.first?.column == 4,
          "split \(split), chunk \(chunk)")
      }
    }
    let set = RedactionSet(values: [Support.known("LONG", long)])
    #expect(RedactorTests.run(set, [text]) == filler + "v: [redacted:LONG]\n" + filler)
  }

  /// Not matches: another value, a broken escape, a different byte; and a value holding a literal `%`.
  @Test func nearMissesAndLiteralPercent() {
    let scanner = Support.scanner([Support.known("P", "50%off/now"), Support.known("Q", "abc/def/ghi")])
    #expect(scanner.scan(Array("abc%2Fdef%2Fgh".utf8)).isEmpty)  // cut short
    #expect(scanner.scan(Array("abc%2Gdef%2Fghi".utf8)).isEmpty)  // not hex
    #expect(scanner.scan(Array("abc%2Edef%2Fghi".utf8)).isEmpty)  // another byte
    #expect(scanner.scan(Array("abc%2def/ghi".utf8)).isEmpty)
    #expect(scanner.scan(Array("abc%2F".utf8) + Array("def%2fghi%".utf8)).map(\.secret) == ["Q"])
    #expect(scanner.scan(Array("50%25off%2Fnow".utf8)).map(\.encoding) == [.percent])
    #expect(scanner.scan(Array("50%off/now".utf8)).map(\.encoding) == [.raw])
    let set = RedactionSet(values: [Support.known("Q", "abc/def/ghi")])
    #expect(RedactorTests.run(set, ["abc%2", "Fdef/ghi%"]) == "[redacted:Q]%")
    #expect(RedactorTests.run(set, ["abc%2", "Fdef/gh"]) == "abc%2Fdef/gh")
  }
}

/// SplitMix64, so a failing round reproduces from the seed.
struct PercentRNG {
  var state: UInt64
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
