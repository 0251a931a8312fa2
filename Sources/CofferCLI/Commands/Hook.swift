import ArgumentParser
import CofferCore
import CofferOperations
import CofferSystem

extension CofferCommand {
  /// `coffer hook`: git hooks that keep secrets out of commits.
  struct Hook: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "hook",
      abstract: "Install a git pre-commit hook that runs `coffer scan --staged` and blocks commits with findings.",
      subcommands: [Install.self])

    struct Install: ParsableCommand {
      static let configuration = CommandConfiguration(
        commandName: "install",
        abstract: "Write the repository's pre-commit hook (refuses to replace another hook unless --force).",
        discussion: "The hook runs this coffer binary (by absolute path, else `coffer` on PATH). Skip it once with `git commit --no-verify`.")

      @OptionGroup var global: GlobalOptions
      @Flag(name: .long, help: "Replace a pre-commit hook that coffer did not write.") var force = false

      mutating func run() throws {
        let hook = try HookInstaller.path(in: global.project ?? ".")
        if let existing = try? Files.read(hook), !HookInstaller.isOurs(existing), !force {
          throw UsageError(
            description: "refusing to overwrite \(hook): it was not written by coffer",
            hints: ["pass --force to replace it, or call `coffer scan --staged` from it yourself"])
        }
        try Files.makeDirectory(Paths.parent(hook))
        try Files.writeAtomically(hook, Array(HookInstaller.script(coffer: ProcessEnvironment.executablePath()).utf8), newFileMode: 0o755)
        try Files.makeExecutable(hook)
        ErrorRenderer.note("installed \(hook): commits that stage a secret value or a private key are blocked")
      }
    }
  }
}

/// The pre-commit hook's text and place.
enum HookInstaller {
  static let marker = "# installed by `coffer hook install`"

  /// The hook file for the repository containing `directory` (honouring `core.hooksPath`).
  static func path(in directory: String) throws -> String {
    guard try Git.topLevel(of: directory) != nil else {
      throw UsageError(description: "\(directory) is not inside a git work tree", hints: ["run `git init` first"])
    }
    let out = try Git.output(["-C", directory, "rev-parse", "--git-path", "hooks/pre-commit"], what: "find the hooks directory")
    let path = String(decoding: out, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ".git/hooks/pre-commit"
    return path.hasPrefix("/") ? path : Paths.join(Paths.absolute(directory), path)
  }

  static func isOurs(_ bytes: [UInt8]) -> Bool {
    String(decoding: bytes, as: UTF8.self).contains(marker)
  }

  static func script(coffer: String?) -> String {
    let quoted = coffer.map { "'" + $0.replacingSingleQuotes + "'" } ?? "coffer"
    return """
      #!/bin/sh
      \(marker): blocks a commit whose staged changes hold a
      # secret value from this project's vault (in any encoding) or a private key. See docs/scan.md.
      # Skip once with `git commit --no-verify`; accept a finding with a `coffer:allow` comment or a baseline.
      coffer=\(quoted)
      [ -x "$coffer" ] || coffer=coffer
      exec "$coffer" scan --staged

      """
  }
}

extension String {
  /// For a POSIX shell single-quoted word: each `'` becomes `'\''`.
  var replacingSingleQuotes: String {
    var out = ""
    for c in self { out += c == "'" ? "'\\''" : String(c) }
    return out
  }
}
