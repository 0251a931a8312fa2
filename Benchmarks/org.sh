#!/usr/bin/env bash
# Times `coffer org check` at organization scale: a generated organization of REPOS repositories (default 500),
# each declaring SECRETS secrets (default 40: 30 from a shared catalog of 200, 10 of its own), every one importing
# the catalog; then `org check --manifests-only` and `org check` with a development vault per repository (values
# imported from a generated .env; a throwaway identity). Target (issue 13): under 2 s for manifests alone.
#
#   Benchmarks/org.sh                       # builds the release binary, generates, times (RUNS=5 each)
#   COFFER_BIN=.build/debug/coffer Benchmarks/org.sh   # time a binary already built (say which in the results)
#   REPOS=100 SECRETS=40 RUNS=3 KEEP=1 Benchmarks/org.sh
#
# Needs python3. Uses hyperfine when installed, else times the runs itself (wall clock, median of RUNS after one
# warm-up run). The organization lives in a temporary directory removed at the end (KEEP=1 keeps it).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
repos=${REPOS:-500}
secrets=${SECRETS:-40}
runs=${RUNS:-5}

if [ -n "${COFFER_BIN:-}" ]; then
  COFFER_BIN=$(cd "$(dirname "$COFFER_BIN")" && pwd)/$(basename "$COFFER_BIN")
else
  (cd "$here" && swift build -c release --product coffer >&2)
  COFFER_BIN="$here/.build/release/coffer"
fi

tmp=$(mktemp -d)
if [ -n "${KEEP:-}" ]; then echo "organization kept in $tmp/org" >&2; else trap 'rm -rf "$tmp"' EXIT; fi
export COFFER_IDENTITY_FILE="$tmp/identity.txt" COFFER_AUDIT_LOG="$tmp/audit.jsonl" XDG_STATE_HOME="$tmp/state"
unset COFFER_IDENTITY COFFER_ENV COFFER_NOW
"$COFFER_BIN" keygen -o "$COFFER_IDENTITY_FILE" >/dev/null 2>&1

python3 - "$tmp/org" "$repos" "$secrets" <<'PY'
import os, random, sys
root, repos, per = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(20261206)
own = min(10, per)
shared = per - own
groups = ["api-keys", "database-credentials", "integration-credentials", "infrastructure-credentials", "security-tokens"]
catalog_names = [f"SHARED_{i:03d}_TOKEN" for i in range(200)]
os.makedirs(f"{root}/catalog")
with open(f"{root}/catalog/coffer.yaml", "w") as f:
    f.write("version: 1\nproject: catalog\nenvironments: [development, staging, production]\ngroups:\n")
    for i, g in enumerate(groups):
        f.write(f"  {g}: {{ rotation: {90 + 90 * (i % 3)}d }}\n")
    f.write("secrets:\n")
    for i, n in enumerate(catalog_names):
        f.write(f"  {n}:\n    group: {groups[i % len(groups)]}\n    description: shared token {i}\n"
                f"    required: {'true' if i % 3 else '[production]'}\n    min_length: 24\n")
def value():
    return "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789") for _ in range(40))
for r in range(repos):
    name = f"repo-{r:04d}"
    os.makedirs(f"{root}/{name}")
    chosen = rng.sample(catalog_names, shared)
    mine = [f"REPO_{r:04d}_SECRET_{j}" for j in range(own)]
    with open(f"{root}/{name}/coffer.yaml", "w") as f:
        f.write(f"version: 1\nproject: {name}\nenvironments: [development, production]\nimports: [../catalog]\nsecrets:\n")
        for n in chosen:
            f.write(f"  {n}:\n")
        for j, n in enumerate(mine):
            f.write(f"  {n}:\n    group: {groups[j % len(groups)]}\n    required: [production]\n")
    with open(f"{root}/{name}/development.env", "w") as f:
        for n in chosen + mine:
            f.write(f"{n}={value()}\n")
PY

echo "== generated $repos repositories of $secrets secrets in $tmp/org; importing their development values" >&2
cd "$tmp/org"
for dir in repo-*; do
  "$COFFER_BIN" import "$dir/development.env" --env development --project "$dir" 2>/dev/null
  rm "$dir/development.env"
done

time_it() {  # label, command…
  local label=$1; shift
  if command -v hyperfine >/dev/null; then
    hyperfine --warmup 1 --runs "$runs" -i --export-markdown "$tmp/h.md" "$*" >&2
    echo "| $label | $(sed -n 3p "$tmp/h.md" | cut -d'|' -f3-5) |"
  else
    python3 - "$runs" "$label" "$@" <<'PY'
import statistics, subprocess, sys, time
runs, label, cmd = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # warm-up
times = []
for _ in range(runs):
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    times.append(time.perf_counter() - t)
print(f"| {label} | {statistics.median(times):.3f} | {min(times):.3f} | {max(times):.3f} |")
PY
  fi
}

echo "| command ($repos repositories × $secrets secrets, $(basename "$(dirname "$COFFER_BIN")") build) | time (s): hyperfine mean, else median | min (s) | max (s) |"
echo "|---|---:|---:|---:|"
time_it "org check --manifests-only" "$COFFER_BIN" org check --manifests-only
time_it "org check (with $repos development vaults)" "$COFFER_BIN" org check
time_it "org matrix" "$COFFER_BIN" org matrix
