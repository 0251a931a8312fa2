#!/usr/bin/env python3
"""Interleaved timing: runs each command once per round, round after round, so that slow drifts of a shared
machine (other tenants, frequency changes) hit every command alike; then reports, per command, the median and the
minimum wall time, and against the first command the median of the per-round differences.

    Benchmarks/interleaved.py [--rounds N] [--warmup N] [--cwd DIR] -- 'CMD A' 'CMD B' ...

Commands are split on spaces (no shell) and started with posix_spawn; stdout and stderr go to /dev/null. The
spawn and wait overhead of this script is the same for every command, so differences are exact; absolute numbers
are about 0.1 ms above hyperfine's.
"""
import argparse, os, statistics, sys, time


def run_once(argv, devnull):
    start = time.perf_counter_ns()
    pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=[
        (os.POSIX_SPAWN_DUP2, devnull, 1), (os.POSIX_SPAWN_DUP2, devnull, 2)])
    _, status = os.waitpid(pid, 0)
    elapsed = (time.perf_counter_ns() - start) / 1e6
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"command failed ({os.waitstatus_to_exitcode(status)}): {' '.join(argv)}")
    return elapsed


def main():
    args = sys.argv[1:]
    if "--" not in args:
        sys.exit(__doc__)
    split = args.index("--")
    p = argparse.ArgumentParser()
    p.add_argument("--rounds", type=int, default=500)
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--cwd")
    opts = p.parse_args(args[:split])
    commands = args[split + 1:]
    argvs = [c.split() for c in commands]
    if opts.cwd:
        os.chdir(opts.cwd)
    devnull = os.open(os.devnull, os.O_WRONLY)
    for _ in range(opts.warmup):
        for argv in argvs:
            run_once(argv, devnull)
    times = [[] for _ in argvs]
    for _ in range(opts.rounds):
        for i, argv in enumerate(argvs):
            times[i].append(run_once(argv, devnull))
    base = times[0]
    for c, t in zip(commands, times):
        diff = statistics.median(x - b for x, b in zip(t, base))
        print(f"{c[:72]:72s} median {statistics.median(t):7.2f}  min {min(t):7.2f}  over first {diff:7.2f} ms")


main()
