import CofferCore
import CofferDiscover
import CofferOperations
import CofferSystem

/// `coffer init --from FILE…`: reads existing templates and turns their variables into manifest declarations.
///
/// Compose files' `env_file:` entries are read too when they exist (relative to the compose file). Everything
/// printed names variables, files, lines and reasons, never a value.
struct TemplateImport {
  /// The declarations, in order of first appearance.
  let settings: [InferredSetting]
  /// Every file read, in order.
  let files: [String]

  /// Reads and infers; prints what was read on stderr.
  /// - Parameter valuesAreReal: the files hold real values (`setup-repo --source-env`), not a template's: then no
  ///   value at all becomes an `example:`, since the placeholder test is a guess and a miss would commit a secret.
  /// - Throws: ``SystemError`` for a file that cannot be read, `DotEnvError`/``DiscoverError`` for one that cannot be
  ///   parsed (exit 2, before anything is written).
  static func read(_ paths: [String], valuesAreReal: Bool = false) throws -> TemplateImport {
    var queue = paths
    var files: [String] = []
    var entries: [TemplateEntry] = []
    var index = 0
    while index < queue.count {
      let path = queue[index]
      index += 1
      if files.contains(path) { continue }
      files.append(path)
      let bytes = try Files.read(path)
      let kind = TemplateReader.kind(of: path, bytes: bytes)
      let scan = try TemplateReader.read(bytes, file: path, as: kind)
      let names = Swift.Set(scan.entries.map(\.name))
      ErrorRenderer.note("read \(path) (\(kind.rawValue)): \(names.count) variables")
      entries += scan.entries
      for envFile in scan.envFiles {
        let resolved = envFile.hasPrefix("/") ? envFile : Paths.join(Paths.parent(path), envFile)
        if Files.exists(resolved) {
          queue.append(resolved)
        } else {
          ErrorRenderer.warn("\(path) names env_file \(envFile), which does not exist; skipped")
        }
      }
    }
    var (settings, invalid) = SettingInference.infer(entries)
    for name in invalid {
      ErrorRenderer.warn("skipped: \(SecretName.message(for: name))")
      for hint in SecretName.hints(for: name) { ErrorRenderer.hint(hint) }
    }
    if valuesAreReal {
      for index in settings.indices {
        settings[index].spec.example = nil
        settings[index].exampleReason = "no example: the file holds real values"
      }
    }
    return TemplateImport(settings: settings, files: files)
  }

  /// The manifest text: a header comment, then the canonical YAML, validated by decoding it.
  /// - Throws: ``ManifestError`` if the result does not decode (a bug; nothing is written).
  func manifestText(project: String, environments: [String], recipientName: String, recipient: String) throws -> String {
    let manifest = SettingInference.manifest(
      settings, project: project, environments: environments,
      recipients: [ManifestRecipient(name: recipientName, recipient: recipient)])
    let text = """
      # Coffer manifest: every secret this project needs. Committed; holds no values.
      # Schema: docs/manifest.md
      # Built by `coffer init --from` from \(files.joined(separator: ", ")); review each entry.

      """ + manifest.encodedYAML()
    _ = try Manifest.decode(Array(text.utf8), file: Project.manifestName)
    return text
  }

  /// Prints each declaration and the reasons for it on stderr (names and reasons only).
  func report() {
    for setting in settings { ErrorRenderer.note("inferred \(setting.summary)") }
    let secrets = settings.filter(\.spec.isSecret).count
    ErrorRenderer.note("inferred \(settings.count) declarations: \(secrets) secrets, \(settings.count - secrets) plain settings")
  }
}
