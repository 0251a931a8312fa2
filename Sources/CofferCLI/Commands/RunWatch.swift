import CofferCore
import CofferSystem

/// `coffer run --watch` (issue 15; docs/run.md, "Watching"): reads the values as `run --redact` does, then hands
/// the command to ``WatchedRun`` (CofferSystem), whose decisions are ``WatchDecisions`` (CofferCore).
enum RunWatch {
  /// `--restart-signal` and `--grace` as given (nil when absent), checked.
  /// - Throws: ``UsageError`` (exit 2) for a signal or a duration that is not one.
  static func decisions(restartSignal: String?, grace: String?) throws -> WatchDecisions {
    var signal: Int32 = 15
    if let restartSignal {
      guard let number = WatchOptions.signal(restartSignal) else {
        throw UsageError(description: "--restart-signal expects one of \(WatchOptions.signals.map(\.name).joined(separator: ", ")) (or its number)")
      }
      signal = number
    }
    var graceMilliseconds = WatchDecisions.defaultGraceMilliseconds
    if let grace {
      guard let ms = WatchOptions.milliseconds(grace) else {
        throw UsageError(description: "--grace expects seconds (10, 2.5, 10s) or milliseconds (500ms), at most 3600s")
      }
      graceMilliseconds = ms
    }
    return WatchDecisions(restartSignal: signal, graceMilliseconds: graceMilliseconds)
  }

  /// Runs the command under the supervisor and ends with its last status.
  /// - Parameters:
  ///   - argv: the command and its arguments.
  ///   - decisions: from ``decisions(restartSignal:grace:)``.
  ///   - read: reads the values (warning about names left out) and returns the child's environment with a closure
  ///     that records the read in the audit log; called once before the start and again after each change. A read
  ///     is recorded when the command is (re)started with it.
  static func run(
    argv: [String], project: String?, verbose: Bool, env: String?, decisions: WatchDecisions,
    read: () throws -> (EnvironmentBlock, record: () throws -> Void)
  ) throws -> Never {
    let ws = try Workspace.load(project: project, verbose: verbose)
    let environment = try ws.environment(named: env)
    let path = ws.project.vaultPath(environment)
    let existed = Files.exists(path)
    let first = try read()
    try first.record()
    func failure(_ error: any Error) -> WatchReloadFailure {
      WatchReloadFailure((error as? any CofferError)?.description ?? "cannot read \(ws.project.display(path))")
    }
    let status = try WatchedRun.run(
      argv: argv, environment: first.0.entries, source: FileWatchSource(path: path), decisions: decisions,
      reload: {
        // A vault that was there and is gone (removed, or mid-replace by hand) keeps the old values.
        if existed, !Files.exists(path) {
          return .failure(WatchReloadFailure("\(ws.project.display(path)) is gone"))
        }
        do {
          let (block, record) = try read()
          return .success(
            WatchedRun.Loaded(environment: block.entries) {
              do {
                try record()
                return nil
              } catch {
                return failure(error)
              }
            })
        } catch {
          return .failure(failure(error))
        }
      },
      messages: WatchedRun.Messages(
        restarting: { signal in ErrorRenderer.note("\(environment)'s vault changed: restarting the command (\(signal))") },
        warn: { reason in
          ErrorRenderer.warn("\(environment)'s vault changed but cannot be read: \(reason); the command keeps running with the values it had")
        }))
    throw Finish(status: status)
  }
}
