#!/usr/bin/env python3
"""When each phase of a short command runs, on which thread: medians over many runs of `perf record` samples.

    perf record -F 20000 -g -o t.data -- bash -c 'for i in $(seq 200); do coffer check --env development >/dev/null; done'
    perf script -i t.data -F comm,pid,tid,time,ip,sym | python3 Benchmarks/timeline.py coffer \\
        snapshot=ManifestSnapshotO4read parse=0B4FileO5parse mac=0B4FileO3mac values=forEachCurrentValue ...

Each sample of a process named COMM is given the first LABEL whose PATTERN is part of a frame of its call stack
(`other` if none), and is counted for the process's main thread (thread id = process id) or for a helper thread. For
each (label, thread) the script prints the median, over the runs, of the first and the last sample's time after the
run's first sample, and the samples per run. Under `perf record -g` a command runs about 1.5 times slower than
alone, so read the times as an order of events, not as durations (docs/performance.md, "Issue 16, eighth pass").
"""
import collections
import re
import statistics
import sys


def read_samples(stream):
    """(comm, pid, tid, seconds, frames) for each sample of `perf script -F comm,pid,tid,time,ip,sym`."""
    samples, current = [], None
    header = re.compile(r"\s*(\S+)\s+(\d+)/(\d+)\s+([\d.]+):")
    for line in stream:
        if not line.strip():
            if current:
                samples.append(current)
            current = None
            continue
        if not line.startswith((" ", "\t")):
            m = header.match(line)
            current = (m.group(1), int(m.group(2)), int(m.group(3)), float(m.group(4)), []) if m else None
        elif current is not None:
            parts = line.strip().split(None, 1)
            current[4].append(parts[1] if len(parts) > 1 else "")
    if current:
        samples.append(current)
    return samples


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    comm = sys.argv[1]
    if any("=" not in arg for arg in sys.argv[2:]):
        sys.exit("each phase is LABEL=PATTERN\n" + __doc__)
    labels = [arg.split("=", 1) for arg in sys.argv[2:]]
    runs = collections.defaultdict(list)
    for c, pid, tid, t, frames in read_samples(sys.stdin):
        if c == comm:
            runs[pid].append((t, tid, frames))
    if not runs:
        sys.exit(f"no samples of {comm}")
    spans = collections.defaultdict(lambda: ([], [], []))
    lengths = []
    for pid, samples in runs.items():
        samples.sort()
        t0 = samples[0][0]
        lengths.append((samples[-1][0] - t0) * 1000)
        seen = {}
        for t, tid, frames in samples:
            label = next((name for name, pattern in labels if any(pattern in f for f in frames)), "other")
            key = (label, "main" if tid == pid else "helper")
            ms = (t - t0) * 1000
            first, _, count = seen.get(key, (ms, ms, 0))
            seen[key] = (first, ms, count + 1)
        for key, (first, last, count) in seen.items():
            spans[key][0].append(first)
            spans[key][1].append(last)
            spans[key][2].append(count)
    print(f"{len(runs)} runs; median time from the first sample to the last: {statistics.median(lengths):.2f} ms")
    rows = sorted((statistics.median(f), key, statistics.median(l), sum(n) / len(runs), len(n)) for key, (f, l, n) in spans.items())
    for first, (label, thread), last, per_run, present in rows:
        print(f"{label:20s} {thread:6s} first {first:6.2f} last {last:6.2f} ms  samples/run {per_run:5.1f}  in {present} runs")


main()
