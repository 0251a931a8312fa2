import CofferCore
import CofferScan
import Testing

/// A value that straddles a read-buffer boundary is found (and redacted) exactly as if it came in one piece, at
/// every split position around 4 KiB, 64 KiB and 1 MiB.
@Suite struct BoundaryTests {
  static let value = "ghp_Qm3xZ81kLp0Wd7RtYv5NbC2aHs9EfUj4Ko6"
  static let forms: [(String, Encoding)] = [
    (value, .raw),
    (Support.base64(value), .base64),
    (value.utf8.map { String($0, radix: 16) }.joined(), .hex),
  ]
  static let filler = Array(String(repeating: "lorem ipsum dolor sit amet\n", count: 1_048_576 / 27 + 20).utf8)

  static func text(formBytes: [UInt8], at start: Int) -> [UInt8] {
    var text = Array(filler[0..<start])
    text += formBytes
    text += filler[start..<(start + 100)]
    return text
  }

  static func feed(_ text: [UInt8], cuts: [Int], into stream: inout ScanStream) {
    var from = 0
    for cut in cuts + [text.count] {
      text.withUnsafeBytes { stream.feed(UnsafeRawBufferPointer(rebasing: $0[from..<cut])) }
      from = cut
    }
  }

  @Test(arguments: [4096, 65_536, 1_048_576])
  func scanFindsValuesAtEverySplitPosition(boundary: Int) {
    let scanner = Support.scanner([Support.known("GITHUB_TOKEN", Self.value)])
    for (form, encoding) in Self.forms {
      let bytes = Array(form.utf8)
      // k bytes of the form before the boundary: from none (just after) to all (just before), and one beyond each.
      for k in -1...(bytes.count + 1) {
        let start = boundary - k
        let text = Self.text(formBytes: bytes, at: start)
        var cutsList = [[boundary]]
        if boundary == 4096 { cutsList.append([boundary - 3, boundary + 2]) }  // a chunk smaller than the pattern
        for cuts in cutsList {
          var stream = scanner.makeStream()
          Self.feed(text, cuts: cuts, into: &stream)
          let findings = stream.finish()
          let lineStart = (text[..<start].lastIndex(of: 0x0A) ?? -1) + 1
          let line = text[..<start].reduce(1) { $0 + ($1 == 0x0A ? 1 : 0) }
          #expect(findings.count == 1, "k=\(k) \(encoding)")
          #expect(findings.first?.offset == start, "k=\(k) \(encoding)")
          #expect(findings.first?.length == bytes.count)
          #expect(findings.first?.line == line, "k=\(k) \(encoding)")
          #expect(findings.first?.column == start - lineStart + 1, "k=\(k) \(encoding)")
          #expect(findings.first?.encoding == encoding)
        }
      }
    }
  }

  @Test(arguments: [4096, 65_536, 1_048_576])
  func redactorReplacesValuesAtEverySplitPosition(boundary: Int) {
    let set = RedactionSet(values: [Support.known("GITHUB_TOKEN", Self.value)])
    for (form, _) in Self.forms {
      let bytes = Array(form.utf8)
      for k in -1...(bytes.count + 1) {
        let start = boundary - k
        let text = Self.text(formBytes: bytes, at: start)
        var redactor = Redactor(set)
        var out: [UInt8] = []
        text.withUnsafeBytes { all in
          out += redactor.redact(UnsafeRawBufferPointer(rebasing: all[0..<boundary]))
          out += redactor.redact(UnsafeRawBufferPointer(rebasing: all[boundary...]))
        }
        out += redactor.finish()
        let expected = Array(Self.filler[0..<start]) + Array("[redacted:GITHUB_TOKEN]".utf8) + Array(Self.filler[start..<(start + 100)])
        #expect(out == expected, "k=\(k)")
      }
    }
  }
}
