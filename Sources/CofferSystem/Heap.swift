#if canImport(Glibc)
  import CMalloc
  import Glibc
#endif

/// The process heap, prepared for a short command that is about to build a large working set and then exit or
/// `execve`.
///
/// On Linux every fresh 4 KiB page of heap costs a page fault: about 1.7 µs each on this project's machine, where
/// `coffer run` at 10,000 secrets took about 1,500 faults, 1,150 fewer with this (docs/performance.md, "Issue 16,
/// fifth pass").
/// ``prepare(forBytes:)`` grows the heap once by what the command will need and advises transparent huge pages over
/// it (`madvise(MADV_HUGEPAGE)`, https://docs.kernel.org/admin-guide/mm/transhuge.html), so that memory arrives
/// 2 MiB at a time. It only advises: where huge pages are off or none is free, pages come 4 KiB at a time as before.
///
/// It changes the whole process's allocator (glibc's `mmap` threshold and trim threshold, `mallopt(3)`), so it does
/// nothing until the process opts in with ``allow()``: the `coffer` executable does, for its short commands; a
/// backend that links the library and never calls it keeps its allocator as it was.
package enum Heap {
  /// 2 MiB: the huge page of x86-64, and of arm64 with 4 KiB pages.
  private static let hugePage = 2 << 20
  nonisolated(unsafe) private static var allowed = false
  nonisolated(unsafe) private static var prepared = 0

  /// Lets ``prepare(forBytes:)`` change this process's allocator. Call it once, early, from a command that ends
  /// soon (by exiting or by `execve`).
  package static func allow() { allowed = true }

  /// ``prepare(forBytes:)`` for opening the vault file at `path`, when the process has called ``allow()``.
  /// - Parameter path: the vault file. Its working set (the file's bytes, its parsed records, the values and what is
  ///   built from them) is about twice the file's size; a file that cannot be examined prepares nothing.
  package static func prepare(forVault path: String) {
    guard allowed, let size = Files.size(of: path) else { return }
    prepare(forBytes: 2 * size)
  }

  /// Grows the heap by about `bytes` and advises huge pages over it, when the process has called ``allow()``.
  /// Afterwards allocations of any size come from the heap (none gets a mapping of its own) and the heap is not
  /// trimmed, for the rest of the process.
  /// - Parameter bytes: what the command expects to allocate, in bytes. Below 1 MiB nothing is done, since a huge
  ///   page's zeroing would cost about what the faults it saves cost; the heap grows by at least 4 MiB so that one
  ///   whole aligned huge page lies inside. Above about 29 MiB nothing is done either (glibc's largest `mmap`
  ///   threshold is 32 MiB). A call that asks for no more than an earlier one does nothing.
  package static func prepare(forBytes bytes: Int) {
    #if os(Linux) && canImport(Glibc)
      guard allowed, bytes >= 1 << 20, bytes > prepared else { return }
      prepared = bytes
      let size = (max(bytes, 2 * hugePage) + hugePage - 1) / hugePage * hugePage + hugePage
      // glibc caps the mmap threshold at 32 MiB; a larger working set keeps the allocator as it is.
      guard size + hugePage <= 32 << 20,
        mallopt(M_MMAP_THRESHOLD, Int32(size + hugePage)) == 1,
        mallopt(M_TRIM_THRESHOLD, Int32(clamping: 2 * size)) == 1,
        let block = malloc(size)
      else { return }
      let base = Int(bitPattern: block)
      let start = (base + hugePage - 1) & ~(hugePage - 1)
      let end = (base + size) & ~(hugePage - 1)
      if end > start, let pointer = UnsafeMutableRawPointer(bitPattern: start) {
        _ = madvise(pointer, end - start, 14)  // MADV_HUGEPAGE; Glibc does not export the constant
      }
      // Back to the allocator's top chunk, untouched: later allocations are carved from it in order.
      free(block)
    #endif
  }
}
