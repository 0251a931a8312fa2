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

  /// A master .env holds real values: none becomes an example, even one whose words look like a placeholder's
  /// (`password`, `secret`), and none reaches env.example.
  @Test func aSourceEnvNeverCopiesItsValuesIntoCommittedFiles() throws {
    let box = try Sandbox()
    let values = ["Winter-Password-2024!", "correct-horse-secret-staple-91", "secret_k8Jd92mXq0Lz", "8080", "debug"]
    try box.write("master.env", """
      SMTP_PASSWORD=\(values[0])
      ADMIN_PASSWORD=\(values[1])
      API_SECRET=\(values[2])
      PORT=\(values[3])
      LOG_LEVEL=\(values[4])

      """)
    let r = box.run(["setup-repo", "--name", box.path("repo3"), "--source-env", box.path("master.env")])
    #expect(r.status == 0, "\(r.stderr)")
    let manifest = try String(contentsOfFile: box.path("repo3/coffer.yaml"), encoding: .utf8)
    let template = try String(contentsOfFile: box.path("repo3/env.example"), encoding: .utf8)
    for value in values {
      #expect(!manifest.contains(value) && !template.contains(value) && !r.all.contains(value), "\(value)")
    }
    #expect(!manifest.contains("example:"))
    // The values are no longer taken for the manifest's own placeholders (API_SECRET is weak, which is true).
    let check = box.run(["check", "--env", "development"], cwd: box.dir.appendingPathComponent("repo3"))
    #expect(!check.out.contains("example"), "\(check.out)")
    #expect(check.out.contains("ok (4)"))
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
