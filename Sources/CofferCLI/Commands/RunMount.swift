import CofferSystem

/// `run --mount NAME:template=FILE` (docs/run.md, "Mounts"): the mount's content is FILE rendered as `coffer inject`
/// renders it.
enum RunMount {
  /// Renders the template for the mount; every reference is resolved (and the read recorded) before the command
  /// starts.
  /// - Parameters:
  ///   - file: the template's path.
  ///   - name: the mount's name (the audit line's destination).
  ///   - selection: must not narrow or add: the template names what it needs.
  /// - Throws: ``UsageError`` (exit 2) for an empty path or a selection option; what ``Injector/render`` throws.
  static func template(
    _ file: String, name: String, project: String?, verbose: Bool, env: String?, selection: RunEnvironment.Selection
  ) throws -> [UInt8] {
    guard !file.isEmpty else { throw UsageError(description: "--mount NAME:template=FILE needs a template file") }
    guard !selection.narrows, selection.envFile == nil, !selection.includeUndeclared else {
      throw UsageError(
        description: "--mount with a template takes its names from the template: --only, --names, --env-file and --include-undeclared do not apply")
    }
    let ws = try Workspace.load(project: project, verbose: verbose)
    let environment = try ws.environment(named: env)
    let bytes = try Files.read(file)
    return try Injector.render(bytes, file: file, environment: environment, ws: ws, destination: name).bytes
  }
}
