import Foundation
import Testing

/// Two people adding different secrets on two branches merge cleanly through git with coffer's merge driver.
@Suite struct MergeTests {
  func git(_ args: [String], in box: Sandbox, env: [String: String] = [:]) throws -> (Int32, String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/git")
    p.arguments = ["-c", "user.name=Tester", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"] + args
    p.currentDirectoryURL = box.dir.appendingPathComponent("repo")
    var e = ProcessInfo.processInfo.environment
    e["COFFER_IDENTITY_FILE"] = box.identityFile.path
    e["HOME"] = box.dir.appendingPathComponent("home").path
    e["PATH"] = URL(fileURLWithPath: Paths.binary).deletingLastPathComponent().path + ":/usr/bin:/bin"
    e["GIT_CONFIG_NOSYSTEM"] = "1"
    e.merge(env) { $1 }
    p.environment = e
    let out = Pipe()
    p.standardOutput = out
    p.standardError = out
    try p.run()
    let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    return (p.terminationStatus, text)
  }

  func repo(_ box: Sandbox) -> URL { box.dir.appendingPathComponent("repo") }

  func set(_ box: Sandbox, _ name: String, _ value: String, env: String) {
    let r = box.run(["set", name, "--env", env], stdin: Data(value.utf8), cwd: repo(box))
    #expect(r.status == 0, "\(r.stderr)")
  }

  func repo() throws -> Sandbox {
    // The repository is a subdirectory, so the sandbox's home (identity, audit log) stays outside it.
    let box = try Sandbox()
    try FileManager.default.createDirectory(at: box.dir.appendingPathComponent("repo"), withIntermediateDirectories: true)
    #expect(try git(["init", "-q", "-b", "main"], in: box).0 == 0)
    let r = box.run(["init", "--project-name", "merge-test", "--environments", "dev"], cwd: repo(box))
    #expect(r.status == 0, "\(r.stderr)")
    set(box, "BASE", "base-value", env: "dev")
    #expect(try git(["add", "-A"], in: box).0 == 0)
    #expect(try git(["commit", "-qm", "base"], in: box).0 == 0)
    return box
  }

  @Test func differentSecretsOnTwoBranchesMergeCleanly() throws {
    let box = try repo()
    let attributes = try String(contentsOf: repo(box).appendingPathComponent(".gitattributes"), encoding: .utf8)
    #expect(attributes.contains(".coffer/vault/*.vault text eol=lf merge=coffer\n"))
    #expect(try git(["config", "merge.coffer.driver"], in: box).1 == "coffer merge-driver %O %A %B %P\n")
    #expect(try git(["checkout", "-qb", "alice"], in: box).0 == 0)
    set(box, "ALICE_KEY", "from-alice", env: "dev")
    #expect(try git(["commit", "-qam", "alice"], in: box).0 == 0)
    #expect(try git(["checkout", "-q", "main"], in: box).0 == 0)
    set(box, "BOB_KEY", "from-bob", env: "dev")
    set(box, "BASE", "base-changed-by-bob", env: "dev")
    #expect(try git(["commit", "-qam", "bob"], in: box).0 == 0)
    let merge = try git(["merge", "-q", "--no-edit", "alice"], in: box)
    #expect(merge.0 == 0, "\(merge.1)")
    let json = box.run(["export", "--env", "dev", "--format", "json"], cwd: repo(box))
    #expect(json.status == 0, "\(json.stderr)")
    #expect(json.out == #"{"ALICE_KEY":"from-alice","BASE":"base-changed-by-bob","BOB_KEY":"from-bob"}"# + "\n")
  }

  @Test func theSameSecretChangedOnBothBranchesIsAConflict() throws {
    let box = try repo()
    #expect(try git(["checkout", "-qb", "alice"], in: box).0 == 0)
    set(box, "BASE", "alice-version", env: "dev")
    #expect(try git(["commit", "-qam", "alice"], in: box).0 == 0)
    #expect(try git(["checkout", "-q", "main"], in: box).0 == 0)
    set(box, "BASE", "bob-version", env: "dev")
    #expect(try git(["commit", "-qam", "bob"], in: box).0 == 0)
    let merge = try git(["merge", "-q", "--no-edit", "alice"], in: box)
    #expect(merge.0 != 0)
    #expect(merge.1.contains("coffer: error: cannot merge .coffer/vault/dev.vault: changed on both sides: BASE"))
    #expect(!merge.1.contains("alice-version") && !merge.1.contains("bob-version"))
  }
}
