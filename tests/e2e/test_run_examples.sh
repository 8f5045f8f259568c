#!/usr/bin/env bash
# The example normalisers (examples/normalisers/) pass their fixtures, made by
# real tools (nmap, curl, openssl, drill); whiskers run shows their objects
# and findings; a changed expectation is shown as a diff.
. "$(dirname "$0")/lib.sh"

LIMITS=()
can_enforce_cgroups || LIMITS=(--allow-unenforced-limits)
EX=$T/examples
cp -r "$WH_SOURCE_DIR/examples/normalisers" "$EX"
rm -f "$EX/x509-cert/normalize"
if ! make -s -C "$EX/x509-cert" >"$T/make.log" 2>&1; then
        fail "the C example builds: $(head -c 400 "$T/make.log")" nodump
fi

for d in nmap-xml http-headers x509-cert dnssec jsonl-exposure; do
        n=$(ls "$EX/$d/fixtures" | wc -l)
        wh_run_raw test --color never "${LIMITS[@]}" "$EX/$d"
        expect "$d: all $n fixtures pass" rc=0 "out~$n passed, 0 failed"
done

j() { jq -r "$1" "$T/out" 2>/dev/null; }
F=$EX/http-headers/fixtures/python-http-server
wh_run_raw run --json "${LIMITS[@]}" "$EX/http-headers" "$F/raw" --meta "$F/meta.json"
expect "http-headers --json: exit 0" rc=0
assert_eq "http-headers: the results are the fixture's expected.json" \
        "$(jq -S . "$F/expected.json")" "$(j .results | jq -S .)"
assert_eq "http-headers: findings for missing headers and the version" \
        "KAT-NO-CSP KAT-NO-REFERRER-POLICY KAT-NO-X-CONTENT-TYPE-OPTIONS KAT-NO-X-FRAME-OPTIONS KAT-SERVER-VERSION-DISCLOSED" \
        "$(j '[.results.observations[0].results[] | select(.object_type=="Finding") | .finding_type | sub("KATFindingType\\|";"")] | sort | join(" ")')"
assert_eq "http-headers: provenance names the runtime and the sandbox" "python3 ok none" \
        "$(j .provenance.runtime.name) $(j .provenance.status.status) $(j .provenance.policy.sandbox.net)"

F=$EX/nmap-xml/fixtures/localhost
wh_run_raw run --color never "${LIMITS[@]}" "$EX/nmap-xml" "$F/raw" --meta "$F/meta.json"
expect "nmap-xml summary: ok, objects by type" rc=0 "out~kat_nmap_xml 1.0.0: ok" \
        "out~IPAddressV4 +1" "out~IPPort +2" "out~IPService +2"

F=$EX/x509-cert/fixtures/weak-rsa
wh_run_raw run --color never "${LIMITS[@]}" "$EX/x509-cert" "$F/raw" --meta "$F/meta.json"
expect "x509 (C) summary: the weak key finding" rc=0 "out~findings \(1\)" "out~KAT-WEAK-KEY on X509Certificate\|"

F=$EX/dnssec/fixtures/expired
wh_run_raw run --color always "${LIMITS[@]}" "$EX/dnssec" "$F/raw" --meta "$F/meta.json"
expect "dnssec (shell) summary: expired signatures, in colour" rc=0 \
        "out~KAT-DNSSEC-SIGNATURE-EXPIRED" $'out~\e\\[32mok'

# A wrong expectation: whiskers test fails and shows where, as JSON pointers.
F=$EX/jsonl-exposure/fixtures/localhost
jq '.observations[0].results[0].raw = "http://elsewhere/"' "$F/expected.json" >"$T/e.json"
mv "$T/e.json" "$F/expected.json"
wh_run_raw test --color never "${LIMITS[@]}" "$EX/jsonl-exposure"
expect "a changed expected.json: whiskers test fails with a diff" rc=1 "out~FAIL localhost" \
        'out~/observations/0/results/0/raw: expected "http://elsewhere/", got "http://127\.0\.0\.1:'
wh_run_raw test --json "${LIMITS[@]}" "$EX/jsonl-exposure"
assert_eq "whiskers test --json: the difference as data" "1 /observations/0/results/0/raw" \
        "$(j .failed) $(j '.fixtures[0].differences[0].path')"
wh_run_raw test --update "${LIMITS[@]}" "$EX/jsonl-exposure"
expect "whiskers test --update rewrites expected.json" rc=0 "out~updated localhost"
assert_eq "... with the real results again" "$(jq -S . "$WH_SOURCE_DIR/examples/normalisers/jsonl-exposure/fixtures/localhost/expected.json")" \
        "$(jq -S . "$F/expected.json")"
finish
