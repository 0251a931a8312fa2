import CofferCore
import CofferVault

#if canImport(Glibc)
  import Glibc
#endif

/// Finds the user's age identity: `COFFER_IDENTITY` (the key text, for CI), else `COFFER_IDENTITY_FILE`, else
/// `$XDG_CONFIG_HOME/coffer/identity.txt` (default `~/.config/coffer/identity.txt`).
package enum IdentityStore {
  /// Where the identity comes from.
  package enum Source: Sendable, Equatable {
    /// The `COFFER_IDENTITY` variable.
    case environment
    /// A file.
    case file(String)
  }

  /// The default identity file path.
  package static var defaultPath: String {
    let base = ProcessEnvironment.get("XDG_CONFIG_HOME").flatMap { $0.isEmpty ? nil : $0 }
      ?? Paths.join(ProcessEnvironment.home(), ".config")
    return Paths.join(Paths.join(base, "coffer"), "identity.txt")
  }

  /// Where an identity would be loaded from, without reading it.
  package static func source() -> Source {
    if let text = ProcessEnvironment.get("COFFER_IDENTITY"), !text.isEmpty { return .environment }
    if let file = ProcessEnvironment.get("COFFER_IDENTITY_FILE"), !file.isEmpty { return .file(file) }
    return .file(defaultPath)
  }

  /// Whether nothing at all is at `path` (`ENOENT`): the one case where a new identity may be made there. A file
  /// that exists but cannot be reached or read is not missing; ``load()`` says why.
  package static func isMissing(_ path: String) -> Bool {
    var st = stat()
    return stat(path, &st) != 0 && errno == ENOENT && lstat(path, &st) != 0
  }

  /// Loads the identities.
  /// - Returns: one or more X25519 identities.
  /// - Throws: ``SystemError``, always with exit status 3, naming the path and the real cause: none configured or
  ///   found; a folder on the way that cannot be searched, a directory, a file that cannot be read (the system's
  ///   reason, e.g. `Permission denied`); a file readable by group or others (with a `chmod 600` hint); text that
  ///   holds no valid identity.
  package static func load() throws(SystemError) -> [AgeX25519Identity] {
    switch source() {
    case .environment:
      let text = ProcessEnvironment.get("COFFER_IDENTITY") ?? ""
      return try parse(text, label: "COFFER_IDENTITY")
    case .file(let path):
      var st = stat()
      guard stat(path, &st) == 0 else {
        let code = errno
        if code == ENOENT {
          var link = stat()
          if lstat(path, &link) == 0 {
            throw SystemError(
              "cannot read identity", path: path, reason: "it is a symbolic link to a file that does not exist",
              status: .accessDenied)
          }
          throw SystemError(
            "no identity at", path: path, reason: "file not found", status: .accessDenied,
            hints: ["run `coffer keygen` to make one, or set COFFER_IDENTITY / COFFER_IDENTITY_FILE"])
        }
        throw unreadable(path, code)
      }
      if (st.st_mode & S_IFMT) == S_IFDIR {
        throw SystemError(
          "cannot read identity", path: path, reason: "it is a directory, not a file", status: .accessDenied,
          hints: ["COFFER_IDENTITY_FILE names the identity file itself, e.g. ~/.config/coffer/identity.txt"])
      }
      let mode = UInt32(st.st_mode & 0o7777)
      if (st.st_mode & S_IFMT) == S_IFREG, mode & 0o077 != 0 {
        throw SystemError(
          "refusing identity file", path: path,
          reason: "it is readable by group or others (mode \(String(mode, radix: 8)))", status: .accessDenied,
          hints: ["run `chmod 600 \(path)`"])
      }
      let bytes: [UInt8]
      do {
        bytes = try Files.read(path)
      } catch {
        throw unreadable(path, error.reason)
      }
      return try parse(String(decoding: bytes, as: UTF8.self), label: path)
    }
  }

  static func unreadable(_ path: String, _ code: Int32) -> SystemError {
    unreadable(path, String(cString: strerror(code)))
  }

  /// `cannot read identity PATH: REASON`, exit 3; for a permission problem, a hint saying what must be allowed.
  static func unreadable(_ path: String, _ reason: String) -> SystemError {
    let permission = reason == String(cString: strerror(EACCES)) || reason == String(cString: strerror(EPERM))
    return SystemError(
      "cannot read identity", path: path, reason: reason, status: .accessDenied,
      hints: permission
        ? ["the identity file must be readable, and every folder above it searchable, by the user running coffer"] : [])
  }

  static func parse(_ text: String, label: String) throws(SystemError) -> [AgeX25519Identity] {
    let fromVariable = label == "COFFER_IDENTITY"
    let place = fromVariable ? "the COFFER_IDENTITY variable" : label
    do {
      let ids = try Age.parseIdentities(text)
      guard !ids.isEmpty else { throw SystemError("no identity in", path: place, reason: "no AGE-SECRET-KEY-1 line", status: .accessDenied) }
      return ids
    } catch let e as SystemError {
      throw e
    } catch let e as AgeError {
      // The variable holds the key text itself: "identity file line 1" would send the reader looking for a file.
      var detail = e.detail
      if fromVariable, detail.hasPrefix("identity file line ") {
        let rest = detail.drop { $0 != ":" }.dropFirst().drop { $0 == " " }
        let lines = text.split(separator: "\n").filter { !$0.isEmpty && !$0.hasPrefix("#") }.count
        let number = detail.dropFirst("identity file line ".count).prefix { $0 != ":" }
        detail = lines > 1 ? "line \(number): \(rest)" : String(rest)
      }
      if fromVariable, detail == "the identity file contains no identity" { detail = "it holds no AGE-SECRET-KEY-1 identity" }
      throw SystemError(
        "invalid identity in", path: place, reason: detail, status: .accessDenied,
        hints: [fromVariable
          ? "COFFER_IDENTITY must hold the text of an age identity (AGE-SECRET-KEY-1…), as `coffer keygen` or age-keygen writes it"
          : "an identity file holds AGE-SECRET-KEY-1… lines, as `coffer keygen` or age-keygen writes it"])
    } catch {
      throw SystemError("invalid identity in", path: place, reason: "\(error)", status: .accessDenied)
    }
  }

  /// Writes a new identity file in age-keygen's format, mode 0600, creating its directory (0700).
  /// - Parameters:
  ///   - identity: the identity.
  ///   - path: the file; must not exist.
  ///   - time: the creation time to record in the comment.
  /// - Throws: ``SystemError`` when the file exists or cannot be written.
  package static func write(_ identity: AgeX25519Identity, to path: String, at time: Timestamp) throws(SystemError) {
    if Files.exists(path) {
      throw SystemError("refusing to overwrite", path: path, reason: "an identity is already there")
    }
    try Files.makeDirectory(Paths.parent(path), mode: 0o700)
    let text = "# created: \(time.rfc3339)\n# public key: \(identity.recipient.encoded)\n\(identity.encoded.revealString())\n"
    try Files.writeAtomically(path, Array(text.utf8), newFileMode: 0o600)
  }
}
