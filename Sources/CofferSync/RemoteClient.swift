public import HTTPTypes

/// Sends requests through an ``HTTPTransport`` with timeouts and the ``RetryPolicy``.
///
/// The clock, the sleep and the jitter source are injected, so tests run the retry paths without waiting; the
/// production values come from CofferSystem. Safe to use from many tasks at once.
package struct RemoteClient: Sendable {
  /// The transport every request goes through.
  package var transport: any HTTPTransport
  /// When to retry.
  package var policy: RetryPolicy
  /// The limit for one try of one request.
  package var timeout: Duration
  /// Waits the given time (production: `Task.sleep`; tests: record and return).
  package var sleep: @Sendable (Duration) async throws -> Void
  /// The current time in seconds since the Unix epoch, for `x-ratelimit-reset`.
  package var now: @Sendable () -> Int64
  /// A number in `0..<1` for backoff jitter.
  package var jitter: @Sendable () -> Double
  /// Told about every retry before its wait (production: a progress line on stderr), or `nil`.
  package var onRetry: (@Sendable (Retry) -> Void)?

  /// One retry about to happen.
  package struct Retry: Sendable, Equatable {
    /// `METHOD /path` of the request (no query, header or body).
    package var request: String
    /// The status that is retried, or `nil` for a connection failure or timeout.
    package var status: Int?
    /// The wait before the next try.
    package var wait: Duration
    /// The number of the next try, counting from 1.
    package var nextAttempt: Int
    /// How many tries the policy allows in all.
    package var maxAttempts: Int

    /// Creates a retry event.
    package init(request: String, status: Int?, wait: Duration, nextAttempt: Int, maxAttempts: Int) {
      self.request = request
      self.status = status
      self.wait = wait
      self.nextAttempt = nextAttempt
      self.maxAttempts = maxAttempts
    }
  }

  /// Creates a client.
  /// - Parameters:
  ///   - transport: the HTTP transport.
  ///   - policy: the retry policy.
  ///   - timeout: the per-try limit, default 30 s.
  ///   - sleep: the wait function.
  ///   - now: the clock, in Unix seconds.
  ///   - jitter: the jitter source.
  ///   - onRetry: called before each retry's wait, or `nil`.
  package init(
    transport: any HTTPTransport, policy: RetryPolicy = RetryPolicy(), timeout: Duration = .seconds(30),
    sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) },
    now: @escaping @Sendable () -> Int64, jitter: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) },
    onRetry: (@Sendable (Retry) -> Void)? = nil
  ) {
    self.onRetry = onRetry
    self.transport = transport
    self.policy = policy
    self.timeout = timeout
    self.sleep = sleep
    self.now = now
    self.jitter = jitter
  }

  /// A complete response.
  package struct Response: Sendable {
    /// The response head.
    package var head: HTTPResponse
    /// The body.
    package var body: [UInt8]
    /// The status code.
    package var status: Int { head.status.code }
    /// Whether the status is 2xx.
    package var isSuccess: Bool { (200..<300).contains(status) }
    /// A header's value, if present.
    package func header(_ name: String) -> String? {
      HTTPField.Name(name).flatMap { head.headerFields[$0] }
    }
  }

  /// Sends a request, retrying on 429, rate-limit 403s, 5xx and connection failures as the policy says.
  /// - Parameters:
  ///   - request: the request.
  ///   - body: the body, or `nil`.
  ///   - retrying: `false` to try once only.
  /// - Returns: the last response, whatever its status (a retryable status is returned once retries run out).
  /// - Throws: ``SyncError`` ``SyncError/Code/remoteFailed`` when no response arrived after the last try; the
  ///   detail names the method and path, never a header or body.
  package func send(_ request: HTTPRequest, body: [UInt8]? = nil, retrying: Bool = true) async throws(SyncError)
    -> Response
  {
    var attempt = 1
    while true {
      let failure: RetryPolicy.Failure
      var last: Response?
      var transportError: HTTPTransportError?
      do {
        let (head, bytes) = try await transport.send(request, body: body, timeout: timeout)
        let response = Response(head: head, body: bytes)
        guard let retryable = RetryPolicy.classify(head, body: bytes) else { return response }
        failure = retryable
        last = response
      } catch {
        failure = .transport
        transportError = error
      }
      let wait = retrying ? policy.delay(after: failure, attempt: attempt, now: now(), jitter: jitter()) : nil
      guard let wait else {
        if let last { return last }
        var error = SyncError(
          .remoteFailed,
          detail: "\(Self.describe(request)): \(transportError?.description ?? "no response") after \(attempt) "
            + (attempt == 1 ? "try" : "tries"))
        error.noAnswer = true
        throw error
      }
      onRetry?(
        Retry(
          request: Self.describe(request), status: last?.status, wait: wait, nextAttempt: attempt + 1,
          maxAttempts: policy.maxAttempts))
      do {
        try await sleep(wait)
      } catch {
        throw SyncError(.remoteFailed, detail: "\(Self.describe(request)): cancelled")
      }
      attempt += 1
    }
  }

  /// `METHOD /path` without the query string, for messages.
  package static func describe(_ request: HTTPRequest) -> String {
    let path = request.path ?? "/"
    let bare = path.split(separator: "?", maxSplits: 1).first.map(String.init) ?? path
    return "\(request.method.rawValue) \(bare)"
  }
}
