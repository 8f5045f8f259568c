#!/usr/bin/env bash
# Hostile persistent processes (docs/warm.md "Persistent"): one that closes
# its control channel mid-input without exiting is noticed at once, killed,
# and fails only the input in flight (stage warm), instead of holding its
# slot until the wall deadline; the next input gets a fresh process whose
# result equals the cold one. Without a cgroup, the CPU time of a process an
# input forks counts against the input's CPU limit (before: wall time only).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/worker_lib.sh"

N=$T/normalisers
OOI='Hostname|internet|example.org'
make_norm hangup '"text/plain"' "    pass" '{"wall_ms": 8000}'
jq '. + {"warm": "persistent", "max_inputs": 10}' "$N/hangup/normalizer.json" >"$T/m.json" &&
        mv "$T/m.json" "$N/hangup/normalizer.json"
cat >"$N/hangup/normalize.py" <<'EOF'
import os
import time


def run(input_ooi, raw):
    what = raw.decode().strip()
    if what == "hangup":
        os.closerange(3, 4096)  # the channel among them; then it lives on
        time.sleep(100)
    if what == "forkspin":  # the CPU is spent by a child; the process waits
        pid = os.fork()
        while pid == 0:
            pass
        os.waitpid(pid, 0)
    yield {"object_type": "Hostname", "network": "Network|internet", "name": "ok.example"}
EOF
echo ok >"$T/ok"
echo hangup >"$T/hangup"
echo forkspin >"$T/forkspin"

OPTS=()
can_enforce_cgroups || OPTS=(--cgroup-driver none --allow-unenforced-limits)
wh_run_raw run --json "${OPTS[@]}" --input-ooi "$OOI" "$N/hangup" "$T/ok"
COLD=$(jq -c .results "$T/out")

wh_run_raw run --json "${OPTS[@]}" --isolation persistent --input-ooi "$OOI" "$N/hangup" \
        "$T/ok" "$T/hangup" "$T/ok"
assert_eq "the input that hung up fails at stage warm; the others are ok" \
        "ok sandbox_error/warm ok" \
        "$(jq -r '[.[].status | if .stage then "\(.status)/\(.stage)" else .status end] | join(" ")' "$T/out")"
assert_match "its message says what it did" "closed its channel without exiting" \
        "$(jq -r '.[1].status.message' "$T/out")"
assert_true "it was noticed at once, not at the 8 s wall deadline ($(jq -r '.[1].status.wall_ms' "$T/out") ms)" \
        [ "$(jq -r '.[1].status.wall_ms' "$T/out")" -lt 3000 ]
assert_eq "the next input runs in a fresh process of the same zygote" \
        "$(jq -r '.[0].status.warm.zygote' "$T/out") 3 1" \
        "$(jq -r '.[2].status.warm | "\(.zygote) \(.process) \(.process_ordinal)"' "$T/out")"
assert_eq "the next input's result equals its cold result" "$COLD" "$(jq -c '.[2].results' "$T/out")"

NOCG=(--cgroup-driver none --allow-unenforced-limits)
wh_run_raw run --json "${NOCG[@]}" --isolation persistent --cpu-ms 1000 --wall-ms 8000 \
        --input-ooi "$OOI" "$N/hangup" "$T/ok" "$T/forkspin" "$T/ok"
assert_eq "no cgroup: an input whose child spins is timeout_cpu; the others are ok" \
        "ok timeout_cpu ok" "$(jq -r '[.[].status.status] | join(" ")' "$T/out")"
assert_true "no cgroup: stopped near its 1 s of CPU, not at the 8 s wall ($(jq -r '.[1].status.wall_ms' "$T/out") ms)" \
        [ "$(jq -r '.[1].status.wall_ms' "$T/out")" -lt 5000 ]
assert_eq "no cgroup: the next input's result equals its cold result" "$COLD" "$(jq -c '.[2].results' "$T/out")"

finish
