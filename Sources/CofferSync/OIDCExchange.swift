import HTTPTypes

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// Short-lived credentials from a GitHub Actions job's OIDC identity instead of a stored token.
///
/// Two requests (docs/ci.md, *OIDC*): the job's ID token from the runner (`GET ACTIONS_ID_TOKEN_REQUEST_URL` with
/// `audience=…`, `Authorization: bearer ACTIONS_ID_TOKEN_REQUEST_TOKEN`, answer `{"value": "<jwt>"}`; REMOTE-APIS.md
/// 1.8), then Pulumi Cloud's OAuth token exchange (RFC 8693, `POST /api/oauth/token`, form-encoded) for an
/// organization access token. Neither token ever appears in an error: messages name the request and status only.
package enum OIDCExchange {
  /// The audience Pulumi Cloud expects for an organization: `urn:pulumi:org:ORG`.
  /// - Parameter organization: the Pulumi organization.
  package static func pulumiAudience(_ organization: String) -> String { "urn:pulumi:org:\(organization)" }

  /// The token-exchange grant type (RFC 8693).
  package static let grantType = "urn:ietf:params:oauth:grant-type:token-exchange"
  /// The subject token type: an OIDC ID token.
  package static let subjectTokenType = "urn:ietf:params:oauth:token-type:id_token"
  /// The requested token type: a Pulumi organization access token.
  package static let pulumiOrganizationTokenType = "urn:pulumi:token-type:access_token:organization"

  /// Requests the job's OIDC ID token from the GitHub Actions runner.
  /// - Parameters:
  ///   - requestURL: `ACTIONS_ID_TOKEN_REQUEST_URL` (an absolute http(s) URL, usually with a query).
  ///   - requestToken: `ACTIONS_ID_TOKEN_REQUEST_TOKEN`, sent as a bearer token.
  ///   - audience: the `aud` the ID token must carry.
  ///   - client: the HTTP client.
  /// - Returns: the ID token (a JWT).
  /// - Throws: ``SyncError`` ``SyncError/Code/badInput`` for a malformed URL; ``SyncError/Code/accessDenied`` when
  ///   the runner refuses (the job lacks `permissions: id-token: write`); ``SyncError/Code/badResponse`` when the
  ///   answer has no `value`; ``SyncError/Code/remoteFailed`` when no answer arrives.
  package static func githubIDToken(
    requestURL: String, requestToken: String, audience: String, client: RemoteClient
  ) async throws(SyncError) -> String {
    let pieces = requestURL.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
    guard let base = BaseURL(String(pieces[0])) else {
      throw SyncError(.badInput, detail: "ACTIONS_ID_TOKEN_REQUEST_URL is not an http(s) URL")
    }
    var query = pieces.count > 1 ? String(pieces[1]) : ""
    query += (query.isEmpty ? "" : "&") + "audience=" + percentEncodedSegment(audience)
    var fields = HTTPFields()
    fields[.accept] = "application/json"
    fields[.userAgent] = "coffer/0.1"
    fields[.authorization] = "bearer \(requestToken)"
    let request = HTTPRequest(
      method: .get, scheme: base.scheme, authority: base.authority,
      path: (base.pathPrefix.isEmpty ? "/" : base.pathPrefix) + "?" + query, headerFields: fields)
    let response = try await client.send(request)
    guard response.status == 200 else {
      let code: SyncError.Code = response.status == 401 || response.status == 403 ? .accessDenied : .remoteFailed
      throw SyncError(
        code, detail: "the GitHub Actions OIDC token request (\(RemoteClient.describe(request))) answered \(response.status)",
        hints: ["the job needs `permissions: id-token: write`"])
    }
    struct Answer: Decodable { var value: String? }
    guard let answer = try? JSONDecoder().decode(Answer.self, from: Data(response.body)), let value = answer.value,
      !value.isEmpty
    else {
      throw SyncError(.badResponse, detail: "the GitHub Actions OIDC token request answered without a token")
    }
    return value
  }

  /// Exchanges an OIDC ID token for a short-lived Pulumi organization access token.
  /// - Parameters:
  ///   - idToken: the job's ID token.
  ///   - organization: the Pulumi organization (the audience is `urn:pulumi:org:ORG`).
  ///   - base: Pulumi Cloud's API root.
  ///   - client: the HTTP client.
  /// - Returns: the access token.
  /// - Throws: ``SyncError`` ``SyncError/Code/accessDenied`` when Pulumi refuses the exchange (no trust
  ///   relationship for this repository, audience or organization); ``SyncError/Code/badResponse`` when the answer
  ///   has no `access_token`; ``SyncError/Code/remoteFailed`` when no answer arrives.
  package static func pulumiAccessToken(
    idToken: String, organization: String, base: BaseURL, client: RemoteClient
  ) async throws(SyncError) -> String {
    let audience = pulumiAudience(organization)
    let form: [(String, String)] = [
      ("audience", audience), ("grant_type", grantType), ("subject_token_type", subjectTokenType),
      ("requested_token_type", pulumiOrganizationTokenType), ("subject_token", idToken),
    ]
    let body = form.map { "\($0.0)=\(percentEncodedSegment($0.1))" }.joined(separator: "&")
    var fields = HTTPFields()
    fields[.accept] = "application/json"
    fields[.userAgent] = "coffer/0.1"
    fields[.contentType] = "application/x-www-form-urlencoded"
    let request = base.request(.post, "/api/oauth/token", headers: fields)
    let response = try await client.send(request, body: Array(body.utf8))
    guard response.status == 200 else {
      let code: SyncError.Code = (400..<500).contains(response.status) ? .accessDenied : .remoteFailed
      throw SyncError(
        code,
        detail: "Pulumi Cloud refused the OIDC token exchange for audience \(audience) (\(RemoteClient.describe(request)): "
          + "\(response.status))",
        hints: [
          "register https://token.actions.githubusercontent.com as an OIDC issuer of the organization \(organization) "
            + "in Pulumi Cloud, with a policy that matches this repository and environment (docs/ci.md)"
        ])
    }
    struct Answer: Decodable { var access_token: String? }
    guard let answer = try? JSONDecoder().decode(Answer.self, from: Data(response.body)),
      let token = answer.access_token, !token.isEmpty
    else {
      throw SyncError(.badResponse, detail: "\(RemoteClient.describe(request)): the answer has no access_token")
    }
    return token
  }
}
