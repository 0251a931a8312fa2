import CofferCore
import Dispatch

#if canImport(Glibc)
  import Glibc
#endif

/// `coffer run --mount NAME`: the secrets as a file that never reaches a disk (docs/run.md, "Mounts").
///
/// The file is a FIFO, mode 0600 (a new one for each reader, renamed into place, so concurrent readers never share a
/// copy), in a private directory (0700) `coffer-mounts/mount-<pid>` under
/// `$XDG_RUNTIME_DIR` (else `/dev/shm`, else the temporary directory, with a note saying where). Each open for
/// reading gets the whole content; after `maxReads` reads the FIFO is removed. The child runs as a separate process
/// (posix_spawn), signals sent to Coffer are passed on to it, and when it exits the FIFO and the directory are
/// removed; a directory left by a Coffer that was killed is removed by the next `--mount` run.
package enum MountedRun {
  /// The directory that holds the mount directories, and a note when it is not `$XDG_RUNTIME_DIR`.
  package static func base() -> (path: String, note: String?) {
    if let runtime = ProcessEnvironment.get("XDG_RUNTIME_DIR"), !runtime.isEmpty, Files.isDirectory(runtime) {
      return (Paths.join(runtime, "coffer-mounts"), nil)
    }
    let fallback = Files.isDirectory("/dev/shm") ? "/dev/shm" : (ProcessEnvironment.get("TMPDIR").flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp")
    let path = Paths.join(fallback, "coffer-mounts-\(getuid())")
    return (path, "XDG_RUNTIME_DIR is not set: the mount is under \(path)")
  }

  /// Removes mount directories whose Coffer is no longer running.
  /// - Parameter base: the directory from ``base()``.
  package static func removeStale(in base: String) {
    guard let dir = opendir(base) else { return }
    var stale: [String] = []
    while let entry = readdir(dir) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
      guard name.hasPrefix("mount-"), let pid = Int32(name.dropFirst(6)) else { continue }
      // The running Coffer holds the directory's lock; a killed one held it until it died (even as a zombie).
      let lock = open(Paths.join(base, name + "/.lock"), O_RDONLY | O_CLOEXEC)
      if lock >= 0 {
        if flock(lock, LOCK_EX | LOCK_NB) == 0 { stale.append(Paths.join(base, name)) }
        close(lock)
      } else if kill(pid, 0) == -1, errno == ESRCH {
        stale.append(Paths.join(base, name))
      }
    }
    closedir(dir)
    for path in stale { removeDirectory(path) }
  }

  static func removeDirectory(_ path: String) {
    if let dir = opendir(path) {
      var names: [String] = []
      while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        if name != "." && name != ".." { names.append(name) }
      }
      closedir(dir)
      for name in names { unlink(Paths.join(path, name)) }
    }
    rmdir(path)
  }

  /// Runs `argv` with `content` readable at the returned mount path, and waits for it.
  /// - Parameters:
  ///   - argv: the program (found on Coffer's own `PATH`) and its arguments.
  ///   - environment: the child's environment, without the mount variable (added here).
  ///   - name: the file's name inside the private directory (no `/`).
  ///   - content: what each read returns.
  ///   - maxReads: how many reads before the FIFO is removed; nil for no limit.
  ///   - variable: the environment variable that carries the path.
  /// - Returns: the child's exit status, 128 + N when signal N ended it.
  /// - Throws: ``Exec/Failure`` when the program cannot be started; ``SystemError`` when the mount cannot be made.
  package static func run(
    argv: [String], environment: [[UInt8]], name: String, content: [UInt8], maxReads: Int?, variable: String
  ) throws -> Int32 {
    let program = try Exec.resolve(argv[0], path: ProcessEnvironment.get("PATH"))
    let (root, note) = base()
    if let note { Terminal.err("coffer: \(note)\n") }
    if mkdir(root, 0o700) != 0, errno != EEXIST {
      throw SystemError("create the mount directory", path: root, reason: String(cString: strerror(errno)))
    }
    removeStale(in: root)
    let dir = Paths.join(root, "mount-\(getpid())")
    removeDirectory(dir)
    guard mkdir(dir, 0o700) == 0 else { throw SystemError("create the mount directory", path: dir, reason: String(cString: strerror(errno))) }
    let lock = open(Paths.join(dir, ".lock"), O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
    if lock >= 0 { flock(lock, LOCK_EX) }
    defer { if lock >= 0 { close(lock) } }
    let path = Paths.join(dir, name)
    guard mkfifo(path, 0o600) == 0 else {
      let code = errno
      removeDirectory(dir)
      throw SystemError("create the mount", path: path, reason: String(cString: strerror(code)))
    }
    defer { removeDirectory(dir) }
    signal(SIGPIPE, SIG_IGN)

    // The writer: one whole copy per open for reading.
    let stop = Flag()
    let finished = DispatchSemaphore(value: 0)
    DispatchQueue.global().async {
      var reads = 0
      while maxReads.map({ reads < $0 }) ?? true, !stop.isSet {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        if fd < 0 {
          if errno == EINTR { continue }
          break
        }
        if stop.isSet {
          close(fd)
          break
        }
        reads += 1
        // This reader has its own FIFO from now on: the next open finds a new one (renamed into place, so the path
        // never goes missing), and never shares this copy.
        if maxReads.map({ reads < $0 }) ?? true {
          let next = path + ".next"
          if mkfifo(next, 0o600) == 0 { rename(next, path) } else { unlink(path) }
        } else {
          unlink(path)
        }
        Terminal.write(fd, content)
        close(fd)
      }
      unlink(path)
      finished.signal()
    }

    // The child.
    let child: pid_t
    do {
      child = try Exec.spawn(
        program, argv: argv, environment: environment + [Array("\(variable)=\(path)".utf8)],
        defaults: RedactedRun.forwarded + [SIGPIPE, SIGCHLD])
    } catch {
      stop.set()
      repeat { wakeWriter(path) } while finished.wait(timeout: .now() + .milliseconds(20)) == .timedOut
      throw error
    }
    mountChild = child
    // A parent may have started us with signals blocked (the mask is inherited): take the ones we pass on.
    var handled = sigset_t()
    sigemptyset(&handled)
    for sig in RedactedRun.forwarded { sigaddset(&handled, sig) }
    sigprocmask(SIG_UNBLOCK, &handled, nil)
    for sig in RedactedRun.forwarded {
      var action = sigaction()
      action.__sigaction_handler.sa_handler = forwardSignal
      action.sa_flags = SA_RESTART
      sigemptyset(&action.sa_mask)
      sigaction(sig, &action, nil)
    }
    var status: Int32 = 0
    while waitpid(child, &status, 0) < 0 {
      if errno != EINTR { break }
    }
    mountChild = 0
    stop.set()
    // The writer may be about to block in open() again: wake it until it has stopped.
    repeat { wakeWriter(path) } while finished.wait(timeout: .now() + .milliseconds(20)) == .timedOut
    let exited = status & 0x7F == 0
    return exited ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
  }

  /// Unblocks a writer waiting in `open` (a reader that reads nothing), if the FIFO is still there.
  static func wakeWriter(_ path: String) {
    let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
    if fd >= 0 { close(fd) }
  }

  /// A flag set once, read from another thread.
  final class Flag: @unchecked Sendable {
    private var value = false
    private var lock = pthread_mutex_t()
    init() { pthread_mutex_init(&lock, nil) }
    deinit { pthread_mutex_destroy(&lock) }
    func set() {
      pthread_mutex_lock(&lock)
      value = true
      pthread_mutex_unlock(&lock)
    }
    var isSet: Bool {
      pthread_mutex_lock(&lock)
      defer { pthread_mutex_unlock(&lock) }
      return value
    }
  }
}

nonisolated(unsafe) private var mountChild: pid_t = 0

/// Async-signal-safe: passes the signal on to the child.
private let forwardSignal: @convention(c) (Int32) -> Void = { sig in
  let child = mountChild
  if child > 0 { kill(child, sig) }
}
