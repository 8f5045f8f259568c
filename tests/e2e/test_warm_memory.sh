#!/usr/bin/env bash
# Per-input memory in warm mode (docs/warm.md "Per-input memory"): each
# input's child is in a memory cgroup of its own beneath the sandbox's, with
# the job's memory limit. An input gets its own limit whatever the zygote
# holds; an input past its limit is `oom` and costs that input only; the
# child's copy-on-write copies of the zygote's pages are counted as the
# input's; a zygote that runs the sandbox out of memory is reported as such,
# not as the input's OOM.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/worker_lib.sh"

# The leaf needs a memory cgroup: v1's, or v2's, where init and the zygote
# are in a leaf of their own beside the input's (scripts/vm-v2.sh boots a
# pure v2 kernel to run this test on v2).
wh_run --memory 64M -- /probe true
DRIVER=$(st applied.cgroup_driver)
if [ "$RC" != 0 ] || { [ "$DRIVER" != v1 ] && [ "$DRIVER" != v2 ]; }; then
        skip "per-input memory cgroup" "no memory cgroup usable here (driver: $DRIVER): per-input limits, OOM and peaks were NOT tested"
        finish
fi
echo "# cgroup driver $DRIVER, kernel $(uname -r)"
# v2 restarts the input leaf's memory.peak for each input since Linux 6.12;
# before, an input's peak is its child's max RSS, which counts the zygote's
# pages it shares (docs/warm.md "Per-input memory").
OWN_PEAK=1
if [ "$DRIVER" = v2 ] && [ "$(printf '6.12\n%s\n' "$(uname -r)" | sort -V | head -1)" != 6.12 ]; then
        OWN_PEAK=0
fi

N=$T/normalisers
OOI='Hostname|internet|example.org'
# A wall limit no case meets: cgroup v2's VM (scripts/vm-v2.sh, TCG) is slow.
make_norm memory '"text/plain"' "    pass" '{"memory": "128M", "pids": 16, "wall_ms": 60000}'
N=$N/memory
cat >"$N/normalize.py" <<'PY'
# The zygote holds 64 MiB it has written (charged to the sandbox when it
# loaded). A timer of the zygote's (a child has none: timers are not
# inherited) eats memory once an input asks it to (/tmp/grow): the zygote,
# not the input, then runs the sandbox out. (Not a thread: the leftover
# sweep counts the zygote's threads as processes.)
import atexit
import os
import signal
import time

HELD = bytearray(64 << 20)
HELD[::4096] = b"h" * len(HELD[::4096])  # every page written
TASKS = []  # the inputs' memory cgroup's tasks file, kept by a hostile zygote
EATEN = []
REOPEN = ["not tried"]


def tasks_fd():
    """The fd of the leaf's tasks file sent with "input N", while it is open
    (in the zygote before it forks, in the child until it moved itself)."""
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink("/proc/self/fd/" + fd).endswith("/tasks"):
                return int(fd)
        except OSError:
            pass
    return None


def keep_tasks():
    fd = tasks_fd()
    if fd is not None and not TASKS:
        TASKS.append(os.dup(fd))


def reopen():
    """The child's copy, opened again through /proc for reading (the pids of
    the leaf) and writing: refused (Landlock: cgroupfs is not the sandbox's)."""
    fd = tasks_fd()
    REOPEN[0] = "no-fd"
    for mode in (os.O_RDONLY, os.O_WRONLY):
        try:
            os.close(os.open("/proc/self/fd/%d" % fd, mode))
            REOPEN[0] = "opened"
        except (OSError, TypeError) as e:
            REOPEN[0] = type(e).__name__ if fd is not None else "no-fd"


os.register_at_fork(before=keep_tasks, after_in_child=reopen)


def grow(signum, frame):
    if TASKS and os.path.exists("/tmp/move-init"):
        os.unlink("/tmp/move-init")
        os.write(TASKS[0], b"1")  # init, pid 1 of the sandbox's namespace
    if TASKS and os.path.exists("/tmp/move"):
        # The zygote moves itself into the input's memory cgroup and
        # allocates there: the input's OOM, were it not found.
        os.unlink("/tmp/move")
        os.write(TASKS[0], b"0")
        EATEN.append(b"z" * (100 << 20))
    eaten = []
    while os.path.exists("/tmp/grow"):
        eaten.append(b"z" * (16 << 20))


signal.signal(signal.SIGALRM, grow)
signal.setitimer(signal.ITIMER_REAL, 0.01, 0.01)
# A cold run's interpreter restores the default action as it exits.
atexit.register(signal.setitimer, signal.ITIMER_REAL, 0)


def run(input_ooi, raw):
    what = raw.decode().strip()
    if what == "big":  # 80 MiB: over what the zygote leaves of 128, under 128
        eaten = b"b" * (80 << 20)
    elif what == "oom":
        eaten = b"o" * (512 << 20)
    elif what == "touch":  # a copy of every page of the zygote's 64 MiB
        HELD[::4096] = b"t" * len(HELD[::4096])
    elif what == "grow":
        open("/tmp/grow", "w").close()
        time.sleep(6)
    elif what == "move":  # 40 MiB of its own, then the zygote's 100 come in
        held = b"c" * (40 << 20)
        open("/tmp/move", "w").close()
        time.sleep(2)
    elif what == "move-init":
        open("/tmp/move-init", "w").close()
        time.sleep(1)
    elif what == "reopen":
        yield {"object_type": "Hostname", "network": "Network|internet", "name": REOPEN[0]}
    yield {"object_type": "Hostname", "network": "Network|internet", "name": "ok.example"}
PY
for w in state big oom touch grow move move-init reopen; do echo "$w" >"$N/$w"; done

wh_run_raw run --json "$N" "$N/state" --input-ooi "$OOI"
COLD=$(jq -c .results "$T/out")
assert_match "cold: the normaliser ran" '"name":"ok.example"' "$COLD"

# warm INPUT...: one warm run of the inputs; $T/out holds the records.
warm() {
        local args=() w
        for w in "$@"; do args+=("$N/$w"); done
        wh_run_raw run --json "$N" "${args[@]}" --input-ooi "$OOI"
}
field() { jq -r "$1" "$T/out"; }

warm big state
assert_eq "big: 80 MiB on top of the zygote's 64 is within the input's own 128 MiB" \
        "ok warm" "$(field '.[0].status | "\(.status) \(.mode)"')"
assert_true "big: its peak is its own 80 MiB and more" \
        [ "$(field '.[0].status.mem_peak_bytes')" -ge $((80 << 20)) ]
assert_eq "big: the next input's result equals its cold result" "$COLD" "$(field '.[1].results | tojson')"

warm oom state
assert_eq "oom: the input past its limit is oom, warm" "oom warm" \
        "$(field '.[0].status | "\(.status) \(.mode)"')"
assert_eq "oom: the same zygote serves the next input" \
        "$(field '.[0].status.warm.zygote') 2 ok" "$(field '.[1].status | "\(.warm.zygote) \(.warm.ordinal) \(.status)"')"
assert_eq "oom: the next input's result equals its cold result" "$COLD" "$(field '.[1].results | tojson')"

# The child's copy-on-write copies of the zygote's pages are charged to it;
# the pages it only shares are not (its RSS counts them: 64 MiB and more).
warm touch state
assert_eq "touch: ok" "ok ok" "$(field '[.[].status.status] | join(" ")')"
assert_true "touch: the copies of the zygote's 64 MiB are the input's peak" \
        [ "$(field '.[0].status.mem_peak_bytes')" -ge $((64 << 20)) ]
if [ "$OWN_PEAK" = 1 ]; then
        assert_true "state: a child that writes nothing of them has a peak well under 64 MiB" \
                [ "$(field '.[1].status.mem_peak_bytes')" -lt $((32 << 20)) ]
else
        skip "state: its own peak" "v2 before Linux 6.12 cannot restart a cgroup's peak: the peak is the child's RSS, the zygote's shared pages included (NOT tested)"
fi

warm grow state
assert_eq "grow: the zygote ran the sandbox out of memory: the input fails at stage warm, not oom" \
        "sandbox_error warm warm" "$(field '.[0].status | "\(.status) \(.stage) \(.mode)"')"
assert_match "grow: the message says whose memory it was" "ran out of memory.*zygote" \
        "$(field '.[0].status.message')"
assert_true "grow: a new zygote serves the next input" \
        [ "$(field '.[0].status.warm.zygote')" != "$(field '.[1].status.warm.zygote')" ]
assert_eq "grow: the next input's result equals its cold result" "$COLD" "$(field '.[1].results | tojson')"

# v1 only: v2 has no tasks file, the supervisor moves each child itself.
if [ "$DRIVER" = v1 ]; then
        # Each child moves itself into the leaf through the tasks file sent with
        # "input N" (docs/warm.md "Protocol"). A zygote can keep that file and move
        # itself (or init) in: its memory is then counted as the input's (here its
        # 100 MiB make the input's OOM). Found after the input: the input fails at
        # stage warm, the zygote is replaced.
        warm move state
        assert_eq "move: a zygote that moved itself into the input's memory cgroup fails the input at stage warm" \
                "sandbox_error warm warm" "$(field '.[0].status | "\(.status) \(.stage) \(.mode)"')"
        assert_match "move: the message says the zygote was in the input's memory cgroup" \
                "memory cgroup holds.*zygote" "$(field '.[0].status.message')"
        assert_true "move: a new zygote serves the next input" \
                [ "$(field '.[0].status.warm.zygote')" != "$(field '.[1].status.warm.zygote')" ]
        assert_eq "move: the next input's result equals its cold result" "$COLD" "$(field '.[1].results | tojson')"
        # The same for init, which the zygote can name too.
        warm move-init state
        assert_eq "move-init: a zygote that moved init into the input's memory cgroup fails the input at stage warm" \
                "sandbox_error warm warm" "$(field '.[0].status | "\(.status) \(.stage) \(.mode)"')"
        assert_eq "move-init: the next input's result equals its cold result, from a new zygote" \
                "$COLD true" "$(field '.[1].results | tojson') $(field '.[0].status.warm.zygote != .[1].status.warm.zygote')"
        # The child's copy of the tasks file cannot be opened again through /proc
        # (to read the leaf's pids, or to write with its own credentials).
        warm reopen state
        assert_eq "reopen: the child had the tasks file, and /proc/self/fd cannot open it again" \
                "ok PermissionError" "$(field '.[0] | "\(.status.status) \(.results.observations[0].results[0].name)"')"
else
        skip "move, move-init, reopen" "the $DRIVER driver sends no tasks file: a zygote has none to abuse (nothing to test)"
fi

# A zygote of the protocol before children moved themselves
# (zygote_one_fd.py): the supervisor moves each child, whose OOM is still
# the input's own.
N=$T/normalisers/old
mkdir -p "$N/schemas"
cp "$WH_SOURCE_DIR/examples/normalisers/hostname-list-c/schemas/Hostname.json" "$N/schemas/"
cat >"$N/normalizer.json" <<'JSON'
{"id": "old_zygote", "version": "1.0.0", "consumes": ["text/plain"], "produces": ["Hostname"],
 "external_types": ["Network"], "runtime": "exec", "entrypoint": "normalize.py", "warm": "fork",
 "limits": {"memory": "128M", "pids": 16, "wall_ms": 60000}}
JSON
cp "$WH_SOURCE_DIR/tests/e2e/zygote_one_fd.py" "$N/normalize.py"
echo clone >"$N/fork"
chmod +x "$N/normalize.py"
for w in state oom; do echo "$w" >"$N/$w"; done
if [ "$(uname -m)" = x86_64 ]; then
        warm state oom state
        assert_eq "old zygote: its children are moved by the supervisor: ok, then the input's own oom, then ok, one zygote" \
                "ok 1,oom 2,ok 3 $(field '.[0].status.warm.zygote')" \
                "$(field '[.[].status | "\(.status) \(.warm.ordinal)"] | join(",")') $(field '.[2].status.warm.zygote')"
else
        skip "old zygote" "the test's zygote knows only x86_64's clone number: a zygote that does not move its children was NOT tested"
fi

finish
