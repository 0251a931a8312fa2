import CofferTesting
import Foundation
import Testing

/// Canary tests for environments whose store is a server (issue 14): the planted values moved to a real
/// `bao server -dev` with `migrate-store`, then every store command and every new message (plans, notes, refusals,
/// offline errors, conflicts of vault and store) checked for values, as CanaryTests does for the vault.
@Suite(.serialized) struct StoreCanaryTests {
  static let token = "bao-root-canary-0d1f4c7e-TOKEN"

  @Test func storeCommandsAndMessagesCarryNoValue() async throws {
    let server = LocalServer.openBao(rootToken: Self.token)
    try await server.start()
    defer { server.stop() }
    let sb = try plantedSandbox()
    let port = try LocalServer.freePort()  // nothing listens there
    func manifest(development: String) -> String {
      canaryManifest.replacingOccurrences(
        of: "environments: [development, staging, production]",
        with: "environments: [\(development), staging, { name: production, store: nowhere }]")
        + """
        destinations:
          bao: { type: openbao, api_url: "\(server.baseURL)", path: canary/dev, from: development }
          nowhere: { type: openbao, api_url: "http://127.0.0.1:\(port)", path: canary/prod, from: production }

        """
    }
    try sb.write("coffer.yaml", manifest(development: "development"))
    sb.extraEnvironment = ["VAULT_TOKEN": Self.token, "COFFER_TEST_ONLY_NO_SLEEP": "1", "COFFER_HTTP_TIMEOUT_MS": "2000"]
    // The values are UTF-8 but for the NUL one (staging) and the binary file: only UTF-8 ones can move to KV.
    let binary = sb.run(["rm", Canaries.file.name, "--env", "development"])
    expectStatus(binary, 0, "rm the binary value")

    var runs: [(String, Int32, CLIResult)] = []
    runs.append(("migrate-store without --yes", 2, sb.run(["migrate-store", "--env", "development", "--to", "bao"])))
    runs.append(("migrate-store --yes", 0, sb.run(["migrate-store", "--env", "development", "--to", "bao", "--yes"])))
    let moved = !sb.exists(".coffer/vault/development.vault")
    #expect(moved, "migrate-store left the vault file")
    for args in [
      ["list", "--env", "development"], ["list", "--env", "development", "--json"],
      ["history", Canaries.simple.name, "--env", "development"],
      ["history", Canaries.simple.name, "--env", "development", "--json"],
      ["check", "--env", "development"], ["check", "--env", "development", "--json"],
      ["audit"], ["audit", "--json"],
    ] {
      let r = sb.run(args)
      runs.append((args.joined(separator: " "), args[0] == "check" ? 1 : 0, r))
    }
    runs.append((
      "set into the store", 0,
      sb.run(["set", Canaries.simple.name, "--env", "development", "--verbose"], stdin: Data(Canaries.simple.bytes))))
    runs.append(("import into a store environment", 2, sb.run(["import", "nothing.env", "--env", "development"])))
    runs.append(("rm from a store environment", 2, sb.run(["rm", Canaries.simple.name, "--env", "development"])))
    runs.append(("get of a missing name", 1, sb.run(["get", "MISSING_ONE", "--env", "development"])))
    runs.append(("get --version of a missing version", 1, sb.run(["get", Canaries.simple.name, "--env", "development", "--version", "99"])))
    // The other store does not answer: exit 3, the server named, no value.
    for args in [
      ["get", Canaries.simple.name, "--env", "production"], ["list", "--env", "production"],
      ["export", "--env", "production"], ["check", "--env", "production"],
      ["history", Canaries.simple.name, "--env", "production"],
      ["run", "--env", "production", "--", "/usr/bin/true"],
      ["migrate-store", "--env", "production", "--to", "vault", "--yes"],
    ] {
      runs.append((args.joined(separator: " ") + " (unreachable)", 3, sb.run(args)))
    }
    runs.append((
      "set (unreachable)", 3,
      sb.run(["set", Canaries.simple.name, "--env", "production"], stdin: Data(Canaries.simple.bytes))))
    runs.append(("get with a refused token", 3, sb.run(["get", Canaries.simple.name, "--env", "development"], env: ["VAULT_TOKEN": "wrong"])))
    runs.append(("migrate-store --help", 0, sb.run(["migrate-store", "--help"])))
    // A store and a vault file for the same environment: refused.
    #expect(sb.set("STRAY", "x", env: "staging").status == 0)
    try FileManager.default.copyItem(atPath: sb.path(".coffer/vault/staging.vault"), toPath: sb.path(".coffer/vault/development.vault"))
    runs.append(("get with both a store and a vault file", 2, sb.run(["get", Canaries.simple.name, "--env", "development"])))
    for (what, status, r) in runs {
      expectStatus(r, status, what)
      expectNoLeak(r, what)
      let noToken = !r.all.contains(Self.token)
      #expect(noToken, "\(what) printed the token")
    }
    // get and export show exactly what was asked, from the store.
    try FileManager.default.removeItem(atPath: sb.path(".coffer/vault/development.vault"))
    let get = sb.run(["get", Canaries.multi.name, "--env", "development", "-n"])
    let exact = get.stdout == Data(Canaries.multi.bytes)
    #expect(exact, "get from the store did not print the value byte for byte")
  }
}
