/// Where the operations' warnings and notes go. The library never prints: a caller that shows them (the CLI, on
/// stderr as `coffer: warning: …`) sets ``handler`` once, before the first operation; by default they are dropped.
/// They name files, secrets and environments, never a value.
package enum Notices {
  /// One message for the user.
  package enum Notice: Sendable, Equatable {
    /// Something the user should act on (`coffer: warning: …` in the CLI).
    case warning(String)
    /// Information (`coffer: …` in the CLI).
    case note(String)
  }

  /// Receives every notice; set once at start-up (not thread-safe to change while operations run).
  nonisolated(unsafe) package static var handler: @Sendable (Notice) -> Void = { _ in }

  package static func warn(_ message: String) { handler(.warning(message)) }

  package static func note(_ message: String) { handler(.note(message)) }
}
