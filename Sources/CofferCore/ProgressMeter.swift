/// What a progress report for long work prints, and when (docs/architecture.md, "Progress"): pure; the clock and
/// stderr are `ProgressReporter`'s (CofferSystem).
///
/// - On a terminal: one line, redrawn in place (`\r`, erase to end of line) at the start, at most every
///   ``redrawMilliseconds`` and when the last item is done, with counts and rate: `coffer: sync: 3/10 destinations
///   (2.5/s)`. ``finish(now:)`` erases it, so what the command prints afterwards is as it was.
/// - Not on a terminal: a plain line every ``plainLineMilliseconds`` (so short work prints nothing), and a last
///   one at the end when any was printed.
///
/// A report holds counts, fixed words and names (of destinations, of secrets in a note): never a value.
public struct ProgressMeter: Sendable, Equatable {
  /// How often the terminal line is redrawn at most: 100 ms.
  public static let redrawMilliseconds: Int64 = 100
  /// How often a plain line is printed when stderr is not a terminal: every 5 seconds.
  public static let plainLineMilliseconds: Int64 = 5000

  /// What is being done (`sync`, `scan --history`).
  public let label: String
  /// What is counted (`destinations`, `blobs`), plural.
  public let unit: String
  /// Whether stderr is a terminal.
  public let terminal: Bool
  /// How many items there are, when known.
  public private(set) var total: Int?
  /// How many are done.
  public private(set) var done = 0
  let started: Int64
  var lastDrawn: Int64?
  var printedPlain = false

  /// - Parameters:
  ///   - label: what is being done.
  ///   - unit: what is counted, plural.
  ///   - total: how many items, when known.
  ///   - terminal: whether the report goes to a terminal.
  ///   - now: the monotonic clock, in milliseconds.
  public init(label: String, unit: String, total: Int?, terminal: Bool, now: Int64) {
    self.label = label
    self.unit = unit
    self.total = total
    self.terminal = terminal
    started = now
  }

  /// The first draw (on a terminal), or nil.
  public mutating func start(now: Int64) -> String? {
    guard terminal else { return nil }
    lastDrawn = now
    return "\r\u{1B}[K" + text(now: now)
  }

  /// Sets the total once it is known.
  public mutating func setTotal(_ total: Int, now: Int64) -> String? {
    self.total = total
    return terminal ? redraw(now: now, force: true) : nil
  }

  /// Counts `count` more items done.
  /// - Parameters:
  ///   - count: how many.
  ///   - now: the monotonic clock, in milliseconds.
  ///   - note: a line to print about them (without newline; never a value): on a terminal above the progress line,
  ///     which is then drawn again.
  /// - Returns: what to print now, or nil.
  public mutating func advance(by count: Int = 1, now: Int64, note: String? = nil) -> String? {
    done += count
    if terminal {
      guard let note else { return redraw(now: now, force: total == done) }
      return "\r\u{1B}[K" + note + "\n" + (redraw(now: now, force: true) ?? "")
    }
    let line = note.map { $0 + "\n" } ?? ""
    guard now - (lastDrawn ?? started) >= Self.plainLineMilliseconds else { return line.isEmpty ? nil : line }
    lastDrawn = now
    printedPlain = true
    return line + text(now: now) + "\n"
  }

  /// The end: on a terminal, the line erased; otherwise a last plain line when any was printed.
  /// Printing nothing the second time.
  public mutating func finish(now: Int64) -> String? {
    defer {
      lastDrawn = nil
      printedPlain = false
    }
    if terminal { return lastDrawn == nil ? nil : "\r\u{1B}[K" }
    return printedPlain ? text(now: now) + "\n" : nil
  }

  mutating func redraw(now: Int64, force: Bool) -> String? {
    if !force, let last = lastDrawn, now - last < Self.redrawMilliseconds { return nil }
    lastDrawn = now
    return "\r\u{1B}[K" + text(now: now)
  }

  /// `coffer: LABEL: DONE/TOTAL UNIT (RATE/s)`; without a total, `DONE UNIT`; the rate once time has passed.
  public func text(now: Int64) -> String {
    var out = "coffer: \(label): " + (total.map { "\(done)/\($0)" } ?? "\(done)") + " \(unit)"
    let elapsed = now - started
    if done > 0, elapsed > 0 {
      let tenths = Int64(done) * 10_000 / elapsed  // items per second, in tenths
      out += " (\(tenths / 10).\(tenths % 10)/s)"
    }
    return out
  }
}
