import ArgumentParser
import CofferCore
import CofferOperations
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
      Exit statuses (README, "Exit statuses"): 0 ok; 1 problems found (check, scan, discover, audit verify, org
      check; sync when an item was blocked, unless --allow-blocked), not found (get), run refusing to start with
      missing secrets (unless --allow-missing), export of an environment with no values (unless --allow-empty); 2 bad
      usage or input, nothing written; 3 access or decryption failure (including an identity that cannot be read, or
      a file whose owner cannot be kept); 4 a remote destination failed (sync, plan); `run` exits with the command's
      own status (127 when it is not found, 126 when it cannot be executed).
      """,
    version: "0.1.0",
    subcommands: [
      Init.self, Keygen.self, Set.self, Get.self, Remove.self, List.self, Import.self, ImportFromEnv.self,
      Export.self, ExportToEnv.self, Inject.self, Check.self, Template.self, GenerateTemplate.self, Run.self, Rewrap.self,
      Audit.self, MergeDriver.self, IdentityCommand.self, Migrate.self, MigrateStore.self,
      Access.self, Rotate.self, History.self, Rollback.self,
      Generate.self,
      SetupRepo.self, Plan.self, Sync.self, SyncToGitHub.self, SyncToPulumi.self, SyncAll.self, Pull.self, Doctor.self,
      Discover.self, ManifestCommand.self, Imports.self, Org.self,
      Scan.self, Hook.self, Redact.self, Completion.self,
    ])

  public init() {}

  /// Parses the command line, runs the command, renders any error, and exits with the right status.
  public static func runMain() -> Never {
    ErrorRenderer.showNotices()
    let args = CommandLine.arguments
    if args.count == 2, args[1] == "--version" {
      // What ArgumentParser prints, without building the command tree.
      Terminal.out(configuration.version + "\n")
      Glibc.exit(0)
    }
    if args.count > 2, args[1] == "run", let fast = RunEnvironment.FastArguments(args.dropFirst(2)) {
      // The common `run` invocation skips ArgumentParser entirely (see docs/performance.md).
      Heap.allow()
      finishing {
        try RunEnvironment.execute(
          project: fast.project, verbose: fast.verbose, env: fast.env, noOverride: fast.noOverride,
          allowPartial: fast.allowPartial, allowMissing: fast.allowMissing, auditNames: fast.auditNames,
          selection: RunEnvironment.Selection(includeUndeclared: fast.includeUndeclared), command: fast.command)
      }
    }
    if args.count > 2, args[1] == "get", let fast = FastGet.Arguments(args.dropFirst(2)) {
      // `get NAME --env E` skips ArgumentParser and coffer.yaml when it can (see docs/performance.md).
      Heap.allow()
      do {
        if try FastGet.run(fast) { finish(0) }
      } catch {
        finish(status(for: error))
      }
    }
    if args.count > 1, ["check", "validate", "detect-missing"].contains(args[1]),
      let fast = Check.FastArguments(args.dropFirst(2))
    {
      // `check` with common options skips ArgumentParser (see docs/performance.md); the work is the same.
      Heap.allow()
      finishing {
        try Check.perform(
          project: fast.project, verbose: false, env: fast.env, json: fast.json, allowPartial: fast.allowPartial,
          discover: false, noColor: fast.noColor)
      }
    }
    if args.count > 1, args[1] == "export", let fast = Export.FastArguments(args.dropFirst(2)) {
      // `export` with common options skips ArgumentParser (see docs/performance.md); the work is the same.
      Heap.allow()
      finishing {
        try Exporter.run(
          project: fast.project, verbose: false, env: fast.env, format: fast.format, output: fast.output,
          allowPartial: fast.allowPartial, allowEmpty: fast.allowEmpty)
      }
    }
    if let refusal = UnknownCommand.check(Array(args.dropFirst())) {
      Glibc.exit(status(for: refusal))
    }
    finishing {
      var command = try parseAsRoot(ValueArgument.joined(Array(args.dropFirst())))
      try command.run()
    }
  }

  /// Runs a command's work and exits: 0 when it returns, else the status ``status(for:)`` renders for its error.
  static func finishing(_ work: () throws -> Void) -> Never {
    do {
      try work()
      finish(0)
    } catch {
      finish(status(for: error))
    }
  }

  /// Exits, having written the signatures verified meanwhile to this user's memo (docs/vault-format.md).
  static func finish(_ status: Int32) -> Never {
    SignatureMemoStore.flush()
    Glibc.exit(status)
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
      if code == .success {
        // Help or version, asked for: Coffer's own text.
        let help = fullMessage(for: error)
        if !help.isEmpty { Terminal.out(help + "\n") }
        return 0
      }
      let message = DisplayText.escaped(
        ArgumentEcho.redact(fullMessage(for: error), arguments: Array(CommandLine.arguments.dropFirst())))
      if !message.isEmpty { Terminal.err(message.hasSuffix("\n") ? message : message + "\n") }
      return code.rawValue == 1 ? 1 : ExitStatus.badInput.rawValue
    }
  }
}

/// `--value -x`: a value may start with `-`. ArgumentParser's tokenizer refuses some such words before any option
/// sees them (`-=abc` is "Invalid option"), so for `set` and `rotate` the word after `--value` is joined to it
/// (`--value=-=abc`), which every value passes through intact.
enum ValueArgument {
  /// - Parameter arguments: the command line without the program name.
  /// - Returns: the same arguments, with `--value WORD` as `--value=WORD` for a WORD starting with `-` (before any
  ///   `--`, and only for `set` and `rotate`).
  static func joined(_ arguments: [String]) -> [String] {
    guard let first = arguments.first, first == "set" || first == "rotate" else { return arguments }
    var out: [String] = []
    var index = 0
    while index < arguments.count {
      let argument = arguments[index]
      if argument == "--" {
        out += arguments[index...]
        break
      }
      if argument == "--value", index + 1 < arguments.count, arguments[index + 1].hasPrefix("-") {
        out.append("--value=" + arguments[index + 1])
        index += 2
        continue
      }
      out.append(argument)
      index += 1
    }
    return out
  }
}


/// A first argument that names no command: refused with the closest command name (ArgumentParser would only say
/// "unexpected argument").
enum UnknownCommand {
  /// Every command name and alias, and ArgumentParser's `help`.
  static var names: [String] {
    CofferCommand.configuration.subcommands.flatMap { [$0.configuration.commandName ?? ""] + $0.configuration.aliases } + ["help"]
  }

  /// The refusal for `arguments` (without the program name), or nil when the first one is a command or an option.
  static func check(_ arguments: [String]) -> UsageError? {
    guard let first = arguments.first, !first.hasPrefix("-"), !names.contains(first) else { return nil }
    // Only a word is echoed: anything else may be a value pasted in the wrong place.
    let isWord = first.count <= 40 && first.unicodeScalars.allSatisfy { ($0.value >= 0x61 && $0.value <= 0x7A) || $0 == "-" }
    var hints: [String] = []
    if isWord, let close = Suggest.closest(to: first, among: names.filter { $0 != "help" }) { hints.append("did you mean `coffer \(close)`?") }
    hints.append("`coffer --help` lists the commands")
    return UsageError(description: isWord ? "unknown command '\(first)'" : "unknown command", hints: hints)
  }
}


/// Keeps argument text out of ArgumentParser's usage errors: any of it may be a secret.
///
/// `coffer set NAME VALUE` (the habit `gh secret set` users bring), `--flag=VALUE`, a value starting with `-` typed
/// where an option was expected, or a mistyped option would otherwise be echoed ("Unexpected argument 'VALUE'",
/// "Unknown option '-=abc'") into terminals and CI logs. Every quoted span of the message that shares text with an
/// argument is shown as `[redacted]`, unless it is an option Coffer defines (`'--format <format>'`, `'--value'`,
/// as ArgumentParser names them). Choice lists and option suggestions ("Did you mean '--value'?") come from the
/// command's definition, not from the arguments, and stay.
enum ArgumentEcho {
  static let placeholder = "[redacted]"

  /// - Parameters:
  ///   - message: ArgumentParser's message.
  ///   - arguments: the command line without the program name.
  ///   - known: the option spellings Coffer defines (default: every command's, from their help).
  /// - Returns: the message with every quoted span that holds argument text replaced.
  static func redact(_ message: String, arguments: [String], known: Set<String>? = nil) -> String {
    var pieces: [String] = []
    for (index, argument) in arguments.enumerated() where argument != "--" && !argument.isEmpty {
      if index == 0, subcommandNames.contains(argument) { continue }
      pieces.append(argument)
      if let equals = argument.firstIndex(of: "=") {
        pieces.append(String(argument[..<equals]))
        pieces.append(String(argument[argument.index(after: equals)...]))
      }
    }
    pieces = pieces.filter { !$0.isEmpty }
    let options = known ?? optionSpellings
    // Only the error itself can hold argument text; ArgumentParser's "Help:" and "Usage:" lines that follow are
    // built from Coffer's definitions (and may hold apostrophes, as in "The recipient's name").
    var errorEnd = message.endIndex
    for marker in ["\nHelp:", "\nUsage:"] {
      if let r = message.firstRange(of: marker), r.lowerBound < errorEnd { errorEnd = r.lowerBound }
    }
    func isWordCharacter(_ c: Character?) -> Bool { c.map { $0.isLetter || $0.isNumber } ?? false }
    var out = ""
    var rest = message[..<errorEnd]
    var changed = false
    // A quoted span opens at a `'` not preceded by a letter or digit and closes at the next `'` not followed by
    // one, so an apostrophe inside a word ("can't", an argument "it's") does not end it.
    while let open = rest.indices.first(where: { rest[$0] == "'" && ($0 == rest.startIndex || !isWordCharacter(rest[rest.index(before: $0)])) }) {
      let afterOpen = rest.index(after: open)
      guard let close = rest[afterOpen...].indices.first(where: { i in
        rest[i] == "'" && !isWordCharacter(rest.index(after: i) < rest.endIndex ? rest[rest.index(after: i)] : nil)
      }) else { break }
      let span = rest[afterOpen..<close]
      out += rest[...open]
      let sharesText = pieces.contains { span.contains($0) || (span.count >= 2 && $0.contains(span)) }
      if isDefinition(span, options) || !sharesText {
        out += span
      } else {
        out += placeholder
        changed = true
      }
      out += "'"
      rest = rest[rest.index(after: close)...]
    }
    out += rest
    // The one message that shows an argument unquoted: "Invalid option: -=abc" (a word the tokenizer refuses).
    let marker = "Invalid option: "
    let lines = out.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
      guard let start = line.firstRange(of: marker), line[start.upperBound...] != Substring(placeholder) else {
        return String(line)
      }
      changed = true
      return String(line[..<start.upperBound]) + placeholder
    }
    out = lines.joined(separator: "\n") + message[errorEnd...]
    if changed, arguments.first == "set" || arguments.first == "rotate" {
      out += "\nHint: a value is read from stdin, --file or --value, never from an extra argument.\n"
    }
    return out
  }

  /// `--name`, `--name <placeholder>` or `<placeholder>`, for an option name Coffer defines.
  static func isDefinition(_ span: Substring, _ options: Set<String>) -> Bool {
    let words = span.split(separator: " ", omittingEmptySubsequences: false)
    func isPlaceholder(_ word: Substring) -> Bool {
      word.count > 2 && word.first == "<" && word.last == ">"
        && word.dropFirst().dropLast().allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }
    }
    // `coffer rotate status --help`, as ArgumentParser names a command in "See '…' for more information".
    if words.first == "coffer" {
      let names = commandNames
      return words.dropFirst().allSatisfy { names.contains(String($0)) || options.contains(String($0)) }
    }
    switch words.count {
    case 1: return options.contains(String(words[0])) || isPlaceholder(words[0])
    case 2: return options.contains(String(words[0])) && isPlaceholder(words[1])
    default: return false
    }
  }

  /// Every command name and alias in the tree.
  static var commandNames: Set<String> {
    var out: Set<String> = []
    var queue: [any ParsableCommand.Type] = [CofferCommand.self]
    while let command = queue.popLast() {
      queue += command.configuration.subcommands
      out.insert(command._commandName)
      out.formUnion(command.configuration.aliases)
    }
    return out
  }

  /// The top-level subcommand names and aliases (the first argument, which is never a value).
  static var subcommandNames: Set<String> {
    Set(CofferCommand.configuration.subcommands.flatMap { [$0._commandName] + $0.configuration.aliases })
  }

  /// Every option spelling (`-e`, `--format`) in the help of every command.
  static var optionSpellings: Set<String> {
    var out: Set<String> = []
    var queue: [any ParsableCommand.Type] = [CofferCommand.self]
    while let command = queue.popLast() {
      queue += command.configuration.subcommands
      let help = command.helpMessage(includeHidden: true, columns: 10_000)
      var word = ""
      for character in help + " " {
        if character.isLetter || character.isNumber || character == "-" {
          word.append(character)
          continue
        }
        if word.hasPrefix("-"), word.count > 1, word.dropFirst(word.hasPrefix("--") ? 2 : 1).first?.isLetter == true {
          out.insert(word)
        }
        word = ""
      }
    }
    return out
  }
}

