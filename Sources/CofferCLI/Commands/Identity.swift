import ArgumentParser
import CofferOperations
import CofferSystem
import CofferVault

/// `coffer identity`: the line to publish under `recipients:`.
struct IdentityCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "identity",
    abstract: "Print this identity's recipient and signing key, as a recipients: entry of coffer.yaml expects them.",
    discussion: "The signing key is derived from the age identity (docs/vault-format.md, \"Signing keys\"); nothing new is stored.")

  @OptionGroup var global: GlobalOptions

  mutating func run() throws {
    let identities = try IdentityLoader.load()
    for id in identities {
      Terminal.out("\(id.recipient.encoded) \(SigningIdentity(deriving: id).publicKey.encoded)\n")
    }
  }
}
