#!/usr/bin/env bash
# Python layers (`whiskers pack --python-path DIR`): two normalisers that
# need different versions of one library live in one store and run side by
# side, each seeing its own version; the layer they share is one blob and
# one unpacked directory; the layers are read-only inside the sandbox; the
# provenance names them.
. "$(dirname "$0")/lib.sh"

W=$WHISKERS
if [ ! -x /usr/bin/python3 ]; then
        skip "Python layers" "no /usr/bin/python3"
        finish
fi
mkdir -p "$T/shared/octo" "$T/lib1/fakelib" "$T/lib2/fakelib"
echo 'X = 1' >"$T/shared/octo/__init__.py"
echo 'VERSION = "1.0"' >"$T/lib1/fakelib/__init__.py"
echo 'VERSION = "2.0"' >"$T/lib2/fakelib/__init__.py"
for n in a b; do
        mkdir -p "$T/$n/schemas"
        echo '{"id":"n'$n'","version":"1.0.0","consumes":["x/y"],"produces":["Probe"],"runtime":"python3","entrypoint":"normalize.py"}' >"$T/$n/normalizer.json"
        cat >"$T/$n/normalize.py" <<'EOF'
import fakelib, octo
def run(a, b):
    try:
        open(octo.__file__, "a")
        ro = "writable"
    except OSError:
        ro = "read-only"
    yield {"object_type": "Probe", "primary_key": "Probe|%s|%s" % (fakelib.VERSION, ro)}
EOF
        echo '{"type":"object"}' >"$T/$n/schemas/Probe.json"
done
wh_run_raw pack "$T/a" --into "$T/st" --python-path "$T/shared" --python-path "$T/lib1"
expect "pack a with the shared layer and fakelib 1.0" rc=0
wh_run_raw pack "$T/b" --into "$T/st" --python-path "$T/shared" --python-path "$T/lib2"
expect "pack b with the shared layer and fakelib 2.0" rc=0
manifest() { jq -r --arg t "$1" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t) | .digest' "$T/st/index.json" | cut -d: -f2; }
shared_a=$(jq -r '.layers[1].digest' "$T/st/blobs/sha256/$(manifest na:1.0.0)")
shared_b=$(jq -r '.layers[1].digest' "$T/st/blobs/sha256/$(manifest nb:1.0.0)")
assert_eq "both manifests name one shared layer" "$shared_a" "$shared_b"

printf 'x\n' >"$T/raw"
for n in a b; do
        wh_run_raw run --json --store "$T/st" --allow-unsigned --cache "$T/cache" \
                --input-ooi "Probe|in" "n$n" "$T/raw"
        expect "n$n runs" rc=0
        cp "$T/out" "$T/run.$n"
done
assert_eq "a sees fakelib 1.0, read-only" 'Probe|1.0|read-only' \
        "$(jq -r '.results.observations[0].results[0].primary_key' "$T/run.a")"
assert_eq "b sees fakelib 2.0, read-only" 'Probe|2.0|read-only' \
        "$(jq -r '.results.observations[0].results[0].primary_key' "$T/run.b")"
assert_eq "the provenance names the layers" "$shared_a" \
        "$(jq -r '.provenance.normaliser.package.python_layers[0]' "$T/run.a")"
assert_eq "one unpacked copy of the shared layer" 1 \
        "$(ls "$T/cache/layers" | grep -c "${shared_a#sha256:}")"
assert_eq "five layer directories: a, b, shared, lib1, lib2" 5 \
        "$(ls "$T/cache/layers" | wc -l)"
finish
