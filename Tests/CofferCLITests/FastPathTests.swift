import CofferCore
import Foundation
import Testing

@testable import CofferVault

/// `get NAME --env E` and `run` skip ArgumentParser and coffer.yaml when `run`'s manifest cache answers
/// (docs/performance.md). The fast path must be invisible: the same stdout, stderr, exit status and audit line as
/// the slow path, and every case it cannot answer for certain goes the slow way.
@Suite struct FastPathTests {
  /// What the audit log recorded, as (actor, action, names) per line.
  static func audit(_ team: Team, as who: String) throws -> [[String: Any]] {
    try team.run(who, ["audit", "--json"]).out.split(separator: "\n").map {
      try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
    }
  }

  /// Runs each form as given and again with `--verbose` (no fast form takes it, so ArgumentParser parses it): the
  /// same exit status, stdout and stderr (but for the debug lines).
  static func expectSameAsSlowPath(_ team: Team, _ forms: [(who: String, args: [String])]) {
    for form in forms {
      let fast = team.run(form.who, form.args)
      let slow = team.run(form.who, form.args + ["--verbose"])
      #expect(fast.status == slow.status, "\(form.args): \(fast.stderr)")
      #expect(fast.out == slow.out, "\(form.args)")
      #expect(slow.stderr.split(separator: "\n").filter { !$0.contains("debug:") } == fast.stderr.split(separator: "\n"), "\(form.args)")
    }
  }

  static func cacheFiles(_ team: Team) throws -> [String] {
    let dir = team.box.path("home/.local/state/coffer/required")
    return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).map { dir + "/" + $0 }
  }

  @Test func everyArgumentFormGivesTheSameOutputAndAuditLine() throws {
    let team = try Team()
    #expect(try Self.cacheFiles(team).isEmpty, "nothing cached before a read")
    let forms: [[String]] = [
      ["get", "API_KEY", "--env", "production"],  // first: a cache miss, the manifest is decoded and cached
      ["get", "API_KEY", "--env", "production"],
      ["get", "--env=production", "API_KEY"],
      ["get", "-e", "production", "API_KEY"],
      ["get", "API_KEY", "--env", "production", "--version", "1"],
      ["get", "API_KEY", "--env", "production", "--verbose"],  // not a fast form: ArgumentParser
      ["get", "API_KEY", "--project", team.box.dir.path, "--env", "production"],
    ]
    let before = try Self.audit(team, as: "alice").count
    for args in forms {
      let r = team.run("alice", args)
      #expect(r.status == 0, "\(args): \(r.stderr)")
      #expect(r.out == "api-v1\n", "\(args)")
      if !args.contains("--verbose") { #expect(r.stderr == "", "\(args)") }
    }
    #expect(try Self.cacheFiles(team).count == 1, "the first get wrote run's cache")
    let n = team.run("alice", ["get", "API_KEY", "--env", "production", "-n"])
    #expect(n.out == "api-v1")
    let json = team.run("alice", ["get", "API_KEY", "--env", "production", "--json"])
    #expect(json.out == "{\"name\":\"API_KEY\",\"value\":\"api-v1\"}\n")
    let lines = try Self.audit(team, as: "alice")
    #expect(lines.count == before + forms.count + 2)
    for line in lines.suffix(forms.count + 2) {
      #expect(line["actor"] as? String == "alice")
      #expect(line["action"] as? String == "read")
      #expect(line["environment"] as? String == "production")
    }
    #expect(team.run("alice", ["audit", "verify"]).status == 0)
  }

  /// Errors come from the slow path, word for word: an unreadable group, a name without a value, an undeclared
  /// environment, a version that is not kept.
  @Test func refusalsAreTheSlowPathsOwn() throws {
    let team = try Team()
    #expect(team.run("alice", ["get", "API_KEY", "--env", "production"]).status == 0)  // cache written
    let cases: [(who: String, args: [String], status: Int32, stderr: String)] = [
      ("bob", ["get", "INFRA_TOKEN", "--env", "production"], 3, "coffer: error: "),
      ("alice", ["get", "DB_PASSWORD", "--env", "production"], 1, "coffer: error: "),
      ("alice", ["get", "API_KEY", "--env", "staging"], 2, "coffer: error: unknown environment staging"),
      ("alice", ["get", "API_KEY", "--env", "production", "--version", "9"], 1, "coffer: error: "),
      ("mallory", ["get", "API_KEY", "--env", "production"], 3, "coffer: error: "),
    ]
    for c in cases {
      let fast = team.run(c.who, c.args)
      let slow = team.run(c.who, c.args + ["--verbose"])
      #expect(fast.status == c.status, "\(c.args): \(fast.stderr)")
      #expect(fast.out == "")
      #expect(fast.stderr.hasPrefix(c.stderr), "\(c.args): \(fast.stderr)")
      #expect(slow.status == fast.status)
      #expect(slow.stderr.split(separator: "\n").filter { !$0.contains("debug:") } == fast.stderr.split(separator: "\n"), "\(c.args)")
    }
  }

  /// A pending (unapproved) edit of recipients or access in coffer.yaml is named by `get` and by `run`, whose
  /// fast path once skipped the warning (the cache now records the policy coffer.yaml asks for).
  @Test func aPendingPolicyChangeIsNamedOnEveryPath() throws {
    let team = try Team()
    #expect(team.run("alice", ["get", "API_KEY", "--env", "production"]).stderr == "")
    #expect(team.run("alice", ["run", "--env", "production", "--allow-missing", "--", "true"]).stderr == "")
    var yaml = String(decoding: try team.box.read("coffer.yaml"), as: UTF8.self)
    yaml = yaml.replacingOccurrences(of: "recipients: [alice] }", with: "recipients: [alice, bob] }")
    try team.box.write("coffer.yaml", yaml)
    let warning = "coffer.yaml's recipients/access differ from the approved policy (epoch 4, approved by alice)"
    for round in 0..<2 {  // the first decodes the changed manifest and caches it; the second reads the cache
      let get = team.run("alice", ["get", "API_KEY", "--env", "production"])
      #expect(get.out == "api-v1\n", "round \(round)")
      #expect(get.stderr.contains(warning), "round \(round): \(get.stderr)")
      let run = team.run("alice", ["run", "--env", "production", "--allow-missing", "--", "true"])
      #expect(run.status == 0)
      #expect(run.stderr.contains(warning), "round \(round): \(run.stderr)")
    }
  }

  /// A composed secret is computed from its parts, never read from the vault, on the fast path too.
  @Test func aComposedSecretIsComputed() throws {
    let team = try Team()
    var yaml = String(decoding: try team.box.read("coffer.yaml"), as: UTF8.self)
    yaml = yaml.replacingOccurrences(
      of: "secrets:\n", with: "secrets:\n  API_URL: { group: api-keys, compose: \"https://x:{{ API_KEY }}@api.example.com\" }\n")
    try team.box.write("coffer.yaml", yaml)
    for _ in 0..<2 {
      let r = team.run("alice", ["get", "API_URL", "--env", "production"])
      #expect(r.status == 0, "\(r.stderr)")
      #expect(r.out == "https://x:api-v1@api.example.com\n")
    }
  }

  /// The verified-signature memo (docs/vault-format.md): written 0600 beside the trust memory, unchanged by a
  /// second read of the same files, and no help to a tampered seal; a garbled memo is only verified again.
  @Test func theSignatureMemoRemembersOnlyWhatVerified() throws {
    let team = try Team()
    let memoPath = team.box.path("home/.local/state/coffer/signatures.memo")
    let run = ["run", "--env", "production", "--allow-missing", "--", "true"]
    #expect(team.run("alice", run).status == 0)
    let first = try Data(contentsOf: URL(fileURLWithPath: memoPath))
    #expect(first.starts(with: Data("coffer-signature-memo v1\n".utf8)))
    #expect((first.count - 25) % 16 == 0 && first.count > 25)
    let mode = try FileManager.default.attributesOfItem(atPath: memoPath)[.posixPermissions] as? Int
    #expect(mode == 0o600)
    #expect(team.run("alice", run).status == 0)
    #expect(try Data(contentsOf: URL(fileURLWithPath: memoPath)) == first, "nothing new was verified")
    // A seal changed by one base64 character: refused although the original seal is in the memo (an insider who
    // also recomputes the file MAC meets the signature check itself: SignatureMemoTests).
    let text = String(decoding: try team.vaultBytes, as: UTF8.self)
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let i = try #require(lines.firstIndex { $0.hasPrefix("seal api-keys ") })
    var chars = Array(lines[i])
    let j = chars.count - 20
    chars[j] = chars[j] == "A" ? "B" : "A"
    lines[i] = String(chars)
    try team.box.write(team.vaultFile, lines.joined(separator: "\n"))
    let tampered = team.run("alice", run)
    #expect(tampered.status == 3, "\(tampered.stderr)")
    #expect(tampered.stderr.hasPrefix("coffer: error: vault authentication failed: .coffer/vault/production.vault"), "\(tampered.stderr)")
    try team.box.write(team.vaultFile, text)
    // A garbled memo is an empty one: verified again, and written anew.
    try Data("garbage".utf8).write(to: URL(fileURLWithPath: memoPath))
    #expect(team.run("alice", run).status == 0)
    #expect(try Data(contentsOf: URL(fileURLWithPath: memoPath)).starts(with: Data("coffer-signature-memo v1\n".utf8)))
  }

  /// The memo's vault entry (docs/vault-format.md): once alice verified a vault file, her memo vouches for its seals
  /// by the file's MAC under the policy record, so a read of the same bytes does not hash the groups again. An
  /// insider who reads another group (bob holds the environment key) changes a line of a group he may not write,
  /// keeps alice's seal and recomputes the MAC: the MAC is new, so the memo vouches for nothing and the seal check
  /// refuses the file.
  @Test func theMemoVouchesOnlyForTheBytesItVerified() throws {
    let team = try Team()
    let memoPath = team.box.path("home/.local/state/coffer/signatures.memo")
    #expect(team.run("alice", ["get", "INFRA_TOKEN", "--env", "production"]).out == "infra-v1\n")
    let original = try team.vaultBytes
    let chain = try team.chain()
    let alice = try team.identity("alice")
    let parsed = try VaultFile.parse(original, file: "v")
    let memo = SignatureMemo(identity: alice, stored: Array(try Data(contentsOf: URL(fileURLWithPath: memoPath))))
    let tag = memo.vaultTag(project: try #require(parsed.project), environment: "production", policyRecord: chain.head.hash, mac: parsed.mac)
    #expect(memo.contains(tag), "alice's read entered the file in her memo")
    #expect(team.run("alice", ["get", "INFRA_TOKEN", "--env", "production"]).out == "infra-v1\n")

    // bob's script: a new time on INFRA_TOKEN's version line, alice's seal kept, the MAC recomputed with his key.
    let bobsView = try VaultFile.open(original, file: "v", with: [try team.identity("bob")], trust: chain)
    var lines = String(decoding: original, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let secret = try #require(lines.firstIndex(of: "secret INFRA_TOKEN infrastructure-credentials"))
    var fields = lines[secret + 1].split(separator: " ", omittingEmptySubsequences: false).map(String.init)
    fields[3] = "2020-01-01T00:00:00Z"  // ["", "v", N, TIME, …]
    lines[secret + 1] = fields.joined(separator: " ")
    let macLine = try #require(lines.firstIndex { $0.hasPrefix("mac ") })
    let body = Array(lines[..<macLine].joined(separator: "\n").utf8) + [0x0A]
    lines[macLine] = "mac " + Base64.encode(VaultFile.mac(body[...], envKey: bobsView.envKey, version: 2), padded: true)
    try team.box.write(team.vaultFile, lines.joined(separator: "\n"))
    #expect(try VaultFile.parse(try team.vaultBytes, file: "v").mac != parsed.mac)
    for args in [["get", "INFRA_TOKEN", "--env", "production"], ["run", "--env", "production", "--allow-missing", "--", "true"]] {
      let r = team.run("alice", args)
      #expect(r.status == 3, "\(args): \(r.stderr)")
      #expect(r.stderr.contains("group infrastructure-credentials: the seal of alice does not verify"), "\(args): \(r.stderr)")
    }
  }

  /// An environment whose `store:` is a server is never answered from a vault file left beside it: the cache
  /// records the stores, and `get` and `run` take the slow path, which refuses the ambiguity (exit 2).
  @Test func aStoreEnvironmentIsNeverServedFromAVaultFile() throws {
    let team = try Team()
    for _ in 0..<2 { #expect(team.run("alice", ["get", "API_KEY", "--env", "production"]).out == "api-v1\n") }
    var yaml = String(decoding: try team.box.read("coffer.yaml"), as: UTF8.self)
    let before = yaml
    // Only the `environments:` line (the access rules name production too).
    yaml = yaml.split(separator: "\n", omittingEmptySubsequences: false).map { line in
      line.hasPrefix("environments:")
        ? line.replacingOccurrences(of: "production]", with: "{ name: production, store: bao }]") : String(line)
    }.joined(separator: "\n")
    #expect(yaml != before, "\(before)")
    yaml += "destinations:\n  bao:\n    type: openbao\n    api_url: http://127.0.0.1:9\n    path: app/prod\n    from: production\n"
    try team.box.write("coffer.yaml", yaml)
    for args in [["get", "API_KEY", "--env", "production"], ["run", "--env", "production", "--", "true"]] {
      for _ in 0..<2 {
        let r = team.run("alice", args)
        #expect(r.status == 2, "\(args): \(r.stderr)")
        #expect(r.out == "")
        #expect(r.stderr.contains("production has store: bao in coffer.yaml, but also a vault file"), "\(args): \(r.stderr)")
      }
    }
  }

  /// `check` with its common options skips ArgumentParser (and, on a warm manifest snapshot, the YAML): every form
  /// and every verdict (ok, missing, unreadable groups, an unknown environment, JSON, a bad flag) must read as
  /// the slow path's, which `--verbose` (not a fast form) takes; the audit line is the same too.
  @Test func checkGivesTheSlowPathsOutputInEveryForm() throws {
    let team = try Team()
    let forms: [(who: String, args: [String])] = [
      ("alice", ["check", "--env", "production"]),  // DB_PASSWORD is missing
      ("alice", ["check", "--env=production", "--json"]),
      ("alice", ["validate", "-e", "production", "--no-color"]),
      ("alice", ["detect-missing", "--project", team.box.dir.path, "--env", "production"]),
      ("alice", ["check", "--env", "development"]),
      ("bob", ["check", "--env", "production"]),  // groups bob cannot read: exit 3
      ("bob", ["check", "--env", "production", "--allow-partial", "--json"]),
      ("alice", ["check", "--env", "staging"]),  // not declared: exit 2
      ("alice", ["check", "--env"]),  // no value: ArgumentParser's own error
      ("alice", ["check", "--env", "production", "--jsn"]),
    ]
    Self.expectSameAsSlowPath(team, forms)
    // Each check that opened the vault recorded one line, whichever path it took: alice's four production forms
    // and bob's partial one, twice each (bob's refused check and development, which has no vault, record none).
    let checks = try Self.audit(team, as: "alice").filter { $0["action"] as? String == "check" }
    #expect(checks.count == 2 * 5, "\(checks.count)")
    let missing = team.run("alice", ["check", "--env", "production"])
    #expect(missing.status == 1 && missing.out.contains("missing (1):\n  DB_PASSWORD [database-credentials]\n"), "\(missing.out)")
    #expect(team.run("bob", ["check", "--env", "production"]).status == 3)
    #expect(team.run("alice", ["check", "--env", "staging"]).stderr.hasPrefix("coffer: error: unknown environment staging"))
  }

  /// `export` with its common options skips ArgumentParser into the same work: every form and every refusal reads
  /// as the slow path's (`--verbose`), and a file it writes holds the same bytes.
  @Test func exportGivesTheSlowPathsOutputInEveryForm() throws {
    let team = try Team()
    let forms: [(who: String, args: [String])] = [
      ("alice", ["export", "--env", "production"]),
      ("alice", ["export", "--env=production", "--format", "json"]),
      ("alice", ["export", "-e", "production", "--format=yaml"]),
      ("alice", ["export", "--project", team.box.dir.path, "--env", "production", "--format", "shell"]),
      ("bob", ["export", "--env", "production"]),  // groups bob cannot read: exit 3
      ("bob", ["export", "--env", "production", "--allow-partial"]),
      ("alice", ["export", "--env", "development"]),  // no values: exit 1
      ("alice", ["export", "--env", "development", "--allow-empty"]),
      ("alice", ["export", "--env", "staging"]),  // not declared: exit 2
      ("alice", ["export", "--env", "production", "--format", "xml"]),  // ArgumentParser's own error
      ("alice", ["export", "--env", "production", "-o", "coffer.yaml"]),  // refused: a committed file
      ("alice", ["export", "--env", "production", "-o"]),
    ]
    Self.expectSameAsSlowPath(team, forms)
    #expect(team.run("alice", ["export", "--env", "production"]).out == "API_KEY=api-v1\nINFRA_TOKEN=infra-v1\n")
    #expect(team.run("bob", ["export", "--env", "production"]).status == 3)
    // To a file: the same bytes, mode 0600.
    #expect(team.run("alice", ["export", "--env", "production", "--output", "fast.env"]).status == 0)
    #expect(team.run("alice", ["export", "--env", "production", "--output", "slow.env", "--verbose"]).status == 0)
    #expect(try team.box.read("fast.env") == team.box.read("slow.env"))
    let mode = try FileManager.default.attributesOfItem(atPath: team.box.path("fast.env"))[.posixPermissions] as? Int
    #expect(mode == 0o600)
  }
}
