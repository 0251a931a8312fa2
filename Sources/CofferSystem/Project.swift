import CofferCore

#if canImport(Glibc)
  import Glibc
#endif

/// Where a Coffer project's files are: found by walking up from a directory to the first `coffer.yaml`, as git finds
/// `.git`.
public struct Project: Sendable {
  /// The manifest's file name.
  public static let manifestName = "coffer.yaml"

  /// The directory that holds `coffer.yaml`.
  public let root: String

  /// The manifest's path.
  public var manifestPath: String { Paths.join(root, Project.manifestName) }
  /// `.coffer/`.
  public var stateDirectory: String { Paths.join(root, ".coffer") }
  /// `.coffer/vault/`.
  public var vaultDirectory: String { Paths.join(stateDirectory, "vault") }
  /// The lock file serializing every write to the project (`.coffer/.lock`, ignored by git).
  public var lockPath: String { Paths.join(stateDirectory, ".lock") }
  /// The approved access policy (trust model v2), committed: `.coffer/policy`.
  public var policyPath: String { Paths.join(stateDirectory, "policy") }

  /// Whether `path`, resolved through symbolic links and `..`, is the manifest or anything under `.coffer/`:
  /// Coffer's own committed files, which no output (an export, a template, an audit export) may replace.
  /// - Parameter path: an output path as the user gave it.
  public func isOwnFile(_ path: String) -> Bool {
    let target = Paths.resolved(path)
    let state = Paths.resolved(stateDirectory)
    return target == Paths.resolved(manifestPath) || target == state || target.hasPrefix(state + "/")
  }

  /// The vault file of one environment.
  /// - Parameter environment: the environment name.
  public func vaultPath(_ environment: String) -> String { Paths.join(vaultDirectory, "\(environment).vault") }

  /// A path relative to the current directory when it is inside it, for messages.
  public func display(_ path: String) -> String {
    let cwd = Paths.currentDirectory()
    if path.hasPrefix(cwd + "/") { return String(path.dropFirst(cwd.count + 1)) }
    return path
  }

  /// Creates a project rooted at a directory (which need not hold a manifest yet).
  public init(root: String) { self.root = root }

  /// Finds the project containing a directory.
  /// - Parameter start: where to start (the `--project` value, or the current directory).
  /// - Returns: the nearest ancestor (or `start` itself) that holds `coffer.yaml`.
  /// - Throws: ``SystemError`` (exit 2) when no manifest is found up to `/`.
  public static func locate(from start: String? = nil) throws(SystemError) -> Project {
    let begin = Paths.absolute(start ?? Paths.currentDirectory())
    if let start, !Files.isDirectory(begin) {
      throw SystemError("no project at", path: start, reason: "not a directory")
    }
    var dir = begin
    while true {
      if Files.exists(Paths.join(dir, manifestName)) { return Project(root: dir) }
      let up = Paths.parent(dir)
      if up == dir { break }
      dir = up
    }
    throw SystemError(
      "no coffer.yaml in", path: begin, reason: "nor in any parent directory",
      hints: ["run `coffer init` to start a project here, or pass --project DIR"])
  }
}

/// The process environment and user, read at the edge.
public enum ProcessEnvironment {
  /// The value of an environment variable, if set.
  public static func get(_ name: String) -> String? {
    guard let p = getenv(name) else { return nil }
    return String(cString: p)
  }

  /// The whole environment as `NAME=value` byte strings, in the process's order.
  public static func entries() -> [[UInt8]] {
    var out: [[UInt8]] = []
    var p = environ
    while let entry = p.pointee {
      out.append(Array(UnsafeBufferPointer(start: UnsafeRawPointer(entry).assumingMemoryBound(to: UInt8.self), count: strlen(entry))))
      p += 1
    }
    return out
  }

  /// The variables that name or hold the user's identity: `COFFER_IDENTITY` (the key itself) and
  /// `COFFER_IDENTITY_FILE` (where it is). No process Coffer starts inherits them (docs/architecture.md).
  public static let identityVariables = ["COFFER_IDENTITY", "COFFER_IDENTITY_FILE"]

  /// The environment every process Coffer starts inherits (git, `run`'s command, `run --redact`'s child): Coffer's
  /// own, in order, without ``identityVariables``.
  public static func childEntries() -> [[UInt8]] {
    let prefixes = identityVariables.map { Array(($0 + "=").utf8) }
    return entries().filter { entry in !prefixes.contains { entry.starts(with: $0) } }
  }

  /// The login name of the user running Coffer (`$USER`, else the password database, else the uid).
  public static func userName() -> String {
    if let u = get("USER"), !u.isEmpty { return u }
    if let pw = getpwuid(getuid()), let n = pw.pointee.pw_name { return String(cString: n) }
    return "uid\(getuid())"
  }

  /// The user's home directory.
  public static func home() -> String {
    if let h = get("HOME"), !h.isEmpty { return h }
    if let pw = getpwuid(getuid()), let d = pw.pointee.pw_dir { return String(cString: d) }
    return "/"
  }

  /// Where Coffer keeps this user's machine-local state (the audit log, caches): `$XDG_STATE_HOME`, else
  /// `~/.local/state` (XDG Base Directory Specification). Outside every repository, so no commit can place a file
  /// there.
  public static func stateHome() -> String {
    get("XDG_STATE_HOME").flatMap { $0.isEmpty ? nil : $0 } ?? Paths.join(home(), ".local/state")
  }
}

/// The wall clock; replaceable in tests through `COFFER_NOW` (RFC 3339), read only here.
public enum SystemClock {
  /// The current time, or `COFFER_NOW` when it is set to a valid RFC 3339 UTC time.
  public static func now() -> Timestamp {
    if let fixed = ProcessEnvironment.get("COFFER_NOW"), let t = Timestamp(rfc3339: fixed) { return t }
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Timestamp(secondsSinceEpoch: Int64(ts.tv_sec))
  }
}
