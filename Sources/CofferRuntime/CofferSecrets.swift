@_exported import CofferCore
import CofferOperations
import CofferSystem
import CofferVault
import Logging
import Synchronization

/// An environment's secrets, loaded for this process: the runtime API for a backend that reads its secrets itself
/// instead of being started under `coffer run`.
///
/// ``load(_:)`` finds the project and its vault as the `coffer` command does, opens the vault with the identity from
/// the usual places (`COFFER_IDENTITY`, `COFFER_IDENTITY_FILE`, `~/.config/coffer/identity.txt`), under the same
/// trust model (the signed access policy, this clone's memory of it, `COFFER_TRUST=v2`), and records the read in the
/// audit log as `coffer run` does. Values stay ``SecretValue``s: printing a ``CofferSecrets``, a value or a
/// ``LoadError`` shows names, never a value.
///
/// ## Usage
///
/// ```swift
/// import CofferRuntime
///
/// let secrets = try CofferSecrets.load(.init(environment: "production"))
/// guard let key = secrets["OPENAI_API_KEY"] else { fatalError("OPENAI_API_KEY is not set") }
/// let client = OpenAIClient(apiKey: key.revealString())
/// ```
///
/// ``load(_:)`` reads files, the process environment and the audit log; it may be called from any task, and loads
/// run one at a time in a process (they share the cache of the verified access policy).
public struct CofferSecrets: Sendable, CustomStringConvertible, CustomReflectable {
  /// Where and what to load.
  public struct Options: Sendable {
    /// The project directory, or nil for the working directory's project (the first directory upward that holds a
    /// `coffer.yaml`).
    public var projectDirectory: String?
    /// The environment, or nil for `COFFER_ENV`, else the manifest's first environment.
    public var environment: String?
    /// Load what this identity can read when some groups are not readable (``unreadableGroups`` names them),
    /// instead of throwing ``LoadError/Code/unreadableGroups``.
    public var allowPartial: Bool
    /// Load what there is when the environment has no vault or a required secret has no value, instead of throwing
    /// ``LoadError/Code/missingSecrets``.
    public var allowMissing: Bool

    /// - Parameters:
    ///   - projectDirectory: the project directory (nil: the working directory's).
    ///   - environment: the environment (nil: `COFFER_ENV`, else the manifest's first).
    ///   - allowPartial: read past groups this identity cannot read.
    ///   - allowMissing: read past a missing vault or missing required secrets.
    public init(
      projectDirectory: String? = nil, environment: String? = nil, allowPartial: Bool = false, allowMissing: Bool = false
    ) {
      self.projectDirectory = projectDirectory
      self.environment = environment
      self.allowPartial = allowPartial
      self.allowMissing = allowMissing
    }
  }

  /// A failure to load: what kind, and a message naming files, environments and secrets, never a value. Never
  /// printed by the library.
  public struct LoadError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure.
    public enum Code: Sendable, Hashable {
      /// No `coffer.yaml` in the directory or any parent, or it cannot be read.
      case projectNotFound
      /// `coffer.yaml` (or a file it imports) does not decode.
      case invalidManifest
      /// The environment is not one coffer.yaml declares.
      case unknownEnvironment
      /// No identity was found, or it cannot be read.
      case noIdentity
      /// The environment's vault is not wrapped to this identity.
      case accessDenied
      /// Some groups are not readable with this identity (and no partial read was asked for).
      case unreadableGroups
      /// The environment has no vault, or required secrets have no value.
      case missingSecrets
      /// The vault file holds another environment (copied or renamed).
      case wrongEnvironment
      /// The vault or the access policy does not verify: tampered, rolled back, replaced, or written by someone the
      /// approved policy does not allow.
      case untrusted
      /// The vault file is malformed or of an unsupported version.
      case invalidVault
      /// Something else: a file that cannot be read, the audit log that cannot be written.
      case other
    }

    /// The kind of failure.
    public let code: Code
    /// One line, naming files, environments and secrets; never a value.
    public let description: String
    /// What to do about it (who can grant access, which command fixes it).
    public let hints: [String]

    init(_ code: Code, _ error: any Error) {
      self.code = code
      if let error = error as? any CofferError {
        description = error.description
        hints = error.hints
      } else {
        description = "\(type(of: error))"
        hints = []
      }
    }
  }

  /// The environment loaded.
  public let environment: String
  /// The project's directory (the one holding `coffer.yaml`).
  public let projectDirectory: String
  /// The environment's vault file (watch it to reload; it may not exist with ``Options/allowMissing``).
  public let vaultPath: String
  /// The vault's groups this identity cannot read (empty unless ``Options/allowPartial``).
  public let unreadableGroups: [String]
  private let values: [String: SecretValue]
  private let settings: Set<String>

  /// The names loaded, sorted.
  public var names: [String] { values.keys.sorted() }

  /// The current value of a secret, or nil when it has none (or coffer.yaml does not declare it).
  public subscript(name: String) -> SecretValue? { values[name] }

  /// Whether a name holds a secret: false only for what coffer.yaml declares with `secret: false` (a plain setting).
  public func isSecret(_ name: String) -> Bool { !settings.contains(name) }

  public var description: String { "CofferSecrets(\(environment): \(names.joined(separator: ", ")))" }

  public var customMirror: Mirror {
    Mirror(self, children: ["environment": environment, "names": names], displayStyle: .struct)
  }

  /// Loads an environment's secrets.
  ///
  /// ## Usage
  ///
  /// ```swift
  /// let secrets = try CofferSecrets.load(.init(projectDirectory: "/srv/app", environment: "production"))
  /// let databaseURL = secrets["DATABASE_URL"]?.revealString()
  /// ```
  ///
  /// - Parameter options: the project, the environment, and whether a partial or incomplete read is acceptable.
  /// - Returns: the current values of the secrets coffer.yaml declares (names the vault holds undeclared are left
  ///   out, as `coffer run` leaves them out), composed secrets included.
  /// - Throws: ``LoadError``, with the ``LoadError/Code`` of the failure; nothing is printed.
  public static func load(_ options: Options = Options()) throws(LoadError) -> CofferSecrets {
    try loading.withLock { _ throws(LoadError) -> CofferSecrets in try loadHoldingLock(options) }
  }

  /// One load at a time per process: the trust model's cache of verified policy chains is process-wide.
  private static let loading = Mutex(())

  private static func loadHoldingLock(_ options: Options) throws(LoadError) -> CofferSecrets {
    let logger = Logger(label: "coffer", factory: { _ in SwiftLogNoOpLogHandler() })
    let workspace: Workspace
    do {
      let project = try Project.locate(from: options.projectDirectory)
      // A long-running process reads the policy afresh each time: an approval may have moved it on.
      Trust.cache[project.root] = nil
      workspace = try Workspace.load(project: options.projectDirectory, logger: logger)
    } catch let error as ManifestError {
      throw LoadError(.invalidManifest, error)
    } catch {
      throw LoadError(.projectNotFound, error)
    }
    let environment: String
    do {
      environment = try workspace.environment(named: options.environment)
    } catch {
      throw LoadError(.unknownEnvironment, error)
    }
    let identities: [AgeX25519Identity]
    do {
      identities = try IdentityLoader.load()
    } catch {
      throw LoadError(.noIdentity, error)
    }
    let read: EnvironmentRead
    do {
      read = try workspace.readEnvironment(
        environment, identities: identities, allowPartial: options.allowPartial, allowMissing: options.allowMissing)
    } catch {
      throw LoadError(code(for: error), error)
    }
    return CofferSecrets(
      environment: environment, projectDirectory: workspace.project.root, vaultPath: read.vaultPath,
      unreadableGroups: read.unreadableGroups, values: read.values,
      settings: Set(workspace.manifest.secrets.filter { !$0.isSecret }.map(\.name)))
  }

  static func code(for error: any Error) -> LoadError.Code {
    switch error {
    case is MissingSecrets: return .missingSecrets
    case is UnreadableGroups: return .unreadableGroups
    case is AccessDenied: return .accessDenied
    case let error as VaultError:
      switch error.code {
      case .authenticationFailed, .rolledBack, .notPermitted: return .untrusted
      case .noMatchingIdentity: return .accessDenied
      case .malformed where error.detail?.hasPrefix("holds environment ") == true: return .wrongEnvironment
      case .malformed, .unsupportedVersion: return .invalidVault
      default: return .other
      }
    default: return .other
    }
  }
}
