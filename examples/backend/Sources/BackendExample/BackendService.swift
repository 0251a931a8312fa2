public import Configuration
import Crypto
public import Hummingbird
public import ServiceLifecycle

/// A small Hummingbird service that reads its configuration through swift-configuration: a database URL and an API
/// key (from Coffer's vault, through `CofferProvider`), a port (from the environment, `HTTP_PORT`).
///
/// It proves that the secrets arrived without revealing them:
/// - `GET /token/{subject}` returns the HMAC-SHA256 of `subject` under the API key, in hex (whoever knows the key can
///   check it; the key itself is never sent);
/// - `GET /health` says whether a database URL is configured, never which.
///
/// Values are read from the `ConfigReader` on every request, so a reloaded provider's new values are used without a
/// restart.
public enum BackendService {
  /// The keys the service reads (`EnvironmentVariablesProvider` and `CofferProvider` map `api.key` to `API_KEY`).
  public enum Keys {
    public static let apiKey: ConfigKey = "api.key"
    public static let databaseURL: ConfigKey = "database.url"
    public static let port: ConfigKey = "http.port"
  }

  /// Builds the application.
  ///
  /// ## Usage
  ///
  /// ```swift
  /// let coffer = try CofferProvider()
  /// let config = ConfigReader(providers: [EnvironmentVariablesProvider(), coffer])
  /// try await BackendService.makeApplication(config: config, services: [coffer]).runService()
  /// ```
  ///
  /// - Parameters:
  ///   - config: where the API key, the database URL and the port come from.
  ///   - services: services to run with the server (the Coffer provider, which reloads the vault).
  ///   - onServerRunning: called with the bound port once the server listens (on 127.0.0.1).
  /// - Returns: the application, to run with `runService()` or in a `ServiceGroup`.
  public static func makeApplication(
    config: ConfigReader, services: [any Service] = [], onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
  ) -> some ApplicationProtocol {
    let router = Router()
    router.get("/token/:subject") { _, context -> Response in
      guard let subject = context.parameters.get("subject"),
        let key = config.string(forKey: Keys.apiKey, isSecret: true), !key.isEmpty
      else {
        return Response(status: .serviceUnavailable)
      }
      let mac = HMAC<SHA256>.authenticationCode(for: Array(subject.utf8), using: SymmetricKey(data: Array(key.utf8)))
      let hex = mac.map { byte in String(byte, radix: 16).count == 1 ? "0" + String(byte, radix: 16) : String(byte, radix: 16) }
        .joined()
      return Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(string: hex + "\n")))
    }
    router.get("/health") { _, _ -> String in
      config.string(forKey: Keys.databaseURL, isSecret: true) == nil ? "database: not configured\n" : "database: configured\n"
    }
    let port = config.int(forKey: Keys.port, default: 8080)
    return Application(
      router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)), services: services,
      onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? port) })
  }
}
