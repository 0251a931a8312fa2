import ArgumentParser
import CofferCore
import CofferOperations
import CofferSystem
import CofferVault

extension CofferCommand {
  /// `coffer init`: start a project here.
  struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "init", abstract: "Create coffer.yaml and .coffer/ in this directory, and an identity if you have none.",
      discussion: """
        Writes coffer.yaml (refusing to overwrite one), creates .coffer/vault/, adds .env files and Coffer's local \
        state to .gitignore, creates an identity if none is configured, and adds its recipient to the manifest's \
        `recipients:` map under your user name. With --from, the manifest declares every variable of the given \
        templates (.env.example, .env.sample, example.env, compose files, GitHub workflows), each inferred as a \
        secret or a plain setting with a group, `required`, a description and (for settings and placeholders) an \
        example; what was inferred and why is printed on stderr, never a value.
        """)

    @Option(name: .long, help: "Project name (default: the directory's name).")
    var projectName: String?

    @Option(name: .long, help: "Comma-separated environments.")
    var environments = "development,staging,production"

    @Option(name: .long, help: "Your name in the recipients map (default: your user name).")
    var name: String?

    @Option(name: .long, help: ArgumentHelp("Create the project in DIR instead of the current directory.", valueName: "dir"))
    var project: String?

    @Option(name: .long, help: ArgumentHelp("In an existing project, write a CI workflow instead (github: .github/workflows/coffer-sync.yml).", valueName: "kind"))
    var ci: String?
    @Option(name: .long, parsing: .upToNextOption, help: ArgumentHelp("Declare the variables of these templates.", valueName: "file"))
    var from: [String] = []
    @Flag(name: .long, help: "In an existing clone, register the vault merge driver in its git config (once per clone).")
    var mergeDriver = false

    mutating func run() throws {
      if let ci { return try CIWorkflow.write(kind: ci, project: project) }
      if mergeDriver {
        let root = try Project.locate(from: project).root
        try GitMergeDriver.install(in: root)
        ErrorRenderer.note("registered the vault merge driver in \(root)'s git config")
        return
      }
      let root = Paths.absolute(project ?? Paths.currentDirectory())
      let target = Project(root: root)
      if Files.exists(target.manifestPath) {
        throw UsageError(
          description: "refusing to overwrite \(target.display(target.manifestPath))",
          hints: ["edit it, or remove it first to start over"])
      }
      let envs = environments.split(separator: ",").map { String($0).trimmingSpaces() }.filter { !$0.isEmpty }
      guard !envs.isEmpty, envs.allSatisfy({ VaultGrammar.isToken($0) && $0.first?.isLowercase ?? false || $0.first?.isNumber ?? false }) else {
        throw UsageError(description: "--environments: expected names like development,staging,production")
      }
      let projectName = (self.projectName ?? Paths.lastComponent(root)).trimmingSpaces()
      let recipientName = VaultGrammar.sanitizeAuthor(name ?? ProcessEnvironment.userName())
      let imported = from.isEmpty ? nil : try TemplateImport.read(from)

      // Identity: reuse the configured one, or make one at the configured path.
      let identities: [AgeX25519Identity]
      switch IdentityStore.source() {
      case .environment:
        identities = try IdentityStore.load()
      case .file(let path):
        if !IdentityStore.isMissing(path) {
          identities = try IdentityStore.load()
        } else {
          let id = AgeX25519Identity.generate()
          try IdentityStore.write(id, to: path, at: SystemClock.now())
          ErrorRenderer.note("created identity \(path) (keep it safe; never commit it)")
          identities = [id]
        }
      }
      let recipient = identities[0].recipient.encoded
      // Trust model v2: the recipient is published with its signing key, and the first approved policy names
      // this user its admin (docs/access.md).
      let signing = SigningIdentity(deriving: identities[0])
      let published = "\(recipient) \(signing.publicKey.encoded)"

      var yaml = Init.defaultManifest(project: projectName, environments: envs, recipientName: recipientName, recipient: published)
      if let imported {
        yaml = try imported.manifestText(project: projectName, environments: envs, recipientName: recipientName, recipient: published)
        imported.report()
      }
      yaml = Init.addingAdmins(yaml, recipientName: recipientName)
      // Validate what we are about to write with the real decoder.
      let manifest = try Manifest.decode(Array(yaml.utf8), file: Project.manifestName)
      let chain = try PolicyChain.genesis(
        PolicyBody(AccessPolicy(manifest: manifest)), signer: recipientName, identity: signing, at: SystemClock.now(),
        project: PolicyChain.newProjectID())
      try Files.makeDirectory(target.vaultDirectory)
      try Files.writeAtomically(target.manifestPath, Array(yaml.utf8), newFileMode: 0o644)
      try Files.writeAtomically(target.policyPath, chain.serialized(), newFileMode: 0o644)
      // This clone now knows the new project at this path (a project re-created here replaces an older memory).
      TrustMemory.rememberRoot(target.root, project: chain.project, digest: ContentHash.sha256Hex(Array(target.root.utf8)))
      TrustMemory.remember(project: chain.project, .init(epoch: 1, hash: chain.head.hash))
      yaml = ""
      try GitIgnore.ensure(in: root)
      ErrorRenderer.note("wrote \(target.display(target.manifestPath)) with recipient \(recipientName)")
      Terminal.out(recipient + "\n")
    }
  }

}

extension CofferCommand.Init {
  /// Adds `admins: [NAME]` after the `recipients:` block of a manifest `init` wrote.
  static func addingAdmins(_ yaml: String, recipientName: String) -> String {
    var lines = yaml.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    guard let start = lines.firstIndex(where: { $0.hasPrefix("recipients:") }) else { return yaml }
    var end = start + 1
    while end < lines.count, lines[end].hasPrefix(" ") { end += 1 }
    lines.insert("admins: [\(yamlScalar(recipientName))]", at: end)
    return lines.joined(separator: "\n")
  }

  /// The manifest `coffer init` writes: the five groups of the reference guide, one recipient, no secrets yet.
  static func defaultManifest(project: String, environments: [String], recipientName: String, recipient: String) -> String {
    """
    # Coffer manifest: every secret this project needs. Committed; holds no values.
    # Schema: docs/manifest.md
    version: 1
    project: \(yamlScalar(project))
    environments: [\(environments.joined(separator: ", "))]
    recipients:
      \(recipientName): \(recipient)
    groups:
      api-keys: { rotation: 90d, description: API keys for external services }
      database-credentials: { rotation: 180d, description: Database passwords and connection strings }
      security-tokens: { rotation: 365d, description: JWT secrets and signing keys }
      integration-credentials: { rotation: 90d, description: Credentials for integrated services }
      infrastructure-credentials: { rotation: 90d, description: Cloud provider credentials }
    secrets: {}

    """
  }
}

extension CofferCommand {
  /// `coffer keygen`: make a new identity.
  struct Keygen: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "keygen", abstract: "Create a new age X25519 identity (0600) and print its recipient.",
      discussion: "Without -o, writes to $COFFER_IDENTITY_FILE or ~/.config/coffer/identity.txt, refusing to overwrite.")

    @Option(name: .shortAndLong, help: ArgumentHelp("Write the identity to FILE.", valueName: "file"))
    var output: String?

    mutating func run() throws {
      let path: String
      if let output {
        path = output
      } else if case .file(let p) = IdentityStore.source() {
        path = p
      } else {
        path = IdentityStore.defaultPath
      }
      let id = AgeX25519Identity.generate()
      try IdentityStore.write(id, to: path, at: SystemClock.now())
      ErrorRenderer.note("wrote identity \(path)")
      Terminal.out(id.recipient.encoded + "\n")
    }
  }
}

/// Keeps Coffer's files out of git and its vaults' line endings stable.
enum GitIgnore {
  static let ignoreLines = [".env", ".env.*", "!.env.example", "!.env.sample", ".coffer/.lock", ".coffer/state/", ".coffer/**/.*.tmp-*"]
  static let attributeLines = [".coffer/vault/*.vault text eol=lf merge=coffer", ".coffer/policy text eol=lf"]

  static func ensure(in root: String) throws {
    try append(lines: ignoreLines, to: Paths.join(root, ".gitignore"), header: "# coffer: local secrets and state")
    try append(lines: attributeLines, to: Paths.join(root, ".gitattributes"), header: "# coffer: vault files keep LF and merge with `coffer merge-driver`")
    GitMergeDriver.register(in: root)
  }

  static func append(lines: [String], to path: String, header: String) throws {
    var text = Files.exists(path) ? String(decoding: try Files.read(path), as: UTF8.self) : ""
    let present = Set(text.split(separator: "\n").map { String($0).trimmingSpaces() })
    let missing = lines.filter { !present.contains($0) }
    guard !missing.isEmpty else { return }
    if !text.isEmpty, !text.hasSuffix("\n") { text += "\n" }
    text += header + "\n" + missing.joined(separator: "\n") + "\n"
    try Files.writeAtomically(path, Array(text.utf8), newFileMode: 0o644)
  }
}

func yamlScalar(_ s: String) -> String { YAMLText.scalar(s) }

extension String {
  func trimmingSpaces() -> String {
    var s = Substring(self)
    while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
    while let l = s.last, l == " " || l == "\t" { s.removeLast() }
    return String(s)
  }
}
