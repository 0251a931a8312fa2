import Foundation
import NIOCore
import NIOPosix

/// A task executor with its own thread, for the fake servers' request handling.
///
/// The fakes run in the test process, beside tests that hold the cooperative pool's threads (CPU-heavy scans,
/// synchronous waits for a child process). On a two-core machine two such tests used to starve the fakes' handlers
/// for longer than a client's timeout, so a test saw a time-out no real server would have caused. Handlers that
/// run here keep answering whatever the pool is doing; the operating system shares the CPU between threads fairly.
///
/// Jobs run one at a time, in the order they arrive. Handlers never block (latency and hangs suspend in
/// ``sleep(for:)``), so one thread serves every fake in the process.
final class FakeServerExecutor: TaskExecutor, @unchecked Sendable {
  /// The one executor the process's fakes share.
  static let shared = FakeServerExecutor()

  private let condition = NSCondition()
  private var pending: [UnownedJob] = []

  private init() {
    let thread = Thread { [unowned self] in self.runJobs() }
    thread.name = "coffer-fake-server"
    thread.start()
  }

  func enqueue(_ job: consuming ExecutorJob) {
    let job = UnownedJob(job)
    condition.lock()
    pending.append(job)
    condition.signal()
    condition.unlock()
  }

  private func runJobs() {
    while true {
      condition.lock()
      while pending.isEmpty { condition.wait() }
      let batch = pending
      pending.removeAll(keepingCapacity: true)
      condition.unlock()
      for job in batch { job.runSynchronously(on: asUnownedTaskExecutor()) }
    }
  }

  /// Suspends for `duration`, or until the task is cancelled.
  ///
  /// `Task.sleep` is no use here: its wake-up runs on the cooperative pool, the very thing that may be busy. This
  /// timer fires on a NIO event-loop thread, which resumes the task on its preferred executor directly.
  /// - Parameter duration: how long to wait.
  static func sleep(for duration: Duration) async {
    let (seconds, attoseconds) = duration.components
    let nanoseconds = seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    let timer = MultiThreadedEventLoopGroup.singleton.any().scheduleTask(in: .nanoseconds(nanoseconds)) {}
    await withTaskCancellationHandler {
      _ = try? await timer.futureResult.get()
    } onCancel: {
      timer.cancel()
    }
  }
}
