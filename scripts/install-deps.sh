#!/usr/bin/env bash
# Installs the Debian packages whiskers needs to build and test. Idempotent:
# packages already present are not fetched again. Needs root (or sudo).
set -euo pipefail
cd "$(dirname "$0")/.."

build_deps=(build-essential cmake pkg-config clang-format
            libseccomp-dev libjansson-dev libssl-dev libarchive-dev libcurl4-openssl-dev
            libsqlite3-dev libpq-dev libcmocka-dev)
# Test-time components: real peers and real data sources.
test_deps=(python3 iproute2 util-linux procps passwd)
# Each module may list more packages, one per line, in scripts/deps/<module>.txt.
extra=()
for f in scripts/deps/*.txt; do
  [ -e "$f" ] || continue
  while read -r p; do [ -n "$p" ] && [ "${p#\#}" = "$p" ] && extra+=("$p"); done <"$f"
done
# The regex differential test (scripts/regex-diff.sh) judges with node: any
# node will do, so Debian's nodejs only where none is installed yet.
command -v node >/dev/null || extra+=(nodejs)

missing=()
for p in "${build_deps[@]}" "${test_deps[@]}" "${extra[@]}" "$@"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  echo "install-deps: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
