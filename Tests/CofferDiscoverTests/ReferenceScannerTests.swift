import CofferTesting
import CofferDiscover
import Testing

/// Each language's forms, asserted by position: a marker (1️⃣ …) stands right before each name that must be found,
/// and nothing else may be found.
@Suite struct ReferenceScannerTests {
  /// Scans `marked` without its markers and checks the references are exactly `names` at the markers, in order.
  func expectFindings(
    _ marked: String, _ language: SourceLanguage, _ names: [String: String], sourceLocation: SourceLocation = #_sourceLocation
  ) {
    let (text, markers) = markedText(marked)
    let found = ReferenceScanner.scan(Array(text.utf8), language: language)
    let expected = markers.map { marker, position in
      VariableReference(name: names[marker] ?? "?", line: position.line, column: position.column, language: language)
    }.sorted()
    #expect(found == expected, sourceLocation: sourceLocation)
  }

  @Test func python() {
    expectFindings(
      """
      import os
      from os import environ, getenv
      key = os.environ["1️⃣OPENAI_API_KEY"]
      db = os.environ.get('2️⃣DATABASE_URL', "sqlite://")
      port = os.getenv(
          "3️⃣PORT_NUMBER")
      x = environ['4️⃣BARE_ENVIRON'] + getenv("5️⃣BARE_GETENV")
      # os.getenv("COMMENTED")
      s = "# not a comment"; t = os.getenv("6️⃣AFTER_HASH_IN_STRING")
      dynamic = os.getenv(name)
      prefixed = os.getenv("PREFIX_" + suffix)
      home = os.environ["HOME"]
      myenviron["NOT_ENVIRON"]
      """, .python,
      [
        "1️⃣": "OPENAI_API_KEY", "2️⃣": "DATABASE_URL", "3️⃣": "PORT_NUMBER", "4️⃣": "BARE_ENVIRON",
        "5️⃣": "BARE_GETENV", "6️⃣": "AFTER_HASH_IN_STRING",
      ])
  }

  @Test func javascriptAndTypeScript() {
    let source = """
      const a = process.env.1️⃣API_KEY;
      const b = process.env["2️⃣SECRET_TOKEN"] ?? process.env['3️⃣OTHER'];
      const c = import.meta.env.4️⃣VITE_URL + import.meta.env[`5️⃣VITE_FLAG`];
      const { 6️⃣DB_HOST, 7️⃣DB_PASS: pass, 8️⃣DB_PORT = 5432, ...rest } = process.env;
      // process.env.COMMENTED
      const url = "http://x" + process.env?.9️⃣OPTIONAL;
      /* process.env.BLOCK */
      myprocess.env.NOT_IT; process.env[name];
      """
    expectFindings(
      source, .javascript,
      [
        "1️⃣": "API_KEY", "2️⃣": "SECRET_TOKEN", "3️⃣": "OTHER", "4️⃣": "VITE_URL", "5️⃣": "VITE_FLAG", "6️⃣": "DB_HOST",
        "7️⃣": "DB_PASS", "8️⃣": "DB_PORT", "9️⃣": "OPTIONAL",
      ])
    expectFindings(
      "const k: string = process.env.1️⃣TS_KEY!;\nconst d = Deno.env.get(\"2️⃣DENO_KEY\"); Bun.env.3️⃣BUN_KEY\n",
      .typescript, ["1️⃣": "TS_KEY", "2️⃣": "DENO_KEY", "3️⃣": "BUN_KEY"])
  }

  @Test func go() {
    expectFindings(
      """
      package main

      import "os"

      func main() {
      \tkey := os.Getenv("1️⃣STRIPE_KEY")
      \tv, ok := os.LookupEnv(`2️⃣RAW_NAME`)
      \t// os.Getenv("COMMENTED")
      \tx := syscall.Getenv("3️⃣SYS")
      \t_ = os.Getenv(name)
      }
      """, .go, ["1️⃣": "STRIPE_KEY", "2️⃣": "RAW_NAME", "3️⃣": "SYS"])
  }

  @Test func ruby() {
    expectFindings(
      """
      token = ENV["1️⃣GITHUB_TOKEN"]
      url = ENV.fetch('2️⃣REDIS_URL', 'redis://localhost')
      flag = ENV.fetch "3️⃣FEATURE_FLAG"
      ok = ENV.key?("4️⃣MAYBE")
      # ENV["COMMENTED"]
      puts "#{ENV['5️⃣IN_INTERPOLATION']}"
      MY_ENV["NOT_ENV"]
      """, .ruby,
      ["1️⃣": "GITHUB_TOKEN", "2️⃣": "REDIS_URL", "3️⃣": "FEATURE_FLAG", "4️⃣": "MAYBE", "5️⃣": "IN_INTERPOLATION"])
  }

  @Test func swift() {
    expectFindings(
      """
      let key = ProcessInfo.processInfo.environment["1️⃣OPENAI_API_KEY"]
      let other = ProcessInfo().environment["2️⃣OTHER"] ?? "x"
      let raw = getenv("3️⃣RAW")  // getenv("COMMENTED")
      /// ProcessInfo.processInfo.environment["DOC_COMMENT"]
      let π = "ü"; let after = ProcessInfo.processInfo.environment["4️⃣AFTER_UNICODE"]
      """, .swift, ["1️⃣": "OPENAI_API_KEY", "2️⃣": "OTHER", "3️⃣": "RAW", "4️⃣": "AFTER_UNICODE"])
  }

  @Test func rust() {
    expectFindings(
      """
      use std::env;
      fn main() {
          let a = env::var("1️⃣DATABASE_URL").unwrap();
          let b = std::env::var_os("2️⃣HOME_DIR");
          let c = env!("3️⃣CARGO_PKG_NAME");
          let d = option_env!("4️⃣BUILD_SHA");
          let e = dotenv::var("NOT_STD");
          // env::var("COMMENTED")
      }
      """, .rust, ["1️⃣": "DATABASE_URL", "2️⃣": "HOME_DIR", "3️⃣": "CARGO_PKG_NAME", "4️⃣": "BUILD_SHA"])
  }

  @Test func javaAndKotlin() {
    expectFindings(
      """
      String key = System.getenv("1️⃣JAVA_KEY");
      String other = System.getenv().get("2️⃣JAVA_OTHER");
      // System.getenv("COMMENTED")
       * System.getenv("JAVADOC")
      """, .java, ["1️⃣": "JAVA_KEY", "2️⃣": "JAVA_OTHER"])
    expectFindings(
      "val k = System.getenv(\"1️⃣KOTLIN_KEY\") ?: \"d\"\nval m = System.getenv()[\"2️⃣KOTLIN_MAP\"]\n", .kotlin,
      ["1️⃣": "KOTLIN_KEY", "2️⃣": "KOTLIN_MAP"])
  }

  @Test func shell() {
    expectFindings(
      """
      #!/bin/sh
      set -eu
      echo "$1️⃣API_TOKEN and ${2️⃣REGION:-us-east-1} and ${#3️⃣LENGTH_OF}"
      curl -H "Authorization: Bearer ${4️⃣BEARER}" "$HOME/$PATH" "$1" "$@" "$?" "$$"
      echo '$SINGLE_QUOTED ${ALSO}'  # $COMMENTED
      LOCAL_VAR=1
      echo "$LOCAL_VAR"
      DEFAULTED="${5️⃣DEFAULTED:-fallback}"
      echo "$DEFAULTED"
      for ITEM in a b; do echo "$ITEM"; done
      read -r ANSWER; echo "$ANSWER"
      export EXPORTED=1; echo "$EXPORTED"
      echo "$lowercase" \\$ESCAPED
      cat <<EOF
      body $6️⃣IN_HEREDOC
      EOF
      cat <<'EOF'
      body $NOT_IN_QUOTED_HEREDOC
      EOF
      echo "${7️⃣NESTED:-${8️⃣INNER}}"
      """, .shell,
      [
        "1️⃣": "API_TOKEN", "2️⃣": "REGION", "3️⃣": "LENGTH_OF", "4️⃣": "BEARER", "5️⃣": "DEFAULTED", "6️⃣": "IN_HEREDOC",
        "7️⃣": "NESTED", "8️⃣": "INNER",
      ])
  }

  @Test func dockerfile() {
    expectFindings(
      """
      # syntax=docker/dockerfile:1
      ARG 1️⃣NODE_VERSION=20
      FROM node:${NODE_VERSION}-alpine
      ARG 2️⃣NPM_TOKEN TARGETARCH
      ENV 3️⃣APP_ENV=production 4️⃣PORT_X="80 80"
      ENV 5️⃣LEGACY_FORM some value $6️⃣FROM_LEGACY
      RUN echo "$NPM_TOKEN" && echo $7️⃣BUILD_ONLY && echo '$NOT_EXPANDED' && echo $HOME
      # RUN echo $COMMENTED
      CMD ["sh", "-c", "echo ${8️⃣RUNTIME_SECRET}"]
      """, .dockerfile,
      [
        "1️⃣": "NODE_VERSION", "2️⃣": "NPM_TOKEN", "3️⃣": "APP_ENV", "4️⃣": "PORT_X", "5️⃣": "LEGACY_FORM",
        "6️⃣": "FROM_LEGACY", "7️⃣": "BUILD_ONLY", "8️⃣": "RUNTIME_SECRET",
      ])
  }

  @Test func compose() {
    expectFindings(
      """
      services:
        web:
          image: "app:${1️⃣TAG:-latest}"
          environment:
            DATABASE_URL: postgres://app:${2️⃣DB_PASSWORD:?set it}@db/app
            - KEY=$3️⃣BARE
            PRICE: "$$5"  # ${COMMENTED}
          ports: ["${4️⃣WEB_PORT-8080}:80"]
      """, .compose, ["1️⃣": "TAG", "2️⃣": "DB_PASSWORD", "3️⃣": "BARE", "4️⃣": "WEB_PORT"])
  }

  @Test func githubWorkflow() {
    expectFindings(
      """
      on: push
      jobs:
        deploy:
          if: vars.1️⃣DEPLOY_ENABLED == 'true'
          runs-on: ubuntu-latest
          env:
            TOKEN: ${{ secrets.2️⃣DEPLOY_TOKEN }}
            BOTH: ${{ secrets.3️⃣A_SECRET || vars.4️⃣A_VAR }}
            GH: ${{ secrets.GITHUB_TOKEN }}
          steps:
            - run: echo "${{ secrets['5️⃣QUOTED'] }}" && cat vars.yml
            # - run: echo ${{ secrets.COMMENTED }}
      """, .githubActions,
      ["1️⃣": "DEPLOY_ENABLED", "2️⃣": "DEPLOY_TOKEN", "3️⃣": "A_SECRET", "4️⃣": "A_VAR", "5️⃣": "QUOTED"])
  }

  /// Random bytes and random mixes of the syntax the scanners care about never crash a scanner, and every position
  /// is inside the input.
  @Test func scannersSurviveArbitraryInput() {
    var rng = SeededGenerator(seed: 42)
    let pieces = [
      "$", "${", "}", "{", "'", "\"", "`", "\\", "#", "//", "/*", "*", "\n", " ", "\t", "<<", "<<-", "<<'EOF'", "EOF",
      "os.getenv(", "process.env.", "process.env[", "= process.env", "ENV[", "env::var(", "System.getenv(",
      "secrets.", "vars.", "${{", "}}", "if:", "ARG ", "ENV ", "RUN ", "A_B", "x", "=", "(", ")", "[", "]", ",", ":",
      "\r\n", "é", "\u{0}",
    ]
    for round in 0..<400 {
      var bytes: [UInt8]
      if round % 2 == 0 {
        bytes = (0..<Int.random(in: 0..<200, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
      } else {
        bytes = Array((0..<Int.random(in: 0..<80, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined().utf8)
      }
      let lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).count
      for language in SourceLanguage.allCases {
        for reference in ReferenceScanner.scan(bytes, language: language) {
          #expect(reference.line >= 1 && reference.line <= lines && reference.column >= 1)
        }
      }
    }
  }

  @Test func languageDetection() {
    #expect(SourceLanguage.detect(path: "src/app.py") == .language(.python))
    #expect(SourceLanguage.detect(path: "web/App.TSX") == .language(.typescript))
    #expect(SourceLanguage.detect(path: "Dockerfile") == .language(.dockerfile))
    #expect(SourceLanguage.detect(path: "docker/Dockerfile.prod") == .language(.dockerfile))
    #expect(SourceLanguage.detect(path: "api.dockerfile") == .language(.dockerfile))
    #expect(SourceLanguage.detect(path: "docker-compose.override.yml") == .language(.compose))
    #expect(SourceLanguage.detect(path: "compose.yaml") == .language(.compose))
    #expect(SourceLanguage.detect(path: "composer.yaml") == .unsupported)
    #expect(SourceLanguage.detect(path: ".github/workflows/ci.yml") == .language(.githubActions))
    #expect(SourceLanguage.detect(path: "workflows/ci.yml") == .unsupported)
    #expect(SourceLanguage.detect(path: "bin/deploy") == .needsShebang)
    #expect(SourceLanguage.detect(path: "Gemfile") == .language(.ruby))
    #expect(SourceLanguage.detect(path: "README.md") == .unsupported)
    #expect(SourceLanguage.fromShebang(Array("#!/usr/bin/env -S python3.12 -u\n".utf8)) == .python)
    #expect(SourceLanguage.fromShebang(Array("#!/bin/bash\n".utf8)) == .shell)
    #expect(SourceLanguage.fromShebang(Array("#!/usr/bin/env node\n".utf8)) == .javascript)
    #expect(SourceLanguage.fromShebang(Array("#!/usr/bin/perl\n".utf8)) == nil)
    #expect(SourceLanguage.fromShebang(Array("echo hi\n".utf8)) == nil)
    let script = Array("#!/usr/bin/env bash\necho $DEPLOY_KEY\n".utf8)
    #expect(ReferenceScanner.scan(script, path: "bin/deploy").map(\.description) == ["DEPLOY_KEY@2:7 (shell)"])
    #expect(ReferenceScanner.scan(Array("os.getenv('X')".utf8), path: "notes.txt").isEmpty)
  }
}
