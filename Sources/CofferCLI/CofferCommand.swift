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
      3 access or decryption failure; `run` exits with the command's own status (127 when it is not found).
      """,
    version: "0.1.0",
    subcommands: [
      Init.self, Keygen.self, Set.self, Get.self, Remove.self, List.self, Import.self, ImportFromEnv.self,
      Export.self, ExportToEnv.self, Check.self, Template.self, GenerateTemplate.self, Run.self, Rewrap.self,
      Audit.self, Scan.self, Hook.self, Redact.self,
    ])

  public init() {}

  /// Parses the command line, runs the command, renders any error, and exits with the right status.
  public static func runMain() -> Never {
    let status: Int32
    do {
      var command = try parseAsRoot()
      try command.run()
      status = 0
    } catch let finish as Finish {
      status = finish.status
    } catch let failure as Exec.Failure {
      ErrorRenderer.render(failure)
      status = failure.code
    } catch let error as any CofferError {
      ErrorRenderer.render(error)
      status = error.exitStatus.rawValue
    } catch {
      let code = exitCode(for: error)
      let message = fullMessage(for: error)
      if code == .success {
        if !message.isEmpty { Terminal.out(message + "\n") }
        status = 0
      } else {
        if !message.isEmpty { Terminal.err(message.hasSuffix("\n") ? message : message + "\n") }
        status = code == .validationFailure ? ExitStatus.badInput.rawValue : (code.rawValue == 1 ? 1 : ExitStatus.badInput.rawValue)
      }
    }
    Glibc.exit(status)
  }
}
