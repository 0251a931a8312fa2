import ArgumentParser
import CofferCore
import CofferOperations
import CofferSystem
import Logging

/// Options every command accepts after its name.
struct GlobalOptions: ParsableArguments {
  @Option(name: .long, help: ArgumentHelp("Use the project in DIR instead of searching upward from the current directory.", valueName: "dir"))
  var project: String?

  @Flag(name: .long, help: "Print debug messages on stderr (never values).")
  var verbose = false
}

/// The environment selector shared by commands that read or write one environment.
struct EnvironmentOption: ParsableArguments {
  @Option(name: [.customShort("e"), .long], help: ArgumentHelp("The environment (default: $COFFER_ENV, else the manifest's first).", valueName: "name"), completion: .custom(Completions.environments))
  var env: String?
}

extension EnvironmentOption {
  init(env: String?) {
    self.init()
    self.env = env
  }
}

extension Workspace {
  /// Finds the project and decodes its manifest.
  static func load(_ global: GlobalOptions) throws -> Workspace {
    try load(project: global.project, verbose: global.verbose)
  }

  /// Finds the project (from `project`, else the current directory), decodes its manifest and merges its imports,
  /// with `--verbose`'s debug lines on stderr.
  static func load(project start: String?, verbose: Bool, provenance: Bool = false) throws -> Workspace {
    try load(project: start, logger: CLILog.make(verbose: verbose), provenance: provenance)
  }

  /// ``Workspace/underLock(project:logger:_:)`` for a command's options.
  static func underLock<R>(_ global: GlobalOptions, _ body: (Workspace) throws -> R) throws -> R {
    try underLock(project: global.project, logger: CLILog.make(verbose: global.verbose), body)
  }

  /// Resolves `--env`, `COFFER_ENV` or the first environment, and checks it is declared.
  func environment(_ option: EnvironmentOption) throws -> String {
    try environment(named: option.env)
  }
}

/// swift-log wiring: debug lines on stderr as `coffer: debug: …` when `--verbose` is given.
enum CLILog {
  static func make(verbose: Bool) -> Logger {
    var logger = Logger(label: "coffer") { _ in StderrLogHandler() }
    logger.logLevel = verbose ? .debug : .warning
    return logger
  }
}

struct StderrLogHandler: LogHandler {
  var logLevel: Logger.Level = .warning
  var metadata: Logger.Metadata = [:]

  subscript(metadataKey key: String) -> Logger.Metadata.Value? {
    get { metadata[key] }
    set { metadata[key] = newValue }
  }

  func log(event: LogEvent) {
    Terminal.err("coffer: \(event.level): \(DisplayText.escaped("\(event.message)"))\n")
  }
}
