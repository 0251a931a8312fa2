import Synchronization

#if os(Linux)
  import CGlibc
  import Glibc
#endif

/// Runs the chunks of one job on the calling thread and, where another processor is free to take them, on one more
/// thread started for the job and joined before ``run(chunks:_:)`` (or ``run(chunks:_:inOrder:)``) returns; or one
/// task on such a thread while the caller goes on (``start(_:)``), joined by ``Pending/finish()`` or
/// ``Pending/abandon()``.
///
/// Both threads take the next chunk from a shared counter, so a helper that starts late (or never) only takes fewer
/// chunks. The helper is a plain POSIX thread started on the processors this process may use other than the caller's:
/// Linux otherwise queued a new thread behind its parent until the next balancing tick (up to 4 ms here), longer than
/// the jobs this is for, and Dispatch's `concurrentPerform` started its worker as late (docs/performance.md, "Issue
/// 16, sixth pass"). Once the caller has taken the last chunk it lets the helper onto every processor again, its own
/// included, before joining it, so a helper still waiting for a busy processor runs at once on the caller's and
/// finds nothing left to do. Starting the helper costs the caller about 60 µs. Elsewhere than on Linux the calling
/// thread does every chunk.
package enum ParallelParts {
  /// Runs `body(0)`, `body(1)`, … `body(chunks - 1)`, each exactly once, on this thread and possibly one helper, and
  /// returns when all have returned.
  /// - Parameters:
  ///   - chunks: how many chunks (0 or more).
  ///   - body: one chunk's work; it must touch only what that chunk owns.
  package static func run(chunks: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let job = Job(chunks: chunks, body: body)
    let helper = chunks > 1 ? Helper.start(job) : nil
    job.work()
    helper?.join()
  }

  /// Runs `body(0)`, … `body(chunks - 1)` as ``run(chunks:_:)`` does, and meanwhile hands the finished chunks to
  /// `consume`, on the calling thread, in order: chunk k as soon as it and every chunk before it are done. Between
  /// its own chunks the caller hands over what is ready before it takes another, so the helper goes on opening while
  /// the caller consumes.
  /// - Parameters:
  ///   - chunks: how many chunks (0 or more).
  ///   - body: one chunk's work, on either thread; it must touch only what that chunk owns.
  ///   - consume: called with 0, 1, … on the calling thread, each after its chunk's `body` has returned (its writes
  ///     are visible). Returning false stops the job: no chunk is taken after that (the helper may be taking one at
  ///     that moment), none is handed over, and the call returns once the chunks already taken have finished.
  ///
  /// The calling thread takes chunk 0 before it starts the helper, since the hand-over needs it first.
  package static func run(chunks: Int, _ body: @escaping @Sendable (Int) -> Void, inOrder consume: (Int) -> Bool) {
    let job = Job(chunks: chunks, body: body)
    let first = job.take()
    let helper = chunks > 1 ? Helper.start(job) : nil
    var next = 0
    var stopped = false
    /// Hands over the chunks that are done, in order; false once `consume` has said stop.
    func handOverReady() -> Bool {
      while next < chunks, job.isDone(next) {
        guard consume(next) else { return false }
        next += 1
      }
      return true
    }
    var taken = first
    while let chunk = taken {
      job.perform(chunk)
      guard handOverReady() else {
        stopped = true
        job.cancel()
        break
      }
      taken = job.take()
    }
    helper?.join()
    if !stopped { _ = handOverReady() }
  }

  /// Starts `task` on a helper thread, where another processor is free to run it, while the caller goes on; the
  /// result is taken with ``Pending/finish()``.
  /// - Parameter task: the work; it must touch only what it captures, which the caller must not change until
  ///   ``Pending/finish()`` has returned.
  /// - Returns: the task's handle: call ``Pending/finish()`` for the result, or ``Pending/abandon()`` on a path that
  ///   no longer needs it. A handle released without either abandons the task.
  package static func start<Result>(_ task: @escaping @Sendable () -> Result) -> Pending<Result> {
    let box = Pending<Result>.Box()
    let job = Job(chunks: 1) { _ in box.result = task() }
    return Pending(job: job, box: box, helper: Helper.start(job))
  }

  /// A task started by ``start(_:)``, whose result is a `Result`.
  package final class Pending<Result> {
    /// Where the one thread that runs the task leaves its result; read only after that thread is known to be done.
    final class Box: @unchecked Sendable {
      var result: Result?
    }

    private let job: Job
    private let box: Box
    private let helper: Helper?
    /// Whether the helper has been joined: it is joined exactly once.
    private var joined = false

    fileprivate init(job: Job, box: Box, helper: Helper?) {
      self.job = job
      self.box = box
      self.helper = helper
    }

    deinit { abandon() }

    /// Waits for the task and returns its result. A task the helper has not taken yet (or any task, where no helper
    /// started) runs here, on the calling thread.
    /// - Returns: the task's result; nil after ``abandon()``, unless the helper had already run it.
    package func finish() -> Result? {
      if !joined { job.work() }
      join()
      return box.result
    }

    /// Gives the task up: a task the helper has not taken is not run; one it has taken is waited for.
    package func abandon() {
      job.cancel()
      join()
    }

    private func join() {
      guard !joined else { return }
      joined = true
      helper?.join()
    }
  }

  /// The elements of an array that a job's threads write their results into: each element is written by the one
  /// thread that took its chunk, and read by the caller only once that chunk is done (or the job has returned).
  package struct Slots<Element>: @unchecked Sendable {
    package let base: UnsafeMutablePointer<Element>

    /// - Parameter base: the array's first element, valid until the job has returned.
    package init(_ base: UnsafeMutablePointer<Element>) { self.base = base }
  }

  /// How many processors this process may run on (its affinity mask on Linux), so 1 where no helper can run beside
  /// the caller.
  package static var availableProcessors: Int {
    #if os(Linux)
      var allowed = cpu_set_t()
      guard sched_getaffinity(0, MemoryLayout<cpu_set_t>.size, &allowed) == 0 else { return 1 }
      return count(allowed)
    #else
      return 1
    #endif
  }

  /// The chunks, the counter the threads take them from, and which are done.
  fileprivate final class Job: Sendable {
    let chunks: Int
    let body: @Sendable (Int) -> Void
    let next = Atomic<Int>(0)
    /// `chunks` flags, set (releasing) once a chunk's `body` has returned.
    /// Only atomics are reached through it, and it lives as long as the job.
    nonisolated(unsafe) private let done: UnsafeMutablePointer<Atomic<Bool>>

    init(chunks: Int, body: @escaping @Sendable (Int) -> Void) {
      self.chunks = chunks
      self.body = body
      done = .allocate(capacity: max(chunks, 1))
      for k in 0..<chunks { (done + k).initialize(to: Atomic(false)) }
    }

    deinit {
      done.deinitialize(count: chunks)
      done.deallocate()
    }

    /// The next chunk nobody has taken, or nil when none is left.
    func take() -> Int? {
      let chunk = next.wrappingAdd(1, ordering: .relaxed).oldValue
      return chunk < chunks ? chunk : nil
    }

    /// Runs a taken chunk and marks it done.
    func perform(_ chunk: Int) {
      body(chunk)
      done[chunk].store(true, ordering: .releasing)
    }

    /// Whether `chunk`'s `body` has returned; when true, what it wrote is visible to the caller.
    func isDone(_ chunk: Int) -> Bool { done[chunk].load(ordering: .acquiring) }

    /// Leaves no chunk to take (one already taken still runs).
    func cancel() { next.store(chunks, ordering: .relaxed) }

    /// Takes chunks until none is left.
    func work() {
      while let chunk = take() { perform(chunk) }
    }
  }

  /// A helper thread running a job's `work()`, and the processors it may use once joined.
  fileprivate struct Helper {
    #if os(Linux)
      let thread: pthread_t
      var allowed: cpu_set_t
    #endif

    /// Starts a helper for `job` on a processor other than the caller's.
    /// - Returns: the helper, or nil where there is no other processor, the thread cannot be started, or the
    ///   platform is not Linux.
    static func start(_ job: Job) -> Helper? {
      #if os(Linux)
        var allowed = cpu_set_t()
        guard sched_getaffinity(0, MemoryLayout<cpu_set_t>.size, &allowed) == 0,
          let thread = ParallelParts.startHelper(job, allowed: allowed)
        else { return nil }
        return Helper(thread: thread, allowed: allowed)
      #else
        return nil
      #endif
    }

    /// Lets the helper onto every processor the process may use, the caller's included, and waits for it to end.
    /// Call once the caller has no chunk left to take.
    func join() {
      #if os(Linux)
        var allowed = allowed
        _ = pthread_setaffinity_np(thread, MemoryLayout<cpu_set_t>.size, &allowed)
        _ = pthread_join(thread, nil)
      #endif
    }
  }

  #if os(Linux)
    /// How many processors a set holds.
    private static func count(_ set: cpu_set_t) -> Int {
      withUnsafeBytes(of: set) { $0.bindMemory(to: UInt.self).reduce(0) { $0 + $1.nonzeroBitCount } }
    }

    /// Starts a thread running `job.work()` on the processors of `allowed` other than the current one.
    /// - Returns: the thread, or nil when there is no such processor or it cannot be started.
    private static func startHelper(_ job: Job, allowed: cpu_set_t) -> pthread_t? {
      var others = allowed
      let current = Int(sched_getcpu())
      withUnsafeMutableBytes(of: &others) { raw in
        // cpu_set_t is an array of `unsigned long` words; processor n is bit n % width of word n / width.
        let words = raw.bindMemory(to: UInt.self)
        if current >= 0, current < words.count * UInt.bitWidth {
          words[current / UInt.bitWidth] &= ~(UInt(1) << UInt(current % UInt.bitWidth))
        }
      }
      guard count(others) > 0 else { return nil }
      var attributes = pthread_attr_t()
      guard pthread_attr_init(&attributes) == 0 else { return nil }
      defer { pthread_attr_destroy(&attributes) }
      guard pthread_attr_setaffinity_np(&attributes, MemoryLayout<cpu_set_t>.size, &others) == 0 else { return nil }
      let context = Unmanaged.passRetained(job)
      var thread = pthread_t()
      let rc = pthread_create(&thread, &attributes, { context in
        Unmanaged<Job>.fromOpaque(context!).takeRetainedValue().work()
        return nil
      }, context.toOpaque())
      guard rc == 0 else {
        context.release()
        return nil
      }
      return thread
    }
  #endif
}
