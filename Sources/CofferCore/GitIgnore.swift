/// gitignore patterns, matched exactly as git matches them.
///
/// The rules are those of gitignore(5) (https://git-scm.com/docs/gitignore) as implemented by git's `dir.c`
/// (`add_patterns_from_buffer`, `parse_path_pattern`, `match_basename`, `match_pathname`) and `wildmatch.c`:
///
/// - A file is split at LF; a CR before the LF is dropped; one leading UTF-8 byte order mark is skipped. Blank lines
///   and lines starting with `#` are skipped; `\#` is a literal `#`.
/// - Trailing spaces are removed unless escaped with a backslash (`\ `).
/// - A leading `!` negates the pattern (`\!` is a literal `!`).
/// - One trailing `/` makes the pattern match directories only, and is then removed.
/// - A pattern with no `/` left is matched against the last component of the path, at any depth. Otherwise it is
///   matched against the path relative to the directory holding the file that declared it (a leading `/` only
///   anchors it).
/// - `*` matches any run of bytes except `/`, `?` one byte except `/`, `[…]` one byte from a set (ranges `a-z`,
///   negation with `!` or `^`, POSIX classes `[:alpha:]` and the like, ASCII only, never `/`), `\x` the byte `x`.
///   `**` is special only as a whole path component: `**/x` (any depth, including none), `x/**` (everything
///   inside), `x/**/y` (zero or more directories); elsewhere it is `*`. An unterminated `[` never matches.
/// - Matching is byte-wise and case-sensitive (git's default on Linux, `core.ignorecase=false`).
///
/// Everything here is pure: bytes in, verdicts out. ``GitIgnoreRules`` combines the files that apply to a path with
/// git's precedence.
public struct GitIgnorePattern: Sendable, Hashable {
  /// The pattern's text as written in the file (after removing the line ending and unescaped trailing spaces).
  public let source: String
  /// The 1-based line in the file that declared it.
  public let line: Int
  /// Whether the pattern starts with `!`: a match re-includes the path.
  public let isNegated: Bool
  /// Whether the pattern ended with `/`: it matches directories only.
  public let isDirectoryOnly: Bool
  /// Whether the pattern is matched against the last path component only (it has no `/` besides a trailing one).
  public let matchesBasename: Bool
  /// The glob itself: without `!`, without the trailing `/`.
  private let glob: [UInt8]
  /// The length of the literal prefix of ``glob`` (bytes before the first `*`, `?`, `[` or `\`).
  private let literalPrefix: Int

  /// Parses one line of a gitignore file.
  /// - Parameters:
  ///   - line: the line's bytes without its LF (a final CR is dropped here).
  ///   - number: the 1-based line number, kept for reports.
  /// - Returns: the pattern, or `nil` for a blank or comment line.
  public init?(line bytes: some Collection<UInt8>, number: Int) {
    var text = Array(bytes)
    if text.last == 0x0D { text.removeLast() }
    if text.isEmpty || text[0] == 0x23 { return nil }
    GitIgnorePattern.trimTrailingSpaces(&text)
    source = String(decoding: text, as: UTF8.self)
    line = number
    var start = 0
    isNegated = text.first == 0x21
    if isNegated { start = 1 }
    var end = text.count
    isDirectoryOnly = end > start && text[end - 1] == 0x2F
    if isDirectoryOnly { end -= 1 }
    glob = Array(text[start..<end])
    matchesBasename = !glob.contains(0x2F)
    literalPrefix = min(glob.firstIndex(where: Wildmatch.isSpecial) ?? glob.count, glob.count)
  }

  /// Whether this pattern matches a path (ignoring negation: a negated pattern that matches returns `true`).
  /// - Parameters:
  ///   - path: the path relative to the repository root, `/`-separated, without a leading or trailing `/`.
  ///   - base: the directory of the file that declared the pattern, relative to the same root, without a trailing
  ///     `/` (empty for the root).
  ///   - isDirectory: whether the path names a directory (directory-only patterns match nothing else).
  /// - Returns: whether the pattern matches.
  /// - Complexity: usually linear in the path; patterns with several `*` can backtrack as git's do.
  public func matches(_ path: [UInt8], base: [UInt8], isDirectory: Bool) -> Bool {
    if isDirectoryOnly && !isDirectory { return false }
    return path.withUnsafeBufferPointer { pathBuffer in
      glob.withUnsafeBufferPointer { globBuffer in
        if matchesBasename {
          var start = pathBuffer.count
          while start > 0 && pathBuffer[start - 1] != 0x2F { start -= 1 }
          return matchBasename(globBuffer, UnsafeBufferPointer(rebasing: pathBuffer[start...]))
        }
        return base.withUnsafeBufferPointer { matchPathname(globBuffer, pathBuffer, base: $0) }
      }
    }
  }

  /// `match_basename`: the whole glob against the last component, without pathname semantics (there is no `/`).
  private func matchBasename(_ glob: UnsafeBufferPointer<UInt8>, _ name: UnsafeBufferPointer<UInt8>) -> Bool {
    if literalPrefix == glob.count { return name.elementsEqual(glob) }
    return Wildmatch.match(glob, name, pathname: false)
  }

  /// `match_pathname`: the glob, anchored at `base`, against the rest of the path, with pathname semantics. Like
  /// git, the literal prefix is compared first and the remaining glob matched on its own (so `**` right after the
  /// prefix counts as a whole component).
  private func matchPathname(
    _ glob: UnsafeBufferPointer<UInt8>, _ path: UnsafeBufferPointer<UInt8>, base: UnsafeBufferPointer<UInt8>
  ) -> Bool {
    var pattern = glob[...]
    var prefix = literalPrefix
    if pattern.first == 0x2F {
      pattern = pattern.dropFirst()
      prefix -= 1
    }
    var name = path[...]
    if !base.isEmpty {
      guard path.count >= base.count + 1, path.starts(with: base), path[base.count] == 0x2F else { return false }
      name = path.dropFirst(base.count + 1)
    }
    if prefix > 0 {
      if prefix > name.count { return false }
      guard name.prefix(prefix).elementsEqual(pattern.prefix(prefix)) else { return false }
      pattern = pattern.dropFirst(prefix)
      name = name.dropFirst(prefix)
      if pattern.isEmpty && name.isEmpty { return true }
    }
    return Wildmatch.match(UnsafeBufferPointer(rebasing: pattern), UnsafeBufferPointer(rebasing: name), pathname: true)
  }

  /// git's `trim_trailing_spaces`: drop the run of trailing spaces unless the first of them is escaped.
  static func trimTrailingSpaces(_ text: inout [UInt8]) {
    var lastSpace: Int? = nil
    var i = 0
    while i < text.count {
      switch text[i] {
      case 0x20:
        if lastSpace == nil { lastSpace = i }
      case 0x5C:
        i += 1
        if i >= text.count { return }
        lastSpace = nil
      default:
        lastSpace = nil
      }
      i += 1
    }
    if let lastSpace { text.removeSubrange(lastSpace...) }
  }
}

/// One parsed gitignore file (a `.gitignore`, or `.git/info/exclude`) and the directory it applies to.
public struct GitIgnoreFile: Sendable, Hashable {
  /// The directory holding the file, relative to the repository root, without a trailing `/` (empty for the root
  /// and for `.git/info/exclude`).
  public let base: String
  /// The file's name for reports, such as `src/.gitignore`.
  public let source: String
  /// The patterns, in file order.
  public let patterns: [GitIgnorePattern]
  private let baseBytes: [UInt8]

  /// Parses a gitignore file.
  /// - Parameters:
  ///   - bytes: the file's contents.
  ///   - base: the directory it applies to, relative to the repository root, without a trailing `/`.
  ///   - source: the file's name for reports.
  public init(_ bytes: [UInt8], base: String, source: String) {
    self.base = base
    self.source = source
    self.baseBytes = Array(base.utf8)
    var body = bytes[...]
    if body.starts(with: [0xEF, 0xBB, 0xBF]) { body = body.dropFirst(3) }
    var patterns: [GitIgnorePattern] = []
    var number = 1
    var start = body.startIndex
    var i = body.startIndex
    while i <= body.endIndex {
      if i == body.endIndex || body[i] == 0x0A {
        if let pattern = GitIgnorePattern(line: body[start..<i], number: number) { patterns.append(pattern) }
        number += 1
        start = i + 1
      }
      i += 1
    }
    self.patterns = patterns
  }

  /// The last pattern of this file that matches the path (git: the last match wins), if any.
  /// - Parameters:
  ///   - path: relative to the repository root, without leading or trailing `/`.
  ///   - isDirectory: whether the path is a directory.
  /// - Returns: the deciding pattern (negated or not), or `nil` when none matches.
  public func lastMatch(_ path: [UInt8], isDirectory: Bool) -> GitIgnorePattern? {
    if !baseBytes.isEmpty {
      guard path.count > baseBytes.count, path.starts(with: baseBytes), path[baseBytes.count] == 0x2F else {
        return nil
      }
    }
    for pattern in patterns.reversed() where pattern.matches(path, base: baseBytes, isDirectory: isDirectory) {
      return pattern
    }
    return nil
  }
}

/// What the gitignore rules say about one path.
public struct GitIgnoreVerdict: Sendable, Hashable {
  /// Whether the path is ignored.
  public let isIgnored: Bool
  /// The file and pattern that decided, or `nil` when no pattern matched (not ignored).
  public let file: String?
  /// The deciding pattern.
  public let pattern: GitIgnorePattern?
}

/// The gitignore files that apply at one point of a walk, with git's precedence: the `.gitignore` of the deepest
/// directory first, up to the root's, then `.git/info/exclude`; within one file the last matching pattern wins;
/// the first file with a match decides, and a negated match means "not ignored".
///
/// The rules see one path at a time: a path inside an ignored directory is not ignored by these rules alone unless
/// a pattern matches it too. A walker never enters an ignored directory (git cannot re-include a file whose parent
/// directory is excluded); ``isIgnoredWithAncestors(_:isDirectory:)`` gives that full answer for a single path.
public struct GitIgnoreRules: Sendable {
  /// `.gitignore` files from the root down, one per directory at most.
  public private(set) var files: [GitIgnoreFile]
  /// Lowest-precedence files, such as `.git/info/exclude`.
  public private(set) var excludes: [GitIgnoreFile]

  /// Creates rules.
  /// - Parameters:
  ///   - files: `.gitignore` files, ordered from the root down (deeper ones take precedence).
  ///   - excludes: `.git/info/exclude` and the like, consulted last.
  public init(files: [GitIgnoreFile] = [], excludes: [GitIgnoreFile] = []) {
    self.files = files
    self.excludes = excludes
  }

  /// Adds a deeper `.gitignore` (used while walking into a directory).
  /// - Parameter file: the file; its ``GitIgnoreFile/base`` must be inside the bases already pushed.
  public mutating func push(_ file: GitIgnoreFile) { files.append(file) }

  /// The verdict for one path, not considering its parent directories.
  /// - Parameters:
  ///   - path: relative to the repository root, `/`-separated, no leading or trailing `/`.
  ///   - isDirectory: whether it is a directory.
  /// - Returns: whether it is ignored, and which pattern decided.
  public func verdict(_ path: String, isDirectory: Bool) -> GitIgnoreVerdict {
    let bytes = Array(path.utf8)
    for file in files.reversed() {
      if let pattern = file.lastMatch(bytes, isDirectory: isDirectory) {
        return GitIgnoreVerdict(isIgnored: !pattern.isNegated, file: file.source, pattern: pattern)
      }
    }
    for file in excludes.reversed() {
      if let pattern = file.lastMatch(bytes, isDirectory: isDirectory) {
        return GitIgnoreVerdict(isIgnored: !pattern.isNegated, file: file.source, pattern: pattern)
      }
    }
    return GitIgnoreVerdict(isIgnored: false, file: nil, pattern: nil)
  }

  /// Whether a path is ignored: by itself, or because one of its parent directories is (as git decides, since a
  /// file in an excluded directory cannot be re-included). Every file the rules hold is consulted for each
  /// component, respecting each file's ``GitIgnoreFile/base``.
  /// - Parameters:
  ///   - path: relative to the repository root.
  ///   - isDirectory: whether the path itself is a directory.
  /// - Returns: `true` when git would ignore it.
  public func isIgnoredWithAncestors(_ path: String, isDirectory: Bool) -> Bool {
    let parts = path.split(separator: "/")
    var prefix = ""
    for (index, part) in parts.enumerated() {
      prefix = prefix.isEmpty ? String(part) : prefix + "/" + part
      let last = index == parts.count - 1
      if verdict(prefix, isDirectory: last ? isDirectory : true).isIgnored { return true }
    }
    return false
  }
}

/// git's `wildmatch` (wildmatch.c, public domain, by Rich Salz, extended by Wayne Davison), byte for byte.
enum Wildmatch {
  private enum Outcome { case match, noMatch, abortAll, abortToStarStar }

  /// Whether a byte is `*`, `?`, `[` or `\` (git's `is_glob_special`).
  static func isSpecial(_ byte: UInt8) -> Bool { byte == 0x2A || byte == 0x3F || byte == 0x5B || byte == 0x5C }

  /// Matches a whole text against a glob.
  /// - Parameters:
  ///   - pattern: the glob.
  ///   - text: the text.
  ///   - pathname: git's `WM_PATHNAME`: `*`, `?` and sets do not match `/`, and `**` components are special.
  static func match(_ pattern: UnsafeBufferPointer<UInt8>, _ text: UnsafeBufferPointer<UInt8>, pathname: Bool) -> Bool {
    dowild(pattern, 0, text, 0, pathname: pathname) == .match
  }

  // swiftlint:disable:next cyclomatic_complexity function_body_length
  private static func dowild(
    _ pat: UnsafeBufferPointer<UInt8>, _ pStart: Int, _ text: UnsafeBufferPointer<UInt8>, _ tStart: Int,
    pathname: Bool
  ) -> Outcome {
    // Reads past the end give 0, as in C strings.
    @inline(__always) func P(_ i: Int) -> UInt8 { i < pat.count ? pat[i] : 0 }
    @inline(__always) func T(_ i: Int) -> UInt8 { i < text.count ? text[i] : 0 }
    var p = pStart
    var t = tStart
    while p < pat.count {
      var pCh = pat[p]
      var tCh = T(t)
      if t >= text.count && pCh != 0x2A { return .abortAll }
      switch pCh {
      case 0x5C:  // backslash: the next byte literally
        p += 1
        pCh = P(p)
        if tCh != pCh || p >= pat.count { return .noMatch }
      case 0x3F:  // ?
        if pathname && tCh == 0x2F { return .noMatch }
      case 0x2A:  // *
        var matchSlash: Bool
        p += 1
        if P(p) == 0x2A {
          let prev = p - 2
          while P(p + 1) == 0x2A { p += 1 }
          p += 1
          if (prev < 0 || pat[prev] == 0x2F)
            && (p >= pat.count || pat[p] == 0x2F || (pat[p] == 0x5C && P(p + 1) == 0x2F))
          {
            if p < pat.count && pat[p] == 0x2F && dowild(pat, p + 1, text, t, pathname: pathname) == .match {
              return .match
            }
            matchSlash = true
          } else {
            matchSlash = !pathname
          }
        } else {
          matchSlash = !pathname
        }
        if p >= pat.count {
          if !matchSlash {
            var i = t
            while i < text.count {
              if text[i] == 0x2F { return .noMatch }
              i += 1
            }
          }
          return .match
        } else if !matchSlash && pat[p] == 0x2F {
          var i = t
          while i < text.count && text[i] != 0x2F { i += 1 }
          if i >= text.count { return .noMatch }
          t = i
          // The slash is consumed by the loop's advance below.
          t += 1
          p += 1
          continue
        }
        while true {
          if t >= text.count { break }
          if !isSpecial(pat[p]) {
            let want = pat[p]
            while t < text.count, matchSlash || text[t] != 0x2F {
              if text[t] == want { break }
              t += 1
            }
            tCh = T(t)
            if t >= text.count || tCh != want { return .noMatch }
          }
          let matched = dowild(pat, p, text, t, pathname: pathname)
          if matched != .noMatch {
            if !matchSlash || matched != .abortToStarStar { return matched }
          } else if !matchSlash && tCh == 0x2F {
            return .abortToStarStar
          }
          t += 1
          tCh = T(t)
        }
        return .abortAll
      case 0x5B:  // [
        p += 1
        pCh = P(p)
        if pCh == 0x5E { pCh = 0x21 }
        let negated = pCh == 0x21
        if negated {
          p += 1
          pCh = P(p)
        }
        var prevCh: UInt8 = 0
        var matched = false
        while true {
          if p >= pat.count { return .abortAll }
          if pCh == 0x5C {
            p += 1
            if p >= pat.count { return .abortAll }
            pCh = pat[p]
            if tCh == pCh { matched = true }
          } else if pCh == 0x2D && prevCh != 0 && p + 1 < pat.count && pat[p + 1] != 0x5D {
            p += 1
            pCh = pat[p]
            if pCh == 0x5C {
              p += 1
              if p >= pat.count { return .abortAll }
              pCh = pat[p]
            }
            if tCh <= pCh && tCh >= prevCh { matched = true }
            pCh = 0
          } else if pCh == 0x5B && P(p + 1) == 0x3A {
            p += 2
            let s = p
            while p < pat.count && pat[p] != 0x5D { p += 1 }
            if p >= pat.count { return .abortAll }
            let length = p - s - 1
            if length < 0 || pat[p - 1] != 0x3A {
              // Not "[:class:]": take the '[' literally and go on after it.
              p = s - 2
              pCh = 0x5B
              if tCh == pCh { matched = true }
            } else {
              let name = String(decoding: UnsafeBufferPointer(rebasing: pat[s..<(s + length)]), as: UTF8.self)
              guard let inClass = characterClass(name, tCh) else { return .abortAll }
              if inClass { matched = true }
              pCh = 0
            }
          } else if tCh == pCh {
            matched = true
          }
          prevCh = pCh
          p += 1
          pCh = P(p)
          if p < pat.count && pCh == 0x5D { break }
        }
        if matched == negated || (pathname && tCh == 0x2F) { return .noMatch }
      default:
        if tCh != pCh { return .noMatch }
      }
      p += 1
      t += 1
    }
    return t < text.count ? .noMatch : .match
  }

  /// git's ASCII-only `sane_ctype` classes; `nil` for an unknown class name.
  private static func characterClass(_ name: String, _ c: UInt8) -> Bool? {
    let upper = c >= 0x41 && c <= 0x5A
    let lower = c >= 0x61 && c <= 0x7A
    let digit = c >= 0x30 && c <= 0x39
    let space = c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D
    let print = c >= 0x20 && c <= 0x7E
    switch name {
    case "alnum": return upper || lower || digit
    case "alpha": return upper || lower
    case "blank": return c == 0x20 || c == 0x09
    case "cntrl": return c < 0x20 || c == 0x7F
    case "digit": return digit
    case "graph": return print && c != 0x20
    case "lower": return lower
    case "print": return print
    case "punct": return print && !upper && !lower && !digit && c != 0x20
    case "space": return space
    case "upper": return upper
    case "xdigit": return digit || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)
    default: return nil
    }
  }
}
