import CofferCore

/// Which environments changed since their destinations were last synced: `.coffer/state/stale.json`.
///
/// `coffer rotate` and `coffer rollback` mark the environment stale; the sync feature reads the marker to know
/// that every destination fed by that environment holds an old value, and clears it after a successful sync. The
/// file holds names and times, never a value. Format (docs/access.md, *Rotation*), keys in this order:
///
/// ```json
/// {"version":1,"sequence":2,"environments":{"production":{"stale_since":"2026-01-01T00:00:00Z","secrets":["A","B"],"sequence":2}}}
/// ```
///
/// `stale_since` is the first change not yet synced; `secrets` lists the names changed since then, sorted.
/// `sequence` is a counter that every marking increments (it never decreases, also when markers are cleared); an
/// entry's `sequence` is the counter at its latest marking. A sync reads the counter before it reads the values and
/// clears only markers whose sequence is not later, so a change made while it ran (even within the same second)
/// keeps its marker. Files without `sequence` (older Coffer) read as 0.
package struct StaleDestinations: Sendable, Equatable {
  /// One environment's marker.
  package struct Entry: Sendable, Equatable {
    /// When the first change not yet pushed to destinations happened.
    package var since: Timestamp
    /// The secrets changed since then, sorted by UTF-8 bytes.
    package var secrets: [String]
    /// The file's ``StaleDestinations/sequence`` at the latest marking.
    package var sequence: Int

    /// Creates a marker.
    /// - Parameters:
    ///   - since: the first unsynced change.
    ///   - secrets: the names changed.
    ///   - sequence: the counter at the latest marking.
    package init(since: Timestamp, secrets: [String], sequence: Int = 0) {
      self.since = since
      self.secrets = secrets
      self.sequence = sequence
    }
  }

  /// The marking counter: incremented by every ``markStale(_:secrets:at:)``, never decreased.
  package var sequence: Int

  /// Environment name → marker; environments without a marker are in sync.
  package var environments: [String: Entry]

  /// Creates a state.
  /// - Parameter environments: the markers.
  /// - Parameter sequence: the marking counter.
  package init(environments: [String: Entry] = [:], sequence: Int = 0) {
    self.environments = environments
    self.sequence = sequence
  }

  /// The file's path in a project: `.coffer/state/stale.json`.
  /// - Parameter project: the project.
  package static func path(in project: Project) -> String {
    Paths.join(Paths.join(project.stateDirectory, "state"), "stale.json")
  }

  /// Marks an environment's destinations stale because secrets changed.
  /// - Parameters:
  ///   - environment: the environment.
  ///   - secrets: the names that changed.
  ///   - time: when; an existing earlier `since` is kept.
  package mutating func markStale(_ environment: String, secrets: [String], at time: Timestamp) {
    sequence += 1
    var entry = environments[environment] ?? Entry(since: time, secrets: [])
    entry.since = min(entry.since, time)
    entry.sequence = sequence
    entry.secrets = Array(Swift.Set(entry.secrets + secrets)).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    environments[environment] = entry
  }

  /// Clears an environment's marker (after a successful sync).
  /// - Parameter environment: the environment.
  package mutating func clear(_ environment: String) { environments[environment] = nil }

  /// Clears an environment's marker only when no marking happened after a sync read its values.
  /// - Parameters:
  ///   - environment: the environment.
  ///   - readSequence: ``sequence`` as read before the sync read the values.
  /// - Returns: whether the marker was cleared.
  package mutating func clear(_ environment: String, ifMarkedBy readSequence: Int) -> Bool {
    guard let entry = environments[environment], entry.sequence <= readSequence else { return false }
    environments[environment] = nil
    return true
  }

  /// The file's bytes: compact JSON, environments sorted, ending with a newline.
  package func encoded() -> [UInt8] {
    var out = "{\"version\":1,\"sequence\":\(sequence),\"environments\":{"
    let names = environments.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    for (i, name) in names.enumerated() {
      guard let entry = environments[name] else { continue }
      if i > 0 { out += "," }
      out += JSONString.quoted(name) + ":{\"stale_since\":" + JSONString.quoted(entry.since.rfc3339) + ",\"secrets\":["
      out += entry.secrets.map(JSONString.quoted).joined(separator: ",") + "],\"sequence\":\(entry.sequence)}"
    }
    return Array((out + "}}\n").utf8)
  }

  /// Parses the file's bytes.
  /// - Parameters:
  ///   - bytes: the file's contents.
  ///   - file: the path, for errors.
  /// - Returns: the state.
  /// - Throws: ``SystemError`` (exit 2) when the bytes are not this format.
  package static func decode(_ bytes: [UInt8], file: String) throws(SystemError) -> StaleDestinations {
    func bad(_ why: String) -> SystemError { SystemError("cannot read", path: file, reason: why) }
    guard let root = MiniJSON.parse(bytes), case .object(let top) = root else { throw bad("not a JSON object") }
    guard case .number(1)? = top["version"] else { throw bad("expected \"version\": 1") }
    guard case .object(let envs)? = top["environments"] else { throw bad("expected an \"environments\" object") }
    var state = StaleDestinations()
    switch top["sequence"] {
    case nil: break
    case .number(let n)? where n >= 0: state.sequence = n
    default: throw bad("expected \"sequence\": a non-negative integer")
    }
    for (name, value) in envs {
      guard case .object(let fields) = value, case .string(let since)? = fields["stale_since"],
        let time = Timestamp(rfc3339: since), case .array(let items)? = fields["secrets"]
      else { throw bad("environments.\(name): expected stale_since and secrets") }
      var secrets: [String] = []
      for item in items {
        guard case .string(let s) = item else { throw bad("environments.\(name).secrets: expected names") }
        secrets.append(s)
      }
      var sequence = 0
      switch fields["sequence"] {
      case nil: break
      case .number(let n)? where n >= 0: sequence = n
      default: throw bad("environments.\(name).sequence: expected a non-negative integer")
      }
      state.environments[name] = Entry(since: time, secrets: secrets, sequence: sequence)
    }
    return state
  }

  /// Reads a project's state; a missing file is an empty state.
  /// - Parameter project: the project.
  /// - Throws: ``SystemError`` when the file exists but cannot be read or parsed.
  package static func load(_ project: Project) throws(SystemError) -> StaleDestinations {
    let path = path(in: project)
    guard Files.exists(path) else { return StaleDestinations() }
    return try decode(try Files.read(path), file: project.display(path))
  }

  /// Writes a project's state atomically (mode 0644 for a new file: it holds no value). The caller holds the
  /// project lock.
  /// - Parameter project: the project.
  /// - Throws: ``SystemError`` when it cannot be written.
  package func save(_ project: Project) throws(SystemError) {
    let path = Self.path(in: project)
    try Files.makeDirectory(Paths.parent(path))
    try Files.writeAtomically(path, encoded(), newFileMode: 0o644)
  }
}

/// A small strict JSON reader (RFC 8259) for Coffer's own state files: objects, arrays, strings, integers, true,
/// false, null. Fractions and exponents are rejected; nesting is limited to 32 levels.
enum MiniJSON: Equatable {
  case object([String: MiniJSON])
  case array([MiniJSON])
  case string(String)
  case number(Int)
  case bool(Bool)
  case null

  static func parse(_ bytes: [UInt8]) -> MiniJSON? {
    var reader = Reader(bytes: bytes)
    guard let value = reader.value(depth: 0) else { return nil }
    reader.skipSpace()
    return reader.i == bytes.count ? value : nil
  }

  struct Reader {
    let bytes: [UInt8]
    var i = 0

    mutating func skipSpace() {
      while i < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[i]) { i += 1 }
    }

    mutating func literal(_ word: String) -> Bool {
      let w = Array(word.utf8)
      guard i + w.count <= bytes.count, Array(bytes[i..<i + w.count]) == w else { return false }
      i += w.count
      return true
    }

    mutating func value(depth: Int) -> MiniJSON? {
      guard depth < 32 else { return nil }
      skipSpace()
      guard i < bytes.count else { return nil }
      switch bytes[i] {
      case UInt8(ascii: "{"):
        i += 1
        var out: [String: MiniJSON] = [:]
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(out) }
        while true {
          skipSpace()
          guard let key = string() else { return nil }
          skipSpace()
          guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { return nil }
          i += 1
          guard out[key] == nil, let v = value(depth: depth + 1) else { return nil }
          out[key] = v
          skipSpace()
          guard i < bytes.count else { return nil }
          if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
          if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(out) }
          return nil
        }
      case UInt8(ascii: "["):
        i += 1
        var out: [MiniJSON] = []
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(out) }
        while true {
          guard let v = value(depth: depth + 1) else { return nil }
          out.append(v)
          skipSpace()
          guard i < bytes.count else { return nil }
          if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
          if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(out) }
          return nil
        }
      case UInt8(ascii: "\""):
        return string().map { .string($0) }
      case UInt8(ascii: "t"): return literal("true") ? .bool(true) : nil
      case UInt8(ascii: "f"): return literal("false") ? .bool(false) : nil
      case UInt8(ascii: "n"): return literal("null") ? .null : nil
      default:
        let start = i
        if bytes[i] == UInt8(ascii: "-") { i += 1 }
        let digits = i
        while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 { i += 1 }
        guard i > digits, i - digits <= 18, !(bytes[digits] == 0x30 && i - digits > 1) else { return nil }
        return Int(String(decoding: bytes[start..<i], as: UTF8.self)).map { .number($0) }
      }
    }

    mutating func string() -> String? {
      guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { return nil }
      i += 1
      var out: [UInt8] = []
      while i < bytes.count {
        let b = bytes[i]
        i += 1
        switch b {
        case UInt8(ascii: "\""):
          return String(validating: out, as: UTF8.self)
        case UInt8(ascii: "\\"):
          guard i < bytes.count else { return nil }
          let e = bytes[i]
          i += 1
          switch e {
          case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
          case UInt8(ascii: "n"): out.append(0x0A)
          case UInt8(ascii: "r"): out.append(0x0D)
          case UInt8(ascii: "t"): out.append(0x09)
          case UInt8(ascii: "b"): out.append(0x08)
          case UInt8(ascii: "f"): out.append(0x0C)
          case UInt8(ascii: "u"):
            guard i + 4 <= bytes.count, let v = UInt32(String(decoding: bytes[i..<i + 4], as: UTF8.self), radix: 16),
              let scalar = Unicode.Scalar(v)
            else { return nil }  // surrogate pairs are not used by Coffer's files
            i += 4
            out.append(contentsOf: Array(String(Character(scalar)).utf8))
          default: return nil
          }
        default:
          guard b >= 0x20 else { return nil }
          out.append(b)
        }
      }
      return nil
    }
  }
}
