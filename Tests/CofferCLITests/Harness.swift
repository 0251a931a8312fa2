import CofferTesting
import Foundation
import Testing

/// Runs the built `coffer` binary as a user would, in a scratch project with its own identity.
struct CLIResult {
  let status: Int32
  let stdout: Data
  let stderr: String
  var out: String { String(decoding: stdout, as: UTF8.self) }
  /// Everything the process printed, for leak checks.
  var all: String { out + stderr }
}

enum Paths {
  /// The package root (this file is Tests/CofferCLITests/Harness.swift).
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
  /// The shared corpora folder beside the repository.
  static let shared = root.deletingLastPathComponent().appendingPathComponent("shared")

  /// The built binary: $COFFER_BIN, else .build/debug/coffer.
  static var binary: String {
    if let b = ProcessInfo.processInfo.environment["COFFER_BIN"] { return b }
    return root.appendingPathComponent(".build/debug/coffer").path
  }
}

/// A temporary project directory with an identity file; removed when the test ends.
final class Sandbox: @unchecked Sendable {  // used from one test at a time
  let dir: URL
  let identityFile: URL
  var extraEnvironment: [String: String] = [:]

  init(manifest: String? = nil) throws {
    dir = FileManager.default.temporaryDirectory.appendingPathComponent("coffer-cli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    identityFile = dir.appendingPathComponent("home/identity.txt")
    let keygen = run(["keygen", "-o", identityFile.path])
    precondition(keygen.status == 0, "keygen failed: \(keygen.stderr)")
    if let manifest { try write("coffer.yaml", manifest) }
  }

  deinit { try? FileManager.default.removeItem(at: dir) }

  static let ignoreSIGPIPE: Void = { signal(SIGPIPE, SIG_IGN) }()

  var recipient: String {
    let text = (try? String(contentsOf: identityFile, encoding: .utf8)) ?? ""
    return text.split(separator: "\n").first { $0.hasPrefix("# public key: ") }.map { String($0.dropFirst(14)) } ?? ""
  }

  func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

  func write(_ name: String, _ text: String) throws { try write(name, Data(text.utf8)) }

  func write(_ name: String, _ data: Data) throws {
    let url = dir.appendingPathComponent(name)
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try data.write(to: url)
  }

  func read(_ name: String) throws -> Data { try Data(contentsOf: dir.appendingPathComponent(name)) }

  func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: path(name)) }

  /// The minimal, controlled environment every run starts from.
  var baseEnvironment: [String: String] {
    [
      "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": dir.appendingPathComponent("home").path,
      "COFFER_IDENTITY_FILE": identityFile.path, "USER": "tester", "LANG": "C",
    ]
  }

  /// Runs `coffer ARGS` in the sandbox with only a minimal, controlled environment.
  /// - Parameter launcher: a program and arguments to start coffer through (e.g. `setpriv …`); empty for none.
  @discardableResult
  func run(
    _ args: [String], stdin: Data? = nil, env: [String: String] = [:], cwd: URL? = nil, launcher: [String] = []
  ) -> CLIResult {
    var environment = baseEnvironment
    environment.merge(extraEnvironment) { $1 }
    environment.merge(env) { $1 }
    do {
      let r = try ChildProcess.run(
        launcher.first ?? Paths.binary, launcher.isEmpty ? args : Array(launcher.dropFirst()) + [Paths.binary] + args,
        cwd: cwd ?? dir, environment: environment, stdin: stdin)
      return CLIResult(status: r.status, stdout: r.stdout, stderr: String(decoding: r.stderr, as: UTF8.self))
    } catch {
      return CLIResult(status: -1, stdout: Data(), stderr: "cannot start: \(error)")
    }
  }

  /// Sets a value through stdin (the way scripts should). Seeding only: `--undeclared` lets tests store names their
  /// manifest does not declare (`set` refuses those without it; FirstDayTests covers the refusal).
  @discardableResult
  func set(_ name: String, _ value: String, env: String = "development") -> CLIResult {
    run(["set", name, "--env", env, "--undeclared"], stdin: Data(value.utf8))
  }
}

/// A small manifest used by most CLI tests.
let basicManifest = """
  version: 1
  project: cli-test
  environments: [development, staging, production]
  groups:
    api-keys: { rotation: 90d }
    database-credentials: { rotation: 180d }
  secrets:
    OPENAI_API_KEY:
      group: api-keys
      description: OpenAI API key
      required: true
      prefix: "sk-"
      example: sk-...
    DATABASE_URL:
      group: database-credentials
      description: Primary database
      required: [production]
    LOG_LEVEL:
      description: Log verbosity
      required: false
      secret: false
      example: info

  """
