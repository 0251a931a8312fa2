import ArgumentParser
import CofferCore
import CofferOperations
import CofferSystem

extension CofferCommand {
  /// `coffer imports`: manage the pins of `git:` imports.
  struct Imports: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "imports", abstract: "Manage git imports pinned in coffer.lock.",
      subcommands: [Update.self], defaultSubcommand: Update.self)

    struct Update: ParsableCommand {
      static let configuration = CommandConfiguration(
        commandName: "update",
        abstract: "Fetch every git import, move its pin in coffer.lock to its ref's commit, and show what changed.",
        discussion: """
          Fetches with git into the import cache ($XDG_CACHE_HOME/coffer/imports, else ~/.cache/coffer/imports), \
          checks that the merged manifest is still valid, then rewrites coffer.lock (commit it). Prints one line per \
          git import (pinned, moved or unchanged) and each merged group or secret whose definition changed.
          """)

      @OptionGroup var global: GlobalOptions

      mutating func run() throws {
        let project = try Project.locate(from: global.project)
        let display = project.display(project.manifestPath)
        let before = try? ManifestLoader.load(project.manifestPath, rootDisplay: display)
        let previous = try GitImports(manifestPath: project.manifestPath)
        var git = try GitImports(manifestPath: project.manifestPath, updating: true)
        try Files.makeDirectory(project.stateDirectory)
        let lock = try FileLock(path: project.lockPath)
        defer { withExtendedLifetime(lock) {} }
        let merged = try ManifestLoader.load(project.manifestPath, rootDisplay: display, git: &git)
        guard !git.pins.isEmpty else {
          ErrorRenderer.note("no git imports; nothing to pin")
          return
        }
        try git.writeLock()
        var out = ""
        for pin in git.pins {
          let label = "\(pin.url) (\(pin.ref), \(pin.path))"
          if let old = previous.pins.first(where: { $0.url == pin.url && $0.ref == pin.ref && $0.path == pin.path }) {
            out += old.commit == pin.commit
              ? "\(label): unchanged at \(pin.commit.prefix(12))\n"
              : "\(label): \(old.commit.prefix(12)) → \(pin.commit.prefix(12))\n"
          } else {
            out += "\(label): pinned at \(pin.commit.prefix(12))\n"
          }
        }
        if let old = before?.manifest {
          out += ManifestChanges.describe(from: old, to: merged.manifest)
        }
        Terminal.out(out)
        ErrorRenderer.note("wrote \(project.display(git.lockPath))")
      }
    }
  }
}

/// The definitions that differ between two merged manifests, one line each (names and field names, no values).
enum ManifestChanges {
  static func describe(from old: Manifest, to new: Manifest) -> String {
    var out = ""
    for group in new.groups {
      guard let previous = old.group(named: group.name) else {
        out += "  added groups.\(group.name)\n"
        continue
      }
      var fields: [String] = []
      if previous.rotation != group.rotation {
        fields.append("rotation \(previous.rotation?.description ?? "none") → \(group.rotation?.description ?? "none")")
      }
      if previous.description != group.description { fields.append("description") }
      if !fields.isEmpty { out += "  changed groups.\(group.name): \(fields.joined(separator: ", "))\n" }
    }
    for group in old.groups where new.group(named: group.name) == nil { out += "  removed groups.\(group.name)\n" }
    for spec in new.secrets {
      guard let previous = old.secret(named: spec.name) else {
        out += "  added secrets.\(spec.name)\n"
        continue
      }
      var fields: [String] = []
      if previous.group != spec.group { fields.append("group") }
      if previous.description != spec.description { fields.append("description") }
      if previous.required != spec.required { fields.append("required") }
      if previous.format != spec.format { fields.append("format") }
      if previous.prefix != spec.prefix { fields.append("prefix") }
      if previous.pattern != spec.pattern { fields.append("pattern") }
      if previous.minLength != spec.minLength || previous.maxLength != spec.maxLength { fields.append("length") }
      if previous.example != spec.example { fields.append("example") }
      if previous.isSecret != spec.isSecret { fields.append("secret") }
      if previous.rotation != spec.rotation {
        fields.append("rotation \(previous.rotation?.description ?? "none") → \(spec.rotation?.description ?? "none")")
      }
      if !fields.isEmpty { out += "  changed secrets.\(spec.name): \(fields.joined(separator: ", "))\n" }
    }
    for spec in old.secrets where new.secret(named: spec.name) == nil { out += "  removed secrets.\(spec.name)\n" }
    return out
  }
}
