import CofferAudit
import CofferCore

#if canImport(Glibc)
  import Glibc
#endif

/// The audit log on disk: one per user and project, outside the repository (docs/audit.md), kept in segments.
///
/// `$COFFER_AUDIT_LOG` when set, else `$XDG_STATE_HOME/coffer/audit/<project>-<id>.jsonl` (default
/// `~/.local/state/coffer/audit/…`), where `<id>` is derived from the project's absolute path. That file is the
/// *active* segment; an append that would take it past ``segmentLimit`` bytes first closes it (renamed to
/// `<log>.NNNNNN`, its segment number) and opens a new one whose first line records the closed segment's SHA-256
/// (``AuditSegmentLink``). Beside it, `<log>.head` holds the authenticated head (``AuditHead``) of the active
/// segment, and `<log>.lock` serializes appends, rotation and pruning (`flock`).
package struct AuditTrail: Sendable {
  /// The active segment.
  package let path: String
  /// The head file.
  package var headPath: String { path + ".head" }
  /// The lock file.
  package var lockPath: String { path + ".lock" }
  /// The text of `COFFER_AUDIT_SEGMENT_BYTES` when set (checked when the trail is written).
  let segmentSetting: String?

  /// The size at which a segment closes when `COFFER_AUDIT_SEGMENT_BYTES` is not set: 1 MiB.
  package static let defaultSegmentLimit = 1_048_576
  /// The environment variable that sets the segment size (for tests and small disks).
  package static let segmentLimitVariable = "COFFER_AUDIT_SEGMENT_BYTES"

  /// Creates a trail at an explicit path.
  /// - Parameters:
  ///   - path: the active segment.
  ///   - segmentLimit: the size at which segments close (default ``defaultSegmentLimit``).
  package init(path: String, segmentLimit: Int = AuditTrail.defaultSegmentLimit) {
    self.path = path
    self.segmentSetting = String(segmentLimit)
  }

  init(path: String, segmentSetting: String?) {
    self.path = path
    self.segmentSetting = segmentSetting
  }

  /// The trail for a project.
  /// - Parameter root: the project's absolute root directory.
  package static func forProject(root: String) -> AuditTrail {
    let setting = ProcessEnvironment.get(segmentLimitVariable).flatMap { $0.isEmpty ? nil : $0 }
    if let explicit = ProcessEnvironment.get("COFFER_AUDIT_LOG"), !explicit.isEmpty {
      return AuditTrail(path: explicit, segmentSetting: setting)
    }
    let base = ProcessEnvironment.stateHome()
    let name = VaultSafeName.make(Paths.lastComponent(root))
    let id = String(AuditLog.hash(of: Array(root.utf8)).prefix(12))
    return AuditTrail(path: Paths.join(base, "coffer/audit/\(name)-\(id).jsonl"), segmentSetting: setting)
  }

  /// The size at which the active segment closes: an append that would take it past this many bytes first closes
  /// it (so a closed segment is at most this size, unless one append alone is larger).
  /// - Throws: ``SystemError`` (exit 2) when `COFFER_AUDIT_SEGMENT_BYTES` is not a whole number from 1 to 2^40.
  package func segmentLimit() throws(SystemError) -> Int {
    guard let segmentSetting else { return AuditTrail.defaultSegmentLimit }
    guard segmentSetting.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let n = Int(segmentSetting), n >= 1, n <= 1 << 40 else {
      throw SystemError(
        "invalid setting", path: AuditTrail.segmentLimitVariable,
        reason: "expected a whole number of bytes from 1 to 1099511627776 (unset: \(AuditTrail.defaultSegmentLimit))")
    }
    return n
  }

  /// The file of a closed segment: `<log>.NNNNNN`.
  /// - Parameter number: the segment number.
  package func segmentPath(_ number: Int) -> String {
    let digits = String(number)
    return path + "." + String(repeating: "0", count: max(0, 6 - digits.count)) + digits
  }

  /// The closed segments on disk, oldest first.
  package func closedSegments() -> [(number: Int, path: String)] {
    let prefix = Paths.lastComponent(path) + "."
    let dir = Paths.parent(path)
    return Files.list(dir).compactMap { name -> (Int, String)? in
      guard name.hasPrefix(prefix) else { return nil }
      let suffix = name.dropFirst(prefix.count)
      guard suffix.utf8.count >= 6, suffix.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let n = Int(suffix), n >= 1,
        segmentPath(n).hasSuffix("." + suffix)
      else { return nil }
      return (n, segmentPath(n))
    }.sorted { $0.0 < $1.0 }
  }

  /// The active segment's number: the one its first line opens, or the one after the last closed segment.
  static func activeNumber(_ bytes: [UInt8], closed: [(number: Int, path: String)]) -> Int {
    let end = bytes.firstIndex(of: 0x0A) ?? bytes.count
    let link = AuditLog.parse(Array(bytes[0..<end])).flatMap {
      $0.event.action == AuditLog.segmentAction ? AuditSegmentLink(detail: $0.event.detail ?? "") : nil
    }
    return max(link?.number ?? 0, (closed.last?.number ?? 0) + 1)
  }

  func failure(_ reason: String) -> SystemError {
    SystemError(
      "cannot write audit log", path: path, reason: reason, status: .accessDenied,
      hints: ["coffer refuses to act unrecorded; fix the path or set COFFER_AUDIT_LOG"])
  }

  /// Takes the trail's lock (creating the directory 0700), for an append or a prune.
  func lock() throws(SystemError) -> FileLock {
    do {
      try Files.makeDirectory(Paths.parent(path), mode: 0o700)
      return try FileLock(path: lockPath)
    } catch {
      throw failure(error.reason)
    }
  }

  /// Appends one event, chained to the last line, and moves the head; closes the active segment first when the
  /// append would take it past ``segmentLimit()``.
  ///
  /// Durable (`fsync`) when `durable` is true (writes, access changes); reads skip the `fsync` to keep `run` fast,
  /// relying on `O_APPEND` atomicity.
  /// - Parameters:
  ///   - event: the event (it holds no values by construction).
  ///   - headKey: the identity's secret text, the key of the head's MAC.
  ///   - durable: whether to `fsync` the log and head.
  /// - Throws: ``SystemError`` (exit 3) when the log or head cannot be written, (exit 2) when the segment size
  ///   setting is invalid: the caller must then not proceed.
  package func append(_ event: AuditEvent, headKey: SecretValue, durable: Bool) throws(SystemError) {
    let limit = try segmentLimit()
    // Open the active segment before locking, so that a path that cannot be a log is named as such.
    do { try Files.makeDirectory(Paths.parent(path), mode: 0o700) } catch { throw failure(error.reason) }
    let probe = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
    guard probe >= 0 else { throw failure(String(cString: strerror(errno))) }
    close(probe)
    let lock = try lock()
    defer { withExtendedLifetime(lock) {} }
    try appendHoldingLock(event, headKey: headKey, durable: durable, limit: limit)
  }

  func appendHoldingLock(_ event: AuditEvent, headKey: SecretValue, durable: Bool, limit: Int) throws(SystemError) {
    let fail = failure
    let fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
    guard fd >= 0 else { throw fail(String(cString: strerror(errno))) }
    defer { close(fd) }

    var size = stat()
    fstat(fd, &size)
    // Listed only when needed: the common append (a head that matches, no rollover) never reads the directory.
    var listed: [(number: Int, path: String)]?
    func closed() -> [(number: Int, path: String)] {
      if let listed { return listed }
      listed = closedSegments()
      return listed!
    }
    var last = AuditHead(sequence: 0, hash: AuditLog.genesis, size: 0)
    var gap: String?
    var activeBytes: [UInt8]?
    var link: AuditSegmentLink?
    if size.st_size > 0 {
      let head = readHead(key: headKey)
      if let head, head.size == Int(size.st_size) {
        // The head was written right after the last append and the log has not changed size since: chain to it
        // without re-reading the log. (`verify` is what checks the whole chain.)
        last = head
      } else {
        // No head, a head under another identity, or a head that does not match the tail: find the last line,
        // and whether the log still holds the line the head recorded (it grows by a line when a crash came
        // between the two writes; it shrinks or changes only by hand). The head may name the last line of the
        // segment closed just before (a crash between closing it and writing the new head).
        let bytes: [UInt8]
        do { bytes = try Files.read(path) } catch { throw fail(error.reason) }
        activeBytes = bytes
        var records = AuditLog.verify(bytes, head: nil).records
        if let previous = closed().last, let older = try? Files.read(previous.path) {
          records = AuditLog.verify(older, head: nil).records + records
        }
        if let record = records.last {
          last = AuditHead(sequence: record.sequence, hash: record.hash, size: bytes.count)
        }
        gap = AuditLog.gap(records: records, head: head, headExists: Files.exists(headPath))
      }
    } else if let previous = closed().last {
      // An empty active segment after closed ones (a crash right after closing, or the active file removed): open
      // it with the link to the last closed segment, and check the head against that segment.
      let older: [UInt8]
      do { older = try Files.read(previous.path) } catch { throw fail(error.reason) }
      let records = AuditLog.verify(older, head: nil).records
      if let record = records.last { last = AuditHead(sequence: record.sequence, hash: record.hash, size: 0) }
      link = AuditSegmentLink(number: previous.number + 1, lastSequence: last.sequence, size: older.count, hash: AuditLog.hash(of: older))
      gap = AuditLog.gap(records: records, head: readHead(key: headKey), headExists: Files.exists(headPath))
    } else if let head = readHead(key: headKey), head.sequence > 0 {
      // An empty log whose own head recorded lines: it was emptied or deleted outside coffer.
      gap = AuditLog.gap(records: [], head: head, headExists: true)
    }

    func lines(after start: AuditHead, link: AuditSegmentLink?) -> (bytes: [UInt8], last: AuditHead) {
      var end = start
      var out: [UInt8] = []
      func add(_ e: AuditEvent) {
        let line = AuditLog.encode(e, sequence: end.sequence + 1, previousHash: end.hash)
        out += line + [0x0A]
        end = AuditHead(sequence: end.sequence + 1, hash: AuditLog.hash(of: line), size: 0)
      }
      if let link {
        add(AuditEvent(time: event.time, actor: event.actor, osUser: event.osUser, action: AuditLog.segmentAction, detail: link.detail))
      }
      if let gap {
        // Recorded before the event, so that moving the head past it does not erase what was found.
        add(AuditEvent(
          time: event.time, actor: event.actor, osUser: event.osUser, action: AuditLog.gapAction, outcome: "failed",
          detail: gap))
      }
      add(event)
      return (out, end)
    }

    var (bytes, end) = lines(after: last, link: link)
    var target = fd
    var base = Int(size.st_size)
    var opened: Int32 = -1
    defer { if opened >= 0 { close(opened) } }
    if base > 0, base + bytes.count > limit {
      // Close the active segment: keep it as `<log>.NNNNNN` and start a new one that records its hash.
      let closing: [UInt8]
      if let activeBytes { closing = activeBytes } else {
        do { closing = try Files.read(path) } catch { throw fail(error.reason) }
      }
      let number = AuditTrail.activeNumber(closing, closed: closed())
      let closedPath = segmentPath(number)
      guard !Files.exists(closedPath) else { throw fail("segment file \(closedPath) already exists") }
      guard fsync(fd) == 0, rename(path, closedPath) == 0 else { throw fail(String(cString: strerror(errno))) }
      opened = open(path, O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
      guard opened >= 0 else { throw fail(String(cString: strerror(errno))) }
      syncDirectory()
      (bytes, end) = lines(
        after: last,
        link: AuditSegmentLink(number: number + 1, lastSequence: last.sequence, size: closing.count, hash: AuditLog.hash(of: closing)))
      target = opened
      base = 0
    }
    var off = 0
    while off < bytes.count {
      let n = bytes.withUnsafeBytes { write(target, $0.baseAddress! + off, $0.count - off) }
      if n < 0 {
        if errno == EINTR { continue }
        throw fail(String(cString: strerror(errno)))
      }
      off += n
    }
    if durable, fsync(target) != 0 { throw fail(String(cString: strerror(errno))) }
    let head = AuditHead(sequence: end.sequence, hash: end.hash, size: base + bytes.count)
    let hfd = open(headPath, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
    guard hfd >= 0 else { throw fail(String(cString: strerror(errno))) }
    defer { close(hfd) }
    let encoded = head.encoded(key: headKey)
    let written = encoded.withUnsafeBytes { pwrite(hfd, $0.baseAddress, $0.count, 0) }
    guard written == encoded.count, ftruncate(hfd, off_t(encoded.count)) == 0 else {
      throw fail(String(cString: strerror(errno)))
    }
    if durable { fsync(hfd) }
  }

  /// Removes the closed segments numbered up to `through`, after appending (durably) a prune line that records
  /// what goes: their numbers, the lines they held and the SHA-256 of the last one (``AuditPrune``). The active
  /// segment is never removed.
  /// - Parameters:
  ///   - through: the last segment to remove.
  ///   - event: the prune line's who and when (its action and detail are filled in).
  ///   - headKey: the identity's secret text.
  /// - Returns: what was removed, or `nil` when no closed segment is that old.
  /// - Throws: ``SystemError`` (exit 3) when the line cannot be written or a segment cannot be removed.
  package func prune(through: Int, event: AuditEvent, headKey: SecretValue) throws(SystemError) -> AuditPrune? {
    let limit = try segmentLimit()
    let lock = try lock()
    defer { withExtendedLifetime(lock) {} }
    do {
      let doomed = closedSegments().filter { $0.number <= through }
      guard let first = doomed.first, let last = doomed.last else { return nil }
      let firstBytes: [UInt8]
      let lastBytes: [UInt8]
      do {
        firstBytes = try Files.read(first.path)
        lastBytes = try Files.read(last.path)
      } catch { throw failure(error.reason) }
      let firstLine = AuditLog.verify(firstBytes, head: nil).records.first?.sequence ?? 1
      let lastLine = AuditLog.verify(lastBytes, head: nil).records.last?.sequence ?? firstLine
      let record = AuditPrune(
        first: first.number, last: last.number, firstLine: firstLine, lastLine: lastLine, hash: AuditLog.hash(of: lastBytes))
      var line = event
      line.action = AuditLog.pruneAction
      line.detail = record.detail
      try appendHoldingLock(line, headKey: headKey, durable: true, limit: limit)
      for segment in doomed {
        do { try Files.remove(segment.path) } catch { throw failure(error.reason) }
      }
      syncDirectory()
      return record
    }
  }

  func syncDirectory() {
    let dfd = open(Paths.parent(path), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if dfd >= 0 {
      fsync(dfd)
      close(dfd)
    }
  }

  /// What `read` returns: every segment on disk, oldest first, with the head.
  package struct Contents: Sendable {
    /// The segments that exist, closed ones first, the active one last (empty when nothing was recorded).
    package let segments: [AuditSegmentFile]
    /// Each segment's file, by number.
    package let paths: [Int: String]
    /// The head, if it exists and authenticates.
    package let head: AuditHead?
    /// What was found where the head should be.
    package let headState: HeadState
  }

  /// Reads every segment and the head.
  /// - Parameter headKey: the identity's secret text.
  /// - Returns: the segments (empty when there is no log), and the head if it exists and authenticates.
  /// - Throws: ``SystemError`` when a segment exists but cannot be read.
  package func read(headKey: SecretValue) throws(SystemError) -> Contents {
    let closed = closedSegments()
    var segments: [AuditSegmentFile] = []
    var paths: [Int: String] = [:]
    for segment in closed {
      segments.append(AuditSegmentFile(number: segment.number, bytes: try Files.read(segment.path)))
      paths[segment.number] = segment.path
    }
    let active = Files.exists(path) ? try Files.read(path) : []
    let number = AuditTrail.activeNumber(active, closed: closed)
    if !active.isEmpty || segments.isEmpty {
      segments.append(AuditSegmentFile(number: number, bytes: active))
    }
    paths[number] = path
    let empty = segments.allSatisfy { $0.bytes.isEmpty }
    guard Files.exists(headPath) else { return Contents(segments: segments, paths: paths, head: nil, headState: empty ? .absent : .missing) }
    guard let head = readHead(key: headKey) else {
      return Contents(segments: segments, paths: paths, head: nil, headState: .unauthenticated)
    }
    return Contents(segments: segments, paths: paths, head: head, headState: .valid)
  }

  /// What was found where the head should be.
  package enum HeadState: Sendable, Equatable {
    /// No log and no head: nothing recorded yet.
    case absent
    /// A log without a head: the head was deleted.
    case missing
    /// A head whose MAC does not verify with this identity (another identity's, or forged).
    case unauthenticated
    /// A head that verifies.
    case valid
  }

  func readHead(key: SecretValue) -> AuditHead? {
    guard let bytes = try? Files.read(headPath) else { return nil }
    return AuditHead.decode(bytes, key: key)
  }
}

/// File-name-safe project names.
enum VaultSafeName {
  static func make(_ s: String) -> String {
    let cleaned = String(decoding: s.utf8.prefix(64).map { c in
      (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2D || c == 0x5F ? c : 0x5F
    }, as: UTF8.self)
    return cleaned.isEmpty ? "project" : cleaned
  }
}
