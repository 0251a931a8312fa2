import CofferCore
import CofferDotEnv
import CofferTesting
import Foundation
import Testing

/// Issue 11, kind 2: a `.env` that Coffer writes is read back by every reader on this machine (Coffer,
/// python-dotenv, Node's `util.parseEnv`, `set -a; . FILE` in bash and in dash) as exactly the value, or Coffer
/// warned for that key naming that reader; and no reader ever runs a command from it.
///
/// For the readers that run here the test checks both directions: a reader the warning names really reads the
/// value differently, and one it does not name reads it exactly (so the table in docs/dotenv.md is what they do).
@Suite(.serialized) struct DotEnvCrossReaderTests {  // one canary directory
  /// A file that a command substitution in a value would create.
  static let canaryDirectory = FileManager.default.temporaryDirectory.appendingPathComponent(
    "coffer-dotenv-canary-\(UUID().uuidString)")
  static var canaryPath: String { canaryDirectory.appendingPathComponent("ran").path }

  /// Hard values: backslashes alone, doubled and trailing; backticks; `$(…)`; `${…}`; both quotes; newlines; `#`;
  /// edge spaces; tabs; non-ASCII; CR; and commands that would create ``canaryPath`` if anything ran them.
  static var corpus: [String] {
    let c = canaryPath
    return [
      #"test\test"#, #"C:\dir\"#, #"\"#, #"\\"#, #"a\\b"#, #"end\"#, #"\\server\share\"#, #"x\ny"#, #"a\ b"#,
      "`id`", "a`b", "$(id)", "${HOME}", "${X:-y}", "$HOME", "pa$$w0rd", "it's", #"say "hi""#,
      #"both ' and ""#, #"'\''"#, "l1\nl2", "l1\n\nl3\n", "#hash", "a #b", "  lead", "trail  ", " both ",
      "a\tb", "\t", "Zoë Köln", "東京🔑", "e\u{301}", #"it's \ back"#, "it's $5", "it's `x`", "a\rb",
      #"\$x"#, #"\`x\`"#, "$", "end$", "x\\\"y",
      // Canaries: each would create the file if a reader ran it.
      "$(touch \(c))", "`touch \(c)`", "\"$(touch \(c))\"", "'$(touch \(c))'", "it's $(touch \(c))",
      "it's `touch \(c)`", "${X:-$(touch \(c))}", #"\`touch "# + c + #"\`"#, "a\\$(touch \(c))",
      "$(touch \(c))\\", "l1\n$(touch \(c))\nl3", "';touch \(c);'",
    ]
  }

  enum Reader: String, CaseIterable {
    case python = "python-dotenv", node = "Node util.parseEnv", bash, dash

    var coffer: DotEnvReader {
      switch self {
      case .python: .pythonDotenv
      case .node: .nodeParseEnv
      case .bash: .bash
      case .dash: .dash
      }
    }
  }

  /// The test's own PATH, so the python3 that has python-dotenv (pyenv, a virtualenv) is the one run.
  static let environment = [
    "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin", "LC_ALL": "C.UTF-8",
  ]

  /// What `reader` reads from each file: every key and its bytes, or nil when it refuses the file.
  static func read(_ reader: Reader, _ paths: [String]) throws -> [[String: [UInt8]]?] {
    let cwd = FileManager.default.temporaryDirectory
    switch reader {
    case .python:
      let script = """
        import json, sys
        from dotenv import dotenv_values
        out = []
        for p in sys.argv[1:]:
            try:
                out.append({k: list(v.encode("utf-8")) for k, v in dotenv_values(p).items() if v is not None})
            except Exception:
                out.append(None)
        sys.stdout.write(json.dumps(out))
        """
      let r = try ChildProcess.run("/usr/bin/env", ["python3", "-c", script] + paths, cwd: cwd, environment: environment)
      return try decodeJSON(r.stdout)
    case .node:
      let script = """
        const fs = require("fs"), util = require("util");
        const out = process.argv.slice(1).map((p) => {
          try {
            const vars = util.parseEnv(fs.readFileSync(p, "utf8")), o = {};
            for (const k of Object.keys(vars)) o[k] = Array.from(Buffer.from(vars[k], "utf8"));
            return o;
          } catch (e) { return null; }
        });
        process.stdout.write(JSON.stringify(out));
        """
      let r = try ChildProcess.run("/usr/bin/env", ["node", "-e", script] + paths, cwd: cwd, environment: environment)
      return try decodeJSON(r.stdout)
    case .bash, .dash:
      // Each file in its own subshell with an empty environment: `ok` and `env -0` when sourcing succeeds, then
      // `end`, each NUL-terminated.
      let script = #"for f; do ( set -a; . "$f" && printf 'ok\0' && env -0 ); printf 'end\0'; done"#
      let r = try ChildProcess.run(
        "/usr/bin/env", ["-i", "PATH=/usr/bin:/bin", reader.rawValue, "-c", script, "_"] + paths, cwd: cwd,
        environment: environment)
      var out: [[String: [UInt8]]?] = []
      var current: [String: [UInt8]]?
      for field in Array(r.stdout).split(separator: 0, omittingEmptySubsequences: false).dropLast() {
        if field.elementsEqual("ok".utf8) {
          current = [:]
        } else if field.elementsEqual("end".utf8) {
          out.append(current)
          current = nil
        } else if let eq = field.firstIndex(of: 0x3D) {
          current?[String(decoding: field[field.startIndex..<eq], as: UTF8.self)] = Array(field[(eq + 1)...])
        }
      }
      return out
    }
  }

  static func decodeJSON(_ data: Data) throws -> [[String: [UInt8]]?] {
    let array = try #require(try JSONSerialization.jsonObject(with: data) as? [Any])
    return array.map { ($0 as? [String: [Int]]).map { $0.mapValues { $0.map(UInt8.init) } } }
  }

  static func readersAvailable() -> Bool {
    (try? ChildProcess.run(
      "/usr/bin/env", ["node", "-e", "process.exit(typeof require('util').parseEnv === 'function' ? 0 : 1)"],
      cwd: FileManager.default.temporaryDirectory, environment: environment).status) == 0
      && FileManager.default.isExecutableFile(atPath: "/usr/bin/dash")
      && (try? ChildProcess.run(
        "/usr/bin/env", ["python3", "-c", "import dotenv"], cwd: FileManager.default.temporaryDirectory,
        environment: environment).status) == 0
  }

  /// Checks files against every reader: in each file, each key of `expected` is read exactly as given unless a
  /// warning for that key names the reader, and then it is read differently. Coffer reads every key exactly.
  /// Afterwards, no command from any file has run.
  static func check(
    files: [[UInt8]], expected: [[String: [UInt8]]], warnings: [DotEnvWriteWarning], context: String
  ) throws {
    var paths: [String] = []
    defer { for p in paths { try? FileManager.default.removeItem(atPath: p) } }
    for file in files {
      let path = canaryDirectory.appendingPathComponent("case-\(UUID().uuidString).env").path
      try Data(file).write(to: URL(fileURLWithPath: path))
      paths.append(path)
    }
    // Keys that python-dotenv may misread because an earlier value ends in a backslash (the warning says so).
    var hiddenFromPython: [Set<String>] = []
    for (i, file) in files.enumerated() {
      let result = try DotEnvParser.parse(file, file: "case.env")
      for (name, bytes) in expected[i] {
        #expect(result.document.value(of: name)?.reveal() == bytes, "\(context): coffer, file \(i), \(name)")
      }
      #expect(result.warnings.isEmpty, "\(context): coffer, file \(i)")
      let names = result.document.names
      let first = names.firstIndex { name in warnings.contains { $0.name == name && $0.mayHideFollowingLines } }
      hiddenFromPython.append(first.map { Set(names[($0 + 1)...]) } ?? [])
    }
    for reader in Reader.allCases {
      let read = try Self.read(reader, paths)
      try #require(read.count == files.count, "\(context): \(reader.rawValue) answered for every file")
      for (i, want) in expected.enumerated() {
        for (name, bytes) in want.sorted(by: { $0.key < $1.key }) {
          if reader == .python && hiddenFromPython[i].contains(name) { continue }
          let exact = read[i]?[name] == bytes
          let warned = warnings.contains { $0.name == name && $0.readers.contains(reader.coffer) }
          #expect(exact != warned, "\(context): \(reader.rawValue), file \(i), \(name): exact \(exact), warned \(warned)")
        }
      }
    }
    #expect(!FileManager.default.fileExists(atPath: canaryPath), "\(context): a reader ran a command from the file")
  }

  /// One file per value of the corpus, written by the serializer under the key `K`.
  @Test func serializerOutputIsReadExactlyOrWarned() throws {
    guard Self.readersAvailable() else { return }
    try FileManager.default.createDirectory(at: Self.canaryDirectory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: Self.canaryDirectory) }
    let values = Self.corpus
    // Each file also has a later double-quoted entry, as real files do (python-dotenv misreads a value that ends in
    // a backslash only when a `"` follows).
    let files = values.map {
      DotEnvSerializer.serialize([(name: "K", value: SecretValue($0)), (name: "Z", value: SecretValue("it's"))])
    }
    let warnings = values.compactMap { DotEnvSerializer.warning(name: "K", value: SecretValue($0)) }
    for (i, value) in values.enumerated() {
      try Self.check(
        files: [files[i]], expected: [["K": Array(value.utf8), "Z": Array("it's".utf8)]],
        warnings: [DotEnvSerializer.warning(name: "K", value: SecretValue(value))].compactMap { $0 },
        context: "corpus case \(i)")
      let both = DotEnvSerializer.serializeWithWarnings([(name: "K", value: SecretValue(value))])
      #expect(both.bytes == DotEnvSerializer.serialize([(name: "K", value: SecretValue(value))]), "case \(i)")
      #expect(both.warnings == [DotEnvSerializer.warning(name: "K", value: SecretValue(value))].compactMap { $0 })
    }
    // Some values are portable, some are not: the corpus exercises both.
    #expect(warnings.count > 10 && warnings.count < values.count - 10)
  }

  /// All values in one file: every reader reads every value exactly unless warned for it, and nothing runs. The
  /// values that end in a backslash come last: python-dotenv misreads the lines after one (the warning says so).
  @Test func oneFileWithEveryValue() throws {
    guard Self.readersAvailable() else { return }
    try FileManager.default.createDirectory(at: Self.canaryDirectory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: Self.canaryDirectory) }
    let ordered = Self.corpus.filter { !$0.hasSuffix("\\") } + Self.corpus.filter { $0.hasSuffix("\\") }
    let entries = ordered.enumerated().map { (name: "K\($0.offset)", value: SecretValue($0.element)) }
    let (bytes, warnings) = DotEnvSerializer.serializeWithWarnings(entries)
    try Self.check(
      files: [bytes], expected: [Dictionary(uniqueKeysWithValues: entries.map { ($0.name, $0.value.reveal()) })],
      warnings: warnings, context: "one file")
  }

  /// Exact warnings for the field report's values.
  @Test func warningsNameTheReaders() {
    func readers(_ value: String) -> [String] {
      DotEnvSerializer.differingReaders(SecretValue(value)).map(\.rawValue)
    }
    #expect(readers(#"test\test"#) == [])  // single quotes now: a lone backslash is portable
    #expect(DotEnvSerializer.encode(SecretValue(#"test\test"#)) == #"'test\test'"#)
    #expect(readers(#"C:\dir\"#) == ["python-dotenv", "dotenv (Node)", "dotenvx", "Node util.parseEnv"])
    #expect(readers("it's `id`") == ["python-dotenv", "dotenv (Node)", "dotenvx", "Node util.parseEnv", "docker compose"])
    #expect(DotEnvSerializer.encode(SecretValue("it's `id`")) == #""it's \`id\`""#)
    #expect(readers("it's $(id)") == ["python-dotenv", "dotenv (Node)", "Node util.parseEnv"])
    #expect(readers("it's") == [])
    #expect(readers("a\rb") == ["Node util.parseEnv", "Ruby dotenv", "bash", "dash"])
    #expect(readers("$(id) `id` ${X}") == ["python-dotenv", "dotenv (Node)", "dotenvx", "Node util.parseEnv", "docker compose"])
    let warning = DotEnvSerializer.warning(name: "DB_PASS", value: SecretValue(#"p'w\"#))
    #expect(warning?.description
      == "DB_PASS: no .env quoting is read the same by every reader; python-dotenv, dotenv (Node), dotenvx, Node util.parseEnv will read this value differently (python-dotenv may also misread the lines after it)")
    #expect(DotEnvSerializer.warning(name: "B", value: SecretValue(#"a\\b"#))?.description
      == "B: no .env quoting is read the same by every reader; dotenv (Node), dotenvx, Node util.parseEnv will read this value differently")
    #expect(DotEnvSerializer.warning(name: "A", value: SecretValue("plain")) == nil)
  }

  /// The same through the CLI: `coffer export --format dotenv` (to stdout and with -o) writes what the serializer
  /// writes and warns on stderr for exactly the keys it warns for, naming the key and the readers, never the value.
  @Test func exportIsReadExactlyOrWarned() throws {
    guard Self.readersAvailable() else { return }
    try FileManager.default.createDirectory(at: Self.canaryDirectory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: Self.canaryDirectory) }
    let box = try Sandbox(manifest: basicManifest)
    let values = [
      #"test\test"#, #"C:\dir\"#, #"a\\b"#, "`touch \(Self.canaryPath)`", "$(touch \(Self.canaryPath))",
      "it's $(touch \(Self.canaryPath))", #"both ' and ""#, "l1\nl2\n", " x # y ", "a\tb", "東京🔑", "${HOME}",
      "a\rb",
    ]
    for (i, value) in values.enumerated() {
      let set = box.run(["set", "--undeclared", "K\(i)", "--keep-newline"], stdin: Data(value.utf8))
      #expect(set.status == 0, "set K\(i): \(set.stderr)")
    }
    let entries = values.enumerated().map { (name: "K\($0.offset)", value: SecretValue($0.element)) }
    let expected = Dictionary(uniqueKeysWithValues: entries.map { ($0.name, $0.value.reveal()) })
    for args in [["export", "--format", "dotenv"], ["export", "-o", "out.env"]] {
      let r = box.run(args)
      #expect(r.status == 0, "\(args): \(r.stderr)")
      let bytes = args.contains("-o") ? Array(try box.read("out.env")) : Array(r.stdout)
      var warnings: [DotEnvWriteWarning] = []
      for entry in entries {
        let warning = DotEnvSerializer.warning(name: entry.name, value: entry.value)
        if let warning {
          warnings.append(warning)
          #expect(r.stderr.contains("coffer: warning: \(warning.description)\n"), "\(args): warning for \(entry.name)")
        } else {
          #expect(!r.stderr.contains("\(entry.name): no .env quoting"), "\(args): no warning for \(entry.name)")
        }
      }
      #expect(r.stderr.contains(
        "coffer: warning: K1: no .env quoting is read the same by every reader; python-dotenv, dotenv (Node), dotenvx, Node util.parseEnv will read this value differently (python-dotenv may also misread the lines after it)\n"))
      for value in values where value.count > 3 { #expect(!r.stderr.contains(value), "\(args): value on stderr") }
      #expect(String(decoding: bytes, as: UTF8.self).contains("K0='test\\test'\n"))
      try Self.check(files: [bytes], expected: [expected], warnings: warnings, context: args.joined(separator: " "))
    }
  }

  /// `sync` to a `.env` destination warns the same way (in the plan too), naming the destination, the file and the
  /// key; a value that is written again unchanged is not warned for again.
  @Test func syncToDotEnvWarns() throws {
    let box = try Sandbox(manifest: """
      version: 1
      project: sync-warn
      environments: [production]
      secrets:
        WIN_PATH: {}
        PLAIN: {}
        TICK: {}
      destinations:
        local: { type: dotenv, path: out.env, from: production }

      """)
    #expect(box.set("WIN_PATH", #"C:\dir\"#, env: "production").status == 0)
    #expect(box.set("PLAIN", "two words", env: "production").status == 0)
    #expect(box.set("TICK", "it's `touch \(Self.canaryPath)`", env: "production").status == 0)
    let win = "coffer: warning: local: out.env: WIN_PATH: no .env quoting is read the same by every reader; "
      + "python-dotenv, dotenv (Node), dotenvx, Node util.parseEnv will read this value differently "
      + "(python-dotenv may also misread the lines after it)\n"
    let tick = "coffer: warning: local: out.env: TICK: no .env quoting is read the same by every reader; "
      + "python-dotenv, dotenv (Node), dotenvx, Node util.parseEnv, docker compose will read this value differently\n"
    for args in [["sync", "--dry-run"], ["sync"]] {
      let r = box.run(args)
      #expect(r.status == 0, "\(args): \(r.stderr)")
      #expect(r.stderr.contains(win) && r.stderr.contains(tick), "\(args): \(r.stderr)")
      #expect(!r.stderr.contains("PLAIN: no .env"), "\(args)")
      #expect(!r.all.contains("dir\\") && !r.all.contains("touch"), "\(args): value text in the output")
    }
    let again = box.run(["sync"])
    #expect(again.status == 0 && !again.stderr.contains("no .env quoting"), "\(again.stderr)")
    let parsed = try DotEnvParser.parse(Array(try box.read("out.env")), file: "out.env")
    #expect(parsed.document.value(of: "TICK")?.revealString() == "it's `touch \(Self.canaryPath)`")
    #expect(parsed.document.value(of: "WIN_PATH")?.revealString() == #"C:\dir\"#)
    // Sourced by a shell: read literally, nothing runs.
    let sourced = try ChildProcess.run(
      "/bin/sh", ["-c", #"set -a; . ./out.env; printf '%s|%s' "$TICK" "$WIN_PATH""#], cwd: box.dir,
      environment: Self.environment)
    #expect(String(decoding: sourced.stdout, as: UTF8.self) == "it's `touch \(Self.canaryPath)`|C:\\dir\\")
    #expect(!FileManager.default.fileExists(atPath: Self.canaryPath))
  }
}
