import ArgumentParser
import CofferCore
import CofferOperations
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

