#!/usr/bin/env bash
# cgroup v2 for real (docs/cgroups.md): on a pure v2 host — a Debian 12 one, or
# the VM of scripts/vm-v2.sh, which tests/vm/run.sh starts where the host has
# v1 — whiskers exec's limits are written to the leaf's v2 files, enforced,
# reported (oom with its peak, refused forks, CPU time and quota), and the
# leaf is removed; the parent gets the controllers enabled; the v2 rule "no
# processes in a cgroup that enables controllers" fails with what to do; the
# documented recipes (whiskers-in-subgroup, a delegated subtree for an
# unprivileged user) work. Skips, saying so, anywhere else.
. "$(dirname "$0")/lib.sh"

CG=/sys/fs/cgroup
if [ "$(stat -f -c %T $CG 2>/dev/null)" != cgroup2fs ]; then
        skip "cgroup v2" "$CG is not a pure cgroup v2 mount here (tests/vm/cgroup-v2.sh runs it in a VM): nothing was tested"
        exit 77
fi
if [ "$ROOT" != 1 ]; then
        skip "cgroup v2" "needs root to make the test's parent cgroup: nothing was tested"
        exit 77
fi
for c in memory pids cpu; do
        grep -qw "$c" $CG/cgroup.controllers || {
                skip "cgroup v2" "the $c controller is not in $CG/cgroup.controllers: nothing was tested"
                exit 77
        }
done

# The test's own parent, with no controller enabled for its children yet: the
# first limited run must enable them. Removed at the end (children first).
NAME=wh-e2e-v2-$$
P=$CG/$NAME
echo "+memory +pids +cpu" >$CG/cgroup.subtree_control
mkdir "$P" || { echo "FAIL - cannot create $P"; exit 1; }
on_exit "for d in \$(find $P -mindepth 1 -depth -type d); do rmdir \$d; done; rmdir $P"
leaves() { find "$P" -mindepth 1 -maxdepth 1 -type d -name 'whiskers-*' -printf '%f\n'; }

# ---- limits written, enforced and reported ---------------------------------
wh_run --cgroup-parent "/$NAME" --memory 64M --wall-ms 20000 -- /probe memhog 512
expect "memory bomb under --memory 64M: oom with its v2 peak (memory.peak)" rc=3 status=oom \
        applied.cgroup_driver=v2 applied.limits.enforced_by=cgroup \
        'mem_peak_bytes>=33554432' 'mem_peak_bytes<=75497472'
enabled() { tr ' ' '\n' <"$P/cgroup.subtree_control" | grep -E '^(cpu|memory|pids)$' | sort | xargs; }
assert_eq "the parent got memory and pids (exec's default) enabled, not cpu (no --cpus)" \
        "memory pids" "$(enabled)"
wh_run --cgroup-parent "/$NAME" --memory 64M --wall-ms 20000 -- /probe memhog 16
expect "16 MiB under --memory 64M: ok, peak at least 16 MiB" rc=0 status=ok "out=OK 16" \
        'mem_peak_bytes>=16777216'

wh_run --cgroup-parent "/$NAME" --pids 32 --wall-ms 20000 -- /probe forkbomb 1000
expect "fork bomb under --pids 32: stopped by pids.max" rc=0 status=ok applied.cgroup_driver=v2 \
        "out~^OK forked=([0-9]|[12][0-9]|3[01]) of 1000 errno=EAGAIN$"

# OOM is read from memory.events, not guessed from SIGKILL.
wh_run --cgroup-parent "/$NAME" --memory 64M --wall-ms 20000 -- /probe signal 9
expect "SIGKILL under --memory, no OOM: signal, not oom" rc=1 status=signal signal=9

wh_run --cgroup-parent "/$NAME" --cpu-ms 300 --wall-ms 20000 -- /probe spin 5000
expect "CPU spin past --cpu-ms 300: timeout_cpu from cpu.stat" rc=3 status=timeout_cpu \
        'cpu_ms>=300' 'cpu_ms<=2000'

# --cpus 0.2: 2 s of wall time give at most 0.2 * 2 s of CPU (and a margin).
wh_run --cgroup-parent "/$NAME" --cpus 0.2 --wall-ms 2000 -- /probe spin 5000
expect "spin under --cpus 0.2 for 2 s of wall time: at most ~400 ms of CPU (cpu.max)" \
        rc=3 status=timeout_wall 'cpu_ms>=100' 'cpu_ms<=700'
assert_eq "--cpus enabled cpu in the parent too" "cpu memory pids" "$(enabled)"

assert_empty "no leaf left under the parent after the runs" "$(leaves)"

# The files of a live leaf: start a sleeper, read them, let it end.
timeout -k 5 60 "$WHISKERS" exec --cgroup-parent "/$NAME" --memory 48M --pids 20 --cpus 0.5 \
        --status-file "$T/live.json" --ro-bind "$PROBE:/probe" -- /probe sleep 3000 >/dev/null 2>&1 &
live=$!
for _ in $(seq 100); do [ -n "$(leaves)" ] && break; sleep 0.05; done
leaf=$P/$(leaves | head -1)
assert_eq "live leaf: memory.max, memory.swap.max, pids.max, cpu.max" \
        "50331648 0 20 50000 100000" \
        "$(cat "$leaf/memory.max" "$leaf/memory.swap.max" "$leaf/pids.max" "$leaf/cpu.max" 2>&1 | xargs)"
wait "$live"
assert_eq "the sleeper ended ok" ok "$(jq -r .status "$T/live.json" 2>&1)"
assert_true "its leaf was removed" test ! -e "$leaf"

# ---- the v2 rule: a parent with processes of its own ------------------------
# As in a systemd unit without a subgroup: whiskers sits in the cgroup it
# would use as parent, which may then not enable controllers (EBUSY).
mkdir "$P/unit"
in_unit() { # wh_run ARGS in a subshell moved into the unit's cgroup
        (echo "$BASHPID" >"$P/unit/cgroup.procs" && wh_run "$@" && exit "$RC")
        RC=$?
}
in_unit --memory 64M -- /probe true
expect "--memory with its own cgroup as parent: sandbox_error naming the v2 rule and the way out" \
        rc=5 status=sandbox_error stage=cgroup out= \
        'message~unit has processes of its own .*whiskers-in-subgroup\) and pass --cgroup-parent.*; v1: '
in_unit -- /probe true
expect "exec's default limits there: fall back to rlimits, and run" rc=0 status=ok out=OK \
        applied.limits.enforced_by=rlimit

# The documented way out (docs/cgroups.md): the unit's main process moves one
# level down (contrib/systemd/whiskers-in-subgroup), whiskers gets the unit's cgroup.
rm -f "$T/status.json"
(echo "$BASHPID" >"$P/unit/cgroup.procs" &&
        exec "$WH_SOURCE_DIR/contrib/systemd/whiskers-in-subgroup" timeout -k 5 60 "$WHISKERS" exec \
                --cgroup-parent "/$NAME/unit" --memory 64M --status-file "$T/status.json" \
                --ro-bind "$PROBE:/probe" -- /probe memhog 512 >"$T/out" 2>"$T/err" </dev/null)
RC=$?
expect "whiskers-in-subgroup and --cgroup-parent=<unit>: the limit is enforced (oom)" rc=3 \
        status=oom applied.cgroup_driver=v2

# ---- an unprivileged user with a delegated subtree --------------------------
# What systemd's User= with Delegate=yes gives: the subtree's directory and its
# cgroup.procs, cgroup.subtree_control and cgroup.threads owned by the user,
# the user's processes in a subgroup of it.
if id whiskers-test >/dev/null 2>&1 && command -v runuser >/dev/null; then
        D=$P/delegated
        mkdir -p "$D/supervisor"
        echo "+memory +pids +cpu" >"$P/cgroup.subtree_control"
        chown whiskers-test: "$D" "$D"/cgroup.{procs,subtree_control,threads} \
                "$D/supervisor" "$D"/supervisor/cgroup.{procs,subtree_control,threads}
        chown whiskers-test: "$T"
        as_user() {
                rm -f "$T/status.json"
                (echo "$BASHPID" >"$D/supervisor/cgroup.procs" &&
                        runuser -u whiskers-test -- timeout -k 5 60 "$WHISKERS" exec \
                                --cgroup-parent "/$NAME/delegated" --status-file "$T/status.json" \
                                --ro-bind "$PROBE:/probe" "$@" >"$T/out" 2>"$T/err" </dev/null)
                RC=$?
        }
        as_user --memory 64M --wall-ms 20000 -- /probe memhog 512
        expect "unprivileged, delegated v2 subtree: memory bomb is oom" rc=3 status=oom \
                applied.cgroup_driver=v2 'mem_peak_bytes>=33554432'
        as_user --pids 32 --wall-ms 20000 -- /probe forkbomb 1000
        expect "unprivileged, delegated v2 subtree: fork bomb stopped by pids.max" rc=0 status=ok \
                "out~^OK forked=([0-9]|[12][0-9]|3[01]) of 1000 errno=EAGAIN$"
        assert_empty "no leaf left in the delegated subtree" \
                "$(find "$D" -mindepth 1 -maxdepth 1 -name 'whiskers-*')"
else
        skip "unprivileged delegated subtree" "no whiskers-test user or runuser here: NOT tested"
fi

finish
