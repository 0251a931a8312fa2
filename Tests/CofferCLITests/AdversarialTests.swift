import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#endif

// Adversarial tests: a hostile or careless user against the CLI. Exit statuses are part of the contract:
// 0 ok; 1 problems found / not found; 2 bad usage or input, nothing written; 3 access or decryption failure;
// `run`: the child's status, 127 when not found, 126 when not executable.
//
// As in CanaryTests, assertions get plain Bools so no value is ever printed by a failure.

let adversarialValue = "adv-9e8d7c6b-secret"
let adversarialCanary = Canary("adversarial", "API_TOKEN", adversarialValue, marker: "9e8d7c6b")

/// A sandbox with one value in `development` (so writes have something to preserve).
func seededSandbox(_ manifest: String = basicManifest) throws -> Sandbox {
  let sb = try Sandbox(manifest: manifest)
  let r = sb.set("API_TOKEN", adversarialValue)
  expectStatus(r, 0, "seed set")
  return sb
}

func vaultBytes(_ sb: Sandbox, _ env: String = "development") -> Data? {
  try? sb.read(".coffer/vault/\(env).vault")
}

/// Files whose name marks them as an atomic write's temporary, anywhere under `dir`.
func allTemporaryFiles(under dir: URL) -> [String] {
  guard let e = FileManager.default.enumerator(atPath: dir.path) else { return [] }
  var out: [String] = []
  while let rel = e.nextObject() as? String { if Paths.lastComponentIsTemp(rel) { out.append(rel) } }
  return out
}

extension Paths {
  static func lastComponentIsTemp(_ rel: String) -> Bool {
    (rel.split(separator: "/").last.map(String.init) ?? rel).contains(".tmp-")
  }
}

/// Starts `coffer ARGS` in the sandbox without waiting (stdout and stderr discarded), optionally as another user.
func spawnCoffer(
  _ sb: Sandbox, _ args: [String], stdin: Data? = nil, keepStdinOpen: Bool = false, env: [String: String] = [:]
) -> (Process, Pipe)? {
  let p = Process()
  p.executableURL = URL(fileURLWithPath: Paths.binary)
  p.arguments = args
  p.currentDirectoryURL = sb.dir
  p.environment = sb.baseEnvironment.merging(env) { $1 }
  let input = Pipe()
  p.standardInput = input
  p.standardOutput = FileHandle.nullDevice
  p.standardError = FileHandle.nullDevice
  guard (try? p.run()) != nil else { return nil }
  Sandbox.ignoreSIGPIPE
  if let stdin { try? input.fileHandleForWriting.write(contentsOf: stdin) }
  if !keepStdinOpen { try? input.fileHandleForWriting.close() }
  return (p, input)
}

/// Runs coffer as user `nobody` (so permission bits bind even when the tests run as root).
func runAsNobody(_ sb: Sandbox, _ args: [String], stdin: Data? = nil) -> CLIResult {
  let launcher = getuid() == 0 ? ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] : []
  return sb.run(args, stdin: stdin, launcher: launcher)
}

func chownTree(_ path: String, uid: uid_t, gid: gid_t) {
  chown(path, uid, gid)
  guard let e = FileManager.default.enumerator(atPath: path) else { return }
  while let rel = e.nextObject() as? String { lchown(path + "/" + rel, uid, gid) }
}

@Suite("Adversarial")
struct AdversarialTests {
  // MARK: - Names

  /// Path-like, empty, spaced and undeclared environment names: exit 2, nothing written anywhere.
  @Test(arguments: ["../../x", "..", "../development", "development/../production", "", "dev elopment", "Development",
                    "x/y", ".hidden", "développement", "development\n", "-e"])
  func hostileEnvironmentNames(env: String) throws {
    let sb = try seededSandbox()
    let before = vaultBytes(sb)
    for args in [["set", "API_TOKEN", "--undeclared", "--env", env], ["get", "API_TOKEN", "--env", env], ["export", "--env", env],
                 ["list", "--env", env], ["check", "--env", env], ["rm", "API_TOKEN", "--env", env],
                 ["rewrap", "--env", env], ["run", "--allow-missing", "--env", env, "--", "true"],
                 ["import-from-env", "--env", env, "--env-file", "in.env"]] {
      try sb.write("in.env", "API_TOKEN=other\n")
      let r = sb.run(args, stdin: Data("v".utf8))
      let what = "\(args[0]) --env \(env.debugDescription)"
      expectStatus(r, 2, what)
      let same = vaultBytes(sb) == before
      #expect(same, "\(what) changed the development vault")
      let vaults = (try? FileManager.default.contentsOfDirectory(atPath: sb.path(".coffer/vault"))) ?? []
      let onlyDev = vaults == ["development.vault"]
      #expect(onlyDev, "\(what) created vault files: \(vaults)")
      // Same through COFFER_ENV (empty there means unset: emptyCofferEnvMeansUnset). rewrap takes only -e (default:
      // every environment), not COFFER_ENV.
      if !env.isEmpty, args[0] != "rewrap" {
        let viaVar = sb.run(args.filter { $0 != "--env" && $0 != env }, stdin: Data("v".utf8), env: ["COFFER_ENV": env])
        expectStatus(viaVar, 2, "\(args[0]) with COFFER_ENV=\(env.debugDescription)")
      }
    }
    // `.coffer/vault/` + `../../x` + `.vault` would land in the project root; `../../../x` in its parent.
    let vaultFiles = (FileManager.default.subpaths(atPath: sb.dir.path) ?? []).filter { $0.hasSuffix(".vault") }
    let onlyOne = vaultFiles == [".coffer/vault/development.vault"]
    #expect(onlyOne, "vault files were created: \(vaultFiles)")
    let outside = ["x.vault", "y.vault", "development/../production.vault"].contains {
      FileManager.default.fileExists(atPath: sb.dir.deletingLastPathComponent().appendingPathComponent($0).path)
    }
    #expect(!outside, "a vault file was created outside the project")
  }

  /// Invalid secret names for set and import: exit 2, vault unchanged; a 256-byte name is fine, 257 is not.
  @Test(arguments: ["A=B", "has space", "ÉTÉ", "", "1ABC", "../x", "a/b", "A\nB", "-x", "a$b", "A:B",
                    String(repeating: "N", count: 257), "😀"])
  func invalidSecretNames(name: String) throws {
    let sb = try seededSandbox()
    let before = vaultBytes(sb)
    let r = sb.run(["set", "--", name], stdin: Data("value".utf8))
    expectStatus(r, 2, "set \(name.debugDescription.prefix(40))")
    let same = vaultBytes(sb) == before
    #expect(same, "set of an invalid name changed the vault")
    let v = sb.run(["set", "--value", "value", "--", name])
    expectStatus(v, 2, "set --value with \(name.debugDescription.prefix(40))")
  }

  @Test func longestAllowedName() throws {
    let sb = try seededSandbox()
    let name = String(repeating: "N", count: 256)
    expectStatus(sb.set(name, "v"), 0, "set with a 256-byte name")
    let g = sb.run(["get", "-n", name])
    let ok = g.status == 0 && g.out == "v"
    #expect(ok, "get with a 256-byte name")
  }

  // MARK: - Values

  @Test func megabyteValue() throws {
    let sb = try seededSandbox()
    var big = [UInt8](repeating: 0, count: 1 << 20)
    for i in big.indices { big[i] = UInt8(0x21 + (i * 7919) % 94) }  // printable, no newline
    let s = sb.run(["set", "BIG", "--undeclared"], stdin: Data(big))
    expectStatus(s, 0, "set 1 MB")
    let g = sb.run(["get", "-n", "BIG"])
    expectStatus(g, 0, "get 1 MB")
    let exact = g.stdout == Data(big)
    #expect(exact, "a 1 MB value did not round-trip")
    let j = sb.run(["export", "--format", "json"])
    expectStatus(j, 0, "export json with 1 MB value")
    // Linux caps one environment string at 128 KiB (MAX_ARG_STRLEN): execve fails with E2BIG, reported, not silent.
    let r = sb.run(["run", "--allow-missing", "--include-undeclared", "--", "true"])
    let status = r.status
    let notSilent = status != 0 && r.stderr.contains("BIG") == false ? !r.stderr.isEmpty : status != 0
    #expect(notSilent, "run with a 1 MB value must fail visibly (exit \(status))")
    let noLeak = !r.all.contains(String(decoding: big.prefix(64), as: UTF8.self))
    #expect(noLeak, "run failure printed part of the value")
    // Versions of 1 MB values: 10 kept, vault still opens.
    for _ in 0..<11 { sb.run(["set", "BIG", "--undeclared"], stdin: Data(big.reversed())) }
    let l = sb.run(["list", "--json"])
    expectStatus(l, 0, "list after 11 big versions")
    let old = sb.run(["get", "BIG", "--version", "1"])
    expectStatus(old, 1, "version 1 was pruned (only 10 kept)")
  }

  @Test func emptyValue() throws {
    let sb = try seededSandbox()
    expectStatus(sb.run(["set", "EMPTY", "--undeclared"], stdin: Data()), 0, "set empty (stdin)")
    expectStatus(sb.run(["set", "EMPTY2", "--undeclared", "--value", ""]), 0, "set empty (--value)")
    try sb.write("empty.bin", Data())
    expectStatus(sb.run(["set", "EMPTY3", "--undeclared", "--file", "empty.bin"]), 0, "set empty (--file)")
    expectStatus(sb.run(["set", "EMPTY4", "--undeclared"], stdin: Data("\n".utf8)), 0, "set a lone newline (stripped)")
    for n in ["EMPTY", "EMPTY2", "EMPTY3", "EMPTY4"] {
      let g = sb.run(["get", "-n", n])
      let ok = g.status == 0 && g.stdout.isEmpty
      #expect(ok, "get -n \(n) should print nothing and exit 0")
    }
    let r = sb.run(["run", "--allow-missing", "--include-undeclared", "--", "sh", "-c", "test \"${EMPTY+set}\" = set && test -z \"$EMPTY\" && echo ok"])
    let ok = r.status == 0 && r.out == "ok\n"
    #expect(ok, "run: an empty value must be set and empty in the child")
    let e = sb.run(["export"])
    let line = e.out.split(separator: "\n").contains { $0 == "EMPTY=" || $0 == "EMPTY=''" || $0 == "EMPTY=\"\"" }
    #expect(line, "export dotenv of an empty value")
    // A required secret set empty is invalid (exit 1), not ok.
    expectStatus(sb.run(["set", "OPENAI_API_KEY"], stdin: Data()), 0, "set required empty")
    let c = sb.run(["check", "--json"])
    expectStatus(c, 1, "check with a required empty value")
  }

  @Test func trailingNewlineHandling() throws {
    let sb = try seededSandbox()
    sb.run(["set", "CRLF", "--undeclared"], stdin: Data("v\r\n".utf8))
    sb.run(["set", "TWO", "--undeclared"], stdin: Data("v\n\n".utf8))
    sb.run(["set", "KEEP", "--undeclared", "--keep-newline"], stdin: Data("v\n".utf8))
    let crlf = sb.run(["get", "-n", "CRLF"]).out == "v"
    let two = sb.run(["get", "-n", "TWO"]).out == "v\n"
    let keep = sb.run(["get", "-n", "KEEP"]).out == "v\n"
    #expect(crlf, "one trailing CRLF is removed")
    #expect(two, "only one trailing LF is removed")
    #expect(keep, "--keep-newline keeps it")
  }

  @Test func nulValueFromFile() throws {
    let sb = try seededSandbox()
    let bytes: [UInt8] = [0x61, 0, 0x62, 0xFF, 0xFE, 0x0A]
    try sb.write("nul.bin", Data(bytes))
    expectStatus(sb.run(["set", "BLOB", "--undeclared", "--file", "nul.bin"]), 0, "set --file with NUL and invalid UTF-8")
    let g = sb.run(["get", "-n", "BLOB"])
    let exact = g.stdout == Data(bytes)
    #expect(exact, "get of binary value is byte-exact")
    expectStatus(sb.run(["get", "--json", "BLOB"]), 2, "get --json of binary")
    for f in ["dotenv", "json", "yaml", "shell"] {
      let r = sb.run(["export", "--format", f, "-o", "out.\(f)"])
      expectStatus(r, 2, "export \(f) with binary value")
      let none = !sb.exists("out.\(f)")
      #expect(none, "export \(f) wrote a file although it refused")
    }
    let r = sb.run(["run", "--allow-missing", "--include-undeclared", "--", "sh", "-c", "echo ran"])
    expectStatus(r, 2, "run with a NUL value")
    let notRun = !r.out.contains("ran")
    #expect(notRun, "run executed the command despite a NUL value")
    expectStatus(sb.run(["check"]), 1, "check (required OPENAI_API_KEY missing)")
    expectStatus(sb.run(["set", "X", "--undeclared", "--file", "no-such-file"]), 2, "set --file missing file")
    expectStatus(sb.run(["set", "X", "--undeclared", "--file", "nul.bin", "--value", "v"]), 2, "set --file and --value")
  }

  // MARK: - Identity

  @Test(arguments: [0o644, 0o640, 0o604, 0o660, 0o777])
  func identityReadableByOthersIsRefused(mode: Int) throws {
    let sb = try seededSandbox()
    let before = vaultBytes(sb)
    chmod(sb.identityFile.path, mode_t(mode))
    for args in [["get", "API_TOKEN"], ["set", "API_TOKEN", "--undeclared"], ["export"], ["run", "--allow-missing", "--", "true"], ["check"], ["rewrap"]] {
      let r = sb.run(args, stdin: Data("new".utf8))
      let what = "\(args[0]) with identity mode \(String(mode, radix: 8))"
      expectStatus(r, 3, what)
      let hint = r.stderr.contains("chmod 600")
      #expect(hint, "\(what): missing chmod 600 hint")
      expectNoLeak(r, what, [adversarialCanary])
    }
    let same = vaultBytes(sb) == before
    #expect(same, "a refused identity still changed the vault")
    chmod(sb.identityFile.path, 0o400)
    expectStatus(sb.run(["get", "API_TOKEN"]), 0, "identity mode 0400 is fine")
  }

  @Test func missingIdentity() throws {
    let sb = try seededSandbox()
    let before = vaultBytes(sb)
    for env in [["COFFER_IDENTITY_FILE": sb.path("home/nope.txt")], ["COFFER_IDENTITY_FILE": ""]] {
      for args in [["get", "API_TOKEN"], ["set", "API_TOKEN", "--undeclared"], ["export"], ["run", "--allow-missing", "--", "true"], ["rm", "API_TOKEN"]] {
        let r = sb.run(args, stdin: Data("x".utf8), env: env)
        let what = "\(args[0]) without identity (\(env.values.first!.isEmpty ? "empty var" : "missing file"))"
        expectStatus(r, 3, what)
        let hint = r.stderr.contains("keygen")
        #expect(hint, "\(what): should hint at coffer keygen")
      }
    }
    let same = vaultBytes(sb) == before
    #expect(same, "vault changed without an identity")
    // `list` needs no identity: names are public.
    expectStatus(sb.run(["list"], env: ["COFFER_IDENTITY_FILE": sb.path("home/nope.txt")]), 0, "list without identity")
  }

  @Test func identityAsEnvironmentText() throws {
    let sb = try seededSandbox()
    let key = String(decoding: try Data(contentsOf: sb.identityFile), as: UTF8.self)
    let line = key.split(separator: "\n").first { $0.hasPrefix("AGE-SECRET-KEY-") }.map(String.init) ?? ""
    let g = sb.run(["get", "-n", "API_TOKEN"], env: ["COFFER_IDENTITY": line, "COFFER_IDENTITY_FILE": sb.path("none")])
    let ok = g.status == 0 && g.out == adversarialValue
    #expect(ok, "COFFER_IDENTITY with key text opens the vault")
    let full = sb.run(["get", "-n", "API_TOKEN"], env: ["COFFER_IDENTITY": key])
    expectStatus(full, 0, "COFFER_IDENTITY with the whole identity file text")
    // A corrupted key: exit 3, and the key text is not echoed.
    var broken = Array(line)
    broken[30] = broken[30] == "Q" ? "P" : "Q"
    for args in [["get", "API_TOKEN"], ["set", "X", "--undeclared"], ["export", "--verbose"]] {
      let r = sb.run(args, stdin: Data("v".utf8), env: ["COFFER_IDENTITY": String(broken)])
      expectStatus(r, 3, "\(args[0]) with corrupted COFFER_IDENTITY")
      let echoed = r.all.contains(String(broken.dropFirst(15).prefix(20))) || r.all.contains(String(line.dropFirst(15).prefix(20)))
      #expect(!echoed, "\(args[0]): a corrupted COFFER_IDENTITY was echoed")
    }
    let garbage = sb.run(["get", "API_TOKEN"], env: ["COFFER_IDENTITY": "not a key canary-0d1f4c7e-VALUE"])
    expectStatus(garbage, 3, "COFFER_IDENTITY garbage")
    let echoedGarbage = garbage.all.contains("canary-0d1f4c7e")
    #expect(!echoedGarbage, "COFFER_IDENTITY garbage was echoed")
  }

  /// `coffer run` hands its children the secrets they asked for, but must not hand them the key that decrypts
  /// every environment (and every old version): COFFER_IDENTITY should be removed from the child's environment.
  @Test
  func runDoesNotLeakIdentityToChild() throws {
    let sb = try seededSandbox()
    let key = String(decoding: try Data(contentsOf: sb.identityFile), as: UTF8.self)
    let line = key.split(separator: "\n").first { $0.hasPrefix("AGE-SECRET-KEY-") }.map(String.init) ?? ""
    let r = sb.run(["run", "--allow-missing", "--", "sh", "-c", "printf '%s' \"${COFFER_IDENTITY-unset}\""], env: ["COFFER_IDENTITY": line])
    expectStatus(r, 0, "run with COFFER_IDENTITY")
    let scrubbed = r.out == "unset"
    #expect(scrubbed, "the child of run can read COFFER_IDENTITY (the private key)")
  }

  // MARK: - Concurrency and atomicity

  @Test func eightConcurrentWritersAllLand() throws {
    let sb = try seededSandbox()
    let names = (1...8).map { "CONCURRENT_\($0)" }
    nonisolated(unsafe) var statuses = [Int32](repeating: -1, count: 8)
    let lock = NSLock()
    DispatchQueue.concurrentPerform(iterations: 8) { i in
      let r = sb.run(["set", names[i], "--undeclared"], stdin: Data("value-\(i)".utf8))
      lock.lock()
      statuses[i] = r.status
      lock.unlock()
    }
    let allOK = statuses.allSatisfy { $0 == 0 }
    #expect(allOK, "concurrent set statuses: \(statuses)")
    for (i, n) in names.enumerated() {
      let g = sb.run(["get", "-n", n])
      let landed = g.status == 0 && g.out == "value-\(i)"
      #expect(landed, "\(n) was lost by a concurrent writer")
    }
    let seed = sb.run(["get", "-n", "API_TOKEN"]).out == adversarialValue
    #expect(seed, "the seed value was lost by concurrent writers")
    // Same name from 8 writers: 8 new versions, none lost.
    DispatchQueue.concurrentPerform(iterations: 8) { i in sb.run(["set", "SAME", "--undeclared"], stdin: Data("v\(i)".utf8)) }
    let l = sb.run(["list", "--json"])
    let obj = (try? JSONSerialization.jsonObject(with: l.stdout)) as? [String: Any]
    let secrets = obj?["secrets"] as? [[String: Any]] ?? []
    let version = secrets.first { $0["name"] as? String == "SAME" }?["version"] as? Int
    let eight = version == 8
    #expect(eight, "8 concurrent sets of one name should give version 8, got \(version.map(String.init) ?? "nil")")
    let temps = allTemporaryFiles(under: sb.dir)
    let clean = temps.isEmpty
    #expect(clean, "temporary files left: \(temps)")
  }

  /// `COFFER_ENV=` (set but empty) means "not chosen": the first environment, on every path including `run`'s.
  @Test func emptyCofferEnvMeansUnset() throws {
    let sb = try seededSandbox()
    let get = sb.run(["get", "-n", "API_TOKEN"], env: ["COFFER_ENV": ""])
    expectStatus(get, 0, "get with COFFER_ENV empty")
    #expect(get.out == adversarialValue)
    let run = sb.run(["run", "--allow-missing", "--include-undeclared", "--", "sh", "-c", "printf %s \"$API_TOKEN\""], env: ["COFFER_ENV": ""])
    expectStatus(run, 0, "run with COFFER_ENV empty")
    #expect(run.out == adversarialValue)
    expectStatus(sb.run(["get", "-n", "API_TOKEN"], env: ["COFFER_ENV": "staging"]), 1, "get from staging, where it is not set")
  }

  /// A writer blocks on the project lock another process holds, writes nothing meanwhile, and completes once the
  /// lock is released. The kernel's lock table (`/proc/locks`) shows it waiting: no timing is assumed.
  @Test func writerWaitsForTheLock() throws {
    let sb = try seededSandbox()
    let before = vaultBytes(sb)
    // flock(1) holds the lock until its standard input closes.
    let holder = Process()
    holder.executableURL = URL(fileURLWithPath: "/usr/bin/flock")
    holder.arguments = [sb.path(".coffer/.lock"), "sh", "-c", "echo locked; cat >/dev/null"]
    let holderIn = Pipe()
    let holderOut = Pipe()
    holder.standardInput = holderIn
    holder.standardOutput = holderOut
    try holder.run()
    #expect(holderOut.fileHandleForReading.readLine() == "locked")
    let (writer, _) = try #require(spawnCoffer(sb, ["set", "LOCKED", "--undeclared"], stdin: Data("v".utf8)))
    var waiting = false
    for _ in 0..<60_000 where !waiting && writer.isRunning {
      waiting = blockedOnFlock(pid: writer.processIdentifier)
      if !waiting { usleep(1_000) }
    }
    #expect(waiting, "set is not waiting on the project lock")
    #expect(vaultBytes(sb) == before)
    try holderIn.fileHandleForWriting.close()
    holder.waitUntilExit()
    writer.waitUntilExit()
    #expect(writer.terminationStatus == 0)
    #expect(sb.run(["get", "-n", "LOCKED"]).out == "v")
  }

  @Test func readOnlyVaultDirectory() throws {
    let sb = try seededSandbox()
    let before = vaultBytes(sb)
    chownTree(sb.dir.path, uid: 65534, gid: 65534)
    chmod(sb.path(".coffer/vault"), 0o555)
    defer { chmod(sb.path(".coffer/vault"), 0o755) }
    for args in [["set", "API_TOKEN", "--undeclared"], ["set", "OTHER", "--undeclared"], ["rm", "API_TOKEN"], ["rewrap"]] {
      let r = runAsNobody(sb, args, stdin: Data("new".utf8))
      let what = "\(args.joined(separator: " ")) with a read-only vault directory"
      let status = r.status
      let failed = status != 0 && status != -1
      #expect(failed, "\(what) should fail, exit \(status)")
      expectStatus(r, 2, what)
      let mentions = r.stderr.contains("development.vault")
      #expect(mentions, "\(what): the error should name the vault file")
      let same = vaultBytes(sb) == before
      #expect(same, "\(what) changed the vault")
      let temps = allTemporaryFiles(under: sb.dir)
      let clean = temps.isEmpty
      #expect(clean, "\(what) left temporary files: \(temps)")
    }
    // A read-only output directory for export -o.
    try FileManager.default.createDirectory(atPath: sb.path("ro"), withIntermediateDirectories: true)
    chown(sb.path("ro"), 65534, 65534)
    chmod(sb.path("ro"), 0o555)
    let e = runAsNobody(sb, ["export", "-o", "ro/out.env"])
    expectStatus(e, 2, "export -o into a read-only directory")
    expectNoLeak(e, "export -o into a read-only directory", [adversarialCanary])
    let noFiles = ((try? FileManager.default.contentsOfDirectory(atPath: sb.path("ro"))) ?? []).isEmpty
    #expect(noFiles, "export -o into a read-only directory left files")
    // A read-only .coffer (the lock cannot be created).
    try? FileManager.default.removeItem(atPath: sb.path(".coffer/.lock"))
    chmod(sb.path(".coffer"), 0o555)
    defer { chmod(sb.path(".coffer"), 0o755) }
    let l = runAsNobody(sb, ["set", "API_TOKEN", "--undeclared"], stdin: Data("new".utf8))
    let lockFailed = l.status != 0
    #expect(lockFailed, "set without a lock file should fail")
    let same = vaultBytes(sb) == before
    #expect(same, "set without lock changed the vault")
    // Reading still works as nobody (owner of the identity now).
    let g = runAsNobody(sb, ["get", "-n", "API_TOKEN"])
    let read = g.status == 0 && g.out == adversarialValue
    #expect(read, "get works with read-only directories")
  }

  /// A writer killed at any point leaves the old vault or the new one, never a torn one.
  @Test func killedWritersNeverTearTheVault() throws {
    let sb = try seededSandbox()
    let big = Data(repeating: 0x41, count: 200_000)
    for round in 0..<12 {
      guard let (p, _) = spawnCoffer(sb, ["set", "BIG_\(round % 3)", "--undeclared"], stdin: big) else { continue }
      usleep(UInt32(20_000 + (round * 17_000) % 150_000))
      kill(p.processIdentifier, SIGKILL)
      p.waitUntilExit()
      let g = sb.run(["get", "-n", "API_TOKEN"])
      let intact = g.status == 0 && g.out == adversarialValue
      #expect(intact, "round \(round): vault unreadable or seed lost after a killed writer (exit \(g.status))")
    }
    // Stale temporaries from killed writers are ignored by readers, and ignored by git.
    let check = sb.run(["check"])
    let notAccess = check.status != 3
    #expect(notAccess, "check fails after killed writers")
  }

  /// A writer killed while reading its value from stdin writes nothing. (Only SIGKILL: processes started from the
  /// test runner inherit a mask blocking SIGINT/SIGTERM/SIGHUP, so those would never be delivered here.)
  @Test func interruptedBeforeWriteChangesNothing() throws {
    let sb = try seededSandbox()
    let before = vaultBytes(sb)
    for sig in [SIGKILL, SIGKILL] {
      guard let (p, input) = spawnCoffer(sb, ["set", "API_TOKEN", "--undeclared"], stdin: Data("partial".utf8), keepStdinOpen: true)
      else { continue }
      usleep(300_000)
      kill(p.processIdentifier, sig)
      p.waitUntilExit()
      try? input.fileHandleForWriting.close()
      let same = vaultBytes(sb) == before
      #expect(same, "signal \(sig) during stdin read changed the vault")
    }
    let temps = allTemporaryFiles(under: sb.dir)
    let clean = temps.isEmpty
    #expect(clean, "interrupted writers left temporary files: \(temps)")
  }

  @Test func staleTemporaryFileIsIgnored() throws {
    let sb = try seededSandbox()
    try sb.write(".coffer/vault/.development.vault.tmp-AbC123", "coffer-vault v1\ngarbage\n")
    expectStatus(sb.run(["get", "API_TOKEN"]), 0, "get with a stale temporary")
    expectStatus(sb.set("NEW", "v"), 0, "set with a stale temporary")
    expectStatus(sb.run(["list"]), 0, "list with a stale temporary")
    // init writes .gitignore patterns that ignore such files.
    let sub = try Sandbox()
    try FileManager.default.createDirectory(atPath: sub.path("p"), withIntermediateDirectories: true)
    expectStatus(sub.run(["init", "--project", sub.path("p")]), 0, "init")
    try sub.write("p/.coffer/vault/.development.vault.tmp-AbC123", "x")
    let git = Process()
    git.executableURL = URL(fileURLWithPath: "/usr/bin/git")
    git.arguments = ["-C", sub.path("p"), "init", "-q"]
    try git.run()
    git.waitUntilExit()
    let ci = Process()
    ci.executableURL = URL(fileURLWithPath: "/usr/bin/git")
    ci.arguments = ["-C", sub.path("p"), "check-ignore", "-q", ".coffer/vault/.development.vault.tmp-AbC123"]
    try ci.run()
    ci.waitUntilExit()
    let ignored = ci.terminationStatus == 0
    #expect(ignored, "git does not ignore a stale vault temporary")
  }

  // MARK: - Exit statuses

  @Test func exitStatusesOfBadUsageWriteNothing() throws {
    let sb = try seededSandbox()
    let before = vaultBytes(sb)
    let cases: [([String], Int32)] = [
      (["set"], 2), (["set", "A", "--bogus"], 2), (["frobnicate"], 2), (["get"], 2), (["rm"], 2),
      (["export", "--format", "xml"], 2), (["run"], 2), (["run", "--"], 2), (["import"], 2),
      (["import", "no-such.env"], 2), (["get", "API_TOKEN", "--version", "x"], 2),
      (["set", "A", "--file", "f", "--value", "v"], 2), (["list", "--project", "/nonexistent-dir"], 2),
      (["set", "A", "--project", "/"], 2), (["get", "NOPE"], 1), (["get", "API_TOKEN", "--version", "2"], 1),
      (["get", "API_TOKEN", "--version", "0"], 1), (["rm", "NOPE"], 1), (["check"], 1),
      (["get", "API_TOKEN", "-e", "staging"], 1), (["rm", "API_TOKEN", "-e", "staging"], 1),
      (["run", "--allow-missing", "--", "sh", "-c", "exit 42"], 42), (["run", "--allow-missing", "--", "no-such-cmd-xyz"], 127),
      (["run", "--allow-missing", "--", "/no/such/path"], 127), (["run", "--allow-missing", "--", "./coffer.yaml"], 126),
      // SIGKILL: the test runner's threads block most signals and children inherit that mask.
      (["run", "--allow-missing", "--", "sh", "-c", "kill -KILL $$"], 128 + 9),
    ]
    for (args, expected) in cases {
      let r = sb.run(args, stdin: Data("v".utf8))
      expectStatus(r, expected, args.joined(separator: " "))
      expectNoLeak(r, args.joined(separator: " "), [adversarialCanary])
      let same = vaultBytes(sb) == before
      #expect(same, "\(args.joined(separator: " ")) changed the vault")
    }
    // Outside any project.
    let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("coffer-noproj-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: tmp) }
    for args in [["get", "X"], ["set", "X", "--undeclared"], ["list"], ["check"], ["run", "--allow-missing", "--", "true"]] {
      let r = sb.run(args, stdin: Data("v".utf8), cwd: tmp)
      expectStatus(r, 2, "\(args[0]) outside a project")
    }
  }

  /// An invalid recipient in the manifest: writers refuse (exit 2) and write nothing.
  @Test func invalidRecipientInManifest() throws {
    let sb = try seededSandbox()
    let before = vaultBytes(sb)
    let manifest = basicManifest.replacingOccurrences(
      of: "groups:", with: "recipients:\n  mallory: age1notarecipient\ngroups:")
    try sb.write("coffer.yaml", manifest)
    for args in [["set", "API_TOKEN", "--undeclared"], ["rewrap"]] {
      let r = sb.run(args, stdin: Data("x".utf8))
      let status = r.status
      let refused = status == 2 || status == 3
      #expect(refused, "\(args[0]) with an invalid recipient exited \(status)")
      let same = vaultBytes(sb) == before
      #expect(same, "\(args[0]) with an invalid recipient changed the vault")
    }
  }

  /// A vault file for one environment copied over another's: every command must refuse it, `run` included.
  @Test
  func vaultOfAnotherEnvironmentIsRefusedByRun() throws {
    let sb = try seededSandbox()
    try sb.write(".coffer/vault/staging.vault", try sb.read(".coffer/vault/development.vault"))
    let g = sb.run(["get", "API_TOKEN", "-e", "staging"])
    expectStatus(g, 3, "get from a vault holding another environment")
    let r = sb.run(["run", "--allow-missing", "-e", "staging", "--", "sh", "-c", "printf '%s' \"${API_TOKEN-unset}\""])
    expectStatus(r, 3, "run from a vault holding another environment")
    let notInjected = !r.out.contains(adversarialValue)
    #expect(notInjected, "run injected development's secrets into a staging run")
  }

  /// A PEM body's last line (base64 with `+`, `/` and `=` padding) pasted into a .env file is refused, but the
  /// error must not echo it (DotEnvParser.invalidKey promises a pasted secret is never echoed).
  @Test
  func pastedBase64LineIsNotEchoed() throws {
    let sb = try seededSandbox()
    let pasted = "q8Zx+b3Jm/0d1f4c7eSecretTail"
    try sb.write("bad.env", "KEY=-----BEGIN PRIVATE KEY-----\n\(pasted)==\n")
    let before = vaultBytes(sb)
    let r = sb.run(["import", "bad.env"])
    expectStatus(r, 2, "import with a pasted base64 line")
    let echoed = r.all.contains("0d1f4c7e")
    #expect(!echoed, "import echoed a pasted base64 line in its error")
    let same = vaultBytes(sb) == before
    #expect(same, "refused import changed the vault")
  }

  /// docs/dotenv.md rule 10: `P=ab$cd` is an error naming the line, the key and the column of the `$`. No part of
  /// the value is echoed: not before the `$`, and not the name after it, which is part of the password (issue 11).
  @Test func dollarInUnquotedPasswordNamesThePlaceNotTheReference() throws {
    let sb = try seededSandbox()
    try sb.write("pw.env", "DB_PASSWORD=adv-9e8d7c6b-secret$Tail0\n")
    let r = sb.run(["import", "pw.env"])
    expectStatus(r, 2, "import of pa$word")
    expectNoLeak(r, "import of pa$word", [adversarialCanary])
    let namesReference = r.stderr.contains("Tail0")
    #expect(!namesReference, "the error quotes the text after $")
    #expect(r.stderr.hasPrefix("coffer: error: pw.env:1: the $ at column 32 in the value of DB_PASSWORD refers to"))
  }

  /// init: environment names are validated before anything is written.
  @Test(arguments: ["1/../../evil", "../x", "Dev", "a b", "", ",", "9.x"])
  func initRejectsHostileEnvironments(envs: String) throws {
    let sb = try Sandbox()
    try FileManager.default.createDirectory(atPath: sb.path("p"), withIntermediateDirectories: true)
    let r = sb.run(["init", "--project", sb.path("p"), "--environments", envs])
    let status = r.status
    if envs == "9.x" {
      // A digit-first token is accepted by init's rule; whatever happens, nothing escapes the project.
      let escaped = sb.exists("evil.vault") || sb.exists("x.vault")
      #expect(!escaped, "init created files outside the project")
      return
    }
    let refused = status == 2
    #expect(refused, "init --environments \(envs.debugDescription) exited \(status)")
    let noManifest = !sb.exists("p/coffer.yaml")
    #expect(noManifest, "init wrote coffer.yaml for invalid environments \(envs.debugDescription)")
  }

  /// Undeclared names are refused by `set` (exit 2, nothing written), and with --undeclared can still be set (with a
  /// warning), read and removed.
  @Test func undeclaredNamesWarn() throws {
    let sb = try seededSandbox()
    let before = vaultBytes(sb)
    let refused = sb.run(["set", "UNDECLARED_THING"], stdin: Data("v".utf8))
    expectStatus(refused, 2, "set undeclared without --undeclared")
    let untouched = vaultBytes(sb) == before
    #expect(untouched, "a refused set changed the vault")
    let r = sb.set("UNDECLARED_THING", "v")
    expectStatus(r, 0, "set undeclared")
    let warns = r.stderr.contains("warning") && r.stderr.contains("UNDECLARED_THING")
    #expect(warns, "set of an undeclared name should warn")
    expectStatus(sb.run(["rm", "UNDECLARED_THING"]), 0, "rm undeclared")
    expectStatus(sb.run(["get", "UNDECLARED_THING"]), 1, "get after rm")
  }
}

/// Whether the kernel lists `pid` as blocked waiting for a `flock` (a `->` line of /proc/locks).
func blockedOnFlock(pid: Int32) -> Bool {
  guard let table = try? String(contentsOfFile: "/proc/locks", encoding: .utf8) else { return false }
  return table.split(separator: "\n").contains { line in
    let fields = line.split(separator: " ")
    return fields.count > 5 && fields[1] == "->" && fields[2] == "FLOCK" && fields[5] == "\(pid)"
  }
}

extension FileHandle {
  /// One line, without its LF, read byte by byte (so nothing after it is consumed); nil at end of file.
  func readLine() -> String? {
    var bytes: [UInt8] = []
    while let chunk = try? read(upToCount: 1), let byte = chunk.first {
      if byte == 0x0A { return String(decoding: bytes, as: UTF8.self) }
      bytes.append(byte)
    }
    return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self)
  }
}
