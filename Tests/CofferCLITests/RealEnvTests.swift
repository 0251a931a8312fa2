import Foundation
import Testing

/// Every real-world template in ../shared/corpora/real-env imports, exports as dotenv, and re-imports with
/// identical values.
@Suite struct RealEnvTests {
  static let files: [String] = {
    let dir = Paths.shared.appendingPathComponent("corpora/real-env")
    let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
    return names.filter { $0 != "README.md" }.sorted()
  }()

  @Test func theCorpusIsThere() {
    #expect(Self.files.count == 6)
  }

  @Test(arguments: files)
  func importExportReimportIsIdentical(_ name: String) throws {
    let box = try Sandbox(manifest: basicManifest)
    let source = Paths.shared.appendingPathComponent("corpora/real-env/\(name)").path
    let first = box.run(["import", source, "--env", "development"])
    #expect(first.status == 0, "\(name): \(first.stderr)")
    #expect(box.run(["export", "--env", "development", "-o", box.path("round.env")]).status == 0)
    let second = box.run(["import", box.path("round.env"), "--env", "staging"])
    #expect(second.status == 0, "\(name): \(second.stderr)")
    let a = box.run(["export", "--env", "development", "--format", "json"])
    let b = box.run(["export", "--env", "staging", "--format", "json"])
    #expect(a.status == 0 && b.status == 0)
    #expect(a.stdout == b.stdout, "\(name)")
    let values = try JSONSerialization.jsonObject(with: a.stdout) as? [String: String] ?? [:]
    #expect(values.count > 5, "\(name) imported \(values.count) values")
    // A third cycle through the written file changes nothing either.
    #expect(box.run(["export", "--env", "staging", "-o", box.path("round2.env")]).status == 0)
    #expect(try box.read("round.env") == box.read("round2.env"))
  }
}
