import Foundation
import Testing

/// A `coffer` process left running while the test acts on it: its stderr read line by line (blocking), and a FIFO
/// the command writes its lines to. No sleeps: every wait is a blocking read of a line something writes. Started
/// with posix_spawn and reaped here (waitpid on its own pid), every descriptor above stderr closed in the child.
final class Supervised: @unchecked Sendable {  // used from one test at a time
  let pid: pid_t
  let stderrFD: Int32
  let fifo: String
  let fifoFD: Int32
  private var stderrBuffer: [UInt8] = []
  private var status: Int32?

  /// Starts `coffer ARGS` in the sandbox with `OUT` naming a FIFO the command writes to.
  init(_ box: Sandbox, _ args: [String]) throws {
    fifo = box.path("out.fifo")
    #expect(mkfifo(fifo, 0o600) == 0)
    // Read and write: reads block until a line comes, never see end-of-file between two commands.
    fifoFD = open(fifo, O_RDWR | O_CLOEXEC)
    var fds: [Int32] = [-1, -1]
    #expect(GNU.pipe2(&fds, O_CLOEXEC) == 0)
    stderrFD = fds[0]
    var environment = box.baseEnvironment
    environment.merge(box.extraEnvironment) { $1 }
    environment["OUT"] = fifo
    let argv = [Paths.binary] + args
    let cArgs = argv.map { strdup($0) } + [nil]
    let cEnv = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer { for p in cArgs + cEnv { free(p) } }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_adddup2(&actions, fds[1], 2)
    _ = GNU.addclosefrom(&actions, 3)
    _ = GNU.addchdir(&actions, box.dir.path)
    var child: pid_t = 0
    let rc = posix_spawn(&child, Paths.binary, &actions, nil, cArgs, cEnv)
    close(fds[1])
    guard rc == 0 else { throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .EIO) }
    pid = child
  }

  deinit {
    if status == nil {
      kill(pid, SIGKILL)
      _ = finish()
    }
    close(fifoFD)
    close(stderrFD)
  }

  /// The next line the command wrote to the FIFO, or "coffer exited" when coffer has ended (checked whenever no
  /// line came for a second; not a timing assertion, only a way not to hang).
  func line() -> String {
    var out: [UInt8] = []
    while true {
      var p = pollfd(fd: fifoFD, events: Int16(POLLIN), revents: 0)
      if poll(&p, 1, 1000) == 0 {
        if status == nil {
          var raw: Int32 = 0
          if waitpid(pid, &raw, WNOHANG) == pid { status = decode(raw) }
        }
        if status != nil { return "coffer exited" }
        continue
      }
      var byte: UInt8 = 0
      guard read(fifoFD, &byte, 1) == 1 else { continue }
      if byte == 0x0A { return String(decoding: out, as: UTF8.self) }
      out.append(byte)
    }
  }

  /// The next line coffer wrote to stderr ("" at its end).
  func errorLine() -> String {
    while !stderrBuffer.contains(0x0A) {
      var chunk = [UInt8](repeating: 0, count: 4096)
      let n = read(stderrFD, &chunk, chunk.count)
      if n <= 0 { break }
      stderrBuffer.append(contentsOf: chunk[0..<n])
    }
    let end = stderrBuffer.firstIndex(of: 0x0A) ?? stderrBuffer.count
    let line = String(decoding: stderrBuffer[0..<end], as: UTF8.self)
    stderrBuffer.removeFirst(min(stderrBuffer.count, end + 1))
    return line
  }

  func signal(_ sig: Int32) { kill(pid, sig) }

  func decode(_ raw: Int32) -> Int32 { raw & 0x7F == 0 ? (raw >> 8) & 0xFF : 128 + (raw & 0x7F) }

  /// Waits for coffer to exit: its status (128 + N for signal N) and the rest of its stderr.
  func finish() -> (status: Int32, stderr: String) {
    if status == nil {
      var raw: Int32 = 0
      while waitpid(pid, &raw, 0) < 0, errno == EINTR {}
      status = decode(raw)
    }
    // What coffer wrote is in the pipe now. Not read to its end: the command coffer started may still hold it.
    _ = fcntl(stderrFD, F_SETFL, fcntl(stderrFD, F_GETFL) | O_NONBLOCK)
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
      let n = read(stderrFD, &chunk, chunk.count)
      if n <= 0 { break }
      stderrBuffer.append(contentsOf: chunk[0..<n])
    }
    let rest = String(decoding: stderrBuffer, as: UTF8.self)
    stderrBuffer = []
    return (status ?? -1, rest)
  }
}

/// glibc's GNU extensions Swift's Glibc module does not show (they need _GNU_SOURCE), found with dlsym.
enum GNU {
  static func symbol<T>(_ name: String, as type: T.Type) -> T {
    guard let handle = dlopen(nil, RTLD_NOW), let address = dlsym(handle, name) else { fatalError("no \(name) in glibc") }
    return unsafeBitCast(address, to: type)
  }
  nonisolated(unsafe) static let pipe2 = symbol("pipe2", as: (@convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32).self)
  nonisolated(unsafe) static let addclosefrom = symbol(
    "posix_spawn_file_actions_addclosefrom_np", as: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
  nonisolated(unsafe) static let addchdir = symbol(
    "posix_spawn_file_actions_addchdir_np", as: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32).self)
}

/// `run --watch` (issue 15): a change restarts the command exactly once with the new values; a vault that cannot be
/// read keeps it running with one warning; signals reach it; coffer's status is its last one; the restart signal and
/// the grace period.
@Suite struct WatchTests {
  static let manifest = """
    version: 1
    project: watch-test
    environments: [production]
    secrets:
      API_TOKEN: {}

    """

  /// Writes `start VALUE` when it starts (its handlers set), `hup` on SIGHUP, `term` on SIGTERM (then exits 3). In
  /// Python: a shell's traps wait for its foreground command, and a background one can outlive it.
  static let program = """
    import os, signal
    def say(text):
        with open(os.environ["OUT"], "w") as f:
            f.write(text + "\\n")
    def term(*_):
        say("term")
        os._exit(3)
    signal.signal(signal.SIGHUP, lambda *_: say("hup"))
    signal.signal(signal.SIGTERM, term)
    say("start " + os.environ.get("API_TOKEN", ""))
    while True:
        signal.pause()
    """
  static let script = ["python3", "-c", program]

  static let restarting = "coffer: production's vault changed: restarting the command (SIGTERM)"

  func seeded() throws -> Sandbox {
    let box = try Sandbox(manifest: Self.manifest)
    #expect(box.set("API_TOKEN", "tok-1", env: "production").status == 0)
    return box
  }

  /// Replaces a file the way an editor or a sync tool might (not through coffer): in place, not atomically.
  func overwrite(_ path: String, _ bytes: [UInt8]) {
    let fd = open(path, O_WRONLY | O_TRUNC)
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    close(fd)
  }

  @Test func restartsOncePerChangeAndKeepsRunningOnATamperedVault() throws {
    let box = try seeded()
    let vault = box.path(".coffer/vault/production.vault")
    let run = try Supervised(box, ["run", "-e", "production", "--watch", "--"] + Self.script)
    #expect(run.line() == "start tok-1")
    // A change: the restart signal, then the command again with the new value.
    #expect(box.set("API_TOKEN", "tok-2", env: "production").status == 0)
    #expect(run.line() == "term")
    #expect(run.line() == "start tok-2")
    #expect(run.errorLine() == Self.restarting)
    // Tampered (one byte changed), then cut in half as if mid-write: one warning, the command keeps running.
    let good = Array(try Data(contentsOf: URL(fileURLWithPath: vault)))
    var tampered = good
    let middle = tampered.count / 2
    tampered[middle] = tampered[middle] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
    overwrite(vault, tampered)
    let warning = run.errorLine()
    #expect(warning.hasPrefix("coffer: warning: production's vault changed but cannot be read: "))
    #expect(warning.hasSuffix("; the command keeps running with the values it had"))
    #expect(!warning.contains("tok-"))
    overwrite(vault, Array(good.prefix(good.count / 2)))
    // The good vault back (the same values: no restart), then a real change: the next line is tok-3's start, so
    // nothing restarted in between.
    try Data(good).write(to: URL(fileURLWithPath: vault), options: .atomic)
    #expect(box.set("API_TOKEN", "tok-3", env: "production").status == 0)
    #expect(run.line() == "term")
    #expect(run.line() == "start tok-3")
    #expect(run.errorLine() == Self.restarting)
    // Signals sent to coffer reach the command; its status is coffer's.
    run.signal(SIGHUP)
    #expect(run.line() == "hup")
    run.signal(SIGTERM)
    #expect(run.line() == "term")
    let end = run.finish()
    #expect(end.status == 3)
    #expect(end.stderr == "")
    #expect(run.line() == "coffer exited")
    // Each start was a recorded read.
    let audit = box.run(["audit", "--json"]).out.split(separator: "\n").filter { $0.replacingOccurrences(of: " ", with: "").contains(#""action":"run""#) }
    #expect(audit.count == 3)
  }

  /// A command that ignores the restart signal is killed after the grace period and started again; a signal that
  /// ends it ends coffer with 128 + N; the restart signal is the one asked for.
  @Test func graceThenKillAndTheLastStatus() throws {
    let box = try seeded()
    let ignoring = #"trap '' TERM; printf 'start %s\n' "$API_TOKEN" > "$OUT"; exec sleep 100000"#
    let run = try Supervised(box, ["run", "-e", "production", "--watch", "--grace", "100ms", "--", "sh", "-c", ignoring])
    #expect(run.line() == "start tok-1")
    #expect(box.set("API_TOKEN", "tok-2", env: "production").status == 0)
    #expect(run.line() == "start tok-2")
    #expect(run.errorLine() == Self.restarting)
    run.signal(SIGUSR1)
    let end = run.finish()
    #expect(end.status == 128 + SIGUSR1)
    #expect(end.stderr == "")

    let hup = try Sandbox(manifest: Self.manifest)
    #expect(hup.set("API_TOKEN", "tok-1", env: "production").status == 0)
    let second = try Supervised(hup, ["run", "-e", "production", "--watch", "--restart-signal", "HUP", "--"] + Self.script)
    #expect(second.line() == "start tok-1")
    #expect(hup.set("API_TOKEN", "tok-2", env: "production").status == 0)
    // SIGHUP does not end this script: it is killed after the 10 s grace… unless it exits; it says hup and carries
    // on, so end it with SIGTERM instead and check the restart was asked with SIGHUP.
    #expect(second.line() == "hup")
    #expect(second.errorLine() == "coffer: production's vault changed: restarting the command (SIGHUP)")
    second.signal(SIGTERM)
    #expect(second.line() == "term")
    #expect(second.finish().status == 3)
  }

  @Test func watchOptionsAreChecked() throws {
    let box = try seeded()
    for (args, message) in [
      (["--watch", "--restart-signal", "STOP"], "coffer: error: --restart-signal expects one of HUP, INT, QUIT, KILL, USR1, USR2, TERM (or its number)\n"),
      (["--watch", "--grace", "soon"], "coffer: error: --grace expects seconds (10, 2.5, 10s) or milliseconds (500ms), at most 3600s\n"),
      (["--grace", "1"], "coffer: error: --restart-signal and --grace need --watch\n"),
      (["--restart-signal", "HUP"], "coffer: error: --restart-signal and --grace need --watch\n"),
      (["--watch", "--redact"], "coffer: error: --watch cannot be combined with --mount or --redact\n"),
      (["--watch", "--mount", "a.env"], "coffer: error: --watch cannot be combined with --mount or --redact\n"),
    ] {
      let r = box.run(["run", "-e", "production"] + args + ["--", "true"])
      #expect(r.status == 2, "\(args)")
      #expect(r.stderr == message)
    }
    // Without a change, --watch is the command's status and nothing else.
    let r = box.run(["run", "-e", "production", "--watch", "--", "sh", "-c", #"printf '%s' "$API_TOKEN"; exit 4"#])
    #expect(r.status == 4)
    #expect(r.out == "tok-1")
    #expect(r.stderr == "")
    // A missing secret at the start fails closed as plain run does.
    let empty = try Sandbox(manifest: Self.manifest)
    #expect(empty.run(["run", "-e", "production", "--watch", "--", "true"]).status == 1)
  }
}
