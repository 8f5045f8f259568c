#!/usr/bin/env bash
# Boefjes attacked as a hostile user would (issue 12, docs/boefjes.md): an
# input object whose "address" is a network must not widen the allowlist
# past that one address, nor may a setting named in it (or leak through the
# supervisor's resolver); a boefje whose stderr is not UTF-8 (or is cut in
# a character by the 64 KiB kept) must still have its result kept and shown;
# a raw file has at most 32 MIME types; what the boefje (or its normaliser)
# wrote is printed with its control characters escaped.
. "$(dirname "$0")/lib.sh"

LIMITS=()
can_enforce_cgroups || LIMITS=(--allow-unenforced-limits)
scan() { wh_run_raw scan "${LIMITS[@]}" "$@"; }
jout() { jq -r "$1" "$T/out" 2>/dev/null; }

# boefje NAME CONSUMES BODY: a boefje with the input object's network
# (no x-whiskers-network) whose run() is BODY (indented Python).
boefje() {
        mkdir -p "$T/b/$1"
        printf '{"id": "%s", "consumes": %s}\n' "$1" "$2" >"$T/b/$1/boefje.json"
        printf 'import os, sys\n\ndef run(boefje_meta):\n%s\n' "$3" >"$T/b/$1/main.py"
        chmod -R a+rX "$T/b"
}

# --- the input object is one target, never a network --------------------------
boefje scanner '["IPAddressV4", "IPAddressV6", "Hostname", "IPPort"]' '    return []'
# widened REF WHAT: the job is refused before the run, saying why.
widened() {
        rm -rf "$T/store"
        scan --json --boefje "$T/b/scanner" --input-ooi "$1" --raw-store "$T/store"
        expect "$1: refused, not a network of targets" rc=1 'out~"code": "network_refused"' \
                "out~not $2: it cannot be the scan's target"
        assert_eq "$1: no sandbox ran, no allowlist made" "null null" \
                "$(jout '"\(.boefje.status) \(.boefje.provenance.network.allow)"')"
        assert_eq "$1: nothing stored" "" "$(ls -A "$T/store" 2>/dev/null)"
}
widened 'IPAddressV4|internet|10.0.0.0/8' 'one IPv4 address'
widened 'IPAddressV4|internet|192.0.2.0/24' 'one IPv4 address'
widened 'IPAddressV6|internet|2001:db8::/32' 'one IPv6 address'
widened 'IPPort|internet|10.0.0.0/8|tcp|80' 'one IP address'
widened 'Hostname|internet|10.0.0.0/8' 'a host name.*'
widened 'Hostname|internet|[2001:db8::]' 'a host name.*'
# An IPv6 input object is an IPv6 target: ::1 is refused as loopback.
scan --json --boefje "$T/b/scanner" --input-ooi 'IPAddressV6|internet|::1' --raw-store "$T/store"
expect "IPAddressV6 ::1: refused as loopback" rc=1 'out~"code": "network_refused"' 'out~loopback'

# --- a setting in the allowlist: the whole target, one address or name -----------
# A manifest putting a secret setting inside a longer name would have the
# supervisor's resolver send it to that domain's name servers (and into the
# error) before anything runs; a network in a setting would widen the item.
SECRET=wh-secret-$RANDOM$RANDOM
# setting_item ITEM VALUE MESSAGE: the manifest's ITEM, API_KEY=VALUE, refused.
setting_item() {
        boefje exfil '["Hostname"]' '    return []'
        printf '{"id": "exfil", "consumes": ["Hostname"], "x-whiskers-network": ["%s"]}\n' "$1" \
                >"$T/b/exfil/boefje.json"
        printf '{"API_KEY": "%s"}\n' "$2" >"$T/settings.json"
        scan --json --boefje "$T/b/exfil" --input-ooi 'Hostname|internet|example.org' \
                --settings "$T/settings.json" --raw-store "$T/store"
        expect "$1 with API_KEY=$2: refused" rc=1 'out~"code": "network_refused"' "out~$3"
        assert_eq "$1: the value is not in the output" "" "$(grep -l -- "$2" "$T/out" "$T/err")"
}
setting_item '${API_KEY}.exfil.invalid:443' "$SECRET" 'a setting can only be its whole target'
setting_item 'x.${API_KEY}:443' "$SECRET" 'a setting can only be its whole target'
setting_item '${API_KEY}:53/both' "10.99.0.0/16" 'the setting API_KEY .* is not one address or host name'
setting_item '${API_KEY}:53/both' "192.0.2.1:1-65535/both,x" 'the setting API_KEY .* is not one address or host name'
# An IPv6 setting gets its brackets (it was a malformed item): ::1 is refused as loopback.
boefje exfil '["Hostname"]' '    return []'
printf '{"id": "exfil", "consumes": ["Hostname"], "x-whiskers-network": ["${NS}:53/both"]}\n' >"$T/b/exfil/boefje.json"
echo '{"NS": "::1"}' >"$T/settings.json"
scan --json --boefje "$T/b/exfil" --input-ooi 'Hostname|internet|example.org' --settings "$T/settings.json" \
        --raw-store "$T/store"
expect "an IPv6 setting is an IPv6 target: ::1 refused as loopback" rc=1 'out~"code": "network_refused"' \
        'out~manifest: ::1/128 may never be reached: it is or holds loopback'

# --- MIME types: a handful per raw file -------------------------------------------
# Each is compared with the others and routed with a scan of the normalisers,
# outside the sandbox: 20000 on one raw file held whiskers for 14 s.
boefje types '["Hostname"]' '    return [(set("x/t%d" % i for i in range(int(open("/normaliser/n").read()))), b"ok")]'
printf '{"id": "types", "consumes": ["Hostname"], "x-whiskers-network": []}\n' >"$T/b/types/boefje.json"
echo 33 >"$T/b/types/n" && chmod a+r "$T/b/types/n"
rm -rf "$T/store"
scan --json --boefje "$T/b/types" --input-ooi 'Hostname|internet|example.org' --raw-store "$T/store"
expect "33 MIME types on one raw file: invalid_output" rc=1 'out~"code": "invalid_output"' \
        'out~raw file 1 has 33 MIME types, more than 32' 'out~"raw_files": \[\]'
assert_eq "33 MIME types: nothing stored" "" "$(ls -A "$T/store" 2>/dev/null)"
echo 32 >"$T/b/types/n"
scan --json --boefje "$T/b/types" --input-ooi 'Hostname|internet|example.org' --raw-store "$T/store"
expect "32 are kept, with boefje/<id>" rc=0 'out~"ok": true'
assert_eq "32 + boefje/types" 33 "$(jout '.boefje.raw_files[0].mime_types | length')"

# --- text from the sandbox printed for a person: shown, not obeyed ----------------
# ESC (clear the screen, OSC 52: write the clipboard) and C1's CSI, in the
# boefje's exception and stderr and in its normaliser's stderr.
boefje esc '["Hostname"]' '    sys.stderr.write("\x1b]0;retitled\x07")
    raise RuntimeError("\x1b[2J\x1b]52;c;ZWNobyBoaQ==\x07 \x9b31m")'
printf '{"id": "esc", "consumes": ["Hostname"], "x-whiskers-network": []}\n' >"$T/b/esc/boefje.json"
scan --boefje "$T/b/esc" --input-ooi 'Hostname|internet|example.org' --raw-store "$T/store"
expect "a boefje's escapes in its error: printed as escapes" rc=1 \
        'out~FAILED boefje_error: run: RuntimeError: \\x1b\[2J\\x1b\]52;c;ZWNobyBoaQ==\\x07 \\u009b31m' \
        'out~\\x1b\]0;retitled\\x07'
assert_eq "no ESC, BEL or C1 byte reaches the terminal" 0 "$(LC_ALL=C grep -c $'\x1b\|\x07\|\xc2\x9b' "$T/out")"
probe_normaliser "$T/n" esc-norm '{}'
printf 'import sys\n\ndef run(input_ooi, raw):\n    sys.stderr.write("\\x1b[2J\\x9b0m")\n    return []\n' >"$T/n/normalize.py"
boefje plain '["Hostname"]' '    return [({"text/plain"}, b"x")]'
printf '{"id": "plain", "consumes": ["Hostname"], "x-whiskers-network": []}\n' >"$T/b/plain/boefje.json"
chmod -R a+rX "$T/n"
scan --boefje "$T/b/plain" --input-ooi 'Hostname|internet|example.org' --raw-store "$T/store" --normalisers "$T/n"
expect "a normaliser's escapes in its stderr: printed as escapes" rc=0 'out~\| \\x1b\[2J\\u009b0m'
assert_eq "no ESC or C1 byte from the normaliser" 0 "$(LC_ALL=C grep -c $'\x1b\|\xc2\x9b' "$T/out")"

# --- stderr that is not UTF-8 -----------------------------------------------------
# One byte 0xff, and 64 KiB of 'é' cut in the middle of one by the limit.
boefje noisy '["Hostname"]' '    os.write(2, b"bad byte \xff here\n" + b"x" + "é".encode() * 40000)
    return [({"text/plain"}, b"found")]'
printf '{"id": "noisy", "consumes": ["Hostname"], "x-whiskers-network": []}\n' >"$T/b/noisy/boefje.json"
rm -rf "$T/store"
scan --json --boefje "$T/b/noisy" --input-ooi 'Hostname|internet|example.org' --raw-store "$T/store" \
        --task-id noisy-1
expect "a boefje whose stderr is not UTF-8: its result is kept" rc=0 'out~"ok": true' \
        'out~"size": 5'
assert_eq "the stderr shown with U+FFFD for the bad byte" "bad byte � here" \
        "$(jout '.boefje.stderr' | head -1)"
assert_eq "the job's record is stored" "true 1" \
        "$(jq -r '"\(.ok) \(.raw_files | length)"' "$T/store/jobs/noisy-1.json" 2>/dev/null)"
boefje noisy-fail '["Hostname"]' '    os.write(2, b"\xfe\xff")
    raise RuntimeError("target said no")'
printf '{"id": "noisy-fail", "consumes": ["Hostname"], "x-whiskers-network": []}\n' >"$T/b/noisy-fail/boefje.json"
scan --json --boefje "$T/b/noisy-fail" --input-ooi 'Hostname|internet|example.org' --raw-store "$T/store"
expect "a failing boefje whose stderr is not UTF-8: its error is reported" rc=1 \
        'out~"code": "boefje_error"' 'out~target said no'
assert_eq "its stderr: two U+FFFD" "��" "$(jout '.boefje.stderr')"
# The worker keeps both results (it kept none: "out of memory keeping the result").
mkdir -p "$T/none"
export WHISKERS_BOEFJES=$T/b WHISKERS_DB=sqlite://$T/w.db WHISKERS_NORMALISERS=$T/none
for id in noisy noisy-fail; do
        wh_run_raw submit --tenant acme --boefje "$id" --input-ooi 'Hostname|internet|example.org' --json
done
timeout -k 5 120 "$WHISKERS" worker "${LIMITS[@]}" --exit-when-idle --lease-ms 3000 2>"$T/worker.log"
wh_run_raw show --json 1
expect "the worker: an ok boefje with such stderr is done, ok" rc=0 'out~"state": "done"' \
        'out~"outcome": "ok"'
wh_run_raw show --json 2
expect "the worker: a failing one is done with its error and stderr" rc=0 'out~"state": "done"' \
        'out~"outcome": "boefje_error"' 'out~"stderr": "��"'
finish
