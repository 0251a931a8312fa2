import ArgumentParser
import CofferCore
import CofferSync
import CofferSystem
import CofferVault

/// The committed vault as an ``EnvironmentStore``: what `migrate-store` copies from or to.
struct VaultStore: EnvironmentStore, @unchecked Sendable {
  let ws: Workspace
  let environment: String
  let identities: [AgeX25519Identity]

  var location: String { "the vault \(ws.project.display(ws.project.vaultPath(environment)))" }

  func readAll() async throws -> [StoredValue] {
    guard let vault = try ws.openVault(environment, identities: identities) else { return [] }
    if !vault.unreadableGroups.isEmpty {
      throw UsageError(
        description: "\(environment): this identity cannot read groups \(vault.unreadableGroups.joined(separator: ", ")); "
          + "a migration must copy every value",
        hints: ["run it as someone who reads every group"], exitStatus: .accessDenied)
    }
    return try vault.currentValues().map { StoredValue(name: $0.name, value: $0.value, version: vault.current($0.name)?.number ?? 0) }
      .sorted { $0.name < $1.name }
  }

  func read(_ name: String, version: Int?) async throws -> StoredValue? {
    guard let vault = try ws.openVault(environment, identities: identities), vault.current(name) != nil else { return nil }
    let value = try ws.value(of: name, version: version, in: vault, environment: environment, identities: identities)
    return StoredValue(name: name, value: value, version: version ?? vault.current(name)?.number ?? 0)
  }

  func write(_ name: String, _ value: SecretValue) async throws -> Int {
    try ws.modifyVault(environment, identities: identities) { vault in
      try vault.set(name, to: value, group: ws.group(of: name), author: ws.author(identities), at: SystemClock.now())
    }
  }

  func writeAll(_ values: [(name: String, value: SecretValue)]) async throws {
    try ws.modifyVault(environment, identities: identities, action: "migrate-store", detail: "from the store") { vault in
      for (name, value) in values {
        try vault.set(name, to: value, group: ws.group(of: name), author: ws.author(identities), at: SystemClock.now())
      }
    }
  }

  func versions(of name: String) async throws -> [StoredVersion] {
    guard let vault = try ws.openVault(environment, identities: identities) else { return [] }
    return vault.versions(of: name).map { StoredVersion(number: $0.number, created: $0.created.rfc3339) }
  }
}

extension CofferCommand {
  /// `coffer migrate-store --env E --to NAME|vault`: move an environment between the vault and a server store.
  struct MigrateStore: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "migrate-store",
      abstract: "Move an environment's values from the vault to a server store (or back), with a plan first.",
      discussion: """
        Copies the current values (not the history) of the environment to the destination named by --to (an \
        openbao or aws-secrets-manager destination whose from: is the environment), sets store: on the environment \
        in coffer.yaml and removes the vault file (its history stays in git). --to vault copies the server's \
        values into the vault and removes store:; the server keeps its copy. Prints the plan; asks on a terminal, \
        and without a terminal does nothing unless --yes. Names already at the target with another value are \
        overwritten; names only at the target are left there. Recorded in the audit log.
        """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var env: EnvironmentOption
    @Option(name: .long, help: ArgumentHelp("The destination to move to, or `vault`.", valueName: "name"))
    var to: String
    @Flag(name: .long, help: "Do it without asking.") var yes = false

    mutating func run() throws {
      let (to, yes) = (self.to, self.yes)
      let option = env
      try Workspace.underLock(global) { ws in
        let environment = try ws.environment(option)
        try StoreMigration.run(ws, environment: environment, to: to, yes: yes)
      }
    }
  }
}

/// The steps of `migrate-store`, under the project lock.
enum StoreMigration {
  static func run(_ ws: Workspace, environment: String, to target: String, yes: Bool) throws {
    let current = ws.manifest.store(of: environment)
    let manifestFile = ws.project.display(ws.project.manifestPath)
    let vaultFile = ws.project.vaultPath(environment)
    let toVault = target == "vault"
    if toVault, current == nil {
      throw UsageError(description: "\(environment) is already kept in the vault (it has no store: in \(manifestFile))")
    }
    if !toVault, current == target, !Files.exists(vaultFile) {
      throw UsageError(description: "\(environment)'s store is already \(target)")
    }
    let bytes = try Files.read(ws.project.manifestPath)
    let specs = try Manifest.decodeDestinations(bytes, file: manifestFile, merged: ws.manifest)
    let storeName = toVault ? current! : target
    guard let spec = specs.first(where: { $0.name == storeName }) else {
      throw UsageError(
        description: "no destination named \(storeName)",
        hints: ["the manifest declares: \(specs.map(\.name).joined(separator: ", "))"])
    }
    switch spec.target {
    case .openBao, .awsSecretsManager: break
    default:
      throw UsageError(description: "\(storeName) is of type \(spec.typeName); a store must be of type openbao or aws-secrets-manager")
    }
    guard spec.from == environment else {
      throw UsageError(
        description: "destination \(storeName) has from: \(spec.from); the store of \(environment) must have from: \(environment)")
    }
    let identities = try IdentityLoader.load()
    let vault = VaultStore(ws: ws, environment: environment, identities: identities)

    // Read both sides first: the plan says what changes, and nothing is written when either cannot be read.
    let (source, existing): ([StoredValue], [StoredValue])
    if toVault {
      let server = try StoreEnvironment.with(ws, spec) { try await $0.readAll() }
      source = server
      existing = try AsyncBridge.run { try await vault.readAll() }
    } else {
      source = try AsyncBridge.run { try await vault.readAll() }
      existing = try StoreEnvironment.with(ws, spec) { try await $0.readAll() }
    }
    let had = Dictionary(existing.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
    var changes: [(name: String, value: SecretValue)] = []
    var lines: [String] = []
    for entry in source {
      switch had[entry.name] {
      case nil:
        lines.append("  create    \(entry.name)")
        changes.append((entry.name, entry.value))
      case let value? where value.reveal() != entry.value.reveal():
        lines.append("  update    \(entry.name)")
        changes.append((entry.name, entry.value))
      default:
        lines.append("  unchanged \(entry.name)")
      }
    }
    let names = Set(source.map(\.name))
    for entry in existing where !names.contains(entry.name) { lines.append("  keep      \(entry.name) (only at the target)") }
    let from = toVault ? "store \(storeName)" : "the vault"
    let dest = toVault ? "the vault" : "store \(storeName)"
    var plan = "migrate-store: \(environment) from \(from) to \(dest)\n" + lines.map { $0 + "\n" }.joined()
    plan += "  then: " + (toVault
      ? "remove store: from \(environment) in \(manifestFile) (the server keeps its copy)"
      : "set store: \(storeName) on \(environment) in \(manifestFile)"
        + (Files.exists(vaultFile) ? " and remove \(ws.project.display(vaultFile)) (its history stays in git)" : ""))
      + "\n"
    Terminal.out(plan)
    if !yes {
      guard Terminal.isTTY(0), Terminal.isTTY(2) else {
        throw UsageError(
          description: "not a terminal: nothing was written", hints: ["run `coffer migrate-store --env \(environment) --to \(target) --yes` to do it"])
      }
      Terminal.err("proceed? [y/N] ")
      guard let answer = readLine(), answer.lowercased() == "y" || answer.lowercased() == "yes" else {
        ErrorRenderer.note("nothing written")
        return
      }
    }
    let auditor = ws.auditor(identities)
    let copied = changes
    do {
      if toVault {
        StoreCommands.migrating = true
        defer { StoreCommands.migrating = false }
        if !copied.isEmpty {
          try ws.modifyVaultHoldingLock(environment, identities: identities, action: "migrate-store", detail: "from store \(storeName)") { v in
            for (name, value) in copied {
              try v.set(name, to: value, group: ws.group(of: name), author: ws.author(identities), at: SystemClock.now())
            }
          }
        }
      } else {
        try StoreEnvironment.with(ws, spec) { store in try await store.writeAll(copied) }
      }
    } catch {
      try? auditor.record(
        "migrate-store", environment: environment, secrets: copied.map(\.name), destination: "store:" + storeName,
        outcome: "failed", detail: "\(from) to \(dest): \(error)", durable: true)
      throw error
    }
    // The manifest edit, then the old vault file: a failure in between leaves both, which every command refuses
    // until this is run again (it then finds nothing left to copy).
    let text = String(decoding: bytes, as: UTF8.self)
    let edited = try ManifestEditor.settingStore(toVault ? nil : storeName, environment: environment, in: text, file: manifestFile)
    if edited != text { try Files.writeAtomically(ws.project.manifestPath, Array(edited.utf8)) }
    if !toVault, Files.exists(vaultFile) { try Files.remove(vaultFile) }
    try auditor.record(
      "migrate-store", environment: environment, secrets: copied.map(\.name), destination: "store:" + storeName,
      detail: "\(from) to \(dest)", durable: true)
    ErrorRenderer.note("moved \(environment) to \(dest): \(copied.count) written, \(source.count - copied.count) unchanged")
  }
}
