import CofferCore
import CofferOperations
import CofferSync
import CofferSystem

/// Credentials for the server destinations (OpenBao, AWS Secrets Manager): where they come from and the login.
enum ServerLogin {
  /// Where an OpenBao destination's token comes from, for messages: `VAULT_TOKEN`, `the AppRole login`, ….
  static func tokenSource(_ spec: DestinationSpec) -> String {
    switch spec.auth {
    case .token: return spec.tokenEnv ?? "VAULT_TOKEN"
    case .approle: return "the AppRole login"
    case .jwt: return "the JWT login"
    case .oidc: return "the OIDC login"
    }
  }

  /// The client token of an OpenBao destination: from `token_env`, or by logging in with AppRole (`role_id_env`,
  /// `secret_id_env`), a JWT (`jwt_env`) or, in GitHub Actions, the job's OIDC token (`auth: oidc`) at the `jwt`
  /// auth `role`.
  /// - Parameter lookup: reads a credential by variable name (the process environment, else the vault).
  /// - Throws: ``SyncError`` when a credential is missing or the login is refused; never shows a credential.
  static func openBaoToken(
    _ spec: DestinationSpec, _ settings: DestinationSpec.OpenBaoSettings, lookup: (String) -> String?,
    client: RemoteClient
  ) async throws(SyncError) -> String? {
    guard let base = spec.apiURL.flatMap(BaseURL.init) else {
      throw SyncError(.badInput, destination: spec.name, detail: "invalid api_url")
    }
    do throws(SyncError) {
      switch spec.auth {
      case .token:
        return spec.tokenEnv.flatMap(lookup)
      case .approle:
        guard let roleID = lookup(settings.roleIDEnv), let secretID = lookup(settings.secretIDEnv) else {
          throw SyncError(
            .badInput, detail: "auth: approle needs \(settings.roleIDEnv) and \(settings.secretIDEnv) to be set")
        }
        return try await OpenBaoAuth.appRole(
          roleID: roleID, secretID: secretID, mount: settings.authMount ?? "approle", namespace: settings.namespace,
          base: base, client: client)
      case .jwt:
        guard let jwt = lookup(settings.jwtEnv) else {
          throw SyncError(.badInput, detail: "auth: jwt needs \(settings.jwtEnv) to hold a JWT")
        }
        return try await OpenBaoAuth.jwt(
          jwt, role: settings.role ?? "", mount: settings.authMount ?? "jwt", namespace: settings.namespace, base: base,
          client: client)
      case .oidc:
        guard let url = ProcessEnvironment.get("ACTIONS_ID_TOKEN_REQUEST_URL"), !url.isEmpty,
          let requestToken = ProcessEnvironment.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN"), !requestToken.isEmpty
        else {
          throw SyncError(
            .badInput,
            detail: "auth: oidc needs ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN, which GitHub "
              + "Actions sets only in a job with permissions: id-token: write")
        }
        let jwt = try await OIDCExchange.githubIDToken(
          requestURL: url, requestToken: requestToken, audience: settings.audience ?? spec.apiURL ?? "", client: client)
        return try await OpenBaoAuth.jwt(
          jwt, role: settings.role ?? "", mount: settings.authMount ?? "jwt", namespace: settings.namespace, base: base,
          client: client)
      }
    } catch {
      var located = error
      located.destination = spec.name
      throw located
    }
  }

  /// An AWS Secrets Manager destination with credentials from the environment or the profile's credentials file.
  static func awsDestination(
    _ spec: DestinationSpec, _ settings: DestinationSpec.AWSSecretsManagerSettings, base: BaseURL, client: RemoteClient
  ) throws -> any Destination {
    let (credentials, source) = awsCredentials(profile: settings.profile)
    return AWSSecretsManagerDestination(
      name: spec.name, base: base, settings: settings, environment: spec.from, credentials: credentials,
      credentialSource: source, client: client)
  }

  /// AWS credentials, as the AWS CLI finds them: the manifest's `profile:` from the credentials file; else
  /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` (and `AWS_SESSION_TOKEN`); else `AWS_PROFILE` (or `default`) from
  /// `AWS_SHARED_CREDENTIALS_FILE` or `~/.aws/credentials`.
  /// - Returns: the keys (or `nil`) and where they came from, or what was looked at, for messages.
  static func awsCredentials(profile: String?) -> (SigV4.Credentials?, String) {
    func nonEmpty(_ name: String) -> String? { ProcessEnvironment.get(name).flatMap { $0.isEmpty ? nil : $0 } }
    if profile == nil, let id = nonEmpty("AWS_ACCESS_KEY_ID"), let secret = nonEmpty("AWS_SECRET_ACCESS_KEY") {
      return (
        SigV4.Credentials(accessKeyID: id, secretAccessKey: secret, sessionToken: nonEmpty("AWS_SESSION_TOKEN")),
        "AWS_ACCESS_KEY_ID"
      )
    }
    let name = profile ?? nonEmpty("AWS_PROFILE") ?? "default"
    let file =
      nonEmpty("AWS_SHARED_CREDENTIALS_FILE")
      ?? Paths.join(Paths.join(nonEmpty("HOME") ?? "/", ".aws"), "credentials")
    guard Files.exists(file), let bytes = try? Files.read(file),
      let credentials = AWSCredentialsFile.credentials(in: String(decoding: bytes, as: UTF8.self), profile: name)
    else {
      return (nil, "AWS_ACCESS_KEY_ID is not set and \(file) has no profile \(name) with both keys")
    }
    return (credentials, "profile \(name) in \(file)")
  }
}
