import Foundation
import Testing

/// A temporary directory removed when the value is released.
final class TempDir: @unchecked Sendable {  // used by one test at a time
  let url: URL
  var path: String { url.path }

  init() throws {
    url = FileManager.default.temporaryDirectory.appendingPathComponent("coffer-discover-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  }

  deinit { try? FileManager.default.removeItem(at: url) }

  func write(_ relative: String, _ text: String) throws { try write(relative, Data(text.utf8)) }

  func write(_ relative: String, _ data: Data) throws {
    let target = url.appendingPathComponent(relative)
    try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
    try data.write(to: target)
  }

  func mkdir(_ relative: String) throws {
    try FileManager.default.createDirectory(at: url.appendingPathComponent(relative), withIntermediateDirectories: true)
  }

  func symlink(_ relative: String, to destination: String) throws {
    try FileManager.default.createSymbolicLink(atPath: url.appendingPathComponent(relative).path, withDestinationPath: destination)
  }
}

/// Runs a program and returns its status and stdout.
@discardableResult
func runProcess(_ executable: String, _ arguments: [String], cwd: String, stdin: String? = nil, env: [String: String] = [:]) throws -> (status: Int32, out: String, err: String) {
  let p = Process()
  p.executableURL = URL(fileURLWithPath: executable)
  p.arguments = arguments
  p.currentDirectoryURL = URL(fileURLWithPath: cwd)
  p.environment = env
  let out = Pipe()
  let err = Pipe()
  let input = Pipe()
  p.standardOutput = out
  p.standardError = err
  p.standardInput = input
  try p.run()
  signal(SIGPIPE, SIG_IGN)  // a child that exits without reading stdin must not kill the test process
  if let stdin { try? input.fileHandleForWriting.write(contentsOf: Data(stdin.utf8)) }
  try input.fileHandleForWriting.close()
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
  return (p.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
}

/// git with no user or system configuration (no global excludes file), in a given directory.
func git(_ arguments: [String], in dir: TempDir, stdin: String? = nil) throws -> String {
  let env = [
    "HOME": dir.path + "/.home", "XDG_CONFIG_HOME": dir.path + "/.home", "GIT_CONFIG_NOSYSTEM": "1",
    "PATH": "/usr/bin:/bin", "LANG": "C",
  ]
  let result = try runProcess("/usr/bin/git", arguments, cwd: dir.path, stdin: stdin, env: env)
  return result.out
}

/// A small deterministic generator (SplitMix64) so randomized tests repeat exactly.
struct SeededGenerator: RandomNumberGenerator {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

/// Text with position markers (1️⃣ … 9️⃣): the text without them, and each marker's 1-based line and column
/// (in Unicode scalars) in that text.
func markedText(_ marked: String) -> (text: String, markers: [String: (line: Int, column: Int)]) {
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
