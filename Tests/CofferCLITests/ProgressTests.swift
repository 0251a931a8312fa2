import CofferTesting
import Foundation
import Testing

/// Runs `coffer ARGS` with its standard streams on a pseudo-terminal (python3's `pty.fork`); everything it wrote,
/// with the terminal's CRLF turned back into LF.
func onPseudoTerminal(_ box: Sandbox, _ args: [String], cwd: URL? = nil, env: [String: String] = [:]) throws -> String {
  let program = """
    import os, pty, sys
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(sys.argv[1], sys.argv[1:])
    out = b""
    while True:
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        out += data
    os.waitpid(pid, 0)
    sys.stdout.buffer.write(out)
    """
  var environment = box.baseEnvironment
  environment["TERM"] = "xterm"
  environment.merge(box.extraEnvironment) { $1 }
  environment.merge(env) { $1 }
  let r = try ChildProcess.run(
    "/usr/bin/env", ["python3", "-c", program, Paths.binary] + args, cwd: cwd ?? box.dir, environment: environment)
  return String(decoding: r.stdout, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
}

/// Progress of long work (issue 15): on a terminal one line on stderr, updated in place with counts and rate and
/// erased at the end; nothing of it through a pipe; never on stdout.
@Suite struct ProgressTests {
  static let erase = "\r\u{1B}[K"

  /// The text without the progress lines of `label` (each drawn as erase + text) and the final erase.
  static func withoutProgress(_ text: String, label: String) -> String {
    text.replacingOccurrences(
      of: "\r\u{1B}\\[K(coffer: \(NSRegularExpression.escapedPattern(for: label)): [0-9/]+ [a-z]+( \\([0-9]+\\.[0-9]/s\\))?)?",
      with: "", options: .regularExpression)
  }

  @Test func orgCheckShowsRepositoriesOnATerminalOnly() throws {
    let sb = try OrgCLITests.organization()
    let plain = sb.run(["org", "check"], env: ["COFFER_NOW": OrgCLITests.now])
    #expect(plain.status == 1)
    #expect(!plain.stderr.contains("org check:"))
    #expect(!plain.stderr.contains("\u{1B}"))
    let tty = try onPseudoTerminal(sb, ["org", "check"], env: ["COFFER_NOW": OrgCLITests.now])
    #expect(tty.hasPrefix(Self.erase + "coffer: org check: 0/3 repositories"))
    #expect(tty.contains(Self.erase + "coffer: org check: 3/3 repositories"))
    // Erased before the report: without the progress, what a pipe gets (stderr's notes and stdout's table).
    let rest = Self.withoutProgress(tty, label: "org check")
    #expect(!rest.contains("\u{1B}"))
    #expect(rest.contains(plain.out))
    #expect(rest.count == plain.out.count + plain.stderr.count)
  }

  @Test func scanHistoryShowsBlobsOnATerminalOnly() throws {
    let box = try Sandbox(manifest: basicManifest)
    let repo = try GitRepo(box)
    try repo.write("a.txt", "one\n")
    _ = try repo.commit("one")
    try repo.write("b.txt", "two\n")
    _ = try repo.commit("two")
    let plain = repo.coffer(["scan", "--history"])
    #expect(plain.status == 0)
    #expect(!plain.stderr.contains("scan --history:"))
    let tty = try onPseudoTerminal(box, ["scan", "--history"], cwd: repo.dir)
    #expect(tty.hasPrefix(Self.erase + "coffer: scan --history: 0 blobs"))
    #expect(tty.contains(Self.erase + "coffer: scan --history: 0/2 blobs"))
    #expect(tty.contains(Self.erase + "coffer: scan --history: 2/2 blobs"))
    let rest = Self.withoutProgress(tty, label: "scan --history")
    #expect(!rest.contains("\u{1B}"))
    #expect(rest == plain.out + plain.stderr)
  }

  /// `sync`: on a terminal the items' progress line (a per-item line only for a failure); through a pipe a line per
  /// item, as before.
  @Test func syncShowsItemsOnATerminalAndLinesThroughAPipe() throws {
    let box = try Sandbox(manifest: basicManifest + """
      destinations:
        local: { type: dotenv, path: local.env, from: development }

      """)
    #expect(box.set("LOG_LEVEL", "info").status == 0)
    #expect(box.set("OPENAI_API_KEY", "sk-" + String(repeating: "a", count: 40)).status == 0)
    let tty = try onPseudoTerminal(box, ["sync"])
    #expect(tty.contains(Self.erase + "coffer: sync local: 0/2 items"))
    #expect(tty.contains(Self.erase + "coffer: sync local: 2/2 items"))
    #expect(!tty.contains("[1/2]"))
    try FileManager.default.removeItem(atPath: box.path("local.env"))
    let plain = box.run(["sync"])
    #expect(plain.status == 0, "\(plain.stderr)")
    #expect(plain.stderr.contains("coffer: local: [1/2] "))
    #expect(!plain.stderr.contains("sync local:"))
    #expect(!plain.stderr.contains("\u{1B}"))
  }
}
