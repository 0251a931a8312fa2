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
      Discover.self, ManifestCommand.self, Imports.self,
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
      let message = ArgumentEcho.redact(fullMessage(for: error), arguments: Array(CommandLine.arguments.dropFirst()))
      if code == .success {
        if !message.isEmpty { Terminal.out(message + "\n") }
        return 0
      }
      if !message.isEmpty { Terminal.err(message.hasSuffix("\n") ? message : message + "\n") }
      return code.rawValue == 1 ? 1 : ExitStatus.badInput.rawValue
    }
  }
}

/// Keeps argument text that may be a secret out of ArgumentParser's usage errors.
///
/// `coffer set NAME VALUE` (the habit `gh secret set` users bring) and `--flag=VALUE` would otherwise be echoed as
/// "Unexpected argument 'VALUE'", into terminals and CI logs. Anything after the subcommand that is not an option
/// name is shown as `[redacted]`; so is the text after `=` in an option. Kept: option names, the subcommand word,
/// and the rejected value of an option with a fixed set of choices ("The value 'xml' is invalid for '--format'"),
/// which `--value` never is.
enum ArgumentEcho {
  static let placeholder = "[redacted]"

  /// - Parameters:
  ///   - message: ArgumentParser's message.
  ///   - arguments: the command line without the program name.
  /// - Returns: the message with every quoted candidate replaced.
  static func redact(_ message: String, arguments: [String]) -> String {
    var candidates: [String] = []
    for argument in arguments.dropFirst() where argument != "--" {
      if argument.hasPrefix("-") {
        if let equals = argument.firstIndex(of: "=") {
          candidates.append(String(argument[argument.index(after: equals)...]))
        }
      } else {
        candidates.append(argument)
      }
    }
    var out = message
    for candidate in Set(candidates).sorted(by: { $0.count > $1.count }) where !candidate.isEmpty {
      let quoted = "'" + candidate + "'"
      guard out.contains(quoted) else { continue }
      // The one message that names a rejected choice keeps it (a choice list is never a secret).
      let choice = "The value " + quoted + " is invalid for '"
      let marker = "\u{0}choice\u{0}"
      out = out.replacing(choice, with: marker)
      out = out.replacing(quoted, with: "'" + placeholder + "'")
      out = out.replacing(marker, with: choice)
    }
    if out != message, arguments.first == "set" || arguments.first == "rotate" {
      out += "\nHint: a value is read from stdin, --file or --value, never from an extra argument.\n"
    }
    return out
  }
}

