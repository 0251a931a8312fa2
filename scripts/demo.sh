#!/usr/bin/env bash
# Coffer's main job on the bundled example: a throwaway project and identity, then
# init, import, check, template, export and run. Touches nothing outside a temporary directory.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
coffer="${COFFER_BIN:-$here/.build/debug/coffer}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export COFFER_IDENTITY_FILE="$tmp/identity.txt"   # never touch your real identity
export COFFER_AUDIT_LOG="$tmp/audit.jsonl"         # nor your audit logs
unset COFFER_IDENTITY COFFER_ENV

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

mkdir "$tmp/fresh"
step "coffer init --project fresh            # a new project: manifest, .coffer/, .gitignore, identity"
"$coffer" init --project "$tmp/fresh" --project-name fresh --name demo
cat "$tmp/fresh/coffer.yaml"

mkdir "$tmp/sophia"
cp "$here/examples/reference/coffer.yaml" "$tmp/sophia/"
cd "$tmp/sophia"
step "coffer migrate --yes                   # the reference manifest predates signed access policies: sign one"
"$coffer" migrate --yes
step "coffer import sample.env --env development   # the reference system's manifest and a sample .env"
"$coffer" import "$here/examples/reference/sample.env" --env development

step "coffer list --env development"
"$coffer" list --env development

step "coffer check --env development          # what is missing, what is malformed, and why (never a value)"
set +e
"$coffer" check --env development
echo "(exit status $?)"
set -e

step "coffer template | head -20"
"$coffer" template | head -20

step "coffer export --env development --format shell | cut -c1-30"
"$coffer" export --env development --format shell | cut -c1-30

step "coffer run --env development -- sh -c '…'   # fails closed: required secrets have no value, so nothing runs"
set +e
"$coffer" run --env development -- sh -c 'echo "$ENVIRONMENT has ${#GONG_CLIENT_SECRET} characters of Gong secret"'
echo "(exit status $?)"
set -e

step "coffer run --env development --allow-missing -- sh -c 'echo \$ENVIRONMENT has \${#GONG_CLIENT_SECRET} characters of Gong secret'"
"$coffer" run --env development --allow-missing -- sh -c 'echo "$ENVIRONMENT has ${#GONG_CLIENT_SECRET} characters of Gong secret"'

step "coffer audit                            # every read and write, hash-chained; never a value"
"$coffer" audit | cut -c1-110

step "ls -l .coffer/vault && head -c 300 .coffer/vault/development.vault   # safe to commit: names readable, values sealed"
ls -l .coffer/vault
head -c 300 .coffer/vault/development.vault; echo
