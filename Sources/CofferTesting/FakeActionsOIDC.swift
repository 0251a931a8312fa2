import Foundation
import Synchronization

/// An in-process fake of the GitHub Actions runner's OIDC token endpoint (REMOTE-APIS.md 1.8), on 127.0.0.1.
///
/// `GET <requestURL>&audience=AUD` with `Authorization: bearer <request token>` answers `{"value": "<jwt>"}`, a
/// JWT-shaped token (unsigned; `alg: none`) whose claims carry the audience and ``subject``; a missing or wrong
/// bearer gets 401 (the runner's answer to a job without `permissions: id-token: write`).
public final class FakeActionsOIDC: Sendable {
  let server = FakeHTTPServer()
  let requestToken: String
  /// The `sub` claim of issued tokens.
  public let subject: String
  let issued = Mutex<[String]>([])

  /// Creates a fake that accepts one request token.
  /// - Parameters:
  ///   - requestToken: the `ACTIONS_ID_TOKEN_REQUEST_TOKEN` to accept.
  ///   - subject: the `sub` claim.
  public init(requestToken: String, subject: String = "repo:acme/api:environment:coffer-sync") {
    self.requestToken = requestToken
    self.subject = subject
    self.sign = nil
  }

  /// Creates a fake that issues tokens made by `sign` (a signed JWT for the audience), for servers that verify them.
  /// - Parameters:
  ///   - requestToken: the `ACTIONS_ID_TOKEN_REQUEST_TOKEN` to accept.
  ///   - subject: the `sub` claim.
  ///   - sign: makes the ID token for an audience.
  public init(requestToken: String, subject: String, sign: @escaping @Sendable (String) -> String) {
    self.requestToken = requestToken
    self.subject = subject
    self.sign = sign
  }

  let sign: (@Sendable (String) -> String)?

  /// Starts serving on 127.0.0.1 with a free port.
  public func start() async throws {
    try await server.start { [self] request, _ in self.handle(request) }
  }

  /// Stops serving.
  public func stop() async { await server.stop() }

  /// What the runner puts in `ACTIONS_ID_TOKEN_REQUEST_URL`: a URL with a query of its own.
  public var requestURL: String { "http://127.0.0.1:\(server.port)/_apis/pipelines/idtoken?api-version=2.0" }

  /// The ID token issued for an audience (what the fake answers).
  /// - Parameter audience: the `aud` claim.
  public func idToken(audience: String) -> String {
    if let sign { return sign(audience) }
    func part(_ object: [String: String]) -> String {
      let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
      return data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        .replacingOccurrences(of: "=", with: "")
    }
    return part(["alg": "none", "typ": "JWT"]) + "."
      + part(["iss": "https://token.actions.githubusercontent.com", "aud": audience, "sub": subject]) + ".fake-signature"
  }

  /// The audiences asked for so far, in order.
  public var requestedAudiences: [String] { issued.withLock { $0 } }

  /// Every request handled so far.
  public var requests: [RecordedRequest] { server.state.withLock { $0.log } }

  func handle(_ request: FakeRequest) -> FakeResponse {
    guard request.headers["authorization"] == "bearer \(requestToken)" else {
      return .json(401, #"{"message":"Unauthorized"}"#)
    }
    guard request.method == "GET", request.path == "/_apis/pipelines/idtoken", request.query["api-version"] == "2.0",
      let audience = request.query["audience"], !audience.isEmpty
    else { return .json(400, #"{"message":"bad request"}"#) }
    issued.withLock { $0.append(audience) }
    let body = (try? JSONSerialization.data(withJSONObject: ["value": idToken(audience: audience)], options: [.sortedKeys])) ?? Data()
    return FakeResponse(status: 200, headers: [("content-type", "application/json")], body: Array(body))
  }
}
