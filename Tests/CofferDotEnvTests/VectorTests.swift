import CofferCore
import CofferDotEnv
import Foundation
import Testing

/// One case of /work/shared/corpora/dotenv/vectors.json.
struct Vector: Sendable, CustomTestStringConvertible {
  let id: String
  let input: [UInt8]
  /// The `compose-go` column: `nil` vars means an error.
  let composeVars: [String: [UInt8]]?
  var testDescription: String { id }
}

/// What Coffer must read from a case.
enum Expected: Equatable {
  /// These exact variables (name → bytes).
  case vars([String: [UInt8]])
  /// An error on this 1-based line whose message names each of `names`.
  case error(line: Int, names: [String])
}

/// The corpus, loaded at test time from `../shared/corpora/dotenv/vectors.json` beside the package root.
enum Corpus {
  static let url = Support.packageRoot.deletingLastPathComponent()
    .appendingPathComponent("shared/corpora/dotenv/vectors.json")

  static let vectors: [Vector] = load()

  static func load() -> [Vector] {
    guard let data = try? Data(contentsOf: url),
      let cases = (try? JSONSerialization.jsonObject(with: data)) as? [[String: Any]]
    else { return [] }
    return cases.compactMap { item -> Vector? in
      guard let id = item["id"] as? String,
        let expect = item["expect"] as? [String: Any],
        let compose = expect["compose-go"] as? [String: Any]
      else { return nil }
      let input: [UInt8]
      if let hex = item["input_hex"] as? String {
        input = Support.hex(hex)
      } else if let text = item["input"] as? String {
        input = Array(text.utf8)
      } else {
        return nil
      }
      var vars: [String: [UInt8]]?
      if let raw = compose["vars"] as? [String: Any] {
        var decoded: [String: [UInt8]] = [:]
        for (name, value) in raw {
          if let text = value as? String {
            decoded[name] = Array(text.utf8)
          } else if let object = value as? [String: Any], let hex = object["bytes_hex"] as? String {
            decoded[name] = Support.hex(hex)
          }
        }
        vars = decoded
      }
      return Vector(id: id, input: input, composeVars: vars)
    }
  }

  /// The README's table: cases whose expected result differs from compose-go.
  static let exceptions: [String: Expected] = [
    "comment_inline_tab": .vars(["A": Array("value".utf8)]),
    "non_utf8_latin1": .error(line: 1, names: []),
    "cr_only": .error(line: 1, names: []),
    "key_leading_digit": .error(line: 1, names: ["1A"]),
    "key_non_ascii": .error(line: 1, names: []),
    "key_brackets": .error(line: 1, names: ["A[0]"]),
    "key_only_then_assignment": .error(line: 1, names: []),
    "key_colon_no_space": .error(line: 1, names: []),
    "export_undefined_no_value": .error(line: 1, names: ["B"]),
    "single_escaped_quote": .error(line: 1, names: ["A"]),
    "double_escape_octal": .vars(["A": Array(#"\0101"#.utf8)]),
    "double_escape_bell_vt": .vars(["A": Array(#"x\ay\vz"#.utf8)]),
    "double_then_garbage": .error(line: 1, names: ["A"]),
    "exp_forward_reference": .error(line: 1, names: ["B", "column 3"]),
    "exp_self_reference": .error(line: 1, names: ["A"]),
    "exp_unbraced_greedy_name": .error(line: 2, names: ["B", "column 3"]),
    "exp_password_with_dollar": .error(line: 2, names: ["P2", "column 6"]),
    "exp_required_colon_question": .error(line: 1, names: ["B", "column 3"]),
    "backtick_multiline": .error(line: 2, names: []),
    "garbage_line_between": .error(line: 2, names: []),
  ]

  /// Cases where compose-go itself errors: they stay errors, on these lines (an unterminated quote is reported
  /// on the line where it opened, where compose-go names the end of the file).
  static let composeErrorLines: [String: Expected] = [
    // `$` may belong to a pasted value, so a key containing it is not echoed (only name-like keys are).
    "key_invalid_char": .error(line: 1, names: []),
    "key_single_quoted": .error(line: 1, names: []),
    "exp_dotted_name": .error(line: 2, names: ["C"]),
    "unterminated_double": .error(line: 1, names: ["A"]),
    "unterminated_double_eof": .error(line: 1, names: ["A"]),
  ]

  /// The lines of the warnings each case must produce; every other case produces none.
  static let warningLines: [String: [Int]] = [
    "dup_last_wins": [2],
    "dup_reference_previous": [2],
    "exp_command_substitution": [1],
  ]

  /// Text after a `$` that an error must not quote: it may be part of a password (issue 11, kind 3). Errors name
  /// the key and the column of the `$` instead.
  static let unquoted: [String: [String]] = [
    "exp_unbraced_greedy_name": ["A_x"], "exp_password_with_dollar": ["cd"],
    "exp_required_colon_question": ["NOPE", "must be set"],
  ]

  static func expected(for vector: Vector) -> Expected? {
    if let exception = exceptions[vector.id] { return exception }
    if let vars = vector.composeVars { return .vars(vars) }
    return composeErrorLines[vector.id]
  }
}

@Suite("dotenv compatibility vectors")
struct VectorTests {
  @Test func corpusIsComplete() {
    #expect(Corpus.vectors.count == 110, "could not load \(Corpus.url.path)")
    let ids = Set(Corpus.vectors.map(\.id))
    #expect(ids.count == 110)
    for id in Corpus.exceptions.keys { #expect(ids.contains(id), "exception \(id) is not in the corpus") }
    for id in Corpus.composeErrorLines.keys { #expect(ids.contains(id), "\(id) is not in the corpus") }
    for id in Corpus.warningLines.keys { #expect(ids.contains(id), "\(id) is not in the corpus") }
  }

  @Test(arguments: Corpus.vectors)
  func vector(_ vector: Vector) throws {
    let expected = try #require(Corpus.expected(for: vector), "\(vector.id): no expected result")
    let outcome: Result<DotEnvParseResult, DotEnvError> = Result { () throws(DotEnvError) in
      try DotEnvParser.parse(vector.input, file: "vec.env")
    }
    switch (expected, outcome) {
    case (.vars(let vars), .success(let result)):
      let actual = Support.bytesByName(result.document)
      #expect(actual == vars, "\(vector.id): vars differ")
      #expect(Set(result.document.names) == Set(vars.keys), "\(vector.id): names differ")
      #expect(
        result.warnings.map(\.line) == Corpus.warningLines[vector.id] ?? [],
        "\(vector.id): warnings \(result.warnings)")
      // Lossless: an untouched document serializes to the exact input.
      #expect(DotEnvSerializer.serialize(result.document) == vector.input, "\(vector.id): not lossless")
    case (.error(let line, let names), .failure(let error)):
      #expect(error.line == line, "\(vector.id): \(error)")
      #expect(error.file == "vec.env")
      #expect(error.description.hasPrefix("vec.env:\(line): "), "\(vector.id): \(error)")
      #expect(error.exitStatus == .badInput)
      for name in names {
        #expect(error.message.contains(name), "\(vector.id): \(error) should name \(name)")
      }
      for text in Corpus.unquoted[vector.id] ?? [] {
        #expect(!error.description.contains(text), "\(vector.id): \(error) quotes value text")
      }
    case (.vars, .failure(let error)):
      Issue.record("\(vector.id): expected vars, got error \(error)")
    case (.error(let line, _), .success):
      Issue.record("\(vector.id): expected an error on line \(line), but it parsed")
    }
  }
}
