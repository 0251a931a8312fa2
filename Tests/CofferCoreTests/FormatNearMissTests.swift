import CofferCore
import Foundation
import Testing

/// One value that is almost, but not quite, of a format, with the exact verdict.
struct NearMiss: Sendable, CustomTestStringConvertible {
  let format: String
  let kind: String
  let value: String
  let verdict: FormatVerdict

  var testDescription: String { "\(format): \(kind)" }
}

private func example(_ id: String) -> String { FormatCatalog.format(id: id)?.example ?? "" }

/// `text` with the character at `offset` replaced.
private func replacing(_ text: String, at offset: Int, with character: Character) -> String {
  var characters = Array(text)
  characters[offset] = character
  return String(characters)
}

private func shape(_ id: String) -> FormatVerdict {
  .mismatch(.structure("does not have the shape " + (FormatCatalog.format(id: id)?.shape ?? "")))
}

private let b62 = "base62 (A-Z a-z 0-9)"
private let b64u = "base64url (A-Z a-z 0-9 _ -)"

/// Near misses for every format: wrong prefix, wrong length, wrong alphabet, broken structure, bad checksum, as the
/// format allows. The verdicts are written out by hand.
let nearMisses: [NearMiss] = {
  var cases: [NearMiss] = []
  func add(_ format: String, _ kind: String, _ value: String, _ verdict: FormatVerdict) {
    cases.append(NearMiss(format: format, kind: kind, value: value, verdict: verdict))
  }
  func standard(
    _ id: String, prefixAt: Int?, prefixes: [String], length: LengthRule, drop: Int = 1, alphabetAt: Int = 10,
    bad: Character = "!", alphabet: String
  ) {
    let value = example(id)
    if let prefixAt { add(id, "wrong prefix", replacing(value, at: prefixAt, with: "x"), .mismatch(.prefix(expected: prefixes))) }
    add(id, "wrong length", String(value.dropLast(drop)), .mismatch(.length(actual: value.count - drop, expected: length)))
    add(
      id, "wrong alphabet", replacing(value, at: alphabetAt, with: bad),
      .mismatch(.alphabet(position: alphabetAt + 1, alphabet: alphabet)))
  }

  // OpenAI and Anthropic: a fixed marker in the middle or at the end.
  standard("openai-api-key-legacy", prefixAt: 1, prefixes: ["sk-"], length: .exactly([51]), alphabet: b62)
  add("openai-api-key-legacy", "no marker", replacing(example("openai-api-key-legacy"), at: 23, with: "X"), shape("openai-api-key-legacy"))
  standard("openai-project-key", prefixAt: 5, prefixes: ["sk-proj-"], length: .exactly([132, 164]), alphabet: b64u)
  add("openai-project-key", "no marker", replacing(example("openai-project-key"), at: 82, with: "X"), shape("openai-project-key"))
  standard("openai-service-account-key", prefixAt: 4, prefixes: ["sk-svcacct-"], length: .exactly([135, 167]), alphabetAt: 20, alphabet: b64u)
  add("openai-service-account-key", "no marker", replacing(example("openai-service-account-key"), at: 85, with: "X"), shape("openai-service-account-key"))
  standard("openai-admin-key", prefixAt: 3, prefixes: ["sk-admin-"], length: .exactly([133]), alphabet: b64u)
  add("openai-admin-key", "no marker", replacing(example("openai-admin-key"), at: 67, with: "X"), shape("openai-admin-key"))
  standard("anthropic-api-key", prefixAt: 7, prefixes: ["sk-ant-api03-"], length: .exactly([108]), alphabetAt: 20, alphabet: b64u)
  add("anthropic-api-key", "no AA suffix", replacing(example("anthropic-api-key"), at: 107, with: "B"), shape("anthropic-api-key"))
  standard("anthropic-admin-key", prefixAt: 7, prefixes: ["sk-ant-admin01-"], length: .exactly([110]), alphabetAt: 20, alphabet: b64u)
  add("anthropic-admin-key", "no AA suffix", replacing(example("anthropic-admin-key"), at: 109, with: "B"), shape("anthropic-admin-key"))

  // Slack
  let slack = "base62 (A-Z a-z 0-9) and -"
  standard("slack-bot-token", prefixAt: 3, prefixes: ["xoxb-"], length: .range(min: 47, max: 73), drop: 10, alphabet: slack)
  add("slack-bot-token", "letter in a digit group", replacing(example("slack-bot-token"), at: 8, with: "A"), shape("slack-bot-token"))
  standard("slack-user-token", prefixAt: 3, prefixes: ["xoxp-"], length: .range(min: 66, max: 81), drop: 13, alphabet: slack)
  add("slack-user-token", "letter in a digit group", replacing(example("slack-user-token"), at: 8, with: "A"), shape("slack-user-token"))
  standard("slack-app-token", prefixAt: 1, prefixes: ["xapp-"], length: .range(min: 91, max: 101), drop: 10, alphabet: "A-Z a-z 0-9 and -")
  add("slack-app-token", "letter for the digit", replacing(example("slack-app-token"), at: 5, with: "A"), shape("slack-app-token"))
  standard(
    "slack-webhook-url", prefixAt: 8, prefixes: ["https://hooks.slack.com/services/"], length: .range(min: 76, max: 86),
    drop: 5, alphabetAt: 40, alphabet: "base62 (A-Z a-z 0-9) and /")
  add("slack-webhook-url", "no T team id", replacing(example("slack-webhook-url"), at: 33, with: "X"), shape("slack-webhook-url"))

  // GitHub and npm, with the CRC-32 checksum.
  for kind in ["ghp", "gho", "ghu", "ghs", "ghr"] {
    let id = "github-\(kind)"
    standard(id, prefixAt: 2, prefixes: ["\(kind)_"], length: .exactly([40]), bad: "-", alphabet: b62)
    add(id, "bad checksum", replacing(example(id), at: 39, with: "E"), .badChecksum)
    add(id, "typo in the random part", replacing(example(id), at: 10, with: "Q"), .badChecksum)
  }
  standard("github-fine-grained-pat", prefixAt: 0, prefixes: ["github_pat_"], length: .exactly([93]), alphabetAt: 15, bad: "-", alphabet: "A-Z a-z 0-9 _")
  add("github-fine-grained-pat", "no separator", replacing(example("github-fine-grained-pat"), at: 33, with: "A"), shape("github-fine-grained-pat"))
  standard("npm-access-token", prefixAt: 0, prefixes: ["npm_"], length: .exactly([40]), bad: "-", alphabet: b62)
  add("npm-access-token", "bad checksum", replacing(example("npm-access-token"), at: 39, with: "E"), .badChecksum)

  standard("pulumi-access-token", prefixAt: 0, prefixes: ["pul-"], length: .exactly([44]), bad: "G", alphabet: "lowercase hex (0-9 a-f)")
  standard("linear-api-key", prefixAt: 4, prefixes: ["lin_api_"], length: .exactly([48]), bad: "-", alphabet: b62)

  // HubSpot and other UUIDs
  let uuid = "hex (0-9 a-f A-F) and -"
  standard("hubspot-private-app-token", prefixAt: 5, prefixes: ["pat-na1-", "pat-eu1-"], length: .exactly([44]), bad: "g", alphabet: uuid)
  add("hubspot-private-app-token", "dash moved", replacing(example("hubspot-private-app-token"), at: 16, with: "a"), shape("hubspot-private-app-token"))
  for id in ["hubspot-legacy-api-key", "pinecone-api-key-legacy"] {
    standard(id, prefixAt: nil, prefixes: [], length: .exactly([36]), alphabetAt: 0, bad: "g", alphabet: uuid)
    add(id, "dash moved", replacing(example(id), at: 8, with: "a"), shape(id))
  }

  // Stripe
  for (id, prefixes) in [
    ("stripe-secret-key", ["sk_live_", "sk_test_"]), ("stripe-restricted-key", ["rk_live_", "rk_test_"]),
    ("stripe-publishable-key", ["pk_live_", "pk_test_"]),
  ] {
    standard(id, prefixAt: 3, prefixes: prefixes, length: .range(min: 32, max: 255), drop: 76, bad: "-", alphabet: b62)
  }
  standard("stripe-webhook-secret", prefixAt: 0, prefixes: ["whsec_"], length: .range(min: 30, max: 106), drop: 9, bad: "-", alphabet: b62)

  // AWS
  standard(
    "aws-access-key-id", prefixAt: 1, prefixes: ["AKIA", "ASIA", "ABIA", "ACCA", "A3T"], length: .exactly([20]), bad: "a",
    alphabet: "uppercase letters and digits (A-Z 0-9)")
  add("aws-access-key-id", "digit outside base32", replacing(example("aws-access-key-id"), at: 10, with: "0"), shape("aws-access-key-id"))
  standard("aws-secret-access-key", prefixAt: nil, prefixes: [], length: .exactly([40]), alphabetAt: 4, bad: "-", alphabet: "base64 (A-Z a-z 0-9 + /)")
  for (id, extra) in [("aws-secret-access-key", "A"), ("twilio-api-secret", "A"), ("twilio-auth-token", "a"), ("vercel-legacy-token", "A")] {
    let value = example(id) + extra
    add(id, "too long", value, .mismatch(.length(actual: value.count, expected: .exactly([value.count - 1]))))
  }

  // Google Cloud
  let serviceAccount = example("gcp-service-account-json")
  add("gcp-service-account-json", "wrong length", "{}", .mismatch(.length(actual: 2, expected: .atLeast(40))))
  add("gcp-service-account-json", "truncated JSON", String(serviceAccount.dropLast()), .mismatch(.structure("is not a JSON object")))
  add(
    "gcp-service-account-json", "wrong type",
    serviceAccount.replacingOccurrences(of: "service_account", with: "authorized_user"),
    .mismatch(.structure("its type is not service_account")))
  add(
    "gcp-service-account-json", "no private key",
    serviceAccount.replacingOccurrences(of: "\"private_key\"", with: "\"public_key\""),
    .mismatch(.structure("has no PEM private_key")))
  standard("gcp-api-key", prefixAt: 3, prefixes: ["AIza"], length: .exactly([39]), alphabet: b64u)

  // Azure
  standard("azure-ad-client-secret", prefixAt: nil, prefixes: [], length: .range(min: 37, max: 40), drop: 4, alphabet: "A-Z a-z 0-9 _ ~ . -")
  add("azure-ad-client-secret", "no Q~ anchor", replacing(example("azure-ad-client-secret"), at: 4, with: "R"), shape("azure-ad-client-secret"))
  standard("azure-storage-account-key", prefixAt: nil, prefixes: [], length: .exactly([88]), bad: "-", alphabet: "base64 (A-Z a-z 0-9 + / =)")
  add(
    "azure-storage-account-key", "no padding", String(example("azure-storage-account-key").dropLast(2)) + "AA",
    shape("azure-storage-account-key"))
  let connection = example("azure-storage-connection-string")
  add(
    "azure-storage-connection-string", "wrong prefix", replacing(connection, at: 0, with: "d"),
    .mismatch(.prefix(expected: ["DefaultEndpointsProtocol="])))
  add(
    "azure-storage-connection-string", "wrong length", String(connection.prefix(100)),
    .mismatch(.length(actual: 100, expected: .atLeast(140))))
  add(
    "azure-storage-connection-string", "wrong alphabet", replacing(connection, at: 30, with: " "),
    .mismatch(.alphabet(position: 31, alphabet: "visible ASCII")))
  add(
    "azure-storage-connection-string", "no account key",
    connection.replacingOccurrences(of: "AccountKey=", with: "AccountKez="), .mismatch(.structure("has no AccountKey")))
  add(
    "azure-storage-connection-string", "short account key",
    connection.replacingOccurrences(of: "==;", with: ";") + "xx",
    .mismatch(.structure("its AccountKey is not 88 base64 characters ending in ==")))

  // Twilio, SendGrid, Mailgun
  standard("twilio-account-sid", prefixAt: 1, prefixes: ["AC"], length: .exactly([34]), bad: "G", alphabet: "lowercase hex (0-9 a-f)")
  standard("twilio-api-key", prefixAt: 1, prefixes: ["SK"], length: .exactly([34]), bad: "G", alphabet: "lowercase hex (0-9 a-f)")
  standard("twilio-api-secret", prefixAt: nil, prefixes: [], length: .exactly([32]), bad: "-", alphabet: b62)
  standard("twilio-auth-token", prefixAt: nil, prefixes: [], length: .exactly([32]), bad: "g", alphabet: "lowercase hex (0-9 a-f)")
  standard("sendgrid-api-key", prefixAt: 2, prefixes: ["SG."], length: .exactly([69]), alphabet: "base64url (A-Z a-z 0-9 _ -) and .")
  add("sendgrid-api-key", "no separator", replacing(example("sendgrid-api-key"), at: 25, with: "A"), shape("sendgrid-api-key"))
  standard("mailgun-legacy-api-key", prefixAt: 0, prefixes: ["key-"], length: .exactly([36]), bad: "g", alphabet: "lowercase hex (0-9 a-f)")
  standard("mailgun-private-api-key", prefixAt: nil, prefixes: [], length: .exactly([50]), bad: "g", alphabet: "lowercase hex (0-9 a-f) and -")
  add("mailgun-private-api-key", "dash moved", replacing(example("mailgun-private-api-key"), at: 32, with: "a"), shape("mailgun-private-api-key"))
  standard("mailgun-public-key", prefixAt: 0, prefixes: ["pubkey-"], length: .exactly([39]), bad: "g", alphabet: "lowercase hex (0-9 a-f)")

  // PyPI, Vercel, Pinecone, Snowflake
  standard("pypi-upload-token", prefixAt: 6, prefixes: ["pypi-AgEIcHlwaS5vcmc"], length: .range(min: 70, max: 1020), drop: 108, alphabetAt: 30, alphabet: b64u)
  standard("testpypi-upload-token", prefixAt: 8, prefixes: ["pypi-AgENdGVzdC5weXBpLm9yZw"], length: .range(min: 77, max: 1027), drop: 108, alphabetAt: 30, alphabet: b64u)
  standard("vercel-access-token", prefixAt: 2, prefixes: ["vcp_", "vci_", "vca_", "vcr_", "vck_"], length: .range(min: 28, max: 255), drop: 9, bad: "-", alphabet: b62)
  standard("vercel-legacy-token", prefixAt: nil, prefixes: [], length: .exactly([24]), bad: "-", alphabet: b62)
  standard("pinecone-api-key", prefixAt: 1, prefixes: ["pcsk_"], length: .exactly([74, 75]), drop: 2, bad: "-", alphabet: "A-Z a-z 0-9 _")
  add("pinecone-api-key", "no separator", replacing(example("pinecone-api-key"), at: 11, with: "A"), shape("pinecone-api-key"))
  add("snowflake-account-identifier", "wrong length", "a", .mismatch(.length(actual: 1, expected: .range(min: 2, max: 63))))
  add(
    "snowflake-account-identifier", "wrong alphabet", replacing(example("snowflake-account-identifier"), at: 3, with: "!"),
    .mismatch(.alphabet(position: 4, alphabet: "A-Z a-z 0-9 _ - .")))
  add(
    "snowflake-account-identifier", "starts with a digit", replacing(example("snowflake-account-identifier"), at: 0, with: "1"),
    shape("snowflake-account-identifier"))

  // JWT
  let jwt = example("jwt")
  standard("jwt", prefixAt: 2, prefixes: ["eyJ"], length: .atLeast(36), drop: 65, alphabet: "base64url (A-Z a-z 0-9 _ -) and .")
  add("jwt", "two parts", String(jwt.prefix { $0 != "." }) + ".eyJzdWIiOiJGQUtFIn0",
    .mismatch(.structure("has 2 dot-separated parts, needs 3 (header.payload.signature)")))
  add("jwt", "payload not JSON", jwt.replacingOccurrences(of: ".eyJzdWIiOiJGQUtFIn0.", with: ".eyJzdWIiOiJGQUtF.") ,
    .mismatch(.structure("its payload is not base64url-encoded JSON")))
  add("jwt", "header without alg", "eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiJGQUtFIn0.FAKEfakeFAKEfake",
    .mismatch(.structure("its header has no alg")))
  add("jwt", "no signature", String(jwt.prefix(57)), .mismatch(.structure("has no signature")))

  // PEM
  let pem = example("pem-private-key")
  add("pem-private-key", "wrong prefix", replacing(pem, at: 0, with: "x"), .mismatch(.prefix(expected: ["-----BEGIN "])))
  add("pem-private-key", "wrong length", "-----BEGIN PRIVATE KEY-----", .mismatch(.length(actual: 27, expected: .atLeast(50))))
  add(
    "pem-private-key", "public key", pem.replacingOccurrences(of: "PRIVATE", with: "PUBLIC"),
    .mismatch(.structure("does not begin with a -----BEGIN … PRIVATE KEY----- line of a known kind")))
  add(
    "pem-private-key", "mismatched END", pem.replacingOccurrences(of: "END PRIVATE", with: "END RSA PRIVATE"),
    .mismatch(.structure("does not end with the -----END line matching its BEGIN line")))
  add(
    "pem-private-key", "body not base64", pem.replacingOccurrences(of: "FAKEFAKEFAKE", with: "FAKE FAKE!!!"),
    .mismatch(.structure("line 2 is not base64")))

  // Database URLs
  for (id, prefixes) in [
    ("postgres-url", ["postgres://", "postgresql://"]), ("mysql-url", ["mysql://"]),
    ("mongodb-url", ["mongodb://", "mongodb+srv://"]), ("redis-url", ["redis://", "rediss://"]),
    ("amqp-url", ["amqp://", "amqps://"]),
  ] {
    let url = example(id)
    let scheme = String(url.prefix { $0 != ":" }) + "://"
    add(id, "wrong prefix", replacing(url, at: 1, with: "x"), .mismatch(.prefix(expected: prefixes)))
    let shortest = prefixes.min { $0.count < $1.count } ?? ""
    add(id, "wrong length", shortest, .mismatch(.length(actual: shortest.count, expected: .atLeast(shortest.count + 1))))
    add(id, "space", replacing(url, at: 20, with: " "), .mismatch(.alphabet(position: 21, alphabet: "visible ASCII")))
    add(id, "empty password", scheme + "fake_user:@db.invalid/fake", .mismatch(.structure("has an empty password")))
    add(id, "no host", scheme + "fake_user:FAKEfake@/fake", .mismatch(.structure("has no host")))
  }
  return cases
}()

@Suite struct FormatNearMissTests {
  @Test(arguments: nearMisses)
  func nearMissHasTheExactVerdict(_ nearMiss: NearMiss) throws {
    let format = try #require(FormatCatalog.format(id: nearMiss.format))
    #expect(format.verdict(for: SecretValue(nearMiss.value)) == nearMiss.verdict)
  }

  /// Every format has a wrong-length and a wrong-alphabet (or broken-structure) near miss, a wrong-prefix one when
  /// it has a prefix, and a bad-checksum one when it has a checksum.
  @Test(arguments: FormatCatalog.formats)
  func everyFormatHasNearMisses(_ format: SecretFormat) {
    let verdicts = nearMisses.filter { $0.format == format.id }.map(\.verdict)
    #expect(verdicts.count >= 3, "\(format.id)")
    #expect(verdicts.contains { if case .mismatch(.length) = $0 { true } else { false } }, "\(format.id) length")
    #expect(
      verdicts.contains {
        switch $0 {
        case .mismatch(.alphabet), .mismatch(.structure): true
        default: false
        }
      }, "\(format.id) alphabet")
    if !format.prefixes.isEmpty {
      #expect(verdicts.contains { if case .mismatch(.prefix) = $0 { true } else { false } }, "\(format.id) prefix")
    }
    if format.checksum != nil { #expect(verdicts.contains(.badChecksum), "\(format.id) checksum") }
  }

  @Test func mismatchDescriptionsAreExact() {
    #expect(FormatMismatch.prefix(expected: ["xoxb-"]).description == "does not start with xoxb-")
    #expect(FormatMismatch.prefix(expected: ["sk_live_", "sk_test_"]).description == "does not start with sk_live_ or sk_test_")
    #expect(
      FormatMismatch.prefix(expected: ["a", "b", "c"]).description == "does not start with a, b or c")
    #expect(FormatMismatch.length(actual: 50, expected: .exactly([51])).description == "is 50 characters, needs 51")
    #expect(
      FormatMismatch.length(actual: 1, expected: .exactly([132, 164])).description == "is 1 character, needs 132 or 164")
    #expect(FormatMismatch.length(actual: 46, expected: .range(min: 47, max: 72)).description == "is 46 characters, needs 47 to 72")
    #expect(FormatMismatch.length(actual: 2, expected: .atLeast(40)).description == "is 2 characters, needs at least 40")
    #expect(
      FormatMismatch.alphabet(position: 11, alphabet: b62).description
        == "has a character outside base62 (A-Z a-z 0-9) at position 11")
  }

  /// Positions count characters, not bytes.
  @Test func alphabetPositionsCountCharacters() throws {
    let format = try #require(FormatCatalog.format(id: "linear-api-key"))
    let value = "lin_api_FAKEé" + String(repeating: "a", count: 34)
    #expect(format.verdict(for: SecretValue(value)) == .mismatch(.alphabet(position: 13, alphabet: b62)))
    let later = "lin_api_é" + String(repeating: "a", count: 30) + "!" + "aaaaaaaa"
    #expect(format.verdict(for: SecretValue(later)) == .mismatch(.alphabet(position: 9, alphabet: b62)))
  }

  /// Long and hostile inputs are rejected in linear time (no backtracking): 200 KB of almost-matching text.
  @Test func hostileInputIsCheckedLinearly() {
    let hostile = SecretValue("xoxb-" + String(repeating: "1", count: 200_000))
    for format in FormatCatalog.formats { _ = format.verdict(for: hostile) }
    let jwtLike = SecretValue("eyJ" + String(repeating: ".", count: 100_000))
    #expect(FormatCatalog.format(id: "jwt")?.verdict(for: jwtLike) != .match)
    let deepJSON = SecretValue(String(repeating: "[", count: 10_000))
    #expect(FormatCatalog.format(id: "gcp-service-account-json")?.verdict(for: deepJSON) == .mismatch(.structure("is not a JSON object")))
  }
}

/// libpq reads an empty host as the local socket; other schemes still need one.
@Suite struct DatabaseURLSocketTests {
  @Test func postgresWithoutHostIsTheLocalSocket() throws {
    let postgres = try #require(FormatCatalog.format(id: "postgres-url"))
    #expect(postgres.verdict(for: SecretValue("postgres:///app?host=/var/run/postgresql")) == .match)
    #expect(postgres.verdict(for: SecretValue("postgresql:///app")) == .match)
    let mysql = try #require(FormatCatalog.format(id: "mysql-url"))
    #expect(mysql.verdict(for: SecretValue("mysql:///app")) == .mismatch(.structure("has no host")))
  }

  /// SQLAlchemy-style `scheme+driver://` URLs are the scheme's format; the driver must be a name.
  @Test func schemesMayCarryADriver() throws {
    let postgres = try #require(FormatCatalog.format(id: "postgres-url"))
    #expect(postgres.verdict(for: SecretValue("postgresql+asyncpg://fake_user:FAKEfake@db.invalid/app")) == .match)
    #expect(postgres.verdict(for: SecretValue("postgres+psycopg2://fake_user:FAKEfake@db.invalid/app")) == .match)
    #expect(postgres.verdict(for: SecretValue("postgresql+://fake_user:FAKEfake@db.invalid/app"))
      == .mismatch(.prefix(expected: ["postgres://", "postgresql://"])))
    #expect(postgres.verdict(for: SecretValue("postgresql+a/b://fake_user:FAKEfake@db.invalid/app"))
      == .mismatch(.prefix(expected: ["postgres://", "postgresql://"])))
    #expect(postgres.verdict(for: SecretValue("postgresql+asyncpg://fake_user:@db.invalid/app"))
      == .mismatch(.structure("has an empty password")))
    let mysql = try #require(FormatCatalog.format(id: "mysql-url"))
    #expect(mysql.verdict(for: SecretValue("mysql+pymysql://fake_user:FAKEfake@db.invalid/app")) == .match)
    let redis = try #require(FormatCatalog.format(id: "redis-url"))
    #expect(redis.verdict(for: SecretValue("redis+sentinel://:FAKEfake@cache.invalid:26379/0")) == .match)
  }
}
