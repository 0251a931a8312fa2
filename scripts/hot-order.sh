#!/usr/bin/env bash
# Writes BuildSupport/coffer.order: the functions coffer's common commands execute, in the order they first run, as
# the section names the release link lays out first and together (docs/architecture.md, "Building for release").
# Fewer pages of the executable are touched on start-up: `run` at 1,000 secrets took about 90 fewer page faults.
#
#   scripts/hot-order.sh [BINARY]   BINARY: a release build made with `make release` (default .build/release/coffer)
#
# Needs valgrind and python3. Runs `--version`, `run`, `get`, `check` and `export` under callgrind on a generated
# project of 1,000 secrets (the benchmarks' fixture) and lists every function executed, the start-up path's first.
# Names that a later change renames or removes only go unmatched (the linker ignores them); regenerate after large
# changes to the start-up path, then rebuild with `make release`.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-"$here/.build/release/coffer"}
[[ -x $bin ]] || { echo "no release binary at $bin: run make release first" >&2; exit 1; }
bin=$(realpath "$bin")  # the fixture is made from another directory
command -v valgrind >/dev/null || { echo "valgrind is required (apt-get install valgrind)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export COFFER_IDENTITY_FILE="$tmp/identity.txt" XDG_STATE_HOME="$tmp/state"
unset COFFER_IDENTITY COFFER_ENV
"$bin" keygen -o "$COFFER_IDENTITY_FILE" >/dev/null 2>&1
mkdir -p "$tmp/p"
python3 "$here/Benchmarks/gen_fixtures.py" 1000 "$tmp/secrets.env" "$tmp/p/coffer.yaml"
(cd "$tmp/p" && "$bin" migrate --yes >/dev/null 2>&1 && "$bin" import "$tmp/secrets.env" --env development >/dev/null 2>&1)
# valgrind 3.19 cannot read the DWARF 5 debug info swiftc emits: profile a copy without it (symbols kept).
objcopy --strip-debug "$bin" "$tmp/coffer"

n=0
for args in "--version" "run --env development -- /bin/true" "get SECRET_00500 --env development" \
  "check --env development" "export --env development --format dotenv"; do
  n=$((n + 1))
  # Twice first, so that the caches and the signature memo are warm, as on every run but the first.
  for _ in 1 2; do (cd "$tmp/p" && "$tmp/coffer" $args >/dev/null 2>&1); done
  (cd "$tmp/p" && valgrind --tool=callgrind --demangle=no --dump-before=execve \
    --callgrind-out-file="$tmp/cg.$n" "$tmp/coffer" $args >/dev/null 2>&1)
done

# Written beside the list and renamed over it, so a failure leaves the old list whole.
python3 - "$tmp" "$n" >"$here/BuildSupport/coffer.order.new" <<'EOF'
import glob, re, sys
tmp, count = sys.argv[1], int(sys.argv[2])
seen, order = set(), []
for n in range(1, count + 1):
    for path in sorted(glob.glob(f"{tmp}/cg.{n}*")):
        names = {}
        for line in open(path, errors="replace"):
            m = re.match(r"^(fn|cfn)=\((\d+)\)(?: (\S+))?$", line.rstrip("\n"))
            if not m:
                continue
            kind, ident, name = m.groups()
            if name:
                names[ident] = name
            name = names.get(ident)
            # Only real symbols (callgrind's "(below main)" and "0x…" are not sections).
            if kind == "fn" and name and name not in seen and not name.startswith(("(", "0x")):
                seen.add(name)
                order.append(name)
# Static constructors first: compilers put them in sections named `.text.startup` (clang: ICU's, the Swift runtime's)
# or `.text.startup.NAME` (GCC: libstdc++'s), which no function name above matches, and every process runs them
# before `main`. gold takes the glob.
print(".text.startup*")
for name in order:
    print(f".text.{name}")
EOF
mv "$here/BuildSupport/coffer.order.new" "$here/BuildSupport/coffer.order"
echo "wrote BuildSupport/coffer.order: $(($(wc -l <"$here/BuildSupport/coffer.order") - 1)) functions and the static constructors" >&2
