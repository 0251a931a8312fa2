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
