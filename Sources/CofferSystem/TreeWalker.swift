import CofferCore
import Dispatch
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Lists the files of directory trees the way git sees them, and reads them in parallel: the shared front end of
/// `coffer discover` (and of any later scanner).
///
/// - **gitignore.** Every `.gitignore` from the enclosing repository's top (the nearest ancestor holding `.git`) down
///   to each directory walked applies, with git's precedence, and so does the repository's `.git/info/exclude`
///   (also for a linked worktree, whose `.git` is a file). Outside a repository, the `.gitignore` files from the
///   walked root down still apply. An ignored directory is not entered (git cannot re-include anything inside
///   one). Global excludes (`core.excludesFile`) are not read. Matching is ``GitIgnoreRules`` (CofferCore).
/// - **`.git/`** is never entered, whatever the rules say.
/// - **Symbolic links are never followed**, to files or directories, inside the tree: they are reported as
///   ``Skip/Reason/symlink``. A root named explicitly is resolved like any path the user types.
/// - **Binary files** (a NUL byte in the first 8 KiB) and **files over the size limit** are skipped when read, and
///   reported. Only regular files are read; they are opened with `O_NOFOLLOW`.
///
/// Listing is sequential and sorted (byte order of names, depth first); reading with ``read(_:maxSize:)`` is safe
/// from any thread, and ``readAll(_:maxSize:transform:)`` spreads it over every core with
/// `DispatchQueue.concurrentPerform`.
package struct TreeWalker: Sendable {
  /// A file the walk found.
  package struct File: Sendable, Hashable {
    /// The path to open and to show: the root as given joined with the path inside it (`src/app.py`, or
    /// `app.py` when the root is `.`).
    package let path: String
    /// The path relative to the walked root (`app.py` for a root given as a file).
    package let relativePath: String
  }

  /// Something the walk or a read left out, and why.
  package struct Skip: Sendable, Hashable {
    /// Why a path was left out.
    package enum Reason: Sendable, Hashable {
      /// A symbolic link (never followed).
      case symlink
      /// A NUL byte in the first 8 KiB.
      case binary
      /// Larger than the limit; the size in bytes.
      case tooLarge(Int)
      /// Not a regular file or directory (a socket, a FIFO, a device).
      case special
      /// It could not be opened or read; the system's reason.
      case unreadable(String)
    }
    /// The path, as in ``File/path``.
    package let path: String
    /// Why.
    package let reason: Reason
  }

  /// What listing found.
  package struct Listing: Sendable {
    /// Files to read, sorted by path within each root, roots in the order given.
    package var files: [File] = []
    /// Paths left out while listing (symbolic links, special files, unreadable directories).
    package var skipped: [Skip] = []
    /// How many files and directories gitignore rules excluded (directories count once, not their contents).
    package var ignoredCount = 0
  }

  /// The outcome of reading one file.
  package enum Contents: Sendable {
    /// Text (no NUL in the first 8 KiB), the whole file.
    case text([UInt8])
    /// Left out, and why.
    case skipped(Skip.Reason)
  }

  /// The default size limit for `coffer discover`: 2 MiB.
  package static let defaultMaxFileSize = 2 * 1024 * 1024
  /// How many leading bytes are searched for a NUL to call a file binary (git and ripgrep use the same idea).
  package static let binaryProbeLength = 8192

  /// Whether gitignore files are honoured (default `true`).
  package var respectsGitIgnore: Bool

  /// Creates a walker.
  /// - Parameter respectsGitIgnore: `false` lists ignored files too (`.git/` and symbolic links stay out).
  package init(respectsGitIgnore: Bool = true) {
    self.respectsGitIgnore = respectsGitIgnore
  }

  /// Lists the files under each root.
  /// - Parameter roots: directories or files, as the user gave them (relative to the current directory or
  ///   absolute). A root that is a file is listed as it is (no gitignore check: it was asked for).
  /// - Returns: the files and what was left out.
  /// - Throws: ``SystemError`` (exit 2) when a root does not exist or is neither a directory nor a regular file.
  package func list(_ roots: [String]) throws(SystemError) -> Listing {
    var listing = Listing()
    for root in roots {
      var st = stat()
      guard stat(root, &st) == 0 else { throw SystemError.errno("cannot read", path: root) }
      let kind = st.st_mode & S_IFMT
      if kind == S_IFREG {
        listing.files.append(File(path: root, relativePath: Paths.lastComponent(root)))
        continue
      }
      guard kind == S_IFDIR else {
        throw SystemError("cannot read", path: root, reason: "not a directory or a regular file")
      }
      var context = Context(root: root, prefix: root == "." ? "" : (root.hasSuffix("/") ? root : root + "/"))
      var rules = GitIgnoreRules()
      var repoRelative = ""
      if respectsGitIgnore {
        (rules, repoRelative) = Self.enclosingRules(of: root)
      }
      walk(directory: "", repoRelative: repoRelative, rules: rules, context: &context)
      listing.files.append(contentsOf: context.files)
      listing.skipped.append(contentsOf: context.skipped)
      listing.ignoredCount += context.ignored
    }
    return listing
  }

  private struct Context {
    let root: String
    let prefix: String
    var files: [File] = []
    var skipped: [Skip] = []
    var ignored = 0
  }

  /// Walks one directory. `directory` is relative to the walked root; `repoRelative` is the same directory relative
  /// to the repository top (where gitignore paths are anchored).
  private func walk(directory: String, repoRelative: String, rules: GitIgnoreRules, context: inout Context) {
    let fsPath = directory.isEmpty ? context.root : context.prefix + directory
    var rules = rules
    if respectsGitIgnore {
      let ignoreFile = Paths.join(fsPath, ".gitignore")
      if Self.isRegularFile(ignoreFile), let bytes = try? Files.read(ignoreFile) {
        rules.push(GitIgnoreFile(bytes, base: repoRelative, source: context.prefix + Paths.join(directory, ".gitignore")))
      }
    }
    guard let entries = Self.entries(of: fsPath) else {
      context.skipped.append(Skip(path: directory.isEmpty ? context.root : context.prefix + directory, reason: .unreadable(String(cString: strerror(errno)))))
      return
    }
    for (name, type) in entries {
      if name == ".git" { continue }
      let relative = directory.isEmpty ? name : directory + "/" + name
      let inRepo = repoRelative.isEmpty ? name : repoRelative + "/" + name
      let shown = context.prefix + relative
      var kind = type
      if kind == DT_UNKNOWN {
        var st = stat()
        if lstat(shown.isEmpty ? name : shown, &st) != 0 { continue }
        switch st.st_mode & S_IFMT {
        case S_IFDIR: kind = UInt8(DT_DIR)
        case S_IFREG: kind = UInt8(DT_REG)
        case S_IFLNK: kind = UInt8(DT_LNK)
        default: kind = UInt8(DT_FIFO)
        }
      }
      switch Int32(kind) {
      case Int32(DT_LNK):
        context.skipped.append(Skip(path: shown, reason: .symlink))
      case Int32(DT_DIR):
        if respectsGitIgnore && rules.verdict(inRepo, isDirectory: true).isIgnored {
          context.ignored += 1
          continue
        }
        walk(directory: relative, repoRelative: inRepo, rules: rules, context: &context)
      case Int32(DT_REG):
        if respectsGitIgnore && rules.verdict(inRepo, isDirectory: false).isIgnored {
          context.ignored += 1
          continue
        }
        context.files.append(File(path: shown, relativePath: relative))
      default:
        context.skipped.append(Skip(path: shown, reason: .special))
      }
    }
  }

  /// Directory entries (name, `d_type`), sorted by name bytes, without `.` and `..`; `nil` if it cannot be opened.
  private static func entries(of path: String) -> [(String, UInt8)]? {
    guard let dir = opendir(path) else { return nil }
    defer { closedir(dir) }
    var out: [(String, UInt8)] = []
    while let entry = readdir(dir) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
      }
      if name == "." || name == ".." { continue }
      out.append((name, entry.pointee.d_type))
    }
    out.sort { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }
    return out
  }

  private static func isRegularFile(_ path: String) -> Bool {
    var st = stat()
    return lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
  }

  /// The rules that apply above a walked root, and the root's path relative to the repository top: the repository's
  /// `info/exclude` and every `.gitignore` from its top down to (not including) the root. Outside a repository, no
  /// rules and an empty path.
  static func enclosingRules(of root: String) -> (GitIgnoreRules, String) {
    let absolute = normalize(Paths.absolute(root))
    var dir = absolute
    var components: [String] = []
    while true {
      let dotGit = Paths.join(dir, ".git")
      if Files.exists(dotGit) {
        var rules = GitIgnoreRules(excludes: exclude(dotGit: dotGit))
        var base = ""
        var current = dir
        for component in components.reversed().dropLast() {
          let ignoreFile = Paths.join(current, ".gitignore")
          if isRegularFile(ignoreFile), let bytes = try? Files.read(ignoreFile) {
            rules.push(GitIgnoreFile(bytes, base: base, source: ignoreFile))
          }
          base = base.isEmpty ? component : base + "/" + component
          current = Paths.join(current, component)
        }
        if let last = components.first {
          let ignoreFile = Paths.join(current, ".gitignore")
          if isRegularFile(ignoreFile), let bytes = try? Files.read(ignoreFile) {
            rules.push(GitIgnoreFile(bytes, base: base, source: ignoreFile))
          }
          base = base.isEmpty ? last : base + "/" + last
        }
        return (rules, base)
      }
      let up = Paths.parent(dir)
      if up == dir { return (GitIgnoreRules(), "") }
      components.append(Paths.lastComponent(dir))
      dir = up
    }
  }

  /// `.git/info/exclude` of a repository (following a worktree's `gitdir:` file and its `commondir`).
  private static func exclude(dotGit: String) -> [GitIgnoreFile] {
    var gitDir = dotGit
    if isRegularFile(dotGit), let bytes = try? Files.read(dotGit) {
      let text = String(decoding: bytes, as: UTF8.self)
      guard text.hasPrefix("gitdir: ") else { return [] }
      let target = String(text.dropFirst(8).prefix { $0 != "\n" && $0 != "\r" })
      gitDir = target.hasPrefix("/") ? target : Paths.join(Paths.parent(dotGit), target)
      if let common = try? Files.read(Paths.join(gitDir, "commondir")) {
        let path = String(String(decoding: common, as: UTF8.self).prefix { $0 != "\n" && $0 != "\r" })
        gitDir = path.hasPrefix("/") ? path : Paths.join(gitDir, path)
      }
    }
    let path = Paths.join(gitDir, "info/exclude")
    guard let bytes = try? Files.read(path) else { return [] }
    return [GitIgnoreFile(bytes, base: "", source: path)]
  }

  /// Removes `.` components and resolves `..` lexically (no symlink resolution).
  static func normalize(_ path: String) -> String {
    var parts: [Substring] = []
    for part in path.split(separator: "/") {
      if part == "." || part.isEmpty { continue }
      if part == ".." {
        if !parts.isEmpty { parts.removeLast() }
        continue
      }
      parts.append(part)
    }
    return "/" + parts.joined(separator: "/")
  }

  /// Reads one file if it is a regular text file within the size limit.
  /// - Parameters:
  ///   - file: a file from ``list(_:)``.
  ///   - maxSize: the largest size read, in bytes.
  /// - Returns: the bytes, or why the file was left out. Never throws: failures are ``Skip/Reason/unreadable(_:)``.
  /// - Complexity: one `open`, one `fstat`, reads of the file; safe to call concurrently.
  package static func read(_ file: File, maxSize: Int) -> Contents {
    let fd = open(file.path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
    guard fd >= 0 else {
      if errno == ELOOP { return .skipped(.symlink) }
      return .skipped(.unreadable(String(cString: strerror(errno))))
    }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0 else { return .skipped(.unreadable(String(cString: strerror(errno)))) }
    guard (st.st_mode & S_IFMT) == S_IFREG else { return .skipped(.special) }
    let size = Int(st.st_size)
    if size > maxSize { return .skipped(.tooLarge(size)) }
    var bytes = [UInt8](repeating: 0, count: size)
    var filled = 0
    while filled < size {
      let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + filled, size - filled) }
      if n < 0 {
        if errno == EINTR || errno == EAGAIN { continue }
        return .skipped(.unreadable(String(cString: strerror(errno))))
      }
      if n == 0 { break }
      filled += n
    }
    if filled < size { bytes.removeSubrange(filled...) }
    if bytes.prefix(binaryProbeLength).contains(0) { return .skipped(.binary) }
    return .text(bytes)
  }

  /// Reads files on every core and transforms each text file.
  /// - Parameters:
  ///   - files: the files to read.
  ///   - maxSize: the largest size read, in bytes.
  ///   - transform: called once per text file with its bytes, from several threads at once.
  /// - Returns: one result per file, in the order of `files`: the transform's value, or why it was left out.
  package static func readAll<T: Sendable>(
    _ files: [File], maxSize: Int, transform: @Sendable (File, [UInt8]) -> T
  ) -> [Result<T, SkipError>] {
    let results = ResultSlots<T>(count: files.count)
    let workers = max(1, min(files.count, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))))
    DispatchQueue.concurrentPerform(iterations: workers) { _ in
      while true {
        let index = results.claim()
        if index >= files.count { return }
        let file = files[index]
        switch read(file, maxSize: maxSize) {
        case .text(let bytes): results.store(.success(transform(file, bytes)), at: index)
        case .skipped(let reason): results.store(.failure(SkipError(skip: Skip(path: file.path, reason: reason))), at: index)
        }
      }
    }
    return results.collect()
  }

  /// A file ``readAll(_:maxSize:transform:)`` left out, as an `Error` so it fits in a `Result`.
  package struct SkipError: Error, Sendable {
    /// The file and the reason.
    package let skip: Skip
  }
}

/// Result slots filled by several threads: a shared counter hands out indices, each slot is written once.
private final class ResultSlots<T: Sendable>: Sendable {
  private let next = Atomic<Int>(0)
  private let slots: Mutex<[Result<T, TreeWalker.SkipError>?]>

  init(count: Int) { slots = Mutex(Array(repeating: nil, count: count)) }

  func claim() -> Int { next.wrappingAdd(1, ordering: .relaxed).oldValue }

  func store(_ result: Result<T, TreeWalker.SkipError>, at index: Int) {
    slots.withLock { $0[index] = result }
  }

  func collect() -> [Result<T, TreeWalker.SkipError>] {
    slots.withLock { $0.map { $0! } }
  }
}
