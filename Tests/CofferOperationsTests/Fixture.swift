import CofferTesting
import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// Every suite that calls the library in-process, one test at a time: they share the process environment (the
/// identity, `COFFER_ENV`, `COFFER_TRUST`) and the working directory.
@Suite(.serialized) struct InProcessTests {}

/// A scratch project for tests that call the library in-process: the project is set up (and changed) with the built
/// `coffer` binary, as a user would, and read back through the library.
///
/// The library reads the identity, the audit log's and the trust memory's places from the process environment, as
/// the CLI does. ``Fixture/processHome`` sets those variables once per test process, to one scratch directory and
/// one identity that every fixture shares; suites that use it are `.serialized`.
final class Fixture: @unchecked Sendable {  // used from one test at a time
  let dir: URL

  /// The package root (this file is Tests/CofferOperationsTests/Fixture.swift).
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

  static var binary: String {
    ProcessInfo.processInfo.environment["COFFER_BIN"] ?? root.appendingPathComponent(".build/debug/coffer").path
  }

  /// This process's home for Coffer: identity, audit log, trust memory. Set up on first use.
  static let processHome: URL = {
    let home = FileManager.default.temporaryDirectory.appendingPathComponent("coffer-ops-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
    let identity = home.appendingPathComponent("identity.txt").path
    let keygen = try? ChildProcess.run(
      binary, ["keygen", "-o", identity], cwd: home,
      environment: ["PATH": "/usr/bin:/bin", "HOME": home.path, "XDG_STATE_HOME": home.appendingPathComponent("state").path])
    precondition(keygen?.status == 0, "keygen failed")
    setenv("COFFER_IDENTITY_FILE", identity, 1)
    setenv("XDG_STATE_HOME", home.appendingPathComponent("state").path, 1)
    for name in ["COFFER_IDENTITY", "COFFER_ENV", "COFFER_TRUST", "COFFER_AUDIT_LOG", "COFFER_NOW"] { unsetenv(name) }
    return home
  }()

  init(manifest: String) throws {
    _ = Fixture.processHome
    dir = FileManager.default.temporaryDirectory.appendingPathComponent("coffer-ops-project-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    try write("coffer.yaml", manifest)
  }

  deinit { try? FileManager.default.removeItem(at: dir) }

  var path: String { dir.path }

  /// The shared identity's public recipient.
  static var recipient: String {
    let text = (try? String(contentsOfFile: processHome.appendingPathComponent("identity.txt").path, encoding: .utf8)) ?? ""
    return text.split(separator: "\n").first { $0.hasPrefix("# public key: ") }.map { String($0.dropFirst(14)) } ?? ""
  }

  func write(_ name: String, _ text: String) throws {
    let url = dir.appendingPathComponent(name)
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Data(text.utf8).write(to: url)
  }

  func read(_ name: String) throws -> Data { try Data(contentsOf: dir.appendingPathComponent(name)) }

  /// Runs `coffer ARGS` in the project, as this process's identity (or `identityFile`).
  @discardableResult
  func coffer(_ args: [String], stdin: String? = nil, identityFile: String? = nil, env: [String: String] = [:]) throws
    -> (status: Int32, out: String, err: String)
  {
    var environment = [
      "PATH": "/usr/bin:/bin", "HOME": Fixture.processHome.path, "USER": "tester", "LANG": "C",
      "XDG_STATE_HOME": Fixture.processHome.appendingPathComponent("state").path,
      "COFFER_IDENTITY_FILE": identityFile ?? Fixture.processHome.appendingPathComponent("identity.txt").path,
      "COFFER_TRUST_V1": "acknowledged",
    ]
    environment.merge(env) { $1 }
    let r = try ChildProcess.run(Fixture.binary, args, cwd: dir, environment: environment, stdin: stdin.map { Data($0.utf8) })
    return (r.status, String(decoding: r.stdout, as: UTF8.self), String(decoding: r.stderr, as: UTF8.self))
  }

  /// `coffer set NAME --env ENV` with the value on stdin; fails the test when it fails.
  func set(_ name: String, _ value: String, env: String = "development", identityFile: String? = nil) throws {
    let r = try coffer(["set", name, "--env", env, "--undeclared"], stdin: value, identityFile: identityFile)
    #expect(r.status == 0, "set \(name) failed: \(r.err)")
  }

  /// Makes another identity file (another team member) in the project's scratch directory.
  func keygen(_ name: String) throws -> (file: String, recipient: String) {
    let file = dir.appendingPathComponent("\(name).identity").path
    let r = try coffer(["keygen", "-o", file])
    #expect(r.status == 0)
    let text = try String(contentsOfFile: file, encoding: .utf8)
    let recipient = text.split(separator: "\n").first { $0.hasPrefix("# public key: ") }.map { String($0.dropFirst(14)) } ?? ""
    return (file, recipient)
  }
}
