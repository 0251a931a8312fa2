import Yams

/// What the `environments:` list says about stores while it is decoded: which environment uses which destination,
/// and where each `store:` was written (for errors that point at it).
struct StoreDeclarations {
  var stores: [String: String] = [:]
  var cacheMaxAge: [String: Int] = [:]
  /// The `store:` value node of each environment, for errors found once the destinations are known.
  var nodes: [String: (node: Node, path: String)] = [:]
}

extension ManifestDecoder {
  static let storedEnvironmentFields = ["name", "store", "cache_max_age"]
  /// The destination types that can be an environment's store.
  static let storeTypes = ["openbao", "vault", "aws-secrets-manager"]

  /// Decodes `{ name: production, store: bao-prod, cache_max_age: 1h }`.
  /// - Returns: the environment's name (checked by the caller like a plain item).
  func decodeStoredEnvironment(
    _ fields: Node.Mapping, node: Node, path: String, stores: inout StoreDeclarations
  ) throws(ManifestError) -> String {
    var values: [String: Node] = [:]
    for (key, value) in fields {
      let field = try keyText(key, parent: path)
      guard Self.storedEnvironmentFields.contains(field) else {
        throw unknownField(key, name: field, path: path + "." + field, allowed: Self.storedEnvironmentFields)
      }
      values[field] = value
    }
    guard let nameNode = values["name"] else {
      throw error(at: node, field: path + ".name", "missing required field")
    }
    guard let name = try optionalString(nameNode, path: path + ".name"), !name.isEmpty else {
      throw error(at: nameNode, field: path + ".name", "expected an environment name")
    }
    guard let storeNode = values["store"] else {
      throw error(
        at: node, field: path + ".store",
        "missing required field; an environment written as a mapping names its store (a destination of type "
          + "openbao or aws-secrets-manager)")
    }
    guard let store = try optionalString(storeNode, path: path + ".store"), !store.isEmpty else {
      throw error(at: storeNode, field: path + ".store", "expected the name of a destination")
    }
    stores.stores[name] = store
    stores.nodes[name] = (storeNode, path + ".store")
    if let ageNode = values["cache_max_age"] {
      guard let text = try optionalString(ageNode, path: path + ".cache_max_age"),
        let seconds = Self.duration(text)
      else {
        throw error(
          at: ageNode, field: path + ".cache_max_age",
          "expected a duration such as 90s, 15m, 8h or 7d (at most 365d)")
      }
      stores.cacheMaxAge[name] = seconds
    }
    return name
  }

  /// `<N>s`, `<N>m`, `<N>h` or `<N>d` (a positive number without sign or leading zeros, at most 365 days) in seconds.
  static func duration(_ text: String) -> Int? {
    guard let unit = text.last, let number = Int(text.dropLast()), number > 0, text.first != "0",
      text.dropLast().allSatisfy(\.isASCII), text.dropLast().allSatisfy(\.isNumber)
    else { return nil }
    let scale: Int
    switch unit {
    case "s": scale = 1
    case "m": scale = 60
    case "h": scale = 3600
    case "d": scale = 86_400
    default: return nil
    }
    let (seconds, overflow) = number.multipliedReportingOverflow(by: scale)
    guard !overflow, seconds <= 365 * 86_400 else { return nil }
    return seconds
  }

  /// Checks each `store:` against the raw `destinations:` section: it must name a destination of a server type
  /// whose `from` is the environment itself (the store holds that environment's values).
  func checkStores(_ stores: StoreDeclarations, destinations: Node?) throws(ManifestError) {
    guard !stores.stores.isEmpty else { return }
    var declared: [String: Node.Mapping] = [:]
    if let destinations, case .mapping(let mapping) = destinations {
      for (key, value) in mapping {
        if case .scalar(let scalar) = key, case .mapping(let fields) = value { declared[scalar.string] = fields }
      }
    }
    for (environment, store) in stores.stores.sorted(by: { $0.key < $1.key }) {
      guard let located = stores.nodes[environment] else { continue }
      let (node, path) = (located.node, located.path)
      guard let fields = declared[store] else {
        let names = declared.keys.sorted()
        throw error(
          at: node, field: path, "no destination named \"\(store)\" is declared under destinations",
          hints: names.isEmpty
            ? ["declare a destination of type openbao or aws-secrets-manager (docs/manifest.md)"]
            : ["declared destinations: " + names.joined(separator: ", ")])
      }
      func field(_ name: String) -> String? {
        for (key, value) in fields where key.scalar?.string == name { return value.scalar?.string }
        return nil
      }
      let type = field("type") ?? ""
      guard Self.storeTypes.contains(type) else {
        throw error(
          at: node, field: path,
          "destination \"\(store)\" is of type \(type.isEmpty ? "(none)" : type); a store must be of type openbao, "
            + "vault or aws-secrets-manager")
      }
      guard field("from") == environment else {
        throw error(
          at: node, field: path,
          "destination \"\(store)\" has from: \(field("from") ?? "(none)"); the store of \(environment) must have "
            + "from: \(environment)")
      }
    }
  }
}
