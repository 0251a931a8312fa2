import CofferCore

/// The error type of CofferScan: a suppression file that cannot be read as such. Never carries a value.
package struct ScanError: CofferError, Equatable {
  /// The file.
  package let file: String
  /// The 1-based line.
  package let line: Int
  /// What is wrong with it.
  package let reason: String

  /// Creates an error.
  package init(file: String, line: Int, reason: String) {
    self.file = file
    self.line = line
    self.reason = reason
  }

  package var description: String { "\(file):\(line): \(reason)" }
  package var exitStatus: ExitStatus { .badInput }
}

/// Paths to leave out of a scan, in gitignore syntax (https://git-scm.com/docs/gitignore#_pattern_format): `#`
/// comments, `!` to re-include, a trailing `/` for directories only, a `/` at the start or in the middle to anchor
/// the pattern at the root, `*`, `?`, `[…]`, and `**` for any number of directories. The last matching pattern
/// wins, and a file inside an excluded directory cannot be re-included, as in git.
package struct IgnoreRules: Sendable {
  struct Pattern: Sendable {
    let glob: [UInt8]
    let negated: Bool
    let directoryOnly: Bool
    let anchored: Bool
  }

  let patterns: [Pattern]

  /// No patterns: nothing is ignored.
  package init() { patterns = [] }

  /// Parses a `.cofferignore` file.
  /// - Parameter bytes: its contents (LF or CRLF lines).
  package init(parsing bytes: [UInt8]) {
    var out: [Pattern] = []
    for raw in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
      var line = Array(raw)
      if line.last == 0x0D { line.removeLast() }
      // Trailing spaces are ignored unless escaped with a backslash.
      while line.last == 0x20, !(line.count >= 2 && line[line.count - 2] == 0x5C) { line.removeLast() }
      guard !line.isEmpty, line[0] != UInt8(ascii: "#") else { continue }
      var negated = false
      if line[0] == UInt8(ascii: "!") {
        negated = true
        line.removeFirst()
      } else if line[0] == 0x5C, line.count > 1, line[1] == UInt8(ascii: "!") || line[1] == UInt8(ascii: "#") {
        line.removeFirst()
      }
      var directoryOnly = false
      if line.last == UInt8(ascii: "/") {
        directoryOnly = true
        line.removeLast()
      }
      guard !line.isEmpty else { continue }
      let anchored = line.contains(UInt8(ascii: "/"))
      if line.first == UInt8(ascii: "/") { line.removeFirst() }
      out.append(Pattern(glob: line, negated: negated, directoryOnly: directoryOnly, anchored: anchored))
    }
    patterns = out
  }

  /// Whether a file is ignored.
  /// - Parameter path: the file's path relative to the directory holding the rules, `/`-separated, without a
  ///   leading `./`.
  package func ignores(_ path: String) -> Bool {
    guard !patterns.isEmpty else { return false }
    let bytes = Array(path.utf8)
    let parts = bytes.split(separator: UInt8(ascii: "/")).map(Array.init)
    var prefix: [UInt8] = []
    for (i, part) in parts.enumerated() {
      if i > 0 { prefix.append(UInt8(ascii: "/")) }
      prefix += part
      let isLast = i == parts.count - 1
      if let verdict = decide(prefix, basename: part, isDirectory: !isLast), verdict { return true }
    }
    return false
  }

  private func decide(_ path: [UInt8], basename: [UInt8], isDirectory: Bool) -> Bool? {
    var verdict: Bool?
    for p in patterns {
      if p.directoryOnly && !isDirectory { continue }
      if IgnoreRules.glob(p.glob, 0, p.anchored ? path : basename, 0) { verdict = !p.negated }
    }
    return verdict
  }

  static func glob(_ p: [UInt8], _ pi: Int, _ s: [UInt8], _ si: Int) -> Bool {
    var pi = pi
    var si = si
    let slash = UInt8(ascii: "/")
    while pi < p.count {
      let c = p[pi]
      if c == UInt8(ascii: "*") {
        if pi + 1 < p.count, p[pi + 1] == UInt8(ascii: "*") {
          var next = pi + 2
          if next < p.count, p[next] == slash {
            next += 1
            if glob(p, next, s, si) { return true }
            var k = si
            while k < s.count {
              if s[k] == slash, glob(p, next, s, k + 1) { return true }
              k += 1
            }
            return false
          }
          for k in si...s.count where glob(p, next, s, k) { return true }
          return false
        }
        var k = si
        while true {
          if glob(p, pi + 1, s, k) { return true }
          if k >= s.count || s[k] == slash { return false }
          k += 1
        }
      }
      guard si < s.count else { return false }
      if c == UInt8(ascii: "?") {
        guard s[si] != slash else { return false }
      } else if c == UInt8(ascii: "[") {
        guard let (matched, after) = matchClass(p, pi, s[si]) else {
          guard s[si] == c else { return false }
          pi += 1
          si += 1
          continue
        }
        guard matched, s[si] != slash else { return false }
        pi = after
        si += 1
        continue
      } else if c == 0x5C, pi + 1 < p.count {
        pi += 1
        guard s[si] == p[pi] else { return false }
      } else {
        guard s[si] == c else { return false }
      }
      pi += 1
      si += 1
    }
    return si == s.count
  }

  /// Matches a bracket expression at `p[start]` (`[`) against one byte; nil when it is not a well-formed one.
  static func matchClass(_ p: [UInt8], _ start: Int, _ b: UInt8) -> (Bool, Int)? {
    var i = start + 1
    var negate = false
    if i < p.count, p[i] == UInt8(ascii: "!") || p[i] == UInt8(ascii: "^") {
      negate = true
      i += 1
    }
    var matched = false
    var first = true
    while i < p.count {
      if p[i] == UInt8(ascii: "]"), !first { return (matched != negate, i + 1) }
      first = false
      var lo = p[i]
      if lo == 0x5C, i + 1 < p.count {
        i += 1
        lo = p[i]
      }
      if i + 2 < p.count, p[i + 1] == UInt8(ascii: "-"), p[i + 2] != UInt8(ascii: "]") {
        let hi = p[i + 2]
        if b >= lo && b <= hi { matched = true }
        i += 3
      } else {
        if b == lo { matched = true }
        i += 1
      }
    }
    return nil
  }
}

/// Accepted findings: a baseline file lists keyed fingerprints, each for one path or for every path.
///
/// Format (written by `coffer scan --write-baseline`): UTF-8 lines; `#` starts a comment line; each other line is
/// `FINGERPRINT` (accepted everywhere) or `FINGERPRINT<TAB>PATH[<TAB>anything]`, where FINGERPRINT is 64
/// lowercase hex digits and PATH is the path as findings report it.
package struct Baseline: Sendable {
  var everywhere: Set<String> = []
  var atPath: Set<String> = []

  /// An empty baseline.
  package init() {}

  /// Parses a baseline file.
  /// - Parameters:
  ///   - bytes: the file's contents.
  ///   - file: its name, for errors.
  /// - Throws: ``ScanError`` naming the line when a line does not start with a 64-digit lowercase hex fingerprint.
  package init(parsing bytes: [UInt8], file: String) throws(ScanError) {
    for (n, raw) in bytes.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
      var line = Array(raw)
      if line.last == 0x0D { line.removeLast() }
      guard !line.isEmpty, line[0] != UInt8(ascii: "#") else { continue }
      let fields = line.split(separator: 0x09, omittingEmptySubsequences: false)
      let fingerprint = Array(fields[0])
      guard fingerprint.count == 64, fingerprint.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) })
      else {
        throw ScanError(file: file, line: n + 1, reason: "expected a 64-digit lowercase hex fingerprint, then an optional tab and path")
      }
      let fp = String(decoding: fingerprint, as: UTF8.self)
      if fields.count >= 2, !fields[1].isEmpty {
        atPath.insert(fp + "\t" + String(decoding: fields[1], as: UTF8.self))
      } else {
        everywhere.insert(fp)
      }
    }
  }

  /// Whether a finding with this fingerprint at this path is accepted.
  package func accepts(fingerprint: String, path: String) -> Bool {
    everywhere.contains(fingerprint) || atPath.contains(fingerprint + "\t" + path)
  }

  /// The baseline file that accepts exactly these findings.
  /// - Parameter entries: (fingerprint, path, rule, label) for each finding; label is a comment (e.g. the name).
  package static func render(_ entries: [(fingerprint: String, path: String, rule: String, label: String)]) -> [UInt8] {
    var text = "# coffer scan baseline: accepted findings, one per line: fingerprint<TAB>path<TAB>rule<TAB>what\n"
    var seen = Set<String>()
    for e in entries {
      let line = "\(e.fingerprint)\t\(e.path)\t\(e.rule)\t\(e.label)\n"
      if seen.insert(line).inserted { text += line }
    }
    return Array(text.utf8)
  }
}
