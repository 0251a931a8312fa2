#!/usr/bin/env bash
# Coffer start-up and decryption benchmarks against its peers (docs/performance.md explains the method and targets).
#
#   Benchmarks/run.sh                 build the static release binary, make fixtures, time, print ratios
#   SKIP_BUILD=1 Benchmarks/run.sh    reuse the binary already built
#   ROUNDS=300 SLOW_ROUNDS=40         rounds for the fast commands and for the rounds that include python-dotenv
#   STATIC_SCRATCH=.build-release     where the static release build lives (default .build)
#
# Method: every command is timed by Benchmarks/interleaved.py, which runs each command once per round, round after
# round, so the slow drifts of a shared machine hit every command alike, and reports medians, per-round differences
# and the median of per-round ratios. Every peer is its real executable, resolved before timing: `age` (Debian's
# Go binary) and python-dotenv through the Python interpreter itself (`sys.executable`), never a shell shim such
# as pyenv's `python3` (which adds ~50 ms of bash to every run).
# Peers: `age -d -i KEY secrets.env.age` (decrypt only, the simplest alternative), python-dotenv's `run`.
# Coffer's own commands are timed in rounds of their own; each peer is timed head to head with `coffer run` in
# rounds of two (a Go program in a round slows every command after it, /bin/true included). coffer and the floor
# are timed as copies in the scratch directory, as installed files are, not as the linker's output files.
# Results: Benchmarks/out/*.txt and *.json (per-round times).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
out="$here/Benchmarks/out"
rounds=${ROUNDS:-300}
slow_rounds=${SLOW_ROUNDS:-40}
mkdir -p "$out"
command -v age >/dev/null || { echo "age is required (apt-get install age)" >&2; exit 1; }
python=$(python3 -c 'import sys; print(sys.executable)')
"$python" -c 'import dotenv' 2>/dev/null || { echo "python-dotenv is required (pip install python-dotenv)" >&2; exit 1; }

cd "$here"
source "$here/Benchmarks/release-build.sh"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== floor: a Swift program that only execv's (stdlib only, no Foundation), linked as coffer is: fully static"
swiftc -O -static-executable "$here/Benchmarks/floor/execfloor.swift" -o "$tmp/execfloor.linked" 2>/dev/null
# Copies, as installed files are: the linker's own output file started 0.3-0.4 ms slower here than a copy of it
# (docs/performance.md, "Method"), which no installed binary pays.
cp "$tmp/execfloor.linked" "$tmp/execfloor"
cp "$coffer" "$tmp/coffer"
coffer="$tmp/coffer"

echo "== fixtures: one identity; 1,000 and 10,000 secrets as a vault, a .env and an age-encrypted .env"
export COFFER_IDENTITY_FILE="$tmp/identity.txt"
# The audit log and the trust memory (issue 10) go to the scratch directory, not the user's state.
export XDG_STATE_HOME="$tmp/state"
unset COFFER_IDENTITY COFFER_ENV
"$coffer" keygen -o "$COFFER_IDENTITY_FILE" >/dev/null 2>&1
recipient=$(grep -o 'age1[0-9a-z]*' "$COFFER_IDENTITY_FILE" | head -1)
for n in 1000 10000; do
  p="$tmp/p$n"
  mkdir -p "$p"
  python3 "$here/Benchmarks/gen_fixtures.py" "$n" "$tmp/secrets-$n.env" "$p/coffer.yaml"
  # Trust model v2, as `coffer init` makes projects: a signed policy, format-2 vaults.
  (cd "$p" && "$coffer" migrate --yes >/dev/null 2>&1)
  (cd "$p" && "$coffer" import "$tmp/secrets-$n.env" --env development >/dev/null 2>&1)
  head -1 "$p/.coffer/vault/development.vault" | grep -qx 'coffer-vault v2' || { echo "fixture p$n is not format 2" >&2; exit 1; }
  count=$(cd "$p" && "$coffer" export --env development --format dotenv | wc -l)
  [[ $count == "$n" ]] || { echo "fixture p$n holds $count values, expected $n" >&2; exit 1; }
  age -r "$recipient" -o "$tmp/secrets-$n.env.age" "$tmp/secrets-$n.env"
  printf '   %-6s secrets: vault %s bytes, age file %s bytes\n' "$n" \
    "$(stat -c %s "$p/.coffer/vault/development.vault")" "$(stat -c %s "$tmp/secrets-$n.env.age")"
done

il() { # label, cwd, rounds, interleaved.py arguments…
  local label=$1 cwd=$2 n=$3
  shift 3
  echo "== $label"
  python3 "$here/Benchmarks/interleaved.py" --rounds "$n" --cwd "$cwd" --json "$out/$label.json" "$@" |
    tee "$out/$label.txt"
}

run="run --env development -- /bin/true"
# Coffer's own commands, without a peer in the round: a Go program (age) in the same rounds slows every command
# that follows it, /bin/true included (docs/performance.md, "Method"), which is no cost of Coffer's.
il run1k "$tmp/p1000" "$rounds" -- \
  "true=/bin/true" \
  "execfloor=$tmp/execfloor /bin/true" \
  "coffer-version=$coffer --version" \
  "coffer-run=$coffer $run" \
  "coffer-get=$coffer get SECRET_00500 --env development" \
  "coffer-check=$coffer check --env development" \
  "coffer-export=$coffer export --env development --format dotenv"
# Head to head with each peer: the peer and `coffer run` in the same rounds, so each bears the other's effects.
il age1k "$tmp/p1000" "$rounds" --ratio age-d:coffer-run --ratio coffer-run:age-d -- \
  "true=/bin/true" \
  "coffer-run=$coffer $run" \
  "age-d=age -d -i $COFFER_IDENTITY_FILE $tmp/secrets-1000.env.age"
il dotenv1k "$tmp/p1000" "$slow_rounds" --ratio python-dotenv:coffer-run -- \
  "true=/bin/true" \
  "coffer-run=$coffer $run" \
  "python-dotenv=$python -m dotenv -f $tmp/secrets-1000.env run -- /bin/true"
il open10k "$tmp/p10000" "$slow_rounds" -- \
  "true=/bin/true" \
  "coffer-run=$coffer $run" \
  "coffer-export=$coffer export --env development --format dotenv"
il age10k "$tmp/p10000" "$slow_rounds" --ratio age-d:coffer-run -- \
  "true=/bin/true" \
  "coffer-run=$coffer $run" \
  "age-d=age -d -i $COFFER_IDENTITY_FILE $tmp/secrets-10000.env.age"

echo "== summary"
python3 - "$out" <<'PY' | tee "$out/summary.txt"
import json, os, statistics, sys
out = sys.argv[1]
def load(label): return json.load(open(f"{out}/{label}.json"))
def med(label, name): return statistics.median(load(label)["times_ms"][name])
def over(label, a, b):
    t = load(label)["times_ms"]; return statistics.median(x - y for x, y in zip(t[a], t[b]))
def ratio(label, a, b):
    t = load(label)["times_ms"]; return statistics.median(x / y for x, y in zip(t[a], t[b]))
try:
    loadavg = open("/proc/loadavg").read().split()[0]
except OSError:
    loadavg = "?"
print(f"nproc {os.cpu_count()}, load average {loadavg}; medians of interleaved rounds")
def row(label, value, target, ok): print(f"{label:58s} {value:>12s}   {target:26s} {'MET' if ok else 'NOT MET'}")
print("issue 10 (trust model v2: the run targets hold with signatures):")
d = over("run1k", "coffer-run", "true")
row("  run 1k over /bin/true (ms)", f"{d:+.2f}", "<= 5 ms", d <= 5)
r = ratio("dotenv1k", "python-dotenv", "coffer-run")
row("  python-dotenv / run, 1k (median of per-round ratios)", f"{r:.1f}x", ">= 20x", r >= 20)
m = med("open10k", "coffer-run")
row("  run 10k (median ms)", f"{m:.2f}", "< 50 ms", m < 50)
print("issue 16:")
d = over("age1k", "coffer-run", "age-d")
row("run 1k minus age -d 1k (per-round median, ms)", f"{d:+.2f}", "<= 0 (no slower than age -d)", d <= 0)
d = over("run1k", "coffer-run", "true")
row("run 1k over /bin/true (ms)", f"{d:+.2f}", "(about 2.5 ms)", d <= 2.5)
r = ratio("dotenv1k", "python-dotenv", "coffer-run")
row("python-dotenv / run, 1k (median of per-round ratios)", f"{r:.1f}x", ">= 30x", r >= 30)
m = med("open10k", "coffer-run")
row("run 10k (median ms)", f"{m:.2f}", "< 20 ms", m < 20)
for name in ("coffer-get", "coffer-check"):
    d = over("run1k", name, "coffer-version")
    row(f"{name.replace('coffer-', '')} 1k over coffer --version (ms)", f"{d:+.2f}", "<= 2 ms", d <= 2)
PY
