#!/usr/bin/env bash
# Runtimes as images: `whiskers runtime build` from this machine's Python
# (deterministic; a plain OCI image that umoci unpacks and skopeo inspects),
# the self-contained tree runs in a chroot, `runtime unpack` caches by digest
# (racing unpackers leave one complete copy), bundles carry runtimes, and a
# prepared tree (--tree) is packed as it is, or refused when it escapes; a
# package carrying a runtime image runs with it as the sandbox's root.
. "$(dirname "$0")/lib.sh"

W=$WHISKERS
# Any file serves as the contract shim here: the image carries it, and the
# test checks it lands at /whiskers/shim.py.
shim=$T/shim.py
printf 'print("shim")\n' >"$shim"
if [ ! -x /usr/bin/python3 ]; then
        skip "runtime" "no /usr/bin/python3"
        finish
fi
wh_run_raw runtime build --into "$T/rt" --shim "$shim"
expect "runtime build from this machine's Python" rc=0 'out~^sha256:[0-9a-f]{64}$'
digest=$(cat "$T/out")
tag=$(jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"]' "$T/rt/index.json")
assert_match "tagged runtime-python3.N:host" '^runtime-python3\.[0-9]+:host$' "$tag"
wh_run_raw runtime build --into "$T/rt" --shim "$shim"
expect "building again gives the same digest" rc=0 "out=$digest"

if command -v umoci >/dev/null; then
        umoci_unpack() { umoci unpack --rootless --image "$T/rt:$tag" "$T/umoci" >"$T/umoci.log" 2>&1; }
        assert_true "umoci unpacks the runtime image" umoci_unpack
        assert_true "umoci's rootfs holds the interpreter" [ -x "$T/umoci/rootfs/usr/bin/python3" ]
fi
if command -v skopeo >/dev/null; then
        assert_eq "skopeo inspect sees an image" linux \
                "$(skopeo inspect "oci:$T/rt:$tag" 2>/dev/null | jq -r .Os)"
fi

# The cache: three racing unpacks, one complete copy.
for i in 1 2 3; do "$W" runtime unpack --cache "$T/cache" "$T/rt" "$tag" >"$T/unpack.$i" 2>&1 & done
wait
assert_eq "racing unpacks agree on the path" "$T/cache/${digest#sha256:}" \
        "$(sort -u "$T"/unpack.? | tr '\n' ' ' | sed 's/ $//')"
assert_eq "one entry in the cache" "${digest#sha256:}" "$(ls -A "$T/cache")"
wh_run_raw runtime unpack --cache "$T/cache" "$T/rt" "$digest"
expect "unpack again: cached" rc=0 "out=$T/cache/${digest#sha256:}"
root=$T/cache/${digest#sha256:}
assert_true "shim in place" [ -f "$root/whiskers/shim.py" ]

probe='import json, sqlite3, ssl, zlib; print("runs", json.dumps([1]))'
if [ "$ROOT" = 1 ]; then
        assert_eq "the runtime runs alone in a chroot" 'runs [1]' \
                "$(chroot "$root" /usr/bin/python3 -I -c "$probe" 2>&1)"
elif unshare -r true 2>/dev/null; then
        assert_eq "the runtime runs alone in a chroot" 'runs [1]' \
                "$(unshare -r chroot "$root" /usr/bin/python3 -I -c "$probe" 2>&1)"
else
        skip "chroot run" "no root and no user namespaces"
fi

# Bundles carry runtimes like packages.
wh_run_raw bundle export --zstd "$T/rt" "$tag" --out "$T/rt.bundle"
expect "bundle export of a runtime" rc=0
wh_run_raw bundle import --allow-unsigned "$T/site" "$T/rt.bundle"
expect "bundle import of a runtime" rc=0 "out~$digest"
wh_run_raw runtime unpack --cache "$T/cache" "$T/site" "$tag"
expect "imported runtime is the cached one" rc=0 "out=$T/cache/${digest#sha256:}"

# A package that carries the runtime: the image is the sandbox's root (the
# shim file exists only there), it runs where the host lacks the interpreter,
# and a bundle carries the runtime layer with the package.
wh_run_raw runtime build --into "$T/pk" --shim "$shim"
expect "runtime in the package store" rc=0
ptag=$(jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"]' "$T/pk/index.json")
mkdir -p "$T/carry/schemas"
echo '{"id":"carry","version":"1.0.0","consumes":["x/y"],"produces":["Probe"],"runtime":"python3","entrypoint":"normalize.py"}' >"$T/carry/normalizer.json"
printf 'import os
def run(a, b):
    yield {"object_type": "Probe", "primary_key": "Probe|%%s" %% os.path.exists("/whiskers/shim.py")}
' >"$T/carry/normalize.py"
echo '{"type":"object"}' >"$T/carry/schemas/Probe.json"
wh_run_raw pack "$T/carry" --into "$T/pk" --runtime-image "$ptag"
expect "pack --runtime-image" rc=0
assert_eq "the manifest carries the runtime layer second" \
        "$(jq -r .layers[0].digest "$T/pk/blobs/sha256/${digest#sha256:}")" \
        "$(jq -r .layers[1].digest "$T/pk/blobs/sha256/$(cut -d: -f2 "$T/out")")"
printf 'x\n' >"$T/raw"
run_carry() {
        wh_run_raw run --json --store "$1" --allow-unsigned --cache "$T/rcache" \
                --input-ooi "Probe|in" carry "$T/raw"
}
run_carry "$T/pk"
expect "the package runs with its runtime as root" rc=0 'out~"root": "runtime-image"'
assert_eq "inside, the image's files are the root" 'Probe|True' \
        "$(jq -r '.results.observations[0].results[0].primary_key' "$T/out")"
wh_run_raw inspect --json --host-runtime exec "$T/pk" carry
assert_eq "runnable on a host without Python" true "$(jq -r '.variants[0].runnable' "$T/out")"
"$W" pack "$T/carry" --into "$T/plain" >/dev/null
run_carry "$T/plain"
assert_eq "without it, the host's /usr is the root" 'Probe|False' \
        "$(jq -r '.results.observations[0].results[0].primary_key' "$T/out")"
wh_run_raw bundle export "$T/pk" carry:1.0.0 --out "$T/carry.bundle"
expect "bundle export of the package alone" rc=0
wh_run_raw bundle import --allow-unsigned "$T/site2" "$T/carry.bundle"
expect "bundle import" rc=0
rm -rf "$T/rcache"
run_carry "$T/site2"
expect "the imported package runs with its runtime" rc=0 'out~"root": "runtime-image"'

# A prepared tree, as it is.
mkdir -p "$T/tree/usr/bin" "$T/tree/etc"
printf '#!/bin/sh\necho tree\n' >"$T/tree/usr/bin/interp" && chmod 755 "$T/tree/usr/bin/interp"
ln -s usr/bin "$T/tree/bin"
wh_run_raw runtime build --into "$T/rt" --tree "$T/tree" --name mini --interpreter /usr/bin/interp
expect "runtime build --tree" rc=0
wh_run_raw runtime unpack --cache "$T/cache" "$T/rt" runtime-mini:host
expect "tree runtime unpacks" rc=0
assert_true "tree runtime keeps its symlink" [ -L "$(cat "$T/out")/bin" ]
ln -s /etc/passwd "$T/tree/etc/escape"
wh_run_raw runtime build --into "$T/rt" --tree "$T/tree" --name bad
expect "a tree with an absolute symlink is refused" rc=1 'err~escape'
finish
