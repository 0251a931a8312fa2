import CofferCore

#if canImport(Glibc)
  import Glibc
#endif

/// Where a Coffer project's files are: found by walking up from a directory to the first `coffer.yaml`, as git finds
/// `.git`.
package struct Project: Sendable {
  /// The manifest's file name.
  package static let manifestName = "coffer.yaml"

  /// The directory that holds `coffer.yaml`.
  package let root: String

  /// The manifest's path.
  package var manifestPath: String { Paths.join(root, Project.manifestName) }
  /// `.coffer/`.
  package var stateDirectory: String { Paths.join(root, ".coffer") }
  /// `.coffer/vault/`.
  package var vaultDirectory: String { Paths.join(stateDirectory, "vault") }
  /// The lock file serializing every write to the project (`.coffer/.lock`, ignored by git).
  package var lockPath: String { Paths.join(stateDirectory, ".lock") }
  /// The approved access policy (trust model v2), committed: `.coffer/policy`.
  package var policyPath: String { Paths.join(stateDirectory, "policy") }

  /// Whether `path`, resolved through symbolic links and `..`, is the manifest or anything under `.coffer/`:
  /// Coffer's own committed files, which no output (an export, a template, an audit export) may replace.
  /// - Parameter path: an output path as the user gave it.
  package func isOwnFile(_ path: String) -> Bool {
    let target = Paths.resolved(path)
    let state = Paths.resolved(stateDirectory)
    return target == Paths.resolved(manifestPath) || target == state || target.hasPrefix(state + "/")
  }

  /// The vault file of one environment.
  /// - Parameter environment: the environment name.
  package func vaultPath(_ environment: String) -> String { Paths.join(vaultDirectory, "\(environment).vault") }

  /// A path relative to the current directory when it is inside it, for messages.
  package func display(_ path: String) -> String {
    let cwd = Paths.currentDirectory()
    if path.hasPrefix(cwd + "/") { return String(path.dropFirst(cwd.count + 1)) }
    return path
  }

  /// Creates a project rooted at a directory (which need not hold a manifest yet).
  package init(root: String) { self.root = root }

  /// Finds the project containing a directory.
  /// - Parameter start: where to start (the `--project` value, or the current directory).
  /// - Returns: the nearest ancestor (or `start` itself) that holds `coffer.yaml`.
  /// - Throws: ``SystemError`` (exit 2) when no manifest is found up to `/`.
  package static func locate(from start: String? = nil) throws(SystemError) -> Project {
    let begin = Paths.absolute(start ?? Paths.currentDirectory())
    if let start, !Files.isDirectory(begin) {
      throw SystemError("no project at", path: start, reason: "not a directory")
    }
    var dir = begin
    while true {
      if Files.exists(Paths.join(dir, manifestName)) { return Project(root: dir) }
      let up = Paths.parent(dir)
      if up == dir { break }
      dir = up
    }
    throw SystemError(
      "no coffer.yaml in", path: begin, reason: "nor in any parent directory",
      hints: ["run `coffer init` to start a project here, or pass --project DIR"])
  }
}
