import CofferCore

/// Which known values are worth looking for: a value is evidence of a leak only when it is a secret and is neither
/// too short nor too common to point at one (docs/scan.md, "What is not looked for").
///
/// Pure: bytes and manifest facts in, a reason out. The reason names the rule, never the value.
package enum Evidence {
  /// What the values are looked for by: a scan reports findings, so it needs values specific enough to be
  /// evidence; a redaction masks output, where a false mask costs little but a masked setting still misleads.
  package enum Purpose: Sendable {
    /// `coffer scan` and the pre-commit hook.
    case scan
    /// `coffer redact` and `coffer run --redact`.
    case redact
  }

  /// Values shorter than this many bytes are not looked for by a scan: `debug`, `3000`, `true` and most short
  /// passwords of a development environment would match prose and code everywhere.
  package static let minimumScanLength = 8

  /// Words a plain configuration value commonly is, compared ignoring case: booleans, log levels, environment
  /// names and local hosts.
  static let commonWords: Set<String> = [
    "true", "false", "yes", "no", "on", "off", "enabled", "disabled", "enable", "disable",
    "trace", "debug", "info", "notice", "warn", "warning", "error", "critical", "fatal", "verbose", "silent", "quiet",
    "development", "develop", "dev", "staging", "stage", "production", "prod", "test", "testing", "local",
    "localhost", "127.0.0.1", "0.0.0.0", "::1",
  ]

  /// Why a value is not looked for, or `nil` when it is.
  ///
  /// Rules, in order: a plain setting (`secret: false`); an empty value; (scan only) fewer than
  /// ``minimumScanLength`` bytes; a boolean, log level, environment name or local host (``commonWords``, ignoring
  /// case and surrounding spaces); a decimal number of at most 6 digits (a port, a count, a timeout); a placeholder
  /// (`Placeholder.detect`, including a value equal to the secret's `example:`). Values shorter than
  /// ``Encodings/minimumLength`` bytes are never looked for by anything (the scanner and the redactor say so).
  /// - Parameters:
  ///   - value: the value.
  ///   - isSecret: the manifest's `secret:` for the name (`true` for an undeclared name).
  ///   - example: the manifest's `example:`, if any.
  ///   - purpose: scan or redaction.
  /// - Returns: the reason, e.g. `a plain setting (secret: false)`; never the value or a part of it.
  package static func reasonToSkip(_ value: SecretValue, isSecret: Bool, example: String?, purpose: Purpose) -> String? {
    if !isSecret { return "a plain setting (secret: false)" }
    let bytes = value.reveal()
    if bytes.isEmpty { return "empty" }
    if bytes.count < Encodings.minimumLength { return nil }  // the scanner and redactor report these themselves
    if purpose == .scan, bytes.count < minimumScanLength { return "shorter than \(minimumScanLength) bytes" }
    if let text = String(validating: bytes, as: UTF8.self) {
      let trimmed = text.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }.reversed()
      let word = String(trimmed)
      if commonWords.contains(word.lowercased()) { return "a common configuration word" }
      let digits = word.hasPrefix("-") ? Substring(word.dropFirst()) : Substring(word)
      if !digits.isEmpty, digits.count <= 6, digits.unicodeScalars.allSatisfy({ $0.value >= 0x30 && $0.value <= 0x39 }) {
        return "a small number"
      }
    }
    if let placeholder = Placeholder.detect(value, example: example) { return "a placeholder: \(placeholder)" }
    return nil
  }
}
