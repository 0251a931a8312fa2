// glibc's malloc tuning (mallopt, M_MMAP_THRESHOLD, M_TRIM_THRESHOLD), which Swift's Glibc module does not export.
// Used only by CofferSystem/Heap.swift. Part of the C library: nothing to install or link.
#if defined(__linux__)
#include <malloc.h>
#endif
