import Foundation
import Testing

/// A vault large enough that the short commands prepare the heap for it (CofferSystem's `Heap`: twice the file's size
/// is over 1 MiB, so the heap grows once, with huge-page advice): every value still arrives byte for byte, the same
/// as on the ArgumentParser path (`run --names`, which the fast parser does not take), which does not prepare it.
@Suite struct LargeVaultTests {
  /// The `SERVICE_*` variables of `env -0`'s output.
  static func services(_ output: some Collection<UInt8>) -> [String: String] {
    var out: [String: String] = [:]
    for entry in output.split(separator: 0) {
      let text = String(decoding: entry, as: UTF8.self)
      guard let eq = text.firstIndex(of: "="), text.hasPrefix("SERVICE_") else { continue }
      out[String(text[..<eq])] = String(text[text.index(after: eq)...])
    }
    return out
  }

  @Test func valuesOfAVaultOverHalfAMebibyteArriveExactly() throws {
    let box = try Sandbox(manifest: basicManifest)
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/#é✓-_.")
    var expected: [String: String] = [:]
    var text = ""
    for i in 0..<1500 {
      let name = String(format: "SERVICE_%04d_TOKEN", i)
      let value = String((0..<300).map { alphabet[(i * 7 + $0 * 13) % alphabet.count] })
      expected[name] = value
      text += "\(name)=\"\(value)\"\n"
    }
    try box.write("bulk.env", text)
    let imported = box.run(["import", "bulk.env", "--env", "development"])
    #expect(imported.status == 0, "\(imported.stderr)")
    let size = try #require(try FileManager.default.attributesOfItem(atPath: box.path(".coffer/vault/development.vault"))[.size] as? Int)
    #expect(size > 600_000, "the vault must be large enough for the heap to be prepared")

    func environment(_ extra: [String]) -> [String: String] {
      let r = box.run(["run", "--allow-missing", "--include-undeclared", "--env", "development"] + extra + ["--", "/usr/bin/env", "-0"])
      #expect(r.status == 0, "\(r.stderr)")
      return Self.services(r.stdout)
    }
    #expect(environment([]) == expected)
    #expect(environment(["--names", expected.keys.sorted().joined(separator: ",")]) == expected)

    for name in ["SERVICE_0000_TOKEN", "SERVICE_0777_TOKEN", "SERVICE_1499_TOKEN"] {
      let get = box.run(["get", name, "--env", "development"])
      #expect(get.status == 0, "\(get.stderr)")
      #expect(get.out == expected[name]! + "\n")
    }

    let export = box.run(["export", "--env", "development", "--format", "json", "-o", "out.json"])
    #expect(export.status == 0, "\(export.stderr)")
    let exported = try #require(try JSONSerialization.jsonObject(with: box.read("out.json")) as? [String: String])
    #expect(exported == expected)

    // The heap really is prepared: an `export` to a pipe nobody reads yet blocks writing with its working set in
    // place, and its mappings are read then.
    let process = Process()
    process.executableURL = URL(fileURLWithPath: Paths.binary)
    process.arguments = ["export", "--env", "development", "--format", "dotenv"]
    process.currentDirectoryURL = box.dir
    process.environment = box.baseEnvironment
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    try process.run()
    let proc = "/proc/\(process.processIdentifier)"
    // Until it waits in the kernel's pipe write (the output is far larger than a pipe holds), for at most a minute.
    var waiting = false
    let deadline = ContinuousClock.now + .seconds(60)
    while !waiting, process.isRunning, ContinuousClock.now < deadline {
      waiting = ((try? String(contentsOfFile: proc + "/wchan", encoding: .utf8)) ?? "").contains("pipe_write")
      if !waiting { sched_yield() }
    }
    // Read to the end: `String(contentsOfFile:)` stops after the first read of a /proc file.
    let smaps = String(decoding: FileHandle(forReadingAtPath: proc + "/smaps")?.readDataToEndOfFile() ?? Data(), as: UTF8.self)
    let output = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    #expect(waiting, "export never blocked on its pipe")
    #expect(process.terminationStatus == 0)
    #expect(output.count > 450_000)
    let advised = smaps.split(separator: "\n").filter { $0.hasPrefix("VmFlags:") && $0.split(separator: " ").contains("hg") }
    // A kernel without transparent huge pages refuses the advice; then there is nothing to see.
    if FileManager.default.fileExists(atPath: "/sys/kernel/mm/transparent_hugepage/enabled") {
      #expect(advised.count == 1, "one heap range advised for huge pages")
    }
  }

  /// A coffer.yaml of 128 KiB or more has `run`'s cached facts looked up on a helper thread while the vault opens
  /// (`RunEnvironment.EarlyFacts`): the run answered from the cache that way injects what the run that decoded the
  /// manifest and wrote the cache injected, and refuses with the same missing names.
  @Test func aLargeManifestsCachedFactsGiveTheSameRun() throws {
    var manifest = "version: 1\nproject: large\nenvironments: [development]\nsecrets:\n"
    var text = ""
    var expected: [String: String] = [:]
    for i in 0..<3000 {
      let name = String(format: "SERVICE_%04d_TOKEN", i)
      manifest += "  \(name): { required: true, description: \"service \(i)'s token for the large-manifest test\" }\n"
      // Every name but the last two has a value: those two are missing.
      if i < 2998 {
        expected[name] = "value-\(i)-#$\"é"
        text += "\(name)='value-\(i)-#$\"é'\n"
      }
    }
    #expect(manifest.utf8.count >= 128 * 1024, "the manifest must be large enough for the lookup to move")
    let box = try Sandbox(manifest: manifest)
    try box.write("bulk.env", text)
    let imported = box.run(["import", "bulk.env", "--env", "development"])
    #expect(imported.status == 0, "\(imported.stderr)")
    let cacheDir = box.path("home/.local/state/coffer/required")
    try? FileManager.default.removeItem(atPath: cacheDir)

    // Missing names: the first run decodes the manifest (and writes the cache), the second reads the cache.
    func refusal() -> String {
      let r = box.run(["run", "--env", "development", "--", "/usr/bin/env", "-0"])
      #expect(r.status != 0)
      #expect(r.stdout.isEmpty)
      return r.stderr
    }
    let decoded = refusal()
    #expect(decoded.contains("SERVICE_2998_TOKEN") && decoded.contains("SERVICE_2999_TOKEN"), "\(decoded)")
    let caches = (try? FileManager.default.contentsOfDirectory(atPath: cacheDir)) ?? []
    #expect(caches.count == 1, "the first run wrote the cache")
    #expect(refusal() == decoded)
    // The cache really answers: with SERVICE_2999_TOKEN taken out of its line of required names, only the other is
    // missing.
    let cacheFile = cacheDir + "/" + (caches.first ?? "")
    let cache = try String(contentsOfFile: cacheFile, encoding: .utf8)
    let edited = cache.split(separator: "\n", omittingEmptySubsequences: false).map { line in
      line.hasPrefix("development\t") ? line.replacingOccurrences(of: ",SERVICE_2999_TOKEN", with: "") : String(line)
    }.joined(separator: "\n")
    #expect(edited != cache)
    try edited.write(toFile: cacheFile, atomically: true, encoding: .utf8)
    let fromCache = refusal()
    #expect(fromCache.contains("SERVICE_2998_TOKEN") && !fromCache.contains("SERVICE_2999_TOKEN"), "\(fromCache)")

    // With --allow-missing, the same two runs: one that decodes the manifest, one answered from the cache.
    try FileManager.default.removeItem(atPath: cacheDir)
    func environment() -> [String: String] {
      let r = box.run(["run", "--allow-missing", "--env", "development", "--", "/usr/bin/env", "-0"])
      #expect(r.status == 0, "\(r.stderr)")
      return Self.services(r.stdout)
    }
    #expect(environment() == expected)
    #expect(environment() == expected)
  }
}
