import CofferCore
import CofferSystem

/// The environment `coffer run` gives its command (docs/run.md): the inherited one with the injected secrets
/// merged in. Pure: entries in, one `EnvironmentBlock` out.
package enum ChildEnvironment {
  /// The child's environment: the inherited one with the secrets added (replacing same-named variables unless
  /// `override` is false). Order: inherited variables in place, then new ones in the order given. When a secret's
  /// name appears more than once in the inherited environment, only its first occurrence is kept.
  /// - Parameters:
  ///   - inherited: `NAME=value` entries, as `environ` holds them.
  ///   - secrets: name → value pairs with distinct names (a vault's current values).
  ///   - override: whether a secret replaces an inherited variable of the same name.
  /// - Throws: ``UsageError`` when a value contains a NUL byte, which no environment can carry.
  package static func merge(_ inherited: [[UInt8]], _ secrets: [(name: String, value: SecretValue)], override: Bool) throws -> EnvironmentBlock {
    var merger = EnvironmentMerger(inherited: inherited, override: override, expected: secrets.count)
    for s in secrets {
      guard !s.value.containsNUL else {
        throw UsageError(description: "\(s.name) contains a NUL byte and cannot be placed in an environment")
      }
      s.value.reveal().withUnsafeBufferPointer { merger.add(name: s.name, value: $0) }
    }
    return merger.finish()
  }
}

/// Builds a child's environment from the inherited one and secrets added one at a time (see
/// ``ChildEnvironment/merge(_:_:override:)`` for the rules): inherited variables keep their places, a secret replaces
/// a same-named inherited variable in its place (or leaves it, without `override`), and the other secrets follow in
/// the order added. When a secret's name appears more than once in the inherited environment, only its first
/// occurrence is kept.
package struct EnvironmentMerger {
  private let inherited: [[UInt8]]
  private let override: Bool
  private var names: [String] = []
  private var firstIndex: [String: Int] = [:]
  // A cheap filter in front of the dictionary: most secrets are not inherited, and hashing every name costs more.
  private var filter = [Bool](repeating: false, count: 4096)
  private var replaced: [Int: [UInt8]] = [:]
  private var matched = Swift.Set<String>()
  private var added = EnvironmentBlock()

  /// - Parameters:
  ///   - inherited: `NAME=value` entries, as `environ` holds them.
  ///   - override: whether a secret replaces an inherited variable of the same name.
  ///   - expected: about how many secrets will be added.
  package init(inherited: [[UInt8]], override: Bool, expected: Int) {
    self.inherited = inherited
    self.override = override
    names.reserveCapacity(inherited.count)
    for (i, entry) in inherited.enumerated() {
      let name = String(decoding: entry.prefix { $0 != 0x3D }, as: UTF8.self)
      names.append(name)
      if firstIndex[name] == nil {
        firstIndex[name] = i
        filter[Self.slot(name)] = true
      }
    }
    added.reserve(entries: expected, bytes: expected * 64)
  }

  private static func slot(_ name: String) -> Int {
    var name = name
    return name.withUTF8 { u in u.isEmpty ? 0 : (u.count &* 131 &+ Int(u[0]) &* 31 &+ Int(u[u.count - 1])) & 4095 }
  }

  /// Adds one secret (names distinct, value without NUL).
  package mutating func add(name: String, value: UnsafeBufferPointer<UInt8>) {
    if filter[Self.slot(name)], let i = firstIndex[name] {
      matched.insert(name)
      if override { replaced[i] = Array(name.utf8) + [0x3D] + Array(value) }
    } else {
      added.append(name: name, value: value)
    }
  }

  /// The environment: inherited entries (some replaced), then the secrets added.
  package func finish() -> EnvironmentBlock {
    var out = EnvironmentBlock()
    out.reserve(entries: inherited.count + added.count, bytes: inherited.reduce(0) { $0 + $1.count + 1 })
    for (i, entry) in inherited.enumerated() {
      if !matched.isEmpty, matched.contains(names[i]) {
        guard firstIndex[names[i]] == i else { continue }
        if let value = replaced[i] {
          out.append(entry: value)
          continue
        }
      }
      out.append(entry: entry)
    }
    out.append(contentsOf: added)
    return out
  }

}
