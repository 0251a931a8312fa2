import CofferCore
import CofferDotEnv
import Foundation
import Testing

/// Shared helpers for the CofferDotEnv tests.
enum Support {
  /// Parses text (as UTF-8) with the file name `test.env`.
  static func parse(_ text: String) throws(DotEnvError) -> DotEnvParseResult {
    try DotEnvParser.parse(Array(text.utf8), file: "test.env")
  }

  /// Parses bytes with the file name `test.env`.
  static func parse(bytes: [UInt8]) throws(DotEnvError) -> DotEnvParseResult {
    try DotEnvParser.parse(bytes, file: "test.env")
  }

  /// The final values as name → bytes (byte comparison: Swift `String ==` treats NFC and NFD as equal).
  static func bytesByName(_ document: DotEnvDocument) -> [String: [UInt8]] {
    var out: [String: [UInt8]] = [:]
    for (name, value) in document.values { out[name] = value.reveal() }
    return out
  }

  /// `["A": "1"]` → `["A": bytes("1")]`.
  static func utf8(_ vars: [String: String]) -> [String: [UInt8]] {
    vars.mapValues { Array($0.utf8) }
  }

  /// The error thrown by parsing `text`, or `nil` if it parsed.
  static func parseError(_ text: String) -> DotEnvError? { parseError(bytes: Array(text.utf8)) }

  /// The error thrown by parsing `bytes`, or `nil` if it parsed.
  static func parseError(bytes: [UInt8]) -> DotEnvError? {
    do {
      _ = try DotEnvParser.parse(bytes, file: "test.env")
      return nil
    } catch {
      return error
    }
  }

  /// Decodes lowercase or uppercase hex.
  static func hex(_ text: String) -> [UInt8] {
    var out: [UInt8] = []
    var iterator = text.utf8.makeIterator()
    func nibble(_ c: UInt8) -> UInt8 {
      switch c {
      case 0x30...0x39: c - 0x30
      case 0x61...0x66: c - 0x61 + 10
      case 0x41...0x46: c - 0x41 + 10
      default: 0
      }
    }
    while let high = iterator.next(), let low = iterator.next() {
      out.append(nibble(high) << 4 | nibble(low))
    }
    return out
  }

  /// The package root (the directory holding Package.swift), from this source file's path.
  static var packageRoot: URL {
    URL(fileURLWithPath: #filePath)  // …/Tests/CofferDotEnvTests/Support.swift
      .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
  }

  /// Runs a program and returns its exit status and standard output.
  static func run(_ arguments: [String], stdin: [UInt8]? = nil) throws -> (status: Int32, output: [UInt8]) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    process.environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "LC_ALL": "C.UTF-8"]
    let out = Pipe()
    process.standardOutput = out
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, Array(data))
  }

  /// Writes bytes to a fresh temporary file and returns its path.
  static func temporaryFile(_ bytes: [UInt8]) throws -> String {
    let path = NSTemporaryDirectory() + "coffer-dotenv-\(UUID().uuidString).env"
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return path
  }
}

/// SplitMix64: a tiny deterministic PRNG so property-test failures reproduce from the seed.
struct SplitMix64: RandomNumberGenerator {
  private var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
