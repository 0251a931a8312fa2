import CofferTesting
import Foundation
import Testing

/// Colour on a terminal for the verdicts of `check`, `plan` and `rotate status` (issue 15), driven through a
/// pseudo-terminal; none with NO_COLOR, --no-color, TERM=dumb or a pipe.
@Suite struct ColourTests {
  static let manifest = """
    version: 1
    project: colour-test
    environments: [production]
    groups:
      api-keys: { rotation: 30d }
    secrets:
      OPENAI_API_KEY:
        group: api-keys
        prefix: "sk-"
      LOG_LEVEL:
        secret: false
        required: false
      MISSING_ONE: {}
    destinations:
      local: { type: dotenv, path: local.env, from: production }

    """

  static let esc = "\u{1B}["

  /// The text without its colour sequences.
  static func uncoloured(_ text: String) -> String {
    text.replacingOccurrences(of: "\u{1B}\\[[0-9]+m", with: "", options: .regularExpression)
  }

  /// Runs `coffer ARGS` with stdout (and stderr) on a pseudo-terminal; the bytes it wrote, CRLF as the terminal
  /// made them.
  func onTerminal(_ box: Sandbox, _ args: [String], env: [String: String] = [:]) throws -> String {
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
    environment.merge(env) { $1 }
    let r = try ChildProcess.run(
      "/usr/bin/env", ["python3", "-c", program, Paths.binary] + args, cwd: box.dir, environment: environment)
    return String(decoding: r.stdout, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
  }

  func seeded() throws -> Sandbox {
    let box = try Sandbox(manifest: Self.manifest)
    #expect(box.set("OPENAI_API_KEY", "sk-" + String(repeating: "aB3dE6gH9j", count: 4) + "T3BlbkFJ" + String(repeating: "kL2mN5pQ8r", count: 2), env: "production").status == 0)
    #expect(box.set("LOG_LEVEL", "info", env: "production").status == 0)
    return box
  }

  @Test func checkVerdictsAreColouredOnlyOnATerminal() throws {
    let box = try seeded()
    let plain = box.run(["check", "-e", "production"])
    #expect(plain.status == 1)
    #expect(!plain.all.contains(Self.esc))
    let coloured = try onTerminal(box, ["check", "-e", "production"])
    #expect(coloured == plain.out
      .replacingOccurrences(of: "missing (1):", with: "\(Self.esc)31mmissing\(Self.esc)0m (1):")
      .replacingOccurrences(of: "\ninvalid (1):", with: "\n\(Self.esc)31minvalid\(Self.esc)0m (1):")
      .replacingOccurrences(of: "\nok (1)", with: "\n\(Self.esc)32mok\(Self.esc)0m (1)")
      .replacingOccurrences(of: "result: 1 missing, 1 invalid", with: "result: \(Self.esc)31m1 missing, 1 invalid\(Self.esc)0m"))
    #expect(Self.uncoloured(coloured) == plain.out)
    #expect(coloured.contains("\(Self.esc)31mmissing\(Self.esc)0m (1):\n  MISSING_ONE\n"))
    // Off: NO_COLOR (any non-empty value), --no-color, TERM=dumb.
    #expect(try onTerminal(box, ["check", "-e", "production"], env: ["NO_COLOR": "1"]) == plain.out)
    #expect(try onTerminal(box, ["check", "-e", "production", "--no-color"]) == plain.out)
    #expect(try onTerminal(box, ["check", "-e", "production"], env: ["TERM": "dumb"]) == plain.out)
    // NO_COLOR set but empty does not turn it off (no-color.org).
    #expect(try onTerminal(box, ["check", "-e", "production"], env: ["NO_COLOR": ""]) == coloured)
  }

  @Test func rotateStatusAndPlanAreColouredOnATerminal() throws {
    let box = try seeded()
    let later = ["COFFER_NOW": "2099-01-01T00:00:00Z"]
    let status = box.run(["rotate", "status"], env: later)
    #expect(!status.all.contains(Self.esc))
    let colouredStatus = try onTerminal(box, ["rotate", "status"], env: later)
    #expect(colouredStatus.contains("\(Self.esc)31moverdue\(Self.esc)0m"))
    #expect(colouredStatus.contains("  \(Self.esc)32mok\(Self.esc)0m\n"))
    #expect(Self.uncoloured(colouredStatus) == status.out)
    #expect(try onTerminal(box, ["rotate", "status", "--no-color"], env: later) == status.out)
    let plan = box.run(["plan"])
    #expect(plan.status == 0, "\(plan.stderr)")
    #expect(!plan.out.contains(Self.esc))
    let colouredPlan = try onTerminal(box, ["plan"])
    #expect(colouredPlan.contains("  \(Self.esc)33mcreate\(Self.esc)0m "))
    #expect(Self.uncoloured(colouredPlan) == plan.stderr + plan.out)  // the terminal carries both
    #expect(try onTerminal(box, ["plan"], env: ["NO_COLOR": "yes"]).contains(Self.esc) == false)
  }
}
