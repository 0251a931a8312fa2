/// Name and value syntax rules shared by the manifest decoder, editor and encoder.
package enum ManifestSyntax {
  /// The lowercase bech32 alphabet used by age recipients.
  static let bech32: Set<Unicode.Scalar> = Set("qpzry9x8gf2tvdw0s3jn54khce6mua7l".unicodeScalars)

  static func isLowerAlnum(_ s: Unicode.Scalar) -> Bool { ("a"..."z").contains(s) || ("0"..."9").contains(s) }
  static func isAlpha(_ s: Unicode.Scalar) -> Bool { ("a"..."z").contains(s) || ("A"..."Z").contains(s) }
  static func isDigit(_ s: Unicode.Scalar) -> Bool { ("0"..."9").contains(s) }

  /// `[a-z0-9][a-z0-9._-]*`: environment and group names.
  static func isEnvironmentName(_ name: String) -> Bool {
    let scalars = name.unicodeScalars
    guard let first = scalars.first, isLowerAlnum(first) else { return false }
    return scalars.allSatisfy { isLowerAlnum($0) || $0 == "." || $0 == "_" || $0 == "-" }
  }

  /// `[A-Za-z_][A-Za-z0-9_]*`, at most 256 bytes: secret (variable) names (``SecretName``, the one rule).
  static func isSecretName(_ name: String) -> Bool { SecretName.isValid(name) }

  /// `[A-Za-z0-9][A-Za-z0-9._@+-]*`: recipient names.
  static func isRecipientName(_ name: String) -> Bool {
    let scalars = name.unicodeScalars
    guard let first = scalars.first, isAlpha(first) || isDigit(first) else { return false }
    return scalars.allSatisfy { isAlpha($0) || isDigit($0) || "._@+-".unicodeScalars.contains($0) }
  }

  /// An age X25519 recipient as `age-keygen` prints it: lowercase Bech32 (BIP-173) with human-readable part `age`, a
  /// valid checksum and a 32-byte key; what `AgeX25519Recipient(parsing:)` accepts (age-encryption.org/v1).
  static func isAgeRecipient(_ text: String) -> Bool {
    guard text.hasPrefix("age1"), text.unicodeScalars.dropFirst(4).allSatisfy({ bech32.contains($0) }),
      let decoded = try? Bech32.decode(text, limit: nil)
    else { return false }
    return decoded.hrp == "age" && decoded.data.count == 32
  }

  static let environmentNameRule = "use lowercase letters, digits, '.', '_' and '-', starting with a letter or digit"
  static let secretNameRule = SecretName.rule
  static let recipientNameRule = "use letters, digits, '.', '_', '@', '+' and '-', starting with a letter or digit"
  /// Whether `text` is a published signing key: `ed25519:` and 32 bytes in canonical padded base64.
  static func isSigningKey(_ text: String) -> Bool {
    guard text.hasPrefix("ed25519:"), let raw = Base64.decode(Array(text.utf8.dropFirst(8))[...], padded: true) else {
      return false
    }
    return raw.count == 32
  }

  static let signingKeyRule =
    "expected `age1… ed25519:BASE64`: an age recipient, optionally followed by one space and the signing key `coffer identity` prints"

  static let recipientRule = "expected an age X25519 recipient: 'age1' and lowercase bech32 with a valid checksum, as age-keygen prints it"

  /// Levenshtein distance, for "did you mean" hints on short field names.
  package static func editDistance(_ a: String, _ b: String) -> Int {
    let x = Array(a.unicodeScalars)
    let y = Array(b.unicodeScalars)
    if x.isEmpty { return y.count }
    if y.isEmpty { return x.count }
    var previous = Array(0...y.count)
    var current = [Int](repeating: 0, count: y.count + 1)
    for i in 1...x.count {
      current[0] = i
      for j in 1...y.count {
        let cost = x[i - 1] == y[j - 1] ? 0 : 1
        current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
      }
      swap(&previous, &current)
    }
    return previous[y.count]
  }

  /// The closest allowed name within distance 2, if any.
  static func suggestion(for name: String, among allowed: [String]) -> String? {
    var best: (name: String, distance: Int)?
    for candidate in allowed {
      let distance = editDistance(name.lowercased(), candidate)
      if distance <= 2, distance < (best?.distance ?? Int.max) { best = (candidate, distance) }
    }
    return best?.name
  }
}
