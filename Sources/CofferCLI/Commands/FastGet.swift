import CofferCore
import CofferSystem
import CofferVault

/// `coffer get NAME` without ArgumentParser and without decoding coffer.yaml, when nothing needs them: the same
/// output, audit line and exit status as ``CofferCommand/Get`` (docs/performance.md, "get").
///
/// It applies only when the answer is certain without the manifest: the environment is named (`--env` or
/// `COFFER_ENV`) and has a format-2 vault; `run`'s manifest cache (``RunEnvironment/RequiredNamesCache``) matches
/// coffer.yaml's SHA-256 and declares the environment, without a `store:`; the secret is not composed; coffer.yaml asks for exactly the
/// approved policy (no pending change to name); the identity is a member of the approved policy (the audit's actor)
/// and can read the value. Anything else, including every error, returns `false` before anything is printed or
/// recorded, and the command goes through ArgumentParser and ``CofferCommand/Get`` as before, which reports it.
enum FastGet {
  /// `get NAME [--env E | -e E] [--project DIR] [--version N] [-n | --no-newline] [--json]`; nil for anything else.
  struct Arguments: Equatable {
    var name = ""
    var env: String?
    var project: String?
    var version: Int?
    var noNewline = false
    var json = false

    init?(_ args: ArraySlice<String>) {
      var scan = ArgumentScan(args)
      var positional: [String] = []
      while !scan.atEnd {
        let arg = scan.current
        if arg == "-n" || arg == "--no-newline" {
          noNewline = true
        } else if arg == "--json" {
          json = true
        } else if let v = scan.value("--env", "-e") {
          guard let v, !v.hasPrefix("-") else { return nil }
          env = v
        } else if let v = scan.value("--project") {
          guard let v, !v.hasPrefix("-") else { return nil }
          project = v
        } else if let v = scan.value("--version") {
          guard let v, let n = Int(v), n > 0 else { return nil }
          version = n
        } else if arg.hasPrefix("-") {
          return nil  // help, --verbose, anything unusual: ArgumentParser
        } else {
          positional.append(arg)
        }
        scan.advance()
      }
      guard positional.count == 1 else { return nil }
      name = positional[0]
    }
  }

  /// Prints the value and records the read, or returns `false` (having printed and recorded nothing) when the
  /// fast path does not apply.
  /// - Throws: only what happens after the read is recorded: writing stdout, or `--json` of a value that is not
  ///   UTF-8 (``UsageError``), as ``CofferCommand/Get`` does.
  static func run(_ a: Arguments) throws -> Bool {
    guard SecretName.isValid(a.name), let environment = a.env ?? Workspace.environmentVariable,
      RunEnvironment.isSafeEnvironmentName(environment),
      let project = try? Project.locate(from: a.project)
    else { return false }
    let path = project.vaultPath(environment)
    Heap.prepare(forVault: path)
    guard Files.exists(path), let manifestBytes = try? Files.read(project.manifestPath),
      let facts = facts(project, manifest: manifestBytes, environment: environment, projectOption: a.project),
      facts.environments.contains(environment), !facts.stores.contains(environment), !facts.composed.contains(a.name),
      // The identity first: it activates the verified-signature memo the policy chain is checked with.
      let identities = try? IdentityLoader.load(),
      let chain = try? Trust.chain(for: project),
      RunEnvironment.policyDigest(chain.head.body) == facts.policyDigest,
      let bytes = try? Files.read(path),
      let vault = try? VaultFile.open(bytes, file: project.display(path), with: identities, trust: chain),
      vault.formatVersion == 2, vault.environment == environment,
      vault.current(a.name) != nil, vault.isReadable(a.name, version: a.version),
      let value = try? vault.value(of: a.name, version: a.version)
    else { return false }
    // The audit's actor is the member's name in the approved policy, as Workspace.author gives it.
    let mine = Swift.Set(identities.map(\.recipient.encoded))
    guard let member = chain.head.policy.members.first(where: { mine.contains($0.recipient) }) else { return false }
    try Auditor(root: project.root, actor: member.name, identities: identities)
      .recordRead("read", vault: vault, values: [(a.name, value)])
    try CofferCommand.Get.print(a.name, value, json: a.json, noNewline: a.noNewline)
    // The process exits next: freeing the parsed vault's thousands of objects first would be wasted work.
    kept = vault
    return true
  }

  nonisolated(unsafe) private static var kept: Vault?

  /// The manifest's facts from `run`'s cache; on a miss the manifest is decoded once and the cache written, so the
  /// next command takes the fast path.
  /// - Parameter manifest: coffer.yaml's bytes, read before any decoding (the cache records their SHA-256).
  static func facts(_ project: Project, manifest: [UInt8], environment: String, projectOption: String?) -> RunEnvironment.ManifestFacts? {
    if let cached = RunEnvironment.RequiredNamesCache.lookup(project, manifest: manifest, environment: environment, names: false) {
      return cached
    }
    guard let ws = try? Workspace.load(project: projectOption, verbose: false) else { return nil }
    RunEnvironment.RequiredNamesCache.store(project, manifest: manifest, ws.manifest)
    return RunEnvironment.RequiredNamesCache.lookup(project, manifest: manifest, environment: environment, names: false)
  }
}
