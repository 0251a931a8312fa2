import CofferAudit
import CofferCore

#if canImport(Glibc)
  import Glibc
#endif

/// The audit log on disk: one per user and project, outside the repository (docs/audit.md).
///
/// `$COFFER_AUDIT_LOG` when set, else `$XDG_STATE_HOME/coffer/audit/<project>-<id>.jsonl` (default
/// `~/.local/state/coffer/audit/…`), where `<id>` is derived from the project's absolute path. Beside it,
/// `<log>.head` holds the authenticated head (``AuditHead``). Appends are serialized with `flock` on the log itself.
public struct AuditTrail: Sendable {
  /// The log file.
  public let path: String
  /// The head file.
  public var headPath: String { path + ".head" }

  /// Creates a trail at an explicit path.
  public init(path: String) { self.path = path }

  /// The trail for a project.
  /// - Parameter root: the project's absolute root directory.
  public static func forProject(root: String) -> AuditTrail {
    if let explicit = ProcessEnvironment.get("COFFER_AUDIT_LOG"), !explicit.isEmpty { return AuditTrail(path: explicit) }
    let base = ProcessEnvironment.get("XDG_STATE_HOME").flatMap { $0.isEmpty ? nil : $0 }
      ?? Paths.join(ProcessEnvironment.home(), ".local/state")
    let name = VaultSafeName.make(Paths.lastComponent(root))
    let id = String(AuditLog.hash(of: Array(root.utf8)).prefix(12))
    return AuditTrail(path: Paths.join(base, "coffer/audit/\(name)-\(id).jsonl"))
  }

  /// Appends one event, chained to the last line, and moves the head.
  ///
  /// Durable (`fsync`) when `durable` is true (writes, access changes); reads skip the `fsync` to keep `run` fast,
  /// relying on `O_APPEND` atomicity.
  /// - Parameters:
  ///   - event: the event (it holds no values by construction).
  ///   - headKey: the identity's secret text, the key of the head's MAC.
  ///   - durable: whether to `fsync` the log and head.
  /// - Throws: ``SystemError`` (exit 3) when the log or head cannot be written: the caller must then not proceed.
  public func append(_ event: AuditEvent, headKey: SecretValue, durable: Bool) throws(SystemError) {
    let fail = { (reason: String) -> SystemError in
      SystemError(
        "cannot write audit log", path: path, reason: reason, status: .accessDenied,
        hints: ["coffer refuses to act unrecorded; fix the path or set COFFER_AUDIT_LOG"])
    }
    do {
      try Files.makeDirectory(Paths.parent(path), mode: 0o700)
    } catch {
      throw fail(error.reason)
    }
    let fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
    guard fd >= 0 else { throw fail(String(cString: strerror(errno))) }
    defer { close(fd) }
    while flock(fd, LOCK_EX) != 0 {
      guard errno == EINTR else { throw fail(String(cString: strerror(errno))) }
    }
    defer { flock(fd, LOCK_UN) }

    var size = stat()
    fstat(fd, &size)
    var last = AuditHead(sequence: 0, hash: AuditLog.genesis, size: 0)
    var gap: String?
    if size.st_size > 0 {
      let head = readHead(key: headKey)
      if let head, head.size == Int(size.st_size) {
        // The head was written right after the last append and the log has not changed size since: chain to it
        // without re-reading the log. (`verify` is what checks the whole chain.)
        last = head
      } else {
        // No head, a head under another identity, or a head that does not match the tail: find the last line,
        // and whether the log still holds the line the head recorded (it grows by a line when a crash came
        // between the two writes; it shrinks or changes only by hand).
        let bytes: [UInt8]
        do { bytes = try Files.read(path) } catch { throw fail(error.reason) }
        let records = AuditLog.verify(bytes, head: nil).records
        if let record = records.last {
          last = AuditHead(sequence: record.sequence, hash: record.hash, size: bytes.count)
        }
        gap = AuditLog.gap(records: records, head: head, headExists: Files.exists(headPath))
      }
    }
    var bytes: [UInt8] = []
    if let gap {
      // Recorded before the event, so that moving the head past it does not erase what was found.
      let marker = AuditEvent(
        time: event.time, actor: event.actor, osUser: event.osUser, action: AuditLog.gapAction, outcome: "failed",
        detail: gap)
      let markerLine = AuditLog.encode(marker, sequence: last.sequence + 1, previousHash: last.hash)
      bytes = markerLine + [0x0A]
      last = AuditHead(sequence: last.sequence + 1, hash: AuditLog.hash(of: markerLine), size: 0)
    }
    let line = AuditLog.encode(event, sequence: last.sequence + 1, previousHash: last.hash)
    bytes += line + [0x0A]
    var off = 0
    while off < bytes.count {
      let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + off, $0.count - off) }
      if n < 0 {
        if errno == EINTR { continue }
        throw fail(String(cString: strerror(errno)))
      }
      off += n
    }
    if durable, fsync(fd) != 0 { throw fail(String(cString: strerror(errno))) }
    let head = AuditHead(sequence: last.sequence + 1, hash: AuditLog.hash(of: line), size: Int(size.st_size) + bytes.count)
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

  /// Reads the log and its head.
  /// - Parameter headKey: the identity's secret text.
  /// - Returns: the log bytes (empty when there is no log), and the head if it exists and authenticates.
  /// - Throws: ``SystemError`` when the log exists but cannot be read.
  public func read(headKey: SecretValue) throws(SystemError) -> (log: [UInt8], head: AuditHead?, headState: HeadState) {
    let log = Files.exists(path) ? try Files.read(path) : []
    guard Files.exists(headPath) else { return (log, nil, log.isEmpty ? .absent : .missing) }
    guard let head = readHead(key: headKey) else { return (log, nil, .unauthenticated) }
    return (log, head, .valid)
  }

  /// What was found where the head should be.
  public enum HeadState: Sendable, Equatable {
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
