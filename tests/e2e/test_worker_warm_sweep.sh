#!/usr/bin/env bash
# End-to-end: a worker removes what killed workers left behind (docs/worker.md
# "Stopping"): their sandboxes' cgroups (whiskers-NS-PID-N, NS the inode of
# the pid namespace, in every hierarchy whiskers uses, beneath the worker's own
# cgroup; and the old form whiskers-PID-N) and their staged inputs
# (whiskers-input-*), at start and every minute, even when it loads nothing
# (a warm worker rarely makes the new cgroup or input directory whose
# creation also sweeps). Only leftovers: a directory of a live process, a
# young one, one of another pid namespace (whose pids are not ours to test),
# one with another name, and a locked input directory stay.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/worker_lib.sh"

N=$T/normalisers
WORK=$T/work
mkdir "$WORK"
export WHISKERS_NORMALISERS=$N
OOI='Hostname|internet|example.org'
HOST='{"object_type": "Hostname", "network": "Network|internet", "name": %s}'
make_norm hostnames '"text/plain"' "    for n in raw.decode().split():
        yield $(printf "$HOST" n)"
printf 'h1.example.org\n' >"$T/in1.txt"

# The hierarchies whiskers uses beneath our own cgroup, where we may write.
dirs=
for d in $(own_cgroup_dirs); do
        case $d in
        /sys/fs/cgroup/memory* | /sys/fs/cgroup/pids* | /sys/fs/cgroup/cpu/* | \
                /sys/fs/cgroup/cpuacct* | /sys/fs/cgroup/cpu,cpuacct* | /sys/fs/cgroup/unified* | \
                /sys/fs/cgroup/)
                [ -w "$d" ] && dirs="$dirs ${d%/}"
                ;;
        esac
done
if [ -z "$dirs" ]; then
        echo "SKIP: no writable cgroup directory of ours: the cgroup sweep was NOT tested"
        exit 77
fi

# ---- what a SIGKILLed warm worker leaves ---------------------------------------------
K=sqlite://$T/killed.db
"$WHISKERS" submit --db "$K" --tenant acme --normaliser hostnames --input-ooi "$OOI" \
        "$T/in1.txt" >/dev/null
"$WHISKERS" worker --db "$K" --concurrency 1 --work-dir "$WORK" 2>"$T/killed.log" &
wpid=$!
started $wpid
assert_true "the first worker runs its job" wait_for '.done == 1' --db "$K"
kill -9 $wpid
wait $wpid 2>/dev/null
sleep 0.5
ns=$(stat -Lc %i /proc/self/ns/pid)
other_ns=$((ns + 1))
# shellcheck disable=SC2086
left_cg=$(find $dirs -maxdepth 1 -type d -name "whiskers-$ns-$wpid-*" 2>/dev/null)
left_in=$(find "$WORK" -maxdepth 1 -name 'whiskers-input-*')
assert_true "the killed worker left cgroups behind ($(echo $left_cg))" test -n "$left_cg"
assert_true "and its input directory ($(echo $left_in))" test -n "$left_in"

# ---- decoys, and leftovers of a minute ago --------------------------------------------
sleep 0 &
dead=$!
wait $dead
made=()
mk() { mkdir "$1" && made+=("$1") && on_exit "rmdir '$1'"; }
old() { touch -d '2 minutes ago' "$@"; }
for d in $dirs; do
        mk "$d/whiskers-$ns-$dead-0" && old "$d/whiskers-$ns-$dead-0"             # stale: removed
        mk "$d/whiskers-$dead-0" && old "$d/whiskers-$dead-0"                     # old form: removed
        mk "$d/whiskers-$ns-$dead-1"                                              # a minute not over: kept
        mk "$d/whiskers-$ns-$$-0" && old "$d/whiskers-$ns-$$-0"                   # its pid lives: kept
        mk "$d/whiskers-$other_ns-$dead-0" && old "$d/whiskers-$other_ns-$dead-0" # another pid ns: kept
        mk "$d/other-$ns-$dead-0" && old "$d/other-$ns-$dead-0"                   # not ours: kept
        mk "$d/whiskers-$ns-$dead-0x" && old "$d/whiskers-$ns-$dead-0x"           # not ours: kept
done
# shellcheck disable=SC2086
old $left_cg $left_in
mkdir "$WORK/whiskers-input-stale" "$WORK/whiskers-input-fresh" "$WORK/whiskers-input-held"
old "$WORK/whiskers-input-stale" "$WORK/whiskers-input-held"
"$PYTHON" -c 'import fcntl, os, sys, time
fcntl.flock(os.open(sys.argv[1], os.O_RDONLY), fcntl.LOCK_EX); time.sleep(60)' \
        "$WORK/whiskers-input-held" </dev/null >/dev/null 2>&1 &
bg_started $!
sleep 0.2

# A worker with nothing to run: it loads no normaliser, makes no sandbox.
wq worker --db "sqlite://$T/empty.db" --exit-when-idle --work-dir "$WORK"
expect "a worker on an empty store starts and stops" rc=0
gone=
for p in $left_cg $left_in; do [ -e "$p" ] && gone="$gone $p"; done
assert_empty "the killed worker's cgroups and input directory are removed" "$gone"
for d in $dirs; do
        for n in "whiskers-$ns-$dead-0" "whiskers-$dead-0"; do
                assert_true "$d: the stale leaf $n of a dead pid is removed" test ! -e "$d/$n"
        done
        kept=
        for n in "whiskers-$ns-$dead-1" "whiskers-$ns-$$-0" "whiskers-$other_ns-$dead-0" \
                "other-$ns-$dead-0" "whiskers-$ns-$dead-0x"; do
                [ -d "$d/$n" ] || kept="$kept $n"
        done
        assert_empty "$d: a young leaf, a live pid's, another pid namespace's, other names stay" "$kept"
done
assert_true "a stale unlocked input directory is removed" test ! -e "$WORK/whiskers-input-stale"
assert_true "a young one stays" test -d "$WORK/whiskers-input-fresh"
assert_true "a locked one stays" test -d "$WORK/whiskers-input-held"
assert_match "the log counts the removed cgroups" 'removed [0-9]+ cgroups that killed workers left' \
        "$(cat "$T/err")"
finish
