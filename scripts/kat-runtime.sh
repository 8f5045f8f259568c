#!/usr/bin/env bash
# Sets up OpenKAT's corpus the way docs/openkat.md tells a user to, with the
# product's own commands, in BUILD_DIR/kat-runtime (printed):
#
#   store/    `whiskers runtime build --debian trixie` with the Debian packages
#             OpenKAT's normalisers import (cached by the store: same archive
#             state and packages, no mmdebstrap), and CORPUS/plugins packed
#             with `whiskers pack --plugins` on that image, the octopoes models
#             and boefjes.normalizer_models (CORPUS/src) as a Python layer
#   cache/    where runs unpack packages (whiskers run --cache)
#   schemas/  JSON Schemas generated from those models by the image's own
#             Python in a whiskers sandbox (runtimes/python/octopoes_schemas.py):
#             the --schema-dir for OpenKAT normalisers that ship none
#   root/     for directory runs (whiskers run --runtime-root): the image
#             unpacked (hard links into cache/) plus the models in
#             /whiskers/python/openkat, which a directory run has no layer for
#
#   scripts/kat-runtime.sh BUILD_DIR CORPUS_DIR [WHISKERS]
#
# WHISKERS defaults to BUILD_DIR/src/cli/whiskers. The packs, schemas and
# root are made fresh every time (seconds; the corpus may change).
set -euo pipefail
build=$1
corpus=$(cd "$2" && pwd -P)
whiskers=${3:-$build/src/cli/whiskers}
suite=trixie
packages=()
for p in python3 python3-pydantic python3-dnspython python3-packaging python3-pil python3-bs4 \
        python3-validators python3-jsonschema python3-cryptography python3-dateutil \
        python3-libnmap python3-tldextract; do
        packages+=(--package "$p")
done
out=$build/kat-runtime
mkdir -p "$out"
out=$(cd "$out" && pwd -P)

image=$("$whiskers" runtime build --into "$out/store" --debian "$suite" "${packages[@]}")
"$whiskers" pack --plugins "$corpus/plugins" --into "$out/store" --runtime-image "$image" \
        --python-path "$corpus/src" >/dev/null
image_root=$("$whiskers" runtime unpack --cache "$out/cache" "$out/store" "$image")

# The generator runs as the caller (its files are the caller's), on the
# image read-only, with the models where a package's first layer would be.
rm -rf "$out/schemas"
mkdir -p "$out/schemas"
"$whiskers" exec --rootfs "$image_root" --host-uid "$(id -u)" --host-gid "$(id -g)" \
        --ro-bind "$corpus/src:/whiskers/python/0" \
        --ro-bind "$(cd "$(dirname "$0")/../runtimes/python" && pwd -P):/normaliser" \
        --bind "$out/schemas:/input" -- /usr/bin/python3 -B -c \
        'import runpy, sys; sys.path.insert(0, "/whiskers/python/0"); sys.argv[1:] = ["/input"]
runpy.run_path("/normaliser/octopoes_schemas.py", run_name="__main__")' >&2

rm -rf "$out/root"
cp -al "$image_root" "$out/root"
mkdir "$out/root/whiskers/python/openkat" # after 0..7 and debian on sys.path (name order)
cp -rH "$corpus/src/octopoes" "$corpus/src/boefjes" "$out/root/whiskers/python/openkat/"
find "$out/root/whiskers/python/openkat" -name __pycache__ -prune -exec rm -rf {} +
# The corpus may be read-only (CI's copy has no write bits): the build tree
# must stay removable by its owner, e.g. the unprivileged test run's copy.
chmod -R u+w "$out/root/whiskers/python/openkat"
echo "$out"
