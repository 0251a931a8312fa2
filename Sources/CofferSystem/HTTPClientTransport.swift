import AsyncHTTPClient
import CofferSync
import HTTPTypes
import NIOCore
import NIOHTTP1

#if canImport(Glibc)
  import Glibc
#endif

/// The real ``HTTPTransport``: AsyncHTTPClient (swift-server/async-http-client) with its own connection pool.
///
/// Redirects are not followed (the APIs Coffer talks to do not redirect writes). Each exchange has the timeout the
/// caller gives. Call ``shutdown()`` when done. Safe to use from many tasks at once.
package final class HTTPClientTransport: HTTPTransport {
  private let client: HTTPClient

  /// Creates a transport with its own client.
  /// - Parameter connectTimeout: the limit for opening a connection, default 10 s.
  package init(connectTimeout: Duration = .seconds(10)) {
    var configuration = HTTPClient.Configuration(
      redirectConfiguration: .disallow,
      timeout: .init(connect: .milliseconds(Int64(connectTimeout.components.seconds * 1000))))
    configuration.httpVersion = .http1Only
    client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
  }

  /// Closes the connection pool. Call once, after the last request.
  package func shutdown() async {
    try? await client.shutdown()
  }

  package func send(_ request: HTTPRequest, body: [UInt8]?, timeout: Duration) async throws(HTTPTransportError)
    -> (HTTPResponse, [UInt8])
  {
    var outgoing = HTTPClientRequest(
      url: "\(request.scheme ?? "https")://\(request.authority ?? "")\(request.path ?? "/")")
    outgoing.method = NIOHTTP1.HTTPMethod(rawValue: request.method.rawValue)
    for field in request.headerFields {
      outgoing.headers.add(name: field.name.rawName, value: field.value)
    }
    if let body {
      outgoing.body = .bytes(ByteBuffer(bytes: body))
    }
    let millis = timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000
    do {
      let response = try await client.execute(outgoing, timeout: .milliseconds(max(1, millis)))
      var buffer = try await response.body.collect(upTo: 64 * 1024 * 1024)
      let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
      var fields = HTTPFields()
      for (name, value) in response.headers {
        if let fieldName = HTTPField.Name(name) { fields.append(HTTPField(name: fieldName, value: value)) }
      }
      let head = HTTPResponse(status: .init(code: Int(response.status.code)), headerFields: fields)
      return (head, bytes)
    } catch let error as HTTPClientError {
      switch error {
      case .deadlineExceeded, .readTimeout, .writeTimeout, .connectTimeout:
        throw HTTPTransportError(.timedOut, detail: "")
      default:
        throw HTTPTransportError(.connectionFailed, detail: Self.describe(error))
      }
    } catch {
      throw HTTPTransportError(.connectionFailed, detail: Self.describe(error))
    }
  }

  /// The error's type name only: NIO errors may carry addresses, never values, but keep messages short.
  static func describe(_ error: any Error) -> String {
    if let error = error as? HTTPClientError {
      return "\(error)".lowercased()
    }
    return String(describing: type(of: error)).lowercased()
  }
}

/// The production clock, jitter and sleep for ``RemoteClient``.
package enum SyncRuntime {
  /// The current time in Unix seconds (`COFFER_NOW` is not applied: rate-limit resets are real times).
  package static func epochSeconds() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec)
  }

  /// A client over the given transport with production timeouts and retries; in debug builds
  /// `COFFER_TEST_ONLY_NO_SLEEP=1` turns retry waits into no-ops so CLI tests exercise retries without waiting.
  /// - Parameters:
  ///   - transport: the transport.
  ///   - timeout: the per-try limit (`COFFER_HTTP_TIMEOUT_MS` overrides it).
  ///   - onRetry: told about each retry before its wait (the CLI prints a line), or `nil`.
  package static func client(
    transport: any HTTPTransport, timeout: Duration = .seconds(30),
    onRetry: (@Sendable (RemoteClient.Retry) -> Void)? = nil
  ) -> RemoteClient {
    var timeout = timeout
    if let text = ProcessEnvironment.get("COFFER_HTTP_TIMEOUT_MS"), let millis = Int64(text), millis > 0 {
      timeout = .milliseconds(millis)
    }
    var sleep: @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    #if DEBUG
      if ProcessEnvironment.get("COFFER_TEST_ONLY_NO_SLEEP") == "1" { sleep = { _ in } }
    #endif
    return RemoteClient(transport: transport, timeout: timeout, sleep: sleep, now: { epochSeconds() }, onRetry: onRetry)
  }
}
