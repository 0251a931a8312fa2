import CofferCore
import Foundation
import Testing

import CofferVault

/// Interoperability with the reference implementation (the `age` and `age-keygen` commands, CI installs them).
///
/// Data goes through files; the only argv values are file paths and public recipients, never a secret.
@Suite("age CLI interop")
struct AgeInteropTests {
  struct Run {
    let status: Int32
    let stderr: String
  }

  static func tool(_ name: String) throws -> URL {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    let directories = path.split(separator: ":").map(String.init) + ["/usr/bin", "/usr/local/bin", "/opt/homebrew/bin"]
    for directory in directories {
      let candidate = URL(fileURLWithPath: directory).appendingPathComponent(name)
      if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
    }
    throw CLIMissing(name: name)
  }

  struct CLIMissing: Error, CustomStringConvertible {
    let name: String
    var description: String {
      "the reference `\(name)` command is not installed (apt-get install age); the age interop tests need it"
    }
  }

  /// Runs a tool with stdin from /dev/null, stdout to a file if given, and captures stderr (always small).
  @discardableResult
  static func run(_ name: String, _ arguments: [String], stdout: URL? = nil) throws -> Run {
    let process = Process()
    process.executableURL = try tool(name)
    process.arguments = arguments
    process.standardInput = FileHandle.nullDevice
    if let stdout {
      _ = FileManager.default.createFile(atPath: stdout.path, contents: nil)
      process.standardOutput = try FileHandle(forWritingTo: stdout)
    } else {
      process.standardOutput = FileHandle.nullDevice
    }
    let errorFile = FileManager.default.temporaryDirectory.appendingPathComponent("coffer-age-stderr-\(UUID())")
    _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: errorFile) }
    process.standardError = try FileHandle(forWritingTo: errorFile)
    try process.run()
    process.waitUntilExit()
    let stderr = (try? String(contentsOf: errorFile, encoding: .utf8)) ?? ""
    return Run(status: process.terminationStatus, stderr: stderr)
  }

  /// A fresh private directory for one test, removed afterwards by the caller.
  static func scratch() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("coffer-age-interop-\(UUID())")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    return url
  }

  static func write(_ bytes: [UInt8], to url: URL) throws {
    try Data(bytes).write(to: url)
    try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: url.path)
  }

  static func read(_ url: URL) throws -> [UInt8] { [UInt8](try Data(contentsOf: url)) }

  static let plaintexts: [[UInt8]] = [
    [], Array("hello from coffer\n".utf8), (0..<150_000).map { UInt8(truncatingIfNeeded: $0 &* 131) },
  ]

  @Test func referenceToolsAreInstalled() throws {
    _ = try Self.tool("age")
    _ = try Self.tool("age-keygen")
  }

  /// (a) A key made by age-keygen parses, and Coffer decrypts what `age -r` (and `age -a -r`) encrypted.
  /// (b) Coffer encrypts to that recipient and `age -d -i keyfile` decrypts, binary and armored.
  @Test func ageKeygenKeyBothDirections() throws {
    let dir = try Self.scratch()
    defer { try? FileManager.default.removeItem(at: dir) }
    let keyFile = dir.appendingPathComponent("key.txt")
    let keygen = try Self.run("age-keygen", ["-o", keyFile.path])
    try #require(keygen.status == 0, "age-keygen failed: \(keygen.stderr)")
    let keyText = String(decoding: try Self.read(keyFile), as: UTF8.self)
    let identities = try Age.parseIdentities(keyText)
    try #require(identities.count == 1)
    let identity = identities[0]
    // age-keygen writes "# public key: age1…"; Coffer derives the same recipient.
    #expect(keyText.contains("# public key: \(identity.recipient.encoded)\n"))
    #expect(keygen.stderr.contains(identity.recipient.encoded))

    for (index, plaintext) in Self.plaintexts.enumerated() {
      let input = dir.appendingPathComponent("plain-\(index)")
      try Self.write(plaintext, to: input)
      for armor in [false, true] {
        // (a) age encrypts, Coffer decrypts.
        let sealed = dir.appendingPathComponent("by-age-\(index)-\(armor).age")
        let encrypt = try Self.run(
          "age", (armor ? ["-a"] : []) + ["-r", identity.recipient.encoded, "-o", sealed.path, input.path])
        try #require(encrypt.status == 0, "age -r failed: \(encrypt.stderr)")
        #expect(try Age.decrypt(try Self.read(sealed), with: [identity]) == plaintext)

        // (b) Coffer encrypts, age decrypts.
        let binary = try Age.encrypt(plaintext, to: [identity.recipient])
        let ours = dir.appendingPathComponent("by-coffer-\(index)-\(armor).age")
        try Self.write(armor ? Array(Age.armor(binary).utf8) : binary, to: ours)
        let output = dir.appendingPathComponent("out-\(index)-\(armor)")
        // Plaintext via stdout: `age -o` creates no file for an empty plaintext.
        let decrypt = try Self.run("age", ["-d", "-i", keyFile.path, ours.path], stdout: output)
        #expect(decrypt.status == 0, "age -d failed on a Coffer file (armor: \(armor)): \(decrypt.stderr)")
        #expect(try Self.read(output) == plaintext)
      }
    }
  }

  /// (c) A Coffer-generated identity and recipient are accepted by age: `age-keygen -y` derives the same
  /// recipient, `age -r` encrypts to it, and `age -d -i` decrypts Coffer's file with it.
  @Test func cofferKeysAcceptedByAge() throws {
    let dir = try Self.scratch()
    defer { try? FileManager.default.removeItem(at: dir) }
    let identity = AgeX25519Identity.generate()
    let keyFile = dir.appendingPathComponent("coffer-key.txt")
    try Self.write(
      Array("# public key: \(identity.recipient.encoded)\n".utf8) + identity.encoded.reveal() + [0x0A], to: keyFile)

    let recipients = dir.appendingPathComponent("recipients.txt")
    let convert = try Self.run("age-keygen", ["-y", "-o", recipients.path, keyFile.path])
    try #require(convert.status == 0, "age-keygen -y rejected Coffer's identity: \(convert.stderr)")
    #expect(String(decoding: try Self.read(recipients), as: UTF8.self) == identity.recipient.encoded + "\n")

    let plaintext = Array("coffer → age → coffer".utf8)
    let input = dir.appendingPathComponent("plain")
    try Self.write(plaintext, to: input)
    let sealed = dir.appendingPathComponent("sealed.age")
    let encrypt = try Self.run("age", ["-R", recipients.path, "-o", sealed.path, input.path])
    try #require(encrypt.status == 0, "age -R rejected Coffer's recipient: \(encrypt.stderr)")
    #expect(try Age.decrypt(try Self.read(sealed), with: [identity]) == plaintext)

    // Two recipients, one of them age-keygen's: age decrypts with Coffer's key.
    let other = AgeX25519Identity.generate()
    let ours = dir.appendingPathComponent("ours.age")
    try Self.write(try Age.encrypt(plaintext, to: [other.recipient, identity.recipient]), to: ours)
    let output = dir.appendingPathComponent("out")
    let decrypt = try Self.run("age", ["-d", "-i", keyFile.path, "-o", output.path, ours.path])
    #expect(decrypt.status == 0, "age -d with Coffer's identity failed: \(decrypt.stderr)")
    #expect(try Self.read(output) == plaintext)

    // A tampered Coffer file is rejected by age too.
    var tampered = try Self.read(ours)
    tampered[tampered.count - 1] ^= 1
    try Self.write(tampered, to: ours)
    let rejected = try Self.run("age", ["-d", "-i", keyFile.path, "-o", dir.appendingPathComponent("bad").path, ours.path])
    #expect(rejected.status != 0)
  }
}
