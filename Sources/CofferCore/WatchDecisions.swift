/// What `coffer run --watch` does next (docs/run.md, "Watching"): the pure half of the supervisor. Events go in,
/// actions come out; the processes, signals, timers and file watching are `WatchedRun`'s (CofferSystem).
///
/// - A change of the watched source is debounced: each change (re)starts the debounce timer; when it fires the
///   values are read again.
/// - Values that differ from the ones the command has: the command gets the restart signal, and the grace timer
///   starts; when it fires the command is killed (SIGKILL). When the command has exited it is started again with
///   the newest values.
/// - Values that cannot be read (a vault mid-write, undecryptable or tampered): the command keeps running with the
///   values it has, and one warning is printed (no other until a read succeeds again).
/// - A signal sent to Coffer is passed on to the command (one a terminal sent to the whole process group already
///   reached it, and is not sent twice). After SIGINT, SIGTERM, SIGHUP or SIGQUIT no restart is made: when the
///   command exits, Coffer exits.
/// - When the command exits other than for a restart, Coffer exits with its status.
public struct WatchDecisions: Sendable, Equatable {
  /// The two timers the supervisor keeps.
  public enum Timer: Sendable, Equatable {
    /// Quiet time after a change before the values are read.
    case debounce
    /// How long the command may take to exit after the restart signal.
    case grace
  }

  /// The outcome of reading the values again.
  public enum Reload: Sendable, Equatable {
    /// They differ from the values the command has (or is about to get).
    case changed
    /// They are the same.
    case unchanged
    /// They cannot be read; the message says why (never a value).
    case failed(String)
  }

  /// What happened.
  public enum Event: Sendable, Equatable {
    /// The watched vault (or store) may have changed.
    case sourceChanged
    /// A timer ran out.
    case timerFired(Timer)
    /// The values were read again (after ``Action/reload``).
    case reloaded(Reload)
    /// Coffer received a signal; `fromTerminal` when a terminal sent it to the whole foreground process group (the
    /// command received it too).
    case signal(Int32, fromTerminal: Bool)
    /// The command exited with this status (128 + N when signal N ended it).
    case childExited(Int32)
  }

  /// What to do, in order.
  public enum Action: Sendable, Equatable {
    /// Start (or restart) the timer.
    case schedule(Timer, milliseconds: Int)
    /// Stop the timer.
    case cancel(Timer)
    /// Read the values again and report ``Event/reloaded(_:)``.
    case reload
    /// Send the restart signal to the command, saying why on stderr.
    case restart(signal: Int32)
    /// Pass a signal Coffer received on to the command.
    case forward(Int32)
    /// SIGKILL the command: it outlived the grace period.
    case kill
    /// Start the command with the newest values.
    case start
    /// Print this warning.
    case warn(String)
    /// Exit with this status.
    case exit(Int32)
  }

  /// Where the supervisor is.
  public enum Phase: Sendable, Equatable {
    /// The command runs with the newest values read.
    case running
    /// The restart signal was sent; waiting for the command to exit.
    case restarting
    /// Coffer passed on a signal that stops it: when the command exits, Coffer exits.
    case stopping
    /// Done.
    case exited
  }

  /// The signal that asks the command to exit for a restart (`--restart-signal`, default SIGTERM).
  public let restartSignal: Int32
  /// `--grace`, in milliseconds.
  public let graceMilliseconds: Int
  /// The debounce interval, in milliseconds.
  public let debounceMilliseconds: Int
  /// The current phase.
  public private(set) var phase: Phase = .running
  /// Whether a failed read was reported and no read has succeeded since.
  public private(set) var warned = false

  /// The signals after which a command's exit ends Coffer instead of leading to a restart.
  public static let stopSignals: [Int32] = [2, 15, 1, 3]  // SIGINT, SIGTERM, SIGHUP, SIGQUIT

  /// The debounce interval `run --watch` uses (docs/run.md).
  public static let defaultDebounceMilliseconds = 250
  /// `--grace`'s default: 10 seconds.
  public static let defaultGraceMilliseconds = 10_000

  /// A supervisor whose command has just been started.
  /// - Parameters:
  ///   - restartSignal: the signal sent to ask the command to exit for a restart.
  ///   - graceMilliseconds: how long it may take before it is killed.
  ///   - debounceMilliseconds: quiet time after a change before the values are read.
  public init(restartSignal: Int32 = 15, graceMilliseconds: Int = defaultGraceMilliseconds, debounceMilliseconds: Int = defaultDebounceMilliseconds) {
    self.restartSignal = restartSignal
    self.graceMilliseconds = graceMilliseconds
    self.debounceMilliseconds = debounceMilliseconds
  }

  /// Takes an event and says what to do.
  /// - Parameter event: what happened.
  /// - Returns: the actions, in order; empty for none.
  public mutating func handle(_ event: Event) -> [Action] {
    if phase == .exited { return [] }
    switch event {
    case .sourceChanged:
      // Once stopping, the command is not started again: nothing to read.
      return phase == .stopping ? [] : [.schedule(.debounce, milliseconds: debounceMilliseconds)]
    case .timerFired(.debounce):
      return phase == .stopping ? [] : [.reload]
    case .timerFired(.grace):
      return phase == .restarting ? [.kill] : []
    case .reloaded(.failed(let message)):
      if warned || phase == .stopping { return [] }
      warned = true
      return [.warn(message)]
    case .reloaded(.unchanged):
      warned = false
      return []
    case .reloaded(.changed):
      warned = false
      guard phase == .running else { return [] }  // restarting: the newest values are the ones it will start with
      phase = .restarting
      return [.restart(signal: restartSignal), .schedule(.grace, milliseconds: graceMilliseconds)]
    case .signal(let sig, let fromTerminal):
      let stops = Self.stopSignals.contains(sig)
      var actions: [Action] = []
      if stops {
        if phase == .restarting { actions.append(.cancel(.grace)) }
        phase = .stopping
        actions.append(.cancel(.debounce))
      }
      if !fromTerminal { actions.append(.forward(sig)) }
      return actions
    case .childExited(let status):
      if phase == .restarting {
        phase = .running
        return [.cancel(.grace), .start]
      }
      phase = .exited
      return [.cancel(.debounce), .cancel(.grace), .exit(status)]
    }
  }
}

/// Parsing `run --watch`'s options.
public enum WatchOptions {
  /// The signals `--restart-signal` accepts, by name (without `SIG`), with their Linux numbers.
  public static let signals: [(name: String, number: Int32)] = [
    ("HUP", 1), ("INT", 2), ("QUIT", 3), ("KILL", 9), ("USR1", 10), ("USR2", 12), ("TERM", 15),
  ]

  /// A signal given as `TERM`, `SIGTERM`, `sigterm` or its number (one of ``signals``).
  /// - Parameter text: the option's value.
  /// - Returns: the signal number, or nil when it is not one of ``signals``.
  public static func signal(_ text: String) -> Int32? {
    var name = text.uppercased()
    if name.hasPrefix("SIG") { name.removeFirst(3) }
    if let n = Int32(name) { return signals.contains { $0.number == n } ? n : nil }
    return signals.first { $0.name == name }?.number
  }

  /// The name of a signal number (`TERM`), or the number as text.
  public static func name(of number: Int32) -> String {
    signals.first { $0.number == number }.map { "SIG" + $0.name } ?? "signal \(number)"
  }

  /// A duration given as seconds (`10`, `2.5`, `10s`) or milliseconds (`500ms`), at most one hour.
  /// - Parameter text: the option's value.
  /// - Returns: milliseconds, or nil when it is not a duration.
  public static func milliseconds(_ text: String) -> Int? {
    var number = Substring(text)
    var scale = 1000.0
    if number.hasSuffix("ms") {
      number = number.dropLast(2)
      scale = 1
    } else if number.hasSuffix("s") {
      number = number.dropLast()
    }
    guard !number.isEmpty, number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }), let value = Double(number) else { return nil }
    let ms = value * scale
    guard ms >= 0, ms <= 3_600_000 else { return nil }
    return Int(ms.rounded())
  }
}
