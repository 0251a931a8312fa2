#!/usr/bin/env python3
"""Interleaved timing: runs each command once per round, round after round, so that slow drifts of a shared
machine (other tenants, frequency changes) hit every command alike. Reports, per command, the median and minimum
wall time, the median of its per-round differences from the first command, and, for each `--ratio A:B`, the median
of the per-round ratios t(A)/t(B) next to the ratio of the medians. The order of the commands within a round is
shuffled every round (seeded with `--seed`, so a run can be repeated): in a fixed order each command would always
inherit the cache state the same neighbour left. To compare two builds, time fresh copies of both: this machine's
kernel pages out files nobody touched lately (DAMON `pageout`), so a stale build pays faults a fresh one does not
(docs/performance.md).

    Benchmarks/interleaved.py [--rounds N] [--warmup N] [--cwd DIR] [--ratio A:B ...] [--json FILE] \\
        -- 'NAME=CMD ARG ...' 'NAME=CMD ...' ...

Each command is `NAME=` followed by an argv split on spaces (no shell). The first word must be an executable's
absolute path or a name found on PATH, which is resolved to its real file once, before timing (so a shim such as
pyenv's bash `python3` is never what is timed: pass the interpreter itself). Commands are started with
posix_spawn; stdout and stderr go to /dev/null; a failing command stops the run. The spawn and wait overhead of
this script is the same for every command, so differences are exact; absolute numbers are about 0.1 ms above
hyperfine's.
"""
import argparse, json, os, random, shutil, statistics, sys, time


def run_once(argv, devnull):
    start = time.perf_counter_ns()
    pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=[
        (os.POSIX_SPAWN_DUP2, devnull, 1), (os.POSIX_SPAWN_DUP2, devnull, 2)])
    _, status = os.waitpid(pid, 0)
    elapsed = (time.perf_counter_ns() - start) / 1e6
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"command failed ({os.waitstatus_to_exitcode(status)}): {' '.join(argv)}")
    return elapsed


def resolve(word):
    path = word if "/" in word else shutil.which(word)
    if path is None:
        sys.exit(f"not found: {word}")
    real = os.path.realpath(path)
    with open(real, "rb") as f:
        if f.read(2) == b"#!":
            sys.exit(f"{word} resolves to a script ({real}); pass the real executable, not a shim")
    return real


def main():
    args = sys.argv[1:]
    if "--" not in args:
        sys.exit(__doc__)
    split = args.index("--")
    p = argparse.ArgumentParser()
    p.add_argument("--rounds", type=int, default=300)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--cwd")
    p.add_argument("--ratio", action="append", default=[])
    p.add_argument("--json")
    p.add_argument("--seed", type=int, default=16)
    opts = p.parse_args(args[:split])
    names, argvs = [], []
    for spec in args[split + 1:]:
        name, _, command = spec.partition("=")
        argv = command.split()
        argv[0] = resolve(argv[0])
        names.append(name)
        argvs.append(argv)
    if opts.cwd:
        os.chdir(opts.cwd)
    devnull = os.open(os.devnull, os.O_WRONLY)
    for _ in range(opts.warmup):
        for argv in argvs:
            run_once(argv, devnull)
    times = {n: [] for n in names}
    order = list(zip(names, argvs))
    shuffle = random.Random(opts.seed)
    for _ in range(opts.rounds):
        shuffle.shuffle(order)
        for n, argv in order:
            times[n].append(run_once(argv, devnull))
    base = times[names[0]]
    print(f"{'command':28s} {'median ms':>10s} {'min ms':>8s} {'over ' + names[0]:>16s}")
    for n in names:
        t = times[n]
        diff = statistics.median(x - b for x, b in zip(t, base))
        print(f"{n:28s} {statistics.median(t):10.2f} {min(t):8.2f} {diff:13.2f} ms")
    ratios = {}
    for spec in opts.ratio:
        a, b = spec.split(":")
        per_round = statistics.median(x / y for x, y in zip(times[a], times[b]))
        of_medians = statistics.median(times[a]) / statistics.median(times[b])
        ratios[spec] = per_round
        print(f"ratio {a} / {b}: median of per-round ratios {per_round:.2f}x (ratio of medians {of_medians:.2f}x)")
    if opts.json:
        with open(opts.json, "w") as f:
            json.dump({"rounds": opts.rounds, "commands": dict(zip(names, [" ".join(a) for a in argvs])),
                       "times_ms": times, "ratios": ratios}, f)


main()
