import CofferCore

#if canImport(Glibc)
  import Glibc
#endif

/// Something `run --watch` watches for changes: a vault file (``FileWatchSource``), or (issue 14's `store:`
/// environments) a server polled at an interval (``PollingWatchSource``).
package protocol WatchSource {
  /// A descriptor that becomes readable when the source may have changed, or nil when the source is polled.
  var descriptor: Int32? { get }
  /// How often ``check()`` is called when there is no descriptor, in milliseconds.
  var pollMilliseconds: Int { get }
  /// Called when the descriptor is readable, or every ``pollMilliseconds`` without one.
  /// - Returns: whether the source changed (a spurious true only costs a read of the values).
  mutating func check() -> Bool
}

/// A vault file, watched with inotify on its directory (renames into place, writes, removals of that one name;
/// every other file in the directory, such as the audit log, is ignored), or, where inotify is not available,
/// with `stat` every second (``pollMilliseconds``).
package struct FileWatchSource: WatchSource {
  /// The polling interval when inotify is not available: one second.
  package static let fallbackPollMilliseconds = 1000

  let path: String
  let name: [UInt8]
  let inotify: Int32
  var lastSeen: [Int]

  package var descriptor: Int32? { inotify >= 0 ? inotify : nil }
  package var pollMilliseconds: Int { Self.fallbackPollMilliseconds }

  /// Watches `path` (which may not exist yet: its directory must).
  /// - Parameters:
  ///   - path: the file.
  ///   - useInotify: false to poll even where inotify is available (tests of the fallback).
  package init(path: String, useInotify: Bool = true) {
    self.path = path
    let slash = path.lastIndex(of: "/")
    let directory = slash.map { String(path[..<$0]) } ?? "."
    name = Array((slash.map { String(path[path.index(after: $0)...]) } ?? path).utf8)
    var fd: Int32 = -1
    #if os(Linux)
      if useInotify {
        fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        if fd >= 0 {
          let mask = UInt32(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_MODIFY | IN_ATTRIB)
          if inotify_add_watch(fd, directory.isEmpty ? "/" : directory, mask) < 0 {
            close(fd)
            fd = -1
          }
        }
      }
    #endif
    inotify = fd
    lastSeen = Self.signature(path)
  }

  /// What `stat` says about the file: device, inode, size, modification and change times (empty when absent).
  static func signature(_ path: String) -> [Int] {
    var st = stat()
    guard stat(path, &st) == 0 else { return [] }
    return [
      Int(st.st_dev), Int(st.st_ino), Int(st.st_size), Int(st.st_mtim.tv_sec), Int(st.st_mtim.tv_nsec),
      Int(st.st_ctim.tv_sec), Int(st.st_ctim.tv_nsec),
    ]
  }

  package mutating func check() -> Bool {
    guard inotify >= 0 else {
      let now = Self.signature(path)
      defer { lastSeen = now }
      return now != lastSeen
    }
    #if os(Linux)
      var changed = false
      var buffer = [UInt8](repeating: 0, count: 16 * 1024)
      while true {
        let n = buffer.withUnsafeMutableBytes { read(inotify, $0.baseAddress, $0.count) }
        if n < 0, errno == EINTR { continue }
        if n <= 0 { break }
        var offset = 0
        let header = 16  // struct inotify_event: wd, mask, cookie, len; then len bytes of name
        while offset + header <= n {
          let mask = buffer.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self) }
          let length = buffer.withUnsafeBytes { Int($0.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self)) }
          let nameBytes = buffer[(offset + header)..<min(n, offset + header + length)].prefix { $0 != 0 }
          // A full event queue (IN_Q_OVERFLOW) may have lost the vault's event: read again.
          if Array(nameBytes) == name || mask & UInt32(IN_Q_OVERFLOW) != 0 { changed = true }
          offset += header + length
        }
      }
      return changed
    #else
      return false
    #endif
  }
}

/// A source polled every ``pollMilliseconds``: changed when `probe` returns something other than last time. The
/// hook for `store:` environments (issue 14): their probe asks the server for the environment's version, every
/// ``WatchedRun/storePollMilliseconds``.
package struct PollingWatchSource: WatchSource {
  package let pollMilliseconds: Int
  let probe: () -> [UInt8]?
  var last: [UInt8]?

  package var descriptor: Int32? { nil }

  /// - Parameters:
  ///   - pollMilliseconds: how often to call `probe`.
  ///   - probe: a version token (a hash, a revision number); nil when it cannot be had (the last one stands).
  package init(pollMilliseconds: Int, probe: @escaping () -> [UInt8]?) {
    self.pollMilliseconds = pollMilliseconds
    self.probe = probe
    last = probe()
  }

  package mutating func check() -> Bool {
    guard let now = probe() else { return false }
    defer { last = now }
    return now != last
  }
}

/// `coffer run --watch`: the I/O half of the supervisor (docs/run.md, "Watching"); the decisions are
/// ``WatchDecisions``'.
///
/// The command runs as a child (posix_spawn, default signal dispositions, the same process group). Coffer waits in
/// `poll` on a self-pipe its signal handlers write to (SIGCHLD and the signals it passes on) and on the source's
/// descriptor; timers are deadlines on the monotonic clock.
package enum WatchedRun {
  /// How often a `store:` environment's server is asked whether it changed: 30 seconds.
  package static let storePollMilliseconds = 30_000

  /// The signals passed on to the command (SIGCHLD is watched too).
  package static let forwarded: [Int32] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2]

  /// Messages on stderr, never a value.
  package struct Messages {
    /// Says the command is being restarted (with the signal's name).
    package var restarting: (String) -> Void
    /// A warning (a read that failed).
    package var warn: (String) -> Void
    package init(restarting: @escaping (String) -> Void, warn: @escaping (String) -> Void) {
      self.restarting = restarting
      self.warn = warn
    }
  }

  /// Values read again: the child's environment, and what records the read (called only when they differ from the
  /// ones the command has, before it is restarted with them; a failure to record is a failed read).
  package struct Loaded {
    package var environment: [[UInt8]]
    package var record: () -> WatchReloadFailure?
    package init(environment: [[UInt8]], record: @escaping () -> WatchReloadFailure?) {
      self.environment = environment
      self.record = record
    }
  }

  /// What reading the values again gave, or why they cannot be had (never a value).
  package typealias Reload = () -> Result<Loaded, WatchReloadFailure>

  /// Runs `argv`, restarting it when `source` changes and `reload` gives other values, until it exits.
  /// - Parameters:
  ///   - argv: the program (found on Coffer's own `PATH`) and its arguments.
  ///   - environment: the first child's environment.
  ///   - source: what to watch.
  ///   - decisions: the supervisor's options (restart signal, grace, debounce).
  ///   - reload: reads the values again.
  ///   - messages: where the restart notes and warnings go.
  /// - Returns: the last child's exit status, 128 + N when signal N ended it.
  /// - Throws: ``Exec/Failure`` when the program cannot be started.
  package static func run(
    argv: [String], environment: [[UInt8]], source: some WatchSource, decisions: WatchDecisions, reload: Reload,
    messages: Messages
  ) throws(Exec.Failure) -> Int32 {
    var source = source
    var decisions = decisions
    let program = try Exec.resolve(argv[0], path: ProcessEnvironment.get("PATH"))
    var running = environment
    var next: [[UInt8]]?

    var signalPipe: [Int32] = [0, 0]
    guard pipe(&signalPipe) == 0 else { throw Exec.Failure(program: argv[0], reason: "cannot create a pipe", code: 126) }
    for fd in signalPipe {
      _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
      _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }
    watchSignalFD = signalPipe[1]
    defer {
      watchSignalFD = -1
      close(signalPipe[0])
      close(signalPipe[1])
    }
    var handled = sigset_t()
    sigemptyset(&handled)
    for sig in forwarded + [SIGCHLD] { sigaddset(&handled, sig) }
    sigprocmask(SIG_UNBLOCK, &handled, nil)
    for sig in forwarded + [SIGCHLD] {
      var action = sigaction()
      action.__sigaction_handler.sa_sigaction = relayWatchSignal
      action.sa_flags = SA_RESTART | SA_SIGINFO
      sigemptyset(&action.sa_mask)
      sigaction(sig, &action, nil)
    }
    signal(SIGPIPE, SIG_IGN)

    func spawn(_ environment: [[UInt8]]) throws(Exec.Failure) -> pid_t {
      try Exec.spawn(program, argv: argv, environment: environment, defaults: forwarded + [SIGPIPE, SIGCHLD])
    }

    var child = try spawn(running)
    var deadlines: [WatchDecisions.Timer: Int64] = [:]
    var nextPoll = source.descriptor == nil ? now() + Int64(source.pollMilliseconds) : Int64.max

    // Feeds one event and carries out what it leads to (a reload leads to another event).
    var pending: [WatchDecisions.Event] = []
    var exitStatus: Int32?
    func perform(_ event: WatchDecisions.Event) throws(Exec.Failure) {
      pending.append(event)
      while !pending.isEmpty {
        let current = pending.removeFirst()
        for action in decisions.handle(current) {
          switch action {
          case .schedule(let timer, let ms): deadlines[timer] = now() + Int64(ms)
          case .cancel(let timer): deadlines[timer] = nil
          case .reload:
            switch reload() {
            case .success(let loaded):
              if loaded.environment == (next ?? running) {
                pending.append(.reloaded(.unchanged))
              } else if let failure = loaded.record() {
                pending.append(.reloaded(.failed(failure.message)))
              } else {
                next = loaded.environment
                pending.append(.reloaded(.changed))
              }
            case .failure(let failure): pending.append(.reloaded(.failed(failure.message)))
            }
          case .restart(let sig):
            messages.restarting(WatchOptions.name(of: sig))
            kill(child, sig)
          case .forward(let sig): kill(child, sig)
          case .kill: kill(child, SIGKILL)
          case .start:
            if let next { running = next }
            next = nil
            child = try spawn(running)
          case .warn(let message): messages.warn(message)
          case .exit(let status): exitStatus = status
          }
        }
      }
    }

    while exitStatus == nil {
      let soonest = min(deadlines.values.min() ?? Int64.max, nextPoll)
      let timeout: Int32 = soonest == Int64.max ? -1 : Int32(clamping: max(0, soonest - now()))
      var fds = [pollfd(fd: signalPipe[0], events: Int16(POLLIN), revents: 0)]
      if let fd = source.descriptor { fds.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0)) }
      let ready = poll(&fds, nfds_t(fds.count), timeout)
      if ready < 0, errno != EINTR {
        // Cannot watch any more: stay with the command until it exits, and end with its status.
        var status: Int32 = 0
        while waitpid(child, &status, 0) < 0, errno == EINTR {}
        return status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
      }
      // Signals, in the order they came; the child's exit is looked for after each wake-up.
      var bytes = [UInt8](repeating: 0, count: 64)
      while true {
        let n = bytes.withUnsafeMutableBytes { read(signalPipe[0], $0.baseAddress, $0.count) }
        if n <= 0 { break }
        for byte in bytes[0..<n] {
          let sig = Int32(byte & 0x7F)
          if sig == SIGCHLD { continue }
          try perform(.signal(sig, fromTerminal: byte & 0x80 != 0))
        }
      }
      var status: Int32 = 0
      if exitStatus == nil, waitpid(child, &status, WNOHANG) == child {
        let exited = status & 0x7F == 0
        try perform(.childExited(exited ? (status >> 8) & 0xFF : 128 + (status & 0x7F)))
      }
      if exitStatus != nil { break }
      if source.descriptor != nil, fds.count > 1, fds[1].revents != 0, source.check() { try perform(.sourceChanged) }
      if source.descriptor == nil, now() >= nextPoll {
        nextPoll = now() + Int64(source.pollMilliseconds)
        if source.check() { try perform(.sourceChanged) }
      }
      let time = now()
      for (timer, deadline) in deadlines where deadline <= time && exitStatus == nil {
        deadlines[timer] = nil
        try perform(.timerFired(timer))
      }
    }
    return exitStatus ?? 1  // not reached: the loop ends only with a status
  }

  /// The monotonic clock, in milliseconds.
  static func now() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
  }
}

/// Why the values could not be read again (a vault mid-write, undecryptable, tampered): a message without a value.
package struct WatchReloadFailure: Error {
  /// What to print.
  package let message: String
  package init(_ message: String) { self.message = message }
}

nonisolated(unsafe) private var watchSignalFD: Int32 = -1

/// Async-signal-safe: writes the signal's number to the self-pipe, with the high bit set when the kernel sent it
/// (a terminal's signal to the foreground process group, which the command received too).
private let relayWatchSignal: @convention(c) (Int32, UnsafeMutablePointer<siginfo_t>?, UnsafeMutableRawPointer?) -> Void = { sig, info, _ in
  let fd = watchSignalFD
  guard fd >= 0 else { return }
  let saved = errno
  let fromKernel = (info?.pointee.si_code ?? 0) == 0x80  // SI_KERNEL
  var byte = UInt8(truncatingIfNeeded: sig) | (fromKernel && sig != SIGCHLD ? 0x80 : 0)
  _ = write(fd, &byte, 1)
  errno = saved
}
