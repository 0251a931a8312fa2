import Foundation
import Testing

/// `coffer setup-repo`, the reference guide's `setup_new_repo`, end to end.
@Suite struct SetupRepoTests {
  @Test func theBuiltInReferenceTemplateIsTheExampleFile() throws {
    let box = try Sandbox()
    let r = box.run(["setup-repo", "--name", box.path("ref-repo"), "--template", "reference"])
    #expect(r.status == 0, "\(r.stderr)")
    let written = try String(contentsOfFile: box.path("ref-repo/coffer.yaml"), encoding: .utf8)
    let example = try String(contentsOf: Paths.root.appendingPathComponent("examples/reference/coffer.yaml"), encoding: .utf8)
    // The same manifest, plus the creator's recipient after `environments:`.
    let line = "environments: [development, staging, production]\n"
    #expect(written == example.replacingOccurrences(of: line, with: line + "recipients:\n  tester: \(box.recipient)\n"))
    #expect(box.exists("ref-repo/.git"))
    #expect(box.exists("ref-repo/env.example"))
    #expect(try String(contentsOfFile: box.path("ref-repo/env.example"), encoding: .utf8).contains("OPENAI_API_KEY=sk-...\n"))
    #expect(try String(contentsOfFile: box.path("ref-repo/.gitignore"), encoding: .utf8).contains(".env\n"))
  }

  @Test func aSourceEnvGivesAnInferredManifestAndAVaultWithItsValues() throws {
    let box = try Sandbox()
    let canary = "canary-setup-7c1d-VALUE"
    try box.write("master.env", "# OpenAI key\nOPENAI_API_KEY=\(canary)\nPORT=8080\nDATABASE_URL=postgres://u:p@db/app\n")
    let r = box.run(["setup-repo", "--name", box.path("new-repo"), "--source-env", box.path("master.env")])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(!r.all.contains(canary))
    let manifest = try String(contentsOfFile: box.path("new-repo/coffer.yaml"), encoding: .utf8)
    #expect(manifest.contains("OPENAI_API_KEY:"))
    #expect(manifest.contains("DATABASE_URL:"))
    #expect(!manifest.contains(canary))
    let got = box.run(["get", "OPENAI_API_KEY", "-n", "--env", "development"], cwd: box.dir.appendingPathComponent("new-repo"))
    #expect(got.out == canary)
    let vault = try String(contentsOfFile: box.path("new-repo/.coffer/vault/development.vault"), encoding: .utf8)
    #expect(!vault.contains(canary))
  }

  @Test func aNonEmptyFolderIsRefusedAndNothingIsWritten() throws {
    let box = try Sandbox()
    try box.write("busy/README", "hello")
    let r = box.run(["setup-repo", "--name", box.path("busy")])
    #expect(r.status == 2)
    #expect(r.stderr.hasPrefix("coffer: error: refusing to set up \(box.path("busy")): it exists and is not empty"))
    #expect(try FileManager.default.contentsOfDirectory(atPath: box.path("busy")) == ["README"])
  }
}
