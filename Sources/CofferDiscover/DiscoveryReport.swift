/// Where a reference was found: a file and a position in it.
public struct ReferenceLocation: Sendable, Hashable, Comparable {
  /// The file's path as shown to the user.
  public let file: String
  /// The 1-based line.
  public let line: Int
  /// The 1-based column, in Unicode scalars.
  public let column: Int

  /// Creates a location.
  /// - Parameters:
  ///   - file: the file's path.
  ///   - line: the 1-based line.
  ///   - column: the 1-based column.
  public init(file: String, line: Int, column: Int) {
    self.file = file
    self.line = line
    self.column = column
  }

  /// Orders by file (bytes), line, then column.
  public static func < (lhs: ReferenceLocation, rhs: ReferenceLocation) -> Bool {
    if lhs.file != rhs.file { return lhs.file.utf8.lexicographicallyPrecedes(rhs.file.utf8) }
    return (lhs.line, lhs.column) < (rhs.line, rhs.column)
  }

  /// `file:line:column`.
  public var text: String { "\(file):\(line):\(column)" }
}

/// What `coffer discover` reports: names the code reads that the manifest does not declare (with every place they
/// are read), declared names nothing reads, and declared names that are read. Every list is sorted by name (byte
/// order); locations by file, line and column.
public struct DiscoveryReport: Sendable, Equatable {
  /// An undeclared name and where it is read.
  public struct Finding: Sendable, Equatable {
    /// The variable's name.
    public let name: String
    /// Every place it is read.
    public let locations: [ReferenceLocation]
  }

  /// Names read but not declared.
  public let undeclared: [Finding]
  /// Names declared but not read by any file read.
  public let unused: [String]
  /// Names declared and read.
  public let declaredAndUsed: [String]

  /// Builds the report.
  /// - Parameters:
  ///   - references: each reference with the file it was found in.
  ///   - declared: the manifest's declared names (secrets and plain settings).
  public init(references: [(file: String, reference: VariableReference)], declared: [String]) {
    var byName: [String: [ReferenceLocation]] = [:]
    for (file, reference) in references {
      byName[reference.name, default: []].append(
        ReferenceLocation(file: file, line: reference.line, column: reference.column))
    }
    let declaredSet = Set(declared)
    func sorted(_ names: some Sequence<String>) -> [String] {
      names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }
    undeclared = sorted(byName.keys.filter { !declaredSet.contains($0) }).map {
      Finding(name: $0, locations: Array(Set(byName[$0]!)).sorted())
    }
    unused = sorted(declaredSet.filter { byName[$0] == nil })
    declaredAndUsed = sorted(declaredSet.filter { byName[$0] != nil })
  }

  /// Whether anything is undeclared (the CLI then exits with status 1).
  public var hasUndeclared: Bool { !undeclared.isEmpty }
}
