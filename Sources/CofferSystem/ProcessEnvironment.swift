import CofferCore

#if canImport(Glibc)
  import Glibc
#endif

/// The process environment and user, read at the edge.
package enum ProcessEnvironment {
  /// The value of an environment variable, if set.
  package static func get(_ name: String) -> String? {
    guard let p = getenv(name) else { return nil }
    return String(cString: p)
  }

  /// The whole environment as `NAME=value` byte strings, in the process's order.
  package static func entries() -> [[UInt8]] {
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
  package static let identityVariables = ["COFFER_IDENTITY", "COFFER_IDENTITY_FILE"]

  /// The environment every process Coffer starts inherits (git, `run`'s command, `run --redact`'s child): Coffer's
  /// own, in order, without ``identityVariables``.
  package static func childEntries() -> [[UInt8]] {
    let prefixes = identityVariables.map { Array(($0 + "=").utf8) }
    return entries().filter { entry in !prefixes.contains { entry.starts(with: $0) } }
  }

  /// The login name of the user running Coffer (`$USER`, else the password database, else the uid).
  package static func userName() -> String {
    if let u = get("USER"), !u.isEmpty { return u }
    if let pw = getpwuid(getuid()), let n = pw.pointee.pw_name { return String(cString: n) }
    return "uid\(getuid())"
  }

  /// The user's home directory.
  package static func home() -> String {
    if let h = get("HOME"), !h.isEmpty { return h }
    if let pw = getpwuid(getuid()), let d = pw.pointee.pw_dir { return String(cString: d) }
    return "/"
  }

  /// Where Coffer keeps this user's machine-local state (the audit log, caches): `$XDG_STATE_HOME`, else
  /// `~/.local/state` (XDG Base Directory Specification). Outside every repository, so no commit can place a file
  /// there.
  package static func stateHome() -> String {
    get("XDG_STATE_HOME").flatMap { $0.isEmpty ? nil : $0 } ?? Paths.join(home(), ".local/state")
  }
}
