import CofferCore
import CofferSync
import CofferTesting
import Foundation
import Testing

/// An environment whose store is AWS Secrets Manager (``AWSSecretsManagerStore``), against the real `moto_server`.
@Suite(.serialized) struct AWSSecretsManagerStoreTests {
  static let values: [(String, String)] = [
    ("API_KEY", "sk-live-1"), ("MULTI", "a\nb\n\"c\" 'd'\n\n"), ("DOLLAR", "pa$$ ${HOME} $x `q` \\n"),
    ("UNICODE", "Grüße 世界 🔐 \u{00A0}"), ("BIG", String(repeating: "0123456789abcdef", count: 3072)),
  ]

  @Test(arguments: [DestinationSpec.Layout.environment, .name])
  func roundTripsAndVersions(_ layout: DestinationSpec.Layout) async throws {
    try await withMoto { moto in
      // One JSON secret per environment holds at most 64 KB: the big value goes only per name.
      let values = layout == .environment ? Self.values.filter { $0.0 != "BIG" } : Self.values
      let store = AWSSecretsManagerStore(moto.destination(layout: layout))
      #expect(try await store.readAll().isEmpty)
      try await store.writeAll(values.map { ($0.0, SecretValue($0.1)) })
      let all = try await store.readAll()
      #expect(all.map(\.name) == values.map(\.0).sorted())
      for (name, value) in values {
        #expect(all.first { $0.name == name }?.value.reveal() == Array(value.utf8), "\(name)")
        #expect(try await store.read(name, version: nil)?.value.reveal() == Array(value.utf8), "\(name)")
      }
      #expect(try await store.read("ABSENT", version: nil) == nil)
      _ = try await store.write("API_KEY", SecretValue("sk-live-2"))
      let versions = try await store.versions(of: "API_KEY")
      #expect(versions.map(\.number) == [2, 1])
      #expect(try await store.read("API_KEY", version: 1)?.value.revealString() == "sk-live-1")
      #expect(try await store.read("API_KEY", version: nil)?.value.revealString() == "sk-live-2")
    }
  }

  @Test func failuresAreClassified() async throws {
    try await withMoto { moto in
      let store = AWSSecretsManagerStore(moto.destination())
      do {
        _ = try await store.write("BIN", SecretValue([0xFF]))
        Issue.record("non-UTF-8 value written")
      } catch let error as StoreError {
        #expect(error.kind == .badInput)
        #expect(error.exitStatus == .badInput)
      }
      let none = AWSSecretsManagerStore(
        AWSSecretsManagerDestination(
          name: "aws", base: BaseURL(moto.server.baseURL)!, settings: .init(region: "us-east-1", layout: .name),
          environment: "production", credentials: nil, credentialSource: "AWS_ACCESS_KEY_ID is not set",
          client: moto.client()))
      do {
        _ = try await none.readAll()
        Issue.record("read without credentials")
      } catch let error as StoreError {
        #expect(error.kind == .denied)
        #expect(error.exitStatus == .accessDenied)
        #expect(error.description == "store aws: no AWS credentials: AWS_ACCESS_KEY_ID is not set")
      }
    }
  }
}
