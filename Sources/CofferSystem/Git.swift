import CofferCore

#if canImport(Glibc)
  import Glibc
#endif

/// git's plumbing, driven as a subprocess. Arguments are paths, object names and options, never values (F18).
package enum Git {
  /// The all-zero object name git uses for "no object".
  package static let nullSHA = String(repeating: "0", count: 40)

  /// One entry of `git diff --raw -z` / `git log --raw -z`.
  package struct Change: Sendable {
    /// The old side's mode, e.g. `100644` (`000000` when added).
    package let oldMode: String
    /// The new side's mode (`000000` when deleted).
    package let newMode: String
    /// The old blob's object name (all zeros when added).
    package let old: String
    /// The new blob's object name (all zeros when deleted).
    package let new: String
    /// The status letter(s): `A`, `M`, `D`, `T`, ….
    package let status: String
    /// The path, relative to the top level.
    package let path: String

    /// Whether the new side is a regular file (not a symlink, submodule or deletion).
    package var isBlob: Bool { newMode.hasPrefix("100") }

    init?(meta: ArraySlice<UInt8>, path: ArraySlice<UInt8>) {
      let fields = meta.dropFirst().split(separator: 0x20).map { String(decoding: $0, as: UTF8.self) }
      guard fields.count >= 5 else { return nil }
      oldMode = fields[0]
      newMode = fields[1]
      old = fields[2]
      new = fields[3]
      status = fields[4].trimmingNewlines
      self.path = String(decoding: path, as: UTF8.self)
    }
  }

  /// The top level of the work tree containing `directory`, or nil when it is not in one (or git is missing).
  package static func topLevel(of directory: String) throws -> String? {
    guard let r = try? Subprocess.run(["git", "-C", directory, "rev-parse", "--show-toplevel"]), r.status == 0 else {
      return nil
    }
    let path = String(decoding: r.stdout, as: UTF8.self).trimmingNewlines
    return path.isEmpty ? nil : path
  }

  /// Runs git and returns its standard output.
  /// - Parameters:
  ///   - args: the arguments after `git`.
  ///   - what: what it does, for the error message.
  /// - Throws: ``SystemError`` with git's own message when it fails.
  package static func output(_ args: [String], what: String) throws -> [UInt8] {
    let r: (status: Int32, stdout: [UInt8], stderr: String)
    do {
      r = try Subprocess.run(["git"] + args)
    } catch {
      throw SystemError("cannot \(what):", path: "git", reason: "\(error)")
    }
    guard r.status == 0 else {
      let message = r.stderr.split(separator: "\n").first.map(String.init) ?? "exit status \(r.status)"
      throw SystemError("cannot \(what):", path: "git \(args.dropFirst(2).first ?? "")", reason: message)
    }
    return r.stdout
  }

  /// Parses `--raw -z` output.
  package static func parseRaw(_ bytes: [UInt8]) -> [Change] {
    var out: [Change] = []
    var fields = bytes.split(separator: 0, omittingEmptySubsequences: false)[...]
    while let meta = fields.popFirst() {
      guard meta.first == UInt8(ascii: ":"), let path = fields.popFirst() else { continue }
      if let c = Change(meta: meta, path: path) { out.append(c) }
    }
    return out
  }

  /// Streams blobs out of the object database with one `git cat-file --batch`, calling `body` for each with its
  /// size and a reader positioned at its first byte. The object names go to git's stdin through a temporary file.
  /// - Throws: ``SystemError`` when git fails or an object is missing; whatever `body` throws.
  static func catBlobs(_ shas: [String], in top: String, _ body: (String, Int, BatchReader) throws -> Void) throws {
    var template = Array("/tmp/coffer-objects-XXXXXX".utf8CString)
    let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
    guard fd >= 0 else { throw SystemError.errno("cannot create", path: "/tmp/coffer-objects-*") }
    let listPath = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    defer { unlink(listPath) }
    Terminal.write(fd, Array(shas.joined(separator: "\n").utf8) + [0x0A])
    close(fd)
    let git = try Subprocess(["git", "-C", top, "cat-file", "--batch"], stdin: .file(listPath), stdout: .pipe, stderr: .null)
    let reader = BatchReader(fd: git.stdoutFD)
    var failure: (any Error)?
    do {
      for _ in shas {
        let header = try reader.line()
        let parts = header.split(separator: " ")
        guard parts.count == 3, let size = Int(parts[2]) else {
          throw SystemError("cannot read object", path: String(parts.first ?? ""), reason: "git cat-file says \(header)")
        }
        let sha = String(parts[0])
        if parts[1] == "blob" {
          try body(sha, size, reader)
        } else {
          try reader.skip(size)
        }
        try reader.skip(1)
      }
    } catch {
      failure = error
      kill(git.pid, SIGTERM)
    }
    let status = git.wait()
    if let failure { throw failure }
    guard status == 0 else { throw SystemError("cannot read objects in", path: top, reason: "git cat-file exit status \(status)") }
  }
}

/// A buffered reader over `git cat-file --batch` output.
final class BatchReader {
  let fd: Int32
  let buffer: UnsafeMutableRawBufferPointer
  var start = 0
  var end = 0

  init(fd: Int32) {
    self.fd = fd
    buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
  }

  deinit { buffer.deallocate() }

  private func fill() throws {
    if start == end {
      start = 0
      end = 0
    }
    while true {
      let n = read(fd, buffer.baseAddress! + end, buffer.count - end)
      if n < 0, errno == EINTR { continue }
      guard n > 0 else { throw SystemError("cannot read objects:", path: "git cat-file", reason: "output ended early") }
      end += n
      return
    }
  }

  /// The next line, without its LF.
  func line() throws -> String {
    var out: [UInt8] = []
    while true {
      if start == end { try fill() }
      let slice = UnsafeRawBufferPointer(rebasing: buffer[start..<end])
      if let nl = slice.firstIndex(of: 0x0A) {
        out.append(contentsOf: slice[..<nl])
        start += nl + 1
        return String(decoding: out, as: UTF8.self)
      }
      out.append(contentsOf: slice)
      start = end
    }
  }

  /// Up to `max` bytes (at least one); valid until the next call.
  func next(max: Int) throws -> UnsafeRawBufferPointer {
    if start == end { try fill() }
    let n = min(max, end - start)
    let chunk = UnsafeRawBufferPointer(rebasing: buffer[start..<(start + n)])
    start += n
    return chunk
  }

  /// Skips `count` bytes.
  func skip(_ count: Int) throws {
    var left = count
    while left > 0 { left -= try next(max: left).count }
  }
}

extension String {
  var trimmingNewlines: String {
    var s = Substring(self)
    while let last = s.last, last.isNewline { s.removeLast() }
    return String(s)
  }
}
