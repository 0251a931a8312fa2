import CofferCore
import CofferDotEnv
import Foundation
import Testing

/// `coffer init --from` on every real-world template in ../shared/corpora/real-env, with specific inferences per
/// file, and on compose and workflow files.
@Suite struct InitFromTests {
  struct Outcome {
    let manifest: Manifest
    let text: String
    let result: CLIResult

    func spec(_ name: String) -> SecretSpec? { manifest.secret(named: name) }
    /// `secret`/`plain`, group, `required`/`optional`, example: one line to compare.
    func line(_ name: String) -> String {
      guard let s = spec(name) else { return "\(name) missing" }
      let required: String
      switch s.required {
      case .always: required = "required"
      case .never: required = "optional"
      case .environments(let envs): required = envs.joined(separator: ",")
      }
      return [s.isSecret ? "secret" : "plain", s.group ?? "-", required, s.example ?? "-"].joined(separator: " ")
    }
  }

  static func initFrom(_ files: [String], in box: Sandbox) throws -> Outcome {
    let target = box.dir.appendingPathComponent("project")
    try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
    let r = box.run(["init", "--project", target.path, "--project-name", "imported", "--name", "me", "--from"] + files)
    #expect(r.status == 0, "\(r.stderr)")
    let data = try Data(contentsOf: target.appendingPathComponent("coffer.yaml"))
    let manifest = try Manifest.decode(Array(data), file: "coffer.yaml")
    return Outcome(manifest: manifest, text: String(decoding: data, as: UTF8.self), result: r)
  }

  static func realFile(_ name: String) -> String {
    Paths.shared.appendingPathComponent("corpora/real-env/\(name)").path
  }

  /// No value of a secret appears in what `init --from` printed, and no secret-shaped value reaches the manifest.
  static func expectNoSecretValueShown(_ outcome: Outcome, template: String) throws {
    let document = try DotEnvParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: template))), file: template).document
    for (name, value) in document.values where outcome.spec(name)?.isSecret ?? true {
      let text = value.revealString()
      guard text.count >= 8 else { continue }
      #expect(!outcome.result.all.contains(text), "\(name)'s value was printed")
      if outcome.spec(name)?.example != text { #expect(!outcome.text.contains(text), "\(name)'s value is in coffer.yaml") }
    }
  }

  @Test func supabase() throws {
    let box = try Sandbox()
    let file = Self.realFile("supabase__supabase__docker__.env.example")
    let o = try Self.initFrom([file], in: box)
    #expect(o.manifest.secrets.count == 51)
    #expect(o.manifest.secrets.filter(\.isSecret).map(\.name) == [
      "POSTGRES_PASSWORD", "JWT_SECRET", "ANON_KEY", "SERVICE_ROLE_KEY", "DASHBOARD_PASSWORD", "SECRET_KEY_BASE",
      "VAULT_ENC_KEY", "PG_META_CRYPTO_KEY", "SMTP_PASS", "OPENAI_API_KEY", "LOGFLARE_PUBLIC_ACCESS_TOKEN",
      "LOGFLARE_PRIVATE_ACCESS_TOKEN",
    ])
    #expect(o.line("POSTGRES_PASSWORD") == "secret database-credentials required your-super-secret-and-long-postgres-password")
    #expect(o.line("JWT_SECRET") == "secret security-tokens required your-super-secret-jwt-token-with-at-least-32-characters-long")
    #expect(o.line("ANON_KEY") == "secret security-tokens required -")
    #expect(o.line("SERVICE_ROLE_KEY") == "secret security-tokens required -")
    #expect(o.line("SECRET_KEY_BASE") == "secret security-tokens required -")
    #expect(o.line("VAULT_ENC_KEY") == "secret security-tokens required your-encryption-key-32-chars-min")
    #expect(o.line("SMTP_PASS") == "secret integration-credentials required fake_mail_password")
    #expect(o.line("OPENAI_API_KEY") == "secret api-keys optional -")
    #expect(o.spec("OPENAI_API_KEY")?.description == "Add your OpenAI API key to enable SQL Editor Assistant")
    #expect(o.line("SITE_URL") == "plain - optional http://localhost:3000")
    #expect(o.line("API_EXTERNAL_URL") == "plain - optional http://localhost:8000")
    #expect(o.line("POSTGRES_PORT") == "plain - optional 5432")
    #expect(o.line("KONG_HTTP_PORT") == "plain - optional 8000")
    #expect(o.line("SMTP_PORT") == "plain - optional 2500")
    #expect(o.line("POOLER_PROXY_PORT_TRANSACTION") == "plain - optional 6543")
    #expect(o.spec("POOLER_PROXY_PORT_TRANSACTION")?.description == "Port Supavisor listens on for transaction pooling connections")
    #expect(o.line("DISABLE_SIGNUP") == "plain - optional false")
    #expect(o.line("JWT_EXPIRY") == "plain - optional 3600")
    #expect(o.line("ADDITIONAL_REDIRECT_URLS") == "plain - required -")
    #expect(o.line("DASHBOARD_USERNAME") == "plain - optional supabase")
    #expect(o.text.hasPrefix("# Coffer manifest: every secret this project needs. Committed; holds no values.\n"))
    #expect(o.manifest.recipients.map(\.name) == ["me"])
    #expect(o.manifest.groups.map(\.name) == ["api-keys", "database-credentials", "security-tokens", "integration-credentials", "infrastructure-credentials"])
    // What was inferred and why, on stderr; never a value.
    #expect(o.result.stderr.contains("coffer: inferred POSTGRES_PASSWORD: secret (its name contains PASSWORD); group database-credentials (its name contains POSTGRES); required (the template's value must be changed: its section (line 3) says \"must change\"); example: the template's placeholder\n"))
    #expect(o.result.stderr.contains("coffer: inferred ANON_KEY: secret (its template value has the shape of a JWT); group security-tokens (its value has the shape of a JWT);"))
    #expect(o.result.stderr.contains("coffer: inferred 51 declarations: 12 secrets, 39 plain settings\n"))
    #expect(!o.text.contains("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9") && !o.result.all.contains("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"))
    #expect(!o.text.contains("UpNVntn3cDxHJpq99YMc1T1AQgQpc8kf"))
    try Self.expectNoSecretValueShown(o, template: file)
  }

  @Test func chatwoot() throws {
    let box = try Sandbox()
    let file = Self.realFile("chatwoot__chatwoot__.env.example")
    let o = try Self.initFrom([file], in: box)
    #expect(o.manifest.secrets.count == 57)
    #expect(o.manifest.secrets.filter(\.isSecret).count == 18)
    #expect(o.line("SECRET_KEY_BASE") == "secret security-tokens required replace_with_lengthy_secure_hex")
    #expect(o.spec("SECRET_KEY_BASE")?.description == "Used to verify the integrity of signed cookies. so ensure a secure value is set")
    #expect(o.line("POSTGRES_PASSWORD") == "secret database-credentials required -")
    #expect(o.line("REDIS_PASSWORD") == "secret database-credentials optional -")
    #expect(o.line("REDIS_URL") == "plain - optional redis://redis:6379")
    #expect(o.line("FRONTEND_URL") == "plain - optional http://0.0.0.0:3000")
    #expect(o.line("FORCE_SSL") == "plain - optional false")
    #expect(o.line("SMTP_PORT") == "plain - optional 1025")
    #expect(o.line("SMTP_PASSWORD") == "secret integration-credentials required -")
    #expect(o.line("AWS_ACCESS_KEY_ID") == "secret infrastructure-credentials required -")
    #expect(o.line("AWS_SECRET_ACCESS_KEY") == "secret infrastructure-credentials required -")
    #expect(o.line("AWS_REGION") == "plain - required -")
    #expect(o.line("SENTRY_DSN") == "secret integration-credentials required -")
    #expect(o.line("MANDRILL_INGRESS_API_KEY") == "secret integration-credentials required -")
    #expect(o.line("LOG_LEVEL") == "plain - optional info")
    // After "only required if you are setting up social media channels", nothing is required.
    #expect(o.line("FB_APP_SECRET") == "secret integration-credentials optional -")
    #expect(o.line("SLACK_CLIENT_SECRET") == "secret integration-credentials optional -")
    #expect(o.line("FB_APP_ID") == "plain - optional -")
    // Commented-out variables are declared, never required.
    #expect(o.line("DEFAULT_LOCALE") == "plain - optional en")
    #expect(o.line("VAPID_PUBLIC_KEY") == "plain - optional -")
    #expect(o.line("VAPID_PRIVATE_KEY") == "secret security-tokens optional -")
    #expect(o.line("IP_LOOKUP_API_KEY") == "secret api-keys optional -")
    try Self.expectNoSecretValueShown(o, template: file)
  }

  @Test func formbricks() throws {
    let box = try Sandbox()
    let file = Self.realFile("formbricks__formbricks__.env.example")
    let o = try Self.initFrom([file], in: box)
    #expect(o.manifest.secrets.count == 79)
    #expect(o.line("DATABASE_URL") == "secret database-credentials required postgresql://postgres:PASSWORD@localhost:5432/formbricks?schema=public")
    #expect(o.line("ENCRYPTION_KEY") == "secret security-tokens required -")
    #expect(o.line("NEXTAUTH_SECRET") == "secret security-tokens required -")
    #expect(o.line("CRON_SECRET") == "secret security-tokens required -")
    #expect(o.line("NEXTAUTH_URL") == "plain - required http://localhost:3000")
    #expect(o.line("WEBAPP_URL") == "plain - optional http://localhost:3000")
    #expect(o.line("SMTP_PASSWORD") == "secret integration-credentials required smtpPassword")
    #expect(o.line("SMTP_PORT") == "plain - optional 1025")
    #expect(o.line("SMTP_SECURE_ENABLED") == "plain - optional 0")
    // Everything under the OPTIONAL banner is optional.
    #expect(o.line("S3_ACCESS_KEY") == "secret infrastructure-credentials optional -")
    #expect(o.line("STRIPE_SECRET_KEY") == "secret integration-credentials optional -")
    #expect(o.line("GITHUB_SECRET") == "secret integration-credentials optional -")
    #expect(o.line("GOOGLE_CLIENT_ID") == "plain - optional -")
    #expect(o.line("NEXT_PUBLIC_FORMBRICKS_API_HOST") == "plain - optional -")
    #expect(o.line("REDIS_URL") == "plain - optional redis://localhost:6379")
    #expect(o.line("ENTERPRISE_LICENSE_KEY") == "secret api-keys optional -")
    #expect(o.line("SAML_DATABASE_URL") == "secret database-credentials optional postgresql://postgres:PASSWORD@localhost:5432/formbricks-saml")
    #expect(o.line("EMAIL_VERIFICATION_DISABLED") == "plain - optional 1")
    try Self.expectNoSecretValueShown(o, template: file)
  }

  @Test func sentrySelfHosted() throws {
    let box = try Sandbox()
    let file = Self.realFile("getsentry__self-hosted__.env")
    let o = try Self.initFrom([file], in: box)
    #expect(o.manifest.secrets.count == 14)
    #expect(o.manifest.secrets.allSatisfy { !$0.isSecret })
    #expect(o.line("SENTRY_BIND") == "plain - optional 9000")
    #expect(o.spec("SENTRY_BIND")?.description == "You can either use a port number or an IP:PORT combo for SENTRY_BIND See https://docs.docker.com/compose/compose-file/#ports for more")
    #expect(o.line("HEALTHCHECK_TIMEOUT") == "plain - optional 1m30s")
    #expect(o.line("SENTRY_IMAGE") == "plain - optional getsentry/sentry:24.4.2")
    #expect(o.line("SENTRY_MAIL_HOST") == "plain - optional example.com")
    #expect(o.line("POSTGRES_MAX_CONNECTIONS") == "plain - optional 100")
  }

  @Test func immich() throws {
    let box = try Sandbox()
    let file = Self.realFile("immich-app__immich__docker__example.env")
    let o = try Self.initFrom([file], in: box)
    #expect(o.manifest.secrets.map(\.name) == ["UPLOAD_LOCATION", "DB_DATA_LOCATION", "TZ", "IMMICH_VERSION", "DB_PASSWORD", "DB_USERNAME", "DB_DATABASE_NAME"])
    #expect(o.line("DB_PASSWORD") == "secret database-credentials required -")
    #expect(o.spec("DB_PASSWORD")?.description == "Connection secret for postgres. You should change it to a random password Please use only the characters `A-Za-z0-9`, without special characters or spaces")
    #expect(o.line("UPLOAD_LOCATION") == "plain - optional ./library")
    #expect(o.line("TZ") == "plain - optional Etc/UTC")
    #expect(o.line("DB_USERNAME") == "plain - optional postgres")
    #expect(o.result.stderr.contains("coffer: inferred DB_PASSWORD: secret (its name contains PASSWORD); group database-credentials (its name contains DB); required (the template's value must be changed: its comment says \"should change\"); value not copied (it belongs to a secret)\n"))
  }

  @Test func plane() throws {
    let box = try Sandbox()
    let file = Self.realFile("makeplane__plane__.env.example")
    let o = try Self.initFrom([file], in: box)
    #expect(o.manifest.secrets.count == 31)
    #expect(o.line("POSTGRES_PASSWORD") == "secret database-credentials required -")
    #expect(o.line("RABBITMQ_PASSWORD") == "secret database-credentials required -")
    #expect(o.line("AWS_ACCESS_KEY_ID") == "secret infrastructure-credentials required access-key")
    #expect(o.line("AWS_SECRET_ACCESS_KEY") == "secret infrastructure-credentials required secret-key")
    #expect(o.line("OPENAI_API_KEY") == "secret api-keys optional sk-")
    #expect(o.spec("OPENAI_API_KEY")?.description == "deprecated")
    #expect(o.line("REDIS_PORT") == "plain - optional 6379")
    #expect(o.line("PGDATA") == "plain - optional /var/lib/postgresql/data")
    #expect(o.line("AWS_S3_ENDPOINT_URL") == "plain - optional http://plane-minio:9000")
    #expect(o.line("API_KEY_RATE_LIMIT") == "plain - optional 60/minute")
    #expect(o.line("CERT_ACME_DNS") == "secret - required -")
    #expect(o.result.stderr.contains("coffer: inferred POSTGRES_PASSWORD: secret (its name contains PASSWORD); group database-credentials (its name contains POSTGRES); required (the template's value is a development default); value not copied (it belongs to a secret)\n"))
    try Self.expectNoSecretValueShown(o, template: file)
  }

  /// Compose (with its env_file), a workflow and a dotenv template together; the same name from several files is
  /// one declaration.
  @Test func composeWorkflowAndEnvFileTogether() throws {
    let box = try Sandbox()
    try box.write("src/docker-compose.yml", """
      services:
        api:
          env_file: [api.env, missing.env]
          environment:
            # Stripe secret key for payments
            - STRIPE_SECRET_KEY
            - POSTGRES_PASSWORD=${POSTGRES_PASSWORD:?required}
            - PORT=3000

      """)
    try box.write("src/api.env", "# API log verbosity\nLOG_LEVEL=debug\n")
    try box.write(".github/workflows/deploy.yml", """
      on: push
      jobs:
        deploy:
          runs-on: ubuntu-latest
          steps:
            - run: deploy
              env:
                STRIPE_SECRET_KEY: ${{ secrets.STRIPE_SECRET_KEY }}
                DEPLOY_REGION: ${{ vars.DEPLOY_REGION }}

      """)
    try box.write(".env.example", "PORT=8080\n")
    let o = try Self.initFrom([box.path(".env.example"), box.path("src/docker-compose.yml"), box.path(".github/workflows/deploy.yml")], in: box)
    #expect(o.manifest.secrets.map(\.name) == ["PORT", "STRIPE_SECRET_KEY", "POSTGRES_PASSWORD", "DEPLOY_REGION", "LOG_LEVEL"])
    #expect(o.line("PORT") == "plain - optional 8080")
    #expect(o.line("STRIPE_SECRET_KEY") == "secret integration-credentials required -")
    #expect(o.spec("STRIPE_SECRET_KEY")?.description == "Stripe secret key for payments")
    #expect(o.line("POSTGRES_PASSWORD") == "secret database-credentials required -")
    #expect(o.line("DEPLOY_REGION") == "plain - required -")
    #expect(o.line("LOG_LEVEL") == "plain - optional debug")
    #expect(o.spec("LOG_LEVEL")?.description == "API log verbosity")
    #expect(o.result.stderr.contains("coffer: warning: \(box.path("src/docker-compose.yml")) names env_file missing.env, which does not exist; skipped\n"))
    #expect(o.result.stderr.contains("coffer: read \(box.path("src/api.env")) (dotenv): 1 variables\n"))
  }

  /// A canary secret in a template is never printed, never written, and bad input writes nothing.
  @Test func canaryNeverLeavesTheTemplateAndBadInputWritesNothing() throws {
    let box = try Sandbox()
    let canary = "ghp_CANARYcanary0123456789ABCDEFabcdef0123"
    try box.write("t/.env.example", "# token: \(canary)\nGITHUB_TOKEN=\(canary)\nAPI_URL=https://api.example.com\n")
    let o = try Self.initFrom([box.path("t/.env.example")], in: box)
    #expect(!o.result.all.contains("CANARY") && !o.text.contains("CANARY"))
    #expect(o.line("GITHUB_TOKEN") == "secret integration-credentials optional -")
    #expect(o.spec("GITHUB_TOKEN")?.description == nil)
    #expect(o.result.stderr.contains("description left out: the comment holds something shaped like a secret"))

    let fresh = box.dir.appendingPathComponent("fresh")
    try FileManager.default.createDirectory(at: fresh, withIntermediateDirectories: true)
    let newIdentity = box.path("home/new-identity.txt")
    try box.write("bad/.env.example", "GOOD=1\nthis is not a line\n")
    let bad = box.run(["init", "--project", fresh.path, "--from", box.path("bad/.env.example")], env: ["COFFER_IDENTITY_FILE": newIdentity])
    #expect(bad.status == 2)
    #expect(bad.stderr.hasPrefix("coffer: error: \(box.path("bad/.env.example")):2"))
    let missing = box.run(["init", "--project", fresh.path, "--from", box.path("nope.env")], env: ["COFFER_IDENTITY_FILE": newIdentity])
    #expect(missing.status == 2)
    #expect(!FileManager.default.fileExists(atPath: fresh.appendingPathComponent("coffer.yaml").path))
    #expect(!FileManager.default.fileExists(atPath: newIdentity))
  }
}
