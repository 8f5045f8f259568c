#!/usr/bin/env bash
# OpenKAT's own kat_dns boefje (../shared/kat/boefjes), unchanged, in the
# sandbox on a runtime image built from Debian packages (python3-dnspython,
# ldnsutils, nmap: `whiskers runtime build --debian`, cached in the build
# dir's store), against a DNS server (dnsmasq) this test starts in a network
# namespace of its own; its raw file flows into OpenKAT's kat_dns normaliser
# (../shared/kat/plugins), whose objects must be what the zone holds. The
# boefje reaches the server only through the egress allowlist
# (docs/boefjes.md "Network"). Without ../shared the test is skipped, under
# CI=true it fails.
. "$(dirname "$0")/lib.sh"

SRC=${WH_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
CORPUS=$(kat_corpus)
if [ -z "$CORPUS" ] || [ ! -d "$CORPUS/boefjes/kat_dns" ]; then
        if [ "${CI:-}" = true ]; then
                fail "the OpenKAT corpus with its boefjes is missing (CI needs ../shared/kat beside the repository)"
        else
                skip "OpenKAT boefjes" "../shared/kat/boefjes is absent: kat_dns was not run"
        fi
        finish
fi
if [ "$ROOT" != 1 ]; then
        if [ "${CI:-}" = true ]; then fail "this test builds runtime images (mmdebstrap) and network namespaces as root"; else
                skip "OpenKAT boefjes" "not root: no runtime image (mmdebstrap) nor network namespace here; kat_dns not run"; fi
        finish
fi
for tool in dnsmasq ip; do
        command -v $tool >/dev/null || PATH=$PATH:/usr/sbin:/sbin
        command -v $tool >/dev/null || { fail "$tool is missing (scripts/install-deps.sh: scripts/deps/boefje.txt)" nodump; finish; }
done

# The boefjes' runtime image: their tools from Debian, built once per build dir.
RT=$WH_BUILD_DIR/kat-boefje-runtime
mkdir -p "$RT"
img=$("$WHISKERS" runtime build --into "$RT/store" --debian trixie --package python3 \
        --package python3-dnspython --package ldnsutils --package nmap 2>"$T/rt.err")
assert_match "boefje runtime image built or found (runtime build --debian)" '^sha256:' "$img"
image_root=$("$WHISKERS" runtime unpack --cache "$RT/cache" "$RT/store" "$img" 2>>"$T/rt.err")
[ -d "$image_root/usr/bin" ] || { fail "runtime unpack: $(head -c 400 "$T/rt.err")" nodump; finish; }
for t in python3 drill nmap; do
        assert_true "the image carries $t" [ -x "$image_root/usr/bin/$t" ]
done
# The sandbox binds its resolver files (hosts, resolv.conf, nsswitch.conf)
# over /etc, and a runtime root must hold their mount points; the image has
# none (runtime build drops them): a root for these runs is the image (hard
# links) plus three empty files.
ROOTFS=$T/boefje-root
cp -al "$image_root" "$ROOTFS"
touch "$ROOTFS/etc/hosts" "$ROOTFS/etc/resolv.conf" "$ROOTFS/etc/nsswitch.conf"

# OpenKAT's normalisers: their image and the schemas from the octopoes models.
K=$("$SRC/scripts/kat-runtime.sh" "$WH_BUILD_DIR" "$CORPUS" "$WHISKERS" 2>"$T/kat-runtime.err") ||
        { fail "scripts/kat-runtime.sh: $(tail -c 600 "$T/kat-runtime.err")" nodump; finish; }
chmod -R a+rX "$T"

# The zone, served by dnsmasq in a network namespace of this test, on a veth
# whose other end is on the host.
NS=whb$$
NET=10.231.$(($$ % 200 + 20))
DNS=$NET.2
ip netns add "$NS" && on_exit "ip netns del $NS"
ip link add "${NS}h" type veth peer name "${NS}n" && on_exit "ip link del ${NS}h"
ip link set "${NS}n" netns "$NS"
ip addr add "$NET.1/24" dev "${NS}h" && ip link set "${NS}h" up
ip -n "$NS" addr add "$DNS/24" dev "${NS}n" && ip -n "$NS" link set "${NS}n" up && ip -n "$NS" link set lo up
ip netns exec "$NS" dnsmasq --keep-in-foreground --no-resolv --no-hosts --bind-interfaces \
        --listen-address="$DNS" --except-interface=lo --pid-file="$T/dnsmasq.pid" --local=/example.test/ \
        --host-record=example.test,192.0.2.10,2001:db8::10 --txt-record=example.test,"v=spf1 -all" \
        --mx-host=example.test,mail.example.test,10 --txt-record=_dmarc.example.test,"v=DMARC1; p=reject" \
        >"$T/dnsmasq.log" 2>&1 &
bg_started $!
for _ in $(seq 50); do drill -Q @"$DNS" example.test A >/dev/null 2>&1 && break; sleep 0.1; done
assert_eq "dnsmasq answers from the test's namespace" 192.0.2.10 "$(drill -Q @"$DNS" example.test A 2>/dev/null)"

printf '{"REMOTE_NS": "%s", "RECORD_TYPES": "A,AAAA,TXT,MX,NS,CNAME"}\n' "$DNS" >"$T/dns.json"
scan() {
        wh_run_raw scan --json --boefje "$CORPUS/boefjes/kat_dns" --input-ooi 'Hostname|internet|example.test' \
                --runtime-root "$ROOTFS" --settings "$T/dns.json" --raw-store "$T/store" \
                --normalisers "$CORPUS/plugins" --normaliser-runtime-root "$K/root" --schema-dir "$K/schemas" "$@"
}
jout() { jq -r "$1" "$T/out" 2>/dev/null; }

# No network asked for: the unchanged boefje runs in the image, and fails as
# dnspython does with no route.
scan --net-no-input
expect "kat_dns without a network: the boefje's own error, nothing stored" rc=1 \
        'out~"code": "boefje_error"' 'out~"raw_files": \[\]'

scan --net-no-input --net-allow '${REMOTE_NS}:53/both'
if grep -q 'not enforced yet' "$T/out" "$T/err"; then
        skip "kat_dns against dnsmasq" "the sandbox does not enforce allowlists yet (WH_NET_ALLOW): the live scan was not run"
        finish
fi
if grep -q 'NoResolverConfiguration' "$T/out"; then
        skip "kat_dns against dnsmasq" "the sandbox's /etc/resolv.conf names no server, and dnspython's Resolver() (kat_dns, unchanged) refuses to start without one: the live scan was not run"
        finish
fi
expect "kat_dns through the allowlist to the test's DNS server, then OpenKAT's normaliser" rc=0
assert_eq "the allowlist: the resolver from the setting, declared by the caller" \
        "[{\"allow\":\"$DNS:53/both\",\"from\":\"caller\"}]" "$(jout '.boefje.provenance.network.allow | tostring')"
assert_eq "stored as boefje/dns-records (OpenKAT's default MIME type)" '["boefje/dns-records"]' \
        "$(jout '.boefje.raw_files[0].mime_types | tostring')"
assert_eq "the kat_dns normaliser got it" kat_dns_normalize "$(jout '[.normalisers[].normaliser] | join(",")')"
R='.normalisers[0].result.results.observations[0].results'
assert_eq "A record: what the zone holds" 192.0.2.10 "$(jout "[$R[] | select(.object_type == \"DNSARecord\") | .value] | join(\",\")")"
assert_eq "AAAA record" 2001:db8::10 "$(jout "[$R[] | select(.object_type == \"DNSAAAARecord\") | .value] | join(\",\")")"
assert_eq "TXT record" 'v=spf1 -all' "$(jout "[$R[] | select(.object_type == \"DNSTXTRecord\") | .value] | join(\",\")")"
assert_match "MX record" 'mail\.example\.test' "$(jout "[$R[] | select(.object_type == \"DNSMXRecord\") | .value] | join(\",\")")"
assert_eq "every connection went to the resolver's port 53" "$DNS:53" \
        "$(jout '[.boefje.status.network.connections[]? | "\(.dst):\(.dport)"] | unique | join(",")')"
finish
