import CofferTesting
import Testing

@testable import CofferVault

/// `PlaintextBuffer` keeps a buffer's contents across growth and zeroes on request. (That the storage it gives up is
/// zeroed first is what its code does; freed memory cannot be read back from a test.)
@Suite struct PlaintextBufferTests {
  @Test func appendingKeepsEveryByteAcrossGrowth() {
    var random = SeededGenerator(seed: 3)
    var buffer: [UInt8] = []
    var expected: [UInt8] = []
    for _ in 0..<300 {
      let piece = (0..<Int.random(in: 0...700, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
      piece.withUnsafeBufferPointer { PlaintextBuffer.append($0, to: &buffer) }
      expected += piece
      #expect(buffer.count == expected.count)
    }
    #expect(buffer == expected)
  }

  @Test func ensureCountKeepsTheContentsAndAddsZeros() {
    var buffer: [UInt8] = [1, 2, 3]
    PlaintextBuffer.ensureCount(&buffer, 2)
    #expect(buffer == [1, 2, 3])
    PlaintextBuffer.ensureCount(&buffer, 5_000)
    #expect(buffer.count == 5_000)
    #expect(Array(buffer[..<3]) == [1, 2, 3])
    #expect(buffer[3...].allSatisfy { $0 == 0 })
    buffer.withUnsafeMutableBufferPointer { $0[4_999] = 9 }
    PlaintextBuffer.ensureCount(&buffer, 5_001)
    #expect(buffer[4_999] == 9 && buffer[5_000] == 0)
  }

  @Test func zeroOverwritesEveryByte() {
    var buffer = [UInt8](repeating: 0xA5, count: 1_000)
    PlaintextBuffer.zero(&buffer)
    #expect(buffer == [UInt8](repeating: 0, count: 1_000))
  }
}
