import CofferOperations
/// The reference system's manifest (examples/reference/coffer.yaml), built in for `coffer setup-repo --template
/// reference`. `ReferenceTemplateTests` checks it is byte-identical to the example file.
enum ReferenceTemplate {
  /// The environments the reference manifest declares.
  static let environments = ["development", "staging", "production"]

  /// The manifest text.
  static let manifest = #"""
# The reference system (../shared/reference/secrets-management-guide.md) as a Coffer manifest:
# its five secret groups with their rotation periods, the GitHub organization secrets, and the
# required environment variables, with the formats the guide states.
version: 1
project: sophia-ai
environments: [development, staging, production]

groups:
  api-keys:                   { rotation: 90d,  description: "API keys for external services (OpenAI, Pinecone, ...)" }
  database-credentials:       { rotation: 180d, description: "Database passwords and connection strings" }
  security-tokens:            { rotation: 365d, description: "JWT secrets and signing keys" }
  integration-credentials:    { rotation: 90d,  description: "Credentials for integrated services (HubSpot, Slack, Gong, ...)" }
  infrastructure-credentials: { rotation: 90d,  description: "Cloud provider and deployment credentials" }

secrets:
  # Core API keys
  OPENAI_API_KEY:
    group: api-keys
    description: OpenAI API key
    required: true
    prefix: "sk-"
    min_length: 40
    example: sk-...
  ANTHROPIC_API_KEY:
    group: api-keys
    description: Anthropic Claude API key
    required: true
    prefix: "sk-ant-"
    example: sk-ant-...

  # Slack integration
  SLACK_BOT_TOKEN:
    group: integration-credentials
    description: Slack bot token
    required: true
    prefix: "xoxb-"
    example: xoxb-...
  SLACK_APP_TOKEN:
    group: integration-credentials
    description: Slack app-level token (Socket Mode)
    required: [staging, production]
    prefix: "xapp-"
    example: xapp-...
  SLACK_SIGNING_SECRET:
    group: integration-credentials
    description: Slack request signing secret
    required: [staging, production]
    pattern: '[0-9a-f]{32}'

  # Linear integration
  LINEAR_API_KEY:
    group: integration-credentials
    description: Linear personal API key
    required: true
    prefix: "lin_api_"
    example: lin_api_...

  # Gong integration
  GONG_ACCESS_KEY:
    group: integration-credentials
    description: Gong API access key
    required: true
  GONG_CLIENT_SECRET:
    group: integration-credentials
    description: Gong API client secret
    required: true
  GONG_URL:
    group: integration-credentials
    description: Your Gong instance URL
    required: true
    secret: false
    pattern: 'https://[A-Za-z0-9.-]+(/.*)?'
    example: https://us-12345.api.gong.io

  # HubSpot
  HUBSPOT_API_TOKEN:
    group: integration-credentials
    description: HubSpot private app token
    required: true
    prefix: "pat-"
    example: pat-na1-...

  # Database credentials
  DATABASE_URL:
    group: database-credentials
    description: PostgreSQL connection string
    required: true
    pattern: 'postgres(ql)?://.+'
    example: postgresql://user:password@localhost:5432/sophia
  REDIS_URL:
    group: database-credentials
    description: Redis connection string
    required: false
    pattern: 'rediss?://.+'

  # Vercel integration
  VERCEL_ACCESS_TOKEN:
    group: infrastructure-credentials
    description: Vercel deployment token
    required: [production]

  # Lambda Labs integration
  LAMBDA_LABS_API_KEY:
    group: infrastructure-credentials
    description: Lambda Labs GPU compute API key
    required: [production]

  # Vector database integration
  PINECONE_API_KEY:
    group: api-keys
    description: Pinecone vector database API key
    required: true
    min_length: 20
  PINECONE_ENVIRONMENT:
    group: api-keys
    description: Pinecone environment (region)
    required: false
    secret: false
    example: us-east-1-aws

  # Snowflake integration
  SNOWFLAKE_ACCOUNT:
    group: database-credentials
    description: Snowflake account identifier (orgname-accountname)
    required: true
    secret: false
    pattern: '[A-Za-z0-9_-]+(\.[A-Za-z0-9_.-]+)?'
    example: myorg-myaccount
  SNOWFLAKE_USER:
    group: database-credentials
    description: Snowflake username
    required: true
    secret: false
  SNOWFLAKE_PASSWORD:
    group: database-credentials
    description: Snowflake password
    required: true
    min_length: 12

  # Estuary integration
  ESTUARY_ACCESS_TOKEN:
    group: integration-credentials
    description: Estuary Flow refresh token
    required: [production]

  # Security tokens
  JWT_SECRET:
    group: security-tokens
    description: JWT signing secret (at least 32 characters)
    required: true
    min_length: 32

  # Infrastructure (GitHub organization secrets)
  PULUMI_ACCESS_TOKEN:
    group: infrastructure-credentials
    description: Pulumi Cloud access token
    required: true
    prefix: "pul-"
    example: pul-...
  PULUMI_ORG:
    group: infrastructure-credentials
    description: Pulumi organization
    required: true
    secret: false
    example: scoobyjava-org

  # Environment configuration
  ENVIRONMENT:
    description: Deployment environment name
    required: true
    secret: false
    pattern: 'development|staging|production'
    example: development
  LOG_LEVEL:
    description: Log verbosity
    required: false
    secret: false
    pattern: 'debug|info|warning|error'
    example: info

"""#
}
