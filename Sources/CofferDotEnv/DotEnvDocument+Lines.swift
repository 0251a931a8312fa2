extension DotEnvDocument {
  /// Where a key is first assigned, for messages about it.
  /// - Parameter name: the key.
  /// - Returns: the 1-based line of its first assignment, or `nil` when it is not assigned.
  public func line(of name: String) -> Int? {
    var line = 1
    for item in items {
      if case .assignment(let assignment) = item.kind, assignment.name == name { return line }
      line += item.raw.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
    }
    return nil
  }
}
