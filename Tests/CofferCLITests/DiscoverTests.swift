import CofferTesting
import Foundation
import Testing

/// `coffer discover` and `coffer check --discover` on fixture trees built in the test.
@Suite struct DiscoverTests {
  static let manifest = """
    version: 1
    project: discover-test
    environments: [development]
    secrets:
      DATABASE_URL: { required: false }
      LOG_LEVEL: { secret: false, required: false }

    """

  /// One file per language (and a script found by its `#!` line). A marker stands before each name the scanner
  /// must report; the expected positions come from the markers.
  static let fixture: [(path: String, text: String, names: [String: String])] = [
    (
      "app/main.py", "import os\nKEY = os.environ[\"1️⃣PY_SECRET\"]\nURL = os.getenv('2️⃣DATABASE_URL')\n",
      ["1️⃣": "PY_SECRET", "2️⃣": "DATABASE_URL"]
    ),
    (
      "web/index.ts", "const a = process.env.1️⃣JS_TOKEN;\nconst { 2️⃣JS_DESTRUCTURED } = process.env;\n",
      ["1️⃣": "JS_TOKEN", "2️⃣": "JS_DESTRUCTURED"]
    ),
    (
      "web/legacy.js", "module.exports = [process.env[\"1️⃣JS_BRACKET\"], import.meta.env.2️⃣VITE_KEY];\n",
      ["1️⃣": "JS_BRACKET", "2️⃣": "VITE_KEY"]
    ),
    (
      "cmd/server/main.go", "package main\n\nimport \"os\"\n\nvar k = os.Getenv(\"1️⃣GO_KEY\")\nvar v, ok = os.LookupEnv(\"2️⃣GO_LOOKUP\")\n",
      ["1️⃣": "GO_KEY", "2️⃣": "GO_LOOKUP"]
    ),
    ("lib/task.rb", "token = ENV[\"1️⃣RUBY_TOKEN\"]\nurl = ENV.fetch(\"2️⃣RUBY_URL\")\n", ["1️⃣": "RUBY_TOKEN", "2️⃣": "RUBY_URL"]),
    (
      "Sources/App/main.swift", "import Foundation\nlet k = ProcessInfo.processInfo.environment[\"1️⃣SWIFT_KEY\"]\n",
      ["1️⃣": "SWIFT_KEY"]
    ),
    (
      "src/main.rs", "fn main() {\n    let a = std::env::var(\"1️⃣RUST_VAR\");\n    let b = env::var_os(\"2️⃣RUST_OS\");\n    let c = env!(\"3️⃣RUST_BUILD\");\n}\n",
      ["1️⃣": "RUST_VAR", "2️⃣": "RUST_OS", "3️⃣": "RUST_BUILD"]
    ),
    ("src/Main.java", "class Main { String k = System.getenv(\"1️⃣JAVA_KEY\"); }\n", ["1️⃣": "JAVA_KEY"]),
    ("src/App.kt", "val k = System.getenv(\"1️⃣KOTLIN_KEY\")\n", ["1️⃣": "KOTLIN_KEY"]),
    (
      "scripts/deploy.sh", "#!/bin/sh\nTARGET=prod\necho \"$TARGET $1️⃣SH_TOKEN ${2️⃣SH_REGION:-eu} $HOME $1\"\n",
      ["1️⃣": "SH_TOKEN", "2️⃣": "SH_REGION"]
    ),
    ("bin/release", "#!/usr/bin/env bash\ncurl -u \"$1️⃣RELEASE_USER:${2️⃣RELEASE_PASS}\"\n", ["1️⃣": "RELEASE_USER", "2️⃣": "RELEASE_PASS"]),
    (
      "Dockerfile", "ARG 1️⃣NPM_TOKEN\nFROM node:20\nENV 2️⃣NODE_ENV=production\nRUN echo $NPM_TOKEN $3️⃣BUILD_SECRET\n",
      ["1️⃣": "NPM_TOKEN", "2️⃣": "NODE_ENV", "3️⃣": "BUILD_SECRET"]
    ),
    (
      "docker-compose.yml", "services:\n  db:\n    image: postgres:${1️⃣PG_TAG:-16}\n    environment:\n      POSTGRES_PASSWORD: ${2️⃣COMPOSE_DB_PASSWORD}\n",
      ["1️⃣": "PG_TAG", "2️⃣": "COMPOSE_DB_PASSWORD"]
    ),
    (
      ".github/workflows/ci.yml", "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    env:\n      TOKEN: ${{ secrets.1️⃣CI_TOKEN }}\n      REGION: ${{ vars.2️⃣CI_REGION }}\n",
      ["1️⃣": "CI_TOKEN", "2️⃣": "CI_REGION"]
    ),
  ]

  /// Writes the fixture; returns the expected findings: name → sorted `file:line:column`.
  static func writeFixture(_ box: Sandbox) throws -> [String: [String]] {
    var expected: [String: [String]] = [:]
    for (path, marked, names) in fixture {
      let (text, markers) = markedText(marked)
      try box.write(path, text)
      for (marker, position) in markers {
        expected[names[marker]!, default: []].append("\(path):\(position.line):\(position.column)")
      }
    }
    return expected.mapValues { $0.sorted() }
  }

  static func decode(_ data: Data) throws -> (undeclared: [String: [String]], order: [String], unused: [String], used: [String]) {
    let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
    var undeclared: [String: [String]] = [:]
    var order: [String] = []
    for item in object["undeclared"] as? [[String: Any]] ?? [] {
      let name = item["name"] as? String ?? ""
      order.append(name)
      undeclared[name] = (item["references"] as? [[String: Any]] ?? []).map {
        "\($0["file"] as? String ?? ""):\($0["line"] as? Int ?? 0):\($0["column"] as? Int ?? 0)"
      }
    }
    return (undeclared, order, object["unused"] as? [String] ?? [], object["declared_and_used"] as? [String] ?? [])
  }

  @Test func findsEveryLanguageWithExactPositions() throws {
    let box = try Sandbox(manifest: Self.manifest)
    var expected = try Self.writeFixture(box)
    let declared = expected.removeValue(forKey: "DATABASE_URL")
    #expect(declared == ["app/main.py:3:18"])
    #expect(expected.count == 26)

    let r = box.run(["discover", "--json"])
    #expect(r.status == 1, "\(r.stderr)")
    let report = try Self.decode(r.stdout)
    #expect(report.undeclared == expected)
    #expect(report.order == expected.keys.sorted())
    #expect(report.unused == ["LOG_LEVEL"])
    #expect(report.used == ["DATABASE_URL"])
    #expect(r.stderr == "coffer: discover: read 14 source files\n")

    // The human report: grouped by name, each place on its own line.
    let text = box.run(["discover"])
    #expect(text.status == 1)
    #expect(expected["BUILD_SECRET"] == ["Dockerfile:4:22"] && expected["CI_REGION"] == [".github/workflows/ci.yml:7:24"])
    #expect(text.out.hasPrefix("undeclared (26):\n  BUILD_SECRET\n    Dockerfile:4:22\n  CI_REGION\n    .github/workflows/ci.yml:7:24\n"))
    #expect(text.out.hasSuffix("declared but not read (1): LOG_LEVEL\ndeclared and read (1): DATABASE_URL\nresult: 26 undeclared\n"))

    // A PATH limits the walk; paths are shown as given.
    let some = box.run(["discover", "--json", "src", "app/main.py"])
    let partial = try Self.decode(some.stdout)
    #expect(partial.undeclared["PY_SECRET"] == ["app/main.py:2:19"])
    #expect(partial.undeclared["RUST_VAR"] == ["src/main.rs:2:28"])
    #expect(partial.undeclared.keys.sorted() == ["JAVA_KEY", "KOTLIN_KEY", "PY_SECRET", "RUST_BUILD", "RUST_OS", "RUST_VAR"])
  }

  @Test func exitsZeroWhenEverythingReadIsDeclared() throws {
    let box = try Sandbox(manifest: Self.manifest)
    try box.write("app/main.py", "import os\nos.getenv('DATABASE_URL')\nos.getenv('HOME')\n")
    let r = box.run(["discover"])
    #expect(r.status == 0)
    #expect(r.out == "declared but not read (1): LOG_LEVEL\ndeclared and read (1): DATABASE_URL\nresult: ok\n")
    let json = box.run(["discover", "--json"])
    #expect(json.status == 0)
    #expect(json.out == "{\"undeclared\":[],\"unused\":[\"LOG_LEVEL\"],\"declared_and_used\":[\"DATABASE_URL\"]}\n")
  }

  @Test func skipsIgnoredBinaryLargeFilesAndNeverFollowsSymlinksOutOfTheTree() throws {
    let box = try Sandbox(manifest: Self.manifest)
    let outside = try OutsideDirectory()
    try Data("import os\nos.getenv('OUTSIDE_SECRET')\n".utf8).write(to: outside.url.appendingPathComponent("leak.py"))
    try FileManager.default.createDirectory(at: outside.url.appendingPathComponent("pkg"), withIntermediateDirectories: true)
    try Data("os.getenv('OUTSIDE_DIR_SECRET')\n".utf8).write(to: outside.url.appendingPathComponent("pkg/mod.py"))

    try box.write("app/ok.py", "os.getenv('SEEN')\n")
    try box.write(".gitignore", "ignored/\n*.gen.py\n")
    try box.write("ignored/x.py", "os.getenv('IGNORED_DIR')\n")
    try box.write("app/a.gen.py", "os.getenv('IGNORED_FILE')\n")
    try box.write("app/blob.py", Data("os.getenv('BINARY')\n".utf8) + Data([0, 1, 2]))
    try box.write("app/big.py", "os.getenv('TOO_BIG')\n" + String(repeating: "#", count: 5000))
    try FileManager.default.createSymbolicLink(atPath: box.path("app/link.py"), withDestinationPath: outside.url.appendingPathComponent("leak.py").path)
    try FileManager.default.createSymbolicLink(atPath: box.path("vendor"), withDestinationPath: outside.url.appendingPathComponent("pkg").path)
    try FileManager.default.createSymbolicLink(atPath: box.path("app/inside.py"), withDestinationPath: box.path("app/ok.py"))
    try box.write(".git/config", "os.getenv('GIT_DIR')\n")
    try box.write(".git/hooks/pre-commit.py", "os.getenv('GIT_HOOK')\n")

    let r = box.run(["discover", "--json", "--max-file-size", "4096"])
    let report = try Self.decode(r.stdout)
    #expect(report.undeclared == ["SEEN": ["app/ok.py:1:12"]])
    #expect(r.stderr == "coffer: discover: read 1 source file; skipped 1 binary, 1 over 4096 bytes, 3 symbolic links; 2 paths excluded by gitignore rules\n")
    let verbose = box.run(["discover", "--verbose", "--max-file-size", "4096"])
    #expect(verbose.stderr.contains("coffer: debug: skipped app/link.py: a symbolic link (not followed)\n"))
    #expect(verbose.stderr.contains("coffer: debug: skipped vendor: a symbolic link (not followed)\n"))
    #expect(verbose.stderr.contains("coffer: debug: skipped app/blob.py: binary\n"))
    #expect(!r.all.contains("OUTSIDE") && !verbose.all.contains("OUTSIDE"))

    // --no-ignore reads ignored files too; symbolic links stay out.
    let all = try Self.decode(box.run(["discover", "--json", "--no-ignore"]).stdout)
    #expect(all.undeclared.keys.sorted() == ["IGNORED_DIR", "IGNORED_FILE", "SEEN", "TOO_BIG"])
  }

  @Test func checkDiscoverAddsUndeclaredInCode() throws {
    let box = try Sandbox(manifest: Self.manifest)
    try box.write("app/main.py", "import os\nos.getenv('DATABASE_URL')\nos.getenv('STRIPE_KEY')\nos.getenv('AWS_KEY')\n")
    // Without --discover, check is unchanged and passes.
    let plain = box.run(["check", "--env", "development", "--json"])
    #expect(plain.status == 0, "\(plain.stderr)")
    #expect(!plain.out.contains("undeclared_in_code"))

    let json = box.run(["check", "--env", "development", "--json", "--discover"])
    #expect(json.status == 1)
    let object = try JSONSerialization.jsonObject(with: json.stdout) as? [String: Any] ?? [:]
    #expect(object["undeclared_in_code"] as? [String] == ["AWS_KEY", "STRIPE_KEY"])
    #expect(object["missing"] as? [String] == [])

    let text = box.run(["check", "--env", "development", "--discover"])
    #expect(text.status == 1)
    #expect(text.out.hasSuffix("undeclared in code (2): AWS_KEY, STRIPE_KEY\nresult: 2 undeclared in code\n"))

    // Declared everywhere: exit 0 and an empty list.
    try box.write("app/main.py", "import os\nos.getenv('DATABASE_URL')\n")
    let clean = box.run(["check", "--env", "development", "--json", "--discover"])
    #expect(clean.status == 0)
    #expect(clean.out.hasSuffix(",\"undeclared_in_code\":[]}\n"))
  }

  @Test func discoverNeedsAManifestAndValidOptions() throws {
    let box = try Sandbox()
    let r = box.run(["discover"])
    #expect(r.status == 2)
    #expect(r.stderr.hasPrefix("coffer: error: no coffer.yaml in "))
    let withManifest = try Sandbox(manifest: Self.manifest)
    #expect(withManifest.run(["discover", "--max-file-size", "0"]).status == 2)
    let missing = withManifest.run(["discover", "nope"])
    #expect(missing.status == 2)
    #expect(missing.stderr == "coffer: error: cannot read nope: No such file or directory\n")
  }
}

/// A scratch directory outside any sandbox, removed at the end.
final class OutsideDirectory: @unchecked Sendable {  // used by one test at a time
  let url: URL
  init() throws {
    url = FileManager.default.temporaryDirectory.appendingPathComponent("coffer-outside-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  }
  deinit { try? FileManager.default.removeItem(at: url) }
}
