import ArgumentParser
import CofferCore
import CofferOperations
import CofferScan
import CofferSystem
import CofferVault

#if canImport(Glibc)
  import Glibc
#endif

extension CofferCommand {
  /// `coffer redact`: a filter that replaces secret values with `[redacted:NAME]`.
  struct Redact: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "redact",
      abstract: "Copy stdin to stdout with every secret value (raw or encoded, every line of a multi-line one) replaced by [redacted:NAME].",
      discussion: """
        Values of every environment this identity can read (or only --env), all kept versions; values shorter \
        than 4 bytes are not replaced and are listed on stderr. Output is written as soon as it can no longer be \
        the start of a value. See docs/scan.md.
        """)

    @OptionGroup var global: GlobalOptions
    @Option(name: [.customShort("e"), .long], help: ArgumentHelp("Only this environment's values.", valueName: "name"))
    var env: String?

    mutating func run() throws {
      let known = try KnownValues.load(global, environments: env.map { [$0] }, required: true, action: "redact", purpose: .redact)
      let set = RedactionSet(values: known.values)
      KnownValues.noteSkipped(known.skipped + set.skipped, verbose: global.verbose)
      var redactor = Redactor(set)
      let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65_536, alignment: 16)
      defer { buffer.deallocate() }
      while true {
        let n = read(0, buffer.baseAddress, buffer.count)
        if n < 0, errno == EINTR { continue }
        guard n > 0 else { break }
        Terminal.write(1, redactor.redact(UnsafeRawBufferPointer(rebasing: buffer[0..<n])))
      }
      Terminal.write(1, redactor.finish())
    }
  }
}

/// `run --redact`: every kept version of the environment's values, redacted from the child's output.
enum RedactedRunCommand {
  static func run(argv: [String], environment: [[UInt8]], global: GlobalOptions, env: EnvironmentOption) throws -> Never {
    let project = try Project.locate(from: global.project)
    var name = env.env ?? Workspace.environmentVariable
    if name == nil { name = try Workspace.load(global).manifest.environments.first }
    let known = Files.exists(project.vaultPath(name ?? ""))
      ? try KnownValues.load(global, environments: name.map { [$0] }, required: true, action: "redact", purpose: .redact) : KnownValues(fingerprinter: .ephemeral())
    let set = RedactionSet(values: known.values)
    KnownValues.noteSkipped(known.skipped + set.skipped, verbose: global.verbose)
    let status = try RedactedRun.run(argv: argv, environment: environment, set: set)
    throw Finish(status: status)
  }
}
