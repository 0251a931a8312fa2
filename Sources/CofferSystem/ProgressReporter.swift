import CofferCore
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// Progress of long work on stderr (`sync`, `pull`, `scan --history`, `org check`): a ``ProgressMeter`` with the
/// monotonic clock and stderr. On a terminal (stderr is one and `TERM` is not `dumb`) one line updated in place and
/// erased at the end; otherwise a plain line every 5 seconds. Nothing on stdout; never a value.
/// Safe to use from several threads.
package final class ProgressReporter: Sendable {
  private let meter: Mutex<ProgressMeter>

  /// Whether reports go to a terminal: stderr is one and `TERM` is not `dumb`.
  package static var stderrIsTerminal: Bool { isatty(2) == 1 && ProcessEnvironment.get("TERM") != "dumb" }

  /// Starts a report (drawn at once on a terminal).
  /// - Parameters:
  ///   - label: what is being done (`sync`).
  ///   - unit: what is counted, plural (`destinations`).
  ///   - total: how many items, when known.
  ///   - terminal: whether stderr is a terminal (default: ``stderrIsTerminal``).
  package init(_ label: String, unit: String, total: Int? = nil, terminal: Bool = ProgressReporter.stderrIsTerminal) {
    var meter = ProgressMeter(label: label, unit: unit, total: total, terminal: terminal, now: Self.now())
    let first = meter.start(now: Self.now())
    self.meter = Mutex(meter)
    if let first { Terminal.err(first) }
  }

  /// Sets the total once it is known.
  package func setTotal(_ total: Int) {
    if let text = meter.withLock({ $0.setTotal(total, now: Self.now()) }) { Terminal.err(text) }
  }

  /// Counts `count` more items done.
  /// - Parameters:
  ///   - count: how many.
  ///   - note: a line about them (never a value), printed above the progress line on a terminal, as it is
  ///     otherwise.
  package func advance(by count: Int = 1, note: String? = nil) {
    if let text = meter.withLock({ $0.advance(by: count, now: Self.now(), note: note) }) { Terminal.err(text) }
  }

  /// Whether the report goes to a terminal.
  package var terminal: Bool { meter.withLock { $0.terminal } }

  /// Ends the report (on a terminal, erases its line).
  package func finish() {
    if let text = meter.withLock({ $0.finish(now: Self.now()) }) { Terminal.err(text) }
  }

  static func now() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
  }
}
