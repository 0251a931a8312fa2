import ArgumentParser
import CofferCore
import CofferOperations
import CofferSystem

extension CofferCommand {
  /// `coffer completion bash|zsh|fish`: the shell completion script.
  struct Completion: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "completion", abstract: "Print a shell completion script (bash, zsh or fish).",
      discussion: """
        Commands and options complete everywhere; environment names (--env) and secret names (get, set, rm, \
        history, rollback, rotate, generate) complete from the project's coffer.yaml. Install: bash: \
        `coffer completion bash > ~/.local/share/bash-completion/completions/coffer`; zsh: \
        `coffer completion zsh > "${fpath[1]}/_coffer"`; fish: \
        `coffer completion fish > ~/.config/fish/completions/coffer.fish`.
        """)

    @Argument(help: ArgumentHelp("bash, zsh or fish.", valueName: "shell"))
    var shell: String

    mutating func run() throws {
      guard let kind = CompletionShell(rawValue: shell) else {
        throw UsageError(description: "no completion for that shell; expected bash, zsh or fish")
      }
      let script = CofferCommand.completionScript(for: kind)
      Terminal.out(script.hasSuffix("\n") ? script : script + "\n")
    }
  }
}

/// Dynamic completions from the project's manifest (names only, never values). Any failure completes nothing.
enum Completions {
  static func manifest() -> Manifest? {
    try? Workspace.load(project: nil, verbose: false).manifest
  }

  /// The declared environments, for `--env`.
  @Sendable static func environments(_ arguments: [String], _ index: Int, _ prefix: String) -> [String] {
    (manifest()?.environments ?? []).filter { $0.hasPrefix(prefix) }
  }

  /// The declared secret names.
  @Sendable static func secretNames(_ arguments: [String], _ index: Int, _ prefix: String) -> [String] {
    (manifest()?.secrets.map(\.name) ?? []).filter { $0.hasPrefix(prefix) }
  }
}
