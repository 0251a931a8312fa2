import CofferCore
import Testing

@Suite struct ManifestErrorTests {
  @Test func requiredWrongType() {
    #expect(
      failure(
        """
        version: 1
        project: p
        environments: [dev, prod]
        secrets:
          OPENAI_API_KEY:
            required: sometimes
        """) == "coffer.yaml:6:15: secrets.OPENAI_API_KEY.required: expected true, false or a list of environments")
    #expect(
      failure(withHeader("secrets:\n  A:\n    required: yes\n"))
        == "coffer.yaml:6:15: secrets.A.required: expected true, false or a list of environments")
    #expect(
      failure(withHeader("secrets:\n  A:\n    required: []\n"))
        == "coffer.yaml:6:15: secrets.A.required: expected a non-empty list of environments; use false for never")
  }

  @Test func unknownFields() {
    #expect(
      failure(withHeader("colour: blue\n"))
        == "coffer.yaml:4:1: colour: unknown field; expected one of version, project, environments, recipients, "
        + "admins, groups, secrets, destinations, access, imports")
    #expect(
      failure(withHeader("secrets:\n  A:\n    requried: true\n"))
        == "coffer.yaml:6:5: secrets.A.requried: unknown field; expected one of group, description, required, "
        + "prefix, pattern, min_length, max_length, example, secret, format, rotation, allow_loader_variable, compose")
    #expect(
      failure(withHeader("groups:\n  g: { rotation: 30d, owner: me }\n"))
        == "coffer.yaml:5:23: groups.g.owner: unknown field; expected one of rotation, description")
  }

  @Test func unknownFieldHint() {
    do {
      _ = try decode(withHeader("secrets:\n  A:\n    requried: true\n"))
      Issue.record("expected an error")
    } catch {
      #expect(error.hints == ["did you mean 'required'?"])
      #expect(error.line == 6)
      #expect(error.column == 5)
      #expect(error.field == "secrets.A.requried")
    }
  }

  @Test func missingAndWrongTopLevel() {
    #expect(failure("project: p\nenvironments: [dev]\n") == "coffer.yaml:1:1: version: missing required field")
    #expect(failure("version: 1\nenvironments: [dev]\n") == "coffer.yaml:1:1: project: missing required field")
    #expect(failure("\n\nversion: 1\nproject: p\n") == "coffer.yaml:3:1: environments: missing required field")
    #expect(
      failure("version: 2\nproject: p\nenvironments: [dev]\n")
        == "coffer.yaml:1:10: version: unsupported version 2; this coffer reads version 1")
    #expect(
      failure("version: \"1\"\nproject: p\nenvironments: [dev]\n") == "coffer.yaml:1:10: version: expected an integer")
    #expect(
      failure("version: 1\nproject: \"\"\nenvironments: [dev]\n")
        == "coffer.yaml:2:10: project: expected a non-empty string")
    #expect(
      failure("version: 1\nproject: [a]\nenvironments: [dev]\n")
        == "coffer.yaml:2:10: project: expected a string, found a list")
    #expect(
      failure("")
        == "coffer.yaml:1:1: the manifest is empty; expected a mapping with version, project and environments")
    #expect(failure("# only a comment\n").hasPrefix("coffer.yaml:1:1: the manifest is empty"))
    #expect(failure("- a\n- b\n") == "coffer.yaml:1:1: expected a mapping at the top level, found a list")
  }

  @Test func environments() {
    #expect(
      failure("version: 1\nproject: p\nenvironments: []\n")
        == "coffer.yaml:3:15: environments: expected at least one environment")
    #expect(
      failure("version: 1\nproject: p\nenvironments: dev\n")
        == "coffer.yaml:3:15: environments: expected a list of environment names")
    #expect(
      failure("version: 1\nproject: p\nenvironments:\n  - dev\n  - Prod\n")
        == "coffer.yaml:5:5: environments[1]: \"Prod\" is not a valid environment name; use lowercase letters, "
        + "digits, '.', '_' and '-', starting with a letter or digit")
    #expect(
      failure("version: 1\nproject: p\nenvironments: [dev, staging, dev]\n")
        == "coffer.yaml:3:30: environments[2]: duplicate environment \"dev\"")
    #expect(
      failure("version: 1\nproject: p\nenvironments: [dev, ~]\n")
        == "coffer.yaml:3:21: environments[1]: expected an environment name")
  }

  @Test func undefinedReferences() {
    #expect(
      failure(withHeader("groups:\n  api-keys: {}\nsecrets:\n  A:\n    group: api_keys\n"))
        == "coffer.yaml:8:12: secrets.A.group: no group named \"api_keys\" is declared under groups")
    #expect(
      failure(withHeader("secrets:\n  A:\n    required: [dev, qa]\n"))
        == "coffer.yaml:6:21: secrets.A.required[1]: no environment named \"qa\" is declared under environments")
    #expect(
      failure(withHeader("secrets:\n  A:\n    required:\n      - prod\n      - prod\n"))
        == "coffer.yaml:8:9: secrets.A.required[1]: duplicate environment \"prod\"")
  }

  @Test func namesAndTypes() {
    #expect(
      failure(withHeader("secrets:\n  1PASSWORD: {}\n"))
        == "coffer.yaml:5:3: secrets.1PASSWORD: \"1PASSWORD\" is not a valid secret name; use letters, digits and "
        + "'_', not starting with a digit (at most 256 bytes)")
    #expect(
      failure(withHeader("groups:\n  API: {}\n"))
        == "coffer.yaml:5:3: groups.API: \"API\" is not a valid group name; use lowercase letters, digits, '.', '_' "
        + "and '-', starting with a letter or digit")
    #expect(
      failure(withHeader("secrets:\n  A: true\n"))
        == "coffer.yaml:5:6: secrets.A: expected a mapping of secret fields, found a boolean")
    #expect(
      failure(withHeader("secrets: [A, B]\n"))
        == "coffer.yaml:4:10: secrets: expected a mapping of secret names to secrets, found a list")
    #expect(
      failure(withHeader("secrets:\n  A: { secret: \"false\" }\n"))
        == "coffer.yaml:5:16: secrets.A.secret: expected true or false")
    #expect(
      failure(withHeader("secrets:\n  A: { min_length: -1 }\n"))
        == "coffer.yaml:5:20: secrets.A.min_length: expected a non-negative integer")
    #expect(
      failure(withHeader("secrets:\n  A: { max_length: ten }\n"))
        == "coffer.yaml:5:20: secrets.A.max_length: expected a non-negative integer")
    #expect(
      failure(withHeader("secrets:\n  A: { description: { a: b } }\n"))
        == "coffer.yaml:5:21: secrets.A.description: expected a string, found a mapping")
    #expect(
      failure(withHeader("secrets:\n  A: { prefix: \"\" }\n"))
        == "coffer.yaml:5:16: secrets.A.prefix: expected a non-empty string")
    #expect(
      failure(withHeader("secrets:\n  ? [A]\n  : {}\n"))
        == "coffer.yaml:5:5: secrets: expected a name as the key, found a list")
  }

  @Test func lengthsAndPatterns() {
    #expect(
      failure(withHeader("secrets:\n  A:\n    min_length: 20\n    max_length: 10\n"))
        == "coffer.yaml:7:17: secrets.A.max_length: max_length 10 is less than min_length 20")
    #expect(
      failure(withHeader("secrets:\n  A:\n    pattern: '^sk-(abc'\n"))
        == "coffer.yaml:6:14: secrets.A.pattern: invalid regular expression: expected ')'")
    #expect(
      failure(withHeader("secrets:\n  A:\n    pattern: 'a{3,1}'\n"))
        == "coffer.yaml:6:14: secrets.A.pattern: invalid regular expression: range lower bound '3' must be less "
        + "than or equal to upper bound '1'")
  }

  @Test func rotations() {
    #expect(
      failure(withHeader("groups:\n  g:\n    rotation: 3 months\n"))
        == "coffer.yaml:6:15: groups.g.rotation: expected a period such as 30d, 12w or 1y")
    #expect(
      failure(withHeader("secrets:\n  A: { rotation: 0d }\n"))
        == "coffer.yaml:5:18: secrets.A.rotation: expected a period such as 30d, 12w or 1y")
  }

  @Test func recipients() {
    #expect(
      failure(withHeader("recipients:\n  alice: AGE1QYQSZQGPQYQSZQGP\n"))
        == "coffer.yaml:5:10: recipients.alice: expected an age X25519 recipient: 'age1' and lowercase "
        + "bech32 with a valid checksum, as age-keygen prints it")
    #expect(
      failure(withHeader("recipients:\n  bob: age1qyqszqgpqyqszqgpbio\n"))
        == "coffer.yaml:5:8: recipients.bob: expected an age X25519 recipient: 'age1' and lowercase "
        + "bech32 with a valid checksum, as age-keygen prints it")
    // The right alphabet with a wrong checksum (one character of a real recipient changed), and a valid Bech32
    // string of the wrong length, are refused where they are written.
    let changed = String(aliceKey.dropLast()) + (aliceKey.hasSuffix("q") ? "p" : "q")
    #expect(
      failure(withHeader("recipients:\n  carol: \(changed)\n"))
        == "coffer.yaml:5:10: recipients.carol: expected an age X25519 recipient: 'age1' and lowercase "
        + "bech32 with a valid checksum, as age-keygen prints it")
    #expect(
      failure(withHeader("recipients:\n  dave: age1qyqszqgpqyqszqgp9hpkad\n"))
        == "coffer.yaml:5:9: recipients.dave: expected an age X25519 recipient: 'age1' and lowercase "
        + "bech32 with a valid checksum, as age-keygen prints it")
    #expect(
      failure(withHeader("recipients:\n  alice: \(aliceKey)\n  al: \(aliceKey)\n"))
        == "coffer.yaml:6:7: recipients.al: the same recipient is already listed as alice")
    #expect(
      failure(withHeader("recipients:\n  \"al ice\": \(aliceKey)\n"))
        == "coffer.yaml:5:3: recipients.al ice: \"al ice\" is not a valid recipient name; use letters, digits, "
        + "'.', '_', '@', '+' and '-', starting with a letter or digit")
    #expect(
      failure(withHeader("recipients: [\(aliceKey)]\n"))
        == "coffer.yaml:4:13: recipients: expected a mapping of names to age recipients, found a list")
  }

  @Test func duplicateKeys() {
    #expect(
      failure(
        """
        version: 1
        project: p
        environments: [dev]
        secrets:
          A:
            required: true
          B: {}
          A:
            required: false
        """) == "coffer.yaml:8:3: secrets.A: duplicate key; first defined at line 5")
    #expect(
      failure("version: 1\nproject: p\nenvironments: [dev]\nproject: q\n")
        == "coffer.yaml:4:1: project: duplicate key; first defined at line 2")
    #expect(
      failure(withHeader("secrets:\n  A: { required: true, example: x, required: false }\n"))
        == "coffer.yaml:5:36: secrets.A.required: duplicate key; first defined at line 5")
    #expect(
      failure(withHeader("groups:\n  g:\n    rotation: 1d\n    'rotation': 2d\n    rotation: 3d\n"))
        == "coffer.yaml:7:5: groups.g.rotation: duplicate key; first defined at line 6")
    #expect(
      failure(withHeader("destinations:\n  - a: 1\n    b: 2\n    a: 3\n"))
        == "coffer.yaml:7:5: destinations[0].a: duplicate key; first defined at line 5")
  }

  @Test func yamlSyntaxErrors() {
    #expect(
      failure("version: 1\nproject: [p\nenvironments: [dev]\n")
        == "coffer.yaml:3:13: invalid YAML: did not find expected ',' or ']' (while parsing a flow sequence at "
        + "line 2, column 10)")
    #expect(
      failure("version: 1\n\tproject: p\n")
        == "coffer.yaml:2:1: invalid YAML: found a tab character that violates indentation (while scanning a plain "
        + "scalar at line 1, column 10)")
    #expect(
      failure("version: 1\nproject: p\n  environments: [dev]\n")
        == "coffer.yaml:3:15: invalid YAML: mapping values are not allowed in this context")
    #expect(
      failure("version: 1\n---\nversion: 1\n")
        == "coffer.yaml:2:1: invalid YAML: expected a single document, found another")
    #expect(failure("version: *nope\n") == "coffer.yaml:1:10: invalid YAML: found undefined alias")
  }

  /// Aliases share nodes, so nine short lines can stand for 10^10 of them (the "billion laughs"): the section kept
  /// as written is refused once it expands past the limit, instead of exhausting memory.
  @Test func aliasBombIsRefused() {
    var bomb = "destinations:\n  d0: &d0 [x, x, x, x, x, x, x, x, x, x]\n"
    for level in 1...9 {
      bomb += "  d\(level): &d\(level) [" + Array(repeating: "*d\(level - 1)", count: 10).joined(separator: ", ") + "]\n"
    }
    #expect(
      failure(withHeader(bomb))
        == "coffer.yaml:5:39: destinations.d4[7][8][8][8][9]: expands to more than 100000 values (YAML aliases repeated within aliases?)")
    // Aliases within the limit are fine.
    let shared = "destinations:\n  a: &a { type: dotenv, from: dev, path: .env.a }\n  b: *a\n"
    #expect((try? decode(withHeader(shared))) != nil)
  }

  @Test func invalidBytes() {
    var bytes = Array("version: 1\nproject: é".utf8)
    bytes.append(0xFF)
    do {
      _ = try Manifest.decode(bytes, file: "coffer.yaml")
      Issue.record("expected an error")
    } catch {
      #expect(error.description == "coffer.yaml:2:11: the file is not valid UTF-8")
    }
    #expect(
      failure("\u{FEFF}version: 1\nproject: p\nenvironments: [dev]\n")
        == "coffer.yaml:1:1: the file starts with a byte order mark (U+FEFF); save it as UTF-8 without one")
    #expect(
      failure("version: 1\nproject: a\u{7}b\n")
        == "coffer.yaml:2:11: invalid YAML: control characters are not allowed")
  }
}

@Suite struct ManifestCRLFTests {
  @Test func duplicateKeyInCRLFFile() {
    #expect(
      failure("version: 1\r\nproject: p\r\nenvironments: [dev]\r\nsecrets:\r\n  A: {}\r\n  A: {}\r\n")
        == "coffer.yaml:6:3: secrets.A: duplicate key; first defined at line 5")
  }
}
