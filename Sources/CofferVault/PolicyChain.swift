import CofferCore
import Crypto

/// The approved access policy of a project: `.coffer/policy`, a hash chain of records signed by admins
/// (trust model v2, docs/vault-format.md "The policy chain").
///
/// Each record holds the whole policy (members with their age recipient and signing key, admins, rules) at one
/// **epoch**; record `n` names the SHA-256 of record `n-1` and is signed by an admin of record `n-1` (record 1 by an
/// admin of itself). Editing `coffer.yaml` changes nothing until an admin appends a record. Bytes in, values out.
public struct PolicyChain: Sendable {
  /// The first line of the file.
  public static let magic = "coffer-policy v2"

  /// One record: the policy at one epoch.
  public struct Record: Sendable {
    /// The epoch, from 1.
    public let epoch: Int
    /// When it was approved.
    public let time: Timestamp
    /// Who approved it (a member name).
    public let signer: String
    /// The policy's body lines (`admins …`, `member …`, `rule …` or `open`), without the leading space.
    public let body: [String]
    /// The policy this record describes.
    public let policy: PolicyBody
    /// SHA-256 of the record's bytes (from its `record` line through its `sig` line), lowercase hex.
    public let hash: String
    let bytes: [UInt8]
  }

  /// The project's identifier: 16 random bytes in lowercase hex, fixed by record 1 and bound into every vault.
  public let project: String
  /// The records, oldest first; never empty.
  public let records: [Record]

  /// The newest record.
  public var head: Record { records[records.count - 1] }

  /// Parses and verifies a policy file.
  /// - Parameters:
  ///   - bytes: the file's contents.
  ///   - file: the label for errors.
  /// - Throws: ``VaultError`` `.malformed` (with the line) for any deviation from the grammar,
  ///   `.authenticationFailed` when a record's parent hash or signature does not verify or its signer was not an
  ///   admin with a signing key in the record before.
  public static func parse(_ input: [UInt8], file: String) throws(VaultError) -> PolicyChain {
    // A checkout with autocrlf: CR LF reads as LF (a lone CR is damage), as for vault files.
    var bytes = input
    if input.contains(0x0D) {
      bytes = []
      bytes.reserveCapacity(input.count)
      for i in input.indices {
        if input[i] == 0x0D {
          guard i + 1 < input.count, input[i + 1] == 0x0A else { throw VaultError(.malformed, file: file, detail: "carriage return") }
          continue
        }
        bytes.append(input[i])
      }
    }
    guard bytes.last == 0x0A else { throw VaultError(.malformed, file: file, detail: "missing final newline") }
    var lines: [(text: String, start: Int, end: Int)] = []
    var start = 0
    for i in bytes.indices where bytes[i] == 0x0A {
      lines.append((String(decoding: bytes[start..<i], as: UTF8.self), start, i + 1))
      start = i + 1
    }
    func fail(_ n: Int, _ what: String) -> VaultError { VaultError(.malformed, file: file, line: n + 1, detail: what) }
    guard lines.count >= 2, lines[0].text == magic else {
      if let first = lines.first?.text, first.hasPrefix("coffer-policy ") {
        throw VaultError(.unsupportedVersion, file: file, line: 1, detail: String(first.dropFirst(14)))
      }
      throw fail(0, "not a coffer policy file")
    }
    let projectLine = lines[1].text
    guard projectLine.hasPrefix("project "), isHexID(projectLine.dropFirst(8)) else {
      throw fail(1, "expected `project HEX` (32 lowercase hex digits)")
    }
    let project = String(projectLine.dropFirst(8))
    var records: [Record] = []
    var n = 2
    while n < lines.count {
      let recordStart = n
      let head = lines[n].text.split(separator: " ", omittingEmptySubsequences: false)
      guard head.count == 5, head[0] == "record", let epoch = VaultGrammar.number(head[1]),
        let time = Timestamp(rfc3339: String(head[2])), VaultGrammar.isAuthor(head[3])
      else { throw fail(n, "expected `record EPOCH TIME SIGNER PARENT`") }
      guard epoch == records.count + 1 else { throw fail(n, "expected epoch \(records.count + 1)") }
      let parent = String(head[4])
      let expectedParent = records.last?.hash ?? "-"
      guard parent == expectedParent else {
        throw VaultError(.authenticationFailed, file: file, line: n + 1, detail: "record \(epoch) does not follow record \(epoch - 1)")
      }
      n += 1
      var body: [String] = []
      while n < lines.count, lines[n].text.hasPrefix(" "), !lines[n].text.hasPrefix(" sig ") {
        body.append(String(lines[n].text.dropFirst()))
        n += 1
      }
      guard n < lines.count, lines[n].text.hasPrefix(" sig "),
        let signature = Base64.decode(lines[n].text.dropFirst(5), padded: true), signature.count == 64
      else { throw fail(n, "expected ` sig BASE64`") }
      let policy: PolicyBody
      do {
        policy = try PolicyBody(lines: body)
      } catch {
        throw fail(recordStart + 1 + error.line, error.detail)
      }
      let signedBytes = Array(bytes[lines[recordStart].start..<lines[n].start])
      let authority = records.last?.policy ?? policy
      let signer = String(head[3])
      guard authority.isAdmin(signer), let key = authority.member(signer)?.signingKey else {
        throw VaultError(
          .authenticationFailed, file: file, line: recordStart + 1,
          detail: "record \(epoch) is signed by \(signer), who was not an admin with a signing key at epoch \(max(1, epoch - 1))")
      }
      guard key.verify(signature, of: recordMessage(project: project, bytes: signedBytes)) else {
        throw VaultError(.authenticationFailed, file: file, line: n + 1, detail: "record \(epoch): signature does not verify")
      }
      let recordBytes = Array(bytes[lines[recordStart].start..<lines[n].end])
      records.append(
        Record(
          epoch: epoch, time: time, signer: signer, body: body, policy: policy, hash: hex(sha256(recordBytes)),
          bytes: recordBytes))
      n += 1
    }
    guard !records.isEmpty else { throw fail(n, "no record") }
    return PolicyChain(project: project, records: records)
  }

  /// Starts a chain: record 1, signed by `signer`, who must be an admin of `policy` with this signing key.
  /// - Parameters:
  ///   - policy: the first policy.
  ///   - signer: the approving member's name.
  ///   - identity: the signer's signing identity.
  ///   - time: when.
  ///   - project: the project identifier (normally fresh: ``newProjectID()``).
  /// - Throws: ``VaultError`` `.invalidName` when the signer is not an admin whose published key is `identity`'s.
  public static func genesis(
    _ policy: PolicyBody, signer: String, identity: SigningIdentity, at time: Timestamp, project: String
  ) throws(VaultError) -> PolicyChain {
    let empty = PolicyChain(project: project, records: [])
    return try empty.appending(policy, signer: signer, identity: identity, at: time)
  }

  /// A fresh project identifier: 16 random bytes, lowercase hex.
  public static func newProjectID() -> String { hex(AgeCrypto.randomBytes(16)) }

  /// Appends a record approving `policy`.
  /// - Parameters:
  ///   - policy: the new policy.
  ///   - signer: the approving member's name: an admin of the current head (of `policy` itself for record 1).
  ///   - identity: the signer's signing identity; its public key must be the one the authority publishes.
  ///   - time: when.
  /// - Returns: the longer chain.
  /// - Throws: ``VaultError`` `.invalidName` naming what is wrong.
  public func appending(
    _ policy: PolicyBody, signer: String, identity: SigningIdentity, at time: Timestamp
  ) throws(VaultError) -> PolicyChain {
    let authority = records.last?.policy ?? policy
    guard authority.isAdmin(signer) else {
      throw VaultError(.invalidName, file: ".coffer/policy", detail: "\(signer) is not an admin of the access policy")
    }
    guard authority.member(signer)?.signingKey == identity.publicKey else {
      throw VaultError(
        .invalidName, file: ".coffer/policy",
        detail: "the signing key published for \(signer) is not this identity's (`coffer identity` prints it)")
    }
    let epoch = records.count + 1
    var text = "record \(epoch) \(time.rfc3339) \(signer) \(records.last?.hash ?? "-")\n"
    for line in policy.lines { text += " " + line + "\n" }
    let signed = Array(text.utf8)
    let signature = identity.sign(PolicyChain.recordMessage(project: project, bytes: signed))
    let recordBytes = signed + Array(" sig \(Base64.encode(signature, padded: true))\n".utf8)
    var all = records
    all.append(
      Record(
        epoch: epoch, time: time, signer: signer, body: policy.lines, policy: policy, hash: hex(sha256(recordBytes)),
        bytes: recordBytes))
    return PolicyChain(project: project, records: all)
  }

  /// A next record signed by anyone, without the admin check: for tests that play an attacker.
  func recordUnchecked(_ policy: PolicyBody, signer: String, identity: SigningIdentity) -> Record {
    let epoch = records.count + 1
    var text = "record \(epoch) 2026-01-01T00:00:00Z \(signer) \(records.last?.hash ?? "-")\n"
    for line in policy.lines { text += " " + line + "\n" }
    let signed = Array(text.utf8)
    let signature = identity.sign(PolicyChain.recordMessage(project: project, bytes: signed))
    let bytes = signed + Array(" sig \(Base64.encode(signature, padded: true))\n".utf8)
    return Record(
      epoch: epoch, time: Timestamp(rfc3339: "2026-01-01T00:00:00Z")!, signer: signer, body: policy.lines, policy: policy,
      hash: hex(sha256(bytes)), bytes: bytes)
  }

  /// The file's bytes.
  public func serialized() -> [UInt8] {
    var out = Array("\(PolicyChain.magic)\nproject \(project)\n".utf8)
    for r in records { out += r.bytes }
    return out
  }

  /// The newest epoch at which someone who could read `group` in `environment` lost that access (or had their
  /// recipient replaced), or 0 when nobody ever did. A vault's seal of that group must be at least this epoch:
  /// the revocation re-keyed it then.
  /// - Parameters:
  ///   - environment: an environment name.
  ///   - group: a group name.
  public func lastReaderRemoval(environment: String, group: String) -> Int {
    readerRemoval(environment: environment, group: group)?.epoch ?? 0
  }


  /// A reader removal: at which epoch, who lost access, and when the record was approved.
  public struct Removal: Sendable, Equatable {
    /// The epoch of the record that removed them.
    public let epoch: Int
    /// The members removed as readers at that epoch.
    public let members: [String]
    /// When the record was approved.
    public let time: Timestamp
  }

  /// The newest reader removal for a group in an environment (``lastReaderRemoval(environment:group:)`` with who and
  /// when), or `nil` when nobody ever lost access to it.
  public func readerRemoval(environment: String, group: String) -> Removal? {
    var latest: Removal?
    for k in records.indices.dropFirst() {
      let before = records[k - 1].policy
      let after = records[k].policy
      let removed = before.members.filter { m in
        before.canRead(m.name, environment: environment, group: group)
          && !(after.canRead(m.name, environment: environment, group: group)
            && after.member(m.name)?.recipient == m.recipient)
      }.map(\.name)
      if !removed.isEmpty { latest = Removal(epoch: records[k].epoch, members: removed, time: records[k].time) }
    }
    return latest
  }

  /// Every signing key ever published for a member, for verifying authorship of old versions.
  public func signingKeys(of name: String) -> [SigningPublicKey] {
    var keys: [SigningPublicKey] = []
    for r in records {
      if let k = r.policy.member(name)?.signingKey, !keys.contains(k) { keys.append(k) }
    }
    return keys
  }

  static func recordMessage(project: String, bytes: [UInt8]) -> [UInt8] {
    var m = SignedMessage("coffer-policy/v2 record")
    m.add(project)
    m.add(raw: bytes)
    return m.bytes
  }

  static func isHexID(_ s: Substring) -> Bool {
    s.utf8.count == 32 && s.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
  }
}

/// One policy: members, admins and rules, in a canonical text form that is compared and signed.
public struct PolicyBody: Sendable, Equatable {
  /// A member: a recipient name, its age recipient and its signing key if published.
  public struct Member: Sendable, Equatable {
    /// The name.
    public let name: String
    /// The `age1…` recipient.
    public let recipient: String
    /// The signing key, if published.
    public let signingKey: SigningPublicKey?
  }

  /// The members, in declared order.
  public let members: [Member]
  /// The admins; `nil` for every member.
  public let admins: [String]?
  /// The rules; `nil` for "every member reads everything".
  public let rules: [AccessRule]?

  /// The policy a manifest asks for.
  /// - Parameter policy: the manifest's policy (``AccessPolicy/init(manifest:)``).
  public init(_ policy: AccessPolicy) {
    members = policy.recipients.map {
      Member(name: $0.name, recipient: $0.recipient, signingKey: $0.signingKey.flatMap { SigningPublicKey(parsing: $0) })
    }
    admins = policy.admins
    rules = policy.rules
    evaluator = PolicyBody.evaluator(members: members, admins: admins, rules: rules)
  }

  static func evaluator(members: [Member], admins: [String]?, rules: [AccessRule]?) -> AccessPolicy {
    AccessPolicy(
      rules: rules,
      recipients: members.map { ManifestRecipient(name: $0.name, recipient: $0.recipient, signingKey: $0.signingKey?.encoded) },
      admins: admins, environments: [], groups: [])
  }

  struct ParseError: Error {
    let line: Int
    let detail: String
  }

  init(lines: [String]) throws(ParseError) {
    var members: [Member] = []
    var admins: [String]?? = .none
    var rules: [AccessRule] = []
    var open = false
    for (i, line) in lines.enumerated() {
      let f = line.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
      switch f.first {
      case "admins" where f.count == 2 && admins == nil:
        admins = .some(f[1] == "*" ? nil : f[1].split(separator: ",").map(String.init))
      case "member" where f.count == 3 || f.count == 4:
        guard VaultGrammar.isAuthor(f[1]), VaultGrammar.isRecipient(f[2]), !members.contains(where: { $0.name == f[1] })
        else { throw ParseError(line: i, detail: "expected `member NAME age1… [ed25519:…]`") }
        var key: SigningPublicKey?
        if f.count == 4 {
          guard let k = SigningPublicKey(parsing: f[3]) else { throw ParseError(line: i, detail: "invalid signing key") }
          key = k
        }
        members.append(Member(name: f[1], recipient: f[2], signingKey: key))
      case "rule" where f.count == 5 && (f[4] == "read" || f[4] == "write"):
        func selector(_ s: String) throws(ParseError) -> AccessSelector {
          if s == "*" { return .any }
          let names = s.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
          guard names.allSatisfy({ VaultGrammar.isAuthor($0) }) else { throw ParseError(line: i, detail: "invalid name list") }
          return .names(names)
        }
        rules.append(
          AccessRule(
            environments: try selector(f[1]), groups: try selector(f[2]), recipients: try selector(f[3]),
            writeOnly: f[4] == "write"))
      case "open" where f.count == 1:
        open = true
      default:
        throw ParseError(line: i, detail: "unexpected line")
      }
    }
    guard !members.isEmpty else { throw ParseError(line: 0, detail: "no member") }
    guard case .some(let adminList) = admins else { throw ParseError(line: 0, detail: "no admins line") }
    if let adminList, !adminList.allSatisfy({ a in members.contains { $0.name == a } }) {
      throw ParseError(line: 0, detail: "an admin is not a member")
    }
    guard open != !rules.isEmpty else { throw ParseError(line: 0, detail: "expected either rules or `open`") }
    self.members = members
    self.admins = adminList
    self.rules = open ? nil : rules
    evaluator = PolicyBody.evaluator(members: members, admins: adminList, rules: open ? nil : rules)
    guard self.lines == lines else { throw ParseError(line: 0, detail: "not in canonical form") }
  }

  /// The canonical body lines: `admins`, then `member` lines, then `rule` lines (or `open`).
  public var lines: [String] {
    var out = ["admins " + (admins.map { $0.joined(separator: ",") } ?? "*")]
    for m in members {
      out.append("member \(m.name) \(m.recipient)" + (m.signingKey.map { " " + $0.encoded } ?? ""))
    }
    if let rules {
      for r in rules {
        func text(_ s: AccessSelector) -> String {
          switch s {
          case .any: return "*"
          case .names(let names): return names.joined(separator: ",")
          }
        }
        out.append("rule \(text(r.environments)) \(text(r.groups)) \(text(r.recipients)) \(r.writeOnly ? "write" : "read")")
      }
    } else {
      out.append("open")
    }
    return out
  }

  /// The member with this name.
  public func member(_ name: String) -> Member? { members.first { $0.name == name } }

  /// The policy as CofferCore evaluates it, over the manifest's environment and group names.
  public func accessPolicy(environments: [String], groups: [String]) -> AccessPolicy {
    AccessPolicy(
      rules: rules, recipients: evaluator.recipients, admins: admins, environments: environments, groups: groups)
  }

  /// The same policy as CofferCore evaluates it, built once (verifying a vault asks it per key and member).
  private let evaluator: AccessPolicy

  /// Whether `name` may approve policy changes.
  public func isAdmin(_ name: String) -> Bool { evaluator.isAdmin(name) }
  /// Whether `name` may read `group` in `environment`.
  public func canRead(_ name: String, environment: String, group: String) -> Bool {
    evaluator.canRead(name, environment: environment, group: group)
  }
  /// Whether `name` may write `group` in `environment`.
  public func canWrite(_ name: String, environment: String, group: String) -> Bool {
    evaluator.canWrite(name, environment: environment, group: group)
  }
}
