#!/usr/bin/env bash
# Leak-scanner benchmark (docs/performance.md, section "scan"): Coffer against ripgrep, detect-secrets and
# git-secrets, in one run, on the corpus that ../shared/bench/make_scan_corpus.sh generates.
#
#   Benchmarks/scan.sh [TARGET_MB]        (default 200; e.g. 50 for a quick run)
#
# Environment: COFFER_BIN (default: a release build), WORK (default: a temporary directory, removed at the end
# unless KEEP=1), SEED (default 20260801), DS_SAMPLE_MB (detect-secrets' sample size, default 4).
# Installs ripgrep and git-secrets (apt) and detect-secrets (pip) when missing: benchmark-only tools, not CI's.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
target_mb="${1:-200}"
seed="${SEED:-20260801}"
work="${WORK:-$(mktemp -d)}"
[ -n "${WORK:-}" ] || { [ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$work"' EXIT; }
mkdir -p "$work"

need=()
command -v rg >/dev/null || need+=(ripgrep)
command -v git-secrets >/dev/null || need+=(git-secrets)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
  $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${need[@]}"
fi
command -v detect-secrets >/dev/null || python3 -m pip install -q detect-secrets

if [ -z "${COFFER_BIN:-}" ]; then
  (cd "$here" && swift build -c release >/dev/null)
  COFFER_BIN="$here/.build/release/coffer"
fi

echo "corpus: ${target_mb} MB, seed ${seed}, in $work" >&2
OUT="$work" SEED="$seed" "$here/../shared/bench/make_scan_corpus.sh" "$target_mb" >&2

python3 - "$work" "$COFFER_BIN" "${DS_SAMPLE_MB:-4}" <<'PY'
import json, os, random, resource, statistics, subprocess, sys, time
work, coffer, ds_sample_mb = sys.argv[1], sys.argv[2], float(sys.argv[3])
repo = os.path.join(work, "corpus", "repo")
needles = os.path.join(work, "corpus", "needles.txt")
truth = json.load(open(os.path.join(work, "corpus_truth.json")))
secrets = truth["secrets"]
plant = truth["commits"]["plant"]

def name_of(e): return "S%03d_%s" % (e["n"], e["env_name"] or "PEM_KEY")

# ---- a Coffer project holding every planted value, outside the repository ------------------------------------
project = os.path.join(work, "project")
os.makedirs(os.path.join(project, "values"), exist_ok=True)
env = dict(os.environ, COFFER_IDENTITY_FILE=os.path.join(project, "identity.txt"),
           COFFER_AUDIT_LOG=os.path.join(project, "audit.jsonl"), COFFER_ENV="bench")
env.pop("COFFER_IDENTITY", None)
if not os.path.exists(env["COFFER_IDENTITY_FILE"]):
    subprocess.run([coffer, "keygen", "-o", env["COFFER_IDENTITY_FILE"]], env=env, check=True, capture_output=True)
open(os.path.join(project, "coffer.yaml"), "w").write("version: 1\nproject: scan-bench\nenvironments: [bench]\n")
for e in secrets:
    p = os.path.join(project, "values", name_of(e))
    open(p, "w").write(e["value"])
    subprocess.run([coffer, "set", name_of(e), "--env", "bench", "--file", p, "--project", project], env=env, check=True, capture_output=True)

# ---- the corpus: files and sizes; warm the page cache ------------------------------------------------------------
files = subprocess.run(["git", "-C", repo, "ls-files", "-z"], capture_output=True, check=True).stdout.split(b"\0")
files = [f.decode() for f in files if f]
tree_bytes = 0
for f in files:
    with open(os.path.join(repo, f), "rb") as fh: tree_bytes += len(fh.read())
objects = subprocess.run(["git", "-C", repo, "rev-list", "--all", "--objects"], capture_output=True, check=True).stdout
names = b"\n".join(line.split(b" ", 1)[0] for line in objects.splitlines()) + b"\n"
sizes = subprocess.run(["git", "-C", repo, "cat-file", "--batch-check=%(objecttype) %(objectsize)"], input=names, capture_output=True, check=True).stdout
blob_bytes = sum(int(l.split()[1]) for l in sizes.splitlines() if l.startswith(b"blob "))
MB = 1e6

def timed(cmd, cwd=repo, stdin=None, shell=False):
    """Runs a command; returns (wall seconds, cpu seconds of children, stdout bytes, exit code)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    r = subprocess.run(cmd, cwd=cwd, env=env, stdin=stdin, capture_output=True, shell=shell)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, r.stdout, r.returncode

def best_of(n, cmd, **kw):
    runs = [timed(cmd, **kw) for _ in range(n)]
    walls = sorted(runs, key=lambda r: r[0])
    return walls[len(walls) // 2]  # the median run

# Truth lines: (file, line) ranges of every planted secret.
def hit(e, path, line):
    return path == e["file"] and e["line"] <= line < e["line"] + e["n_lines"]

def recall(entries, found):
    """found: list of (path, line) or (path, line, name)."""
    got = [e for e in entries if any(hit(e, f[0], f[1]) and (len(f) < 3 or f[2] is None or f[2] == name_of(e)) for f in found)]
    return len(got), len(entries)

def extras(entries, found):
    return sum(1 for f in found if not any(hit(e, f[0], f[1]) for e in entries))

head = [e for e in secrets if e["in_head"]]
hist_only = [e for e in secrets if not e["in_head"]]
rows = []

def fmt(x): return "%.0f" % x if x >= 10 else "%.2f" % x

def row(tool, what, mb, wall, cpu, rec, extra, note=""):
    rows.append((tool, what, fmt(mb / wall), fmt(mb / cpu) if cpu > 0 else "-", "%d/%d (%.1f%%)" % (rec[0], rec[1], 100.0 * rec[0] / rec[1]) if rec[1] else "-", str(extra), note))

# ---- Coffer, working tree ---------------------------------------------------------------------------------------
for _ in range(2): timed([coffer, "scan", "--project", project, "--formats-only", "."])  # warm-up
wall, cpu, out, rc = best_of(3, [coffer, "scan", "--project", project, "--json", "."])
doc = json.loads(out)
found = [(f["path"], f["line"], f["secret"]) for f in doc["findings"]]
ends = [(f["path"], f["end_line"], f["secret"]) for f in doc["findings"]]
spans = [(f["path"], l, f["secret"]) for f in doc["findings"] for l in range(f["line"], f["end_line"] + 1)]
row("coffer scan", "working tree", tree_bytes / MB, wall, cpu, recall(head, spans), extras(head, found),
    "%d findings; extra = private keys in vendored test fixtures" % len(found))
coffer_tree = (wall, cpu)

# ---- ripgrep, working tree ------------------------------------------------------------------------------------
wall, cpu, out, rc = best_of(3, ["rg", "--hidden", "-F", "-f", needles, "-n", "--null", "--no-heading", "."])
rg_found = []
for line in out.split(b"\n"):
    if b"\0" not in line: continue
    path, rest = line.split(b"\0", 1)
    rg_found.append((path.decode().removeprefix("./"), int(rest.split(b":", 1)[0])))
row("rg --hidden -F -f needles", "working tree", tree_bytes / MB, wall, cpu, recall(head, rg_found), extras(head, rg_found), "the 200 needles, one per planted secret")
rg_tree = (wall, cpu)

# ---- git-secrets, working tree (AWS patterns + the planted types' prefixes) ---------------------------------------
subprocess.run(["git", "-C", repo, "secrets", "--install", "-f"], capture_output=True)
subprocess.run(["git", "-C", repo, "secrets", "--register-aws"], capture_output=True)
for p in [r"sk-[A-Za-z0-9_-]{20,}", r"xox[bpa]-[0-9A-Za-z-]{10,}", r"gh[pousr]_[A-Za-z0-9]{36}", r"github_pat_[A-Za-z0-9_]{59,}",
          r"A[KS]IA[A-Z2-7]{16}", r"AIza[A-Za-z0-9_-]{35}", r"SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}", r"npm_[A-Za-z0-9]{36}",
          r"pypi-AgEIcHlwaS5vcmc", r"sk_live_[A-Za-z0-9]{24,}", r"lin_api_[A-Za-z0-9]{40}", r"-----BEGIN [A-Z ]*PRIVATE KEY-----"]:
    subprocess.run(["git", "-C", repo, "secrets", "--add", p], capture_output=True)
wall, cpu, out, rc = timed(["git", "secrets", "--scan"])
r = subprocess.run(["git", "secrets", "--scan"], cwd=repo, capture_output=True)
gs_found = []
for line in (r.stdout + r.stderr).split(b"\n"):
    parts = line.split(b":", 2)
    if len(parts) == 3 and parts[1].isdigit(): gs_found.append((parts[0].decode(errors="replace"), int(parts[1])))
row("git secrets --scan", "working tree", tree_bytes / MB, wall, cpu, recall(head, gs_found), extras(head, gs_found), "AWS + 12 prefixes")

# ---- detect-secrets, on a sample: every file with a planted secret plus random others ----------------------------
R = random.Random(1)
planted_files = sorted({e["file"] for e in head})
others = [f for f in files if f not in set(planted_files)]
R.shuffle(others)
sample, size = list(planted_files), sum(os.path.getsize(os.path.join(repo, f)) for f in planted_files)
for f in others:
    if size >= ds_sample_mb * MB: break
    sample.append(f); size += os.path.getsize(os.path.join(repo, f))
wall, cpu, out, rc = timed(["detect-secrets", "scan", "--all-files"] + sample)
ds = json.loads(out)
ds_found = [(path, r["line_number"]) for path, results in ds.get("results", {}).items() for r in results]
row("detect-secrets scan", "working tree, %.1f MB sample" % (size / MB), size / MB, wall, cpu, recall(head, ds_found), extras(head, ds_found),
    "sample = the %d files with planted secrets + random files" % len(planted_files))
ds_tree = (size / MB / wall, size / MB / cpu)

# ---- Coffer, history ---------------------------------------------------------------------------------------------
wall, cpu, out, rc = best_of(3, [coffer, "scan", "--project", project, "--history", "--json"])
doc = json.loads(out)
hfound = [(f["path"], l, f["secret"]) for f in doc["findings"] for l in range(f["line"], f["end_line"] + 1) if f["commit"] == plant]
hstarts = [(f["path"], f["line"]) for f in doc["findings"]]
row("coffer scan --history", "history (all refs)", blob_bytes / MB, wall, cpu, recall(hist_only, hfound), extras(secrets, hstarts),
    "recall on the 30 history-only secrets, at their commit; all 200: %d/200" % recall(secrets, hfound)[0])

# ---- ripgrep over git log -p, history ----------------------------------------------------------------------------
wall, cpu, out, rc = timed("git log --all -p --no-color | rg -F -f %s -c" % needles, shell=True)
count = int(out.strip() or b"0")
hist_needles = [e["needle"] for e in hist_only]
logtext = subprocess.run(["git", "-C", repo, "log", "--all", "-p", "--no-color"], capture_output=True).stdout
rg_hist = sum(1 for n in hist_needles if n.encode() in logtext)
rows.append(("git log -p \\| rg -F", "history (all refs)", fmt(blob_bytes / MB / wall), fmt(blob_bytes / MB / cpu), "%d/%d" % (rg_hist, len(hist_only)), "-", "%d matching lines; no commit attribution" % count))

# ---- git-secrets, history ----------------------------------------------------------------------------------------
wall, cpu, out, rc = timed(["git", "secrets", "--scan-history"])
r = subprocess.run(["git", "secrets", "--scan-history"], cwd=repo, capture_output=True)
text = (r.stdout + r.stderr).decode(errors="replace")
gsh = 0
for e in hist_only:
    if any(line.startswith(e["added_in"] + ":" + e["file"] + ":") for line in text.splitlines()): gsh += 1
rows.append(("git secrets --scan-history", "history (all refs)", fmt(blob_bytes / MB / wall), fmt(blob_bytes / MB / cpu), "%d/%d" % (gsh, len(hist_only)), "-", ""))

print("Corpus: %.1f MB working tree (%d files), %.1f MB of blobs in history, %d planted secrets (%d in HEAD, %d history-only)\n"
      % (tree_bytes / MB, len(files), blob_bytes / MB, len(secrets), len(head), len(hist_only)))
print("| tool | scope | MB/s wall | MB per CPU-second | recall on planted values | extra findings | note |")
print("|---|---|---|---|---|---|---|")
for r in rows: print("| " + " | ".join(r) + " |")
print()
print("Coffer / rg -F, working tree: %.2fx wall, %.2fx CPU" % (rg_tree[0] / coffer_tree[0], rg_tree[1] / coffer_tree[1]))
print("Coffer / detect-secrets, working tree: %.0fx wall, %.0fx CPU" % ((tree_bytes / MB / coffer_tree[0]) / ds_tree[0], (tree_bytes / MB / coffer_tree[1]) / ds_tree[1]))
PY
