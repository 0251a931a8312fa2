import Foundation
import Testing

/// `git:` imports: pinned in coffer.lock, read from the cache, moved by `coffer imports update`. Local bare
/// repositories only (no network).
@Suite("GitImportsCLI")
struct GitImportsCLITests {
  /// Runs a shell script in the sandbox (git with a fixed author, no user config).
  @discardableResult
  static func sh(_ script: String, in sb: Sandbox) -> Int32 {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/sh")
    p.arguments = ["-c", script]
    p.currentDirectoryURL = sb.dir
    p.environment = [
      "PATH": "/usr/bin:/bin", "HOME": sb.dir.path, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
      "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_CONFIG_NOSYSTEM": "1",
    ]
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    guard (try? p.run()) != nil else { return -1 }
    p.waitUntilExit()
    return p.terminationStatus
  }

  static func catalog(rotation: String) -> String {
    "version: 1\ngroups:\n  api-keys: { rotation: \(rotation) }\nsecrets:\n  OPENAI_API_KEY:\n    group: api-keys\n    prefix: sk-\n"
  }

  /// A sandbox with a bare repository `remote.git` holding `catalog/coffer.yaml` on `main`, and `web/` importing it.
  static func organization() throws -> Sandbox {
    let sb = try Sandbox()
    sb.extraEnvironment["XDG_CACHE_HOME"] = sb.path("cache")
    try sb.write("src/catalog/coffer.yaml", catalog(rotation: "90d"))
    let made = sh(
      "git init -q --bare remote.git && cd src && git init -q && git add . && git commit -qm one && git push -q ../remote.git HEAD:refs/heads/main",
      in: sb)
    precondition(made == 0, "cannot make the test repository")
    try sb.write(
      "web/coffer.yaml",
      "version: 1\nproject: web\nenvironments: [production]\nimports:\n  - { git: '\(sb.path("remote.git"))', ref: main, path: catalog }\nsecrets:\n  OPENAI_API_KEY:\n")
    return sb
  }

  static func head(_ sb: Sandbox) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/git")
    p.arguments = ["--git-dir", sb.path("remote.git"), "rev-parse", "main"]
    let pipe = Pipe()
    p.standardOutput = pipe
    try p.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
  }

  @Test func pinsAreRequiredWrittenByUpdateAndReadFromTheCache() throws {
    let sb = try Self.organization()
    let web = sb.dir.appendingPathComponent("web")
    let unpinned = sb.run(["check"], cwd: web)
    expectStatus(unpinned, 2, "check before imports update")
    #expect(
      unpinned.stderr
        == "coffer: error: coffer.yaml:5:5: imports[0]: git import \(sb.path("remote.git")) (main) is not pinned in coffer.lock; run `coffer imports update`\n"
    )
    let first = try Self.head(sb)
    let update = sb.run(["imports", "update"], cwd: web)
    expectStatus(update, 0, "imports update")
    #expect(update.out == "\(sb.path("remote.git")) (main, catalog): pinned at \(first.prefix(12))\n")
    let lock = String(decoding: try sb.read("web/coffer.lock"), as: UTF8.self)
    let hash = lock.split(separator: "\n").last.map { String($0.split(separator: "\t").last ?? "") } ?? ""
    #expect(lock.contains("\(sb.path("remote.git"))\tmain\tcatalog\t\(first)\t"))
    #expect(hash.count == 64)
    let show = sb.run(["manifest", "show"], cwd: web)
    expectStatus(show, 0, "manifest show")
    #expect(show.out.contains("    rotation: 90d "))
    #expect(show.out.contains(" # \(sb.path("remote.git"))@\(first.prefix(12)):catalog/coffer.yaml:3:25\n"))
    // The remote disappears: the pinned commit is still in the cache.
    try FileManager.default.moveItem(atPath: sb.path("remote.git"), toPath: sb.path("moved.git"))
    let offline = sb.run(["check", "--json"], cwd: web)
    expectStatus(offline, 1, "check with the remote gone")
    #expect(offline.stderr == "")
    // A new commit upstream: update moves the pin and names what changed.
    try FileManager.default.moveItem(atPath: sb.path("moved.git"), toPath: sb.path("remote.git"))
    try sb.write("src/catalog/coffer.yaml", Self.catalog(rotation: "30d"))
    #expect(Self.sh("cd src && git commit -qam two && git push -q ../remote.git HEAD:refs/heads/main", in: sb) == 0)
    let second = try Self.head(sb)
    let moved = sb.run(["imports", "update"], cwd: web)
    expectStatus(moved, 0, "imports update after a new commit")
    #expect(
      moved.out
        == "\(sb.path("remote.git")) (main, catalog): \(first.prefix(12)) → \(second.prefix(12))\n  changed groups.api-keys: rotation 90d → 30d\n"
    )
    let again = sb.run(["imports", "update"], cwd: web)
    #expect(again.out == "\(sb.path("remote.git")) (main, catalog): unchanged at \(second.prefix(12))\n")
  }

  @Test func aChangedContentHashUnderTheSamePinIsAnError() throws {
    let sb = try Self.organization()
    let web = sb.dir.appendingPathComponent("web")
    expectStatus(sb.run(["imports", "update"], cwd: web), 0, "imports update")
    let lock = String(decoding: try sb.read("web/coffer.lock"), as: UTF8.self)
    let hash = lock.split(separator: "\n").last.map { String($0.split(separator: "\t").last ?? "") } ?? ""
    let forged = String(repeating: "0", count: 64)
    try sb.write("web/coffer.lock", lock.replacingOccurrences(of: hash, with: forged))
    let r = sb.run(["check"], cwd: web)
    expectStatus(r, 2, "check with a changed hash")
    let commit = try Self.head(sb)
    #expect(
      r.stderr
        == "coffer: error: coffer.yaml:5:5: imports[0]: the content of \(sb.path("remote.git")) at \(commit.prefix(12)) (catalog/coffer.yaml) changed: coffer.lock pins sha256 0000000000000000…, the fetched file has \(hash.prefix(16))…\n"
    )
    // A malformed lock file is bad input too.
    try sb.write("web/coffer.lock", "not a lock\n")
    let bad = sb.run(["check"], cwd: web)
    expectStatus(bad, 2, "check with a malformed lock")
  }

  @Test(arguments: [String(repeating: "f", count: 64), String(repeating: "a", count: 63) + "b", "0123456789abcdef" + String(repeating: "9", count: 48)])
  func anyOtherPinnedHashIsRefused(forged: String) throws {
    let sb = try Self.organization()
    let web = sb.dir.appendingPathComponent("web")
    expectStatus(sb.run(["imports", "update"], cwd: web), 0, "imports update")
    let lock = String(decoding: try sb.read("web/coffer.lock"), as: UTF8.self)
    let hash = lock.split(separator: "\n").last.map { String($0.split(separator: "\t").last ?? "") } ?? ""
    try sb.write("web/coffer.lock", lock.replacingOccurrences(of: hash, with: forged))
    for args in [["check"], ["manifest", "show"], ["template"]] {
      let r = sb.run(args, cwd: web)
      expectStatus(r, 2, args.joined(separator: " ") + " with a forged hash")
      #expect(r.stderr.contains("changed: coffer.lock pins sha256 \(forged.prefix(16))…, the fetched file has \(hash.prefix(16))…"))
      #expect(r.out == "")
    }
  }

  @Test func aPinnedCommitNeitherCachedNorFetchableIsAnError() throws {
    let sb = try Self.organization()
    let web = sb.dir.appendingPathComponent("web")
    expectStatus(sb.run(["imports", "update"], cwd: web), 0, "imports update")
    // A fresh machine: no cache, and the remote is gone.
    try FileManager.default.removeItem(atPath: sb.path("cache"))
    try FileManager.default.moveItem(atPath: sb.path("remote.git"), toPath: sb.path("moved.git"))
    let r = sb.run(["check"], cwd: web)
    expectStatus(r, 2, "check without cache or remote")
    let commit = try String(decoding: sb.read("web/coffer.lock"), as: UTF8.self).split(separator: "\n").last?
      .split(separator: "\t")[3].prefix(12) ?? ""
    #expect(
      r.stderr.hasPrefix(
        "coffer: error: coffer.yaml:5:5: imports[0]: cannot fetch \(sb.path("remote.git")) and commit \(commit) is not in the cache: "
      ))
  }

  @Test func gitRunsWithoutCofferIdentityVariables() throws {
    // A fake git on PATH records its environment; the identity variables must not be in it.
    let sb = try Self.organization()
    let web = sb.dir.appendingPathComponent("web")
    try sb.write("bin/git", "#!/bin/sh\nenv > \"\(sb.path("git-env.txt"))\"\nexec /usr/bin/git \"$@\"\n")
    #expect(Self.sh("chmod +x bin/git", in: sb) == 0)
    let r = sb.run(
      ["imports", "update"], env: ["PATH": sb.path("bin") + ":/usr/bin:/bin", "COFFER_IDENTITY": "AGE-SECRET-KEY-1NOTREAL"],
      cwd: web)
    expectStatus(r, 0, "imports update")
    let seen = String(decoding: try sb.read("git-env.txt"), as: UTF8.self)
    #expect(!seen.contains("COFFER_IDENTITY"))
    #expect(seen.contains("GIT_TERMINAL_PROMPT=0"))
  }
}
