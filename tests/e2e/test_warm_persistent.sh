#!/usr/bin/env bash
# Persistent isolation (docs/warm.md "Persistent"): one process serves up to
# max_inputs inputs, then is recycled; a crash or a timeout fails only the
# input in flight and the next one gets a fresh process whose result equals
# the cold one; state a normaliser keeps between inputs is visible (which is
# why it is opt-in); a normaliser that does not declare it is refused; every
# example fixture gives its cold result through one persistent process; the
# worker keeps tenants apart and chooses the level per tenant.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/worker_lib.sh"

if ! can_enforce_cgroups; then
        skip "persistent isolation" "needs a usable cgroup (warm mode finds leftovers there)"
        finish
        exit
fi
N=$T/normalisers
OOI='Hostname|internet|example.org'

# counter: counts its calls in module state; "pid" prints its pid to stderr,
# "crash" exits the process, "hang" spins, "litter" leaves a file in /tmp and
# a daemon, "look" names what it sees of them (and how many processes).
make_norm counter '"text/plain"' "    pass" '{"wall_ms": 2000}'
jq '. + {"warm": "persistent", "max_inputs": 3}' "$N/counter/normalizer.json" >"$T/m.json" &&
        mv "$T/m.json" "$N/counter/normalizer.json"
cat >"$N/counter/normalize.py" <<'EOF'
import os
import sys
import time

CALLS = [0]


def run(input_ooi, raw):
    CALLS[0] += 1
    word = raw.decode().strip()
    if word == "pid":
        # The sandbox's number for it: a warm child is pid 1 of its own namespace.
        print("pid", os.readlink("/proc/self"), file=sys.stderr)
    if word == "crash":
        os._exit(7)
    while word == "hang":
        pass
    if word == "litter":
        with open("/tmp/litter", "w") as f:
            f.write("for the next input")
        if os.fork() == 0:
            os.setsid()
            time.sleep(60)
            os._exit(0)
    if word == "look":
        procs = sum(1 for p in os.listdir("/proc") if p.isdigit())
        yield {"object_type": "Hostname", "network": "Network|internet",
               "name": "tmp%d.procs%d.example" % (os.path.exists("/tmp/litter"), procs)}
        return
    yield {"object_type": "Hostname", "network": "Network|internet",
           "name": "call%d.example" % CALLS[0]}
EOF
for w in pid crash hang ok litter look; do echo "$w" >"$T/$w"; done

# What may differ between a cold and a warm run of one input.
NORM='del(.raw) | del(.status.wall_ms, .status.cpu_ms, .status.mem_peak_bytes, .status.mode, .status.warm)
      | del(.provenance.status.wall_ms, .provenance.status.cpu_ms, .provenance.status.mem_peak_bytes)
      | del(.provenance.status.mode, .provenance.status.warm, .provenance.timings)'
cold_of() { # NORMALISER RAW [ARGS...] -> $T/cold.json, normalised
        local norm=$1 raw=$2
        shift 2
        wh_run_raw run --json "$norm" "$raw" "$@"
        jq -S "$NORM" "$T/out" >"$T/cold.json"
}

# ---- one process, recycle, a crash, state --------------------------------------
TASK=(--task-id 3f0c1d2e-0000-4000-8000-000000000001) # a made meta's id is random
wh_run_raw run --json --isolation persistent --input-ooi "$OOI" "${TASK[@]}" "$N/counter" \
        "$T/pid" "$T/pid" "$T/pid" "$T/pid" "$T/crash" "$T/ok" "$T/ok"
cp "$T/out" "$T/seq.json"
expect "seven inputs, one of which crashed: exit code of the crash" rc=1
col() { jq -r "[.[] | $1] | join(\" \")" "$T/seq.json"; }
assert_eq "statuses: only input 5 (the crash) failed" \
        "ok ok ok ok exit_nonzero ok ok" "$(col .status.status)"
assert_eq "every input ran warm, persistent (status and provenance)" \
        "persistent persistent persistent persistent persistent persistent persistent" \
        "$(col '.provenance.status.warm.isolation')"
assert_eq "one zygote served all seven (a crash costs the process, not the zygote)" 1 \
        "$(jq '[.[].status.warm.zygote] | unique | length' "$T/seq.json")"
assert_eq "processes: 1 serves 3 (max_inputs), 4 crashes in its 2nd, 6 is fresh" \
        "1 1 1 4 4 6 6" "$(col .status.warm.process)"
assert_eq "each input's ordinal within its process" "1 2 3 1 2 1 2" \
        "$(col .status.warm.process_ordinal)"
assert_eq "state is shared inside a process (the call counter), reset by a new one" \
        "call1.example call2.example call3.example call1.example  call1.example call2.example" \
        "$(col '(.results.observations[0].results // [] | map(.name) | join(","))')"
pids=$(col '(.stderr.text | capture("pid (?<p>[0-9]+)").p // "-")')
read -r p1 p2 p3 p4 _ <<<"$pids"
assert_true "inputs 1-3 ran in one pid ($p1 $p2 $p3), input 4 in another ($p4)" \
        test "$p1" = "$p2" -a "$p2" = "$p3" -a "$p4" != "$p1" -a "$p1" != -
cold_of "$N/counter" "$T/ok" --input-ooi "$OOI" "${TASK[@]}"
assert_eq "the input after the crash (a fresh process) equals its cold result" \
        "$(cat "$T/cold.json")" "$(jq -S ".[5] | $NORM" "$T/seq.json")"
assert_eq "the status record of input 5 says how the process ended" "7 exit_nonzero" \
        "$(jq -r '.[4].status | "\(.exit_code) \(.status)"' "$T/seq.json")"

# ---- a timeout fails only its input -----------------------------------------------
wh_run_raw run --json --isolation persistent --input-ooi "$OOI" "$N/counter" \
        "$T/ok" "$T/hang" "$T/ok"
assert_eq "a hung input times out; the others are ok" "ok timeout_wall ok" \
        "$(jq -r '[.[].status.status] | join(" ")' "$T/out")"
assert_eq "the input after the timeout runs in a fresh process (call1)" "3 1 call1.example" \
        "$(jq -r '.[2] | "\(.status.warm.process) \(.status.warm.process_ordinal) \(.results.observations[0].results[0].name)"' "$T/out")"

# ---- without a cgroup: the process's CPU time is polled per input ------------------
wh_run_raw run --json --isolation persistent --cgroup-driver none --allow-unenforced-limits \
        --cpu-ms 1000 --wall-ms 8000 --input-ooi "$OOI" "$N/counter" "$T/ok" "$T/hang" "$T/ok"
assert_eq "no cgroup: a spinning input is timeout_cpu, the others ok, the last one fresh" \
        "ok timeout_cpu ok | none 1 1 3" \
        "$(jq -r '"\([.[].status.status] | join(" ")) | \(.[0].status.applied.cgroup_driver) \(.[0].status.warm.process) \(.[1].status.warm.process) \(.[2].status.warm.process)"' "$T/out")"

# ---- what an input leaves outside the process is removed --------------------------
wh_run_raw run --json --isolation persistent --input-ooi "$OOI" "$N/counter" "$T/litter" "$T/look"
assert_eq "the input after one that left a daemon and a /tmp file, in the same process," \
        "1 2 tmp0.procs3.example" \
        "$(jq -r '.[1] | "\(.status.warm.process) \(.status.warm.process_ordinal) \(.results.observations[0].results[0].name)"' "$T/out")"
echo "(init, the zygote and the process: the daemon was killed, /tmp emptied; the process lives on)"

# ---- fork stays the default; who may run persistent -------------------------------
wh_run_raw run --json --input-ooi "$OOI" "$N/counter" "$T/ok" "$T/ok"
assert_eq "without --isolation: fork, every input a fresh fork (call1 twice)" \
        "fork fork call1.example call1.example" \
        "$(jq -r '[(.[].status.warm.isolation), (.[].results.observations[0].results[0].name)] | join(" ")' "$T/out")"
f=$WH_SOURCE_DIR/examples/normalisers/http-headers/fixtures/hardened
wh_run_raw run --isolation persistent "$WH_SOURCE_DIR/examples/normalisers/http-headers" \
        "$f/raw" --meta "$f/meta.json"
expect "a normaliser that does not declare persistent is refused, saying why" rc=2 \
        'err~cannot run with persistent isolation.*"warm": "persistent"'
wh_run_raw run --cold --isolation persistent "$N/counter" "$T/ok" --input-ooi "$OOI"
expect "--cold with --isolation is a usage error" rc=2 'err~--isolation'
for bad in '{"max_inputs": 3}' '{"warm": "persistent", "max_inputs": 0}' '{"warm": "loop"}'; do
        mkdir -p "$T/bad"
        cp -r "$N/counter/." "$T/bad/"
        jq "del(.warm, .max_inputs) + $bad" "$N/counter/normalizer.json" >"$T/bad/normalizer.json"
        wh_run_raw run "$T/bad" "$T/ok" --input-ooi "$OOI"
        expect "manifest $bad is refused, naming the field" rc=2 'err~field "(warm|max_inputs)"'
done

# ---- every example fixture: persistent == cold -------------------------------------
# The examples declare fork only (Python) or persistent (the C one); a copy
# of the Python ones declares persistent, so all fixtures of one normaliser
# run through one process, each after the others' inputs.
EX=$T/examples
cp -r "$WH_SOURCE_DIR/examples/normalisers" "$EX"
rm -f "$EX/hostname-list-c/normalize"
make -s -C "$EX/hostname-list-c" >"$T/make.log" 2>&1 || fail "the C example builds" nodump
for d in nmap-xml http-headers jsonl-exposure hostname-list-c; do
        jq '. + {"warm": "persistent"}' "$EX/$d/normalizer.json" >"$T/m.json" &&
                mv "$T/m.json" "$EX/$d/normalizer.json"
        fixtures=("$EX/$d"/fixtures/*/)
        # One process for all of them (and again, so each runs after the others).
        raws=()
        for f in "${fixtures[@]}" "${fixtures[@]}"; do raws+=("$f/raw"); done
        # One meta for all (the first fixture's; the cold runs use it too).
        wh_run_raw run --json --isolation persistent "$EX/$d" "${raws[@]}" \
                --meta "${fixtures[0]}/meta.json"
        cp "$T/out" "$T/pers.json"
        n=${#fixtures[@]}
        assert_eq "$d: all $((2 * n)) inputs in one persistent process" \
                "1 $(seq -s ' ' 1 $((2 * n)))" \
                "$(jq -r '[(map(.status.warm.process) | unique | length), (.[].status.warm.process_ordinal)] | join(" ")' "$T/pers.json")"
        for i in $(seq 0 $((n - 1))); do
                f=${fixtures[$i]}
                cold_of "$EX/$d" "$f/raw" --meta "${fixtures[0]}/meta.json"
                for j in $i $((i + n)); do
                        assert_eq "$d/$(basename "$f") (input $((j + 1))): equals cold" \
                                "$(cat "$T/cold.json")" "$(jq -S ".[$j] | $NORM" "$T/pers.json")"
                done
        done
done

# ---- the worker: tenants never share a process; the level per tenant ------------
export WHISKERS_NORMALISERS=$N
# Room for all of a tenant's jobs in one process: a job of another tenant
# handed to it would count on (call4).
jq '.max_inputs = 10' "$N/counter/normalizer.json" >"$T/m.json" && mv "$T/m.json" "$N/counter/normalizer.json"
for i in 1 2 3 4; do printf 'pid%*s\n' $i '' >"$T/in$i.txt"; done # distinct: no reuse
submit_all() {
        "$WHISKERS" submit --db "$1" --tenant acme --normaliser counter --input-ooi "$OOI" \
                "$T/in1.txt" "$T/ok" "$T/in3.txt" >/dev/null &&
                "$WHISKERS" submit --db "$1" --tenant beta --normaliser counter \
                        --input-ooi "$OOI" "$T/in4.txt" >/dev/null
}
jobs_of() {
        local db=$1 id
        for id in $("$WHISKERS" results --db "$db" --json | jq -r 'sort_by(.job_id)[].job_id'); do
                "$WHISKERS" show --db "$db" --json "$id"
        done | jq -sc '.'
}
P=sqlite://$T/pers.db
assert_true "submit acme x3, beta x1" submit_all "$P"
wq worker --db "$P" --concurrency 1 --exit-when-idle --isolation persistent
expect "a persistent worker runs the four jobs" rc=0
jobs_of "$P" >"$T/w.json"
wcol() { jq -r "[.[] | $1] | join(\" \")" "$T/w.json"; }
assert_eq "worker: tenants, isolation, process ordinal, counter" \
        "acme:persistent:1:call1.example acme:persistent:2:call2.example acme:persistent:3:call3.example beta:persistent:1:call1.example" \
        "$(wcol '"\(.tenant):\(.provenance.status.warm.isolation):\(.provenance.status.warm.process_ordinal):\(.output.observations[0].results[0].name)"')"
assert_true "beta's job ran in a zygote (so a process) of its own" \
        test "$(jq '[.[].provenance.status.warm.zygote] | unique | length' "$T/w.json")" = 2
F=sqlite://$T/for.db
assert_true "submit again" submit_all "$F"
wq worker --db "$F" --concurrency 1 --exit-when-idle --isolation-for 'beta=persistent'
expect "a worker with a per-tenant level runs the four jobs" rc=0
jobs_of "$F" >"$T/w.json"
assert_eq "--isolation-for beta=persistent: acme forks, beta persists" \
        "acme:fork acme:fork acme:fork beta:persistent" \
        "$(wcol '"\(.tenant):\(.provenance.status.warm.isolation)"')"
wq worker --db "$F" --isolation-for 'beta' --exit-when-idle
expect "a malformed --isolation-for is a usage error" rc=2 'err~--isolation-for'
finish
