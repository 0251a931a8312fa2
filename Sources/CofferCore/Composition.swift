/// Secrets composed from others (`compose:` in the manifest, docs/manifest.md), for example
/// `DATABASE_URL: { compose: "postgres://{{ DB_USER | url }}:{{ DB_PASSWORD | url }}@{{ DB_HOST }}/app" }`.
///
/// A composed secret has no value of its own in the vault: wherever values are read (`run`, `export`, `get`,
/// `inject`, `check`) it is computed from its parts' current values. `{{ NAME }}` inserts NAME's value as it is;
/// `{{ NAME | url }}` percent-encodes it (every byte outside RFC 3986's unreserved `A-Z a-z 0-9 - . _ ~`), for the
/// user and password of a URL. A part may itself be composed; a cycle, or a part the manifest does not declare, is a
/// manifest error naming the chain. Everything else in the text is copied as it is.
public struct Composition: Sendable, Equatable, Hashable {
  /// One piece of a composition.
  public enum Piece: Sendable, Equatable, Hashable {
    /// Text copied as it is.
    case text(String)
    /// A part's value, percent-encoded when `url`.
    case part(name: String, url: Bool)
  }

  /// The pieces, in order.
  public var pieces: [Piece]

  /// The names of the parts, in order of first use.
  public var parts: [String] {
    var out: [String] = []
    for case .part(let name, _) in pieces where !out.contains(name) { out.append(name) }
    return out
  }

  /// The text form, as `coffer.yaml` writes it (`{{ NAME }}`, `{{ NAME | url }}`).
  public var text: String {
    pieces.map { piece in
      switch piece {
      case .text(let text): return text
      case .part(let name, let url): return "{{ \(name)\(url ? " | url" : "") }}"
      }
    }.joined()
  }

  /// Parses a `compose:` text.
  /// - Parameter text: the template.
  /// - Returns: the composition.
  /// - Throws: a message (for the decoder to place) when a `{{` is not closed, or its inside is not `NAME` or
  ///   `NAME | url` with a valid secret name.
  public static func parse(_ text: String) throws(CompositionSyntaxError) -> Composition {
    var pieces: [Piece] = []
    var rest = Substring(text)
    while let open = rest.firstRange(of: "{{") {
      if open.lowerBound > rest.startIndex { pieces.append(.text(String(rest[..<open.lowerBound]))) }
      guard let close = rest[open.upperBound...].firstRange(of: "}}") else {
        throw CompositionSyntaxError(message: "a {{ is not closed by }}")
      }
      let inside = rest[open.upperBound..<close.lowerBound].split(separator: "|", omittingEmptySubsequences: false)
        .map { $0.filter { $0 != " " && $0 != "\t" } }
      guard (1...2).contains(inside.count), SecretName.isValid(String(inside[0])), inside.count == 1 || inside[1] == "url"
      else {
        throw CompositionSyntaxError(message: "expected {{ NAME }} or {{ NAME | url }} inside {{ }}")
      }
      pieces.append(.part(name: String(inside[0]), url: inside.count == 2))
      rest = rest[close.upperBound...]
    }
    if !rest.isEmpty { pieces.append(.text(String(rest))) }
    guard pieces.contains(where: { if case .part = $0 { return true } else { return false } }) else {
      throw CompositionSyntaxError(message: "names no part; expected at least one {{ NAME }}")
    }
    return Composition(pieces: pieces)
  }

  /// The value from the parts' values.
  /// - Parameter value: a part's value by name (every part must have one).
  public func render(_ value: (String) -> SecretValue) -> SecretValue {
    var out: [UInt8] = []
    for piece in pieces {
      switch piece {
      case .text(let text): out.append(contentsOf: text.utf8)
      case .part(let name, let url):
        let bytes = value(name).reveal()
        out.append(contentsOf: url ? Self.percentEncoded(bytes) : bytes)
      }
    }
    return SecretValue(out)
  }

  /// Every byte outside RFC 3986's unreserved characters as `%XX` (upper-case hex).
  public static func percentEncoded(_ bytes: [UInt8]) -> [UInt8] {
    let hex = Array("0123456789ABCDEF".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count)
    for b in bytes {
      let unreserved = (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39)
        || b == 0x2D || b == 0x2E || b == 0x5F || b == 0x7E
      if unreserved { out.append(b) } else { out += [0x25, hex[Int(b >> 4)], hex[Int(b & 0x0F)]] }
    }
    return out
  }

  /// The cycle through `start` in the composed secrets' parts, as a chain (`A → B → A`), or nil.
  /// - Parameter compositions: each composed secret's composition, by name.
  public static func cycle(from start: String, in compositions: [String: Composition]) -> [String]? {
    var path: [String] = []
    func visit(_ name: String) -> [String]? {
      if let index = path.firstIndex(of: name) { return Array(path[index...]) + [name] }
      guard let composition = compositions[name] else { return nil }
      path.append(name)
      defer { path.removeLast() }
      for part in composition.parts { if let found = visit(part) { return found } }
      return nil
    }
    return visit(start)
  }

  /// The chain from a composed secret to its first part without a value (`DATABASE_URL → DB_HOST`), or nil when every
  /// part, however deep, is present.
  /// - Parameters:
  ///   - name: a composed secret's name.
  ///   - manifest: the manifest.
  ///   - present: the names that have a value.
  public static func missingChain(of name: String, in manifest: Manifest, present: Set<String>) -> [String]? {
    var values: [String: SecretValue] = [:]
    for p in present { values[p] = SecretValue([UInt8]()) }
    let only = Manifest(project: manifest.project, environments: manifest.environments, secrets: manifest.secrets.filter { $0.compose != nil })
    return apply(only, to: &values).first { $0.name == name }?.chain
  }

  /// Adds the composed secrets' values to `values`, in declaration order (parts first, however deep).
  /// - Parameters:
  ///   - manifest: the manifest (its `compose:` secrets).
  ///   - values: the values read, by name; composed ones are added (replacing any stored under the same name).
  ///   - environment: for messages.
  /// - Returns: the composed names whose parts are not all present, each with the chain to the first missing part
  ///   (`DATABASE_URL → DB_HOST`); their values are not added.
  @discardableResult
  public static func apply(_ manifest: Manifest, to values: inout [String: SecretValue]) -> [(name: String, chain: [String])] {
    let compositions = Dictionary(manifest.secrets.compactMap { s in s.compose.map { (s.name, $0) } }, uniquingKeysWith: { a, _ in a })
    guard !compositions.isEmpty else { return [] }
    var missing: [(name: String, chain: [String])] = []
    var done: [String: [String]?] = [:]  // name → nil when composed, else the chain to a missing part
    func resolve(_ name: String, depth: Int) -> [String]? {
      if let known = done[name] { return known }
      guard depth < 64, let composition = compositions[name] else {
        return values[name] == nil ? [name] : nil
      }
      for part in composition.parts {
        if let chain = resolve(part, depth: depth + 1) {
          done[name] = .some([name] + chain)
          return [name] + chain
        }
      }
      values[name] = composition.render { values[$0] ?? SecretValue([UInt8]()) }
      done[name] = .some(nil)
      return nil
    }
    for spec in manifest.secrets where spec.compose != nil {
      if let chain = resolve(spec.name, depth: 0) {
        values[spec.name] = nil
        missing.append((spec.name, chain))
      }
    }
    return missing
  }
}

/// A `compose:` text that cannot be parsed; the decoder places it (file, line, field).
public struct CompositionSyntaxError: Error, Equatable {
  /// What is wrong.
  public let message: String
}
