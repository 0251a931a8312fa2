#if canImport(Glibc)
  import CGlibc
  import Glibc
#endif

/// The process heap, prepared for a short command that is about to build a large working set and then exit or
/// `execve`.
///
/// On Linux every fresh 4 KiB page of heap costs a page fault (docs/performance.md, "Issue 16, fifth pass", measures
/// them and what this saves). ``prepare(forBytes:)`` grows the heap once by what the command will need and advises
/// transparent huge pages over it (`madvise(MADV_HUGEPAGE)`, https://docs.kernel.org/admin-guide/mm/transhuge.html),
/// so that memory arrives 2 MiB at a time. It only advises: where huge pages are off, pages come 4 KiB at a time as
/// before. Where they are on with the kernel's default `defrag` setting (`madvise`), a fault in the range may first
/// compact memory when no huge page is free, which on a fragmented host can take milliseconds.
///
/// It changes the whole process's allocator (glibc's `mmap` and trim thresholds, `mallopt(3)`), and memory freed
/// afterwards stays in the heap until the process ends instead of going back to the kernel (so a core dump would
/// hold it). It therefore does nothing until the process opts in with ``allow()``: the `coffer` executable does, for
/// its short commands; a backend that links the library and never calls it keeps its allocator as it was. Threads
/// started after ``allow()`` allocate from the main arena, so the prepared block serves them too.
package enum Heap {
  /// 2 MiB: the huge page of x86-64, and of arm64 with 4 KiB pages.
  private static let hugePage = 2 << 20
  /// The largest working set prepared for: its block (30 MiB) must stay below glibc's largest `mmap` threshold,
  /// 32 MiB, to come from the heap.
  private static let largest = 28 << 20
  nonisolated(unsafe) private static var allowed = false
  nonisolated(unsafe) private static var prepared = 0

  /// Lets ``prepare(forBytes:)`` change this process's allocator, and keeps glibc to one arena for every thread
  /// (`M_ARENA_MAX` 1), so that the helper threads CofferCore's `ParallelParts` starts (to open values, compute a
  /// large vault's MAC, check a large manifest, read `run`'s cache of a large manifest) allocate from the prepared
  /// heap instead of creating an arena of their own, whose fresh pages fault (`run` at 10,000 secrets: about 0.13 ms,
  /// docs/performance.md, "Issue 16, sixth pass"). Every thread of the process then shares that arena's lock; the
  /// commands that call this run at most two helpers at a time (`run` of a large manifest: the cache's and the MAC's,
  /// which share the processor the caller is not on). Call it once, early, on the main thread, from a command that
  /// ends soon (by exiting or by `execve`).
  package static func allow() {
    allowed = true
    #if os(Linux) && canImport(Glibc)
      _ = mallopt(M_ARENA_MAX, 1)
    #endif
  }

  /// ``prepare(forBytes:)`` for opening the vault file at `path`, when the process has called ``allow()``.
  /// - Parameter path: the vault file. Its working set (the file's bytes, its parsed records, the values and what is
  ///   built from them) is about twice the file's size; a file that cannot be examined, or one too large for the
  ///   heap to be prepared, prepares nothing.
  package static func prepare(forVault path: String) {
    guard allowed, let size = Files.size(of: path), size <= largest / 2 else { return }
    prepare(forBytes: 2 * size)
  }

  /// Grows the heap by `bytes` rounded up to whole huge pages (at least 4 MiB) plus one more, since the block need not
  /// start on a huge-page boundary: the aligned part advised for huge pages then holds at least `bytes` (without that
  /// page, `run` at 10,000 secrets took 812 page faults instead of 374). Only when the process has called ``allow()``.
  /// Afterwards glibc's `mmap` threshold lies above that block, so allocations smaller than it come from the heap
  /// instead of mappings of their own, and the heap is trimmed only when more than twice the block is free at its
  /// top, for the rest of the process. If the allocation itself fails, the thresholds stay as set and nothing else
  /// changes.
  /// - Parameter bytes: what the command expects to allocate, in bytes. Below 1 MiB nothing is done, since a huge
  ///   page's zeroing would cost about what the faults it saves cost; above 28 MiB nothing is done either. A call that
  ///   would prepare no larger a block than an earlier one does nothing.
  package static func prepare(forBytes bytes: Int) {
    #if os(Linux) && canImport(Glibc)
      guard allowed, bytes >= 1 << 20, bytes <= largest else { return }
      let size = (max(bytes, 2 * hugePage) + hugePage - 1) / hugePage * hugePage + hugePage
      guard size > prepared,
        mallopt(M_MMAP_THRESHOLD, Int32(size + hugePage)) == 1,
        mallopt(M_TRIM_THRESHOLD, Int32(2 * size)) == 1,
        let block = malloc(size)
      else { return }
      prepared = size
      let base = Int(bitPattern: block)
      let start = (base + hugePage - 1) & ~(hugePage - 1)
      let end = (base + size) & ~(hugePage - 1)
      if end > start, let pointer = UnsafeMutableRawPointer(bitPattern: start) {
        _ = madvise(pointer, end - start, MADV_HUGEPAGE)
      }
      // Back to the allocator's top chunk, untouched: later allocations are carved from it in order.
      free(block)
    #endif
  }
}
