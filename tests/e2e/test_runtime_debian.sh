#!/usr/bin/env bash
# Runtime images from Debian's archive (`whiskers runtime build --debian`):
# two builds in fresh stores give the same digest; a third in a store that
# holds the image reuses it without mmdebstrap; a package name the archive
# lacks is named in the error and leaves the store untouched; a package
# carrying the image runs with Debian's Python and imports a library from
# the image's dist-packages. The image is small on purpose (python3-minimal
# and one pure-Python package). A store under the build directory keeps the
# image between runs of the test. Needs deb.debian.org (CI has it).
. "$(dirname "$0")/lib.sh"

W=$WHISKERS
SUITE=trixie
PKGS=(--package python3-minimal --package python3-typing-extensions)
if ! command -v mmdebstrap >/dev/null; then
        skip "Debian runtime images" "mmdebstrap is not installed (scripts/deps/runtime.txt)"
        finish
fi
if ! curl -sf --max-time 15 -o /dev/null "http://deb.debian.org/debian/dists/$SUITE/InRelease"; then
        skip "Debian runtime images" "deb.debian.org is not reachable"
        finish
fi
kept=$WH_BUILD_DIR/test-cache/runtime-debian
mkdir -p "$kept"

build() { timeout -k 5 300 "$W" runtime build --into "$1" --debian $SUITE "${PKGS[@]}" "${@:2}" \
        >"$T/out" 2>"$T/err"; RC=$?; LAST="runtime build --into $1 --debian $SUITE"; }

start=$(date +%s.%N)
build "$T/a"
expect "build from the archive" rc=0 'out~^sha256:[0-9a-f]{64}$'
first=$(cat "$T/out")
echo "# build: $(echo "$(date +%s.%N) - $start" | bc) s, layer $(jq -r '.layers[0].size' \
        "$T/a/blobs/sha256/${first#sha256:}") bytes"
assert_eq "tagged runtime-python3.13:$SUITE" "runtime-python3.13:$SUITE" \
        "$(jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"]' "$T/a/index.json")"
build "$kept"
expect "a second build (or the kept one) gives the same digest" rc=0 "out=$first"
start=$(date +%s.%N)
build "$T/a" --tag again:1
expect "the same inputs in the same store: reused" rc=0 "out=$first" 'err~reused'
elapsed=$(echo "$(date +%s.%N) - $start" | bc)
assert_true "reusing takes under 5 s (took $elapsed s)" [ "$(echo "$elapsed < 5" | bc)" = 1 ]

timeout -k 5 300 "$W" runtime build --into "$T/a" --debian $SUITE --package python3-minimal \
        --package whiskers-no-such-package >"$T/out" 2>"$T/err"
RC=$?
expect "a package the archive lacks" rc=1 \
        "err~Debian package 'whiskers-no-such-package' does not exist in $SUITE"
assert_eq "the store keeps its two tags only" 2 "$(jq '.manifests | length' "$T/a/index.json")"
assert_eq "no staging tree left" "" "$(ls -A "$T/a/.whiskers/tmp")"

# A package carrying the image runs with Debian's Python and its libraries.
mkdir -p "$T/n/schemas"
echo '{"id":"deb","version":"1.0.0","consumes":["x/y"],"produces":["Probe"],"runtime":"python3","entrypoint":"normalize.py"}' >"$T/n/normalizer.json"
printf 'import sys, typing_extensions\ndef run(a, b):\n    yield {"object_type": "Probe", "primary_key": "Probe|%%d.%%d" %% sys.version_info[:2]}\n' >"$T/n/normalize.py"
echo '{"type":"object"}' >"$T/n/schemas/Probe.json"
"$W" pack "$T/n" --into "$T/a" --runtime-image "runtime-python3.13:$SUITE" >/dev/null
printf 'x\n' >"$T/raw"
wh_run_raw run --json --store "$T/a" --allow-unsigned --cache "$T/cache" --input-ooi "Probe|in" \
        deb "$T/raw"
expect "the package runs in the Debian image" rc=0 'out~"root": "runtime-image"'
assert_eq "with Debian's Python 3.13 and typing_extensions from dist-packages" 'Probe|3.13' \
        "$(jq -r '.results.observations[0].results[0].primary_key' "$T/out")"
finish
