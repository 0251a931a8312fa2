import CofferCore
import CofferDotEnv
import Testing

/// Editing one key changes only that entry (field report F07: data loss on write).
@Suite("dotenv editing")
struct EditingTests {
  func edited(_ text: String, _ edit: (inout DotEnvDocument) -> Void) throws -> String {
    var document = try Support.parse(text).document
    edit(&document)
    let bytes = DotEnvSerializer.serialize(document)
    // The document always means what its text means.
    let reread = try Support.parse(bytes: bytes).document
    #expect(reread.names == document.names)
    #expect(Support.bytesByName(reread) == Support.bytesByName(document))
    return String(decoding: bytes, as: UTF8.self)
  }

  @Test func f07SetKeepsEveryOtherLine() throws {
    let output = try edited("VAR_1=val_1\nVAR_2=val_2\nVAR_3=val_3\nVAR_4=val_4\n") {
      $0.set("VAR_2", to: SecretValue("val_2b"))
    }
    #expect(output == "VAR_1=val_1\nVAR_2=val_2b\nVAR_3=val_3\nVAR_4=val_4\n")
  }

  /// Every entry of a file full of odd lines, edited one at a time: only that entry's text changes.
  @Test func eachEntryEditedAlone() throws {
    let chunks: [(name: String?, text: String)] = [
      (nil, "# header comment\r\n"),
      ("A", "A=1\r\n"),
      (nil, "\n"),
      ("B", "export B = 'two words' # keep me\n"),
      ("PEM", "PEM=\"-----BEGIN FAKE-----\nAAAA\n-----END FAKE-----\"\n"),
      (nil, "   # indented\n"),
      ("C", "  C=\"x\"# tight comment\n"),
      ("URL", "URL=x/#frag\n"),
      ("LAST", "LAST=end"),
    ]
    let original = chunks.map(\.text).joined()
    let replacements: [String: String] = [
      "A": "A='new value'\n",
      "B": "export B='new value' # keep me\n",
      "PEM": "PEM='new value'\n",
      "C": "  C='new value' # tight comment\n",
      "URL": "URL='new value'\n",
      "LAST": "LAST='new value'\n",
    ]
    for (index, chunk) in chunks.enumerated() {
      guard let name = chunk.name else { continue }
      let output = try edited(original) { $0.set(name, to: SecretValue("new value")) }
      var expected = chunks.map(\.text)
      expected[index] = try #require(replacements[name])
      #expect(output == expected.joined(), "editing \(name)")
    }
  }

  @Test func untouchedDocumentIsByteIdentical() throws {
    let text = "\u{FEFF}# c\r\nA=1\r\n\r\nexport B=\"x\\ny\"   \n  C='q' # c\nexport A\nD=${A}-$A\nE=$(cmd)\nF=no-newline"
    #expect(try edited(text) { _ in } == text)
  }

  @Test func appendNewKey() throws {
    #expect(try edited("A=1\n") { $0.set("B", to: SecretValue("two words")) } == "A=1\nB='two words'\n")
    #expect(try edited("A=1") { $0.set("B", to: SecretValue("2")) } == "A=1\nB=2\n")
    #expect(try edited("# only\r\n") { $0.set("B", to: SecretValue("2")) } == "# only\r\nB=2\n")
    var empty = DotEnvDocument()
    empty.set("K", to: SecretValue("it's"))
    #expect(DotEnvSerializer.serialize(empty) == Array("K=\"it's\"\n".utf8))
    #expect(DotEnvSerializer.serialize(DotEnvDocument()).isEmpty)
  }

  @Test func setReplacesLastAndDropsEarlierDuplicates() throws {
    let output = try edited("A=old1\n# c\nexport A\nA=old2 # note\nexport A\nB=2\n") {
      $0.set("A", to: SecretValue("new"))
    }
    #expect(output == "# c\nA=new # note\nexport A\nB=2\n")
  }

  @Test func removeKeepsEverythingElse() throws {
    let output = try edited("# c\nA=1\n\nB=2\nexport B\nA=3\nC=3\n") { $0.remove("B") }
    #expect(output == "# c\nA=1\n\nA=3\nC=3\n")
    #expect(try edited("A=1\nB=2\n") { $0.remove("A") } == "B=2\n")
    #expect(try edited("A=1\nB=2\n") { $0.remove("NOPE") } == "A=1\nB=2\n")
    #expect(try edited("A=1\nB=2\n") { $0.remove("A"); $0.remove("B") } == "")
  }

  @Test func editNeverChangesAnotherKeysValue() throws {
    let text = "HOST=db\nURL=pg://${HOST}/x # url\nOTHER=${NOPE:-d}\nMAYBE=${HOST:+yes}\n"
    let set = try edited(text) { $0.set("HOST", to: SecretValue("new")) }
    #expect(set == "HOST=new\nURL=pg://db/x # url\nOTHER=${NOPE:-d}\nMAYBE=yes\n")
    let removed = try edited(text) { $0.remove("HOST") }
    #expect(removed == "URL=pg://db/x # url\nOTHER=${NOPE:-d}\nMAYBE=yes\n")
  }

  @Test func valuesNamesAndDescription() throws {
    var document = try Support.parse("B=1\nA=2\nB=3\n").document
    #expect(document.names == ["B", "A"])
    #expect(document.values.map(\.name) == ["B", "A"])
    #expect(document.value(of: "B") == SecretValue("3"))
    #expect(document.value(of: "C") == nil)
    #expect(document.description == "DotEnvDocument(2 entries)")
    document.set("C", to: SecretValue("CANARY-7f3a"))
    #expect(!"\(document)".contains("CANARY"))
    #expect(!String(reflecting: document).contains("CANARY"))
    var dumped = ""
    dump(document, to: &dumped)
    #expect(!dumped.contains("CANARY") && !dumped.contains("67, 65, 78"))
  }
}
