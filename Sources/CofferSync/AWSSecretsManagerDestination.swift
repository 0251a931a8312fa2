public import CofferCore
public import HTTPTypes

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// AWS Secrets Manager in one region (`type: aws-secrets-manager`), JSON 1.1 over `POST /`, signed with ``SigV4``
/// (REMOTE-APIS.md §4).
///
/// Two layouts: one secret per name (`<prefix><NAME>`, the value as `SecretString`), or one secret per environment
/// (`<prefix><environment>`, a JSON object of names to values; keys Coffer does not manage are kept). Values are
/// read at `AWSCURRENT`; a write is `PutSecretValue` (a new version: AWS moves `AWSCURRENT` to it and `AWSPREVIOUS`
/// to the one before, so the previous value stays readable) or `CreateSecret`, each with a fresh
/// `ClientRequestToken` that its retries reuse, so a retried write is applied once. Secrets Manager has no
/// check-and-set: right before each write Coffer re-reads the secret, and an item changed since the plan fails as a
/// conflict (a write landing between that read and Coffer's own is not detected). `--prune` schedules deletion with
/// the 30-day recovery window (`RestoreSecret` undoes it), only for secrets tagged `managed-by: coffer`; never a
/// forced delete. Errors are keyed on `__type` (AWS answers 400 for client errors; moto 404 for a missing secret).
package struct AWSSecretsManagerDestination: ValueSource, Diagnosable {
  /// The destination's name in the manifest.
  package let name: String
  /// The endpoint (`https://secretsmanager.<region>.amazonaws.com`, or moto's).
  package let base: BaseURL
  /// Region, prefix, layout.
  package let settings: DestinationSpec.AWSSecretsManagerSettings
  /// With `layout: environment`: the secret's name (`<prefix><environment>`).
  package let environmentSecret: String
  let credentials: SigV4.Credentials?
  /// Where the credentials come from, for messages.
  package let credentialSource: String
  /// The HTTP client (its clock dates the signatures).
  package let client: RemoteClient
  /// How many requests run at once with `layout: name`.
  package let maxConcurrentRequests: Int
  let requestToken: @Sendable () -> String
  /// What the plan read of each item (`VersionId`, or absent), so a write can tell that the secret changed since.
  let planned = PlanMemo()

  /// Creates a Secrets Manager destination.
  /// - Parameters:
  ///   - name: the manifest name.
  ///   - base: the endpoint.
  ///   - settings: region, prefix, layout.
  ///   - environment: the environment it is fed from (names the secret with `layout: environment`).
  ///   - credentials: the keys, or `nil` when none were found.
  ///   - credentialSource: where they came from (`AWS_ACCESS_KEY_ID`, `profile prod in ~/.aws/credentials`).
  ///   - client: the HTTP client.
  ///   - maxConcurrentRequests: the concurrency with `layout: name`, default 8.
  ///   - requestToken: makes a `ClientRequestToken` (default: a random UUID).
  package init(
    name: String, base: BaseURL, settings: DestinationSpec.AWSSecretsManagerSettings, environment: String,
    credentials: SigV4.Credentials?, credentialSource: String, client: RemoteClient, maxConcurrentRequests: Int = 8,
    requestToken: @escaping @Sendable () -> String = { AWSSecretsManagerDestination.randomToken() }
  ) {
    self.name = name
    self.base = base
    self.settings = settings
    self.environmentSecret = settings.prefix + environment
    self.credentials = credentials
    self.credentialSource = credentialSource
    self.client = client
    self.maxConcurrentRequests = maxConcurrentRequests
    self.requestToken = requestToken
  }

  /// The largest `SecretString`, in bytes.
  package static let maxValueBytes = 65_536

  /// A random version-4 UUID, lowercase (36 characters).
  package static func randomToken() -> String {
    var bytes = (0..<16).map { _ in UInt8.random(in: 0...255) }
    bytes[6] = (bytes[6] & 0x0F) | 0x40
    bytes[8] = (bytes[8] & 0x3F) | 0x80
    let hex = SigV4.hex(bytes)
    let h = Array(hex)
    return String(h[0..<8]) + "-" + String(h[8..<12]) + "-" + String(h[12..<16]) + "-" + String(h[16..<20]) + "-"
      + String(h[20..<32])
  }

  // MARK: - Requests

  /// An answer of one operation: status, `__type` (without a namespace) and message, and the JSON body.
  struct Answer {
    var status: Int
    var type: String?
    var message: String?
    var body: [UInt8]
    var ok: Bool { (200..<300).contains(status) && type == nil }
  }

  struct Failure: Error {
    var detail: String
  }

  /// Sends `secretsmanager.<operation>` with a JSON body, signed.
  func call(_ operation: String, _ body: [UInt8], subject: String?) async throws(SyncError) -> Answer {
    guard let credentials else {
      throw SyncError(.badInput, destination: name, detail: "no AWS credentials: \(credentialSource)")
    }
    let amzDate = SigV4.amzDate(secondsSinceEpoch: client.now())
    var headers: [(String, String)] = [
      ("content-type", "application/x-amz-json-1.1"), ("host", base.authority),
      ("x-amz-target", "secretsmanager.\(operation)"),
    ]
    if let token = credentials.sessionToken { headers.append(("x-amz-security-token", token)) }
    let signed = SigV4.sign(
      method: "POST", path: base.pathPrefix.isEmpty ? "/" : base.pathPrefix + "/", headers: headers, body: body,
      region: settings.region, service: "secretsmanager", amzDate: amzDate, credentials: credentials)
    var fields = HTTPFields()
    fields[.contentType] = "application/x-amz-json-1.1"
    fields[.userAgent] = "coffer/0.1"
    fields[HTTPField.Name("X-Amz-Target")!] = "secretsmanager.\(operation)"
    fields[HTTPField.Name("X-Amz-Date")!] = amzDate
    if let token = credentials.sessionToken { fields[HTTPField.Name("X-Amz-Security-Token")!] = token }
    fields[.authorization] = signed.authorization
    let request = base.request(.post, "/", headers: fields)
    var response: RemoteClient.Response
    var attempt = 1
    while true {
      do {
        response = try await client.send(request, body: body)
      } catch {
        var failed = SyncError(
          .remoteFailed, destination: name,
          detail: "\(base.authority): \(operation)\(subject.map { " \($0)" } ?? ""): \(error.detail)")
        failed.noAnswer = error.noAnswer
        throw failed
      }
      // AWS throttles with 400 ThrottlingException: retried like a 5xx (the same body, so the same
      // ClientRequestToken), announced like every retry.
      guard response.status == 400,
        String(decoding: response.body.prefix(200), as: UTF8.self).contains("ThrottlingException"),
        let wait = client.policy.delay(
          after: .serverError(retryAfterSeconds: nil), attempt: attempt, now: client.now(), jitter: client.jitter())
      else { break }
      client.onRetry?(
        RemoteClient.Retry(
          request: "\(operation)", status: 400, wait: wait, nextAttempt: attempt + 1,
          maxAttempts: client.policy.maxAttempts))
      do { try await client.sleep(wait) } catch { break }
      attempt += 1
    }
    struct ErrorBody: Decodable {
      var __type: String?
      var message: String?
      var Message: String?
    }
    var answer = Answer(status: response.status, type: nil, message: nil, body: response.body)
    if !response.isSuccess || response.status >= 300 {
      let decoded = try? JSONDecoder().decode(ErrorBody.self, from: Data(response.body))
      answer.type =
        decoded?.__type.map { String($0.split(separator: "#").last ?? Substring($0)) } ?? "HTTP \(response.status)"
      answer.message = decoded?.message ?? decoded?.Message
    }
    return answer
  }

  /// `secretsmanager.eu-west-1.amazonaws.com: PutSecretValue app/API_KEY: 400 AccessDeniedException: …`.
  func failure(_ operation: String, _ subject: String?, _ answer: Answer) -> String {
    var text = "\(base.authority): \(operation)\(subject.map { " \($0)" } ?? ""): \(answer.status) \(answer.type ?? "")"
    if let message = answer.message, !message.isEmpty { text += ": " + String(message.prefix(200)) }
    if answer.type == "UnrecognizedClientException" || answer.type == "InvalidSignatureException"
      || answer.type == "AccessDeniedException" || answer.type == "ExpiredTokenException"
    {
      text += " (check the credentials from \(credentialSource))"
    }
    return text
  }

  // MARK: - Reading

  /// A secret's current value and version, or absent.
  struct Current: Sendable, Equatable {
    var value: String?
    var versionID: String?
    var exists: Bool
    static let absent = Current(value: nil, versionID: nil, exists: false)
  }

  /// Reads a secret at `AWSCURRENT`.
  func read(_ secretName: String) async throws(SyncError) -> Current {
    let answer = try await call(
      "GetSecretValue", encode(["SecretId": secretName, "VersionStage": "AWSCURRENT"]), subject: secretName)
    // Missing, or scheduled for deletion (an earlier --prune): absent; a create restores it.
    if answer.type == "ResourceNotFoundException" { return .absent }
    if answer.type == "InvalidRequestException", answer.message?.lowercased().contains("delet") == true {
      return .absent
    }
    guard answer.ok else {
      throw SyncError(.remoteFailed, destination: name, detail: failure("GetSecretValue", secretName, answer))
    }
    struct Value: Decodable {
      var SecretString: String?
      var SecretBinary: String?
      var VersionId: String?
    }
    guard let value = try? JSONDecoder().decode(Value.self, from: Data(answer.body)) else {
      throw SyncError(
        .badResponse, destination: name, detail: "\(base.authority): GetSecretValue \(secretName): not JSON")
    }
    return Current(value: value.SecretString, versionID: value.VersionId, exists: true)
  }

  /// A listed secret: its name and whether Coffer tagged it.
  struct Listed: Sendable {
    var name: String
    var managed: Bool
  }

  /// Every secret whose name starts with the prefix, all pages (`MaxResults` 100, `NextToken`).
  /// - Throws: ``SyncError`` when a page fails: never read as "empty".
  func list() async throws(SyncError) -> [Listed] {
    struct Page: Decodable {
      struct Entry: Decodable {
        struct Tag: Decodable {
          var Key: String
          var Value: String?
        }
        var Name: String
        var Tags: [Tag]?
        var DeletedDate: Double?
      }
      var SecretList: [Entry]?
      var NextToken: String?
    }
    struct Request: Encodable {
      struct Filter: Encodable {
        var Key: String
        var Values: [String]
      }
      var MaxResults = 100
      var NextToken: String?
      var Filters: [Filter]?
    }
    var out: [Listed] = []
    var next: String?
    for _ in 0..<1000 {
      let request = Request(
        NextToken: next, Filters: settings.prefix.isEmpty ? nil : [.init(Key: "name", Values: [settings.prefix])])
      let answer = try await call("ListSecrets", encode(request), subject: nil)
      guard answer.ok, let page = try? JSONDecoder().decode(Page.self, from: Data(answer.body)) else {
        throw SyncError(.remoteFailed, destination: name, detail: failure("ListSecrets", nil, answer))
      }
      for entry in page.SecretList ?? [] where entry.DeletedDate == nil && entry.Name.hasPrefix(settings.prefix) {
        out.append(
          Listed(
            name: entry.Name, managed: entry.Tags?.contains { $0.Key == "managed-by" && $0.Value == "coffer" } ?? false)
        )
      }
      guard let token = page.NextToken, !token.isEmpty else { return out }
      next = token
    }
    throw SyncError(.badResponse, destination: name, detail: "\(base.authority): ListSecrets: too many pages")
  }

  // MARK: - Plan

  struct Snapshot: Sendable {
    var perName: [String: Current] = [:]
    var prunable: [String] = []
    var environment: Current = .absent
    var environmentData: [String: String?] = [:]
  }

  /// The names and values of a per-environment secret; a value that is not a string maps to `nil`.
  func decodeEnvironment(_ current: Current) throws(SyncError) -> [String: String?] {
    guard current.exists else { return [:] }
    guard let text = current.value,
      let object = try? JSONDecoder().decode([String: KVValue].self, from: Data(text.utf8))
    else {
      throw SyncError(
        .badResponse, destination: name,
        detail: "\(base.authority): \(environmentSecret) does not hold a JSON object; Coffer does not rewrite it")
    }
    var out: [String: String?] = [:]
    for (key, value) in object { if case .string(let s) = value { out[key] = s } else { out[key] = .some(nil) } }
    return out
  }

  func readSnapshot(_ input: SyncInput) async throws(SyncError) -> Snapshot {
    var snapshot = Snapshot()
    switch settings.layout {
    case .environment:
      snapshot.environment = try await read(environmentSecret)
      snapshot.environmentData = try decodeEnvironment(snapshot.environment)
    case .name:
      let listed = try await list()
      let present = Set(listed.map(\.name))
      let wanted = input.items.map(\.name).filter { present.contains(settings.prefix + $0) }
      let reads = await boundedMap(wanted, limit: maxConcurrentRequests) { key -> Result<Current, SyncError> in
        do throws(SyncError) { return .success(try await read(settings.prefix + key)) } catch { return .failure(error) }
      }
      for (key, result) in zip(wanted, reads) { snapshot.perName[key] = try result.get() }
      for item in input.items { planned.set(item.name, snapshot.perName[item.name]?.versionID ?? "absent") }
      if input.prune {
        let names = Set(input.items.map { settings.prefix + $0.name })
        snapshot.prunable = listed.filter { $0.managed && !names.contains($0.name) }.map {
          String($0.name.dropFirst(settings.prefix.count))
        }
        .sorted()
      }
    }
    return snapshot
  }

  static func isNameScalar(_ scalar: Unicode.Scalar) -> Bool {
    scalar.isASCII
      && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "/_+=.@-".unicodeScalars.contains(scalar))
  }

  func diff(_ input: SyncInput, _ snapshot: Snapshot) -> DestinationPlan {
    var changes: [PlannedChange] = []
    for item in input.items {
      guard item.value.isValidUTF8 else {
        changes.append(PlannedChange(item.name, item.kind, .blocked, reason: "value is not UTF-8 text (SecretString)"))
        continue
      }
      if settings.layout == .name {
        guard (settings.prefix + item.name).unicodeScalars.allSatisfy(Self.isNameScalar),
          (settings.prefix + item.name).utf8.count <= 512
        else {
          changes.append(PlannedChange(item.name, item.kind, .blocked, reason: "not a valid Secrets Manager name"))
          continue
        }
        guard item.value.byteCount <= Self.maxValueBytes, !item.value.isEmpty else {
          changes.append(
            PlannedChange(item.name, item.kind, .blocked, reason: "Secrets Manager holds 1 to 65,536 bytes per value"))
          continue
        }
      }
      let value: String??
      switch settings.layout {
      case .environment: value = snapshot.environmentData[item.name]
      case .name:
        // Absent; present with a SecretString; present without one (SecretBinary): not Coffer's shape.
        if let current = snapshot.perName[item.name], current.exists {
          value = .some(current.value)
        } else {
          value = .none
        }
      }
      let remote: RemoteItem
      switch value {
      case .none: remote = .absent
      case .some(.none): remote = .readable(fingerprint: "")
      case .some(.some(let text)): remote = .readable(fingerprint: input.fingerprint(SecretValue(text)))
      }
      changes.append(
        input.guarded(SyncDiff.classify(item, remote: remote, record: input.state.record(item.name, item.kind))))
    }
    if input.prune {
      let wanted = Set(input.items.map(\.name))
      switch settings.layout {
      case .environment:
        for key in snapshot.environmentData.keys.sorted() where !wanted.contains(key) {
          guard let kind = [ItemKind.secret, .variable].first(where: { input.state.record(key, $0) != nil }) else {
            continue
          }
          changes.append(PlannedChange(key, kind, .delete))
        }
      case .name:
        for key in snapshot.prunable {
          changes.append(PlannedChange(key, input.state.record(key, .variable) != nil ? .variable : .secret, .delete))
        }
      }
    }
    var plan = DestinationPlan(destination: name, changes: changes)
    if settings.layout == .environment, !snapshot.environment.exists, !plan.writes.isEmpty {
      plan.notes.append("the secret \(environmentSecret) will be created")
    }
    return plan
  }

  package func plan(_ input: SyncInput) async -> DestinationPlan {
    guard credentials != nil else {
      return DestinationPlan(destination: name, changes: [], failure: "no AWS credentials: \(credentialSource)")
    }
    do {
      let snapshot = try await readSnapshot(input)
      var plan = diff(input, snapshot)
      if settings.layout == .environment, let size = environmentSize(input, snapshot, plan), size > Self.maxValueBytes {
        plan = DestinationPlan(
          destination: name,
          changes: plan.changes.map {
            $0.action.writes
              ? PlannedChange(
                $0.name, $0.kind, .blocked,
                reason:
                  "\(environmentSecret) would be \(size) bytes; Secrets Manager holds at most 65,536 (use layout: name)"
              ) : $0
          }, notes: plan.notes)
      }
      return plan
    } catch {
      return DestinationPlan(
        destination: name, changes: [], failure: "cannot read: \(error.detail); nothing will be written")
    }
  }

  func environmentJSON(_ input: SyncInput, _ snapshot: Snapshot, _ plan: DestinationPlan, skip: Set<String> = [])
    -> [UInt8]
  {
    var data: [String: String] = [:]
    for (key, value) in snapshot.environmentData { if let value { data[key] = value } }
    let values = Dictionary(input.items.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    for change in plan.writes where !skip.contains(change.name) {
      if change.action == .delete {
        data[change.name] = nil
      } else if let item = values[change.name] {
        data[item.name] = item.value.revealString()
      }
    }
    return encode(data)
  }

  func environmentSize(_ input: SyncInput, _ snapshot: Snapshot, _ plan: DestinationPlan) -> Int? {
    plan.writes.isEmpty ? nil : environmentJSON(input, snapshot, plan).count
  }

  // MARK: - Apply

  package func apply(
    _ plan: DestinationPlan, _ input: SyncInput, progress: @escaping @Sendable (ItemResult) -> Void
  ) async -> SyncReport {
    if let failure = plan.failure { return plan.report(failure: failure, state: input.state) }
    switch settings.layout {
    case .environment:
      guard !plan.writes.isEmpty else { return plan.reportOfSingleWrite(input, failure: nil, progress: progress) }
      let snapshot: Snapshot
      do {
        snapshot = try await readSnapshot(input)
      } catch {
        return plan.reportOfSingleWrite(input, failure: error.detail, progress: progress)
      }
      // Re-planned against what is there now (as for Pulumi ESC); keys Coffer does not manage are kept.
      let current = diff(input, snapshot)
      guard !current.writes.isEmpty else { return current.reportOfSingleWrite(input, failure: nil, progress: progress) }
      let json = environmentJSON(input, snapshot, current)
      guard json.count <= Self.maxValueBytes else {
        return current.reportOfSingleWrite(
          input, failure: "\(environmentSecret) would be \(json.count) bytes; Secrets Manager holds at most 65,536",
          progress: progress)
      }
      let failure = await put(
        environmentSecret, String(decoding: json, as: UTF8.self), exists: snapshot.environment.exists)
      return current.reportOfSingleWrite(input, failure: failure, progress: progress)
    case .name:
      let values = Dictionary(input.items.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
      let results = await boundedMap(plan.writes, limit: maxConcurrentRequests) { change -> ItemResult in
        let outcome = await write(change, values[change.name], input)
        let result = ItemResult(
          name: change.name, kind: change.kind, action: change.action, outcome: outcome, reason: change.reason)
        progress(result)
        return result
      }
      var state = input.state
      for result in results where result.outcome == .done {
        if result.action == .delete {
          state.set(result.name, result.kind, nil)
        } else if let item = values[result.name] {
          state.set(result.name, result.kind, DestinationState.Record(fingerprint: item.fingerprint))
        }
      }
      for change in plan.changes where change.action == .unchanged {
        if state.record(change.name, change.kind) == nil, let item = values[change.name] {
          state.set(change.name, change.kind, DestinationState.Record(fingerprint: item.fingerprint))
        }
      }
      let byName = Dictionary(results.map { ("\($0.kind):\($0.name)", $0) }, uniquingKeysWith: { a, _ in a })
      return SyncReport(
        destination: name,
        results: plan.changes.map { change in
          byName["\(change.kind):\(change.name)"]
            ?? ItemResult(
              name: change.name, kind: change.kind, action: change.action, outcome: .skipped, reason: change.reason)
        }, state: state)
    }
  }

  /// Creates the secret (tagged `managed-by: coffer`) or puts a new version; a fresh `ClientRequestToken` per write.
  /// - Returns: the failure, or `nil`.
  func put(_ secretName: String, _ value: String, exists: Bool) async -> String? {
    struct Create: Encodable {
      struct Tag: Encodable {
        var Key: String
        var Value: String
      }
      var Name: String
      var SecretString: String
      var ClientRequestToken: String
      var Tags: [Tag]
    }
    struct Put: Encodable {
      var SecretId: String
      var SecretString: String
      var ClientRequestToken: String
    }
    let token = requestToken()
    do throws(SyncError) {
      if !exists {
        let answer = try await call(
          "CreateSecret",
          encode(
            Create(
              Name: secretName, SecretString: value, ClientRequestToken: token,
              Tags: [.init(Key: "managed-by", Value: "coffer")])),
          subject: secretName)
        if answer.ok { return nil }
        if answer.type == "ResourceExistsException" {
          // Scheduled for deletion (an earlier --prune): restore it, then put the new version. Otherwise someone
          // else created it since the plan: a conflict, not an overwrite.
          struct Described: Decodable { var DeletedDate: Double? }
          let described = try await call("DescribeSecret", encode(["SecretId": secretName]), subject: secretName)
          guard described.ok,
            (try? JSONDecoder().decode(Described.self, from: Data(described.body)))?.DeletedDate != nil
          else {
            return "conflict: \(secretName) was created by someone else since the plan; run sync again"
          }
          let restored = try await call("RestoreSecret", encode(["SecretId": secretName]), subject: secretName)
          guard restored.ok else { return failure("RestoreSecret", secretName, restored) }
          let again = try await call(
            "PutSecretValue", encode(Put(SecretId: secretName, SecretString: value, ClientRequestToken: token)),
            subject: secretName)
          return again.ok ? nil : failure("PutSecretValue", secretName, again)
        }
        return failure("CreateSecret", secretName, answer)
      }
      let answer = try await call(
        "PutSecretValue", encode(Put(SecretId: secretName, SecretString: value, ClientRequestToken: token)),
        subject: secretName)
      return answer.ok ? nil : failure("PutSecretValue", secretName, answer)
    } catch {
      return error.detail
    }
  }

  func write(_ change: PlannedChange, _ item: SyncItem?, _ input: SyncInput) async -> ItemResult.Outcome {
    let secretName = settings.prefix + change.name
    if change.action == .delete {
      do throws(SyncError) {
        let answer = try await call(
          "DeleteSecret", encode(DeleteRequest(SecretId: secretName, RecoveryWindowInDays: 30)), subject: secretName)
        return answer.ok || answer.type == "ResourceNotFoundException"
          ? .done : .failed(failure("DeleteSecret", secretName, answer))
      } catch {
        return .failed(error.detail)
      }
    }
    guard let item else { return .failed("no value") }
    let current: Current
    do {
      current = try await read(secretName)
    } catch {
      return .failed(error.detail)
    }
    let again = diff(
      SyncInput(items: [item], state: input.state, prune: false, fingerprint: input.fingerprint, origin: input.origin),
      Snapshot(perName: [change.name: current]))
    if let now = again.changes.first, now.action == .unchanged { return .done }
    if let seen = planned.get(change.name), seen != (current.versionID ?? "absent") {
      return .failed("conflict: \(secretName) changed at the server since the plan; run sync again")
    }
    if let now = again.changes.first, now.action != change.action {
      return .failed("conflict: \(secretName) changed at the server since the plan; run sync again")
    }
    if let failure = await put(secretName, item.value.revealString(), exists: current.exists) {
      return .failed(failure)
    }
    return .done
  }

  struct DeleteRequest: Encodable {
    var SecretId: String
    var RecoveryWindowInDays: Int
  }

  // MARK: - Pull

  package func pull() async throws(SyncError) -> [PulledValue] {
    try await values().map { PulledValue(name: $0.name, value: $0.value, kind: .secret) }
  }

  /// Every value the destination holds at `AWSCURRENT`, sorted by name.
  /// - Throws: ``SyncError`` when a secret or the listing cannot be read.
  package func values() async throws(SyncError) -> [(name: String, value: SecretValue)] {
    guard credentials != nil else {
      throw SyncError(.badInput, destination: name, detail: "no AWS credentials: \(credentialSource)")
    }
    switch settings.layout {
    case .environment:
      let current = try await read(environmentSecret)
      guard current.exists else {
        throw SyncError(
          .remoteFailed, destination: name, detail: "\(base.authority): the secret \(environmentSecret) does not exist")
      }
      return try decodeEnvironment(current).compactMap { key, value in value.map { (key, SecretValue($0)) } }
        .sorted { $0.name < $1.name }
    case .name:
      let names = try await list().map(\.name).sorted()
      let reads = await boundedMap(names, limit: maxConcurrentRequests) { secretName -> Result<Current, SyncError> in
        do throws(SyncError) { return .success(try await read(secretName)) } catch { return .failure(error) }
      }
      var out: [(name: String, value: SecretValue)] = []
      for (secretName, result) in zip(names, reads) {
        let current = try result.get()
        if let value = current.value {
          out.append((String(secretName.dropFirst(settings.prefix.count)), SecretValue(value)))
        }
      }
      return out
    }
  }

  // MARK: - Doctor

  package func diagnose() async -> [DoctorCheck] {
    guard credentials != nil else {
      return [
        DoctorCheck(
          "credentials present", .failed, detail: credentialSource,
          fix:
            "export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or set AWS_PROFILE (or profile:) to a profile of ~/.aws/credentials"
        ),
        DoctorCheck("authenticates", .skipped), DoctorCheck("secrets readable", .skipped),
      ]
    }
    var checks = [DoctorCheck("credentials present", .ok, detail: "from \(credentialSource)")]
    do throws(SyncError) {
      let listed = try await list()
      checks.append(DoctorCheck("authenticates", .ok))
      switch settings.layout {
      case .environment:
        let current = try await read(environmentSecret)
        checks.append(
          DoctorCheck(
            "secrets readable", .ok,
            detail: current.exists
              ? "\(environmentSecret) readable" : "\(environmentSecret) does not exist yet; sync creates it"))
      case .name:
        checks.append(
          DoctorCheck(
            "secrets readable", .ok,
            detail: "\(listed.count) secrets under \(settings.prefix.isEmpty ? "the account" : settings.prefix)"))
      }
    } catch {
      if checks.count == 1 {
        checks.append(
          DoctorCheck(
            "authenticates", .failed, detail: error.detail,
            fix: "check the credentials and the secretsmanager:ListSecrets permission"))
        checks.append(DoctorCheck("secrets readable", .skipped))
      } else {
        checks.append(
          DoctorCheck(
            "secrets readable", .failed, detail: error.detail,
            fix: "grant secretsmanager:GetSecretValue on \(settings.prefix)*"))
      }
    }
    return checks
  }
}

/// Reading AWS credentials files (`~/.aws/credentials`, INI): pure text in, credentials out.
package enum AWSCredentialsFile {
  /// The credentials of a profile.
  /// - Parameters:
  ///   - text: the file's contents.
  ///   - profile: the section name (`default`, `prod`).
  /// - Returns: the keys, or `nil` when the profile or its two keys are missing.
  package static func credentials(in text: String, profile: String) -> SigV4.Credentials? {
    var section: String?
    var values: [String: String] = [:]
    for raw in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r" }) {
      let line = raw.trimmingCharacters(in: " ")
      if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
      if line.hasPrefix("["), line.hasSuffix("]") {
        section = String(line.dropFirst().dropLast()).trimmingCharacters(in: " ")
        continue
      }
      guard section == profile, let equals = line.firstIndex(of: "=") else { continue }
      let key = String(line[..<equals]).trimmingCharacters(in: " ").lowercased()
      values[key] = String(line[line.index(after: equals)...]).trimmingCharacters(in: " ")
    }
    guard let id = values["aws_access_key_id"], !id.isEmpty, let secret = values["aws_secret_access_key"],
      !secret.isEmpty
    else { return nil }
    return SigV4.Credentials(
      accessKeyID: id, secretAccessKey: secret,
      sessionToken: values["aws_session_token"].flatMap { $0.isEmpty ? nil : $0 })
  }
}

extension String {
  func trimmingCharacters(in character: Character) -> String {
    Substring(self).trimmingCharacters(in: character)
  }
}
