import ArgumentParser
import CofferCore
import CofferDotEnv
import CofferOperations
import CofferSystem
import CofferVault

extension CofferCommand {
  /// `coffer rewrap`: re-wrap data keys to the manifest's recipients.
  struct Rewrap: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "rewrap",
      abstract: "Bring every vault's keys in line with the access policy: re-wrap them to added readers, re-key what a removed one held.",
      discussion: """
        A key is never re-wrapped away from someone who held it (they may have kept it): the group gets a fresh \
        key, every version is re-sealed and its secrets are marked as needing rotation. When this identity cannot \
        read such a group, nothing is written and rewrap names it. Under trust model v2 the approved policy \
        (.coffer/policy) decides, not coffer.yaml's pending edits; `coffer access revoke` does this as part of the \
        revocation.
        """)

    @OptionGroup var global: GlobalOptions
    @Option(name: [.customShort("e"), .long], help: "Only this environment.") var env: String?

    mutating func run() throws {
      let ws = try Workspace.load(global)
      let identities = try IdentityLoader.load()
      let environments = try env.map { [try ws.environment(EnvironmentOption(env: $0))] } ?? ws.manifest.environments
      for environment in environments where Files.exists(ws.project.vaultPath(environment)) {
        let wrap = try ws.wrapPolicy(environment, fallback: identities)
        try ws.modifyVault(environment, identities: identities, action: "rewrap") { vault in
          let skipped = try vault.rewrap(wrap, at: SystemClock.now())
          if !skipped.isEmpty {
            throw AccessDenied(
              description: "cannot re-key \(skipped.joined(separator: ", ")) in \(environment): this identity cannot read them, and their keys may not be re-wrapped",
              hints: ["one of their readers runs `coffer rewrap --env \(environment)`, or `coffer access revoke NAME` re-keys and records the revocation"])
          }
        }
        ErrorRenderer.note("re-wrapped \(environment)")
      }
    }
  }
}
