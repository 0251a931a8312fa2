import CofferCore
import Testing

/// `run --watch`'s decisions (issue 15), event by event: debounce, restart once per change, grace then SIGKILL, one
/// warning for a vault that cannot be read, signals passed on, the child's last status.
@Suite struct WatchDecisionsTests {
  func machine(signal: Int32 = 15) -> WatchDecisions {
    WatchDecisions(restartSignal: signal, graceMilliseconds: 10_000, debounceMilliseconds: 250)
  }

  @Test func aChangeIsDebouncedThenRestartsOnceWithTheNewValues() {
    var m = machine()
    // Three changes in a row: each restarts the debounce timer; one read when it fires.
    for _ in 0..<3 { #expect(m.handle(.sourceChanged) == [.schedule(.debounce, milliseconds: 250)]) }
    #expect(m.handle(.timerFired(.debounce)) == [.reload])
    #expect(m.handle(.reloaded(.changed)) == [.restart(signal: 15), .schedule(.grace, milliseconds: 10_000)])
    #expect(m.phase == .restarting)
    // Another change while it exits: read, but no second restart signal.
    #expect(m.handle(.sourceChanged) == [.schedule(.debounce, milliseconds: 250)])
    #expect(m.handle(.timerFired(.debounce)) == [.reload])
    #expect(m.handle(.reloaded(.changed)) == [])
    #expect(m.handle(.childExited(143)) == [.cancel(.grace), .start])
    #expect(m.phase == .running)
  }

  @Test func sameValuesDoNotRestart() {
    var m = machine()
    _ = m.handle(.sourceChanged)
    #expect(m.handle(.timerFired(.debounce)) == [.reload])
    #expect(m.handle(.reloaded(.unchanged)) == [])
    #expect(m.phase == .running)
  }

  @Test func theRestartSignalIsTheOneAskedFor() {
    var m = machine(signal: 1)
    #expect(m.handle(.reloaded(.changed)) == [.restart(signal: 1), .schedule(.grace, milliseconds: 10_000)])
  }

  @Test func aCommandThatOutlivesTheGraceIsKilled() {
    var m = machine()
    _ = m.handle(.reloaded(.changed))
    #expect(m.handle(.timerFired(.grace)) == [.kill])
    #expect(m.handle(.childExited(137)) == [.cancel(.grace), .start])
    // A grace timer that fires while running (a stale deadline) does nothing.
    #expect(m.handle(.timerFired(.grace)) == [])
  }

  /// Mid-write, undecryptable, tampered: one warning until a read succeeds, and the command keeps running.
  @Test func anUnreadableVaultWarnsOnceAndKeepsTheCommand() {
    var m = machine()
    #expect(m.handle(.reloaded(.failed("bad MAC"))) == [.warn("bad MAC")])
    #expect(m.handle(.reloaded(.failed("truncated"))) == [])
    #expect(m.handle(.reloaded(.failed("bad MAC"))) == [])
    #expect(m.phase == .running)
    #expect(m.warned)
    // Readable again (the same values): no restart; the next failure warns again.
    #expect(m.handle(.reloaded(.unchanged)) == [])
    #expect(m.handle(.reloaded(.failed("bad MAC"))) == [.warn("bad MAC")])
    #expect(m.handle(.reloaded(.changed)) == [.restart(signal: 15), .schedule(.grace, milliseconds: 10_000)])
  }

  @Test func signalsArePassedOnAndAStopSignalEndsWatching() {
    var m = machine()
    // SIGUSR1 is passed on; nothing else changes.
    #expect(m.handle(.signal(10, fromTerminal: false)) == [.forward(10)])
    #expect(m.phase == .running)
    // SIGTERM is passed on and stops watching: no read, no restart; the command's exit is Coffer's.
    #expect(m.handle(.signal(15, fromTerminal: false)) == [.cancel(.debounce), .forward(15)])
    #expect(m.phase == .stopping)
    #expect(m.handle(.sourceChanged) == [])
    #expect(m.handle(.timerFired(.debounce)) == [])
    #expect(m.handle(.reloaded(.failed("x"))) == [])
    #expect(m.handle(.childExited(3)) == [.cancel(.debounce), .cancel(.grace), .exit(3)])
    #expect(m.phase == .exited)
    #expect(m.handle(.sourceChanged) == [])
  }

  /// Ctrl+C on a terminal reached the command already (same process group): not sent twice, and no restart.
  @Test func aTerminalSignalIsNotSentTwice() {
    var m = machine()
    _ = m.handle(.reloaded(.changed))
    #expect(m.handle(.signal(2, fromTerminal: true)) == [.cancel(.grace), .cancel(.debounce)])
    #expect(m.handle(.childExited(130)) == [.cancel(.debounce), .cancel(.grace), .exit(130)])
  }

  @Test func theCommandsOwnExitIsCoffers() {
    for status: Int32 in [0, 1, 7, 130, 255] {
      var m = machine()
      #expect(m.handle(.childExited(status)) == [.cancel(.debounce), .cancel(.grace), .exit(status)])
    }
  }

  @Test func restartSignalsAndDurationsParse() {
    #expect(WatchOptions.signal("TERM") == 15)
    #expect(WatchOptions.signal("SIGHUP") == 1)
    #expect(WatchOptions.signal("sigusr1") == 10)
    #expect(WatchOptions.signal("2") == 2)
    #expect(WatchOptions.signal("SIGSTOP") == nil)
    #expect(WatchOptions.signal("19") == nil)
    #expect(WatchOptions.signal("") == nil)
    #expect(WatchOptions.name(of: 15) == "SIGTERM")
    #expect(WatchOptions.milliseconds("10") == 10_000)
    #expect(WatchOptions.milliseconds("2.5") == 2_500)
    #expect(WatchOptions.milliseconds("10s") == 10_000)
    #expect(WatchOptions.milliseconds("500ms") == 500)
    #expect(WatchOptions.milliseconds("0") == 0)
    #expect(WatchOptions.milliseconds("-1") == nil)
    #expect(WatchOptions.milliseconds("1h") == nil)
    #expect(WatchOptions.milliseconds("3601") == nil)
    #expect(WatchOptions.milliseconds("s") == nil)
    #expect(WatchOptions.milliseconds("1e3") == nil)
  }
}
