public import HTTPTypes

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// Logging in to OpenBao (or Vault) for a client token: AppRole, or a JWT at a `jwt` auth role (the CI path: the
/// GitHub Actions job's OIDC token, see ``OIDCExchange/githubIDToken(requestURL:requestToken:audience:client:)``).
///
/// `POST /v1/auth/<mount>/login` answers `{"auth": {"client_token": "…"}}`. Neither the credentials nor the token
/// ever appear in an error: messages name the server, request and status, and the server's own messages.
package enum OpenBaoAuth {
  /// Logs in with AppRole.
  /// - Parameters:
  ///   - roleID: the role id.
  ///   - secretID: the secret id.
  ///   - mount: where AppRole is mounted (`approle`).
  ///   - namespace: the namespace, if any.
  ///   - base: the server.
  ///   - client: the HTTP client.
  /// - Returns: the client token.
  /// - Throws: ``SyncError`` ``SyncError/Code/accessDenied`` when the server refuses the login,
  ///   ``SyncError/Code/badResponse`` without a token, ``SyncError/Code/remoteFailed`` when unreachable.
  package static func appRole(
    roleID: String, secretID: String, mount: String = "approle", namespace: String?, base: BaseURL, client: RemoteClient
  ) async throws(SyncError) -> String {
    try await login(
      mount: mount, body: ["role_id": roleID, "secret_id": secretID], namespace: namespace, base: base, client: client)
  }

  /// Logs in with a JWT at a role of the `jwt` auth method.
  /// - Parameters:
  ///   - jwt: the signed token (a GitHub Actions OIDC token in CI).
  ///   - role: the role, whose bound claims and keys the server checks.
  ///   - mount: where the method is mounted (`jwt`).
  ///   - namespace: the namespace, if any.
  ///   - base: the server.
  ///   - client: the HTTP client.
  /// - Returns: the client token.
  /// - Throws: as ``appRole(roleID:secretID:mount:namespace:base:client:)``.
  package static func jwt(
    _ jwt: String, role: String, mount: String = "jwt", namespace: String?, base: BaseURL, client: RemoteClient
  ) async throws(SyncError) -> String {
    try await login(mount: mount, body: ["role": role, "jwt": jwt], namespace: namespace, base: base, client: client)
  }

  static func login(
    mount: String, body: [String: String], namespace: String?, base: BaseURL, client: RemoteClient
  ) async throws(SyncError) -> String {
    let path = "/v1/auth/" + OpenBaoDestination.encodedPath(mount) + "/login"
    let request = base.request(
      .post, path, headers: OpenBaoDestination.headers(token: nil, namespace: namespace, json: true))
    let response = try await client.send(request, body: encode(body))
    guard response.status == 200 else {
      let code: SyncError.Code = (400..<500).contains(response.status) ? .accessDenied : .remoteFailed
      throw SyncError(
        code, detail: "login refused: " + OpenBaoDestination.failure(base, request, response, tokenSource: nil),
        hints: [
          "check the auth role's bound claims, audience and keys, or the AppRole's role and secret ids (docs/sync.md)"
        ])
    }
    struct Answer: Decodable {
      struct Auth: Decodable { var client_token: String? }
      var auth: Auth?
    }
    guard let token = (try? JSONDecoder().decode(Answer.self, from: Data(response.body)))?.auth?.client_token,
      !token.isEmpty
    else {
      throw SyncError(
        .badResponse, detail: "\(base.authority): \(RemoteClient.describe(request)): the answer has no client token")
    }
    return token
  }
}
