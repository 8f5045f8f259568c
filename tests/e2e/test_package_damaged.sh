#!/usr/bin/env bash
# Damaged and incomplete packages (issue 8, item 9): `runtime unpack` of a
# runtime whose config blob is missing or whose layer is empty; `sign` of a
# package whose config is missing; `push` of a damaged local blob (refused
# before anything is uploaded, not by the registry afterwards); a refused
# `store import`, `bundle import` or `pull` into a store that did not exist
# (no empty layout left); a layer that does not match its digest at `run`
# (the error names the digest).
. "$(dirname "$0")/lib.sh"

SRC=${WH_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
W=$WHISKERS
CRAFT=$(dirname "$0")/pkg_craft.py
mkdir -p "$T/pkg"
echo '{"id":"kat_dmg","version":"1.0.0","consumes":["boefje/x"],"produces":[],"runtime":"python3","entrypoint":"normalize.py"}' >"$T/pkg/normalizer.json"
echo 'def run(a, b): return []' >"$T/pkg/normalize.py"
head -c 100000 /dev/urandom >"$T/pkg/data.bin"
"$W" pack "$T/pkg" --into "$T/good" >/dev/null
"$W" key gen --out "$T/k" >/dev/null 2>&1
manifest=$(jq -r '.manifests[0].digest' "$T/good/index.json")
mblob() { echo "$1/blobs/sha256/${manifest#sha256:}"; }
config=$(jq -r '.config.digest' "$(mblob "$T/good")")
layer=$(jq -r '.layers[0].digest' "$(mblob "$T/good")")
flip() { # BLOB [OFFSET]: one byte changed, same size
        chmod u+w "$1" && printf '\xff' | dd of="$1" bs=1 seek=${2:-5000} conv=notrunc status=none
}

# ---- runtime unpack ----------------------------------------------------------
"$PYTHON" "$CRAFT" runtime "$T/rt-ok" rt:1 ok
wh_run_raw runtime unpack --cache "$T/rc" "$T/rt-ok" rt:1
expect "runtime unpack of a complete runtime" rc=0 "out~$T/rc/"
"$PYTHON" "$CRAFT" runtime "$T/rt-nocfg" rt:1 no-config
wh_run_raw runtime unpack --cache "$T/rc2" "$T/rt-nocfg" rt:1
expect "runtime unpack refuses a missing config" rc=1 'err~missing'
assert_eq "nothing unpacked" "" "$(ls -A "$T/rc2" 2>/dev/null)"
"$PYTHON" "$CRAFT" runtime "$T/rt-empty" rt:1 empty-layer
wh_run_raw runtime unpack --cache "$T/rc3" "$T/rt-empty" rt:1
expect "runtime unpack refuses an empty layer" rc=1 'err~no interpreter /usr/bin/python3'
assert_eq "nothing left in the cache" "" "$(ls -A "$T/rc3" 2>/dev/null)"

# ---- sign --------------------------------------------------------------------
cp -a "$T/good" "$T/nocfg"
rm -f "$T/nocfg/blobs/sha256/${config#sha256:}"
wh_run_raw sign --key "$T/k.key" "$T/nocfg"
expect "sign refuses a package whose config is missing" rc=1 "err~refusing to sign.*$config.*missing"
assert_eq "no signature was added" 1 "$(jq '.manifests | length' "$T/nocfg/index.json")"

# ---- run: a layer that does not match its digest -------------------------------
cp -a "$T/good" "$T/flipped"
flip "$T/flipped/blobs/sha256/${layer#sha256:}" 20 # early: the tar reader trips first
printf 'raw\n' >"$T/raw"
wh_run_raw run --store "$T/flipped" --allow-unsigned --cache "$T/cache" kat_dmg "$T/raw"
expect "run names the digest a damaged layer does not match" rc=2 \
        "err~does not match its digest $layer"

# ---- no empty layout after a refused import into a new store ------------------
"$W" store export "$T/good" kat_dmg:1.0.0 --tar "$T/good.tar"
"$W" bundle export "$T/good" kat_dmg:1.0.0 --out "$T/good.bundle"
head -c 20000 "$T/good.tar" >"$T/trunc.tar"
wh_run_raw store import "$T/new1" "$T/trunc.tar"
expect "store import of a truncated archive into a new store" rc=1
assert_true "leaves no layout behind" [ ! -e "$T/new1" ]
mkdir -m 700 "$T/trust" && cp "$T/k.pub" "$T/trust/"
wh_run_raw bundle import --trust "$T/trust" "$T/new2" "$T/good.bundle"
expect "bundle import of an unsigned package into a new store" rc=1 'err~not signed'
assert_true "leaves no layout behind" [ ! -e "$T/new2" ]
mkdir "$T/existing"
wh_run_raw store import "$T/existing" "$T/trunc.tar"
assert_true "a directory that existed is kept" [ -d "$T/existing" ]

if ! command -v docker-registry >/dev/null; then
        skip "push and pull" "docker-registry is not installed"
        finish
fi
on_exit "'$SRC/scripts/registry-stop.sh' '$T/reg'"
ADDR=$("$SRC/scripts/registry-start.sh" "$T/reg") || { fail "registry start" nodump; finish; }

# ---- push of a damaged local blob ---------------------------------------------
wh_run_raw push "$T/flipped" "$ADDR/dmg/pkg:1"
expect "push refuses a damaged local blob itself" rc=1 \
        "err~nothing was pushed.*does not match its digest $layer"
for blob in "$config" "$layer"; do
        code=$(curl -s -o /dev/null -w '%{http_code}' -I "http://$ADDR/v2/dmg/pkg/blobs/$blob")
        assert_eq "the registry got nothing ($blob)" 404 "$code"
done

# ---- pull into a new store ----------------------------------------------------
wh_run_raw pull "$T/new3" "$ADDR/dmg/none:1"
expect "pull of a missing package into a new store" rc=1 'err~not found|MANIFEST_UNKNOWN'
assert_true "leaves no layout behind" [ ! -e "$T/new3" ]
finish
