#!/usr/bin/env bash
# Coffer across an organization (docs/organization.md), on examples/organization: a catalog built from the guide
# and three repositories that import it, each with planted inconsistencies; then `coffer org check` and
# `coffer org matrix`. A throwaway identity in a temporary directory; touches nothing else.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
coffer="${COFFER_BIN:-$here/.build/debug/coffer}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export COFFER_IDENTITY_FILE="$tmp/identity.txt"   # never touch your real identity
export COFFER_AUDIT_LOG="$tmp/audit.jsonl"         # nor your audit logs
export XDG_STATE_HOME="$tmp/state"
unset COFFER_IDENTITY COFFER_ENV COFFER_NOW

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

cp -r "$here/examples/organization" "$tmp/org"
cd "$tmp/org"
"$coffer" keygen -o "$COFFER_IDENTITY_FILE" >/dev/null 2>&1

step "ls                                      # the catalog and three repositories that import it"
ls

step "coffer import REPO/sample.env --env development --project REPO   # fake development values"
for repo in web api worker; do
  "$coffer" import "$repo/sample.env" --env development --project "$repo"
done
# Planted: worker's SNOWFLAKE_PASSWORD was last rotated 200 days ago (its group rotates every 180 days).
printf 'FAKE-snowflake-%s' "$(date +%s)" \
  | COFFER_NOW=$(date -u -d '-200 days' +%Y-%m-%dT%H:%M:%SZ) "$coffer" set SNOWFLAKE_PASSWORD --env development --project worker

step "coffer org check                        # every planted inconsistency, never a value"
set +e
"$coffer" org check
echo "(exit status $?)"
set -e

step "coffer org check --json | head -c 400   # the same for CI"
set +e
"$coffer" org check --json 2>/dev/null | head -c 400; echo
set -e

step "coffer org matrix                       # which repository needs which secret in which environment"
"$coffer" org matrix
