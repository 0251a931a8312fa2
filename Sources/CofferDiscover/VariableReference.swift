/// One place where source code reads an environment variable.
public struct VariableReference: Sendable, Hashable, Comparable, CustomStringConvertible {
  /// The variable's name, matching `[A-Za-z_][A-Za-z0-9_]*`.
  public let name: String
  /// The 1-based line of the name's first character.
  public let line: Int
  /// The 1-based column of the name's first character, counted in Unicode scalars (as manifest errors count them).
  public let column: Int
  /// The language whose rules found it.
  public let language: SourceLanguage

  /// Creates a reference.
  /// - Parameters:
  ///   - name: the variable's name.
  ///   - line: the 1-based line.
  ///   - column: the 1-based column in Unicode scalars.
  ///   - language: the language whose rules found it.
  public init(name: String, line: Int, column: Int, language: SourceLanguage) {
    self.name = name
    self.line = line
    self.column = column
    self.language = language
  }

  /// Orders by line, then column, then name.
  public static func < (lhs: VariableReference, rhs: VariableReference) -> Bool {
    (lhs.line, lhs.column, lhs.name) < (rhs.line, rhs.column, rhs.name)
  }

  /// `NAME@line:column (language)`.
  public var description: String { "\(name)@\(line):\(column) (\(language.rawValue))" }
}

/// Names that are never reported: variables every shell, operating system or CI runner provides, and build
/// arguments Docker predefines. A secrets manifest has no business declaring them.
///
/// The list applies to every language (`os.environ["HOME"]` is not reported either). Any name starting with `LC_`
/// or `XDG_` is included too.
public enum SystemVariables {
  /// Shell and POSIX variables.
  public static let shell: Set<String> = [
    "HOME", "PATH", "PWD", "OLDPWD", "USER", "LOGNAME", "SHELL", "TERM", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TMP",
    "TEMP", "HOSTNAME", "HOSTTYPE", "OSTYPE", "MACHTYPE", "UID", "EUID", "GID", "PPID", "BASHPID", "RANDOM",
    "SRANDOM", "SECONDS", "LINENO", "FUNCNAME", "BASH", "BASH_SOURCE", "BASH_LINENO", "BASH_VERSION",
    "BASH_VERSINFO", "BASH_REMATCH", "BASH_ARGV", "BASH_ARGC", "BASH_COMMAND", "BASH_SUBSHELL", "BASHOPTS",
    "SHELLOPTS", "ZSH_VERSION", "ZSH_NAME", "IFS", "PS1", "PS2", "PS3", "PS4", "OPTARG", "OPTIND", "OPTERR",
    "REPLY", "PIPESTATUS", "COLUMNS", "LINES", "SHLVL", "EDITOR", "VISUAL", "PAGER", "DISPLAY", "MAIL", "MAILPATH",
    "CDPATH", "HISTFILE", "HISTSIZE", "HISTFILESIZE", "HISTCONTROL", "PROMPT_COMMAND", "TERM_PROGRAM",
    "COLORTERM", "NO_COLOR", "SSH_AUTH_SOCK", "SSH_AGENT_PID", "SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY",
    "DBUS_SESSION_BUS_ADDRESS", "_",
  ]

  /// Variables CI runners set (GitHub Actions defaults and the generic `CI`).
  public static let ci: Set<String> = [
    "CI", "GITHUB_ACTIONS", "GITHUB_WORKSPACE", "GITHUB_SHA", "GITHUB_REF", "GITHUB_REF_NAME", "GITHUB_REF_TYPE",
    "GITHUB_HEAD_REF", "GITHUB_BASE_REF", "GITHUB_EVENT_NAME", "GITHUB_EVENT_PATH", "GITHUB_OUTPUT", "GITHUB_ENV",
    "GITHUB_PATH", "GITHUB_STATE", "GITHUB_STEP_SUMMARY", "GITHUB_RUN_ID", "GITHUB_RUN_NUMBER",
    "GITHUB_RUN_ATTEMPT", "GITHUB_REPOSITORY", "GITHUB_REPOSITORY_OWNER", "GITHUB_SERVER_URL", "GITHUB_API_URL",
    "GITHUB_GRAPHQL_URL", "GITHUB_ACTOR", "GITHUB_TRIGGERING_ACTOR", "GITHUB_JOB", "GITHUB_ACTION",
    "GITHUB_ACTION_PATH", "GITHUB_WORKFLOW", "RUNNER_OS", "RUNNER_ARCH", "RUNNER_NAME", "RUNNER_TEMP",
    "RUNNER_TOOL_CACHE", "RUNNER_DEBUG",
  ]

  /// Build arguments Docker predefines (https://docs.docker.com/reference/dockerfile/#predefined-args and
  /// #automatic-platform-args-in-the-global-scope).
  public static let docker: Set<String> = [
    "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy", "NO_PROXY", "no_proxy",
    "ALL_PROXY", "all_proxy", "TARGETPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT", "BUILDPLATFORM",
    "BUILDOS", "BUILDARCH", "BUILDVARIANT", "BUILDKIT_INLINE_CACHE", "BUILDKIT_SYNTAX",
  ]

  /// Whether a name is never reported.
  /// - Parameter name: a variable name.
  /// - Returns: `true` for the names listed in ``shell``, ``ci`` and ``docker``, and names starting with `LC_` or
  ///   `XDG_`.
  public static func isSystem(_ name: String) -> Bool {
    shell.contains(name) || ci.contains(name) || docker.contains(name) || name.hasPrefix("LC_")
      || name.hasPrefix("XDG_")
  }
}
