import CofferTesting
import CofferCore
import Foundation
import CofferDiscover
import Testing

/// Template reading (dotenv, compose, workflows) and the inference rules, on small inputs with exact outcomes.
@Suite struct TemplateInferenceTests {
  func infer(_ text: String, file: String) throws -> [String: InferredSetting] {
    let bytes = Array(text.utf8)
    let scan = try TemplateReader.read(bytes, file: file, as: TemplateReader.kind(of: file, bytes: bytes))
    let settings = SettingInference.infer(scan.entries).settings
    return Dictionary(uniqueKeysWithValues: settings.map { ($0.spec.name, $0) })
  }

  /// A heading framed by decoration titles a section; it is not glued into the next variable's description
  /// (issue 17). Neighbours: `====`, `***`, a heading decorated on one side, and plain comments that stay.
  @Test func sectionHeadingsAreNotDescriptions() throws {
    let s = try infer(
      """
      # --- Third-party APIs ---
      # Stripe secret key
      STRIPE_SECRET_KEY=changeme

      # ==== Database ====
      DATABASE_PASSWORD=changeme

      # *** Mail
      SMTP_PASSWORD=changeme

      # Database section -- primary
      # the replica's password
      REPLICA_PASSWORD=changeme
      # -- a note, not a heading
      OTHER_PASSWORD=changeme

      # -- Mail --
      MAIL_PASSWORD=changeme

      """, file: ".env.example")
    #expect(s["STRIPE_SECRET_KEY"]?.spec.description == "Stripe secret key")
    #expect(s["DATABASE_PASSWORD"]?.spec.description == nil)
    #expect(s["SMTP_PASSWORD"]?.spec.description == nil)
    #expect(s["REPLICA_PASSWORD"]?.spec.description == "Database section -- primary the replica's password")
    #expect(s["OTHER_PASSWORD"]?.spec.description == "a note, not a heading")
    #expect(s["MAIL_PASSWORD"]?.spec.description == nil)
  }

  @Test func dotenvCommentsSectionsAndCommentedOutVariables() throws {
    let s = try infer(
      """
      # ---- REQUIRED ----

      # The signing key for sessions.
      # Generate one with openssl.
      SESSION_SECRET=
      PORT=8080  # the HTTP port
      export LOG_LEVEL="info"

      ###########
      # Optional
      ###########

      # Slack bot token
      SLACK_BOT_TOKEN=xoxb-your-token-here
      # SENTRY_DSN=https://key@o1.ingest.sentry.io/1
      FEATURE_X=true
      """, file: ".env.example")
    let session = try #require(s["SESSION_SECRET"])
    #expect(session.spec == SecretSpec(name: "SESSION_SECRET", group: "security-tokens", description: "The signing key for sessions. Generate one with openssl.", required: .always))
    #expect(session.requiredReason == "the template leaves it empty")
    #expect(s["PORT"]?.spec == SecretSpec(name: "PORT", description: "the HTTP port", required: .never, example: "8080", isSecret: false))
    #expect(s["PORT"]?.kindReason == "its template value is a number")
    #expect(s["LOG_LEVEL"]?.spec == SecretSpec(name: "LOG_LEVEL", required: .never, example: "info", isSecret: false))
    let slack = try #require(s["SLACK_BOT_TOKEN"])
    #expect(slack.spec == SecretSpec(name: "SLACK_BOT_TOKEN", group: "integration-credentials", description: "Slack bot token", required: .never, example: "xoxb-your-token-here"))
    #expect(slack.requiredReason == "its section (line 10) says \"optional\"")
    let sentry = try #require(s["SENTRY_DSN"])
    #expect(sentry.spec.isSecret && sentry.spec.required == .never && sentry.spec.group == "integration-credentials")
    #expect(sentry.requiredReason == "commented out in the template")
    #expect(s["FEATURE_X"]?.spec.isSecret == false)
  }

  @Test func secretsAreNeverCopiedAndReasonsNeverHoldValues() throws {
    let canary = "sk-proj-CANARYcanary0123456789abcdefABCDEF"
    let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjYW5hcnkifQ.c2lnbmF0dXJlLWNhbmFyeS12YWx1ZQ"
    let s = try infer(
      """
      # real key pasted by mistake: \(canary)
      OPENAI_API_KEY=\(canary)
      # the password is hunter2canary
      ADMIN_PASSWORD=hunter2canary
      SOME_VALUE=\(jwt)
      DATABASE_URL=postgres://app:s3cretCanary@db.example.com:5432/app
      """, file: ".env.sample")
    for setting in s.values {
      let visible = [setting.summary, setting.spec.description ?? "", setting.spec.example ?? ""].joined(separator: "\n")
      for value in [canary, "CANARYcanary", jwt, "hunter2canary", "s3cretCanary"] {
        #expect(!visible.contains(value), "\(setting.spec.name) shows a value")
      }
    }
    #expect(s["OPENAI_API_KEY"]?.spec.description == nil)
    #expect(s["OPENAI_API_KEY"]?.notes == ["description left out: the comment holds something shaped like a secret"])
    #expect(s["OPENAI_API_KEY"]?.kindReason == "its template value has the shape of an OpenAI key")
    #expect(s["OPENAI_API_KEY"]?.spec.required == .never)
    #expect(s["ADMIN_PASSWORD"]?.notes == ["description left out: the comment holds the value"])
    #expect(s["SOME_VALUE"]?.spec.group == "security-tokens")
    #expect(s["SOME_VALUE"]?.kindReason == "its template value has the shape of a JWT")
    #expect(s["DATABASE_URL"]?.spec.example == "postgres://app:PASSWORD@db.example.com:5432/app")
    #expect(s["DATABASE_URL"]?.spec.required == .never)
  }

  @Test func composeEnvironmentInterpolationAndEnvFile() throws {
    let text = """
      services:
        api:
          image: "registry/api:${API_TAG:-latest}"
          env_file: [.env.api, { path: ./extra.env, required: false }]
          environment:
            - NODE_ENV=production
            - STRIPE_SECRET_KEY
            # Postgres connection
            - DATABASE_URL=postgres://api:${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}@db/api
        worker:
          environment:
            REDIS_URL: redis://cache:6379
            SLACK_WEBHOOK_URL:
            DEBUG: ${DEBUG:+1}
      """
    let bytes = Array(text.utf8)
    #expect(TemplateReader.kind(of: "deploy/docker-compose.prod.yml", bytes: bytes) == .compose)
    let scan = try TemplateReader.read(bytes, file: "docker-compose.yml", as: .compose)
    #expect(scan.envFiles == [".env.api", "./extra.env"])
    let s = try infer(text, file: "docker-compose.yml")
    #expect(s.keys.sorted() == ["API_TAG", "DEBUG", "NODE_ENV", "POSTGRES_PASSWORD", "REDIS_URL", "SLACK_WEBHOOK_URL", "STRIPE_SECRET_KEY"])
    #expect(s["API_TAG"]?.spec == SecretSpec(name: "API_TAG", required: .never, example: "latest", isSecret: false))
    #expect(s["POSTGRES_PASSWORD"]?.spec.required == .always)
    #expect(s["POSTGRES_PASSWORD"]?.spec.description == "Postgres connection")
    #expect(s["POSTGRES_PASSWORD"]?.requiredReason == "compose stops when it is unset (${POSTGRES_PASSWORD:?…})")
    #expect(s["STRIPE_SECRET_KEY"]?.spec.group == "integration-credentials")
    #expect(s["STRIPE_SECRET_KEY"]?.requiredReason == "compose passes it through from the environment")
    #expect(s["SLACK_WEBHOOK_URL"]?.spec.isSecret == true)
    #expect(s["SLACK_WEBHOOK_URL"]?.spec.group == "integration-credentials")
    #expect(s["REDIS_URL"]?.spec.isSecret == false)
    #expect(s["DEBUG"]?.spec.required == .never)
    #expect(s["NODE_ENV"]?.spec.example == "production")
  }

  @Test func workflowSecretsVarsAndEnv() throws {
    let text = """
      on: push
      env:
        NODE_VERSION: "20"
      jobs:
        deploy:
          if: ${{ vars.DEPLOY == 'yes' }}
          env:
            AWS_ACCESS_KEY_ID: ${{ secrets.AWS_ACCESS_KEY_ID }}
            # The Slack bot posts releases
            SLACK: ${{ secrets.SLACK_BOT_TOKEN }}
            TOKEN: ${{ secrets.GITHUB_TOKEN }}
          steps:
            - run: ./deploy.sh
              env:
                REGION: ${{ vars.AWS_REGION }}
      """
    let bytes = Array(text.utf8)
    #expect(TemplateReader.kind(of: "ci/release.yaml", bytes: bytes) == .workflow)
    let s = try infer(text, file: ".github/workflows/deploy.yml")
    #expect(s.keys.sorted() == ["AWS_ACCESS_KEY_ID", "AWS_REGION", "DEPLOY", "NODE_VERSION", "SLACK_BOT_TOKEN"])
    #expect(
      s["AWS_ACCESS_KEY_ID"]?.spec
        == SecretSpec(name: "AWS_ACCESS_KEY_ID", group: "infrastructure-credentials", description: "used by .github/workflows/deploy.yml", required: .always))
    #expect(s["SLACK_BOT_TOKEN"]?.spec.description == "The Slack bot posts releases")
    #expect(s["SLACK_BOT_TOKEN"]?.kindReason == "GitHub Actions reads it from secrets")
    #expect(s["AWS_REGION"]?.spec.isSecret == false)
    #expect(s["AWS_REGION"]?.spec.required == .always)
    #expect(s["DEPLOY"]?.kindReason == "GitHub Actions reads it from vars")
    #expect(s["NODE_VERSION"]?.spec == SecretSpec(name: "NODE_VERSION", required: .never, example: "20", isSecret: false))
  }

  /// A `#` line inside a `run: |` script is not a YAML comment: it describes nothing (and may hold a credential).
  /// GitHub's own token is left out whatever its case.
  @Test func scriptLinesAreNotDescriptionsAndGithubTokenInAnyCase() throws {
    let text = """
      on: push
      jobs:
        d:
          runs-on: ubuntu-latest
          steps:
            - run: |
                ./deploy.sh
                # TODO remove: curl -u admin:Tr0ub4dor-and-3 https://internal
            - name: Notify ${{ secrets.NOTIFY_TOKEN }}
              run: ./notify.sh ${{ secrets.github_token }} ${{ secrets.Github_Token }}
            # Posts to the release channel
            - name: Post ${{ secrets.SLACK_WEBHOOK }}
              run: ./post.sh
      """
    let s = try infer(text, file: ".github/workflows/d.yml")
    #expect(s.keys.sorted() == ["NOTIFY_TOKEN", "SLACK_WEBHOOK"])
    #expect(s["NOTIFY_TOKEN"]?.spec.description == "used by .github/workflows/d.yml")
    #expect(s["SLACK_WEBHOOK"]?.spec.description == "Posts to the release channel")
  }

  @Test func invalidYAMLNamesItsLineNeverItsText() {
    let text = "services:\n  api:\n    environment: [\n      SECRET_VALUE_CANARY: x\n"
    do {
      _ = try TemplateReader.read(Array(text.utf8), file: "compose.yaml", as: .compose)
      Issue.record("expected an error")
    } catch let error as DiscoverError {
      #expect(error.file == "compose.yaml" && error.line > 0)
      #expect(!error.description.contains("CANARY"))
      #expect(error.exitStatus == .badInput)
    } catch {
      Issue.record("unexpected \(error)")
    }
  }

  /// `$$` in compose is a literal `$`; a value with an interpolation besides is compose's business.
  @Test func composeDollarDollarIsALiteralDollar() throws {
    let text = "services:\n  a:\n    environment:\n      LITERAL: $$NOTVAR\n      MIXED: $$x-${OTHER}\n"
    let scan = try TemplateReader.read(Array(text.utf8), file: "docker-compose.yml", as: .compose)
    #expect(scan.entries.first { $0.name == "LITERAL" }?.value == SecretValue("$NOTVAR"))
    #expect(scan.entries.first { $0.name == "MIXED" } == nil)
    #expect(scan.entries.contains { $0.name == "OTHER" })
  }

  @Test func nestedInterpolationsNameEveryVariable() throws {
    let text = "services:\n  a:\n    environment:\n      URL: ${OUTER:-${INNER:-fallback}}\n      PRICE: ${COST:-$$5}\n"
    let scan = try TemplateReader.read(Array(text.utf8), file: "docker-compose.yml", as: .compose)
    let interpolated = scan.entries.filter { $0.origin == .composeInterpolation }
    #expect(interpolated.map(\.name) == ["OUTER", "INNER", "COST"])
    #expect(interpolated.map { $0.value.map { String(decoding: $0.reveal(), as: UTF8.self) } } == [nil, "fallback", "$5"])
  }

  @Test func duplicateKeysNameTheirLine() {
    let text = "services:\n  a:\n    environment:\n      FOO_TOKEN: ${FOO_TOKEN}\n      FOO_TOKEN: literal\n"
    do {
      _ = try TemplateReader.read(Array(text.utf8), file: "docker-compose.yml", as: .compose)
      Issue.record("expected an error")
    } catch let error as DiscoverError {
      #expect(error.description == "docker-compose.yml:4: invalid YAML: a key on this line appears again later in the same mapping")
    } catch {
      Issue.record("unexpected \(error)")
    }
  }

  /// Random templates either read or fail with an error; inference never crashes and the manifest it builds
  /// always decodes.
  @Test func arbitraryTemplatesNeverCrashAndAlwaysMakeAValidManifest() throws {
    var rng = SeededGenerator(seed: 7)
    var built = 0
    let names = ["A_KEY", "DB_PASSWORD", "PORT", "LOG_LEVEL", "x", "NEXT_PUBLIC_URL", "AWS_SECRET_ACCESS_KEY", "ÉTÉ", "9X"]
    let pieces = [
      "sk-", "your-key", "true", "8080", "postgres://u:p@h/d", "é", "<x>", "a b", "#", "$", "${X}", "${Y:-d}", "'", "\"",
      "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig_nature", "0123456789abcdef0123456789abcdef", "", ":", "\\", "\t",
    ]
    func value(_ rng: inout SeededGenerator) -> String {
      (0..<Int.random(in: 0..<4, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined()
    }
    for round in 0..<300 {
      var lines: [String] = []
      let file = ["a.env", "docker-compose.yml", ".github/workflows/x.yml"][round % 3]
      switch round % 3 {
      case 0:
        for _ in 0..<Int.random(in: 1..<12, using: &rng) {
          let name = names.randomElement(using: &rng)!
          lines.append(
            [
              "# " + value(&rng), "\(name)=\(value(&rng))", "# \(name)=\(value(&rng))", "", "export \(name)='\(value(&rng).filter { $0 != "'" })'",
            ].randomElement(using: &rng)!)
        }
      case 1:
        lines = ["services:", "  api:", "    image: \"x:${TAG:-\(value(&rng).filter { $0 != "\"" && $0 != "\\" && $0 != "}" })}\"", "    environment:"]
        for _ in 0..<Int.random(in: 1..<8, using: &rng) {
          lines.append("      \(names.randomElement(using: &rng)!): '\(value(&rng).replacingOccurrences(of: "'", with: "''"))'")
        }
      default:
        lines = ["on: push", "jobs:", "  a:", "    env:"]
        for _ in 0..<Int.random(in: 1..<6, using: &rng) {
          lines.append("      \(names.randomElement(using: &rng)!): '\(value(&rng).replacingOccurrences(of: "'", with: "''"))'")
        }
        lines += ["    steps:", "      - run: echo ${{ secrets.\(names.randomElement(using: &rng)!) }} ${{ vars.\(names.randomElement(using: &rng)!) }}"]
      }
      let bytes = Array(lines.joined(separator: "\n").utf8)
      guard let scan = try? TemplateReader.read(bytes, file: file, as: TemplateReader.kind(of: file, bytes: bytes)) else { continue }
      let settings = SettingInference.infer(scan.entries).settings
      let manifest = SettingInference.manifest(settings, project: "p", environments: ["dev"], recipients: [])
      #expect(throws: Never.self) { try Manifest.decode(Array(manifest.encodedYAML().utf8), file: "coffer.yaml") }
      if !settings.isEmpty { built += 1 }
    }
    #expect(built > 150, "only \(built) templates produced declarations")
  }

  @Test func valueShapes() {
    #expect(ValueShape.secretShape("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc") == "a JWT")
    #expect(ValueShape.secretShape("ghp_0123456789abcdefABCDEF0123456789abcd") == "a GitHub token")
    #expect(ValueShape.secretShape("AKIAIOSFODNN7EXAMPLE") == "an AWS access key ID")
    #expect(ValueShape.secretShape("UpNVntn3cDxHJpq99YMc1T1AQgQpc8kf") == "a long random string")
    #expect(ValueShape.secretShape("0123456789abcdef0123456789abcdef") == "a long random string")
    #expect(ValueShape.secretShape("https://u:pw@host/x") == "a URL with a password")
    #expect(ValueShape.secretShape("https://u:PASSWORD@host/x") == nil)
    #expect(ValueShape.secretShape("your-encryption-key-32-chars-min") == nil)
    #expect(ValueShape.secretShape("6C953F3RX2.com.chatwoot.app") == nil)
    #expect(ValueShape.secretShape("getsentry/sentry:24.4.2") == nil)
    #expect(ValueShape.secretShape("sk-") == nil)
    #expect(ValueShape.secretShape("xoxb-your-token-here") == nil)
    #expect(ValueShape.isPlaceholder("sk-"))
    #expect(ValueShape.isPlaceholder("changeme"))
    #expect(ValueShape.isPlaceholder("<your key>"))
    #expect(ValueShape.isPlaceholder("xxxxxxxx"))
    #expect(ValueShape.isPlaceholder("GOOGLE_PROJECT_ID", name: "GOOGLE_PROJECT_ID"))
    #expect(!ValueShape.isPlaceholder("plane"))
    #expect(!ValueShape.isPlaceholder("donkeykong1"))
    #expect(ValueShape.isPlaceholder("smtpPassword"))
    #expect(ValueShape.isPlaceholder("replace_with_lengthy_secure_hex"))
    #expect(!ValueShape.isPlaceholder("ghp_0123456789abcdefABCDEF0123456789abcd"))
  }
}
