import CofferTesting
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

/// Runs a program and returns its status, stdout and stderr.
@discardableResult
func runProcess(_ executable: String, _ arguments: [String], cwd: String, stdin: String? = nil, env: [String: String] = [:]) throws -> (status: Int32, out: String, err: String) {
  let r = try ChildProcess.run(
    executable, arguments, cwd: URL(fileURLWithPath: cwd), environment: env, stdin: stdin.map { Data($0.utf8) })
  return (r.status, String(decoding: r.stdout, as: UTF8.self), String(decoding: r.stderr, as: UTF8.self))
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
