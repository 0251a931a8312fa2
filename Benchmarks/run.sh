#!/usr/bin/env bash
# Coffer startup and decryption benchmarks (docs/performance.md explains the method and the targets).
#
#   Benchmarks/run.sh            build both release flavours, make fixtures, run hyperfine, print ratios
#   SKIP_BUILD=1 Benchmarks/run.sh   reuse the binaries already built
#   RUNS=100 Benchmarks/run.sh       fewer runs per fast command (default 300)
#   STATIC_SCRATCH=.build-release    where the static release build lives (default .build)
#   SKIP_DYNAMIC=1                   leave out the dynamically linked flavour (its rows print n/a)
#
# Builds:  static  = COFFER_STATIC_LINK=1 swift build -c release -Xswiftc -static-stdlib (scratch path .build)
#          dynamic = swift build -c release --scratch-path .build-dynamic       (Swift runtime as shared libraries)
# Results: Benchmarks/out/*.json (hyperfine --export-json) and Benchmarks/out/summary.txt.
# Touches nothing outside the repository's build directories, Benchmarks/out and a temporary directory.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
out="$here/Benchmarks/out"
runs=${RUNS:-300}
slow_runs=${SLOW_RUNS:-40}
warmup=${WARMUP:-20}
mkdir -p "$out"
command -v hyperfine >/dev/null || { echo "hyperfine is required (apt-get install hyperfine)" >&2; exit 1; }

cd "$here"
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  echo "== building release (static stdlib) and release (dynamic stdlib)"
  COFFER_STATIC_LINK=1 swift build -c release -Xswiftc -static-stdlib --product coffer \
    --scratch-path "${STATIC_SCRATCH:-.build}" 2>&1 | tail -1
  [[ "${SKIP_DYNAMIC:-0}" == 1 ]] || swift build -c release --scratch-path .build-dynamic --product coffer 2>&1 | tail -1
fi
static_bin="$here/${STATIC_SCRATCH:-.build}/release/coffer"
dynamic_bin="$here/.build-dynamic/release/coffer"
bins=("$static_bin")
[[ "${SKIP_DYNAMIC:-0}" == 1 ]] || bins+=("$dynamic_bin")
for b in "${bins[@]}"; do [[ -x "$b" ]] || { echo "missing $b (run without SKIP_BUILD)" >&2; exit 1; }; done
dyn() { [[ "${SKIP_DYNAMIC:-0}" == 1 ]] || printf '%s\n' "$@"; } # dynamic-flavour hyperfine arguments, or none

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== floors: trivial Swift programs (stdlib only, no Foundation)"
for flavour in static dynamic; do
  flags=(-O)
  [[ $flavour == static ]] && flags+=(-static-stdlib)
  swiftc "${flags[@]}" "$here/Benchmarks/floor/hello.swift" -o "$tmp/hello-$flavour" 2>/dev/null
  swiftc "${flags[@]}" "$here/Benchmarks/floor/execfloor.swift" -o "$tmp/execfloor-$flavour" 2>/dev/null
done

echo "== fixtures: identity and vaults of 1,000 and 10,000 secrets"
export COFFER_IDENTITY_FILE="$tmp/identity.txt"
unset COFFER_IDENTITY COFFER_ENV
"$static_bin" keygen -o "$COFFER_IDENTITY_FILE" >/dev/null 2>&1
for n in 1000 10000; do
  p="$tmp/p$n"
  mkdir -p "$p"
  printf 'version: 1\nproject: bench\nenvironments: [development]\nsecrets: {}\n' >"$p/coffer.yaml"
  python3 "$here/Benchmarks/gen_fixtures.py" "$n" "$tmp/secrets-$n.env"
  (cd "$p" && "$static_bin" import "$tmp/secrets-$n.env" --env development >/dev/null 2>&1)
  count=$(cd "$p" && "$static_bin" export --env development --format dotenv | wc -l)
  [[ $count == "$n" ]] || { echo "fixture p$n holds $count values, expected $n" >&2; exit 1; }
  printf '   %-6s secrets: vault %s bytes\n' "$n" "$(stat -c %s "$p/.coffer/vault/development.vault")"
done

hf() { # name, runs, commands…
  local name=$1 n=$2
  shift 2
  hyperfine -N --style basic --warmup "$warmup" --runs "$n" --export-json "$out/$name.json" "$@" 2>&1 |
    grep -E '^(Benchmark|  Time|  Range)' || true
}

echo "== 1: exec overhead with 1,000 secrets"
cd "$tmp/p1000"
hf floors "$runs" \
  -n true '/bin/true' \
  -n hello-static "$tmp/hello-static" \
  -n hello-dynamic "$tmp/hello-dynamic" \
  -n execfloor-static "$tmp/execfloor-static /bin/true" \
  -n execfloor-dynamic "$tmp/execfloor-dynamic /bin/true"
mapfile -t dyn_run1k < <(dyn -n coffer-dynamic "$dynamic_bin run --env development -- /bin/true")
hf run1k "$runs" \
  -n true '/bin/true' \
  -n coffer-static "$static_bin run --env development -- /bin/true" \
  "${dyn_run1k[@]}" \
  -n coffer-static-version "$static_bin --version"
hf dotenv1k "$slow_runs" \
  -n python-dotenv "python3 -m dotenv -f $tmp/secrets-1000.env run -- /bin/true" \
  -n coffer-static "$static_bin run --env development -- /bin/true"

echo "== 1 again, interleaved: /bin/true and coffer run alternate, so slow drifts of a shared machine hit both"
python3 "$here/Benchmarks/interleaved.py" --rounds "$runs" --cwd "$tmp/p1000" -- /bin/true \
  "$static_bin run --env development -- /bin/true" | tee "$out/interleaved1k.txt"

echo "== 2: open and decrypt 10,000 secrets"
cd "$tmp/p10000"
mapfile -t dyn_open10k < <(dyn -n export-dynamic "$dynamic_bin export --env development --format dotenv" \
  -n run-dynamic "$dynamic_bin run --env development -- /bin/true")
hf open10k "$slow_runs" \
  -n export-static "$static_bin export --env development --format dotenv" \
  -n run-static "$static_bin run --env development -- /bin/true" \
  "${dyn_open10k[@]}"

echo "== summary"
python3 - "$out" <<'EOF' | tee "$out/summary.txt"
import json, os, statistics, sys
out = sys.argv[1]
NA = float("nan")  # a flavour left out (SKIP_DYNAMIC=1)
def res(file, name):
    for r in json.load(open(f"{out}/{file}.json"))["results"]:
        if r["command"] == name:
            return r
    return None
def med(file, name): r = res(file, name); return statistics.median(r["times"]) * 1000 if r else NA
def low(file, name): r = res(file, name); return min(r["times"]) * 1000 if r else NA
def cpu(file, name): r = res(file, name); return (r["user"] + r["system"]) * 1000 if r else NA
rows = [
    ("/bin/true", "floors", "true"),
    ("hello-world, static Swift stdlib", "floors", "hello-static"),
    ("hello-world, dynamic Swift stdlib", "floors", "hello-dynamic"),
    ("Swift execv floor -> /bin/true, static", "floors", "execfloor-static"),
    ("Swift execv floor -> /bin/true, dynamic", "floors", "execfloor-dynamic"),
    ("coffer --version, static", "run1k", "coffer-static-version"),
    ("coffer run 1k -> /bin/true, static", "run1k", "coffer-static"),
    ("coffer run 1k -> /bin/true, dynamic", "run1k", "coffer-dynamic"),
    ("python-dotenv run 1k -> /bin/true", "dotenv1k", "python-dotenv"),
    ("coffer export 10k, static", "open10k", "export-static"),
    ("coffer run 10k -> /bin/true, static", "open10k", "run-static"),
    ("coffer export 10k, dynamic", "open10k", "export-dynamic"),
    ("coffer run 10k -> /bin/true, dynamic", "open10k", "run-dynamic"),
]
try:
    load = open("/proc/loadavg").read().split()[0]
except OSError:
    load = "?"
print(f"nproc {os.cpu_count()}, load average {load} (wall times are only meaningful on an idle machine; see cpu ms)")
print(f"{'command':42s} {'median ms':>10s} {'min ms':>8s} {'cpu ms':>8s}")
for name, f, c in rows:
    print(f"{name:42s} {med(f, c):10.2f} {low(f, c):8.2f} {cpu(f, c):8.2f}")
def verdict(ok): return "MET" if ok else "NOT MET"
def line(label, m, l, c, target, ok):
    print(f"{label:44s} median {m:8.2f}  min {l:8.2f}  cpu {c:8.2f}   {target:16s} {'n/a' if m != m else verdict(ok)}")
print()
t = ("run1k", "true"); s = ("run1k", "coffer-static"); d = ("run1k", "coffer-dynamic")
line("run overhead vs /bin/true, 1k, static (ms)", med(*s) - med(*t), low(*s) - low(*t), cpu(*s) - cpu(*t),
     "target <= 5 ms", med(*s) - med(*t) <= 5)
line("run overhead vs /bin/true, 1k, dynamic (ms)", med(*d) - med(*t), low(*d) - low(*t), cpu(*d) - cpu(*t),
     "(comparison)", med(*d) - med(*t) <= 5)
line("static hello-world floor over /bin/true (ms)", med("floors", "hello-static") - med("floors", "true"),
     low("floors", "hello-static") - low("floors", "true"), cpu("floors", "hello-static") - cpu("floors", "true"),
     "(floor)", True)
py = ("dotenv1k", "python-dotenv"); cs = ("dotenv1k", "coffer-static")
line("speedup vs python-dotenv, 1k (x)", med(*py) / med(*cs), low(*py) / low(*cs), cpu(*py) / cpu(*cs),
     "target >= 20x", med(*py) / med(*cs) >= 20)
inter = open(f"{out}/interleaved1k.txt").read().splitlines()[-1].split()
over = float(inter[inter.index("first") + 1])
print(f"{'run overhead vs /bin/true, 1k, interleaved':44s} median of per-round differences {over:6.2f} ms"
      f"{'':14s}target <= 5 ms   {verdict(over <= 5)}")
e = ("open10k", "export-static"); r = ("open10k", "run-static")
line("open+decrypt 10k, export, static (ms)", med(*e), low(*e), cpu(*e), "target < 50 ms", med(*e) < 50)
line("open+decrypt 10k, run -> /bin/true, static", med(*r), low(*r), cpu(*r), "target < 50 ms", med(*r) < 50)
EOF
exit 0
