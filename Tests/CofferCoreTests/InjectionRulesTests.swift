import CofferCore
import Foundation
import Testing

/// `LoaderVariables`, `InjectionRules` and `SecretTemplate`: what `run` injects and how `inject` parses (pure).
@Suite struct InjectionRulesTests {
  @Test func loaderVariablesByNamePrefixAndCase() {
    for name in ["BASH_ENV", "ENV", "PATH", "HOME", "LD_PRELOAD", "LD_LIBRARY_PATH", "DYLD_INSERT_LIBRARIES", "GIT_SSH_COMMAND",
                 "GIT_CONFIG_COUNT", "NODE_OPTIONS", "node_options", "PYTHONPATH", "PERL5OPT", "RUBYOPT", "JAVA_TOOL_OPTIONS",
                 "MALLOC_CHECK_", "GLIBC_TUNABLES", "PS4", "PROMPT_COMMAND", "npm_config_script_shell", "LESSOPEN"] {
      #expect(LoaderVariables.contains(name), "\(name)")
    }
    for name in ["API_TOKEN", "GITHUB_TOKEN", "PATHS", "ENVIRONMENT", "HOMEPAGE_URL", "LDAP_URL", "DATABASE_URL", "NODE_ENV", "PORT"] {
      #expect(!LoaderVariables.contains(name), "\(name)")
    }
  }

  /// The length/first/last-character filter in front of the set never hides a listed name, in any case.
  @Test func everyListedNameIsFoundThroughTheFilter() {
    for name in LoaderVariables.names {
      #expect(LoaderVariables.contains(name), "\(name)")
      #expect(LoaderVariables.contains(name.lowercased()), "\(name)")
      #expect(!LoaderVariables.contains(name + "X") || LoaderVariables.prefixes.contains { (name + "X").hasPrefix($0) }, "\(name)X")
    }
  }

  @Test func decisions() {
    let rules = InjectionRules(declared: ["API_TOKEN", "PATH", "NODE_OPTIONS"], allowedLoaderVariables: ["PATH"])
    #expect(rules.decide("API_TOKEN") == .inject)
    #expect(rules.decide("PATH") == .inject)
    #expect(rules.decide("NODE_OPTIONS") == .loader)
    #expect(rules.decide("BASH_ENV") == .loader)
    #expect(rules.decide("EXTRA") == .undeclared)
    var wider = rules
    wider.includeUndeclared = true
    #expect(wider.decide("EXTRA") == .injectUndeclared)
    #expect(wider.decide("LD_PRELOAD") == .loader)
    wider.selected = ["EXTRA"]
    #expect(wider.decide("API_TOKEN") == .notSelected)
    #expect(wider.decide("EXTRA") == .injectUndeclared)
  }

  @Test func manifestFlagIsDecodedEncodedAndStrict() throws {
    let text = """
      version: 1
      project: p
      environments: [dev]
      secrets:
        PATH:
          allow_loader_variable: true
        API_TOKEN: {}

      """
    let manifest = try Manifest.decode(Array(text.utf8), file: "coffer.yaml")
    #expect(manifest.secrets.map(\.allowLoaderVariable) == [true, false])
    #expect(InjectionRules(manifest) == InjectionRules(declared: ["PATH", "API_TOKEN"], allowedLoaderVariables: ["PATH"]))
    #expect(try Manifest.decode(Array(manifest.encodedYAML().utf8), file: "x") == manifest)
    let wrong = text.replacingOccurrences(of: "  API_TOKEN: {}", with: "  API_TOKEN: { allow_loader_variable: true }")
    #expect(throws: ManifestError.self) { try Manifest.decode(Array(wrong.utf8), file: "coffer.yaml") }
    do {
      _ = try Manifest.decode(Array(wrong.utf8), file: "coffer.yaml")
    } catch {
      #expect(error.description == "coffer.yaml:7:39: secrets.API_TOKEN.allow_loader_variable: API_TOKEN is not a loader variable; allow_loader_variable is only for names that change how programs load or run")
    }
  }

  @Test func templateSegmentsAndPositions() throws {
    let t = try SecretTemplate.parse(Array("a {{ x }}\r\n{{coffer \"A\"}}{{ coffer\t\"prod/B_2\" }}{{".utf8), file: "t")
    #expect(t.segments == [
      .text(Array("a {{ x }}\r\n".utf8)),
      .reference(.init(environment: nil, name: "A", line: 2, column: 1)),
      .reference(.init(environment: "prod", name: "B_2", line: 2, column: 15)),
      .text(Array("{{".utf8)),
    ])
    let out = t.render { (r: SecretTemplate.Reference) -> [UInt8] in Array("<\(r.name)>\n".utf8) }
    #expect(out == Array("a {{ x }}\r\n<A>\n<B_2>\n{{".utf8))
    // `coffer` must be a whole word; `{{ cofferx }}` is text.
    #expect(try SecretTemplate.parse(Array("{{ cofferx }}".utf8), file: "t").references == [])
  }

  @Test func templateRefusals() {
    for (text, message) in [
      ("{{ coffer }}", "t:1:1: expected {{ coffer \"NAME\" }} or {{ coffer \"ENV/NAME\" }}"),
      ("x\n {{ coffer \"A\" ", "t:2:2: expected {{ coffer \"NAME\" }} or {{ coffer \"ENV/NAME\" }}"),
      ("{{ coffer \"A\n\" }}", "t:1:1: expected {{ coffer \"NAME\" }} or {{ coffer \"ENV/NAME\" }}"),
      ("{{ coffer \"Prod/A\" }}", "t:1:1: the environment in a reference must match [a-z0-9][a-z0-9._-]*"),
      ("{{ coffer \"a b\" }}", "t:1:1: the name in a reference is not a valid secret name ([A-Za-z_][A-Za-z0-9_]*)"),
      ("{{ coffer \"p/q/R\" }}", "t:1:1: the name in a reference is not a valid secret name ([A-Za-z_][A-Za-z0-9_]*)"),
    ] {
      #expect(throws: SecretTemplateError.self) { try SecretTemplate.parse(Array(text.utf8), file: "t") }
      do {
        _ = try SecretTemplate.parse(Array(text.utf8), file: "t")
      } catch {
        #expect(error.description == message)
      }
    }
  }
}
