/// The kinds of source `coffer discover` reads, and how a file's kind is chosen from its path (and, for files
/// without an extension, from a `#!` line).
public enum SourceLanguage: String, Sendable, Hashable, CaseIterable, Comparable {
  /// `.py`, `.pyw`; `#!…python`.
  case python
  /// `.js`, `.mjs`, `.cjs`, `.jsx`, `.vue`, `.svelte`, `.astro`; `#!…node`, `deno`, `bun`.
  case javascript
  /// `.ts`, `.tsx`, `.mts`, `.cts`.
  case typescript
  /// `.go`.
  case go
  /// `.rb`, `.rake`, `.gemspec`, `.ru`, `Gemfile`, `Rakefile`; `#!…ruby`.
  case ruby
  /// `.swift`.
  case swift
  /// `.rs`.
  case rust
  /// `.java`.
  case java
  /// `.kt`, `.kts`.
  case kotlin
  /// `.sh`, `.bash`, `.zsh`, `.ksh`; `#!…sh`, `bash`, `zsh`, `dash`, `ksh`, `ash`.
  case shell
  /// `Dockerfile`, `Containerfile`, `Dockerfile.*`, `Containerfile.*`, `*.dockerfile`, `*.Dockerfile`.
  case dockerfile
  /// `docker-compose*.yml`/`.yaml`, `compose.yml`/`.yaml`, `compose.*.yml`/`.yaml`, `compose-*.yml`/`.yaml`.
  case compose
  /// `.github/workflows/*.yml`/`.yaml`.
  case githubActions = "github-actions"

  /// Orders by declaration order.
  public static func < (lhs: SourceLanguage, rhs: SourceLanguage) -> Bool {
    allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
  }

  /// What a path alone says about a file.
  public enum Detection: Sendable, Equatable {
    /// The path decides the language.
    case language(SourceLanguage)
    /// The name has no extension: only a `#!` first line can tell (see ``detect(path:firstLine:)``).
    case needsShebang
    /// Not a kind of file discover reads.
    case unsupported
  }

  /// Chooses a language from a path, without reading the file.
  /// - Parameter path: a `/`-separated path (relative or absolute); only its last components are looked at.
  /// - Returns: the language, ``Detection/needsShebang`` for a name without extension, or
  ///   ``Detection/unsupported``.
  public static func detect(path: String) -> Detection {
    var trimmed = Substring(path)
    while trimmed.last == "/" { trimmed = trimmed.dropLast() }
    let name = String(trimmed[(trimmed.lastIndex(of: "/").map { trimmed.index(after: $0) } ?? trimmed.startIndex)...])
    guard !name.isEmpty else { return .unsupported }
    let lower = name.lowercased()
    let ext: String? = {
      guard let dot = lower.lastIndex(of: "."), dot != lower.startIndex else { return nil }
      return String(lower[lower.index(after: dot)...])
    }()
    if lower == "dockerfile" || lower == "containerfile" || lower.hasPrefix("dockerfile.")
      || lower.hasPrefix("containerfile.") || ext == "dockerfile"
    {
      return .language(.dockerfile)
    }
    if ext == "yml" || ext == "yaml" {
      let components = trimmed.split(separator: "/")
      if components.count >= 3, components[components.count - 2] == "workflows",
        components[components.count - 3] == ".github"
      {
        return .language(.githubActions)
      }
      if lower.hasPrefix("docker-compose") || lower.hasPrefix("compose.") || lower.hasPrefix("compose-") {
        return .language(.compose)
      }
      return .unsupported
    }
    if name == "Gemfile" || name == "Rakefile" { return .language(.ruby) }
    guard let ext else { return .needsShebang }
    switch ext {
    case "py", "pyw": return .language(.python)
    case "js", "mjs", "cjs", "jsx", "vue", "svelte", "astro": return .language(.javascript)
    case "ts", "tsx", "mts", "cts": return .language(.typescript)
    case "go": return .language(.go)
    case "rb", "rake", "gemspec", "ru": return .language(.ruby)
    case "swift": return .language(.swift)
    case "rs": return .language(.rust)
    case "java": return .language(.java)
    case "kt", "kts": return .language(.kotlin)
    case "sh", "bash", "zsh", "ksh": return .language(.shell)
    default: return .unsupported
    }
  }

  /// Chooses a language from a path and, when the path cannot tell, the file's first line.
  /// - Parameters:
  ///   - path: the file's path.
  ///   - firstLine: the file's first bytes (at least its first line), read only for names without an extension.
  /// - Returns: the language, or `nil` when discover does not read this file.
  public static func detect(path: String, firstLine: some Collection<UInt8>) -> SourceLanguage? {
    switch detect(path: path) {
    case .language(let language): return language
    case .unsupported: return nil
    case .needsShebang: return fromShebang(firstLine)
    }
  }

  /// The language a `#!` line names: the interpreter's name, or the first argument of `env` (`env -S` too).
  /// - Parameter bytes: the start of a file.
  /// - Returns: the language, or `nil` when there is no `#!` line or it names something else.
  public static func fromShebang(_ bytes: some Collection<UInt8>) -> SourceLanguage? {
    guard bytes.starts(with: [0x23, 0x21]) else { return nil }
    let line = String(decoding: bytes.dropFirst(2).prefix { $0 != 0x0A && $0 != 0x0D }, as: UTF8.self)
    var words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
    guard !words.isEmpty else { return nil }
    var interpreter = String(words.removeFirst().split(separator: "/").last ?? "")
    if interpreter == "env" {
      while let word = words.first, word.hasPrefix("-") || word.contains("=") { words.removeFirst() }
      guard let first = words.first else { return nil }
      interpreter = first
    }
    // Drop version suffixes: python3.12, ruby2.7.
    let base = String(interpreter.prefix { !$0.isNumber && $0 != "." })
    switch base {
    case "python", "pypy": return .python
    case "node", "nodejs", "deno", "bun": return .javascript
    case "ts-node", "tsx": return .typescript
    case "ruby": return .ruby
    case "sh", "bash", "zsh", "dash", "ksh", "ash", "mksh": return .shell
    default: return nil
    }
  }
}
