import CofferCore
import Testing

/// Progress of long work (issue 15): what is printed and when, with the clock given as numbers (no waiting).
@Suite struct ProgressMeterTests {
  static let erase = "\r\u{1B}[K"

  @Test func onATerminalOneLineIsRedrawnWithCountsAndRateThenErased() {
    var m = ProgressMeter(label: "org check", unit: "repositories", total: 4, terminal: true, now: 1000)
    #expect(m.start(now: 1000) == Self.erase + "coffer: org check: 0/4 repositories")
    #expect(m.advance(now: 1500) == Self.erase + "coffer: org check: 1/4 repositories (2.0/s)")
    // Within 100 ms of the last draw: nothing.
    #expect(m.advance(now: 1550) == nil)
    #expect(m.advance(now: 1600) == Self.erase + "coffer: org check: 3/4 repositories (5.0/s)")
    // The last one is always drawn.
    #expect(m.advance(now: 1610) == Self.erase + "coffer: org check: 4/4 repositories (6.5/s)")
    #expect(m.finish(now: 1700) == Self.erase)
    #expect(m.finish(now: 1800) == nil)
  }

  @Test func aNoteGoesAboveTheLine() {
    var m = ProgressMeter(label: "sync gh", unit: "items", total: 2, terminal: true, now: 0)
    _ = m.start(now: 0)
    #expect(m.advance(now: 10, note: "coffer: gh: [1/2] FAILED A: 500") == Self.erase + "coffer: gh: [1/2] FAILED A: 500\n" + Self.erase + "coffer: sync gh: 1/2 items (100.0/s)")
  }

  @Test func withoutATerminalShortWorkPrintsNothing() {
    var m = ProgressMeter(label: "scan --history", unit: "blobs", total: nil, terminal: false, now: 0)
    #expect(m.start(now: 0) == nil)
    #expect(m.setTotal(3, now: 0) == nil)
    for t: Int64 in [10, 20, 4999] { #expect(m.advance(now: t) == nil) }
    #expect(m.finish(now: 5000) == nil)
  }

  @Test func withoutATerminalLongWorkPrintsAPlainLineEveryFiveSeconds() {
    var m = ProgressMeter(label: "scan --history", unit: "blobs", total: 100, terminal: false, now: 0)
    #expect(m.advance(by: 10, now: 4000) == nil)
    #expect(m.advance(by: 10, now: 5000) == "coffer: scan --history: 20/100 blobs (4.0/s)\n")
    #expect(m.advance(by: 10, now: 9999) == nil)
    #expect(m.advance(by: 70, now: 10_000) == "coffer: scan --history: 100/100 blobs (10.0/s)\n")
    #expect(m.finish(now: 20_000) == "coffer: scan --history: 100/100 blobs (5.0/s)\n")
    // Notes (sync's per-item lines) are printed as they come.
    var n = ProgressMeter(label: "sync d", unit: "items", total: 1, terminal: false, now: 0)
    #expect(n.advance(now: 1, note: "coffer: d: [1/1] created A") == "coffer: d: [1/1] created A\n")
    #expect(n.finish(now: 2) == nil)
  }

  @Test func withoutATotalTheCountAlone() {
    let m = ProgressMeter(label: "pull x", unit: "values", total: nil, terminal: true, now: 0)
    #expect(m.text(now: 0) == "coffer: pull x: 0 values")
  }
}
