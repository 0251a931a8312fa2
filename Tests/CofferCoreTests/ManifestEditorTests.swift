import CofferCore
import Testing

func adding(_ name: String, _ recipient: String, to text: String) -> String {
  do {
    return try ManifestEditor.addingRecipient(name: name, recipient: recipient, to: text)
  } catch {
    return "error: \(error)"
  }
}

@Suite struct ManifestEditorTests {
  @Test func appendsAfterTheLastRecipient() throws {
    let result = adding("bob", bobKey, to: exampleManifest)
    var lines = exampleManifest.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    lines.insert("  bob: \(bobKey)", at: 5)
    #expect(result == lines.joined(separator: "\n"))
    let manifest = try decode(result)
    #expect(manifest.recipients.map(\.name) == ["alice", "bob"])
  }

  @Test func replacesAnExistingRecipientKeepingItsComment() {
    let text = """
      # Coffer manifest
      version: 1
      project: p
      environments: [dev]
      recipients:
          alice: 'age1qvpsxqcrqvpsxqcrqvpsxqcrqvpsxqcrqvpsxqcrqvpsxqcrqvpsewmjt2'   # laptop
          carol: age1qszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgz4v0d # desktop
      secrets: {}   # none yet
      """
    #expect(
      adding("alice", aliceKey, to: text) == """
        # Coffer manifest
        version: 1
        project: p
        environments: [dev]
        recipients:
            alice: \(aliceKey)   # laptop
            carol: age1qszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgz4v0d # desktop
        secrets: {}   # none yet
        """)
    #expect(
      adding("dave", bobKey, to: text) == """
        # Coffer manifest
        version: 1
        project: p
        environments: [dev]
        recipients:
            alice: 'age1qvpsxqcrqvpsxqcrqvpsxqcrqvpsxqcrqvpsxqcrqvpsxqcrqvpsewmjt2'   # laptop
            carol: age1qszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgz4v0d # desktop
            dave: \(bobKey)
        secrets: {}   # none yet
        """)
  }

  @Test func createsTheBlockAfterEnvironments() {
    let text = """
      version: 1   # schema
      project: p
      environments:
        - dev      # local
        - prod

      # Secrets below.
      secrets:
        A: {}

      """
    #expect(
      adding("alice", aliceKey, to: text) == """
        version: 1   # schema
        project: p
        environments:
          - dev      # local
          - prod
        recipients:
          alice: \(aliceKey)

        # Secrets below.
        secrets:
          A: {}

        """)
    #expect(
      adding("alice", aliceKey, to: "version: 1\nproject: p\nenvironments: [dev]")
        == "version: 1\nproject: p\nenvironments: [dev]\nrecipients:\n  alice: \(aliceKey)")
  }

  @Test func fillsEmptyRecipients() {
    #expect(
      adding("alice", aliceKey, to: "version: 1\nproject: p\nenvironments: [dev]\nrecipients: {}  # nobody yet\n")
        == "version: 1\nproject: p\nenvironments: [dev]\nrecipients:  # nobody yet\n  alice: \(aliceKey)\n")
    #expect(
      adding("alice", aliceKey, to: "version: 1\nproject: p\nenvironments: [dev]\nrecipients:\n# end\n")
        == "version: 1\nproject: p\nenvironments: [dev]\nrecipients:\n  alice: \(aliceKey)\n# end\n")
    #expect(
      adding("alice", aliceKey, to: "version: 1\nproject: p\nenvironments: [dev]\nrecipients: ~\n")
        == "version: 1\nproject: p\nenvironments: [dev]\nrecipients:\n  alice: \(aliceKey)\n")
    #expect(
      adding("bob", bobKey, to: "version: 1\nproject: p\nenvironments: [dev]\nrecipients: { alice: \(aliceKey) }\n")
        == "version: 1\nproject: p\nenvironments: [dev]\nrecipients:\n  alice: \(aliceKey)\n  bob: \(bobKey)\n")
  }

  @Test func keepsCRLFLineEndings() {
    let text = "version: 1\r\nproject: p\r\nenvironments: [dev]\r\nrecipients:\r\n  alice: \(aliceKey)\r\n"
    #expect(adding("bob", bobKey, to: text) == text + "  bob: \(bobKey)\r\n")
  }

  @Test func unchangedWhenAlreadyPresent() {
    #expect(adding("alice", aliceKey, to: exampleManifest) == exampleManifest)
  }

  @Test func rejectsBadInput() {
    #expect(
      adding("bob", aliceKey, to: exampleManifest)
        == "error: coffer.yaml: recipients.bob: the same recipient is already listed as alice")
    #expect(
      adding("bob", "AGE1XYZ", to: exampleManifest)
        == "error: coffer.yaml: recipients.bob: expected an age X25519 recipient: 'age1' and lowercase "
        + "bech32 with a valid checksum, as age-keygen prints it")
    #expect(
      adding("bob smith", bobKey, to: exampleManifest)
        == "error: coffer.yaml: recipients.bob smith: \"bob smith\" is not a valid recipient name; use letters, "
        + "digits, '.', '_', '@', '+' and '-', starting with a letter or digit")
    #expect(
      adding("bob", bobKey, to: "version: 1\nproject: p\nenvironments: [dev]\nfoo: 1\n")
        == "error: coffer.yaml:4:1: foo: unknown field; expected one of version, project, environments, recipients, "
        + "admins, groups, secrets, destinations, access, imports")
    #expect(
      adding("bob", bobKey, to: "{version: 1, project: p, environments: [dev]}")
        == "error: coffer.yaml: recipients.bob: cannot edit this layout of recipients safely; edit coffer.yaml by hand")
  }
}
