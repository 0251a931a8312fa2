/// The project manifest, `coffer.yaml`: which secrets exist, who may read them and how they are checked.
///
/// A manifest never holds a secret value. Decode one with ``decode(_:file:)``, which is strict: any unknown field,
/// wrong type, dangling reference or malformed name is a ``ManifestError`` pointing at the offending line and
/// column. The normative schema is docs/manifest.md. Lists keep the order in which they are declared in the file.
public struct Manifest: Sendable, Equatable {
  /// The schema version; always 1 for manifests this version of Coffer decodes.
  public var version: Int
  /// The project's name, a non-empty string.
  public var project: String
  /// The environments, in declared order; unique names matching `[a-z0-9][a-z0-9._-]*`.
  public var environments: [String]
  /// Who the vault is encrypted to, in declared order.
  public var recipients: [ManifestRecipient]
  /// Groups of secrets that share a rotation period, in declared order.
  public var groups: [SecretGroup]
  /// The declared secrets and plain settings, in declared order.
  public var secrets: [SecretSpec]
  /// The reserved top-level `destinations` section, kept as opaque data (not validated yet); `nil` when absent.
  public var destinations: ManifestValue?
  /// The `access:` rules (who may read which groups in which environments), in declared order; `nil` when the
  /// manifest has no `access:` key (or a null one), which lets every recipient read everything. Evaluate them with
  /// ``AccessPolicy``.
  public var access: [AccessRule]?
  /// The `imports:` list: base manifests (a shared catalog) whose groups and secrets this one draws on, in
  /// declared order; empty when the key is absent. A manifest returned by ``ManifestMerger`` has none left.
  public var imports: [ManifestImport]
  /// The `admins:` list: the recipients who may approve changes to the access policy (trust model v2,
  /// docs/access.md); `nil` when absent, which makes every recipient an admin.
  public var admins: [String]? = nil
  /// The environments whose store is a server rather than the committed vault: environment name → the name of a
  /// destination of type `openbao` (or `vault`) or `aws-secrets-manager` whose `from` is that environment
  /// (`environments: [- { name: production, store: bao-prod }]`, docs/manifest.md). Empty when every environment
  /// uses the vault.
  public var stores: [String: String] = [:]
  /// How long values read from a `store:` may be used from the local encrypted cache when the server cannot be
  /// reached, in seconds, per environment (`cache_max_age: 1h`); absent: no cache, an unreachable server fails the
  /// read.
  public var storeCacheMaxAge: [String: Int] = [:]

  /// The store an environment reads and writes: the destination name of its `store:`, or `nil` for the vault.
  /// - Parameter environment: an environment name.
  public func store(of environment: String) -> String? { stores[environment] }

  /// Creates a manifest in memory (for example for `coffer init`). Nothing is validated here; a manifest built
  /// this way is checked when its ``encodedYAML()`` is decoded again.
  /// - Parameters:
  ///   - version: the schema version; 1.
  ///   - project: the project's name.
  ///   - environments: environment names, in order.
  ///   - recipients: recipients, in order.
  ///   - groups: groups, in order.
  ///   - secrets: secrets, in order.
  ///   - destinations: the reserved `destinations` section, if any.
  ///   - access: the access rules, or `nil` for none (every recipient reads everything).
  ///   - imports: the base manifests it imports, in order.
  public init(
    version: Int = 1, project: String, environments: [String], recipients: [ManifestRecipient] = [],
    groups: [SecretGroup] = [], secrets: [SecretSpec] = [], destinations: ManifestValue? = nil,
    access: [AccessRule]? = nil, imports: [ManifestImport] = []
  ) {
    self.version = version
    self.project = project
    self.environments = environments
    self.recipients = recipients
    self.groups = groups
    self.secrets = secrets
    self.destinations = destinations
    self.access = access
    self.imports = imports
  }

  /// The secret declared under this exact (case-sensitive) name.
  /// - Parameter name: the secret's name, such as `OPENAI_API_KEY`.
  /// - Returns: the declaration, or `nil` when the manifest does not declare it.
  public func secret(named name: String) -> SecretSpec? {
    secrets.first { $0.name == name }
  }

  /// The group declared under this exact name.
  /// - Parameter name: the group's name, such as `api-keys`.
  /// - Returns: the group, or `nil` when the manifest does not declare it.
  public func group(named name: String) -> SecretGroup? {
    groups.first { $0.name == name }
  }

  /// The recipient declared under this exact name.
  /// - Parameter name: the recipient's name, such as `alice`.
  /// - Returns: the recipient, or `nil` when the manifest does not declare it.
  public func recipient(named name: String) -> ManifestRecipient? {
    recipients.first { $0.name == name }
  }

  /// Whether `name` is one of the declared ``environments``.
  /// - Parameter name: an environment name.
  public func hasEnvironment(_ name: String) -> Bool {
    environments.contains(name)
  }

  /// The rotation period that applies to a secret: its own `rotation`, else its group's, else `nil`.
  /// - Parameter spec: a secret of this manifest.
  public func effectiveRotation(of spec: SecretSpec) -> RotationPeriod? {
    if let own = spec.rotation { return own }
    guard let groupName = spec.group else { return nil }
    return group(named: groupName)?.rotation
  }

  /// Decodes and validates a manifest.
  ///
  /// Decoding is pure: the bytes are the whole input and `file` is only used in error messages.
  /// - Parameters:
  ///   - bytes: the contents of `coffer.yaml`, UTF-8.
  ///   - file: the name to show in errors, such as `coffer.yaml`.
  /// - Returns: the manifest, with every list in declared order.
  /// - Throws: ``ManifestError`` (exit status `badInput`) for invalid UTF-8, a YAML syntax error, a duplicate key,
  ///   an unknown field, a wrong type, an invalid name, regex, recipient or period, a reference to an undeclared
  ///   group, environment or recipient (in `access:` rules), or `min_length` greater than `max_length`; the
  ///   error carries the 1-based line and column of the offending node and the dotted field path.
  public static func decode(_ bytes: [UInt8], file: String) throws(ManifestError) -> Manifest {
    try ManifestDecoder(file: file).decodeDocument(bytes).manifest
  }
}

/// One entry of the manifest's `recipients` mapping: a person or machine the vault is encrypted to.
public struct ManifestRecipient: Sendable, Equatable, Hashable {
  /// The recipient's name, matching `[A-Za-z0-9][A-Za-z0-9._@+-]*` (for example `alice` or `ci@example.com`).
  public var name: String
  /// The age X25519 recipient, `age1…` in lowercase bech32.
  public var recipient: String
  /// The public half of the recipient's signing key, `ed25519:` and 32 bytes in padded base64, when published
  /// (written after the recipient, separated by one space: `age1… ed25519:…`). Only recipients with one can write
  /// under trust model v2 (docs/access.md, "Signing keys").
  public var signingKey: String?

  /// Creates a recipient entry.
  /// - Parameters:
  ///   - name: the recipient's name.
  ///   - recipient: the age recipient string.
  ///   - signingKey: `ed25519:BASE64`, or `nil`.
  public init(name: String, recipient: String, signingKey: String? = nil) {
    self.name = name
    self.recipient = recipient
    self.signingKey = signingKey
  }

  /// The manifest's text for this recipient: `age1…`, followed by ` ed25519:…` when a signing key is published.
  public var manifestValue: String { signingKey.map { recipient + " " + $0 } ?? recipient }
}

/// A named group of secrets that share a rotation period.
public struct SecretGroup: Sendable, Equatable, Hashable {
  /// The group's name, matching `[a-z0-9][a-z0-9._-]*`.
  public var name: String
  /// How often the group's secrets should be rotated, if set.
  public var rotation: RotationPeriod?
  /// A human description, if set.
  public var description: String?

  /// Creates a group.
  /// - Parameters:
  ///   - name: the group's name.
  ///   - rotation: the rotation period, if any.
  ///   - description: a description, if any.
  public init(name: String, rotation: RotationPeriod? = nil, description: String? = nil) {
    self.name = name
    self.rotation = rotation
    self.description = description
  }
}

/// Whether a secret must have a value.
public enum Requirement: Sendable, Equatable, Hashable {
  /// Required in every environment (`required: true`, the default).
  case always
  /// Never required (`required: false`).
  case never
  /// Required only in the listed environments (`required: [staging, production]`); never empty when decoded.
  case environments([String])
}

/// The declaration of one secret (or plain setting) in the manifest.
///
/// Equality ignores ``line``, which is diagnostic metadata: a manifest equals the decoding of its own
/// ``Manifest/encodedYAML()``.
public struct SecretSpec: Sendable, Equatable, Hashable {
  /// The variable name, matching `[A-Za-z_][A-Za-z0-9_]*`.
  public var name: String
  /// The group it belongs to, if any; always a declared group when decoded.
  public var group: String?
  /// A human description, if set.
  public var description: String?
  /// Where a value is required; ``Requirement/always`` by default.
  public var required: Requirement
  /// A prefix every value must start with (compared byte for byte), if set.
  public var prefix: String?
  /// The source text of a regular expression the whole value must match, if set; compiled with Swift `Regex`.
  public var pattern: String?
  /// The minimum length in characters (Swift `Character`s, i.e. extended grapheme clusters), if set.
  public var minLength: Int?
  /// The maximum length in characters (Swift `Character`s), if set.
  public var maxLength: Int?
  /// An illustrative value for templates; never a real value.
  public var example: String?
  /// `false` for a plain setting (a port, a log level) that may be shown; `true` (the default) for a secret.
  public var isSecret: Bool
  /// The name of a catalog format (validated by another module), if set.
  public var format: String?
  /// This secret's own rotation period, overriding its group's, if set.
  public var rotation: RotationPeriod?
  /// `allow_loader_variable: true`: `coffer run` may inject this name although it is a loader variable
  /// (``LoaderVariables``, such as `PATH` or `NODE_OPTIONS`); `false` (the default) keeps it out of every child.
  public var allowLoaderVariable: Bool
  /// `compose:`: the value is computed from other secrets' values (``Composition``), not stored; nil for a secret
  /// with a value of its own.
  public var compose: Composition?
  /// The 1-based line where the secret's name appears in the manifest, or 0 when built in memory.
  public var line: Int

  /// Creates a secret declaration.
  /// - Parameters:
  ///   - name: the variable name.
  ///   - group: the group's name, if any.
  ///   - description: a description, if any.
  ///   - required: where a value is required.
  ///   - prefix: the required prefix, if any.
  ///   - pattern: the regular expression source, if any.
  ///   - minLength: the minimum length in characters, if any.
  ///   - maxLength: the maximum length in characters, if any.
  ///   - example: an illustrative value, if any.
  ///   - isSecret: `false` for a plain setting.
  ///   - format: a catalog format name, if any.
  ///   - rotation: an own rotation period, if any.
  ///   - allowLoaderVariable: whether `run` may inject it although it is a loader variable.
  ///   - compose: how its value is composed from others, if it is.
  ///   - line: where it is declared, or 0.
  public init(
    name: String, group: String? = nil, description: String? = nil, required: Requirement = .always,
    prefix: String? = nil, pattern: String? = nil, minLength: Int? = nil, maxLength: Int? = nil,
    example: String? = nil, isSecret: Bool = true, format: String? = nil, rotation: RotationPeriod? = nil,
    allowLoaderVariable: Bool = false, compose: Composition? = nil, line: Int = 0
  ) {
    self.name = name
    self.group = group
    self.description = description
    self.required = required
    self.prefix = prefix
    self.pattern = pattern
    self.minLength = minLength
    self.maxLength = maxLength
    self.example = example
    self.isSecret = isSecret
    self.format = format
    self.rotation = rotation
    self.allowLoaderVariable = allowLoaderVariable
    self.compose = compose
    self.line = line
  }

  /// Whether a value is required in an environment.
  /// - Parameter environment: an environment name; a name the manifest does not declare is required only by
  ///   ``Requirement/always``.
  /// - Returns: `true` for ``Requirement/always``, `false` for ``Requirement/never``, and for
  ///   ``Requirement/environments(_:)`` whether the list contains `environment`.
  public func isRequired(in environment: String) -> Bool {
    switch required {
    case .always: return true
    case .never: return false
    case .environments(let names): return names.contains(environment)
    }
  }

  /// Compares every field except ``line``.
  public static func == (lhs: SecretSpec, rhs: SecretSpec) -> Bool {
    lhs.name == rhs.name && lhs.group == rhs.group && lhs.description == rhs.description
      && lhs.required == rhs.required && lhs.prefix == rhs.prefix && lhs.pattern == rhs.pattern
      && lhs.minLength == rhs.minLength && lhs.maxLength == rhs.maxLength && lhs.example == rhs.example
      && lhs.isSecret == rhs.isSecret && lhs.format == rhs.format && lhs.rotation == rhs.rotation
      && lhs.allowLoaderVariable == rhs.allowLoaderVariable && lhs.compose == rhs.compose
  }

  /// Hashes every field except ``line``, consistently with `==`.
  public func hash(into hasher: inout Hasher) {
    hasher.combine(name)
    hasher.combine(group)
    hasher.combine(description)
    hasher.combine(required)
    hasher.combine(prefix)
    hasher.combine(pattern)
    hasher.combine(minLength)
    hasher.combine(maxLength)
    hasher.combine(example)
    hasher.combine(isSecret)
    hasher.combine(format)
    hasher.combine(rotation)
    hasher.combine(allowLoaderVariable)
    hasher.combine(compose)
  }
}

/// Opaque YAML data kept for a reserved manifest section (`destinations`) that this version stores but does not
/// interpret.
///
/// Plain scalars `null`/`~`/empty become ``null``, plain `true`/`false` (any case form of YAML 1.2) become
/// ``bool(_:)``, plain decimal integers become ``int(_:)``; every other scalar, quoted or not, is kept as its text
/// in ``string(_:)``. Mapping entries keep their order.
public enum ManifestValue: Sendable, Equatable, Hashable {
  /// A null scalar.
  case null
  /// A boolean scalar.
  case bool(Bool)
  /// A decimal integer scalar.
  case int(Int)
  /// Any other scalar, as its text.
  case string(String)
  /// A sequence.
  case sequence([ManifestValue])
  /// A mapping with scalar keys, in declared order.
  case mapping([ManifestValueEntry])
}

/// One key/value pair of a ``ManifestValue/mapping(_:)``.
public struct ManifestValueEntry: Sendable, Equatable, Hashable {
  /// The key's text.
  public var key: String
  /// The value.
  public var value: ManifestValue

  /// Creates an entry.
  /// - Parameters:
  ///   - key: the key's text.
  ///   - value: the value.
  public init(key: String, value: ManifestValue) {
    self.key = key
    self.value = value
  }
}
