#!/usr/bin/env bash
# A warm sandbox with an allowlist (docs/warm.md "Network"): its namespace,
# slirp4netns and ruleset are set up once and shared by its inputs, each of
# which gets the connection log and limits of its own. Hostile inputs try to
# leave something for the next: a daemon that keeps a socket open and sends,
# a UDP flow whose 5-tuple the next input reuses, connections and bytes that
# would eat the next input's limits. Targets in network namespaces of this
# test, as in test_exec_net_allow.sh:
#
#   H  runs whiskers    veth 10.77.1.1 <-> 10.77.1.2  A: HTTP :8080, UDP :9001
#                       veth 10.77.2.1 <-> 10.77.2.2  B: HTTP :8080 (never listed)
. "$(dirname "$0")/lib.sh"

if [ "$ROOT" != 1 ]; then
        echo "SKIP: network namespaces with real targets need root: warm --net-allow was NOT tested"
        exit 77
fi
for tool in nft ip slirp4netns; do
        if ! command -v "$tool" >/dev/null && [ ! -x "/usr/sbin/$tool" ]; then
                echo "SKIP: $tool is missing (scripts/deps/net.txt): warm --net-allow was NOT tested"
                exit 77
        fi
done

net_targets || { echo "FAIL - cannot create the network namespaces"; exit 1; }
mkdir -p "$T/www" && echo "target" >"$T/www/index.html"
head -c 200000 /dev/zero >"$T/www/big"
netns_bg "$A" "$PYTHON" -m http.server --bind 10.77.1.2 --directory "$T/www" 8080 >"$T/a-http.log" 2>&1
netns_bg "$B" "$PYTHON" -m http.server --bind 10.77.2.2 --directory "$T/www" 8080 >"$T/b-http.log" 2>&1
netns_bg "$A" "$PYTHON" -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("10.77.1.2", 9001))
while True:
    d, a = s.recvfrom(512); print(d.decode(errors="replace").strip(), a[1], flush=True)
    s.sendto(b"echo " + d, a)
' >"$T/a-udp.log" 2>&1
netns_bg "$A" "$PYTHON" -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.77.1.2", 9002)); s.listen(4)
while True:
    c, a = s.accept()
    while d := c.recv(64):
        c.sendall(b"echo " + d)
    c.close()
' >"$T/a-echo.log" 2>&1
for _ in $(seq 50); do
        in_netns "$H" "$PYTHON" -c "import socket; socket.create_connection(('10.77.1.2', 8080), 1).close(); socket.create_connection(('10.77.2.2', 8080), 1).close()" \
                2>/dev/null && break
        sleep 0.1
done
REAL_WHISKERS=$WHISKERS
printf '#!/bin/sh\nexec nsenter --net=/proc/%s/ns/net "%s" "$@"\n' "$H" "$REAL_WHISKERS" >"$T/wh-in-ns"
chmod 755 "$T/wh-in-ns"
WHISKERS=$T/wh-in-ns

# The normaliser: each raw file says what its input does on the network.
N=$T/netprobe
probe_normaliser "$N" netprobe '{"memory": "128M", "pids": 16, "wall_ms": 5000}'
cat >"$N/normalize.py" <<'PY'
import errno
import os
import socket
import time


# With this file beside the code, the zygote opens a TCP connection while it
# loads; every input's child inherits it.
if os.path.exists(os.path.join(os.path.dirname(os.path.abspath(__file__)), "zygote-talks")):
    TALK = socket.create_connection(("10.77.1.2", 9002), 3)


def zsend():
    TALK.settimeout(2)
    TALK.sendall(b"ping\n")
    return TALK.recv(64).decode().strip()


def probe(name, f):
    try:
        value = f()
    except OSError as e:
        value = "ERR " + errno.errorcode.get(e.errno, type(e).__name__)
    return {"object_type": "Probe", "name": name, "value": value}


def get(host, path="/", keep=False):
    s = socket.create_connection((host, 8080), 3)
    s.sendall(b"GET %s HTTP/1.0\r\n\r\n" % path.encode())
    data = b""
    while chunk := s.recv(65536):
        data += chunk
    if not keep:
        s.close()
    return "%d bytes" % len(data)


def udp(sport, text):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", sport))
    s.settimeout(3)
    s.sendto(text.encode(), ("10.77.1.2", 9001))
    return s.recv(512).decode()


def flood_then_udp(sport, text):
    """300 refused attempts (more than the log keeps), then the UDP flow."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for port in range(1000, 1300):
        try:
            s.sendto(b"x", ("10.77.2.2", port))
        except OSError:
            pass
    return udp(sport, text)


def daemon():
    """Outlive the input: a grandchild in its own session that keeps a TCP
    connection open and sends a datagram every 50 ms."""
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            c = socket.create_connection(("10.77.1.2", 8080), 3)
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.sendto(b"daemon", ("10.77.1.2", 9001))
            open("/tmp/daemon-up", "w").close()
            while True:
                time.sleep(0.05)
                s.sendto(b"daemon", ("10.77.1.2", 9001))
        os._exit(0)
    os.wait()
    for _ in range(300):  # its input ends once it has sent (the machine may be slow)
        if os.path.exists("/tmp/daemon-up"):
            return "started"
        time.sleep(0.01)
    return "not started"


def conns(n):
    held = [socket.create_connection(("10.77.1.2", 8080), 3) for _ in range(n)]
    return "%d open" % len(held)


def run(input_ooi, raw):
    words = raw.decode().split()
    what = words[0]
    if what == "get":
        yield probe("get", lambda: get(words[1], words[2] if len(words) > 2 else "/"))
    elif what == "udp":
        yield probe("udp", lambda: udp(int(words[1]), words[2]))
    elif what == "flood":
        yield probe("flood", lambda: flood_then_udp(int(words[1]), words[2]))
    elif what == "daemon":
        yield probe("daemon", daemon)
    elif what == "conns":
        yield probe("conns", lambda: conns(int(words[1])))
    elif what == "zsend":
        yield probe("zsend", zsend)
    elif what == "nothing":
        yield probe("nothing", lambda: "done")
PY
raw() { echo "$2" >"$N/$1"; }
raw get-a "get 10.77.1.2"
raw get-b "get 10.77.2.2"
raw big "get 10.77.1.2 /big"
raw udp1 "udp 40123 first"
raw udp2 "udp 40123 second"
raw daemon daemon
raw flood "flood 40123 flooded"
raw conns "conns 3"
raw nothing nothing
raw zsend zsend

# warm "OPTIONS" RAW...: one warm sandbox, one input per RAW; $T/out a list of reports.
warm() {
        local opts=$1
        shift
        # shellcheck disable=SC2086
        wh_run_raw run --json --warm $opts "$N" "${@/#/$N/}" --input-ooi 'Probe|x'
}
# conns I: input I's connection log, one line; probe_of I: its Probe values.
conns() { jq -r "[.[$1].status.network.connections[] | \"\(.verdict) \(.proto) \(.dst):\(.dport)\"] | join(\", \")" "$T/out"; }
probe_of() { jq -r "[.[$1].results.observations[].results[] | .value] | join(\" \")" "$T/out"; }

warm "--net-allow 10.77.1.2:8080" get-a get-b get-a
assert_eq "one zygote serves the three inputs, each warm" "warm warm warm 1 2 3" \
        "$(jq -r '[(.[].status.mode), (.[].status.warm.ordinal)] | join(" ")' "$T/out")"
assert_eq "the zygote is the same for all three" 1 "$(jq '[.[].status.warm.zygote] | unique | length' "$T/out")"
assert_match "input 1 reaches the listed target" '^[0-9]+ bytes$' "$(probe_of 0)"
assert_eq "input 1's log: its connection only" "allowed tcp 10.77.1.2:8080" "$(conns 0)"
assert_match "input 1's connection has its bytes" '^[1-9][0-9]* [1-9][0-9]*$' \
        "$(jq -r '.[0].status.network.connections[0] | "\(.bytes_out) \(.bytes_in)"' "$T/out")"
assert_eq "input 2 cannot reach what input 1 could not: refused" "ERR EHOSTUNREACH" "$(probe_of 1)"
assert_eq "input 2's log: its refused attempt only" "refused tcp 10.77.2.2:8080" "$(conns 1)"
assert_eq "input 3's log: its own connection, not input 1's or 2's" "allowed tcp 10.77.1.2:8080" "$(conns 2)"
assert_eq "network.mode is allow and provenance says so" "allow allow" \
        "$(jq -r '[.[0].status.network.mode, .[0].provenance.policy.sandbox.net] | join(" ")' "$T/out")"

# A UDP flow of input 1, answered; input 2 sends from the same port to the
# same target. Its packets must be its own new flow in its log, not pass as
# input 1's (its conntrack entries are deleted between inputs: without that the second
# flow would be "established", having seen a reply, and logged nowhere).
warm "--net-allow 10.77.1.2:9001/udp" udp1 udp2 nothing
# (slirp4netns sends them from a port of its own: the target cannot tell)
assert_eq "udp: both datagrams arrived" "first second" "$(cut -d' ' -f1 "$T/a-udp.log" | tr '\n' ' ' | sed 's/ $//')"
assert_eq "udp: both inputs' logs name the same source port" "40123 40123" \
        "$(jq -r '[.[].status.network.connections[].sport] | join(" ")' "$T/out")"
assert_eq "udp: both inputs got the answer" "echo first|echo second" "$(probe_of 0)|$(probe_of 1)"
assert_eq "udp: input 1's log has its flow" "allowed udp 10.77.1.2:9001" "$(conns 0)"
assert_eq "udp: input 2's log has the same 5-tuple as a flow of its own" "allowed udp 10.77.1.2:9001" "$(conns 1)"
assert_eq "udp: input 3, which sent nothing, has an empty log" "" "$(conns 2)"

# The log keeps 256 entries: an input that fills it with refused attempts
# before its UDP flow leaves that flow out of its log, so the take cannot
# delete its conntrack entry by tuple and flushes the whole table: the next
# input reusing the 5-tuple is still logged.
warm "--net-allow 10.77.1.2:9001/udp" flood udp2
assert_eq "flood: its flow was answered, its log full" "echo flooded 256 45" \
        "$(probe_of 0) $(jq -r '.[0].status.network | "\(.connections | length) \(.connections_dropped)"' "$T/out")"
assert_eq "flood: the next input's flow on the same 5-tuple is in its log" "allowed udp 10.77.1.2:9001" "$(conns 1)"

# A daemon that keeps a TCP connection open and sends every 50 ms: the sweep
# after its input kills it; nothing of it lands in the next inputs' logs.
: >"$T/a-udp.log"
warm "--net-allow 10.77.1.2:8080,10.77.1.2:9001/udp" daemon nothing nothing
assert_eq "daemon: it started" started "$(probe_of 0)"
assert_eq "daemon: its input's log has its connection and its flow" \
        "allowed tcp 10.77.1.2:8080, allowed udp 10.77.1.2:9001" "$(conns 0)"
assert_eq "daemon: the next inputs' logs are empty" "|" "$(conns 1)|$(conns 2)"
sent=$(grep -c daemon "$T/a-udp.log")
sleep 0.5
assert_eq "daemon: killed with its input: no datagram after the run" "$sent" "$(grep -c daemon "$T/a-udp.log")"
assert_eq "daemon: the zygote served the next inputs" "ok ok 2 3" \
        "$(jq -r '[.[1].status.status, .[2].status.status, .[1].status.warm.ordinal, .[2].status.warm.ordinal] | join(" ")' "$T/out")"

# The zygote's own connection, made while it loaded, is in the first input's
# log, and its child may use it. Conntrack forgets it at the first input's
# end: the next child's packets on it are TCP without a SYN that conntrack
# has not seen, dropped unlogged, so the connection is not taken for one of
# the next input's (nor is a packet of a socket that outlived its input).
touch "$N/zygote-talks"
warm "--net-allow 10.77.1.2:9002" zsend zsend nothing
rm "$N/zygote-talks"
assert_eq "zygote: its connection is in the first input's log" "allowed tcp 10.77.1.2:9002" "$(conns 0)"
assert_eq "zygote: the first input's child may use it" "echo ping" "$(probe_of 0)"
assert_eq "zygote: the next child cannot, and logs nothing" "ERR TimeoutError|" "$(probe_of 1)|$(conns 1)"
assert_eq "zygote: the same zygote served all three" "ok ok ok 3" \
        "$(jq -r '[.[].status.status, .[2].status.warm.ordinal] | join(" ")' "$T/out")"

# Limits are per input: input 1 uses all of --net-max-conns 3 and leaves its
# connections closing (its child's end closes them); input 2 gets 3 again.
# (The count is of connections open: nft's ct count skips closing ones, so
# this holds without deleting the entries too; a 4th at once is not let through.)
warm "--net-allow 10.77.1.2:8080 --net-max-conns 3" conns conns
assert_eq "conns: each input opens its 3 connections" "3 open|3 open" "$(probe_of 0)|$(probe_of 1)"
raw conns4 "conns 4"
warm "--net-allow 10.77.1.2:8080 --net-max-conns 3" conns4 nothing
assert_eq "conns: a 4th at once in one input is not let through" "ERR TimeoutError" "$(probe_of 0)"
# --net-max-bytes 300K, 200 KB each: the second input would stall on the
# first one's quota if it were not reset between inputs.
warm "--net-allow 10.77.1.2:8080 --net-max-bytes 300K" big big
assert_match "bytes: each input gets the whole quota" '^20[0-9]{4} bytes\|20[0-9]{4} bytes$' \
        "$(probe_of 0)|$(probe_of 1)"

# Persistent isolation: one process serves both inputs; each still gets its
# own log (its flows are its sockets', opened per input).
P=$T/netprobe-persistent
cp -r "$N" "$P"
jq '. + {"warm": "persistent", "max_inputs": 10}' "$N/normalizer.json" >"$P/normalizer.json"
wh_run_raw run --json --isolation persistent --net-allow 10.77.1.2:9001/udp "$P" "$N/udp1" "$N/udp2" "$N/nothing" \
        --input-ooi 'Probe|x'
assert_eq "persistent: one process served the three inputs" "1 1 1|1 2 3" \
        "$(jq -r '[.[].status.warm.process] | join(" ")' "$T/out")|$(jq -r '[.[].status.warm.process_ordinal] | join(" ")' "$T/out")"
assert_eq "persistent: each input's log is its own" "allowed udp 10.77.1.2:9001|allowed udp 10.77.1.2:9001|" \
        "$(conns 0)|$(conns 1)|$(conns 2)"

# ---- rootless: the take's netlink calls (conntrack delete, quota reset) as
# the owner of the sandbox's user namespace, not root (lib.sh rootless_net).
if ! WHISKERS=$REAL_WHISKERS rootless_net "$T/wh-rootless" "$H"; then
        skip "rootless warm --net-allow" "unprivileged user namespaces are disabled here: NOT tested"
else
        WHISKERS=$T/wh-rootless
        warm "--allow-unenforced-limits --net-allow 10.77.1.2:8080,10.77.1.2:9001/udp --net-max-bytes 300K" \
                udp1 udp2 big big
        assert_eq "rootless: warm, one zygote, all ok" "warm ok 1|warm ok 4" \
                "$(jq -r '.[0].status | "\(.mode) \(.status) \(.warm.ordinal)"' "$T/out")|$(jq -r '.[3].status | "\(.mode) \(.status) \(.warm.ordinal)"' "$T/out")"
        assert_eq "rootless: each UDP input logs its own flow" "allowed udp 10.77.1.2:9001|allowed udp 10.77.1.2:9001" \
                "$(conns 0)|$(conns 1)"
        assert_match "rootless: each input gets the whole quota" '^20[0-9]{4} bytes\|20[0-9]{4} bytes$' \
                "$(probe_of 2)|$(probe_of 3)"
        chmod 700 "$T"
        WHISKERS=$T/wh-in-ns
fi

assert_eq "no slirp4netns left in the host namespace" "" "$(slirp_left "$H")"
finish
