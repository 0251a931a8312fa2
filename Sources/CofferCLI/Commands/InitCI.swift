import CofferCore
import CofferOperations
import CofferSync
import CofferSystem

/// `coffer init --ci github`: a GitHub Actions workflow that keeps the manifest's remote destinations in step on a
/// schedule and on demand (docs/ci.md). Each destination has one source: the vault (`coffer sync` with a CI
/// identity), or, for a `pulumi-esc` destination with `source: github`, GitHub organization secrets
/// (`coffer sync --from-env`).
enum CIWorkflow {
  static let path = ".github/workflows/coffer-sync.yml"

  /// Actions used by the workflow, pinned by full commit SHA (the tag in a comment); update both together.
  static let checkout = "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2"
  static let uploadArtifact = "actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02 # v4.6.2"
  /// The GitHub deployment environment the job runs in (protection rules, reviewers, branch policy).
  static let environment = "coffer-sync"
  static let timeoutMinutes = 20

  static func write(kind: String, project: String?) throws {
    guard kind == "github" else {
      throw UsageError(description: "--ci \(kind): unsupported", hints: ["the supported CI is github"])
    }
    let located = try Project.locate(from: project)
    let bytes = try Files.read(located.manifestPath)
    let file = located.display(located.manifestPath)
    let manifest = try Manifest.decode(bytes, file: file)
    let specs = try Manifest.decodeDestinations(bytes, file: file)
    let remote = specs.filter { $0.typeName != "dotenv" }
    guard !remote.isEmpty else {
      throw UsageError(
        description: "\(file) declares no remote destination (github, pulumi-esc, openbao, aws-secrets-manager) to sync to",
        hints: ["add one under destinations:, then run coffer init --ci github again"])
    }
    try checkOneSource(remote, file: file)
    let target = Paths.join(located.root, path)
    if Files.exists(target) {
      throw UsageError(description: "refusing to overwrite \(located.display(target))", hints: ["remove it first to regenerate it"])
    }
    let text = workflow(manifest: manifest, destinations: remote)
    try Files.makeDirectory(Paths.parent(target))
    try Files.writeAtomically(target, Array(text.workflow.utf8), newFileMode: 0o644)
    let vault = remote.filter { $0.source == .vault }.map(\.name)
    let github = remote.filter { $0.source == .github }.map(\.name)
    var parts: [String] = []
    if !vault.isEmpty { parts.append("the vault to \(vault.joined(separator: ", "))") }
    if !github.isEmpty { parts.append("GitHub organization secrets to \(github.joined(separator: ", "))") }
    ErrorRenderer.note("wrote \(located.display(target)): syncs \(parts.joined(separator: "; ")) every 6 hours and on demand")
    for name in text.skipped {
      let reason = GitHubRules.nameProblem(name)
        ?? "GitHub names ignore case, so it is the same secret as a name already in the workflow"
      ErrorRenderer.warn("\(name) is left out of the workflow: \(reason)")
    }
    for spec in remote where spec.hasCustomAPIURL && !spec.allowCustomAPIURL {
      ErrorRenderer.warn(
        "\(spec.name): api_url \(spec.apiURL ?? "") is not \(spec.defaultAPIURL ?? ""); the workflow's sync refuses it "
          + "unless the destination says allow_custom_api_url: true")
    }
    var groups: [String: Set<String>] = [:]
    for spec in remote {
      groups[spec.name] = Set(
        manifest.secrets.map { $0.group ?? "default" }.filter { spec.groups?.contains($0) ?? true })
    }
    for warning in SyncSession.audienceWarnings(manifest: manifest, remote, groupsDelivered: groups) {
      ErrorRenderer.warn(warning)
    }
  }

  /// Where a destination writes, for spotting two destinations that write the same place.
  static func place(_ spec: DestinationSpec) -> String {
    let host = spec.apiURL ?? ""
    switch spec.target {
    case .github(.repository(let owner, let name), let environment):
      return "\(host) github \(owner.lowercased())/\(name.lowercased())" + (environment.map { " environment \($0)" } ?? "")
    case .github(.organization(let org, _, _), _): return "\(host) github organization \(org.lowercased())"
    case .pulumiESC(let organization, let project, let environment):
      return "\(host) pulumi-esc \(organization)/\(project)/\(environment)"
    case .dotenv(let path): return "dotenv \(path)"
    case .openBao(let settings): return "\(host) openbao \(settings.namespace ?? "")/\(settings.mount)/\(settings.path)"
    case .awsSecretsManager(let settings): return "\(host) aws-secrets-manager \(settings.prefix)"
    }
  }

  /// The source that writes a destination, in words.
  static func sourceName(_ spec: DestinationSpec) -> String {
    spec.source == .github ? "GitHub organization secrets" : "the \(spec.from) vault"
  }

  /// Refuses destinations that would write the same place from two sources (two vault environments, or the vault
  /// and GitHub organization secrets).
  /// - Throws: ``UsageError`` (exit 2) naming both destinations.
  static func checkOneSource(_ specs: [DestinationSpec], file: String) throws {
    var first: [String: DestinationSpec] = [:]
    for spec in specs {
      let key = place(spec)
      guard let earlier = first[key] else {
        first[key] = spec
        continue
      }
      guard sourceName(earlier) != sourceName(spec) else { continue }
      throw UsageError(
        description: "\(file): destinations \(earlier.name) and \(spec.name) write the same place (\(SyncRender.target(spec))) "
          + "from two sources: \(sourceName(earlier)) and \(sourceName(spec)); a rotation in one would be undone by the other",
        hints: ["keep one of them (one source per destination, docs/ci.md)"])
    }
  }

  /// The name of the repository or organization secret that holds a token: GitHub reserves the `GITHUB_` prefix,
  /// so `GITHUB_TOKEN` comes from `COFFER_GITHUB_TOKEN`.
  static func secretName(forToken token: String) -> String {
    token.uppercased().hasPrefix("GITHUB_") ? "COFFER_" + token : token
  }

  /// The workflow text, and the names that cannot be GitHub secrets.
  static func workflow(manifest: Manifest, destinations: [DestinationSpec]) -> (workflow: String, skipped: [String]) {
    let vault = destinations.filter { $0.source == .vault }
    let github = destinations.filter { $0.source == .github }
    var steps: [String] = []
    var skipped: [String] = []

    if !vault.isEmpty {
      var env = ["          COFFER_IDENTITY: ${{ secrets.COFFER_IDENTITY }}"]
      var tokens: [String] = []
      for spec in vault {
        // The credentials each destination reads from the environment (docs/sync.md): a token, OpenBao's AppRole ids
        // or JWT, AWS's keys.
        var names: [String] = []
        switch (spec.target, spec.auth) {
        case (.awsSecretsManager(let settings), _):
          if settings.profile == nil { names = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] }
        case (.openBao(let settings), .approle): names = [settings.roleIDEnv, settings.secretIDEnv]
        case (.openBao(let settings), .jwt): names = [settings.jwtEnv]
        case (_, .token): names = spec.tokenEnv.map { [$0] } ?? []
        default: break
        }
        for name in names where !tokens.contains(name) { tokens.append(name) }
      }
      for token in tokens.sorted() { env.append("          \(token): ${{ secrets.\(secretName(forToken: token)) }}") }
      // OpenBao's address is pinned by the repository, not by coffer.yaml (docs/ci.md).
      if vault.contains(where: { if case .openBao = $0.target { return true } else { return false } }) {
        env.append("          VAULT_ADDR: ${{ vars.VAULT_ADDR }}")
      }
      steps.append(
        """
              # From the vault: COFFER_IDENTITY is the age key of the CI recipient in coffer.yaml (the access rules
              # decide what it can read); tokens come from secrets, or from GitHub's OIDC for auth: oidc.
              - name: Sync from the vault
                env:
        \(env.joined(separator: "\n"))
                run: coffer sync --to \(vault.map(\.name).joined(separator: " "))
        """)
    }

    if !github.isEmpty {
      var lines: [String] = []
      var tokens = Set<String>()
      var seen = Set<String>()
      var seenIgnoringCase = Set<String>()  // GitHub secret and variable names ignore case
      for spec in github {
        if spec.auth == .token, let token = spec.tokenEnv { tokens.insert(token) }
        for secret in manifest.secrets where seen.insert(secret.name).inserted {
          if let groups = spec.groups, !groups.contains(secret.group ?? "default") { continue }
          if GitHubRules.nameProblem(secret.name) != nil || !seenIgnoringCase.insert(secret.name.uppercased()).inserted {
            skipped.append(secret.name)
            continue
          }
          let context = secret.isSecret ? "secrets" : "vars"
          lines.append("          \(secret.name): ${{ \(context).\(secret.name) }}")
        }
      }
      for token in tokens.sorted(by: >) where !seen.contains(token) {
        lines.insert("          \(token): ${{ secrets.\(secretName(forToken: token)) }}", at: 0)
      }
      if lines.isEmpty { lines.append("          COFFER_FROM_ENV: \"1\"") }
      // With a vault step in the same job, this step records its sync under the same identity, so the job's audit
      // log stays one chain that `coffer audit verify` accepts (a step without it would key the head with nothing,
      // and the next append would record a log gap).
      if !vault.isEmpty { lines.insert("          COFFER_IDENTITY: ${{ secrets.COFFER_IDENTITY }}", at: 0) }
      steps.append(
        """
              # From GitHub organization secrets (source: github): the job receives them as environment variables and
              # `coffer sync --from-env` writes what differs to ESC. The vault never writes these destinations.
              - name: Sync GitHub organization secrets to Pulumi ESC\(vault.isEmpty ? "" : "\n        if: \"!cancelled()\"")
                env:
        \(lines.joined(separator: "\n"))
                run: coffer sync --from-env --to \(github.map(\.name).joined(separator: " "))
        """)
    }

    let workflow = """
      # Written by `coffer init --ci github` (docs/ci.md in Coffer's repository).
      # One source per destination: the vault for \(vault.isEmpty ? "none" : vault.map(\.name).joined(separator: ", ")); \
      GitHub organization secrets for \(github.isEmpty ? "none" : github.map(\.name).joined(separator: ", ")).
      # Actions are pinned by commit SHA (tag in the comment). Coffer comes from a `make dist` archive whose SHA-256
      # is checked against the COFFER_SHA256 variable.
      name: coffer-sync

      on:
        schedule:
          - cron: "17 */6 * * *"
        workflow_dispatch: {}

      permissions:
        contents: read
        id-token: write

      concurrency:
        group: coffer-sync
        cancel-in-progress: false

      jobs:
        sync:
          runs-on: ubuntu-latest
          # Protection rules, reviewers and the branch policy of this environment apply; keep the secrets the job
          # needs as its environment secrets, so a run dispatched on another branch does not receive them.
          environment: \(environment)
          timeout-minutes: \(timeoutMinutes)
          steps:
            - uses: \(checkout)
              with:
                persist-credentials: false
            # Put `coffer` on PATH from an archive made by `make dist`: COFFER_DIST_URL (https) and COFFER_SHA256
            # are repository or environment variables; the step fails unless the download has that checksum.
            - name: Install coffer
              env:
                COFFER_DIST_URL: ${{ vars.COFFER_DIST_URL }}
                COFFER_SHA256: ${{ vars.COFFER_SHA256 }}
              run: |
                : "${COFFER_DIST_URL:?set the COFFER_DIST_URL variable to the https URL of a make dist archive}"
                : "${COFFER_SHA256:?set the COFFER_SHA256 variable to the archive's SHA-256}"
                sudo apt-get update -qq
                sudo apt-get install -y -qq libsodium23
                curl --fail --silent --show-error --location --proto '=https' --output "$RUNNER_TEMP/coffer.tar.gz" "$COFFER_DIST_URL"
                echo "$COFFER_SHA256  $RUNNER_TEMP/coffer.tar.gz" | sha256sum --check --strict -
                mkdir -p "$RUNNER_TEMP/coffer"
                tar -xzf "$RUNNER_TEMP/coffer.tar.gz" -C "$RUNNER_TEMP/coffer"
                bin="$(find "$RUNNER_TEMP/coffer" -type f -name coffer | head -n 1)"
                test -n "$bin" && chmod +x "$bin"
                dirname "$bin" >> "$GITHUB_PATH"
      \(steps.joined(separator: "\n"))
            # CI's part of the audit trail: the runner's home directory vanishes with the job.
            - name: Export the audit log
              if: always()
              run: coffer audit export -o coffer-audit.jsonl
            - name: Upload the audit log
              if: always()
              uses: \(uploadArtifact)
              with:
                name: coffer-audit-${{ github.run_id }}-${{ github.run_attempt }}
                path: coffer-audit.jsonl
                if-no-files-found: warn
                retention-days: 90

      """
    return (workflow, skipped)
  }
}
