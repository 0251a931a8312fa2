import CofferCore

/// "Did you mean" suggestions for names given on the command line.
package enum Suggest {
  /// The closest candidate to `name`: equal ignoring case, else the nearest within an edit distance of 2 (3 for
  /// names of 10 characters or more); nil when none is that close.
  package static func closest(to name: String, among candidates: [String]) -> String? {
    if let same = candidates.first(where: { $0.lowercased() == name.lowercased() && $0 != name }) { return same }
    let limit = name.count >= 10 ? 3 : 2
    var best: (name: String, distance: Int)?
    for candidate in candidates where candidate != name {
      let distance = ManifestSyntax.editDistance(name.lowercased(), candidate.lowercased())
      if distance <= limit, distance < (best?.distance ?? Int.max) { best = (candidate, distance) }
    }
    return best?.name
  }
}
