import CofferCore
import Crypto

/// AWS Signature Version 4, composed from swift-crypto's HMAC-SHA256 and SHA-256 (REMOTE-APIS.md §4.2).
///
/// Checked against the official `get-vanilla` vector and a Secrets Manager vector that botocore reproduces byte for
/// byte (../shared/api/vectors). Pure: the date is given, nothing is read from the clock or the environment.
package enum SigV4 {
  /// AWS credentials. ``description`` never shows the secret key or session token.
  package struct Credentials: Sendable, Equatable, CustomStringConvertible {
    /// The access key id (`AKIA…`, `ASIA…`).
    package var accessKeyID: String
    /// The secret access key.
    package var secretAccessKey: String
    /// The session token of temporary (STS) credentials, sent as `X-Amz-Security-Token`.
    package var sessionToken: String?

    /// Creates credentials.
    package init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
      self.accessKeyID = accessKeyID
      self.secretAccessKey = secretAccessKey
      self.sessionToken = sessionToken
    }

    /// `access key AKID…` (never the secret).
    package var description: String { "access key \(accessKeyID)" }
  }

  /// A signature and the intermediate texts (for tests and debugging; none of them holds the secret key).
  package struct Signed: Sendable, Equatable {
    /// The canonical request.
    package var canonicalRequest: String
    /// The string to sign.
    package var stringToSign: String
    /// The hex signature.
    package var signature: String
    /// The `Authorization` header value.
    package var authorization: String
  }

  /// Signs a request.
  /// - Parameters:
  ///   - method: `POST`, `GET`, ….
  ///   - path: the URI path, already encoded (`/`).
  ///   - query: the canonical query string (`""` for none).
  ///   - headers: the headers to sign (names in any case); `x-amz-date` is added from `amzDate`.
  ///   - body: the payload.
  ///   - region: the region (`us-east-1`).
  ///   - service: the signing name (`secretsmanager`).
  ///   - amzDate: `YYYYMMDDTHHMMSSZ`.
  ///   - credentials: the keys.
  /// - Returns: the signature with its canonical request and string to sign.
  package static func sign(
    method: String, path: String, query: String = "", headers: [(String, String)], body: [UInt8], region: String,
    service: String, amzDate: String, credentials: Credentials
  ) -> Signed {
    var canonical: [String: String] = [:]
    for (name, value) in headers {
      canonical[name.lowercased()] = value.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
    }
    canonical["x-amz-date"] = amzDate
    let names = canonical.keys.sorted()
    let signedHeaders = names.joined(separator: ";")
    let canonicalHeaders = names.map { "\($0):\(canonical[$0] ?? "")\n" }.joined()
    let canonicalRequest = [method, path, query, canonicalHeaders, signedHeaders, hex(SHA256.hash(data: body))]
      .joined(separator: "\n")
    let day = String(amzDate.prefix(8))
    let scope = "\(day)/\(region)/\(service)/aws4_request"
    let stringToSign = [
      "AWS4-HMAC-SHA256", amzDate, scope, hex(SHA256.hash(data: Array(canonicalRequest.utf8))),
    ].joined(separator: "\n")
    var key = SymmetricKey(data: Array(("AWS4" + credentials.secretAccessKey).utf8))
    for part in [day, region, service, "aws4_request"] {
      key = SymmetricKey(data: Array(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
    }
    let signature = hex(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: key))
    return Signed(
      canonicalRequest: canonicalRequest, stringToSign: stringToSign, signature: signature,
      authorization: "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(signedHeaders), "
        + "Signature=\(signature)")
  }

  /// `YYYYMMDDTHHMMSSZ` for a time in seconds since the Unix epoch (UTC).
  package static func amzDate(secondsSinceEpoch: Int64) -> String {
    // RFC 3339's `YYYY-MM-DDTHH:MM:SSZ` without its separators.
    String(Timestamp(secondsSinceEpoch: secondsSinceEpoch).rfc3339.filter { $0 != "-" && $0 != ":" })
  }

  static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
    let digits = Array("0123456789abcdef")
    var out = ""
    for byte in digest {
      out.append(digits[Int(byte >> 4)])
      out.append(digits[Int(byte & 15)])
    }
    return out
  }
}
