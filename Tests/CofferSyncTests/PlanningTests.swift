import CofferCore
import CofferSync
import HTTPTypes
import Testing

@Suite struct RetryPolicyTests {
  func response(_ status: Int, _ headers: [(String, String)] = []) -> HTTPResponse {
    var fields = HTTPFields()
    for (name, value) in headers { fields.append(HTTPField(name: HTTPField.Name(name)!, value: value)) }
    return HTTPResponse(status: .init(code: status), headerFields: fields)
  }

  @Test func classification() {
    #expect(RetryPolicy.classify(response(200), body: []) == nil)
    #expect(RetryPolicy.classify(response(404), body: []) == nil)
    #expect(RetryPolicy.classify(response(422), body: []) == nil)
    #expect(RetryPolicy.classify(response(403), body: Array(#"{"message":"Resource not accessible"}"#.utf8)) == nil)
    #expect(
      RetryPolicy.classify(response(429, [("retry-after", "7")]), body: [])
        == .rateLimited(retryAfterSeconds: 7, resetEpochSeconds: nil, remainingIsZero: false))
    #expect(
      RetryPolicy.classify(response(403), body: Array("You have exceeded a secondary rate limit".utf8))
        == .rateLimited(retryAfterSeconds: nil, resetEpochSeconds: nil, remainingIsZero: false))
    #expect(
      RetryPolicy.classify(response(403, [("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "100")]), body: [])
        == .rateLimited(retryAfterSeconds: nil, resetEpochSeconds: 100, remainingIsZero: true))
    #expect(RetryPolicy.classify(response(502), body: []) == .serverError(retryAfterSeconds: nil))
    #expect(RetryPolicy.classify(response(503, [("retry-after", "3")]), body: []) == .serverError(retryAfterSeconds: 3))
  }

  @Test func delays() {
    let policy = RetryPolicy(maxAttempts: 6, baseDelay: .seconds(1), maxDelay: .seconds(8))
    // Exponential, capped, equal jitter over [d/2, d).
    #expect(policy.delay(after: .transport, attempt: 1, now: 0, jitter: 0) == .milliseconds(500))
    #expect(policy.delay(after: .transport, attempt: 2, now: 0, jitter: 0) == .seconds(1))
    #expect(policy.delay(after: .transport, attempt: 3, now: 0, jitter: 0.5) == .seconds(3))
    #expect(policy.delay(after: .transport, attempt: 5, now: 0, jitter: 0) == .seconds(4))
    #expect(policy.delay(after: .transport, attempt: 6, now: 0, jitter: 0) == nil)  // attempts used up
    // Server hints win.
    #expect(policy.delay(after: .rateLimited(retryAfterSeconds: 9, resetEpochSeconds: 50, remainingIsZero: true), attempt: 1, now: 0, jitter: 0) == .seconds(9))
    #expect(policy.delay(after: .rateLimited(retryAfterSeconds: nil, resetEpochSeconds: 130, remainingIsZero: true), attempt: 1, now: 100, jitter: 0) == .seconds(31))
    #expect(policy.delay(after: .rateLimited(retryAfterSeconds: nil, resetEpochSeconds: nil, remainingIsZero: false), attempt: 1, now: 0, jitter: 0) == .seconds(60))
    #expect(policy.delay(after: .serverError(retryAfterSeconds: 2), attempt: 1, now: 0, jitter: 0.9) == .seconds(2))
    // Too long a wait is not attempted.
    #expect(policy.delay(after: .rateLimited(retryAfterSeconds: 3600, resetEpochSeconds: nil, remainingIsZero: false), attempt: 1, now: 0, jitter: 0) == nil)
  }
}

@Suite struct GitHubRulesTests {
  @Test func names() {
    #expect(GitHubRules.nameProblem("OPENAI_API_KEY") == nil)
    #expect(GitHubRules.nameProblem("_private") == nil)
    #expect(GitHubRules.nameProblem("lower_case1") == nil)
    #expect(GitHubRules.nameProblem("go-version") == "contains '-'; GitHub allows only letters, digits and _")
    #expect(GitHubRules.nameProblem("A B") == "contains ' '; GitHub allows only letters, digits and _")
    #expect(GitHubRules.nameProblem("ÉTÉ") == "contains 'É'; GitHub allows only letters, digits and _")
    #expect(GitHubRules.nameProblem("9LIVES") == "starts with a digit, which GitHub does not allow")
    #expect(GitHubRules.nameProblem("GitHub_Token") == "starts with GITHUB_, which GitHub reserves")
    #expect(GitHubRules.nameProblem("GITHUBX") == nil)
    #expect(GitHubRules.nameProblem("") == "is empty")
  }

  @Test func sizesAndCounts() {
    let items = [
      item("EXACT", String(repeating: "a", count: 49_152)), item("OVER", String(repeating: "a", count: 49_153)),
      item("PLAIN", "x", .variable), item("BINARY_PLAIN", "", .variable),
    ]
    var withBinary = items
    withBinary[3] = SyncItem(name: "BINARY_PLAIN", value: SecretValue([0xFF]), kind: .variable, fingerprint: "f")
    let blocked = GitHubRules.blocked(withBinary, remoteNames: [:], scope: .repository)
    #expect(blocked[.secret] == ["OVER": "value is 49153 bytes; GitHub allows at most 49152"])
    #expect(blocked[.variable] == ["BINARY_PLAIN": "value is not UTF-8 text, which a GitHub variable needs"])
    #expect(GitHubRules.maxCount(.secret, in: .organization) == 1000)
    #expect(GitHubRules.maxCount(.secret, in: .environment) == 100)
    #expect(GitHubRules.maxCount(.variable, in: .repository) == 500)
    let many = (0..<1001).map { item("S\($0)", "v") }
    #expect(GitHubRules.blocked(many, remoteNames: [:], scope: .organization)[.secret]?.count == 1)
  }
}

@Suite struct SyncDiffTests {
  let wanted = item("A", "value")

  @Test func readableRemote() {
    let same = RemoteItem.readable(fingerprint: wanted.fingerprint)
    let other = RemoteItem.readable(fingerprint: "other")
    let pushed = DestinationState.Record(fingerprint: wanted.fingerprint)
    let older = DestinationState.Record(fingerprint: "older")
    #expect(SyncDiff.classify(wanted, remote: .absent, record: pushed).action == .create)
    #expect(SyncDiff.classify(wanted, remote: same, record: nil).action == .unchanged)
    #expect(SyncDiff.classify(wanted, remote: other, record: pushed).action == .drifted)
    #expect(SyncDiff.classify(wanted, remote: other, record: older).action == .update)
    #expect(SyncDiff.classify(wanted, remote: other, record: nil).action == .update)
  }

  @Test func sealedRemote() {
    let at = Timestamp(rfc3339: "2025-06-01T10:00:00Z")
    let later = Timestamp(rfc3339: "2025-06-01T10:00:01Z")
    let pushed = DestinationState.Record(fingerprint: wanted.fingerprint, remoteUpdatedAt: "2025-06-01T10:00:00Z")
    #expect(SyncDiff.classify(wanted, remote: .sealed(updatedAt: at), record: pushed).action == .unchanged)
    let drift = SyncDiff.classify(wanted, remote: .sealed(updatedAt: later), record: pushed)
    #expect(drift.action == .drifted)
    #expect(drift.reason == "updated at the destination 2025-06-01T10:00:01Z, after Coffer's push at 2025-06-01T10:00:00Z")
    #expect(SyncDiff.classify(wanted, remote: .sealed(updatedAt: later), record: DestinationState.Record(fingerprint: "x")).action == .update)
    #expect(SyncDiff.classify(wanted, remote: .sealed(updatedAt: at), record: nil).reason == "no record of the value at the destination")
    // Organization settings are part of what was pushed.
    let scoped = DestinationState.Record(fingerprint: wanted.fingerprint, remoteUpdatedAt: "2025-06-01T10:00:00Z", scope: "private")
    #expect(SyncDiff.classify(wanted, remote: .sealed(updatedAt: at), record: scoped, scope: "all").action == .update)
  }

  @Test func stateRoundTripHoldsNoValues() throws {
    var state = DestinationState()
    state.set("A", .secret, DestinationState.Record(fingerprint: "ab12", remoteUpdatedAt: "2025-06-01T10:00:00Z"))
    state.set("B", .variable, DestinationState.Record(fingerprint: "cd34", scope: "selected:web"))
    let bytes = state.encoded(destination: "gh")
    #expect(try DestinationState.decode(bytes, file: "gh.json") == state)
    #expect(String(decoding: bytes, as: UTF8.self).contains("\"remote_updated_at\" : \"2025-06-01T10:00:00Z\""))
    #expect(throws: SyncError.self) { try DestinationState.decode(Array("{".utf8), file: "gh.json") }
  }

  @Test func linksAndURLs() {
    #expect(
      LinkHeader.next(in: #"<https://api.github.com/x?page=2>; rel="next", <https://api.github.com/x?page=5>; rel="last""#)
        == "https://api.github.com/x?page=2")
    #expect(LinkHeader.next(in: #"<https://api.github.com/x?page=1>; rel="prev""#) == nil)
    let base = BaseURL("https://ghe.example.com/api/v3/")
    #expect(base?.pathPrefix == "/api/v3")
    #expect(base?.relativePath(of: "https://ghe.example.com/api/v3/repos/a?page=2") == "/repos/a?page=2")
    #expect(base?.relativePath(of: "https://evil.example.com/api/v3/repos") == nil)
    #expect(BaseURL("ftp://x") == nil)
    #expect(percentEncodedSegment("a b/é") == "a%20b%2F%C3%A9")
  }
}
