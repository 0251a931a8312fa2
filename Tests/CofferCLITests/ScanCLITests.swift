import CofferTesting
import Foundation
import Testing

/// A git work tree inside a sandbox (`box.dir/repo`), the project's `coffer.yaml` one level up.
struct GitRepo {
  let box: Sandbox
  let dir: URL
  var environment: [String: String] {
    [
      "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": box.dir.appendingPathComponent("home").path,
      "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.invalid", "GIT_COMMITTER_NAME": "Test",
      "GIT_COMMITTER_EMAIL": "test@example.invalid", "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z",
      "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z", "COFFER_IDENTITY_FILE": box.identityFile.path, "LANG": "C",
    ]
  }

  init(_ box: Sandbox) throws {
    self.box = box
    dir = box.dir.appendingPathComponent("repo")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    try git("init", "-q", "-b", "main", ".")
  }

  /// Runs git in the repository; throws when it fails.
  @discardableResult
  func git(_ args: String...) throws -> String {
    let r = run(args)
    guard r.status == 0 else { throw GitFailure(args: args, stderr: r.err) }
    return r.out
  }

  func run(_ args: [String]) -> (status: Int32, out: String, err: String) {
    let identity = ["-c", "user.name=Test", "-c", "user.email=test@example.invalid", "-c", "commit.gpgsign=false"]
    guard let r = try? ChildProcess.run("/usr/bin/git", identity + args, cwd: dir, environment: environment) else {
      return (-1, "", "cannot start git")
    }
    return (r.status, String(decoding: r.stdout, as: UTF8.self), String(decoding: r.stderr, as: UTF8.self))
  }

  func write(_ name: String, _ text: String) throws { try box.write("repo/" + name, text) }

  func commit(_ message: String) throws -> String {
    try git("add", "-A")
    try git("commit", "-q", "-m", message)
    return try git("rev-parse", "HEAD").trimmingCharacters(in: .whitespacesAndNewlines)
  }

  /// Runs coffer in the repository.
  func coffer(_ args: [String], env: [String: String] = [:]) -> CLIResult { box.run(args, env: env, cwd: dir) }
}

struct GitFailure: Error {
  let args: [String]
  let stderr: String
}

/// The fields of each finding in `coffer scan --json` output, as "path:line:column rule secret env/version encoding".
func jsonFindings(_ r: CLIResult) -> [String] {
  guard let doc = try? JSONSerialization.jsonObject(with: r.stdout) as? [String: Any],
    let findings = doc["findings"] as? [[String: Any]]
  else { return ["unparsable: \(r.out)"] }
  return findings.map { f in
    let commit = (f["commit"] as? String).map { String($0.prefix(7)) + " " } ?? ""
    let secret = f["secret"] as? String ?? "-"
    let where_ = (f["environment"] as? String).map { "\($0)/\(f["version"] as? Int ?? 0)" } ?? "-"
    return "\(commit)\(f["path"] as? String ?? ""):\(f["line"] as? Int ?? 0):\(f["column"] as? Int ?? 0) \(f["rule"] as? String ?? "") \(secret) \(where_) \(f["encoding"] as? String ?? "-")"
  }
}

/// Asserts that no value, nor any 6-byte piece of one, appears in any of the outputs.
func expectNoLeak(_ values: [String], in outputs: [String], sourceLocation: SourceLocation = #_sourceLocation) {
  let all = outputs.joined(separator: "\n")
  for value in values {
    let bytes = Array(value.utf8)
    for i in 0...(max(0, bytes.count - 6)) {
      let piece = String(decoding: bytes[i..<min(bytes.count, i + 6)], as: UTF8.self)
      #expect(!all.contains(piece), "a piece of a value leaked", sourceLocation: sourceLocation)
    }
  }
}

/// `coffer scan`: the working tree, JSON and SARIF, suppression, the index and the history, through the binary.
@Suite struct ScanCLITests {
  static let token = "sk-fake-Zq9Xk3wPr7Ty2Uv8"
  static let dbOld = "postgres://app:Old8pass9Word@db.internal/app"
  static let dbNew = "postgres://app:New3pass5Word@db.internal/app"

  func makeProject() throws -> (Sandbox, GitRepo) {
    let box = try Sandbox(manifest: basicManifest)
    #expect(box.set("OPENAI_API_KEY", Self.token, env: "development").status == 0)
    #expect(box.set("DATABASE_URL", Self.dbOld, env: "production").status == 0)
    #expect(box.set("DATABASE_URL", Self.dbNew, env: "production").status == 0)
    #expect(box.set("LOG_LEVEL", "dbg", env: "production").status == 0)
    return (box, try GitRepo(box))
  }

  @Test func workingTreeFindingsWithExactPositionsAndGitIgnoreRespected() throws {
    let (box, repo) = try makeProject()
    let b64 = Data(Self.token.utf8).base64EncodedString()
    try repo.write("a.txt", "first line\nkey=\(Self.token)\n")
    try repo.write("sub/config.yaml", "data:\n  token: \(b64)\n  db: \(Self.dbOld)\n")
    try repo.write(".gitignore", "ignored.txt\n")
    try repo.write("ignored.txt", Self.token)
    try repo.write("binary.bin", "\u{0}\(Self.token)")
    _ = try repo.commit("one")
    try repo.write("untracked.txt", "é \(Self.dbNew)")
    let r = repo.coffer(["scan", "--json"])
    #expect(r.status == 1)
    #expect(jsonFindings(r) == [
      "a.txt:2:5 known-value OPENAI_API_KEY development/1 raw",
      "sub/config.yaml:2:10 known-value OPENAI_API_KEY development/1 base64",
      "sub/config.yaml:3:7 known-value DATABASE_URL production/1 raw",
      "untracked.txt:1:3 known-value DATABASE_URL production/2 raw",
    ])
    #expect(r.stderr.contains("coffer: 1 known value is not looked for (plain settings, short, common or placeholder values; --verbose names them)\n"))
    #expect(r.stderr.contains("coffer: scanned 4 files ("))
    #expect(r.stderr.contains("): 4 findings; skipped 1 binary\n"))

    let text = repo.coffer(["scan"])
    #expect(text.status == 1)
    let lines = text.out.split(separator: "\n").map { String($0.dropLast(17)) }
    #expect(lines == [
      "a.txt:2:5: known-value OPENAI_API_KEY (development v1, raw)",
      "sub/config.yaml:2:10: known-value OPENAI_API_KEY (development v1, base64)",
      "sub/config.yaml:3:7: known-value DATABASE_URL (production v1, raw)",
      "untracked.txt:1:3: known-value DATABASE_URL (production v2, raw)",
    ])
    expectNoLeak([Self.token, Self.dbOld, Self.dbNew, b64], in: [r.out, r.stderr, text.out, text.stderr])

    // Outside git: a plain walk of the directory, skipping .git.
    let plain = box.run(["scan", "--json", "repo/sub"])
    #expect(jsonFindings(plain) == [
      "repo/sub/config.yaml:2:10 known-value OPENAI_API_KEY development/1 base64",
      "repo/sub/config.yaml:3:7 known-value DATABASE_URL production/1 raw",
    ])
  }

  /// Paths named on the command line are scanned as given: through a symbolic link, and a pipe read to its end
  /// (`/dev/stdin`, what hooks and CI steps pipe content into). Links found in a walk are still not followed.
  @Test func namedLinksAndPipesAreScanned() throws {
    let (box, repo) = try makeProject()
    let outside = box.dir.appendingPathComponent("outside.txt")
    try Data("key=\(Self.token)\n".utf8).write(to: outside)
    try FileManager.default.createSymbolicLink(atPath: repo.dir.appendingPathComponent("link.txt").path, withDestinationPath: outside.path)
    let linked = repo.coffer(["scan", "--json", "link.txt"])
    #expect(linked.status == 1)
    #expect(jsonFindings(linked) == ["link.txt:1:5 known-value OPENAI_API_KEY development/1 raw"])
    let walked = repo.coffer(["scan", "--json"])
    #expect(jsonFindings(walked) == [])
    let piped = box.run(["scan", "--json", "/dev/stdin"], stdin: Data("one\ntwo \(Self.dbNew)\n".utf8), cwd: repo.dir)
    #expect(piped.status == 1)
    #expect(jsonFindings(piped) == ["/dev/stdin:2:5 known-value DATABASE_URL production/2 raw"])
    let clean = box.run(["scan", "/dev/stdin"], stdin: Data("nothing here\n".utf8), cwd: repo.dir)
    #expect(clean.status == 0)
    #expect(clean.stderr.hasSuffix("coffer: scanned 1 files (13 bytes): 0 findings\n"))
    expectNoLeak([Self.token, Self.dbNew], in: [linked.all, piped.all, clean.all])
  }

  @Test func jsonAndSarifSchemas() throws {
    let (_, repo) = try makeProject()
    try repo.write("a b.txt", "x\n  \(Self.token)\n")
    let j = repo.coffer(["scan", "--json"])
    let doc = try #require(try JSONSerialization.jsonObject(with: j.stdout) as? [String: Any])
    #expect(Set(doc.keys) == ["version", "mode", "findings", "skipped_values", "summary"])
    #expect(doc["mode"] as? String == "tree")
    let finding = try #require((doc["findings"] as? [[String: Any]])?.first)
    #expect(Set(finding.keys) == ["path", "line", "column", "end_line", "rule", "secret", "environment", "version", "encoding", "fingerprint", "commit"])
    let fingerprint = try #require(finding["fingerprint"] as? String)
    #expect(fingerprint.count == 64 && fingerprint.allSatisfy { $0.isHexDigit && !$0.isUppercase })
    #expect((doc["skipped_values"] as? [[String: Any]])?.first?["secret"] as? String == "LOG_LEVEL")

    let s = repo.coffer(["scan", "--sarif"])
    #expect(s.status == 1)
    let sarif = try #require(try JSONSerialization.jsonObject(with: s.stdout) as? [String: Any])
    #expect(sarif["$schema"] as? String == "https://json.schemastore.org/sarif-2.1.0.json")
    #expect(sarif["version"] as? String == "2.1.0")
    let run = try #require((sarif["runs"] as? [[String: Any]])?.first)
    let driver = try #require((run["tool"] as? [String: Any])?["driver"] as? [String: Any])
    #expect(driver["name"] as? String == "coffer")
    #expect((driver["rules"] as? [[String: Any]])?.map { $0["id"] as? String } == ["known-value", "private-key", "age-identity"])
    let result = try #require((run["results"] as? [[String: Any]])?.first)
    #expect(result["ruleId"] as? String == "known-value")
    let location = try #require((result["locations"] as? [[String: Any]])?.first?["physicalLocation"] as? [String: Any])
    #expect((location["artifactLocation"] as? [String: Any])?["uri"] as? String == "a%20b.txt")
    let region = try #require(location["region"] as? [String: Any])
    #expect(region["startLine"] as? Int == 2)
    #expect(region["startColumn"] as? Int == 3)
    #expect((result["partialFingerprints"] as? [String: Any])?["cofferFingerprint/v1"] as? String == fingerprint)
    expectNoLeak([Self.token], in: [j.out, s.out, j.stderr, s.stderr])
  }

  @Test func suppressionByCommentIgnoreFileAndBaseline() throws {
    let (_, repo) = try makeProject()
    try repo.write("a.txt", "k=\(Self.token) # coffer:allow\nk2=\(Self.token)\n")
    try repo.write("fixtures/f.txt", Self.dbOld)
    try repo.write("keep/f.txt", Self.dbOld)
    try repo.write(".cofferignore", "fixtures/\n")
    #expect(jsonFindings(repo.coffer(["scan", "--json"])) == [
      "a.txt:2:4 known-value OPENAI_API_KEY development/1 raw",
      "keep/f.txt:1:1 known-value DATABASE_URL production/1 raw",
    ])
    let w = repo.coffer(["scan", "--write-baseline", ".cofferbaseline"])
    #expect(w.status == 0)
    #expect(w.stderr.contains("coffer: wrote 2 accepted findings to .cofferbaseline\n"))
    let clean = repo.coffer(["scan"])
    #expect(clean.status == 0)
    #expect(clean.out == "")
    #expect(clean.stderr.contains(": 0 findings, 2 accepted by the baseline; skipped 1 by .cofferignore\n"))
    // The same value in another file is not accepted by an entry for a.txt.
    try repo.write("b.txt", Self.token)
    #expect(jsonFindings(repo.coffer(["scan", "--json"])) == ["b.txt:1:1 known-value OPENAI_API_KEY development/1 raw"])
    // A malformed baseline is bad input, with its line.
    try repo.write("bad-baseline", "# x\nnope\n")
    let bad = repo.coffer(["scan", "--baseline", "bad-baseline"])
    #expect(bad.status == 2)
    #expect(bad.stderr.hasSuffix("\ncoffer: error: bad-baseline:2: expected a 64-digit lowercase hex fingerprint, then an optional tab and path\n"))
  }

  @Test func stagedScansTheIndexNotTheWorkingTree() throws {
    let (_, repo) = try makeProject()
    try repo.write("a.txt", "clean\n")
    _ = try repo.commit("one")
    try repo.write("a.txt", "clean\nleak=\(Self.token)\n")
    try repo.git("add", "a.txt")
    try repo.write("a.txt", "clean\n")  // the work tree no longer has it; the index does
    try repo.write("b.txt", Self.dbNew)  // not staged
    let r = repo.coffer(["scan", "--staged", "--json"])
    #expect(r.status == 1)
    #expect(jsonFindings(r) == ["a.txt:2:6 known-value OPENAI_API_KEY development/1 raw"])
    #expect(r.stderr.contains("commit blocked"))
    #expect(repo.coffer(["scan", "--staged", "b.txt"]).status == 0)
  }

  @Test func historyReportsTheCommitThatIntroducedEachFinding() throws {
    let (_, repo) = try makeProject()
    try repo.write("a.txt", "one\n")
    let c1 = try repo.commit("start")
    try repo.write("a.txt", "one\ntwo \(Self.token)\n")
    let c2 = try repo.commit("leak")
    try repo.write("a.txt", "one\ntwo \(Self.token)\nthree\n")  // still there: not introduced again
    _ = try repo.commit("edit")
    try repo.write("a.txt", "one\n")
    _ = try repo.commit("remove")
    try repo.git("checkout", "-q", "-b", "side", c1)
    try repo.write("side.txt", "x\n-----BEGIN PRIVATE KEY-----\\nMIIfakeCCCCdddd\\n-----END PRIVATE KEY-----\\n\n")
    let c5 = try repo.commit("side key")
    try repo.write("side.txt", "x\n")
    _ = try repo.commit("side cleanup")
    try repo.git("checkout", "-q", "main")
    try repo.git("merge", "-q", "--no-edit", "side")
    #expect(repo.coffer(["scan"]).status == 0)  // the tree is clean now
    let r = repo.coffer(["scan", "--history", "--json"])
    #expect(r.status == 1)
    let found = jsonFindings(r)
    #expect(Set(found) == [
      "\(c2.prefix(7)) a.txt:2:5 known-value OPENAI_API_KEY development/1 raw",
      "\(c5.prefix(7)) side.txt:2:1 private-key - - -",
    ])
    #expect(found.count == 2)
    let doc = try #require(try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any])
    #expect(((doc["findings"] as? [[String: Any]]) ?? []).compactMap { $0["commit"] as? String }.sorted() == [c2, c5].sorted())
    #expect(((doc["summary"] as? [String: Any])?["commits"] as? Int) == 7)
    #expect(r.stderr.contains(" in 7 commits ("))
    expectNoLeak([Self.token, "MIIfakeCCCCdddd"], in: [r.out, r.stderr])
  }

  /// F18: git never sees a value on its command line.
  @Test func subprocessesNeverGetAValueInArgv() throws {
    let (box, repo) = try makeProject()
    let bin = box.dir.appendingPathComponent("bin")
    try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
    let log = box.dir.appendingPathComponent("git-argv.log").path
    let wrapper = bin.appendingPathComponent("git")
    try "#!/bin/sh\nprintf '%s\\n' \"$*\" >> '\(log)'\nexec /usr/bin/git \"$@\"\n".write(to: wrapper, atomically: true, encoding: .utf8)
    try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: wrapper.path)
    try repo.write("a.txt", Self.token)
    _ = try repo.commit("leak")
    try repo.write("b.txt", Self.dbNew)
    try repo.git("add", "b.txt")
    let path = ["PATH": bin.path + ":/usr/local/bin:/usr/bin:/bin"]
    #expect(repo.coffer(["scan"], env: path).status == 1)
    #expect(repo.coffer(["scan", "--staged"], env: path).status == 1)
    #expect(repo.coffer(["scan", "--history"], env: path).status == 1)
    let argv = try String(contentsOfFile: log, encoding: .utf8)
    #expect(argv.contains("ls-files"))
    #expect(argv.contains("cat-file --batch"))
    expectNoLeak([Self.token, Self.dbOld, Self.dbNew], in: [argv])
  }

  @Test func withoutAProjectOnlyPrivateKeysAreLookedFor() throws {
    let box = try Sandbox()
    try box.write("plain/k.env", "private_key=-----BEGIN RSA PRIVATE KEY----- MIIfakeAAAA BBBBfake== -----END RSA PRIVATE KEY-----\n")
    let r = box.run(["scan", "--json", "plain"])
    #expect(r.status == 1)
    #expect(jsonFindings(r) == ["plain/k.env:1:13 private-key - - -"])
    #expect(r.stderr.hasPrefix("coffer: no coffer.yaml here or above: looking for private keys only, not for known values\n"))
    // The fingerprint is keyed by the identity: the same across runs, and not a hash of the key.
    let again = box.run(["scan", "--json", "plain"])
    #expect(again.out == r.out)
  }

  /// A Coffer identity committed to the repository is found, though it is no value in the vault.
  @Test func anIdentityFileIsAFinding() throws {
    let (box, repo) = try makeProject()
    try repo.write("keys/me.txt", try String(contentsOf: box.identityFile, encoding: .utf8))
    let r = repo.coffer(["scan", "--json"])
    #expect(r.status == 1)
    #expect(jsonFindings(r) == ["keys/me.txt:3:1 age-identity - - -"])
  }

  @Test func usageErrors() throws {
    let (_, repo) = try makeProject()
    #expect(repo.coffer(["scan", "--staged", "--history"]).stderr == "coffer: error: give at most one of --staged and --history\n")
    #expect(repo.coffer(["scan", "--json", "--sarif"]).status == 2)
    #expect(repo.coffer(["scan", "--max-file-size", "big"]).status == 2)
    #expect(repo.coffer(["scan", "no-such-dir"]).status == 2)
  }
}
