import CofferCore

/// One manifest entry inferred from templates, with the reasons for each choice (reasons never contain a value).
public struct InferredSetting: Sendable {
  /// The declaration to write.
  public var spec: SecretSpec
  /// Why it is a secret or a plain setting.
  public var kindReason: String
  /// Why it has its group (or none).
  public var groupReason: String
  /// Why it is required or not.
  public var requiredReason: String
  /// What happened to the template's value: kept as `example:`, or why not.
  public var exampleReason: String
  /// Notes, such as a description left out because it looked like it held a secret.
  public var notes: [String]
  /// Where the variable was found, as `file:line`.
  public var sources: [String]

  /// One line for people: `NAME: secret (…); group … (…); required (…); …`.
  public var summary: String {
    var parts = ["\(spec.isSecret ? "secret" : "plain setting") (\(kindReason))"]
    parts.append(spec.group.map { "group \($0) (\(groupReason))" } ?? "no group (\(groupReason))")
    parts.append("\(spec.required == .always ? "required" : "not required") (\(requiredReason))")
    parts.append(exampleReason)
    parts.append(contentsOf: notes)
    return "\(spec.name): " + parts.joined(separator: "; ")
  }
}

/// The groups `coffer init` declares, which inference assigns.
public enum StandardGroups {
  /// API keys for external services.
  public static let apiKeys = "api-keys"
  /// Database passwords and connection strings.
  public static let database = "database-credentials"
  /// JWT secrets, signing and encryption keys.
  public static let security = "security-tokens"
  /// Credentials for integrated services (Slack, GitHub, Stripe, …).
  public static let integration = "integration-credentials"
  /// Cloud provider credentials.
  public static let infrastructure = "infrastructure-credentials"

  /// The five groups with their rotation periods and descriptions, in the order `coffer init` writes them.
  public static let all: [SecretGroup] = [
    SecretGroup(name: apiKeys, rotation: RotationPeriod(days: 90)!, description: "API keys for external services"),
    SecretGroup(
      name: database, rotation: RotationPeriod(days: 180)!, description: "Database passwords and connection strings"),
    SecretGroup(name: security, rotation: RotationPeriod(days: 365)!, description: "JWT secrets and signing keys"),
    SecretGroup(
      name: integration, rotation: RotationPeriod(days: 90)!, description: "Credentials for integrated services"),
    SecretGroup(name: infrastructure, rotation: RotationPeriod(days: 90)!, description: "Cloud provider credentials"),
  ]
}

/// Turns template entries into manifest declarations: secret or plain setting, group, `required`, description and
/// example, each with its reason. Pure.
///
/// The rules, in order (the first that applies decides):
///
/// **Secret or plain setting.** A workflow `secrets.X` is a secret and `vars.X` a plain setting. A value shaped like
/// a real secret (a known token prefix, a JWT, a PEM key, a URL with a password, a long random string) makes a
/// secret. Connection-string names (`DATABASE_URL`, `*_DSN`, …), webhook URLs and `*_KEY_ID` are secrets. Names
/// public by design (`NEXT_PUBLIC_*`, `*_PUBLIC_KEY`, …) and names ending in a setting word (`_PORT`, `_HOST`,
/// `_URL`, `_LEVEL`, `_ENABLED`, `_ID`, `_NAME`, `_TIMEOUT`, …) or starting with a flag word (`ENABLE_`, `USE_`, …)
/// are plain. A name holding a secret word (`PASSWORD`, `SECRET`, `TOKEN`, `KEY`, `CREDENTIALS`, `PRIVATE`, `DSN`,
/// `SALT`, …) is a secret. A value that reads as a setting (boolean, number, duration, URL without credentials,
/// e-mail address, path, words) makes a plain setting. Anything else is a secret, to be safe.
///
/// **Group** (secrets only). Cloud credentials (`AWS_`, `GCP_`, `AZURE_`, `GOOGLE_APPLICATION_CREDENTIALS`, …) →
/// `infrastructure-credentials`; a known provider (`SLACK_`, `GITHUB_`, `STRIPE_`, `TWILIO_`, `SMTP_`, …), an
/// OAuth client secret or a webhook → `integration-credentials`; JWT, encryption, signing, session or
/// `SECRET_KEY_BASE` names, and JWT or PEM values → `security-tokens`; database names (`DB_`, `POSTGRES_`,
/// `REDIS_`, …) and database URLs → `database-credentials`; `*_API_KEY` → `api-keys`; other passwords →
/// `database-credentials`; other secrets and tokens → `security-tokens`; other keys → `api-keys`.
///
/// **Required.** Not when commented out, when compose uses it only if set, or when the template's comments say it
/// is optional (or its section does). Yes when compose demands it (`${X:?}`) or a comment says it is required.
/// A secret is required when the template leaves it empty or gives a placeholder, a short development default, or a
/// value its comments say to change; otherwise not. A plain setting is required only when the template leaves it
/// empty.
///
/// **Example.** A plain setting's value is kept as `example:`; so is a secret's obvious placeholder
/// (`your-api-key`, `changeme`, `sk-`); a connection URL's password is replaced by `PASSWORD`; anything else that
/// belongs to a secret is never copied. A description that contains something shaped like a secret, or the
/// secret's own value, is left out.
public enum SettingInference {
  /// Infers declarations from template entries, merging entries with the same name (first seen first).
  /// - Parameter entries: entries from one or more ``TemplateReader`` scans, in the order the files were given.
  /// - Returns: one setting per valid variable name, in order of first appearance, and the names skipped because
  ///   they are not valid manifest names (`[A-Za-z_][A-Za-z0-9_]*`).
  public static func infer(_ entries: [TemplateEntry]) -> (settings: [InferredSetting], invalidNames: [String]) {
    var order: [String] = []
    var byName: [String: [TemplateEntry]] = [:]
    var invalid: [String] = []
    for entry in entries {
      guard isValidName(entry.name) else {
        if !invalid.contains(entry.name) { invalid.append(entry.name) }
        continue
      }
      if byName[entry.name] == nil { order.append(entry.name) }
      byName[entry.name, default: []].append(entry)
    }
    return (order.map { infer(name: $0, from: byName[$0]!) }, invalid)
  }

  /// Builds a manifest holding the inferred settings and the five standard groups.
  /// - Parameters:
  ///   - settings: from ``infer(_:)``.
  ///   - project: the project's name.
  ///   - environments: the environments.
  ///   - recipients: the recipients.
  /// - Returns: the manifest (validate it by decoding its ``Manifest/encodedYAML()``).
  public static func manifest(
    _ settings: [InferredSetting], project: String, environments: [String], recipients: [ManifestRecipient]
  ) -> Manifest {
    Manifest(
      project: project, environments: environments, recipients: recipients, groups: StandardGroups.all,
      secrets: settings.map(\.spec))
  }

  static func isValidName(_ name: String) -> Bool { SecretName.isValid(name) }

  // MARK: - One variable

  static func infer(name: String, from entries: [TemplateEntry]) -> InferredSetting {
    let live = entries.filter { $0.origin != .commentedOut }
    let primary = live.isEmpty ? entries : live
    let valueEntry = primary.first { ($0.value?.byteCount ?? 0) > 0 } ?? primary.first { $0.value != nil }
    let value = valueEntry?.value?.revealString()
    let origins = Set(entries.map(\.origin))
    var notes: [String] = []

    // Secret or plain.
    let (isSecret, kindReason) = classify(name: name, value: value, origins: origins)

    // Group.
    let (group, groupReason): (String?, String) =
      isSecret ? group(name: name, value: value) : (nil, "plain settings are not rotated")

    // Required.
    let (required, requiredReason) = requirement(isSecret: isSecret, value: value, entries: entries, primary: primary)

    // Example.
    let (example, exampleReason) = self.example(isSecret: isSecret, value: value, name: name)

    // Description: the first one, unless it holds something secret-looking or the value itself.
    var description = entries.lazy.compactMap(\.description).first
    if let text = description {
      if text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "`" || $0 == "\"" || $0 == "'" })
        .contains(where: { ValueShape.looksSecret(String($0)) })
      {
        description = nil
        notes.append("description left out: the comment holds something shaped like a secret")
      } else if isSecret, let value, value.count >= 10, text.contains(value) {
        description = nil
        notes.append("description left out: the comment holds the value")
      }
    }
    if description == nil, origins.contains(.workflowSecret) || origins.contains(.workflowVariable),
      let file = entries.first(where: { $0.origin == .workflowSecret || $0.origin == .workflowVariable })?.file
    {
      description = "used by \(file)"
    }

    let spec = SecretSpec(
      name: name, group: group, description: description, required: required ? .always : .never,
      example: example, isSecret: isSecret)
    return InferredSetting(
      spec: spec, kindReason: kindReason, groupReason: groupReason, requiredReason: requiredReason,
      exampleReason: exampleReason, notes: notes, sources: entries.map { "\($0.file):\($0.line)" })
  }

  // MARK: - Secret or plain

  static let secretWords: Set<String> = [
    "PASSWORD", "PASSWD", "PASS", "PWD", "SECRET", "SECRETS", "TOKEN", "TOKENS", "KEY", "KEYS", "APIKEY",
    "HAPIKEY", "CREDENTIALS", "CREDENTIAL", "CREDS", "PRIVATE", "DSN", "SALT", "PASSPHRASE", "AUTH", "PEPPER",
  ]
  static let settingSuffixes: Set<String> = [
    "PORT", "PORTS", "HOST", "HOSTS", "HOSTNAME", "LEVEL", "MODE", "REGION", "ZONE", "LOCALE", "TZ", "TIMEZONE",
    "VERSION", "IMAGE", "TAG", "DIR", "DIRECTORY", "PATH", "FILE", "LOCATION", "FOLDER", "NAME", "USER", "USERNAME",
    "EMAIL", "ADDRESS", "DOMAIN", "ID", "IDS", "IDENTIFIER", "URL", "URLS", "URI", "ENDPOINT", "ENDPOINTS", "SCHEMA",
    "SCHEMAS", "THREADS", "WORKERS", "CONCURRENCY", "CONNECTIONS", "CONN", "POOL", "DAYS", "HOURS", "MINUTES",
    "SECONDS", "MS", "TIMEOUT", "INTERVAL", "RETRIES", "RETRY", "DELAY", "TTL", "EXPIRY", "EXPIRES", "EXPIRATION",
    "LIMIT", "MAX", "MIN", "SIZE", "COUNT", "LENGTH", "NUMBER", "ENV", "ENVIRONMENT", "STAGE", "PROJECT",
    "ORGANIZATION", "ORG", "TEAM", "BUCKET", "SERVICE", "PROVIDER", "DRIVER", "ENGINE", "ALGORITHM", "FORMAT",
    "TYPE", "KIND", "FROM", "SENDER", "LANG", "LANGUAGE", "THEME", "TITLE", "LABEL", "ENABLED", "DISABLED",
    "ENABLE", "DISABLE", "DEBUG", "VERBOSE", "PROXIES", "PROXY", "CA", "BIND", "LISTEN", "PROTOCOL", "SCHEME",
    "METHOD", "STRATEGY", "BACKEND", "ADAPTER", "CHANNEL", "QUEUE", "TOPIC", "DB", "VHOST", "SENTINELS",
    "AUTHENTICATION", "AUTHENTICATED", "VERIFY", "SSL", "TLS", "STYLE", "CHECKS", "ISSUER", "AUDIENCE", "SCOPE",
    "SCOPES", "ROLE",
  ]
  static let flagPrefixes: Set<String> = [
    "ENABLE", "DISABLE", "USE", "FORCE", "ALLOW", "SKIP", "IS", "HAS", "SHOW", "HIDE", "FEATURE",
  ]
  static let publicPrefixes = ["NEXT_PUBLIC_", "NUXT_PUBLIC_", "EXPO_PUBLIC_", "PUBLIC_", "GATSBY_"]
  static let publicSuffixes = ["PUBLIC_KEY", "PUBLISHABLE_KEY", "SITE_KEY"]
  static let connectionNames: Set<String> = [
    "DATABASE_URL", "DB_URL", "POSTGRES_URL", "POSTGRESQL_URL", "PG_URL", "MYSQL_URL", "MONGO_URL", "MONGODB_URL",
    "MONGO_URI", "MONGODB_URI", "PGPASSWORD",
  ]
  static let brokerNames: Set<String> = ["REDIS_URL", "AMQP_URL", "RABBITMQ_URL", "BROKER_URL", "CACHE_URL"]

  static func classify(name: String, value: String?, origins: Set<TemplateEntry.Origin>) -> (Bool, String) {
    let upper = name.uppercased()
    let tokens = upper.split(separator: "_").map(String.init)
    let last = tokens.last ?? upper
    if origins.contains(.workflowSecret) { return (true, "GitHub Actions reads it from secrets") }
    if let value, let shape = ValueShape.secretShape(value) {
      return (true, "its template value has the shape of \(shape)")
    }
    if connectionNames.contains(upper) || upper.hasSuffix("_DATABASE_URL") || upper.hasSuffix("_DB_URL")
      || last == "DSN" || upper.hasSuffix("_CONNECTION_STRING") || upper.hasSuffix("_CONN_STRING")
    {
      return (true, "a connection string usually carries a password")
    }
    if brokerNames.contains(upper) || upper.hasSuffix("_BROKER_URL") || upper.hasSuffix("_REDIS_URL") {
      if let value, !value.isEmpty, ValueShape.isURL(value) {
        return (false, "a URL without credentials")
      }
      return (true, "a connection string usually carries a password")
    }
    if upper.contains("WEBHOOK") && (last == "URL" || last == "URI") {
      return (true, "a webhook URL embeds its secret")
    }
    if upper.hasSuffix("KEY_ID") { return (true, "an access key ID is half of a credential") }
    if let prefix = publicPrefixes.first(where: { upper.hasPrefix($0) }) {
      return (false, "\(prefix) variables are public by design")
    }
    if let suffix = publicSuffixes.first(where: { upper.hasSuffix($0) }) {
      return (false, "a \(suffix.lowercased().split(separator: "_").joined(separator: " ")) is public")
    }
    if origins.contains(.workflowVariable) { return (false, "GitHub Actions reads it from vars") }
    if tokens.count > 1, settingSuffixes.contains(last) {
      return (false, "its name ends in _\(last)")
    }
    if tokens.count > 1, let first = tokens.first, flagPrefixes.contains(first) {
      return (false, "its name starts with \(first)_")
    }
    if let word = tokens.first(where: { secretWords.contains($0) })
      ?? tokens.first(where: { $0.hasSuffix("PASSWORD") || $0.hasSuffix("SECRET") || $0.hasSuffix("TOKEN") })
    {
      if let value, ValueShape.isBoolean(value) { return (false, "its template value is a boolean") }
      return (true, "its name contains \(word)")
    }
    if let value, let shape = ValueShape.settingShape(value) {
      return (false, "its template value is \(shape)")
    }
    if tokens.count == 1, settingSuffixes.contains(last) { return (false, "\(last) is a setting") }
    return (true, "nothing marks it as a plain setting, so it is kept secret to be safe")
  }

  // MARK: - Group

  static let cloudPrefixes = [
    "AWS", "GCP", "GCLOUD", "AZURE", "DIGITALOCEAN", "CLOUDFLARE", "VERCEL", "NETLIFY", "HEROKU", "FLY", "RAILWAY",
    "PULUMI", "TERRAFORM", "TF", "KUBE", "KUBECONFIG", "MINIO", "S3", "R2", "B2", "LAMBDA", "OCI", "LINODE",
    "SCALEWAY", "HETZNER", "DOCKERHUB",
  ]
  static let providers = [
    "SLACK", "GITHUB", "GH", "GITLAB", "BITBUCKET", "HUBSPOT", "HAPIKEY", "STRIPE", "TWILIO", "SENDGRID", "MAILGUN",
    "MANDRILL", "POSTMARK", "MAILCHIMP", "RESEND", "SMTP", "MAIL", "MAILER", "NOTION", "LINEAR", "JIRA", "ATLASSIAN",
    "CONFLUENCE", "ASANA", "TRELLO", "GONG", "SALESFORCE", "ZENDESK", "INTERCOM", "SEGMENT", "SENTRY", "DATADOG",
    "DD", "NEWRELIC", "LOGFLARE", "ROLLBAR", "BUGSNAG", "NPM", "PYPI", "TWINE", "DISCORD", "TELEGRAM", "FB",
    "FACEBOOK", "INSTAGRAM", "TWITTER", "LINKEDIN", "GOOGLE", "AZUREAD", "OIDC", "SAML", "OAUTH", "AUTH0", "OKTA",
    "CLERK", "AIRTABLE", "UNSPLASH", "TURNSTILE", "RECAPTCHA", "HCAPTCHA", "ESTUARY", "SHOPIFY", "PAYPAL", "ALGOLIA",
    "PUSHER", "FIREBASE", "FCM", "APNS", "ZOOM", "DROPBOX", "WHATSAPP", "VONAGE", "PLAID", "SQUARE", "BRAINTREE",
    "DOCUSIGN", "SNYK", "CODECOV", "CIRCLECI", "BUILDKITE", "MIXPANEL", "AMPLITUDE", "POSTHOG", "GIPHY",
  ]
  static let securityWords: Set<String> = [
    "JWT", "ENCRYPTION", "ENC", "CRYPTO", "SIGNING", "SALT", "SESSION", "COOKIE", "NEXTAUTH", "PEPPER", "HMAC",
  ]
  static let databaseWords: Set<String> = [
    "DB", "DATABASE", "POSTGRES", "POSTGRESQL", "PG", "PGPASSWORD", "MYSQL", "MARIADB", "MONGO", "MONGODB", "REDIS",
    "RABBITMQ", "AMQP", "SNOWFLAKE", "CLICKHOUSE", "ELASTIC", "ELASTICSEARCH", "OPENSEARCH", "CASSANDRA", "NEO4J",
    "INFLUX", "INFLUXDB", "MSSQL", "SQLSERVER", "SUPABASE",
  ]

  static func group(name: String, value: String?) -> (String?, String) {
    let upper = name.uppercased()
    let tokens = upper.split(separator: "_").map(String.init)
    let first = tokens.first ?? upper
    if upper == "GOOGLE_APPLICATION_CREDENTIALS" || upper.hasPrefix("GOOGLE_CLOUD_") {
      return (StandardGroups.infrastructure, "Google Cloud credentials")
    }
    if cloudPrefixes.contains(first) { return (StandardGroups.infrastructure, "\(first)_ names cloud credentials") }
    if let value, ValueShape.isAWSAccessKeyID(value) {
      return (StandardGroups.infrastructure, "its value has the shape of an AWS access key ID")
    }
    if upper.hasSuffix("DATABASE_URL") || upper.hasSuffix("DB_URL") || (value.map(ValueShape.isDatabaseURL) ?? false) {
      return (StandardGroups.database, "a database URL")
    }
    if providers.contains(first) { return (StandardGroups.integration, "\(first)_ names an integrated service") }
    if upper.hasSuffix("CLIENT_SECRET") { return (StandardGroups.integration, "an OAuth client secret") }
    if upper.contains("WEBHOOK") { return (StandardGroups.integration, "a webhook secret") }
    if let shape = value.flatMap(ValueShape.providerShape) {
      return (StandardGroups.integration, "its value has the shape of \(shape)")
    }
    if let word = tokens.first(where: { securityWords.contains($0) }) {
      return (StandardGroups.security, "its name contains \(word)")
    }
    if upper.hasPrefix("SECRET_KEY") || upper.hasSuffix("PRIVATE_KEY") {
      return (StandardGroups.security, "a signing or encryption key")
    }
    if let value, ValueShape.isJWT(value) || value.hasPrefix("-----BEGIN") {
      return (StandardGroups.security, "its value has the shape of \(ValueShape.isJWT(value) ? "a JWT" : "a PEM key")")
    }
    if let word = tokens.first(where: { databaseWords.contains($0) }) {
      return (StandardGroups.database, "its name contains \(word)")
    }
    if let value, ValueShape.isDatabaseURL(value) {
      return (StandardGroups.database, "its value has the shape of a database URL")
    }
    if upper.hasSuffix("API_KEY") || upper.hasSuffix("APIKEY") || upper.hasSuffix("API_TOKEN")
      || upper.hasSuffix("API_SECRET")
    {
      return (StandardGroups.apiKeys, "an API key")
    }
    if let word = tokens.first(where: { ["PASSWORD", "PASS", "PASSWD", "PWD"].contains($0) }) {
      return (StandardGroups.database, "its name contains \(word)")
    }
    if tokens.contains("SECRET") || tokens.contains("TOKEN") {
      return (StandardGroups.security, "a secret or token of this project's own")
    }
    if tokens.contains("KEY") || tokens.contains("KEYS") { return (StandardGroups.apiKeys, "a key for a service") }
    return (nil, "no group fits its name")
  }

  // MARK: - Required

  static func requirement(isSecret: Bool, value: String?, entries: [TemplateEntry], primary: [TemplateEntry]) -> (Bool, String) {
    if entries.allSatisfy({ $0.origin == .commentedOut }) { return (false, "commented out in the template") }
    if let hint = entries.first(where: { $0.origin == .composeInterpolation && $0.requiredHint != nil })?.requiredHint {
      return (true, hint)
    }
    if let hint = primary.lazy.compactMap(\.optionalHint).first { return (false, hint) }
    if let hint = primary.lazy.compactMap(\.requiredHint).first { return (true, hint) }
    let passThrough = primary.contains { $0.origin == .composePassThrough }
    guard let value, !value.isEmpty else {
      if primary.contains(where: { $0.origin == .workflowSecret }) { return (true, "GitHub Actions workflows use it") }
      if primary.contains(where: { $0.origin == .workflowVariable }) { return (true, "GitHub Actions workflows use it") }
      if passThrough { return (true, "compose passes it through from the environment") }
      return (true, "the template leaves it empty")
    }
    guard isSecret else { return (false, "a plain setting with a default") }
    if let hint = primary.lazy.compactMap(\.mustChangeHint).first { return (true, "the template's value must be changed: \(hint)") }
    if ValueShape.isPlaceholder(value) { return (true, "the template's value is a placeholder") }
    if ValueShape.isDevelopmentDefault(value) { return (true, "the template's value is a development default") }
    return (false, "the template gives a value")
  }

  // MARK: - Example

  static func example(isSecret: Bool, value: String?, name: String) -> (String?, String) {
    guard let value, !value.isEmpty else { return (nil, "no example (the template has no value)") }
    let printable = value.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7F } && value.count <= 200
    if !isSecret {
      if ValueShape.looksSecret(value) { return (nil, "value not copied: it is shaped like a secret") }
      return printable ? (value, "example: the template's default") : (nil, "no example (the value spans lines)")
    }
    if ValueShape.secretShape(value) == nil && ValueShape.isPlaceholder(value) && printable {
      return (value, "example: the template's placeholder")
    }
    if let masked = ValueShape.maskedURL(value) { return (masked, "example: the template's URL with its password replaced") }
    return (nil, "value not copied (it belongs to a secret)")
  }
}
