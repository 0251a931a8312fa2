import Synchronization

#if canImport(Glibc)
  import CGlibc
  import Glibc
#endif

/// Runs the chunks of one job on the calling thread and, where another processor is free to take them, on one more
/// thread started for the job and joined before ``run(chunks:_:)`` returns.
///
/// Both threads take the next chunk from a shared counter, so a helper that starts late (or never) only takes fewer
/// chunks: the job never takes longer than on the calling thread alone by more than starting the helper. The helper
/// is a plain POSIX thread placed on a processor other than the caller's: Linux otherwise queues a new thread behind
/// its parent until the next balancing tick (up to 4 ms here), which is longer than the jobs this is for, and Dispatch's
/// `concurrentPerform` started its worker as late (docs/performance.md). On a platform without these calls the
/// calling thread does every chunk.
enum ParallelParts {
  /// Runs `body(0)`, `body(1)`, … `body(chunks - 1)`, each exactly once, on this thread and possibly one helper, and
  /// returns when all have returned.
  /// - Parameters:
  ///   - chunks: how many chunks (0 or more).
  ///   - body: one chunk's work; it must touch only what that chunk owns.
  static func run(chunks: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let job = Job(chunks: chunks, body: body)
    #if canImport(Glibc)
      var helper = pthread_t()
      let started = chunks > 1 && startHelper(&helper, job)
      job.work()
      if started { pthread_join(helper, nil) }
    #else
      job.work()
    #endif
  }

  /// The chunks and the counter the threads share.
  private final class Job: Sendable {
    let chunks: Int
    let body: @Sendable (Int) -> Void
    let next = Atomic<Int>(0)

    init(chunks: Int, body: @escaping @Sendable (Int) -> Void) {
      self.chunks = chunks
      self.body = body
    }

    /// Takes chunks until none is left.
    func work() {
      while true {
        let chunk = next.wrappingAdd(1, ordering: .relaxed).oldValue
        guard chunk < chunks else { return }
        body(chunk)
      }
    }
  }

  #if canImport(Glibc)
    /// Starts a thread running `job.work()` on a processor this process may use other than the current one.
    /// - Returns: false when there is no such processor or the thread cannot be started.
    private static func startHelper(_ thread: inout pthread_t, _ job: Job) -> Bool {
      var others = cpu_set_t()
      guard sched_getaffinity(0, MemoryLayout<cpu_set_t>.size, &others) == 0 else { return false }
      let current = Int(sched_getcpu())
      let available = withUnsafeMutableBytes(of: &others) { bits -> Int in
        if current >= 0, current < bits.count * 8 { bits[current / 8] &= ~(UInt8(1) << UInt8(current % 8)) }
        return bits.reduce(0) { $0 + $1.nonzeroBitCount }
      }
      guard available > 0 else { return false }
      var attributes = pthread_attr_t()
      guard pthread_attr_init(&attributes) == 0 else { return false }
      defer { pthread_attr_destroy(&attributes) }
      guard pthread_attr_setaffinity_np(&attributes, MemoryLayout<cpu_set_t>.size, &others) == 0 else { return false }
      let context = Unmanaged.passRetained(job)
      let rc = pthread_create(&thread, &attributes, { context in
        Unmanaged<Job>.fromOpaque(context!).takeRetainedValue().work()
        return nil
      }, context.toOpaque())
      if rc != 0 { context.release() }
      return rc == 0
    }
  #endif
}
