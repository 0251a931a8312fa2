import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Helpers that several test targets share: a child-process runner, a seeded generator, marked-up fixture text.

/// Runs programs for tests and collects what they print.
public enum ChildProcess {
  /// A finished child: its exit status (128 + N when signal N ended it) and everything it wrote.
  public struct Result: Sendable {
    public let status: Int32
    public let stdout: Data
    public let stderr: Data
  }

  /// Ignores SIGPIPE once per process: a child may exit without reading its stdin, which must not kill the tests.
  private static let ignoreSIGPIPE: Void = { signal(SIGPIPE, SIG_IGN) }()

  /// Runs a program to its end, with exactly the environment given, feeding `stdin` and reading stdout and stderr
  /// concurrently (so a chatty child cannot block).
  /// - Parameters:
  ///   - executable: the program's path.
  ///   - arguments: its arguments.
  ///   - cwd: the working directory.
  ///   - environment: the whole environment.
  ///   - stdin: bytes to write to its standard input, which is then closed.
  /// - Throws: when the program cannot be started.
  public static func run(
    _ executable: String, _ arguments: [String], cwd: URL, environment: [String: String], stdin: Data? = nil
  ) throws -> Result {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = arguments
    p.currentDirectoryURL = cwd
    p.environment = environment
    let out = Pipe()
    let err = Pipe()
    let input = Pipe()
    p.standardOutput = out
    p.standardError = err
    p.standardInput = input
    try p.run()
    ignoreSIGPIPE
    if let stdin { try? input.fileHandleForWriting.write(contentsOf: stdin) }
    try? input.fileHandleForWriting.close()
    nonisolated(unsafe) var errData = Data()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async {
      errData = err.fileHandleForReading.readDataToEndOfFile()
      group.leave()
    }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    p.waitUntilExit()
    let status = p.terminationReason == .uncaughtSignal ? 128 + p.terminationStatus : p.terminationStatus
    return Result(status: status, stdout: outData, stderr: errData)
  }
}

/// A deterministic generator for tests (SplitMix64), so randomized tests repeat exactly; never used for real values.
public struct SeededGenerator: RandomNumberGenerator {
  var state: UInt64
  public init(seed: UInt64) { state = seed }
  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

/// Text with position markers (1️⃣ … 9️⃣, 🔟): the text without them, and each marker's 1-based line and column
/// (in Unicode scalars) in that text.
public func markedText(_ marked: String) -> (text: String, markers: [String: (line: Int, column: Int)]) {
  let names = ["1️⃣", "2️⃣", "3️⃣", "4️⃣", "5️⃣", "6️⃣", "7️⃣", "8️⃣", "9️⃣", "🔟"]
  var text = ""
  var markers: [String: (line: Int, column: Int)] = [:]
  var line = 1
  var column = 1
  var rest = Substring(marked)
  outer: while !rest.isEmpty {
    for name in names where rest.hasPrefix(name) {
      markers[name] = (line, column)
      rest = rest.dropFirst(name.count)
      continue outer
    }
    let c = rest.removeFirst()
    text.append(c)
    if c.unicodeScalars.last == "\n" {
      line += 1
      column = 1
    } else {
      column += c.unicodeScalars.count
    }
  }
  return (text, markers)
}
