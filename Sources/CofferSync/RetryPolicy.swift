public import HTTPTypes

/// When and how long to wait before retrying a request: pure values, no clock, no sleeping.
///
/// Follows GitHub's documented algorithm for rate limits
/// (https://docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api): honour
/// `retry-after`; else when `x-ratelimit-remaining` is 0 wait until `x-ratelimit-reset`; else wait at least
/// ``secondaryLimitWait``; and back off exponentially with jitter on 5xx and connection errors. A wait longer than
/// ``maxWait`` is not attempted: the request fails instead.
package struct RetryPolicy: Sendable, Equatable {
  /// How many times a request is tried in all (first try included); at least 1.
  package var maxAttempts: Int
  /// The first backoff delay; doubled on every further retry.
  package var baseDelay: Duration
  /// The largest backoff delay (before jitter).
  package var maxDelay: Duration
  /// The wait after a rate-limit answer (403/429) that says nothing about when to come back.
  package var secondaryLimitWait: Duration
  /// The longest wait Coffer accepts; a server asking for more fails the request.
  package var maxWait: Duration

  /// Creates a policy.
  /// - Parameters:
  ///   - maxAttempts: tries in all, default 5.
  ///   - baseDelay: first backoff, default 1 s.
  ///   - maxDelay: backoff cap, default 30 s.
  ///   - secondaryLimitWait: wait for an unexplained rate limit, default 60 s.
  ///   - maxWait: the longest acceptable wait, default 15 minutes.
  package init(
    maxAttempts: Int = 5, baseDelay: Duration = .seconds(1), maxDelay: Duration = .seconds(30),
    secondaryLimitWait: Duration = .seconds(60), maxWait: Duration = .seconds(900)
  ) {
    self.maxAttempts = max(1, maxAttempts)
    self.baseDelay = baseDelay
    self.maxDelay = maxDelay
    self.secondaryLimitWait = secondaryLimitWait
    self.maxWait = maxWait
  }

  /// Why a try failed, as far as retrying is concerned.
  package enum Failure: Sendable, Equatable {
    /// 429, or a 403 that is a rate limit: the server's hints, when given.
    case rateLimited(retryAfterSeconds: Int?, resetEpochSeconds: Int64?, remainingIsZero: Bool)
    /// A 5xx status (a hint in `retry-after`, when given).
    case serverError(retryAfterSeconds: Int?)
    /// No complete response (connection refused, reset, timeout).
    case transport
  }

  /// Classifies a response: retryable, or not.
  /// - Parameters:
  ///   - response: the response head.
  ///   - body: the response body (a 403 is a rate limit when its message mentions one).
  /// - Returns: the failure to retry, or `nil` when the response is final (success or a client error).
  package static func classify(_ response: HTTPResponse, body: [UInt8]) -> Failure? {
    let status = response.status.code
    let retryAfter = response.headerFields[.retryAfter].flatMap { Int($0.strippedOfSpaces) }.map { max(0, $0) }
    let remaining = response.headerFields[HTTPField.Name("x-ratelimit-remaining")!].flatMap { Int($0.strippedOfSpaces) }
    let reset = response.headerFields[HTTPField.Name("x-ratelimit-reset")!].flatMap { Int64($0.strippedOfSpaces) }
    switch status {
    case 429:
      return .rateLimited(retryAfterSeconds: retryAfter, resetEpochSeconds: reset, remainingIsZero: remaining == 0)
    case 403:
      let message = String(decoding: body.prefix(2048), as: UTF8.self).lowercased()
      guard retryAfter != nil || remaining == 0 || message.contains("rate limit") else { return nil }
      return .rateLimited(retryAfterSeconds: retryAfter, resetEpochSeconds: reset, remainingIsZero: remaining == 0)
    case 500...599:
      return .serverError(retryAfterSeconds: retryAfter)
    default:
      return nil
    }
  }

  /// How long to wait before the next try, or `nil` to give up.
  /// - Parameters:
  ///   - failure: why the try failed.
  ///   - attempt: the number of the try that failed, counting from 1.
  ///   - now: the current time in seconds since the Unix epoch (for `x-ratelimit-reset`).
  ///   - jitter: a number in `0..<1` (random in production, fixed in tests); it spreads backoff delays over
  ///     `[d/2, d)` ("equal jitter").
  /// - Returns: the wait, or `nil` when ``maxAttempts`` is reached or the server asks for more than ``maxWait``.
  package func delay(after failure: Failure, attempt: Int, now: Int64, jitter: Double) -> Duration? {
    guard attempt < maxAttempts else { return nil }
    let wait: Duration
    switch failure {
    case .rateLimited(let retryAfter, let reset, let remainingIsZero):
      if let retryAfter {
        wait = .seconds(retryAfter)
      } else if remainingIsZero, let reset {
        wait = .seconds(max(0, reset - now) + 1)
      } else {
        wait = max(secondaryLimitWait, backoff(attempt: attempt, jitter: jitter))
      }
    case .serverError(let retryAfter):
      wait = retryAfter.map { .seconds($0) } ?? backoff(attempt: attempt, jitter: jitter)
    case .transport:
      wait = backoff(attempt: attempt, jitter: jitter)
    }
    return wait > maxWait ? nil : wait
  }

  /// `min(maxDelay, baseDelay × 2^(attempt−1))`, then equal jitter.
  func backoff(attempt: Int, jitter: Double) -> Duration {
    var delay = baseDelay
    var step = 1
    while step < attempt, delay < maxDelay {
      delay = delay * 2
      step += 1
    }
    delay = min(delay, maxDelay)
    let fraction = 0.5 + 0.5 * min(max(jitter, 0), 0.999_999)
    return delay * fraction
  }
}

extension String {
  var strippedOfSpaces: String {
    var s = Substring(self)
    while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
    while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
    return String(s)
  }
}
