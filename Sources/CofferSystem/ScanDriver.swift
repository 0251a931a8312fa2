import CofferCore
import CofferScan
import Dispatch
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// What a scan reads and how.
package struct ScanOptions: Sendable {
  /// Files (and blobs) larger than this many bytes are skipped and listed in the summary.
  package var maxFileSize: Int = 10 << 20
  /// How many files are scanned at once (default: the number of online processors).
  package var workers: Int = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
  /// The read buffer of each worker, in bytes.
  package var bufferSize: Int = 1 << 20
  /// Paths to leave out (`.cofferignore`).
  package var ignore = IgnoreRules()
  /// Progress of `--history` (blobs read), on stderr; nil for none.
  package var progress: ProgressReporter?

  /// The defaults.
  package init() {}
}

/// The findings in one file or blob.
package struct ScannedFile: Sendable {
  /// The path as reported: relative to the current directory when inside it, else absolute; for `--staged` and
  /// `--history`, relative to the repository's top level.
  package let path: String
  /// The commit that introduced the findings (`--history` only).
  package let commit: String?
  /// The findings, in order of offset.
  package let findings: [Finding]
}

/// Counts of what a scan read and left out.
package struct ScanSummary: Sendable {
  /// Files or blobs read and scanned.
  package var scanned = 0
  /// Bytes scanned.
  package var bytes = 0
  /// Commits walked (`--history`).
  package var commits = 0
  /// Skipped because a NUL byte is in their first 8 KiB.
  package var binary: [String] = []
  /// Skipped because they are larger than ``ScanOptions/maxFileSize``.
  package var oversized: [String] = []
  /// Left out by `.cofferignore`.
  package var ignored = 0
  /// Could not be read (with the reason).
  package var unreadable: [String] = []

  mutating func merge(_ other: ScanSummary) {
    scanned += other.scanned
    bytes += other.bytes
    binary += other.binary
    oversized += other.oversized
    ignored += other.ignored
    unreadable += other.unreadable
  }
}

/// The I/O side of `coffer scan`: which files, how they are read, and git's plumbing for the index and history.
package enum ScanDriver {
  /// A file to scan: the path to report and the path to open.
  package struct Target: Sendable {
    /// The path findings report.
    package let display: String
    /// The path to open.
    package let path: String
    /// The path `.cofferignore` patterns are matched against (relative to the directory holding it), or nil for a
    /// file named explicitly on the command line (never ignored).
    package let ignorePath: String?
  }

  // MARK: - Working tree

  /// The files under the given paths: through `git ls-files` (tracked and untracked, not ignored, exactly as git
  /// decides) inside a git work tree, else by walking the directory (skipping `.git`). Symbolic links and other
  /// non-regular files found there are left out. A path named on the command line is scanned as given, through a
  /// symbolic link, and may be a pipe or character device (`/dev/stdin`, `<(…)`), read to its end.
  /// - Parameter roots: files, pipes or directories.
  /// - Returns: the files, and where the `.cofferignore` that applies to each root lives.
  /// - Throws: ``SystemError`` when a root does not exist, is another kind of file (a socket), or git fails.
  package static func workingTreeFiles(_ roots: [String]) throws -> [Target] {
    var out: [Target] = []
    let cwd = Paths.currentDirectory()
    for root in roots {
      var st = stat()
      guard stat(root, &st) == 0 else { throw SystemError.errno("cannot scan", path: root) }
      switch st.st_mode & S_IFMT {
      case S_IFREG, S_IFIFO, S_IFCHR:
        out.append(Target(display: display(Paths.absolute(root), cwd: cwd), path: root, ignorePath: nil))
        continue
      case S_IFDIR: break
      default: throw SystemError("cannot scan", path: root, reason: "not a file, pipe or directory")
      }
      let start = out.count
      if let top = try Git.topLevel(of: root) {
        let listed = try Git.output(["-C", root, "ls-files", "-z", "--full-name", "--cached", "--others", "--exclude-standard"], what: "list files")
        for rel in listed.split(separator: 0, omittingEmptySubsequences: true) {
          let relative = String(decoding: rel, as: UTF8.self)
          // Deleted files, symlinks and submodules are dropped when opened (O_NOFOLLOW, fstat).
          let absolute = Paths.join(top, relative)
          out.append(Target(display: display(absolute, cwd: cwd), path: absolute, ignorePath: relative))
        }
        // --cached lists come before --others: report in one path order.
        out[start...].sort { $0.display.utf8.lexicographicallyPrecedes($1.display.utf8) }
      } else {
        let base = Paths.absolute(root)
        walk(base, relative: "") { relative in
          let absolute = Paths.join(base, relative)
          out.append(Target(display: display(absolute, cwd: cwd), path: absolute, ignorePath: relative))
        }
      }
    }
    return out
  }

  /// Where `.cofferignore` is read from for a scan root: the git top level, else the directory itself.
  package static func ignoreRoot(for root: String) throws -> String {
    if let top = try Git.topLevel(of: Files.isDirectory(root) ? root : Paths.parent(root)) { return top }
    return Paths.absolute(Files.isDirectory(root) ? root : Paths.parent(root))
  }

  static func walk(_ base: String, relative: String, _ body: (String) -> Void) {
    let dir = relative.isEmpty ? base : Paths.join(base, relative)
    for name in Files.list(dir) where name != ".git" {
      let rel = relative.isEmpty ? name : relative + "/" + name
      var st = stat()
      guard lstat(Paths.join(base, rel), &st) == 0 else { continue }
      switch st.st_mode & S_IFMT {
      case S_IFDIR: walk(base, relative: rel, body)
      case S_IFREG: body(rel)
      default: continue
      }
    }
  }

  /// A path for reports: relative to the current directory when inside it.
  static func display(_ absolute: String, cwd: String) -> String {
    if absolute.hasPrefix(cwd), absolute.utf8.count > cwd.utf8.count,
      absolute.utf8[absolute.utf8.index(absolute.utf8.startIndex, offsetBy: cwd.utf8.count)] == UInt8(ascii: "/")
    {
      return String(decoding: absolute.utf8.dropFirst(cwd.utf8.count + 1), as: UTF8.self)
    }
    return absolute
  }

  /// Scans files in parallel, each streamed through a fixed buffer.
  /// - Parameters:
  ///   - targets: the files.
  ///   - scanner: the compiled patterns.
  ///   - options: sizes, workers, ignore rules.
  /// - Returns: the files with findings (in the order given) and the summary.
  package static func scan(_ targets: [Target], scanner: Scanner, options: ScanOptions) -> ([ScannedFile], ScanSummary) {
    struct Shared {
      var next = 0
      var results: [(Int, ScannedFile)] = []
      var summary = ScanSummary()
    }
    let shared = Mutex(Shared())
    let batch = 16
    DispatchQueue.concurrentPerform(iterations: max(1, min(options.workers, targets.count))) { _ in
      let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: options.bufferSize, alignment: 16)
      defer { buffer.deallocate() }
      var local: [(Int, ScannedFile)] = []
      var summary = ScanSummary()
      while true {
        let start = shared.withLock { s -> Int in
          let i = s.next
          s.next += batch
          return i
        }
        guard start < targets.count else { break }
        for i in start..<min(targets.count, start + batch) {
          let t = targets[i]
          if let ignorePath = t.ignorePath, options.ignore.ignores(ignorePath) {
            summary.ignored += 1
            continue
          }
          let findings = scanFile(t, scanner: scanner, buffer: buffer, maxSize: options.maxFileSize, summary: &summary)
          if !findings.isEmpty { local.append((i, ScannedFile(path: t.display, commit: nil, findings: findings))) }
        }
      }
      shared.withLock {
        $0.results += local
        $0.summary.merge(summary)
      }
    }
    return shared.withLock { s in (s.results.sorted { $0.0 < $1.0 }.map(\.1), s.summary) }
  }

  static func scanFile(
    _ t: Target, scanner: Scanner, buffer: UnsafeMutableRawBufferPointer, maxSize: Int, summary: inout ScanSummary
  ) -> [Finding] {
    // A path named on the command line (no ignore path) is followed and may be a pipe; listed paths never are.
    let named = t.ignorePath == nil
    let fd = open(t.path, named ? O_RDONLY | O_CLOEXEC : O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
    guard fd >= 0 else {
      // Gone since it was listed, or a symbolic link: nothing to scan.
      if named || (errno != ENOENT && errno != ELOOP) {
        summary.unreadable.append("\(t.display): \(String(cString: strerror(errno)))")
      }
      return []
    }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0 else { return [] }
    let kind = st.st_mode & S_IFMT
    // A regular file is read up to its size; a pipe or character device named on the command line to its end.
    let size: Int?
    switch kind {
    case S_IFREG: size = Int(st.st_size)
    case S_IFIFO where named, S_IFCHR where named: size = nil
    default: return []
    }
    if let size, size > maxSize {
      summary.oversized.append(t.display)
      return []
    }
    var stream = scanner.makeStream()
    var total = 0
    while size.map({ total < $0 }) ?? true {
      let n = read(fd, buffer.baseAddress, size.map { min(buffer.count, $0 - total) } ?? buffer.count)
      if n < 0 {
        if errno == EINTR { continue }
        summary.unreadable.append("\(t.display): \(String(cString: strerror(errno)))")
        return []
      }
      if n == 0 { break }
      let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
      if total == 0, isBinary(chunk) {
        summary.binary.append(t.display)
        return []
      }
      total += n
      if size == nil, total > maxSize {
        summary.oversized.append(t.display)
        return []
      }
      stream.feed(chunk, isFinal: size.map { total >= $0 } ?? false)
    }
    summary.scanned += 1
    summary.bytes += total
    return stream.finish()
  }

  /// Whether the first 8 KiB hold a NUL byte (git's own test for binary content).
  static func isBinary(_ chunk: UnsafeRawBufferPointer) -> Bool {
    guard let base = chunk.baseAddress else { return false }
    return memchr(base, 0, min(chunk.count, 8192)) != nil
  }

  // MARK: - Git: the index and the history

  /// Scans the staged contents (the index) of every file added, copied, modified, renamed or retyped in it.
  /// - Parameters:
  ///   - repository: a directory inside the work tree; pathspecs are relative to it.
  ///   - paths: limit to these pathspecs (empty: everything).
  ///   - scanner: the patterns.
  ///   - options: sizes, workers, ignore rules.
  /// - Returns: the files with findings (paths relative to the top level) and the summary.
  /// - Throws: ``SystemError`` when this is not a git work tree or git fails.
  package static func scanStaged(_ repository: String, paths: [String], scanner: Scanner, options: ScanOptions) throws -> ([ScannedFile], ScanSummary) {
    guard let top = try Git.topLevel(of: repository) else {
      throw SystemError("cannot scan staged changes in", path: repository, reason: "not inside a git work tree")
    }
    let raw = try Git.output(
      ["-C", repository, "diff", "--cached", "--raw", "-z", "--no-abbrev", "--no-renames", "--diff-filter=ACMRT"]
        + (paths.isEmpty ? [] : ["--"] + paths), what: "list staged files")
    var summary = ScanSummary()
    var blobs: [(sha: String, path: String)] = []
    for change in Git.parseRaw(raw) where change.isBlob {
      if options.ignore.ignores(change.path) {
        summary.ignored += 1
        continue
      }
      blobs.append((change.new, change.path))
    }
    let scanned = try scanBlobs(Array(Set(blobs.map(\.sha))).sorted(), in: top, scanner: scanner, options: options, summary: &summary, labels: Dictionary(blobs.map { ($0.sha, $0.path) }) { a, _ in a })
    let files = blobs.compactMap { b -> ScannedFile? in
      guard let f = scanned[b.sha], !f.isEmpty else { return nil }
      return ScannedFile(path: b.path, commit: nil, findings: f)
    }
    return (files.sorted { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }, summary)
  }

  /// Scans every blob reachable from any ref and reports each finding at the first commit (in topological order,
  /// oldest first) whose change to a path adds it: present in the new blob, absent from the old one, and not
  /// reported for that path before.
  /// - Parameters:
  ///   - repository: a directory inside the work tree (or a bare repository).
  ///   - paths: limit to these pathspecs (empty: everything).
  ///   - scanner: the patterns.
  ///   - options: sizes, workers, ignore rules.
  /// - Returns: one entry per (commit, path) with the findings it introduced, in history order, and the summary.
  /// - Throws: ``SystemError`` when this is not a git repository or git fails.
  package static func scanHistory(
    _ repository: String, paths: [String], scanner: Scanner, options: ScanOptions
  ) throws -> ([ScannedFile], ScanSummary) {
    guard let top = try Git.topLevel(of: repository) else {
      throw SystemError("cannot scan the history of", path: repository, reason: "not inside a git work tree")
    }
    // One pass over the commit graph: the blob changes of every commit, oldest first, merges against each parent.
    var args = ["-C", repository, "log", "--all", "--topo-order", "--reverse", "--no-renames", "--root", "-m", "--raw", "-z",
                "--no-abbrev", "--no-color", "--format=%x01%H"]
    if !paths.isEmpty { args += ["--"] + paths }
    let log = try Git.output(args, what: "walk the history")
    var commits: [(sha: String, changes: [Git.Change])] = []
    var current: (sha: String, changes: [Git.Change])?
    var i = 0
    let bytes = log
    while i < bytes.count {
      if bytes[i] == 0x01 {
        if let c = current { commits.append(c) }
        var j = i + 1
        while j < bytes.count, Encodings.isHexDigit(bytes[j]) { j += 1 }
        current = (String(decoding: bytes[(i + 1)..<j], as: UTF8.self), [])
        i = j
        continue
      }
      if bytes[i] == UInt8(ascii: ":") {
        let metaEnd = bytes[i...].firstIndex(of: 0) ?? bytes.count
        let pathEnd = bytes[min(metaEnd + 1, bytes.count)...].firstIndex(of: 0) ?? bytes.count
        if let change = Git.Change(meta: bytes[i..<metaEnd], path: bytes[min(metaEnd + 1, bytes.count)..<pathEnd]) {
          current?.changes.append(change)
        }
        i = pathEnd + 1
        continue
      }
      i += 1
    }
    if let c = current { commits.append(c) }

    var summary = ScanSummary()
    summary.commits = Set(commits.map(\.sha)).count
    var wanted = Set<String>()
    var label: [String: String] = [:]
    for c in commits {
      for change in c.changes where change.isBlob && change.new != Git.nullSHA {
        if options.ignore.ignores(change.path) { continue }
        if wanted.insert(change.new).inserted { label[change.new] = change.path }
      }
    }
    let blobFindings = try scanBlobs(wanted.sorted(), in: top, scanner: scanner, options: options, summary: &summary, labels: label)

    func key(_ f: Finding) -> String { f.rule + "\u{0}" + f.fingerprint }
    var reported = Set<String>()
    var out: [ScannedFile] = []
    for c in commits {
      for change in c.changes where change.isBlob {
        guard let found = blobFindings[change.new], !found.isEmpty else { continue }
        let before = Set((blobFindings[change.old] ?? []).map(key))
        let introduced = found.filter { !before.contains(key($0)) && !reported.contains(key($0) + "\u{0}" + change.path) }
        guard !introduced.isEmpty else { continue }
        for f in introduced { reported.insert(key(f) + "\u{0}" + change.path) }
        out.append(ScannedFile(path: change.path, commit: c.sha, findings: introduced))
      }
    }
    return (out, summary)
  }

  /// Reads blobs through `git cat-file --batch` (object names on its stdin, from a temporary file; one process
  /// per worker) and scans each.
  static func scanBlobs(
    _ shas: [String], in top: String, scanner: Scanner, options: ScanOptions, summary: inout ScanSummary,
    labels: [String: String]
  ) throws -> [String: [Finding]] {
    guard !shas.isEmpty else { return [:] }
    options.progress?.setTotal(shas.count)
    let workers = max(1, min(options.workers, (shas.count + 63) / 64))
    struct Shared {
      var results: [String: [Finding]] = [:]
      var summary = ScanSummary()
      var failure: SystemError?
    }
    let shared = Mutex(Shared())
    DispatchQueue.concurrentPerform(iterations: workers) { w in
      let mine = stride(from: w, to: shas.count, by: workers).map { shas[$0] }
      var local: [String: [Finding]] = [:]
      var sum = ScanSummary()
      do {
        try Git.catBlobs(mine, in: top) { sha, size, reader in
          defer { options.progress?.advance() }
          let name = labels[sha] ?? sha
          guard size <= options.maxFileSize else {
            sum.oversized.append(name)
            try reader.skip(size)
            return
          }
          var stream = scanner.makeStream()
          var remaining = size
          var first = true
          while remaining > 0 {
            let chunk = try reader.next(max: remaining)
            if first, isBinary(chunk) {
              sum.binary.append(name)
              try reader.skip(remaining - chunk.count)
              return
            }
            first = false
            remaining -= chunk.count
            stream.feed(chunk, isFinal: remaining == 0)
          }
          sum.scanned += 1
          sum.bytes += size
          let found = stream.finish()
          if !found.isEmpty { local[sha] = found }
        }
      } catch let e as SystemError {
        shared.withLock { $0.failure = e }
      } catch {
        shared.withLock { $0.failure = SystemError("cannot read objects in", path: top, reason: "\(error)") }
      }
      shared.withLock {
        $0.results.merge(local) { a, _ in a }
        $0.summary.merge(sum)
      }
    }
    let result = shared.withLock { $0 }
    if let failure = result.failure { throw failure }
    summary.merge(result.summary)
    return result.results
  }
}

extension Encodings {
  static func isHexDigit(_ b: UInt8) -> Bool { (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x66) }
}
