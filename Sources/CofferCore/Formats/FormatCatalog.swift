/// The built-in catalog of provider credential formats, their families, and which variable names imply which.
///
/// The facts (prefix, length, alphabet, markers, checksums, usual names) come from the shared corpus
/// `corpora/formats/catalog.json`, which cites gitleaks, trufflehog, detect-secrets and the providers' own pages for
/// each; the few formats Coffer adds or splits cite the catalog note they come from. docs/formats.md lists every
/// format with its source. Pure data: safe to use from any thread.
public enum FormatCatalog {
  /// Every format, in the order docs/formats.md lists them.
  public static let formats: [SecretFormat] = FormatCatalog.makeFormats()

  /// Named groups of formats that a manifest may name as one `format:` (and that names imply), such as
  /// `openai-api-key` for every kind of OpenAI API key.
  public static let families: [FormatExpectation] = [
    family(
      "openai-api-key", "OpenAI API key", ["openai-api-key-legacy", "openai-project-key", "openai-service-account-key"]),
    family(
      "github-token", "GitHub token",
      ["github-ghp", "github-gho", "github-ghu", "github-ghs", "github-ghr", "github-fine-grained-pat"]),
    family("github-pat", "GitHub personal access token", ["github-ghp", "github-fine-grained-pat"]),
    family("stripe-api-key", "Stripe API key", ["stripe-secret-key", "stripe-restricted-key"]),
    family("mailgun-api-key", "Mailgun API key", ["mailgun-legacy-api-key", "mailgun-private-api-key"]),
    family("pypi-token", "PyPI upload token", ["pypi-upload-token", "testpypi-upload-token"]),
    family("vercel-token", "Vercel token", ["vercel-access-token", "vercel-legacy-token"]),
    family("pinecone-key", "Pinecone API key", ["pinecone-api-key", "pinecone-api-key-legacy"]),
    family("db-connection-url", "database URL", ["postgres-url", "mysql-url", "mongodb-url", "redis-url", "amqp-url"]),
  ]

  /// The `format:` value that turns off format inference for a secret.
  public static let noFormat = "none"

  private static let byID: [String: FormatExpectation] = {
    var table: [String: FormatExpectation] = [:]
    for format in formats { table[format.id] = FormatExpectation(format) }
    for family in families { table[family.id] = family }
    return table
  }()

  /// Every name a manifest's `format:` accepts: format ids, family ids, and ``noFormat``.
  public static var names: [String] { formats.map(\.id) + families.map(\.id) + [noFormat] }

  /// The format with this id.
  /// - Parameter id: a format id such as `slack-bot-token`.
  /// - Returns: the format, or `nil` for a family id or an unknown name.
  public static func format(id: String) -> SecretFormat? {
    guard let expectation = byID[id], expectation.formats.count == 1, expectation.formats[0].id == id else {
      return nil
    }
    return expectation.formats[0]
  }

  /// The expectation a manifest's `format:` names.
  /// - Parameter name: a format or family id (case-sensitive).
  /// - Returns: the expectation, or `nil` for ``noFormat`` and for unknown names.
  public static func expectation(named name: String) -> FormatExpectation? { byID[name] }

  /// What a secret is expected to hold: the format its manifest entry names, else the one its name implies.
  /// - Parameters:
  ///   - name: the secret's name.
  ///   - format: its manifest `format:`, if any; ``noFormat`` turns expectations off.
  /// - Returns: the expectation and whether it was assumed from the name; `nil` when there is none, or when
  ///   `format` is not a catalog name (the manifest decoder rejects those).
  public static func expectation(
    forSecret name: String, format: String?
  ) -> (expectation: FormatExpectation, assumed: Bool)? {
    if let format {
      return expectation(named: format).map { ($0, false) }
    }
    return inferredExpectation(forName: name).map { ($0, true) }
  }

  /// The expectation implied by a variable name: the formats whose usual names include it (case-insensitive), as
  /// their family when there are several; else `*_PRIVATE_KEY` implies a PEM private key.
  /// - Parameter name: a variable name such as `OPENAI_API_KEY`.
  /// - Returns: the expectation, or `nil` when the name implies none.
  public static func inferredExpectation(forName name: String) -> FormatExpectation? {
    let upper = name.uppercased()
    if let id = inference.exact[upper] { return byID[id] }
    // An ASCII name (every valid secret name) is compared by UTF-8 bytes: `String.hasSuffix` and `count` walk
    // grapheme clusters, 3.9 % of `check`'s profile at 1,000 secrets against 1.2 % (docs/performance.md, "Issue 16,
    // eighth pass"). Any other name keeps `Character` comparison, which differs from bytes for a letter canonically
    // equivalent to an ASCII one (U+212A KELVIN SIGN is `K`) and for a prefix character that joins the next (U+0600).
    let bytes = upper.utf8
    let ascii = bytes.allSatisfy { $0 < 0x80 }
    for (suffix, id) in inference.suffixes {
      let matches =
        ascii
        ? bytes.count > suffix.utf8.count && bytes.suffix(suffix.utf8.count).elementsEqual(suffix.utf8)
        : upper.hasSuffix(suffix) && upper.count > suffix.count
      if matches { return byID[id] }
    }
    return nil
  }

  /// The name table behind ``inferredExpectation(forName:)``: exact names, and `*SUFFIX` patterns from usual names
  /// that start with `*`.
  static let inference: (exact: [String: String], suffixes: [(String, String)]) = {
    var sets: [String: [String]] = [:]
    var order: [String] = []
    for format in formats {
      for name in format.usualNames {
        if sets[name] == nil { order.append(name) }
        sets[name, default: []].append(format.id)
      }
    }
    var exact: [String: String] = [:]
    var suffixes: [(String, String)] = []
    for name in order {
      let ids = sets[name] ?? []
      let id: String
      if ids.count == 1 {
        id = ids[0]
      } else if let family = families.first(where: { $0.formats.map(\.id) == ids }) {
        id = family.id
      } else {
        preconditionFailure("catalog: \(name) names formats \(ids) that no family groups")
      }
      if name.hasPrefix("*") {
        precondition(name.utf8.allSatisfy { $0 < 0x80 }, "catalog: the suffix \(name) is not ASCII")  // compared by bytes
        suffixes.append((String(name.dropFirst()), id))
      } else {
        exact[name] = id
      }
    }
    return (exact, suffixes)
  }()

  /// The first catalog format outside `excluded` that the value is (ignoring a failed checksum), else the first
  /// whose distinctive prefix (4 characters or more) the value starts with.
  /// - Parameters:
  ///   - bytes: the value.
  ///   - excluded: format ids not to consider.
  /// - Returns: the format and whether it matched fully, or `nil`.
  static func identify(_ bytes: [UInt8], excluding excluded: Set<String>) -> (SecretFormat, exact: Bool)? {
    let candidates = identifying.lazy.filter { !excluded.contains($0.id) }
    for format in candidates {
      switch format.verdict(for: bytes) {
      case .match, .badChecksum: return (format, true)
      case .mismatch: continue
      }
    }
    for format in candidates where format.prefixIdentifies {
      if let length = format.matchedPrefix(bytes), length >= 4 { return (format, false) }
    }
    return nil
  }

  /// The formats that may name themselves where another was expected.
  private static let identifying = formats.filter(\.identifiesItself)

  private static func family(_ id: String, _ title: String, _ members: [String]) -> FormatExpectation {
    FormatExpectation(id: id, title: title, formats: members.map { member in
      guard let format = formats.first(where: { $0.id == member }) else {
        preconditionFailure("catalog: family \(id) names unknown format \(member)")
      }
      return format
    })
  }
}

// MARK: - The formats

extension FormatCatalog {
  private static let gitleaks = "gitleaks/gitleaks@b58d3f1 config/gitleaks.toml"
  private static let trufflehog = "trufflesecurity/trufflehog@3ab759f pkg/detectors"
  private static let detectSecrets = "Yelp/detect-secrets@5e14193 detect_secrets/plugins"
  private static let githubBlog =
    "github.blog 2021-04-05 'Behind GitHub's new authentication token formats'; gist coolaj86/eb8cddfd (base62 CRC32 breakdown)"
  private static let checksumAlphabet =
    "therootcompany/base62-token.js@17dfd07 test.js (20 real, revoked ghp_ tokens: settle the base62 order 0-9A-Za-z)"

  private static let b62 = ByteClass.base62
  private static let b64u = ByteClass.base64url

  // swift-format-ignore
  private static func makeFormats() -> [SecretFormat] {
    var list: [SecretFormat] = []
    let openAIMarker = ShapeSegment.text("T3BlbkFJ")
    list.append(SecretFormat(
      id: "openai-api-key-legacy", provider: "OpenAI", title: "legacy OpenAI API key",
      shape: "sk- + 20 base62 + T3BlbkFJ + 20 base62", prefixes: ["sk-"], lengths: .exactly([51]), alphabet: b62,
      structure: [Shape([.exactly(20, b62), openAIMarker, .exactly(20, b62)])],
      usualNames: ["OPENAI_API_KEY"],
      sources: ["\(gitleaks) rule openai-api-key", "\(trufflehog)/openai", "\(detectSecrets)/openai.py"],
      example: "sk-FAKEFAKEFAKEFAKEFAKET3BlbkFJfakefakefakefakefake", prefixIdentifies: false))
    list.append(SecretFormat(
      id: "openai-project-key", provider: "OpenAI", title: "OpenAI project API key",
      shape: "sk-proj- + 74 base64url + T3BlbkFJ + 74 base64url (or 58 + T3BlbkFJ + 58)", prefixes: ["sk-proj-"],
      lengths: .exactly([132, 164]), alphabet: b64u,
      structure: [
        Shape([.exactly(74, b64u), openAIMarker, .exactly(74, b64u)]),
        Shape([.exactly(58, b64u), openAIMarker, .exactly(58, b64u)]),
      ],
      usualNames: ["OPENAI_API_KEY"], sources: ["\(gitleaks) rule openai-api-key", "\(trufflehog)/openai"],
      example: "sk-proj-" + fakeBase64URL(74) + "T3BlbkFJ" + fakeBase64URL(74)))
    list.append(SecretFormat(
      id: "openai-service-account-key", provider: "OpenAI", title: "OpenAI service account key",
      shape: "sk-svcacct- + 74 base64url + T3BlbkFJ + 74 base64url (or 58 + T3BlbkFJ + 58)", prefixes: ["sk-svcacct-"],
      lengths: .exactly([135, 167]), alphabet: b64u,
      structure: [
        Shape([.exactly(74, b64u), openAIMarker, .exactly(74, b64u)]),
        Shape([.exactly(58, b64u), openAIMarker, .exactly(58, b64u)]),
      ],
      usualNames: ["OPENAI_API_KEY"], sources: ["\(gitleaks) rule openai-api-key", "\(trufflehog)/openai"],
      example: "sk-svcacct-" + fakeBase64URL(74) + "T3BlbkFJ" + fakeBase64URL(74)))
    list.append(SecretFormat(
      id: "openai-admin-key", provider: "OpenAI", title: "OpenAI admin key",
      shape: "sk-admin- + 58 base64url + T3BlbkFJ + 58 base64url", prefixes: ["sk-admin-"], lengths: .exactly([133]),
      alphabet: b64u, structure: [Shape([.exactly(58, b64u), openAIMarker, .exactly(58, b64u)])],
      usualNames: ["OPENAI_ADMIN_KEY"], sources: ["\(trufflehog)/openaiadmin", "\(gitleaks) rule openai-api-key"],
      example: "sk-admin-" + fakeBase64URL(58) + "T3BlbkFJ" + fakeBase64URL(58)))
    list.append(SecretFormat(
      id: "anthropic-api-key", provider: "Anthropic", title: "Anthropic API key",
      shape: "sk-ant-api03- + 93 base64url + AA", prefixes: ["sk-ant-api03-"], lengths: .exactly([108]),
      alphabet: b64u, structure: [Shape([.exactly(93, b64u), .text("AA")])], usualNames: ["ANTHROPIC_API_KEY"],
      sources: ["\(gitleaks) rule anthropic-api-key", "\(trufflehog)/anthropic"],
      example: "sk-ant-api03-" + fakeBase64URL(93) + "AA"))
    list.append(SecretFormat(
      id: "anthropic-admin-key", provider: "Anthropic", title: "Anthropic admin API key",
      shape: "sk-ant-admin01- + 93 base64url + AA", prefixes: ["sk-ant-admin01-"], lengths: .exactly([110]),
      alphabet: b64u, structure: [Shape([.exactly(93, b64u), .text("AA")])], usualNames: ["ANTHROPIC_ADMIN_KEY"],
      sources: ["\(gitleaks) rule anthropic-admin-api-key", "\(trufflehog)/anthropic"],
      example: "sk-ant-admin01-" + fakeBase64URL(93) + "AA"))

    // Slack
    let slackDigits = ByteClass.digits
    let slackAlphabet = b62.union(ByteClass("-", "-"), name: "base62 (A-Z a-z 0-9) and -")
    list.append(SecretFormat(
      id: "slack-bot-token", provider: "Slack", title: "Slack bot token",
      shape: "xoxb- + 10-13 digits + - + 10-13 digits + - + 20-40 base62", prefixes: ["xoxb-"],
      lengths: .range(min: 47, max: 73), alphabet: slackAlphabet,
      structure: [Shape([.between(10, 13, slackDigits), .text("-"), .between(10, 13, slackDigits), .text("-"),
        .between(20, 40, b62)])],
      usualNames: ["SLACK_BOT_TOKEN", "SLACK_TOKEN"],
      sources: ["\(gitleaks) rule slack-bot-token", "\(trufflehog)/slack", "\(detectSecrets)/slack.py",
        "docs.slack.dev/authentication/tokens"],
      example: "xoxb-000000000000-0000000000000-FAKEfakeFAKEfakeFAKEfake"))
    list.append(SecretFormat(
      id: "slack-user-token", provider: "Slack", title: "Slack user token",
      shape: "xoxp- + three groups of 10-13 digits, each followed by - + 28-34 base62 or -", prefixes: ["xoxp-"],
      lengths: .range(min: 66, max: 81), alphabet: slackAlphabet,
      structure: [Shape([.between(10, 13, slackDigits), .text("-"), .between(10, 13, slackDigits), .text("-"),
        .between(10, 13, slackDigits), .text("-"), .between(28, 34, slackAlphabet)])],
      usualNames: ["SLACK_USER_TOKEN"], sources: ["\(gitleaks) rule slack-user-token", "\(trufflehog)/slack"],
      example: "xoxp-000000000000-0000000000000-0000000000000-deadbeefdeadbeefdeadbeefdeadbeef"))
    list.append(SecretFormat(
      id: "slack-app-token", provider: "Slack", title: "Slack app-level token",
      shape: "xapp- + 1 digit + - + 8-14 A-Z 0-9 (app id) + - + 10-14 digits + - + 64 lowercase hex", prefixes: ["xapp-"],
      lengths: .range(min: 91, max: 101),
      alphabet: ByteClass("A-Z a-z 0-9 and -", ranges: [0x41...0x5A, 0x61...0x7A, 0x30...0x39], extra: "-"),
      structure: [Shape([.exactly(1, .digits), .text("-"), .between(8, 14, .upperAlnum), .text("-"),
        .between(10, 14, .digits), .text("-"), .exactly(64, .lowerHex)])],
      usualNames: ["SLACK_APP_TOKEN"], sources: ["\(gitleaks) rule slack-app-token"],
      example: "xapp-1-AFAKEFAKE00-0000000000000-deadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeef"))
    list.append(SecretFormat(
      id: "slack-webhook-url", provider: "Slack", title: "Slack incoming webhook URL",
      shape: "https://hooks.slack.com/services/ + T + 8-12 A-Z 0-9 + /B + 8-12 A-Z 0-9 + / + 23-25 base62",
      prefixes: ["https://hooks.slack.com/services/"], lengths: .range(min: 76, max: 86),
      alphabet: b62.union(ByteClass("/", "/"), name: "base62 (A-Z a-z 0-9) and /"),
      structure: [Shape([.text("T"), .between(8, 12, .upperAlnum), .text("/B"), .between(8, 12, .upperAlnum),
        .text("/"), .between(23, 25, b62)])],
      usualNames: ["SLACK_WEBHOOK_URL"],
      sources: ["\(trufflehog)/slackwebhook", "\(gitleaks) rule slack-webhook-url", "\(detectSecrets)/slack.py"],
      example: "https://hooks.slack.com/services/TFAKEFAKE0/BFAKEFAKE0/FAKEfakeFAKEfakeFAKEfake"))

    // GitHub and npm: 4-character prefix + 30 base62 + 6-character base62 CRC-32.
    let githubKinds = [
      ("ghp", "classic GitHub personal access token"), ("gho", "GitHub OAuth access token"),
      ("ghu", "GitHub App user-to-server token"), ("ghs", "GitHub App installation token"),
      ("ghr", "GitHub App refresh token"),
    ]
    for (kind, title) in githubKinds {
      list.append(SecretFormat(
        id: "github-\(kind)", provider: "GitHub", title: title, shape: "\(kind)_ + 30 base62 + 6 base62 checksum",
        prefixes: ["\(kind)_"], lengths: .exactly([40]), alphabet: b62, checksum: .crc32Base62,
        usualNames: kind == "ghp" ? ["GITHUB_TOKEN", "GH_TOKEN", "GITHUB_PAT"] : ["GITHUB_TOKEN", "GH_TOKEN"],
        sources: [githubBlog, checksumAlphabet, "\(gitleaks) rules github-*", "\(trufflehog)/github",
          "\(detectSecrets)/github_token.py"],
        example: "\(kind)_FAKEfake0000FAKEfake0000FAKEfa3KZkhD"))
    }
    list.append(SecretFormat(
      id: "github-fine-grained-pat", provider: "GitHub", title: "fine-grained GitHub personal access token",
      shape: "github_pat_ + 22 base62 + _ + 59 base62 (no public checksum)", prefixes: ["github_pat_"],
      lengths: .exactly([93]), alphabet: .word, structure: [Shape([.exactly(22, b62), .text("_"), .exactly(59, b62)])],
      usualNames: ["GITHUB_TOKEN", "GH_TOKEN", "GITHUB_PAT"],
      sources: ["\(gitleaks) rule github-fine-grained-pat", "\(trufflehog)/github"],
      example: "github_pat_FAKEFAKEFAKEFAKEFAKEFA_fake0fake0fake0fake0fake0fake0fake0fake0fake0fake0fake0fake"))

    list.append(SecretFormat(
      id: "pulumi-access-token", provider: "Pulumi", title: "Pulumi access token", shape: "pul- + 40 lowercase hex",
      prefixes: ["pul-"], lengths: .exactly([44]), alphabet: .lowerHex, usualNames: ["PULUMI_ACCESS_TOKEN"],
      sources: ["\(gitleaks) rule pulumi-api-token", "\(trufflehog)/pulumi"],
      example: "pul-deadbeefdeadbeefdeadbeefdeadbeefdeadbeef"))
    list.append(SecretFormat(
      id: "linear-api-key", provider: "Linear", title: "Linear API key", shape: "lin_api_ + 40 base62",
      prefixes: ["lin_api_"], lengths: .exactly([48]), alphabet: b62, usualNames: ["LINEAR_API_KEY"],
      sources: ["\(gitleaks) rule linear-api-key", "\(trufflehog)/linearapi"],
      example: "lin_api_FAKEfakeFAKEfakeFAKEfakeFAKEfakeFAKEfake"))

    // HubSpot
    let uuid = Shape([.exactly(8, .hex), .text("-"), .exactly(4, .hex), .text("-"), .exactly(4, .hex), .text("-"),
      .exactly(4, .hex), .text("-"), .exactly(12, .hex)])
    let uuidAlphabet = ByteClass.hex.union(ByteClass("-", "-"), name: "hex (0-9 a-f A-F) and -")
    list.append(SecretFormat(
      id: "hubspot-private-app-token", provider: "HubSpot", title: "HubSpot private app token",
      shape: "pat-na1- or pat-eu1- + UUID (8-4-4-4-12 hex)", prefixes: ["pat-na1-", "pat-eu1-"], lengths: .exactly([44]),
      alphabet: uuidAlphabet, structure: [uuid], usualNames: ["HUBSPOT_ACCESS_TOKEN", "HUBSPOT_PRIVATE_APP_TOKEN"],
      sources: ["\(trufflehog)/hubspot_apikey (v2)"], example: "pat-na1-fa4efa4e-fa4e-4fa4-8fa4-fa4efa4efa4e"))
    list.append(SecretFormat(
      id: "hubspot-legacy-api-key", provider: "HubSpot", title: "legacy HubSpot API key",
      shape: "UUID (8-4-4-4-12 hex)", lengths: .exactly([36]), alphabet: uuidAlphabet, structure: [uuid],
      usualNames: ["HUBSPOT_API_KEY", "HAPIKEY"],
      sources: ["\(gitleaks) rule hubspot-api-key", "\(trufflehog)/hubspot_apikey (v1)"],
      example: "fa4efa4e-fa4e-4fa4-8fa4-fa4efa4efa4e", identifiesItself: false, label: "UUID"))

    // Stripe
    let stripeSources = ["\(gitleaks) rule stripe-access-token", "\(trufflehog)/stripe", "\(detectSecrets)/stripe.py"]
    let stripeBody = "24-247 base62"
    list.append(SecretFormat(
      id: "stripe-secret-key", provider: "Stripe", title: "Stripe secret key", shape: "sk_live_ or sk_test_ + \(stripeBody)",
      prefixes: ["sk_live_", "sk_test_"], lengths: .range(min: 32, max: 255), alphabet: b62,
      usualNames: ["STRIPE_SECRET_KEY", "STRIPE_API_KEY"], sources: stripeSources,
      example: "sk_test_" + String(repeating: "FAKEfake00", count: 9) + "FAKEfake0"))
    list.append(SecretFormat(
      id: "stripe-restricted-key", provider: "Stripe", title: "Stripe restricted key",
      shape: "rk_live_ or rk_test_ + \(stripeBody)", prefixes: ["rk_live_", "rk_test_"],
      lengths: .range(min: 32, max: 255), alphabet: b62,
      usualNames: ["STRIPE_SECRET_KEY", "STRIPE_API_KEY", "STRIPE_RESTRICTED_KEY"],
      sources: stripeSources + ["catalog.json stripe-secret-key note: rk_ = restricted"],
      example: "rk_test_" + String(repeating: "FAKEfake00", count: 9) + "FAKEfake0"))
    list.append(SecretFormat(
      id: "stripe-publishable-key", provider: "Stripe", title: "Stripe publishable key",
      shape: "pk_live_ or pk_test_ + \(stripeBody)", prefixes: ["pk_live_", "pk_test_"],
      lengths: .range(min: 32, max: 255), alphabet: b62, usualNames: ["STRIPE_PUBLISHABLE_KEY"],
      sources: ["catalog.json stripe-secret-key note: pk_ keys are publishable (not secret)"],
      example: "pk_test_" + String(repeating: "FAKEfake00", count: 9) + "FAKEfake0", isSecret: false))
    list.append(SecretFormat(
      id: "stripe-webhook-secret", provider: "Stripe", title: "Stripe webhook signing secret",
      shape: "whsec_ + 24-100 base62", prefixes: ["whsec_"], lengths: .range(min: 30, max: 106), alphabet: b62,
      usualNames: ["STRIPE_WEBHOOK_SECRET"],
      sources: ["catalog.json stripe-secret-key note: whsec_ = webhook signing secret"],
      example: "whsec_FAKEfakeFAKEfakeFAKEfakeFAKEfake"))

    // AWS
    list.append(SecretFormat(
      id: "aws-access-key-id", provider: "AWS", title: "AWS access key ID",
      shape: "AKIA, ASIA, ABIA, ACCA or A3T + 1 A-Z 0-9, then 16 base32 (A-Z 2-7)",
      prefixes: ["AKIA", "ASIA", "ABIA", "ACCA", "A3T"], lengths: .exactly([20]), alphabet: .upperAlnum,
      structure: [Shape([.exactly(16, .base32)]), Shape([.exactly(1, .upperAlnum), .exactly(16, .base32)])],
      usualNames: ["AWS_ACCESS_KEY_ID"],
      sources: ["\(gitleaks) rule aws-access-token", "\(trufflehog)/aws", "\(detectSecrets)/aws.py"],
      example: "AKIAFAKEFAKEFAKEFAKE", isSecret: false, prefixIdentifies: true))
    list.append(SecretFormat(
      id: "aws-secret-access-key", provider: "AWS", title: "AWS secret access key", shape: "40 base64 (A-Z a-z 0-9 + /)",
      lengths: .exactly([40]), alphabet: .base64, usualNames: ["AWS_SECRET_ACCESS_KEY"],
      sources: ["\(trufflehog)/aws (SecretPat)", "\(detectSecrets)/aws.py"],
      example: "FAKE/fake+FAKE/fake+FAKE/fake+FAKE/fake+", identifiesItself: false, label: "40 base64 characters"))

    // Google Cloud
    list.append(SecretFormat(
      id: "gcp-service-account-json", provider: "Google Cloud", title: "Google Cloud service account JSON key",
      shape: "a JSON object with type service_account, private_key (PEM) and client_email",
      lengths: .atLeast(40), alphabet: .any, validator: FormatValidators.serviceAccountJSON,
      usualNames: ["GOOGLE_CREDENTIALS", "GCP_SA_KEY"],
      sources: ["\(trufflehog)/gcp (keys on auth_provider_x509_cert_url)", "\(gitleaks) rule gcp-api-key"],
      example: #"{"type":"service_account","project_id":"fake-project","private_key_id":"deadbeefdeadbeefdeadbeefdeadbeefdeadbeef","private_key":"-----BEGIN PRIVATE KEY-----\nFAKE\n-----END PRIVATE KEY-----\n","client_email":"fake@fake-project.iam.gserviceaccount.com","client_id":"000000000000000000000","auth_provider_x509_cert_url":"https://www.googleapis.com/oauth2/v1/certs"}"#,
      label: "JSON, type service_account"))
    list.append(SecretFormat(
      id: "gcp-api-key", provider: "Google Cloud", title: "Google API key", shape: "AIza + 35 base64url",
      prefixes: ["AIza"], lengths: .exactly([39]), alphabet: b64u, usualNames: ["GOOGLE_API_KEY", "GEMINI_API_KEY"],
      sources: ["\(gitleaks) rule gcp-api-key"], example: "AIzaFAKE_fake-FAKE_fake-FAKE_fake-FAKE_"))

    // Azure
    let azureHead = ByteClass("A-Z a-z 0-9 _ ~ .", ranges: [0x41...0x5A, 0x61...0x7A, 0x30...0x39], extra: "_~.")
    let azureTail = ByteClass("A-Z a-z 0-9 _ ~ . -", ranges: [0x41...0x5A, 0x61...0x7A, 0x30...0x39], extra: "_~.-")
    list.append(SecretFormat(
      id: "azure-ad-client-secret", provider: "Azure (Entra ID)", title: "Azure AD client secret",
      shape: "3 of A-Z a-z 0-9 _ ~ . + 1 digit + Q~ + 31-34 of A-Z a-z 0-9 _ ~ . -", lengths: .range(min: 37, max: 40),
      alphabet: azureTail,
      structure: [Shape([.exactly(3, azureHead), .exactly(1, .digits), .text("Q~"), .between(31, 34, azureTail)])],
      usualNames: ["AZURE_CLIENT_SECRET"],
      sources: ["\(gitleaks) rule azure-ad-client-secret", "\(trufflehog)/azure_entra"],
      example: "FAK8Q~FAKE.fake_FAKE.fake_FAKE.fake_FAKE", label: "Q~ after 4 characters"))
    list.append(SecretFormat(
      id: "azure-storage-account-key", provider: "Azure Storage", title: "Azure Storage account key",
      shape: "86 base64 + == (64 bytes)", lengths: .exactly([88]), alphabet: .base64Padded,
      structure: [Shape([.exactly(86, .base64), .text("==")])],
      usualNames: ["AZURE_STORAGE_KEY", "AZURE_STORAGE_ACCOUNT_KEY"],
      sources: ["\(trufflehog)/azure_storage", "\(detectSecrets)/azure_storage_key.py"],
      example: azureAccountKey, identifiesItself: false, label: "88 base64 characters"))
    list.append(SecretFormat(
      id: "azure-storage-connection-string", provider: "Azure Storage", title: "Azure Storage connection string",
      shape: "DefaultEndpointsProtocol=https;AccountName=…;AccountKey=<88 base64>[;…]",
      prefixes: ["DefaultEndpointsProtocol="], lengths: .atLeast(140), alphabet: .visible,
      validator: FormatValidators.azureConnectionString, usualNames: ["AZURE_STORAGE_CONNECTION_STRING"],
      sources: ["\(trufflehog)/azure_storage", "\(detectSecrets)/azure_storage_key.py"],
      example: "DefaultEndpointsProtocol=https;AccountName=fakeacct;AccountKey=\(azureAccountKey);EndpointSuffix=core.windows.net"))

    // Twilio
    list.append(SecretFormat(
      id: "twilio-account-sid", provider: "Twilio", title: "Twilio Account SID", shape: "AC + 32 lowercase hex",
      prefixes: ["AC"], lengths: .exactly([34]), alphabet: .lowerHex, usualNames: ["TWILIO_ACCOUNT_SID"],
      sources: ["\(trufflehog)/twilio", "\(detectSecrets)/twilio.py"], example: "ACdeadbeefdeadbeefdeadbeefdeadbeef",
      isSecret: false))
    list.append(SecretFormat(
      id: "twilio-api-key", provider: "Twilio", title: "Twilio API key SID", shape: "SK + 32 lowercase hex",
      prefixes: ["SK"], lengths: .exactly([34]), alphabet: .lowerHex, usualNames: ["TWILIO_API_KEY"],
      sources: ["\(gitleaks) rule twilio-api-key", "\(trufflehog)/twilioapikey"],
      example: "SKdeadbeefdeadbeefdeadbeefdeadbeef"))
    list.append(SecretFormat(
      id: "twilio-api-secret", provider: "Twilio", title: "Twilio API key secret", shape: "32 base62",
      lengths: .exactly([32]), alphabet: b62, usualNames: ["TWILIO_API_SECRET"],
      sources: ["catalog.json twilio-api-key note: secret is 32 alnum with no prefix", "\(trufflehog)/twilioapikey"],
      example: "FAKEfakeFAKEfakeFAKEfakeFAKEfake", identifiesItself: false, label: "32 letters and digits"))
    list.append(SecretFormat(
      id: "twilio-auth-token", provider: "Twilio", title: "Twilio auth token", shape: "32 lowercase hex",
      lengths: .exactly([32]), alphabet: .lowerHex, usualNames: ["TWILIO_AUTH_TOKEN"],
      sources: ["catalog.json twilio-account-sid note: TWILIO_AUTH_TOKEN = 32 hex", "\(trufflehog)/twilio"],
      example: "deadbeefdeadbeefdeadbeefdeadbeef", identifiesItself: false, label: "32 hex digits"))

    list.append(SecretFormat(
      id: "sendgrid-api-key", provider: "SendGrid", title: "SendGrid API key",
      shape: "SG. + 22 base64url + . + 43 base64url", prefixes: ["SG."], lengths: .exactly([69]),
      alphabet: b64u.union(ByteClass(".", "."), name: "base64url (A-Z a-z 0-9 _ -) and ."),
      structure: [Shape([.exactly(22, b64u), .text("."), .exactly(43, b64u)])], usualNames: ["SENDGRID_API_KEY"],
      sources: ["\(gitleaks) rule sendgrid-api-token", "\(trufflehog)/sendgrid", "\(detectSecrets)/sendgrid.py"],
      example: "SG.FAKE_fake-FAKE_fake-FA.FAKE_fake-FAKE_fake-FAKE_fake-FAKE_fake-FAK"))

    // Mailgun
    let mailgunSources = ["\(gitleaks) rules mailgun-*", "\(trufflehog)/mailgun"]
    list.append(SecretFormat(
      id: "mailgun-legacy-api-key", provider: "Mailgun", title: "legacy Mailgun API key", shape: "key- + 32 lowercase hex",
      prefixes: ["key-"], lengths: .exactly([36]), alphabet: .lowerHex,
      usualNames: ["MAILGUN_API_KEY", "MAILGUN_PRIVATE_API_KEY"], sources: mailgunSources,
      example: "key-deadbeefdeadbeefdeadbeefdeadbeef", prefixIdentifies: false))
    list.append(SecretFormat(
      id: "mailgun-private-api-key", provider: "Mailgun", title: "Mailgun private API key",
      shape: "32 lowercase hex + - + 8 lowercase hex + - + 8 lowercase hex", lengths: .exactly([50]),
      alphabet: ByteClass.lowerHex.union(ByteClass("-", "-"), name: "lowercase hex (0-9 a-f) and -"),
      structure: [Shape([.exactly(32, .lowerHex), .text("-"), .exactly(8, .lowerHex), .text("-"),
        .exactly(8, .lowerHex)])],
      usualNames: ["MAILGUN_API_KEY", "MAILGUN_PRIVATE_API_KEY"], sources: mailgunSources,
      example: "deadbeefdeadbeefdeadbeefdeadbeef-deadbeef-deadbeef", label: "32-8-8 lowercase hex"))
    list.append(SecretFormat(
      id: "mailgun-public-key", provider: "Mailgun", title: "Mailgun public validation key",
      shape: "pubkey- + 32 lowercase hex", prefixes: ["pubkey-"], lengths: .exactly([39]), alphabet: .lowerHex,
      usualNames: ["MAILGUN_PUBLIC_KEY"],
      sources: mailgunSources + ["catalog.json mailgun-api-key note: pubkey- + 32 hex is the public validation key"],
      example: "pubkey-deadbeefdeadbeefdeadbeefdeadbeef", isSecret: false))

    list.append(SecretFormat(
      id: "npm-access-token", provider: "npm", title: "npm access token", shape: "npm_ + 30 base62 + 6 base62 checksum",
      prefixes: ["npm_"], lengths: .exactly([40]), alphabet: b62, checksum: .crc32Base62,
      usualNames: ["NPM_TOKEN", "NODE_AUTH_TOKEN"],
      sources: ["github.blog 2021-09-23 'Announcing npm's new access token format'", checksumAlphabet,
        "\(gitleaks) rule npm-access-token", "\(trufflehog)/npmtokenv2", "\(detectSecrets)/npm.py"],
      example: "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"))

    // PyPI: a base64url macaroon whose first bytes encode the location.
    list.append(SecretFormat(
      id: "pypi-upload-token", provider: "PyPI", title: "PyPI upload token",
      shape: "pypi-AgEIcHlwaS5vcmc + 50-1000 base64url (a macaroon for pypi.org)", prefixes: ["pypi-AgEIcHlwaS5vcmc"],
      lengths: .range(min: 70, max: 1020), alphabet: b64u,
      usualNames: ["PYPI_API_TOKEN", "TWINE_PASSWORD", "UV_PUBLISH_TOKEN"],
      sources: ["\(gitleaks) rule pypi-upload-token", "\(trufflehog)/pypi", "\(detectSecrets)/pypi_token.py"],
      example: "pypi-AgEIcHlwaS5vcmcCJ" + String(repeating: "FAKE_fake-", count: 15) + "FAKE_"))
    list.append(SecretFormat(
      id: "testpypi-upload-token", provider: "PyPI", title: "TestPyPI upload token",
      shape: "pypi-AgENdGVzdC5weXBpLm9yZw + 50-1000 base64url (a macaroon for test.pypi.org)",
      prefixes: ["pypi-AgENdGVzdC5weXBpLm9yZw"], lengths: .range(min: 77, max: 1027), alphabet: b64u,
      usualNames: ["PYPI_API_TOKEN", "TWINE_PASSWORD", "UV_PUBLISH_TOKEN", "TEST_PYPI_API_TOKEN"],
      sources: ["catalog.json pypi-upload-token note: TestPyPI tokens start pypi-AgENdGVzdC5weXBpLm9yZw",
        "\(detectSecrets)/pypi_token.py"],
      example: "pypi-AgENdGVzdC5weXBpLm9yZwCJ" + String(repeating: "FAKE_fake-", count: 15) + "FAKE_"))

    // Vercel
    list.append(SecretFormat(
      id: "vercel-access-token", provider: "Vercel", title: "Vercel token",
      shape: "vcp_, vci_, vca_, vcr_ or vck_ + 24 or more base62 (length not published)",
      prefixes: ["vcp_", "vci_", "vca_", "vcr_", "vck_"], lengths: .range(min: 28, max: 255), alphabet: b62,
      usualNames: ["VERCEL_TOKEN"],
      sources: ["vercel.com/changelog/new-token-formats-and-secret-scanning", "\(trufflehog)/vercel"],
      example: "vcp_FAKEfakeFAKEfakeFAKEfakeFAKEfake"))
    list.append(SecretFormat(
      id: "vercel-legacy-token", provider: "Vercel", title: "legacy Vercel token", shape: "24 base62",
      lengths: .exactly([24]), alphabet: b62, usualNames: ["VERCEL_TOKEN"],
      sources: ["vercel.com/changelog/new-token-formats-and-secret-scanning", "\(trufflehog)/vercel"],
      example: "FAKEfakeFAKEfakeFAKEfake", identifiesItself: false, label: "24 letters and digits"))

    // Pinecone
    list.append(SecretFormat(
      id: "pinecone-api-key", provider: "Pinecone", title: "Pinecone API key",
      shape: "pcsk_ + 5-6 base62 (key id) + _ + 63 base62", prefixes: ["pcsk_"], lengths: .exactly([74, 75]),
      alphabet: .word, structure: [Shape([.between(5, 6, b62), .text("_"), .exactly(63, b62)])],
      usualNames: ["PINECONE_API_KEY"], sources: ["\(trufflehog)/pinecone"],
      example: "pcsk_FAKE00_FAKEfakeFAKEfakeFAKEfakeFAKEfakeFAKEfakeFAKEfakeFAKEfakeFAKEfak"))
    list.append(SecretFormat(
      id: "pinecone-api-key-legacy", provider: "Pinecone", title: "legacy Pinecone API key",
      shape: "UUID (8-4-4-4-12 hex)", lengths: .exactly([36]), alphabet: uuidAlphabet, structure: [uuid],
      usualNames: ["PINECONE_API_KEY"],
      sources: ["docs.pinecone.io authentication (PINECONE_API_KEY)", "\(trufflehog)/pinecone (new format only)"],
      example: "fa4efa4e-fa4e-4fa4-8fa4-fa4efa4efa4e", identifiesItself: false, label: "UUID"))

    // Snowflake: an identifier, not a secret.
    let snowflakeRegion = ByteClass("a-z 0-9 -", ranges: [0x61...0x7A, 0x30...0x39], extra: "-")
    let alnum = ByteClass.base62
    list.append(SecretFormat(
      id: "snowflake-account-identifier", provider: "Snowflake", title: "Snowflake account identifier",
      shape: "orgname-account_name (letters, digits, _), or an account locator such as xy12345[.region[.cloud]]",
      lengths: .range(min: 2, max: 63),
      alphabet: ByteClass("A-Z a-z 0-9 _ - .", ranges: [0x41...0x5A, 0x61...0x7A, 0x30...0x39], extra: "_-."),
      structure: [
        Shape([.exactly(1, .letters), .between(0, 62, alnum), .text("-"), .exactly(1, .letters), .between(0, 62, .word)]),
        Shape([.exactly(1, .letters), .between(1, 62, alnum)]),
        Shape([.exactly(1, .letters), .between(1, 62, alnum), .text("."), .between(1, 62, snowflakeRegion)]),
        Shape([.exactly(1, .letters), .between(1, 62, alnum), .text("."), .between(1, 62, snowflakeRegion), .text("."),
          .between(1, 62, .lowerAlnum)]),
      ],
      usualNames: ["SNOWFLAKE_ACCOUNT"],
      sources: ["docs.snowflake.com/en/user-guide/admin-account-identifier", "\(trufflehog)/snowflake"],
      example: "fakeorg-fake_account", isSecret: false, identifiesItself: false, label: "orgname-account_name",
      lengthIsCapped: true))

    list.append(SecretFormat(
      id: "jwt", provider: "JSON Web Token (generic)", title: "JSON Web Token",
      shape: "base64url(header JSON) . base64url(payload JSON) . base64url(signature)", prefixes: ["eyJ"],
      lengths: .atLeast(36), alphabet: b64u.union(ByteClass(".", "."), name: "base64url (A-Z a-z 0-9 _ -) and ."),
      validator: FormatValidators.jwt, usualNames: ["JWT", "ID_TOKEN"],
      sources: ["\(gitleaks) rule jwt", "\(trufflehog)/jwt", "\(detectSecrets)/jwt.py", "RFC 7519, RFC 7515"],
      example: "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJGQUtFIn0.FAKEfakeFAKEfakeFAKEfakeFAKEfakeFAKEfakeFAK",
      prefixIdentifies: false))
    list.append(SecretFormat(
      id: "pem-private-key", provider: "PEM (generic)", title: "PEM private key",
      shape: "-----BEGIN [RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP ]PRIVATE KEY[ BLOCK]----- line, base64 lines, the matching -----END line (real newlines or \\n escapes)",
      prefixes: ["-----BEGIN "], lengths: .atLeast(50), alphabet: .any, validator: FormatValidators.pem,
      usualNames: ["PRIVATE_KEY", "SSH_PRIVATE_KEY", "*_PRIVATE_KEY"],
      sources: ["\(gitleaks) rule private-key", "\(trufflehog)/privatekey", "\(detectSecrets)/private_key.py",
        "RFC 7468"],
      example: #"-----BEGIN PRIVATE KEY-----\nFAKEFAKEFAKE\n-----END PRIVATE KEY-----"#,
      label: "-----BEGIN … PRIVATE KEY-----"))

    // Database URLs (the catalog's db-connection-url, one format per scheme family).
    let databases: [(String, String, [String], [String], String)] = [
      ("postgres-url", "PostgreSQL URL", ["postgres://", "postgresql://"], ["POSTGRES_URL", "POSTGRESQL_URL"],
        "postgres://fake_user:FAKEfakeFAKEfake@db.invalid:5432/fake"),
      ("mysql-url", "MySQL URL", ["mysql://"], ["MYSQL_URL"], "mysql://fake_user:FAKEfakeFAKEfake@db.invalid:3306/fake"),
      ("mongodb-url", "MongoDB URL", ["mongodb://", "mongodb+srv://"], ["MONGODB_URI", "MONGODB_URL", "MONGO_URL"],
        "mongodb+srv://fake_user:FAKEfakeFAKEfake@cluster0.db.invalid/fake"),
      ("redis-url", "Redis URL", ["redis://", "rediss://"], ["REDIS_URL"], "rediss://:FAKEfakeFAKEfake@cache.invalid:6380/0"),
      ("amqp-url", "AMQP URL", ["amqp://", "amqps://"], ["AMQP_URL", "RABBITMQ_URL", "CLOUDAMQP_URL"],
        "amqps://fake_user:FAKEfakeFAKEfake@mq.invalid/fake"),
    ]
    for (id, title, schemes, names, example) in databases {
      list.append(SecretFormat(
        id: id, provider: "Databases (generic)", title: title,
        shape: "\(FormatText.list(schemes, conjunction: "or")) (a driver may follow the scheme after +, as in "
          + "\(schemes[0].dropLast(3))+driver://) + [user[:password]@]host[:port][/database][?options], no spaces; "
          + "a password, when present, is not empty",
        prefixes: schemes, lengths: .atLeast(schemes.map(\.utf8.count).min().map { $0 + 1 } ?? 1), alphabet: .visible,
        validator: FormatValidators.databaseURL, usualNames: ["DATABASE_URL"] + names,
        sources: ["\(trufflehog)/postgres", "\(trufflehog)/uri", "\(detectSecrets)/basic_auth.py",
          "RFC 3986 (URI syntax)"],
        example: example, schemeDrivers: true))
    }
    for format in list { assert(format.lengthsAgreeWithStructure, "catalog: \(format.id) lengths disagree with its shapes") }
    return list
  }

  /// An 88-character base64 string (64 bytes), obviously fake.
  static let azureAccountKey = "RkFLRUZBS0VGQUtFRkFLRUZBS0VGQUtFRkFLRUZBS0VGQUtFRkFLRUZBS0VGQUtFRkFLRUZBS0VGQUtFRkFLRQ=="

  /// `FAKE_fake-` repeated and cut to `count` characters: a fake base64url body.
  static func fakeBase64URL(_ count: Int) -> String {
    String(String(repeating: "FAKE_fake-", count: count / 10 + 1).prefix(count))
  }
}
