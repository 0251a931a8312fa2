import ArgumentParser
import CofferCore
import CofferOperations
import CofferScan
import CofferSystem
import CofferVault

extension CofferCommand {
  /// `coffer scan`: look for the project's values and for private keys in files, the index or the history.
  struct Scan: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "scan",
      abstract: "Find this project's secret values (raw and encoded) and private keys in files, staged changes or git history.",
      discussion: """
        Looks for every version of every value this identity can read, in every environment, raw and as base64, \
        percent-encoding, hex, JSON and shell escapes, and for PEM private keys. Prints path:line:column, the rule, \
        the secret's name and a keyed fingerprint, never a value. Exit status 1 when something is found. \
        Suppress with a `coffer:allow` comment on the line, a .cofferignore file (gitignore syntax) or a baseline \
        of fingerprints (.cofferbaseline, or --baseline). See docs/scan.md.
        """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Files or directories (default: the current directory); with --staged or --history, git pathspecs.")
    var paths: [String] = []
    @Flag(name: .long, help: "Scan the staged contents (the index) of changed files instead of the working tree.")
    var staged = false
    @Flag(name: .long, help: "Scan every commit reachable from any ref, reporting the commit that introduced each finding.")
    var history = false
    @Flag(name: .long, help: "Print findings as JSON.") var json = false
    @Flag(name: .long, help: "Print findings as SARIF 2.1.0.") var sarif = false
    @Option(name: .long, help: ArgumentHelp("Accept the findings whose fingerprints FILE lists (default: .cofferbaseline when present).", valueName: "file"))
    var baseline: String?
    @Option(name: .long, help: ArgumentHelp("Write every current finding to FILE as the accepted baseline, and exit 0.", valueName: "file"))
    var writeBaseline: String?
    @Option(name: .long, help: ArgumentHelp("Skip files larger than SIZE (bytes, or with K, M, G).", valueName: "size"))
    var maxFileSize = "10M"
    @Flag(name: .long, help: "Do not open the vault: look for private keys only.") var formatsOnly = false

    mutating func run() throws {
      guard !(staged && history) else { throw UsageError(description: "give at most one of --staged and --history") }
      guard !(json && sarif) else { throw UsageError(description: "give at most one of --json and --sarif") }
      guard let maxSize = ByteSize.parse(maxFileSize) else {
        throw UsageError(description: "--max-file-size: expected a number of bytes, optionally with K, M or G")
      }
      let known = formatsOnly
        ? KnownValues(fingerprinter: .ephemeral()) : try KnownValues.load(global, environments: nil, required: false, action: "scan", purpose: .scan)
      let fingerprinter = known.fingerprinter
      let scanner = Scanner(values: known.values, rules: [PrivateKeyRule(), AgeIdentityRule()]) { fingerprinter.fingerprint(rule: $0, material: $1) }
      let skipped = known.skipped + scanner.skipped
      KnownValues.noteSkipped(skipped, verbose: global.verbose)

      let roots = paths.isEmpty ? ["."] : paths
      let ignoreRoot = try ScanDriver.ignoreRoot(for: staged || history ? "." : roots[0])
      var options = ScanOptions()
      options.maxFileSize = maxSize
      let ignoreFile = Paths.join(ignoreRoot, ".cofferignore")
      if Files.exists(ignoreFile) { options.ignore = IgnoreRules(parsing: try Files.read(ignoreFile)) }
      let baselineFile = baseline ?? (Files.exists(Paths.join(ignoreRoot, ".cofferbaseline")) ? Paths.join(ignoreRoot, ".cofferbaseline") : nil)
      let accepted = try baselineFile.map { file throws -> Baseline in try Baseline(parsing: try Files.read(file), file: file) } ?? Baseline()

      let (files, summary): ([ScannedFile], ScanSummary)
      if staged {
        (files, summary) = try ScanDriver.scanStaged(".", paths: paths, scanner: scanner, options: options)
      } else if history {
        let progress = ProgressReporter("scan --history", unit: "blobs")
        defer { progress.finish() }
        options.progress = progress
        (files, summary) = try ScanDriver.scanHistory(".", paths: paths, scanner: scanner, options: options)
      } else {
        (files, summary) = ScanDriver.scan(try ScanDriver.workingTreeFiles(roots), scanner: scanner, options: options)
      }
      var rows: [ScanReport.Row] = []
      var baselined = 0
      for file in files {
        for f in file.findings {
          if writeBaseline == nil, accepted.accepts(fingerprint: f.fingerprint, path: file.path) {
            baselined += 1
          } else {
            rows.append(ScanReport.Row(path: file.path, commit: file.commit, finding: f))
          }
        }
      }
      if let writeBaseline {
        let entries = rows.map { ($0.finding.fingerprint, $0.path, $0.finding.rule, $0.finding.secret ?? "-") }
        try Files.writeAtomically(writeBaseline, Baseline.render(entries), newFileMode: 0o644)
        ErrorRenderer.note("wrote \(rows.count) accepted finding\(rows.count == 1 ? "" : "s") to \(writeBaseline)")
        return
      }
      let mode = staged ? "staged" : history ? "history" : "tree"
      if json {
        Terminal.out(ScanReport.json(rows, mode: mode, skipped: skipped, summary: summary, baselined: baselined))
      } else if sarif {
        Terminal.out(ScanReport.sarif(rows, version: CofferCommand.configuration.version))
      } else {
        Terminal.out(ScanReport.text(rows))
      }
      noteSummary(summary, findings: rows.count, baselined: baselined, maxSize: maxSize)
      if !rows.isEmpty {
        if staged {
          ErrorRenderer.note("commit blocked: remove the values above, or accept them with a `coffer:allow` comment or a baseline (docs/scan.md)")
        }
        throw Finish(status: ExitStatus.problemsFound.rawValue)
      }
    }

    func noteSummary(_ s: ScanSummary, findings: Int, baselined: Int, maxSize: Int) {
      var parts = ["\(findings) finding\(findings == 1 ? "" : "s")"]
      if baselined > 0 { parts.append("\(baselined) accepted by the baseline") }
      let what = history ? "\(s.scanned) blobs in \(s.commits) commits" : "\(s.scanned) \(staged ? "staged files" : "files")"
      var line = "scanned \(what) (\(s.bytes) bytes): " + parts.joined(separator: ", ")
      var skipped: [String] = []
      if !s.binary.isEmpty { skipped.append("\(s.binary.count) binary") }
      if !s.oversized.isEmpty { skipped.append("\(s.oversized.count) larger than \(maxFileSize)") }
      if s.ignored > 0 { skipped.append("\(s.ignored) by .cofferignore") }
      if !s.unreadable.isEmpty { skipped.append("\(s.unreadable.count) unreadable") }
      if !skipped.isEmpty { line += "; skipped " + skipped.joined(separator: ", ") }
      ErrorRenderer.note(line)
      for u in s.unreadable.sorted() { ErrorRenderer.warn("cannot read \(u)") }
      if global.verbose {
        for b in s.oversized.sorted() { ErrorRenderer.note("skipped (size): \(b)") }
        for b in s.binary.sorted() { ErrorRenderer.note("skipped (binary): \(b)") }
      }
    }
  }
}
