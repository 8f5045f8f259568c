#!/usr/bin/env bash
# Hostile inputs in warm mode (docs/warm.md "Isolation"): an input's child
# that kills, stops, rlimits or tries to ptrace or write the zygote; leaves a
# file in /tmp, a daemon or a changed environment; exhausts memory; hangs;
# floods. Each is contained with the right per-input status, and the next
# input's result equals its cold result.
. "$(dirname "$0")/lib.sh"

# With a cgroup where one is usable; else, and again at the end, without one
# (docs/warm.md "Without a cgroup").
NOCG=(--cgroup-driver none --allow-unenforced-limits)
OPTS=()
can_enforce_cgroups || OPTS=("${NOCG[@]}")
N=$T/hostile
probe_normaliser "$N" hostile '{"memory": "128M", "pids": 16, "wall_ms": 2000, "output_limit": "1M"}'
cat >"$N/normalize.py" <<'PY'
# Hostile inputs for the warm tests: the raw file names what to do, then the
# state the next input must not see is reported.
import os
import signal
import time

SEEN = []
AT_FORK = ["no fork"]


def forked():
    """What a warm child meets when it is forked, before its input: the
    next input's child is forked ahead, once the input before it ended."""
    procs = [p for p in os.listdir("/proc") if p.isdigit()]
    AT_FORK[:] = ["tmp=%s procs=%d" % (sorted(os.listdir("/tmp")), len(procs))]


os.register_at_fork(after_in_child=forked)
# With this file beside the code, each child ends (exit 7) as soon as the
# supervisor has admitted it (its oom_score_adj is 1000): a child forked
# ahead ends while it waits for its input.
if os.path.exists(os.path.join(os.path.dirname(os.path.abspath(__file__)), "die-admitted")):
    import threading

    def die_admitted():
        while open("/proc/self/oom_score_adj").read().strip() != "1000":
            time.sleep(0.0002)
        os._exit(7)

    os.register_at_fork(after_in_child=lambda: threading.Thread(target=die_admitted).start())

# With this file beside the code, the zygote's second child (the one forked
# ahead for the second input) ends (exit 7) before it says hello.
if os.path.exists(os.path.join(os.path.dirname(os.path.abspath(__file__)), "die-spare")):
    FORKS = [0]

    def count():
        FORKS[0] += 1

    def die_spare():
        if FORKS[0] == 2:
            os._exit(7)

    os.register_at_fork(before=count, after_in_child=die_spare)


def parent():
    """The parent's pid as the sandbox's /proc numbers it (a warm child is pid
    1 of its own namespace, where the zygote has no number)."""
    return int(open("/proc/self/stat").read().rpartition(")")[2].split()[1])


def state():
    mine = {"1", os.readlink("/proc/self"), str(parent())}
    others = [p for p in os.listdir("/proc") if p.isdigit() and p not in mine]
    return "tmp=%s others=%d env=%s seen=%d limits=%s" % (
        sorted(os.listdir("/tmp")), len(others), os.environ.get("WH_LEAK"), len(SEEN),
        open("/proc/%d/limits" % parent()).read().count("\n"))


def attempt(name, f):
    """Try to reach the zygote: the refusal's name, or "done"."""
    try:
        f(parent())
        value = "done"
    except OSError as e:
        value = type(e).__name__
    return {"object_type": "Probe", "name": name, "value": value}


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
        yield attempt("kill", lambda z: os.kill(z, signal.SIGKILL))
        yield attempt("pidfd", lambda z: signal.pidfd_send_signal(
            os.open("/proc/%d" % z, os.O_RDONLY | os.O_DIRECTORY), signal.SIGKILL))
        yield attempt("environ", lambda z: open("/proc/%d/environ" % z, "rb").read())
        time.sleep(0.2)
    elif what == "group":
        os.kill(0, signal.SIGKILL)  # its own process group: the zygote is not in it
    elif what == "stop":
        yield attempt("stop", lambda z: os.kill(z, signal.SIGSTOP))
    elif what == "prlimit":
        import resource
        yield attempt("prlimit", lambda z: resource.prlimit(z, resource.RLIMIT_NOFILE, (4, 4)))
    elif what == "mem":
        open("/proc/%d/mem" % parent(), "wb")
    elif what == "ptrace":
        import ctypes
        ctypes.CDLL(None).ptrace(16, parent(), 0, 0)
    elif what == "oom":
        b = bytearray(512 << 20)
    elif what == "cpu":
        while True:
            pass
    elif what == "atfork":
        yield {"object_type": "Probe", "name": "at-fork", "value": AT_FORK[0]}
    elif what == "hang":
        time.sleep(100)
    elif what == "flood":
        while True:
            print("x" * 65536, end="", flush=True)
    yield {"object_type": "Probe", "name": "state", "value": state()}
PY
cp "$N/normalize.py" "$T/hostile.py"
for w in state dirty kill group stop prlimit mem ptrace oom cpu hang flood atfork; do echo "$w" >"$N/$w"; done

wh_run_raw run --json "${OPTS[@]}" "$N" "$N/state" --input-ooi 'Probe|x'
COLD=$(jq -c .results "$T/out")
assert_match "cold: the state probe ran" 'tmp=\[\] others=0 env=None seen=1' "$COLD"

# hostile STATUS [STAGE]: the hostile input, then "state" in the same run.
hostile() {
        local what=$1 status=$2 stage=${3:-null}
        wh_run_raw run --json "${OPTS[@]}" "$N" "$N/$what" "$N/state" --input-ooi 'Probe|x'
        assert_eq "$what: the input's status is $status (stage $stage), warm" \
                "$status $stage warm" "$(jq -r '.[0].status | "\(.status) \(.stage) \(.mode)"' "$T/out")"
        assert_eq "$what: the next input's result equals its cold result" \
                "$COLD" "$(jq -c '.[1].results' "$T/out")"
}
hostile dirty ok
assert_match "dirty: /dev/shm does not exist in the sandbox" FileNotFoundError "$(jq -c '.[0].results' "$T/out")"
assert_eq "dirty: the zygote outlived the dirty input" "2" "$(jq -r '.[1].status.warm.ordinal' "$T/out")"
# The next input's child is forked ahead: after the dirty input's daemon died
# and /tmp was emptied (its at-fork hook, normaliser code, looks).
wh_run_raw run --json "${OPTS[@]}" "$N" "$N/dirty" "$N/atfork" --input-ooi 'Probe|x'
assert_eq "dirty: the next child, forked ahead, met an empty /tmp and init, the zygote, itself" \
        "ok tmp=[] procs=3" \
        "$(jq -r '.[1] | "\(.status.status) \([.results.observations[].results[] | select(.name == "at-fork") | .value] | join(" "))"' "$T/out")"
# The zygote cannot be reached: refused, not detected afterwards. The same
# zygote serves the next input (same id, ordinal 2).
refused() {
        local what=$1 probes=$2
        hostile "$what" ok
        assert_eq "$what: refused ($probes)" "$probes" \
                "$(jq -r '[.[0].results.observations[].results[] | select(.name != "state") | "\(.name)=\(.value)"] | join(" ")' "$T/out")"
        assert_eq "$what: the same zygote serves the next input" "$(jq -r '.[0].status.warm.zygote' "$T/out") 2" \
                "$(jq -r '.[1].status.warm | "\(.zygote) \(.ordinal)"' "$T/out")"
}
refused kill "kill=ProcessLookupError pidfd=OSError environ=PermissionError"
refused stop "stop=ProcessLookupError"
refused prlimit "prlimit=ProcessLookupError"
hostile group ok
assert_eq "group: kill(0) reached only the input's own process group" "$(jq -r '.[0].status.warm.zygote' "$T/out") 2" \
        "$(jq -r '.[1].status.warm | "\(.zygote) \(.ordinal)"' "$T/out")"
hostile mem exit_nonzero
assert_match "mem: /proc/PPID/mem cannot be opened for writing" \
        'PermissionError' "$(jq -r '.[0].errors[1].message' "$T/out")"
hostile ptrace seccomp_kill
assert_eq "ptrace: the status names the call" "ptrace" "$(jq -r '.[0].status.syscall.name' "$T/out")"
assert_eq "ptrace: the zygote outlived it" "2" "$(jq -r '.[1].status.warm.ordinal' "$T/out")"
if [ ${#OPTS[@]} = 0 ]; then
        hostile oom oom
        assert_eq "oom: the zygote outlived it" "2" "$(jq -r '.[1].status.warm.ordinal' "$T/out")"
else
        skip "warm oom" "no usable cgroup: the memory limit is not enforced here"
fi
hostile hang timeout_wall
hostile flood output_limit

# Bad normalisers: fails to import (the same error as cold, per input);
# exits in the zygote (inputs run cold, with a warning).
printf 'import nonexistent_module\n' >"$N/normalize.py"
wh_run_raw run --json "${OPTS[@]}" "$N" "$N/state" --input-ooi 'Probe|x'
jq -S 'del(.status, .provenance)' "$T/out" >"$T/cold.json"
wh_run_raw run --json "${OPTS[@]}" "$N" "$N/state" "$N/state" --input-ooi 'Probe|x'
assert_eq "import error: each warm input reports the cold run's error" \
        "$(cat "$T/cold.json")" "$(jq -S '.[1] | del(.raw, .status, .provenance)' "$T/out")"
printf 'import os\nos._exit(3)\n' >"$N/normalize.py"
wh_run_raw run --json "${OPTS[@]}" "$N" "$N/state" "$N/state" --input-ooi 'Probe|x'
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
        wh_run_raw run --json "${OPTS[@]}" "$dir" "$T/host" "$T/host" "$T/host" "$T/host" --input-ooi 'Network|internet'
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

# A zygote that forks its children with a plain fork(): the child could reach
# the zygote, so it gets no input (stage warm, the reason named); after
# three such zygotes the inputs run cold.
dir=$T/zygote-plain
mkdir -p "$dir/schemas"
cp "$WH_SOURCE_DIR/examples/normalisers/hostname-list-c/schemas/Hostname.json" "$dir/schemas/"
cat >"$dir/normalizer.json" <<'JSON'
{"id": "plain_fork", "version": "1.0.0", "consumes": ["text/plain"], "produces": ["Hostname"],
 "external_types": ["Network"], "runtime": "exec", "entrypoint": "normalize.py", "warm": "fork",
 "limits": {"wall_ms": 5000}}
JSON
cp "$WH_SOURCE_DIR/tests/e2e/zygote_one_fd.py" "$dir/normalize.py"
echo plain >"$dir/fork"
chmod +x "$dir/normalize.py"
echo example.org >"$T/host"
wh_run_raw run --json "${OPTS[@]}" "$dir" "$T/host" "$T/host" "$T/host" "$T/host" --input-ooi 'Network|internet'
assert_eq "plain fork: three inputs refused at stage warm, then cold" "warm warm warm cold ok" \
        "$(jq -r '[.[0:3][].status.stage] + [.[3].status.mode, .[3].status.status] | join(" ")' "$T/out")"
assert_match "plain fork: the error says the child is not isolated" \
        "child is not isolated from the zygote: it is not pid 1 of a new pid namespace" \
        "$(jq -r '.[0].status.message' "$T/out")"

# The same zygote, but only its first child isolated: the second is forked
# ahead (docs/warm.md "One input" step 1) and refused by the checks made
# while it waits, before it gets any input; a new zygote serves the third.
later=$T/zygote-plain-later
cp -r "$dir" "$later"
echo clone-first >"$later/fork"
if [ "$(uname -m)" = x86_64 ]; then
        wh_run_raw run --json "${OPTS[@]}" "$later" "$T/host" "$T/host" "$T/host" --input-ooi 'Network|internet'
        assert_eq "plain fork ahead: refused before its input at stage warm, a new zygote next" \
                "ok null 1,sandbox_error warm 2,ok null 1" \
                "$(jq -r '[.[] | "\(.status.status) \(.status.stage) \(.status.warm.ordinal)"] | join(",")' "$T/out")"
        assert_match "plain fork ahead: the error says the child is not isolated" \
                "input 2's child is not isolated from the zygote: it is not pid 1 of a new pid namespace" \
                "$(jq -r '.[1].status.message' "$T/out")"
else
        echo "SKIP: plain fork ahead (the test's zygote knows only x86_64's clone number)"
fi

# Children that end (exit 7) once admitted: a child forked ahead ends while
# it waits for its input or just after its "go" (a race, the same outcome):
# each input is its child's exit or, when the input won, ok; all warm, one
# zygote, none waiting out the 1 s grace (nobody writes the output pipes).
dying=$T/dying
cp -r "$N" "$dying"
cp "$T/hostile.py" "$dying/normalize.py"
touch "$dying/die-admitted"
wh_run_raw run --json "${OPTS[@]}" "$dying" "$N/state" "$N/state" "$N/state" --input-ooi 'Probe|x'
assert_eq "a child that ends once admitted: its exit or ok, warm, the same zygote for all three" \
        "warm 1,warm 2,warm 3" \
        "$(jq -r '[.[] | select(.status.status == "ok" or (.status.status == "exit_nonzero" and .status.exit_code == 7)) | "\(.status.mode) \(.status.warm.ordinal)"] | join(",")' "$T/out")"
assert_eq "a child that ends once admitted: no input waited out a grace" "" \
        "$(jq -r '.[] | select(.status.wall_ms >= 900) | .status.wall_ms' "$T/out")"

# A child forked ahead that ends while it waits (before its hello) is not its
# input's: the input asks the same zygote for a fresh child and is served.
spare=$T/spare
cp -r "$N" "$spare"
cp "$T/hostile.py" "$spare/normalize.py"
rm -f "$spare/die-admitted"
touch "$spare/die-spare"
wh_run_raw run --json "${OPTS[@]}" "$spare" "$N/state" "$N/state" "$N/state" --input-ooi 'Probe|x'
assert_eq "a spare that ended while it waited: every input ok, warm, one zygote" \
        "ok warm 1,ok warm 2,ok warm 3 $(jq -r '.[0].status.warm.zygote' "$T/out")" \
        "$(jq -r '[.[].status | "\(.status) \(.mode) \(.warm.ordinal)"] | join(",")' "$T/out") $(jq -r '.[2].status.warm.zygote' "$T/out")"
assert_eq "a spare that ended while it waited: the input's result equals its cold result" \
        "$COLD" "$(jq -c '.[1].results' "$T/out")"

# Without a cgroup: an input's daemons die with its pid namespace, CPU time is
# limited by RLIMIT_CPU on the child; the rest as above.
OPTS=("${NOCG[@]}")
cp "$T/hostile.py" "$N/normalize.py"
hostile dirty ok
assert_eq "no cgroup: the zygote outlived the dirty input" "2" "$(jq -r '.[1].status.warm.ordinal' "$T/out")"
refused kill "kill=ProcessLookupError pidfd=OSError environ=PermissionError"
OPTS=("${NOCG[@]}" --cpu-ms 500 --wall-ms 60000)
hostile cpu timeout_cpu
assert_eq "no cgroup: cpu: the same zygote serves the next input" "$(jq -r '.[0].status.warm.zygote' "$T/out") 2" \
        "$(jq -r '.[1].status.warm | "\(.zygote) \(.ordinal)"' "$T/out")"
finish
