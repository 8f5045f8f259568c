#!/usr/bin/env bash
# Builds the runtime image the OpenKAT corpus runs on (docs/openkat.md):
# Debian trixie (Python 3.13, pydantic 2) with the libraries OpenKAT's
# normalisers import, made by mmdebstrap from Debian's archive, plus the
# octopoes models and boefjes.normalizer_models from an OpenKAT source tree
# (CORPUS/src) in /whiskers/python/openkat, and JSON Schemas
# generated from those models by the image's own Python
# (runtimes/python/octopoes_schemas.py) in ROOT/usr/share/whiskers/octopoes-schemas:
# the --schema-dir for OpenKAT normalisers that ship none.
#
#   scripts/kat-runtime.sh BUILD_DIR CORPUS_DIR     prints the root's path
#
# Cached in BUILD_DIR/kat-runtime: the Debian part is rebuilt only when the
# package list changes; the OpenKAT part and its schemas are made fresh every
# time (small, and the corpus may change). Needs root (mmdebstrap's root mode,
# chroot).
set -euo pipefail
build=$1
corpus=$2
suite=trixie
packages=python3,python3-pydantic,python3-dnspython,python3-packaging,python3-pil,python3-bs4
packages+=,python3-validators,python3-jsonschema,python3-cryptography,python3-dateutil
packages+=,python3-libnmap,python3-tldextract
out=$build/kat-runtime
root=$out/root
stamp="layout 2: $suite $packages"
if [ "$(cat "$out/stamp" 2>/dev/null)" != "$stamp" ]; then
        command -v mmdebstrap >/dev/null || { echo "kat-runtime: mmdebstrap is missing (scripts/install-deps.sh)" >&2; exit 1; }
        rm -rf "$out"
        mkdir -p "$out"
        echo "kat-runtime: building $suite with $packages (a few minutes)" >&2
        if ! mmdebstrap --quiet --variant=essential --include="$packages" "$suite" "$out/root.tmp" \
                http://deb.debian.org/debian >"$out/mmdebstrap.log" 2>&1; then
                echo "kat-runtime: mmdebstrap failed; see $out/mmdebstrap.log" >&2
                rm -rf "$out/root.tmp"
                exit 1
        fi
        # Mount points the sandbox needs in a runtime root, and the image's
        # dist-packages where the shim looks for libraries (docs/packages.md).
        mkdir -p "$out/root.tmp/normaliser" "$out/root.tmp/input" "$out/root.tmp/whiskers/python"
        ln -s ../../usr/lib/python3/dist-packages "$out/root.tmp/whiskers/python/debian"
        mv "$out/root.tmp" "$root"
        echo "$stamp" >"$out/stamp"
fi
site=$root/whiskers/python/openkat # after debian on sys.path (name order)
rm -rf "$site"
mkdir -p "$site"
cp -rH "$corpus/src/octopoes" "$corpus/src/boefjes" "$site/"
find "$site" -name __pycache__ -prune -exec rm -rf {} +
schemas=/usr/share/whiskers/octopoes-schemas
rm -rf "$root$schemas"
PYTHONPATH=/whiskers/python/openkat chroot "$root" /usr/bin/python3 -B - "$schemas" \
        <"$(dirname "$0")/../runtimes/python/octopoes_schemas.py"
echo "$root"
