import CofferCore
import Crypto

/// One environment's encrypted values, opened with an identity: the model behind `.coffer/vault/<env>.vault`.
///
/// The format is specified in docs/vault-format.md. In short: every value is sealed with ChaCha20-Poly1305
/// (RFC 8439) under a random 256-bit data key per (environment, group), with the slot (environment, name,
/// version) as associated data; each data key, and an environment key used for the file MAC, is wrapped to the
/// recipients as an age file (https://age-encryption.org/v1); an HMAC-SHA256 over the whole file authenticates the
/// set of entries. Names, groups, versions, dates and authors stay readable.
///
/// A `Vault` is a value: reading, changing and sealing it are pure. Values are decrypted lazily, one at a time.
public struct Vault: Sendable {
  /// How many versions of each secret are kept; older ones are dropped when a new one is added.
  public static let retainedVersions = 10

  /// The environment this vault holds, e.g. `production`.
  public let environment: String
  /// The label used in error messages (normally the file's path).
  public let file: String

  struct KeySlot: Sendable {
    var recipients: [String]
    var wrapped: [UInt8]
    var key: SymmetricKey?
  }

  struct Record: Sendable {
    var group: String
    var versions: [SecretVersion]  // newest first
  }

  var envKey: SymmetricKey
  var slots: [String: KeySlot]  // group name → slot
  var records: [String: Record]
  /// The keys of `records`, kept sorted by UTF-8 bytes (the parser verified the file's order).
  var order: [String]
  /// Recipients that new data keys are wrapped to.
  var recipients: [AgeX25519Recipient]

  /// The names of all secrets in the vault, sorted by their UTF-8 bytes.
  public var names: [String] { order }

  /// The groups that have a data key in this vault, sorted.
  public var groups: [String] { slots.keys.sorted(by: utf8Less) }

  /// The groups whose data key none of the identities could unwrap.
  public var unreadableGroups: [String] { slots.filter { $0.value.key == nil }.map(\.key).sorted(by: utf8Less) }

  /// The recipients each group's data key is wrapped to (`age1…`), from the file.
  /// - Parameter group: the group name.
  public func recipients(ofGroup group: String) -> [String] { slots[group]?.recipients ?? [] }

  /// The group a secret belongs to, or `nil` if the vault has no such secret.
  public func group(of name: String) -> String? { records[name]?.group }

  /// The versions of a secret, newest first (metadata only; nothing is decrypted).
  /// - Parameter name: the secret's name.
  /// - Returns: an empty array if the vault has no such secret.
  public func versions(of name: String) -> [SecretVersion] { records[name]?.versions ?? [] }

  /// The current (newest) version's metadata of a secret, or `nil` if absent.
  public func current(_ name: String) -> SecretVersion? { records[name]?.versions.first }

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
    guard VaultGrammar.isToken(environment) else { throw VaultError(.invalidName, file: file, detail: "environment") }
    guard !recipients.isEmpty else {
      throw VaultError(.invalidName, file: file, detail: "no recipients to encrypt to")
    }
    let key = SymmetricKey(size: .bits256)
    let slot = try wrap(key, to: recipients, file: file)
    return Vault(
      environment: environment, file: file, envKey: key, slots: [VaultGrammar.environmentSlot: slot],
      records: [:], order: [], recipients: recipients)
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
    guard let record = records[name] else { throw VaultError(.notFound, file: file, detail: name) }
    let entry: SecretVersion?
    if let version { entry = record.versions.first { $0.number == version } } else { entry = record.versions.first }
    guard let entry else { throw VaultError(.notFound, file: file, detail: "\(name) version \(version ?? 0)") }
    guard let key = slots[record.group]?.key else {
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
    out.reserveCapacity(records.count)
    for name in names {
      guard let record = records[name], let entry = record.versions.first,
        let key = slots[record.group]?.key
      else { continue }
      out.append((name, try open(entry, name: name, key: key)))
    }
    return out
  }

  /// Records a new version of a secret.
  ///
  /// Creates the group's data key if the group has none yet. When the secret exists in another group, every kept
  /// version is re-sealed under the new group's key. Keeps the newest ``retainedVersions`` versions.
  /// - Parameters:
  ///   - name: the secret's name (`[A-Za-z0-9_.-]+`, as the .env grammar allows).
  ///   - value: the new value.
  ///   - group: the group whose data key seals it.
  ///   - author: who made the change (a recipient name or `age1…`; spaces and control characters are replaced).
  ///   - time: when.
  /// - Returns: the new version number.
  /// - Throws: ``VaultError`` ``VaultError/Code/invalidName`` for a name the grammar rejects,
  ///   ``VaultError/Code/groupNotReadable`` when the group's key exists but this identity cannot unwrap it.
  @discardableResult
  public mutating func set(
    _ name: String, to value: SecretValue, group: String, author: String, at time: Timestamp
  ) throws(VaultError) -> Int {
    guard VaultGrammar.isToken(name) else { throw VaultError(.invalidName, file: file, detail: "secret name") }
    guard VaultGrammar.isToken(group), group != VaultGrammar.environmentSlot else {
      throw VaultError(.invalidName, file: file, detail: "group name")
    }
    let key = try dataKey(for: group)
    var record = records[name] ?? Record(group: group, versions: [])
    if record.group != group {
      guard let oldKey = slots[record.group]?.key else {
        throw VaultError(.groupNotReadable, file: file, detail: "\(record.group) (secret \(name))")
      }
      var moved: [SecretVersion] = []
      for v in record.versions {
        let plain = try open(v, name: name, key: oldKey)
        moved.append(try seal(plain, name: name, number: v.number, created: v.created, author: v.author, key: key))
      }
      record = Record(group: group, versions: moved)
    }
    let number = (record.versions.first?.number ?? 0) + 1
    let entry = try seal(
      value, name: name, number: number, created: time, author: VaultGrammar.sanitizeAuthor(author), key: key)
    record.versions.insert(entry, at: 0)
    if record.versions.count > Vault.retainedVersions { record.versions.removeLast(record.versions.count - Vault.retainedVersions) }
    if records[name] == nil { order.insert(name, at: insertionIndex(of: name)) }
    records[name] = record
    return number
  }

  /// Removes a secret and all its versions.
  /// - Parameter name: the secret's name.
  /// - Returns: whether the vault held it.
  @discardableResult
  public mutating func remove(_ name: String) -> Bool {
    guard records.removeValue(forKey: name) != nil else { return false }
    order.remove(at: insertionIndex(of: name))
    return true
  }

  /// Where `name` is or would go in ``order`` (binary search by UTF-8 bytes).
  func insertionIndex(of name: String) -> Int {
    var lo = 0
    var hi = order.count
    while lo < hi {
      let mid = (lo + hi) / 2
      if utf8Less(order[mid], name) { lo = mid + 1 } else { hi = mid }
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
    self.recipients = recipients
    var skipped: [String] = []
    for (group, slot) in slots {
      let key = group == VaultGrammar.environmentSlot ? envKey : slot.key
      guard let key else { skipped.append(group); continue }
      let wanted = recipients.map(\.encoded).sorted(by: utf8Less)
      if wanted == slot.recipients { continue }
      slots[group] = try Vault.wrap(key, to: recipients, file: file)
    }
    return skipped.sorted(by: utf8Less)
  }

  /// Whether every data key is already wrapped to exactly this set of recipients.
  public func isWrapped(to recipients: [AgeX25519Recipient]) -> Bool {
    let wanted = recipients.map(\.encoded).sorted(by: utf8Less)
    return slots.values.allSatisfy { $0.recipients == wanted }
  }

  /// Sets the recipients used for data keys created from now on (existing keys are untouched; see ``rewrap(to:)``).
  public mutating func useRecipients(_ recipients: [AgeX25519Recipient]) {
    if !recipients.isEmpty { self.recipients = recipients }
  }

  /// A keyed fingerprint of a value: HMAC-SHA256 under a key derived from this vault's environment key, hex.
  ///
  /// Equal values in the same vault give equal fingerprints; without the key nothing about the value can be
  /// learned or guessed from it. Used for audit lines and sync state, never a plain hash.
  /// - Parameter value: the value to fingerprint.
  /// - Returns: 64 lowercase hex digits.
  public func fingerprint(of value: SecretValue) -> String {
    Fingerprinter(envKey: envKey).fingerprint(of: value)
  }

  /// Keyed fingerprints of many values, deriving the key once (see ``fingerprint(of:)``).
  /// - Parameter values: name → value pairs.
  /// - Returns: name → 64 lowercase hex digits.
  public func fingerprints(of values: [(name: String, value: SecretValue)]) -> [String: String] {
    let f = Fingerprinter(envKey: envKey)
    var out: [String: String] = [:]
    out.reserveCapacity(values.count)
    for v in values { out[v.name] = f.fingerprint(of: v.value) }
    return out
  }

  struct Fingerprinter {
    let key: SymmetricKey
    init(envKey: SymmetricKey) {
      key = HKDF<SHA256>.deriveKey(
        inputKeyMaterial: envKey, info: Array("coffer-vault/v1 fingerprint".utf8), outputByteCount: 32)
    }
    func fingerprint(of value: SecretValue) -> String {
      hex(Array(HMAC<SHA256>.authenticationCode(for: value.reveal(), using: key)))
    }
  }

  // MARK: - Internals

  mutating func dataKey(for group: String) throws(VaultError) -> SymmetricKey {
    if let slot = slots[group] {
      guard let key = slot.key else {
        throw VaultError(.groupNotReadable, file: file, detail: group)
      }
      return key
    }
    let key = SymmetricKey(size: .bits256)
    var slot = try Vault.wrap(key, to: recipients, file: file)
    slot.key = key
    slots[group] = slot
    return key
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
    var out = [UInt8]()
    out.reserveCapacity(32 + environment.utf8.count + name.utf8.count)
    out.append(contentsOf: "coffer-vault/v1 value".utf8)
    out.append(0)
    out.append(contentsOf: environment.utf8)
    out.append(0)
    out.append(contentsOf: name.utf8)
    out.append(0)
    out.append(contentsOf: String(number).utf8)
    return out
  }

  func seal(
    _ value: SecretValue, name: String, number: Int, created: Timestamp, author: String, key: SymmetricKey
  ) throws(VaultError) -> SecretVersion {
    do {
      let box = try ChaChaPoly.seal(value.reveal(), using: key, authenticating: aad(name: name, number: number))
      return SecretVersion(number: number, created: created, author: author, sealed: Array(box.combined))
    } catch {
      throw VaultError(.authenticationFailed, file: file, detail: "cannot seal \(name)")
    }
  }

  func open(_ entry: SecretVersion, name: String, key: SymmetricKey) throws(VaultError) -> SecretValue {
    do {
      let box = try ChaChaPoly.SealedBox(combined: entry.sealed)
      let plain = try ChaChaPoly.open(box, using: key, authenticating: aad(name: name, number: entry.number))
      return SecretValue(Array(plain))
    } catch {
      throw VaultError(.authenticationFailed, file: file, detail: "\(name) version \(entry.number)")
    }
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
  let sealed: [UInt8]
}

func utf8Less(_ a: String, _ b: String) -> Bool { a.utf8.lexicographicallyPrecedes(b.utf8) }

func hex(_ bytes: [UInt8]) -> String {
  let digits = Array("0123456789abcdef".utf8)
  var out = [UInt8]()
  out.reserveCapacity(bytes.count * 2)
  for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
  return String(decoding: out, as: UTF8.self)
}
