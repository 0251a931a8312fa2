import Crypto

/// AWS Signature Version 4, composed from swift-crypto's HMAC-SHA256 and SHA-256 (REMOTE-APIS.md §4.2).
///
/// Checked against the official `get-vanilla` vector and a Secrets Manager vector that botocore reproduces byte for
/// byte (../shared/api/vectors). Pure: the date is given, nothing is read from the clock or the environment.
public enum SigV4 {
  /// AWS credentials. ``description`` never shows the secret key or session token.
  public struct Credentials: Sendable, Equatable, CustomStringConvertible {
    /// The access key id (`AKIA…`, `ASIA…`).
    public var accessKeyID: String
    /// The secret access key.
    public var secretAccessKey: String
    /// The session token of temporary (STS) credentials, sent as `X-Amz-Security-Token`.
    public var sessionToken: String?

    /// Creates credentials.
    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
      self.accessKeyID = accessKeyID
      self.secretAccessKey = secretAccessKey
      self.sessionToken = sessionToken
    }

    /// `access key AKID…` (never the secret).
    public var description: String { "access key \(accessKeyID)" }
  }

  /// A signature and the intermediate texts (for tests and debugging; none of them holds the secret key).
  public struct Signed: Sendable, Equatable {
    /// The canonical request.
    public var canonicalRequest: String
    /// The string to sign.
    public var stringToSign: String
    /// The hex signature.
    public var signature: String
    /// The `Authorization` header value.
    public var authorization: String
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
  public static func sign(
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
  public static func amzDate(secondsSinceEpoch: Int64) -> String {
    let days = secondsSinceEpoch >= 0 ? secondsSinceEpoch / 86_400 : (secondsSinceEpoch - 86_399) / 86_400
    let rest = secondsSinceEpoch - days * 86_400
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let doe = z - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let day = doy - (153 * mp + 2) / 5 + 1
    let month = mp < 10 ? mp + 3 : mp - 9
    let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
    func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
    return "\(year)\(two(month))\(two(day))T\(two(rest / 3600))\(two(rest % 3600 / 60))\(two(rest % 60))Z"
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
