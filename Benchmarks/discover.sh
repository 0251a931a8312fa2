#!/usr/bin/env bash
# Measures `coffer discover` on a generated tree of 100,000 files (mixed languages, some references, a .gitignore'd
# vendor directory, a few binary files) and reports files/second and MB/second with hyperfine.
#
#   Benchmarks/discover.sh            # builds the release binary, generates the tree, runs hyperfine
#   FILES=20000 Benchmarks/discover.sh
#   COFFER_BIN=/path/to/coffer Benchmarks/discover.sh
#   KEEP=1 Benchmarks/discover.sh     # keep the generated tree
#
# Needs python3 and hyperfine (apt install hyperfine). The tree lives in a temporary directory removed at the end.
# Results go to stdout as a Markdown table to paste under "discover" in docs/performance.md.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
files=${FILES:-100000}
runs=${RUNS:-5}

command -v hyperfine >/dev/null || { echo "hyperfine is missing: apt install hyperfine" >&2; exit 2; }
if [ -n "${COFFER_BIN:-}" ]; then
  COFFER_BIN=$(cd "$(dirname "$COFFER_BIN")" && pwd)/$(basename "$COFFER_BIN")
else
  (cd "$here" && swift build -c release >&2)
  COFFER_BIN="$here/.build/release/coffer"
fi

tmp=$(mktemp -d)
if [ -n "${KEEP:-}" ]; then echo "tree kept in $tmp/tree" >&2; else trap 'rm -rf "$tmp"' EXIT; fi
tree="$tmp/tree"

python3 - "$tree" "$files" <<'PY'
import os, random, sys
root, total = sys.argv[1], int(sys.argv[2])
rng = random.Random(20240101)
names = [f"SERVICE_{i}_API_KEY" for i in range(300)] + [f"FEATURE_{i}_ENABLED" for i in range(200)] + ["DATABASE_URL", "REDIS_URL", "STRIPE_SECRET_KEY", "LOG_LEVEL"]
filler = "    value = compute(value, index)  # ordinary code without any environment access\n"
def body(kind, size):
    n = lambda: rng.choice(names)
    ref = {
        "py": lambda: f'x = os.environ.get("{n()}")\n',
        "js": lambda: f"const x = process.env.{n()};\n",
        "ts": lambda: f'const x: string = process.env["{n()}"] ?? "";\n',
        "go": lambda: f'\tx := os.Getenv("{n()}")\n',
        "rb": lambda: f'x = ENV.fetch("{n()}")\n',
        "swift": lambda: f'let x = ProcessInfo.processInfo.environment["{n()}"]\n',
        "rs": lambda: f'    let x = std::env::var("{n()}");\n',
        "java": lambda: f'    String x = System.getenv("{n()}");\n',
        "kt": lambda: f'val x = System.getenv("{n()}")\n',
        "sh": lambda: f'echo "${{{n()}:-default}}"\n',
    }.get(kind)
    out = []
    length = 0
    while length < size:
        line = ref() if ref and rng.random() < 0.02 else filler
        out.append(line)
        length += len(line)
    return "".join(out)
kinds = ["py", "js", "ts", "go", "rb", "swift", "rs", "java", "kt", "sh", "md", "json"]
os.makedirs(root)
with open(os.path.join(root, "coffer.yaml"), "w") as f:
    f.write("version: 1\nproject: bench\nenvironments: [production]\nsecrets:\n")
    for name in names[::2]:
        f.write(f"  {name}: {{}}\n")
with open(os.path.join(root, ".gitignore"), "w") as f:
    f.write("vendor/\n*.min.js\n")
for i in range(total):
    d = os.path.join(root, f"pkg{i % 97}", f"mod{(i // 97) % 31}")
    os.makedirs(d, exist_ok=True)
    if i % 1000 == 0:
        open(os.path.join(d, f"blob{i}.py"), "wb").write(b"\0" * 2048)
        continue
    if i % 500 == 1:
        d = os.path.join(root, "vendor", f"lib{i}")
        os.makedirs(d, exist_ok=True)
    kind = kinds[i % len(kinds)]
    size = int(rng.lognormvariate(7.0, 0.8))  # median about 1.1 KB
    name = {"sh": f"run{i}.sh"}.get(kind, f"file{i}.{kind}")
    if i % 2003 == 7:
        name, kind = "Dockerfile", "sh"
    open(os.path.join(d, name), "w").write(body(kind, size))
PY

total_files=$(find "$tree" -type f | wc -l)
total_bytes=$(find "$tree" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
cd "$tree"
"$COFFER_BIN" discover --json >/dev/null 2>"$tmp/note" || true
note=$(cat "$tmp/note")
read_files=$(sed -n 's/.*read \([0-9]*\) source file.*/\1/p' "$tmp/note")
# Bytes of the files discover reads: source files outside the ignored vendor/ directory, binary blobs excluded.
read_bytes=$(find "$tree" -type f \( -name '*.py' -o -name '*.js' -o -name '*.ts' -o -name '*.go' -o -name '*.rb' \
  -o -name '*.swift' -o -name '*.rs' -o -name '*.java' -o -name '*.kt' -o -name '*.sh' -o -name Dockerfile \) \
  -not -path '*/vendor/*' -not -name 'blob*' -printf '%s\n' | awk '{s+=$1} END {print s}')

# For scale, ripgrep (when installed) reading the same files (it honours .gitignore too) with one regex for the same
# calls: a lower bound for "read every source file and look for references".
peer=()
if command -v rg >/dev/null; then
  pattern='os\.environ|getenv|process\.env|import\.meta\.env|Getenv|LookupEnv|ENV\[|ENV\.fetch|environment\[|env::var|env!|\$\{?[A-Z_]'
  peer=(--command-name "rg (same files, one regex)" "rg --no-require-git --count-matches -t py -t js -t ts -t go -t ruby -t swift -t rust -t java -t kotlin -t sh -t docker -e '$pattern' . > /dev/null")
fi
hyperfine --warmup 1 --runs "$runs" --ignore-failure --export-json "$tmp/h.json" \
  --command-name "coffer discover ($total_files files)" "$COFFER_BIN discover --json > /dev/null 2>&1" "${peer[@]}" >&2

python3 - "$tmp/h.json" "$total_files" "$total_bytes" "$read_files" "$read_bytes" "$note" <<'PY'
import json, sys, os
results = json.load(open(sys.argv[1]))["results"]
h = results[0]
files, size, read, read_bytes, note = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
mean, sd = h["mean"], h["stddev"]
mb = 1_000_000
print(f"| tree | files | MB | source files read | MB read | mean ± σ (s) | files/s (tree) | files/s (read) | MB/s (read) |")
print(f"|---|---:|---:|---:|---:|---:|---:|---:|---:|")
print(f"| generated | {files:,} | {size / mb:.1f} | {read:,} | {read_bytes / mb:.1f} | {mean:.3f} ± {sd:.3f} | {files / mean:,.0f} | {read / mean:,.0f} | {read_bytes / mb / mean:.1f} |")
for peer in results[1:]:
    print(f"| {peer['command']} | {files:,} | {size / mb:.1f} | | {read_bytes / mb:.1f} | {peer['mean']:.3f} ± {peer['stddev']:.3f} | {files / peer['mean']:,.0f} | {read / peer['mean']:,.0f} | {read_bytes / mb / peer['mean']:.1f} |")
print()
print(f"coffer's note: {note.strip()}")
print(f"machine: {os.cpu_count()} cores; runs: {len(h['times'])}, warm page cache")
PY
