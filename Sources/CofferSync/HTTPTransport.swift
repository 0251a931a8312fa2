public import HTTPTypes

/// The one way destinations talk HTTP: send a request with an optional body, get the response head and body.
///
/// The real implementation (AsyncHTTPClient) lives in CofferSystem; tests use it against in-process fake servers
/// on 127.0.0.1, or pass their own conformance. Implementations must be safe to call concurrently.
package protocol HTTPTransport: Sendable {
  /// Sends one request and reads the whole response.
  /// - Parameters:
  ///   - request: method, scheme, authority, path (with query) and header fields (swift-http-types).
  ///   - body: the request body, or `nil` for none.
  ///   - timeout: the limit for the whole exchange (connect, send, receive).
  /// - Returns: the response head and its complete body (empty for none).
  /// - Throws: ``HTTPTransportError`` when no complete response arrived (connection refused or reset, timeout).
  func send(_ request: HTTPRequest, body: [UInt8]?, timeout: Duration) async throws(HTTPTransportError)
    -> (HTTPResponse, [UInt8])
}

/// A failure to get a complete HTTP response: the kind a retry may cure.
package struct HTTPTransportError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The kind of failure.
  package enum Kind: String, Sendable {
    /// No response within the timeout.
    case timedOut = "timed out"
    /// The connection could not be made, or was closed or reset before the response was complete.
    case connectionFailed = "connection failed"
  }
  /// The kind of failure.
  package var kind: Kind
  /// A short lowercase detail from the transport (never a header value or body).
  package var detail: String

  /// Creates an error.
  /// - Parameters:
  ///   - kind: the kind of failure.
  ///   - detail: a short detail.
  package init(_ kind: Kind, detail: String) {
    self.kind = kind
    self.detail = detail
  }

  /// `kind (detail)`.
  package var description: String { detail.isEmpty ? kind.rawValue : "\(kind.rawValue) (\(detail))" }
}

/// A base URL such as `https://api.github.com` or `http://127.0.0.1:8080/api/v3`, split for building requests.
package struct BaseURL: Sendable, Equatable {
  /// `http` or `https`.
  package var scheme: String
  /// `host[:port]`.
  package var authority: String
  /// A path prefix without a trailing slash (`""` or `/api/v3`).
  package var pathPrefix: String

  /// Parses an absolute http(s) URL with no query or fragment.
  /// - Parameter text: the URL.
  /// - Returns: `nil` when it is not `http://` or `https://` followed by a host.
  package init?(_ text: String) {
    let scheme: String
    let rest: Substring
    if text.hasPrefix("https://") {
      scheme = "https"
      rest = text.dropFirst(8)
    } else if text.hasPrefix("http://") {
      scheme = "http"
      rest = text.dropFirst(7)
    } else {
      return nil
    }
    guard !rest.contains("?"), !rest.contains("#"), !rest.contains("@") else { return nil }
    let slash = rest.firstIndex(of: "/") ?? rest.endIndex
    let authority = String(rest[..<slash])
    guard !authority.isEmpty, !authority.contains(" ") else { return nil }
    var prefix = String(rest[slash...])
    while prefix.hasSuffix("/") { prefix.removeLast() }
    self.scheme = scheme
    self.authority = authority
    self.pathPrefix = prefix
  }

  /// A request to `pathPrefix + path`.
  /// - Parameters:
  ///   - method: the method.
  ///   - path: a path starting with `/`, already percent-encoded, with any query.
  ///   - headers: the header fields.
  package func request(_ method: HTTPRequest.Method, _ path: String, headers: HTTPFields) -> HTTPRequest {
    HTTPRequest(method: method, scheme: scheme, authority: authority, path: pathPrefix + path, headerFields: headers)
  }

  /// Turns an absolute URL from a `link` header back into a path for this base, when it has the same scheme and
  /// authority.
  /// - Parameter url: an absolute URL.
  /// - Returns: the path with query, without ``pathPrefix``, or `nil` for another host.
  package func relativePath(of url: String) -> String? {
    let origin = "\(scheme)://\(authority)"
    guard url.hasPrefix(origin) else { return nil }
    let path = String(url.dropFirst(origin.count))
    guard path.hasPrefix(pathPrefix) else { return nil }
    return String(path.dropFirst(pathPrefix.count))
  }
}

/// Percent-encoding of one path segment (RFC 3986 unreserved characters are kept).
/// - Parameter segment: the text, such as a secret or environment name.
/// - Returns: the encoded segment.
package func percentEncodedSegment(_ segment: String) -> String {
  var out = ""
  for byte in segment.utf8 {
    switch byte {
    case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
      UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
      UInt8(ascii: "~"):
      out.unicodeScalars.append(Unicode.Scalar(byte))
    default:
      let digits = Array("0123456789ABCDEF")
      out += "%" + String(digits[Int(byte >> 4)]) + String(digits[Int(byte & 15)])
    }
  }
  return out
}
