import CofferCore
import CofferSync
import CofferSystem
import CofferTesting
import Foundation
import HTTPTypes
import Synchronization
import Testing

/// SigV4 against the vectors in ../shared/api/vectors (sigv4_vectors_output.txt).
@Suite struct SigV4Tests {
  static let credentials = SigV4.Credentials(
    accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")

  @Test func officialGetVanilla() {
    let signed = SigV4.sign(
      method: "GET", path: "/", headers: [("Host", "example.amazonaws.com")], body: [], region: "us-east-1",
      service: "service", amzDate: "20150830T123600Z", credentials: Self.credentials)
    #expect(signed.signature == "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
    #expect(
      signed.authorization
        == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, "
        + "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
  }

  @Test func secretsManagerVectorMatchingBotocore() {
    let signed = SigV4.sign(
      method: "POST", path: "/",
      headers: [
        ("Host", "secretsmanager.us-east-1.amazonaws.com"), ("Content-Type", "application/x-amz-json-1.1"),
        ("X-Amz-Target", "secretsmanager.GetSecretValue"),
      ], body: Array(#"{"SecretId":"myapp/db"}"#.utf8), region: "us-east-1", service: "secretsmanager",
      amzDate: "20150830T123600Z", credentials: Self.credentials)
    #expect(
      signed.canonicalRequest
        == """
        POST
        /

        content-type:application/x-amz-json-1.1
        host:secretsmanager.us-east-1.amazonaws.com
        x-amz-date:20150830T123600Z
        x-amz-target:secretsmanager.GetSecretValue

        content-type;host;x-amz-date;x-amz-target
        98141f91b7f793eb4cdb871cddd9d07cbbfbfccef79dbd2d394eba6ce915eeb1
        """)
    #expect(
      signed.stringToSign
        == """
        AWS4-HMAC-SHA256
        20150830T123600Z
        20150830/us-east-1/secretsmanager/aws4_request
        78f7e817cae0e4873a1ed0f0ce2de53463edfcaa3267db0dafda48ee297e172c
        """)
    #expect(
      signed.authorization
        == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/secretsmanager/aws4_request, "
        + "SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
        + "Signature=60a2b17a724af2671cc3ab150872384f314c4ea48ff9936a854610effd8d475b")
  }

  /// Neighbours: each input changes the signature; header names are case-insensitive and inner spaces collapse.
  @Test func everyInputCountsAndHeadersAreCanonicalized() {
    func sig(
      body: String = "{}", region: String = "us-east-1", date: String = "20150830T123600Z", target: String = "x",
      secret: String = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", hostName: String = "Host"
    ) -> String {
      SigV4.sign(
        method: "POST", path: "/", headers: [(hostName, "h.example"), ("X-Amz-Target", target)], body: Array(body.utf8),
        region: region, service: "secretsmanager", amzDate: date,
        credentials: .init(accessKeyID: "AKIDEXAMPLE", secretAccessKey: secret)
      ).signature
    }
    let base = sig()
    #expect(sig(body: "{ }") != base)
    #expect(sig(region: "eu-west-1") != base)
    #expect(sig(date: "20150830T123601Z") != base)
    #expect(sig(target: "y") != base)
    #expect(sig(secret: "other") != base)
    #expect(sig(hostName: "HOST") == base)
    #expect(sig(target: "  x  ") == base)
  }

  @Test func amzDates() {
    #expect(SigV4.amzDate(secondsSinceEpoch: 1_440_938_160) == "20150830T123600Z")
    #expect(SigV4.amzDate(secondsSinceEpoch: 0) == "19700101T000000Z")
    #expect(SigV4.amzDate(secondsSinceEpoch: 951_782_400) == "20000229T000000Z")
    #expect(SigV4.amzDate(secondsSinceEpoch: 4_102_444_799) == "20991231T235959Z")
  }

  @Test func credentialsFileProfiles() {
    let text = """
      # comment
      [default]
      aws_access_key_id = AKIADEFAULT
      aws_secret_access_key = secret/default

      [prod]
      aws_access_key_id=AKIAPROD
      aws_secret_access_key=secret+prod
      aws_session_token = tok==
      [half]
      aws_access_key_id = AKIAHALF
      """
    #expect(
      AWSCredentialsFile.credentials(in: text, profile: "default")
        == SigV4.Credentials(accessKeyID: "AKIADEFAULT", secretAccessKey: "secret/default"))
    #expect(
      AWSCredentialsFile.credentials(in: text, profile: "prod")
        == SigV4.Credentials(accessKeyID: "AKIAPROD", secretAccessKey: "secret+prod", sessionToken: "tok=="))
    #expect(AWSCredentialsFile.credentials(in: text, profile: "half") == nil)
    #expect(AWSCredentialsFile.credentials(in: text, profile: "missing") == nil)
    #expect("\(SigV4.Credentials(accessKeyID: "AKIAPROD", secretAccessKey: "secret+prod"))" == "access key AKIAPROD")
  }
}

/// A started `moto_server` and a raw client for looking behind Coffer.
struct Moto {
  let server: LocalServer
  let harness: Harness
  let recording: RecordingTransport
  static let credentials = SigV4.Credentials(accessKeyID: "testing", secretAccessKey: "testing")

  func client() -> RemoteClient {
    let sleeper = harness.sleeper
    return RemoteClient(
      transport: recording, policy: RetryPolicy(maxAttempts: 5), timeout: .seconds(120),
      sleep: { await sleeper.sleep($0) }, now: { Int64(Date().timeIntervalSince1970) }, jitter: { 0.5 })
  }

  func destination(
    prefix: String = "app/prod/", layout: DestinationSpec.Layout = .name, environment: String = "production"
  )
    -> AWSSecretsManagerDestination
  {
    AWSSecretsManagerDestination(
      name: "aws", base: BaseURL(server.baseURL)!,
      settings: DestinationSpec.AWSSecretsManagerSettings(region: "us-east-1", prefix: prefix, layout: layout),
      environment: environment, credentials: Self.credentials, credentialSource: "AWS_ACCESS_KEY_ID", client: client())
  }

  /// One raw operation, past the recording.
  @discardableResult
  func call(_ operation: String, _ body: [String: Any]) async throws -> (status: Int, json: [String: Any]) {
    let bytes = Array(try JSONSerialization.data(withJSONObject: body))
    let signed = SigV4.sign(
      method: "POST", path: "/",
      headers: [("host", "127.0.0.1:\(server.port)"), ("x-amz-target", "secretsmanager.\(operation)")],
      body: bytes, region: "us-east-1", service: "secretsmanager",
      amzDate: SigV4.amzDate(secondsSinceEpoch: Int64(Date().timeIntervalSince1970)),
      credentials: Self.credentials)
    var fields = HTTPFields()
    fields[.contentType] = "application/x-amz-json-1.1"
    fields[HTTPField.Name("X-Amz-Target")!] = "secretsmanager.\(operation)"
    fields[.authorization] = signed.authorization
    let request = BaseURL(server.baseURL)!.request(.post, "/", headers: fields)
    let (head, answer) = try await harness.transport.send(request, body: bytes, timeout: .seconds(60))
    return (head.status.code, (try? JSONSerialization.jsonObject(with: Data(answer))) as? [String: Any] ?? [:])
  }

  func value(_ name: String, stage: String = "AWSCURRENT") async throws -> String? {
    let (status, json) = try await call("GetSecretValue", ["SecretId": name, "VersionStage": stage])
    return status == 200 ? json["SecretString"] as? String : nil
  }
}

func withMoto(_ body: (Moto) async throws -> Void) async throws {
  let server = LocalServer.moto()
  try await server.start()
  let harness = Harness()
  let moto = Moto(server: server, harness: harness, recording: RecordingTransport(harness.transport))
  do {
    try await body(moto)
  } catch {
    await harness.shutdown()
    server.stop()
    throw error
  }
  await harness.shutdown()
  server.stop()
}

/// The AWS Secrets Manager destination against the real `moto_server` (moto[server]), on 127.0.0.1.
@Suite(.serialized) struct AWSSecretsManagerSyncTests {
  @Test(arguments: [DestinationSpec.Layout.name, .environment])
  func roundTripsBytesExactlyAndResyncWritesNothing(_ layout: DestinationSpec.Layout) async throws {
    try await withMoto { moto in
      let values = OpenBaoSyncTests.tricky.map { ($0.0, $0.1) }
      let items = values.map { item($0.0, $0.1) }
      let (plan, report) = await sync(moto.destination(layout: layout), input(items))
      #expect(plan.failure == nil)
      #expect(plan.changes.map(\.action) == Array(repeating: .create, count: items.count))
      #expect(!report.hasFailures, "\(report.results)")
      if layout == .name {
        for (name, value) in values {
          do {
            let got1 = try await moto.value("app/prod/\(name)").map { Array($0.utf8) }
            #expect(got1 == Array(value.utf8), "\(name)")
          }
        }
      } else {
        let json = try #require(try await moto.value("app/prod/production"))
        let decoded = try JSONDecoder().decode([String: String].self, from: Data(json.utf8))
        #expect(decoded == Dictionary(uniqueKeysWithValues: values))
      }
      let pulled = try await moto.destination(layout: layout).pull()
      for item in items { #expect(pulled.first { $0.name == item.name }?.value == item.value, "\(item.name)") }
      #expect(pulled.count == items.count)

      moto.recording.reset()
      let (again, second) = await sync(moto.destination(layout: layout), input(items, state: report.state))
      #expect(again.changes.allSatisfy { $0.action == .unchanged })
      #expect(!second.hasFailures)
      // Only reads: ListSecrets and GetSecretValue (JSON 1.1 is all POSTs; the target says which).
      #expect(moto.recording.requests.allSatisfy { $0 == "POST /" })
    }
  }

  @Test func updatesKeepThePreviousVersionAsAWSPREVIOUS() async throws {
    try await withMoto { moto in
      let (_, first) = await sync(moto.destination(), input([item("A", "one")]))
      #expect(!first.hasFailures)
      let (plan, second) = await sync(moto.destination(), input([item("A", "two")], state: first.state))
      #expect(plan.action(of: "A") == .update)
      #expect(!second.hasFailures)
      let current = try await moto.value("app/prod/A")
      let previous = try await moto.value("app/prod/A", stage: "AWSPREVIOUS")
      #expect(current == "two")
      #expect(previous == "one")
    }
  }

  @Test(arguments: [DestinationSpec.Layout.name, .environment])
  func detectsAndRestoresDrift(_ layout: DestinationSpec.Layout) async throws {
    try await withMoto { moto in
      let items = [item("A", "coffer-a"), item("B", "coffer-b")]
      let (_, first) = await sync(moto.destination(layout: layout), input(items))
      #expect(!first.hasFailures)
      if layout == .name {
        try await moto.call("PutSecretValue", ["SecretId": "app/prod/A", "SecretString": "by-hand"])
      } else {
        try await moto.call(
          "PutSecretValue",
          ["SecretId": "app/prod/production", "SecretString": #"{"A":"by-hand","B":"coffer-b","THEIRS":"t"}"#])
      }
      let plan = await moto.destination(layout: layout).plan(input(items, state: first.state))
      #expect(plan.action(of: "A") == .drifted)
      #expect(plan.action(of: "B") == .unchanged)
      let (_, second) = await sync(moto.destination(layout: layout), input(items, state: first.state))
      #expect(second.outcome(of: "A") == .done)
      if layout == .name {
        do {
          let got2 = try await moto.value("app/prod/A")
          #expect(got2 == "coffer-a")
        }
      } else {
        let json = try #require(try await moto.value("app/prod/production"))
        let decoded = try JSONDecoder().decode([String: String].self, from: Data(json.utf8))
        #expect(decoded == ["A": "coffer-a", "B": "coffer-b", "THEIRS": "t"])
      }
    }
  }

  @Test func aChangeBetweenPlanAndWriteIsAConflictForThatItemOnly() async throws {
    try await withMoto { moto in
      let (_, first) = await sync(moto.destination(), input([item("A", "a1"), item("B", "b1"), item("C", "c1")]))
      #expect(!first.hasFailures)
      let destination = moto.destination()
      let wanted = input([item("A", "a2"), item("B", "b2"), item("C", "c2")], state: first.state)
      let plan = await destination.plan(wanted)
      try await moto.call("PutSecretValue", ["SecretId": "app/prod/B", "SecretString": "someone-else"])
      let report = await destination.apply(plan, wanted, progress: { _ in })
      #expect(report.outcome(of: "A") == .done)
      #expect(report.outcome(of: "C") == .done)
      #expect(
        report.outcome(of: "B") == .failed("conflict: app/prod/B changed at the server since the plan; run sync again"))
      do {
        let got3 = try await moto.value("app/prod/B")
        #expect(got3 == "someone-else")
      }
    }
  }

  @Test func retriedWritesReuseTheirClientRequestToken() async throws {
    try await withMoto { moto in
      // The same token twice with the same value is one version (idempotent); with another value, refused.
      let put: [String: Any] = [
        "Name": "app/prod/T", "SecretString": "v1", "ClientRequestToken": "11111111-2222-3333-4444-555555555555",
      ]
      do {
        let got4 = try await moto.call("CreateSecret", put).status
        #expect(got4 == 200)
      }
      let same: [String: Any] = [
        "SecretId": "app/prod/T", "SecretString": "v2", "ClientRequestToken": "21111111-2222-3333-4444-555555555555",
      ]
      do {
        let got5 = try await moto.call("PutSecretValue", same).status
        #expect(got5 == 200)
      }
      do {
        let got6 = try await moto.call("PutSecretValue", same).status
        #expect(got6 == 200)
      }
      var different = same
      different["SecretString"] = "v3"
      let refused = try await moto.call("PutSecretValue", different)
      #expect(refused.status == 400)
      #expect(refused.json["__type"] as? String == "ResourceExistsException")
      // Coffer's writes each carry a token of their own.
      let tokens = Mutex<[String]>([])
      let destination = AWSSecretsManagerDestination(
        name: "aws", base: BaseURL(moto.server.baseURL)!,
        settings: .init(region: "us-east-1", prefix: "app/prod/", layout: .name), environment: "production",
        credentials: Moto.credentials, credentialSource: "AWS_ACCESS_KEY_ID", client: moto.client(),
        requestToken: {
          let token = AWSSecretsManagerDestination.randomToken()
          tokens.withLock { $0.append(token) }
          return token
        })
      let (_, report) = await sync(destination, input([item("X", "x"), item("Y", "y")]))
      #expect(!report.hasFailures)
      let issued = tokens.withLock { $0 }
      #expect(issued.count == 2 && Set(issued).count == 2 && issued.allSatisfy { $0.count == 36 })
    }
  }

  @Test func pruneSchedulesDeletionOnlyOfCoffersSecretsAndARecreateRestores() async throws {
    try await withMoto { moto in
      let (_, first) = await sync(moto.destination(), input([item("A", "a"), item("B", "b")]))
      #expect(!first.hasFailures)
      try await moto.call("CreateSecret", ["Name": "app/prod/THEIRS", "SecretString": "t"])
      let (plan, report) = await sync(moto.destination(), input([item("A", "a")], state: first.state, prune: true))
      #expect(plan.changes.map { "\($0.action) \($0.name)" } == ["unchanged A", "delete B"])
      #expect(report.outcome(of: "B") == .done)
      let described = try await moto.call("DescribeSecret", ["SecretId": "app/prod/B"])
      #expect(described.json["DeletedDate"] is Double)  // scheduled, not gone
      do {
        let got7 = try await moto.value("app/prod/THEIRS")
        #expect(got7 == "t")
      }
      // Wanted again: restored and given the value.
      let (again, back) = await sync(moto.destination(), input([item("A", "a"), item("B", "b2")], state: report.state))
      #expect(again.action(of: "B") == .create)
      #expect(!back.hasFailures, "\(back.results)")
      do {
        let got8 = try await moto.value("app/prod/B")
        #expect(got8 == "b2")
      }
    }
  }

  @Test func blocksWhatSecretsManagerCannotHold() async throws {
    try await withMoto { moto in
      let plan = await moto.destination().plan(
        input([
          item("BIG", String(repeating: "x", count: 65_537)), item("EMPTY", ""),
          item("OK", String(repeating: "y", count: 65_536)),
        ]))
      #expect(plan.action(of: "BIG") == .blocked)
      #expect(plan.action(of: "EMPTY") == .blocked)
      #expect(plan.action(of: "OK") == .create)
      let env = await moto.destination(layout: .environment).plan(
        input([item("A", String(repeating: "x", count: 40_000)), item("B", String(repeating: "y", count: 40_000))]))
      #expect(env.changes.map(\.action) == [.blocked, .blocked])
      #expect(env.changes.first?.reason?.hasPrefix("app/prod/production would be 80") == true)
    }
  }

  @Test func missingCredentialsAndUnreachableServerFailThePlan() async throws {
    try await withMoto { moto in
      let none = AWSSecretsManagerDestination(
        name: "aws", base: BaseURL(moto.server.baseURL)!, settings: .init(region: "us-east-1", prefix: "p/"),
        environment: "production", credentials: nil, credentialSource: "AWS_ACCESS_KEY_ID is not set",
        client: moto.client())
      let plan = await none.plan(input([item("A", "a")]))
      #expect(plan.failure == "no AWS credentials: AWS_ACCESS_KEY_ID is not set")
    }
    let harness = Harness()
    let port = try LocalServer.freePort()
    let gone = AWSSecretsManagerDestination(
      name: "aws", base: BaseURL("http://127.0.0.1:\(port)")!,
      settings: .init(region: "us-east-1", prefix: "p/", layout: .name),
      environment: "production", credentials: Moto.credentials, credentialSource: "AWS_ACCESS_KEY_ID",
      client: harness.client(attempts: 2))
    let plan = await gone.plan(input([item("A", "a")], prune: true))
    #expect(plan.failure?.hasPrefix("cannot read: 127.0.0.1:\(port): ListSecrets: POST /: connection failed") == true)
    #expect(plan.changes.isEmpty)
    await harness.shutdown()
  }
}

/// Answers from a script, then from `inner` (a real server), recording what was asked.
final class ScriptedTransport: HTTPTransport {
  let inner: (any HTTPTransport)?
  let script: Mutex<[Result<(Int, String), HTTPTransportError>]>
  let asked = Mutex<[String]>([])

  init(_ script: [Result<(Int, String), HTTPTransportError>], then inner: (any HTTPTransport)? = nil) {
    self.script = Mutex(script)
    self.inner = inner
  }

  func send(_ request: HTTPRequest, body: [UInt8]?, timeout: Duration) async throws(HTTPTransportError)
    -> (HTTPResponse, [UInt8])
  {
    let target = request.headerFields[HTTPField.Name("X-Amz-Target")!] ?? ""
    asked.withLock {
      $0.append("\(request.method.rawValue) \(request.path ?? "") \(target)".trimmingCharacters(in: .whitespaces))
    }
    let next = script.withLock { $0.isEmpty ? nil : $0.removeFirst() }
    switch next {
    case .success(let (status, body)): return (HTTPResponse(status: .init(code: status)), Array(body.utf8))
    case .failure(let error): throw error
    case nil:
      guard let inner else { return (HTTPResponse(status: .init(code: 500)), []) }
      return try await inner.send(request, body: body, timeout: timeout)
    }
  }
}

/// Retries behave as for GitHub and ESC: announced, waited through the injected sleep, and the same request again.
@Suite struct ServerRetryTests {
  /// The retry events a client announced.
  final class RetryLog: Sendable {
    let events = Mutex<[RemoteClient.Retry]>([])
    func withLock<T>(_ body: ([RemoteClient.Retry]) -> T) -> T { events.withLock { body($0) } }
  }

  func client(_ transport: any HTTPTransport, _ sleeper: SleepRecorder, _ retries: RetryLog) -> RemoteClient {
    RemoteClient(
      transport: transport, policy: RetryPolicy(maxAttempts: 3), timeout: .seconds(60),
      sleep: { await sleeper.sleep($0) },
      now: { 1_440_938_160 }, jitter: { 0.5 }, onRetry: { retry in retries.events.withLock { $0.append(retry) } })
  }

  func aws(_ client: RemoteClient) -> AWSSecretsManagerDestination {
    AWSSecretsManagerDestination(
      name: "aws", base: BaseURL("http://127.0.0.1:9")!,
      settings: .init(region: "us-east-1", prefix: "p/", layout: .name),
      environment: "production", credentials: SigV4Tests.credentials, credentialSource: "AWS_ACCESS_KEY_ID",
      client: client)
  }

  @Test func awsThrottlingIsRetriedWithTheSameRequest() async {
    let throttled = #"{"__type":"ThrottlingException","message":"Rate exceeded"}"#
    let transport = ScriptedTransport([
      .success((400, throttled)), .success((200, #"{"SecretList":[],"NextToken":null}"#)),
    ])
    let sleeper = SleepRecorder()
    let retries = RetryLog()
    let plan = await aws(client(transport, sleeper, retries)).plan(input([item("A", "a")]))
    #expect(plan.failure == nil)
    #expect(plan.changes.map(\.action) == [PlannedChange.Action.create])
    #expect(sleeper.recorded == [.milliseconds(750)])
    #expect(
      retries.withLock { $0 } == [
        RemoteClient.Retry(
          request: "ListSecrets", status: 400, wait: .milliseconds(750), nextAttempt: 2, maxAttempts: 3)
      ])
    #expect(
      transport.asked.withLock { $0 } == ["POST / secretsmanager.ListSecrets", "POST / secretsmanager.ListSecrets"])
  }

  /// Neighbours: throttled on every try (the listing fails, nothing planned), a 5xx then success, a client error (not
  /// retried), a connection failure then success.
  @Test func awsRetryNeighbours() async {
    let throttled = Result<(Int, String), HTTPTransportError>.success((400, #"{"__type":"ThrottlingException"}"#))
    let empty = Result<(Int, String), HTTPTransportError>.success((200, #"{"SecretList":[]}"#))
    let cases: [(String, [Result<(Int, String), HTTPTransportError>], String?, Int)] = [
      (
        "always throttled", [throttled, throttled, throttled],
        "cannot read: 127.0.0.1:9: ListSecrets: 400 ThrottlingException; nothing will be written", 3
      ),
      ("5xx", [.success((503, "")), empty], nil, 2),
      (
        "denied", [.success((400, #"{"__type":"AccessDeniedException","message":"no"}"#))],
        "cannot read: 127.0.0.1:9: ListSecrets: 400 AccessDeniedException: no (check the credentials from AWS_ACCESS_KEY_ID); nothing will be written",
        1
      ),
      ("connection", [.failure(HTTPTransportError(.connectionFailed, detail: "")), empty], nil, 2),
    ]
    for (label, script, failure, tries) in cases {
      let transport = ScriptedTransport(script)
      let retries = RetryLog()
      let plan = await aws(client(transport, SleepRecorder(), retries)).plan(input([item("A", "a")]))
      #expect(plan.failure == failure, "\(label)")
      #expect(transport.asked.withLock { $0.count } == tries, "\(label)")
      #expect(retries.withLock { $0.count } == tries - 1, "\(label)")
    }
  }

  @Test func openBaoRetriesAConnectionFailureAndA503() async throws {
    try await withOpenBao { bao in
      let transport = ScriptedTransport(
        [
          .failure(HTTPTransportError(.connectionFailed, detail: "reset")),
          .success((503, #"{"errors":["Vault is sealed"]}"#)),
        ],
        then: bao.harness.transport)
      let sleeper = SleepRecorder()
      let retries = RetryLog()
      let destination = OpenBaoDestination(
        name: "bao", base: bao.base, settings: .init(path: "app/prod"), token: OpenBao.rootToken,
        tokenSource: "VAULT_TOKEN",
        client: client(transport, sleeper, retries))
      let (plan, report) = await sync(destination, input([item("A", "a")]))
      #expect(plan.failure == nil)
      #expect(!report.hasFailures)
      #expect(retries.withLock { $0.map(\.status) } == [nil, 503])
      #expect(sleeper.recorded == [.milliseconds(750), .milliseconds(1500)])
      let stored = try await bao.kv("app/prod")
      #expect(stored == ["A": "a"])
    }
  }
}
