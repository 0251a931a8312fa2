import ArgumentParser
import CofferCore
import CofferDotEnv
import CofferOperations
import CofferSystem
import CofferVault

extension CofferCommand {
  /// `coffer check`: what is missing, malformed or undeclared.
  struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "check", abstract: "Report missing, invalid and undeclared secrets in an environment; never a value.",
      discussion: """
        Exit status 1 when a required secret is missing, a value breaks its rules, or a secret needs rotation \
        because a reader who saw it lost access (see `coffer rotate status`). Exit status 3 when some groups are \
        not readable with this identity, unless --allow-partial.
        """,
      aliases: ["detect-missing", "validate"])

    @OptionGroup var global: GlobalOptions
    @OptionGroup var env: EnvironmentOption
    @Flag(name: .long, help: "Print the report as JSON.") var json = false
    @Flag(name: .long, help: "Check what is readable even if some groups are not.") var allowPartial = false
    @Flag(name: .long, help: "Also report variables the code reads that coffer.yaml does not declare.") var discover = false
    @Flag(name: .long, help: "No colour, even on a terminal (also NO_COLOR).") var noColor = false

    mutating func run() throws {
      try Self.perform(
        project: global.project, verbose: global.verbose, env: env.env, json: json, allowPartial: allowPartial,
        discover: discover, noColor: noColor)
    }

    /// The command's work, for its options however they were parsed (ArgumentParser, or ``FastArguments`` for
    /// the common invocations).
    /// - Throws: what loading the project, opening the vault and `--discover` throw; ``Finish`` with status 1 when
    ///   the report has problems.
    static func perform(
      project: String?, verbose: Bool, env: String?, json: Bool, allowPartial: Bool, discover: Bool, noColor: Bool
    ) throws {
      let ws = try Workspace.load(project: project, verbose: verbose)
      let environment = try ws.environment(named: env)
      let identities = try IdentityLoader.load()
      let verdict = try EnvironmentCheck.verdict(
        ws, environment, identities: identities, rotation: false, storeValues: StoreCommands.checkValues
      ) { vault in
        try Partial.check(vault, environment: environment, allowPartial: allowPartial, manifest: ws.manifest, identities: identities)
      }
      let (report, unreadable, needsRotation) = (verdict.report, verdict.unreadable, verdict.needsRotation)
      let inCode = try CodeDiscovery.undeclaredNames(ws, enabled: discover)
      if json {
        let doc = JSON.object([
          ("environment", .string(report.environment)),
          ("missing", JSON.strings(report.missing)),
          ("invalid", .array(report.invalid.map(CheckJSON.issue))),
          ("undeclared", JSON.strings(report.undeclared)),
          ("ok", JSON.strings(report.ok)),
          ("unreadable_groups", JSON.strings(unreadable)),
          ("needs_rotation", .array(needsRotation.map {
            .object([("name", .string($0.name)), ("revoked", .string($0.mark.recipient)), ("since", .string($0.mark.time.rfc3339))])
          })),
        ])
        Terminal.out(CodeDiscovery.adding(inCode, to: doc).encoded + "\n")
      } else {
        let text = CodeDiscovery.adding(inCode, to: CheckText.render(report, manifest: ws.manifest, unreadable: unreadable, needsRotation: needsRotation))
        Terminal.out(Style.enabled(noColor: noColor) ? Style.check(text) : text)
      }
      if report.hasProblems || !needsRotation.isEmpty || !(inCode?.isEmpty ?? true) {
        throw Finish(status: ExitStatus.problemsFound.rawValue)
      }
    }

    /// `check [--env E | -e E] [--project DIR] [--json] [--allow-partial] [--no-color]` parsed without
    /// ArgumentParser, whose parse costs as much as the rest of `check` on a warm manifest snapshot
    /// (docs/performance.md); nil for anything else (help, `--verbose`, `--discover`, a misspelt flag), which then
    /// goes through ArgumentParser.
    struct FastArguments: Equatable {
      var project: String?
      var env: String?
      var json = false
      var allowPartial = false
      var noColor = false

      init?(_ args: ArraySlice<String>) {
        var scan = ArgumentScan(args)
        while !scan.atEnd {
          switch scan.current {
          case "--json": json = true
          case "--allow-partial": allowPartial = true
          case "--no-color": noColor = true
          default:
            guard scan.environmentOrProject(env: &env, project: &project) == true else { return nil }
          }
          scan.advance()
        }
      }
    }
  }
}

/// The JSON form of one check issue: `{"name","reason","kind","format"}`, `format` null unless the issue is about
/// a catalog format.
enum CheckJSON {
  static func issue(_ issue: CheckIssue) -> JSON {
    .object([
      ("name", .string(issue.name)), ("reason", .string(issue.reason)), ("kind", .string(issue.kind.rawValue)),
      ("format", issue.format.map(JSON.string) ?? .null),
    ])
  }
}

/// The human-readable check report.
enum CheckText {
  static func render(
    _ report: CheckReport, manifest: Manifest, unreadable: [String],
    needsRotation: [(name: String, mark: RevocationMark)] = []
  ) -> String {
    var out = "environment: \(report.environment)\n"
    if !report.missing.isEmpty {
      out += "missing (\(report.missing.count)):\n"
      for name in report.missing {
        let group = manifest.secret(named: name)?.group.map { " [\($0)]" } ?? ""
        out += "  \(name)\(group)\n"
      }
    }
    if !report.invalid.isEmpty {
      out += "invalid (\(report.invalid.count)):\n"
      let width = report.invalid.map(\.name.count).max() ?? 0
      for issue in report.invalid {
        out += "  \(issue.name)\(String(repeating: " ", count: width - issue.name.count))  \(issue.reason)\n"
      }
    }
    if !report.undeclared.isEmpty {
      out += "undeclared (\(report.undeclared.count)): \(report.undeclared.joined(separator: ", "))\n"
    }
    if !unreadable.isEmpty {
      out += "not readable with this identity: groups \(unreadable.joined(separator: ", "))\n"
    }
    if !needsRotation.isEmpty {
      out += "needs rotation (\(needsRotation.count)):\n"
      let width = needsRotation.map(\.name.count).max() ?? 0
      for item in needsRotation {
        let pad = String(repeating: " ", count: width - item.name.count)
        out += "  \(item.name)\(pad)  \(item.mark.recipient) lost access at \(item.mark.time.rfc3339) and could read it\n"
      }
    }
    out += "ok (\(report.ok.count))\n"
    if report.hasProblems || !needsRotation.isEmpty {
      var parts = ["\(report.missing.count) missing", "\(report.invalid.count) invalid"]
      if !needsRotation.isEmpty { parts.append("\(needsRotation.count) need rotation") }
      out += "result: \(parts.joined(separator: ", "))\n"
    } else {
      out += "result: ok\n"
    }
    return out
  }
}
