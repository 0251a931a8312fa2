import ArgumentParser
import CofferCore
import CofferSystem
import CofferVault

extension CofferCommand {
  /// `coffer merge-driver`: git's merge driver for vault files (see docs/vault-format.md, "Merging").
  struct MergeDriver: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "merge-driver",
      abstract: "Merge two versions of a vault file (git calls this; `coffer init` registers it).",
      discussion: """
        Registered with `git config merge.coffer.driver "coffer merge-driver %O %A %B %P"` and the attribute \
        `merge=coffer` on .coffer/vault/*.vault. Different secrets changed on two branches merge cleanly; the \
        same secret changed on both is a conflict. Needs an identity that can open the vault.
        """)

    @Argument(help: "The common ancestor's version (%O).") var base: String
    @Argument(help: "Our version (%A); the result is written here.") var ours: String
    @Argument(help: "Their version (%B).") var theirs: String
    @Argument(help: "The path in the repository (%P), for messages.") var path: String?

    mutating func run() throws {
      let label = path ?? ours
      let baseBytes = try Files.read(base)
      let identities = try IdentityLoader.load()
      // Trust model v2: the project's approved policy verifies both sides; this identity re-seals the result.
      let ws = try? Workspace.load(project: nil, verbose: false)
      let chain = try ws?.policyChain()
      let signer = try chain.flatMap { c in try ws?.signer(c, identities: identities) }
      let merged = try VaultMerge.merge(
        base: baseBytes.isEmpty ? nil : baseBytes, ours: try Files.read(ours), theirs: try Files.read(theirs),
        file: label, identities: identities, trust: chain, signer: signer)
      try Files.writeAtomically(ours, merged, newFileMode: 0o600)
      ErrorRenderer.note("merged \(label)")
    }
  }
}

/// Registers the vault merge driver in a git repository's local config (no secrets in argv), and notices a clone
/// that has not.
enum GitMergeDriver {
  static let driver = "coffer merge-driver %O %A %B %P"

  /// Registers the driver when `root` has a `.git` directory (what `init` does for a new project); never fails.
  static func register(in root: String) {
    guard Files.isDirectory(Paths.join(root, ".git")) else { return }
    try? install(in: root)
  }

  /// Registers the driver in the git repository that holds `root` (`init --merge-driver`, once per clone).
  /// - Throws: ``UsageError`` when `root` is not in a git repository or git cannot write its config.
  static func install(in root: String) throws {
    for (key, value) in [("merge.coffer.name", "coffer vault merge"), ("merge.coffer.driver", driver)] {
      let r = try Subprocess.run(["git", "-C", root, "config", key, value])
      guard r.status == 0 else {
        throw UsageError(
          description: "cannot register the merge driver in \(root): \(r.stderr.split(separator: "\n").first ?? "git failed")",
          hints: ["run it inside a git clone of the project"])
      }
    }
  }

  /// Whether `root` is a git clone whose `.gitattributes` asks for the driver while git does not know it, so vault
  /// files would merge as plain text and fail authentication. The common cases cost two small file reads; only a
  /// clone whose own config lacks the driver asks git (it may be registered globally).
  static func isMissing(in root: String) -> Bool {
    guard Files.isDirectory(Paths.join(root, ".git")),
      let attributes = try? Files.read(Paths.join(root, ".gitattributes")),
      String(decoding: attributes, as: UTF8.self).contains("merge=coffer")
    else { return false }
    if let config = try? Files.read(Paths.join(root, ".git/config")),
      String(decoding: config, as: UTF8.self).contains("[merge \"coffer\"]")
    {
      return false
    }
    guard let r = try? Subprocess.run(["git", "-C", root, "config", "--get", "merge.coffer.driver"]) else { return false }
    return r.status != 0
  }

  /// The note a vault write prints in such a clone.
  static let missingNote =
    "this clone has not registered coffer's merge driver, so git would merge vault files as text: run `coffer init --merge-driver` once"
}
