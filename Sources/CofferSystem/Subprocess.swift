import CofferCore

#if canImport(Glibc)
  import Glibc
#endif

/// Runs a helper program (git) to completion: argv passed as is, no shell, no secret ever in argv.
public enum Subprocess {
  /// The result of a run.
  public struct Result: Sendable {
    /// The exit status (128+N when killed by signal N; 127 when it could not be started).
    public let status: Int32
    /// Everything it wrote to stdout.
    public let stdout: [UInt8]
  }

  /// Runs `argv[0]` found on `PATH` with the given arguments, stdin from /dev/null, stderr inherited.
  /// - Parameter argv: the program and its arguments.
  /// - Returns: its status and stdout.
  public static func run(_ argv: [String]) -> Result {
    var pipeFDs: [Int32] = [0, 0]
    guard pipe(&pipeFDs) == 0 else { return Result(status: 127, stdout: []) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_adddup2(&actions, pipeFDs[1], 1)
    posix_spawn_file_actions_addclose(&actions, pipeFDs[0])
    posix_spawn_file_actions_addclose(&actions, pipeFDs[1])
    var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) }
    cArgs.append(nil)
    defer { for p in cArgs { free(p) } }
    var pid: pid_t = 0
    let rc = posix_spawnp(&pid, argv[0], &actions, nil, cArgs, environ)
    close(pipeFDs[1])
    guard rc == 0 else {
      close(pipeFDs[0])
      return Result(status: 127, stdout: [])
    }
    var out = [UInt8]()
    var buf = [UInt8](repeating: 0, count: 65_536)
    while true {
      let n = buf.withUnsafeMutableBytes { read(pipeFDs[0], $0.baseAddress, $0.count) }
      if n < 0, errno == EINTR { continue }
      if n <= 0 { break }
      out.append(contentsOf: buf[0..<n])
    }
    close(pipeFDs[0])
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0, errno == EINTR {}
    let code: Int32 = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
    return Result(status: code, stdout: out)
  }
}
