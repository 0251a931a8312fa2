import CofferCore
import Foundation
import Testing

/// The catalog as a whole: size, ids, examples, families, docs.
@Suite struct FormatCatalogTests {
  static let sharedCatalog = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/corpora/formats/catalog.json")

  @Test func hasAtLeastFortyFormatsWithUniqueIDs() {
    #expect(FormatCatalog.formats.count >= 40)
    let ids = FormatCatalog.formats.map(\.id) + FormatCatalog.families.map(\.id)
    #expect(Set(ids).count == ids.count)
    #expect(!ids.contains(FormatCatalog.noFormat))
  }

  @Test(arguments: FormatCatalog.formats)
  func exampleMatchesItsOwnFormat(_ format: SecretFormat) {
    #expect(format.verdict(for: SecretValue(format.example)) == .match)
    #expect(FormatExpectation(format).check(SecretValue(format.example)) == .matches(format))
  }
}

/// Each example checked against every other format: a self-identifying format is named as itself, and only the
/// broad formats (bare UUIDs, hex, identifiers) may accept another format's example.
@Suite struct FormatCrossTests {
  @Test(arguments: FormatCatalog.formats)
  func exampleIsRecognizedWhereAnotherFormatIsExpected(_ format: SecretFormat) {
    for other in FormatCatalog.formats where other != format {
      let result = FormatExpectation(other).check(SecretValue(format.example))
      switch result {
      case .otherFormat(let found, let exact):
        #expect(format.identifiesItself && found == format && exact, "\(format.id) where \(other.id) is expected")
      case .matches(let matched):
        #expect(!matched.identifiesItself, "\(format.id) accepted as \(other.id)")
      case .mismatch:
        #expect(!format.identifiesItself, "\(format.id) not recognized where \(other.id) is expected")
      case .badChecksum:
        Issue.record("\(format.id) has a bad checksum as \(other.id)")
      }
    }
  }
}
