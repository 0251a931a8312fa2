import CofferCore
import CofferVault

/// `git:` imports: fetched with `git` into a cache and pinned in the project's `coffer.lock` (docs/manifest.md,
/// "Git imports").
///
/// The cache is `$XDG_CACHE_HOME/coffer/imports` (else `~/.cache/coffer/imports`), one bare repository per URL.
/// Loading uses the pinned commit from the cache without fetching when it is there (so a failed or impossible fetch
/// does not matter), fetches only when it is not, and refuses content whose SHA-256 differs from the pin.
package struct GitImports {
  /// One pin: which commit of which repository, and the SHA-256 of the imported manifest's bytes.
  package struct Pin: Sendable, Equatable {
    /// The repository URL or path, as written in `git:`.
    package var url: String
    /// The ref as written (`HEAD` when none was given).
    package var ref: String
    /// The path as written (`.` when none was given).
    package var path: String
    /// The pinned commit, 40 hex digits.
    package var commit: String
    /// The SHA-256 of the imported file's bytes, hex.
    package var sha256: String
  }

  /// The lock file's path.
  package let lockPath: String
  /// The cache directory.
  package let cacheDirectory: String
  /// The pins read from the lock file (and, in update mode, the new ones).
  package private(set) var pins: [Pin]
  /// Whether to move pins to the refs' current commits (`coffer imports update`) instead of using the lock.
  package let updating: Bool

  /// Reads the lock file next to a manifest (no file: no pins).
  /// - Parameters:
  ///   - manifestPath: the project's `coffer.yaml`.
  ///   - updating: `true` for `coffer imports update`.
  /// - Throws: ``SystemError`` (exit 2) for an unreadable or malformed lock file.
  package init(manifestPath: String, updating: Bool = false) throws {
    lockPath = Paths.join(Paths.parent(manifestPath), GitImports.lockName)
    cacheDirectory = GitImports.defaultCache()
    self.updating = updating
    if Files.exists(lockPath) {
      pins = try GitImports.parseLock(try Files.read(lockPath), file: lockPath)
    } else {
      pins = []
    }
  }

  /// The lock file's name, beside `coffer.yaml`.
  package static let lockName = "coffer.lock"

  static func defaultCache() -> String {
    if let explicit = ProcessEnvironment.get("COFFER_IMPORT_CACHE"), !explicit.isEmpty { return explicit }
    if let xdg = ProcessEnvironment.get("XDG_CACHE_HOME"), xdg.hasPrefix("/") {
      return Paths.join(xdg, "coffer/imports")
    }
    return Paths.join(ProcessEnvironment.get("HOME") ?? "/tmp", ".cache/coffer/imports")
  }

  /// Parses `coffer.lock`: `#` comments and lines `url<TAB>ref<TAB>path<TAB>commit<TAB>sha256`.
  static func parseLock(_ bytes: [UInt8], file: String) throws -> [Pin] {
    var pins: [Pin] = []
    for (index, line) in String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      if line.isEmpty || line.hasPrefix("#") { continue }
      let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
      guard fields.count == 5, fields[3].count == 40, fields[3].allSatisfy(\.isHexDigit), fields[4].count == 64,
        fields[4].allSatisfy(\.isHexDigit)
      else {
        throw SystemError(
          "malformed lock file", path: "\(file):\(index + 1)",
          reason: "expected url, ref, path, commit (40 hex) and sha256 (64 hex) separated by tabs",
          hints: ["run `coffer imports update` to rewrite it"])
      }
      pins.append(Pin(url: fields[0], ref: fields[1], path: fields[2], commit: fields[3], sha256: fields[4]))
    }
    return pins
  }

  /// The lock file's text for the current pins.
  package var lockText: String {
    var text = "# coffer.lock: git imports pinned by `coffer imports update`; commit this file.\n"
    text += "# url\tref\tpath\tcommit\tsha256\n"
    for pin in pins {
      text += [pin.url, pin.ref, pin.path, pin.commit, pin.sha256].joined(separator: "\t") + "\n"
    }
    return text
  }

  /// Writes the lock file atomically (mode 0644).
  package func writeLock() throws {
    try Files.writeAtomically(lockPath, Array(lockText.utf8), newFileMode: 0o644)
  }

  /// Fetches (in update mode) or reads from the cache (pinned) the manifest a `git:` import names.
  /// - Parameters:
  ///   - entry: the import.
  ///   - fail: makes an error located at the `imports:` entry.
  /// - Returns: a stable key, the display name and the file's bytes.
  mutating func resolve(
    _ entry: ManifestImport, fail: (String) -> ManifestError
  ) throws -> (key: String, display: String, bytes: [UInt8]) {
    guard let url = entry.git else { throw fail("expected git") }
    let ref = entry.ref ?? "HEAD"
    let path = entry.path ?? "."
    let repository = Paths.join(cacheDirectory, ContentHash.sha256Hex(Array(url.utf8)) + ".git")
    let index = pins.firstIndex { $0.url == url && $0.ref == ref && $0.path == path }
    let commit: String
    if updating || index == nil {
      guard updating else {
        throw fail("git import \(url) (\(ref)) is not pinned in \(GitImports.lockName); run `coffer imports update`")
      }
      do {
        try fetch(url, into: repository)
      } catch {
        throw fail("cannot fetch \(url): \(error)")
      }
      guard let resolved = try? revParse(repository, ref) else {
        throw fail("\(url) has no ref \(ref)")
      }
      commit = resolved
    } else {
      commit = pins[index!].commit
      if (try? revParse(repository, commit)) == nil {
        // Not in the cache yet (a fresh clone of the project): fetch once.
        do {
          try fetch(url, into: repository)
        } catch {
          throw fail("cannot fetch \(url) and commit \(commit.prefix(12)) is not in the cache: \(error)")
        }
        guard (try? revParse(repository, commit)) != nil else {
          throw fail("\(url) has no commit \(commit) (pinned in \(GitImports.lockName))")
        }
      }
    }
    var file = path == "." ? Project.manifestName : path
    if (try? git(["--git-dir", repository, "cat-file", "-t", "\(commit):\(file)"]).trimmed) == "tree" {
      file = Paths.join(file, Project.manifestName)
    }
    let bytes: [UInt8]
    do {
      bytes = try gitBytes(["--git-dir", repository, "cat-file", "blob", "\(commit):\(file)"])
    } catch {
      throw fail("\(url) at \(commit.prefix(12)) has no file \(file)")
    }
    let hash = ContentHash.sha256Hex(bytes)
    let pin = Pin(url: url, ref: ref, path: path, commit: commit, sha256: hash)
    if let index {
      if !updating, pins[index].sha256 != hash {
        throw fail(
          "the content of \(url) at \(commit.prefix(12)) (\(file)) changed: \(GitImports.lockName) pins sha256 \(pins[index].sha256.prefix(16))…, the fetched file has \(hash.prefix(16))…"
        )
      }
      pins[index] = pin
    } else {
      pins.append(pin)
    }
    let display = "\(url)@\(commit.prefix(12)):\(file)"
    return (key: "git:\(url)@\(commit):\(file)", display: display, bytes: bytes)
  }

  /// The pin (from the lock file as read) for an entry, if any.
  package func pin(url: String, ref: String?, path: String?) -> Pin? {
    pins.first { $0.url == url && $0.ref == (ref ?? "HEAD") && $0.path == (path ?? ".") }
  }

  private func fetch(_ url: String, into repository: String) throws {
    if !Files.exists(repository) {
      try Files.makeDirectory(cacheDirectory, mode: 0o700)
      _ = try git(["clone", "--bare", "--quiet", "--", url, repository])
    } else {
      _ = try git(["--git-dir", repository, "fetch", "--quiet", "--prune", "--tags", "--", url,
        "+refs/heads/*:refs/heads/*"])
    }
  }

  private func revParse(_ repository: String, _ ref: String) throws -> String {
    let out = try git(["--git-dir", repository, "rev-parse", "--verify", "--quiet", ref + "^{commit}"]).trimmed
    guard out.count == 40 else { throw SystemError("cannot resolve", path: ref, reason: "no such commit") }
    return out
  }

  private func git(_ args: [String]) throws -> String {
    String(decoding: try gitBytes(args), as: UTF8.self)
  }

  /// Runs git without Coffer's identity variables in its environment, never prompting for credentials.
  private func gitBytes(_ args: [String]) throws -> [UInt8] {
    let hidden: Set<String> = ["COFFER_IDENTITY", "COFFER_IDENTITY_FILE"]
    var environment = ProcessEnvironment.entries().filter { entry in
      let name = String(decoding: entry.prefix { $0 != UInt8(ascii: "=") }, as: UTF8.self)
      return !hidden.contains(name) && name != "GIT_TERMINAL_PROMPT"
    }
    environment.append(Array("GIT_TERMINAL_PROMPT=0".utf8))
    let process = try Subprocess(["git"] + args, environment: environment)
    var out: [UInt8] = []
    var err: [UInt8] = []
    process.drain { out.append(contentsOf: $0) } stderr: { err.append(contentsOf: $0) }
    let status = process.wait()
    guard status == 0 else {
      let message = String(decoding: err, as: UTF8.self).split(separator: "\n").first.map(String.init)
      throw SystemError("git failed", path: args.first ?? "git", reason: message ?? "exit status \(status)")
    }
    return out
  }
}

extension String {
  fileprivate var trimmed: String {
    var text = Substring(self)
    while let last = text.last, last == "\n" || last == "\r" || last == " " { text = text.dropLast() }
    return String(text)
  }
}
