import CofferTesting
import Foundation
import Testing

/// `coffer completion bash|zsh|fish` (issue 15): the scripts, and bash's loading and completing from the project.
@Suite struct CompletionTests {
  static let manifest = """
    version: 1
    project: completion-test
    environments: [development, production]
    secrets:
      API_TOKEN: {}
      DB_PASSWORD: {}

    """

  /// Loads the bash script in bash and asks it to complete, as bash's programmable completion would.
  func complete(_ box: Sandbox, script: String, words: [String], cur: String, prev: String) throws -> [String] {
    let quoted = words.map { "'\($0)'" }.joined(separator: " ")
    let line = words.joined(separator: " ")
    let program = """
      source ./coffer.bash || exit 9
      COMP_WORDS=(\(quoted)); COMP_CWORD=\(words.count - 1); COMP_LINE='\(line)'; COMP_POINT=${#COMP_LINE}
      COMPREPLY=()
      _coffer coffer '\(cur)' '\(prev)'
      printf '%s\\n' "${COMPREPLY[@]}"
      """
    try box.write("coffer.bash", script)
    var environment = box.baseEnvironment
    environment["PATH"] = URL(fileURLWithPath: Paths.binary).deletingLastPathComponent().path + ":/usr/bin:/bin"
    let r = try ChildProcess.run("/bin/bash", ["--norc", "--noprofile", "-c", program], cwd: box.dir, environment: environment)
    #expect(r.status == 0, "\(String(decoding: r.stderr, as: UTF8.self))")
    #expect(r.stderr.isEmpty, "\(String(decoding: r.stderr, as: UTF8.self))")
    return String(decoding: r.stdout, as: UTF8.self).split(separator: "\n").map(String.init)
  }

  @Test func bashScriptLoadsAndCompletesFromTheProject() throws {
    let box = try Sandbox(manifest: Self.manifest)
    let r = box.run(["completion", "bash"])
    #expect(r.status == 0)
    #expect(r.stderr == "")
    #expect(r.out.hasPrefix("#!/bin/bash\n"))
    #expect(r.out.hasSuffix("complete -o filenames -F _coffer coffer\n"))
    // Subcommands, environments after --env, secret names for get/rm/history.
    #expect(try complete(box, script: r.out, words: ["coffer", "inj"], cur: "inj", prev: "coffer") == ["inject"])
    #expect(try complete(box, script: r.out, words: ["coffer", "get", "--env", ""], cur: "", prev: "--env") == ["development", "production"])
    #expect(try complete(box, script: r.out, words: ["coffer", "run", "-e", "p"], cur: "p", prev: "-e") == ["production"])
    #expect(try complete(box, script: r.out, words: ["coffer", "rm", "D"], cur: "D", prev: "rm") == ["DB_PASSWORD"])
    #expect(try complete(box, script: r.out, words: ["coffer", "get", ""], cur: "", prev: "get").prefix(2) == ["API_TOKEN", "DB_PASSWORD"])
  }

  @Test func zshAndFishScriptsAndAnUnknownShell() throws {
    let box = try Sandbox(manifest: Self.manifest)
    let zsh = box.run(["completion", "zsh"])
    #expect(zsh.status == 0)
    #expect(zsh.out.hasPrefix("#compdef coffer\n"))
    let fish = box.run(["completion", "fish"])
    #expect(fish.status == 0)
    #expect(fish.out.contains("complete -c 'coffer' -f\n"))
    let tcsh = box.run(["completion", "tcsh"])
    #expect(tcsh.status == 2)
    #expect(tcsh.out == "")
    #expect(tcsh.stderr == "coffer: error: no completion for that shell; expected bash, zsh or fish\n")
    // Outside a project the dynamic parts complete nothing, without an error.
    let outside = FileManager.default.temporaryDirectory.appendingPathComponent("coffer-nocomp-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: outside) }
    let none = box.run(["---completion", "get", "--", "--env", "3", "0", "coffer", "get", "--env", ""], cwd: outside)
    #expect(none.status == 0)
    #expect(none.out == "")
  }
}
