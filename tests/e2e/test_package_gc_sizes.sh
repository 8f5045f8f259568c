#!/usr/bin/env bash
# Descriptor sizes (issue 8, item 7): a layout whose index.json descriptor
# states the wrong size for a tagged package (1 TiB for a 1 KB manifest, as a
# careless tool or an attacker writes it). Every reader refuses it, naming the
# size; `store verify` flags it; `store gc` refuses to run and deletes nothing,
# for a single manifest, a multi-variant index and a wrong size deeper down
# (a layer descriptor inside the manifest).
. "$(dirname "$0")/lib.sh"

W=$WHISKERS
CRAFT=$(dirname "$0")/pkg_craft.py
mk_pkg() { # DIR ID [variant-json runtime]
        mkdir -p "$1"
        printf '{"id":"%s","version":"1.0.0","consumes":["boefje/x"],"produces":["X"],"runtime":"%s","entrypoint":"normalize.py"%s}\n' \
                "$2" "${4:-python3}" "${3:+,\"variant\":$3}" >"$1/normalizer.json"
        echo 'def run(a, b): return []' >"$1/normalize.py"
        chmod +x "$1/normalize.py"
}
blobs() { find "$1/blobs/sha256" -type f | wc -l; }
"$W" key gen --out "$T/k" >/dev/null 2>&1
mkdir -m 700 "$T/trust" && cp "$T/k.pub" "$T/trust/"
printf 'raw\n' >"$T/raw"

mk_pkg "$T/one" kat_one
mk_pkg "$T/v1" kat_multi '{"name":"baseline","baseline":true}'
mk_pkg "$T/v2" kat_multi '{"name":"exec-build"}' exec
"$W" pack "$T/one" --into "$T/a" >/dev/null
"$W" pack "$T/v1" "$T/v2" --into "$T/m" >/dev/null
"$W" pack "$T/one" --into "$T/deep" >/dev/null
"$W" sign --key "$T/k.key" "$T/a" >/dev/null
"$PYTHON" "$CRAFT" size "$T/a" kat_one:1.0.0 1099511627776
"$PYTHON" "$CRAFT" size "$T/m" kat_multi:1.0.0 1099511627776
# The layer descriptor inside the manifest: a new manifest, re-tagged.
"$PYTHON" - "$T/deep" <<'PY'
import hashlib, json, os, sys
layout = sys.argv[1]
index = json.load(open(f"{layout}/index.json"))
e = index["manifests"][0]
m = json.load(open(f"{layout}/blobs/sha256/{e['digest'][7:]}"))
m["layers"][0]["size"] += 1000
doc = json.dumps(m, separators=(",", ":"), sort_keys=True).encode()
d = hashlib.sha256(doc).hexdigest()
open(f"{layout}/blobs/sha256/{d}", "wb").write(doc)
e.update(digest="sha256:" + d, size=len(doc))
json.dump(index, open(f"{layout}/index.json", "w"))
PY

size_err='1099511627776'
wh_run_raw run --store "$T/a" --trust "$T/trust" --cache "$T/cache" kat_one "$T/raw"
expect "run refuses the wrong size" rc=2 "err~$size_err"
wh_run_raw inspect "$T/a"
expect "inspect refuses the wrong size" rc=1 "err~$size_err"
wh_run_raw sign --key "$T/k.key" "$T/a"
expect "sign refuses the wrong size" rc=1 "err~$size_err"
wh_run_raw verify --trust "$T/trust" "$T/a"
expect "verify does not call it trusted" rc=1 "out~NOT trusted.*$size_err"
wh_run_raw store verify "$T/a"
expect "store verify flags it" rc=1 "out~$size_err"

for layout in a m deep; do
        before=$(blobs "$T/$layout")
        wh_run_raw store gc "$T/$layout"
        expect "gc refuses $layout, which it cannot read fully" rc=1 \
                'err~refusing to collect garbage.*nothing was deleted'
        assert_eq "gc deleted nothing in $layout" "$before" "$(blobs "$T/$layout")"
done
wh_run_raw run --store "$T/deep" --allow-unsigned --cache "$T/cache" kat_one "$T/raw"
expect "run refuses a wrong layer size" rc=2 'err~its descriptor says'

# Once the broken tag is gone, gc works again and collects its blobs.
wh_run_raw store rm "$T/m" kat_multi:1.0.0
wh_run_raw store gc --json "$T/m"
expect "gc after the broken tag is removed" rc=0 'out~"blobs_removed":7'
finish
