#!/usr/bin/env bash
# OpenKAT's normaliser corpus (../shared/kat, issue 11), the way
# docs/openkat.md tells a user: scripts/kat-runtime.sh builds the runtime
# image with `whiskers runtime build --debian trixie` (cached in the build
# dir's store) and packs the plugin tree exactly as shipped with
# `whiskers pack --plugins` (the octopoes models as a Python layer); every
# case then runs its package by normalizer id from the store, cold and warm,
# and must give OpenKAT's expected.json. Without ../shared the test is
# skipped, under CI=true it fails.
. "$(dirname "$0")/lib.sh"

SRC=${WH_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
CORPUS=$(kat_corpus)
if [ -z "$CORPUS" ] || [ ! -d "$CORPUS/cases" ]; then
        if [ "${CI:-}" = true ]; then
                fail "the OpenKAT corpus is missing (CI needs ../shared/kat beside the repository)"
        else
                skip "OpenKAT corpus" "../shared/kat is absent: the 37 conformance cases were not run"
        fi
        finish
fi
if [ "$ROOT" != 1 ]; then
        if [ "${CI:-}" = true ]; then fail "the corpus test builds its runtime image as root (mmdebstrap)"; else
                skip "OpenKAT corpus" "not root: the runtime image (mmdebstrap) is only built as root here; cases not run"; fi
        finish
fi
K=$(kat_runtime "$CORPUS")
rc=$?
cat "$T/kat-runtime.err"
assert_eq "image built, plugins packed, schemas generated (scripts/kat-runtime.sh)" 0 "$rc"
[ "$rc" = 0 ] || finish
STORE=$K/store
SCHEMAS=$K/schemas
"$WHISKERS" store list "$STORE" >"$T/ls" 2>&1
assert_eq "every plugin directory packed, unversioned (whiskers pack --plugins)" \
        "$(find "$CORPUS/plugins" -name normalizer.json | wc -l)" "$(grep -c ':unversioned' "$T/ls")"
assert_true "schemas generated from the octopoes models ($(ls "$SCHEMAS" | wc -l))" \
        [ "$(ls "$SCHEMAS" | wc -l)" -ge 50 ]

# corpus LABEL [--warm]: every case's package through kat-corpus.py; --warm:
# each the second input of one warm sandbox (docs/warm.md).
corpus() {
        local label=$1
        shift
        "$PYTHON" "$SRC/scripts/kat-corpus.py" "$@" --whiskers "$WHISKERS" --store "$STORE" \
                --cache "$K/cache" --schema-dir "$SCHEMAS" "$CORPUS" >"$T/table" 2>"$T/why"
        local rc=$?
        cat "$T/table" "$T/why"
        local total
        total=$(awk '$1 == "total" {print $2, $3}' "$T/table")
        assert_eq "$label: every corpus case equal to expected.json (cases equal)" \
                "$(echo "$total" | cut -d' ' -f1) $(echo "$total" | cut -d' ' -f1)" "$total"
        assert_eq "$label: kat-corpus.py exit status" 0 "$rc"
}
corpus cold
corpus warm --warm

# ---- Bad input that needs pydantic: a model failing its own validation.
P=$T/kat_badmodel
mkdir -p "$P"
echo '{"id": "kat_badmodel", "consumes": ["x"], "produces": ["IPAddressV4"]}' >"$P/normalizer.json"
cat >"$P/normalize.py" <<'EOF2'
from octopoes.models.ooi.network import IPAddressV4, Network


def run(input_ooi, raw):
    text = raw.decode().strip()
    if text == "dict":  # what the model would never dump: checked by its generated schema
        yield {"object_type": "IPAddressV4", "primary_key": "IPAddressV4|internet|1.2.3.4",
               "address": 5, "network": "Network|internet"}
        return
    yield IPAddressV4(address=text, network=Network(name="internet").reference)
EOF2
"$WHISKERS" pack "$P" --into "$STORE" --version 1 --runtime-image runtime-python3.13:trixie \
        --python-path "$CORPUS/src" >"$T/pack" 2>&1
assert_eq "a normaliser of one's own packed on the image with the models' layer" 0 "$?"
echo "10.0.0.1" >"$T/good"
echo "not-an-address" >"$T/bad"
echo "dict" >"$T/dict"
wh_run_raw run --json --store "$STORE" --cache "$K/cache" --allow-unsigned --schema-dir "$SCHEMAS" kat_badmodel:1 "$T/good" --input-ooi 'Network|internet'
expect "an octopoes OOI yielded: ok" rc=0
assert_eq "... dumped in pydantic's JSON mode" "IPAddressV4|internet|10.0.0.1 Network|internet null" \
        "$(jq -r '.results.observations[0].results[0] | "\(.primary_key) \(.network) \(.scan_profile)"' "$T/out")"
assert_eq "... the generated schemas' directory and digest in the provenance" \
        "$(cd "$SCHEMAS" && pwd -P) sha256:" \
        "$(jq -r '.provenance.normaliser.schema_dir | "\(.path) \(.digest[0:7])"' "$T/out")"
wh_run_raw run --json --store "$STORE" --cache "$K/cache" --allow-unsigned --schema-dir "$SCHEMAS" kat_badmodel:1 "$T/dict" --input-ooi 'Network|internet'
expect "an object the model's schema refuses: exit 1" rc=1
assert_eq "... a schema error at /address" "schema /address" \
        "$(jq -r '.errors[0] | "\(.code) \(.instance_path)"' "$T/out")"
wh_run_raw run --json --store "$STORE" --cache "$K/cache" --allow-unsigned kat_badmodel:1 "$T/bad" --input-ooi 'Network|internet'
expect "an OOI that fails its own validation: exit 1" rc=1
assert_match "... the normaliser's ValidationError, as OpenKAT reports it" "^run: ValidationError: 1 validation error for IPAddressV4" \
        "$(jq -r '.errors[1].message' "$T/out")"
finish
