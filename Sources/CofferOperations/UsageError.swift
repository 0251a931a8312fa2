import CofferCore

/// A usage or input error raised by an operation or a command itself (not by a lower module).
package struct UsageError: CofferError {
  package let description: String
  package var hints: [String] = []
  package var exitStatus: ExitStatus = .badInput

  package init(description: String, hints: [String] = [], exitStatus: ExitStatus = .badInput) {
    self.description = description
    self.hints = hints
    self.exitStatus = exitStatus
  }
}
