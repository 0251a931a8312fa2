#!/usr/bin/env bash
# Sync benchmark: 500 secrets to the in-process fake GitHub (organization scope, so the 100-per-repository limit
# does not apply) with 20 ms added to every request; reports wall time against the ideal
# (requests x 20 ms / 4 concurrent writes) and the requests a second sync makes.
# Usage: Benchmarks/sync.sh [runs]   (default 3; results in docs/performance.md under "sync")
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"
swift build --build-tests >/dev/null
for i in $(seq 1 "$runs"); do
  out="$(mktemp)"
  COFFER_BENCH_SYNC=1 COFFER_BENCH_OUT="$out" swift test --skip-build --filter SyncBenchmark >/dev/null 2>&1 || {
    echo "run $i failed" >&2; exit 1; }
  echo "--- run $i"
  cat "$out"
  rm -f "$out"
done
