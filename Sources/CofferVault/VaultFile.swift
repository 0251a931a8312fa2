import CofferCore
import Crypto
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Reads and writes the vault file format, `coffer-vault v1` (docs/vault-format.md).
///
/// Bytes in, values out: no paths are opened here. Reading verifies the grammar, unwraps the environment key,
/// verifies the file MAC, and unwraps every group key the identities can; values stay sealed until asked for.
public enum VaultFile {
  /// The first line of every version-1 vault file.
  public static let magic = "coffer-vault v1"

  /// Opens a vault file.
  /// - Parameters:
  ///   - bytes: the file's contents. CRLF line endings (from git's `autocrlf`) are read as LF.
  ///   - file: the label to name in errors (normally the path).
  ///   - identities: the identities to try on each wrapped key.
  /// - Returns: the opened vault; groups whose keys no identity unwraps are listed in ``Vault/unreadableGroups``.
  /// - Throws: ``VaultError`` ``VaultError/Code/malformed`` (with the line) when the grammar is not followed,
  ///   ``VaultError/Code/unsupportedVersion`` for another format version, ``VaultError/Code/noMatchingIdentity``
  ///   when no identity unwraps the environment key, ``VaultError/Code/authenticationFailed`` when the MAC does not
  ///   verify (an entry added, removed, reordered, edited or rolled back on its own).
  public static func open(_ bytes: [UInt8], file: String, with identities: [any AgeIdentity]) throws(VaultError) -> Vault {
    try open(bytes, file: file, with: identities, trust: nil)
  }

  /// Opens a vault file and, for format 2, verifies it against the approved access policy.
  /// - Parameters:
  ///   - bytes: the file's contents.
  ///   - file: the label to name in errors.
  ///   - identities: the identities to try on each wrapped key.
  ///   - trust: the verified policy chain; required for a format-2 file (refused as `.authenticationFailed`
  ///     without it), ignored for format 1.
  /// - Returns: the opened vault.
  /// - Throws: as ``open(_:file:with:)``, plus `.authenticationFailed` naming the key, group or version whose
  ///   signature or rule does not hold, and `.rolledBack` for a group sealed before a revocation of its readers.
  public static func open(
    _ bytes: [UInt8], file: String, with identities: [any AgeIdentity], trust: PolicyChain?,
    allowRolledBack: Bool = false
  ) throws(VaultError) -> Vault {
    try open(bytes, file: file, with: identities, trust: trust, allowRolledBack: allowRolledBack, earlyMACFrom: EarlyMAC.minimumBytes)
  }

  /// ``open(_:file:with:trust:allowRolledBack:)`` with the file size from which the MAC is computed on a helper
  /// thread (tests compare both paths on the same files).
  static func open(
    _ bytes: [UInt8], file: String, with identities: [any AgeIdentity], trust: PolicyChain?,
    allowRolledBack: Bool, earlyMACFrom minimumBytes: Int
  ) throws(VaultError) -> Vault {
    // A large file's MAC is computed on a second thread while its secrets are parsed (``EarlyMAC``). The checks
    // and errors, and their order, are those of the one-thread path below, which any other file takes.
    var early: EarlyMAC?
    let parsed: Parsed
    do {
      parsed = try parse(bytes, file: file) { header in
        early = EarlyMAC.start(header, identities: identities, minimumBytes: minimumBytes)
      }
    } catch {
      early?.pending?.abandon()
      throw error
    }
    // `parse` has checked that the environment key is there.
    guard let envSlot = parsed.slots[VaultGrammar.environmentSlot] else {
      throw VaultError(.malformed, file: file, detail: "no environment key")
    }
    let envKeyBytes: [UInt8]
    let expected: [UInt8]
    if let early, let pending = early.pending, case .success(let unwrapped) = early.unwrap {
      envKeyBytes = unwrapped
      expected = pending.finish() ?? []  // never abandoned here; an empty MAC would not verify
    } else {
      if parsed.project != nil {
        // Format 2: every wrapped key has exactly its listed stanzas, checked before any is tried (a header with
        // thousands of stanzas would otherwise cost an X25519 operation each).
        for (slot, s) in parsed.slots where !VaultV2.isStrictWrap(s.wrapped, count: s.recipients.count) {
          throw VaultError(.authenticationFailed, file: file, detail: "key \(slot) is not wrapped to exactly the recipients its `to` lines list")
        }
      }
      do {
        // An unwrap already made after the header (``EarlyMAC``) is not made again: it may have cost scrypt work.
        if let early {
          envKeyBytes = try early.unwrap.get()
        } else {
          envKeyBytes = try Age.decrypt(envSlot.wrapped, with: identities)
        }
      } catch let error where error.code == .noMatch {
        throw VaultError(.noMatchingIdentity, file: file)
      } catch {
        throw VaultError(.malformed, file: file, line: parsed.envSlotLine, detail: "environment key: \(error.code)")
      }
      guard envKeyBytes.count == 32 else { throw VaultError(.malformed, file: file, detail: "environment key length") }
      expected = mac(parsed.bytes[parsed.authenticated], envKey: SymmetricKey(data: envKeyBytes), version: parsed.project == nil ? 1 : 2)
    }
    let envKey = SymmetricKey(data: envKeyBytes)
    guard safeEqual(expected, parsed.mac) else { throw VaultError(.authenticationFailed, file: file) }

    var slots = parsed.slots
    let mine = Set(identities.compactMap { ($0 as? AgeX25519Identity)?.recipient.encoded })
    for (group, slot) in slots where group != VaultGrammar.environmentSlot {
      if let raw = try? Age.decrypt(slot.wrapped, with: identities), raw.count == 32 {
        slots[group]?.key = SymmetricKey(data: raw)
      } else if parsed.project != nil, slot.recipients.contains(where: mine.contains) {
        // Format 2: a key whose `to` lines name this identity but that does not open is damage, not "no access".
        throw VaultError(.authenticationFailed, file: file, detail: "key \(group) is listed for this identity but does not open")
      }
    }
    slots[VaultGrammar.environmentSlot]?.key = envKey
    let recipients = envSlot.recipients.compactMap { try? AgeX25519Recipient(parsing: $0) }
    var vault = Vault(
      environment: parsed.environment, file: file, envKey: envKey, slots: slots,
      order: parsed.order, parsedOrder: parsed.inOrder, wrapTo: { _ in recipients })
    if let project = parsed.project {
      guard let trust else {
        throw VaultError(.authenticationFailed, file: file, detail: "a format-2 vault needs the project's access policy (.coffer/policy), which is missing")
      }
      vault.v2 = VaultV2.State(project: project, seals: parsed.seals, groupLines: parsed.groupLines, signer: nil)
      // A file this identity already verified under this policy record (the memo holds the tag of its MAC) has the
      // same bytes, so the same seals hold: they are not hashed and verified again (docs/vault-format.md,
      // "Verified-signature memo"). Every other check is made.
      let memo = SignatureMemo.active
      let tag = memo?.vaultTag(project: project, environment: parsed.environment, policyRecord: trust.head.hash, mac: parsed.mac)
      let sealsVerified = tag.map { memo?.contains($0) == true } ?? false
      try vault.verifyTrust(trust, digests: sealsVerified ? nil : parsed.groupLines.digests, allowRolledBack: allowRolledBack)
      if let memo, let tag, !sealsVerified { memo.insert(tag) }
    } else if trust != nil {
      throw VaultError(
        .authenticationFailed, file: file,
        detail: "a format-1 vault in a project with a signed access policy (run `coffer migrate` if it was never migrated)")
    }
    return vault
  }

  /// Reads the environment name and the readable metadata without any key: for `list`-like views by someone who
  /// cannot decrypt. Does not verify the MAC.
  /// - Parameters:
  ///   - bytes: the file's contents.
  ///   - file: the label for errors.
  /// - Returns: the environment name and, per secret name, its group and versions.
  /// - Throws: ``VaultError`` ``VaultError/Code/malformed`` or ``VaultError/Code/unsupportedVersion``.
  public static func inspect(_ bytes: [UInt8], file: String) throws(VaultError) -> VaultSummary {
    let p = try parse(bytes, file: file)
    return VaultSummary(
      environment: p.environment,
      secrets: p.inOrder.map { name, record in
        VaultSummary.Entry(name: name, group: record.group, versions: record.versions, exposure: record.exposure)
      },
      groups: p.slots.mapValues(\.recipients))
  }

  /// Serializes a vault with a fresh MAC.
  /// - Parameter vault: the vault to write.
  /// - Returns: the file's bytes: LF line endings, sorted, deterministic apart from new ciphertexts.
  public static func seal(_ vault: Vault) -> [UInt8] {
    var out = [UInt8]()
    func line(_ s: String, into buffer: inout [UInt8]) { buffer.append(contentsOf: s.utf8); buffer.append(0x0A) }
    let v2 = vault.v2
    line(v2 == nil ? magic : VaultV2.magic, into: &out)
    if let v2 { line("project \(v2.project)", into: &out) }
    line("environment \(vault.environment)", into: &out)
    // Format 2 seals each group over its own lines, so they are collected per group as they are written.
    var groupLines: [String: [UInt8]] = [:]
    var keyLines: [UInt8] = []
    for slotName in vault.slots.keys.sorted(by: utf8Less) {
      guard let slot = vault.slots[slotName] else { continue }
      var block: [UInt8] = []
      line("key \(slotName) \(Base64.encode(slot.wrapped, padded: true))", into: &block)
      for r in slot.recipients { line(" to \(r)", into: &block) }
      if v2 != nil {
        line(" by \(slot.signer ?? "-") \(slot.epoch ?? 0) \(Base64.encode(slot.signature ?? [], padded: true))", into: &block)
      }
      keyLines += block
      if let group = VaultGrammar.parseSlot(slotName)?.group, group != VaultGrammar.environmentSlot {
        groupLines[group, default: []] += block
      }
    }
    var secretLines: [UInt8] = []
    secretLines.reserveCapacity(vault.names.count * 160)
    for (name, record) in vault.recordsInOrder {
      var block: [UInt8] = []
      line("secret \(name) \(record.group)", into: &block)
      if let e = record.exposure { line(" exposed \(e.throughVersion) \(e.time.rfc3339) \(e.recipient)", into: &block) }
      for v in record.versions {
        var fields = " v \(v.number) \(v.created.rfc3339) \(v.author)"
        if v.generation > 1 { fields += " #\(v.generation)" }
        if let r = v.restores { fields += " <\(r.number)@\(r.created.rfc3339)" }
        if v2 != nil {
          if case .encoded(let text) = v.storedAttestation {
            fields += " " + String(decoding: text, as: UTF8.self)  // as read: canonical, so as it would encode
          } else {
            fields += " " + Base64.encode(v.attestation ?? [], padded: true)
          }
        }
        if case .encoded(let text) = v.storedSealed {
          line(fields + " " + String(decoding: text, as: UTF8.self), into: &block)  // as read: canonical
        } else {
          line(fields + " " + Base64.encode(v.sealed, padded: true), into: &block)
        }
      }
      secretLines += block
      if v2 != nil { groupLines[record.group, default: []] += block }
    }
    out += keyLines
    if let v2 {
      for group in groupLines.keys.sorted(by: utf8Less) {
        let digest = sha256(groupLines[group] ?? [])
        var seal = v2.seals[group]
        if seal == nil || v2.sealedDigests[group] != digest || v2.signer.map({ seal!.epoch < $0.epoch && sealNeedsRenewal(seal!, $0, group: group, environment: vault.environment) }) == true,
          let signer = v2.signer
        {
          seal = VaultV2.GroupSeal(
            epoch: signer.epoch, signer: signer.name,
            signature: signer.identity.sign(
              VaultV2.sealMessage(project: v2.project, environment: vault.environment, group: group, epoch: signer.epoch, digest: digest)))
        }
        if let seal { line("seal \(group) \(seal.epoch) \(seal.signer) \(Base64.encode(seal.signature, padded: true))", into: &out) }
      }
    }
    out += secretLines
    let tag = mac(out[...], envKey: vault.envKey, version: v2 == nil ? 1 : 2)
    line("mac \(Base64.encode(tag, padded: true))", into: &out)
    return out
  }

  /// Whether an unchanged group's seal must be renewed by the current writer: its signer may no longer write it.
  static func sealNeedsRenewal(_ seal: VaultV2.GroupSeal, _ signer: VaultSigner, group: String, environment: String) -> Bool {
    !(signer.policy.canWrite(seal.signer, environment: environment, group: group) || signer.policy.isAdmin(seal.signer))
      && (signer.policy.canWrite(signer.name, environment: environment, group: group) || signer.policy.isAdmin(signer.name))
  }

  // MARK: - Parsing

  struct Parsed {
    var environment: String
    var slots: [String: Vault.KeySlot]
    var envSlotLine: Int
    /// Secret names in file order (verified sorted).
    var order: [String]
    /// The records in file order (``Vault/parsedOrder``).
    var inOrder: [(name: String, record: Vault.Record)]
    /// The file's bytes (CRLF normalized to LF).
    var bytes: [UInt8]
    /// The part of ``bytes`` the MAC covers: everything before the `mac` line.
    var authenticated: Range<Int>
    var mac: [UInt8]
    /// Format 2: the project, the group seals and each group's lines (hashed when needed).
    var project: String? = nil
    var seals: [String: VaultV2.GroupSeal] = [:]
    var groupLines = GroupLines(digests: [:])
  }

  /// The parsed file's header, handed to `parse`'s `afterHeader` before the secrets are parsed.
  struct Header {
    /// The file's bytes (LF line endings) and the range its MAC covers, if the last line is the `mac` line.
    var bytes: [UInt8]
    var authenticated: Range<Int>
    var slots: [String: Vault.KeySlot]
    var isV2: Bool
  }

  /// Parses a vault file's grammar (docs/vault-format.md); checks no key, MAC or signature.
  /// - Parameters:
  ///   - input: the file's contents.
  ///   - file: the label for errors.
  ///   - afterHeader: called once the key and seal lines are parsed, before the secrets are (``open(_:file:with:trust:allowRolledBack:)``
  ///     starts the MAC then); not called when the header is malformed.
  /// - Throws: ``VaultError/Code/malformed`` with the line, ``VaultError/Code/unsupportedVersion``.
  static func parse(_ input: [UInt8], file: String, afterHeader: ((Header) -> Void)? = nil) throws(VaultError) -> Parsed {
    // Normalize CRLF to LF so a checkout with autocrlf still opens; a lone CR is damage.
    let bytes: [UInt8]
    if input.withUnsafeBytes({ $0.count > 0 && memchr($0.baseAddress!, 0x0D, $0.count) != nil }) {
      var normalized = [UInt8]()
      normalized.reserveCapacity(input.count)
      var lineNo = 1
      for i in input.indices {
        let b = input[i]
        if b == 0x0D {
          guard i + 1 < input.count, input[i + 1] == 0x0A else {
            throw VaultError(.malformed, file: file, line: lineNo, detail: "carriage return")
          }
          continue
        }
        if b == 0x0A { lineNo += 1 }
        normalized.append(b)
      }
      bytes = normalized
    } else {
      bytes = input
    }
    guard bytes.last == 0x0A else {
      throw VaultError(.malformed, file: file, line: bytes.count(where: { $0 == 0x0A }) + 1, detail: "missing final newline")
    }
    // The parser works on byte ranges and makes strings only for what it keeps (profiled: docs/performance.md).
    var lines: [LineSpan] = []
    lines.reserveCapacity(bytes.count / 40)
    var secretLines = 0
    bytes.withUnsafeBufferPointer { b in
      let base = b.baseAddress!
      var start = 0
      while start < b.count, let found = memchr(base + start, 0x0A, b.count - start) {
        let j = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
        if b[start] == UInt8(ascii: "s") { secretLines += 1 }
        lines.append(LineSpan(lowerBound: start, upperBound: j))
        start = j + 1
      }
    }
    func fail(_ n: Int, _ what: String) -> VaultError { VaultError(.malformed, file: file, line: n + 1, detail: what) }
    func starts(_ n: Int, _ prefix: StaticString) -> Bool {
      let r = lines[n]
      let count = prefix.utf8CodeUnitCount
      guard r.count >= count else { return false }
      return prefix.withUTF8Buffer { p in
        var k = 0
        while k < count {
          if bytes[r.lowerBound + k] != p[k] { return false }
          k += 1
        }
        return true
      }
    }
    /// The fields of line `n` after a prefix of `skip` bytes, split on single spaces (no heap allocation).
    func fields(_ n: Int, skip: Int) -> LineFields {
      var out = LineFields()
      let end = lines[n].upperBound
      var s = lines[n].lowerBound + skip
      bytes.withUnsafeBufferPointer { b in
        let base = b.baseAddress!
        while s < end, let found = memchr(base + s, 0x20, end - s) {
          let k = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
          out.append(s..<k)
          s = k + 1
        }
      }
      out.append(s..<end)
      return out
    }
    func string(_ r: Range<Int>) -> String { String(decoding: bytes[r], as: UTF8.self) }
    func isToken(_ r: Range<Int>) -> Bool {
      guard !r.isEmpty, r.count <= 256 else { return false }
      return bytes.withUnsafeBufferPointer { b in
        VaultGrammar.tokenBytes.withUnsafeBufferPointer { table in
          // No early exit: one pass that ANDs the table entries.
          var ok = true
          for k in r { ok = ok && table[Int(b[k])] }
          return ok
        }
      }
    }
    func less(_ a: Range<Int>, _ b: Range<Int>) -> Bool {
      // Unsigned byte order, as `lexicographicallyPrecedes` on UTF-8, with one `memcmp`.
      let shared = min(a.count, b.count)
      let order = shared == 0 ? 0 : bytes.withUnsafeBufferPointer {
        memcmp($0.baseAddress! + a.lowerBound, $0.baseAddress! + b.lowerBound, shared)
      }
      return order < 0 || (order == 0 && a.count < b.count)
    }

    guard !lines.isEmpty else { throw VaultError(.malformed, file: file, line: 1, detail: "empty file") }
    let isV2 = bytes[lines[0].range].elementsEqual(VaultV2.magic.utf8)
    if !isV2, !bytes[lines[0].range].elementsEqual(magic.utf8) {
      let first = string(lines[0].range)
      if first.hasPrefix("coffer-vault ") {
        throw VaultError(.unsupportedVersion, file: file, line: 1, detail: String(first.dropFirst(13)))
      }
      throw fail(0, "not a coffer vault")
    }
    var n = 1
    var project: String?
    if isV2 {
      guard lines.count > 1, starts(1, "project "), PolicyChain.isHexID(Substring(string((lines[1].lowerBound + 8)..<lines[1].upperBound)))
      else { throw fail(1, "expected `project HEX`") }
      project = string((lines[1].lowerBound + 8)..<lines[1].upperBound)
      n = 2
    }
    guard lines.count >= n + 2 else { throw fail(lines.count - 1, "truncated") }
    guard starts(n, "environment "), case let f = fields(n, skip: 12), f.count == 1, isToken(f[0]) else {
      throw fail(n, "expected `environment NAME`")
    }
    let environment = string(f[0])
    // Format 2: where each group's lines are, for its seal; hashed only when a seal must be verified or written
    // (``GroupLines``). Adjacent blocks of one group are kept as one span.
    // The lists by group, looked up by name only when the group differs from the previous block's.
    var groupIndex: [String: Int] = [:]
    var spanLists: [(group: String, spans: [LineSpan])] = []
    var lastSpanList: (group: String, index: Int)?
    func addGroupLines(_ group: String, from a: Int, through b: Int) {
      guard isV2 else { return }
      let span = LineSpan(lowerBound: lines[a].lowerBound, upperBound: lines[b].upperBound + 1)
      let i: Int
      if let last = lastSpanList, last.group == group {
        i = last.index
      } else if let known = groupIndex[group] {
        i = known
      } else {
        i = spanLists.count
        groupIndex[group] = i
        spanLists.append((group, []))
      }
      lastSpanList = (group, i)
      if let last = spanLists[i].spans.last, last.upperBound == span.lowerBound {
        spanLists[i].spans[spanLists[i].spans.count - 1] = LineSpan(lowerBound: last.lowerBound, upperBound: span.upperBound)
      } else {
        spanLists[i].spans.append(span)
      }
    }

    n += 1
    var slots: [String: Vault.KeySlot] = [:]
    var envSlotLine = 0
    var lastSlot: Range<Int>?
    while n < lines.count, starts(n, "key ") {
      let f = fields(n, skip: 4)
      guard f.count == 2, VaultGrammar.parseSlot(string(f[0])) != nil,
        let wrapped = Base64.decode(bytes[f[1]], padded: true)
      else {
        throw fail(n, "expected `key GROUP BASE64` or `key GROUP#N BASE64`")
      }
      if let lastSlot, !less(lastSlot, f[0]) { throw fail(n, "key lines out of order") }
      lastSlot = f[0]
      let slot = string(f[0])
      if slot == VaultGrammar.environmentSlot { envSlotLine = n + 1 }
      let blockStart = n
      n += 1
      var recipients: [String] = []
      var lastRecipient: Range<Int>?
      while n < lines.count, starts(n, " to ") {
        guard recipients.count < VaultGrammar.maxRecipients else { throw fail(n, "more than \(VaultGrammar.maxRecipients) recipients") }
        let r = (lines[n].lowerBound + 4)..<lines[n].upperBound
        let text = string(r)
        guard VaultGrammar.isRecipient(text) else { throw fail(n, "expected ` to age1…`") }
        if let lastRecipient, !less(lastRecipient, r) { throw fail(n, "recipients out of order") }
        lastRecipient = r
        recipients.append(text)
        n += 1
      }
      guard !recipients.isEmpty else { throw fail(n, "key without recipients") }
      var keySlot = Vault.KeySlot(recipients: recipients, wrapped: wrapped, key: nil)
      if isV2 {
        guard n < lines.count, starts(n, " by "), case let b = fields(n, skip: 4), b.count == 3,
          VaultGrammar.isAuthor(bytes[b[0]]), let keyEpoch = VaultGrammar.number(bytes[b[1]]),
          let signature = Base64.decode(bytes[b[2]], padded: true), signature.count == 64
        else { throw fail(n, "expected ` by MEMBER EPOCH SIGNATURE`") }
        keySlot.signer = string(b[0])
        keySlot.epoch = keyEpoch
        keySlot.signature = signature
        if let group = VaultGrammar.parseSlot(slot)?.group, group != VaultGrammar.environmentSlot {
          addGroupLines(group, from: blockStart, through: n)
        }
        n += 1
      }
      slots[slot] = keySlot
    }
    guard slots[VaultGrammar.environmentSlot] != nil else { throw fail(n, "no environment key (`key * …`)") }
    for name in slots.keys where !isV2 {
      guard let slot = VaultGrammar.parseSlot(name), slot.generation > 1, slots[slot.group] == nil else { continue }
      throw fail(2, "key \(name) without key \(slot.group)")
    }
    var seals: [String: VaultV2.GroupSeal] = [:]
    var lastSeal: Range<Int>?
    while isV2, n < lines.count, starts(n, "seal ") {
      let f = fields(n, skip: 5)
      guard f.count == 4, isToken(f[0]), let epoch = VaultGrammar.number(bytes[f[1]]), VaultGrammar.isAuthor(bytes[f[2]]),
        let signature = Base64.decode(bytes[f[3]], padded: true), signature.count == 64
      else { throw fail(n, "expected `seal GROUP EPOCH MEMBER SIGNATURE`") }
      if let lastSeal, !less(lastSeal, f[0]) { throw fail(n, "seal lines out of order or repeated") }
      lastSeal = f[0]
      seals[string(f[0])] = VaultV2.GroupSeal(epoch: epoch, signer: string(f[2]), signature: signature)
      n += 1
    }

    afterHeader?(Header(bytes: bytes, authenticated: 0..<lines[lines.count - 1].lowerBound, slots: slots, isV2: isV2))

    var order: [String] = []
    order.reserveCapacity(secretLines)
    var inOrder: [(name: String, record: Vault.Record)] = []
    inOrder.reserveCapacity(secretLines)
    var lastGroup: (range: Range<Int>, text: String)?
    var groupHasKey = false
    var lastAuthor: (range: Range<Int>, text: String)?
    var lastTime: (range: Range<Int>, time: Timestamp)?
    var lastName: Range<Int>?
    var checkedSlot: (group: String, generation: Int)?
    while n < lines.count, starts(n, "secret ") {
      let f = fields(n, skip: 7)
      guard f.count == 2, isToken(f[0]), isToken(f[1]) else { throw fail(n, "expected `secret NAME GROUP`") }
      if let lastName, !less(lastName, f[0]) { throw fail(n, "secrets out of order or repeated") }
      lastName = f[0]
      let name = string(f[0])
      // Groups and authors repeat from block to block: reuse the last string when the bytes are the same.
      let group: String
      if let last = lastGroup, sameBytes(bytes, last.range, f[1]) {
        group = last.text
      } else {
        group = string(f[1])
        lastGroup = (f[1], group)
        groupHasKey = false
      }
      // A run of secrets in one group checks the group's key once.
      if !groupHasKey {
        guard slots[group] != nil || (isV2 && slots.keys.contains(where: { VaultGrammar.parseSlot($0)?.group == group })) else {
          throw fail(n, "group \(group) has no key")
        }
        groupHasKey = true
      }
      let blockStart = n
      n += 1
      var exposure: SecretExposure?
      if n < lines.count, starts(n, " exposed ") {
        let e = fields(n, skip: 9)
        guard e.count == 3, let through = VaultGrammar.number(bytes[e[0]]), let time = Timestamp(rfc3339: string(e[1])),
          VaultGrammar.isAuthor(bytes[e[2]])
        else { throw fail(n, "expected ` exposed N TIME RECIPIENT`") }
        exposure = SecretExposure(throughVersion: through, time: time, recipient: string(e[2]))
        n += 1
      }
      var versions: [SecretVersion] = []
      while n < lines.count, starts(n, " v ") {
        guard let version = parseVersion(fields(n, skip: 3), bytes, lastAuthor: &lastAuthor, lastTime: &lastTime, attested: isV2),
          version.restores.map({ $0.number < version.number }) ?? true
        else {
          throw fail(n, "expected ` v N TIME AUTHOR [#GEN] [<N@TIME] BASE64`")
        }
        if let last = versions.last, last.number <= version.number { throw fail(n, "versions out of order") }
        // Consecutive versions mostly use the key generation the previous one did: look it up once.
        if checkedSlot.map({ $0.generation != version.generation || $0.group != group }) ?? true {
          guard slots[VaultGrammar.slotName(group: group, generation: version.generation)] != nil
          else {
            throw fail(n, "version \(version.number) uses key \(group)#\(version.generation), which is missing")
          }
          checkedSlot = (group, version.generation)
        }
        versions.append(version)
        n += 1
      }
      guard !versions.isEmpty, versions.count <= Vault.retainedVersions else {
        throw fail(n, "secret \(name): bad version count")
      }
      let record = Vault.Record(group: group, versions: versions, exposure: exposure)
      order.append(name)
      inOrder.append((name, record))
      addGroupLines(group, from: blockStart, through: n - 1)
    }
    guard n == lines.count - 1, starts(n, "mac "), case let mf = fields(n, skip: 4), mf.count == 1,
      let tag = Base64.decode(bytes[mf[0]], padded: true), tag.count == 32
    else {
      throw fail(n, n == lines.count - 1 ? "expected `mac BASE64`" : "unexpected line")
    }
    return Parsed(
      environment: environment, slots: slots, envSlotLine: envSlotLine, order: order,
      inOrder: inOrder, bytes: bytes, authenticated: 0..<lines[n].lowerBound, mac: tag, project: project, seals: seals,
      groupLines: GroupLines(bytes: bytes, spans: Dictionary(uniqueKeysWithValues: spanLists.map { ($0.group, $0.spans) })))
  }

  /// Parses the fields of a version line after ` v `: `N TIME AUTHOR [#GEN] [<N@TIME] BASE64`.
  static func parseVersion(
    _ v: LineFields, _ bytes: [UInt8], lastAuthor: inout (range: Range<Int>, text: String)?,
    lastTime: inout (range: Range<Int>, time: Timestamp)?, attested: Bool = false
  ) -> SecretVersion? {
    let extra = attested ? 1 : 0
    guard v.count >= 4 + extra else { return nil }
    // The author and the time usually repeat the previous line's (an import writes many values at once), which were
    // already checked.
    let sameAuthor = lastAuthor.map { sameBytes(bytes, $0.range, v[2]) } ?? false
    let created: Timestamp
    if let last = lastTime, sameBytes(bytes, last.range, v[1]) {
      created = last.time
    } else {
      guard let parsed = Timestamp(rfc3339Bytes: bytes[v[1]]) else { return nil }
      created = parsed
      lastTime = (v[1], parsed)
    }
    guard v.count <= 6 + extra, let number = VaultGrammar.number(bytes[v[0]]), sameAuthor || VaultGrammar.isAuthor(bytes[v[2]]),
      case let sealed = bytes[v[v.count - 1]], let sealedCount = Base64.decodedCount(sealed, padded: true), sealedCount >= 28
    else { return nil }
    var attestation: StoredBytes?
    if attested {
      let text = bytes[v[v.count - 2]]
      guard let count = Base64.decodedCount(text, padded: true), count >= 100 else { return nil }
      attestation = .encoded(text)
    }
    let last = v.count - 1 - extra
    var i = 3
    var generation = 1
    var restores: VersionOrigin?
    if i < last, bytes[v[i]].first == UInt8(ascii: "#") {
      guard let g = VaultGrammar.number(bytes[v[i]].dropFirst()), g >= 2 else { return nil }
      generation = g
      i += 1
    }
    if i < last, bytes[v[i]].first == UInt8(ascii: "<") {
      let text = String(decoding: bytes[v[i]].dropFirst(), as: UTF8.self)
      let parts = text.split(separator: "@", omittingEmptySubsequences: false)
      guard parts.count == 2, let origin = VaultGrammar.number(ArraySlice(parts[0].utf8)),
        let time = Timestamp(rfc3339: String(parts[1]))
      else { return nil }
      restores = VersionOrigin(number: origin, created: time)
      i += 1
    }
    guard i == last else { return nil }
    let author: String
    if sameAuthor, let last = lastAuthor {
      author = last.text
    } else {
      author = String(decoding: bytes[v[2]], as: UTF8.self)
      lastAuthor = (v[2], author)
    }
    return SecretVersion(
      number: number, created: created, author: author, sealed: .encoded(sealed),
      generation: generation, restores: restores, storedAttestation: attestation)
  }

  /// Whether two ranges of `bytes` hold the same bytes (one `memcmp`; the generic comparison walks them one by one).
  static func sameBytes(_ bytes: [UInt8], _ a: Range<Int>, _ b: Range<Int>) -> Bool {
    guard a.count == b.count else { return false }
    guard !a.isEmpty else { return true }
    return bytes.withUnsafeBufferPointer { memcmp($0.baseAddress! + a.lowerBound, $0.baseAddress! + b.lowerBound, a.count) == 0 }
  }

  /// The environment key, unwrapped once the header is parsed, and the file's MAC being computed on a helper thread
  /// meanwhile (docs/performance.md, "Issue 16, seventh pass").
  struct EarlyMAC {
    /// Files whose authenticated bytes are shorter (about 300 secrets) take the one-thread path: starting the helper
    /// costs the caller about 60 µs, and the MAC of 96 KiB about 50 µs. (At 1,000 secrets, 322 KB, the overlap saved
    /// about 0.1 ms; the boundary itself was not measured.)
    static let minimumBytes = 96 * 1024

    /// The unwrap's outcome, as `Age.decrypt` gave it: the environment key, or why it did not unwrap.
    let unwrap: Swift.Result<[UInt8], AgeError>
    /// The MAC being computed; nil unless the key unwrapped to 32 bytes.
    let pending: ParallelParts.Pending<[UInt8]>?

    /// Unwraps the environment key of a header's file, when the one-thread path would get as far as that: the file
    /// has `minimumBytes` or more, every format-2 key is strictly wrapped, and there is an environment key; and, when
    /// it unwraps to 32 bytes, starts the MAC.
    /// - Returns: nil when the one-thread path is to make every check itself.
    static func start(_ header: Header, identities: [any AgeIdentity], minimumBytes: Int) -> EarlyMAC? {
      guard header.authenticated.count >= minimumBytes,
        !header.isV2 || header.slots.allSatisfy({ VaultV2.isStrictWrap($0.value.wrapped, count: $0.value.recipients.count) }),
        let envSlot = header.slots[VaultGrammar.environmentSlot]
      else { return nil }
      let envKeyBytes: [UInt8]
      do {
        envKeyBytes = try Age.decrypt(envSlot.wrapped, with: identities)
      } catch {
        return EarlyMAC(unwrap: .failure(error), pending: nil)
      }
      guard envKeyBytes.count == 32 else { return EarlyMAC(unwrap: .success(envKeyBytes), pending: nil) }
      let bytes = header.bytes
      let authenticated = header.authenticated
      let envKey = SymmetricKey(data: envKeyBytes)
      let version = header.isV2 ? 2 : 1
      return EarlyMAC(
        unwrap: .success(envKeyBytes),
        pending: ParallelParts.start { VaultFile.mac(bytes[authenticated], envKey: envKey, version: version) })
    }
  }

  static func mac(_ bytes: ArraySlice<UInt8>, envKey: SymmetricKey, version: Int = 1) -> [UInt8] {
    AgeCrypto.hmac(bytes, key: AgeCrypto.hkdf(envKey, salt: [], info: Array("coffer-vault/v\(version) mac".utf8)))
  }

  static func safeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool { AgeCrypto.constantTimeEqual(a, b) }
}

/// Where one line of a vault file lies, without its LF. A plain struct rather than `Range<Int>`: an array of ranges
/// makes the runtime check `Int: Comparable` against every conformance in the binary on first use
/// (docs/performance.md).
struct LineSpan {
  let lowerBound: Int
  let upperBound: Int
  var count: Int { upperBound - lowerBound }
  var range: Range<Int> { lowerBound..<upperBound }
}

/// Up to 7 field ranges of one line, stored inline: no line of the grammar has more than 6 fields, so a 7th only
/// marks the line as malformed (``count`` keeps counting).
struct LineFields {
  private var storage: (Range<Int>, Range<Int>, Range<Int>, Range<Int>, Range<Int>, Range<Int>, Range<Int>) =
    (0..<0, 0..<0, 0..<0, 0..<0, 0..<0, 0..<0, 0..<0)
  /// How many fields the line has (may exceed 7; only the first 7 are kept).
  private(set) var count = 0

  mutating func append(_ r: Range<Int>) {
    switch count {
    case 0: storage.0 = r
    case 1: storage.1 = r
    case 2: storage.2 = r
    case 3: storage.3 = r
    case 4: storage.4 = r
    case 5: storage.5 = r
    case 6: storage.6 = r
    default: break
    }
    count += 1
  }

  subscript(i: Int) -> Range<Int> {
    switch i {
    case 0: return storage.0
    case 1: return storage.1
    case 2: return storage.2
    case 3: return storage.3
    case 4: return storage.4
    case 5: return storage.5
    default: return storage.6
    }
  }
}

/// What can be read from a vault file without any key.
public struct VaultSummary: Sendable {
  /// One secret's readable metadata.
  public struct Entry: Sendable {
    /// The secret's name.
    public let name: String
    /// Its group.
    public let group: String
    /// Its versions, newest first.
    public let versions: [SecretVersion]
    /// The revocation recorded on it, if any.
    public let exposure: SecretExposure?

    /// Who lost access while able to read the current value, if anyone: the secret needs rotation.
    public var needsRotation: RevocationMark? {
      guard let exposure, let current = versions.first, exposure.covers(current) else { return nil }
      return RevocationMark(recipient: exposure.recipient, time: exposure.time)
    }

    /// What rotation status needs to know about this secret.
    public var rotationFacts: RotationFacts? {
      versions.first.map {
        RotationFacts(name: name, group: group, lastRotated: $0.valueSince, revoked: needsRotation)
      }
    }
  }
  /// The environment name.
  public let environment: String
  /// Secrets sorted by name.
  public let secrets: [Entry]
  /// Key slot (`*` for the environment key, `GROUP` or `GROUP#N` for a data key generation) → recipients its key
  /// is wrapped to.
  public let groups: [String: [String]]
}

/// The lexical rules of the vault grammar.
public enum VaultGrammar {
  /// The key slot name of the environment key.
  public static let environmentSlot = "*"
  /// The most `to` lines a key block may have (a larger one is refused as malformed before any unwrapping).
  public static let maxRecipients = 1000

  /// ``isToken(_:)`` for a `String`, without generic dispatch (the `run` path checks the environment name).
  public static func isToken(_ s: String) -> Bool {
    var s = s
    return s.withUTF8 { u in
      guard !u.isEmpty, u.count <= 256 else { return false }
      for c in u where !(isAlnum(c) || c == 0x5F || c == 0x2E || c == 0x2D) { return false }
      return true
    }
  }

  /// Whether `s` is a name, group or environment token: `[A-Za-z0-9_.-]+`, at most 256 bytes.
  public static func isToken(_ s: some StringProtocol) -> Bool {
    let u = s.utf8
    guard !u.isEmpty, u.count <= 256 else { return false }
    return u.allSatisfy { isAlnum($0) || $0 == 0x5F || $0 == 0x2E || $0 == 0x2D }
  }

  /// The slot name of a group's data key generation: `GROUP` for generation 1, `GROUP#N` from 2 on.
  /// - Parameters:
  ///   - group: the group name.
  ///   - generation: the generation, at least 1.
  public static func slotName(group: String, generation: Int) -> String {
    generation <= 1 ? group : "\(group)#\(generation)"
  }

  /// Splits a key slot name into group and generation: `*` → (`*`, 1), `api-keys` → (`api-keys`, 1),
  /// `api-keys#3` → (`api-keys`, 3).
  /// - Parameter slot: the slot name from a `key` line.
  /// - Returns: `nil` when it is not a valid slot name (`GROUP#1`, `GROUP#02` and `*#2` are not).
  public static func parseSlot(_ slot: some StringProtocol) -> (group: String, generation: Int)? {
    let text = String(slot)
    if text == environmentSlot { return (environmentSlot, 1) }
    let parts = text.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
    guard isToken(parts[0]) else { return nil }
    guard parts.count == 2 else { return (String(parts[0]), 1) }
    guard let generation = number(parts[1]), generation >= 2 else { return nil }
    return (String(parts[0]), generation)
  }

  /// Whether `s` is an acceptable author: `[A-Za-z0-9_.@+-]+`, at most 256 bytes.
  public static func isAuthor(_ s: some StringProtocol) -> Bool {
    let u = s.utf8
    guard !u.isEmpty, u.count <= 256 else { return false }
    return u.allSatisfy { isAlnum($0) || $0 == 0x5F || $0 == 0x2E || $0 == 0x2D || $0 == 0x40 || $0 == 0x2B }
  }

  /// Whether `s` looks like an X25519 age recipient (`age1` and lowercase bech32 characters).
  public static func isRecipient(_ s: some StringProtocol) -> Bool {
    s.hasPrefix("age1") && s.utf8.count < 200
      && s.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) }
  }

  /// Replaces characters an author may not contain with `_`.
  public static func sanitizeAuthor(_ s: String) -> String {
    let cleaned = String(
      decoding: s.utf8.prefix(256).map {
        isAlnum($0) || $0 == 0x5F || $0 == 0x2E || $0 == 0x2D || $0 == 0x40 || $0 == 0x2B ? $0 : 0x5F
      }, as: UTF8.self)
    return cleaned.isEmpty ? "unknown" : cleaned
  }

  static func number(_ s: Substring) -> Int? { number(ArraySlice(s.utf8)) }

  /// A decimal 1…999999999 without leading zeros, from bytes.
  static func number(_ s: ArraySlice<UInt8>) -> Int? {
    guard let first = s.first, first != 0x30, s.count <= 9 else { return nil }
    var v = 0
    for c in s {
      guard c >= 0x30, c <= 0x39 else { return nil }
      v = v * 10 + Int(c - 0x30)
    }
    return v
  }

  /// ``isAuthor(_:)`` on bytes.
  static func isAuthor(_ u: ArraySlice<UInt8>) -> Bool {
    guard !u.isEmpty, u.count <= 256 else { return false }
    return u.allSatisfy { isAlnum($0) || $0 == 0x5F || $0 == 0x2E || $0 == 0x2D || $0 == 0x40 || $0 == 0x2B }
  }

  /// For each byte value, whether it may appear in a token (`[A-Za-z0-9_.-]`).
  static let tokenBytes: [Bool] = (0..<256).map { (c: Int) -> Bool in
    let b = UInt8(c)
    return isAlnum(b) || b == 0x5F || b == 0x2E || b == 0x2D
  }

  static func isAlnum(_ c: UInt8) -> Bool {
    (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
  }
}

/// The lines of each group of a format-2 file (its key blocks and secret blocks), and their SHA-256 (what the
/// group's seal signs), computed on first use: a read whose seals the memo already vouches for never hashes them
/// (docs/vault-format.md). Thread-safe (a ``Vault`` is `Sendable`).
final class GroupLines: Sendable {
  private let bytes: [UInt8]
  private let spans: [String: [LineSpan]]
  private let computed: Mutex<[String: [UInt8]]?>

  /// The groups' lines in `bytes`.
  init(bytes: [UInt8], spans: [String: [LineSpan]]) {
    self.bytes = bytes
    self.spans = spans
    computed = Mutex(nil)
  }

  /// Digests known already (a new vault's: none).
  init(digests: [String: [UInt8]]) {
    bytes = []
    spans = [:]
    computed = Mutex(digests)
  }

  /// Per group, the SHA-256 of its lines (each with its LF), in file order.
  var digests: [String: [UInt8]] {
    computed.withLock { computed in
      if let computed { return computed }
      var out: [String: [UInt8]] = [:]
      bytes.withUnsafeBytes { raw in
        for (group, list) in spans {
          var hasher = SHA256()
          for span in list { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: raw[span.range])) }
          out[group] = hasher.finalize().withUnsafeBytes { Array($0) }
        }
      }
      computed = out
      return out
    }
  }
}
