# shellcheck shell=bash
# lib.sh: shared helpers for the end-to-end tests of `whiskers exec`.
#
# Source it first: it checks the environment (WHISKERS, PROBE), makes a
# per-test temp dir $T (removed on exit, with every background process the
# test registered), and provides checks that print one line each and count
# passes and failures; `finish` prints "N passed, M failed" and sets the exit
# status. Runs as root and as an unprivileged user; see can_enforce_cgroups.
#
#   wh_run [EXEC OPTIONS...] -- PROGRAM ARGS   run whiskers exec with the probe
#       bound read-only at /probe; sets RC; stdout, stderr and the status
#       record land in $T/out, $T/err, $T/status.json
#   st FIELD                 a status field (jq path without the dot: syscall.name)
#   expect DESC COND...      one check over the last run; COND is KEY OP VALUE
#       with OP one of = != ~ (regex) <= >=; KEY is a status field, or rc (the
#       CLI exit code), out / err (stdout / stderr, trailing newline dropped)
#   assert_eq / assert_match / assert_true / skip
#   host_snapshot NAME / host_unchanged DESC NAME
#   free_port, start_listener PORT LOG, sandbox_procs PATTERN
set -u

WH_BUILD_DIR=${WH_BUILD_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build}
WHISKERS=${WHISKERS:-$WH_BUILD_DIR/src/cli/whiskers}
PROBE=${PROBE:-$WH_BUILD_DIR/tests/probe}
for bin in "$WHISKERS" "$PROBE"; do
        if [ ! -x "$bin" ]; then
                echo "FAIL - $bin is not an executable (set WHISKERS and PROBE)"
                echo "0 passed, 1 failed"
                exit 1
        fi
done
command -v jq >/dev/null || { echo "FAIL - jq is missing (scripts/deps/probe.txt)"; exit 1; }
# whiskers needs user namespaces. Where the kernel or its policy refuses them
# to this user (user.max_user_namespaces=0, kernel.unprivileged_userns_clone=0,
# AppArmor's restrict_unprivileged_userns) nothing here can run: skip (exit
# 77), and say so; CI=true must be able to run them. Probed with util-linux,
# not whiskers, so a broken whiskers fails instead of skipping.
if ! unshare --user --map-root-user --mount true 2>/dev/null; then
        if [ "${CI:-}" = true ]; then
                echo "FAIL - user namespaces are refused to $(id -un) here (CI=true must run $(basename "$0"))"
                echo "0 passed, 1 failed"
                exit 1
        fi
        echo "SKIP: user namespaces are refused to $(id -un) here: $(basename "$0") was NOT run"
        exit 77
fi
PYTHON=$(command -v /usr/bin/python3 || command -v python3)
ROOT=$([ "$(id -u)" = 0 ] && echo 1 || echo 0)

# Every test writes, chowns and removes under $T only: it must never be empty.
T=$(mktemp -d "${TMPDIR:-/tmp}/wh-e2e.XXXXXX") && [ -d "$T" ] || {
        echo "FAIL - cannot create a temp dir in ${TMPDIR:-/tmp}"
        exit 1
}
chmod 755 "$T"
WH_PASSED=0
WH_FAILED=0
WH_BG_PIDS=()
WH_CLEANUPS=()
RC=
LAST=

wh_cleanup() {
        local pid c
        # "|| true": a test under set -e must still reach the rm below.
        for c in "${WH_CLEANUPS[@]}"; do eval "$c" >/dev/null 2>&1 || true; done
        for pid in "${WH_BG_PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
        rm -rf "$T"
}
trap wh_cleanup EXIT
on_exit() { WH_CLEANUPS+=("$1"); }
# netns_new VAR: a network namespace (its loopback up) held by a process of
# this test, killed at the end (the namespace goes with it); VAR gets the
# process's pid. in_netns PID CMD... runs CMD in it. Deliberately not named
# under /run/netns, which every process on the machine shares: a name there
# can vanish under a test when something else cleans up.
netns_new() {
        unshare --net sleep 100000 &
        local pid=$! i
        bg_started "$pid"
        printf -v "$1" %s "$pid"
        for i in $(seq 100); do
                [ "$(readlink "/proc/$pid/ns/net")" != "$(readlink /proc/self/ns/net)" ] &&
                        in_netns "$pid" ip link set lo up && return 0
                sleep 0.02
        done
        return 1
}
in_netns() { local pid=$1; shift; nsenter --net="/proc/$pid/ns/net" "$@"; }
# net_targets: the namespaces of the network tests, their pids in H, A, B:
# H ("the host", where whiskers runs) with veth 10.77.1.1 <-> 10.77.1.2 in A
# and 10.77.2.1 <-> 10.77.2.2 in B, its default route through A. 1 on failure.
net_targets() {
        local ns
        for ns in H A B; do
                netns_new $ns || return 1
        done
        in_netns "$H" ip link add ha type veth peer name ta netns "$A" &&
                in_netns "$H" ip link add hb type veth peer name tb netns "$B" &&
                in_netns "$H" ip addr add 10.77.1.1/24 dev ha && in_netns "$H" ip link set dev ha up &&
                in_netns "$H" ip addr add 10.77.2.1/24 dev hb && in_netns "$H" ip link set dev hb up &&
                in_netns "$A" ip addr add 10.77.1.2/24 dev ta && in_netns "$A" ip link set dev ta up &&
                in_netns "$B" ip addr add 10.77.2.2/24 dev tb && in_netns "$B" ip link set dev tb up &&
                in_netns "$H" ip route add default via 10.77.1.2
}
# netns_bg PID CMD...: CMD in the background in PID's network namespace,
# registered for the final kill. nsenter execs CMD, so $! is CMD itself: a
# function started with & would be a subshell, and killing it would leave
# CMD running.
netns_bg() {
        local pid=$1
        shift
        nsenter --net="/proc/$pid/ns/net" "$@" &
        bg_started $!
}
# Register a background process for the final kill (disowned: no job notices).
bg_started() {
        WH_BG_PIDS+=("$1")
        disown "$1"
}

wh_run() {
        rm -f "$T/status.json"
        LAST="whiskers exec --status-file $T/status.json --ro-bind $PROBE:/probe $*"
        timeout -k 5 60 "$WHISKERS" exec --status-file "$T/status.json" \
                --ro-bind "$PROBE:/probe" "$@" >"$T/out" 2>"$T/err" </dev/null
        RC=$?
}

# Like wh_run but with no implicit options and stdin from the caller.
wh_run_raw() {
        LAST="whiskers $*"
        timeout -k 5 60 "$WHISKERS" "$@" >"$T/out" 2>"$T/err"
        RC=$?
}

st() {
        [ -s "$T/status.json" ] || { echo "<no status record>"; return; }
        jq -r ".$1" "$T/status.json" 2>/dev/null || echo "<unparsable status record>"
}

wh_dump() {
        {
                echo "    command: $LAST"
                echo "    exit code: $RC"
                echo "    status: $(head -c 2000 "$T/status.json" 2>/dev/null || echo '<none>')"
                echo "    stdout: $(head -c 400 "$T/out" 2>/dev/null | tr -c '[:print:]\n' . | head -5)"
                echo "    stderr: $(head -c 400 "$T/err" 2>/dev/null | tr -c '[:print:]\n' . | head -5)"
        } | sed 's/^/  /'
}

pass() {
        WH_PASSED=$((WH_PASSED + 1))
        echo "ok   - $1"
}

# fail DESC [nodump]: count a failure; show the last run unless it is unrelated.
fail() {
        WH_FAILED=$((WH_FAILED + 1))
        echo "FAIL - $1"
        [ "${2:-}" = nodump ] || wh_dump
}

# assert_empty DESC VALUE: a check of host state, not of the last run.
assert_empty() {
        if [ -z "$2" ]; then pass "$1"; else fail "$1: found: $(echo $2 | head -c 600)" nodump; fi
}

skip() { echo "SKIP: $1: $2"; }

value_of() {
        case $1 in
        rc) echo "$RC" ;;
        out) cat "$T/out" 2>/dev/null ;;
        err) cat "$T/err" 2>/dev/null ;;
        *) st "$1" ;;
        esac
}

# cond_holds KEY OP WANT: compares value_of KEY; prints the mismatch.
cond_holds() {
        local key=$1 op=$2 want=$3 got
        got=$(value_of "$key")
        case $op in
        =) [ "$got" = "$want" ] ;;
        !=) [ "$got" != "$want" ] ;;
        '~') [[ $got =~ $want ]] ;;
        '<=') [[ $got =~ ^-?[0-9]+$ ]] && [ "$got" -le "$want" ] ;;
        '>=') [[ $got =~ ^-?[0-9]+$ ]] && [ "$got" -ge "$want" ] ;;
        esac && return 0
        echo "$key: want $op '$want', got '$(printf '%s' "$got" | head -c 300)'"
        return 1
}

expect() {
        local desc=$1 cond why="" re='^([^=!<>~]+)(!=|<=|>=|=|~)(.*)$'
        shift
        for cond in "$@"; do
                if [[ $cond =~ $re ]]; then
                        why+=$(cond_holds "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" "${BASH_REMATCH[3]}") && continue
                        why+="; "
                else
                        why+="bad condition '$cond'; "
                fi
        done
        if [ -z "$why" ]; then pass "$desc"; else fail "$desc: $why"; fi
}

assert_eq() {
        if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: want '$2', got '$3'"; fi
}

assert_match() {
        if [[ $3 =~ $2 ]]; then pass "$1"; else fail "$1: want ~ '$2', got '$3'"; fi
}

# assert_true DESC COMMAND...: passes when COMMAND succeeds.
assert_true() {
        local desc=$1
        shift
        if "$@"; then pass "$desc"; else fail "$desc: '$*' failed"; fi
}

finish() {
        echo "$WH_PASSED passed, $WH_FAILED failed"
        [ "$WH_FAILED" = 0 ]
        exit
}

# ---- host state -------------------------------------------------------------

# The parts of the host a sandbox must never change. The clock is compared
# as the difference between wall-clock and uptime, which a step would move.
host_snapshot() {
        {
                echo "hostname $(hostname)"
                echo "core_pattern $(cat /proc/sys/kernel/core_pattern)"
                echo "root $(ls -A /)"
                echo "usr $(ls -A /usr)"
                echo "etc $(ls -A /etc)"
        } >"$T/$1.snap"
        clock_offset >"$T/$1.clock"
}

clock_offset() {
        local up
        up=$(cut -d' ' -f1 /proc/uptime)
        echo $(($(date +%s) - ${up%.*}))
}

host_unchanged() {
        local desc=$1 was now
        host_snapshot "$2.after"
        if ! diff -u "$T/$2.snap" "$T/$2.after.snap" >"$T/$2.diff"; then
                fail "$desc: host state changed: $(grep '^[-+][^-+]' "$T/$2.diff" | tr '\n' ' ' | head -c 600)" nodump
                return
        fi
        was=$(cat "$T/$2.clock")
        now=$(cat "$T/$2.after.clock")
        if [ $((now - was)) -gt 2 ] || [ $((was - now)) -gt 2 ]; then
                fail "$desc: host clock stepped by $((now - was)) s" nodump
                return
        fi
        pass "$desc"
}

# Host processes whose command line matches an extended regex (pgrep -f).
sandbox_procs() {
        pgrep -f -- "$1" | grep -vx "$$" || true
}

# Dirs that could hold leftovers of a run: entries of the temp dirs owned by
# us or by the sandbox's host id, and our cgroups. Not leftovers: the temp
# dirs of e2e tests running in parallel (wh-e2e.*) and a compiler's
# temporaries (cc??????.*) when a build runs at the same time.
leftover_listing() {
        local base
        for base in /tmp /var/tmp /dev/shm /run; do
                [ -d "$base" ] && find "$base" -maxdepth 1 -mindepth 1 ! -name 'wh-e2e.*' \
                        ! -name 'cc??????.*' \( -uid "$(id -u)" -o -uid "$(expected_host_uid)" \) \
                        2>/dev/null
        done
        for base in $(own_cgroup_dirs); do
                find "$base" -mindepth 1 -maxdepth 3 -type d 2>/dev/null
        done
        true
}

# The cgroup directories this shell is in, per mounted hierarchy.
own_cgroup_dirs() {
        local ctl path mnt opts
        while IFS=: read -r _ ctl path; do
                while read -r _ mnt fstype opts _; do
                        case $fstype in
                        cgroup2) [ -z "$ctl" ] && echo "$mnt$path" ;;
                        cgroup)
                                [ -n "$ctl" ] || continue
                                local c match=1
                                for c in ${ctl//,/ }; do
                                        [[ ,$opts, == *,${c#name=},* || ,$opts, == *,$c,* ]] || match=0
                                done
                                [ "$match" = 1 ] && echo "$mnt$path"
                                ;;
                        esac
                done </proc/self/mounts
        done </proc/self/cgroup | sort -u
}

# leftovers_since NAME: what appeared since `leftover_listing >$T/NAME` and
# is still there after a grace of up to 4 s, except cgroups with processes
# in them: those are runs in progress (other tests' runs come and go, and on
# a loaded machine their cleanup can take a moment).
leftovers_since() {
        local new path try
        for try in 0 1 2 3 4; do
                [ "$try" = 0 ] || sleep 1
                new=$(for path in $(comm -13 <(sort "$T/$1") <(leftover_listing | sort)); do
                        [ -n "$(cat "$path/cgroup.procs" 2>/dev/null)" ] || echo "$path"
                done)
                [ -z "$new" ] && return
        done
        echo "$new"
}

# ---- network ---------------------------------------------------------------

free_port() {
        "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# A TCP and UDP listener on 127.0.0.1:PORT that logs every contact to LOG.
start_listener() {
        local port=$1 log=$2
        : >"$log"
        "$PYTHON" - "$port" "$log" <<'EOF' &
import select, socket, sys
port, log = int(sys.argv[1]), sys.argv[2]
tcp = socket.socket(); tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
tcp.bind(("127.0.0.1", port)); tcp.listen(8)
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); udp.bind(("127.0.0.1", port))
open(log + ".ready", "w").close()
while True:
    ready, _, _ = select.select([tcp, udp], [], [])
    with open(log, "a") as f:
        if tcp in ready:
            conn, peer = tcp.accept(); f.write("tcp %s\n" % (peer,)); conn.close()
        if udp in ready:
            data, peer = udp.recvfrom(100); f.write("udp %s %r\n" % (peer, data))
EOF
        bg_started $!
        for _ in $(seq 50); do
                [ -e "$log.ready" ] && return 0
                sleep 0.1
        done
        echo "FAIL - listener on port $port did not start"
        return 1
}

# ---- capabilities of this host ------------------------------------------------

# Whether cgroup limits can be enforced for this user: always as root (a
# failure then is a bug); as a normal user only with a delegated cgroup.
# slirp_left PID: the slirp4netns processes in PID's network namespace.
slirp_left() {
        local hns p
        hns=$(readlink "/proc/$1/ns/net")
        for p in /proc/[0-9]*; do
                [ "$(readlink "$p/ns/net" 2>/dev/null)" = "$hns" ] && grep -l slirp4netns "$p/comm" 2>/dev/null
        done
}

# rootless_net FILE NSPID [RESOLV]: write FILE, which runs $WHISKERS as
# whiskers-test in NSPID's network namespace (no cgroup of its own there: give
# --allow-unenforced-limits), with RESOLV over /etc/resolv.conf if given. It
# needs a /dev/net/tun that user may open (Debian's is 0666; a machine may
# have 0600): a node of its own is bound over it in the run's mount namespace
# only, on a tmpfs under $T, so the host is untouched. $T is made 0777 for the
# user (chmod it back after). 1 when unprivileged user namespaces are disabled.
rootless_net() {
        local user=whiskers-test resolv=""
        id "$user" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$user"
        setpriv --reuid="$user" --regid="$user" --clear-groups unshare -U -r true 2>/dev/null || return 1
        [ -n "${3:-}" ] && resolv="mount --bind $3 /etc/resolv.conf &&"
        mkdir -p "$T/dev" && chmod 777 "$T"
        cat >"$1" <<EOF
#!/bin/sh
exec nsenter --net=/proc/$2/ns/net unshare --mount sh -c '$resolv
        mount -t tmpfs -o mode=755 none $T/dev && mknod -m 666 $T/dev/tun c 10 200 &&
        mount --bind $T/dev/tun /dev/net/tun &&
        exec setpriv --reuid=$user --regid=$user --clear-groups env HOME=$T "\$0" "\$@"' "$WHISKERS" "\$@"
EOF
        chmod 755 "$1"
}

# probe_normaliser DIR ID LIMITS: a python3 normaliser DIR (normalize.py is
# the caller's) producing Probe items {name, value}, with LIMITS (a JSON object).
probe_normaliser() {
        mkdir -p "$1/schemas"
        cat >"$1/schemas/Probe.json" <<'JSON'
{"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "Probe", "type": "object",
 "x-natural-key": ["name"],
 "properties": {"object_type": {"const": "Probe"}, "primary_key": {"type": "string"},
                "name": {"type": "string"}, "value": {"type": "string"}},
 "required": ["object_type", "name", "value"], "additionalProperties": false}
JSON
        cat >"$1/normalizer.json" <<JSON
{"id": "$2", "version": "1.0.0", "consumes": ["text/plain"], "produces": ["Probe"],
 "runtime": "python3", "entrypoint": "normalize.py", "limits": $3}
JSON
}

can_enforce_cgroups() {
        [ "$ROOT" = 1 ] && return 0
        [ -n "${WH_CAN_CGROUP:-}" ] && return "$WH_CAN_CGROUP"
        wh_run --memory 64M -- /probe true
        WH_CAN_CGROUP=$([ "$RC" = 0 ] && echo 0 || echo 1)
        return "$WH_CAN_CGROUP"
}

# The host id the sandbox's root maps to (docs/sandbox.md: an id no host
# file or account has when the caller is root, else the caller's own).
expected_host_uid() { [ "$ROOT" = 1 ] && echo 2000000000 || id -u; }
expected_host_gid() { [ "$ROOT" = 1 ] && echo 2000000000 || id -g; }

# The OpenKAT corpus: $WH_KAT_CORPUS, else ../shared/kat beside the repository
# (for a git worktree: beside the main checkout). Prints the path ("" if absent).
kat_corpus() {
        local src=${WH_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)} main
        main=$(cd "$(git -C "$src" rev-parse --git-common-dir 2>/dev/null || echo "$src/.git")/.." 2>/dev/null && pwd)
        for d in "${WH_KAT_CORPUS:-}" "$src/../shared/kat" "${main:-$src}/../shared/kat"; do
                [ -n "$d" ] && [ -d "$d/plugins" ] && { echo "$d"; return; }
        done
}

# kat_runtime CORPUS: the OpenKAT normalisers' runtime image, packed plugins
# and schemas (scripts/kat-runtime.sh, built once per build dir). Prints their
# directory; the script's messages go to $T/kat-runtime.err.
kat_runtime() {
        local src=${WH_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
        "$src/scripts/kat-runtime.sh" "$WH_BUILD_DIR" "$1" "$WHISKERS" 2>"$T/kat-runtime.err"
}
