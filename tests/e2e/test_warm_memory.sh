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

# The leaf is made with cgroup v1's memory controller only (v2 refuses a
# controller to a child of a cgroup with processes of its own).
wh_run --memory 64M -- /probe true
if [ "$RC" != 0 ] || [ "$(st applied.cgroup_driver)" != v1 ]; then
        skip "per-input memory cgroup" "no v1 memory cgroup usable here (driver: $(st applied.cgroup_driver)): per-input limits, OOM and peaks were NOT tested"
        finish
fi

N=$T/normalisers
OOI='Hostname|internet|example.org'
make_norm memory '"text/plain"' "    pass" '{"memory": "128M", "pids": 16, "wall_ms": 8000}'
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


def grow(signum, frame):
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
    yield {"object_type": "Hostname", "network": "Network|internet", "name": "ok.example"}
PY
for w in state big oom touch grow; do echo "$w" >"$N/$w"; done

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
assert_true "state: a child that writes nothing of them has a peak well under 64 MiB" \
        [ "$(field '.[1].status.mem_peak_bytes')" -lt $((32 << 20)) ]

warm grow state
assert_eq "grow: the zygote ran the sandbox out of memory: the input fails at stage warm, not oom" \
        "sandbox_error warm warm" "$(field '.[0].status | "\(.status) \(.stage) \(.mode)"')"
assert_match "grow: the message says whose memory it was" "ran out of memory.*zygote" \
        "$(field '.[0].status.message')"
assert_true "grow: a new zygote serves the next input" \
        [ "$(field '.[0].status.warm.zygote')" != "$(field '.[1].status.warm.zygote')" ]
assert_eq "grow: the next input's result equals its cold result" "$COLD" "$(field '.[1].results | tojson')"

finish
