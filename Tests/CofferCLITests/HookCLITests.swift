import Foundation
import Testing

/// `coffer hook install` and the pre-commit hook blocking a real `git commit`.
@Suite struct HookCLITests {
  static let token = "sk-fake-Hk4Wq8Zr2Lp6Yt0X"

  @Test func theHookBlocksACommitThatStagesASecret() throws {
    let box = try Sandbox(manifest: basicManifest)
    #expect(box.set("OPENAI_API_KEY", Self.token, env: "production").status == 0)
    let repo = try GitRepo(box)
    try repo.write("README", "hello\n")
    let first = try repo.commit("first")

    let install = repo.coffer(["hook", "install"])
    #expect(install.status == 0, "\(install.stderr)")
    let hook = repo.dir.appendingPathComponent(".git/hooks/pre-commit")
    let text = try String(contentsOf: hook, encoding: .utf8)
    #expect(text.hasPrefix("#!/bin/sh\n# installed by `coffer hook install`"))
    let binary = URL(fileURLWithPath: Paths.binary).resolvingSymlinksInPath().path
    #expect(text.contains("coffer='\(binary)'\n"))
    #expect(text.hasSuffix("exec \"$coffer\" scan --staged\n"))
    let mode = try FileManager.default.attributesOfItem(atPath: hook.path)[.posixPermissions] as? Int
    #expect(mode == 0o755)

    try repo.write("config.env", "OPENAI_API_KEY=\(Self.token)\n")
    try repo.git("add", "config.env")
    let blocked = repo.run(["commit", "-m", "leak"])
    #expect(blocked.status == 1)
    // git sends a hook's stdout to stderr.
    #expect(blocked.err.hasPrefix("config.env:1:16: known-value OPENAI_API_KEY (production v1, raw) "))
    #expect(blocked.err.contains("coffer: commit blocked"))
    #expect(try repo.git("rev-parse", "HEAD").trimmingCharacters(in: .whitespacesAndNewlines) == first)
    #expect(try repo.git("ls-tree", "--name-only", "HEAD") == "README\n")
    expectNoLeak([Self.token], in: [blocked.out, blocked.err])

    // Without the value the same commit goes through.
    try repo.write("config.env", "OPENAI_API_KEY=\n")
    try repo.git("add", "config.env")
    #expect(repo.run(["commit", "-q", "-m", "clean"]).status == 0)
    #expect(try repo.git("ls-tree", "--name-only", "HEAD") == "README\nconfig.env\n")
    // Installing again over its own hook is fine.
    #expect(repo.coffer(["hook", "install"]).status == 0)
  }

  @Test func aForeignHookIsKeptUnlessForced() throws {
    let box = try Sandbox(manifest: basicManifest)
    let repo = try GitRepo(box)
    let hook = repo.dir.appendingPathComponent(".git/hooks/pre-commit")
    try FileManager.default.createDirectory(at: hook.deletingLastPathComponent(), withIntermediateDirectories: true)
    try "#!/bin/sh\nmake lint\n".write(to: hook, atomically: true, encoding: .utf8)
    let refused = repo.coffer(["hook", "install"])
    #expect(refused.status == 2)
    #expect(refused.stderr.hasPrefix("coffer: error: refusing to overwrite "))
    #expect(refused.stderr.contains("coffer: hint: pass --force to replace it"))
    #expect(try String(contentsOf: hook, encoding: .utf8) == "#!/bin/sh\nmake lint\n")
    #expect(repo.coffer(["hook", "install", "--force"]).status == 0)
    #expect(try String(contentsOf: hook, encoding: .utf8).contains("scan --staged"))
    // Outside a git work tree: bad usage.
    let outside = box.run(["hook", "install"], cwd: box.dir.appendingPathComponent("home"))
    #expect(outside.status == 2)
  }

  @Test func preCommitFrameworkManifest() throws {
    let text = try String(contentsOf: Paths.root.appendingPathComponent(".pre-commit-hooks.yaml"), encoding: .utf8)
    #expect(text.contains("- id: coffer-scan\n"))
    #expect(text.contains("  entry: coffer scan --staged\n"))
    #expect(text.contains("  language: system\n"))
    #expect(text.contains("  pass_filenames: false\n"))
  }
}
