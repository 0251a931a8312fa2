import CofferCore
import Crypto
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// One environment's encrypted values, opened with an identity: the model behind `.coffer/vault/<env>.vault`.
///
/// The format is specified in docs/vault-format.md. In short: every value is sealed with ChaCha20-Poly1305
/// (RFC 8439) under a random 256-bit data key per (environment, group), with the slot (environment, name,
/// version) as associated data; each data key, and an environment key used for the file MAC, is wrapped to the
/// recipients as an age file (https://age-encryption.org/v1); an HMAC-SHA256 over the whole file authenticates the
/// set of entries. Names, groups, versions, dates and authors stay readable.
///
/// A `Vault` is a value: reading, changing and sealing it are pure. Values are decrypted only when asked for;
/// ``forEachCurrentValue(_:)`` opens many at once on two threads.
///
/// A group's data key may have several generations (`key GROUP`, `key GROUP#2`, …): a writer who cannot unwrap the
/// newest one seals under a fresh generation wrapped to the group's readers, so writing needs only public keys
/// (docs/vault-format.md, *Key generations*).
public struct Vault: Sendable {
  /// How many versions of each secret are kept; older ones are dropped when a new one is added.
  public static let retainedVersions = 10
  /// The largest version or key generation number the format can write (`number` in docs/vault-format.md).
  public static let largestNumber = 999_999_999

  /// The number after `current` (nil: none yet, so 1).
  /// - Throws: ``VaultError`` `.malformed` when `current` is already the largest the format can write; a writer
  ///   must not produce a file that readers reject.
  static func number(after current: Int?, what: String, file: String) throws(VaultError) -> Int {
    let next = (current ?? 0) + 1
    guard next <= largestNumber else {
      throw VaultError(.malformed, file: file, detail: "\(what) is already at \(largestNumber), the largest number the format can write")
    }
    return next
  }

  /// The environment this vault holds, e.g. `production`.
  public let environment: String
  /// The label used in error messages (normally the file's path).
  public let file: String

  struct KeySlot: Sendable {
    var recipients: [String]
    var wrapped: [UInt8]
    var key: SymmetricKey?
    /// Format 2: who wrapped this key, the policy epoch they wrapped it under, and their Ed25519 signature over it
    /// (``VaultV2/keyMessage``).
    var signer: String? = nil
    var epoch: Int? = nil
    var signature: [UInt8]? = nil
  }

  struct Record: Sendable {
    var group: String
    var versions: [SecretVersion]  // newest first
    var exposure: SecretExposure? = nil
  }

  var envKey: SymmetricKey
  var slots: [String: KeySlot]  // slot name (`*`, `GROUP`, `GROUP#N`) → slot
  /// Every secret's record by name. A vault as read builds this dictionary only on its first lookup (``RecordIndex``):
  /// `run` walks ``parsedOrder`` and never hashes the names. Any change (a set, a removal, a merge) drops the
  /// parser's ordered copy; ``order`` stays the source of truth for the names.
  var records: [String: Record] {
    get { storedRecords ?? index?.dictionary ?? [:] }
    _modify {
      if storedRecords == nil { storedRecords = index?.dictionary ?? [:] }
      index = nil
      parsedOrder = nil
      yield &storedRecords!
    }
    set {
      storedRecords = newValue
      index = nil
      parsedOrder = nil
    }
  }
  /// The records once built or changed; nil while ``index`` stands for them.
  private var storedRecords: [String: Record]?
  /// The parser's records, indexed by name on first lookup; nil once ``records`` changes.
  private var index: RecordIndex?
  /// The keys of `records`, kept sorted by UTF-8 bytes (the parser verified the file's order).
  var order: [String]
  /// The records as the parser met them, in ``order``: lets `run` and the trust checks walk every secret without one
  /// dictionary lookup (one string hash) each. Nil once `records` changes.
  var parsedOrder: [(name: String, record: Record)]?
  /// Who new and re-wrapped keys are wrapped to, by slot: `*` for the environment key, else a group name.
  var wrapTo: @Sendable (String) -> [AgeX25519Recipient]
  /// Trust model v2 state; `nil` for a format-1 vault.
  var v2: VaultV2.State? = nil

  /// A vault from its parts; exactly one of `records` (a new or rebuilt vault) and `parsedOrder` (the parser's records
  /// in file order, indexed by name on first lookup) is given.
  init(
    environment: String, file: String, envKey: SymmetricKey, slots: [String: KeySlot], records: [String: Record]? = nil,
    order: [String], parsedOrder: [(name: String, record: Record)]? = nil,
    wrapTo: @escaping @Sendable (String) -> [AgeX25519Recipient]
  ) {
    self.environment = environment
    self.file = file
    self.envKey = envKey
    self.slots = slots
    self.order = order
    self.wrapTo = wrapTo
    if let parsedOrder, records == nil {
      self.parsedOrder = parsedOrder
      index = RecordIndex(parsedOrder)
    } else {
      storedRecords = records ?? [:]
    }
  }

  /// The format version of the file this vault was read from or will be written as: 1 or 2.
  public var formatVersion: Int { v2 == nil ? 1 : 2 }

  /// The names of all secrets in the vault, sorted by their UTF-8 bytes.
  public var names: [String] { order }

  /// Every secret's record in name order: the parser's copy when `records` is unchanged since, else looked up.
  var recordsInOrder: [(name: String, record: Record)] {
    if let parsedOrder { return parsedOrder }
    return order.compactMap { name in records[name].map { (name, $0) } }
  }

  /// Whether the vault holds a secret of this name.
  /// - Parameter name: the secret's name.
  public func contains(_ name: String) -> Bool { record(named: name) != nil }

  /// One secret's record. A vault as read answers by a binary search of ``order`` (the parser's records are in the
  /// same order) without building the dictionary: `get` looks up one name among thousands.
  func record(named name: String) -> Record? {
    guard storedRecords == nil, let parsedOrder else { return records[name] }
    guard VaultGrammar.isToken(name) else { return nil }
    let i = insertionIndex(of: name)
    return i < parsedOrder.count && parsedOrder[i].name == name ? parsedOrder[i].record : nil
  }

  /// The groups that have a data key in this vault, sorted (the environment key `*` is not a group).
  public var groups: [String] {
    Array(Set(slots.keys.compactMap { VaultGrammar.parseSlot($0)?.group }))
      .filter { $0 != VaultGrammar.environmentSlot }.sorted(by: utf8Less)
  }

  /// The groups with at least one key generation none of the identities could unwrap.
  public var unreadableGroups: [String] { groups.filter { !canRead(group: $0) } }

  /// Whether every generation of a group's data key was unwrapped, so every version in the group can be opened.
  /// - Parameter group: the group name.
  /// - Returns: `false` also when the vault has no key for the group.
  public func canRead(group: String) -> Bool {
    let gens = generations(ofGroup: group)
    return !gens.isEmpty && gens.allSatisfy { slots[VaultGrammar.slotName(group: group, generation: $0)]?.key != nil }
  }

  /// The generations of a group's data key present in the file, ascending (`[1]` for a group with one key).
  /// - Parameter group: the group name.
  public func generations(ofGroup group: String) -> [Int] {
    slots.keys.compactMap { VaultGrammar.parseSlot($0) }.filter { $0.group == group }.map(\.generation).sorted()
  }

  /// The recipients (`age1…`) that every generation of a group's data key is wrapped to, from the file: who can
  /// read the whole group. Pass `*` for the environment key.
  /// - Parameter group: the group name, or `*`.
  /// - Returns: sorted recipients; empty when the vault has no key for the group.
  public func recipients(ofGroup group: String) -> [String] {
    if group == VaultGrammar.environmentSlot { return slots[group]?.recipients ?? [] }
    let lists = generations(ofGroup: group).map {
      slots[VaultGrammar.slotName(group: group, generation: $0)]?.recipients ?? []
    }
    guard var common = lists.first else { return [] }
    for list in lists.dropFirst() { common = common.filter(list.contains) }
    return common
  }

  /// The recipients (`age1…`) any key slot of a group (or `*`) is wrapped to, from the file.
  /// - Parameter group: the group name, or `*`.
  /// - Returns: sorted recipients.
  public func anyRecipients(ofGroup group: String) -> [String] {
    if group == VaultGrammar.environmentSlot { return slots[group]?.recipients ?? [] }
    var all = Set<String>()
    for gen in generations(ofGroup: group) {
      all.formUnion(slots[VaultGrammar.slotName(group: group, generation: gen)]?.recipients ?? [])
    }
    return all.sorted(by: utf8Less)
  }

  /// The group a secret belongs to, or `nil` if the vault has no such secret.
  public func group(of name: String) -> String? { record(named: name)?.group }

  /// The versions of a secret, newest first (metadata only; nothing is decrypted).
  /// - Parameter name: the secret's name.
  /// - Returns: an empty array if the vault has no such secret.
  public func versions(of name: String) -> [SecretVersion] { record(named: name)?.versions ?? [] }

  /// The current (newest) version's metadata of a secret, or `nil` if absent.
  public func current(_ name: String) -> SecretVersion? { record(named: name)?.versions.first }

  /// Whether the vault keeps a version of a secret (the current one when `version` is `nil`).
  /// - Parameters:
  ///   - name: the secret's name.
  ///   - version: a version number, or `nil`.
  public func isKept(_ name: String, version: Int? = nil) -> Bool {
    guard let record = record(named: name) else { return false }
    return version.map { v in record.versions.contains { $0.number == v } } ?? !record.versions.isEmpty
  }

  /// Whether this identity can open a version of a secret (the current one when `version` is `nil`).
  /// - Parameters:
  ///   - name: the secret's name.
  ///   - version: a version number, or `nil`.
  /// - Returns: `false` also when there is no such secret or version.
  public func isReadable(_ name: String, version: Int? = nil) -> Bool {
    guard let record = record(named: name) else { return false }
    let entry = version == nil ? record.versions.first : record.versions.first { $0.number == version }
    guard let entry else { return false }
    return key(of: entry, group: record.group) != nil
  }

  /// Creates an empty vault with a fresh environment key.
  /// - Parameters:
  ///   - environment: the environment name.
  ///   - recipients: who can open it; must not be empty.
  ///   - file: the label for error messages.
  /// - Throws: ``VaultError`` with code ``VaultError/Code/invalidName`` if the environment name or the recipient
  ///   list is not acceptable.
  public static func create(
    environment: String, recipients: [AgeX25519Recipient], file: String
  ) throws(VaultError) -> Vault {
    try create(environment: environment, recipients: recipients, file: file, signer: nil)
  }

  /// Creates an empty vault; with a signer, a format-2 vault bound to the signer's project (trust model v2).
  /// - Parameters:
  ///   - environment: the environment name.
  ///   - recipients: who holds the environment key (every reader and writer of the environment).
  ///   - file: the label for error messages.
  ///   - signer: the writer, or `nil` for format 1.
  /// - Throws: ``VaultError`` `.invalidName` for a bad environment name or an empty recipient list.
  public static func create(
    environment: String, recipients: [AgeX25519Recipient], file: String, signer: VaultSigner?
  ) throws(VaultError) -> Vault {
    guard VaultGrammar.isToken(environment) else { throw VaultError(.invalidName, file: file, detail: "environment") }
    guard !recipients.isEmpty else {
      throw VaultError(.invalidName, file: file, detail: "no recipients to encrypt to")
    }
    let key = SymmetricKey(size: .bits256)
    var vault = Vault(
      environment: environment, file: file, envKey: key, slots: [:],
      records: [:], order: [], wrapTo: { _ in recipients })
    if let signer { vault.v2 = VaultV2.State(project: signer.project, seals: [:], sealedDigests: [:], signer: signer) }
    vault.slots[VaultGrammar.environmentSlot] = try vault.wrapSigned(key, slot: VaultGrammar.environmentSlot, to: recipients)
    return vault
  }

  /// Decrypts one version of a secret (the newest when `version` is `nil`).
  /// - Parameters:
  ///   - name: the secret's name.
  ///   - version: a version number, or `nil` for the current one.
  /// - Returns: the value.
  /// - Throws: ``VaultError`` ``VaultError/Code/notFound`` when there is no such secret or version,
  ///   ``VaultError/Code/groupNotReadable`` when its group key is not available to this identity, and
  ///   ``VaultError/Code/authenticationFailed`` when the ciphertext does not verify.
  public func value(of name: String, version: Int? = nil) throws(VaultError) -> SecretValue {
    guard let record = record(named: name) else { throw VaultError(.notFound, file: file, detail: name) }
    let entry: SecretVersion?
    if let version { entry = record.versions.first { $0.number == version } } else { entry = record.versions.first }
    guard let entry else { throw VaultError(.notFound, file: file, detail: "\(name) version \(version ?? 0)") }
    guard let key = key(of: entry, group: record.group) else {
      throw VaultError(.groupNotReadable, file: file, detail: "\(record.group) (secret \(name))")
    }
    return try open(entry, name: name, key: key)
  }

  /// Decrypts the current value of every secret this identity can read.
  /// - Returns: name → value for every readable secret; secrets in unreadable groups are left out (see
  ///   ``unreadableGroups``).
  /// - Throws: ``VaultError`` ``VaultError/Code/authenticationFailed`` when a ciphertext does not verify.
  public func currentValues() throws(VaultError) -> [(name: String, value: SecretValue)] {
    var out: [(name: String, value: SecretValue)] = []
    out.reserveCapacity(order.count)
    try forEachCurrentValue { name, value in out.append((name, SecretValue(Array(value)))) }
    return out
  }

  /// Opens the current version of every secret, in name order, and hands each to `body` without making a
  /// ``SecretValue`` of it: for `coffer run`, which copies thousands of values straight into the child's environment.
  /// Secrets in groups this identity cannot read are skipped, as in ``currentValues()``.
  /// - Parameter body: called on the calling thread with the name and the value's bytes, which are valid only
  ///   during the call.
  /// - Throws: ``VaultError`` ``VaultError/Code/authenticationFailed`` naming the first value that does not open.
  ///
  /// Below 512 records (``OpeningPlan``) one buffer is reused for every value. From 512 on, the values are opened on
  /// two threads (``ParallelParts``), each chunk of 128 records into a buffer of its own. Each chunk is handed to
  /// `body` in record order once it and every chunk before it are open, while the helper opens later ones, so the
  /// values of the chunks opened ahead of the hand-over are in memory together. `body` sees exactly what the
  /// one-thread loop would show it: the same records skipped, and the same error after the same records. Every
  /// buffer that held a value is zeroed once handed over, or before this throws, including storage given up when a
  /// buffer grew (``PlaintextBuffer``). `body` then runs while the helper is still opening later chunks: a `body`
  /// that forks, exits the process or holds a lock the helper's allocations need does so with the helper running.
  public func forEachCurrentValue(_ body: (_ name: String, _ value: UnsafeBufferPointer<UInt8>) -> Void) throws(VaultError) {
    try forEachCurrentValue(parts: nil, body)
  }

  /// ``forEachCurrentValue(_:)`` on the calling thread alone (`parts` 1) or with a helper (2); nil: as
  /// ``OpeningPlan`` decides. For the tests.
  func forEachCurrentValue(
    parts wanted: Int?, _ body: (_ name: String, _ value: UnsafeBufferPointer<UInt8>) -> Void
  ) throws(VaultError) {
    let items = recordsInOrder
    guard (wanted ?? OpeningPlan.parts(for: items.count)) > 1 else {
      var opener = Opener(vault: self)
      defer { opener.clear() }
      for (name, record) in items {
        guard let count = try opener.open(name: name, record: record) else { continue }
        opener.scratch.withUnsafeBufferPointer { body(name, UnsafeBufferPointer(rebasing: $0[..<count])) }
      }
      return
    }
    // The records are opened in chunks, each into its own `OpenedRange`, by this thread and possibly a helper; a
    // chunk stops at its first failure. Each chunk is handed to `body` as soon as it and the chunks before it are
    // opened, while the helper goes on opening later ones, and is zeroed right after; the hand-over stops at the
    // failing record, after `body` has seen the ones before, and the error is thrown, as the loop above would.
    let chunks = (items.count + OpeningPlan.chunkSize - 1) / OpeningPlan.chunkSize
    var opened = [OpenedRange](repeating: OpenedRange(), count: chunks)
    var failure: VaultError?
    opened.withUnsafeMutableBufferPointer { results in
      let slots = ParallelParts.Slots(results.baseAddress!)
      let vault = self
      ParallelParts.run(chunks: chunks, { chunk in
        let lower = chunk * OpeningPlan.chunkSize
        let range = lower..<min(lower + OpeningPlan.chunkSize, items.count)
        slots.base[chunk] = OpenedRange.open(items[range], from: lower, in: vault)
      }, inOrder: { chunk in
        // Through the element in place, not a copy: a copy would share the buffer, and zeroing it would then zero
        // a fresh copy instead of the buffer that holds the values.
        var start = 0
        for (k, end) in results[chunk].ends.enumerated() {
          guard end >= 0 else { continue }  // a group this identity cannot read
          let name = items[results[chunk].first + k].name
          results[chunk].bytes.withUnsafeBufferPointer { body(name, UnsafeBufferPointer(rebasing: $0[start..<end])) }
          start = end
        }
        results[chunk].clear()
        failure = results[chunk].failure
        return failure == nil
      })
    }
    // A chunk taken before a failure stopped the job may still hold values.
    for k in opened.indices { opened[k].clear() }
    if let failure { throw failure }
  }

  /// Opens current values one record at a time into a reused buffer, keeping the last group key it looked up (secrets
  /// of one group usually follow each other).
  struct Opener {
    let vault: Vault
    var aad: AssociatedData
    var scratch = [UInt8](repeating: 0, count: 4096)
    var last: (group: String, generation: Int, key: SymmetricKey)?

    init(vault: Vault) {
      self.vault = vault
      aad = AssociatedData(environment: vault.environment, project: vault.v2?.project)
    }

    /// Opens `record`'s current version into the start of ``scratch``.
    /// - Returns: the value's length, or nil for a record without versions or in a group this identity cannot read.
    /// - Throws: ``VaultError/Code/authenticationFailed`` when it does not open.
    mutating func open(name: String, record: Record) throws(VaultError) -> Int? {
      guard let entry = record.versions.first else { return nil }
      let key: SymmetricKey
      if let last, last.generation == entry.generation, last.group == record.group {
        key = last.key
      } else {
        guard let found = vault.key(of: entry, group: record.group) else { return nil }
        key = found
        last = (record.group, entry.generation, found)
      }
      return try vault.open(entry, name: name, key: key, aad: &aad, into: &scratch)
    }

    /// Zeroes the buffer that held values (the associated data holds names and ciphertext only).
    mutating func clear() { PlaintextBuffer.zero(&scratch) }
  }

  /// The current values of a chunk of records, opened by one thread: their bytes end to end, where each
  /// ends (`-1` for a record skipped), and the failure that stopped the range, if any.
  struct OpenedRange: Sendable {
    var first = 0
    var bytes: [UInt8] = []
    var ends: [Int] = []
    var failure: VaultError?

    static func open(_ items: ArraySlice<(name: String, record: Record)>, from first: Int, in vault: Vault) -> OpenedRange {
      var result = OpenedRange(first: first)
      result.ends.reserveCapacity(items.count)
      result.bytes.reserveCapacity(items.count * 64)
      var opener = Opener(vault: vault)
      defer { opener.clear() }
      for (name, record) in items {
        do {
          guard let count = try opener.open(name: name, record: record) else {
            result.ends.append(-1)
            continue
          }
          opener.scratch.withUnsafeBufferPointer { PlaintextBuffer.append(UnsafeBufferPointer(rebasing: $0[..<count]), to: &result.bytes) }
          result.ends.append(result.bytes.count)
        } catch {
          result.failure = error
          break
        }
      }
      return result
    }

    mutating func clear() { PlaintextBuffer.zero(&bytes) }
  }

  /// When ``forEachCurrentValue(_:)`` opens the records on two threads, and in what chunks.
  enum OpeningPlan {
    /// Records a chunk: small enough that a helper starting late still finds chunks to take, large enough that
    /// taking one costs nothing next to opening it (a value takes about 0.5 µs to decode and open).
    static let chunkSize = 128
    /// Records below which the helper thread costs more than it can save: starting it costs the caller about 60 µs
    /// here (docs/performance.md, "Issue 16, sixth pass").
    static let minimumForHelper = 512

    /// 2 from ``minimumForHelper`` records on, else 1 (the calling thread alone).
    static func parts(for count: Int) -> Int { count >= minimumForHelper ? 2 : 1 }
  }


  /// Records a new version of a secret.
  ///
  /// Creates the group's data key if the group has none yet. The value is sealed under the group's newest key
  /// generation when this identity can unwrap it, else under a new generation wrapped to the group's readers (so a
  /// writer without access can still replace a value it cannot read). When the secret exists in another group,
  /// every kept version is re-sealed under the new group's key. Keeps the newest ``retainedVersions`` versions.
  /// - Parameters:
  ///   - name: the secret's name (`[A-Za-z0-9_.-]+`, as the .env grammar allows).
  ///   - value: the new value.
  ///   - group: the group whose data key seals it.
  ///   - author: who made the change (a recipient name or `age1…`; spaces and control characters are replaced).
  ///   - time: when.
  /// - Returns: the new version number.
  /// - Throws: ``VaultError`` ``VaultError/Code/invalidName`` for a name the grammar rejects,
  ///   ``VaultError/Code/groupNotReadable`` when the secret moves from a group this identity cannot read,
  ///   ``VaultError/Code/noRecipients`` when a new key generation is needed and nobody may read the group.
  @discardableResult
  public mutating func set(
    _ name: String, to value: SecretValue, group: String, author: String, at time: Timestamp
  ) throws(VaultError) -> Int {
    guard VaultGrammar.isToken(name) else { throw VaultError(.invalidName, file: file, detail: "secret name") }
    guard VaultGrammar.isToken(group), group != VaultGrammar.environmentSlot else {
      throw VaultError(.invalidName, file: file, detail: "group name")
    }
    var record = records[name] ?? Record(group: group, versions: [])
    if v2 != nil, record.group != group {
      // Format 2: a secret's group is what its signed block says. coffer.yaml is not signed, so following a new
      // `group:` there would re-seal every kept version for the other group's readers on the word of anyone with
      // commit rights (docs/access.md, threat model).
      throw VaultError(
        .notPermitted, file: file,
        detail: "\(name) is in group \(record.group) here, but coffer.yaml puts it in \(group); a secret does not move groups by an edit of coffer.yaml (remove it with `coffer rm` and set it again to start a new history in \(group), or restore its group: in coffer.yaml)")
    }
    if record.group != group, !record.versions.allSatisfy({ self.key(of: $0, group: record.group) != nil }) {
      throw VaultError(.groupNotReadable, file: file, detail: "\(record.group) (secret \(name))")
    }
    let (key, generation) = try writingKey(for: group)
    if record.group != group {
      var moved: [SecretVersion] = []
      for v in record.versions {
        guard let oldKey = self.key(of: v, group: record.group) else {
          throw VaultError(.groupNotReadable, file: file, detail: "\(record.group) (secret \(name))")
        }
        moved.append(try reseal(v, name: name, from: oldKey, to: key, generation: generation))
      }
      record = Record(group: group, versions: moved, exposure: record.exposure)
    }
    let number = try Vault.number(after: record.versions.first?.number, what: "the version of \(name)", file: file)
    let entry = try seal(
      value, name: name, number: number, created: time, author: VaultGrammar.sanitizeAuthor(author), key: key,
      generation: generation)
    record.versions.insert(entry, at: 0)
    if record.versions.count > Vault.retainedVersions { record.versions.removeLast(record.versions.count - Vault.retainedVersions) }
    if records[name] == nil { order.insert(name, at: insertionIndex(of: name)) }
    records[name] = record
    pruneKeyGenerations()
    return number
  }

  /// Removes a secret and all its versions.
  /// - Parameter name: the secret's name.
  /// - Returns: whether the vault held it.
  @discardableResult
  public mutating func remove(_ name: String) -> Bool {
    guard records.removeValue(forKey: name) != nil else { return false }
    order.remove(at: insertionIndex(of: name))
    pruneKeyGenerations()
    return true
  }

  /// Where `name` is or would go in ``order`` (binary search by UTF-8 bytes). Every name is a token (ASCII: the
  /// parser and ``set(_:to:group:author:at:)`` check), for which `String`'s `<` is that order and takes
  /// its `memcmp` fast path.
  func insertionIndex(of name: String) -> Int {
    var lo = 0
    var hi = order.count
    while lo < hi {
      let mid = (lo + hi) / 2
      if order[mid] < name { lo = mid + 1 } else { hi = mid }
    }
    return lo
  }

  /// Rebuilds ``order`` after `records` was changed wholesale (merging).
  mutating func reindex() { order = records.keys.sorted(by: utf8Less) }

  /// Re-wraps every data key this identity can unwrap to a new set of recipients, and makes it the set new keys use.
  /// - Parameter recipients: the new recipients; must not be empty.
  /// - Returns: the groups whose keys could not be re-wrapped because this identity cannot unwrap them.
  /// - Throws: ``VaultError`` ``VaultError/Code/invalidName`` if `recipients` is empty.
  @discardableResult
  public mutating func rewrap(to recipients: [AgeX25519Recipient]) throws(VaultError) -> [String] {
    guard !recipients.isEmpty else { throw VaultError(.invalidName, file: file, detail: "no recipients to encrypt to") }
    return try rewrap { _ in recipients }
  }

  /// Re-wraps every key slot this identity can unwrap to the recipients a policy gives it, and makes the policy
  /// the one new keys use.
  ///
  /// A slot already wrapped to exactly the wanted recipients is left as it is (same bytes), so a write changes
  /// only the key lines it must.
  /// - Parameter recipientsForSlot: the recipients for a slot: called with `*` for the environment key and with a
  ///   group name (without generation) for data keys.
  /// - Returns: the groups with a key generation that could not be re-wrapped because this identity cannot unwrap
  ///   it, sorted.
  /// - Throws: ``VaultError`` ``VaultError/Code/noRecipients`` when the policy gives no recipient for a slot this
  ///   identity holds.
  @discardableResult
  public mutating func rewrap(
    _ recipientsForSlot: @escaping @Sendable (String) -> [AgeX25519Recipient], at rewrapTime: Timestamp = Timestamp(secondsSinceEpoch: 0)
  ) throws(VaultError) -> [String] {
    wrapTo = recipientsForSlot
    var skipped = Set<String>()
    for slotName in slots.keys.sorted(by: utf8Less) {
      guard let slot = slots[slotName] else { continue }
      guard let parsed = VaultGrammar.parseSlot(slotName) else { continue }
      let recipients = recipientsForSlot(parsed.group)
      if recipients.map(\.encoded).sorted(by: utf8Less) == slot.recipients { continue }
      let key = slotName == VaultGrammar.environmentSlot ? envKey : slot.key
      guard let key else { skipped.insert(parsed.group); continue }
      guard !recipients.isEmpty else { throw VaultError(.noRecipients, file: file, detail: parsed.group) }
      // A key someone lost is never re-wrapped (they may have kept it): the group is re-keyed and its secrets marked
      // as needing rotation, or, when this identity cannot re-key it, left alone and reported.
      let wanted = Set(recipients.map(\.encoded))
      let lost = slot.recipients.filter { !wanted.contains($0) }
      if !lost.isEmpty {
        if slotName == VaultGrammar.environmentSlot {
          try rekeyEnvironment()
        } else if canRead(group: parsed.group) {
          try rekey(group: parsed.group)
          for who in lost { markExposed(group: parsed.group, to: who, at: rewrapTime) }
        } else {
          skipped.insert(parsed.group)
        }
        continue
      }
      slots[slotName] = try wrapSigned(key, slot: slotName, to: recipients)
    }
    return skipped.sorted(by: utf8Less)
  }

  /// Whether every data key is already wrapped to exactly this set of recipients.
  public func isWrapped(to recipients: [AgeX25519Recipient]) -> Bool {
    let wanted = recipients.map(\.encoded).sorted(by: utf8Less)
    return slots.values.allSatisfy { $0.recipients == wanted }
  }

  /// Sets the recipients used for keys created from now on (existing keys are untouched; see ``rewrap(to:)``).
  /// - Parameter recipients: the recipients; an empty list is ignored.
  public mutating func useRecipients(_ recipients: [AgeX25519Recipient]) {
    if !recipients.isEmpty { wrapTo = { _ in recipients } }
  }

  /// Sets the policy used for keys created from now on (existing keys are untouched; see ``rewrap(_:)``).
  /// - Parameter recipientsForSlot: the recipients for `*` (the environment key) or a group name.
  public mutating func useRecipients(forSlot recipientsForSlot: @escaping @Sendable (String) -> [AgeX25519Recipient]) {
    wrapTo = recipientsForSlot
  }

  /// A keyed fingerprint of a value: HMAC-SHA256 under a key derived from this vault's environment key, hex.
  ///
  /// Equal values in the same vault give equal fingerprints; without the key nothing about the value can be
  /// learned or guessed from it. Used for audit lines and sync state, never a plain hash.
  /// - Parameter value: the value to fingerprint.
  /// - Returns: 64 lowercase hex digits.
  public func fingerprint(of value: SecretValue) -> String {
    Fingerprinter(key: fingerprintKey).fingerprint(of: value)
  }

  /// The keyed fingerprint of a secret's value under its group's key (format 2: `HKDF(DK(group, 1))`, so a reader
  /// of one group learns nothing from the fingerprints of another's values); format 1: as ``fingerprint(of:)``.
  /// - Parameters:
  ///   - value: the value.
  ///   - name: the secret it belongs to (its group chooses the key).
  /// - Returns: 64 lowercase hex digits.
  public func fingerprint(of value: SecretValue, name: String) -> String {
    Fingerprinter(key: fingerprintKey(name: name)).fingerprint(of: value)
  }

  /// The key of ``fingerprint(of:)``: format 1 derives it from the environment key; format 2 from the
  /// generation-1 keys of every group this identity holds, in group order, so only someone holding all of them
  /// derives it (sync state and large audit lines, which are local to a clone).
  var fingerprintKey: SymmetricKey {
    guard v2 != nil else { return AgeCrypto.hkdf(envKey, salt: [], info: Array("coffer-vault/v1 fingerprint".utf8)) }
    var material: [UInt8] = []
    for group in groups {
      guard let k = slots[group]?.key else { continue }
      material += Array(group.utf8) + [0]
      k.withUnsafeBytes { material += Array($0) }
    }
    if material.isEmpty { return SymmetricKey(size: .bits256) }
    return AgeCrypto.hkdf(material, salt: [], info: "coffer-vault/v2 fingerprint\u{0}\(environment)")
  }

  /// The per-group fingerprint key of a secret (format 2), else ``fingerprintKey``. A group whose generation-1 key
  /// this identity does not hold gets a random key: such fingerprints match nothing.
  func fingerprintKey(name: String) -> SymmetricKey {
    guard v2 != nil, let group = record(named: name)?.group else { return fingerprintKey }
    guard let k = slots[group]?.key else { return SymmetricKey(size: .bits256) }
    return AgeCrypto.hkdf(k, salt: [], info: Array("coffer-vault/v2 fingerprint\u{0}\(environment)\u{0}\(group)".utf8))
  }

  /// Keyed fingerprints of many values, deriving the key once (see ``fingerprint(of:)``).
  /// - Parameter values: name → value pairs.
  /// - Returns: name → 64 lowercase hex digits.
  public func fingerprints(of values: [(name: String, value: SecretValue)]) -> [String: String] {
    var out: [String: String] = [:]
    out.reserveCapacity(values.count)
    if v2 != nil {
      for v in values { out[v.name] = fingerprint(of: v.value, name: v.name) }
      return out
    }
    let f = Fingerprinter(key: fingerprintKey)
    for v in values { out[v.name] = f.fingerprint(of: v.value) }
    return out
  }

  /// One keyed fingerprint of a whole set of values: HMAC-SHA256 under the fingerprint key over, for each pair in
  /// order, `name ‖ 0x00 ‖ UInt64(big-endian byte count) ‖ value`. Hex.
  /// - Parameter values: name → value pairs, in the order they are given (callers pass vault order).
  /// - Returns: 64 lowercase hex digits.
  public func setFingerprint(of values: [(name: String, value: SecretValue)]) -> String {
    var builder = setFingerprintBuilder()
    for v in values { v.value.reveal().withUnsafeBufferPointer { builder.add(name: v.name, value: $0) } }
    return builder.finish()
  }

  /// A ``setFingerprint(of:)`` built one value at a time, for values that are never held together.
  /// - Returns: an empty builder under this vault's fingerprint key.
  public func setFingerprintBuilder() -> SetFingerprintBuilder {
    SetFingerprintBuilder(key: fingerprintKey)
  }

  /// ``setFingerprintBuilder()``, as it was called when the builder held the whole message.
  /// - Parameter reservingBytes: ignored: the builder holds at most 8 KiB.
  /// - Returns: an empty builder under this vault's fingerprint key.
  @available(*, deprecated, message: "the builder no longer holds the whole message; call setFingerprintBuilder()")
  public func setFingerprintBuilder(reservingBytes: Int) -> SetFingerprintBuilder { setFingerprintBuilder() }

  /// Accumulates `name ‖ 0x00 ‖ u64be(length) ‖ value` for each value added, in order, and MACs it: in chunks of
  /// 8 KiB, since per-call overhead dominates for many small values.
  public struct SetFingerprintBuilder {
    /// The HMAC so far, fed in chunks of ``chunk`` bytes: the whole message (about 80 bytes a value) is never held,
    /// so `run` at 10,000 secrets touches no fresh pages for it.
    private var mac: HMAC<SHA256>
    private var pending: [UInt8] = []
    private static let chunk = 8192

    init(key: SymmetricKey) {
      mac = HMAC<SHA256>(key: key)
      pending.reserveCapacity(Self.chunk)
    }

    /// Adds one value, after those added before.
    public mutating func add(name: String, value: UnsafeBufferPointer<UInt8>) {
      if pending.count + name.utf8.count + 9 + value.count > Self.chunk { flush() }
      pending.append(contentsOf: name.utf8)
      pending.append(0)
      withUnsafeBytes(of: UInt64(value.count).bigEndian) { pending.append(contentsOf: $0) }
      if value.count > Self.chunk {
        flush()
        mac.update(data: UnsafeRawBufferPointer(value))
      } else {
        pending.append(contentsOf: value)
      }
    }

    private mutating func flush() {
      pending.withUnsafeBytes { mac.update(data: $0) }
      pending.removeAll(keepingCapacity: true)
    }

    /// The fingerprint of everything added: 64 lowercase hex digits.
    public func finish() -> String {
      var mac = mac
      pending.withUnsafeBytes { mac.update(data: $0) }
      return hex(mac.finalize().withUnsafeBytes { Array($0) })
    }
  }


  struct Fingerprinter {
    let key: SymmetricKey
    func fingerprint(of value: SecretValue) -> String {
      hex(AgeCrypto.hmac(value.reveal()[...], key: key))
    }
  }

  // MARK: - Internals

  /// The key that new values of a group are sealed under: the newest generation when this identity holds it,
  /// else a new generation wrapped to the group's readers (generation 1 for a group without a key).
  mutating func writingKey(for group: String) throws(VaultError) -> (SymmetricKey, Int) {
    if v2 != nil { return try writingKeyV2(for: group) }
    let newest = generations(ofGroup: group).last
    if let newest, let key = slots[VaultGrammar.slotName(group: group, generation: newest)]?.key {
      return (key, newest)
    }
    let generation = try Vault.number(after: newest, what: "the key generation of \(group)", file: file)
    let recipients = wrapTo(group)
    guard !recipients.isEmpty else { throw VaultError(.noRecipients, file: file, detail: group) }
    let key = SymmetricKey(size: .bits256)
    slots[VaultGrammar.slotName(group: group, generation: generation)] = try Vault.wrap(key, to: recipients, file: file)
    return (key, generation)
  }

  /// Wraps a key to recipients and, in a format-2 vault, signs the slot as the current writer.
  func wrapSigned(_ key: SymmetricKey, slot: String, to recipients: [AgeX25519Recipient]) throws(VaultError) -> KeySlot {
    var wrapped = try Vault.wrap(key, to: recipients, file: file)
    if let v2 {
      guard let signer = v2.signer else { throw VaultError(.invalidName, file: file, detail: "no signing identity to write with") }
      wrapped.signer = signer.name
      wrapped.epoch = signer.epoch
      wrapped.signature = signer.identity.sign(
        VaultV2.keyMessage(
          project: v2.project, environment: environment, slot: slot, epoch: signer.epoch, wrapped: wrapped.wrapped,
          recipients: wrapped.recipients))
    }
    return wrapped
  }

  /// The data key a version is sealed under, if this identity holds it.
  func key(of version: SecretVersion, group: String) -> SymmetricKey? {
    slots[VaultGrammar.slotName(group: group, generation: version.generation)]?.key
  }

  /// Drops key generations 2 and above that no kept version uses (generation 1 stays as the group's key).
  mutating func pruneKeyGenerations() {
    var used = Set<String>()
    for record in records.values {
      for v in record.versions { used.insert(VaultGrammar.slotName(group: record.group, generation: v.generation)) }
    }
    for name in slots.keys {
      guard let parsed = VaultGrammar.parseSlot(name), parsed.generation > 1, !used.contains(name) else { continue }
      slots[name] = nil
    }
  }

  static func wrap(_ key: SymmetricKey, to recipients: [AgeX25519Recipient], file: String) throws(VaultError) -> KeySlot {
    let raw = key.withUnsafeBytes { Array($0) }
    let wrapped: [UInt8]
    do {
      wrapped = try Age.encrypt(raw, to: recipients.map { $0 as any AgeRecipient })
    } catch {
      throw VaultError(.invalidName, file: file, detail: "cannot wrap a data key: \(error)")
    }
    return KeySlot(recipients: recipients.map(\.encoded).sorted(by: utf8Less), wrapped: wrapped, key: key)
  }

  func aad(name: String, number: Int) -> [UInt8] {
    var builder = AssociatedData(environment: environment, project: v2?.project)
    return builder.bytes(name: name, number: number)
  }

  /// The associated data of values in one environment, `"coffer-vault/v1 value" 0x00 ENV 0x00 NAME 0x00 VERSION`
  /// (docs/vault-format.md), built in one reused buffer: opening many values allocates it once.
  struct AssociatedData {
    private var buffer: [UInt8]
    private let prefixCount: Int
    /// The sealed bytes of the version being opened, decoded here so that opening many versions reuses one buffer.
    var sealed: [UInt8] = []

    init(environment: String, project: String? = nil) {
      if let project {
        // Format 2 binds the project too: `"coffer-vault/v2 value" 0x00 PROJECT 0x00 ENV 0x00 NAME 0x00 VERSION`.
        buffer = Array("coffer-vault/v2 value".utf8)
        buffer.append(0)
        buffer.append(contentsOf: project.utf8)
      } else {
        buffer = Array("coffer-vault/v1 value".utf8)
      }
      buffer.append(0)
      buffer.append(contentsOf: environment.utf8)
      buffer.append(0)
      prefixCount = buffer.count
      buffer.reserveCapacity(prefixCount + 300)
    }

    /// The associated data for one slot; valid until the next call.
    mutating func bytes(name: String, number: Int) -> [UInt8] {
      buffer.removeSubrange(prefixCount...)
      buffer.append(contentsOf: name.utf8)
      buffer.append(0)
      // The version number in decimal, without going through String.
      var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
        (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
      var n = number.magnitude
      var count = 0
      withUnsafeMutableBytes(of: &digits) { d in
        repeat {
          d[19 - count] = UInt8(truncatingIfNeeded: n % 10) + 0x30
          n /= 10
          count += 1
        } while n > 0
        if number < 0 {
          d[19 - count] = 0x2D
          count += 1
        }
        buffer.append(contentsOf: d[(20 - count)...])
      }
      return buffer
    }
  }

  /// Seals a new value as a new version by the current writer. Format 2 prefixes a random 16-byte salt to the
  /// plaintext and signs a commitment to it (``VaultV2/commitment(salt:value:)``) as the author.
  func seal(
    _ value: SecretValue, name: String, number: Int, created: Timestamp, author: String, key: SymmetricKey,
    generation: Int = 1, restores: VersionOrigin? = nil, originEpoch: Int? = nil
  ) throws(VaultError) -> SecretVersion {
    guard let v2 else {
      return try sealRaw(
        value.reveal(), name: name, number: number, created: created, author: author, key: key,
        generation: generation, restores: restores, storedAttestation: nil)
    }
    guard let signer = v2.signer else { throw VaultError(.invalidName, file: file, detail: "no signing identity to write with") }
    let salt = AgeCrypto.randomBytes(VaultV2.saltCount)
    let plain = salt + value.reveal()
    let commitment = VaultV2.commitment(plaintext: plain)
    // The epoch the value was first recorded at: now, or for a rollback the restored value's (so a revocation
    // since then still applies to it).
    let origin = originEpoch ?? signer.epoch
    let signature = signer.identity.sign(
      VaultV2.versionMessage(
        project: v2.project, environment: environment, name: name, number: number, created: created,
        author: signer.name, restores: restores, originEpoch: origin, commitment: commitment))
    return try sealRaw(
      plain, name: name, number: number, created: created, author: signer.name, key: key, generation: generation,
      restores: restores,
      storedAttestation: .decoded(VaultV2.attestation(commitment: commitment, originEpoch: origin, signature: signature)))
  }

  /// Seals plaintext bytes as they are (format 2: salt included) with the given attestation: for re-sealing a
  /// version under another key without changing who wrote it.
  func sealRaw(
    _ plain: [UInt8], name: String, number: Int, created: Timestamp, author: String, key: SymmetricKey,
    generation: Int, restores: VersionOrigin?, storedAttestation: StoredBytes?
  ) throws(VaultError) -> SecretVersion {
    // nonce ‖ ciphertext ‖ tag (docs/vault-format.md); the nonce is random, the key is used for many values.
    let nonce = AgeCrypto.randomBytes(AgeCrypto.nonceCount)
    guard let box = AgeCrypto.seal(plain[...], key: key, nonce: nonce, aad: aad(name: name, number: number)) else {
      throw VaultError(.authenticationFailed, file: file, detail: "cannot seal \(name)")
    }
    let sealed = nonce + box
    return SecretVersion(
      number: number, created: created, author: author, sealed: .decoded(sealed), generation: generation,
      restores: restores, storedAttestation: storedAttestation)
  }

  /// Re-seals a stored version under another key: same plaintext (and salt), number, date, author and attestation.
  func reseal(_ v: SecretVersion, name: String, from old: SymmetricKey, to key: SymmetricKey, generation: Int) throws(VaultError) -> SecretVersion {
    let plain = try openRaw(v, name: name, key: old)
    return try sealRaw(
      plain, name: name, number: v.number, created: v.created, author: v.author, key: key, generation: generation,
      restores: v.restores, storedAttestation: v.storedAttestation)
  }

  /// Opens one version to its stored plaintext (format 2: salt ‖ value).
  func openRaw(_ entry: SecretVersion, name: String, key: SymmetricKey) throws(VaultError) -> [UInt8] {
    var aad = AssociatedData(environment: environment, project: v2?.project)
    var scratch = [UInt8]()
    let count = try open(entry, name: name, key: key, aad: &aad, into: &scratch, raw: true)
    return Array(scratch[..<count])
  }

  /// Opens one version.
  func open(_ entry: SecretVersion, name: String, key: SymmetricKey) throws(VaultError) -> SecretValue {
    var aad = AssociatedData(environment: environment, project: v2?.project)
    var scratch = [UInt8]()
    let count = try open(entry, name: name, key: key, aad: &aad, into: &scratch)
    return SecretValue(Array(scratch[..<count]))
  }

  /// Opens one version into `scratch`; returns the value's length.
  func open(
    _ entry: SecretVersion, name: String, key: SymmetricKey, aad: inout AssociatedData, into scratch: inout [UInt8],
    raw: Bool = false
  ) throws(VaultError) -> Int {
    let sealedCount = entry.storedSealed.write(into: &aad.sealed)
    let sealed = aad.sealed
    let count = sealed.withUnsafeBytes { raw -> Int? in
      guard sealedCount >= AgeCrypto.nonceCount + AgeCrypto.tagCount else { return nil }
      return AgeCrypto.open(
        sealed[AgeCrypto.nonceCount..<sealedCount], key: key,
        nonce: UnsafeRawBufferPointer(rebasing: raw[..<AgeCrypto.nonceCount]),
        aad: aad.bytes(name: name, number: entry.number), into: &scratch)
    }
    guard let count else {
      throw VaultError(.authenticationFailed, file: file, detail: "\(name) version \(entry.number)")
    }
    if v2 != nil, !raw {
      // Format 2: drop the salt, keeping the value at the start of `scratch`.
      guard count >= VaultV2.saltCount else {
        throw VaultError(.authenticationFailed, file: file, detail: "\(name) version \(entry.number)")
      }
      scratch.withUnsafeMutableBufferPointer { b in
        if count > VaultV2.saltCount {
          _ = memmove(b.baseAddress!, b.baseAddress! + VaultV2.saltCount, count - VaultV2.saltCount)
        }
      }
      return count - VaultV2.saltCount
    }
    return count
  }
}

/// One stored version of a secret: readable metadata and the sealed bytes.
public struct SecretVersion: Sendable, Equatable {
  /// The version number, counting from 1.
  public let number: Int
  /// When it was recorded.
  public let created: Timestamp
  /// Who recorded it: a recipient name from the manifest or an `age1…` recipient.
  public let author: String
  /// `nonce (12 bytes) ‖ ciphertext ‖ tag (16 bytes)` from ChaCha20-Poly1305.
  var sealed: [UInt8] { storedSealed.bytes }
  /// ``sealed`` as made, or as the file holds it (validated base64), decoded when the version is opened.
  let storedSealed: StoredBytes
  /// The generation of the group's data key it is sealed under (1 for the group's first key).
  public let generation: Int
  /// Set when this version restores an earlier value (`coffer rollback`): where that value came from.
  public let restores: VersionOrigin?
  /// Format 2: the commitment to the plaintext (32 bytes) and the author's Ed25519 signature (64 bytes).
  var attestation: [UInt8]? { storedAttestation?.bytes }
  /// ``attestation`` as written, or as the file holds it until asked for: a read opens thousands of versions and
  /// checks none of their attestations, so the parser validates the base64 and keeps the text (docs/performance.md).
  let storedAttestation: StoredBytes?

  init(
    number: Int, created: Timestamp, author: String, sealed: [UInt8], generation: Int = 1,
    restores: VersionOrigin? = nil, attestation: [UInt8]? = nil
  ) {
    self.init(
      number: number, created: created, author: author, sealed: .decoded(sealed), generation: generation,
      restores: restores, storedAttestation: attestation.map(StoredBytes.decoded))
  }

  init(
    number: Int, created: Timestamp, author: String, sealed: StoredBytes, generation: Int, restores: VersionOrigin?,
    storedAttestation: StoredBytes?
  ) {
    self.storedAttestation = storedAttestation
    self.number = number
    self.created = created
    self.author = author
    self.storedSealed = sealed
    self.generation = generation
    self.restores = restores
  }

  /// The number of the version that first recorded this value: ``number``, or for a rollback the restored one's.
  public var originNumber: Int { restores?.number ?? number }

  /// When this value was first recorded: ``created``, or for a rollback the restored version's date. This is the
  /// value's "last rotated" date: a rollback is not a rotation.
  public var valueSince: Timestamp { restores?.created ?? created }
}

/// A version's sealed value or attestation: bytes, or the canonical padded base64 the parser checked (a read opens
/// or checks few of the versions it parses, so decoding waits until one is asked for: docs/performance.md).
enum StoredBytes: Sendable, Equatable {
  case decoded([UInt8])
  /// A slice of the file's bytes (it keeps the file's buffer alive).
  case encoded(ArraySlice<UInt8>)

  /// The bytes.
  var bytes: [UInt8] {
    switch self {
    case .decoded(let bytes): bytes
    case .encoded(let text): Base64.decode(text, padded: true) ?? []
    }
  }

  static func == (a: StoredBytes, b: StoredBytes) -> Bool {
    // Two canonical encodings are equal exactly when their bytes are (the parser accepts only canonical base64).
    if case .encoded(let x) = a, case .encoded(let y) = b { return x.elementsEqual(y) }
    return a.bytes == b.bytes
  }

  /// The bytes, written to the start of `scratch` (grown as needed), without an array of their own.
  /// - Returns: how many bytes.
  func write(into scratch: inout [UInt8]) -> Int {
    switch self {
    case .decoded(let bytes):
      if scratch.count < bytes.count { scratch.append(contentsOf: repeatElement(0, count: bytes.count - scratch.count)) }
      scratch.withUnsafeMutableBufferPointer { o in
        bytes.withUnsafeBufferPointer { b in if b.count > 0 { o.baseAddress!.update(from: b.baseAddress!, count: b.count) } }
      }
      return bytes.count
    case .encoded(let text):
      return Base64.decode(text, padded: true, into: &scratch) ?? 0
    }
  }
}

/// The version a rollback restored: its number and date (following earlier rollbacks back to the original).
public struct VersionOrigin: Sendable, Equatable, Hashable {
  /// The version that first recorded the value.
  public let number: Int
  /// When it was recorded.
  public let created: Timestamp

  /// Creates an origin.
  /// - Parameters:
  ///   - number: the version number, at least 1.
  ///   - created: its date.
  public init(number: Int, created: Timestamp) {
    self.number = number
    self.created = created
  }
}

/// A revocation recorded on a secret: versions up to ``throughVersion`` were readable by ``recipient``, who lost
/// access at ``time``. The secret needs rotation while its current value comes from one of those versions.
public struct SecretExposure: Sendable, Equatable, Hashable {
  /// The newest version number the revoked reader could read.
  public let throughVersion: Int
  /// When access was revoked.
  public let time: Timestamp
  /// Who lost access (a manifest name or `age1…`).
  public let recipient: String

  /// Creates an exposure record.
  /// - Parameters:
  ///   - throughVersion: the newest exposed version number.
  ///   - time: when access was revoked.
  ///   - recipient: who lost access.
  public init(throughVersion: Int, time: Timestamp, recipient: String) {
    self.throughVersion = throughVersion
    self.time = time
    self.recipient = recipient
  }

  /// Whether a version's value was exposed.
  /// - Parameter version: a version of the secret.
  public func covers(_ version: SecretVersion) -> Bool { version.originNumber <= throughVersion }
}

func utf8Less(_ a: String, _ b: String) -> Bool { a.utf8.lexicographicallyPrecedes(b.utf8) }

func hex(_ bytes: [UInt8]) -> String {
  let digits = Array("0123456789abcdef".utf8)
  var out = [UInt8]()
  out.reserveCapacity(bytes.count * 2)
  for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
  return String(decoding: out, as: UTF8.self)
}

/// The records of a vault as read, indexed by name the first time a lookup needs it: `run` and `get` walk the
/// records in file order and never pay for hashing every name. Thread-safe (a ``Vault`` is `Sendable`).
final class RecordIndex: Sendable {
  private let inOrder: [(name: String, record: Vault.Record)]
  private let built = Mutex<[String: Vault.Record]?>(nil)

  init(_ inOrder: [(name: String, record: Vault.Record)]) { self.inOrder = inOrder }

  /// The records by name, built once.
  var dictionary: [String: Vault.Record] {
    built.withLock { built in
      if let built { return built }
      var d: [String: Vault.Record] = [:]
      d.reserveCapacity(inOrder.count)
      for (name, record) in inOrder { d[name] = record }
      built = d
      return d
    }
  }
}
