import CofferSystem
import Foundation
import Testing

extension InProcessTests {
  /// ``Heap`` in a process that links the library and never opts in, as a backend does: asked to prepare, it advises
  /// no mapping. (What it would do to the allocator's thresholds cannot be read back; the `coffer` executable opts
  /// in, and LargeVaultTests in CofferCLITests sees the advice in a running `export`.)
  @Suite struct HeapTests {
    /// How many of this process's mappings carry the huge-page advice (`hg` in `VmFlags`, proc(5)).
    static func advisedMappings() throws -> Int {
      // Read to the end: `String(contentsOfFile:)` stops after the first read of a /proc file.
      let data = try #require(FileHandle(forReadingAtPath: "/proc/self/smaps")).readDataToEndOfFile()
      let smaps = String(decoding: data, as: UTF8.self)
      #expect(smaps.contains("[stack]"))
      return smaps.split(separator: "\n").filter { $0.hasPrefix("VmFlags:") && $0.split(separator: " ").contains("hg") }.count
    }

    @Test func aProcessThatDoesNotOptInKeepsItsAllocator() throws {
      let before = try Self.advisedMappings()
      Heap.prepare(forBytes: 6 << 20)
      Heap.prepare(forBytes: 20 << 20)
      #expect(try Self.advisedMappings() == before)
    }
  }
}
