import CofferCore
import Testing

/// `format:` in coffer.yaml names a catalog format or family, or `none`; anything else is an error at its position.
@Suite struct ManifestFormatTests {
  @Test func unknownFormatIsAnErrorAtItsPosition() {
    do {
      _ = try decode(withHeader("secrets:\n  SLACK_BOT_TOKEN:\n    format: slak-bot-token\n"))
      Issue.record("expected an error")
    } catch {
      #expect(
        error.description == "coffer.yaml:6:13: secrets.SLACK_BOT_TOKEN.format: unknown format \"slak-bot-token\"")
      #expect(error.hints == ["did you mean 'slack-bot-token'?"])
    }
    do {
      _ = try decode(withHeader("secrets:\n  A: { format: \"quantum-key\" }\n"))
      Issue.record("expected an error")
    } catch {
      #expect(error.description == "coffer.yaml:5:16: secrets.A.format: unknown format \"quantum-key\"")
      #expect(error.hints == ["the formats are listed in docs/formats.md; 'none' turns format checks off"])
    }
  }

  @Test func formatsFamiliesAndNoneAreAccepted() throws {
    let manifest = try decode(
      withHeader(
        "secrets:\n  A: { format: slack-bot-token }\n  B: { format: openai-api-key }\n  C: { format: none }\n  D: {}\n"))
    #expect(manifest.secrets.map(\.format) == ["slack-bot-token", "openai-api-key", "none", nil])
  }
}
