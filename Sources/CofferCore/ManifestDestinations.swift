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
    /// `type: openbao` (or `vault`): a KV v2 engine of OpenBao or HashiCorp Vault.
    case openBao(OpenBaoSettings)
    /// `type: aws-secrets-manager`: AWS Secrets Manager in one region.
    case awsSecretsManager(AWSSecretsManagerSettings)
  }

  /// How a server destination lays out an environment: one secret holding every name, or one secret per name.
  public enum Layout: String, Sendable, Equatable {
    /// One secret per environment whose keys are the names (`layout: environment`, the default).
    case environment
    /// One secret per name (`layout: name`).
    case name
  }

  /// The settings of an `openbao` destination (docs/manifest.md, *Destinations*).
  public struct OpenBaoSettings: Sendable, Equatable {
    /// The KV v2 mount, without slashes (`secret`).
    public var mount: String
    /// The path prefix under the mount, without leading or trailing slash (`myapp/production`).
    public var path: String
    /// One KV secret at ``path`` (environment) or one per name under it.
    public var layout: Layout
    /// The namespace (`X-Vault-Namespace`), if any.
    public var namespace: String?
    /// The auth role (`jwt`, `oidc`: the jwt auth method's role).
    public var role: String?
    /// Where the auth method is mounted (`jwt` or `approle` by default).
    public var authMount: String?
    /// The variable holding the JWT for `auth: jwt` (default `VAULT_JWT`).
    public var jwtEnv: String
    /// The variables holding the AppRole role id and secret id (default `VAULT_ROLE_ID`, `VAULT_SECRET_ID`).
    public var roleIDEnv: String
    /// See ``roleIDEnv``.
    public var secretIDEnv: String
    /// The audience of the GitHub Actions OIDC token for `auth: oidc` (default: the destination's `api_url`).
    public var audience: String?

    /// Creates settings.
    public init(
      mount: String = "secret", path: String, layout: Layout = .environment, namespace: String? = nil,
      role: String? = nil, authMount: String? = nil, jwtEnv: String = "VAULT_JWT", roleIDEnv: String = "VAULT_ROLE_ID",
      secretIDEnv: String = "VAULT_SECRET_ID", audience: String? = nil
    ) {
      self.mount = mount
      self.path = path
      self.layout = layout
      self.namespace = namespace
      self.role = role
      self.authMount = authMount
      self.jwtEnv = jwtEnv
      self.roleIDEnv = roleIDEnv
      self.secretIDEnv = secretIDEnv
      self.audience = audience
    }
  }

  /// The settings of an `aws-secrets-manager` destination.
  public struct AWSSecretsManagerSettings: Sendable, Equatable {
    /// The region (`eu-west-1`).
    public var region: String
    /// Prepended to each secret's name (`myapp/prod/`); with `layout: environment` the secret is `prefix + from`.
    public var prefix: String
    /// One JSON secret per environment, or one secret per name.
    public var layout: Layout
    /// The credentials profile (`profile:`), else `AWS_PROFILE`, else the environment's keys.
    public var profile: String?

    /// Creates settings.
    public init(region: String, prefix: String = "", layout: Layout = .environment, profile: String? = nil) {
      self.region = region
      self.prefix = prefix
      self.layout = layout
      self.profile = profile
    }
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
    /// GitHub Actions OIDC, exchanged for a short-lived token (Pulumi ESC; OpenBao at a `jwt` auth role).
    case oidc
    /// OpenBao AppRole login with a role id and secret id from the environment.
    case approle
    /// OpenBao `jwt` auth login with a JWT from the variable named by `jwt_env`.
    case jwt
  }

  /// The service's own API root for this type (`https://api.github.com`, `https://api.pulumi.com`), or `nil` for
  /// `dotenv`.
  public var defaultAPIURL: String? {
    switch target {
    case .github: return "https://api.github.com"
    case .pulumiESC: return "https://api.pulumi.com"
    case .awsSecretsManager(let settings): return "https://secretsmanager.\(settings.region).amazonaws.com"
    case .dotenv, .openBao: return nil
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
    case .openBao: return "openbao"
    case .awsSecretsManager: return "aws-secrets-manager"
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

  static let types = ["github", "pulumi-esc", "dotenv", "openbao", "vault", "aws-secrets-manager"]
  static let common = ["type", "from", "groups"]
  static let githubFields = common + [
    "repository", "organization", "visibility", "repositories", "environment", "token_env", "api_url",
    "allow_custom_api_url",
  ]
  static let escFields = common + [
    "organization", "project", "environment", "token_env", "api_url", "allow_custom_api_url", "source", "auth",
  ]
  static let dotenvFields = common + ["path"]
  static let openBaoFields = common + [
    "api_url", "mount", "path", "layout", "namespace", "auth", "token_env", "role", "auth_mount", "jwt_env",
    "role_id_env", "secret_id_env", "audience", "allow_custom_api_url",
  ]
  static let awsFields = common + ["region", "api_url", "prefix", "layout", "profile", "allow_custom_api_url"]

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
    let allowed: [String]
    switch type {
    case "github": allowed = Self.githubFields
    case "pulumi-esc": allowed = Self.escFields
    case "openbao", "vault": allowed = Self.openBaoFields
    case "aws-secrets-manager": allowed = Self.awsFields
    default: allowed = Self.dotenvFields
    }
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
    if type == "github" || type == "pulumi-esc" || type == "openbao" || type == "vault" {
      tokenEnv = try string("token_env") ?? (type == "github" ? "GITHUB_TOKEN" : type == "pulumi-esc" ? "PULUMI_ACCESS_TOKEN" : "VAULT_TOKEN")
      if let entry = values["token_env"], let token = tokenEnv, !ManifestSyntax.isSecretName(token) {
        throw decoder.error(at: entry.value, field: path + ".token_env", "expected a variable name such as GITHUB_TOKEN")
      }
    }
    if type != "dotenv" {
      switch type {
      case "github": apiURL = try string("api_url") ?? "https://api.github.com"
      case "pulumi-esc": apiURL = try string("api_url") ?? "https://api.pulumi.com"
      case "aws-secrets-manager": apiURL = try string("api_url")
      default: apiURL = try required("api_url")
      }
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
    case "openbao", "vault":
      target = .openBao(try openBao(string: string, required: required, values: values, path: path, node: node))
    case "aws-secrets-manager":
      let region = try required("region")
      guard Self.isRegion(region) else {
        throw decoder.error(at: values["region"]?.value ?? node, field: path + ".region", "expected a region such as eu-west-1")
      }
      let prefix = try string("prefix") ?? ""
      guard prefix.unicodeScalars.allSatisfy({ Self.isAWSNameScalar($0) }) else {
        throw decoder.error(at: values["prefix"]?.value ?? node, field: path + ".prefix", "expected ASCII letters, digits and /_+=.@-")
      }
      let layout = try self.layout(string, values: values, path: path)
      if apiURL == nil { apiURL = "https://secretsmanager.\(region).amazonaws.com" }
      target = .awsSecretsManager(.init(region: region, prefix: prefix, layout: layout, profile: try string("profile")))
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
      else { throw decoder.error(at: entry.value, field: path + ".auth", "expected \(type == "openbao" || type == "vault" ? "token, approle, jwt or oidc" : "token or oidc")") }
      guard type == "openbao" || type == "vault" || parsed == .token || parsed == .oidc else {
        throw decoder.error(at: entry.value, field: path + ".auth", "expected token or oidc")
      }
      auth = parsed
      if case .openBao(let settings) = target, parsed == .jwt || parsed == .oidc, settings.role == nil {
        throw decoder.error(at: entry.value, field: path + ".role", "auth: \(text) needs role: the jwt auth role to log in at")
      }
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

  typealias StringField = (String) throws(ManifestError) -> String?
  typealias RequiredField = (String) throws(ManifestError) -> String

  func layout(_ string: StringField, values: [String: (key: Node, value: Node)], path: String) throws(ManifestError)
    -> DestinationSpec.Layout
  {
    guard let text = try string("layout") else { return .environment }
    guard let layout = DestinationSpec.Layout(rawValue: text) else {
      throw decoder.error(at: values["layout"]!.value, field: path + ".layout", "expected environment or name")
    }
    return layout
  }

  func openBao(
    string: StringField, required: RequiredField, values: [String: (key: Node, value: Node)], path: String, node: Node
  ) throws(ManifestError) -> DestinationSpec.OpenBaoSettings {
    func segments(_ field: String, _ text: String) throws(ManifestError) -> String {
      let trimmed = Substring(text).trimmingSlashes
      let pieces = trimmed.split(separator: "/", omittingEmptySubsequences: false)
      guard !trimmed.isEmpty, pieces.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." && !$0.hasSuffix(".") && $0.unicodeScalars.allSatisfy(Self.isPathScalar) }) else {
        throw decoder.error(
          at: values[field]?.value ?? node, field: path + "." + field,
          "expected slash-separated segments of letters, digits, '-', '_', '.', '@' (not ending in '.')")
      }
      return trimmed
    }
    var settings = DestinationSpec.OpenBaoSettings(
      mount: try segments("mount", try string("mount") ?? "secret"), path: try segments("path", try required("path")))
    settings.layout = try layout(string, values: values, path: path)
    if let namespace = try string("namespace") { settings.namespace = try segments("namespace", namespace) }
    settings.role = try string("role")
    if let mount = try string("auth_mount") { settings.authMount = try segments("auth_mount", mount) }
    for (field, keyPath) in [("jwt_env", \DestinationSpec.OpenBaoSettings.jwtEnv), ("role_id_env", \.roleIDEnv), ("secret_id_env", \.secretIDEnv)] {
      guard let text = try string(field) else { continue }
      guard ManifestSyntax.isSecretName(text) else {
        throw decoder.error(at: values[field]?.value ?? node, field: path + "." + field, "expected a variable name such as VAULT_TOKEN")
      }
      settings[keyPath: keyPath] = text
    }
    settings.audience = try string("audience")
    return settings
  }

  static func isPathScalar(_ scalar: Unicode.Scalar) -> Bool {
    scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "-_.@".unicodeScalars.contains(scalar))
  }

  static func isAWSNameScalar(_ scalar: Unicode.Scalar) -> Bool {
    scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "/_+=.@-".unicodeScalars.contains(scalar))
  }

  static func isRegion(_ text: String) -> Bool {
    !text.isEmpty && text.count <= 32 && text.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
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

extension Substring {
  var trimmingSlashes: String {
    var s = self
    while s.first == "/" { s = s.dropFirst() }
    while s.last == "/" { s = s.dropLast() }
    return String(s)
  }
}
