import ArgumentParser
import CofferAudit
import CofferCore
import CofferSystem
import CofferVault

extension CofferCommand {
  /// `coffer audit`: show and verify the hash-chained audit log.
  struct Audit: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "audit", abstract: "Show or verify your audit log for this project, on this machine (names and keyed fingerprints, never values).",
      discussion: """
        The log records what this user did with this project's secrets on this machine: it lives outside the \
        repository and is not shared, so teammates' reads and changes are in their own logs, not here. \
        `coffer audit path` prints where it is. See docs/audit.md.
        """,
      subcommands: [Show.self, Verify.self, Where.self],
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
        let (log, _, _) = try trail.read(headKey: identities[0].encoded)
        var start = 0
        // The log stores what the writer knew (`run` records the recipient, not reading the manifest); the table
        // shows the manifest's name for a recipient it names.
        var recipientNames: [String: String] = [:]
        for named in ws.manifest.recipients where recipientNames[named.recipient] == nil {
          recipientNames[named.recipient] = named.name
        }
        var rows = [["TIME", "ACTOR", "USER", "ACTION", "ENV", "SECRETS", "OUTCOME"]]
        var out = ""
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
            let names = e.secrets.count > 4 ? e.secrets.prefix(4).joined(separator: ",") + ",…(\(e.secrets.count))" : e.secrets.joined(separator: ",")
            let actor = recipientNames[e.actor] ?? e.actor
            rows.append([e.time.rfc3339, actor.count > 20 ? String(actor.prefix(17)) + "…" : actor, e.osUser, e.action + (e.destination.map { " → \($0)" } ?? ""), e.environment ?? "-", names, e.outcome])
          }
        }
        Terminal.out(json ? out : Table.render(rows))
      }
    }

    struct Verify: ParsableCommand {
      static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check the hash chain and the head: report edited, deleted, inserted, reordered or truncated entries.")

      @OptionGroup var global: GlobalOptions

      mutating func run() throws {
        let ws = try Workspace.load(global)
        let identities = try IdentityLoader.load()
        let trail = AuditTrail.forProject(root: ws.project.root)
        let (log, head, state) = try trail.read(headKey: identities[0].encoded)
        var (records, problems) = AuditLog.verify(log, head: head)
        var notes: [String] = []
        switch state {
        case .absent: notes.append("no audit entries yet")
        case .missing: problems.append(AuditProblem(line: nil, kind: .truncated(missing: 0))); notes.append("the head file is missing: truncation cannot be ruled out")
        case .unauthenticated: notes.append("the head does not verify with this identity (written by another identity, or forged): truncation cannot be ruled out")
        case .valid: break
        }
        for n in notes { ErrorRenderer.note(n) }
        if problems.isEmpty {
          Terminal.out("ok: \(records.count) entries, chain intact\(state == .valid ? ", head verified" : "")\n")
          return
        }
        for p in problems where !(state == .missing && p.kind == .truncated(missing: 0)) {
          Terminal.out("\(trail.path): \(p)\n")
        }
        if state == .missing { Terminal.out("\(trail.path): head missing\n") }
        throw Finish(status: ExitStatus.problemsFound.rawValue)
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
