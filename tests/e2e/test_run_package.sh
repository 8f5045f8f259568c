#!/usr/bin/env bash
# Packages run: `whiskers run --store` checks a package out (signature
# policy, variant, layer unpacked once into the cache) and runs it with the
# same results as its directory, provenance naming the manifest digest and
# the signing key; unsigned, untrusted, revoked and corrupt packages are
# refused before anything runs. The worker runs packages too: submit routes
# by MIME to the store's packages, the result's provenance names the
# package, and a package without a trusted signature is dead-lettered.
. "$(dirname "$0")/lib.sh"

SRC=${WH_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
W=$WHISKERS
EX=$SRC/examples/normalisers/http-headers
F=$EX/fixtures/hardened
ID=$(jq -r .id "$EX/normalizer.json")
MIME=$(jq -r '.consumes[0]' "$EX/normalizer.json")
export WHISKERS_CACHE=$T/cache
unset WHISKERS_STORE WHISKERS_TRUST
L=() # the example declares memory and pids limits
can_enforce_cgroups || L=(--allow-unenforced-limits)

"$W" pack "$EX" --into "$T/store" >"$T/digest" || { fail "pack" nodump; finish; }
digest=$(cat "$T/digest")
mkdir -m 700 "$T/keys" "$T/trust"
"$W" key gen --out "$T/keys/good" >/dev/null 2>&1
"$W" key gen --out "$T/keys/other" >/dev/null 2>&1
cp "$T/keys/good.pub" "$T/trust/" && chmod 600 "$T/trust/good.pub"
key=$("$W" key id "$T/keys/good.pub")

# ---- unsigned: refused unless allowed ----------------------------------------------
wh_run_raw run "${L[@]}" --store "$T/store" "$ID" "$F/raw" --meta "$F/meta.json"
expect "no trust directory: refused" rc=2 'err~no trust directory'
wh_run_raw run "${L[@]}" --store "$T/store" --trust "$T/trust" "$ID" "$F/raw" --meta "$F/meta.json"
expect "unsigned package: refused" rc=2 'err~is not signed'
assert_true "nothing was unpacked for a refused package" [ ! -e "$T/cache/layers" ]
wh_run_raw run "${L[@]}" --json --store "$T/store" --allow-unsigned "$ID" "$F/raw" --meta "$F/meta.json"
expect "--allow-unsigned runs it" rc=0 'out~"signed_by": null'

# ---- signed by a trusted key: same results as the directory -------------------------
"$W" sign --key "$T/keys/good.key" "$T/store" >/dev/null
wh_run_raw run "${L[@]}" --json --store "$T/store" --trust "$T/trust" "$ID" "$F/raw" --meta "$F/meta.json"
expect "signed package runs" rc=0
assert_eq "results equal the fixture's" "$(jq -S . "$F/expected.json")" "$(jq -S .results "$T/out")"
assert_eq "provenance: manifest digest" "$digest oci-manifest" \
        "$(jq -r '.provenance.normaliser | "\(.digest) \(.digest_kind)"' "$T/out")"
assert_eq "provenance: signing key and variant" "$key baseline" \
        "$(jq -r '.provenance.normaliser.package | "\(.signed_by) \(.variant)"' "$T/out")"
assert_eq "one cached copy of the layer" 1 "$(ls "$T/cache/layers" | wc -l)"
assert_eq "the cache entry is named by the layer digest" \
        "$(jq -r .provenance.normaliser.package.layer "$T/out" | cut -d: -f2)" "$(ls "$T/cache/layers")"
wh_run_raw run "${L[@]}" --store "$T/store" --trust "$T/trust" "$ID:1.0.0" "$F/raw" --meta "$F/meta.json"
expect "by tag, human summary" rc=0 "out~$ID"

# ---- untrusted, revoked ---------------------------------------------------------------
"$W" pack "$EX" --into "$T/store2" >/dev/null
"$W" sign --key "$T/keys/other.key" "$T/store2" >/dev/null
wh_run_raw run "${L[@]}" --store "$T/store2" --trust "$T/trust" "$ID" "$F/raw" --meta "$F/meta.json"
expect "signed by an untrusted key: refused" rc=2 'err~no valid signature by a trusted key'
echo "$key" >"$T/trust/revoked" && chmod 600 "$T/trust/revoked"
wh_run_raw run "${L[@]}" --store "$T/store" --trust "$T/trust" "$ID" "$F/raw" --meta "$F/meta.json"
expect "signed by a revoked key: refused" rc=2 'err~revoked'
rm "$T/trust/revoked"

# ---- a corrupt layer is refused before it is unpacked ---------------------------------
cp -a "$T/store" "$T/store3"
layer=$(jq -r .provenance.normaliser.package.layer "$T/out" 2>/dev/null)
layer=${layer:-$(ls "$T/cache/layers")}
blob=$T/store3/blobs/sha256/$(ls "$T/cache/layers")
chmod u+w "$blob" && printf 'x' >>"$blob"
WHISKERS_CACHE=$T/cache3 wh_run_raw run "${L[@]}" --store "$T/store3" --trust "$T/trust" "$ID" "$F/raw" --meta "$F/meta.json"
expect "a layer that does not match its digest: refused" rc=2 'err~digest'
assert_true "and nothing left in that cache" [ -z "$(ls -A "$T/cache3/layers" 2>/dev/null)" ]

# ---- a name that is neither a directory nor a package --------------------------------
wh_run_raw run "${L[@]}" nosuch "$F/raw"
expect "a missing directory says how to run a package" rc=2 'err~--store LAYOUT'

# ---- the worker runs packages ----------------------------------------------------------
export WHISKERS_DB=sqlite://$T/w.db
wh_run_raw submit --tenant acme --store "$T/store" --mime "$MIME" --meta "$F/meta.json" --json "$F/raw"
expect "submit routes the MIME type to the store's package" rc=0 "out~$ID:1.0.0"
timeout -k 5 120 "$W" worker "${L[@]}" --store "$T/store" --trust "$T/trust" --exit-when-idle --log-level warn 2>"$T/w1.log"
wh_run_raw show --json 1
expect "the package job ran" rc=0
assert_eq "its result is ok, its provenance names the package and the key" "ok $digest $key" \
        "$(jq -r '"\(.result.outcome) \(.result.package_digest) \(.provenance.normaliser.package.signed_by)"' "$T/out")"
assert_eq "its output equals the fixture's" "$(jq -S . "$F/expected.json")" "$(jq -S .output "$T/out")"
export WHISKERS_DB=sqlite://$T/w2.db
wh_run_raw submit --tenant acme --store "$T/store2" --normaliser "$ID" --meta "$F/meta.json" --json "$F/raw"
expect "submit accepts a package id" rc=0
bad=$(jq -r '.[0].job' "$T/out")
timeout -k 5 120 "$W" worker "${L[@]}" --store "$T/store2" --trust "$T/trust" --exit-when-idle --log-level warn 2>"$T/w2.log"
wh_run_raw results --dead --json
assert_eq "a package without a trusted signature is dead-lettered" "$bad" \
        "$(jq -r '.[0].job_id' "$T/out")"
assert_match "with the reason" 'no valid signature' "$(jq -c '.[0]' "$T/out")"
finish
