import ArgumentParser
import CofferAudit
import CofferCore
import CofferOperations
import CofferSystem
import CofferVault

extension CofferCommand {
  /// `coffer audit`: show and verify the hash-chained audit log.
  struct Audit: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "audit", abstract: "Show or verify your audit log for this project, on this machine (names and keyed fingerprints, never values).",
      discussion: """
        The log records what this user did with this project's secrets on this machine: it lives outside the \
        repository, in segments, and is not shared, so teammates' reads and changes are in their own logs, not here \
        (`coffer audit export` writes a copy to keep, for example from CI). `coffer audit path` prints where it is. \
        See docs/audit.md.
        """,
      subcommands: [Show.self, Verify.self, Export.self, Prune.self, Where.self],
      defaultSubcommand: Show.self)

    struct Show: ParsableCommand {
      static let configuration = CommandConfiguration(commandName: "show", abstract: "Print audit entries.")

      @OptionGroup var global: GlobalOptions
      @Option(name: .long, help: ArgumentHelp("Only entries at or after TIME (RFC 3339, e.g. 2026-11-01T00:00:00Z).", valueName: "time"))
      var since: String?
      @Option(name: .long, help: ArgumentHelp("Only entries that involve secret NAME.", valueName: "name"))
      var name: String?
      @Flag(name: .long, help: "Print the entries as JSON lines, exactly as stored.") var json = false

      mutating func run() throws {
        let ws = try Workspace.load(global)
        let identities = try IdentityLoader.load()
        let sinceTime: Timestamp?
        if let since {
          guard let t = Timestamp(rfc3339: since) else {
            throw UsageError(description: "--since: expected a time like 2026-11-01T00:00:00Z")
          }
          sinceTime = t
        } else {
          sinceTime = nil
        }
        let trail = AuditTrail.forProject(root: ws.project.root)
        let contents = try trail.read(headKey: identities[0].encoded)
        // The log stores what the writer knew (`run` records the recipient, not reading the manifest); the table
        // shows the manifest's name for a recipient it names.
        var recipientNames: [String: String] = [:]
        for named in ws.manifest.recipients where recipientNames[named.recipient] == nil {
          recipientNames[named.recipient] = named.name
        }
        var rows = [["TIME", "ACTOR", "USER", "ACTION", "ENV", "SECRETS", "OUTCOME"]]
        var out = ""
        for segment in contents.segments {
          let log = segment.bytes
          var start = 0
          while start < log.count {
            let end = log[start...].firstIndex(of: 0x0A) ?? log.count
            let line = Array(log[start..<end])
            start = end + 1
            guard let record = AuditLog.parse(line) else { continue }
            let e = record.event
            if let sinceTime, e.time < sinceTime { continue }
            if let name, !e.secrets.contains(name) { continue }
            if json {
              out += String(decoding: line, as: UTF8.self) + "\n"
            } else {
              // A large set is recorded as a count without names (docs/audit.md).
              let names =
                e.count.map { "(\($0))" }
                ?? (e.secrets.count > 4 ? e.secrets.prefix(4).joined(separator: ",") + ",…(\(e.secrets.count))" : e.secrets.joined(separator: ","))
              let actor = recipientNames[e.actor] ?? e.actor
              rows.append([e.time.rfc3339, actor.count > 20 ? String(actor.prefix(17)) + "…" : actor, e.osUser, e.action + (e.destination.map { " → \($0)" } ?? ""), e.environment ?? "-", names, e.outcome])
            }
          }
        }
        Terminal.out(json ? out : Table.render(rows))
      }
    }

    struct Verify: ParsableCommand {
      static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check the hash chain and the head: report edited, deleted, inserted, reordered or truncated entries.",
        discussion: "With FILE, check an exported file (`coffer audit export`) instead: its chain, where it starts and its end line. See docs/audit.md.")

      @OptionGroup var global: GlobalOptions
      @Argument(help: ArgumentHelp("An exported file (`coffer audit export`), or a segment copied as is, to verify instead of this project's log.", valueName: "file"))
      var file: String?
      @Option(name: .customLong("file"), help: ArgumentHelp("The same as the FILE argument.", valueName: "file"))
      var fileOption: String?

      mutating func run() throws {
        if file != nil, fileOption != nil {
          throw UsageError(description: "give the exported file once: as FILE or as --file", hints: ["coffer audit verify coffer-audit.jsonl"])
        }
        if let exported = file ?? fileOption {
          try AuditExportVerifier.verify(exported)
          return
        }
        let ws = try Workspace.load(global)
        let identities = try IdentityLoader.load()
        let trail = AuditTrail.forProject(root: ws.project.root)
        let contents = try trail.read(headKey: identities[0].encoded)
        let state = contents.headState
        let result = AuditLog.verify(segments: contents.segments, head: contents.head)
        var problems = result.problems
        var notes: [String] = []
        switch state {
        case .absent: notes.append("no audit entries yet")
        case .missing: problems.append(AuditProblem(line: nil, kind: .truncated(missing: 0))); notes.append("the head file is missing: truncation cannot be ruled out")
        case .unauthenticated: notes.append("the head does not verify with this identity (written by another identity, or forged): truncation cannot be ruled out")
        case .valid: break
        }
        for n in notes { ErrorRenderer.note(n) }
        // Segments removed on purpose are history, not a problem: say what went, when and by whom.
        for prune in result.prunes { Terminal.out("pruned: \(prune)\n") }
        if problems.isEmpty {
          let segments = result.segments > 1 ? " in \(result.segments) segments" : ""
          Terminal.out("ok: \(result.records.count) entries\(segments), chain intact\(state == .valid ? ", head verified" : "")\n")
          return
        }
        for p in problems where !(state == .missing && p.kind == .truncated(missing: 0)) {
          Terminal.out("\(p.segment.flatMap { contents.paths[$0] } ?? trail.path): \(p)\n")
        }
        if state == .missing { Terminal.out("\(trail.path): head missing\n") }
        throw Finish(status: ExitStatus.problemsFound.rawValue)
      }
    }

    struct Export: ParsableCommand {
      static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the audit log's lines, exactly as stored with their hashes, as JSON lines that `coffer audit verify FILE` checks.",
        discussion: """
          Every line of every segment, in order, between a header (where the slice starts: the line and hash it \
          chains from) and an end line (how many lines, the last one's hash). To stdout, or with -o to a file written \
          atomically, mode 0600 (an existing file keeps its mode and owner); the manifest and anything under .coffer/ are \
          refused. Never holds a value: the log holds none. See docs/audit.md.
          """)

      @OptionGroup var global: GlobalOptions
      @Option(name: [.customShort("o"), .long], help: ArgumentHelp("Write to FILE instead of stdout.", valueName: "file"))
      var output: String?
      @Option(name: .long, help: ArgumentHelp("Export from the first entry at or after TIME (RFC 3339, or a date YYYY-MM-DD) to the end; the slice still verifies.", valueName: "time"))
      var since: String?

      mutating func run() throws {
        var sinceTime: Timestamp?
        if let since {
          guard let t = Timestamp(rfc3339: since) ?? Timestamp(rfc3339: since + "T00:00:00Z") else {
            throw UsageError(description: "--since: expected a time like 2026-11-01T00:00:00Z or a date like 2026-11-01")
          }
          sinceTime = t
        }
        let ws = try Workspace.load(global)
        if let output { try AuditExportVerifier.refuseCofferFiles(output, project: ws.project) }
        // No identity is needed to export (a CI job may have none); with one, the head is checked too.
        let identities = (try? IdentityLoader.load()) ?? []
        let trail = AuditTrail.forProject(root: ws.project.root)
        let contents = try trail.read(headKey: identities.first?.encoded ?? SecretValue(""))
        let head: String
        switch contents.headState {
        case .absent: head = "absent"
        case .missing: head = "missing"
        case .unauthenticated: head = "unauthenticated"
        case .valid: head = "verified"
        }
        let encoded = AuditExport.encode(segments: contents.segments, since: sinceTime, exportedAt: SystemClock.now(), head: head)
        let problems = AuditLog.verify(segments: contents.segments, head: contents.head).problems
        if !problems.isEmpty {
          ErrorRenderer.warn(
            "the audit log \(trail.path) does not verify (\(problems.count) problem\(problems.count == 1 ? "" : "s")); "
              + "exported as stored: `coffer audit verify` says where")
        }
        guard let output else {
          Terminal.write(1, encoded.bytes)  // the bytes as stored, whatever they are
          return
        }
        try Files.writeAtomically(output, encoded.bytes, newFileMode: 0o600)
        ErrorRenderer.note("wrote \(encoded.lines) audit entr\(encoded.lines == 1 ? "y" : "ies") to \(output)")
      }
    }

    struct Prune: ParsableCommand {
      static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Remove the oldest closed segments of the audit log, after recording what is removed in the log.",
        discussion: """
          Give --before TIME (segments whose last entry is older) or --keep N (keep the newest N segments, the \
          active one included). The log must verify first (recorded log-gap lines excepted). `coffer audit verify` \
          then starts at the first kept segment and reports the prune. See docs/audit.md.
          """)

      @OptionGroup var global: GlobalOptions
      @Option(name: .long, help: ArgumentHelp("Remove closed segments whose last entry is before TIME (RFC 3339, or a date YYYY-MM-DD).", valueName: "time"))
      var before: String?
      @Option(name: .long, help: ArgumentHelp("Keep the newest N segments, the active one included (N ≥ 1).", valueName: "n"))
      var keep: String?  // parsed here, so that an invalid value is never echoed

      mutating func run() throws {
        guard (before == nil) != (keep == nil) else {
          throw UsageError(description: "give exactly one of --before and --keep", hints: ["coffer audit prune --before 2026-01-01", "coffer audit prune --keep 10"])
        }
        var beforeTime: Timestamp?
        if let before {
          guard let t = Timestamp(rfc3339: before) ?? Timestamp(rfc3339: before + "T00:00:00Z") else {
            throw UsageError(description: "--before: expected a time like 2026-11-01T00:00:00Z or a date like 2026-11-01")
          }
          beforeTime = t
        }
        var keepCount: Int?
        if let keep {
          guard keep.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let n = Int(keep), n >= 1 else {
            throw UsageError(description: "--keep: expected a whole number of segments, at least 1")
          }
          keepCount = n
        }
        let ws = try Workspace.load(global)
        let identities = try IdentityLoader.load()
        let auditor = ws.auditor(identities)
        let trail = auditor.trail
        let contents = try trail.read(headKey: auditor.key)
        let result = AuditLog.verify(segments: contents.segments, head: contents.head)
        let blocking = result.problems.filter { if case .gapRecorded = $0.kind { false } else { true } }
        guard blocking.isEmpty, contents.headState != .missing else {
          throw UsageError(
            description: "the audit log \(trail.path) does not verify: nothing was pruned",
            hints: ["run `coffer audit verify` to see where; prune removes segments only from a log that verifies"],
            exitStatus: .problemsFound)
        }
        let closed = contents.segments.filter { contents.paths[$0.number] != trail.path }.compactMap { segment -> (number: Int, lastTime: Timestamp)? in
          AuditLog.verify(segment.bytes, head: nil).records.last.map { (segment.number, $0.event.time) }
        }
        guard let through = AuditLog.pruneThrough(closed: closed, keep: keepCount, before: beforeTime) else {
          ErrorRenderer.note("nothing to prune: \(closed.count) closed segment\(closed.count == 1 ? "" : "s")")
          return
        }
        let event = AuditEvent(
          time: SystemClock.now(), actor: auditor.actor, osUser: ProcessEnvironment.userName(), action: AuditLog.pruneAction)
        guard let removed = try trail.prune(through: through, event: event, headKey: auditor.key) else {
          ErrorRenderer.note("nothing to prune")
          return
        }
        let what = removed.first == removed.last ? "segment \(removed.first)" : "segments \(removed.first)-\(removed.last)"
        Terminal.out("pruned: \(what) (lines \(removed.firstLine)-\(removed.lastLine))\n")
      }
    }

    struct Where: ParsableCommand {
      static let configuration = CommandConfiguration(commandName: "path", abstract: "Print the audit log's path.")
      @OptionGroup var global: GlobalOptions

      mutating func run() throws {
        let ws = try Workspace.load(global)
        Terminal.out(AuditTrail.forProject(root: ws.project.root).path + "\n")
      }
    }
  }
}

/// `coffer audit verify FILE` and the output checks of `coffer audit export`.
enum AuditExportVerifier {
  /// Verifies an exported file and prints where it starts and the verdict (or each problem, then exits 1).
  /// - Throws: ``SystemError`` when the file cannot be read; ``Finish`` (exit 1) when it does not verify.
  static func verify(_ path: String) throws {
    let bytes = try Files.read(path)
    let result = AuditExport.verify(bytes)
    if result.isRawSegment {
      ErrorRenderer.note("\(path) has no export header or end line (a segment copied as is): lines removed at its end cannot be detected")
    }
    if let start = result.start {
      Terminal.out(
        start.sequence == 0 && start.hash == AuditLog.genesis
          ? "starts at the beginning of the log\n" : "starts after line \(start.sequence) with hash \(start.hash)\n")
    }
    for prune in result.prunes { Terminal.out("pruned: \(prune)\n") }
    guard result.problems.isEmpty else {
      for p in result.problems { Terminal.out("\(path): \(p)\n") }
      throw Finish(status: ExitStatus.problemsFound.rawValue)
    }
    let n = result.records.count
    if let first = result.records.first, let last = result.records.last {
      Terminal.out("ok: \(n) entr\(n == 1 ? "y" : "ies") (lines \(first.sequence)-\(last.sequence)), chain intact, ends with hash \(last.hash)\n")
    } else {
      Terminal.out("ok: 0 entries, chain intact\n")
    }
  }

  /// Refuses an output path that is the manifest or inside `.coffer/` (both are committed), as `export -o` does.
  /// - Throws: ``UsageError`` (exit 2, nothing written).
  static func refuseCofferFiles(_ output: String, project: Project) throws {
    guard project.isOwnFile(output) else { return }
    throw UsageError(
      description: "refusing to write the audit export to \(output): Coffer's own files are committed to git",
      hints: ["write it outside .coffer/, such as coffer-audit.jsonl"])
  }
}
