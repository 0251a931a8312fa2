/// What a template value looks like, judged without ever returning any part of it. Pure.
///
/// Used by ``SettingInference`` to tell secrets from settings, placeholders from real values, and to keep
/// anything secret-looking out of manifests. The token prefixes are those of the provider catalog in
/// `../shared/corpora/formats/catalog.json` (OpenAI, Anthropic, Slack, GitHub, Stripe, AWS, Google, SendGrid, npm,
/// PyPI, …).
public enum ValueShape {
  /// Prefixes of provider tokens and what they are (longest first where they overlap).
  static let tokenPrefixes: [(prefix: String, shape: String, provider: Bool)] = [
    ("sk-ant-", "an Anthropic key", false), ("sk-proj-", "an OpenAI key", false),
    ("sk-svcacct-", "an OpenAI key", false), ("sk-admin-", "an OpenAI key", false), ("sk-", "an OpenAI key", false),
    ("sk_live_", "a Stripe key", true), ("sk_test_", "a Stripe key", true), ("rk_live_", "a Stripe key", true),
    ("rk_test_", "a Stripe key", true), ("whsec_", "a Stripe webhook secret", true),
    ("xoxb-", "a Slack token", true), ("xoxp-", "a Slack token", true), ("xoxa-", "a Slack token", true),
    ("xoxs-", "a Slack token", true), ("xapp-", "a Slack token", true),
    ("https://hooks.slack.com/services/", "a Slack webhook URL", true),
    ("ghp_", "a GitHub token", true), ("gho_", "a GitHub token", true), ("ghu_", "a GitHub token", true),
    ("ghs_", "a GitHub token", true), ("ghr_", "a GitHub token", true), ("github_pat_", "a GitHub token", true),
    ("glpat-", "a GitLab token", true), ("pul-", "a Pulumi token", true), ("lin_api_", "a Linear key", true),
    ("pat-na1-", "a HubSpot token", true), ("pat-eu1-", "a HubSpot token", true), ("SG.", "a SendGrid key", true),
    ("npm_", "an npm token", true), ("pypi-", "a PyPI token", true), ("pcsk_", "a Pinecone key", false),
    ("AIza", "a Google API key", false), ("vcp_", "a Vercel token", false), ("key-", "a Mailgun key", true),
  ]

  /// What kind of secret a value is shaped like, or `nil`: a PEM private key, a JWT, a URL with a password, a
  /// provider token (a known prefix followed by at least 8 token characters that are not placeholder words, as in
  /// `xoxb-your-token-here`), an AWS access key ID, or a long random string (a run of 16 or more characters mixing letters and digits that is not words).
  /// - Parameter value: the value.
  /// - Returns: a short noun phrase such as `"a JWT"`, never containing the value.
  public static func secretShape(_ value: String) -> String? {
    if value.contains("-----BEGIN") && value.contains("PRIVATE KEY") { return "a PEM private key" }
    if isJWT(value) { return "a JWT" }
    if urlPassword(value).map({ !isPlaceholderWord($0) }) ?? false { return "a URL with a password" }
    for entry in tokenPrefixes where value.hasPrefix(entry.prefix) {
      let rest = value.dropFirst(entry.prefix.count)
      if rest.count >= 8 && rest.utf8.allSatisfy({ Bytes.isNameByte($0) || $0 == 0x2D || $0 == 0x2E || $0 == 0x2F })
        && (isRandom(String(rest)) || !isPlaceholderWord(rest))
      {
        return entry.shape
      }
    }
    if isAWSAccessKeyID(value) { return "an AWS access key ID" }
    if isRandom(value) { return "a long random string" }
    return nil
  }

  /// Whether ``secretShape(_:)`` finds a shape.
  /// - Parameter value: the value or word.
  public static func looksSecret(_ value: String) -> Bool { secretShape(value) != nil }

  /// The provider a token's prefix names (for grouping), or `nil`.
  static func providerShape(_ value: String) -> String? {
    for entry in tokenPrefixes where entry.provider && value.hasPrefix(entry.prefix) && value.count > entry.prefix.count + 7 {
      return entry.shape
    }
    return nil
  }

  /// `AKIA`/`ASIA`/… followed by 16 capital letters or digits.
  static func isAWSAccessKeyID(_ value: String) -> Bool {
    let bytes = Array(value.utf8)
    guard bytes.count == 20, ["AKIA", "ASIA", "ABIA", "ACCA"].contains(where: { value.hasPrefix($0) }) else { return false }
    return bytes.allSatisfy { ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x30 && $0 <= 0x39) }
  }

  /// Three base64url segments separated by dots, the first starting with `eyJ` (`{"`).
  static func isJWT(_ value: String) -> Bool {
    let parts = value.split(separator: ".", omittingEmptySubsequences: false)
    guard parts.count == 3, parts[0].hasPrefix("eyJ"), parts[0].count >= 10, parts[1].count >= 4 else { return false }
    return parts.allSatisfy { $0.utf8.allSatisfy { Bytes.isNameByte($0) || $0 == 0x2D || $0 == 0x3D } }
  }

  /// A run of at least 16 characters between separators (`-_./:+=`) that mixes letters and digits, in mixed case
  /// or as hexadecimal.
  static func isRandom(_ value: String) -> Bool {
    guard !value.contains(" ") else { return false }
    for segment in value.split(whereSeparator: { "-_./:+=".contains($0) }) where segment.count >= 16 {
      let bytes = segment.utf8
      let lower = bytes.contains { $0 >= 0x61 && $0 <= 0x7A }
      let upper = bytes.contains { $0 >= 0x41 && $0 <= 0x5A }
      let digit = bytes.contains { $0 >= 0x30 && $0 <= 0x39 }
      let hex = bytes.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) || ($0 >= 0x41 && $0 <= 0x46) }
      if digit && (lower || upper) && ((lower && upper) || hex) { return true }
      if lower && upper && segment.count >= 24 && Set(bytes).count >= 16 { return true }
    }
    return false
  }

  /// `scheme://…`.
  static func isURL(_ value: String) -> Bool {
    guard let range = value.firstRange(of: "://"), range.lowerBound > value.startIndex else { return false }
    return value[..<range.lowerBound].allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "+" || $0 == "-" || $0 == ".") }
  }

  /// A URL whose scheme names a database or broker.
  static func isDatabaseURL(_ value: String) -> Bool {
    let schemes = [
      "postgres", "postgresql", "mysql", "mariadb", "mongodb", "mongodb+srv", "redis", "rediss", "amqp", "amqps",
      "sqlserver", "mssql", "clickhouse", "snowflake",
    ]
    guard isURL(value), let range = value.firstRange(of: "://") else { return false }
    return schemes.contains(value[..<range.lowerBound].lowercased())
  }

  /// The password of a URL's `user:password@` part, if any.
  static func urlPassword(_ value: String) -> Substring? {
    guard isURL(value), let range = value.firstRange(of: "://") else { return nil }
    let rest = value[range.upperBound...]
    let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
    guard let at = authority.lastIndex(of: "@") else { return nil }
    let userInfo = authority[..<at]
    guard let colon = userInfo.firstIndex(of: ":") else { return nil }
    let password = userInfo[userInfo.index(after: colon)...]
    return password.isEmpty ? nil : password
  }

  /// The URL with its password replaced by `PASSWORD`, or `nil` when it has none.
  static func maskedURL(_ value: String) -> String? {
    guard let password = urlPassword(value) else { return nil }
    return String(value[..<password.startIndex]) + "PASSWORD" + String(value[password.endIndex...])
  }

  /// `true`, `false`, `yes`, `no`, `on`, `off`, in any case.
  static func isBoolean(_ value: String) -> Bool {
    ["true", "false", "yes", "no", "on", "off"].contains(value.lowercased())
  }

  /// What kind of setting a value reads as, or `nil`: a boolean, a number, a duration, a URL without credentials,
  /// an e-mail address, a path, words, or a short value.
  static func settingShape(_ value: String) -> String? {
    if value.isEmpty || looksSecret(value) { return nil }
    if isBoolean(value) { return "a boolean" }
    if value.allSatisfy({ $0.isASCII && $0.isNumber }) || (Double(value) != nil && !value.contains("e") && !value.contains("E")) {
      return "a number"
    }
    if isDuration(value) { return "a duration" }
    if isURL(value) { return urlPassword(value) == nil ? "a URL without credentials" : nil }
    if value.hasPrefix("/") || value.hasPrefix("./") || value.hasPrefix("../") || value.hasPrefix("~/") { return "a path" }
    if value.contains("@") && value.contains(".") && !value.contains(" ") && !value.contains(":") { return "an e-mail address" }
    if value.contains(" ") { return "words" }
    if value.count <= 64 { return "a short value" }
    return nil
  }

  /// `30s`, `1m30s`, `500ms`, `2h`, `7d`.
  static func isDuration(_ value: String) -> Bool {
    var sawDigit = false
    var sawUnit = false
    var i = value.startIndex
    while i < value.endIndex {
      let c = value[i]
      if c.isASCII && c.isNumber {
        sawDigit = true
      } else if "smhdw".contains(c) && sawDigit {
        sawUnit = true
        sawDigit = false
      } else {
        return false
      }
      i = value.index(after: i)
    }
    return sawUnit && !sawDigit
  }

  /// Words that mark a placeholder when they appear as a word of the value (split at punctuation and at
  /// lowercase-to-capital changes, so `smtpPassword` holds `password`).
  static let placeholderWords: Set<String> = [
    "your", "replace", "change", "changeme", "example", "placeholder", "insecure", "dummy", "fake", "todo", "fixme",
    "sample", "here", "password", "secret", "token", "key", "generate", "random", "redacted", "none", "null",
  ]

  /// Whether a value is an obvious placeholder: one of its words is `your`, `replace`, `change`, `changeme`,
  /// `example`, `placeholder`, `fake`, `dummy`, `TODO`, `password`, `secret`, `key` and the like; it holds `<`, `>`
  /// or `...`; it is a bare token prefix (`sk-`, `xoxb-`); one character repeated; or the variable's own name. A
  /// value shaped like a real secret is never a placeholder.
  /// - Parameters:
  ///   - value: the value.
  ///   - name: the variable's name, if known.
  public static func isPlaceholder(_ value: String, name: String? = nil) -> Bool {
    if value.isEmpty || secretShape(value) != nil { return false }
    if let name, value.lowercased() == name.lowercased() { return true }
    if isPlaceholderWord(Substring(value)) { return true }
    if tokenPrefixes.contains(where: { $0.prefix == value }) { return true }
    if let first = value.first, value.count >= 3, value.allSatisfy({ $0 == first }) { return true }
    return false
  }

  static func isPlaceholderWord(_ value: Substring) -> Bool {
    if value.contains("<") || value.contains(">") || value.contains("...") || value.contains("…") { return true }
    var words: [String] = []
    var current = ""
    var previousLower = false
    for c in value {
      if !(c.isLetter || c.isNumber) {
        if !current.isEmpty { words.append(current) }
        current = ""
        previousLower = false
        continue
      }
      if c.isUppercase && previousLower {
        words.append(current)
        current = ""
      }
      current.append(c)
      previousLower = c.isLowercase
    }
    if !current.isEmpty { words.append(current) }
    return words.contains { word in
      let lower = word.lowercased()
      return placeholderWords.contains(lower) || (lower.count >= 3 && lower.allSatisfy { $0 == "x" })
    }
  }

  /// A short value (at most 12 letters, digits, `-`, `_`) or a URL with credentials on a local host: the kind of
  /// default a template gives for development only.
  static func isDevelopmentDefault(_ value: String) -> Bool {
    if value.count <= 12 && value.utf8.allSatisfy({ Bytes.isNameByte($0) || $0 == 0x2D }) { return true }
    if urlPassword(value) != nil, let range = value.firstRange(of: "@") {
      let host = value[range.upperBound...].prefix { $0 != ":" && $0 != "/" && $0 != "?" }
      return host == "localhost" || host == "127.0.0.1" || host == "0.0.0.0" || !host.contains(".")
    }
    return false
  }
}
