import CofferDiscover
import Testing

@Suite struct ReferenceScannerTests {
  @Test func placeholder() {
    #expect(ReferenceScanner.scan(Array("os.getenv('A')".utf8), language: .python).map(\.name) == ["A"])
  }
}
