#!/usr/bin/env bash
# whiskers exec network: the sandbox never reaches the host's network, not
# even 127.0.0.1; --net loopback gives it its own lo; kernel-object sockets
# (netlink, packet, vsock, raw) are refused.
. "$(dirname "$0")/lib.sh"

port=$(free_port)
start_listener "$port" "$T/listener.log" || finish

for net in none loopback; do
        opt=(--net "$net")
        wh_run "${opt[@]}" -- /probe connect tcp 127.0.0.1 "$port"
        if [ "$net" = none ]; then
                # EACCES: Landlock denies TCP connect without a network (docs/sandbox.md).
                expect "--net none: TCP to the host's 127.0.0.1 fails" rc=1 \
                        "out~^ERR (ENETUNREACH|ECONNREFUSED|EACCES)$"
        else
                expect "--net loopback: TCP goes to the sandbox's own lo (refused)" rc=1 \
                        "out=ERR ECONNREFUSED"
        fi
        wh_run "${opt[@]}" -- /probe connect udp 127.0.0.1 "$port"
        if [ "$net" = none ]; then
                expect "--net none: UDP to the host's 127.0.0.1 fails" rc=1 \
                        "out~^ERR (ENETUNREACH|ECONNREFUSED)$"
        else
                expect "--net loopback: UDP goes to the sandbox's own lo (refused)" rc=1 \
                        "out=ERR ECONNREFUSED"
        fi
        wh_run "${opt[@]}" -- /probe cat /proc/net/dev
        ifaces=$(awk -F: 'NR > 2 { gsub(/ /, "", $1); printf "%s ", $1 }' "$T/out")
        assert_eq "--net $net: the only interface is lo" "lo " "$ifaces"
done
assert_eq "the host listener saw no contact" "" "$(cat "$T/listener.log")"

# The listener works: a contact from the host is logged (the check above can fail).
"$PYTHON" -c "import socket; socket.create_connection(('127.0.0.1', $port)).close()"
for _ in $(seq 20); do
        [ -s "$T/listener.log" ] && break
        sleep 0.1
done
assert_true "the host listener logs a host contact (control)" grep -q '^tcp' "$T/listener.log"

for sock in "netlink raw" "packet raw" "packet dgram" "vsock stream" "inet raw" "inet6 raw"; do
        wh_run -- /probe socket $sock
        if [ "$(st status)" = seccomp_kill ]; then
                expect "socket $sock: killed by seccomp at socket" rc=4 syscall.name=socket out=
        else
                expect "socket $sock: refused" rc=1 "out~^ERR (EPERM|EACCES|EAFNOSUPPORT)$"
        fi
done
finish
