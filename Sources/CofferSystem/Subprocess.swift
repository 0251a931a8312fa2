import CofferCore
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// A child process started with `posix_spawn` (no shell), for tools Coffer drives such as git.
///
/// Arguments are never secret values (field report F18): callers pass object names, paths and options only, and
/// anything else through a file or a pipe.
package final class Subprocess {
  /// Where a child's standard stream goes.
  package enum Stream: Sendable {
    /// The same as Coffer's.
    case inherit
    /// `/dev/null`.
    case null
    /// A pipe Coffer reads (stdout/stderr) or writes (stdin).
    case pipe
    /// A file opened for reading (stdin only).
    case file(String)
  }

  /// The child's process id.
  package let pid: pid_t
  /// The read end of the child's stdout when it is a pipe, else -1.
  package let stdoutFD: Int32
  /// The read end of the child's stderr when it is a pipe, else -1.
  package let stderrFD: Int32
  /// The write end of the child's stdin when it is a pipe, else -1.
  package let stdinFD: Int32
  let program: String

  /// Starts a program found on `PATH`.
  /// - Parameters:
  ///   - argv: the program and its arguments (never a secret value).
  ///   - stdin: the child's standard input.
  ///   - stdout: the child's standard output.
  ///   - stderr: the child's standard error.
  ///   - environment: `NAME=value` entries, or nil to inherit Coffer's without the identity variables
  ///     (``ProcessEnvironment/childEntries()``).
  /// - Throws: ``Exec/Failure`` when the program cannot be found or started.
  package init(
    _ argv: [String], stdin: Stream = .null, stdout: Stream = .pipe, stderr: Stream = .pipe,
    environment: [[UInt8]]? = nil
  ) throws {
    program = argv[0]
    let path = try Exec.resolve(argv[0], path: ProcessEnvironment.get("PATH"))
    // Pipes are made without O_CLOEXEC (no pipe2 here) and marked just after: spawn one child at a time so no
    // other child inherits them in between.
    let spawned = try Subprocess.spawnLock.withLock { _ throws -> (pid_t, [Int32]) in
      try Subprocess.spawn(path: path, argv: argv, stdin: stdin, stdout: stdout, stderr: stderr, environment: environment)
    }
    pid = spawned.0
    stdinFD = spawned.1[0]
    stdoutFD = spawned.1[1]
    stderrFD = spawned.1[2]
  }

  private static let spawnLock = Mutex(())

  private static func spawn(
    path: String, argv: [String], stdin: Stream, stdout: Stream, stderr: Stream, environment: [[UInt8]]?
  ) throws -> (pid_t, [Int32]) {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    var close: [Int32] = []
    var mine: [Int32] = [-1, -1, -1]
    for (fd, stream) in [(Int32(0), stdin), (1, stdout), (2, stderr)] {
      switch stream {
      case .inherit: break
      case .null:
        posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0)
      case .file(let file):
        posix_spawn_file_actions_addopen(&actions, fd, file, O_RDONLY, 0)
      case .pipe:
        var p: [Int32] = [0, 0]
        guard pipe(&p) == 0 else {
          throw Exec.Failure(program: argv[0], reason: String(cString: strerror(errno)), code: 126)
        }
        _ = fcntl(p[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(p[1], F_SETFD, FD_CLOEXEC)
        let (childEnd, parentEnd) = fd == 0 ? (p[0], p[1]) : (p[1], p[0])
        posix_spawn_file_actions_adddup2(&actions, childEnd, fd)
        close.append(childEnd)
        mine[Int(fd)] = parentEnd
      }
    }
    defer { for fd in close { Glibc.close(fd) } }
    do {
      let child = try Exec.spawn(
        path, argv: argv, environment: environment ?? ProcessEnvironment.childEntries(), actions: &actions,
        defaults: [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGCHLD, SIGWINCH])
      return (child, mine)
    } catch {
      for fd in mine where fd >= 0 { Glibc.close(fd) }
      throw error
    }
  }

  /// Waits for the child to end.
  /// - Returns: its exit status, or 128 + N when signal N ended it.
  @discardableResult
  package func wait() -> Int32 {
    if stdinFD >= 0 { Glibc.close(stdinFD) }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 {
      if errno != EINTR { return 127 }
    }
    if stdoutFD >= 0 { Glibc.close(stdoutFD) }
    if stderrFD >= 0 { Glibc.close(stderrFD) }
    return Subprocess.exitCode(status)
  }

  /// The shell-style exit code of a `waitpid` status: the exit status, or 128 + N for signal N.
  package static func exitCode(_ status: Int32) -> Int32 {
    let signal = status & 0x7F
    if signal == 0 { return (status >> 8) & 0xFF }
    return 128 + signal
  }

  /// Runs a program to its end and returns what it wrote.
  /// - Parameters:
  ///   - argv: the program and arguments (never a secret value).
  ///   - stdin: its standard input.
  /// - Returns: exit code, stdout bytes and stderr text.
  /// - Throws: ``Exec/Failure`` when it cannot be started.
  package static func run(_ argv: [String], stdin: Stream = .null) throws -> (status: Int32, stdout: [UInt8], stderr: String) {
    let p = try Subprocess(argv, stdin: stdin)
    var out: [UInt8] = []
    var err: [UInt8] = []
    p.drain { out.append(contentsOf: $0) } stderr: { err.append(contentsOf: $0) }
    let status = p.wait()
    return (status, out, String(decoding: err, as: UTF8.self))
  }

  /// Reads the child's stdout and stderr pipes to their ends, handing each chunk to a body as it arrives.
  /// - Parameters:
  ///   - stdout: called with each chunk of standard output (the buffer is only valid during the call).
  ///   - stderr: called with each chunk of standard error.
  package func drain(stdout: (UnsafeRawBufferPointer) -> Void, stderr: (UnsafeRawBufferPointer) -> Void = { _ in }) {
    var fds: [pollfd] = []
    if stdoutFD >= 0 { fds.append(pollfd(fd: stdoutFD, events: Int16(POLLIN), revents: 0)) }
    if stderrFD >= 0 { fds.append(pollfd(fd: stderrFD, events: Int16(POLLIN), revents: 0)) }
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
    defer { buffer.deallocate() }
    while fds.contains(where: { $0.fd >= 0 }) {
      let r = poll(&fds, nfds_t(fds.count), -1)
      if r < 0 {
        if errno == EINTR { continue }
        break
      }
      for i in fds.indices where fds[i].fd >= 0 && fds[i].revents != 0 {
        let n = read(fds[i].fd, buffer.baseAddress, buffer.count)
        if n < 0, errno == EINTR || errno == EAGAIN { continue }
        if n <= 0 {
          fds[i].fd = -1
          continue
        }
        let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
        if fds[i].fd == stdoutFD { stdout(chunk) } else { stderr(chunk) }
      }
    }
  }
}

/// NUL-terminated C strings for `argv`/`envp`, freed with the value.
final class CStrings {
  let pointers: [UnsafeMutablePointer<CChar>?]

  init(_ strings: [[UInt8]]) {
    var out: [UnsafeMutablePointer<CChar>?] = strings.map { bytes in
      let p = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count + 1)
      bytes.withUnsafeBytes { raw in
        if let base = raw.baseAddress { UnsafeMutableRawPointer(p).copyMemory(from: base, byteCount: bytes.count) }
      }
      p[bytes.count] = 0
      return p
    }
    out.append(nil)
    pointers = out
  }

  deinit {
    for p in pointers { p?.deallocate() }
  }
}
