// Organization-wide analysis (`coffer org check`, `coffer org matrix`; docs/organization.md): many repositories'
// merged manifests, the catalogs they import, and the verdicts on the vaults the identity could read, in; findings
// out. Pure: no file, clock or value is read here; verdicts arrive already computed by ``Checker`` and
// ``RotationPolicy``, so the rules are the same as `coffer check` and `coffer rotate status`.

/// One repository as the organization check sees it.
public struct OrgRepository: Sendable {
  /// The repository's name: its folder's name, which is the name GitHub's `repositories:` lists use.
  public var name: String
  /// Its `coffer.yaml` as shown to the user (relative to the working directory).
  public var manifestFile: String
  /// Its manifest with `imports:` applied.
  public var manifest: Manifest
  /// Where each merged field came from (``MergedManifest/provenance``).
  public var provenance: [String: ManifestLocation]
  /// The secrets whose definition comes from an import.
  public var importedSecrets: Set<String>
  /// The destinations its own `coffer.yaml` declares.
  public var destinations: [DestinationSpec]
  /// The verdicts on its environments' vaults, for those the identity could read (empty when none were read).
  public var verdicts: [OrgEnvironmentVerdict]

  /// Creates a repository.
  /// - Parameters:
  ///   - name: the folder name.
  ///   - manifestFile: the manifest's display name.
  ///   - manifest: the merged manifest.
  ///   - provenance: where each merged field came from.
  ///   - importedSecrets: the secrets defined by an import.
  ///   - destinations: the destinations it declares.
  ///   - verdicts: the verdicts on its vaults.
  public init(
    name: String, manifestFile: String, manifest: Manifest, provenance: [String: ManifestLocation] = [:],
    importedSecrets: Set<String> = [], destinations: [DestinationSpec] = [], verdicts: [OrgEnvironmentVerdict] = []
  ) {
    self.name = name
    self.manifestFile = manifestFile
    self.manifest = manifest
    self.provenance = provenance
    self.importedSecrets = importedSecrets
    self.destinations = destinations
    self.verdicts = verdicts
  }
}

/// The verdicts on one environment's vault: what `coffer check` and `coffer rotate status` would say.
public struct OrgEnvironmentVerdict: Sendable {
  /// The environment.
  public var environment: String
  /// ``Checker/check(_:environment:values:)``'s report (values this identity cannot read already left out).
  public var check: CheckReport
  /// ``RotationPolicy/statuses(of:at:)`` for the vault's secrets.
  public var rotation: [RotationStatus]

  /// Creates a verdict.
  /// - Parameters:
  ///   - environment: the environment.
  ///   - check: the check report.
  ///   - rotation: the rotation statuses.
  public init(environment: String, check: CheckReport, rotation: [RotationStatus] = []) {
    self.environment = environment
    self.check = check
    self.rotation = rotation
  }
}

/// A catalog: a manifest some repository imports, with its own definitions.
public struct OrgCatalog: Sendable {
  /// Its display name.
  public var file: String
  /// The catalog merged as a project of its own (its own definitions, groups resolved through its imports).
  public var manifest: Manifest
  /// Where each of its fields is written.
  public var provenance: [String: ManifestLocation]
  /// The destinations it declares.
  public var destinations: [DestinationSpec]

  /// Creates a catalog.
  /// - Parameters:
  ///   - file: its display name.
  ///   - manifest: its definitions.
  ///   - provenance: where they are written.
  ///   - destinations: the destinations it declares.
  public init(
    file: String, manifest: Manifest, provenance: [String: ManifestLocation] = [:], destinations: [DestinationSpec] = []
  ) {
    self.file = file
    self.manifest = manifest
    self.provenance = provenance
    self.destinations = destinations
  }
}

/// One thing wrong in the organization. Never holds a value: details are built from names, manifest fields,
/// dates and ``CheckIssue/reason`` (which is value-free).
public struct OrgFinding: Sendable, Equatable, Hashable {
  /// What is wrong. The raw value is the kind's name in `--json` output and in the table.
  public enum Kind: String, Sendable, CaseIterable {
    /// The same secret name is defined with a different group, format, rotation, or secret/setting in two places.
    case definedDifferently = "defined-differently"
    /// A repository declares a secret no catalog defines.
    case notInCatalog = "not-in-catalog"
    /// A catalog defines a secret no repository declares.
    case unusedInCatalog = "unused-in-catalog"
    /// A secret required in an environment has no value (`coffer check`).
    case missing
    /// A value breaks one of its rules (`coffer check`; one finding per rule).
    case invalid
    /// A secret is past its rotation due date (`coffer rotate status`).
    case overdue
    /// A reader who saw the current value lost access (`coffer rotate status`).
    case needsRotation = "needs-rotation"
    /// An organization destination with `visibility: selected` does not list a repository that declares one of
    /// its secrets.
    case visibilityLeavesOut = "visibility-leaves-out"
    /// An organization destination with `visibility: selected` lists a repository that declares none of its
    /// secrets.
    case visibilityIncludes = "visibility-includes"
  }

  /// What is wrong.
  public var kind: Kind
  /// The repository concerned, if one is.
  public var repository: String?
  /// The environment concerned, if one is.
  public var environment: String?
  /// The secret concerned, if one is.
  public var secret: String?
  /// A lowercase sentence fragment saying what is wrong, naming places as `file:line:column`.
  public var detail: String

  /// Creates a finding.
  /// - Parameters:
  ///   - kind: what is wrong.
  ///   - repository: the repository, if any.
  ///   - environment: the environment, if any.
  ///   - secret: the secret, if any.
  ///   - detail: what is wrong; must not contain a value.
  public init(kind: Kind, repository: String? = nil, environment: String? = nil, secret: String? = nil, detail: String) {
    self.kind = kind
    self.repository = repository
    self.environment = environment
    self.secret = secret
    self.detail = detail
  }
}

/// The organization check: findings from repositories and catalogs.
public enum OrgAnalysis {
  /// Every finding, sorted by kind (in ``OrgFinding/Kind`` order), then repository, environment, secret and detail.
  ///
  /// - Definitions: every place a secret is defined (a catalog's definition, or a repository's own) is compared
  ///   on its group, `format:`, effective rotation period and `secret:`; each field with more than one value is
  ///   one finding naming every value and where it is written.
  /// - Catalog: when there is at least one catalog, each repository secret no catalog defines, and each catalog
  ///   secret no repository declares.
  /// - Vaults: each missing and invalid entry of each ``OrgEnvironmentVerdict/check``, and each `overdue` or
  ///   `needs-rotation` status.
  /// - Visibility: for each GitHub organization destination with `visibility: selected` (declared by a catalog or a
  ///   repository), the secrets it delivers are the declaring manifest's secrets in its `groups:` (all without
  ///   `groups:`); each checked repository that declares one of them but is not listed is a finding per secret,
  ///   and each listed repository that declares none of them is one finding. Listed names that are not among the
  ///   repositories checked are not judged.
  /// - Parameters:
  ///   - repositories: the repositories checked.
  ///   - catalogs: the catalogs they import.
  /// - Returns: the findings, sorted.
  public static func findings(repositories: [OrgRepository], catalogs: [OrgCatalog]) -> [OrgFinding] {
    var out: [OrgFinding] = []
    out += definitionFindings(repositories, catalogs)
    out += catalogFindings(repositories, catalogs)
    out += vaultFindings(repositories)
    out += visibilityFindings(repositories, catalogs)
    let order = Dictionary(uniqueKeysWithValues: OrgFinding.Kind.allCases.enumerated().map { ($1, $0) })
    return out.sorted {
      let a = (order[$0.kind]!, $0.repository ?? "", $0.environment ?? "", $0.secret ?? "", $0.detail)
      let b = (order[$1.kind]!, $1.repository ?? "", $1.environment ?? "", $1.secret ?? "", $1.detail)
      return a < b
    }
  }

  /// One place a secret is defined, with the repositories that use that definition.
  private struct Place {
    var location: String
    var spec: SecretSpec
    var rotation: RotationPeriod?
    var users: [String]
  }

  private static let compared: [(field: String, value: @Sendable (SecretSpec, RotationPeriod?) -> String)] = [
    ("group", { spec, _ in spec.group ?? "(none)" }),
    ("format", { spec, _ in spec.format ?? "(none)" }),
    ("rotation", { _, rotation in rotation?.description ?? "(none)" }),
    ("secret", { spec, _ in spec.isSecret ? "secret" : "setting" }),
  ]

  private static func definitionFindings(_ repositories: [OrgRepository], _ catalogs: [OrgCatalog]) -> [OrgFinding] {
    var places: [String: [Place]] = [:]
    func add(_ name: String, _ location: String, _ spec: SecretSpec, _ rotation: RotationPeriod?, user: String?) {
      var list = places[name, default: []]
      if let index = list.firstIndex(where: { $0.location == location }) {
        if let user { list[index].users.append(user) }
      } else {
        list.append(Place(location: location, spec: spec, rotation: rotation, users: user.map { [$0] } ?? []))
      }
      places[name] = list
    }
    for catalog in catalogs {
      for spec in catalog.manifest.secrets {
        let location = catalog.provenance["secrets.\(spec.name)"]?.description ?? catalog.file
        add(spec.name, location, spec, catalog.manifest.effectiveRotation(of: spec), user: nil)
      }
    }
    for repository in repositories {
      for spec in repository.manifest.secrets {
        let location = repository.provenance["secrets.\(spec.name)"]?.description ?? repository.manifestFile
        add(spec.name, location, spec, repository.manifest.effectiveRotation(of: spec), user: repository.name)
      }
    }
    var out: [OrgFinding] = []
    for (name, list) in places where list.count > 1 {
      for (field, value) in compared {
        var variants: [(value: String, places: [Place])] = []
        for place in list {
          let text = value(place.spec, place.rotation)
          if let index = variants.firstIndex(where: { $0.value == text }) {
            variants[index].places.append(place)
          } else {
            variants.append((text, [place]))
          }
        }
        guard variants.count > 1 else { continue }
        let described = variants.sorted { $0.value < $1.value }.map { variant in
          let users = variant.places.flatMap(\.users).sorted()
          let at = variant.places.map(\.location).sorted().joined(separator: ", ")
          return "\(variant.value) at \(at)" + (users.isEmpty ? " (catalog)" : " (\(users.joined(separator: ", ")))")
        }
        out.append(
          OrgFinding(kind: .definedDifferently, secret: name, detail: "\(field) differs: " + described.joined(separator: "; ")))
      }
    }
    return out
  }

  private static func catalogFindings(_ repositories: [OrgRepository], _ catalogs: [OrgCatalog]) -> [OrgFinding] {
    guard !catalogs.isEmpty else { return [] }
    var defined: [String: String] = [:]
    for catalog in catalogs {
      for spec in catalog.manifest.secrets where defined[spec.name] == nil {
        defined[spec.name] = catalog.provenance["secrets.\(spec.name)"]?.description ?? catalog.file
      }
    }
    let catalogNames = catalogs.map(\.file).joined(separator: ", ")
    var used = Set<String>()
    var out: [OrgFinding] = []
    for repository in repositories {
      for spec in repository.manifest.secrets {
        used.insert(spec.name)
        guard defined[spec.name] == nil else { continue }
        let at = repository.provenance["secrets.\(spec.name)"]?.description ?? repository.manifestFile
        out.append(
          OrgFinding(
            kind: .notInCatalog, repository: repository.name, secret: spec.name,
            detail: "declared at \(at); the catalog (\(catalogNames)) does not define it"))
      }
    }
    for (name, at) in defined where !used.contains(name) {
      out.append(OrgFinding(kind: .unusedInCatalog, secret: name, detail: "defined at \(at); no repository declares it"))
    }
    return out
  }

  private static func vaultFindings(_ repositories: [OrgRepository]) -> [OrgFinding] {
    var out: [OrgFinding] = []
    for repository in repositories {
      for verdict in repository.verdicts {
        let environment = verdict.environment
        for name in verdict.check.missing {
          out.append(
            OrgFinding(
              kind: .missing, repository: repository.name, environment: environment, secret: name,
              detail: "required in \(environment), has no value"))
        }
        for issue in verdict.check.invalid {
          out.append(
            OrgFinding(
              kind: .invalid, repository: repository.name, environment: environment, secret: issue.name,
              detail: "\(issue.kind.rawValue): \(issue.reason)"))
        }
        for status in verdict.rotation {
          switch status.state {
          case .overdue:
            let period = status.period.map { "\($0.days)d" } ?? "-"
            let due = status.due.map { String($0.rfc3339.prefix(10)) } ?? "-"
            out.append(
              OrgFinding(
                kind: .overdue, repository: repository.name, environment: environment, secret: status.name,
                detail: "last rotated \(status.lastRotated.rfc3339.prefix(10)), period \(period), due \(due)"))
          case .needsRotation:
            let who = status.revoked.map { "\($0.recipient) lost access \($0.time.rfc3339.prefix(10))" } ?? "a reader lost access"
            out.append(
              OrgFinding(
                kind: .needsRotation, repository: repository.name, environment: environment, secret: status.name,
                detail: who))
          case .ok, .dueSoon:
            continue
          }
        }
      }
    }
    return out
  }

  private static func visibilityFindings(_ repositories: [OrgRepository], _ catalogs: [OrgCatalog]) -> [OrgFinding] {
    var declarers: [(file: String, manifest: Manifest, destinations: [DestinationSpec])] = []
    for catalog in catalogs where !catalog.destinations.isEmpty {
      declarers.append((catalog.file, catalog.manifest, catalog.destinations))
    }
    for repository in repositories where !repository.destinations.isEmpty {
      declarers.append((repository.manifestFile, repository.manifest, repository.destinations))
    }
    var out: [OrgFinding] = []
    for (file, manifest, destinations) in declarers {
      for destination in destinations {
        guard case .github(.organization(let organization, let visibility, let listed), _) = destination.target,
          visibility == "selected"
        else { continue }
        let delivered = manifest.secrets.filter { spec in
          destination.groups.map { $0.contains(spec.group ?? "default") } ?? true
        }.map(\.name)
        let what = "destination \(destination.name) (organization \(organization), visibility selected) at \(file):\(destination.line)"
        for repository in repositories {
          let needed = delivered.filter { repository.manifest.secret(named: $0) != nil }.sorted()
          if listed.contains(repository.name) {
            if needed.isEmpty {
              out.append(
                OrgFinding(
                  kind: .visibilityIncludes, repository: repository.name,
                  detail: "\(what) lists \(repository.name), which declares none of its secrets"))
            }
          } else {
            for name in needed {
              out.append(
                OrgFinding(
                  kind: .visibilityLeavesOut, repository: repository.name, secret: name,
                  detail: "\(what) does not list \(repository.name), which declares \(name)"))
            }
          }
        }
      }
    }
    return out
  }
}

/// Which repository needs which secret in which environment (`coffer org matrix`).
public struct OrgMatrix: Sendable, Equatable {
  /// One repository's use of one secret.
  public struct Use: Sendable, Equatable {
    /// The repository.
    public var repository: String
    /// The environments that require the secret, in the repository's order.
    public var required: [String]
    /// The repository's other environments (the secret is declared but optional there).
    public var optional: [String]

    /// Creates a use.
    /// - Parameters:
    ///   - repository: the repository.
    ///   - required: the environments that require the secret.
    ///   - optional: the other environments.
    public init(repository: String, required: [String], optional: [String]) {
      self.repository = repository
      self.required = required
      self.optional = optional
    }
  }

  /// One secret's row.
  public struct Row: Sendable, Equatable {
    /// The secret's name.
    public var name: String
    /// The repositories that declare it, in repository order.
    public var uses: [Use]

    /// Creates a row.
    /// - Parameters:
    ///   - name: the secret's name.
    ///   - uses: the repositories that declare it.
    public init(name: String, uses: [Use]) {
      self.name = name
      self.uses = uses
    }
  }

  /// The repositories, in the order given.
  public var repositories: [String]
  /// One row per secret any repository declares, sorted by name.
  public var rows: [Row]

  /// Builds the matrix from the repositories' merged manifests.
  /// - Parameter repositories: the repositories.
  /// - Returns: the matrix.
  public static func build(_ repositories: [OrgRepository]) -> OrgMatrix {
    var rows: [String: [Use]] = [:]
    for repository in repositories {
      let environments = repository.manifest.environments
      for spec in repository.manifest.secrets {
        let required = environments.filter { spec.isRequired(in: $0) }
        let optional = environments.filter { !spec.isRequired(in: $0) }
        rows[spec.name, default: []].append(Use(repository: repository.name, required: required, optional: optional))
      }
    }
    return OrgMatrix(
      repositories: repositories.map(\.name),
      rows: rows.keys.sorted().map { Row(name: $0, uses: rows[$0]!) })
  }
}
