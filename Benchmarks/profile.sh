#!/usr/bin/env bash
# Where `coffer run` spends its time (docs/performance.md, "Profile"). Run after Benchmarks/run.sh has built.
#
#   Benchmarks/profile.sh    callgrind instruction counts per phase (1k and 10k secrets), perf stat, strace -c,
#                            LD_DEBUG=statistics; reports in Benchmarks/out/profile/
#   STATIC_SCRATCH=DIR       profile the static build kept in DIR (default .build), as Benchmarks/run.sh
#
# valgrind 3.19 cannot read the DWARF 5 debug info swiftc emits, so a copy with the debug sections stripped (symbols
# kept) is profiled. `--dump-before=execve` writes the profile just before coffer replaces itself with /bin/true.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out="$here/Benchmarks/out/profile"
mkdir -p "$out"
static_bin="$here/${STATIC_SCRATCH:-.build}/release/coffer"
dynamic_bin="$here/.build-dynamic/release/coffer"
[[ -x $static_bin ]] || { echo "build first: Benchmarks/run.sh" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export COFFER_IDENTITY_FILE="$tmp/identity.txt"
unset COFFER_IDENTITY COFFER_ENV
"$static_bin" keygen -o "$COFFER_IDENTITY_FILE" >/dev/null 2>&1
for n in 1000 10000; do
  mkdir -p "$tmp/p$n"
  printf 'version: 1\nproject: bench\nenvironments: [development]\nsecrets: {}\n' >"$tmp/p$n/coffer.yaml"
  python3 "$here/Benchmarks/gen_fixtures.py" "$n" "$tmp/s$n.env"
  (cd "$tmp/p$n" && "$static_bin" import "$tmp/s$n.env" --env development >/dev/null 2>&1)
done
objcopy --strip-debug "$static_bin" "$tmp/coffer"

# Inclusive instruction counts of the functions that make up the run path.
phases='coffer_main|CommandV7runMain|parseAsRoot|swift_conformsToProtocolWithExecutionContext|swift_getTypeByMangledName |RunEnvironmentO7execute|RunEnvironmentO9openVault|ProjectV6locate|IdentityStoreO4load|FilesO4read|0B4FileO4open_|0B4FileO5parse|0B4FileO3mac|AgeO7decrypt|forEachCurrentValue|AgeCryptoO4open|Base64O6decode|EnvironmentMerger|AuditorV10recordRead|AuditTrailV6append|ExecO14replaceProcess'
summarize() { # callgrind file, label
  local total
  total=$(callgrind_annotate "$1" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
  echo "== $2: $(printf "%'d" "$total") instructions (callgrind Ir)"
  callgrind_annotate --inclusive=yes "$1" 2>/dev/null | grep -E "$phases" | grep -v '^ *[0-9,]* *([ 0-9.]*%) *>' |
    sed -E 's/ \[[^]]*\]$//' | cut -c1-150 | head -40
}
{
  cd "$tmp/p1000"
  valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.version" "$tmp/coffer" --version >/dev/null 2>&1
  summarize "$out/callgrind.version" "coffer --version (1k project)"
  for n in 1000 10000; do
    cd "$tmp/p$n"
    valgrind --tool=callgrind --dump-before=execve --callgrind-out-file="$out/callgrind.run$n" \
      "$tmp/coffer" run --env development -- /bin/true >/dev/null 2>&1 || true
    summarize "$out/callgrind.run$n.1" "coffer run, $n secrets"
  done
} | tee "$out/callgrind-summary.txt"

{
  cd "$tmp/p1000"
  echo "== perf stat (software events), 1k"
  for b in "$static_bin" "$dynamic_bin"; do
    if [[ -x $b ]]; then
      perf stat -r 50 -e task-clock,page-faults,context-switches "$b" run --env development -- /bin/true 2>&1 | grep -E 'task-clock|page-faults|elapsed|Performance'
    fi
  done
  echo "== strace -c, 1k (static)"
  strace -f -c -o "$out/strace-c.txt" "$static_bin" run --env development -- /bin/true && head -20 "$out/strace-c.txt"
  echo "== LD_DEBUG=statistics"
  for b in "$static_bin" "$dynamic_bin"; do
    if [[ -x $b ]]; then
      echo "-- $b"
      LD_DEBUG=statistics "$b" --version 2>&1 | grep -E 'startup time|relocation|load objects' | head -5
    fi
  done
} 2>&1 | tee "$out/system-summary.txt"
exit 0
