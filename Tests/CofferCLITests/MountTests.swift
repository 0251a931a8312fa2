import Foundation
import Testing

/// `run --mount NAME[:FORMAT]` (issue 15): the secrets as a FIFO in a private directory under $XDG_RUNTIME_DIR,
/// readable by the child, never a regular file, gone after the child exits and after `kill -9` of coffer (at the next
/// run); `--mount-max-reads`; signals and exit statuses.
@Suite struct MountTests {
  static let manifest = """
    version: 1
    project: mount-test
    environments: [production]
    secrets:
      API_TOKEN: {}
      PEM:
        required: false

    """

  func seeded() throws -> Sandbox {
    let box = try Sandbox(manifest: Self.manifest)
    try FileManager.default.createDirectory(atPath: box.path("runtime"), withIntermediateDirectories: true)
    box.extraEnvironment["XDG_RUNTIME_DIR"] = box.path("runtime")
    #expect(box.set("API_TOKEN", "tok-1", env: "production").status == 0)
    #expect(box.run(["set", "PEM", "-e", "production", "--keep-newline"], stdin: Data("a\nb\n".utf8)).status == 0)
    return box
  }

  func mounts(_ box: Sandbox) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: box.path("runtime/coffer-mounts"))) ?? []).sorted()
  }

  @Test func childReadsAFifoThatIsGoneAfterwards() throws {
    let box = try seeded()
    let script = #"stat -c '%F %a' "$COFFER_MOUNT"; stat -c '%a' "$(dirname "$COFFER_MOUNT")"; cat "$COFFER_MOUNT"; cat "$COFFER_MOUNT" | wc -l; printf '%s\n' "${API_TOKEN-not-in-env}" "$COFFER_MOUNT""#
    let r = box.run(["run", "-e", "production", "--mount", "app.env", "--", "sh", "-c", script])
    #expect(r.status == 0, "\(r.stderr)")
    let lines = r.out.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    #expect(Array(lines.prefix(8)) == ["fifo 600", "700", "API_TOKEN=tok-1", "PEM='a", "b", "'", "4", "not-in-env"])
    let path = lines.count > 8 ? lines[8] : ""
    #expect(path.hasPrefix(box.path("runtime/coffer-mounts/mount-")) && path.hasSuffix("/app.env"))
    #expect(!FileManager.default.fileExists(atPath: path))
    #expect(mounts(box) == [])
    #expect(r.stderr == "")
    // JSON, and the child's status is coffer's.
    let json = box.run(["run", "-e", "production", "--mount", "s.json:json", "--", "sh", "-c", #"cat "$COFFER_MOUNT"; exit 7"#])
    #expect(json.status == 7)
    #expect(json.out == #"{"API_TOKEN":"tok-1","PEM":"a\nb\n"}"# + "\n")
    let killed = box.run(["run", "-e", "production", "--mount", "x.env", "--", "sh", "-c", "kill -TERM $$"])
    #expect(killed.status == 128 + 15)
    #expect(mounts(box) == [])
  }

  @Test func maxReadsIsHonoured() throws {
    let box = try seeded()
    let r = box.run([
      "run", "-e", "production", "--mount", "app.env", "--mount-max-reads", "2", "--", "sh", "-c",
      #"cat "$COFFER_MOUNT" | wc -l; cat "$COFFER_MOUNT" | wc -l; test -e "$COFFER_MOUNT" && echo present || echo gone"#,
    ])
    #expect(r.status == 0)
    #expect(r.out == "4\n4\ngone\n")
    for (args, message) in [
      (["--mount", "a/b"], "coffer: error: --mount expects a file name (no /), optionally with :dotenv, :json, :yaml or :template=FILE\n"),
      (["--mount", "a:shell"], "coffer: error: --mount: the format must be dotenv, json, yaml or template=FILE\n"),
      (["--mount", "a", "--mount-max-reads", "0"], "coffer: error: --mount-max-reads must be 1 or more\n"),
      (["--mount-max-reads", "1"], "coffer: error: --mount-max-reads needs --mount\n"),
    ] {
      let bad = box.run(["run", "-e", "production"] + args + ["--", "true"])
      #expect(bad.status == 2)
      #expect(bad.stderr == message)
    }
  }

  /// `--mount NAME:template=FILE`: the template rendered as `coffer inject` renders it, byte for byte (values with
  /// newlines and template syntax inserted as they are); an undefined reference stops the command before it starts.
  @Test func templateMountRendersTheTemplate() throws {
    let box = try seeded()
    #expect(box.run(["set", "PEM", "-e", "production", "--keep-newline"], stdin: Data("x{{ coffer \"API_TOKEN\" }}\n".utf8)).status == 0)
    try box.write("app.tmpl", "token: {{ coffer \"API_TOKEN\" }}\npem: |\n{{coffer \"PEM\"}}{{ other }}\n")
    let r = box.run(["run", "-e", "production", "--mount", "app.yaml:template=app.tmpl", "--", "sh", "-c", #"stat -c '%F' "$COFFER_MOUNT"; cat "$COFFER_MOUNT""#])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.out == "fifo\ntoken: tok-1\npem: |\nx{{ coffer \"API_TOKEN\" }}\n{{ other }}\n")
    #expect(r.stderr == "")
    try box.write("bad.tmpl", "ok: {{ coffer \"API_TOKEN\" }}\nbad: {{ coffer \"NOPE\" }}\n")
    let bad = box.run(["run", "-e", "production", "--mount", "app.yaml:template=bad.tmpl", "--", "sh", "-c", "echo started"])
    #expect(bad.status == 2)
    #expect(bad.out == "")
    #expect(bad.stderr == "coffer: error: bad.tmpl:2:6: NOPE has no value in production (coffer.yaml does not declare it)\ncoffer: hint: `coffer set NOPE --env production`, or correct the reference\n")
    #expect(mounts(box) == [])
    for (args, message) in [
      (["--mount", "a:template="], "coffer: error: --mount NAME:template=FILE needs a template file\n"),
      (["--mount", "a:template=app.tmpl", "--only", "x"], "coffer: error: --mount with a template takes its names from the template: --only, --names, --env-file and --include-undeclared do not apply\n"),
    ] {
      let r = box.run(["run", "-e", "production"] + args + ["--", "true"])
      #expect(r.status == 2)
      #expect(r.stderr == message)
    }
  }

  /// A directory left by a coffer that was killed (its lock no longer held, or no lock and no such process) is
  /// removed by the next `--mount` run; a live one's is not.
  @Test func staleMountsAreCleanedUpByTheNextRun() throws {
    let box = try seeded()
    let base = box.path("runtime/coffer-mounts")
    for name in ["mount-999999", "mount-999998"] {
      try FileManager.default.createDirectory(atPath: base + "/" + name, withIntermediateDirectories: true)
      #expect(mkfifo(base + "/" + name + "/app.env", 0o600) == 0)
    }
    try Data().write(to: URL(fileURLWithPath: base + "/mount-999999/.lock"))  // a lock nobody holds
    let r = box.run(["run", "-e", "production", "--mount", "b.env", "--", "sh", "-c", #"ls "$(dirname "$(dirname "$COFFER_MOUNT")")""#])
    #expect(r.status == 0)
    #expect(r.out.split(separator: "\n").count == 1 && r.out.hasPrefix("mount-"))
    #expect(mounts(box) == [])
  }

  /// `kill -9` of coffer (no chance to clean up): the directory stays, holding only the FIFO and the empty lock file
  /// (no regular file with a value), and the next `--mount` run removes it.
  @Test func aMountLeftByKill9IsRemovedByTheNextRun() throws {
    let box = try seeded()
    let run = try Supervised(box, ["run", "-e", "production", "--mount", "app.env", "--", "sh", "-c", #"printf '%s %s\n' "$$" "$COFFER_MOUNT" > "$OUT"; exec sleep 100000"#])
    let words = run.line().split(separator: " ").map(String.init)
    #expect(words.count == 2)
    let child = Int32(words.first ?? "") ?? 0
    let path = words.count == 2 ? words[1] : ""
    run.signal(SIGKILL)
    // The command holds coffer's stderr open: end it too, so that coffer's stderr reaches its end.
    if child > 0 { kill(child, SIGKILL) }
    #expect(run.finish().status == 128 + SIGKILL)
    let dir = (path as NSString).deletingLastPathComponent
    #expect(mounts(box) == [(dir as NSString).lastPathComponent])
    for name in try FileManager.default.contentsOfDirectory(atPath: dir) {
      var st = stat()
      #expect(lstat(dir + "/" + name, &st) == 0)
      if name == ".lock" {
        #expect(st.st_mode & S_IFMT == S_IFREG && st.st_size == 0)
      } else {
        #expect(name == "app.env" && st.st_mode & S_IFMT == S_IFIFO, "\(name)")
      }
    }
    // Coffer is gone without cleaning up: the next run removes the directory.
    let next = box.run(["run", "-e", "production", "--mount", "b.env", "--", "true"])
    #expect(next.status == 0)
    #expect(next.stderr == "")
    #expect(!FileManager.default.fileExists(atPath: dir))
    #expect(mounts(box) == [])
  }
}
