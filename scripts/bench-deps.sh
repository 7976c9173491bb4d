#!/usr/bin/env bash
# Installs what `npm run bench` uses from Debian when it is missing: mosquitto (the broker baseline) and
# wrk (the HTTP load generator). Both are optional: the benchmarks fall back (skip Mosquitto, use a small
# node load generator) without them. Idempotent: installs nothing when everything is present.
set -euo pipefail

# command name -> Debian package
declare -A wanted=([mosquitto]=mosquitto [wrk]=wrk)
# mosquitto installs into /usr/sbin, which is not always on a non-root PATH.
export PATH="$PATH:/usr/sbin:/sbin"

missing=()
for cmd in "${!wanted[@]}"; do
  if ! command -v "$cmd" >/dev/null 2>&1; then missing+=("${wanted[$cmd]}"); fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "bench-deps: mosquitto and wrk are installed"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "bench-deps: missing ${missing[*]}; as root run: apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"
# The Debian package enables a system mosquitto service on port 1883; the benchmark starts its own on a
# free port, so stop the packaged one where a service manager runs it (it is harmless if this fails).
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet mosquitto 2>/dev/null; then
  systemctl stop mosquitto || true
  systemctl disable mosquitto >/dev/null 2>&1 || true
fi
echo "bench-deps: installed ${missing[*]}"
