import CofferTesting
import CofferCore
import CofferSystem
import Foundation
import Testing

/// The gitignore matcher against git itself: for each set of patterns, every file and directory of a fixture tree
/// is checked by `git check-ignore --no-index` and by ``GitIgnoreRules``, and the verdicts must agree.
@Suite struct GitIgnoreTests {
  /// Files of the fixture tree (directories are implied).
  static let files = [
    "a.log", "b.txt", "c.TXT", ".env", ".env.example", "foo", "foo.bak", "#hash", "!bang", "sp ace", "trail ",
    "[x].txt", "x.txt", "star*name", "q?mark", "back\\slash", "build/out.js", "build/keep.txt", "src/app.py",
    "src/foo/bar.txt", "src/build/x.js", "src/a.log", "src/lib/deep/z.log", "src/lib/deep/keep.py", "doc/frotz/a.txt",
    "a/frotz/b.txt", "abc/def/ghi/x.txt", "abc/x/y/def/z.txt", "logs/debug.log", "logs/important/keep.log",
    "x1/y/z", "x2/y/z", "A/b.txt", "node_modules/pkg/index.js", "vendor/lib.go", "Z9.md", "café/menu.txt",
  ]

  /// Writes the tree and the given ignore files into a fresh repository.
  static func repository(ignores: [String: String], exclude: String? = nil) throws -> TempDir {
    let dir = try TempDir()
    _ = try git(["init", "-q", "."], in: dir)
    for file in files { try dir.write(file, "x\n") }
    for (path, text) in ignores { try dir.write(path, text) }
    if let exclude { try dir.write(".git/info/exclude", exclude) }
    return dir
  }

  /// Every file and directory of the tree (relative, without trailing `/`), with whether it is a directory.
  static func allPaths(in dir: TempDir) -> [(String, Bool)] {
    var out: [(String, Bool)] = []
    let enumerator = FileManager.default.enumerator(atPath: dir.path)!
    while let path = enumerator.nextObject() as? String {
      if path == ".git" {
        enumerator.skipDescendants()
        continue
      }
      if path.hasPrefix(".home") { continue }
      var isDirectory: ObjCBool = false
      _ = FileManager.default.fileExists(atPath: dir.path + "/" + path, isDirectory: &isDirectory)
      out.append((path, isDirectory.boolValue))
    }
    return out.sorted { $0.0 < $1.0 }
  }

  /// git's verdict for each path: ignored or not (a negated deciding pattern means not ignored).
  static func gitVerdicts(_ paths: [String], in dir: TempDir) throws -> [String: Bool] {
    let input = paths.joined(separator: "\0") + "\0"
    let out = try git(["check-ignore", "--no-index", "-v", "-n", "-z", "--stdin"], in: dir, stdin: input)
    let fields = out.split(separator: "\0", omittingEmptySubsequences: false).map(String.init)
    var verdicts: [String: Bool] = [:]
    var i = 0
    while i + 3 < fields.count {
      let pattern = fields[i + 2]
      verdicts[fields[i + 3]] = !pattern.isEmpty && !pattern.hasPrefix("!")
      i += 4
    }
    return verdicts
  }

  /// Our rules: every `.gitignore` in the tree (shallower first) and `.git/info/exclude`.
  static func ourRules(in dir: TempDir) throws -> GitIgnoreRules {
    var files: [GitIgnoreFile] = []
    for (path, isDirectory) in allPaths(in: dir) where !isDirectory && (path == ".gitignore" || path.hasSuffix("/.gitignore")) {
      let base = path == ".gitignore" ? "" : String(path.dropLast("/.gitignore".count))
      files.append(GitIgnoreFile(Array(try Data(contentsOf: dir.url.appendingPathComponent(path))), base: base, source: path))
    }
    files.sort { $0.base.split(separator: "/").count < $1.base.split(separator: "/").count }
    var excludes: [GitIgnoreFile] = []
    if let data = try? Data(contentsOf: dir.url.appendingPathComponent(".git/info/exclude")) {
      excludes.append(GitIgnoreFile(Array(data), base: "", source: ".git/info/exclude"))
    }
    return GitIgnoreRules(files: files, excludes: excludes)
  }

  /// Compares every path's verdict in a fresh repository; returns the disagreements as readable lines.
  static func compare(ignores: [String: String], exclude: String? = nil) throws -> [String] {
    try compare(in: try repository(ignores: ignores, exclude: exclude))
  }

  /// Compares every path's verdict in an existing repository after replacing its ignore files.
  static func compare(in dir: TempDir, replacing old: [String], with ignores: [String: String]) throws -> [String] {
    for path in old { try? FileManager.default.removeItem(at: dir.url.appendingPathComponent(path)) }
    for (path, text) in ignores { try dir.write(path, text) }
    return try compare(in: dir)
  }

  /// Compares every path's verdict; returns the disagreements as readable lines.
  static func compare(in dir: TempDir) throws -> [String] {
    let paths = allPaths(in: dir)
    let expected = try gitVerdicts(paths.map(\.0), in: dir)
    #expect(expected.count == paths.count, "git answered for \(expected.count) of \(paths.count) paths")
    let rules = try ourRules(in: dir)
    var disagreements: [String] = []
    for (path, isDirectory) in paths {
      let ours = rules.isIgnoredWithAncestors(path, isDirectory: isDirectory)
      if let theirs = expected[path], theirs != ours {
        disagreements.append("\(path)\(isDirectory ? "/" : ""): git \(theirs ? "ignores" : "keeps"), we \(ours ? "ignore" : "keep")")
      }
    }
    return disagreements
  }

  /// Patterns that exercise each rule of gitignore(5), one `.gitignore` each.
  static let curated: [String] = [
    "*.log", "/*.log", "*.log\n!src/a.log", "build/", "/build/", "build", "foo/", "foo", "/foo", "src/foo",
    "doc/frotz/", "frotz/", "**/frotz", "abc/**", "abc/**/z.txt", "abc/**/def", "**/def/**", "a/**/b.txt",
    "src/**", "src/**/*.log", "**", "*", "!*", "*\n!*.py\n!*/", "*.txt\n!b.txt", "[abc].log", "[!a].txt",
    "[^a].txt", "[a-c].*", "[[:upper:]]*", "[[:digit:]]*.md", "[[:alpha:]].txt", "[[:punct:]]*", "\\[x\\].txt",
    "[x].txt", "\\#hash", "#hash", "\\!bang", "!bang", "sp ace", "trail\\ ", "trail ", "star\\*name", "star*",
    "q\\?mark", "q?mark", "back\\\\slash", "?.txt", "??.md", "*.TXT", "x1/*/z", "x*/y", "x?/y/z", "*/y/z",
    "node_modules", "node_modules/", "/node_modules/pkg", ".env*\n!.env.example", ".*", "logs/\n!logs/important/",
    "logs/*\n!logs/important/", "src/lib/**/z.log", "src/lib/deep", "caf*", "café/", "*.txt/", "foo//",
    "abc/**/ghi/*", "**/deep/*.py", "a**b", "abc/**x/y", "a*c/d*f", "[z-a].log", "[a-].log", "[]a].log", "[",
    "src/*", "src/*/", "/src/*/*", "\r\n*.log\r\n", "\u{FEFF}*.log", "  *.log", "*.log  ", "A/", "a/",
  ]

  @Test(arguments: Array(curated.indices))
  func curatedPatternsAgreeWithGit(_ index: Int) throws {
    let text = Self.curated[index]
    let disagreements = try Self.compare(ignores: [".gitignore": text + "\n"])
    #expect(disagreements.isEmpty, "pattern \(text.debugDescription):\n\(disagreements.joined(separator: "\n"))")
  }

  @Test func nestedFilesNegationAndInfoExclude() throws {
    let ignores = [
      ".gitignore": "*.log\nbuild/\n!keep.txt\n/x1\n",
      "src/.gitignore": "!a.log\n*.py\nfoo/\n!/lib/\n",
      "src/lib/.gitignore": "!*.py\ndeep/z.log\n",
      "logs/.gitignore": "!*.log\nimportant/\n",
      "abc/def/.gitignore": "ghi/\n",
      "build/.gitignore": "!out.js\n",  // never read: build/ is ignored, so nothing in it comes back
    ]
    let disagreements = try Self.compare(ignores: ignores, exclude: "# local\n*.md\n!Z9.md\nvendor/\n")
    #expect(disagreements.isEmpty, "\(disagreements.joined(separator: "\n"))")
  }

  @Test func randomPatternsAgreeWithGit() throws {
    var rng = SeededGenerator(seed: 0xC0FFEE)
    let pieces = [
      "a", "b", "x", "src", "foo", "build", "log", "txt", "def", "y", "z", "*", "?", "**", "[a-c]", "[!a]",
      "[[:alpha:]]", ".", "*.", ".log", "frotz", "deep", "lib", "\\*",
    ]
    var failures: [String] = []
    let dir = try Self.repository(ignores: [:])
    var previous: [String] = []
    for round in 0..<300 {
      var lines: [String] = []
      for _ in 0..<Int.random(in: 1...4, using: &rng) {
        var segments: [String] = []
        for _ in 0..<Int.random(in: 1...3, using: &rng) {
          segments.append((0..<Int.random(in: 1...3, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined())
        }
        var line = segments.joined(separator: "/")
        if Int.random(in: 0..<4, using: &rng) == 0 { line = "/" + line }
        if Int.random(in: 0..<4, using: &rng) == 0 { line += "/" }
        if Int.random(in: 0..<4, using: &rng) == 0 { line = "!" + line }
        lines.append(line)
      }
      let text = lines.joined(separator: "\n") + "\n"
      let nested = Int.random(in: 0..<3, using: &rng) == 0
      var ignores = [".gitignore": text]
      if nested { ignores["src/.gitignore"] = lines.reversed().joined(separator: "\n") + "\n" }
      let disagreements = try Self.compare(in: dir, replacing: previous, with: ignores)
      previous = Array(ignores.keys)
      if !disagreements.isEmpty {
        failures.append("round \(round) \(text.debugDescription): \(disagreements.prefix(3).joined(separator: "; "))")
      }
    }
    #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
  }

  /// The walker lists exactly the files `git ls-files --others --exclude-standard` lists.
  @Test func walkerListsWhatGitListsAsUntrackedAndNotIgnored() throws {
    let ignores = [
      ".gitignore": "*.log\nbuild/\n!keep.txt\nnode_modules/\n.env*\n!.env.example\n",
      "src/.gitignore": "!a.log\nfoo/\n",
      "src/lib/.gitignore": "deep/\n",
      "logs/.gitignore": "!important/\n!*.log\n",
    ]
    let dir = try Self.repository(ignores: ignores, exclude: "vendor/\n")
    let expected = try git(["ls-files", "--others", "--exclude-standard", "-z"], in: dir)
      .split(separator: "\0").map(String.init).filter { !$0.hasPrefix(".home/") }.sorted()
    let listing = try TreeWalker().list([dir.path])
    let ours = listing.files.map(\.relativePath).sorted()
    #expect(ours == expected)
    #expect(ours.contains("src/a.log") && !ours.contains("a.log") && !ours.contains("vendor/lib.go"))
  }

  /// A walk from a subdirectory still applies the repository's top `.gitignore` and `info/exclude`.
  @Test func walkingASubdirectoryUsesTheEnclosingRepositorysRules() throws {
    let dir = try Self.repository(ignores: [".gitignore": "*.log\nsrc/lib/\n"], exclude: "*.py\n")
    let listing = try TreeWalker().list([dir.path + "/src"])
    #expect(listing.files.map(\.relativePath).sorted() == ["build/x.js", "foo/bar.txt"])
    #expect(listing.files.first?.path == dir.path + "/src/build/x.js")
  }

  @Test func patternParsing() {
    let p = GitIgnorePattern(line: Array("!/a/b/".utf8), number: 3)!
    #expect(p.isNegated && p.isDirectoryOnly && !p.matchesBasename && p.line == 3 && p.source == "!/a/b/")
    #expect(GitIgnorePattern(line: Array("# comment".utf8), number: 1) == nil)
    #expect(GitIgnorePattern(line: Array("".utf8), number: 1) == nil)
    #expect(GitIgnorePattern(line: Array("a\\  ".utf8), number: 1)?.source == "a\\ ")
    #expect(GitIgnorePattern(line: Array("x.log\r".utf8), number: 1)?.source == "x.log")
    let rules = GitIgnoreRules(files: [GitIgnoreFile(Array("*.log\n!keep.log\n".utf8), base: "", source: ".gitignore")])
    let verdict = rules.verdict("keep.log", isDirectory: false)
    #expect(!verdict.isIgnored && verdict.pattern?.line == 2 && verdict.file == ".gitignore")
    #expect(rules.verdict("a.log", isDirectory: false).isIgnored)
  }
}
