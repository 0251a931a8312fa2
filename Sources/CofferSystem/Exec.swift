import CofferCore

#if canImport(Glibc)
  import Glibc
#endif

/// Replaces the current process with a program: `execve`, with the program looked up on `PATH`, no shell between.
package enum Exec {
  /// Why a program could not be started, with the exit status a shell would use.
  package struct Failure: CofferError {
    /// The program as given.
    package let program: String
    /// What went wrong.
    package let reason: String
    /// 127 when not found, 126 when found but not executable.
    package let code: Int32
    package var description: String { "cannot run \(program): \(reason)" }
    package var exitStatus: ExitStatus { .badInput }
  }

  /// Starts a child with `posix_spawn` in a clean signal state: an empty signal mask (a parent may have started
  /// coffer with signals blocked, and coffer blocks the ones it forwards) and `defaults` back at their default
  /// dispositions (coffer ignores SIGPIPE, and a parent may have ignored others). The one place the child processes of
  /// `run --redact`, `--mount`, `--watch` and `Subprocess` are started.
  /// - Parameters:
  ///   - program: the resolved path to execute.
  ///   - argv: the arguments, `argv[0]` first (named in a ``Failure``).
  ///   - environment: the child's `NAME=value` entries.
  ///   - actions: file actions (redirections), or nil.
  ///   - defaults: the signals whose disposition the child gets back at default.
  ///   - flags: `POSIX_SPAWN_*` flags beyond the signal-mask and signal-default ones.
  ///   - processGroup: with `POSIX_SPAWN_SETPGROUP` in `flags`, the group to put the child in (0: its own).
  /// - Returns: the child's process id.
  /// - Throws: ``Failure`` with code 127 when the program does not exist, 126 otherwise.
  package static func spawn(
    _ program: String, argv: [String], environment: [[UInt8]],
    actions: UnsafePointer<posix_spawn_file_actions_t>? = nil, defaults: [Int32], flags: Int32 = 0,
    processGroup: pid_t = 0
  ) throws(Failure) -> pid_t {
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var empty = sigset_t()
    sigemptyset(&empty)
    posix_spawnattr_setsigmask(&attributes, &empty)
    var defaultSet = sigset_t()
    sigemptyset(&defaultSet)
    for sig in defaults { sigaddset(&defaultSet, sig) }
    posix_spawnattr_setsigdefault(&attributes, &defaultSet)
    if flags & Int32(POSIX_SPAWN_SETPGROUP) != 0 { posix_spawnattr_setpgroup(&attributes, processGroup) }
    posix_spawnattr_setflags(&attributes, Int16(flags | Int32(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)))
    let cArgs = CStrings(argv.map { Array($0.utf8) })
    let cEnv = CStrings(environment)
    var child: pid_t = 0
    let rc = posix_spawn(&child, program, actions, &attributes, cArgs.pointers, cEnv.pointers)
    guard rc == 0 else {
      throw Failure(program: argv.first ?? program, reason: String(cString: strerror(rc)), code: rc == ENOENT ? 127 : 126)
    }
    return child
  }

  /// Finds a program the way `execvp` does: a name with `/` is used as given; otherwise each `PATH` entry is tried.
  /// - Parameters:
  ///   - program: the command name or path.
  ///   - path: the `PATH` value to search (default `/usr/local/bin:/usr/bin:/bin` when unset).
  /// - Returns: the path to execute.
  /// - Throws: ``Failure`` with code 127 (not found) or 126 (not executable).
  package static func resolve(_ program: String, path: String?) throws(Failure) -> String {
    if program.isEmpty { throw Failure(program: program, reason: "empty command", code: 127) }
    if program.contains("/") {
      if access(program, X_OK) == 0 { return program }
      let notFound = errno == ENOENT
      throw Failure(program: program, reason: notFound ? "no such file" : "permission denied", code: notFound ? 127 : 126)
    }
    var sawDenied = false
    for dir in (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":", omittingEmptySubsequences: false) {
      let candidate = Paths.join(dir.isEmpty ? "." : String(dir), program)
      var st = stat()
      guard stat(candidate, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { continue }
      if access(candidate, X_OK) == 0 { return candidate }
      sawDenied = true
    }
    throw Failure(program: program, reason: sawDenied ? "permission denied" : "command not found", code: sawDenied ? 126 : 127)
  }

  /// Replaces this process with `argv[0]` (resolved on Coffer's own `PATH`, the caller's), passing `environment`
  /// exactly.
  /// - Parameters:
  ///   - argv: the program and its arguments; never passes through a shell.
  ///   - environment: the child's `NAME=value` entries. Its `PATH` entry is not the search path: a `PATH` among the
  ///     secrets must not choose which program runs (docs/run.md).
  /// - Throws: ``Failure`` when the program cannot be found or started; on success it does not return.
  package static func replaceProcess(argv: [String], environment: EnvironmentBlock) throws(Failure) -> Never {
    let program = try resolve(argv[0], path: ProcessEnvironment.get("PATH"))
    var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) }
    cArgs.append(nil)
    let code = environment.withPointers { envp in
      execve(program, cArgs, envp)
      return errno
    }
    throw Failure(program: argv[0], reason: String(cString: strerror(code)), code: code == ENOENT ? 127 : 126)
  }
}

/// A process environment for `execve`: `NAME=value` entries, each NUL-terminated, in one buffer.
///
/// Built once and handed to the kernel as it is: no per-entry allocation, which matters when `coffer run` passes
/// thousands of secrets.
package struct EnvironmentBlock {
  private var bytes: [UInt8] = []
  private var starts: [Int] = []

  /// An empty environment.
  package init() {}

  /// The number of entries.
  package var count: Int { starts.count }

  /// Reserves room for `entries` entries of `bytes` bytes in all.
  package mutating func reserve(entries: Int, bytes count: Int) {
    starts.reserveCapacity(entries)
    bytes.reserveCapacity(count)
  }

  /// Appends an entry as it is (`NAME=value`, without NUL).
  package mutating func append(entry: [UInt8]) {
    starts.append(bytes.count)
    bytes.append(contentsOf: entry)
    bytes.append(0)
  }

  /// Appends `name=value`.
  /// - Parameters:
  ///   - name: the variable name (no `=`, no NUL).
  ///   - value: the value (no NUL).
  package mutating func append(name: String, value: SecretValue) {
    starts.append(bytes.count)
    bytes.append(contentsOf: name.utf8)
    bytes.append(0x3D)
    bytes.append(contentsOf: value.reveal())
    bytes.append(0)
  }

  /// Appends `name=value` with the value's bytes taken as they are.
  /// - Parameters:
  ///   - name: the variable name (no `=`, no NUL).
  ///   - value: the value (no NUL).
  package mutating func append(name: String, value: UnsafeBufferPointer<UInt8>) {
    starts.append(bytes.count)
    bytes.append(contentsOf: name.utf8)
    bytes.append(0x3D)
    bytes.append(contentsOf: value)
    bytes.append(0)
  }

  /// Appends every entry of another block, in its order.
  package mutating func append(contentsOf other: EnvironmentBlock) {
    let offset = bytes.count
    starts.append(contentsOf: other.starts.map { $0 + offset })
    bytes.append(contentsOf: other.bytes)
  }

  /// The entries, each as `NAME=value` bytes, in order.
  package var entries: [[UInt8]] {
    starts.indices.map { i in Array(bytes[starts[i]..<((i + 1 < starts.count ? starts[i + 1] : bytes.count) - 1)]) }
  }

  /// The value of the first entry named `name`, or nil.
  package func value(of name: String) -> ArraySlice<UInt8>? {
    let prefix = Array(name.utf8) + [0x3D]
    for (i, start) in starts.enumerated() {
      let end = (i + 1 < starts.count ? starts[i + 1] : bytes.count) - 1
      if bytes[start..<end].starts(with: prefix) { return bytes[(start + prefix.count)..<end] }
    }
    return nil
  }

  /// Calls `body` with a NULL-terminated `envp` array pointing into this block.
  package func withPointers<R>(_ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
    bytes.withUnsafeBufferPointer { buffer in
      guard let start = buffer.baseAddress else { return body([nil]) }
      let base = UnsafeMutableRawPointer(mutating: start).assumingMemoryBound(to: CChar.self)
      var envp: [UnsafeMutablePointer<CChar>?] = starts.map { base + $0 }
      envp.append(nil)
      return body(envp)
    }
  }
}

/// Standard streams and the terminal, at the edge.
package enum Terminal {
  /// Whether a file descriptor is a terminal.
  package static func isTTY(_ fd: Int32) -> Bool { isatty(fd) == 1 }

  /// Writes bytes to a file descriptor, all of them.
  package static func write(_ fd: Int32, _ bytes: [UInt8]) {
    var off = 0
    while off < bytes.count {
      let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + off, $0.count - off) }
      if n < 0 {
        if errno == EINTR { continue }
        return
      }
      off += n
    }
  }

  /// Writes text to standard output (data only).
  package static func out(_ s: String) { write(1, Array(s.utf8)) }

  /// Writes text to standard error (messages).
  package static func err(_ s: String) { write(2, Array(s.utf8)) }

  /// Reads standard input to its end.
  package static func readAllStdin() -> [UInt8] {
    var out = [UInt8]()
    var buf = [UInt8](repeating: 0, count: 65_536)
    while true {
      let n = buf.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
      if n < 0 {
        if errno == EINTR { continue }
        break
      }
      if n == 0 { break }
      out.append(contentsOf: buf[0..<n])
    }
    return out
  }

  /// Prompts on the controlling terminal and reads one line with echo turned off.
  /// - Parameter prompt: the text shown (on the terminal, not stdout).
  /// - Returns: the line without its newline, or `nil` when there is no terminal.
  package static func readHidden(prompt: String) -> [UInt8]? {
    let fd = open("/dev/tty", O_RDWR | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    write(fd, Array(prompt.utf8))
    var old = termios()
    let haveTermios = tcgetattr(fd, &old) == 0
    if haveTermios {
      var quiet = old
      quiet.c_lflag &= ~tcflag_t(ECHO)
      tcsetattr(fd, TCSAFLUSH, &quiet)
    }
    defer {
      if haveTermios { tcsetattr(fd, TCSAFLUSH, &old) }
      write(fd, [0x0A])
    }
    var line = [UInt8]()
    var byte: UInt8 = 0
    while read(fd, &byte, 1) == 1, byte != 0x0A { line.append(byte) }
    if line.last == 0x0D { line.removeLast() }
    return line
  }
}
