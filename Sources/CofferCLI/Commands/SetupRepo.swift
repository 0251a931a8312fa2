import ArgumentParser
import CofferCore
import CofferDotEnv
import CofferOperations
import CofferSync
import CofferSystem
import CofferVault

extension CofferCommand {
  /// `coffer setup-repo`: the reference guide's `setup_new_repo`.
  struct SetupRepo: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "setup-repo",
      abstract: "Create a new repository with a manifest, .gitignore, env.example and a vault, ready to commit.",
      discussion: """
        The manifest comes from --template reference (the reference system's secrets, groups and rotation), from \
        --source-env FILE (inferred from the file, as `coffer init --from`, and its values imported), from \
        --from-pulumi ORG/PROJECT/ENV (a Pulumi ESC environment whose values are pulled, with the token in \
        $PULUMI_ACCESS_TOKEN), from --from-project DIR (DIR's coffer.yaml under the new name, and the values of \
        --env, else of every environment DIR has a vault for, copied as `coffer import --from-project` does), or an \
        empty one. Refuses a folder that exists and is not empty.
        """)

    @Option(name: .long, help: ArgumentHelp("The new repository's folder (created; its name is the project name).", valueName: "path"))
    var name: String
    @Option(name: .long, help: ArgumentHelp("A .env file: infer the manifest from it and import its values.", valueName: "file"))
    var sourceEnv: String?
    @Option(name: .customLong("from-pulumi"), help: ArgumentHelp("A Pulumi ESC environment ORG/PROJECT/ENV (or ORG/ENV) to pull values from.", valueName: "ref"))
    var fromPulumi: String?
    @Option(name: .customLong("from-project"), help: ArgumentHelp("Start from the project in DIR: its manifest and its values.", valueName: "dir"))
    var fromProject: String?
    @Option(name: .long, help: ArgumentHelp("Start from a built-in manifest: reference.", valueName: "name"))
    var template: String?
    @Option(name: .long, help: "Comma-separated environments.") var environments = "development,staging,production"
    @Option(name: .long, help: ArgumentHelp("The environment imported or pulled values go to (default: the first).", valueName: "name"))
    var env: String?
    @Option(name: .long, help: ArgumentHelp("Also write the CI workflow: github (needs a pulumi-esc destination).", valueName: "kind"))
    var ci: String?
    @Option(name: .long, help: ArgumentHelp("The Pulumi Cloud API for --from-pulumi.", valueName: "url"))
    var pulumiAPI = "https://api.pulumi.com"

    mutating func run() throws {
      let sources = [sourceEnv != nil, fromPulumi != nil, template != nil, fromProject != nil].filter { $0 }.count
      guard sources <= 1 else {
        throw UsageError(description: "give at most one of --source-env, --from-pulumi, --template and --from-project")
      }
      if let template, template != "reference" {
        throw UsageError(description: "--template \(template): unknown", hints: ["the built-in template is: reference"])
      }
      let root = Paths.absolute(name)
      if Files.exists(root), !Files.list(root).isEmpty {
        throw UsageError(description: "refusing to set up \(name): it exists and is not empty")
      }
      var envs = environments.split(separator: ",").map { String($0).trimmingSpaces() }.filter { !$0.isEmpty }
      let projectName = VaultGrammar.sanitizeAuthor(Paths.lastComponent(root))
      let esc = try fromPulumi.map(EscReference.init(parsing:))
      // Everything that can fail on input is read before anything is created.
      let imported = try sourceEnv.map { try TemplateImport.read([$0], valuesAreReal: true) }
      let sourceDocument = try sourceEnv.map { try DotEnvParser.parse(try Files.read($0), file: $0).document }
      let values = sourceDocument?.values
      if let sourceEnv, let sourceDocument {
        for v in sourceDocument.values {
          try SecretNames.validate(v.name, at: "\(sourceEnv):\(sourceDocument.line(of: v.name) ?? 1)")
        }
      }
      if template == "reference" { envs = ReferenceTemplate.environments }
      let sourceProject = try fromProject.map { try ProjectCopy.loadSource($0, verbose: false) }
      if let sourceProject {
        envs = sourceProject.manifest.environments
        if let env { _ = try sourceProject.environment(named: env) }
        let imports = !(try Manifest.decode(try Files.read(sourceProject.project.manifestPath), file: Project.manifestName).imports.isEmpty)
        if imports, Paths.resolved(Paths.parent(root)) != Paths.resolved(Paths.parent(sourceProject.project.root)) {
          throw UsageError(
            description: "the coffer.yaml of \(fromProject ?? "") has imports, whose paths are relative to its folder: set up the new repository beside it",
            hints: ["coffer setup-repo --name \(SourceManifest.beside(fromProject ?? ".", Paths.lastComponent(root))) --from-project \(fromProject ?? "")"])
        }
      }
      let target = env ?? envs.first ?? "development"
      guard envs.contains(target) else { throw UsageError(description: "--env \(target) is not one of \(envs.joined(separator: ", "))") }

      let identities = try SetupIdentity.loadOrCreate()
      let recipientName = VaultGrammar.sanitizeAuthor(ProcessEnvironment.userName())
      let recipient = identities[0].recipient.encoded
      var manifest: String
      if let imported {
        manifest = try imported.manifestText(project: projectName, environments: envs, recipientName: recipientName, recipient: recipient)
      } else if let sourceProject {
        manifest = try SourceManifest.renamed(try Files.read(sourceProject.project.manifestPath), project: projectName)
        if !sourceProject.manifest.recipients.isEmpty, !sourceProject.manifest.recipients.contains(where: { $0.recipient == recipient }) {
          manifest = try ManifestEditor.addingRecipient(name: recipientName, recipient: recipient, to: manifest)
        }
      } else if template == "reference" {
        manifest = try ManifestEditor.addingRecipient(name: recipientName, recipient: recipient, to: ReferenceTemplate.manifest)
      } else {
        manifest = Init.defaultManifest(project: projectName, environments: envs, recipientName: recipientName, recipient: recipient)
      }
      if let esc {
        manifest += """

          destinations:
            esc:
              type: pulumi-esc
              organization: \(esc.organization)
              project: \(esc.project)
              environment: \(esc.environment)
              from: \(target)
              api_url: \(pulumiAPI)

          """
      }
      _ = try Manifest.decode(Array(manifest.utf8), file: Project.manifestName)

      try Files.makeDirectory(root)
      if (try? Subprocess.run(["git", "init", "-q", root]))?.status != 0 {
        ErrorRenderer.warn("git init failed in \(name); continuing without a repository")
      }
      let project = Project(root: root)
      try Files.makeDirectory(project.vaultDirectory)
      try Files.writeAtomically(project.manifestPath, Array(manifest.utf8), newFileMode: 0o644)
      try GitIgnore.ensure(in: root)
      let global = try GlobalOptions.parse(["--project", root])
      let ws = try Workspace.load(global)
      try Files.writeAtomically(Paths.join(root, "env.example"), Array(TemplateWriter.render(ws.manifest).utf8), newFileMode: 0o644)
      if let values, !values.isEmpty {
        try ws.modifyVault(target, identities: identities, action: "import", detail: "setup-repo") { vault in
          let now = SystemClock.now()
          for (n, value) in values {
            try vault.set(n, to: value, group: ws.group(of: n), author: ws.author(identities), at: now)
          }
        }
        ErrorRenderer.note("imported \(values.count) values into \(target)")
      }
      if esc != nil {
        try PullAction.run(global: global, from: "esc", env: target, dryRun: false)
      }
      if let sourceProject, let fromProject {
        let environments = env.map { [$0] } ?? envs.filter { Files.exists(sourceProject.project.vaultPath($0)) }
        for environment in environments {
          try ProjectCopy.copy(
            from: sourceProject, label: fromProject, environment: environment, into: ws, environment: environment,
            names: nil, groups: nil, overwrite: false, allowPartial: false, identities: identities)
        }
      }
      if let ci { try CIWorkflow.write(kind: ci, project: root) }
      ErrorRenderer.note("set up \(name): coffer.yaml, .gitignore, .gitattributes, env.example, .coffer/vault; review and commit")
      Terminal.out(root + "\n")
    }
  }
}

/// Another project's manifest text under a new project name.
enum SourceManifest {
  /// The path of a folder named `name` beside `dir`, as the user would type it.
  static func beside(_ dir: String, _ name: String) -> String {
    let parent = Paths.parent(dir)
    return parent == "." ? name : Paths.join(parent, name)
  }

  /// Replaces the top-level `project:` line (or adds one after `version:`), keeping every other byte.
  /// - Throws: ``UsageError`` when the text is not UTF-8.
  static func renamed(_ bytes: [UInt8], project: String) throws -> String {
    guard let text = String(validating: bytes, as: UTF8.self) else {
      throw UsageError(description: "the source project's coffer.yaml is not UTF-8 text")
    }
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    if let index = lines.firstIndex(where: { $0.hasPrefix("project:") }) {
      lines[index] = "project: " + yamlScalar(project)
    } else {
      let after = lines.firstIndex(where: { $0.hasPrefix("version:") }).map { $0 + 1 } ?? 0
      lines.insert("project: " + yamlScalar(project), at: after)
    }
    return lines.joined(separator: "\n")
  }
}

/// `ORG/PROJECT/ENV` or `ORG/ENV` (project `default`), as `pulumi env` names ESC environments.
struct EscReference {
  let organization: String
  let project: String
  let environment: String

  init(parsing text: String) throws {
    let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
    let ok = parts.allSatisfy { !$0.isEmpty && VaultGrammar.isToken($0) }
    switch (parts.count, ok) {
    case (3, true): (organization, project, environment) = (parts[0], parts[1], parts[2])
    case (2, true): (organization, project, environment) = (parts[0], "default", parts[1])
    default: throw UsageError(description: "--from-pulumi \(text): expected ORG/PROJECT/ENV or ORG/ENV")
    }
  }
}

/// The identity for a new repository: the configured one, or a new one at the configured path.
enum SetupIdentity {
  static func loadOrCreate() throws -> [AgeX25519Identity] {
    if case .file(let path) = IdentityStore.source(), IdentityStore.isMissing(path) {
      let id = AgeX25519Identity.generate()
      try IdentityStore.write(id, to: path, at: SystemClock.now())
      ErrorRenderer.note("created identity \(path) (keep it safe; never commit it)")
      return [id]
    }
    return try IdentityStore.load()
  }
}
