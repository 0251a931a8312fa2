import CofferCore
import CofferScan

#if canImport(Glibc)
  import Glibc
#endif

/// `coffer run --redact`: the child runs as a separate process (posix_spawn) whose output passes through a
/// ``Redactor`` before it reaches Coffer's stdout and stderr.
///
/// - When Coffer's stdin or stdout is a terminal, the child gets a pseudo-terminal (`openpty`) for those of its
///   standard streams that are terminals in Coffer, in a new session with the pseudo-terminal as its controlling
///   terminal, so `isatty`, colours, line editing and job control keep working (field report F21). Coffer's
///   terminal is put in raw mode while the child runs and keystrokes are passed through, so Ctrl+C reaches the
///   child once, through its own terminal (F22). The pseudo-terminal starts with Coffer's terminal settings and
///   window size, and follows resizes (SIGWINCH).
/// - Without a terminal, stdout and stderr are pipes and the child runs in its own process group.
/// - A stdin that is not a terminal is passed to the child as it is (not copied), so its end-of-file reaches the
///   child exactly.
/// - SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to Coffer are sent on to the child.
package enum RedactedRun {
  /// The signals passed on to the child.
  package static let forwarded: [Int32] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT]

  /// Runs a program and waits for it.
  /// - Parameters:
  ///   - argv: the program (looked up on Coffer's own `PATH`, the caller's, never a `PATH` among the secrets) and
  ///     its arguments; no shell.
  ///   - environment: the child's `NAME=value` entries.
  ///   - set: what to redact.
  /// - Returns: the child's exit status, or 128 + N when signal N ended it.
  /// - Throws: ``Exec/Failure`` (127 not found, 126 not executable or not startable).
  package static func run(argv: [String], environment: [[UInt8]], set: RedactionSet) throws(Exec.Failure) -> Int32 {
    let program = try Exec.resolve(argv[0], path: ProcessEnvironment.get("PATH"))
    let tty = Terminals(stdin: isatty(0) == 1, stdout: isatty(1) == 1, stderr: isatty(2) == 1)
    let signalPipe = try relaySignals(program: argv[0])

    // The child's standard streams.
    let terminal = tty.usePTY ? try openTerminal(tty, program: argv[0]) : nil
    defer {
      if var saved = terminal?.savedSettings { tcsetattr(0, TCSANOW, &saved) }
    }
    var outPipe: [Int32] = [-1, -1]
    var errPipe: [Int32] = [-1, -1]
    if !(tty.usePTY && tty.stdout) { _ = pipe(&outPipe) }
    if !(tty.usePTY && tty.stderr) { _ = pipe(&errPipe) }
    for fd in outPipe + errPipe where fd >= 0 { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }

    let child = try spawn(
      program: program, argv: argv, environment: environment, tty: tty, terminal: terminal, stdout: outPipe[1],
      stderr: errPipe[1])

    var streams: [Pump] = []
    if let master = terminal?.master { streams.append(Pump(from: master, to: tty.stdout ? 1 : 2, set: set)) }
    if outPipe[0] >= 0 { streams.append(Pump(from: outPipe[0], to: 1, set: set)) }
    if errPipe[0] >= 0 { streams.append(Pump(from: errPipe[0], to: 2, set: set)) }
    let status = relay(child: child, signals: signalPipe[0], streams: streams, terminal: terminal, tty: tty)
    for s in streams { s.finish() }
    for sig in forwarded + [SIGCHLD, SIGWINCH] { signal(sig, SIG_DFL) }
    return status
  }

  /// Which of Coffer's standard streams are terminals.
  struct Terminals {
    let stdin: Bool
    let stdout: Bool
    let stderr: Bool

    /// Whether the child gets a pseudo-terminal (for the streams that are terminals in Coffer).
    var usePTY: Bool { stdin || stdout }
    /// The terminal whose settings and size the pseudo-terminal copies.
    var fd: Int32 { stdin ? 0 : stdout ? 1 : 2 }
  }

  /// The child's pseudo-terminal: the master side Coffer reads and writes, the slave's name the child opens, and
  /// Coffer's own terminal settings to restore when the child ends (when stdin is a terminal, put in raw mode).
  struct ChildTerminal {
    let master: Int32
    let slaveName: String
    let savedSettings: termios?
  }

  /// Signals arrive on a pipe (the self-pipe trick), read by ``relay(child:signals:streams:terminal:tty:)``:
  /// unblocks the forwarded signals, SIGCHLD and SIGWINCH (a parent may have started Coffer with them blocked) and
  /// installs the handler that writes each to the pipe.
  /// - Returns: the pipe's read and write ends.
  static func relaySignals(program: String) throws(Exec.Failure) -> [Int32] {
    var signalPipe: [Int32] = [0, 0]
    guard pipe(&signalPipe) == 0 else { throw Exec.Failure(program: program, reason: "cannot create a pipe", code: 126) }
    for fd in signalPipe {
      _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
      _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }
    signalWriteFD = signalPipe[1]
    var handled = sigset_t()
    sigemptyset(&handled)
    for sig in forwarded + [SIGCHLD, SIGWINCH] { sigaddset(&handled, sig) }
    sigprocmask(SIG_UNBLOCK, &handled, nil)
    for sig in forwarded + [SIGCHLD, SIGWINCH] {
      var action = sigaction()
      action.__sigaction_handler.sa_handler = relaySignal
      action.sa_flags = SA_RESTART
      sigemptyset(&action.sa_mask)
      sigaction(sig, &action, nil)
    }
    return signalPipe
  }

  /// Opens the child's pseudo-terminal with Coffer's terminal settings and window size, and puts Coffer's terminal
  /// in raw mode when stdin is one (keystrokes pass through; Ctrl+C reaches the child through its own terminal).
  static func openTerminal(_ tty: Terminals, program: String) throws(Exec.Failure) -> ChildTerminal {
    var master: Int32 = -1
    var attributes = termios()
    var size = winsize()
    let haveAttributes = tcgetattr(tty.fd, &attributes) == 0
    let haveSize = ioctl(tty.fd, UInt(TIOCGWINSZ), &size) == 0
    var slave: Int32 = -1
    let opened = withOptionalPointer(haveAttributes ? attributes : nil) { a in
      withOptionalPointer(haveSize ? size : nil) { s in openpty(&master, &slave, nil, a, s) }
    }
    guard opened == 0 else { throw Exec.Failure(program: program, reason: "cannot open a pseudo-terminal", code: 126) }
    _ = fcntl(master, F_SETFD, FD_CLOEXEC)
    let slaveName = ttyname(slave).map { String(cString: $0) } ?? ""
    close(slave)
    var saved: termios?
    if tty.stdin, haveAttributes {
      saved = attributes
      var raw = attributes
      cfmakeraw(&raw)
      tcsetattr(0, TCSANOW, &raw)
    }
    return ChildTerminal(master: master, slaveName: slaveName, savedSettings: saved)
  }

  /// Starts the child: its standard streams on the pseudo-terminal (in a new session, so it becomes the controlling
  /// terminal) or the pipes' write ends (in its own process group), default signal dispositions, nothing blocked.
  /// The pipes' write ends are closed in Coffer.
  /// - Returns: the child's process id.
  static func spawn(
    program: String, argv: [String], environment: [[UInt8]], tty: Terminals, terminal: ChildTerminal?,
    stdout: Int32, stderr: Int32
  ) throws(Exec.Failure) -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    if let terminal {
      // Opened (not dup'ed) after setsid, so the pseudo-terminal becomes the child's controlling terminal.
      let first: Int32 = tty.stdin ? 0 : 1
      posix_spawn_file_actions_addopen(&actions, first, terminal.slaveName, O_RDWR, 0)
      if tty.stdout, first != 1 { posix_spawn_file_actions_adddup2(&actions, first, 1) }
      if tty.stderr { posix_spawn_file_actions_adddup2(&actions, first, 2) }
    }
    if stdout >= 0 { posix_spawn_file_actions_adddup2(&actions, stdout, 1) }
    if stderr >= 0 { posix_spawn_file_actions_adddup2(&actions, stderr, 2) }
    // POSIX_SPAWN_SETSID (0x80, glibc ≥ 2.26) is not exported to Swift.
    let child: pid_t
    do {
      defer { for fd in [stdout, stderr] where fd >= 0 { close(fd) } }
      child = try Exec.spawn(
        program, argv: argv, environment: environment, actions: &actions, defaults: forwarded + [SIGCHLD, SIGWINCH, SIGPIPE],
        flags: terminal != nil ? 0x80 : Int32(POSIX_SPAWN_SETPGROUP))
    }
    return child
  }

  /// The loop: child output → redactor → Coffer's stdout/stderr; Coffer's terminal → the child's; signals → the
  /// child (SIGWINCH resizes its terminal; SIGCHLD reaps it).
  /// - Returns: the child's exit status, or 128 + N when signal N ended it.
  static func relay(child: pid_t, signals signalFD: Int32, streams: [Pump], terminal: ChildTerminal?, tty: Terminals) -> Int32 {
    let master = terminal?.master ?? -1
    var forwardInput = terminal != nil && tty.stdin
    var status: Int32?
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65_536, alignment: 16)
    defer { buffer.deallocate() }
    while true {
      if status != nil {
        // The child is gone: take what is already buffered, without waiting for others that hold the streams.
        for s in streams where s.open { s.drain(buffer) }
        break
      }
      var fds = [pollfd(fd: signalFD, events: Int16(POLLIN), revents: 0)]
      for s in streams where s.open { fds.append(pollfd(fd: s.from, events: Int16(POLLIN), revents: 0)) }
      if forwardInput { fds.append(pollfd(fd: 0, events: Int16(POLLIN), revents: 0)) }
      if poll(&fds, nfds_t(fds.count), -1) < 0 {
        if errno == EINTR { continue }
        break
      }
      for p in fds where p.revents != 0 {
        if p.fd == signalFD {
          var signals = [UInt8](repeating: 0, count: 64)
          let n = read(signalFD, &signals, signals.count)
          for sig in signals.prefix(max(n, 0)).map(Int32.init) {
            switch sig {
            case SIGCHLD:
              var raw: Int32 = 0
              if waitpid(child, &raw, WNOHANG) == child { status = Subprocess.exitCode(raw) }
            case SIGWINCH:
              var size = winsize()
              if master >= 0, ioctl(tty.fd, UInt(TIOCGWINSZ), &size) == 0 { _ = ioctl(master, UInt(TIOCSWINSZ), &size) }
            default:
              kill(child, sig)
            }
          }
        } else if p.fd == 0 {
          let n = read(0, buffer.baseAddress, buffer.count)
          if n > 0 {
            Terminal.write(master, Array(UnsafeRawBufferPointer(rebasing: buffer[0..<n])))
          } else if n == 0 || (errno != EINTR && errno != EAGAIN) {
            forwardInput = false
          }
        } else if let s = streams.first(where: { $0.from == p.fd }) {
          s.pump(buffer)
        }
      }
      if streams.allSatisfy({ !$0.open }), status == nil {
        // Every output stream ended: wait for the child itself.
        var raw: Int32 = 0
        while waitpid(child, &raw, 0) < 0 && errno == EINTR {}
        status = Subprocess.exitCode(raw)
      }
    }
    return status ?? 1
  }

  /// One output stream of the child, redacted on its way.
  final class Pump {
    let from: Int32
    let to: Int32
    var redactor: Redactor
    var open = true

    init(from: Int32, to: Int32, set: RedactionSet) {
      self.from = from
      self.to = to
      redactor = Redactor(set)
    }

    /// Reads once; on end of stream (or EIO, a pseudo-terminal whose other side closed) marks it closed.
    func pump(_ buffer: UnsafeMutableRawBufferPointer) {
      let n = read(from, buffer.baseAddress, buffer.count)
      if n > 0 {
        Terminal.write(to, redactor.redact(UnsafeRawBufferPointer(rebasing: buffer[0..<n])))
      } else if n == 0 || (errno != EINTR && errno != EAGAIN) {
        open = false
      }
    }

    /// Reads whatever is available now without blocking.
    func drain(_ buffer: UnsafeMutableRawBufferPointer) {
      _ = fcntl(from, F_SETFL, fcntl(from, F_GETFL) | O_NONBLOCK)
      while open {
        let n = read(from, buffer.baseAddress, buffer.count)
        if n > 0 {
          Terminal.write(to, redactor.redact(UnsafeRawBufferPointer(rebasing: buffer[0..<n])))
        } else if n < 0, errno == EINTR {
          continue
        } else {
          break
        }
      }
    }

    func finish() {
      Terminal.write(to, redactor.finish())
      open = false
    }
  }
}

/// The write end of the signal pipe, for the C signal handler.
nonisolated(unsafe) private var signalWriteFD: Int32 = -1

/// Async-signal-safe: writes the signal number to the pipe.
private let relaySignal: @convention(c) (Int32) -> Void = { sig in
  let saved = errno
  var byte = UInt8(truncatingIfNeeded: sig)
  _ = write(signalWriteFD, &byte, 1)
  errno = saved
}

private func withOptionalPointer<T, R>(_ value: T?, _ body: (UnsafeMutablePointer<T>?) -> R) -> R {
  guard var v = value else { return body(nil) }
  return withUnsafeMutablePointer(to: &v) { body($0) }
}
