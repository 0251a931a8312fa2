import CofferCore
import CofferSync
import CofferTesting
import Foundation
import HTTPTypes
import Testing

/// The fakes answer as REMOTE-APIS.md says the real services do (raw requests, no destination logic).
@Suite struct FakeConformanceTests {
  func get(_ client: RemoteClient, _ base: BaseURL, _ path: String, token: String? = "test-token",
    headers extra: [(String, String)] = [], method: HTTPRequest.Method = .get, body: String? = nil
  ) async throws -> RemoteClient.Response {
    var fields = HTTPFields()
    if let token { fields[.authorization] = "Bearer \(token)" }
    for (name, value) in extra { fields[HTTPField.Name(name)!] = value }
    return try await client.send(base.request(method, path, headers: fields), body: body.map { Array($0.utf8) }, retrying: false)
  }

  func text(_ response: RemoteClient.Response) -> String { String(decoding: response.body, as: UTF8.self) }

  @Test func github() async throws {
    let fake = FakeGitHub()
    fake.addRepository("acme/api", environments: ["production"])
    fake.addOrganization("acme")
    try await withStarted(fake) { fake, harness in
      let client = harness.client()
      let base = BaseURL(fake.baseURL)!
      let unauthorized = try await get(client, base, "/repos/acme/api/actions/secrets", token: "nope")
      #expect(unauthorized.status == 401)
      #expect(text(unauthorized) == #"{"documentation_url":"https:\/\/docs.github.com\/rest","message":"Bad credentials"}"#)
      #expect(try await get(client, base, "/repos/acme/api/actions/secrets", headers: [("X-GitHub-Api-Version", "1999-01-01")]).status == 400)
      let missing = try await get(client, base, "/repos/acme/api/actions/secrets/NOPE")
      #expect(missing.status == 404)
      #expect(missing.header("x-ratelimit-remaining") != nil)
      #expect(try await get(client, base, "/repos/acme/nope/actions/secrets").status == 404)

      for index in 0..<35 { fake.setSecret(String(format: "S%02d", index), [1], in: .repository("acme/api")) }
      let page = try await get(client, base, "/repos/acme/api/actions/secrets")  // default 30 per page
      let listed = try JSONSerialization.jsonObject(with: Data(page.body)) as? [String: Any]
      #expect(listed?["total_count"] as? Int == 35)
      #expect((listed?["secrets"] as? [Any])?.count == 30)
      #expect(page.header("link") == "<\(fake.baseURL)/repos/acme/api/actions/secrets?per_page=30&page=2>; rel=\"next\", <\(fake.baseURL)/repos/acme/api/actions/secrets?per_page=30&page=2>; rel=\"last\"")
      let clamped = try await get(client, base, "/repos/acme/api/actions/secrets?per_page=500")
      #expect(clamped.header("link") == nil)

      // Legacy environment path family.
      let key = try await get(client, base, "/repositories/1296269/environments/production/secrets/public-key")
      #expect(key.status == 200)
      #expect(text(key).contains("\"key_id\":\"\(fake.keyID(.environment("acme/api", "production")))\""))

      // Organization: visibility is required; repository add/remove needs `selected`.
      let sealed = Base64.encode(try SealedBox.seal([1], to: Base64.decode(
        (try JSONSerialization.jsonObject(with: Data(try await get(client, base, "/orgs/acme/actions/secrets/public-key").body)) as? [String: String])?["key"] ?? "", padded: true)!), padded: true)
      let keyID = fake.keyID(.organization("acme"))
      let noVisibility = try await get(client, base, "/orgs/acme/actions/secrets/X", method: .put, body: #"{"encrypted_value":"\#(sealed)","key_id":"\#(keyID)"}"#)
      #expect(noVisibility.status == 422)
      #expect(text(noVisibility).contains("\"code\":\"missing\""))
      let created = try await get(client, base, "/orgs/acme/actions/secrets/X", method: .put, body: #"{"encrypted_value":"\#(sealed)","key_id":"\#(keyID)","visibility":"private"}"#)
      #expect(created.status == 201)
      #expect(text(created) == "{}")
      #expect(try await get(client, base, "/orgs/acme/actions/secrets/X/repositories/1296269", method: .put).status == 409)
      let updated = try await get(client, base, "/orgs/acme/actions/secrets/X", method: .put, body: #"{"encrypted_value":"\#(sealed)","key_id":"\#(keyID)","visibility":"selected","selected_repository_ids":[1296269]}"#)
      #expect(updated.status == 204)
      #expect(try await get(client, base, "/orgs/acme/actions/secrets/X/repositories/1296270", method: .put).status == 204)
      #expect(fake.secret("X", in: .organization("acme"))?.selectedRepositoryIDs == [1_296_269, 1_296_270])
      let badBox = try await get(client, base, "/orgs/acme/actions/secrets/Y", method: .put, body: #"{"encrypted_value":"AAAA","key_id":"\#(keyID)","visibility":"all"}"#)
      #expect(badBox.status == 422)
      #expect(try await get(client, base, "/orgs/acme/actions/secrets/X", method: .delete).status == 204)
      #expect(try await get(client, base, "/orgs/acme/actions/secrets/X", method: .delete).status == 404)
    }
  }

  @Test func pulumiESC() async throws {
    let fake = FakePulumiESC()
    fake.addOrganization("acme")
    try await withStarted(fake) { fake, harness in
      let client = harness.client()
      let base = BaseURL(fake.baseURL)!
      func esc(_ method: HTTPRequest.Method, _ path: String, body: String? = nil, headers: [(String, String)] = [], token: String = "pul-test-token") async throws -> RemoteClient.Response {
        var fields = HTTPFields()
        fields[.authorization] = "token \(token)"
        for (name, value) in headers { fields[HTTPField.Name(name)!] = value }
        return try await client.send(base.request(method, "/api/esc/environments/acme" + path, headers: fields), body: body.map { Array($0.utf8) }, retrying: false)
      }
      #expect(try await esc(.get, "/default/prod", token: "bad").status == 401)
      #expect(String(decoding: try await esc(.get, "/default/prod").body, as: UTF8.self) == #"{"code":404,"message":"Environment not found"}"#)
      #expect(try await esc(.post, "", body: #"{"project":"default","name":"prod"}"#).status == 204)
      #expect(try await esc(.post, "", body: #"{"project":"default","name":"prod"}"#).status == 409)
      let first = try await esc(.get, "/default/prod")
      let etag = try #require(first.header("etag"))
      #expect(first.header("Pulumi-ESC-Revision") == "1")
      let bad = try await esc(.patch, "/default/prod", body: "values: [unclosed", headers: [("ETag", etag)])
      #expect(bad.status == 400)
      #expect(String(decoding: bad.body, as: UTF8.self).hasPrefix(#"{"diagnostics":"#))
      #expect(try await esc(.patch, "/default/prod", body: "values:\n  x:\n    fn::nope: 1\n", headers: [("ETag", etag)]).status == 400)
      let ok = try await esc(.patch, "/default/prod", body: "values:\n  pw:\n    fn::secret: hunter2\n", headers: [("If-Match", etag)])
      #expect(ok.status == 200)
      #expect(ok.header("Pulumi-ESC-Revision") == "2")
      #expect(try await esc(.patch, "/default/prod", body: "values: {}\n", headers: [("ETag", etag)]).status == 409)
      let stored = String(decoding: try await esc(.get, "/default/prod").body, as: UTF8.self)
      #expect(stored.contains("ciphertext:"))
      #expect(!stored.contains("hunter2"))
      let plain = String(decoding: try await esc(.get, "/default/prod/decrypt").body, as: UTF8.self)
      #expect(plain.contains("fn::secret: \"hunter2\""))
    }
  }
}
