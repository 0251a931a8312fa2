import CofferCore
import CofferOperations
import CofferSystem

/// A command outcome that is not an error but must end with a given status (e.g. `check` finding problems).
struct Finish: Error {
  let status: Int32
}

/// Renders every error the CLI shows, in one place: `coffer: error: …` then `coffer: hint: …` lines, on stderr.
/// Invisible characters (U+FEFF, U+200B, controls, …) in any message are written out as `\u{FEFF}`
/// (``DisplayText/escaped(_:)``), so a name that holds one is seen as it is.
enum ErrorRenderer {
  static func render(_ error: any CofferError) {
    var text = "coffer: error: \(DisplayText.escaped(error.description))\n"
    for hint in error.hints { text += "coffer: hint: \(DisplayText.escaped(hint))\n" }
    Terminal.err(text)
  }

  static func warn(_ message: String) { Terminal.err("coffer: warning: \(DisplayText.escaped(message))\n") }

  static func hint(_ message: String) { Terminal.err("coffer: hint: \(DisplayText.escaped(message))\n") }

  static func note(_ message: String) { Terminal.err("coffer: \(DisplayText.escaped(message))\n") }

  /// Shows the operations' warnings and notes (``Notices``) on stderr, as this renderer's own.
  static func showNotices() {
    Notices.handler = { notice in
      switch notice {
      case .warning(let message): warn(message)
      case .note(let message): note(message)
      }
    }
  }
}
