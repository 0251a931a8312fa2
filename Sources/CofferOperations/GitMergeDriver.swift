import CofferSystem

/// Registers the vault merge driver in a git repository's local config (no secrets in argv), and notices a clone
/// that has not.
package enum GitMergeDriver {
  package static let driver = "coffer merge-driver %O %A %B %P"

  /// Registers the driver when `root` has a `.git` directory (what `init` does for a new project); never fails.
  package static func register(in root: String) {
    guard Files.isDirectory(Paths.join(root, ".git")) else { return }
    try? install(in: root)
  }

  /// Registers the driver in the git repository that holds `root` (`init --merge-driver`, once per clone).
  /// - Throws: ``UsageError`` when `root` is not in a git repository or git cannot write its config.
  package static func install(in root: String) throws {
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
  package static func isMissing(in root: String) -> Bool {
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
  package static let missingNote =
    "this clone has not registered coffer's merge driver, so git would merge vault files as text: run `coffer init --merge-driver` once"
}
