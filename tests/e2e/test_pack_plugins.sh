#!/usr/bin/env bash
# `whiskers pack --plugins TREE`: OpenKAT's plugin tree as shipped
# (../shared/kat/plugins: OpenKAT's normalizer.json, no whiskers fields,
# nested normalisers such as kat_manual/csv) becomes one package per
# normaliser in one command, each carrying the octopoes/boefjes sources as
# one shared Python layer; the tree is left as it was.
. "$(dirname "$0")/lib.sh"

W=$WHISKERS
KAT=$(kat_corpus)
if [ -z "$KAT" ]; then
        if [ "${CI:-}" = true ]; then
                echo "FAIL - the OpenKAT corpus (../shared/kat) is missing; CI must have it"
                WH_FAILED=1
        else
                skip "plugin tree" "no OpenKAT corpus (../shared/kat): packing it was not tested"
        fi
        finish
fi
tree_sum() { (cd "$KAT" && find plugins src -type f | sort | xargs sha256sum | sha256sum); }
before=$(tree_sum)
wh_run_raw pack --plugins "$KAT/plugins" --into "$T/st" --python-path "$KAT/src" --json
expect "pack --plugins" rc=0
want=$(cd "$KAT/plugins" && find . -name normalizer.json -not -path '*/.*/*' | wc -l)
assert_eq "one package per normalizer.json" "$want" "$(jq length "$T/out")"
assert_eq "the nested kat_manual/csv is one of them" "kat_manual_csv:unversioned" \
        "$(jq -r '.[] | select(.dir | endswith("kat_manual/csv")) | .tag' "$T/out")"
layers=$(jq -r '.[].digest' "$T/out" | while read -r d; do
        jq -r '.layers[1].digest' "$T/st/blobs/sha256/${d#sha256:}"; done | sort -u)
assert_eq "every package carries the one Python layer" 1 "$(echo "$layers" | wc -l)"
assert_eq "the tree is unchanged" "$before" "$(tree_sum)"
wh_run_raw pack --plugins "$KAT/plugins" --into "$T/st" --version 1.18.0
expect "with --version" rc=0 'out~kat_dns_normalize:1.18.0 '
finish
