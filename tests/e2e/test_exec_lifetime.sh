#!/usr/bin/env bash
# whiskers exec lifetime: when a run ends, for whatever reason, no process of
# the sandbox remains on the host, no cgroup and no temp dir is left behind;
# when the supervisor itself is killed (even with SIGKILL) the whole sandbox
# dies with it within a second.
. "$(dirname "$0")/lib.sh"
leftover_listing >"$T/leftovers.before"

# Runs leaving processes behind in every way a run can end. Each probe gets
# distinct arguments, so pgrep finds exactly its processes.
wh_run --wall-ms 10000 -- /probe bg-sleep 20001
expect "background child: the run ends when the program exits" rc=0 status=ok \
        "out~^OK [0-9]+$" 'wall_ms<=5000'
assert_empty "background child: gone from the host" "$(sandbox_procs '^/probe bg-sleep 20001$')"

wh_run --wall-ms 10000 -- /probe forkbomb 20
expect "20 sleeping children: the run ends when the program exits" rc=0 status=ok \
        "out=OK forked=20 of 20 errno=none" 'wall_ms<=5000'
assert_empty "20 sleeping children: all gone from the host" \
        "$(sandbox_procs '^/probe forkbomb 20$')"

wh_run --wall-ms 300 -- /probe sleep 10001
expect "wall timeout" rc=3 status=timeout_wall
assert_empty "wall timeout: the program is gone" "$(sandbox_procs '^/probe sleep 10001$')"

wh_run -- /probe syscall keyctl
expect "seccomp kill" rc=4 status=seccomp_kill
assert_empty "seccomp kill: the program is gone" "$(sandbox_procs '^/probe syscall keyctl$')"

if can_enforce_cgroups; then
        wh_run --memory 32M --pids 16 --wall-ms 10000 -- /probe memhog 256
        expect "oom with cgroup limits" rc=3 status=oom
        assert_empty "oom: the program is gone" "$(sandbox_procs '^/probe memhog 256$')"
else
        skip "cgroup runs" "cgroup limits are not enforceable for this user"
fi

assert_empty "no temp dir or cgroup left behind by the runs above" \
        "$(leftovers_since leftovers.before)"

# kill_supervisor SIGNAL MARK: start a run, signal whiskers mid-run, check that
# every sandbox process is gone within a second. MARK appears in whiskers'
# command line (and so in any fork of it, such as an init that did not exec).
kill_supervisor() {
        local sig=$1 mark=$2 pid left
        # Background jobs of a script start with SIGINT ignored: undo that.
        env --default-signal=INT "$WHISKERS" exec --status-file "$T/status.json" --ro-bind "$PROBE:/probe" \
                --setenv "MARK=$mark" -- /probe sleep "$mark" >"$T/out" 2>"$T/err" </dev/null &
        pid=$!
        bg_started "$pid"
        for _ in $(seq 50); do
                [ -n "$(sandbox_procs "^/probe sleep $mark$")" ] && break
                sleep 0.1
        done
        if [ -z "$(sandbox_procs "^/probe sleep $mark$")" ]; then
                fail "SIG$sig to whiskers: the program never started"
                return
        fi
        kill -s "$sig" "$pid"
        # A supervisor killed with SIGKILL cannot remove its cgroup: tidy up.
        on_exit "for d in \$(own_cgroup_dirs); do rmdir \"\$d\"/whiskers-*-$pid-*; done"
        for _ in $(seq 10); do
                left=$(sandbox_procs "(^/probe sleep $mark$|MARK=$mark)")
                [ -z "$left" ] && break
                sleep 0.1
        done
        if [ -n "$left" ]; then
                fail "SIG$sig to whiskers mid-run: still there after 1 s: $(ps -o pid=,ppid=,args= -p "$(echo $left | tr ' ' ,)" | tr '\n' ';')" nodump
                kill -9 $left 2>/dev/null
        else
                pass "SIG$sig to whiskers mid-run: every sandbox process gone within 1 s"
        fi
}
kill_supervisor KILL 10002
kill_supervisor TERM 10003
kill_supervisor INT 10004

finish
