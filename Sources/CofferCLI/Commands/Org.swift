import ArgumentParser
import CofferCore
import CofferOperations
import CofferSystem
import CofferVault
import Logging

/// Which repositories `coffer org` looks at.
struct OrgRepositoryOptions: ParsableArguments {
  @Argument(help: ArgumentHelp("Repository folders (default: every folder directly under the working directory that has a coffer.yaml).", valueName: "dir"))
  var dirs: [String] = []
  @Option(name: .long, help: ArgumentHelp("Read the repository folders from FILE, one per line (relative to FILE's folder; # comments).", valueName: "file"))
  var repos: String?
  @Flag(name: .long, help: "Print debug messages on stderr (never values).")
  var verbose = false
}

extension CofferCommand {
  /// `coffer org check|matrix`: many repositories at once (docs/organization.md).
  struct Org: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "org", abstract: "Check many repositories against each other and their shared catalog.",
      subcommands: [OrgCheckCommand.self, OrgMatrixCommand.self])
  }

  /// `coffer org check`.
  struct OrgCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "check",
      abstract: "Report inconsistencies across repositories: definitions, the catalog, vault verdicts, GitHub visibility.",
      discussion: """
        Reads each repository's manifest (with its imports) and, when this identity can read them, its vaults. \
        Reports: the same secret defined differently (group, format, rotation, secret or setting) in two places; \
        secrets a repository declares that no catalog defines, and catalog secrets no repository declares; per \
        repository and environment, what `coffer check` and `coffer rotate status` call missing, invalid, overdue \
        or needing rotation; organization GitHub destinations with visibility: selected that leave out a \
        repository declaring one of their secrets, or list one declaring none. Folders another repository \
        imports are catalogs, not repositories. Never prints a value. Exit status 1 when anything is found, 2 for \
        a bad folder list or manifest, 3 when a vault cannot be verified.
        """)

    @OptionGroup var options: OrgRepositoryOptions
    @Flag(name: .long, help: "Print the findings as JSON.") var json = false
    @Flag(name: .long, help: "Read manifests only, not vaults.") var manifestsOnly = false

    mutating func run() throws {
      var org = try Organization.load(options)
      var skipped: [(repository: String, environment: String, reason: String)] = []
      if !manifestsOnly {
        skipped = try org.readVaults()
      }
      let findings = OrgAnalysis.findings(repositories: org.repositories, catalogs: org.catalogs)
      if json {
        Terminal.out(OrgText.json(findings, org: org, skipped: skipped) + "\n")
      } else {
        OrgText.notChecked(skipped)
        Terminal.out(OrgText.table(findings))
        func count(_ n: Int, _ one: String, _ many: String) -> String { "\(n) \(n == 1 ? one : many)" }
        ErrorRenderer.note(
          "checked \(count(org.repositories.count, "repository", "repositories")) and "
            + "\(count(org.catalogs.count, "catalog", "catalogs")): \(count(findings.count, "finding", "findings"))")
      }
      if !findings.isEmpty { throw Finish(status: ExitStatus.problemsFound.rawValue) }
    }
  }

  /// `coffer org matrix`.
  struct OrgMatrixCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "matrix",
      abstract: "Show which repository needs which secret in which environment.",
      discussion: """
        One row per secret, one column per repository: the environments that require it, `optional` when it is \
        declared but required nowhere, `-` when the repository does not declare it. Reads manifests only.
        """)

    @OptionGroup var options: OrgRepositoryOptions
    @Flag(name: .long, help: "Print JSON.") var json = false
    @Flag(name: .long, help: "Print CSV (RFC 4180), the table's cells.") var csv = false

    mutating func run() throws {
      guard !(json && csv) else { throw UsageError(description: "give --json or --csv, not both") }
      let org = try Organization.load(options)
      let matrix = OrgMatrix.build(org.repositories)
      if json {
        Terminal.out(OrgText.matrixJSON(matrix) + "\n")
      } else if csv {
        Terminal.out(OrgText.csv(OrgText.matrixCells(matrix)))
      } else {
        Terminal.out(Table.render(OrgText.matrixCells(matrix).map { $0.map(DisplayText.escaped) }))
      }
    }
  }
}

/// The repositories and catalogs of one `coffer org` run.
struct Organization {
  var repositories: [OrgRepository]
  var catalogs: [OrgCatalog]
  var workspaces: [Workspace]
  let logger: Logger

  /// The folders named by `DIR…`, `--repos FILE`, or found directly under the working directory.
  static func directories(_ options: OrgRepositoryOptions) throws -> [String] {
    if !options.dirs.isEmpty, options.repos != nil {
      throw UsageError(description: "give repository folders or --repos FILE, not both")
    }
    if let file = options.repos {
      let text = String(decoding: try Files.read(file), as: UTF8.self)
      var dirs: [String] = []
      for (index, whole) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
        let raw = whole.last == "\r" ? whole.dropLast() : whole
        let line = String(raw.firstIndex(of: "#").map { raw[..<$0] } ?? raw[...]).trimmingSpaces()
        guard !line.isEmpty else { continue }
        let dir = Paths.join(Paths.parent(file), line)
        guard Files.exists(Paths.join(dir, Project.manifestName)) else {
          throw UsageError(description: "\(file):\(index + 1): \(line) has no \(Project.manifestName)")
        }
        dirs.append(dir)
      }
      guard !dirs.isEmpty else { throw UsageError(description: "\(file) lists no repository folders") }
      return dirs
    }
    if !options.dirs.isEmpty {
      for dir in options.dirs where !Files.exists(Paths.join(dir, Project.manifestName)) {
        throw UsageError(description: "\(dir) has no \(Project.manifestName)", hints: ["name folders that hold a repository's coffer.yaml"])
      }
      return options.dirs
    }
    let found = Files.list(".").filter { !$0.hasPrefix(".") }.sorted()
      .filter { Files.isDirectory($0) && Files.exists(Paths.join($0, Project.manifestName)) }
    guard !found.isEmpty else {
      throw UsageError(
        description: "no repositories here: no folder directly under the working directory has a \(Project.manifestName)",
        hints: ["run coffer org check in the folder that holds the checkouts, or name them: coffer org check DIR…"])
    }
    return found
  }

  /// Reads every repository's manifest with its imports; folders another one imports become catalogs.
  static func load(_ options: OrgRepositoryOptions) throws -> Organization {
    let logger = CLILog.make(verbose: options.verbose)
    let dirs = try directories(options)
    var loaded: [(dir: String, key: String, merged: MergedManifest, display: String)] = []
    var catalogGraphs: [String: ManifestImportGraph] = [:]
    var catalogOrder: [String] = []
    var names: [String: String] = [:]
    var parsed: [String: ManifestSource] = [:]
    for dir in dirs {
      let manifestPath = Paths.join(dir, Project.manifestName)
      let display = ManifestLoader.display(Paths.resolved(manifestPath))
      let (merged, graph) = try ManifestLoader.loadWithGraph(manifestPath, rootDisplay: display, cache: &parsed)
      for key in graph.sources.keys.sorted() where key != graph.root && catalogGraphs[key] == nil {
        catalogGraphs[key] = graph
        catalogOrder.append(key)
      }
      loaded.append((dir, graph.root, merged, display))
    }
    var repositories: [OrgRepository] = []
    var workspaces: [Workspace] = []
    for item in loaded where catalogGraphs[item.key] == nil {
      // The folder itself, resolved through its coffer.yaml so that `.` and `..` have their real names.
      let root = Paths.parent(Paths.resolved(Paths.join(item.dir, Project.manifestName)))
      let name = Paths.lastComponent(root)
      if let other = names[name] {
        throw UsageError(description: "two repositories are named \(name): \(other) and \(item.dir)")
      }
      names[name] = item.dir
      let manifest = item.merged.manifest
      let destinations = manifest.destinations == nil ? [] : try Manifest.decodeDestinations(
        try Files.read(Paths.join(item.dir, Project.manifestName)), file: item.display, merged: manifest)
      repositories.append(
        OrgRepository(
          name: name, manifestFile: item.display, manifest: manifest, provenance: item.merged.provenance,
          importedSecrets: item.merged.importedSecrets, destinations: destinations))
      workspaces.append(
        Workspace(
          project: Project(root: root), manifest: manifest, logger: logger, provenance: item.merged.provenance,
          importedSecrets: item.merged.importedSecrets))
    }
    var catalogs: [OrgCatalog] = []
    for key in catalogOrder {
      let graph = catalogGraphs[key]!
      let source = graph.sources[key]!
      let merged = try ManifestMerger.merge(ManifestImportGraph(root: key, sources: graph.sources, edges: graph.edges))
      var destinations: [DestinationSpec] = []
      if source.manifest.destinations != nil, !key.hasPrefix("git:") {
        destinations = try Manifest.decodeDestinations(try Files.read(key), file: source.file, merged: merged.manifest)
      }
      catalogs.append(OrgCatalog(file: source.file, manifest: merged.manifest, provenance: merged.provenance, destinations: destinations))
    }
    logger.debug("org: \(repositories.count) repositories, \(catalogs.count) catalogs")
    return Organization(repositories: repositories, catalogs: catalogs, workspaces: workspaces, logger: logger)
  }

  /// Adds the `check` and `rotate status` verdicts of every vault this identity can read; returns what was not read.
  mutating func readVaults() throws -> [(repository: String, environment: String, reason: String)] {
    var skipped: [(repository: String, environment: String, reason: String)] = []
    let identities: [AgeX25519Identity]
    do {
      identities = try IdentityLoader.load()
    } catch let error as any CofferError {
      ErrorRenderer.note("vaults not read: \(error.description)")
      return []
    }
    let now = SystemClock.now()
    let progress = ProgressReporter("org check", unit: "repositories", total: repositories.count)
    defer { progress.finish() }
    for index in repositories.indices {
      defer { progress.advance() }
      let ws = workspaces[index]
      let name = repositories[index].name
      let policy = RotationPolicy(manifest: ws.manifest)
      for environment in ws.manifest.environments {
        // An environment without a vault keeps its values elsewhere (or has none yet): not judged here.
        guard Files.exists(ws.project.vaultPath(environment)) else {
          skipped.append((name, environment, "no vault"))
          continue
        }
        do {
          let verdict = try EnvironmentCheck.verdict(
            ws, environment, identities: identities, auditDetail: "org check", storeValues: StoreCommands.checkValues
          ) { vault in
            let unreadable = vault.unreadableGroups
            if !unreadable.isEmpty {
              skipped.append((name, environment, "groups \(unreadable.joined(separator: ", ")) not readable with this identity; the rest was checked"))
            }
          }
          repositories[index].verdicts.append(
            OrgEnvironmentVerdict(
              environment: environment, check: verdict.report, rotation: policy.statuses(of: verdict.rotationFacts, at: now)))
        } catch is AccessDenied {
          skipped.append((name, environment, "this identity cannot open its vault; not checked"))
        }
      }
    }
    return skipped
  }
}

/// Output of `coffer org`.
enum OrgText {
  /// Notes on stderr: environments without a vault in one line, other reasons one per line.
  static func notChecked(_ skipped: [(repository: String, environment: String, reason: String)]) {
    let noVault = skipped.filter { $0.reason == "no vault" }.map { "\($0.repository) (\($0.environment))" }
    if !noVault.isEmpty { ErrorRenderer.note("no vault, not checked: \(noVault.joined(separator: ", "))") }
    for s in skipped where s.reason != "no vault" {
      ErrorRenderer.note("\(s.repository) (\(s.environment)): \(s.reason)")
    }
  }

  static func table(_ findings: [OrgFinding]) -> String {
    guard !findings.isEmpty else { return "" }
    var rows = [["KIND", "REPOSITORY", "ENVIRONMENT", "SECRET", "DETAIL"]]
    for f in findings {
      rows.append(
        [f.kind.rawValue, f.repository ?? "-", f.environment ?? "-", f.secret ?? "-", f.detail].map(DisplayText.escaped))
    }
    return Table.render(rows)
  }

  static func json(
    _ findings: [OrgFinding], org: Organization, skipped: [(repository: String, environment: String, reason: String)]
  ) -> String {
    func optional(_ s: String?) -> JSON { s.map { .string($0) } ?? .null }
    return JSON.object([
      ("repositories", JSON.strings(org.repositories.map(\.name))),
      ("catalogs", JSON.strings(org.catalogs.map(\.file))),
      ("findings", .array(findings.map { f in
        .object([
          ("kind", .string(f.kind.rawValue)), ("repository", optional(f.repository)),
          ("environment", optional(f.environment)), ("secret", optional(f.secret)), ("detail", .string(f.detail)),
        ])
      })),
      ("not_checked", .array(skipped.map { s in
        .object([("repository", .string(s.repository)), ("environment", .string(s.environment)), ("reason", .string(s.reason))])
      })),
    ]).encoded
  }

  /// The matrix as rows of cells, the header first.
  static func matrixCells(_ matrix: OrgMatrix) -> [[String]] {
    var rows = [["SECRET"] + matrix.repositories]
    for row in matrix.rows {
      var cells = [row.name]
      let uses = Dictionary(row.uses.map { ($0.repository, $0) }, uniquingKeysWith: { first, _ in first })
      for repository in matrix.repositories {
        guard let use = uses[repository] else {
          cells.append("-")
          continue
        }
        cells.append(use.required.isEmpty ? "optional" : use.required.joined(separator: ","))
      }
      rows.append(cells)
    }
    return rows
  }

  static func matrixJSON(_ matrix: OrgMatrix) -> String {
    JSON.object([
      ("repositories", JSON.strings(matrix.repositories)),
      ("secrets", .array(matrix.rows.map { row in
        .object([
          ("name", .string(row.name)),
          ("repositories", .array(row.uses.map { use in
            .object([
              ("repository", .string(use.repository)), ("required", JSON.strings(use.required)),
              ("optional", JSON.strings(use.optional)),
            ])
          })),
        ])
      })),
    ]).encoded
  }

  /// RFC 4180: cells with a comma, quote or line break are quoted, quotes doubled; lines end with CRLF.
  static func csv(_ rows: [[String]]) -> String {
    rows.map { row in
      row.map { cell in
        cell.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
          ? "\"" + cell.replacing("\"", with: "\"\"") + "\"" : cell
      }.joined(separator: ",")
    }.joined(separator: "\r\n") + "\r\n"
  }
}
