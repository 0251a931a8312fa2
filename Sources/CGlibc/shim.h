// Declarations from glibc that Swift's Glibc module does not export (it is built without _GNU_SOURCE). Part of the C
// library: nothing to install or link.
// - <malloc.h>'s tuning (mallopt, M_MMAP_THRESHOLD, M_TRIM_THRESHOLD), for CofferSystem/Heap.swift.
// - memmem, for CofferCore/ByteSearch.swift. Darwin's <string.h> declares it already.
// - sched_getaffinity, sched_getcpu, pthread_attr_setaffinity_np and pthread_setaffinity_np, for
//   CofferCore/ParallelParts.swift.
#if defined(__linux__)
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
void *memmem(const void *haystack, size_t haystacklen, const void *needle, size_t needlelen);
int sched_getaffinity(pid_t pid, size_t cpusetsize, cpu_set_t *mask);
int sched_getcpu(void);
int pthread_attr_setaffinity_np(pthread_attr_t *attr, size_t cpusetsize, const cpu_set_t *cpuset);
int pthread_setaffinity_np(pthread_t thread, size_t cpusetsize, const cpu_set_t *cpuset);
#endif
