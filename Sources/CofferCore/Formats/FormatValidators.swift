/// Structural checks for the catalog formats that a shape cannot express (JSON, PEM, URLs, key=value strings).
///
/// Each returns `nil` when the value is well formed, else a lowercase phrase that follows "is not a …: " and names
/// only catalog facts and positions, never any part of the value. Each is a single linear pass (the JSON reader
/// bounds its nesting), so hostile input cannot make it slow.
enum FormatValidators {
  // MARK: JWT (RFC 7519, RFC 7515 compact serialization)

  @Sendable static func jwt(_ bytes: [UInt8]) -> String? {
    let parts = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
    guard parts.count == 3 else {
      return "has \(parts.count) dot-separated parts, needs 3 (header.payload.signature)"
    }
    guard let header = decodeJSONObject(parts[0]) else { return "its header is not base64url-encoded JSON" }
    guard let algorithm = header["alg"]?.string else { return "its header has no alg" }
    guard decodeJSONObject(parts[1]) != nil else { return "its payload is not base64url-encoded JSON" }
    if parts[2].isEmpty, algorithm != "none" { return "has no signature" }
    return nil
  }

  private static func decodeJSONObject(_ segment: ArraySlice<UInt8>) -> FormatJSON.Value? {
    guard !segment.isEmpty else { return nil }
    let standard = segment.map { byte -> UInt8 in
      switch byte {
      case UInt8(ascii: "-"): return UInt8(ascii: "+")
      case UInt8(ascii: "_"): return UInt8(ascii: "/")
      default: return byte
      }
    }
    guard let decoded = Base64.decode(String(decoding: standard, as: UTF8.self), padded: false),
      let value = FormatJSON.parse(decoded), case .object = value
    else { return nil }
    return value
  }

  // MARK: PEM private keys (RFC 7468; OpenSSH and PGP armor use the same envelope)

  static let pemLabels = [
    "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "DSA PRIVATE KEY", "OPENSSH PRIVATE KEY",
    "ENCRYPTED PRIVATE KEY", "PGP PRIVATE KEY BLOCK",
  ]

  @Sendable static func pem(_ bytes: [UInt8]) -> String? {
    var text = bytes
    // A key stored on one line with literal \n escapes (JSON, .env) counts as the same key.
    if !text.contains(0x0A), text.count >= 2 {
      var unescaped: [UInt8] = []
      unescaped.reserveCapacity(text.count)
      var index = 0
      while index < text.count {
        if text[index] == UInt8(ascii: "\\"), index + 1 < text.count, text[index + 1] == UInt8(ascii: "n") {
          unescaped.append(0x0A)
          index += 2
        } else {
          unescaped.append(text[index])
          index += 1
        }
      }
      text = unescaped
    }
    var lines = text.split(separator: 0x0A, omittingEmptySubsequences: false).map { line -> ArraySlice<UInt8> in
      line.last == 0x0D ? line.dropLast() : line
    }
    while let last = lines.last, last.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { lines.removeLast() }
    let beginLabel = lines.first.flatMap { label(of: $0, marker: "BEGIN") }
    guard let label = beginLabel else {
      return "does not begin with a -----BEGIN … PRIVATE KEY----- line of a known kind"
    }
    guard lines.count >= 3, let endLabel = self.label(of: lines[lines.count - 1], marker: "END"), endLabel == label else {
      return "does not end with the -----END line matching its BEGIN line"
    }
    var sawBase64 = false
    var inHeaders = true
    for (offset, line) in lines[1..<(lines.count - 1)].enumerated() {
      if line.isEmpty {
        inHeaders = false
        continue
      }
      if inHeaders, !sawBase64, line.contains(UInt8(ascii: ":")) { continue }  // Proc-Type:, DEK-Info:, Version:
      guard line.allSatisfy({ ByteClass.base64Padded.contains($0) }) else {
        return "line \(offset + 2) is not base64"
      }
      sawBase64 = true
      inHeaders = false
    }
    return sawBase64 ? nil : "has no base64 body"
  }

  private static func label(of line: ArraySlice<UInt8>, marker: String) -> String? {
    let head = Array("-----\(marker) ".utf8)
    let tail = Array("-----".utf8)
    guard line.count > head.count + tail.count, line.starts(with: head), line.suffix(tail.count).elementsEqual(tail)
    else { return nil }
    let inner = String(decoding: line.dropFirst(head.count).dropLast(tail.count), as: UTF8.self)
    return pemLabels.contains(inner) ? inner : nil
  }

  // MARK: Google Cloud service account key file

  @Sendable static func serviceAccountJSON(_ bytes: [UInt8]) -> String? {
    guard let value = FormatJSON.parse(bytes), case .object = value else { return "is not a JSON object" }
    guard value["type"]?.string == "service_account" else { return "its type is not service_account" }
    guard let key = value["private_key"]?.string, key.hasPrefix("-----BEGIN ") else {
      return "has no PEM private_key"
    }
    guard let email = value["client_email"]?.string, email.contains("@") else { return "has no client_email" }
    return nil
  }

  // MARK: Azure Storage connection string

  @Sendable static func azureConnectionString(_ bytes: [UInt8]) -> String? {
    var fields: [String: [UInt8]] = [:]
    for part in bytes.split(separator: UInt8(ascii: ";")) {
      guard let equals = part.firstIndex(of: UInt8(ascii: "=")) else { return "has a part that is not key=value" }
      fields[String(decoding: part[part.startIndex..<equals], as: UTF8.self)] = Array(part[(equals + 1)...])
    }
    guard let scheme = fields["DefaultEndpointsProtocol"], scheme == Array("https".utf8) || scheme == Array("http".utf8)
    else { return "its DefaultEndpointsProtocol is not http or https" }
    guard let account = fields["AccountName"], !account.isEmpty else { return "has no AccountName" }
    guard let key = fields["AccountKey"] else { return "has no AccountKey" }
    guard key.count == 88, Shape([.exactly(86, .base64), .text("==")]).matches(key, from: 0, to: key.count) else {
      return "its AccountKey is not 88 base64 characters ending in =="
    }
    return nil
  }

  // MARK: Database URLs (RFC 3986 authority: [userinfo@]host[:port])

  @Sendable static func databaseURL(_ bytes: [UInt8]) -> String? {
    guard let schemeEnd = indexAfterScheme(bytes) else { return "has no scheme://" }
    var end = schemeEnd
    while end < bytes.count, ![UInt8(ascii: "/"), UInt8(ascii: "?"), UInt8(ascii: "#")].contains(bytes[end]) {
      end += 1
    }
    let authority = bytes[schemeEnd..<end]
    var hostPart = authority
    if let at = authority.lastIndex(of: UInt8(ascii: "@")) {
      let userinfo = authority[authority.startIndex..<at]
      hostPart = authority[(at + 1)...]
      if let colon = userinfo.firstIndex(of: UInt8(ascii: ":")), colon + 1 == userinfo.endIndex {
        return "has an empty password"
      }
    }
    guard let first = hostPart.first, first != UInt8(ascii: ":"), first != UInt8(ascii: ",") else {
      // libpq takes an empty host as the local socket (`postgres:///db?host=/var/run/postgresql`).
      if authority.isEmpty, bytes.starts(with: Array("postgres".utf8)) { return nil }
      return "has no host"
    }
    return nil
  }

  private static func indexAfterScheme(_ bytes: [UInt8]) -> Int? {
    let separator = Array("://".utf8)
    var index = 0
    while index + separator.count <= bytes.count {
      if bytes[index] == separator[0], bytes[index + 1] == separator[1], bytes[index + 2] == separator[2] {
        return index + separator.count
      }
      index += 1
    }
    return nil
  }
}
