import CofferCore

/// A value Coffer knows and looks for: one version of one secret in one environment.
package struct KnownValue: Sendable {
  /// The secret's name.
  package let name: String
  /// The environment whose vault holds it.
  package let environment: String
  /// The version number.
  package let version: Int
  /// The value.
  package let value: SecretValue
  /// Its keyed fingerprint (`Vault.fingerprint(of:)`), the only thing about the value a finding carries.
  package let fingerprint: String

  /// Creates a known value.
  package init(name: String, environment: String, version: Int, value: SecretValue, fingerprint: String) {
    self.name = name
    self.environment = environment
    self.version = version
    self.value = value
    self.fingerprint = fingerprint
  }
}

/// A value left out of the patterns, and why.
package struct SkippedValue: Sendable, Equatable {
  /// The secret's name.
  package let name: String
  /// The environment.
  package let environment: String
  /// The version.
  package let version: Int
  /// Why, e.g. `shorter than 4 bytes`.
  package let reason: String

  /// Creates a skipped value record.
  /// - Parameters:
  ///   - name: the secret's name.
  ///   - environment: the environment.
  ///   - version: the version.
  ///   - reason: why it is not looked for (never the value).
  package init(name: String, environment: String, version: Int, reason: String) {
    self.name = name
    self.environment = environment
    self.version = version
    self.reason = reason
  }
}

/// One place where a secret was found. Carries no byte of the secret.
package struct Finding: Sendable, Hashable {
  /// `known-value` for a value from the vault, else the format rule's id.
  package let rule: String
  /// The secret's name (known values only).
  package let secret: String?
  /// The environment whose vault holds the value (known values only).
  package let environment: String?
  /// The value's version number (known values only).
  package let version: Int?
  /// The form the value was found in (known values only).
  package let encoding: Encoding?
  /// The keyed fingerprint: of the value for a known value; of the rule's material (e.g. a key's base64 body) for
  /// a format rule.
  package let fingerprint: String
  /// The absolute byte offset of the matched text in the stream.
  package let offset: Int
  /// The length of the matched text in bytes.
  package let length: Int
  /// The 1-based line of the first byte.
  package let line: Int
  /// The 1-based column of the first byte, in Unicode scalars.
  package let column: Int
  /// The 1-based line of the last byte.
  package let endLine: Int
}

/// The compiled set of everything a scan looks for: the known values in all their encodings, the format rules'
/// triggers and the `coffer:allow` marker, in one ``Automaton``.
///
/// Immutable; safe to share between threads, each scanning its own ``ScanStream``.
package final class Scanner: Sendable {
  /// The rule id of known-value findings.
  package static let knownValueRule = "known-value"
  /// The inline comment that suppresses findings on its line.
  package static let allowMarker = "coffer:allow"

  enum Label: Sendable {
    /// A known value's variant: value index, encoding, and the index in ``tails`` of the bytes that must follow
    /// the automaton's key (nil when the key is the whole variant).
    case value(Int, Encoding, tail: Int?)
    case rule(Int)
    case allow
  }

  /// Variants longer than this are looked for by their first `keyLength` bytes, and the rest is compared when the
  /// key matches: the automaton stays small (its table is states × classes) however long the values are.
  static let keyLength = 32

  struct ValueInfo: Sendable {
    let name: String
    let environment: String
    let version: Int
    let fingerprint: String
  }

  let automaton: Automaton
  let labels: [[Label]]
  let tails: [[UInt8]]
  let values: [ValueInfo]
  let rules: [any Rule]
  let fingerprintMaterial: @Sendable (String, [UInt8]) -> String
  let patternLengths: [Int]
  /// The known values for percent-encoded text; owners are indices in ``values``.
  let percent: PercentPatterns

  /// Values that were too short to look for.
  package let skipped: [SkippedValue]
  /// The ids of the format rules in use.
  package var ruleIDs: [String] { rules.map(\.id) }
  /// The number of byte patterns compiled.
  package var patternCount: Int { automaton.patterns.count }
  /// The longest automaton key, in bytes.
  var maxPatternLength: Int { automaton.maxPatternLength }

  /// Compiles the patterns.
  /// - Parameters:
  ///   - values: the known values; those under ``Encodings/minimumLength`` bytes are left out and listed in
  ///     ``skipped``. When two values are equal, findings name the first.
  ///   - rules: format rules.
  ///   - fingerprint: the keyed fingerprint of a format rule's material, given the rule id; never a plain hash.
  package init(
    values: [KnownValue], rules: [any Rule],
    fingerprint: @escaping @Sendable (_ rule: String, _ material: [UInt8]) -> String
  ) {
    var patterns: [[UInt8]] = []
    var labels: [[Label]] = []
    var tails: [[UInt8]] = []
    var index: [ByteString: Int] = [:]
    var seenVariants = Set<ByteString>()
    func add(_ bytes: [UInt8], _ label: Label) {
      if let i = index[ByteString(bytes)] {
        labels[i].append(label)
      } else {
        index[ByteString(bytes)] = patterns.count
        patterns.append(bytes)
        labels.append([label])
      }
    }
    func addVariant(_ bytes: [UInt8], value: Int, encoding: Encoding) {
      guard seenVariants.insert(ByteString(bytes)).inserted else { return }  // an equal earlier value names it
      if bytes.count <= Scanner.keyLength {
        add(bytes, .value(value, encoding, tail: nil))
      } else {
        tails.append(Array(bytes[Scanner.keyLength...]))
        add(Array(bytes.prefix(Scanner.keyLength)), .value(value, encoding, tail: tails.count - 1))
      }
    }
    var skipped: [SkippedValue] = []
    var infos: [ValueInfo] = []
    var percentValues: [(owner: Int, bytes: [UInt8])] = []
    var seenValues = Set<ByteString>()
    for v in values {
      let bytes = v.value.reveal()
      guard bytes.count >= Encodings.minimumLength else {
        skipped.append(SkippedValue(name: v.name, environment: v.environment, version: v.version, reason: "shorter than \(Encodings.minimumLength) bytes"))
        continue
      }
      let i = infos.count
      infos.append(ValueInfo(name: v.name, environment: v.environment, version: v.version, fingerprint: v.fingerprint))
      if seenValues.insert(ByteString(bytes)).inserted { percentValues.append((i, bytes)) }
      for variant in Encodings.variants(of: bytes, distinctiveParts: true) {
        addVariant(variant.bytes, value: i, encoding: variant.encoding)
      }
    }
    for (r, rule) in rules.enumerated() {
      for trigger in rule.triggers where trigger.count >= Encodings.minimumLength { add(trigger, .rule(r)) }
    }
    add(Array(Scanner.allowMarker.utf8), .allow)
    automaton = Automaton(patterns: patterns)
    self.labels = labels
    self.tails = tails
    self.values = infos
    self.rules = rules
    self.skipped = skipped
    self.fingerprintMaterial = fingerprint
    patternLengths = patterns.map(\.count)
    percent = PercentPatterns(values: percentValues)
  }

  /// A new stream to scan one file or blob.
  package func makeStream() -> ScanStream { ScanStream(self) }

  /// Scans one complete input.
  /// - Parameter bytes: the input.
  /// - Returns: the findings, in order of offset.
  package func scan(_ bytes: [UInt8]) -> [Finding] {
    var stream = makeStream()
    stream.feed(bytes)
    return stream.finish()
  }
}

/// The scan of one stream (a file, a blob): feed it chunks in order, then ``finish()``.
///
/// Matches that span chunks are found, and reported with absolute offsets and the right line and column. The
/// stream keeps only the automaton state, the last 32 bytes, and, while a long variant's key or a format rule's
/// trigger is waiting to see more of the input, the bytes since that key or trigger.
package struct ScanStream {
  struct Candidate {
    enum Kind {
      case value(Int, Encoding)
      case rule(Int, String)
    }
    let kind: Kind
    let start: Int
    let end: Int
    let line: Int
    let column: Int
    let endLine: Int
  }

  struct Pending {
    enum Kind {
      /// A long variant whose key matched: compare the tail.
      case verify(value: Int, encoding: Encoding, tail: Int)
      case rule(Int)
    }
    let kind: Kind
    let start: Int
    /// How many bytes from `start` must be seen before deciding (fewer at the end of the input).
    let need: Int
    let line: Int
    let column: Int
  }

  let scanner: Scanner
  var cursor = Automaton.Cursor()
  var matches: [Automaton.Match] = []
  var lines: LineTracker
  var candidates: [Candidate] = []
  var allowLines = Set<Int>()
  var pending: [Pending] = []
  var carry: [UInt8] = []
  var carryStart = 0
  var ended = false
  var percent: PercentStream
  var percentMatches: [PercentMatch] = []

  init(_ scanner: Scanner) {
    self.scanner = scanner
    // A percent-encoded match can start up to three times the value's length before its end.
    lines = LineTracker(window: max(scanner.maxPatternLength, 3 * scanner.percent.maxLength + 3, 1))
    percent = PercentStream(scanner.percent, skipQuiet: true)
  }

  /// The number of bytes fed so far.
  package var offset: Int { cursor.offset }

  /// Feeds the next chunk.
  /// - Parameters:
  ///   - chunk: the bytes; any size, including empty.
  ///   - isFinal: true when no bytes follow, which spares the work of carrying line numbers and context into a
  ///     next chunk; then only ``finish()`` may follow.
  package mutating func feed(_ chunk: UnsafeRawBufferPointer, isFinal: Bool = false) {
    precondition(!ended, "feed after the final chunk")
    let buffer = chunk.bindMemory(to: UInt8.self)
    matches.removeAll(keepingCapacity: true)
    scanner.automaton.feed(chunk, cursor: &cursor, into: &matches)
    for m in matches {
      let start = m.end - scanner.patternLengths[m.pattern]
      var valueTaken = false
      for label in scanner.labels[m.pattern] {
        switch label {
        case .allow:
          allowLines.insert(lines.position(of: start, in: buffer).line)
        case .value(let i, let encoding, let tail):
          let p = lines.position(of: start, in: buffer)
          if let tail {
            let need = scanner.patternLengths[m.pattern] + scanner.tails[tail].count
            pending.append(Pending(kind: .verify(value: i, encoding: encoding, tail: tail), start: start, need: need, line: p.line, column: p.column))
            continue
          }
          guard !valueTaken else { continue }
          valueTaken = true
          let endLine = lines.position(of: m.end - 1, in: buffer).line
          candidates.append(Candidate(kind: .value(i, encoding), start: start, end: m.end, line: p.line, column: p.column, endLine: endLine))
        case .rule(let r):
          let p = lines.position(of: start, in: buffer)
          pending.append(Pending(kind: .rule(r), start: start, need: scanner.rules[r].lookahead, line: p.line, column: p.column))
        }
      }
    }
    percentMatches.removeAll(keepingCapacity: true)
    percent.feed(buffer, into: &percentMatches)
    if isFinal { percent.finish(into: &percentMatches) }
    addPercentCandidates(buffer)
    if isFinal {
      ended = true
      resolve(buffer, final: true)
    } else {
      resolve(buffer, final: false)
      lines.finishChunk(buffer)
    }
  }

  /// Feeds the next chunk from an array.
  package mutating func feed(_ bytes: [UInt8]) {
    bytes.withUnsafeBytes { feed($0) }
  }

  /// Ends the stream and returns its findings, in order of offset.
  ///
  /// Overlapping matches of the same value become one finding (the longest); a format-rule match that overlaps a
  /// known value is dropped in its favour; findings whose lines carry `coffer:allow` are dropped.
  package mutating func finish() -> [Finding] {
    if !ended {
      ended = true
      let empty = UnsafeBufferPointer<UInt8>(start: nil, count: 0)
      percentMatches.removeAll(keepingCapacity: true)
      percent.finish(into: &percentMatches)
      addPercentCandidates(empty)
      resolve(empty, final: true)
    }
    return collapse()
  }

  /// Known values found in percent-encoded text (a plain occurrence found here too merges with the raw one).
  private mutating func addPercentCandidates(_ buffer: UnsafeBufferPointer<UInt8>) {
    for m in percentMatches {
      let p = lines.position(of: m.start, in: buffer)
      let endLine = lines.position(of: m.end - 1, in: buffer).line
      candidates.append(
        Candidate(kind: .value(m.owner, .percent), start: m.start, end: m.end, line: p.line, column: p.column, endLine: endLine))
    }
  }

  // MARK: - Format rules

  /// Bytes [a, b) of the stream, from the carried bytes, the bytes retained before this chunk, and the chunk.
  private func bytes(from a: Int, to b: Int, chunk: UnsafeBufferPointer<UInt8>) -> [UInt8] {
    let chunkStart = lines.chunkStart
    var out: [UInt8] = []
    out.reserveCapacity(b - a)
    if a < chunkStart {
      let upTo = min(b, chunkStart)
      if !carry.isEmpty, carryStart <= a {
        out.append(contentsOf: carry[(a - carryStart)..<(upTo - carryStart)])
      } else {
        let retained = lines.retained
        out.append(contentsOf: retained.bytes[(a - retained.start)..<(upTo - retained.start)])
      }
    }
    if b > chunkStart {
      out.append(contentsOf: chunk[(max(a, chunkStart) - chunkStart)..<(b - chunkStart)])
    }
    return out
  }

  private mutating func resolve(_ chunk: UnsafeBufferPointer<UInt8>, final: Bool) {
    guard !pending.isEmpty else {
      carry = []
      return
    }
    let end = cursor.offset
    var waiting: [Pending] = []
    for p in pending {
      if !final, end - p.start < p.need {
        waiting.append(p)
        continue
      }
      let windowEnd = min(end, p.start + p.need)
      switch p.kind {
      case .verify(let value, let encoding, let tail):
        guard windowEnd - p.start == p.need else { continue }  // the input ended first
        let window = bytes(from: p.start, to: windowEnd, chunk: chunk)
        guard window[Scanner.keyLength...].elementsEqual(scanner.tails[tail]) else { continue }
        let endLine = p.line + window.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) } - (window.last == 0x0A ? 1 : 0)
        candidates.append(Candidate(kind: .value(value, encoding), start: p.start, end: windowEnd, line: p.line, column: p.column, endLine: endLine))
      case .rule(let r):
        let rule = scanner.rules[r]
        let window = bytes(from: p.start, to: windowEnd, chunk: chunk)
        let found = window.withUnsafeBytes { rule.confirm($0, atEnd: final && windowEnd == end) }
        guard let found else { continue }
        let endLine = p.line + window.prefix(found.length).reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
          - (found.length > 0 && window[found.length - 1] == 0x0A ? 1 : 0)
        let fingerprint = scanner.fingerprintMaterial(rule.id, found.material)
        candidates.append(Candidate(kind: .rule(r, fingerprint), start: p.start, end: p.start + found.length, line: p.line, column: p.column, endLine: endLine))
      }
    }
    pending = waiting
    if let first = waiting.map(\.start).min() {
      carry = bytes(from: first, to: end, chunk: chunk)
      carryStart = first
    } else {
      carry = []
    }
  }

  // MARK: - Findings

  private func collapse() -> [Finding] {
    var byValue: [Int: [Candidate]] = [:]
    var byRule: [Int: [Candidate]] = [:]
    var valueSpans: [(Int, Int)] = []
    for c in candidates {
      switch c.kind {
      case .value(let i, _):
        byValue[i, default: []].append(c)
        valueSpans.append((c.start, c.end))
      case .rule(let r, _):
        byRule[r, default: []].append(c)
      }
    }
    var out: [Finding] = []
    for (_, group) in byValue {
      for (best, firstLine, lastLine) in clusters(group) where !isAllowed(firstLine, lastLine) {
        guard case .value(let i, let encoding) = best.kind else { continue }
        let v = scanner.values[i]
        out.append(Finding(
          rule: Scanner.knownValueRule, secret: v.name, environment: v.environment, version: v.version,
          encoding: encoding, fingerprint: v.fingerprint, offset: best.start, length: best.end - best.start,
          line: best.line, column: best.column, endLine: best.endLine))
      }
    }
    for (r, group) in byRule {
      let alone = group.filter { c in !valueSpans.contains { $0.0 < c.end && c.start < $0.1 } }
      for (best, firstLine, lastLine) in clusters(alone) where !isAllowed(firstLine, lastLine) {
        guard case .rule(_, let fingerprint) = best.kind else { continue }
        out.append(Finding(
          rule: scanner.rules[r].id, secret: nil, environment: nil, version: nil, encoding: nil,
          fingerprint: fingerprint, offset: best.start, length: best.end - best.start, line: best.line,
          column: best.column, endLine: best.endLine))
      }
    }
    return out.sorted {
      ($0.offset, $0.rule, $0.secret ?? "", $0.environment ?? "", $0.version ?? 0)
        < ($1.offset, $1.rule, $1.secret ?? "", $1.environment ?? "", $1.version ?? 0)
    }
  }

  /// Groups overlapping candidates; each cluster is represented by its longest member (then the earliest, then
  /// the more specific encoding), with the first and last line the cluster covers.
  private func clusters(_ group: [Candidate]) -> [(Candidate, Int, Int)] {
    let sorted = group.sorted { ($0.start, $1.end) < ($1.start, $0.end) }
    var out: [(Candidate, Int, Int)] = []
    var best: Candidate?
    var reach = 0
    var firstLine = 0
    var lastLine = 0
    for c in sorted {
      if let b = best, c.start < reach {
        if better(c, than: b) { best = c }
        reach = max(reach, c.end)
        lastLine = max(lastLine, c.endLine)
      } else {
        if let b = best { out.append((b, firstLine, lastLine)) }
        best = c
        reach = c.end
        firstLine = c.line
        lastLine = c.endLine
      }
    }
    if let b = best { out.append((b, firstLine, lastLine)) }
    return out
  }

  private func better(_ a: Candidate, than b: Candidate) -> Bool {
    let la = a.end - a.start
    let lb = b.end - b.start
    if la != lb { return la > lb }
    if a.start != b.start { return a.start < b.start }
    if case .value(_, let ea) = a.kind, case .value(_, let eb) = b.kind { return ea < eb }
    return false
  }

  private func isAllowed(_ first: Int, _ last: Int) -> Bool {
    guard !allowLines.isEmpty else { return false }
    return allowLines.contains { $0 >= first && $0 <= last }
  }
}
