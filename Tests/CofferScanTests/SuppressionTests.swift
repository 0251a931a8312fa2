import CofferCore
import CofferScan
import Testing

@Suite struct SuppressionTests {
  let scanner = Support.scanner([Support.known("API_TOKEN", "Zx81kQm2Lp0Wd7Rt"), Support.known("CERT", "AAAA-fake-line-one-Zx81\nBBBB-fake-line-two-Qm22\n")])

  @Test func inlineAllowCommentDropsFindingsOnItsLine() {
    assertFindings(
      """
      a = "Zx81kQm2Lp0Wd7Rt"  # coffer:allow (test fixture)
      b = "1️⃣Zx81kQm2Lp0Wd7Rt"
      // coffer:allow
      c = "2️⃣Zx81kQm2Lp0Wd7Rt"

      """,
      [FindingSpec("1️⃣", secret: "API_TOKEN"), FindingSpec("2️⃣", secret: "API_TOKEN")], scanner: scanner)
  }

  @Test func allowAnywhereOnAMultiLineFindingDropsIt() {
    let s = Support.scanner([Support.known("CERT", "AAAA-fake-line-one-Zx81\nBBBB-fake-line-two-Qm22")])
    #expect(s.scan(Array("x = '''AAAA-fake-line-one-Zx81\nBBBB-fake-line-two-Qm22''' # coffer:allow\n".utf8)).isEmpty)
    #expect(s.scan(Array("x = '''AAAA-fake-line-one-Zx81\nBBBB-fake-line-two-Qm22'''\n# coffer:allow\n".utf8)).count == 1)
  }

  @Test func cofferignoreFollowsGitignoreSyntax() {
    let rules = IgnoreRules(parsing: Array("""
      # fixtures
      *.pem
      /build/
      docs/**/secret*.txt
      vendor/
      !vendor/keep.txt
      tests/fixtures/*
      !tests/fixtures/real.env
      \\#hash
      logs/**
      a?c.txt
      [xy]z.txt

      """.utf8))
    let ignored = ["key.pem", "deep/dir/key.pem", "build/out.txt", "docs/secret.txt", "docs/a/b/secret-1.txt", "vendor/keep.txt",
                   "vendor/a/b.txt", "tests/fixtures/x.env", "#hash", "logs/a/b/c", "abc.txt", "yz.txt"]
    let kept = ["src/build/out.txt", "key.pem.txt", "docs/a/public.txt", "tests/fixtures/real.env", "tests/fixtures2/x.env",
                "ac.txt", "zz.txt", "src/main.swift", "logs"]
    for path in ignored { #expect(rules.ignores(path), "\(path)") }
    for path in kept { #expect(!rules.ignores(path), "\(path)") }
  }

  @Test func baselineAcceptsByFingerprintAndPath() throws {
    let fp = String(repeating: "ab", count: 32)
    let other = String(repeating: "cd", count: 32)
    let b = try Baseline(parsing: Array("# accepted\n\(fp)\tsrc/a.txt\tknown-value\tAPI_TOKEN\n\(other)\n".utf8), file: "base.txt")
    #expect(b.accepts(fingerprint: fp, path: "src/a.txt"))
    #expect(!b.accepts(fingerprint: fp, path: "src/b.txt"))
    #expect(b.accepts(fingerprint: other, path: "anything"))
    #expect(!b.accepts(fingerprint: String(repeating: "0", count: 64), path: "src/a.txt"))
    let rendered = Baseline.render([(fp, "src/a.txt", "known-value", "API_TOKEN"), (fp, "src/a.txt", "known-value", "API_TOKEN")])
    #expect(String(decoding: rendered, as: UTF8.self) == "# coffer scan baseline: accepted findings, one per line: fingerprint<TAB>path<TAB>rule<TAB>what\n\(fp)\tsrc/a.txt\tknown-value\tAPI_TOKEN\n")
  }

  @Test func baselineErrorsNameTheLine() {
    #expect(throws: ScanError(file: "base.txt", line: 2, reason: "expected a 64-digit lowercase hex fingerprint, then an optional tab and path")) {
      try Baseline(parsing: Array("# ok\nnot-a-fingerprint\n".utf8), file: "base.txt")
    }
  }
}
