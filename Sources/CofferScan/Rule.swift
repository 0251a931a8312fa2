/// A format rule: finds secrets by their shape rather than by a known value.
///
/// A rule names literal triggers; the scanner looks for them in the same single pass as the known values, and
/// calls ``confirm(_:atEnd:)`` with the text that starts at each trigger. Rules from a format catalog plug in here.
/// A finding is located at its trigger's first byte.
package protocol Rule: Sendable {
  /// The rule's identifier in reports, e.g. `private-key`.
  var id: String { get }
  /// Literal byte strings at which a match can start; at least 4 bytes each.
  var triggers: [[UInt8]] { get }
  /// How many bytes from the trigger's start ``confirm(_:atEnd:)`` may need to see.
  var lookahead: Int { get }
  /// Decides whether the text at a trigger is a secret.
  /// - Parameters:
  ///   - window: the bytes from the trigger's first byte, ``lookahead`` long unless the input ended first.
  ///   - atEnd: whether the input ends where `window` ends.
  /// - Returns: the match, or nil.
  func confirm(_ window: UnsafeRawBufferPointer, atEnd: Bool) -> RuleMatch?
}

/// What a rule found at a trigger.
package struct RuleMatch: Sendable {
  /// The length of the whole match in bytes, from the trigger's first byte.
  package var length: Int
  /// The secret part of the match, normalized so that the same secret in another layout gives the same bytes; it
  /// is only ever passed to the keyed fingerprint function, never reported.
  package var material: [UInt8]

  /// Creates a match.
  /// - Parameters:
  ///   - length: bytes from the trigger's first byte to the end of the match.
  ///   - material: the normalized secret, for the fingerprint only.
  package init(length: Int, material: [UInt8]) {
    self.length = length
    self.material = material
  }
}

/// Private keys in PEM form (RFC 7468 §10, OpenSSH and PGP armor too): `-----BEGIN … PRIVATE KEY-----`, a base64
/// body, and the matching `-----END … PRIVATE KEY-----`, whether the line breaks are real (LF or CRLF), turned into
/// spaces, or written as literal `\n` escapes (once or twice escaped), and across string literals joined by `+`.
///
/// The material is the base64 body alone, so the fingerprint is the same in every layout. A header with no body
/// (code that parses PEM) or no matching END marker within ``lookahead`` bytes is not a finding.
package struct PrivateKeyRule: Rule {
  /// `private-key`.
  package let id = "private-key"
  /// `-----BEGIN `.
  package let triggers = [Array("-----BEGIN ".utf8)]
  /// 64 KiB: the END marker must come within this many bytes of the BEGIN marker.
  package let lookahead = 65_536
  /// The smallest body, in base64 characters, that counts as a key.
  package let minimumBody = 8

  /// The rule.
  package init() {}

  /// Parses the armor at the trigger; see the type's summary for what is accepted.
  package func confirm(_ window: UnsafeRawBufferPointer, atEnd: Bool) -> RuleMatch? {
    let w = window.bindMemory(to: UInt8.self)
    let n = w.count
    var i = 11  // after "-----BEGIN "
    // The label: capitals, digits and spaces, ending in PRIVATE KEY or PRIVATE KEY BLOCK.
    let labelStart = i
    while i < n, i - labelStart <= 48, w[i] == 0x20 || (w[i] >= 0x41 && w[i] <= 0x5A) || (w[i] >= 0x30 && w[i] <= 0x39) {
      i += 1
    }
    let label = Array(w[labelStart..<i])
    guard label.count >= 11, i + 5 <= n, isDashes(w, i) else { return nil }
    guard endsWith(label, "PRIVATE KEY") || endsWith(label, "PRIVATE KEY BLOCK") else { return nil }
    i += 5
    var body: [UInt8] = []
    let end = Array("-----END ".utf8) + label + Array("-----".utf8)
    while i < n {
      // Separators between lines: whitespace, literal escapes, quotes and concatenation.
      let separatorStart = i
      while i < n, i - separatorStart <= 64 {
        let b = w[i]
        if b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D || b == 0x22 || b == 0x27 || b == 0x2B || b == 0x2C {
          i += 1
        } else if b == 0x5C {
          var j = i
          while j < n, w[j] == 0x5C { j += 1 }
          guard j < n, w[j] == UInt8(ascii: "n") || w[j] == UInt8(ascii: "r") || w[j] == UInt8(ascii: "t") else {
            if j >= n { i = j }
            break
          }
          i = j + 1
        } else {
          break
        }
      }
      guard i < n else { break }
      if w[i] == 0x2D {
        guard matches(w, i, end) else { return nil }
        guard body.count >= minimumBody else { return nil }
        return RuleMatch(length: i + end.count, material: body)
      }
      // An armor header (`Proc-Type: 4,ENCRYPTED`, `Version: …`): skip to the next line break.
      var j = i
      while j < n, (w[j] >= 0x41 && w[j] <= 0x5A) || (w[j] >= 0x61 && w[j] <= 0x7A) || w[j] == 0x2D { j += 1 }
      if j > i, j < n, w[j] == 0x3A {
        while j < n, w[j] != 0x0A, !(w[j] == 0x5C && j + 1 < n && w[j + 1] == UInt8(ascii: "n")) { j += 1 }
        i = j
        continue
      }
      let runStart = i
      while i < n, isBase64(w[i]) { i += 1 }
      guard i > runStart else { return nil }
      body.append(contentsOf: w[runStart..<i])
    }
    return nil
  }

  private func isDashes(_ w: UnsafeBufferPointer<UInt8>, _ i: Int) -> Bool {
    (0..<5).allSatisfy { w[i + $0] == 0x2D }
  }

  private func matches(_ w: UnsafeBufferPointer<UInt8>, _ i: Int, _ literal: [UInt8]) -> Bool {
    guard i + literal.count <= w.count else { return false }
    for k in 0..<literal.count where w[i + k] != literal[k] { return false }
    return true
  }

  private func endsWith(_ label: [UInt8], _ suffix: String) -> Bool {
    let s = Array(suffix.utf8)
    guard label.count >= s.count else { return false }
    return Array(label.suffix(s.count)) == s && (label.count == s.count || label[label.count - s.count - 1] == 0x20)
  }

  private func isBase64(_ b: UInt8) -> Bool {
    Encodings.isAlphanumeric(b) || b == 0x2B || b == 0x2F || b == 0x3D
  }
}

/// An age X25519 identity (https://age-encryption.org/v1): `AGE-SECRET-KEY-1` and 58 upper-case bech32
/// characters (BIP 173). A Coffer identity in a repository opens every vault it is a recipient of.
///
/// The material is the whole key; the match must not continue with another bech32 character.
package struct AgeIdentityRule: Rule {
  /// `age-identity`.
  package let id = "age-identity"
  /// `AGE-SECRET-KEY-1`.
  package let triggers = [Array("AGE-SECRET-KEY-1".utf8)]
  /// The key's length.
  package let lookahead = 16 + 58 + 1

  /// The rule.
  package init() {}

  /// Accepts exactly 58 bech32 characters after the prefix.
  package func confirm(_ window: UnsafeRawBufferPointer, atEnd: Bool) -> RuleMatch? {
    let w = window.bindMemory(to: UInt8.self)
    let charset = Array("QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L".utf8)
    var i = 16
    while i < w.count, i < 16 + 59, charset.contains(w[i]) { i += 1 }
    guard i == 16 + 58 else { return nil }
    return RuleMatch(length: i, material: Array(w[0..<i]))
  }
}
