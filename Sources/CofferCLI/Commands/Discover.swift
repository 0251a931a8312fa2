import ArgumentParser
import CofferCore
import CofferDiscover
import CofferOperations
import CofferSystem
import Logging

extension CofferCommand {
  /// `coffer discover`: the variables code reads, against the manifest.
  struct Discover: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "discover",
      abstract: "Find the environment variables code reads and report those coffer.yaml does not declare.",
      discussion: """
        Reads Python, JavaScript/TypeScript, Go, Ruby, Swift, Rust, Java/Kotlin, shell scripts, Dockerfiles, \
        compose files and GitHub workflows under PATH (default: the project's directory), honouring .gitignore \
        and .git/info/exclude, never following symbolic links, skipping binary files and files larger than \
        --max-file-size. Lists each undeclared name with file:line:column of every read, then declared names \
        nothing reads. Exit status 1 when an undeclared name is found.
        """)

    @OptionGroup var global: GlobalOptions
    @Flag(name: .long, help: "Print the report as JSON.") var json = false
    @Option(name: .long, help: ArgumentHelp("Skip files larger than this many bytes.", valueName: "bytes"))
    var maxFileSize = TreeWalker.defaultMaxFileSize
    @Flag(name: .long, help: "Also read files that .gitignore excludes.") var noIgnore = false
    @Argument(help: ArgumentHelp("Files or directories to read (default: the project's directory).", valueName: "path"))
    var paths: [String] = []

    mutating func run() throws {
      guard maxFileSize > 0 else { throw UsageError(description: "--max-file-size: expected a positive number of bytes") }
      let ws = try Workspace.load(global)
      let report = try CodeDiscovery.report(
        ws, paths: paths, maxFileSize: maxFileSize, respectsGitIgnore: !noIgnore)
      Terminal.out(json ? CodeDiscovery.json(report).encoded + "\n" : CodeDiscovery.text(report))
      if report.hasUndeclared { throw Finish(status: ExitStatus.problemsFound.rawValue) }
    }
  }
}

/// Runs discovery for `discover` and `check --discover`: walk, read in parallel, scan, compare with the manifest.
enum CodeDiscovery {
  /// Scans the paths (default: the project's root) and compares with the manifest.
  static func report(
    _ ws: Workspace, paths: [String], maxFileSize: Int = TreeWalker.defaultMaxFileSize, respectsGitIgnore: Bool = true
  ) throws -> DiscoveryReport {
    let roots = paths.isEmpty ? [defaultRoot(ws.project)] : paths
    let listing = try TreeWalker(respectsGitIgnore: respectsGitIgnore).list(roots)
    let candidates = listing.files.filter { SourceLanguage.detect(path: $0.path) != .unsupported }
    let results = TreeWalker.readAll(candidates, maxSize: maxFileSize) { file, bytes -> [VariableReference]? in
      guard let language = SourceLanguage.detect(path: file.path, firstLine: bytes.prefix(256)) else { return nil }
      return ReferenceScanner.scan(bytes, language: language)
    }
    var references: [(file: String, reference: VariableReference)] = []
    var skipped = listing.skipped
    var read = 0
    for (file, result) in zip(candidates, results) {
      switch result {
      case .success(let found):
        guard let found else { continue }  // no extension and no `#!` line naming a language
        read += 1
        references += found.map { (file.path, $0) }
      case .failure(let error):
        skipped.append(error.skip)
      }
    }
    for skip in skipped { ws.logger.debug("skipped \(skip.path): \(describe(skip.reason, limit: maxFileSize))") }
    ErrorRenderer.note(summary(read: read, skipped: skipped, ignored: listing.ignoredCount, limit: maxFileSize))
    return DiscoveryReport(references: references, declared: ws.manifest.secrets.map(\.name))
  }

  /// The project root as the user should see it: `.` when it is the current directory.
  static func defaultRoot(_ project: Project) -> String {
    project.root == Paths.currentDirectory() ? "." : project.display(project.root)
  }

  static func describe(_ reason: TreeWalker.Skip.Reason, limit: Int) -> String {
    switch reason {
    case .symlink: return "a symbolic link (not followed)"
    case .binary: return "binary"
    case .tooLarge(let size): return "\(size) bytes, over the \(limit)-byte limit"
    case .special: return "not a regular file"
    case .unreadable(let why): return "unreadable: \(why)"
    }
  }

  static func summary(read: Int, skipped: [TreeWalker.Skip], ignored: Int, limit: Int) -> String {
    var counts: [String: Int] = [:]
    for skip in skipped {
      let key: String
      switch skip.reason {
      case .symlink: key = "symbolic links"
      case .binary: key = "binary"
      case .tooLarge: key = "over \(limit) bytes"
      case .special: key = "special files"
      case .unreadable: key = "unreadable"
      }
      counts[key, default: 0] += 1
    }
    var text = "discover: read \(read) source file\(read == 1 ? "" : "s")"
    if !counts.isEmpty {
      text += "; skipped " + counts.keys.sorted().map { "\(counts[$0]!) \($0)" }.joined(separator: ", ")
    }
    if ignored > 0 { text += "; \(ignored) paths excluded by gitignore rules" }
    return text
  }

  static func json(_ report: DiscoveryReport) -> JSON {
    JSON.object([
      (
        "undeclared",
        .array(
          report.undeclared.map { finding in
            .object([
              ("name", .string(finding.name)),
              (
                "references",
                .array(
                  finding.locations.map {
                    .object([("file", .string($0.file)), ("line", .int($0.line)), ("column", .int($0.column))])
                  })
              ),
            ])
          })
      ),
      ("unused", JSON.strings(report.unused)),
      ("declared_and_used", JSON.strings(report.declaredAndUsed)),
    ])
  }

  static func text(_ report: DiscoveryReport) -> String {
    var out = ""
    if !report.undeclared.isEmpty {
      out += "undeclared (\(report.undeclared.count)):\n"
      for finding in report.undeclared {
        out += "  \(finding.name)\n"
        for location in finding.locations { out += "    \(location.text)\n" }
      }
    }
    if !report.unused.isEmpty {
      out += "declared but not read (\(report.unused.count)): \(report.unused.joined(separator: ", "))\n"
    }
    out += "declared and read (\(report.declaredAndUsed.count))"
    out += report.declaredAndUsed.isEmpty ? "\n" : ": \(report.declaredAndUsed.joined(separator: ", "))\n"
    out += report.hasUndeclared ? "result: \(report.undeclared.count) undeclared\n" : "result: ok\n"
    return out
  }

  // MARK: - check --discover

  /// The undeclared names for `check --discover`, or `nil` when not asked.
  static func undeclaredNames(_ ws: Workspace, enabled: Bool) throws -> [String]? {
    guard enabled else { return nil }
    return try report(ws, paths: []).undeclared.map(\.name)
  }

  /// The check JSON with `"undeclared_in_code"` added when discovery ran.
  static func adding(_ names: [String]?, to document: JSON) -> JSON {
    guard let names, case .object(var pairs) = document else { return document }
    pairs.append(("undeclared_in_code", JSON.strings(names)))
    return .object(pairs)
  }

  /// The check text with an `undeclared in code` section before its `result:` line (and that line amended).
  static func adding(_ names: [String]?, to text: String) -> String {
    guard let names, !names.isEmpty else { return text }
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    if lines.last == "" { lines.removeLast() }
    let section = "undeclared in code (\(names.count)): \(names.joined(separator: ", "))"
    if let index = lines.lastIndex(where: { $0.hasPrefix("result: ") }) {
      lines.insert(section, at: index)
      let result = lines[index + 1]
      let note = "\(names.count) undeclared in code"
      lines[index + 1] = result == "result: ok" ? "result: \(note)" : result + ", " + note
    } else {
      lines.append(section)
    }
    return lines.joined(separator: "\n") + "\n"
  }
}
