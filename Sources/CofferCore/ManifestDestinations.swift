import Yams

/// One entry of the manifest's `destinations:` mapping: a place `coffer sync` delivers an environment's secrets to.
///
/// Decoded by ``Manifest/decodeDestinations(_:file:)``, strictly: every problem is a ``ManifestError`` at the
/// offending node's line and column. The schema is in docs/manifest.md ("destinations").
public struct DestinationSpec: Sendable, Equatable {
  /// A GitHub owner of secrets.
  public enum GitHubOwner: Sendable, Equatable {
    /// `repository: owner/repo`.
    case repository(owner: String, name: String)
    /// `organization: org` with `visibility` (`all`, `private`, `selected`) and, for `selected`, repository names.
    case organization(String, visibility: String, repositories: [String])
  }

  /// What kind of destination, with its own settings.
  public enum Target: Sendable, Equatable {
    /// `type: github`: Actions secrets (and variables for plain settings); `environment` is a deployment
    /// environment of the repository, if given.
    case github(GitHubOwner, environment: String?)
    /// `type: pulumi-esc`: a Pulumi ESC environment.
    case pulumiESC(organization: String, project: String, environment: String)
    /// `type: dotenv`: a `.env` file, relative to the project root unless absolute.
    case dotenv(path: String)
  }

  /// The destination's name (the mapping key), matching `[a-z0-9][a-z0-9._-]*`.
  public var name: String
  /// The kind and its settings.
  public var target: Target
  /// The Coffer environment that feeds it (a declared environment).
  public var from: String
  /// Only secrets of these groups, or `nil` for all.
  public var groups: [String]?
  /// The variable holding the token (`GITHUB_TOKEN` or `PULUMI_ACCESS_TOKEN` by default); `nil` for dotenv.
  public var tokenEnv: String?
  /// The API root (`https://api.github.com`, `https://api.pulumi.com` by default); `nil` for dotenv.
  public var apiURL: String?
  /// The 1-based line of the destination's name in the manifest.
  public var line: Int
  /// Where the destination's values come from: the vault (`source: vault`, the default) or, for `pulumi-esc`,
  /// GitHub organization secrets copied by the scheduled workflow (`source: github`, docs/ci.md). One source per
  /// destination: `coffer sync` from the vault refuses a `source: github` destination.
  public var source: ValueSourceKind
  /// How Coffer authenticates: a stored token (`auth: token`, the default) or, for `pulumi-esc`, the GitHub Actions
  /// job's OIDC token exchanged for a short-lived Pulumi token (`auth: oidc`).
  public var auth: AuthMethod
  /// `allow_custom_api_url: true`: a CI run may send this destination's token and values to an `api_url` that is
  /// not the service's own.
  public var allowCustomAPIURL: Bool

  /// Where values come from.
  public enum ValueSourceKind: String, Sendable, Equatable {
    /// The vault of the `from` environment.
    case vault
    /// GitHub organization secrets, through `coffer sync --from-env` in the generated workflow.
    case github
  }

  /// How a destination authenticates.
  public enum AuthMethod: String, Sendable, Equatable {
    /// A token from `token_env` (or a vault secret of that name).
    case token
    /// GitHub Actions OIDC, exchanged for a short-lived token (Pulumi ESC only).
    case oidc
  }

  /// The service's own API root for this type (`https://api.github.com`, `https://api.pulumi.com`), or `nil` for
  /// `dotenv`.
  public var defaultAPIURL: String? {
    switch target {
    case .github: return "https://api.github.com"
    case .pulumiESC: return "https://api.pulumi.com"
    case .dotenv: return nil
    }
  }

  /// Whether ``apiURL`` is another host than the service's own (a trailing `/` ignored).
  public var hasCustomAPIURL: Bool {
    guard var url = apiURL, let standard = defaultAPIURL else { return false }
    while url.hasSuffix("/") { url.removeLast() }
    return url != standard
  }

  /// `github`, `pulumi-esc` or `dotenv`.
  public var typeName: String {
    switch target {
    case .github: return "github"
    case .pulumiESC: return "pulumi-esc"
    case .dotenv: return "dotenv"
    }
  }

  /// Creates a destination.
  public init(
    name: String, target: Target, from: String, groups: [String]? = nil, tokenEnv: String? = nil,
    apiURL: String? = nil, line: Int = 0, source: ValueSourceKind = .vault, auth: AuthMethod = .token,
    allowCustomAPIURL: Bool = false
  ) {
    self.name = name
    self.target = target
    self.from = from
    self.groups = groups
    self.tokenEnv = tokenEnv
    self.apiURL = apiURL
    self.line = line
    self.source = source
    self.auth = auth
    self.allowCustomAPIURL = allowCustomAPIURL
  }
}

extension Manifest {
  /// Decodes and validates the manifest's `destinations:` section.
  ///
  /// ``decode(_:file:)`` keeps the section as opaque ``ManifestValue`` data; commands that deliver secrets call
  /// this to get typed, checked destinations.
  /// - Parameters:
  ///   - bytes: the contents of `coffer.yaml`.
  ///   - file: the name shown in errors.
  /// - Returns: the destinations in declared order; empty when the section is absent or null.
  /// - Throws: ``ManifestError`` for anything ``decode(_:file:)`` rejects, and in `destinations` for an unknown
  ///   field, a missing or unknown `type`, a missing required field, an undeclared `from` environment or group,
  ///   a malformed repository, visibility, URL or variable name, or settings that do not go together.
  public static func decodeDestinations(_ bytes: [UInt8], file: String) throws(ManifestError) -> [DestinationSpec] {
    try decodeDestinations(bytes, file: file, merged: nil)
  }

  /// ``decodeDestinations(_:file:)`` for a manifest with `imports:`: `groups:` and `from:` are checked against the
  /// merged manifest, so a destination may name a group a catalog declares.
  /// - Parameters:
  ///   - bytes: the manifest file's contents.
  ///   - file: the name to show in errors.
  ///   - merged: the manifest with its imports applied (`nil`: the file's own declarations).
  /// - Returns: the destinations, in the file's order.
  /// - Throws: ``ManifestError`` at the offending field.
  public static func decodeDestinations(_ bytes: [UInt8], file: String, merged: Manifest?) throws(ManifestError)
    -> [DestinationSpec]
  {
    var decoder = ManifestDecoder(file: file)
    decoder.importMode = merged != nil
    let document = try decoder.decodeDocument(bytes)
    guard let node = document.root.first(where: { $0.key.scalar?.string == "destinations" })?.value else { return [] }
    return try DestinationDecoder(decoder: decoder, manifest: merged ?? document.manifest).decode(node)
  }

}

struct DestinationDecoder {
  let decoder: ManifestDecoder
  let manifest: Manifest

  static let types = ["github", "pulumi-esc", "dotenv"]
  static let common = ["type", "from", "groups"]
  static let githubFields = common + [
    "repository", "organization", "visibility", "repositories", "environment", "token_env", "api_url",
    "allow_custom_api_url",
  ]
  static let escFields = common + [
    "organization", "project", "environment", "token_env", "api_url", "allow_custom_api_url", "source", "auth",
  ]
  static let dotenvFields = common + ["path"]

  func decode(_ node: Node) throws(ManifestError) -> [DestinationSpec] {
    guard let mapping = try decoder.mappingOrNull(node, path: "destinations", expected: "a mapping of destination names to destinations")
    else { return [] }
    var out: [DestinationSpec] = []
    for (key, value) in mapping {
      let name = try decoder.keyText(key, parent: "destinations")
      let path = "destinations." + name
      guard ManifestSyntax.isEnvironmentName(name) else {
        throw decoder.error(at: key, field: path, "\"\(name)\" is not a valid destination name; \(ManifestSyntax.environmentNameRule)")
      }
      guard case .mapping(let fields) = value else {
        throw decoder.error(at: value, field: path, "expected a mapping with type, from and the destination's settings, found \(decoder.kind(of: value))")
      }
      out.append(try destination(name, path: path, fields: fields, node: value, line: decoder.position(of: key).line))
    }
    return out
  }

  private func destination(
    _ name: String, path: String, fields: Node.Mapping, node: Node, line: Int
  ) throws(ManifestError) -> DestinationSpec {
    var values: [String: (key: Node, value: Node)] = [:]
    for (key, value) in fields {
      values[try decoder.keyText(key, parent: path)] = (key, value)
    }
    guard let typeEntry = values["type"] else {
      throw decoder.error(at: node, field: path + ".type", "missing required field; expected one of \(Self.types.joined(separator: ", "))")
    }
    guard let type = try decoder.optionalString(typeEntry.value, path: path + ".type"), Self.types.contains(type) else {
      throw decoder.error(at: typeEntry.value, field: path + ".type", "expected one of \(Self.types.joined(separator: ", "))")
    }
    let allowed = type == "github" ? Self.githubFields : type == "pulumi-esc" ? Self.escFields : Self.dotenvFields
    for (key, _) in fields {
      let field = try decoder.keyText(key, parent: path)
      guard allowed.contains(field) else {
        throw decoder.unknownField(key, name: field, path: path + "." + field, allowed: allowed)
      }
    }
    func string(_ field: String) throws(ManifestError) -> String? {
      guard let entry = values[field] else { return nil }
      guard let text = try decoder.optionalString(entry.value, path: path + "." + field) else { return nil }
      guard !text.isEmpty else { throw decoder.error(at: entry.value, field: path + "." + field, "expected a non-empty string") }
      return text
    }
    func required(_ field: String) throws(ManifestError) -> String {
      guard let text = try string(field) else {
        throw decoder.error(at: values[field]?.value ?? node, field: path + "." + field, "missing required field")
      }
      return text
    }
    func names(_ field: String, check: (String, Node, String) throws(ManifestError) -> Void) throws(ManifestError) -> [String]? {
      guard let entry = values[field] else { return nil }
      guard case .sequence(let sequence) = entry.value, !sequence.isEmpty else {
        throw decoder.error(at: entry.value, field: path + "." + field, "expected a non-empty list")
      }
      var out: [String] = []
      for (index, item) in sequence.enumerated() {
        let itemPath = path + ".\(field)[\(index)]"
        guard let text = try decoder.optionalString(item, path: itemPath), !text.isEmpty else {
          throw decoder.error(at: item, field: itemPath, "expected a name")
        }
        try check(text, item, itemPath)
        guard !out.contains(text) else { throw decoder.error(at: item, field: itemPath, "\"\(text)\" is listed twice") }
        out.append(text)
      }
      return out
    }

    let from = try required("from")
    if let entry = values["from"], !manifest.hasEnvironment(from) {
      throw decoder.error(at: entry.value, field: path + ".from", "no environment named \"\(from)\" is declared under environments")
    }
    let groups = try names("groups") { (group, item, itemPath) throws(ManifestError) in
      guard manifest.group(named: group) != nil || group == "default" else {
        throw decoder.error(at: item, field: itemPath, "no group named \"\(group)\" is declared under groups")
      }
    }
    var tokenEnv: String?
    var apiURL: String?
    if type != "dotenv" {
      tokenEnv = try string("token_env") ?? (type == "github" ? "GITHUB_TOKEN" : "PULUMI_ACCESS_TOKEN")
      if let entry = values["token_env"], let token = tokenEnv, !ManifestSyntax.isSecretName(token) {
        throw decoder.error(at: entry.value, field: path + ".token_env", "expected a variable name such as GITHUB_TOKEN")
      }
      apiURL = try string("api_url") ?? (type == "github" ? "https://api.github.com" : "https://api.pulumi.com")
      if let entry = values["api_url"], let url = apiURL, !Self.isHTTPURL(url) {
        throw decoder.error(at: entry.value, field: path + ".api_url", "expected an http:// or https:// URL without query")
      }
    }

    let target: DestinationSpec.Target
    switch type {
    case "github":
      let repository = try string("repository")
      let organization = try string("organization")
      switch (repository, organization) {
      case (nil, nil):
        throw decoder.error(at: node, field: path, "expected repository: owner/repo or organization: name")
      case (.some, .some):
        throw decoder.error(at: values["organization"]?.key ?? node, field: path + ".organization", "give repository or organization, not both")
      case (let repository?, nil):
        let pieces = repository.split(separator: "/", omittingEmptySubsequences: false)
        guard pieces.count == 2, pieces.allSatisfy({ !$0.isEmpty && Self.isGitHubName($0) }) else {
          throw decoder.error(at: values["repository"]?.value ?? node, field: path + ".repository", "expected owner/repo")
        }
        for field in ["visibility", "repositories"] where values[field] != nil {
          throw decoder.error(at: values[field]?.key ?? node, field: path + "." + field, "\(field) applies only to organization secrets")
        }
        target = .github(.repository(owner: String(pieces[0]), name: String(pieces[1])), environment: try string("environment"))
      case (nil, let organization?):
        guard Self.isGitHubName(Substring(organization)) else {
          throw decoder.error(at: values["organization"]?.value ?? node, field: path + ".organization", "expected an organization name")
        }
        if let entry = values["environment"] {
          throw decoder.error(at: entry.key, field: path + ".environment", "environment applies only to a repository")
        }
        let visibility = try string("visibility") ?? "private"
        guard ["all", "private", "selected"].contains(visibility) else {
          throw decoder.error(at: values["visibility"]?.value ?? node, field: path + ".visibility", "expected all, private or selected")
        }
        let repositories = try names("repositories") { (name, item, itemPath) throws(ManifestError) in
          guard Self.isGitHubName(Substring(name)) else { throw decoder.error(at: item, field: itemPath, "expected a repository name") }
        }
        if visibility == "selected", repositories == nil {
          throw decoder.error(at: values["visibility"]?.value ?? node, field: path + ".repositories", "visibility selected needs a list of repositories")
        }
        if visibility != "selected", let entry = values["repositories"] {
          throw decoder.error(at: entry.key, field: path + ".repositories", "repositories applies only with visibility: selected")
        }
        target = .github(.organization(organization, visibility: visibility, repositories: repositories ?? []), environment: nil)
      }
    case "pulumi-esc":
      let organization = try required("organization")
      let project = try string("project") ?? "default"
      let environment = try required("environment")
      for (field, text) in [("organization", organization), ("project", project), ("environment", environment)]
      where !Self.isESCName(text) {
        throw decoder.error(at: values[field]?.value ?? node, field: path + "." + field, "expected letters, digits, '-', '_' and '.'")
      }
      target = .pulumiESC(organization: organization, project: project, environment: environment)
    default:
      target = .dotenv(path: try required("path"))
    }
    var source = DestinationSpec.ValueSourceKind.vault
    if let entry = values["source"] {
      guard let text = try decoder.optionalString(entry.value, path: path + ".source"),
        let parsed = DestinationSpec.ValueSourceKind(rawValue: text)
      else { throw decoder.error(at: entry.value, field: path + ".source", "expected vault or github") }
      source = parsed
    }
    var auth = DestinationSpec.AuthMethod.token
    if let entry = values["auth"] {
      guard let text = try decoder.optionalString(entry.value, path: path + ".auth"),
        let parsed = DestinationSpec.AuthMethod(rawValue: text)
      else { throw decoder.error(at: entry.value, field: path + ".auth", "expected token or oidc") }
      auth = parsed
    }
    var allowCustom = false
    if let entry = values["allow_custom_api_url"] {
      guard case .bool(let flag) = decoder.classify(entry.value) else {
        throw decoder.error(at: entry.value, field: path + ".allow_custom_api_url", "expected true or false")
      }
      allowCustom = flag
    }
    return DestinationSpec(
      name: name, target: target, from: from, groups: groups, tokenEnv: tokenEnv, apiURL: apiURL, line: line,
      source: source, auth: auth, allowCustomAPIURL: allowCustom)
  }

  static func isHTTPURL(_ text: String) -> Bool {
    guard text.hasPrefix("https://") || text.hasPrefix("http://") else { return false }
    let rest = text.drop(while: { $0 != ":" }).dropFirst(3)
    return !rest.isEmpty && !rest.hasPrefix("/") && !text.contains("?") && !text.contains("#") && !text.contains(" ")
      && !text.contains("@")
  }

  static func isGitHubName(_ text: Substring) -> Bool {
    !text.isEmpty && text.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0)) }
  }

  static func isESCName(_ text: String) -> Bool {
    !text.isEmpty && text.count <= 100 && text.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0)) }
  }
}
