import CofferCore
import Testing

@Suite struct ManifestDestinationTests {
  let header = """
    version: 1
    project: p
    environments: [development, production]
    groups:
      api-keys: {}

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

  @Test func decodesTheIssueExample() throws {
    let specs = try destinations(
      """
      destinations:
        github-prod:
          type: github
          repository: owner/repo
          environment: production
          from: production
          groups: [api-keys]
          token_env: GITHUB_TOKEN
          api_url: https://api.github.com
        github-org:
          type: github
          organization: acme
          visibility: selected
          repositories: [web, api]
          from: production
        esc-prod:
          type: pulumi-esc
          organization: scoobyjava-org
          project: default
          environment: sophia-ai-production
          from: production
          token_env: PULUMI_ACCESS_TOKEN
          api_url: https://api.pulumi.com
        local-dev:
          type: dotenv
          path: .env
          from: development
      """)
    #expect(
      specs == [
        DestinationSpec(
          name: "github-prod", target: .github(.repository(owner: "owner", name: "repo"), environment: "production"),
          from: "production", groups: ["api-keys"], tokenEnv: "GITHUB_TOKEN", apiURL: "https://api.github.com", line: 7),
        DestinationSpec(
          name: "github-org", target: .github(.organization("acme", visibility: "selected", repositories: ["web", "api"]), environment: nil),
          from: "production", tokenEnv: "GITHUB_TOKEN", apiURL: "https://api.github.com", line: 15),
        DestinationSpec(
          name: "esc-prod",
          target: .pulumiESC(organization: "scoobyjava-org", project: "default", environment: "sophia-ai-production"),
          from: "production", tokenEnv: "PULUMI_ACCESS_TOKEN", apiURL: "https://api.pulumi.com", line: 21),
        DestinationSpec(name: "local-dev", target: .dotenv(path: ".env"), from: "development", line: 29),
      ])
    // The plain decoder still keeps the section as opaque data.
    let manifest = try Manifest.decode(Array((header + "destinations:\n  d: { type: dotenv, path: .env, from: development }\n").utf8), file: "coffer.yaml")
    #expect(manifest.destinations != nil)
    #expect(try destinations("").isEmpty)
  }

  @Test func defaults() throws {
    let specs = try destinations("destinations:\n  g: { type: github, organization: acme, from: production }\n  e: { type: pulumi-esc, organization: o, environment: prod, from: production }\n")
    #expect(specs[0].target == .github(.organization("acme", visibility: "private", repositories: []), environment: nil))
    #expect(specs[0].tokenEnv == "GITHUB_TOKEN")
    #expect(specs[1].target == .pulumiESC(organization: "o", project: "default", environment: "prod"))
    #expect(specs[1].apiURL == "https://api.pulumi.com")
  }

  @Test func errorsArePositioned() {
    #expect(failure("destinations:\n  d: { path: .env, from: development }\n")
      == "coffer.yaml:7:6: destinations.d.type: missing required field; expected one of github, pulumi-esc, dotenv, openbao, vault, aws-secrets-manager")
    #expect(failure("destinations:\n  d: { type: vercel, from: development }\n")
      == "coffer.yaml:7:14: destinations.d.type: expected one of github, pulumi-esc, dotenv, openbao, vault, aws-secrets-manager")
    #expect(failure("destinations:\n  d:\n    type: dotenv\n    path: .env\n    from: qa\n")
      == "coffer.yaml:10:11: destinations.d.from: no environment named \"qa\" is declared under environments")
    #expect(failure("destinations:\n  d:\n    type: dotenv\n    path: .env\n    from: development\n    repository: a/b\n")
      == "coffer.yaml:11:5: destinations.d.repository: unknown field; expected one of type, from, groups, path")
    #expect(failure("destinations:\n  d:\n    type: github\n    repository: nope\n    from: production\n")
      == "coffer.yaml:9:17: destinations.d.repository: expected owner/repo")
    #expect(failure("destinations:\n  d:\n    type: github\n    organization: acme\n    visibility: secret\n    from: production\n")
      == "coffer.yaml:10:17: destinations.d.visibility: expected all, private or selected")
    #expect(failure("destinations:\n  d:\n    type: github\n    organization: acme\n    visibility: selected\n    from: production\n")
      == "coffer.yaml:10:17: destinations.d.repositories: visibility selected needs a list of repositories")
    #expect(failure("destinations:\n  d:\n    type: github\n    repository: a/b\n    groups: [api-keys, nope]\n    from: production\n")
      == "coffer.yaml:10:24: destinations.d.groups[1]: no group named \"nope\" is declared under groups")
    #expect(failure("destinations:\n  d:\n    type: github\n    repository: a/b\n    api_url: ftp://x\n    from: production\n")
      == "coffer.yaml:10:14: destinations.d.api_url: expected an http:// or https:// URL without query")
    #expect(failure("destinations:\n  Bad_Name: { type: dotenv, path: .env, from: development }\n")
      == "coffer.yaml:7:3: destinations.Bad_Name: \"Bad_Name\" is not a valid destination name; use lowercase letters, digits, '.', '_' and '-', starting with a letter or digit")
    #expect(failure("destinations:\n  d:\n    type: github\n    organization: acme\n    environment: production\n    from: production\n")
      == "coffer.yaml:10:5: destinations.d.environment: environment applies only to a repository")
    #expect(failure("destinations:\n  d: { type: pulumi-esc, organization: o, from: production }\n")
      == "coffer.yaml:7:6: destinations.d.environment: missing required field")
  }
}
