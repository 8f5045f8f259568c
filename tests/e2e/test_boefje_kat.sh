#!/usr/bin/env bash
# OpenKAT's own boefjes (../shared/kat/boefjes), unchanged, in the sandbox on
# a runtime image built from Debian packages (python3-dnspython, ldnsutils,
# nmap: `whiskers runtime build --debian`, cached in the build dir's store),
# against real servers this test starts in a network namespace of its own,
# each reached only through the boefje's egress allowlist (docs/boefjes.md
# "Network"); their raw files flow into the normalisers:
#
#   kat_dns      -> dnsmasq (a plain zone)      -> OpenKAT's kat_dns normaliser
#   kat_dnssec   -> nsd serving a root, test. and four zones signed with
#                   ldns-signzone (good, unsigned, no DS, tampered), at the
#                   root servers' own addresses: drill -DT traces from them
#                                                -> OpenKAT's kat_dnssec normaliser
#   kat_nmap_tcp -> two open ports and a closed one, nmap -sS -sV with raw
#                   sockets (--net-allow raw)   -> our examples/normalisers/nmap-xml
#                   (../shared/kat has no nmap normaliser)
#
# whiskers runs in a second namespace made by this test ("the host"), whose
# only route leads to the targets: the root servers' addresses go nowhere
# else. Without ../shared the test is skipped, under CI=true it fails.
. "$(dirname "$0")/lib.sh"

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
PATH=$PATH:/usr/sbin:/sbin
for tool in dnsmasq ip nsd ldns-keygen ldns-signzone ldns-key2ds drill; do
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
# nmap links libblas.so.3, an update-alternatives link runtime build makes
# from libblas3's postinst (docs/packages.md, "Alternatives").
assert_true "the image has nmap's libblas.so.3 (an alternative)" \
        [ -e "$image_root/usr/lib/x86_64-linux-gnu/libblas.so.3" ]

# OpenKAT's normalisers: their image and the schemas from the octopoes models.
K=$(kat_runtime "$CORPUS") ||
        { fail "scripts/kat-runtime.sh: $(tail -c 600 "$T/kat-runtime.err")" nodump; finish; }

# Settings stay out of the tools a boefje starts, on the image's Python 3.13
# too, whose subprocess starts a program named with its directory by
# posix_spawn, handing it the os.environ mapping (docs/boefjes.md, "Settings").
mkdir -p "$T/b/env"
echo '{"id": "env-check", "consumes": ["Hostname"], "x-whiskers-network": []}' >"$T/b/env/boefje.json"
cat >"$T/b/env/main.py" <<'PY'
import json, os, subprocess, sys
def run(boefje_meta):
    out = subprocess.run(["/usr/bin/python3", "-c", "import os\nfor k in os.environ: print(k)"],
                         capture_output=True).stdout
    return [({"text/plain"}, json.dumps({"getenv": os.getenv("API_KEY"), "python": sys.version[:4],
                                         "child": "API_KEY" in out.decode(), "lines": out.count(b"\n")}))]
PY
echo '{"API_KEY": "wh-env-check-1234"}' >"$T/b/env.json"
chmod -R a+rX "$T"
wh_run_raw scan --json --boefje "$T/b/env" --input-ooi 'Hostname|internet|example.test' \
        --runtime-root "$ROOTFS" --settings "$T/b/env.json" --raw-store "$T/env-store"
raw=$(cat "$T/env-store/sha256/"* 2>/dev/null)
assert_eq "Python 3.13 boefje: os.getenv sees the setting" "wh-env-check-1234" "$(echo "$raw" | jq -r .getenv)"
assert_eq "... a child started by subprocess (posix_spawn) does not" "false 3.13" \
        "$(echo "$raw" | jq -r '"\(.child) \(.python)"')"
assert_true "... while it printed an environment" test "$(echo "$raw" | jq .lines)" -ge 3

# ---- the network --------------------------------------------------------
# "The host" (HPID), where whiskers runs; the targets (TPID), on one veth:
#   10.231.0.2  dnsmasq (kat_dns)    10.231.0.3  two open ports, a closed one
#   10.231.0.4  an open port nothing may reach
#   the root servers' IPv4 addresses (as the image's drill knows them): nsd
# Each namespace is held by a process of this test (lib.sh netns_new).
netns_new HPID && netns_new TPID || { fail "cannot create network namespaces" nodump; finish; }
in_hn() { in_netns "$HPID" "$@"; }
in_tn() { in_netns "$TPID" "$@"; }
in_hn ip link add whk0 type veth peer name whk1 netns "$TPID"
in_hn ip addr add 10.231.0.1/24 dev whk0 && in_hn ip link set dev whk0 up
for a in 10.231.0.2/24 10.231.0.3/24 10.231.0.4/24; do in_tn ip addr add $a dev whk1; done
in_tn ip link set dev whk1 up
in_hn ip route add default via 10.231.0.2
ROOTS=$(grep -a -o -E '[A-M]\.ROOT-SERVERS\.NET\.[[:space:]]+[0-9]+[[:space:]]+A[[:space:]]+[0-9.]+' \
        "$image_root/usr/bin/drill" | awk '{print $NF}' | sort -u)
assert_true "the image's drill names its root servers (13 IPv4 addresses)" test "$(echo "$ROOTS" | wc -l)" -eq 13
for a in $ROOTS; do in_tn ip addr add "$a/32" dev whk1; done
# nsenter, not ip netns exec: that one mounts a sysfs of its own, without
# the cgroup tree the normalisers' limits need.
cat >"$T/wh-in-ns" <<SH
#!/bin/sh
exec nsenter --net=/proc/$HPID/ns/net "$WHISKERS" "\$@"
SH
chmod 755 "$T/wh-in-ns"
WHISKERS=$T/wh-in-ns

# kat_dns's zone: dnsmasq.
netns_bg "$TPID" dnsmasq --keep-in-foreground --no-resolv --no-hosts --bind-interfaces \
        --listen-address=10.231.0.2 --except-interface=lo --pid-file="$T/dnsmasq.pid" --local=/example.test/ \
        --host-record=example.test,192.0.2.10,2001:db8::10 --txt-record=example.test,"v=spf1 -all" \
        --mx-host=example.test,mail.example.test,10 --txt-record=_dmarc.example.test,"v=DMARC1; p=reject" \
        >"$T/dnsmasq.log" 2>&1

# kat_dnssec's zones: a root and test., signed, delegating to good.test
# (signed, DS in test.), plain.test (unsigned), island.test (signed, no DS)
# and bad.test (signed, DS, then its A record changed). nsd serves them all.
Z=$T/zones
mkdir -p "$Z"
zone() { # NAME FILE RECORDS...
        local name=$1 file=$2
        shift 2
        {
                echo "\$TTL 300"
                echo "$name IN SOA ns.root. admin.root. 1 3600 600 86400 300"
                echo "$name IN NS ns.root."
                printf '%s\n' "$@"
        } >"$Z/$file"
}
sign() { # NAME FILE: FILE.signed; the key-signing key's DS on stdout
        local ksk zsk
        ksk=$(cd "$Z" && ldns-keygen -a ECDSAP256SHA256 -k "$1") && zsk=$(cd "$Z" && ldns-keygen -a ECDSAP256SHA256 "$1") &&
                (cd "$Z" && ldns-signzone "$2" "$ksk" "$zsk" && ldns-key2ds -n -2 "$ksk.key") && echo "$ksk" >"$Z/$2.ksk"
}
zone good.test. good.zone "good.test. IN A 192.0.2.21"
zone plain.test. plain.zone "plain.test. IN A 192.0.2.22"
zone island.test. island.zone "island.test. IN A 192.0.2.23"
zone bad.test. bad.zone "bad.test. IN A 192.0.2.24"
zone test. test.zone "good.test. IN NS ns.root." "plain.test. IN NS ns.root." "island.test. IN NS ns.root." \
        "bad.test. IN NS ns.root." "$(sign good.test. good.zone)" "$(sign bad.test. bad.zone)"
sign island.test. island.zone >/dev/null
zone . root.zone "ns.root. IN A 198.41.0.4" "test. IN NS ns.root." "$(sign test. test.zone)"
sign . root.zone >/dev/null
sed -i -E 's/^(bad\.test\.\s+[0-9]+\s+IN\s+A\s+)192\.0\.2\.24/\1198.51.100.66/' "$Z/bad.zone.signed"
assert_true "the zones are signed (4 of them and the root, bad.test. tampered)" \
        grep -q 198.51.100.66 "$Z/bad.zone.signed"
{
        echo "server:"
        for a in $ROOTS; do echo "  ip-address: $a"; done
        echo "  username: \"\""
        echo "  chroot: \"\""
        echo "  zonesdir: \"$Z\""
        echo "  database: \"\""
        echo "  pidfile: \"$Z/nsd.pid\""
        echo "  xfrdfile: \"$Z/xfrd.state\""
        echo "  zonelistfile: \"$Z/zone.list\""
        echo "  logfile: \"$Z/nsd.log\""
        echo "remote-control:"
        echo "  control-enable: no"
        for z in .:root.zone.signed test.:test.zone.signed good.test.:good.zone.signed \
                plain.test.:plain.zone island.test.:island.zone.signed bad.test.:bad.zone.signed; do
                printf 'zone:\n  name: "%s"\n  zonefile: "%s"\n' "${z%%:*}" "${z#*:}"
        done
} >"$Z/nsd.conf"
# nsd forks its servers: in a session of its own, its whole group is killed.
netns_bg "$TPID" setsid nsd -d -c "$Z/nsd.conf" >"$T/nsd.log" 2>&1
on_exit "kill -9 -- -$!"
# The image's drill trusts the key in /usr/share/dns/root.key (Debian's
# dns-root-data puts the real root's there): the test's root key.
mkdir -p "$ROOTFS/usr/share/dns"
grep -v '^;' "$Z/$(cat "$Z/root.zone.ksk").key" >"$ROOTFS/usr/share/dns/root.key"
chmod -R a+rX "$ROOTFS/usr/share/dns"

# kat_nmap_tcp's targets: open 8080 and 8081 on .3 (they greet as an SSH
# server would), 8082 closed; .4 has an open port too.
for ap in 10.231.0.3:8080 10.231.0.3:8081 10.231.0.4:8080; do
        netns_bg "$TPID" "$PYTHON" -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(16)
while True:
    c, a = s.accept(); print("contact", a[0], flush=True); c.send(b"SSH-2.0-OpenSSH_9.2\r\n"); c.close()
' "${ap%:*}" "${ap#*:}" >"$T/listen-$ap.log" 2>&1
done
for _ in $(seq 50); do
        in_tn drill -Q @10.231.0.2 example.test A >/dev/null 2>&1 && in_tn drill -Q @198.41.0.4 . SOA >/dev/null 2>&1 && break
        sleep 0.1
done
assert_eq "dnsmasq answers in the targets' namespace" 192.0.2.10 "$(in_tn drill -Q @10.231.0.2 example.test A 2>/dev/null)"
assert_match "nsd answers at a root server's address" 'ns\.root\.' "$(in_tn drill -Q @198.41.0.4 . SOA 2>/dev/null)"

jout() { jq -r "$1" "$T/out" 2>/dev/null; }
NORM=(--normalisers "$CORPUS/plugins" --normaliser-runtime-root "$K/root" --schema-dir "$K/schemas")

# ---- kat_dns ------------------------------------------------------------
printf '{"REMOTE_NS": "10.231.0.2", "RECORD_TYPES": "A,AAAA,TXT,MX,NS,CNAME"}\n' >"$T/dns.json"
scan_dns() {
        wh_run_raw scan --json --boefje "$CORPUS/boefjes/kat_dns" --input-ooi 'Hostname|internet|example.test' \
                --runtime-root "$ROOTFS" --settings "$T/dns.json" --raw-store "$T/store" "${NORM[@]}" "$@"
}
# No network asked for: the unchanged boefje runs in the image, and fails as
# dnspython does with no route.
scan_dns --net-no-input
expect "kat_dns without a network: the boefje's own error, nothing stored" rc=1 \
        'out~"code": "boefje_error"' 'out~"raw_files": \[\]'
scan_dns --net-no-input --net-allow '${REMOTE_NS}:53/both'
expect "kat_dns through the allowlist to the test's DNS server, then OpenKAT's normaliser" rc=0
assert_eq "the allowlist: the resolver from the setting, declared by the caller" \
        '[{"allow":"10.231.0.2:53/both","from":"caller"}]' "$(jout '.boefje.provenance.network.allow | tostring')"
assert_eq "stored as boefje/dns-records (OpenKAT's default MIME type)" '["boefje/dns-records"]' \
        "$(jout '.boefje.raw_files[0].mime_types | tostring')"
assert_eq "the kat_dns normaliser got it" kat_dns_normalize "$(jout '[.normalisers[].normaliser] | join(",")')"
R='.normalisers[0].result.results.observations[0].results'
assert_eq "A record: what the zone holds" 192.0.2.10 "$(jout "[$R[] | select(.object_type == \"DNSARecord\") | .value] | join(\",\")")"
assert_eq "AAAA record" 2001:db8::10 "$(jout "[$R[] | select(.object_type == \"DNSAAAARecord\") | .value] | join(\",\")")"
assert_eq "TXT record" 'v=spf1 -all' "$(jout "[$R[] | select(.object_type == \"DNSTXTRecord\") | .value] | join(\",\")")"
assert_match "MX record" 'mail\.example\.test' "$(jout "[$R[] | select(.object_type == \"DNSMXRecord\") | .value] | join(\",\")")"
assert_eq "every connection went to the resolver's port 53" "10.231.0.2:53" \
        "$(jout '[.boefje.status.network.connections[]? | "\(.dst):\(.dport)"] | unique | join(",")')"

# ---- kat_dnssec ---------------------------------------------------------
# drill -DT traces from the root servers it knows: they are the allowlist.
ALLOW_ROOTS=()
for a in $ROOTS; do ALLOW_ROOTS+=(--net-allow "$a:53/both"); done
dnssec() { # NAME: scan it; the raw file's last status line in $T/status-line
        wh_run_raw scan --json --boefje "$CORPUS/boefjes/kat_dnssec" --input-ooi "Hostname|internet|$1" \
                --runtime-root "$ROOTFS" --raw-store "$T/store" "${NORM[@]}" --net-no-input "${ALLOW_ROOTS[@]}"
        local digest
        digest=$(jout '.boefje.raw_files[0].digest' | sed 's/^sha256://')
        grep -E '^\[(T|S|B|U)\]' "$T/store/sha256/$digest" 2>/dev/null | tail -1 >"$T/status-line"
}
findings() { jout '[.normalisers[0].result.results.observations[0].results[]? | select(.object_type == "KATFindingType") | .id] | join(",")'; }
dnssec good.test
expect "kat_dnssec good.test (signed, DS in its parent): ok" rc=0
assert_match "drill's verdict: trusted, from the test's root key" '^\[T\] good\.test\.\s+[0-9]+\s+IN\s+A\s+192\.0\.2\.21' "$(cat "$T/status-line")"
assert_eq "the kat_dnssec normaliser ran on it" kat_dnssec_normalize "$(jout '[.normalisers[].normaliser] | join(",")')"
assert_eq "... and found nothing wrong: no objects" "true 0" \
        "$(jout '"\(.normalisers[0].result.ok) \(.normalisers[0].result.results.observations | length)"')"
assert_eq "every connection allowed went to a root server's port 53" "53" \
        "$(jout '[.boefje.status.network.connections[] | select(.verdict == "allowed") | .dport] | unique | join(",")')"
dnssec plain.test
expect "kat_dnssec plain.test (unsigned, no DS): ok" rc=0
assert_match "drill's verdict: unsigned" '^\[U\] plain\.test\.' "$(cat "$T/status-line")"
assert_eq "the normaliser: KAT-NO-DNSSEC" KAT-NO-DNSSEC "$(findings)"
dnssec island.test
expect "kat_dnssec island.test (signed, no DS in its parent): ok" rc=0
assert_match "drill's verdict: self-signed" '^\[S\] island\.test\.' "$(cat "$T/status-line")"
assert_eq "the normaliser: KAT-INVALID-DNSSEC" KAT-INVALID-DNSSEC "$(findings)"
dnssec bad.test
# drill exits 5 on a bogus answer, and kat_dnssec checks its exit status:
# OpenKAT's boefje fails there, before its normaliser could see "[B]".
expect "kat_dnssec bad.test (tampered A record): the boefje fails as drill does (exit 5)" rc=1 \
        'out~"code": "boefje_error"' 'out~CalledProcessError' 'out~"raw_files": \[\]'

# ---- kat_nmap_tcp: a SYN scan with raw sockets --------------------------
mkdir -p "$T/nmap-normalisers" && cp -r "$WH_SOURCE_DIR/examples/normalisers/nmap-xml" "$T/nmap-normalisers/"
chmod -R a+rX "$T/nmap-normalisers"
echo '{"PORTS": "8080,8081,8082"}' >"$T/nmap.json"
wh_run_raw scan --json --boefje "$CORPUS/boefjes/kat_nmap_tcp" --input-ooi 'IPAddressV4|internet|10.231.0.3' \
        --runtime-root "$ROOTFS" --settings "$T/nmap.json" --raw-store "$T/store"
expect "kat_nmap_tcp without raw sockets: nmap's SYN scan cannot start, nothing stored" rc=1 \
        'out~"code": "boefje_error"' 'out~CalledProcessError' 'out~"raw_files": \[\]'
wh_run_raw scan --json --boefje "$CORPUS/boefjes/kat_nmap_tcp" --input-ooi 'IPAddressV4|internet|10.231.0.3' \
        --runtime-root "$ROOTFS" --settings "$T/nmap.json" --raw-store "$T/store" --net-allow raw \
        --normalisers "$T/nmap-normalisers" --normaliser-runtime-root "$K/root" \
        --schema-dir "$WH_SOURCE_DIR/examples/normalisers/nmap-xml/schemas"
expect "kat_nmap_tcp (-sS -sV) with raw sockets: ok" rc=0
assert_eq "the allowlist: the input address (every port) and raw sockets from the caller" \
        '10.231.0.3:*/both:input_ooi,raw:caller' \
        "$(jout '[.boefje.provenance.network.allow[] | "\(.allow):\(.from)"] | join(",")')"
assert_eq "stored as boefje/nmap and openkat/nmap-output" '["boefje/nmap","openkat/nmap-output"]' \
        "$(jout '.boefje.raw_files[0].mime_types | tostring')"
digest=$(jout '.boefje.raw_files[0].digest' | sed 's/^sha256://')
assert_match "nmap's XML: a SYN scan (answered syn-ack, read from the wire: a TTL)" \
        'portid="8080"><state state="open" reason="syn-ack" reason_ttl="6[0-9]"' "$(cat "$T/store/sha256/$digest" 2>/dev/null)"
assert_eq "the nmap-xml normaliser: the open ports 8080 and 8081, not 8082" "8080,8081" \
        "$(jout '[.normalisers[0].result.results.observations[0].results[]? | select(.object_type == "IPPort") | .port] | sort | join(",")')"
assert_match "... and the service nmap probed on them" 'ssh' \
        "$(jout '[.normalisers[0].result.results.observations[0].results[]? | select(.object_type == "Service") | .name] | join(",")')"
assert_eq "every connection allowed went to the target" 10.231.0.3 \
        "$(jout '[.boefje.status.network.connections[] | select(.verdict == "allowed") | .dst] | unique | join(",")')"
assert_eq "the other target was never reached" "" "$(cat "$T/listen-10.231.0.4:8080.log")"
finish
