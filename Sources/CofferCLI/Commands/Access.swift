import ArgumentParser
import CofferCore
import CofferOperations
import CofferSystem
import CofferVault

extension CofferCommand {
  /// `coffer access`: who may read which groups in which environments.
  struct Access: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "access",
      abstract: "Show, grant and revoke read access by group and environment (docs/access.md).",
      subcommands: [List.self, Grant.self, Revoke.self, Approve.self, AddRecipient.self, Rekey.self])

    /// `coffer access approve`: sign coffer.yaml's recipients, admins and rules as the next policy epoch.
    struct Approve: ParsableCommand {
      static let configuration = CommandConfiguration(
        commandName: "approve",
        abstract: "Approve coffer.yaml's recipients, admins and access rules (admins only; trust model v2).",
        discussion: """
          Until an admin approves them, edits of recipients:, admins: and access: in coffer.yaml change nothing:           every command warns about them and writes under the approved policy. Approving signs them as the next           epoch of .coffer/policy, re-keys every group a reader lost (marking its secrets for rotation) and           re-wraps keys to added readers. Needs read access to the groups it must re-key.
          """)

      @OptionGroup var global: GlobalOptions

      mutating func run() throws {
        let identities = try IdentityLoader.load()
        try Workspace.underLock(global) { ws in
          if try !PolicyApproval.apply(ws, manifest: ws.manifest, manifestText: nil, identities: identities, verb: "approve") {
            ErrorRenderer.note("nothing to approve: coffer.yaml matches the approved policy")
          }
        }
      }
    }

    /// `coffer access add-recipient`: add a member (with their signing key) and approve.
    struct AddRecipient: ParsableCommand {
      static let configuration = CommandConfiguration(
        commandName: "add-recipient",
        abstract: "Add a recipient to coffer.yaml (the line `coffer identity` prints) and approve it (admins only).",
        discussion: "The new recipient reads nothing until `coffer access grant` (or a rule matching '*') lets them.")

      @OptionGroup var global: GlobalOptions
      @Argument(help: "The recipient's name.") var name: String
      @Argument(help: "What `coffer identity` printed for them: `age1… ed25519:…`.") var key: String

      mutating func run() throws {
        let identities = try IdentityLoader.load()
        let (name, key) = (name, key)
        try Workspace.underLock(global) { ws in try Self.add(name, key, ws: ws, identities: identities) }
      }

      static func add(_ name: String, _ key: String, ws: Workspace, identities: [AgeX25519Identity]) throws {
        let file = ws.project.display(ws.project.manifestPath)
        if let chain = try ws.policyChain() { try PolicyApproval.refusePending(ws, chain, doing: "add-recipient") }
        guard ws.manifest.recipient(named: name) == nil else {
          throw UsageError(description: "\(file): a recipient named \(name) already exists")
        }
        let text = String(decoding: try Files.read(ws.project.manifestPath), as: UTF8.self)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let start = lines.firstIndex(where: { $0.hasPrefix("recipients:") }), lines[start] == "recipients:" else {
          throw UsageError(description: "\(file): expected a block `recipients:` mapping to add to")
        }
        var end = start + 1
        while end < lines.count, lines[end].hasPrefix(" ") || lines[end].hasPrefix("#") { end += 1 }
        lines.insert("  \(name): \(key)", at: end)
        let edited = lines.joined(separator: "\n")
        var manifest = try Manifest.decode(Array(edited.utf8), file: file)
        var merged = ws.manifest
        merged.recipients = manifest.recipients
        merged.admins = manifest.admins
        manifest = merged
        try PolicyApproval.apply(ws, manifest: manifest, manifestText: edited, identities: identities, verb: "add-recipient \(name)")
      }
    }

    /// `coffer access rekey`: replace the data keys of groups (recovery after a vault was restored from before a
    /// revocation, or on suspicion).
    struct Rekey: ParsableCommand {
      static let configuration = CommandConfiguration(
        commandName: "rekey",
        abstract: "Give groups fresh data keys and re-seal their versions (readers of the groups only).",
        discussion: """
          Recovers a vault restored from before a revocation (which every command refuses): values are re-sealed           under keys only the current readers get, and secrets that a removed reader could read are marked for           rotation. Also useful on suspicion that a key leaked.
          """)

      @OptionGroup var global: GlobalOptions
      @OptionGroup var environment: EnvironmentOption
      @Option(name: .long, help: ArgumentHelp("Groups, comma-separated (default: every group of the environment).", valueName: "a,b"))
      var groups: String?

      mutating func run() throws {
        let ws = try Workspace.load(global)
        let env = try ws.environment(environment)
        let identities = try IdentityLoader.load()
        let wanted = try groups.map { try AccessScope.selector($0, what: "--groups") } ?? .any
        let now = SystemClock.now()
        let settings = Swift.Set(ws.manifest.secrets.filter { !$0.isSecret }.map(\.name))
        let done = try ws.modifyVault(env, identities: identities, action: "access", detail: "rekey", allowRolledBack: true) { vault -> [String] in
          var done: [String] = []
          for group in vault.groups where wanted.matches(group) {
            guard vault.canRead(group: group) else {
              throw AccessDenied.group(group, environment: env, secret: nil, vault: vault, manifest: ws.manifest, identities: identities)
            }
            let holders = vault.anyRecipients(ofGroup: group)
            try vault.rekey(group: group)
            let readers = Swift.Set(vault.recipients(ofGroup: group))
            for gone in holders where !readers.contains(gone) {
              vault.markExposed(group: group, to: Naming.names([gone], manifest: ws.manifest).first ?? gone, at: now, except: settings)
            }
            done.append(group)
          }
          return done
        }
        ErrorRenderer.note("\(env): re-keyed \(done.isEmpty ? "nothing" : done.joined(separator: ", "))")
      }
    }

    /// `coffer access list`: the rules expanded into a matrix.
    struct List: ParsableCommand {
      static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "Show who may read each group in each environment: the approved policy (trust model v2), else coffer.yaml's rules.")

      @OptionGroup var global: GlobalOptions
      @Flag(name: .long, help: "Print JSON: one entry per recipient, environment and group.") var json = false

      mutating func run() throws {
        let ws = try Workspace.load(global)
        // Trust model v2: the approved policy is what applies (a pending edit is named by the warning).
        let chain = try ws.policyChain()
        let policy = chain.map { ws.approvedPolicy($0) } ?? AccessPolicy(manifest: ws.manifest)
        if let chain { ErrorRenderer.note("the approved policy: epoch \(chain.head.epoch), approved by \(chain.head.signer) at \(chain.head.time.rfc3339)") }
        if !policy.isRestricted { ErrorRenderer.note("coffer.yaml has no access rules: every recipient reads everything") }
        if policy.recipients.isEmpty { ErrorRenderer.note("coffer.yaml lists no recipients") }
        Terminal.out(json ? AccessMatrix.json(policy) : AccessMatrix.text(policy))
      }
    }

    /// `coffer access grant`: add a rule, then re-wrap the data keys.
    struct Grant: ParsableCommand {
      static let configuration = CommandConfiguration(
        commandName: "grant",
        abstract: "Let a recipient read groups in environments: edits coffer.yaml's access rules, re-wraps the keys.",
        discussion: """
          Re-wrapping needs read access to the granted groups. Comments and layout of coffer.yaml are kept. \
          Without access rules every recipient already reads everything, so nothing changes.
          """)

      @OptionGroup var global: GlobalOptions
      @Argument(help: "The recipient's name in coffer.yaml.") var name: String
      @Option(name: .long, help: ArgumentHelp("Groups, comma-separated ('*' for all; 'default' for ungrouped secrets).", valueName: "a,b"))
      var groups: String
      @Option(name: [.customShort("e"), .long], help: ArgumentHelp("Environments, comma-separated ('*' for all).", valueName: "e1,e2"))
      var env: String

      mutating func run() throws {
        let scope = try AccessScope(groups: groups, environments: env)
        try AccessChange.run(global: global, name: name, scope: scope, grant: true)
      }
    }

    /// `coffer access revoke`: edit the rules, then re-key what the recipient could read.
    struct Revoke: ParsableCommand {
      static let configuration = CommandConfiguration(
        commandName: "revoke",
        abstract: "Stop a recipient reading groups: edits the rules, re-keys those groups, marks their secrets for rotation.",
        discussion: """
          Every group the recipient could read in the scope gets a fresh data key; every kept version is re-sealed \
          under it, and every secret in it is marked as needing rotation (the recipient saw the values). When the \
          recipient loses all access to an environment, its environment key is replaced too. Needs read access to \
          those groups.
          """)

      @OptionGroup var global: GlobalOptions
      @Argument(help: "The recipient's name in coffer.yaml.") var name: String
      @Option(name: .long, help: ArgumentHelp("Groups, comma-separated (default: all).", valueName: "a,b"))
      var groups: String = "*"
      @Option(name: [.customShort("e"), .long], help: ArgumentHelp("Environments, comma-separated (default: all).", valueName: "e1,e2"))
      var env: String = "*"

      mutating func run() throws {
        let scope = try AccessScope(groups: groups, environments: env)
        try AccessChange.run(global: global, name: name, scope: scope, grant: false)
      }
    }
  }
}

/// The groups and environments a grant or revoke applies to.
struct AccessScope {
  let groups: AccessSelector
  let environments: AccessSelector

  init(groups: String, environments: String) throws {
    self.groups = try Self.selector(groups, what: "--groups")
    self.environments = try Self.selector(environments, what: "--env")
  }

  static func selector(_ text: String, what: String) throws -> AccessSelector {
    let names = text.split(separator: ",").map { String($0).trimmingSpaces() }.filter { !$0.isEmpty }
    guard !names.isEmpty else { throw UsageError(description: "\(what) needs at least one name") }
    if names == ["*"] { return .any }
    guard !names.contains("*") else { throw UsageError(description: "\(what): '*' already means all; give it alone") }
    var unique: [String] = []
    for name in names where !unique.contains(name) { unique.append(name) }
    return .names(unique)
  }
}

/// Grant and revoke: the manifest edit, the checks that must pass before anything is written, and the vault work.
enum AccessChange {
  static func run(global: GlobalOptions, name: String, scope: AccessScope, grant: Bool) throws {
    let identities = try IdentityLoader.load()
    // Re-read under the lock: the manifest is what is edited.
    try Workspace.underLock(global) { ws in try change(ws, name: name, scope: scope, grant: grant, identities: identities) }
  }

  static func change(_ ws: Workspace, name: String, scope: AccessScope, grant: Bool, identities: [AgeX25519Identity]) throws {
    let manifestPath = ws.project.manifestPath
    let text = String(decoding: try Files.read(manifestPath), as: UTF8.self)
    let file = ws.project.display(manifestPath)
    // With imports the editor cannot check imported group names nor who reads them: name unknown groups, and
    // refuse imported ones (fail closed) rather than edit rules it cannot evaluate.
    if case .names(let names) = scope.groups, let local = try? Manifest.decode(Array(text.utf8), file: file),
      !local.imports.isEmpty
    {
      let known = AccessPolicy(manifest: ws.manifest).groups
      for group in names where local.group(named: group) == nil && group != AccessPolicy.ungroupedGroup {
        throw UsageError(
          description: known.contains(group)
            ? "\(file): access: \(group) is an imported group; `coffer access \(grant ? "grant" : "revoke")` edits only groups declared in this file"
            : "\(file): access: no group named \"\(group)\" is declared under groups or in an import",
          hints: known.contains(group) ? ["edit the access: rules in \(file) by hand, then run `coffer rewrap`"] : [])
      }
    }
    let edit =
      grant
      ? try ManifestEditor.grantingAccess(to: name, environments: scope.environments, groups: scope.groups, in: text, file: file)
      : try ManifestEditor.revokingAccess(from: name, environments: scope.environments, groups: scope.groups, in: text, file: file)
    if let chain = try ws.policyChain() {
      // Trust model v2: the edit takes effect as a newly approved policy (an admin signs it), never by itself. It
      // must not carry along other unapproved edits of coffer.yaml (someone else's, perhaps a commit's).
      try PolicyApproval.refusePending(ws, chain, doing: grant ? "grant" : "revoke")
      var edited = ws.manifest
      edited.access = edit.manifest.access
      guard ws.manifest.recipient(named: name) != nil else { throw UsageError(description: "no recipient named \(name) in \(file)") }
      let changed = try PolicyApproval.apply(
        ws, manifest: edited, manifestText: edit.changed ? edit.text : nil, identities: identities,
        verb: "\(grant ? "grant" : "revoke") \(name)")
      ErrorRenderer.note(
        changed
          ? "\(grant ? "granted" : "revoked") \(name): groups \(scope.groups) in \(scope.environments)"
          : "\(name) \(grant ? "could already read that" : "could not read that") (\(file) unchanged)")
      if !grant, changed { ErrorRenderer.note("run `coffer rotate status` to see what to rotate; values \(name) copied stay valid until rotated") }
      return
    }
    // The edit changes only the access rules: apply them to the merged manifest (imported groups stay known).
    var edited = ws.manifest
    edited.access = edit.manifest.access
    let after = Workspace(
      project: ws.project, manifest: edited, logger: ws.logger, provenance: ws.provenance,
      importedSecrets: ws.importedSecrets)
    let before = AccessPolicy(manifest: ws.manifest)
    let policy = AccessPolicy(manifest: edited)
    guard let recipient = ws.manifest.recipient(named: name)?.recipient else {
      throw UsageError(description: "no recipient named \(name) in \(file)")
    }
    let environments = scope.environments.expanded(over: ws.manifest.environments)

    // Plan every environment and check it can be done before writing anything.
    let plans = try ws.accessPlans(
      name: name, recipient: recipient, groups: scope.groups, environments: environments, before: before, after: policy,
      grant: grant, identities: identities)

    let author = ws.author(identities)
    let now = SystemClock.now()
    // Plain settings (`secret: false`) may be shown to anyone: a reader losing access exposes nothing to rotate.
    let settings = Swift.Set(after.manifest.secrets.filter { !$0.isSecret }.map(\.name))
    for plan in plans {
      let marked = try after.modifyVaultHoldingLock(
        plan.environment, identities: identities, action: "access", detail: "\(grant ? "grant" : "revoke") \(name)"
      ) { vault -> [String] in
        var marked: [String] = []
        for group in plan.rekey {
          try vault.rekey(group: group)
          marked += vault.markExposed(group: group, to: name, at: now, except: settings)
        }
        if plan.rekeyEnvironment { try vault.rekeyEnvironment() }
        return marked
      }
      if grant {
        ErrorRenderer.note("re-wrapped \(plan.environment)")
      } else {
        var parts: [String] = []
        if !plan.rekey.isEmpty { parts.append("re-keyed \(plan.rekey.joined(separator: ", "))") }
        if plan.rekeyEnvironment { parts.append("replaced the environment key") }
        if parts.isEmpty { parts.append("re-wrapped") }
        ErrorRenderer.note("\(plan.environment): \(parts.joined(separator: "; "))")
        if !marked.isEmpty {
          ErrorRenderer.warn(
            "\(plan.environment): \(name) could read \(marked.count) secret(s) that now need rotation: \(marked.sorted().joined(separator: ", "))")
        }
      }
    }
    if edit.changed {
      try Files.writeAtomically(manifestPath, Array(edit.text.utf8), newFileMode: 0o644)
      for line in edit.expandedRuleLines {
        ErrorRenderer.note("\(file): the rule at line \(line) listed '*'; it now lists the names it matched")
      }
    }
    let verb = grant ? "granted" : "revoked"
    let rekeyed = plans.contains { !$0.rekey.isEmpty || $0.rekeyEnvironment }
    if !edit.changed {
      ErrorRenderer.note(
        grant
          ? "\(name) could already read that (\(file) unchanged)"
          : rekeyed
            ? "\(file) already kept \(name) out; re-keyed what was still wrapped to them"
            : "\(name) could not read that (\(file) unchanged)")
    } else {
      ErrorRenderer.note("\(verb) \(name): groups \(scope.groups) in \(scope.environments) (\(file) updated by \(author))")
    }
    if !grant, plans.contains(where: { !$0.rekey.isEmpty }) {
      ErrorRenderer.note("run `coffer rotate status` to see what to rotate; values \(name) copied stay valid until rotated")
    }
  }
}

/// `coffer access list` output.
enum AccessMatrix {
  static func text(_ policy: AccessPolicy) -> String {
    var out = ""
    for environment in policy.environments {
      out += "\(environment)\n"
      var rows = [["  RECIPIENT"] + policy.groups]
      for r in policy.recipients {
        rows.append(["  " + r.name] + policy.groups.map { policy.canRead(r.name, environment: environment, group: $0) ? "read" : "-" })
      }
      out += Table.render(rows)
    }
    return out
  }

  static func json(_ policy: AccessPolicy) -> String {
    var entries: [JSON] = []
    for r in policy.recipients {
      for environment in policy.environments {
        for group in policy.groups {
          entries.append(.object([
            ("recipient", .string(r.name)), ("environment", .string(environment)), ("group", .string(group)),
            ("read", .bool(policy.canRead(r.name, environment: environment, group: group))),
          ]))
        }
      }
    }
    return JSON.object([
      ("restricted", .bool(policy.isRestricted)),
      ("recipients", JSON.strings(policy.recipients.map(\.name))),
      ("environments", JSON.strings(policy.environments)),
      ("groups", JSON.strings(policy.groups)),
      ("access", .array(entries)),
    ]).encoded + "\n"
  }
}
