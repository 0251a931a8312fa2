import CofferSystem
import Foundation
import Testing

/// What `run --watch` watches (issue 15): inotify on the vault's directory, that name only; `stat` polling where
/// inotify is not available; a polled probe (the hook for `store:` environments). The kernel queues an inotify event
/// before the write returns, so each check right after a change is exact (no waiting).
@Suite struct WatchSourceTests {
  func directory() throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("coffer-watch-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
  }

  func write(_ path: String, _ text: String) throws { try Data(text.utf8).write(to: URL(fileURLWithPath: path)) }

  @Test func inotifySeesItsNameOnly() throws {
    let dir = try directory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let path = dir + "/production.vault"
    try write(path, "one")
    var source = FileWatchSource(path: path)
    var seen: [Bool] = []
    #expect(source.descriptor != nil)
    seen.append(source.check())
    // Another file in the directory (the audit log, another environment's vault): nothing.
    try write(dir + "/staging.vault", "x")
    try write(dir + "/audit.log", "y")
    seen.append(source.check())
    // Written in place; then replaced by a rename (as coffer writes); then removed.
    try write(path, "two")
    seen.append(source.check())
    seen.append(source.check())
    try write(dir + "/.production.vault.tmp", "three")
    #expect(rename(dir + "/.production.vault.tmp", path) == 0)
    seen.append(source.check())
    #expect(unlink(path) == 0)
    seen.append(source.check())
    seen.append(source.check())
    #expect(seen == [false, false, true, false, true, true, false])
  }

  @Test func withoutInotifyStatIsPolledEverySecond() throws {
    let dir = try directory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let path = dir + "/production.vault"
    try write(path, "one")
    var source = FileWatchSource(path: path, useInotify: false)
    var seen: [Bool] = []
    #expect(source.descriptor == nil)
    #expect(source.pollMilliseconds == 1000)
    seen.append(source.check())
    try write(dir + "/staging.vault", "x")
    seen.append(source.check())
    try write(path, "two!")  // another size
    seen.append(source.check())
    seen.append(source.check())
    try write(dir + "/new", "three")
    #expect(rename(dir + "/new", path) == 0)  // another inode
    seen.append(source.check())
    #expect(unlink(path) == 0)
    seen.append(source.check())
    seen.append(source.check())
    #expect(seen == [false, false, true, false, true, true, false])
  }

  @Test func aPolledProbeChangesWhenItsTokenDoes() {
    nonisolated(unsafe) var tokens: [[UInt8]?] = [[1], [1], nil, [2], [2]]
    var source = PollingWatchSource(pollMilliseconds: WatchedRun.storePollMilliseconds) { tokens.removeFirst() }
    var seen: [Bool] = []
    #expect(source.descriptor == nil)
    #expect(source.pollMilliseconds == 30_000)
    seen.append(source.check())  // [1] again
    seen.append(source.check())  // unknown: the last one stands
    seen.append(source.check())  // [2]
    seen.append(source.check())
    #expect(seen == [false, false, true, false])
  }
}
