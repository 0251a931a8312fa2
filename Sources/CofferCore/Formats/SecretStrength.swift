/// What a team-generated secret is used for, inferred from its name, and how strong it must be.
///
/// Every use needs at least 128 bits of entropy: the security level of AES-128 and the minimum NIST SP 800-131A
/// allows for new keys (HMAC keys need at least 112 bits, RFC 2104 recommends at least the hash output length;
/// OWASP asks session secrets for at least 64 bits). Provider-issued credentials are never judged here: their
/// strength is the provider's business, and the format catalog checks their shape.
public enum SecretUse: String, Sendable, Hashable, CaseIterable {
  /// `JWT_*` (holding `SECRET` or `KEY`), `*_SIGNING_KEY`, `*_SIGNING_SECRET`: an HMAC key.
  case signingKey = "signing key"
  /// `SESSION_*` (holding `SECRET` or `KEY`), `*_SESSION_SECRET`, `*_SESSION_KEY`: a cookie or session secret.
  case sessionSecret = "session secret"
  /// `*_ENCRYPTION_KEY`: a symmetric encryption key.
  case encryptionKey = "encryption key"
  /// `*_SECRET`, `*_SECRET_KEY`, `*_SECRET_KEY_BASE`, `SECRET_KEY`: an application secret.
  case applicationSecret = "application secret"

  /// The least estimated entropy a value needs, in bits: 128 for every use.
  public var requiredBits: Int { 128 }

  /// `a signing key`, `an encryption key`.
  public var phrase: String { FormatText.article(rawValue) + " " + rawValue }

  /// The use a variable name implies, if it names a secret the team generates.
  ///
  /// Names with `PUBLIC`, and `*_CLIENT_SECRET` (an OAuth client secret, issued by the provider), imply none.
  /// - Parameter name: a variable name; compared case-insensitively.
  /// - Returns: the use, or `nil`.
  public static func inferred(fromName name: String) -> SecretUse? {
    var name = name
    if let use = name.withUTF8(asciiInferred) { return use }
    return inferredText(name)
  }

  /// ``inferred(fromName:)`` of any name: uppercased as a `String` (which also folds letters outside ASCII), then
  /// the same byte rules (``rules(_:)``); tests check that ``asciiInferred(_:)`` agrees.
  static func inferredText(_ name: String) -> SecretUse? {
    var upper = name.uppercased()
    return upper.withUTF8(rules)
  }

  /// ``inferred(fromName:)`` of an ASCII name (every valid secret name is one), uppercased on the stack: no `String`
  /// is made or compared by `Character`, which cost `check` 3,600 instructions a name. `.none` for a name with a
  /// byte outside ASCII (``inferredText(_:)`` then decides).
  static func asciiInferred(_ name: UnsafeBufferPointer<UInt8>) -> SecretUse?? {
    for b in name where b >= 0x80 { return nil }
    return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(name.count, 1)) { buffer -> SecretUse?? in
      for (i, b) in name.enumerated() { buffer[i] = b >= 0x61 && b <= 0x7A ? b - 0x20 : b }
      return .some(rules(UnsafeBufferPointer(rebasing: buffer[..<name.count])))
    }
  }

  /// The rules, on an uppercased name's UTF-8 bytes (byte searches: `String.contains(_:)` compares by `Character`
  /// and cost `check` about 35 µs a secret).
  private static func rules(_ upper: UnsafeBufferPointer<UInt8>) -> SecretUse? {
    func hasPrefix(_ p: StaticString) -> Bool { ByteSearch.hasPrefix(upper, p) }
    func hasSuffix(_ p: StaticString) -> Bool { ByteSearch.hasSuffix(upper, p) }
    func has(_ p: StaticString) -> Bool { ByteSearch.contains(upper, p) }
    if has("PUBLIC") || hasSuffix("CLIENT_SECRET") { return nil }
    let holdsKey = has("SECRET") || has("KEY")
    if hasPrefix("JWT_") && holdsKey { return .signingKey }
    if hasSuffix("SIGNING_KEY") || hasSuffix("SIGNING_SECRET") { return .signingKey }
    if hasPrefix("SESSION_") && holdsKey { return .sessionSecret }
    if hasSuffix("_SESSION_SECRET") || hasSuffix("_SESSION_KEY") { return .sessionSecret }
    if hasSuffix("ENCRYPTION_KEY") { return .encryptionKey }
    if hasSuffix("_SECRET") || hasSuffix("_SECRET_KEY") || hasSuffix("_SECRET_KEY_BASE") { return .applicationSecret }
    if (upper.count == 6 && hasPrefix("SECRET")) || (upper.count == 10 && hasPrefix("SECRET_KEY"))
      || (upper.count == 15 && hasPrefix("SECRET_KEY_BASE"))
    {
      return .applicationSecret
    }
    return nil
  }
}

/// An estimate of how many bits of entropy a value carries, meant to catch secrets typed by a person
/// (`my-jwt-secret-2024`, `too-short`, `aaaaaaaaaaaaaaaa`) without flagging random ones.
///
/// The value is read left to right as tokens, and the estimate is the sum of their costs, rounded down:
/// - a stretch of 5 or more characters that repeats text seen earlier (LZ77-style, overlapping allowed, so runs
///   such as `aaaaaaaa` count too) costs log2(position) + log2(length) bits;
/// - an ascending or descending sequence of 5 or more characters (`abcdef`, `98765`) costs log2(pool) + log2(length)
///   + 1 bits;
/// - a common word of 3 or more letters from a built-in list of ``wordCount`` words (none made only of the letters
///   a-f, so hex is never read as words) costs log2(``wordCount``) + 1 bits;
/// - a punctuation character or space equal to the previous one seen (the `-` in `my-jwt-secret`) costs 1 bit;
/// - any other character costs log2(pool) bits, where the pool is the size of the character classes the value uses:
///   16 when every character is a hex digit in one case, else 10 digits + 26 lowercase + 26 uppercase + 33 ASCII
///   symbols and space + 100 for anything beyond ASCII, counting only the classes present.
///
/// A value that is not UTF-8 counts 8 bits per byte. A random value scores close to its true entropy (32 random
/// hex digits score 128, 32 random bytes in base64 score more than 256); only the first 4,096 characters are
/// tokenized, and the rest cost log2(pool) each, so the estimate is O(n).
public struct StrengthEstimate: Sendable, Hashable {
  /// The value's length in Unicode scalars (bytes when it is not UTF-8).
  public let characters: Int
  /// The estimated entropy in bits, rounded down.
  public let bits: Int

  /// Creates an estimate from its parts.
  /// - Parameters:
  ///   - characters: the length.
  ///   - bits: the estimated entropy.
  public init(characters: Int, bits: Int) {
    self.characters = characters
    self.bits = bits
  }

  /// How many words the built-in list has.
  public static var wordCount: Int { words.count }

  static let words: Set<String> = [
    "secret", "secrets", "password", "passwd", "passphrase", "token", "tokens", "signing", "session", "sessions",
    "encryption", "encrypt", "cookie", "change", "changeme", "example", "sample", "default", "admin", "administrator",
    "root", "test", "testing", "local", "localhost", "development", "develop", "staging", "production", "prod",
    "fake", "dummy", "demo", "hello", "world", "qwerty", "letmein", "welcome", "super", "supersecret", "please",
    "private", "public", "master", "access", "server", "client", "service", "account", "user", "users", "login",
    "auth", "oauth", "api", "apikey", "app", "application", "company", "project", "team", "short", "long",
    "very", "really", "random", "string", "value", "this", "that", "with", "your", "mine", "here", "there", "should",
    "must", "never", "always", "guess", "nobody", "safe", "secure", "unsafe", "insecure", "strong", "weak",
    "jwt", "hmac", "sha256", "aes256", "key", "keys", "lock", "unlock", "open", "sesame", "trust", "shared",
    "spring", "summer", "autumn", "winter", "january", "february", "march", "april", "june", "july", "august",
    "september", "october", "november", "december", "monday", "friday", "dragon", "monkey", "football", "baseball",
    "shadow", "sunshine", "princess", "starwars", "batman", "superman", "iloveyou", "trustno1", "coffer", "vault",
    "database", "postgres", "redis", "mysql", "mongo", "docker", "kubernetes", "github", "slack", "stripe",
    "google", "amazon", "azure", "openai", "anthropic", "backend", "frontend", "webhook", "internal", "external",
    "acme", "foobar", "placeholder", "replace", "todo", "fixme", "temp", "temporary", "tmp", "new",
    "old", "mysecret", "yoursecret", "oursecret", "keep", "hidden", "hide", "door", "gate", "magic", "word",
    "dev", "for", "the", "and", "pwd", "sso", "web", "foo", "bar", "baz", "qux", "our", "you", "top",
    "yes", "not", "use", "pro", "prd", "uat", "stg", "sig", "iam", "aws", "gcp", "env", "cfg", "one", "two", "six",
    "ten", "red", "sun", "sky", "cat", "dog", "pig", "owl", "fox", "man", "boy", "god", "sex", "war", "win", "lol",
    "omg", "wtf", "xyz", "qwe", "asd", "zxc",
  ].reduce(into: Set<String>()) { $0.insert($1.lowercased()) }

  /// Estimates a value's entropy; see the type's description for the method.
  /// - Parameter value: the value.
  /// - Returns: its length and estimated bits.
  public static func estimate(_ value: SecretValue) -> StrengthEstimate {
    let bytes = value.reveal()
    guard let text = String(validating: bytes, as: UTF8.self) else {
      return StrengthEstimate(characters: bytes.count, bits: bytes.count * 8)
    }
    let scalars = Array(text.unicodeScalars)
    let pool = Double(poolSize(scalars))
    let perCharacter = log2(pool)
    let limit = min(scalars.count, 4096)
    var bits = Double(scalars.count - limit) * perCharacter
    var seen: [[UInt32]: Int] = [:]  // 5-scalar window -> first position
    let values = scalars.map(\.value)
    var nextWindow = 0
    func remember(upTo end: Int) {
      while nextWindow + 5 <= end {
        let window = Array(values[nextWindow..<nextWindow + 5])
        if seen[window] == nil { seen[window] = nextWindow }
        nextWindow += 1
      }
    }
    var index = 0
    var lastSeparator: Unicode.Scalar?
    while index < limit {
      if index + 5 <= limit, let earlier = seen[Array(values[index..<index + 5])] {
        var length = 5
        while index + length < limit, values[earlier + length] == values[index + length] { length += 1 }
        bits += log2(Double(index)) + log2(Double(length))
        index += length
        remember(upTo: index)
        continue
      }
      if index > 0, let run = sequence(values, from: index - 1, limit: limit), run >= 5 {
        // The sequence started at index - 1, which has been counted as one character already.
        bits += log2(Double(run)) + 1
        index += run - 1
        remember(upTo: index)
        continue
      }
      if let length = word(scalars, at: index, limit: limit) {
        bits += log2(Double(words.count)) + 1
        index += length
        remember(upTo: index)
        continue
      }
      let scalar = scalars[index]
      if isSeparator(scalar) {
        bits += scalar == lastSeparator ? 1 : perCharacter
        lastSeparator = scalar
      } else {
        bits += perCharacter
      }
      index += 1
      remember(upTo: index)
    }
    return StrengthEstimate(characters: scalars.count, bits: Int(bits.rounded(.down)))
  }

  /// ASCII punctuation and space: what people put between words.
  private static func isSeparator(_ scalar: Unicode.Scalar) -> Bool {
    scalar.isASCII && (0x20...0x7E).contains(scalar.value) && !ManifestSyntax.isAlpha(scalar)
      && !ManifestSyntax.isDigit(scalar)
  }

  /// The length of the ascending or descending (by one code point) sequence starting at `start`.
  private static func sequence(_ values: [UInt32], from start: Int, limit: Int) -> Int? {
    guard start + 1 < limit else { return nil }
    let step = Int64(values[start + 1]) - Int64(values[start])
    guard step == 1 || step == -1 else { return nil }
    var length = 2
    while start + length < limit, Int64(values[start + length]) - Int64(values[start + length - 1]) == step {
      length += 1
    }
    return length
  }

  /// The length of the longest listed word (case-insensitive) starting at `index`, if any.
  private static func word(_ scalars: [Unicode.Scalar], at index: Int, limit: Int) -> Int? {
    var best: Int?
    var candidate = ""
    var length = 0
    while index + length < limit, length < 16 {
      let scalar = scalars[index + length]
      guard scalar.isASCII else { break }
      candidate.unicodeScalars.append(Unicode.Scalar(UInt8(ascii: scalar).lowercasedASCII))
      length += 1
      if length >= 3, words.contains(candidate) { best = length }
    }
    return best
  }

  private static func poolSize(_ scalars: [Unicode.Scalar]) -> Int {
    var lower = false
    var upper = false
    var digits = false
    var symbols = false
    var other = false
    var lowerHex = true
    var upperHex = true
    for scalar in scalars {
      switch scalar.value {
      case 0x30...0x39: digits = true
      case 0x61...0x7A:
        lower = true
        upperHex = false
        if scalar.value > 0x66 { lowerHex = false }
      case 0x41...0x5A:
        upper = true
        lowerHex = false
        if scalar.value > 0x46 { upperHex = false }
      case 0x20...0x7E:
        symbols = true
        lowerHex = false
        upperHex = false
      default:
        other = true
        lowerHex = false
        upperHex = false
      }
    }
    if !scalars.isEmpty, (lowerHex && lower) || (upperHex && upper) { return 16 }
    var size = 0
    if digits { size += 10 }
    if lower { size += 26 }
    if upper { size += 26 }
    if symbols { size += 33 }
    if other { size += 100 }
    return max(size, 1)
  }

  /// log2(x) for x ≥ 1, without Foundation: the binary exponent plus ln(m)/ln 2 for the mantissa m in [1, 2),
  /// with ln(m) = 2·atanh((m-1)/(m+1)) summed until the terms vanish. Accurate to about 1e-15.
  static func log2(_ x: Double) -> Double {
    guard x > 0 else { return 0 }
    let exponent = Double(x.exponent)
    let mantissa = x.significand
    let y = (mantissa - 1) / (mantissa + 1)
    let y2 = y * y
    var term = y
    var sum = 0.0
    var k = 1.0
    while abs(term / k) > 1e-17 {
      sum += term / k
      term *= y2
      k += 2
    }
    return exponent + 2 * sum / 0.693_147_180_559_945_309_417_232_121_458
  }
}

extension UInt8 {
  fileprivate var lowercasedASCII: UInt8 { (0x41...0x5A).contains(self) ? self + 0x20 : self }
}
