import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// `coffer redact` and `coffer run --redact`: values never reach the output, the child keeps its terminal, its
/// stdin, its signals and its exit status.
@Suite struct RedactCLITests {
  static let token = "sk-fake-Rd4Wq8Zr2Lp6Yt0XmN"
  static let cert = "line-one-fake-AAAA\nline-two-fake-BBBB\n"
  static let db = "postgres://app:Rd9pass7Word@db.internal/app"

  func makeProject() throws -> Sandbox {
    let box = try Sandbox(manifest: basicManifest + "  CERT:\n    required: false\n")
    #expect(box.set("OPENAI_API_KEY", Self.token, env: "development").status == 0)
    #expect(box.run(["set", "CERT", "--undeclared", "--env", "development", "--keep-newline"], stdin: Data(Self.cert.utf8)).status == 0)
    #expect(box.set("DATABASE_URL", Self.db, env: "production").status == 0)
    #expect(box.set("LOG_LEVEL", "dbg", env: "production").status == 0)
    return box
  }

  @Test func redactFiltersEveryEncodingAndEveryLine() throws {
    let box = try makeProject()
    let b64 = Data(Self.token.utf8).base64EncodedString()
    let input = """
      token \(Self.token) and \(b64)
      url \(Self.db.replacingOccurrences(of: ":", with: "%3A").replacingOccurrences(of: "/", with: "%2F").replacingOccurrences(of: "@", with: "%40"))
      json {"cert": "line-one-fake-AAAA\\nline-two-fake-BBBB\\n"}
      tail line-two-fake-BBBB
      short dbg stays

      """
    let r = box.run(["redact"], stdin: Data(input.utf8))
    #expect(r.status == 0)
    #expect(r.out == """
      token [redacted:OPENAI_API_KEY] and [redacted:OPENAI_API_KEY]
      url [redacted:DATABASE_URL]
      json {"cert": "[redacted:CERT]"}
      tail [redacted:CERT]
      short dbg stays

      """)
    #expect(r.stderr.contains("coffer: 1 known value is not looked for (plain settings, short, common or placeholder values; --verbose names them)\n"))
    // --env: only that environment's values.
    let dev = box.run(["redact", "--env", "development"], stdin: Data("\(Self.token) \(Self.db)\n".utf8))
    #expect(dev.out == "[redacted:OPENAI_API_KEY] \(Self.db)\n")
    expectNoLeak([Self.token, "line-one-fake-AAAA", "line-two-fake-BBBB"], in: [r.out, r.stderr])
  }

  @Test func runRedactWithoutATerminal() throws {
    let box = try makeProject()
    let r = box.run(["run", "--env", "development", "--redact", "--", "sh", "-c",
      #"printf '%s' "$OPENAI_API_KEY"; printf ' %s\n' "${OPENAI_API_KEY%?????????????}" >&2; echo "$CERT"; printf '%s' "$CERT" | tail -n1; exit 7"#])
    #expect(r.status == 7)
    #expect(r.out == "[redacted:OPENAI_API_KEY][redacted:CERT]\n[redacted:CERT]\n")
    #expect(r.stderr == " [redacted:OPENAI_API_KEY]\n")  // the first half of a long value
    expectNoLeak([Self.token, "line-one-fake-AAAA", "line-two-fake-BBBB"], in: [r.out, r.stderr])
    // F21: piped stdin reaches the child and its end-of-file too, so `cat` ends.
    let cat = box.run(["run", "--env", "development", "--redact", "--", "cat"], stdin: Data("hello\n\(Self.token)\n".utf8))
    #expect(cat.status == 0)
    #expect(cat.out == "hello\n[redacted:OPENAI_API_KEY]\n")
    // Exit statuses: a signal N gives 128 + N; a missing command 127.
    #expect(box.run(["run", "--env", "development", "--redact", "--", "sh", "-c", "kill -KILL $$"]).status == 137)
    let missing = box.run(["run", "--env", "development", "--redact", "--", "no-such-command-xyz"])
    #expect(missing.status == 127)
    #expect(missing.stderr.hasSuffix("coffer: error: cannot run no-such-command-xyz: command not found\n"))
  }

  /// F21: on a terminal the child gets one too, so `[ -t 0 ]` and `[ -t 1 ]` hold, and output is still redacted.
  @Test func runRedactGivesTheChildAPseudoTerminal() throws {
    let box = try makeProject()
    let r = try Self.underPTY(box, ["run", "--env", "development", "--redact", "--", "sh", "-c",
      #"[ -t 0 ] && echo in-tty; [ -t 1 ] && echo out-tty; [ -t 2 ] && echo err-tty; echo "$OPENAI_API_KEY"; exit 5"#])
    #expect(r.status == 5)
    #expect(r.out == "in-tty\r\nout-tty\r\nerr-tty\r\n[redacted:OPENAI_API_KEY]\r\n")
  }

  /// F22: with a terminal, Ctrl+C reaches the child once, through its own terminal.
  @Test func ctrlCReachesTheChildOnce() throws {
    let box = try makeProject()
    let r = try Self.underPTY(box, ["run", "--env", "development", "--redact", "--", "sh", "-c",
      #"trap 'echo got-INT; exit 3' INT; echo ready; while :; do sleep 1; done"#], sendCtrlCAfterReady: true)
    #expect(r.status == 3)
    #expect(r.out.components(separatedBy: "got-INT").count == 2)
  }

  /// The child's terminal starts with coffer's window size and follows a resize (SIGWINCH).
  @Test func windowSizeIsPassedOnAndFollowed() throws {
    let box = try makeProject()
    let r = try Self.underPTY(box, ["run", "--env", "development", "--redact", "--", "sh", "-c",
      #"trap 'stty size; exit 0' WINCH; stty size; echo ready; while :; do sleep 1; done"#], resizeAfterReady: true)
    #expect(r.status == 0)
    #expect(r.out == "30 100\r\nready\r\n40 120\r\n")
  }

  /// F22: SIGTERM, SIGHUP, SIGINT and SIGQUIT sent to coffer reach the child, which exits cleanly with status 0.
  @Test(arguments: ["TERM", "HUP", "INT", "QUIT"])
  func signalsAreForwarded(signal name: String) throws {
    let box = try makeProject()
    let p = Process()
    p.executableURL = URL(fileURLWithPath: Paths.binary)
    p.arguments = ["run", "--env", "development", "--redact", "--", "sh", "-c",
      "trap 'echo got-\(name); exit 0' \(name); echo ready; while :; do sleep 1; done"]
    p.currentDirectoryURL = box.dir
    p.environment = ["PATH": "/usr/bin:/bin", "HOME": box.dir.appendingPathComponent("home").path, "COFFER_IDENTITY_FILE": box.identityFile.path]
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    try p.run()
    var text = ""
    while !text.contains("ready") {
      let data = out.fileHandleForReading.availableData
      if data.isEmpty { break }
      text += String(decoding: data, as: UTF8.self)
    }
    let number: Int32 = ["TERM": SIGTERM, "HUP": SIGHUP, "INT": SIGINT, "QUIT": SIGQUIT][name]!
    kill(p.processIdentifier, number)
    text += String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    #expect(text == "ready\ngot-\(name)\n")
    #expect(p.terminationReason == .exit)
    #expect(p.terminationStatus == 0)
  }

  /// Runs coffer with a pseudo-terminal as its stdin, stdout and stderr (Python's `pty.fork`), returning what the
  /// terminal showed and coffer's exit status.
  static func underPTY(
    _ box: Sandbox, _ args: [String], sendCtrlCAfterReady: Bool = false, resizeAfterReady: Bool = false
  ) throws -> (status: Int32, out: String) {
    let helper = """
      import fcntl, os, pty, struct, sys, termios
      def size(fd, rows, cols):
          fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
      pid, fd = pty.fork()
      if pid == 0:
          size(0, 30, 100)
          os.execv(sys.argv[1], sys.argv[1:])
      out, sent = b"", False
      while True:
          try:
              chunk = os.read(fd, 65536)
          except OSError:
              break
          if not chunk:
              break
          out += chunk
          if os.environ.get("SEND_CTRL_C") and not sent and b"ready" in out:
              os.write(fd, b"\\x03")
              sent = True
          if os.environ.get("RESIZE") and not sent and b"ready" in out:
              size(fd, 40, 120)
              sent = True
      _, status = os.waitpid(pid, 0)
      sys.stdout.buffer.write(out)
      code = os.waitstatus_to_exitcode(status)
      sys.exit(code if code >= 0 else 128 - code)
      """
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["python3", "-c", helper, Paths.binary] + args
    p.currentDirectoryURL = box.dir
    var env = ["PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": box.dir.appendingPathComponent("home").path,
               "COFFER_IDENTITY_FILE": box.identityFile.path, "TERM": "xterm"]
    if sendCtrlCAfterReady { env["SEND_CTRL_C"] = "1" }
    if resizeAfterReady { env["RESIZE"] = "1" }
    p.environment = env
    let out = Pipe()
    p.standardOutput = out
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
  }
}
