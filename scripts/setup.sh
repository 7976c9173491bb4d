#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine, then the npm dependencies.
# System packages come from Debian (apt-get, as root); nothing is downloaded from anywhere else.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests run for real. The kernel's tests need none; later parts of Colony add theirs here
# (nats-server for the NATS bridge, bubblewrap for capsules, nginx and chromium for the front, openssl for the
# TLS test certificates, mosquitto-clients for the README's mosquitto_sub/mosquitto_pub examples, gcc for the
# capsules' capsule-enter helper, which `npm run build` compiles).
PACKAGES=(bubblewrap chromium gcc mosquitto-clients nats-server nginx openssl)

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: these Debian packages are missing and installing them needs root: ${missing[*]}" >&2
    exit 1
  fi
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi

# `npm ci`: exactly the committed lock, which it never rewrites (it fails instead when package.json and the lock
# disagree). The lock lists every optional platform binary of @bytecodealliance/jco-node-fs (all are published), so
# `npm install` on any platform leaves it as committed too; .ci/run checks that the checkout stays clean.
npm ci --no-audit --no-fund
