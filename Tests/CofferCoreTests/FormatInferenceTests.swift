import CofferCore
import Foundation
import Testing

/// Which format a variable name implies, and how the shared catalog's names map onto Coffer's catalog.
@Suite struct FormatInferenceTests {
  static let cases: [(String, String?)] = [
    ("OPENAI_API_KEY", "openai-api-key"), ("openai_api_key", "openai-api-key"), ("OPENAI_ADMIN_KEY", "openai-admin-key"),
    ("ANTHROPIC_API_KEY", "anthropic-api-key"), ("SLACK_BOT_TOKEN", "slack-bot-token"), ("SLACK_TOKEN", "slack-bot-token"),
    ("SLACK_USER_TOKEN", "slack-user-token"), ("SLACK_APP_TOKEN", "slack-app-token"),
    ("SLACK_WEBHOOK_URL", "slack-webhook-url"), ("GITHUB_TOKEN", "github-token"), ("GH_TOKEN", "github-token"),
    ("GITHUB_PAT", "github-pat"), ("PULUMI_ACCESS_TOKEN", "pulumi-access-token"), ("LINEAR_API_KEY", "linear-api-key"),
    ("HUBSPOT_ACCESS_TOKEN", "hubspot-private-app-token"), ("HUBSPOT_API_KEY", "hubspot-legacy-api-key"),
    ("STRIPE_SECRET_KEY", "stripe-api-key"), ("STRIPE_WEBHOOK_SECRET", "stripe-webhook-secret"),
    ("AWS_ACCESS_KEY_ID", "aws-access-key-id"), ("AWS_SECRET_ACCESS_KEY", "aws-secret-access-key"),
    ("GOOGLE_API_KEY", "gcp-api-key"), ("GCP_SA_KEY", "gcp-service-account-json"),
    ("AZURE_CLIENT_SECRET", "azure-ad-client-secret"), ("AZURE_STORAGE_CONNECTION_STRING", "azure-storage-connection-string"),
    ("TWILIO_ACCOUNT_SID", "twilio-account-sid"), ("TWILIO_API_SECRET", "twilio-api-secret"),
    ("SENDGRID_API_KEY", "sendgrid-api-key"), ("MAILGUN_API_KEY", "mailgun-api-key"), ("NPM_TOKEN", "npm-access-token"),
    ("NODE_AUTH_TOKEN", "npm-access-token"), ("TWINE_PASSWORD", "pypi-token"), ("VERCEL_TOKEN", "vercel-token"),
    ("PINECONE_API_KEY", "pinecone-key"), ("SNOWFLAKE_ACCOUNT", "snowflake-account-identifier"), ("JWT", "jwt"),
    ("PRIVATE_KEY", "pem-private-key"), ("SSH_PRIVATE_KEY", "pem-private-key"), ("JWT_PRIVATE_KEY", "pem-private-key"),
    ("DATABASE_URL", "db-connection-url"), ("POSTGRES_URL", "postgres-url"), ("REDIS_URL", "redis-url"),
    ("MONGODB_URI", "mongodb-url"),
    // Names that imply nothing: settings, passwords, paths, generated secrets, generic tokens.
    ("JWT_SECRET", nil), ("LOG_LEVEL", nil), ("GONG_ACCESS_KEY", nil), ("SNOWFLAKE_PASSWORD", nil),
    ("SNOWFLAKE_USER", nil), ("GOOGLE_APPLICATION_CREDENTIALS", nil), ("PGPASSWORD", nil), ("ACCESS_TOKEN", nil),
    ("AUTH_TOKEN", nil), ("_PRIVATE_KEY", nil), ("OPENAI_API_KEY_OLD", nil), ("SNOWFLAKE_PRIVATE_KEY_PATH", nil),
    // The `*_PRIVATE_KEY` suffix in any case, after one character or more (a name from a library caller may hold
    // letters outside ASCII, uppercased by Unicode's rules), and not as a whole name or a name ending in part of it.
    ("x_private_key", "pem-private-key"), ("Db_Private_Key", "pem-private-key"), ("ä_private_key", "pem-private-key"),
    ("_private_key", nil), ("PRIVATE_KEY_", nil), ("APRIVATE_KEY", nil), ("_RIVATE_KEY", nil),
    // Outside ASCII, `Character`s decide: U+212A KELVIN SIGN is canonically `K`; U+0600 joins the `_` after it into
    // one character, so the name does not end in `_PRIVATE_KEY`.
    ("x_private_\u{212A}ey", "pem-private-key"), ("\u{0600}_PRIVATE_KEY", nil),
  ]

  @Test(arguments: cases)
  func nameImpliesFormat(_ name: String, _ expected: String?) {
    #expect(FormatCatalog.inferredExpectation(forName: name)?.id == expected)
  }

  @Test func openAIKeyKindsAreOneFamily() {
    let family = FormatCatalog.inferredExpectation(forName: "OPENAI_API_KEY")
    #expect(family?.formats.map(\.id) == ["openai-api-key-legacy", "openai-project-key", "openai-service-account-key"])
    #expect(family?.title == "OpenAI API key")
    #expect(family?.label == "sk-")
    #expect(FormatCatalog.expectation(named: "pinecone-key")?.label == "pcsk_, UUID")
    #expect(FormatCatalog.expectation(named: "slack-bot-token")?.label == "xoxb-")
  }

  @Test func namesAreFormatsFamiliesAndNone() {
    #expect(FormatCatalog.expectation(named: "none") == nil)
    #expect(FormatCatalog.names.contains("none"))
    #expect(FormatCatalog.format(id: "openai-api-key") == nil)  // a family, not a format
    #expect(FormatCatalog.format(id: "slack-bot-token")?.provider == "Slack")
    #expect(FormatCatalog.expectation(named: "Slack-Bot-Token") == nil)
  }

  /// Every id in the shared catalog is a `format:` name here (a format, or a family when Coffer splits it), and
  /// every usual name it lists implies a format of that entry, except the names listed (with the reason) in
  /// docs/formats.md.
  @Test func sharedCatalogIDsAndNamesAreCovered() throws {
    let data = try Data(contentsOf: FormatCatalogTests.sharedCatalog)
    let entries = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
    #expect(entries.count == 40)
    let notInferred: [String: String] = [
      "GOOGLE_APPLICATION_CREDENTIALS": "a path to the key file, not the key",
      "SNOWFLAKE_USER": "a user name", "SNOWFLAKE_PASSWORD": "a password", "SNOWFLAKE_PRIVATE_KEY_PATH": "a path",
      "PGPASSWORD": "a password, not a URL", "ACCESS_TOKEN": "too generic", "AUTH_TOKEN": "too generic",
      "TWILIO_API_SECRET": "the key's secret, its own format twilio-api-secret",
      "AZURE_STORAGE_CONNECTION_STRING": "its own format azure-storage-connection-string",
    ]
    for entry in entries {
      let id = try #require(entry["id"] as? String)
      let expectation = try #require(FormatCatalog.expectation(named: id), "\(id)")
      for raw in entry["env_names"] as? [String] ?? [] {
        let name = String(raw.prefix { $0 != " " })
        if notInferred[name] != nil || name.hasPrefix("*") { continue }
        let inferred = try #require(FormatCatalog.inferredExpectation(forName: name), "\(name)")
        #expect(!Set(inferred.formats).isDisjoint(with: expectation.formats), "\(name) for \(id)")
      }
    }
  }

  /// docs/formats.md lists every format and family by id, with its sources.
  @Test func docsListEveryFormat() throws {
    let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("docs/formats.md")
    let text = try String(contentsOf: docs, encoding: .utf8)
    for format in FormatCatalog.formats {
      #expect(text.contains(Self.documentation(of: format)), "\(format.id)")
    }
    for family in FormatCatalog.families {
      #expect(text.contains("| `\(family.id)` | \(family.title) | " + family.formats.map { "`\($0.id)`" }.joined(separator: ", ")))
    }
  }

  /// The section docs/formats.md has for a format, generated from the catalog so the two cannot drift.
  static func documentation(of format: SecretFormat) -> String {
    var out = "#### `\(format.id)`: \(format.title)\n\n"
    out += "- Shape: \(format.shape.replacingOccurrences(of: "|", with: "\\|")); length \(format.lengths.description) characters.\n"
    if !format.prefixes.isEmpty { out += "- Prefix: " + format.prefixes.map { "`\($0)`" }.joined(separator: ", ") + "\n" }
    out += "- Checksum: " + (format.checksum.map(\.rawValue) ?? "none") + "\n"
    out += "- Usual names: " + format.usualNames.map { "`\($0)`" }.joined(separator: ", ") + "\n"
    out += "- Example (fake): `\(format.example)`\n"
    var notes: [String] = []
    if !format.isSecret { notes.append("not a secret (an identifier or a publishable key)") }
    if !format.identifiesItself { notes.append("too generic to name itself where another format is expected") }
    if !notes.isEmpty { out += "- Note: " + notes.joined(separator: "; ") + "\n" }
    out += "- Sources: " + format.sources.joined(separator: "; ") + "\n"
    return out
  }

  /// Prints the format sections of docs/formats.md when COFFER_PRINT_FORMAT_DOCS is set (to regenerate them).
  @Test func printDocumentationWhenAsked() {
    guard ProcessInfo.processInfo.environment["COFFER_PRINT_FORMAT_DOCS"] != nil else { return }
    var provider = ""
    var out = ""
    for format in FormatCatalog.formats {
      if format.provider != provider {
        provider = format.provider
        out += "\n### \(provider)\n\n"
      }
      out += Self.documentation(of: format) + "\n"
    }
    print("FORMAT-DOCS-BEGIN\n" + out + "FORMAT-DOCS-END")
  }
}
