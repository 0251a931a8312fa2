import CofferCore

/// The one error type of the vault format: what went wrong, and where. Never carries a value or key material.
public struct VaultError: CofferError, Equatable {
  /// What kind of failure this is.
  public struct Code: Hashable, Sendable, CustomStringConvertible {
    public let description: String
    /// The file does not follow the grammar in docs/vault-format.md (possibly edited by hand or damaged).
    public static let malformed = Code(description: "malformed vault")
    /// The file is well-formed but its MAC or a value's AEAD tag does not verify: it was altered.
    public static let authenticationFailed = Code(description: "vault authentication failed")
    /// The file declares a format version this build does not read.
    public static let unsupportedVersion = Code(description: "unsupported vault version")
    /// None of the identities can unwrap the environment key.
    public static let noMatchingIdentity = Code(description: "no identity can open the vault")
    /// The identity may open the vault but not this group's data key.
    public static let groupNotReadable = Code(description: "group not readable with this identity")
    /// The named secret or version does not exist.
    public static let notFound = Code(description: "not found")
    /// A name, group or author is not allowed by the grammar.
    public static let invalidName = Code(description: "invalid name")
    /// A key must be wrapped, but the access policy lets nobody read its group (or environment).
    public static let noRecipients = Code(description: "no recipient may read this key")
    /// Trust model v2: the approved policy does not let this identity do what was asked (write a group, approve).
    public static let notPermitted = Code(description: "not permitted by the access policy")
    /// Trust model v2: the file (or the policy) is older than a revocation this clone or the policy records: it was
    /// restored from an earlier commit.
    public static let rolledBack = Code(description: "restored from before a revocation")
  }

  /// The kind of failure.
  public let code: Code
  /// The vault file's path (or another label the caller gave), for the message.
  public let file: String
  /// The 1-based line in the file, where one applies.
  public let line: Int?
  /// Extra context: a secret or group name, never a value.
  public let detail: String?

  /// Creates an error.
  /// - Parameters:
  ///   - code: the kind of failure.
  ///   - file: the file label used in messages.
  ///   - line: the 1-based line, if any.
  ///   - detail: context such as a secret name; must never contain a value.
  public init(_ code: Code, file: String, line: Int? = nil, detail: String? = nil) {
    self.code = code
    self.file = file
    self.line = line
    self.detail = detail
  }

  public var description: String {
    var s = "\(code): \(file)"
    if let line { s += ":\(line)" }
    if let detail { s += ": \(detail)" }
    return s
  }

  public var exitStatus: ExitStatus {
    switch code {
    case .notFound: return .problemsFound
    case .invalidName, .noRecipients: return .badInput
    default: return .accessDenied
    }
  }

  public var hints: [String] {
    switch code {
    case .rolledBack:
      return [
        "someone restored this file from before the revocation (for example `git checkout` of an older commit)",
        "restore the newer file from git history; if it is lost, a reader of the group runs `coffer access rekey --env ENV`",
      ]
    case .notPermitted:
      return ["`coffer access list` shows who may read and write what; an admin changes it with `coffer access grant`"]
    case .authenticationFailed:
      return [
        "the file was changed outside coffer (an entry edited, removed, reordered or rolled back on its own)",
        "restore the whole file from git (git checkout -- \(file)) to return to a consistent state",
      ]
    case .malformed:
      return ["vault files must not be edited by hand; restore it from git", "if git converted line endings, add `.coffer/vault/** -text` to .gitattributes"]
    case .noMatchingIdentity:
      return [
        "set COFFER_IDENTITY or COFFER_IDENTITY_FILE, or keep your key in ~/.config/coffer/identity.txt",
        "ask someone who can read this vault to add your recipient to coffer.yaml and run `coffer rewrap`",
      ]
    case .unsupportedVersion:
      return ["upgrade coffer"]
    case .noRecipients:
      return ["add a rule to the access: list of coffer.yaml that lets someone read it (docs/access.md)"]
    default:
      return []
    }
  }
}
