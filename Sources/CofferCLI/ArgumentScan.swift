/// The hand scan behind the fast paths (`run`, `get`, `check`, `export`: docs/performance.md), which parse their
/// common invocations without ArgumentParser. Each fast parser accepts only forms whose meaning is certain and
/// returns nil for anything else (help, a misspelt flag, a missing value), which then goes through ArgumentParser
/// and its own messages.
struct ArgumentScan {
  let args: ArraySlice<String>
  /// The argument being looked at.
  var index: Int

  init(_ args: ArraySlice<String>) {
    self.args = args
    index = args.startIndex
  }

  var atEnd: Bool { index >= args.endIndex }
  var current: String { args[index] }

  /// Moves to the next argument.
  mutating func advance() { index += 1 }

  /// The value of the option at ``current`` if it is one of `flags`: `--flag=value` (long flags only) or
  /// `--flag value` (then the value is consumed). `.none` when ``current`` is none of them; `.some(nil)` when its
  /// value is missing or starts with `-` (ArgumentParser reports both).
  mutating func value(_ flags: String...) -> String?? {
    let arg = args[index]
    for flag in flags {
      if flag.hasPrefix("--"), arg.hasPrefix(flag + "=") { return .some(String(arg.dropFirst(flag.count + 1))) }
      guard arg == flag else { continue }
      index += 1
      guard index < args.endIndex, !args[index].hasPrefix("-") else { return .some(nil) }
      return .some(args[index])
    }
    return nil
  }

  /// `--env E` (`-e E`, `--env=E`) or `--project DIR` at ``current``, which every fast form takes: stores the value
  /// and returns true; false when ``current`` is neither; nil when its value is missing.
  mutating func environmentOrProject(env: inout String?, project: inout String?) -> Bool? {
    if let v = value("--env", "-e") {
      guard let v else { return nil }
      env = v
      return true
    }
    if let v = value("--project") {
      guard let v else { return nil }
      project = v
      return true
    }
    return false
  }
}
