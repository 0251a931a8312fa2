import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// A request as a fake server sees it.
public struct FakeRequest: Sendable {
  /// `GET`, `PUT`, …
  public var method: String
  /// The percent-decoded path, without the query.
  public var path: String
  /// Query parameters (last one wins).
  public var query: [String: String]
  /// Header fields, names lowercased (last one wins).
  public var headers: [String: String]
  /// The body.
  public var body: [UInt8]
}

/// A response a fake server gives, or a misbehaviour.
public struct FakeResponse: Sendable {
  /// How the exchange ends.
  public enum Mode: Sendable {
    /// A normal response.
    case normal
    /// Never answer (until the server stops or 10 s pass): the client must time out.
    case hang
    /// Send the head, then drop the connection in the middle of the body.
    case reset
  }
  /// The status code.
  public var status: Int
  /// Header fields.
  public var headers: [(String, String)]
  /// The body.
  public var body: [UInt8]
  /// How the exchange ends.
  public var mode: Mode

  /// A normal response.
  public init(status: Int, headers: [(String, String)] = [], body: [UInt8] = [], mode: Mode = .normal) {
    self.status = status
    self.headers = headers
    self.body = body
    self.mode = mode
  }

  /// A JSON response from text.
  public static func json(_ status: Int, _ text: String, headers: [(String, String)] = []) -> FakeResponse {
    FakeResponse(status: status, headers: [("content-type", "application/json; charset=utf-8")] + headers, body: Array(text.utf8))
  }
}

/// A misbehaviour to inject into the next matching requests.
public enum Fault: Sendable, Equatable {
  /// 429 with `retry-after: seconds`.
  case tooManyRequests(retryAfter: Int)
  /// GitHub's secondary rate limit: 403 with a "secondary rate limit" message and, when given, `retry-after`.
  case secondaryRateLimit(retryAfter: Int?)
  /// GitHub's primary rate limit: 403 with `x-ratelimit-remaining: 0` and `x-ratelimit-reset: epoch`.
  case primaryRateLimit(resetAt: Int64)
  /// 500 Internal Server Error.
  case serverError
  /// 503 Service Unavailable.
  case unavailable
  /// Never answer.
  case hang
  /// Drop the connection mid-response.
  case reset
  /// Rotate the scope's public key before handling the request (so a cached `key_id` is stale), then proceed.
  case rotateKey

  var response: FakeResponse? {
    switch self {
    case .tooManyRequests(let seconds):
      return .json(429, #"{"message":"Too Many Requests"}"#, headers: [("retry-after", String(seconds))])
    case .secondaryRateLimit(let seconds):
      return .json(
        403,
        #"{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"}"#,
        headers: seconds.map { [("retry-after", String($0))] } ?? [])
    case .primaryRateLimit(let reset):
      return .json(
        403, #"{"message":"API rate limit exceeded"}"#,
        headers: [("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", String(reset))])
    case .serverError: return .json(500, #"{"message":"Server Error"}"#)
    case .unavailable: return .json(503, #"{"message":"Service Unavailable"}"#)
    case .hang: return FakeResponse(status: 200, mode: .hang)
    case .reset: return FakeResponse(status: 200, body: Array(repeating: 0x20, count: 64), mode: .reset)
    case .rotateKey: return nil
    }
  }
}

/// A record of one request a fake handled.
public struct RecordedRequest: Sendable, Equatable {
  /// The method.
  public var method: String
  /// The path without query.
  public var path: String
  /// The status answered (0 for a hang or reset).
  public var status: Int
}

/// The shared machinery of the fakes: a Hummingbird server on 127.0.0.1 (port 0), request log, concurrency
/// tracking, added latency and fault injection.
final class FakeHTTPServer: Sendable {
  struct Rule: Sendable {
    var method: String?
    var pathContains: String?
    var fault: Fault
    var skip: Int
    var remaining: Int
  }

  struct State: Sendable {
    var rules: [Rule] = []
    var log: [RecordedRequest] = []
    var inFlight = 0
    var maxInFlight = 0
    var latency: Duration = .zero
  }

  let state = Mutex(State())
  private let runner = Mutex<Task<Void, any Error>?>(nil)
  private let boundPort = Mutex<Int>(0)

  var port: Int { boundPort.withLock { $0 } }

  func start(
    handler: @escaping @Sendable (FakeRequest, inout [Fault]) async -> FakeResponse
  ) async throws {
    let (stream, continuation) = AsyncStream<Int>.makeStream()
    let responder = CallbackResponder<BasicRequestContext> { [self] request, _ in
      try await self.respond(request, handler: handler)
    }
    let app = Application(
      responder: responder,
      configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: nil),
      onServerRunning: { channel in
        continuation.yield(channel.localAddress?.port ?? 0)
        continuation.finish()
      },
      logger: Logger(label: "coffer-fake", factory: { _ in SwiftLogNoOpLogHandler() }))
    // Off the cooperative pool: see FakeServerExecutor.
    let task = Task(executorPreference: FakeServerExecutor.shared) { try await app.run() }
    runner.withLock { $0 = task }
    var port = 0
    for await value in stream {
      port = value
      break
    }
    guard port > 0 else { throw FakeServerError(message: "the fake server did not start") }
    boundPort.withLock { $0 = port }
  }

  func stop() async {
    let task = runner.withLock { task -> Task<Void, any Error>? in
      defer { task = nil }
      return task
    }
    task?.cancel()
    _ = try? await task?.value
  }

  func inject(_ fault: Fault, method: String?, pathContains: String?, skip: Int, times: Int) {
    state.withLock {
      $0.rules.append(Rule(method: method, pathContains: pathContains, fault: fault, skip: skip, remaining: times))
    }
  }

  private func respond(
    _ request: Request, handler: @Sendable (FakeRequest, inout [Fault]) async -> FakeResponse
  ) async throws -> Response {
    var body: [UInt8] = []
    for try await buffer in request.body {
      body += buffer.getBytes(at: buffer.readerIndex, length: buffer.readableBytes) ?? []
    }
    var query: [String: String] = [:]
    for (key, value) in request.uri.queryParameters {
      query[String(key)] = String(value).removingPercentEncoding
    }
    var headers: [String: String] = [:]
    for field in request.headers { headers[field.name.canonicalName] = field.value }
    let fake = FakeRequest(
      method: request.method.rawValue, path: request.uri.path.removingPercentEncoding, query: query, headers: headers,
      body: body)

    let (latency, faults) = state.withLock { state -> (Duration, [Fault]) in
      state.inFlight += 1
      state.maxInFlight = max(state.maxInFlight, state.inFlight)
      var faults: [Fault] = []
      for index in state.rules.indices where state.rules[index].remaining > 0 {
        let rule = state.rules[index]
        if let method = rule.method, method != fake.method { continue }
        if let fragment = rule.pathContains, !fake.path.contains(fragment) { continue }
        if rule.skip > 0 {
          state.rules[index].skip -= 1
          continue
        }
        state.rules[index].remaining -= 1
        faults.append(rule.fault)
        if rule.fault != .rotateKey { break }
      }
      state.rules.removeAll { $0.remaining <= 0 }
      return (state.latency, faults)
    }
    defer { state.withLock { $0.inFlight -= 1 } }
    if latency > .zero { await FakeServerExecutor.sleep(for: latency) }

    var pending = faults
    let response: FakeResponse
    if let injected = faults.compactMap(\.response).first {
      response = injected
    } else {
      response = await handler(fake, &pending)
    }
    state.withLock {
      $0.log.append(RecordedRequest(method: fake.method, path: fake.path, status: response.mode == .normal ? response.status : 0))
    }
    var fields = HTTPFields()
    for (name, value) in response.headers {
      if let fieldName = HTTPField.Name(name) { fields.append(HTTPField(name: fieldName, value: value)) }
    }
    switch response.mode {
    case .normal:
      return Response(
        status: .init(code: response.status), headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: response.body)))
    case .hang:
      await FakeServerExecutor.sleep(for: .seconds(10))
      return Response(status: .gatewayTimeout)
    case .reset:
      fields[.contentLength] = "1000"
      return Response(
        status: .ok, headers: fields,
        body: ResponseBody(contentLength: 1000) { writer in
          try await writer.write(ByteBuffer(bytes: response.body))
          throw FakeServerError(message: "connection reset by the fake")
        })
    }
  }
}

struct FakeServerError: Error {
  var message: String
}

extension String {
  /// Percent-decoding (invalid escapes are kept as they are).
  var removingPercentEncoding: String {
    guard contains("%") else { return self }
    var bytes: [UInt8] = []
    var iterator = Array(utf8)[...]
    while let byte = iterator.popFirst() {
      if byte == UInt8(ascii: "%"), iterator.count >= 2,
        let value = UInt8(String(decoding: iterator.prefix(2), as: UTF8.self), radix: 16)
      {
        bytes.append(value)
        iterator = iterator.dropFirst(2)
      } else {
        bytes.append(byte)
      }
    }
    return String(decoding: bytes, as: UTF8.self)
  }
}
