#!/usr/bin/env bash
# whiskers exec --net-allow: a sandbox reaches what it lists and nothing else,
# against real targets in network namespaces this test makes:
#
#   H  "the host": runs whiskers; a listener on its loopback and on
#                its own address 10.77.1.1; resolv.conf -> dnsmasq
#     veth 10.77.1.1 <-> 10.77.1.2  A: HTTP :8080, open port :9000,
#                                   dnsmasq :53 (target.test, other.test)
#     veth 10.77.2.1 <-> 10.77.2.2  B: HTTP :8080 (never listed)
#
# and the same over IPv6 where the kernel has it (fd77:1::1 <-> fd77:1::2 A,
# fd77:2::1 <-> fd77:2::2 B; H's listeners also on ::1 and fd77:1::1).
#
# Needs root (it creates network namespaces), nft, ip, slirp4netns, dnsmasq.
. "$(dirname "$0")/lib.sh"

NETPROBE=$(dirname "$PROBE")/netprobe
if [ "$ROOT" != 1 ]; then
        echo "SKIP: network namespaces with real targets need root: --net-allow was NOT tested here"
        exit 77
fi
for tool in nft ip slirp4netns dnsmasq; do
        if ! command -v "$tool" >/dev/null && [ ! -x "/usr/sbin/$tool" ]; then
                echo "SKIP: $tool is missing (scripts/deps/net.txt): --net-allow was NOT tested"
                exit 77
        fi
done
[ -x "$NETPROBE" ] || { echo "FAIL - $NETPROBE is missing"; exit 1; }

# H, A, B: the pids holding the namespaces (lib.sh net_targets).
net_targets || { echo "FAIL - cannot create the network namespaces"; exit 1; }
# IPv6: probed, since a kernel may lack it or have it turned off.
V6=0
if [ -e /proc/sys/net/ipv6 ] && [ "$(in_netns "$H" sysctl -n net.ipv6.conf.all.disable_ipv6)" = 0 ]; then
        V6=1
        in_netns "$H" ip addr add fd77:1::1/64 dev ha nodad
        in_netns "$H" ip addr add fd77:2::1/64 dev hb nodad
        in_netns "$A" ip addr add fd77:1::2/64 dev ta nodad
        in_netns "$B" ip addr add fd77:2::2/64 dev tb nodad
        in_netns "$H" ip -6 route add default via fd77:1::2
fi

# The targets. Each server runs as a process of this test, killed at the end.
mkdir -p "$T/www" && echo "target" >"$T/www/index.html"
head -c 200000 /dev/zero >"$T/www/big"
head -c 600000 /dev/zero >"$T/www/bigger"
serve() { # NS ADDR PORT LOG
        netns_bg "$1" "$PYTHON" -m http.server --bind "$2" --directory "$T/www" "$3" \
                >"$4" 2>&1
}
serve "$A" 10.77.1.2 8080 "$T/a-http.log"
serve "$B" 10.77.2.2 8080 "$T/b-http.log"
listen() { # NS ADDR PORT LOG: log every contact
        netns_bg "$1" "$PYTHON" -c '
import socket, sys
s = socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(16)
while True:
    c, a = s.accept(); print("contact", a[0], flush=True); c.close()
' "$2" "$3" >"$4" 2>&1
}
listen "$A" 10.77.1.2 9000 "$T/a-9000.log"
listen_udp() { # NS ADDR PORT LOG: log every datagram
        netns_bg "$1" "$PYTHON" -c '
import socket, sys
s = socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET, socket.SOCK_DGRAM); s.bind((sys.argv[1], int(sys.argv[2])))
while True:
    d, a = s.recvfrom(512); print("datagram", d.decode(errors="replace").strip(), flush=True)
' "$2" "$3" >"$4" 2>&1
}
listen_udp "$A" 10.77.1.2 9001 "$T/a-udp.log"
listen_udp "$B" 10.77.2.2 9001 "$T/b-udp.log"
listen_udp "$H" 10.77.1.1 9001 "$T/h-udp.log"
listen "$H" 127.0.0.1 9100 "$T/h-lo.log"
listen "$H" 10.77.1.1 9100 "$T/h-if.log"
netns_bg "$A" dnsmasq --keep-in-foreground --no-resolv --no-hosts --bind-interfaces \
        --listen-address=10.77.1.2 --port=53 --user=root --pid-file="$T/dnsmasq.pid" \
        --address=/target.test/10.77.1.2 --address=/other.test/10.77.2.2 \
        --address=/dual.test/10.77.1.2 --address=/dual.test/2001:db8::7 \
        --address=/only6.test/fd77:1::2 \
        --log-queries --log-facility="$T/dns.log"
for _ in $(seq 50); do
        in_netns "$H" "$PYTHON" -c "import socket; socket.create_connection(('10.77.1.2', 8080), 1).close()" \
                2>/dev/null && in_netns "$H" "$PYTHON" -c "import socket; socket.create_connection(('10.77.2.2', 8080), 1).close()" 2>/dev/null \
                && [ -s "$T/dns.log" ] && break
        sleep 0.1
done
if [ "$V6" = 1 ]; then
        serve "$A" fd77:1::2 8080 "$T/a6-http.log"
        serve "$B" fd77:2::2 8080 "$T/b6-http.log"
        listen "$A" fd77:1::2 9000 "$T/a6-9000.log"
        listen_udp "$A" fd77:1::2 9001 "$T/a6-udp.log"
        listen_udp "$B" fd77:2::2 9001 "$T/b6-udp.log"
        listen "$H" ::1 9100 "$T/h6-lo.log"
        listen "$H" fd77:1::1 9100 "$T/h6-if.log"
        for _ in $(seq 50); do
                in_netns "$H" "$PYTHON" -c "import socket; [socket.create_connection((a, 8080), 1).close() for a in ('fd77:1::2', 'fd77:2::2')]" \
                        2>/dev/null && break
                sleep 0.1
        done
fi

# whiskers runs in "the host", resolving with the test's dnsmasq.
echo "nameserver 10.77.1.2" >"$T/resolv.conf"
cat >"$T/wh-in-ns" <<EOF
#!/bin/sh
exec nsenter --net=/proc/$H/ns/net unshare --mount sh -c 'mount --bind $T/resolv.conf /etc/resolv.conf && exec "\$0" "\$@"' "$WHISKERS" "\$@"
EOF
chmod 755 "$T/wh-in-ns"
REAL_WHISKERS=$WHISKERS
WHISKERS=$T/wh-in-ns
net_run() { wh_run --ro-bind "$NETPROBE:/netprobe" "$@"; }
# conn N FIELD: a field of network.connections[N]
conn() { st "network.connections[$1].$2"; }
# The one record for dst:dport (its verdict, bytes...), or "none".
conn_to() { jq -r "[.network.connections[] | select(.dst == \"$1\" and .dport == $2)] | if length == 1 then .[0].$3 else \"count \(length)\" end" "$T/status.json"; }

# A counting UDP target on A, 10.77.1.2:9200-9231 (answers every datagram)
# and :9232-9263 (silent): one line "PORT LENGTH" per datagram, in $T/a-92xx.log.
netns_bg "$A" "$PYTHON" -c '
import select, socket
socks = {}
for port in range(9200, 9264):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("10.77.1.2", port)); socks[s] = port
while True:
    for s in select.select(list(socks), [], [])[0]:
        d, a = s.recvfrom(65535); print(socks[s], len(d), flush=True)
        if socks[s] < 9232: s.sendto(b"answer", a)
' >"$T/a-92xx.log" 2>&1
# A run that ends stops the user-mode stack, and with it the frames it has
# not yet forwarded (under load it lost 18 of 19): the program waits for them.
SETTLE="sleep 1"
# got_92xx: how many datagrams the target counted since the last call.
got_92xx() {
        sleep 0.3
        wc -l <"$T/a-92xx.log"
        : >"$T/a-92xx.log"
}
# The refused entries a limit made in the last status record, to 10.77.1.2:
# "LIMIT DPORT,..." sorted.
limited() { jq -r '[.network.connections[] | select(.verdict == "refused" and .limit != null and .dst == "10.77.1.2") | "\(.limit) \(.dport)"] | unique | join(",")' "$T/status.json"; }

# ---- raw frames against the limits (--net-allow ...,raw) --------------------
# Frames a program writes itself (a raw IP socket, a packet socket) count
# against the same byte and rate budget as the IP stack's packets, and each
# (destination, protocol, port) they go to holds a place of --net-max-conns
# until answered. Counted at the target; each case has its unlimited control.
raw_limit_bytes() {
        local mode=$1 allow=10.77.1.2:9200-9263/udp,10.77.1.2:8080,raw
        got_92xx >/dev/null
        net_run --net-allow $allow -- /bin/sh -c "/netprobe burst $mode 10.77.1.2 9232 40 1000; $SETTLE"
        expect "raw $mode, no byte limit: 40 datagrams of 1000 bytes sent (the control)" rc=0 "out=OK sent 40"
        assert_eq "... and all 40 arrive" 40 "$(got_92xx)"
        # 20 KiB: 19 frames of 1028 IP bytes (1042 on the wire) fit, the 20th does not.
        net_run --net-allow $allow --net-max-bytes 20K -- /bin/sh -c \
                "/netprobe burst $mode 10.77.1.2 9232 40 1000; /netprobe fetch 10.77.1.2 8080 /"
        local got
        got=$(got_92xx)
        assert_true "raw $mode, --net-max-bytes 20K: 15..19 of 40 arrive ($got)" test "$got" -ge 15 -a "$got" -le 19
        # (a packet socket is told of a frame dropped at the egress hook,
        # ENOBUFS; a raw IP socket is not)
        local sent=$got
        [ "$mode" = rawudp ] && sent=40
        assert_match "... the sender saw $sent sent, and the IP stack's connection after them finds the budget spent" \
                "^OK sent $sent"$'\n'"ERR ETIMEDOUT$" "$(cat "$T/out")"
        # (rawudp: the TCP SYN after it too; packet: its ARP request was refused)
        assert_match "... the status record: refused over the byte limit" "^(bytes 8080,)?bytes 9232$" "$(limited)"
}
raw_limit_conns() {
        local mode=$1 allow=10.77.1.2:9200-9263/udp,raw
        got_92xx >/dev/null
        net_run --net-allow $allow --net-max-conns 0 -- /bin/sh -c "/netprobe sweep $mode 10.77.1.2 9232 10 64; $SETTLE"
        expect "raw $mode, no connection limit: 10 ports swept (the control)" rc=0 "out=OK sent 10"
        assert_eq "... and all 10 arrive" 10 "$(got_92xx)"
        net_run --net-allow $allow --net-max-conns 4 -- /bin/sh -c "/netprobe sweep $mode 10.77.1.2 9232 10 64; $SETTLE"
        assert_eq "raw $mode, --net-max-conns 4, ports that never answer: 4 of 10 arrive" 4 "$(got_92xx)"
        assert_eq "... the status record: 6 ports refused over the connection limit" \
                "conns 9236,conns 9237,conns 9238,conns 9239,conns 9240,conns 9241" "$(limited)"
        # (a raw IP socket's datagrams are conntrack's connections too, which
        # an answer does not end: only a packet socket's are freed by one)
        [ "$mode" = rawudp ] && return
        # The user-mode stack learns the sandbox's hardware address from the
        # IP stack's first ARP request (an answer to a frame sent before that
        # is lost): one datagram through the stack first, answered too.
        net_run --net-allow $allow --net-max-conns 4 -- /bin/sh -c \
                "/netprobe udp 10.77.1.2 9231; sleep 3; /netprobe sweep $mode 10.77.1.2 9200 4 64;
                 sleep 3; /netprobe sweep $mode 10.77.1.2 9204 4 64; $SETTLE"
        assert_eq "... ports that answer free their places: 1 + 8 of 8 arrive, 4 at a time" 9 "$(got_92xx)"
}
raw_limit_rate() {
        local mode=$1 allow=10.77.1.2:9200-9263/udp,raw
        got_92xx >/dev/null
        # 10 KiB/s with a second's burst: about 20 of 100 frames of 1042 bytes
        # sent at once fit; the rest come faster than the rate.
        net_run --net-allow $allow --net-max-rate 10K -- /bin/sh -c "/netprobe burst $mode 10.77.1.2 9232 100 1000; $SETTLE"
        local got
        got=$(got_92xx)
        assert_true "raw $mode, --net-max-rate 10K: 100 frames at once, 10..25 arrive ($got)" test "$got" -ge 10 -a "$got" -le 25
        assert_eq "... the status record: refused over the rate" "rate 9232" "$(limited)"
}

# ---- the listed target is reachable, and the attempt is logged ------------
net_run --net-allow 10.77.1.2:8080 -- /netprobe tcp 10.77.1.2 8080
expect "listed 10.77.1.2:8080: the HTTP server answers" rc=0 "out=OK HTTP/1.0 200 OK" \
        network.mode=allow "network.connections|length=1"
expect "its record: tcp, allowed, from the sandbox to 10.77.1.2:8080" "network.connections[0].proto=tcp" \
        "network.connections[0].verdict=allowed" "network.connections[0].dst=10.77.1.2" \
        "network.connections[0].dport=8080" "network.connections[0].sport>=1024" \
        "network.connections[0].src~^100\.127\.255\."
expect "its record counts the bytes both ways and the time" "network.connections[0].bytes_out>=100" \
        "network.connections[0].bytes_in>=200" "network.connections[0].time_ms>=$(($(date +%s) - 120))000"
assert_match "the target's server logged the request" 'GET / HTTP/1.0" 200' "$(cat "$T/a-http.log")"

# ---- the unlisted: another target, another port, the host ----------------
allow=10.77.1.2:8080,10.77.1.2:53/udp
net_run --net-allow $allow -- /netprobe tcp 10.77.2.2 8080
# A refused TCP connection fails within about a second (rejected as
# administratively prohibited, not dropped: nothing hangs until a timeout).
expect "unlisted target 10.77.2.2:8080: refused at once, not left hanging" rc=1 "out=ERR EHOSTUNREACH" \
        "wall_ms<=1900"
assert_eq "... logged as refused" refused "$(conn_to 10.77.2.2 8080 verdict)"
net_run --net-allow $allow -- /netprobe tcp 10.77.1.2 9000
expect "unlisted port 10.77.1.2:9000 of a listed host: refused" rc=1 "out=ERR EHOSTUNREACH"
assert_eq "... logged as refused" refused "$(conn_to 10.77.1.2 9000 verdict)"
net_run --net-allow $allow -- /netprobe udp 10.77.1.2 8080
expect "UDP to a TCP-only rule: refused" rc=1 "out=ERR EPERM"
assert_eq "... logged as refused udp" udp "$(conn_to 10.77.1.2 8080 proto)"
net_run --net-allow $allow -- /netprobe tcp 127.0.0.1 9100
expect "127.0.0.1 is the sandbox's own loopback: nothing listens" rc=1 "out=ERR ECONNREFUSED"
net_run --net-allow $allow -- /netprobe tcp 10.77.1.1 9100
expect "the host's own address 10.77.1.1: refused" rc=1 "out=ERR EHOSTUNREACH"
assert_eq "... logged as refused" refused "$(conn_to 10.77.1.1 9100 verdict)"
for gw in 100.127.255.2 100.127.255.3; do
        net_run --net-allow $allow -- /netprobe tcp $gw 9100
        expect "the user-mode stack's gateway $gw (the host's loopback): refused" rc=1 \
                "out=ERR EHOSTUNREACH"
        assert_eq "... logged as refused" refused "$(conn_to $gw 9100 verdict)"
done
net_run --net-allow $allow -- /netprobe tcp 2001:db8::1 80
expect "IPv6 TCP (the user-mode network is IPv4 only): refused at once, not left hanging" rc=1 \
        "out=ERR EACCES" "wall_ms<=1900"
assert_eq "... logged as refused" refused "$(conn_to 2001:db8::1 80 verdict)"
net_run --net-allow $allow -- /netprobe udp 2001:db8::53 53
expect "IPv6 UDP: refused" rc=1 "out=ERR EPERM"
assert_eq "... logged as refused" refused "$(conn_to 2001:db8::53 53 verdict)"
net_run --net-allow $allow -- /netprobe raw
if [ "$(st status)" = seccomp_kill ]; then
        expect "a raw socket: killed by seccomp" rc=4 syscall.name=socket
else
        expect "a raw socket: refused" rc=1 "out~^ERR (EPERM|EACCES|EAFNOSUPPORT)$"
fi
# ---- "raw": raw and packet sockets (nmap -sS), every packet still filtered --
# The program holds CAP_NET_RAW in the sandbox's own namespaces. A raw IP
# socket's packets pass the output chain; a packet socket's frames skip the IP
# stack, so the interface's egress hook checks them (needs Linux >= 5.16 and
# nft >= 1.0.1: probed here).
EGRESS=0
if in_netns "$H" sh -c 'ip link add whp0 type veth peer name whp1 && printf "table netdev p {\n chain e {\n type filter hook egress device whp0 priority 0;\n }\n}\n" | nft -f -; r=$?; ip link del whp0; exit $r' 2>/dev/null; then EGRESS=1; fi
if [ "$EGRESS" = 1 ]; then
        raw=10.77.1.2:9001/udp,raw
        for mode in rawudp packet packet-bypass; do
                net_run --net-allow $raw -- /netprobe $mode 10.77.1.2 9001
                expect "raw: $mode to the listed 10.77.1.2:9001/udp is sent (the control)" rc=0 "out=OK sent"
                net_run --net-allow $raw -- /netprobe $mode 10.77.2.2 9001
                expect "raw: $mode to the unlisted 10.77.2.2:9001 is refused" rc=1 "out~^ERR (EPERM|No buffer space available)$"
                assert_eq "... logged as refused" refused "$(conn_to 10.77.2.2 9001 verdict)"
                net_run --net-allow $raw -- /netprobe $mode 10.77.1.1 9001
                expect "raw: $mode to the host's own address is refused" rc=1 "out~^ERR (EPERM|No buffer space available)$"
                assert_eq "... logged as refused" refused "$(conn_to 10.77.1.1 9001 verdict)"
        done
        net_run --net-allow $raw -- /bin/sh -c '/usr/sbin/nft flush ruleset 2>&1; echo "nft: $?"; /netprobe packet 10.77.2.2 9001'
        expect "raw: nft flush ruleset fails, and a frame to 10.77.2.2 stays refused" rc=1 \
                "out~nft: [1-9]"$'\n'"ERR No buffer space available$"
        sleep 0.3
        assert_eq "the listed target got the 3 datagrams (raw, packet, packet without qdisc)" 3 \
                "$(grep -c '^datagram probe$' "$T/a-udp.log")"
        assert_eq "the unlisted target got none" "" "$(cat "$T/b-udp.log")"
        assert_eq "the host's interface got none" "" "$(cat "$T/h-udp.log")"
        for mode in packet rawudp; do
                raw_limit_bytes $mode
                raw_limit_conns $mode
                raw_limit_rate $mode
        done
else
        skip "raw sockets (--net-allow ...,raw)" "this kernel or nft has no netdev egress hook: raw sockets were NOT tested"
fi
net_run --net-allow 10.77.1.2:9001/udp -- /netprobe packet 10.77.1.2 9001
expect "without \"raw\": no packet socket" rc=1 "out=ERR EAFNOSUPPORT"

# The ruleset is out of the program's reach: nft inside cannot even talk to the kernel.
net_run --net-allow $allow -- /bin/sh -c '/usr/sbin/nft flush ruleset 2>&1; echo "nft: $?"; /netprobe tcp 10.77.2.2 8080'
expect "nft flush ruleset inside the sandbox fails, and 10.77.2.2 stays refused" rc=1 \
        "out~nft: [1-9]"$'\n'"ERR EHOSTUNREACH$"
assert_eq "... and logged as refused" refused "$(conn_to 10.77.2.2 8080 verdict)"
# saw_nothing V LOOPBACK: the unlisted target and port and the host's listeners
# (V: "" for IPv4, 6 for IPv6) were never reached; the control shows the
# host's loopback listener logs a contact, so the checks can fail.
saw_nothing() {
        assert_eq "IPv${1:-4}: the unlisted target saw nothing" "" "$(grep -v '^Serving' "$T/b$1-http.log")"
        assert_eq "IPv${1:-4}: the unlisted port saw nothing" "" "$(cat "$T/a$1-9000.log")"
        assert_eq "IPv${1:-4}: the host's loopback listener saw nothing" "" "$(cat "$T/h$1-lo.log")"
        assert_eq "IPv${1:-4}: the host's interface listener saw nothing" "" "$(cat "$T/h$1-if.log")"
        in_netns "$H" "$PYTHON" -c "import socket; socket.create_connection(('$2', 9100)).close()"
        sleep 0.3
        assert_true "control: the host's loopback listener $2 logs a contact" grep -q contact "$T/h$1-lo.log"
}
saw_nothing "" 127.0.0.1

# ---- names: resolved outside, pinned inside; nothing else resolves -------
net_run --net-allow target.test:8080 -- /bin/sh -c \
        'getent hosts target.test; getent hosts other.test || echo "other: none"; getent hosts example.com || echo "example: none"'
expect "target.test resolves in the sandbox to the pinned address only" rc=0 \
        "out~^10\.77\.1\.2 +target\.test"$'\n'"other: none"$'\n'"example: none$"
net_run --net-allow target.test:8080 -- /netprobe tcp 10.77.1.2 8080
expect "target.test:8080 allows its address" rc=0 "out=OK HTTP/1.0 200 OK"
net_run --net-allow dual.test:8080 -- /bin/sh -c 'getent ahosts dual.test | cut -d" " -f1 | sort -u'
expect "a name with IPv4 and IPv6 addresses: pinned to both" rc=0 "out=10.77.1.2"$'\n'"2001:db8::7"
# glibc returns every address /etc/hosts gives a name only with "multi on" in
# /etc/host.conf: the sandbox binds its own over a --rootfs's (here an empty
# one, glibc's default: the first address only).
R=$T/rootfs
mkdir -p "$R/usr" "$R/etc" "$R/proc" "$R/dev" "$R/tmp" && chmod -R a+rX "$R"
for l in bin lib lib64 sbin; do ln -s "usr/$l" "$R/$l"; done
touch "$R/probe" "$R/netprobe" "$R/etc/hosts" "$R/etc/resolv.conf" "$R/etc/nsswitch.conf" "$R/etc/host.conf"
net_run --rootfs "$R" --ro-bind /usr:/usr --net-allow dual.test:8080 -- /bin/sh -c 'getent ahosts dual.test | cut -d" " -f1 | sort -u'
expect "a --rootfs with an empty host.conf: the name pinned to both addresses too" rc=0 \
        "out=10.77.1.2"$'\n'"2001:db8::7"
net_run --net-allow target.test:8080 -- /netprobe dns 10.77.1.2 other.test
expect "DNS to the resolver, unlisted: refused" rc=1 "out=ERR EPERM"
assert_eq "... logged as refused udp to :53" refused "$(conn_to 10.77.1.2 53 verdict)"
assert_eq "the DNS server never saw other.test" "" "$(grep 'other.test' "$T/dns.log")"
net_run --net-allow target.test:8080 -- /bin/sh -c 'grep -v "^#" /etc/resolv.conf'
expect "resolv.conf: no DNS server listed, only the sandbox's own loopback" rc=0 "out=nameserver 127.0.0.1"
net_run --net-allow 10.77.1.2:53/udp,198.51.100.0/24:53/udp -- /bin/sh -c 'grep -v "^#" /etc/resolv.conf'
expect "resolv.conf: the listed DNS server (an address, not a CIDR)" rc=0 "out=nameserver 10.77.1.2"
net_run --net-allow 10.77.1.2:53/udp -- /netprobe dns 10.77.1.2 other.test
expect "DNS listed as 10.77.1.2:53/udp: answered (the control)" rc=0 "out=OK 10.77.2.2"

# ---- refused before any run ----------------------------------------------
for bad in 169.254.169.254:80 '[::1]:80' '[fe80::1]:80' '[fd00:ec2::254]:80' '[::ffff:127.0.0.1]:9100' \
        '[::ffff:169.254.169.254]:80' '[64:ff9b::a9fe:a9fe]:80' 127.0.0.1:9100 10.77.1.1:9100 10.77.0.0/16:80 \
        localhost:80 100.127.255.2:80 no-such-name.test:80; do
        net_run --net-allow "$bad" -- /netprobe tcp 10.77.1.2 8080
        expect "--net-allow $bad: refused before the run" rc=2 "out=" \
                "err~(may never be reached|does not resolve)"
        assert_true "... no status record" test ! -s "$T/status.json"
done

# ---- limits ----------------------------------------------------------------
net_run --net-allow 10.77.1.2:9000 --net-max-conns 3 -- /netprobe hold 10.77.1.2 9000 6
expect "--net-max-conns 3: 3 of 6 connections open" rc=0 "out=OK 3"
assert_eq "... 3 allowed in the log" 3 "$(jq '[.network.connections[] | select(.verdict == "allowed")] | length' "$T/status.json")"
assert_eq "... 3 refused in the log" 3 "$(jq '[.network.connections[] | select(.verdict == "refused")] | length' "$T/status.json")"

net_run --net-allow 10.77.1.2:8080 -- /netprobe fetch 10.77.1.2 8080 /big
expect "without --net-max-bytes: all of a 200000-byte file" rc=0 "out~^OK 20[0-9]{4}$"
net_run --net-allow 10.77.1.2:8080 --net-max-bytes 50K -- /netprobe fetch 10.77.1.2 8080 /big
# (conntrack's bytes_in counts what arrived, the packets the quota dropped included)
expect "--net-max-bytes 50K: the transfer stops short" rc=0 "out~^OK [0-9]+$" \
        "network.connections[0].verdict=allowed"
got=$(sed 's/^OK //' "$T/out")
assert_true "... at most 50K came in ($got bytes)" test "${got:-0}" -le 51200

net_run --net-allow 10.77.1.2:8080 -- /netprobe fetch 10.77.1.2 8080 /bigger
fast=$(st wall_ms)
net_run --net-allow 10.77.1.2:8080 --net-max-rate 100K -- /netprobe fetch 10.77.1.2 8080 /bigger
# 600 KB at 100 KiB/s: the bucket starts full (a second's rate plus a second's
# burst, 200 KiB, which 64 KB segments may take at once), the rest comes at
# the rate: at least ~3.9 s; 2 s is asserted, whatever the load.
expect "--net-max-rate 100K: 600 KB take at least 2 s (unlimited: $fast ms)" rc=0 \
        "out~^OK 60[0-9]{4}$" "wall_ms>=2000"

# ---- IPv6: the same allowlist, log and limits ------------------------------
# slirp4netns carries IPv6 when the policy lists an IPv6 destination; the
# sandbox is fd00::100 on libslirp's fd00::/64, whose gateway is the host.
ipv6_cases() {
        local allow6='[fd77:1::2]:8080'
        net_run --net-allow "$allow6" -- /netprobe tcp fd77:1::2 8080
        expect "IPv6: listed [fd77:1::2]:8080, the HTTP server answers" rc=0 "out=OK HTTP/1.0 200 OK" \
                "network.connections|length=1"
        expect "... its record: the IPv6 5-tuple, allowed, bytes both ways" \
                "network.connections[0].verdict=allowed" "network.connections[0].proto=tcp" \
                "network.connections[0].src=fd00::100" "network.connections[0].sport>=1024" \
                "network.connections[0].dst=fd77:1::2" "network.connections[0].dport=8080" \
                "network.connections[0].bytes_out>=100" "network.connections[0].bytes_in>=200"
        assert_match "... the target's server logged the request" 'GET / HTTP/1.0" 200' "$(cat "$T/a6-http.log")"
        net_run --net-allow "$allow6,[fd77:1::2]:9001/udp" -- /netprobe udp fd77:1::2 9001
        expect "IPv6: a datagram to the listed [fd77:1::2]:9001/udp is sent" rc=0 out=OK \
                "network.connections[0].verdict=allowed" "network.connections[0].proto=udp"
        net_run --net-allow "$allow6" -- /netprobe tcp fd77:2::2 8080
        expect "IPv6: the unlisted target fd77:2::2: refused at once" rc=1 "out=ERR EACCES" "wall_ms<=1900"
        assert_eq "... logged as refused" refused "$(conn_to fd77:2::2 8080 verdict)"
        net_run --net-allow "$allow6" -- /netprobe tcp fd77:1::2 9000
        expect "IPv6: an unlisted port of the listed host: refused" rc=1 "out=ERR EACCES"
        assert_eq "... logged as refused" refused "$(conn_to fd77:1::2 9000 verdict)"
        net_run --net-allow "$allow6" -- /netprobe udp fd77:1::2 8080
        expect "IPv6: UDP to a TCP-only rule: refused" rc=1 "out=ERR EPERM"
        assert_eq "... logged as refused udp" udp "$(conn_to fd77:1::2 8080 proto)"
        net_run --net-allow "$allow6" -- /netprobe tcp fd77:1::1 9100
        expect "IPv6: the host's own address fd77:1::1: refused" rc=1 "out=ERR EACCES"
        assert_eq "... logged as refused" refused "$(conn_to fd77:1::1 9100 verdict)"
        net_run --net-allow "$allow6" -- /netprobe tcp ::1 9100
        expect "IPv6: ::1 is the sandbox's own loopback, nothing listens" rc=1 "out=ERR ECONNREFUSED"
        # the user-mode stack's gateway (the host) and DNS; 127.0.0.1 as 6to4
        for gw in fd00::2 fd00::3 2002:7f00:1::1; do
                net_run --net-allow "$allow6" -- /netprobe tcp $gw 9100
                expect "IPv6: $gw: refused" rc=1 "out=ERR EACCES"
                assert_eq "... logged as refused" refused "$(conn_to $gw 9100 verdict)"
        done
        net_run --net-allow "$allow6" --net-max-conns 2 -- /netprobe hold fd77:1::2 8080 4
        expect "IPv6: --net-max-conns 2: 2 of 4 connections open" rc=0 "out=OK 2"
        assert_eq "... 2 refused in the log" 2 "$(jq '[.network.connections[] | select(.verdict == "refused")] | length' "$T/status.json")"
        net_run --net-allow "$allow6,10.77.1.2:8080" -- /netprobe tcp 10.77.1.2 8080
        expect "IPv6 and IPv4 listed together: the IPv4 target answers too" rc=0 "out=OK HTTP/1.0 200 OK"
        saw_nothing 6 ::1

        net_run --net-allow only6.test:8080 -- /bin/sh -c \
                'getent ahosts only6.test | cut -d" " -f1 | sort -u; /netprobe tcp "$(getent ahosts only6.test | cut -d" " -f1 | head -1)" 8080'
        expect "a name with only an AAAA record: pinned to it, and reached" rc=0 \
                "out=fd77:1::2"$'\n'"OK HTTP/1.0 200 OK" "network.connections[0].dst=fd77:1::2"
        net_run --net-allow '[fd77:1::2]:53/udp' -- /bin/sh -c 'grep -v "^#" /etc/resolv.conf'
        expect "resolv.conf: a listed IPv6 DNS server" rc=0 "out=nameserver fd77:1::2"
        # "raw": a packet socket's IPv6 frames meet the interface's egress hook too.
        if [ "$EGRESS" = 1 ]; then
                local raw6='[fd77:1::2]:9001/udp,raw' got
                got=$(grep -c '^datagram probe$' "$T/a6-udp.log")
                net_run --net-allow "$raw6" -- /netprobe packet6 fd77:1::2 9001
                expect "raw IPv6: a frame to the listed [fd77:1::2]:9001/udp is sent (the control)" rc=0 "out=OK sent"
                net_run --net-allow "$raw6" -- /netprobe packet6 fd77:2::2 9001
                expect "raw IPv6: a frame to the unlisted fd77:2::2:9001 is refused" rc=1 \
                        "out=ERR No buffer space available"
                assert_eq "... logged as refused" refused "$(conn_to fd77:2::2 9001 verdict)"
                sleep 0.3
                assert_eq "the listed IPv6 target got the frame's datagram" $((got + 1)) \
                        "$(grep -c '^datagram probe$' "$T/a6-udp.log")"
                assert_eq "the unlisted IPv6 target got none" "" "$(cat "$T/b6-udp.log")"
        fi
        # A boefje whose input object is an IPAddressV6 (docs/boefjes.md "Network"):
        # its allowlist is that address, every port; the other target is not in it.
        mkdir -p "$T/b6"
        echo '{"id": "v6-reach", "consumes": ["IPAddressV6"]}' >"$T/b6/boefje.json"
        cat >"$T/b6/main.py" <<'PY'
import socket
def run(boefje_meta):
    lines = []
    for addr in (boefje_meta["arguments"]["input"]["address"], "fd77:2::2"):
        try:
            c = socket.create_connection((addr, 8080), 2)
            c.sendall(b"GET / HTTP/1.0\r\n\r\n")
            lines.append(addr + " " + c.recv(64).decode().split("\r\n")[0])
        except OSError as e:
            lines.append(addr + " " + (socket.errno.errorcode.get(e.errno) or str(e)))
    return [({"text/plain"}, "\n".join(lines))]
PY
        chmod -R a+rX "$T/b6"
        wh_run_raw scan --json --boefje "$T/b6" --input-ooi 'IPAddressV6|internet|fd77:1::2' --raw-store "$T/b6-store"
        assert_eq "boefje on an IPAddressV6: its input reached, the other target refused" \
                "fd77:1::2 HTTP/1.0 200 OK"$'\n'"fd77:2::2 EACCES" "$(cat "$T/b6-store/sha256/"* 2>/dev/null)"
        for bad in '[fd77:1::1]:9100' '[fd00::2]:80' '[fd00::/64]:80' '[2002:7f00:1::]:80' \
                '[2001:0:a9fe:a9fe::]:80' '[64:ff9b:1::a9fe:a9fe]:80' '[2000::/3]:80'; do
                net_run --net-allow "$bad" -- /netprobe tcp fd77:1::2 8080
                expect "--net-allow $bad: refused before the run" rc=2 "out=" "err~may never be reached"
        done
}
if [ "$V6" = 1 ]; then
        ipv6_cases
else
        skip "IPv6 --net-allow" "IPv6 is off or missing in this kernel: IPv6 egress was NOT tested"
fi

# ---- rootless: the same way out for an unprivileged caller -----------------
# whiskers runs as whiskers-test in "the host" (lib.sh rootless_net).
if ! WHISKERS=$REAL_WHISKERS rootless_net "$T/wh-rootless" "$H" "$T/resolv.conf"; then
        skip "rootless --net-allow" "unprivileged user namespaces are disabled here: NOT tested"
else
        WHISKERS=$T/wh-rootless
        net_run --allow-unenforced-limits --net-allow 10.77.1.2:8080 -- /netprobe tcp 10.77.1.2 8080
        expect "rootless: the listed target answers, and the connection is logged" rc=0 \
                "out=OK HTTP/1.0 200 OK" network.mode=allow "network.connections[0].verdict=allowed"
        net_run --allow-unenforced-limits --net-allow 10.77.1.2:8080 -- /netprobe tcp 10.77.2.2 8080
        expect "rootless: an unlisted target is refused" rc=1 "out=ERR EHOSTUNREACH"
        assert_eq "... logged as refused" refused "$(conn_to 10.77.2.2 8080 verdict)"
        net_run --allow-unenforced-limits --net-allow 10.77.1.2:8080 -- /netprobe tcp 10.77.1.1 9100
        expect "rootless: the host's own address is refused" rc=1 "out=ERR EHOSTUNREACH"
        if [ "$V6" = 1 ]; then
                net_run --allow-unenforced-limits --net-allow '[fd77:1::2]:8080' -- /netprobe tcp fd77:1::2 8080
                expect "rootless IPv6: the listed target answers, and is logged" rc=0 \
                        "out=OK HTTP/1.0 200 OK" "network.connections[0].dst=fd77:1::2"
                net_run --allow-unenforced-limits --net-allow '[fd77:1::2]:8080' -- /netprobe tcp fd77:2::2 8080
                expect "rootless IPv6: an unlisted target is refused" rc=1 "out=ERR EACCES"
                assert_eq "... logged as refused" refused "$(conn_to fd77:2::2 8080 verdict)"
        fi
        chmod 700 "$T"
        WHISKERS=$T/wh-in-ns
fi

assert_eq "no slirp4netns left in the host namespace" "" "$(slirp_left "$H")"
finish
