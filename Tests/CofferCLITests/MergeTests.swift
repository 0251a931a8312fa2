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
    let r = box.run(["set", name, "--undeclared", "--env", env], stdin: Data(value.utf8), cwd: repo(box))
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
    // `init` makes trust model v2 projects: the merged file is format 2, re-sealed by the merging member, and
    // every author still verifies.
    let merged = try String(contentsOf: repo(box).appendingPathComponent(".coffer/vault/dev.vault"), encoding: .utf8)
    #expect(merged.hasPrefix("coffer-vault v2\nproject "))
    for name in ["ALICE_KEY", "BOB_KEY", "BASE"] {
      #expect(box.run(["history", name, "--env", "dev"], cwd: repo(box)).status == 0)
    }
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

  /// Another clone does not run `init`: its writes say the driver is missing until `init --merge-driver`, after which
  /// merges in that clone are clean too.
  @Test func anotherCloneRegistersTheDriverOnce() throws {
    let box = try repo()
    #expect(try git(["clone", "-q", ".", "../clone"], in: box).0 == 0)
    let clone = box.dir.appendingPathComponent("clone")
    func inClone(_ args: [String]) throws -> (Int32, String) { try git(["-C", clone.path] + args, in: box) }
    func setInClone(_ name: String, _ value: String) -> CLIResult {
      box.run(["set", name, "--undeclared", "--env", "dev"], stdin: Data(value.utf8), cwd: clone)
    }
    #expect(try inClone(["config", "merge.coffer.driver"]).0 == 1)
    let before = setInClone("EARLY", "early-value")
    #expect(before.status == 0)
    #expect(before.stderr.contains("\ncoffer: this clone has not registered coffer's merge driver, so git would merge vault files as text: run `coffer init --merge-driver` once\n"))

    let install = box.run(["init", "--merge-driver"], cwd: clone)
    #expect(install.status == 0)
    #expect(install.stderr == "coffer: registered the vault merge driver in \(clone.path)'s git config\n")
    #expect(try inClone(["config", "merge.coffer.driver"]).1 == "coffer merge-driver %O %A %B %P\n")
    #expect(box.run(["init", "--merge-driver"], cwd: clone).status == 0)  // again: no change, no error

    #expect(!setInClone("BASE", "base-in-clone").stderr.contains("merge driver"))
    #expect(try inClone(["commit", "-qam", "clone base"]).0 == 0)
    #expect(try inClone(["checkout", "-qb", "alice"]).0 == 0)
    #expect(setInClone("ALICE_KEY", "from-alice").status == 0)
    #expect(try inClone(["commit", "-qam", "alice"]).0 == 0)
    #expect(try inClone(["checkout", "-q", "main"]).0 == 0)
    #expect(setInClone("BOB_KEY", "from-bob").status == 0)
    #expect(try inClone(["commit", "-qam", "bob"]).0 == 0)
    let merge = try inClone(["merge", "-q", "--no-edit", "alice"])
    #expect(merge.0 == 0, "\(merge.1)")
    let json = box.run(["export", "--env", "dev", "--format", "json"], cwd: clone)
    #expect(json.out == #"{"ALICE_KEY":"from-alice","BASE":"base-in-clone","BOB_KEY":"from-bob","EARLY":"early-value"}"# + "\n")

    let outside = try Sandbox(manifest: basicManifest)
    let refused = outside.run(["init", "--merge-driver"])
    #expect(refused.status == 2)
    #expect(refused.stderr.hasPrefix("coffer: error: cannot register the merge driver in \(outside.dir.path): "))
  }
}

