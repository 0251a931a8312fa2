import CofferVault

/// What this clone remembers of a project's approved access policy, so that restoring an older policy (or deleting
/// it) is noticed: the newest epoch seen and its record's hash, per project, in
/// `$XDG_STATE_HOME/coffer/trust/<project>` (outside the repository, so no commit can change it).
package enum TrustMemory {
  /// What was remembered.
  package struct Entry: Sendable, Equatable {
    /// The newest epoch seen.
    package let epoch: Int
    /// The SHA-256 (hex) of that epoch's record.
    package let hash: String

    /// Creates an entry.
    package init(epoch: Int, hash: String) {
      self.epoch = epoch
      self.hash = hash
    }
  }

  static func path(project: String, stateHome: String = ProcessEnvironment.stateHome()) -> String {
    Paths.join(stateHome, "coffer/trust/\(project)")
  }

  /// The remembered entry for a project, if any.
  /// - Parameters:
  ///   - project: the project identifier (hex).
  ///   - stateHome: the state directory (`$XDG_STATE_HOME`, or `~/.local/state`).
  package static func recall(project: String, stateHome: String = ProcessEnvironment.stateHome()) -> Entry? {
    guard let bytes = try? Files.read(path(project: project, stateHome: stateHome)) else { return nil }
    let parts = String(decoding: bytes, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" })
    guard parts.count == 2, let epoch = Int(parts[0]) else { return nil }
    return Entry(epoch: epoch, hash: String(parts[1]))
  }

  /// Remembers a newer epoch (an older one is never written over a newer, also when several processes remember at
  /// once: the check and the write happen under `coffer/trust/.lock`).
  /// - Parameters:
  ///   - project: the project identifier.
  ///   - entry: the epoch and hash.
  ///   - stateHome: the state directory (`$XDG_STATE_HOME`, or `~/.local/state`).
  package static func remember(project: String, _ entry: Entry, stateHome: String = ProcessEnvironment.stateHome()) {
    if let old = recall(project: project, stateHome: stateHome), old.epoch >= entry.epoch { return }
    let file = path(project: project, stateHome: stateHome)
    try? Files.makeDirectory(Paths.parent(file), mode: 0o700)
    // Without the lock, a process that read an older epoch could write it over a newer one another process wrote
    // meanwhile, and a restore to that newer epoch's predecessor would no longer be noticed (docs/access.md).
    let lock = try? FileLock(path: Paths.join(Paths.parent(file), ".lock"))
    defer { withExtendedLifetime(lock) {} }
    if let old = recall(project: project, stateHome: stateHome), old.epoch >= entry.epoch { return }
    try? Files.writeAtomically(file, Array("\(entry.epoch) \(entry.hash)\n".utf8), newFileMode: 0o600)
  }

  /// The projects this clone's user has seen a signed policy for, keyed by the project's root path, so a deleted
  /// policy file is noticed: `$XDG_STATE_HOME/coffer/trust/roots/<sha of root>` holds the project identifier.
  package static func rememberRoot(_ root: String, project: String, digest: String) {
    let file = Paths.join(ProcessEnvironment.stateHome(), "coffer/trust/roots/\(digest)")
    if (try? Files.read(file)).map({ String(decoding: $0, as: UTF8.self) }) == project + "\n" { return }
    try? Files.makeDirectory(Paths.parent(file), mode: 0o700)
    try? Files.writeAtomically(file, Array((project + "\n").utf8), newFileMode: 0o600)
  }

  /// The project identifier remembered for a root, if any.
  package static func recallRoot(digest: String) -> String? {
    guard let bytes = try? Files.read(Paths.join(ProcessEnvironment.stateHome(), "coffer/trust/roots/\(digest)")) else { return nil }
    let text = String(decoding: bytes, as: UTF8.self).trimmingSuffixNewline()
    return text.isEmpty ? nil : text
  }
}

extension String {
  fileprivate func trimmingSuffixNewline() -> String { hasSuffix("\n") ? String(dropLast()) : self }
}

/// Where this user's ``SignatureMemo`` lives: `$XDG_STATE_HOME/coffer/signatures.memo`, mode 0600, beside the trust
/// memory and outside every repository (docs/vault-format.md, "Verified-signature memo").
package enum SignatureMemoStore {
  static func path() -> String {
    Paths.join(ProcessEnvironment.stateHome(), "coffer/signatures.memo")
  }

  /// Makes the memo of the first identity the active one, unless one is already active.
  /// - Parameter identities: the identities loaded for this process.
  package static func activate(_ identities: [AgeX25519Identity]) {
    guard SignatureMemo.active == nil, let identity = identities.first else { return }
    SignatureMemo.activateIfNone { SignatureMemo(identity: identity, stored: (try? Files.read(path())) ?? []) }
  }

  /// Writes the memo when signatures were verified since it was read; best effort (a memo that cannot be written
  /// only means verifying again next time).
  package static func flush() {
    guard let memo = SignatureMemo.active, memo.changed else { return }
    let file = path()
    try? Files.makeDirectory(Paths.parent(file), mode: 0o700)
    try? Files.writeAtomically(file, memo.serialized, newFileMode: 0o600)
  }
}
