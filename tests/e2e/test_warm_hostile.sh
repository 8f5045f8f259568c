#!/usr/bin/env bash
# Hostile inputs in warm mode (docs/warm.md "Isolation"): an input's child
# that kills, stops, rlimits or tries to ptrace or write the zygote; leaves a
# file in /tmp, a daemon or a changed environment; exhausts memory; hangs;
# floods. Each is contained with the right per-input status, and the next
# input's result equals its cold result.
. "$(dirname "$0")/lib.sh"

if ! can_enforce_cgroups; then
        skip "warm mode" "needs a usable cgroup (it finds an input's leftover processes there)"
        finish
        exit
fi
N=$T/hostile
mkdir -p "$N/schemas"
cat >"$N/schemas/Probe.json" <<'JSON'
{"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "Probe", "type": "object",
 "x-natural-key": ["name"],
 "properties": {"object_type": {"const": "Probe"}, "primary_key": {"type": "string"},
                "name": {"type": "string"}, "value": {"type": "string"}},
 "required": ["object_type", "name", "value"], "additionalProperties": false}
JSON
cat >"$N/normalizer.json" <<'JSON'
{"id": "hostile", "version": "1.0.0", "consumes": ["text/plain"], "produces": ["Probe"],
 "runtime": "python3", "entrypoint": "normalize.py",
 "limits": {"memory": "128M", "pids": 16, "wall_ms": 2000, "output_limit": "1M"}}
JSON
cat >"$N/normalize.py" <<'PY'
# Hostile inputs for the warm tests: the raw file names what to do, then the
# state the next input must not see is reported.
import os
import time

SEEN = []


def state():
    mine = {"1", str(os.getpid()), str(os.getppid())}
    others = [p for p in os.listdir("/proc") if p.isdigit() and p not in mine]
    return "tmp=%s others=%d env=%s seen=%d limits=%s" % (
        sorted(os.listdir("/tmp")), len(others), os.environ.get("WH_LEAK"), len(SEEN),
        open("/proc/%d/limits" % os.getppid()).read().count("\n"))


def run(input_ooi, raw):
    what = raw.decode().strip()
    SEEN.append(what)
    if what == "dirty":
        open("/tmp/leak", "w").write("x")
        os.mkdir("/tmp/d")
        os.environ["WH_LEAK"] = "1"
        if os.fork() == 0:  # a daemon
            os.setsid()
            if os.fork() == 0:
                time.sleep(60)
            os._exit(0)
        try:
            open("/dev/shm/leak", "w")
        except OSError as e:
            yield {"object_type": "Probe", "name": "shm", "value": type(e).__name__}
    elif what == "kill":
        os.kill(os.getppid(), 9)
        time.sleep(0.2)
    elif what == "stop":
        os.kill(os.getppid(), 19)
    elif what == "prlimit":
        import resource
        resource.prlimit(os.getppid(), resource.RLIMIT_NOFILE, (4, 4))
    elif what == "mem":
        open("/proc/%d/mem" % os.getppid(), "wb")
    elif what == "ptrace":
        import ctypes
        ctypes.CDLL(None).ptrace(16, os.getppid(), 0, 0)
    elif what == "oom":
        b = bytearray(512 << 20)
    elif what == "hang":
        time.sleep(100)
    elif what == "flood":
        while True:
            print("x" * 65536, end="", flush=True)
    yield {"object_type": "Probe", "name": "state", "value": state()}
PY
for w in state dirty kill stop prlimit mem ptrace oom hang flood; do echo "$w" >"$N/$w"; done

wh_run_raw run --json "$N" "$N/state" --input-ooi 'Probe|x'
COLD=$(jq -c .results "$T/out")
assert_match "cold: the state probe ran" 'tmp=\[\] others=0 env=None seen=1' "$COLD"

# hostile STATUS [STAGE]: the hostile input, then "state" in the same run.
hostile() {
        local what=$1 status=$2 stage=${3:-null}
        wh_run_raw run --json "$N" "$N/$what" "$N/state" --input-ooi 'Probe|x'
        assert_eq "$what: the input's status is $status (stage $stage), warm" \
                "$status $stage warm" "$(jq -r '.[0].status | "\(.status) \(.stage) \(.mode)"' "$T/out")"
        assert_eq "$what: the next input's result equals its cold result" \
                "$COLD" "$(jq -c '.[1].results' "$T/out")"
}
hostile dirty ok
assert_match "dirty: /dev/shm does not exist in the sandbox" FileNotFoundError "$(jq -c '.[0].results' "$T/out")"
assert_eq "dirty: the zygote outlived the dirty input" "2" "$(jq -r '.[1].status.warm.ordinal' "$T/out")"
hostile kill sandbox_error warm
assert_match "kill: the error names the zygote's end" 'zygote' "$(jq -r '.[0].status.message' "$T/out")"
assert_eq "kill: the next input ran in a new zygote" "1" "$(jq -r '.[1].status.warm.ordinal' "$T/out")"
hostile stop timeout_wall
hostile prlimit ok
assert_eq "prlimit: the changed zygote was replaced" "1" "$(jq -r '.[1].status.warm.ordinal' "$T/out")"
hostile mem exit_nonzero
assert_match "mem: /proc/PPID/mem cannot be opened for writing" \
        'PermissionError' "$(jq -r '.[0].errors[1].message' "$T/out")"
hostile ptrace seccomp_kill
assert_eq "ptrace: the status names the call" "ptrace" "$(jq -r '.[0].status.syscall.name' "$T/out")"
assert_eq "ptrace: the zygote outlived it" "2" "$(jq -r '.[1].status.warm.ordinal' "$T/out")"
hostile oom oom
assert_eq "oom: the zygote outlived it" "2" "$(jq -r '.[1].status.warm.ordinal' "$T/out")"
hostile hang timeout_wall
hostile flood output_limit

# Bad normalisers: fails to import (the same error as cold, per input);
# exits in the zygote (inputs run cold, with a warning).
printf 'import nonexistent_module\n' >"$N/normalize.py"
wh_run_raw run --json "$N" "$N/state" --input-ooi 'Probe|x'
jq -S 'del(.status, .provenance)' "$T/out" >"$T/cold.json"
wh_run_raw run --json "$N" "$N/state" "$N/state" --input-ooi 'Probe|x'
assert_eq "import error: each warm input reports the cold run's error" \
        "$(cat "$T/cold.json")" "$(jq -S '.[1] | del(.raw, .status, .provenance)' "$T/out")"
printf 'import os\nos._exit(3)\n' >"$N/normalize.py"
wh_run_raw run --json "$N" "$N/state" "$N/state" --input-ooi 'Probe|x'
assert_eq "exit in the zygote: inputs run cold" "cold cold" "$(jq -r '[.[].status.mode] | join(" ")' "$T/out")"
assert_match "exit in the zygote: a warning says why" \
        'zygote exited with status 3 while loading' "$(jq -r '.[0].warnings[0].message' "$T/out")"

# Zygotes that break the protocol (an exec normaliser with "warm": "fork"):
# garbage or an over-long frame instead of "ready" -> the inputs run cold,
# with the reason; garbage during an input -> that input fails at stage
# warm, and after three broken zygotes in a row the rest runs cold.
bad_zygote() {
        local dir=$T/zygote-$1
        mkdir -p "$dir/schemas"
        cp "$WH_SOURCE_DIR/examples/normalisers/hostname-list-c/schemas/Hostname.json" "$dir/schemas/"
        cat >"$dir/normalizer.json" <<'JSON'
{"id": "bad_zygote", "version": "1.0.0", "consumes": ["text/plain"], "produces": ["Hostname"],
 "external_types": ["Network"], "runtime": "exec", "entrypoint": "normalize.sh", "warm": "fork",
 "limits": {"wall_ms": 5000}}
JSON
        cat >"$dir/normalize.sh" <<SH
#!/bin/sh
if [ "\${WHISKERS_WARM:-}" = fork ]; then
        $2
        sleep 1
        exit 0
fi
while read -r h; do
        printf '{"object_type":"Hostname","network":"Network|internet","name":"%s"}\\n' "\$h"
done
SH
        chmod +x "$dir/normalize.sh"
        echo example.org >"$T/host"
        wh_run_raw run --json "$dir" "$T/host" "$T/host" "$T/host" "$T/host" --input-ooi 'Network|internet'
}
bad_zygote garbage "printf 'hello there\\n' >&0"
assert_eq "garbage instead of ready: every input runs cold and is ok" "cold ok cold ok cold ok cold ok" \
        "$(jq -r '[.[].status | "\(.mode) \(.status)"] | join(" ")' "$T/out")"
assert_match "garbage instead of ready: the warning names the protocol error" \
        'protocol error: the zygote sent "hello there"' "$(jq -r '.[0].warnings[0].message' "$T/out")"
bad_zygote long "exec 3>&0; head -c 300 /dev/zero | tr '\\0' x >&3; echo >&3"
assert_match "a frame longer than 256 bytes: a protocol error, inputs run cold" \
        'protocol error: a bad frame' "$(jq -r '.[0].warnings[0].message' "$T/out")"
assert_eq "a frame longer than 256 bytes: the results are there" "ok" "$(jq -r '.[3].status.status' "$T/out")"
bad_zygote late "printf 'ready\\n' >&0; dd bs=256 count=1 >/dev/null 2>&1; printf 'exit 1 0 0 0 and more\\n' >&0"
assert_eq "garbage during an input: three inputs fail at stage warm, then cold" \
        "warm warm warm cold ok" \
        "$(jq -r '[.[0:3][].status.stage] + [.[3].status.mode, .[3].status.status] | join(" ")' "$T/out")"
assert_match "garbage during an input: the error names the protocol" \
        'protocol error' "$(jq -r '.[0].status.message' "$T/out")"
finish
