import ArgumentParser
import CofferCore
import CofferSystem

#if canImport(Glibc)
  import Glibc
#endif

/// The `coffer` command: every subcommand, and the one place errors become messages and exit statuses.
public struct CofferCommand: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "coffer",
    abstract: "Declare, encrypt, check and deliver a project's secrets.",
    discussion: """
      Exit statuses: 0 ok; 1 problems found (check, scan) or not found (get); 2 bad usage or input, nothing written;
      3 access or decryption failure; 4 a remote destination failed (sync); `run` exits with the command's own status (127 when it is not found).
      """,
    version: "0.1.0",
    subcommands: [
      Init.self, Keygen.self, Set.self, Get.self, Remove.self, List.self, Import.self, ImportFromEnv.self,
      Export.self, ExportToEnv.self, Check.self, Template.self, GenerateTemplate.self, Run.self, Rewrap.self,
      Audit.self, MergeDriver.self,
      Access.self, Rotate.self, History.self, Rollback.self,
      Generate.self,
      SetupRepo.self, Plan.self, Sync.self, SyncToGitHub.self, SyncToPulumi.self, SyncAll.self, Pull.self, Doctor.self,
      Discover.self,
      Scan.self, Hook.self, Redact.self,
    ])

  public init() {}

  /// Parses the command line, runs the command, renders any error, and exits with the right status.
  public static func runMain() -> Never {
    let args = CommandLine.arguments
    if args.count == 2, args[1] == "--version" {
      // What ArgumentParser prints, without building the command tree.
      Terminal.out(configuration.version + "\n")
      Glibc.exit(0)
    }
    if args.count > 2, args[1] == "run", let fast = RunEnvironment.FastArguments(args.dropFirst(2)) {
      // The common `run` invocation skips ArgumentParser entirely (see docs/performance.md).
      do {
        try RunEnvironment.execute(
          project: fast.project, verbose: fast.verbose, env: fast.env, noOverride: fast.noOverride,
          allowPartial: fast.allowPartial, command: fast.command)
        Glibc.exit(0)
      } catch {
        Glibc.exit(status(for: error))
      }
    }
    do {
      var command = try parseAsRoot()
      try command.run()
      Glibc.exit(0)
    } catch {
      Glibc.exit(status(for: error))
    }
  }

  /// Renders an error (once, on stderr; help on stdout) and returns the exit status for it.
  static func status(for error: any Error) -> Int32 {
    switch error {
    case let finish as Finish:
      return finish.status
    case let failure as Exec.Failure:
      ErrorRenderer.render(failure)
      return failure.code
    case let error as any CofferError:
      ErrorRenderer.render(error)
      return error.exitStatus.rawValue
    default:
      let code = exitCode(for: error)
      let message = fullMessage(for: error)
      if code == .success {
        if !message.isEmpty { Terminal.out(message + "\n") }
        return 0
      }
      if !message.isEmpty { Terminal.err(message.hasSuffix("\n") ? message : message + "\n") }
      return code.rawValue == 1 ? 1 : ExitStatus.badInput.rawValue
    }
  }
}
