import CofferCore
import CofferSync
import CofferSystem

/// `coffer init --ci github`: a GitHub Actions workflow that syncs organization secrets to Pulumi ESC on a schedule
/// and on demand (docs/ci.md).
enum CIWorkflow {
  static let path = ".github/workflows/coffer-sync.yml"

  static func write(kind: String, project: String?) throws {
    guard kind == "github" else {
      throw UsageError(description: "--ci \(kind): unsupported", hints: ["the supported CI is github"])
    }
    let located = try Project.locate(from: project)
    let bytes = try Files.read(located.manifestPath)
    let file = located.display(located.manifestPath)
    let manifest = try Manifest.decode(bytes, file: file)
    let specs = try Manifest.decodeDestinations(bytes, file: file)
    let targets = specs.filter { $0.typeName == "pulumi-esc" }
    guard !targets.isEmpty else {
      throw UsageError(
        description: "\(file) declares no pulumi-esc destination to sync to",
        hints: ["add one under destinations: (type: pulumi-esc), then run coffer init --ci github again"])
    }
    let target = Paths.join(located.root, path)
    if Files.exists(target) {
      throw UsageError(description: "refusing to overwrite \(located.display(target))", hints: ["remove it first to regenerate it"])
    }
    let text = workflow(manifest: manifest, targets: targets)
    try Files.makeDirectory(Paths.parent(target))
    try Files.writeAtomically(target, Array(text.workflow.utf8), newFileMode: 0o644)
    ErrorRenderer.note("wrote \(located.display(target)): syncs \(targets.map(\.name).joined(separator: ", ")) every 6 hours and on demand")
    for name in text.skipped {
      let reason = GitHubRules.nameProblem(name)
        ?? "GitHub names ignore case, so it is the same secret as a name already in the workflow"
      ErrorRenderer.warn("\(name) is left out of the workflow: \(reason)")
    }
  }

  /// The workflow text, and the names that cannot be GitHub secrets.
  static func workflow(manifest: Manifest, targets: [DestinationSpec]) -> (workflow: String, skipped: [String]) {
    var tokens = Set<String>()
    var lines: [String] = []
    var skipped: [String] = []
    var seen = Set<String>()
    var seenIgnoringCase = Set<String>()  // GitHub secret and variable names ignore case
    for spec in targets {
      if let token = spec.tokenEnv { tokens.insert(token) }
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
    for token in tokens.sorted() where !seen.contains(token) {
      lines.insert("          \(token): ${{ secrets.\(token) }}", at: 0)
    }
    let names = targets.map(\.name).joined(separator: " ")
    let workflow = """
      # Written by `coffer init --ci github` (docs/ci.md in Coffer's repository).
      # Syncs this organization's GitHub secrets to Pulumi ESC: the job receives them as environment
      # variables and runs `coffer sync --from-env`, which takes the names declared in coffer.yaml from the
      # environment, compares them with the ESC environment, and writes only what differs.
      name: coffer-sync

      on:
        schedule:
          - cron: "17 */6 * * *"
        workflow_dispatch: {}

      permissions:
        contents: read

      concurrency:
        group: coffer-sync
        cancel-in-progress: false

      jobs:
        sync:
          runs-on: ubuntu-latest
          steps:
            - uses: actions/checkout@v4
              with:
                persist-credentials: false
            # Put `coffer` on PATH. This builds it from the repository named by the COFFER_REPOSITORY
            # variable (owner/name) at COFFER_REF (a release tag or commit, so what runs beside the secrets is
            # pinned); no secret is in this step's environment. Replace the step if you install Coffer another way.
            - name: Install coffer
              env:
                COFFER_REPOSITORY: ${{ vars.COFFER_REPOSITORY }}
                COFFER_REF: ${{ vars.COFFER_REF }}
              run: |
                : "${COFFER_REPOSITORY:?set the COFFER_REPOSITORY variable (owner/name)}"
                : "${COFFER_REF:?set the COFFER_REF variable to a release tag or commit of Coffer}"
                git init -q "$RUNNER_TEMP/coffer"
                git -C "$RUNNER_TEMP/coffer" fetch -q --depth 1 "https://github.com/$COFFER_REPOSITORY" "$COFFER_REF"
                git -C "$RUNNER_TEMP/coffer" checkout -q FETCH_HEAD
                (cd "$RUNNER_TEMP/coffer" && sudo apt-get install -y -qq libsodium-dev && swift build -c release)
                echo "$RUNNER_TEMP/coffer/.build/release" >> "$GITHUB_PATH"
            - name: Sync to Pulumi ESC
              env:
      \(lines.joined(separator: "\n"))
              run: coffer sync --from-env --to \(names)

      """
    return (workflow, skipped)
  }
}
