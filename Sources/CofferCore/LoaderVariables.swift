/// Environment variables that change how programs load or run: the deny-list `coffer run` applies (docs/run.md).
///
/// A value under one of these names does not configure the program; it chooses which code runs (`BASH_ENV`,
/// `LD_PRELOAD`, `NODE_OPTIONS=--require …`, `GIT_SSH_COMMAND`, a `PATH` or `HOME` pointing into a checkout). Anyone
/// who can write one such value into a vault could run code, with every other secret in its environment, wherever
/// `coffer run` starts a program. So `run` injects a loader variable only when the manifest declares it with
/// `allow_loader_variable: true`; matching ignores case (no program needs a lower-case twin of these names, and
/// some read them case-insensitively on other systems).
public enum LoaderVariables {
  /// Exact names (upper case).
  public static let names: Set<String> = [
    // Shells
    "BASH_ENV", "ENV", "ZDOTDIR", "SHELLOPTS", "BASHOPTS", "PS4", "PROMPT_COMMAND", "IFS", "CDPATH", "GLOBIGNORE",
    "INPUTRC", "SHELL",
    // Where programs and their configuration are found
    "PATH", "HOME", "XDG_CONFIG_HOME",
    // Dynamic loader and C library
    "GCONV_PATH", "GLIBC_TUNABLES", "LOCPATH", "NLSPATH", "HOSTALIASES", "RESOLV_HOST_CONF",
    // Interpreters and runtimes
    "NODE_OPTIONS", "NODE_PATH", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE", "PYTHONINSPECT",
    "PYTHONBREAKPOINT", "PERL5OPT", "PERL5LIB", "PERLLIB", "PERL5DB", "RUBYOPT", "RUBYLIB", "JAVA_TOOL_OPTIONS",
    "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS", "CLASSPATH", "DOTNET_STARTUP_HOOKS", "PHPRC", "PHP_INI_SCAN_DIR",
    "LUA_INIT", "LUA_PATH", "LUA_CPATH", "TCLLIBPATH", "R_PROFILE", "R_PROFILE_USER", "GEM_HOME", "GEM_PATH",
    "BUNDLE_GEMFILE",
    // Programs that run other programs named by a variable
    "EDITOR", "VISUAL", "PAGER", "MANPAGER", "LESSOPEN", "LESSCLOSE", "BROWSER", "SSH_ASKPASS", "SUDO_ASKPASS",
  ]

  /// Name prefixes (upper case): every variable starting with one is a loader variable.
  public static let prefixes: [String] = [
    "LD_", "DYLD_", "GIT_", "MALLOC_", "BASH_FUNC_", "NPM_CONFIG_", "CORECLR_", "COR_",
  ]

  /// Whether `name` changes how programs load or run.
  /// - Parameter name: an environment variable name.
  public static func contains(_ name: String) -> Bool {
    // `run` asks for every secret, so the common case (upper-case ASCII, not listed) costs one pass over the bytes:
    // no `uppercased()` (an allocation), no set lookup for a name whose length, first and last characters no listed
    // name has, no prefix comparison for a first character no prefix has.
    var copy = name
    let plain: Bool? = copy.withUTF8 { u in
      guard let first = u.first, let last = u.last else { return false }
      for b in u where (b >= 0x61 && b <= 0x7A) || b >= 0x80 { return nil }
      if nameFilter[filterSlot(first, last, u.count)], names.contains(name) { return true }
      guard prefixFirstBytes.contains(first) else { return false }
      return prefixBytes.contains { p in u.count >= p.count && u[0..<p.count].elementsEqual(p) }
    }
    if let plain { return plain }
    let upper = name.uppercased()
    return names.contains(upper) || prefixes.contains { upper.hasPrefix($0) }
  }

  private static let prefixBytes: [[UInt8]] = prefixes.map { Array($0.utf8) }
  private static let prefixFirstBytes: [UInt8] = prefixBytes.map { $0[0] }

  private static func filterSlot(_ first: UInt8, _ last: UInt8, _ count: Int) -> Int {
    (Int(first) &* 31 &+ Int(last) &* 7 &+ count) & 4095
  }

  /// A slot per (first character, last character, length) of the listed names: a name whose slot is empty is not
  /// listed.
  private static let nameFilter: [Bool] = {
    var filter = [Bool](repeating: false, count: 4096)
    for name in names {
      let u = Array(name.utf8)
      filter[filterSlot(u[0], u[u.count - 1], u.count)] = true
    }
    return filter
  }()
}

/// Which of an environment's secrets `coffer run` puts in the child's environment (docs/run.md).
///
/// By default only names the manifest declares, and among those a loader variable (``LoaderVariables``) only when
/// its declaration says `allow_loader_variable: true`. `includeUndeclared` adds the vault's undeclared names, but
/// never an undeclared loader variable. `selected`, when set, narrows the result further (`--only`, `--names`).
public struct InjectionRules: Sendable, Equatable {
  /// Why a name the vault holds is or is not injected.
  public enum Decision: Sendable, Equatable {
    /// Injected.
    case inject
    /// Injected although the manifest does not declare it (`--include-undeclared`).
    case injectUndeclared
    /// Left out: the manifest does not declare it.
    case undeclared
    /// Left out: a loader variable not declared with `allow_loader_variable: true`.
    case loader
    /// Left out: not among the selected names.
    case notSelected
  }

  /// The names the manifest declares.
  public var declared: Set<String>
  /// The declared names marked `allow_loader_variable: true`.
  public var allowedLoaderVariables: Set<String>
  /// Whether undeclared names are injected too.
  public var includeUndeclared: Bool
  /// When set, only these names are injected.
  public var selected: Set<String>?

  /// - Parameters:
  ///   - declared: the names the manifest declares.
  ///   - allowedLoaderVariables: the declared names marked `allow_loader_variable: true`.
  ///   - includeUndeclared: whether undeclared (non-loader) names are injected too.
  ///   - selected: when set, only these names are injected.
  public init(declared: Set<String>, allowedLoaderVariables: Set<String>, includeUndeclared: Bool = false, selected: Set<String>? = nil) {
    self.declared = declared
    self.allowedLoaderVariables = allowedLoaderVariables
    self.includeUndeclared = includeUndeclared
    self.selected = selected
  }

  /// The rules for a manifest.
  /// - Parameters:
  ///   - manifest: the (merged) manifest.
  ///   - includeUndeclared: whether undeclared names are injected too.
  ///   - selected: when set, only these names are injected.
  public init(_ manifest: Manifest, includeUndeclared: Bool = false, selected: Set<String>? = nil) {
    self.init(
      declared: Set(manifest.secrets.map(\.name)),
      allowedLoaderVariables: Set(manifest.secrets.filter(\.allowLoaderVariable).map(\.name)),
      includeUndeclared: includeUndeclared, selected: selected)
  }

  /// The decision for one name the vault holds.
  /// - Parameter name: the name.
  /// - Returns: whether it is injected, and if not, why.
  public func decide(_ name: String) -> Decision { decide(name, isDeclared: declared.contains(name)) }

  /// The decision for one name the vault holds, when the caller already knows whether the manifest declares it
  /// (`run` walks the vault's sorted names beside the sorted declared ones instead of hashing each; ``declared`` is
  /// not consulted).
  /// - Parameters:
  ///   - name: the name.
  ///   - isDeclared: whether the manifest declares it.
  /// - Returns: whether it is injected, and if not, why.
  public func decide(_ name: String, isDeclared: Bool) -> Decision {
    if let selected, !selected.contains(name) { return .notSelected }
    if isDeclared {
      if !LoaderVariables.contains(name) || allowedLoaderVariables.contains(name) { return .inject }
      return .loader
    }
    if LoaderVariables.contains(name) { return .loader }
    return includeUndeclared ? .injectUndeclared : .undeclared
  }
}
