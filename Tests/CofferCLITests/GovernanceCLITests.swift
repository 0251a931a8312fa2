import CofferCore
import Crypto
import Foundation
import Testing

/// alice (the sandbox identity) reads everything in production; dave only api-keys there; both read development.
func governanceManifest(alice: String, dave: String) -> String {
  """
  version: 1
  project: gov
  environments: [development, production]
  recipients:
    alice: \(alice)
    dave: \(dave)   # contractor
  groups:
    api-keys: { rotation: 90d }
    infrastructure-credentials: { rotation: 90d }
  secrets:
    API_KEY: { group: api-keys, prefix: "sk-" }
    INFRA_TOKEN: { group: infrastructure-credentials }
  access:
    - { environments: [production], groups: [infrastructure-credentials], recipients: [alice] }
    - { environments: [production], groups: [api-keys], recipients: [alice, dave] }
    - { environments: [development], groups: ["*"], recipients: ["*"] }

  """
}

/// A sandbox with alice and dave, and production values set by alice.
final class GovernanceBox: @unchecked Sendable {  // used from one test at a time
  let box: Sandbox
  let daveFile: String
  let dave: String
  let manifest: String
  static let infra = "canary-infra-Qx7v2LkP"
  static let api = "sk-canary-api-M3nB8sTq"

  init(now: String = "2026-01-01T00:00:00Z") throws {
    box = try Sandbox()
    box.extraEnvironment["COFFER_NOW"] = now
    // These tests pin trust model v1's behaviour (TrustModelTests covers v2); the once-per-command v1 warning is
    // acknowledged so their stderr assertions stay exact (GovernanceV1WarningTests checks the warning itself).
    box.extraEnvironment["COFFER_TRUST_V1"] = "acknowledged"
    daveFile = box.path("home/dave.txt")
    dave = box.run(["keygen", "-o", daveFile]).out.trimmingCharacters(in: .newlines)
    manifest = governanceManifest(alice: box.recipient, dave: dave)
    try box.write("coffer.yaml", manifest)
    precondition(box.set("INFRA_TOKEN", Self.infra, env: "production").status == 0)
    precondition(box.set("API_KEY", Self.api, env: "production").status == 0)
  }

  /// Runs as dave.
  func asDave(_ args: [String], stdin: Data? = nil, env: [String: String] = [:]) -> CLIResult {
    box.run(args, stdin: stdin, env: env.merging(["COFFER_IDENTITY_FILE": daveFile]) { $1 })
  }

  var vault: String { String(decoding: (try? box.read(".coffer/vault/production.vault")) ?? Data(), as: UTF8.self) }

  /// The base64 age file on a `key SLOT` line, and the recipients under it.
  func keyLine(_ slot: String, in text: String? = nil) -> (b64: String, to: [String])? {
    let lines = (text ?? vault).split(separator: "\n").map(String.init)
    guard let i = lines.firstIndex(where: { $0.hasPrefix("key \(slot) ") }) else { return nil }
    let to = lines[(i + 1)...].prefix { $0.hasPrefix(" to ") }.map { String($0.dropFirst(4)) }
    return (String(lines[i].split(separator: " ")[2]), to)
  }

  /// The sealed bytes of version `n` of a secret, from a vault's text.
  func sealed(_ name: String, version n: Int, in text: String? = nil) -> [UInt8] {
    let lines = (text ?? vault).split(separator: "\n").map(String.init)
    guard let i = lines.firstIndex(of: lines.first { $0.hasPrefix("secret \(name) ") } ?? "") else { return [] }
    let line = lines[(i + 1)...].first { $0.hasPrefix(" v \(n) ") } ?? ""
    return Base64.decode(line.split(separator: " ").last.map(String.init) ?? "", padded: true) ?? []
  }

  /// Opens a wrapped key with the reference `age` CLI: its exit status and output.
  func ageDecrypt(_ b64: String, identity: String) throws -> (status: Int32, key: [UInt8]) {
    let file = box.dir.appendingPathComponent("wrapped-\(UUID().uuidString).age")
    try Data(Base64.decode(b64, padded: true) ?? []).write(to: file)
    defer { try? FileManager.default.removeItem(at: file) }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/age")
    p.arguments = ["-d", "-i", identity, file.path]
    let out = Pipe()
    p.standardOutput = out
    p.standardError = Pipe()
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, Array(data))
  }
}

/// ChaCha20-Poly1305 open of a vault ciphertext with a given key (docs/vault-format.md, Values).
func openSealed(_ sealed: [UInt8], key: [UInt8], environment: String, name: String, version: Int) -> [UInt8]? {
  let aad = Array("coffer-vault/v1 value".utf8) + [0] + Array(environment.utf8) + [0] + Array(name.utf8) + [0]
    + Array(String(version).utf8)
  guard let box = try? ChaChaPoly.SealedBox(combined: sealed),
    let plain = try? ChaChaPoly.open(box, using: SymmetricKey(data: key), authenticating: aad)
  else { return nil }
  return Array(plain)
}

@Suite struct GovernanceCLITests {
  @Test func aReaderOutsideAGroupsRuleCannotDecryptIt() throws {
    let g = try GovernanceBox()
    let refused = g.asDave(["get", "INFRA_TOKEN", "--env", "production"])
    #expect(refused.status == 3)
    #expect(refused.out == "")
    #expect(refused.stderr == """
      coffer: error: no access to group infrastructure-credentials in production (secret INFRA_TOKEN): .coffer/vault/production.vault
      coffer: hint: infrastructure-credentials in production: recipients who can read it and grant access: alice
      coffer: hint: ask one of them to run `coffer access grant dave --groups infrastructure-credentials --env production`

      """)
    #expect(g.asDave(["get", "API_KEY", "-n", "--env", "production"]).out == GovernanceBox.api)
    // The wrapped key is really absent for dave: the reference age CLI cannot open it with his key, alice's gives 32
    // bytes, and the key line names alice alone.
    let infra = try #require(g.keyLine("infrastructure-credentials"))
    #expect(infra.to == [g.box.recipient])
    #expect(try g.ageDecrypt(infra.b64, identity: g.daveFile).status != 0)
    let opened = try g.ageDecrypt(infra.b64, identity: g.box.identityFile.path)
    #expect(opened.status == 0)
    #expect(opened.key.count == 32)
    #expect(openSealed(g.sealed("INFRA_TOKEN", version: 1), key: opened.key, environment: "production", name: "INFRA_TOKEN", version: 1) == Array(GovernanceBox.infra.utf8))
    // The environment key is wrapped to both: dave may read a group there.
    #expect(try #require(g.keyLine("*")).to.sorted() == [g.box.recipient, g.dave].sorted())
    #expect(try g.ageDecrypt(try #require(g.keyLine("api-keys")).b64, identity: g.daveFile).key.count == 32)
    // Names and dates stay visible to him.
    let list = g.asDave(["list", "--env", "production", "--json"])
    #expect(list.status == 0)
    #expect(list.out.contains(#"{"name":"INFRA_TOKEN","group":"infrastructure-credentials","version":1,"updated":"2026-01-01T00:00:00Z","author":"alice","declared":true}"#))
    for r in [refused, list] { #expect(!r.all.contains(GovernanceBox.infra)) }
  }

  @Test func commandsThatReadManySecretsNameTheGroupsAndWhoCanGrant() throws {
    let g = try GovernanceBox()
    let expected = """
      coffer: error: cannot read groups infrastructure-credentials in production with this identity
      coffer: hint: infrastructure-credentials in production: recipients who can read it and grant access: alice
      coffer: hint: ask one of them to run `coffer access grant dave --groups infrastructure-credentials --env production`
      coffer: hint: pass --allow-partial to continue without them

      """
    for args in [["export", "--env", "production"], ["run", "--env", "production", "--", "true"], ["check", "--env", "production"]] {
      let r = g.asDave(args)
      #expect(r.status == 3, "\(args)")
      #expect(r.stderr == expected, "\(args)")
      #expect(r.out == "")
    }
    let partial = g.asDave(["export", "--env", "production", "--allow-partial", "--format", "json"])
    #expect(partial.status == 0)
    #expect(partial.out == "{\"API_KEY\":\"\(GovernanceBox.api)\"}\n")
    #expect(partial.stderr == "coffer: warning: not readable with this identity in production: groups infrastructure-credentials\n")
    // check --allow-partial does not report an unreadable value as missing.
    let check = g.asDave(["check", "--env", "production", "--allow-partial", "--json"])
    #expect(check.status == 0)
    #expect(check.out == #"{"environment":"production","missing":[],"invalid":[],"undeclared":[],"ok":["API_KEY"],"unreadable_groups":["infrastructure-credentials"],"needs_rotation":[]}"# + "\n")
    let run = g.asDave(["run", "--env", "production", "--allow-partial", "--", "sh", "-c", "printf '%s|%s' \"$API_KEY\" \"${INFRA_TOKEN-unset}\""])
    #expect(run.out == "\(GovernanceBox.api)|unset")
  }

  @Test func aWriterWithoutAccessAddsAValueOnlyReadersCanRead() throws {
    let g = try GovernanceBox()
    let new = "canary-dave-wrote-Zp4w"
    let write = g.asDave(["set", "INFRA_TOKEN", "--env", "production"], stdin: Data(new.utf8))
    #expect(write.status == 0)
    #expect(write.stderr == "coffer: set INFRA_TOKEN in production (version 2)\n")
    // A new key generation, wrapped to alice only, seals dave's value.
    let gen2 = try #require(g.keyLine("infrastructure-credentials#2"))
    #expect(gen2.to == [g.box.recipient])
    #expect(g.vault.contains("\n v 2 2026-01-01T00:00:00Z dave #2 "))
    #expect(try g.ageDecrypt(gen2.b64, identity: g.daveFile).status != 0)
    #expect(try g.ageDecrypt(gen2.b64, identity: g.box.identityFile.path).key.count == 32)
    // alice reads both versions; dave reads neither.
    #expect(g.box.run(["get", "INFRA_TOKEN", "-n", "--env", "production"]).out == new)
    #expect(g.box.run(["get", "INFRA_TOKEN", "-n", "--env", "production", "--version", "1"]).out == GovernanceBox.infra)
    let denied = g.asDave(["get", "INFRA_TOKEN", "--env", "production"])
    #expect(denied.status == 3)
    #expect(!denied.all.contains(new))
    // import by a writer without access replaces only with --overwrite (it cannot compare values).
    try g.box.write("in.env", "INFRA_TOKEN=canary-imported\n")
    #expect(g.asDave(["import", "in.env", "--env", "production"]).stderr.contains("0 added, 0 updated, 0 unchanged, 1 skipped"))
    #expect(g.asDave(["import", "in.env", "--env", "production", "--overwrite"]).stderr.contains("0 added, 1 updated, 0 unchanged, 0 skipped"))
    #expect(g.box.run(["get", "INFRA_TOKEN", "-n", "--env", "production"]).out == "canary-imported")
    // A later write by alice stays under the newest generation she holds.
    #expect(g.box.set("INFRA_TOKEN", "canary-alice-again", env: "production").status == 0)
    #expect(g.vault.contains("\n v 4 2026-01-01T00:00:00Z alice #3 "))
    #expect(g.box.run(["check", "--env", "production"]).status == 0)
  }

  @Test func grantReWrapsAndRevokeReKeysAndMarksRotation() throws {
    let g = try GovernanceBox()
    let before = try #require(g.keyLine("infrastructure-credentials"))
    let oldKey = try g.ageDecrypt(before.b64, identity: g.box.identityFile.path).key

    let grant = g.box.run(["access", "grant", "dave", "--groups", "infrastructure-credentials", "--env", "production"])
    #expect(grant.status == 0)
    #expect(grant.stderr == "coffer: re-wrapped production\ncoffer: granted dave: groups infrastructure-credentials in production (coffer.yaml updated by alice)\n")
    let granted = g.manifest.replacingOccurrences(
      of: "groups: [infrastructure-credentials], recipients: [alice] }",
      with: "groups: [infrastructure-credentials], recipients: [alice, dave] }")
    #expect(String(decoding: try g.box.read("coffer.yaml"), as: UTF8.self) == granted)
    // Re-wrapped, not re-keyed: dave's key now opens the same data key.
    let wrapped = try #require(g.keyLine("infrastructure-credentials"))
    #expect(wrapped.to.sorted() == [g.box.recipient, g.dave].sorted())
    #expect(try g.ageDecrypt(wrapped.b64, identity: g.daveFile).key == oldKey)
    #expect(g.asDave(["get", "INFRA_TOKEN", "-n", "--env", "production"]).out == GovernanceBox.infra)
    #expect(g.box.run(["access", "grant", "dave", "--groups", "infrastructure-credentials", "--env", "production"]).stderr.hasSuffix(
      "coffer: dave could already read that (coffer.yaml unchanged)\n"))

    let oldVault = g.vault
    let revoke = g.box.run(["access", "revoke", "dave", "--groups", "infrastructure-credentials", "--env", "production"], env: ["COFFER_NOW": "2026-01-02T00:00:00Z"])
    #expect(revoke.status == 0)
    #expect(revoke.stderr == """
      coffer: production: re-keyed infrastructure-credentials
      coffer: warning: production: dave could read 1 secret(s) that now need rotation: INFRA_TOKEN
      coffer: revoked dave: groups infrastructure-credentials in production (coffer.yaml updated by alice)
      coffer: run `coffer rotate status` to see what to rotate; values dave copied stay valid until rotated

      """)
    #expect(String(decoding: try g.box.read("coffer.yaml"), as: UTF8.self) == g.manifest)
    // Re-keyed: a fresh data key that dave's key cannot open, under which the value was re-sealed; the old key opens
    // none of the new ciphertexts.
    let rekeyed = try #require(g.keyLine("infrastructure-credentials"))
    #expect(rekeyed.to == [g.box.recipient])
    #expect(try g.ageDecrypt(rekeyed.b64, identity: g.daveFile).status != 0)
    let newKey = try g.ageDecrypt(rekeyed.b64, identity: g.box.identityFile.path).key
    #expect(newKey.count == 32)
    #expect(newKey != oldKey)
    let resealed = g.sealed("INFRA_TOKEN", version: 1)
    #expect(resealed != g.sealed("INFRA_TOKEN", version: 1, in: oldVault))
    #expect(openSealed(resealed, key: oldKey, environment: "production", name: "INFRA_TOKEN", version: 1) == nil)
    #expect(openSealed(resealed, key: newKey, environment: "production", name: "INFRA_TOKEN", version: 1) == Array(GovernanceBox.infra.utf8))
    // api-keys was not touched: same key line.
    #expect(g.keyLine("api-keys")?.b64 == g.keyLine("api-keys", in: oldVault)?.b64)
    #expect(g.asDave(["get", "INFRA_TOKEN", "--env", "production"]).status == 3)
    #expect(g.asDave(["get", "API_KEY", "-n", "--env", "production"]).out == GovernanceBox.api)
    // The audit line names the re-sealed secret and what was done (docs/audit.md).
    let auditLines = g.box.run(["audit", "--json"]).out.split(separator: "\n")
      .compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    let access = try #require(auditLines.last { $0["action"] as? String == "access" })
    #expect(access["secrets"] as? [String] == ["INFRA_TOKEN"])
    #expect(access["detail"] as? String == "revoke dave")
    #expect((access["fingerprints"] as? [String: String])?.keys.sorted() == ["INFRA_TOKEN"])

    // check and rotate status report what dave saw.
    let check = g.box.run(["check", "--env", "production", "--json"])
    #expect(check.status == 1)
    #expect(check.out == #"{"environment":"production","missing":[],"invalid":[],"undeclared":[],"ok":["API_KEY"],"unreadable_groups":[],"needs_rotation":[{"name":"INFRA_TOKEN","revoked":"dave","since":"2026-01-02T00:00:00Z"}]}"# + "\n")
    let status = g.box.run(["rotate", "status", "--env", "production"], env: ["COFFER_NOW": "2026-01-03T00:00:00Z"])
    #expect(status.status == 1)
    #expect(status.out == """
      ENVIRONMENT  NAME         GROUP                       LAST ROTATED  AGE  PERIOD  DUE         STATE
      production   API_KEY      api-keys                    2026-01-01    2d   90d     2026-04-01  ok
      production   INFRA_TOKEN  infrastructure-credentials  2026-01-01    2d   90d     2026-04-01  needs-rotation (dave lost access 2026-01-02)

      """)
    // A rotation clears it.
    #expect(g.box.run(["rotate", "INFRA_TOKEN", "--env", "production", "--generate"], env: ["COFFER_NOW": "2026-01-03T00:00:00Z"]).status == 0)
    #expect(g.box.run(["check", "--env", "production"]).status == 0)
    for r in [grant, revoke, check, status] {
      #expect(!r.all.contains(GovernanceBox.infra))
      #expect(!r.all.contains(GovernanceBox.api))
    }
  }

  @Test func revokingEveryGroupReplacesTheEnvironmentKey() throws {
    let g = try GovernanceBox()
    let oldEnvironment = try #require(g.keyLine("*"))
    let r = g.box.run(["access", "revoke", "dave", "--env", "production"])
    #expect(r.status == 0)
    #expect(r.stderr.hasPrefix("coffer: production: re-keyed api-keys; replaced the environment key\n"))
    let environmentKey = try #require(g.keyLine("*"))
    #expect(environmentKey.to == [g.box.recipient])
    #expect(environmentKey.b64 != oldEnvironment.b64)
    #expect(try g.ageDecrypt(environmentKey.b64, identity: g.daveFile).status != 0)
    #expect(
      String(decoding: try g.box.read("coffer.yaml"), as: UTF8.self)
        == g.manifest.replacingOccurrences(of: "recipients: [alice, dave] }", with: "recipients: [alice] }"))
    let denied = g.asDave(["get", "API_KEY", "--env", "production"])
    #expect(denied.status == 3)
    #expect(denied.stderr == """
      coffer: error: this identity cannot open the production vault (.coffer/vault/production.vault)
      coffer: hint: the identity used came from COFFER_IDENTITY_FILE (\(g.daveFile)); its recipient is \(g.dave)
      coffer: hint: the access: rules of coffer.yaml give dave no group in production, so access was removed or never granted
      coffer: hint: ask one of alice to run `coffer access grant dave --env production`

      """)
    // Only API_KEY was readable by dave; INFRA_TOKEN was not and needs no rotation.
    let status = g.box.run(["rotate", "status", "--env", "production", "--json"])
    #expect(status.status == 1)
    #expect(status.out.contains(#""name":"API_KEY","group":"api-keys","last_rotated":"2026-01-01T00:00:00Z","age_days":0,"period_days":90,"due":"2026-04-01T00:00:00Z","days_left":90,"state":"needs-rotation","revoked":{"recipient":"dave","at":"2026-01-01T00:00:00Z"}}"#))
    #expect(status.out.contains(#""name":"INFRA_TOKEN","group":"infrastructure-credentials","last_rotated":"2026-01-01T00:00:00Z","age_days":0,"period_days":90,"due":"2026-04-01T00:00:00Z","days_left":90,"state":"ok","revoked":null}"#))
  }

  @Test func aRevokeTheRevokerCannotCarryOutWritesNothing() throws {
    let g = try GovernanceBox()
    let manifestBefore = try g.box.read("coffer.yaml")
    let vaultBefore = g.vault
    let r = g.asDave(["access", "revoke", "alice", "--env", "production"])
    #expect(r.status == 3)
    #expect(r.stderr.hasPrefix(
      "coffer: error: no access to group infrastructure-credentials in production: .coffer/vault/production.vault\n"))
    #expect(try g.box.read("coffer.yaml") == manifestBefore)
    #expect(g.vault == vaultBefore)
    // So does a revoke that would leave a group without readers.
    let alone = g.box.run(["access", "revoke", "alice", "--groups", "infrastructure-credentials", "--env", "production"])
    #expect(alone.status == 2)
    #expect(alone.stderr == "coffer: error: revoking alice would leave nobody able to read group infrastructure-credentials in production\n")
    #expect(try g.box.read("coffer.yaml") == manifestBefore)
    #expect(g.vault == vaultBefore)
  }

  @Test func accessListShowsTheMatrix() throws {
    let g = try GovernanceBox()
    let r = g.box.run(["access", "list"])
    #expect(r.status == 0)
    #expect(r.out == """
      development
        RECIPIENT  api-keys  infrastructure-credentials  default
        alice      read      read                        read
        dave       read      read                        read
      production
        RECIPIENT  api-keys  infrastructure-credentials  default
        alice      read      read                        -
        dave       read      -                           -

      """)
    let json = g.box.run(["access", "list", "--json"])
    let doc = try #require(try JSONSerialization.jsonObject(with: json.stdout) as? [String: Any])
    #expect(doc["restricted"] as? Bool == true)
    let entries = try #require(doc["access"] as? [[String: Any]])
    #expect(entries.count == 2 * 2 * 3)
    #expect(entries.filter { $0["read"] as? Bool == true }.map { "\($0["recipient"]!)/\($0["environment"]!)/\($0["group"]!)" } == [
      "alice/development/api-keys", "alice/development/infrastructure-credentials", "alice/development/default",
      "alice/production/api-keys", "alice/production/infrastructure-credentials",
      "dave/development/api-keys", "dave/development/infrastructure-credentials", "dave/development/default",
      "dave/production/api-keys",
    ])
    let bad = g.box.run(["access", "grant", "dave", "--groups", "nope", "--env", "production"])
    #expect(bad.status == 2)
    #expect(bad.stderr == "coffer: error: coffer.yaml: access: no group named \"nope\" is declared under groups (or \"default\" for ungrouped secrets)\n")
  }

  @Test func rotateRecordsANewValueAndRefusesTheSameOne() throws {
    let g = try GovernanceBox()
    let vaultBefore = g.vault
    let same = g.box.run(["rotate", "API_KEY", "--env", "production"], stdin: Data(GovernanceBox.api.utf8))
    #expect(same.status == 2)
    #expect(same.stderr == """
      coffer: error: the new value of API_KEY is the same as the current one (version 1); nothing was written
      coffer: hint: a rotation needs a new value: use --generate, or get a new one from the issuer

      """)
    #expect(g.vault == vaultBefore)
    #expect(!g.box.exists(".coffer/state/stale.json"))
    let invalid = g.box.run(["rotate", "API_KEY", "--env", "production", "--value", "pk-canary-wrong"])
    #expect(invalid.status == 2)
    #expect(invalid.stderr.hasPrefix("coffer: error: the new value of API_KEY does not start with the required prefix 'sk-'; nothing was written\n"))
    #expect(!invalid.all.contains("canary-wrong"))

    let rotated = g.box.run(["rotate", "API_KEY", "--env", "production"], stdin: Data("sk-canary-rotated-1\n".utf8), env: ["COFFER_NOW": "2026-02-01T00:00:00Z"])
    #expect(rotated.status == 0)
    #expect(rotated.stderr == "coffer: rotated API_KEY in production (version 2); destinations fed by production are stale until the next sync\n")
    #expect(String(decoding: try g.box.read(".coffer/state/stale.json"), as: UTF8.self)
      == #"{"version":1,"sequence":1,"environments":{"production":{"stale_since":"2026-02-01T00:00:00Z","secrets":["API_KEY"],"sequence":1}}}"# + "\n")
    // Back to an older value is not a rotation.
    let back = g.box.run(["rotate", "API_KEY", "--env", "production", "--value", GovernanceBox.api])
    #expect(back.status == 2)
    #expect(back.stderr.hasPrefix("coffer: error: the new value of API_KEY is the value of version 1; nothing was written\n"))
    // --generate: the manifest's prefix, then --length bytes of entropy in the chosen charset (40 bytes = 80 hex).
    let generated = g.box.run(["rotate", "API_KEY", "--env", "production", "--generate", "--length", "40", "--charset", "hex"], env: ["COFFER_NOW": "2026-03-01T00:00:00Z"])
    #expect(generated.status == 0)
    #expect(generated.out == "")
    let value = g.box.run(["get", "API_KEY", "-n", "--env", "production"]).out
    #expect(value.hasPrefix("sk-"))
    #expect(value.count == 83)
    #expect(value.dropFirst(3).allSatisfy { "0123456789abcdef".contains($0) })
    #expect(!generated.all.contains(value))
    #expect(String(decoding: try g.box.read(".coffer/state/stale.json"), as: UTF8.self)
      == #"{"version":1,"sequence":2,"environments":{"production":{"stale_since":"2026-02-01T00:00:00Z","secrets":["API_KEY"],"sequence":2}}}"# + "\n")
    // Rotating needs read access, and a secret to rotate.
    let dave = g.asDave(["rotate", "INFRA_TOKEN", "--env", "production", "--generate"])
    #expect(dave.status == 3)
    #expect(dave.stderr.hasPrefix("coffer: error: no access to group infrastructure-credentials in production (secret INFRA_TOKEN)"))
    let absent = g.box.run(["rotate", "NOPE", "--env", "production", "--generate"])
    #expect(absent.status == 1)
  }

  @Test func historyAndRollbackNeverShowValues() throws {
    let g = try GovernanceBox()
    let values = ["sk-canary-hist-two", "sk-canary-hist-three"]
    #expect(g.box.run(["set", "API_KEY", "--env", "production", "--value", values[0]], env: ["COFFER_NOW": "2026-02-01T00:00:00Z"]).status == 0)
    #expect(g.asDave(["set", "API_KEY", "--env", "production", "--value", values[1]], env: ["COFFER_NOW": "2026-03-01T00:00:00Z"]).status == 0)
    let history = g.box.run(["history", "API_KEY", "--env", "production"])
    #expect(history.status == 0)
    #expect(history.out == """
      VERSION  DATE                  BY     NOTE
      3        2026-03-01T00:00:00Z  dave   current
      2        2026-02-01T00:00:00Z  alice
      1        2026-01-01T00:00:00Z  alice

      """)
    let rollback = g.box.run(["rollback", "API_KEY", "--env", "production", "--to", "1"], env: ["COFFER_NOW": "2026-04-01T00:00:00Z"])
    #expect(rollback.status == 0)
    #expect(rollback.stderr == "coffer: rolled back API_KEY in production to the value of version 1 (now version 4)\n")
    #expect(g.box.run(["get", "API_KEY", "-n", "--env", "production"]).out == GovernanceBox.api)
    let json = g.box.run(["history", "API_KEY", "--env", "production", "--json"])
    #expect(json.out.hasPrefix(#"{"environment":"production","name":"API_KEY","group":"api-keys","needs_rotation":null,"versions":[{"version":4,"created":"2026-04-01T00:00:00Z","author":"alice","current":true,"restores":{"version":1,"created":"2026-01-01T00:00:00Z"}},"#))
    // A rollback is not a rotation: the value dates from 2026-01-01 and is overdue on 2026-04-01.
    let status = g.box.run(["rotate", "status", "--env", "production", "--json"], env: ["COFFER_NOW": "2026-04-01T00:00:00Z"])
    #expect(status.status == 1)
    #expect(status.out.contains(#""name":"API_KEY","group":"api-keys","last_rotated":"2026-01-01T00:00:00Z","age_days":90,"period_days":90,"due":"2026-04-01T00:00:00Z","days_left":0,"state":"overdue""#))
    #expect(String(decoding: try g.box.read(".coffer/state/stale.json"), as: UTF8.self).contains(#""stale_since":"2026-04-01T00:00:00Z","secrets":["API_KEY"]"#))
    // Refusals: a version not kept, the current one, and a reader without access.
    let missing = g.box.run(["rollback", "API_KEY", "--env", "production", "--to", "9"])
    #expect(missing.status == 2)
    #expect(missing.stderr == "coffer: error: version 9 of API_KEY is not kept in production; nothing was written\ncoffer: hint: kept versions: 4, 3, 2, 1\n")
    #expect(g.box.run(["rollback", "API_KEY", "--env", "production", "--to", "4"]).status == 2)
    #expect(g.box.run(["rollback", "API_KEY", "--env", "production", "--to", "1"]).status == 2)
    #expect(g.box.set("INFRA_TOKEN", "canary-infra-two", env: "production").status == 0)
    let daveRollback = g.asDave(["rollback", "INFRA_TOKEN", "--env", "production", "--to", "1"])
    #expect(daveRollback.status == 3)
    // History is readable without read access to the group, and without any key at all.
    let daveHistory = g.asDave(["history", "INFRA_TOKEN", "--env", "production"])
    #expect(daveHistory.status == 0)
    let stranger = g.box.run(["history", "API_KEY", "--env", "production"], env: ["COFFER_IDENTITY_FILE": g.box.path("home/none.txt")])
    #expect(stranger.status == 0)
    #expect(stranger.stderr.contains("dates and authors are not authenticated"))
    #expect(g.box.run(["history", "NOPE", "--env", "production"]).status == 1)
    for r in [history, rollback, json, status, missing, daveHistory, stranger, daveRollback] {
      for v in values + [GovernanceBox.api, GovernanceBox.infra, "canary-infra-two"] { #expect(!r.all.contains(v)) }
    }
  }

  @Test func rotateStatusAcrossTheWholeSchedule() throws {
    let g = try GovernanceBox()
    func status(_ now: String, _ extra: [String] = []) -> CLIResult {
      g.box.run(["rotate", "status", "--env", "production"] + extra, env: ["COFFER_NOW": now])
    }
    #expect(status("2026-03-17T00:00:00Z").status == 0)
    #expect(status("2026-03-17T00:00:00Z").out.contains("75d  90d     2026-04-01  ok\n"))
    #expect(status("2026-03-18T00:00:00Z").out.contains("76d  90d     2026-04-01  due-soon\n"))
    #expect(status("2026-03-18T00:00:00Z").status == 0)
    #expect(status("2026-03-18T00:00:00Z", ["--due-soon-days", "13"]).out.contains("76d  90d     2026-04-01  ok\n"))
    #expect(status("2026-03-31T23:59:59Z").out.contains("89d  90d     2026-04-01  due-soon\n"))
    #expect(status("2026-04-01T00:00:00Z").out.contains("90d  90d     2026-04-01  overdue\n"))
    #expect(status("2026-04-01T00:00:00Z").status == 1)
    #expect(status("2026-04-01T00:00:00Z", ["--due-soon-days", "-1"]).status == 2)
    // Every environment by default; development has no vault yet.
    let all = g.box.run(["rotate", "status"], env: ["COFFER_NOW": "2026-01-01T00:00:00Z"])
    #expect(all.out.split(separator: "\n").count == 3)
  }

  @Test func newCommandsHaveHelp() throws {
    let box = try Sandbox(manifest: basicManifest)
    for command in [["access"], ["access", "list"], ["access", "grant"], ["access", "revoke"], ["rotate"], ["rotate", "status"], ["rotate", "secret"], ["history"], ["rollback"]] {
      let r = box.run(command + ["--help"])
      #expect(r.status == 0, "\(command)")
      #expect(r.out.contains("USAGE: coffer \(command.joined(separator: " "))"), "\(command)")
    }
  }
}
