import ArgumentParser
import CofferCore
import CofferDotEnv
import CofferOperations
import CofferSystem
import CofferVault

extension CofferCommand {
  /// `coffer import FILE`: load a .env file into an environment's vault; `coffer import --from-project DIR`: copy
  /// values from another project's vault.
  struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "import", abstract: "Import every key of a .env file, or values from another project's vault, into an environment's vault.",
      discussion: """
        The file is read by the rules in docs/dotenv.md; any error aborts the import and nothing is written. \
        Existing values are kept unless --overwrite. Keys coffer.yaml does not declare are imported and listed.

        With --from-project DIR, values come from DIR's vault for --env (which this identity must be able to \
        read; it is only read) and go to --to-env here (default: the same name), as new versions: every secret \
        of that vault, or only --names or those of --groups (groups of the source). Names coffer.yaml does not \
        declare are not copied and are listed; so are names whose group nobody may read here in the target \
        environment (blocked). Groups of the source this identity cannot read are refused (exit 3) unless \
        --allow-partial. Both projects' audit logs record the copy.
        """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var env: EnvironmentOption
    @Argument(help: "The .env file.") var file: String?
    @Flag(name: .long, help: "Replace values that differ from the file's (or the source project's).") var overwrite = false
    @Option(name: .customLong("from-project"), help: ArgumentHelp("Copy values from the project in DIR instead of a file.", valueName: "dir"))
    var fromProject: String?
    @Option(name: .customLong("to-env"), help: ArgumentHelp("With --from-project: the environment here (default: --env).", valueName: "name"))
    var toEnv: String?
    @Option(name: .long, help: ArgumentHelp("With --from-project: only these secrets (comma-separated).", valueName: "names"))
    var names: String?
    @Option(name: .long, help: ArgumentHelp("With --from-project: only the secrets of these groups of the source (comma-separated).", valueName: "groups"))
    var groups: String?
    @Flag(name: .long, help: "With --from-project: copy what is readable even if some selected groups are not.")
    var allowPartial = false

    mutating func run() throws {
      if let fromProject {
        guard file == nil else { throw UsageError(description: "give a .env file or --from-project DIR, not both") }
        guard names == nil || groups == nil else { throw UsageError(description: "give --names or --groups, not both") }
        try ProjectCopy.run(
          global: global, from: fromProject, sourceEnv: env.env, targetEnv: toEnv, names: ProjectCopy.list(names),
          groups: ProjectCopy.list(groups), overwrite: overwrite, allowPartial: allowPartial)
        return
      }
      guard let file else {
        throw UsageError(description: "give a .env file or --from-project DIR", hints: ["coffer import FILE --env NAME", "coffer import --from-project DIR --env NAME"])
      }
      for (flag, given) in [("--to-env", toEnv != nil), ("--names", names != nil), ("--groups", groups != nil), ("--allow-partial", allowPartial)] where given {
        throw UsageError(description: "\(flag) goes with --from-project")
      }
      try Importer.run(global: global, env: env, file: file, overwrite: overwrite)
    }
  }

  /// `coffer import-from-env`: the reference guide's name for `import`.
  struct ImportFromEnv: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "import-from-env", abstract: "Import a .env file (the reference guide's name for `coffer import`).")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var env: EnvironmentOption
    @Option(name: .long, help: "The .env file.") var envFile = ".env"
    @Flag(name: .long, help: "Replace values that differ from the file's.") var overwrite = false

    mutating func run() throws {
      try Importer.run(global: global, env: env, file: envFile, overwrite: overwrite)
    }
  }

  /// `coffer export`: write an environment's values in a format.
  struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "export", abstract: "Write an environment's values as dotenv, JSON, YAML or shell.",
      discussion: """
        Files are written atomically with mode 0600 (an existing file keeps its mode). The manifest and anything \
        under .coffer/ are refused: they are committed. An environment with no values (no vault yet, or an empty \
        one) is an error (exit 1, nothing written) unless --allow-empty.
        """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var env: EnvironmentOption
    @Option(name: .long, help: "dotenv, json, yaml or shell.") var format: ExportFormat = .dotenv
    @Option(name: .shortAndLong, help: ArgumentHelp("Write to FILE instead of stdout.", valueName: "file"))
    var output: String?
    @Flag(name: .long, help: "Export what is readable even if some groups are not.") var allowPartial = false
    @Flag(name: .long, help: "Succeed (with empty output) when the environment has no values.") var allowEmpty = false

    mutating func run() throws {
      try Exporter.run(
        project: global.project, verbose: global.verbose, env: env.env, format: format, output: output,
        allowPartial: allowPartial, allowEmpty: allowEmpty)
    }

    /// `export [--env E | -e E] [--project DIR] [--format F] [-o FILE | --output FILE] [--allow-partial]
    /// [--allow-empty]` parsed without ArgumentParser, which cost a third of `export` at 1,000 secrets
    /// (docs/performance.md); nil for anything else, which then goes through ArgumentParser.
    struct FastArguments: Equatable {
      var project: String?
      var env: String?
      var format = ExportFormat.dotenv
      var output: String?
      var allowPartial = false
      var allowEmpty = false

      init?(_ args: ArraySlice<String>) {
        var scan = ArgumentScan(args)
        while !scan.atEnd {
          switch scan.current {
          case "--allow-partial": allowPartial = true
          case "--allow-empty": allowEmpty = true
          default:
            if let known = scan.environmentOrProject(env: &env, project: &project) {
              guard known || Self.option(&scan, format: &format, output: &output) else { return nil }
            } else {
              return nil
            }
          }
          scan.advance()
        }
      }

      /// `--format F` or `--output FILE` (`-o FILE`) at the scan's argument; false for anything else or a bad value.
      private static func option(_ scan: inout ArgumentScan, format: inout ExportFormat, output: inout String?) -> Bool {
        if let v = scan.value("--format") {
          guard let v, let f = ExportFormat(rawValue: v) else { return false }
          format = f
          return true
        }
        if let v = scan.value("--output", "-o") {
          guard let v else { return false }
          output = v
          return true
        }
        return false
      }
    }
  }

  /// `coffer export-to-env`: the reference guide's name for `export`.
  struct ExportToEnv: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "export-to-env", abstract: "Write a .env file (the reference guide's name for `coffer export`).")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var env: EnvironmentOption
    @Option(name: .long, help: "The file to write.") var envFile = ".env"
    @Flag(name: .long, help: "Export what is readable even if some groups are not.") var allowPartial = false
    @Flag(name: .long, help: "Succeed (with an empty file) when the environment has no values.") var allowEmpty = false

    mutating func run() throws {
      try Exporter.run(
        project: global.project, verbose: global.verbose, env: env.env, format: .dotenv, output: envFile,
        allowPartial: allowPartial, allowEmpty: allowEmpty)
    }
  }
}

enum Importer {
  /// What an import did, by name.
  struct Summary {
    var added: [String] = [], updated: [String] = [], unchanged: [String] = [], skipped: [String] = []

    /// The usual summary notes on stderr.
    func report(_ what: String, extraSkipped: Int = 0) {
      ErrorRenderer.note(
        "\(what): \(added.count) added, \(updated.count) updated, "
          + "\(unchanged.count) unchanged, \(skipped.count + extraSkipped) skipped")
      if !skipped.isEmpty {
        ErrorRenderer.note("skipped (already set, differing): \(skipped.joined(separator: ", ")); use --overwrite to replace")
      }
    }
  }

  /// Stores values in an environment's vault under the project lock: a name already holding the same value is
  /// unchanged; one holding another value (or one this identity cannot read) is kept unless `overwrite`.
  static func store(
    _ entries: [(name: String, value: SecretValue)], in ws: Workspace, _ environment: String,
    identities: [AgeX25519Identity], overwrite: Bool, detail: String
  ) throws -> Summary {
    let author = ws.author(identities)
    let now = SystemClock.now()
    var summary = Summary()
    try ws.modifyVault(environment, identities: identities, action: "import", detail: detail) { vault in
      for (name, value) in entries {
        if vault.current(name) != nil {
          // A value this identity cannot read counts as differing: it is replaced only with --overwrite.
          if vault.isReadable(name), try vault.value(of: name) == value {
            summary.unchanged.append(name)
            continue
          }
          guard overwrite else {
            summary.skipped.append(name)
            continue
          }
          summary.updated.append(name)
        } else {
          summary.added.append(name)
        }
        try vault.set(name, to: value, group: ws.group(of: name), author: author, at: now)
      }
    }
    return summary
  }

  static func run(global: GlobalOptions, env: EnvironmentOption, file: String, overwrite: Bool) throws {
    let ws = try Workspace.load(global)
    let environment = try ws.environment(env)
    let parsed = try DotEnvParser.parse(try Files.read(file), file: file)
    for w in parsed.warnings { ErrorRenderer.warn("\(file):\(w.line): \(w.message)") }
    let entries = parsed.document.values
    for e in entries {
      try SecretNames.validate(e.name, at: "\(file):\(parsed.document.line(of: e.name) ?? 1)")
    }
    SecretNames.warnAboutDestinations(entries.map(\.name), ws: ws)
    let identities = try IdentityLoader.load()
    let summary = try store(entries, in: ws, environment, identities: identities, overwrite: overwrite, detail: "from \(Paths.lastComponent(file))")
    summary.report("imported \(file) into \(environment)")
    let undeclared = entries.map(\.name).filter { ws.manifest.secret(named: $0) == nil }
    if !undeclared.isEmpty {
      ErrorRenderer.warn("undeclared in coffer.yaml: \(undeclared.joined(separator: ", "))")
    }
  }
}

/// Export formats.
enum ExportFormat: String, ExpressibleByArgument, CaseIterable {
  case dotenv, json, yaml, shell
}

enum Exporter {
  /// Writes an environment's values to `output` (or stdout) in `format`.
  /// - Throws: what loading the project and opening the vault throw; ``UsageError`` for an output that is one of
  ///   Coffer's committed files; an error (exit 1) for an environment without values unless `allowEmpty`.
  static func run(
    project: String?, verbose: Bool, env: String?, format: ExportFormat, output: String?, allowPartial: Bool,
    allowEmpty: Bool
  ) throws {
    let ws = try Workspace.load(project: project, verbose: verbose)
    let environment = try ws.environment(named: env)
    if let output { try refuseCofferFiles(output, project: ws.project) }
    let identities = try IdentityLoader.load()
    let entries: [(name: String, value: SecretValue)]
    if let stored = try StoreCommands.values(ws, environment, action: "export", destination: output.map { "file:" + Paths.lastComponent($0) }) {
      entries = ComposedValues.adding(ws.manifest, to: stored, environment: environment)
    } else if let vault = try ws.openVault(environment, identities: identities) {
      try Partial.check(vault, environment: environment, allowPartial: allowPartial, manifest: ws.manifest, identities: identities)
      entries = ComposedValues.adding(ws.manifest, to: try vault.currentValues(), environment: environment)
      try ws.auditor(identities).recordRead("export", vault: vault, values: entries, destination: output.map { "file:" + Paths.lastComponent($0) })
    } else {
      entries = []
    }
    if entries.isEmpty, !allowEmpty {
      let exists = Files.exists(ws.project.vaultPath(environment))
      throw UsageError(
        description: "\(environment) has no values to export\(exists ? "" : " (it has no vault yet)")",
        hints: ["set some with `coffer set NAME --env \(environment)` or `coffer import FILE --env \(environment)`, or pass --allow-empty to export nothing"],
        exitStatus: .problemsFound)
    }
    let bytes = try ExportFormatter.render(entries, as: format)
    if let output {
      try Files.writeAtomically(output, bytes, newFileMode: 0o600)
      ErrorRenderer.note("wrote \(entries.count) values to \(output)")
    } else {
      Terminal.write(1, bytes)
    }
  }
}

extension Exporter {
  /// Refuses an output path that is the manifest or inside `.coffer/`: both are committed, so plaintext values
  /// written there would end up in git (and a vault would be destroyed).
  /// - Throws: ``UsageError`` (exit 2, nothing written).
  static func refuseCofferFiles(_ output: String, project: Project) throws {
    guard project.isOwnFile(output) else { return }
    throw UsageError(
      description: "refusing to write plaintext values to \(output): Coffer's own files are committed to git",
      hints: ["write to a path outside .coffer/, such as .env (ignored by git)"])
  }
}

/// Renders values in the export formats. Each round-trips through its intended consumer byte for byte.
enum ExportFormatter {
  static func render(_ entries: [(name: String, value: SecretValue)], as format: ExportFormat) throws -> [UInt8] {
    for e in entries where e.value.containsNUL || !e.value.isValidUTF8 {
      throw UsageError(description: "\(e.name) holds binary data (NUL or invalid UTF-8) that \(format.rawValue) cannot carry")
    }
    switch format {
    case .dotenv:
      let (bytes, warnings) = DotEnvSerializer.serializeWithWarnings(entries)
      for warning in warnings { ErrorRenderer.warn(warning.description) }
      return bytes
    case .json:
      return Array((JSON.object(entries.map { ($0.name, JSON.string($0.value.revealString())) }).encoded + "\n").utf8)
    case .yaml:
      var out = ""
      // Keys too: a YAML 1.1 reader takes a bare `on`, `no` or `null` for a boolean or null.
      for e in entries { out += "\(YAMLText.scalar(e.name)): \(YAMLText.doubleQuoted(e.value.revealString()))\n" }
      if entries.isEmpty { out = "{}\n" }
      return Array(out.utf8)
    case .shell:
      var out = ""
      for e in entries {
        guard isShellIdentifier(e.name) else {
          throw UsageError(
            description: "\(e.name) is not a shell variable name; nothing was written",
            hints: ["use --format dotenv or json for names with . or -"])
        }
        out += "export \(e.name)='\(e.value.revealString().replacingAll("'", with: "'\\''"))'\n"
      }
      return Array(out.utf8)
    }
  }

  static func isShellIdentifier(_ s: String) -> Bool {
    guard let f = s.utf8.first, f == 0x5F || (f | 0x20 >= 0x61 && f | 0x20 <= 0x7A) else { return false }
    return s.utf8.allSatisfy { $0 == 0x5F || ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) }
  }


}

extension String {
  /// Replaces every occurrence of one Unicode scalar (not grapheme: a quote followed by a combining mark is still
  /// a quote to a shell).
  func replacingAll(_ target: Unicode.Scalar, with replacement: String) -> String {
    var out = String.UnicodeScalarView()
    for u in unicodeScalars {
      if u == target { out.append(contentsOf: replacement.unicodeScalars) } else { out.append(u) }
    }
    return String(out)
  }
}
