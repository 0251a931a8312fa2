import CofferCore
import HTTPTypes

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// A Pulumi ESC environment (`organization/project/environment`).
///
/// API: https://www.pulumi.com/docs/pulumi-cloud/cloud-rest-api/ (ESC), as described in REMOTE-APIS.md §2: GET the
/// definition (YAML, `ETag`), GET `/decrypt` for the values, PATCH the whole definition with the ETag (sent as the
/// `ETag` header, as the esc CLI does, and as `If-Match`). A 409 means someone else changed the environment: Coffer
/// re-reads and re-plans once, then reports a conflict. Values are read back, so `drifted` is a direct comparison
/// against the recorded fingerprint. Only GETs are retried blindly; a PATCH is retried on connection failures and
/// 5xx because the ETag makes a duplicate fail with 409 instead of applying twice.
package struct PulumiESCDestination: ValueSource, Diagnosable {
  /// The destination's name in the manifest.
  package let name: String
  /// The Pulumi organization.
  package let organization: String
  /// The ESC project (`default` for single-level names).
  package let project: String
  /// The ESC environment.
  package let environment: String
  /// The API root (`https://api.pulumi.com`); requests go to `<root>/api/esc/...`.
  package let base: BaseURL
  let token: String?
  /// The name of the variable the token comes from.
  package let tokenSource: String
  /// The HTTP client.
  package let client: RemoteClient

  /// Creates an ESC destination.
  /// - Parameters:
  ///   - name: the manifest name.
  ///   - organization: the organization.
  ///   - project: the project.
  ///   - environment: the environment.
  ///   - base: the API root.
  ///   - token: the access token (`Authorization: token …`), or `nil` when missing.
  ///   - tokenSource: the variable it came from.
  ///   - client: the HTTP client.
  package init(
    name: String, organization: String, project: String, environment: String, base: BaseURL, token: String?,
    tokenSource: String, client: RemoteClient
  ) {
    self.name = name
    self.organization = organization
    self.project = project
    self.environment = environment
    self.base = base
    self.token = token
    self.tokenSource = tokenSource
    self.client = client
  }

  var path: String {
    "/api/esc/environments/\(percentEncodedSegment(organization))/\(percentEncodedSegment(project))/"
      + percentEncodedSegment(environment)
  }

  func request(_ method: HTTPRequest.Method, _ path: String, contentType: String? = nil) -> HTTPRequest {
    var fields = HTTPFields()
    fields[.accept] = "application/vnd.pulumi+8"
    fields[.userAgent] = "coffer/0.1"
    if let token { fields[.authorization] = "token \(token)" }
    if let contentType { fields[.contentType] = contentType }
    return base.request(method, path, headers: fields)
  }

  func failure(_ request: HTTPRequest, _ response: RemoteClient.Response) -> String {
    // ESC error messages and diagnostics may quote the definition, so only the status is shown.
    var text = "\(RemoteClient.describe(request)): \(response.status)"
    if response.status == 401 { text += " (check \(tokenSource))" }
    return text
  }

  /// The current definition (with other people's secrets still as ciphertext), its ETag, and the decrypted one.
  struct Snapshot {
    var definition: ESCDefinition
    var decrypted: ESCDefinition
    var etag: String?
    var exists: Bool
    /// Whether the definition's text has YAML comments (lost when Coffer re-serializes it).
    var hasComments = false
  }

  func read() async throws(SyncError) -> Snapshot {
    let get = request(.get, path)
    let response = try await client.send(get)
    if response.status == 404 {
      return Snapshot(definition: try ESCDefinition(yaml: ""), decrypted: try ESCDefinition(yaml: ""), etag: nil, exists: false)
    }
    guard response.status == 200 else {
      throw SyncError(.remoteFailed, destination: name, detail: failure(get, response))
    }
    guard let text = String(validating: response.body, as: UTF8.self) else {
      throw SyncError(.badResponse, destination: name, detail: "\(RemoteClient.describe(get)): not UTF-8")
    }
    let definition = try ESCDefinition(yaml: text)
    let decrypt = request(.get, path + "/decrypt")
    let plain = try await client.send(decrypt)
    guard plain.status == 200, let plainText = String(validating: plain.body, as: UTF8.self) else {
      throw SyncError(.remoteFailed, destination: name, detail: failure(decrypt, plain))
    }
    let hasComments = text.split(separator: "\n").contains { line in
      line.drop(while: { $0 == " " }).hasPrefix("#") || line.contains(" #")
    }
    return Snapshot(
      definition: definition, decrypted: try ESCDefinition(yaml: plainText), etag: response.header("etag"),
      exists: true, hasComments: hasComments)
  }

  func diff(_ input: SyncInput, _ snapshot: Snapshot) -> DestinationPlan {
    var changes: [PlannedChange] = []
    for item in input.items {
      if ESCDefinition.reservedKeys.contains(item.name) {
        changes.append(PlannedChange(item.name, item.kind, .blocked, reason: "\(item.name) is reserved by ESC under values"))
        continue
      }
      guard Self.isVariableName(item.name) else {
        changes.append(PlannedChange(item.name, item.kind, .blocked, reason: "not a valid environment variable name"))
        continue
      }
      guard item.value.isValidUTF8 else {
        changes.append(PlannedChange(item.name, item.kind, .blocked, reason: "value is not UTF-8 text, which ESC needs"))
        continue
      }
      let remote: RemoteItem
      var wrongShape: String?
      switch snapshot.decrypted.entry(item.name) {
      case .absent: remote = .absent
      case .other:
        remote = .readable(fingerprint: "")
        wrongShape = "values.\(item.name) is an expression Coffer does not manage"
      case .string(let value, let secret):
        remote = .readable(fingerprint: input.fingerprint(SecretValue(value)))
        if secret != (item.kind == .secret) { wrongShape = secret ? "marked secret at ESC" : "not marked secret at ESC" }
      }
      var change = SyncDiff.classify(item, remote: remote, record: input.state.record(item.name, item.kind))
      if change.action != .create, !snapshot.decrypted.isProjected(item.name) {
        wrongShape = wrongShape ?? "no environmentVariables projection"
      }
      if let wrongShape, change.action == .unchanged {
        change = PlannedChange(item.name, item.kind, .update, reason: wrongShape)
      }
      changes.append(input.guarded(change))
    }
    if input.prune {
      let wanted = Set(input.items.map(\.name))
      for managed in snapshot.decrypted.managedNames where !wanted.contains(managed) {
        let kind: ItemKind = {
          if case .string(_, true) = snapshot.decrypted.entry(managed) { return .secret }
          return .variable
        }()
        changes.append(PlannedChange(managed, kind, .delete))
      }
    }
    var notes: [String] = []
    if !snapshot.exists { notes.append("the ESC environment \(organization)/\(project)/\(environment) will be created") }
    if snapshot.hasComments, changes.contains(where: { $0.action.writes }) {
      notes.append("the definition has comments; writing re-serializes it, which drops them (everything else is kept)")
    }
    return DestinationPlan(destination: name, changes: changes, notes: notes)
  }

  package func plan(_ input: SyncInput) async -> DestinationPlan {
    guard token != nil else {
      return DestinationPlan(destination: name, changes: [], failure: "no token: \(tokenSource) is not set")
    }
    do {
      return diff(input, try await read())
    } catch {
      return DestinationPlan(destination: name, changes: [], failure: "cannot read the environment: \(error.detail)")
    }
  }

  package func apply(
    _ plan: DestinationPlan, _ input: SyncInput, progress: @escaping @Sendable (ItemResult) -> Void
  ) async -> SyncReport {
    if let failure = plan.failure { return plan.report(failure: failure, state: input.state) }
    if plan.writes.isEmpty { return finish(plan, input, failure: nil, progress: progress) }
    let values = Dictionary(input.items.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    var current = plan
    for attempt in 1...2 {
      let snapshot: Snapshot
      do {
        snapshot = try await read()
        if !snapshot.exists { try await create() }
      } catch {
        return finish(current, input, failure: error.detail, progress: progress)
      }
      // Re-plan against what is there now; the first read usually equals the plan's.
      current = diff(input, snapshot)
      if current.writes.isEmpty { return finish(current, input, failure: nil, progress: progress) }
      var definition = snapshot.definition
      for change in current.writes {
        if change.action == .delete {
          definition.remove(change.name)
        } else if let item = values[change.name] {
          definition.set(item.name, value: item.value.revealString(), secret: item.kind == .secret)
        }
      }
      let body: [UInt8]
      do {
        body = Array(try definition.yaml().utf8)
      } catch {
        return finish(current, input, failure: error.detail, progress: progress)
      }
      var patch = request(.patch, path, contentType: "application/x-yaml")
      if let etag = snapshot.etag {
        patch.headerFields[HTTPField.Name("ETag")!] = etag
        patch.headerFields[.ifMatch] = etag
      }
      let response: RemoteClient.Response
      do {
        response = try await client.send(patch, body: body)
      } catch {
        return finish(current, input, failure: error.detail, progress: progress)
      }
      if response.status == 409, attempt == 1 { continue }
      if response.status == 409 {
        return finish(
          current, input,
          failure: "\(RemoteClient.describe(patch)): 409 conflict twice: the environment keeps changing; run sync again",
          progress: progress)
      }
      if response.status == 400 {
        let count = (try? JSONDecoder().decode(Diagnostics.self, from: Data(response.body)))?.diagnostics?.count ?? 0
        return finish(
          current, input, failure: "\(RemoteClient.describe(patch)): 400: ESC rejected the definition (\(count) diagnostics)",
          progress: progress)
      }
      guard response.isSuccess else {
        return finish(current, input, failure: failure(patch, response), progress: progress)
      }
      return finish(current, input, failure: nil, progress: progress)
    }
    return finish(current, input, failure: "conflict", progress: progress)
  }

  func create() async throws(SyncError) {
    var post = request(.post, "/api/esc/environments/\(percentEncodedSegment(organization))", contentType: "application/json")
    post.headerFields[.contentType] = "application/json"
    let response = try await client.send(post, body: encode(["project": project, "name": environment]))
    guard response.isSuccess || response.status == 409 else {
      throw SyncError(.remoteFailed, destination: name, detail: failure(post, response))
    }
  }

  /// One PATCH carries every write, so all writes share its outcome.
  func finish(
    _ plan: DestinationPlan, _ input: SyncInput, failure: String?, progress: @Sendable (ItemResult) -> Void
  ) -> SyncReport {
    plan.reportOfSingleWrite(input, failure: failure, progress: progress)
  }

  package func pull() async throws(SyncError) -> [PulledValue] {
    guard token != nil else { throw SyncError(.badInput, destination: name, detail: "no token: \(tokenSource) is not set") }
    let snapshot = try await read()
    guard snapshot.exists else {
      throw SyncError(.remoteFailed, destination: name, detail: "the ESC environment \(organization)/\(project)/\(environment) does not exist")
    }
    return snapshot.decrypted.resolvedProjections().values
      .map { PulledValue(name: $0.name, value: SecretValue($0.value), kind: $0.secret ? .secret : .variable) }
      .sorted { $0.name < $1.name }
  }

  package func diagnose() async -> [DoctorCheck] {
    guard token != nil else {
      return [
        DoctorCheck("token present", .failed, detail: "\(tokenSource) is not set",
          fix: "export \(tokenSource)=<a Pulumi access token>, or `coffer set \(tokenSource)`"),
        DoctorCheck("authenticates", .skipped), DoctorCheck("has permission", .skipped),
        DoctorCheck("definition readable", .skipped),
      ]
    }
    var checks = [DoctorCheck("token present", .ok, detail: "from \(tokenSource)")]
    // What sync needs, and only that: the environment itself (a token scoped to one environment passes; the
    // organization's listing is not needed).
    let full = "\(organization)/\(project)/\(environment)"
    let get = request(.get, path)
    let response: RemoteClient.Response
    do {
      response = try await client.send(get)
    } catch {
      checks.append(DoctorCheck("authenticates", .failed, detail: error.detail, fix: "check the network and api_url"))
      return checks + [DoctorCheck("has permission", .skipped), DoctorCheck("definition readable", .skipped)]
    }
    switch response.status {
    case 200:
      checks.append(DoctorCheck("authenticates", .ok))
      checks.append(DoctorCheck("has permission", .ok, detail: "can read \(full)"))
    case 404:
      checks.append(DoctorCheck("authenticates", .ok))
      checks.append(DoctorCheck("has permission", .ok, detail: "\(full) does not exist yet"))
      checks.append(DoctorCheck(
        "definition readable", .ok,
        detail: "the environment does not exist yet; sync creates it (the token needs permission to create environments in \(organization))"))
      return checks
    case 401:
      checks.append(DoctorCheck("authenticates", .failed, detail: "401", fix: "the token in \(tokenSource) is wrong or expired"))
      return checks + [DoctorCheck("has permission", .skipped), DoctorCheck("definition readable", .skipped)]
    default:
      checks.append(DoctorCheck("authenticates", .ok))
      checks.append(DoctorCheck("has permission", .failed, detail: failure(get, response),
        fix: "give the token read and write access to \(full)"))
      return checks + [DoctorCheck("definition readable", .skipped)]
    }
    let decrypt = request(.get, path + "/decrypt")
    do {
      let plain = try await client.send(decrypt)
      if plain.status == 200 {
        checks.append(DoctorCheck("definition readable", .ok, detail: response.header("etag").map { "etag \($0)" } ?? ""))
      } else {
        checks.append(DoctorCheck("definition readable", .failed, detail: failure(decrypt, plain),
          fix: "give the token permission to open (decrypt) \(full)"))
      }
    } catch {
      checks.append(DoctorCheck("definition readable", .failed, detail: error.detail, fix: "check the network and api_url"))
    }
    return checks
  }
}

extension PulumiESCDestination {
  /// `[A-Za-z_][A-Za-z0-9_]*`: what `environmentVariables` keys and `${…}` references can carry safely.
  static func isVariableName(_ name: String) -> Bool {
    guard let first = name.unicodeScalars.first, !("0"..."9").contains(first) else { return false }
    return name.unicodeScalars.allSatisfy { $0.isASCII && ($0 == "_" || $0.properties.isAlphabetic || ("0"..."9").contains($0)) }
  }
}

struct Diagnostics: Decodable {
  struct Diagnostic: Decodable { var summary: String? }
  var diagnostics: [Diagnostic]?
}
