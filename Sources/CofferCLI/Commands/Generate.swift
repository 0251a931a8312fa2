import ArgumentParser
import CofferCore
import CofferOperations
import CofferSystem
import CofferVault

extension CofferCommand {
  /// `coffer generate`: a new random value for a secret the team controls.
  struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "generate",
      abstract:
        "Store a new random value for a secret the team controls (signing keys, session secrets, encryption keys).",
      discussion: """
        The value comes from the operating system's CSPRNG and is stored as a new version; it is never printed \
        (use `coffer get`). --length is the entropy in bytes (default 32, at least 16): base64 writes 4 characters \
        per 3 bytes, hex 2 per byte, alnum enough letters and digits to carry as many bits (43 for 32 bytes). \
        Names whose catalog format a provider issues (OPENAI_API_KEY, SLACK_BOT_TOKEN, …) are refused unless \
        --force: a random value would not work there.
        """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var env: EnvironmentOption
    @Argument(help: "The secret's name.", completion: .custom(Completions.secretNames)) var name: String
    @Option(name: .long, help: ArgumentHelp("Bytes of entropy (16 to 1024).", valueName: "bytes")) var length = 32
    @Option(name: .long, help: "How to write the bytes: base64, hex or alnum.") var charset: SecretCharset = .base64
    @Flag(name: .long, help: "Generate even for a provider-issued format or fewer than 16 bytes.") var force = false

    mutating func run() throws {
      let ws = try Workspace.load(global)
      let environment = try ws.environment(env)
      try SecretNames.validate(name)
      try GeneratePolicy.check(name: name, spec: ws.manifest.secret(named: name), length: length, force: force)
      let identities = try IdentityLoader.load()
      if ws.manifest.secret(named: name) == nil { ErrorRenderer.warn("\(name) is not declared in coffer.yaml") }
      var random = SystemRandomNumberGenerator()
      let value = SecretGenerator.generate(byteCount: length, charset: charset, using: &random)
      let name = self.name
      let version = try ws.modifyVault(environment, identities: identities) { vault in
        try vault.set(name, to: value, group: ws.group(of: name), author: ws.author(identities), at: SystemClock.now())
      }
      ErrorRenderer.note(
        "generated \(name) in \(environment) (version \(version)): \(length) random bytes as \(value.byteCount) "
          + "\(charset.rawValue) characters")
    }
  }
}

extension SecretCharset: ExpressibleByArgument {}

/// What `generate` refuses, checked before anything is read or written.
enum GeneratePolicy {
  static func check(name: String, spec: SecretSpec?, length: Int, force: Bool) throws {
    guard (1...1024).contains(length) else {
      throw UsageError(description: "--length must be between 1 and 1024 bytes")
    }
    if length < 16, !force {
      throw UsageError(
        description: "--length \(length) gives \(length * 8) bits; a generated secret needs at least 128 (16 bytes)",
        hints: ["pass --force if a shorter value is really what you need"])
    }
    if spec?.isSecret == false, !force {
      throw UsageError(
        description: "\(name) is a plain setting (secret: false), not a secret to generate",
        hints: ["pass --force to store a random value anyway"])
    }
    if !force, let (expected, assumed) = FormatCatalog.expectation(forSecret: name, format: spec?.format) {
      throw UsageError(
        description: "\(name) holds \(expected.phrase) (format \(expected.id)"
          + "\(assumed ? ", assumed from the name" : "")), which a random value cannot be",
        hints: [
          "store the value the provider gave you with `coffer set \(name)`",
          "pass --force if this value is really yours to generate, or set `format: none` in coffer.yaml",
        ])
    }
  }
}
