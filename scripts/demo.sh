#!/usr/bin/env bash
# Sets up whiskers and runs the main job on the built-in examples: the example
# normalisers are packed into an OCI store and signed, an embedded worker
# (SQLite, no server) runs every example's fixtures from those packages in the
# sandbox, their checked results are shown; then two runs the sandbox stops.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh build >/dev/null
for m in examples/normalisers/*/Makefile; do # the examples written in C
  make -s -C "$(dirname "$m")"
done
w=build/whiskers
work=$(mktemp -d /tmp/whiskers-demo.XXXXXX)
chmod 755 "$work" # the sandbox's user reaches the unpacked packages below it
export WHISKERS_DB=$work/whiskers.db WHISKERS_STORE=$work/store WHISKERS_TRUST=$work/trust
export WHISKERS_CACHE=$work/cache
worker=""
trap '[ -n "$worker" ] && kill "$worker" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT

step() { echo; echo "\$ $*"; "$@" || echo "(exit status $?)"; }

echo "== the examples packed into an OCI store and signed"
mkdir -m 700 "$work/keys" "$work/trust"
$w key gen --out "$work/keys/demo" >/dev/null 2>&1
cp "$work/keys/demo.pub" "$work/trust/"
for d in examples/normalisers/*/; do
  $w pack "$d" --into "$WHISKERS_STORE" >/dev/null
done
for tag in $(jq -r '.manifests[].annotations["org.opencontainers.image.ref.name"] // empty' \
  "$WHISKERS_STORE/index.json"); do
  $w sign --key "$work/keys/demo.key" "$WHISKERS_STORE" "$tag" >/dev/null
done
step $w verify --trust "$WHISKERS_TRUST" "$WHISKERS_STORE" kat_nmap_xml

echo; echo "== an embedded worker runs the packages on the examples' fixtures"
$w worker --concurrency 2 2>"$work/worker.log" &
worker=$!
for f in examples/normalisers/*/fixtures/*/; do
  id=$(jq -r .id "${f%/fixtures/*}/normalizer.json")
  $w submit --tenant demo --normaliser "$id" --meta "$f/meta.json" "$f/raw" >/dev/null
done
step $w results --wait
step $w show 1

echo; echo "== one normaliser by hand, as its author would"
step $w run examples/normalisers/http-headers \
  examples/normalisers/http-headers/fixtures/python-http-server/raw \
  --meta examples/normalisers/http-headers/fixtures/python-http-server/meta.json

echo; echo "== the sandbox stopping a memory bomb and a forbidden system call"
step $w exec --memory 64M --allow-unenforced-limits --status-fd 1 -- \
  /usr/bin/python3 -I -S -c 'b = bytearray(512 << 20)'
# bpf(2) is system call 321 on x86-64: not on the allowlist.
step $w exec --status-fd 1 -- /usr/bin/python3 -I -c 'import ctypes; ctypes.CDLL(None).syscall(321, 0, 0, 0)'
