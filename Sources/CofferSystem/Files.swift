import CofferCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// File access at the edge: whole-file reads, atomic writes, modes, directories.
///
/// Every write goes to a temporary file in the same directory, is flushed with `fsync`, and is renamed over the
/// target, so a reader sees the old file or the new one and never a torn one. A new file gets the mode asked for
/// (0600 for anything holding secrets); an existing file keeps its own mode, owner and group (or nothing is written).
package enum Files {
  /// Reads a whole file.
  /// - Parameter path: the file.
  /// - Returns: its bytes.
  /// - Throws: ``SystemError`` naming the path when it cannot be opened or read.
  package static func read(_ path: String) throws(SystemError) -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw SystemError.errno("cannot read", path: path) }
    defer { close(fd) }
    var st = stat()
    // Read straight into the result, sized from fstat (plus room to see the end): no intermediate buffer, no
    // zero-filling; a file that grows meanwhile is read to its end in further rounds.
    var out = [UInt8]()
    var capacity = (fstat(fd, &st) == 0 && st.st_size > 0 ? Int(st.st_size) : 0) + 4096
    var failed = false
    while true {
      var ended = false
      let previous = out
      out = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, count in
        previous.withUnsafeBufferPointer { p in
          if let base = p.baseAddress { buffer.baseAddress!.update(from: base, count: p.count) }
        }
        count = previous.count
        prefault(buffer)
        while count < capacity {
          let n = Glibc.read(fd, buffer.baseAddress! + count, capacity - count)
          if n < 0 {
            if errno == EINTR { continue }
            failed = true
            return
          }
          if n == 0 {
            ended = true
            return
          }
          count += n
        }
      }
      if failed { throw SystemError.errno("cannot read", path: path) }
      if ended { return out }
      capacity *= 2
    }
  }

  /// Maps a large, fresh read buffer's pages in one call (`MADV_POPULATE_WRITE`, Linux 5.14) instead of taking one
  /// page fault per 4 KiB as `read` fills it: a 1,000-secret vault is about 80 pages (docs/performance.md). Advice
  /// only: older kernels refuse it and the faults happen as before.
  private static func prefault(_ buffer: UnsafeMutableBufferPointer<UInt8>) {
    #if os(Linux)
      let page = 4096
      guard buffer.count >= 16 * page, let base = buffer.baseAddress else { return }
      let start = (Int(bitPattern: base) + page - 1) & ~(page - 1)
      let end = (Int(bitPattern: base) + buffer.count) & ~(page - 1)
      guard end > start, let pointer = UnsafeMutableRawPointer(bitPattern: start) else { return }
      _ = madvise(pointer, end - start, 23)  // MADV_POPULATE_WRITE
    #endif
  }

  /// Whether something exists at `path` (without following a final symlink's absence).
  package static func exists(_ path: String) -> Bool {
    var st = stat()
    return lstat(path, &st) == 0
  }

  /// The size in bytes of what `path` names (following symlinks), or nil when it cannot be examined.
  package static func size(of path: String) -> Int? {
    var st = stat()
    return stat(path, &st) == 0 ? Int(st.st_size) : nil
  }

  /// Whether `path` is a directory.
  package static func isDirectory(_ path: String) -> Bool {
    var st = stat()
    return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
  }

  /// The permission bits of a file, or `nil` if it does not exist.
  package static func mode(of path: String) -> UInt32? {
    var st = stat()
    guard stat(path, &st) == 0 else { return nil }
    return UInt32(st.st_mode & 0o7777)
  }

  /// Creates a directory and its parents.
  /// - Parameters:
  ///   - path: the directory.
  ///   - mode: the mode for directories it creates.
  /// - Throws: ``SystemError`` when a component cannot be created.
  package static func makeDirectory(_ path: String, mode: UInt32 = 0o755) throws(SystemError) {
    if isDirectory(path) { return }
    let parent = Paths.parent(path)
    if parent != path, !parent.isEmpty { try makeDirectory(parent, mode: mode) }
    if mkdir(path, mode_t(mode)) != 0, errno != EEXIST {
      throw SystemError.errno("cannot create directory", path: path)
    }
  }

  /// Replaces a file's contents atomically and durably.
  /// - Parameters:
  ///   - path: the target file.
  ///   - bytes: the new contents.
  ///   - newFileMode: the permission bits when the file does not exist yet (an existing file keeps its mode, owner
  ///     and group).
  /// - Throws: ``SystemError`` naming the path; the target is then unchanged and no temporary file is left. When the
  ///   existing file's owner or group cannot be given to the new contents (`fchown` not permitted), the error says
  ///   so, with exit status 3.
  package static func writeAtomically(_ path: String, _ bytes: [UInt8], newFileMode: UInt32 = 0o600) throws(SystemError) {
    let dir = Paths.parent(path)
    let base = Paths.lastComponent(path)
    var template = Array("\(dir)/.\(base).tmp-XXXXXX".utf8CString)
    let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
    guard fd >= 0 else { throw SystemError.errno("cannot write", path: path) }
    let tmp = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    var ok = false
    defer {
      if !ok { unlink(tmp) }
    }
    // An existing file keeps its mode, owner and group: the temporary file gets them before it replaces the file.
    // The owner comes first, since changing it may clear set-id bits that the mode then restores.
    var existing = stat()
    let exists = stat(path, &existing) == 0
    if exists {
      var mine = stat()
      guard fstat(fd, &mine) == 0 else { close(fd); throw SystemError.errno("cannot write", path: path) }
      if mine.st_uid != existing.st_uid || mine.st_gid != existing.st_gid {
        guard fchown(fd, existing.st_uid, existing.st_gid) == 0 else {
          let reason = String(cString: strerror(errno))
          close(fd)
          throw SystemError(
            "cannot keep the owner of", path: path,
            reason: "changing the new file's owner to uid \(existing.st_uid), gid \(existing.st_gid) failed (\(reason)); nothing written",
            status: .accessDenied,
            hints: ["run coffer as the file's owner (or as root), or change the file's owner first"])
        }
      }
    }
    let mode = exists ? UInt32(existing.st_mode & 0o7777) : newFileMode
    guard fchmod(fd, mode_t(mode)) == 0 else { close(fd); throw SystemError.errno("cannot write", path: path) }
    var written = 0
    while written < bytes.count {
      let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, $0.count - written) }
      if n < 0 {
        if errno == EINTR { continue }
        close(fd)
        throw SystemError.errno("cannot write", path: path)
      }
      written += n
    }
    guard fsync(fd) == 0 else { close(fd); throw SystemError.errno("cannot write", path: path) }
    close(fd)
    guard rename(tmp, path) == 0 else { throw SystemError.errno("cannot write", path: path) }
    ok = true
    let dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if dfd >= 0 { fsync(dfd); close(dfd) }
  }

  /// Removes a file; a missing file is not an error.
  /// - Throws: ``SystemError`` when it exists and cannot be removed.
  package static func remove(_ path: String) throws(SystemError) {
    if unlink(path) != 0, errno != ENOENT { throw SystemError.errno("cannot remove", path: path) }
  }

  /// Lists a directory's entries (names only, without `.` and `..`), sorted.
  package static func list(_ path: String) -> [String] {
    guard let d = opendir(path) else { return [] }
    defer { closedir(d) }
    var names: [String] = []
    while let e = readdir(d) {
      let name = withUnsafeBytes(of: e.pointee.d_name) { raw in
        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
      }
      if name != ".", name != ".." { names.append(name) }
    }
    return names.sorted()
  }
}

/// Exclusive advisory lock (`flock`) on a lock file, serializing writers across processes.
package final class FileLock {
  private let fd: Int32

  /// Blocks until the lock on `path` is held; creates the lock file (0600) if needed.
  /// - Parameter path: the lock file.
  /// - Throws: ``SystemError`` when it cannot be created or locked.
  package init(path: String) throws(SystemError) {
    let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
    guard fd >= 0 else { throw SystemError.errno("cannot lock", path: path) }
    while flock(fd, LOCK_EX) != 0 {
      if errno == EINTR { continue }
      close(fd)
      throw SystemError.errno("cannot lock", path: path)
    }
    self.fd = fd
  }

  deinit {
    flock(fd, LOCK_UN)
    close(fd)
  }
}

/// Pure path helpers (POSIX paths, `/` separator).
package enum Paths {
  /// Joins components with `/`.
  package static func join(_ a: String, _ b: String) -> String {
    if b.hasPrefix("/") { return b }
    if a.isEmpty { return b }
    return a.hasSuffix("/") ? a + b : a + "/" + b
  }

  /// The directory part of a path (`.` for a bare name, `/` for the root).
  package static func parent(_ path: String) -> String {
    var p = path
    while p.count > 1, p.hasSuffix("/") { p.removeLast() }
    guard let i = p.lastIndex(of: "/") else { return "." }
    if i == p.startIndex { return "/" }
    return String(p[..<i])
  }

  /// The last component of a path.
  package static func lastComponent(_ path: String) -> String {
    var p = path
    while p.count > 1, p.hasSuffix("/") { p.removeLast() }
    guard let i = p.lastIndex(of: "/") else { return p }
    return String(p[p.index(after: i)...])
  }

  /// The process's current directory.
  package static func currentDirectory() -> String {
    guard let cwd = getcwd(nil, 0) else { return "." }
    defer { free(cwd) }
    return String(cString: cwd)
  }

  /// Makes a path absolute against the current directory (no symlink resolution).
  package static func absolute(_ path: String) -> String {
    path.hasPrefix("/") ? path : join(currentDirectory(), path)
  }

  /// Where a path really points: its directory with symbolic links, `.` and `..` resolved (`realpath(3)`), then its
  /// last component. The file itself need not exist; when its directory does not either, the absolute path.
  package static func resolved(_ path: String) -> String {
    let absolutePath = absolute(path)
    guard let real = realpath(parent(absolutePath), nil) else { return absolutePath }
    defer { free(real) }
    return join(String(cString: real), lastComponent(absolutePath))
  }
}
