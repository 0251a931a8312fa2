import CofferCore
import Crypto
import Foundation
import Testing

import CofferVault

/// One file of the C2SP/CCTV age conformance corpus (/work/shared/corpora/age-vectors, read in place).
struct AgeVector: CustomStringConvertible, Sendable {
  let name: String
  let expect: String
  let payloadHash: String?
  let fileKey: String?
  let identities: [String]
  let passphrases: [String]
  let armored: Bool
  let file: [UInt8]

  var description: String { name }

  /// The corpus directory: the repository is always cloned beside `shared/`.
  static let directory: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent()  // CofferVaultTests
    .deletingLastPathComponent()  // Tests
    .deletingLastPathComponent()  // package root
    .deletingLastPathComponent()  // its parent, holding shared/
    .appendingPathComponent("shared/corpora/age-vectors/testdata")

  static func allNames() -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted()
  }

  static func load(_ name: String) throws -> AgeVector {
    let data = try [UInt8](Data(contentsOf: directory.appendingPathComponent(name)))
    guard let split = (0..<(data.count - 1)).first(where: { data[$0] == 0x0A && data[$0 + 1] == 0x0A }) else {
      throw AgeInflate.Failure(description: "\(name): no blank line after the vector header")
    }
    var fields: [(String, String)] = []
    for line in String(decoding: data[..<split], as: UTF8.self).split(separator: "\n") {
      guard let colon = line.firstIndex(of: ":") else { continue }
      fields.append((String(line[..<colon]), String(line[line.index(after: colon)...].drop(while: { $0 == " " }))))
    }
    func values(_ key: String) -> [String] { fields.filter { $0.0 == key }.map(\.1) }
    var body = Array(data[(split + 2)...])
    if values("compressed").first == "zlib" { body = try AgeInflate.zlib(body) }
    return AgeVector(
      name: name, expect: values("expect").first ?? "", payloadHash: values("payload").first,
      fileKey: values("file key").first, identities: values("identity"), passphrases: values("passphrase"),
      armored: values("armored").first == "yes", file: body)
  }
}

func hex(_ bytes: some Sequence<UInt8>) -> String {
  bytes.map { String(format: "%02x", $0) }.joined()
}

@Suite("age conformance vectors (C2SP/CCTV)")
struct AgeVectorTests {
  /// Vectors for post-quantum hybrid (mlkem768x25519) recipients, which Coffer does not implement. Their only
  /// identities are `AGE-SECRET-KEY-PQ-1…`, which Coffer refuses as an unsupported type; with no usable identity each
  /// must fail with `no match`. They are skipped in the sense that their expected outcome is not checked.
  /// (`hybrid_x25519_arg` is not here: it also has an X25519 identity and passes genuinely. Nor is
  /// `hybrid_not_canonical_body`: its body base64 is malformed, which the generic header parser rejects as the
  /// vector expects, whatever the stanza type.)
  static let unsupportedHybrid: Set<String> = [
    "armor_hybrid", "hybrid", "hybrid_and_x25519", "hybrid_bad_tag", "hybrid_currupted_enc_mlkem",
    "hybrid_currupted_enc_x25519", "hybrid_extra_argument", "hybrid_grease", "hybrid_identity",
    "hybrid_long_file_key", "hybrid_long_share", "hybrid_low_order", "hybrid_multiple_recipients",
    "hybrid_no_match", "hybrid_not_canonical_enc", "hybrid_short_share",
    "hybrid_uppercase",
  ]

  static let expectedCodes: [String: AgeError.Code] = [
    "no match": .noMatch, "HMAC failure": .hmacFailure, "header failure": .headerFailure,
    "payload failure": .payloadFailure, "armor failure": .armorFailure,
  ]

  @Test func corpusIsCompleteAndSkipListIsExact() throws {
    let names = AgeVector.allNames()
    #expect(
      names.count == 143,
      "expected the 143 age vectors in \(AgeVector.directory.path); is the repository cloned beside shared/?")
    var onlyPQ: Set<String> = []
    for name in names {
      let vector = try AgeVector.load(name)
      let usable = vector.identities.filter { !$0.hasPrefix("AGE-SECRET-KEY-PQ-") }
      if usable.isEmpty && vector.passphrases.isEmpty && !vector.identities.isEmpty { onlyPQ.insert(name) }
    }
    #expect(onlyPQ == Self.unsupportedHybrid.union(["hybrid_not_canonical_body"]))
    let implemented = names.count - Self.unsupportedHybrid.count
    print("age vectors: \(names.count) total, \(implemented) checked for their exact outcome, "
      + "\(Self.unsupportedHybrid.count) hybrid post-quantum vectors asserted as no match (unsupported)")
  }

  @Test(arguments: AgeVector.allNames())
  func vector(_ name: String) throws {
    let vector = try AgeVector.load(name)
    var identities: [any AgeIdentity] = []
    var x25519: [AgeX25519Identity] = []
    for text in vector.identities {
      do {
        let identity = try AgeX25519Identity(parsing: text)
        identities.append(identity)
        x25519.append(identity)
      } catch {
        #expect(error.code == .unsupportedRecipientType, "\(name): identity rejected as \(error.code)")
        #expect(text.hasPrefix("AGE-SECRET-KEY-PQ-1"))
      }
    }
    for passphrase in vector.passphrases {
      identities.append(AgeScryptIdentity(passphrase: SecretValue(passphrase)))
    }

    // Armored vectors go through dearmor explicitly (the vector says it is armored), then the same file is also
    // given whole to Age.decrypt, which detects armor when the text starts with `-----` after whitespace.
    var released: [UInt8] = []
    var outcome: AgeError?
    do {
      let binary = vector.armored ? try Age.dearmor(vector.file) : vector.file
      try Age.decrypt(binary, with: identities) { released += $0 }
    } catch {
      outcome = error
    }
    if vector.armored {
      var autoOutcome: AgeError?
      do { _ = try Age.decrypt(vector.file, with: identities) } catch { autoOutcome = error }
      if name == "armor_garbage_leading" {
        // Does not start with the armor header, so it is read as a (malformed) binary file.
        #expect(autoOutcome?.code == .headerFailure)
      } else {
        #expect(autoOutcome?.code == outcome?.code, "\(name): armor auto-detection changes the outcome")
      }
    }

    if Self.unsupportedHybrid.contains(name) {
      #expect(
        outcome?.code == .noMatch || outcome?.code == .unsupportedRecipientType,
        "\(name): hybrid vector without a usable identity gave \(outcome.map(\.code.name) ?? "success")")
      #expect(released.isEmpty)
      return
    }

    if vector.expect == "success" {
      #expect(outcome == nil, "\(name): expected success, got \(outcome?.description ?? "")")
    } else {
      let code = try #require(Self.expectedCodes[vector.expect], "\(name): unknown expectation \(vector.expect)")
      #expect(outcome?.code == code, "\(name): expected \(code), got \(outcome?.description ?? "success")")
    }
    if let payloadHash = vector.payloadHash {
      #expect(hex(SHA256.hash(data: released)) == payloadHash, "\(name): released plaintext hash differs")
    } else {
      #expect(released.isEmpty, "\(name): plaintext released although the vector expects none")
    }

    // Every header that parses re-encodes to the same bytes; success vectors unwrap to the documented file key.
    let binary = vector.armored ? (try? Age.dearmor(vector.file)) : vector.file
    if let binary, let (header, _, payloadOffset) = try? AgeHeader.parse(binary) {
      #expect(header.encoded() == Array(binary[..<payloadOffset]), "\(name): header does not re-encode byte-exact")
      if vector.expect == "success", let fileKey = vector.fileKey {
        var unwrapped: [UInt8]?
        for identity in identities where unwrapped == nil { unwrapped = try identity.unwrap(header.stanzas) }
        #expect(unwrapped.map(hex) == fileKey, "\(name): unwrapped file key differs")
      }
    } else {
      #expect(
        ["header failure", "armor failure"].contains(vector.expect),
        "\(name): header did not parse but the vector expects \(vector.expect)")
    }
  }
}
