import CofferCore
import Testing

/// `type: openbao` / `vault` and `type: aws-secrets-manager` in `destinations:`.
@Suite struct ManifestServerDestinationTests {
  let header = """
    version: 1
    project: p
    environments: [development, production]

    """

  func destinations(_ text: String) throws -> [DestinationSpec] {
    try Manifest.decodeDestinations(Array((header + text).utf8), file: "coffer.yaml")
  }

  func failure(_ text: String) -> String {
    do {
      _ = try destinations(text)
      return "no error"
    } catch {
      return (error as? ManifestError)?.description ?? "\(error)"
    }
  }

  @Test func decodesOpenBaoWithDefaults() throws {
    let specs = try destinations(
      """
      destinations:
        bao:
          type: openbao
          from: production
          api_url: https://bao.example.com:8200
          path: /myapp/production/
        vault-ci:
          type: vault
          from: production
          api_url: http://127.0.0.1:8200
          mount: kv
          path: app
          layout: name
          namespace: team-a
          auth: oidc
          role: coffer-ci
          audience: coffer
      """)
    #expect(specs.count == 2)
    #expect(specs[0].target == .openBao(.init(mount: "secret", path: "myapp/production")))
    #expect(specs[0].tokenEnv == "VAULT_TOKEN")
    #expect(specs[0].typeName == "openbao")
    #expect(specs[0].defaultAPIURL == nil)
    #expect(!specs[0].hasCustomAPIURL)
    #expect(
      specs[1].target
        == .openBao(
          .init(mount: "kv", path: "app", layout: .name, namespace: "team-a", role: "coffer-ci", audience: "coffer")))
    #expect(specs[1].auth == .oidc)
  }

  @Test func decodesAWSWithDefaults() throws {
    let specs = try destinations(
      """
      destinations:
        aws:
          type: aws-secrets-manager
          from: production
          region: eu-west-1
        moto:
          type: aws-secrets-manager
          from: development
          region: us-east-1
          api_url: http://127.0.0.1:5000
          prefix: myapp/dev/
          layout: name
          profile: dev
      """)
    #expect(specs[0].target == .awsSecretsManager(.init(region: "eu-west-1")))
    #expect(specs[0].apiURL == "https://secretsmanager.eu-west-1.amazonaws.com")
    #expect(!specs[0].hasCustomAPIURL)
    #expect(specs[0].tokenEnv == nil)
    #expect(
      specs[1].target
        == .awsSecretsManager(.init(region: "us-east-1", prefix: "myapp/dev/", layout: .name, profile: "dev")))
    #expect(specs[1].hasCustomAPIURL)
  }

  /// The fault kind "a server destination's field is wrong": the sample and its neighbours.
  @Test func rejectsBadFieldsAtTheirLine() {
    let bao = """
      destinations:
        bao:
          type: openbao
          from: production
          api_url: http://127.0.0.1:8200

      """
    #expect(failure(bao) == "coffer.yaml:6:5: destinations.bao.path: missing required field")
    #expect(
      failure(bao + "    path: a/../b\n").hasPrefix(
        "coffer.yaml:9:11: destinations.bao.path: expected slash-separated segments"))
    #expect(
      failure(bao + "    path: a\n    layout: folder\n")
        == "coffer.yaml:10:13: destinations.bao.layout: expected environment or name")
    #expect(
      failure(bao + "    path: a\n    auth: jwt\n")
        == "coffer.yaml:10:11: destinations.bao.role: auth: jwt needs role: the jwt auth role to log in at")
    #expect(
      failure(bao + "    path: a\n    auth: password\n")
        == "coffer.yaml:10:11: destinations.bao.auth: expected token, approle, jwt or oidc")
    #expect(
      failure(bao + "    path: a\n    region: x\n").hasPrefix(
        "coffer.yaml:10:5: destinations.bao.region: unknown field"))
    #expect(
      failure(bao + "    path: a\n    jwt_env: not a name\n")
        == "coffer.yaml:10:14: destinations.bao.jwt_env: expected a variable name such as VAULT_TOKEN")
    let noURL = """
      destinations:
        bao:
          type: openbao
          from: production
          path: a
      """
    #expect(failure(noURL) == "coffer.yaml:6:5: destinations.bao.api_url: missing required field")
    let aws = """
      destinations:
        aws:
          type: aws-secrets-manager
          from: production

      """
    #expect(failure(aws) == "coffer.yaml:6:5: destinations.aws.region: missing required field")
    #expect(
      failure(aws + "    region: EU West\n")
        == "coffer.yaml:8:13: destinations.aws.region: expected a region such as eu-west-1")
    #expect(
      failure(aws + "    region: eu-west-1\n    prefix: my app/\n")
        == "coffer.yaml:9:13: destinations.aws.prefix: expected ASCII letters, digits and /_+=.@-")
    #expect(
      failure(aws + "    region: eu-west-1\n    auth: approle\n")
        == "coffer.yaml:9:5: destinations.aws.auth: unknown field; expected one of type, from, groups, region, api_url, prefix, layout, profile, allow_custom_api_url"
    )
  }
}
