/// A decoded manifest in a compact binary form, so that a command can skip decoding YAML when coffer.yaml has not
/// changed since the last command decoded it (docs/performance.md, "The manifest snapshot").
///
/// Pure: values in, bytes out, and back. The format is private to one build of Coffer (the loader keys a snapshot
/// to the executable that wrote it) and is never committed or exchanged, so it is specified here and not in docs/:
///
/// ```
/// snapshot = "coffer-manifest-snapshot 1\n" key-length:uvarint key manifest provenance
/// ```
/// Integers are LEB128 (unsigned) or zigzag LEB128 (signed); a string is its UTF-8 length and bytes; an optional is
/// a byte 0 (none) or 1 followed by the value; a list is its count and its elements; a dictionary is a list of
/// pairs in key order. `key` is what the snapshot is valid for (the loader puts the manifest's SHA-256 and the
/// executable's identity in it). Only a manifest without imports is written (its provenance is all in one file,
/// whose name is given back when reading).
///
/// Reading is total: bytes that are not a snapshot of the expected key, are truncated, or hold a value the
/// decoder would never produce give `nil`, never a trap, and the caller decodes the YAML instead.
package enum ManifestSnapshot {
  static let magic = Array("coffer-manifest-snapshot 1\n".utf8)
  /// How deep `destinations:` values may nest in a snapshot (the YAML decoder's documents are far shallower).
  static let maximumDepth = 64

  /// The snapshot of a merged manifest, or nil when it cannot have one (it has imports, or provenance in other
  /// files).
  /// - Parameters:
  ///   - merged: what ``ManifestMerger/merge(_:)`` returned for a manifest without imports.
  ///   - file: the display name its provenance uses.
  ///   - key: what the snapshot is valid for; ``read(_:key:file:provenance:)`` must be given the same bytes.
  package static func write(_ merged: MergedManifest, file: String, key: [UInt8]) -> [UInt8]? {
    let m = merged.manifest
    guard m.imports.isEmpty, merged.importedSecrets.isEmpty, merged.provenance.values.allSatisfy({ $0.file == file })
    else { return nil }
    let w = Writer()
    w.bytes.append(contentsOf: magic)
    w.uint(key.count)
    w.bytes.append(contentsOf: key)
    w.int(m.version)
    w.string(m.project)
    w.strings(m.environments)
    w.uint(m.recipients.count)
    for r in m.recipients {
      w.string(r.name)
      w.string(r.recipient)
      w.optional(r.signingKey, w.string)
    }
    w.uint(m.groups.count)
    for g in m.groups {
      w.string(g.name)
      w.optional(g.rotation?.days, w.int)
      w.optional(g.description, w.string)
    }
    w.uint(m.secrets.count)
    for s in m.secrets { w.secret(s) }
    w.optional(m.destinations) { w.value($0) }
    w.optional(m.access) { rules in
      w.uint(rules.count)
      for rule in rules {
        w.selector(rule.environments)
        w.selector(rule.groups)
        w.selector(rule.recipients)
        w.bool(rule.writeOnly)
        w.int(rule.line)
      }
    }
    w.optional(m.admins, w.strings)
    w.uint(m.stores.count)
    for key in m.stores.keys.sorted() {
      w.string(key)
      w.string(m.stores[key]!)
    }
    w.uint(m.storeCacheMaxAge.count)
    for key in m.storeCacheMaxAge.keys.sorted() {
      w.string(key)
      w.int(m.storeCacheMaxAge[key]!)
    }
    w.uint(merged.provenance.count)
    for key in merged.provenance.keys.sorted() {
      let location = merged.provenance[key]!
      w.string(key)
      w.int(location.line)
      w.int(location.column)
    }
    return w.bytes
  }

  /// The merged manifest a snapshot holds, or nil when `bytes` are not a whole snapshot for `key`.
  /// - Parameters:
  ///   - bytes: what ``write(_:file:key:)`` returned (or anything else).
  ///   - key: what the snapshot must be valid for.
  ///   - file: the display name to give the provenance's locations.
  ///   - provenance: whether to read the provenance (thousands of entries for a large manifest, which only `manifest
  ///     show` needs); without, ``MergedManifest/provenance`` is empty.
  package static func read(_ bytes: [UInt8], key: [UInt8], file: String, provenance: Bool = true) -> MergedManifest? {
    bytes.withUnsafeBufferPointer { buffer -> MergedManifest? in
      var r = Reader(buffer: buffer)
      guard r.take(magic), let keyCount = r.uint(), keyCount == key.count, r.take(key),
        let version = r.int(), let project = r.string(), let environments = r.strings(),
        let recipients: [ManifestRecipient] = r.list({ r in
          guard let name = r.string(), let recipient = r.string(), let signingKey = r.optional({ $0.string() }) else { return nil }
          return ManifestRecipient(name: name, recipient: recipient, signingKey: signingKey)
        }),
        let groups: [SecretGroup] = r.list({ r in
          guard let name = r.string(), let days = r.optional({ $0.int() }), let description = r.optional({ $0.string() })
          else { return nil }
          var rotation: RotationPeriod?
          if let days { guard let period = RotationPeriod(days: days) else { return nil }; rotation = period }
          return SecretGroup(name: name, rotation: rotation, description: description)
        }),
        let secrets: [SecretSpec] = r.list({ $0.secret() }),
        let destinations = r.optional({ $0.value(depth: 0) }),
        let access = r.optional({ r in
          r.list { r -> AccessRule? in
            guard let environments = r.selector(), let groups = r.selector(), let recipients = r.selector(),
              let writeOnly = r.bool(), let line = r.int()
            else { return nil }
            return AccessRule(environments: environments, groups: groups, recipients: recipients, writeOnly: writeOnly, line: line)
          }
        }),
        let admins = r.optional({ $0.strings() }),
        let stores: [(String, String)] = r.list({ r in
          guard let key = r.string(), let value = r.string() else { return nil }
          return (key, value)
        }),
        let maxAges: [(String, Int)] = r.list({ r in
          guard let key = r.string(), let value = r.int() else { return nil }
          return (key, value)
        })
      else { return nil }
      var manifest = Manifest(
        version: version, project: project, environments: environments, recipients: recipients, groups: groups,
        secrets: secrets, destinations: destinations, access: access)
      manifest.admins = admins
      manifest.stores = Dictionary(stores, uniquingKeysWith: { a, _ in a })
      manifest.storeCacheMaxAge = Dictionary(maxAges, uniquingKeysWith: { a, _ in a })
      guard manifest.stores.count == stores.count, manifest.storeCacheMaxAge.count == maxAges.count else { return nil }
      var locations: [String: ManifestLocation] = [:]
      if provenance {
        guard let count = r.uint(), count <= r.remaining else { return nil }
        locations.reserveCapacity(count)
        for _ in 0..<count {
          guard let key = r.string(), let line = r.int(), let column = r.int() else { return nil }
          locations[key] = ManifestLocation(file: file, line: line, column: column)
        }
        guard r.remaining == 0, locations.count == count else { return nil }
      }
      return MergedManifest(manifest: manifest, provenance: locations, importedSecrets: [])
    }
  }

  /// A class, so that its methods can be passed as the writers of optionals and lists.
  final class Writer {
    var bytes: [UInt8] = []

    func uint(_ n: Int) {
      var v = UInt(n)
      while v >= 0x80 {
        bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
        v >>= 7
      }
      bytes.append(UInt8(v))
    }

    func int(_ n: Int) {
      uint(Int(bitPattern: UInt(bitPattern: n << 1) ^ UInt(bitPattern: n >> (Int.bitWidth - 1))))
    }

    func bool(_ b: Bool) { bytes.append(b ? 1 : 0) }

    func string(_ s: String) {
      uint(s.utf8.count)
      bytes.append(contentsOf: s.utf8)
    }

    func strings(_ list: [String]) {
      uint(list.count)
      for s in list { string(s) }
    }

    func optional<T>(_ value: T?, _ write: (T) -> Void) {
      guard let value else { return bytes.append(0) }
      bytes.append(1)
      write(value)
    }

    func selector(_ s: AccessSelector) {
      switch s {
      case .any: bytes.append(0)
      case .names(let names):
        bytes.append(1)
        strings(names)
      }
    }

    func secret(_ s: SecretSpec) {
      string(s.name)
      optional(s.group, string)
      optional(s.description, string)
      switch s.required {
      case .always: bytes.append(0)
      case .never: bytes.append(1)
      case .environments(let names):
        bytes.append(2)
        strings(names)
      }
      optional(s.prefix, string)
      optional(s.pattern, string)
      optional(s.minLength, int)
      optional(s.maxLength, int)
      optional(s.example, string)
      bool(s.isSecret)
      optional(s.format, string)
      optional(s.rotation?.days, int)
      bool(s.allowLoaderVariable)
      optional(s.compose) { c in
        uint(c.pieces.count)
        for piece in c.pieces {
          switch piece {
          case .text(let text):
            bytes.append(0)
            string(text)
          case .part(let name, let url):
            bytes.append(url ? 2 : 1)
            string(name)
          }
        }
      }
      int(s.line)
    }

    func value(_ v: ManifestValue) {
      switch v {
      case .null: bytes.append(0)
      case .bool(let b): bytes.append(b ? 2 : 1)
      case .int(let n):
        bytes.append(3)
        int(n)
      case .string(let s):
        bytes.append(4)
        string(s)
      case .sequence(let items):
        bytes.append(5)
        uint(items.count)
        for item in items { value(item) }
      case .mapping(let entries):
        bytes.append(6)
        uint(entries.count)
        for entry in entries {
          string(entry.key)
          value(entry.value)
        }
      }
    }
  }

  struct Reader {
    let buffer: UnsafeBufferPointer<UInt8>
    var at = 0

    var remaining: Int { buffer.count - at }

    mutating func byte() -> UInt8? {
      guard at < buffer.count else { return nil }
      defer { at += 1 }
      return buffer[at]
    }

    mutating func take(_ expected: [UInt8]) -> Bool {
      guard remaining >= expected.count, buffer[at..<(at + expected.count)].elementsEqual(expected) else { return false }
      at += expected.count
      return true
    }

    /// At most 9 bytes (63 bits), so the value fits an `Int`.
    mutating func uint() -> Int? {
      var v = 0
      var shift = 0
      while shift < 63, let b = byte() {
        v |= Int(b & 0x7F) << shift
        if b < 0x80 { return v }
        shift += 7
      }
      return nil
    }

    mutating func int() -> Int? {
      // The writer's zigzag of any Int is at most 10 bytes; values that need the tenth never occur in a manifest.
      guard let z = uint() else { return nil }
      return (z >> 1) ^ -(z & 1)
    }

    mutating func bool() -> Bool? {
      switch byte() {
      case 0: return false
      case 1: return true
      default: return nil
      }
    }

    mutating func string() -> String? {
      guard let count = uint(), count <= remaining else { return nil }
      defer { at += count }
      return String(validating: UnsafeBufferPointer(rebasing: buffer[at..<(at + count)]), as: UTF8.self)
    }

    mutating func strings() -> [String]? { list { $0.string() } }

    mutating func list<T>(_ element: (inout Reader) -> T?) -> [T]? {
      guard let count = uint(), count <= remaining else { return nil }
      var out: [T] = []
      out.reserveCapacity(count)
      for _ in 0..<count {
        guard let item = element(&self) else { return nil }
        out.append(item)
      }
      return out
    }

    /// `.some(nil)` for an absent value, nil for bytes that are not an optional.
    mutating func optional<T>(_ element: (inout Reader) -> T?) -> T?? {
      switch byte() {
      case 0: return .some(nil)
      case 1:
        guard let value = element(&self) else { return nil }
        return .some(value)
      default: return nil
      }
    }

    mutating func selector() -> AccessSelector? {
      switch byte() {
      case 0: return .any
      case 1: return strings().map { .names($0) }
      default: return nil
      }
    }

    mutating func secret() -> SecretSpec? {
      guard let name = string(), let group = optional({ $0.string() }), let description = optional({ $0.string() })
      else { return nil }
      let required: Requirement
      switch byte() {
      case 0: required = .always
      case 1: required = .never
      case 2:
        guard let names = strings() else { return nil }
        required = .environments(names)
      default: return nil
      }
      guard let prefix = optional({ $0.string() }), let pattern = optional({ $0.string() }),
        let minLength = optional({ $0.int() }), let maxLength = optional({ $0.int() }),
        let example = optional({ $0.string() }), let isSecret = bool(), let format = optional({ $0.string() }),
        let days = optional({ $0.int() }), let allowLoaderVariable = bool(),
        let compose = optional({ r -> Composition? in
          r.list { r -> Composition.Piece? in
            switch r.byte() {
            case 0: return r.string().map { .text($0) }
            case 1: return r.string().map { .part(name: $0, url: false) }
            case 2: return r.string().map { .part(name: $0, url: true) }
            default: return nil
            }
          }.map { Composition(pieces: $0) }
        }),
        let line = int()
      else { return nil }
      var rotation: RotationPeriod?
      if let days { guard let period = RotationPeriod(days: days) else { return nil }; rotation = period }
      return SecretSpec(
        name: name, group: group, description: description, required: required, prefix: prefix, pattern: pattern,
        minLength: minLength, maxLength: maxLength, example: example, isSecret: isSecret, format: format,
        rotation: rotation, allowLoaderVariable: allowLoaderVariable, compose: compose, line: line)
    }

    mutating func value(depth: Int) -> ManifestValue? {
      guard depth < ManifestSnapshot.maximumDepth else { return nil }
      switch byte() {
      case 0: return .null
      case 1: return .bool(false)
      case 2: return .bool(true)
      case 3: return int().map { .int($0) }
      case 4: return string().map { .string($0) }
      case 5: return list { $0.value(depth: depth + 1) }.map { .sequence($0) }
      case 6:
        return list { r -> ManifestValueEntry? in
          guard let key = r.string(), let value = r.value(depth: depth + 1) else { return nil }
          return ManifestValueEntry(key: key, value: value)
        }.map { .mapping($0) }
      default: return nil
      }
    }
  }
}
