import CofferCore
import CofferDotEnv
import Testing

/// Large files parse in linear time (no timing assertion: the machine is shared).
@Suite("dotenv scale")
struct ScaleTests {
  @Test func tenThousandLines() throws {
    var text = ""
    for index in 0..<10_000 {
      switch index % 5 {
      case 0: text += "# comment \(index)\n"
      case 1: text += "K\(index)=plain-\(index)\n"
      case 2: text += "export K\(index)='quoted \(index)'\n"
      case 3: text += "K\(index)=\"x${K\(index - 2)}\\n\"\n"
      default: text += "K\(index)=a # c\r\n"
      }
    }
    let bytes = Array(text.utf8)
    let clock = ContinuousClock()
    var result: DotEnvParseResult?
    let elapsed = try clock.measure { result = try DotEnvParser.parse(bytes, file: "big.env") }
    let document = try #require(result).document
    #expect(document.names.count == 8_000)
    #expect(document.value(of: "K3") == SecretValue("xplain-1\n"))
    #expect(DotEnvSerializer.serialize(document) == bytes)
    print("parsed 10,000 lines in \(elapsed)")
  }
}

/// Hostile files end in an error naming the line, not in a crash or unbounded memory.
@Suite("dotenv bounds")
struct BoundsTests {
  func failure(_ text: String) -> String? {
    do {
      _ = try DotEnvParser.parse(Array(text.utf8), file: "x.env")
      return nil
    } catch {
      return error.description
    }
  }

  func nested(_ depth: Int) -> String {
    "A=" + String(repeating: "${X:-", count: depth) + "d" + String(repeating: "}", count: depth) + "\n"
  }

  @Test func defaultsNestUpToSixtyFourDeep() throws {
    let document = try DotEnvParser.parse(Array(nested(64).utf8), file: "x.env").document
    #expect(document.value(of: "A") == SecretValue("d"))
    #expect(failure(nested(65)) == "x.env:1: ${...} nested more than 64 deep in the value of A")
    // Far deeper than any stack allows for unbounded recursion; double quotes take the same path.
    #expect(failure(nested(100_000)) == "x.env:1: ${...} nested more than 64 deep in the value of A")
    let quoted = "B=1\nA=\"" + String(repeating: "${X:-", count: 5_000) + "d" + String(repeating: "}", count: 5_000) + "\"\n"
    #expect(failure(quoted) == "x.env:2: ${...} nested more than 64 deep in the value of A")
  }

  @Test func referencesRepeatedWithinReferencesStopAtTheLimit() throws {
    // Each line repeats the one before 100 times: 1 kB, 100 kB, 10 MB, then 1 GB at line 4.
    var text = "A0=" + String(repeating: "x", count: 1_000) + "\n"
    for level in 1...7 {
      text += "A\(level)=\"" + String(repeating: "${A\(level - 1)}", count: 100) + "\"\n"
    }
    #expect(failure(text) == "x.env:4: references expand to more than 64 MiB in this file (at the value of A3)")
    // The budget is the file's: many lines that each stay small still add up.
    let wide = "A=" + String(repeating: "y", count: 1 << 20) + "\n" + (0..<70).map { "B\($0)=$A\n" }.joined()
    #expect(failure(wide) == "x.env:66: references expand to more than 64 MiB in this file (at the value of B64)")
    let fine = "A=" + String(repeating: "y", count: 1 << 20) + "\n" + (0..<64).map { "B\($0)=$A\n" }.joined()
    #expect(failure(fine) == nil)
  }
}

