#!/usr/bin/env bash
# End-to-end: `whiskers submit / worker / results / show / status` on SQLite
# with real normalisers in the real sandbox: MIME routing, results and
# their output, reuse of an earlier result, normalisers that crash or spin,
# a missing normaliser (dead letter), SIGTERM with a job running (released),
# Prometheus metrics, JSON logs, a corrupt database file and a full disk.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/worker_lib.sh"

N=$T/normalisers
A=$T/a.txt B=$T/b.txt
printf 'example.org\nwww.example.org\n' >"$A"
printf 'mail.example.org\n' >"$B"
export WHISKERS_NORMALISERS=$N WHISKERS_DB=sqlite://$T/w.db
OOI='Hostname|internet|example.org'

HOST='{"object_type": "Hostname", "network": "Network|internet", "name": %s}'
make_norm hostnames '"text/plain"' "    for n in raw.decode().split():
        yield $(printf "$HOST" n)"
make_norm counter '"text/plain"' "    yield $(printf "$HOST" '"n%d.example" % len(raw.split())')"
make_norm crash '"x/crash"' "    import os
    os._exit(3)"
make_norm spin '"x/spin"' "    while True:
        pass" '{"wall_ms": 300}'
make_norm flood '"x/flood"' "    for i in range(100000):
        yield $(printf "$HOST" '"n%d.example" % i')" '{"wall_ms": 10000, "items": 5}'
make_norm sleepy '"x/slow"' "    import time
    time.sleep(30)
    yield $(printf "$HOST" '"late.example"')"

# ---- submission and MIME routing ------------------------------------------------
wq submit --tenant acme --mime text/plain --input-ooi "$OOI" --json "$A" "$B"
expect "routing by MIME: two files x two normalisers = four jobs" rc=0
assert_eq "each normaliser consuming text/plain gets each file" \
        "counter counter hostnames hostnames" "$(jqo '[.[].normaliser] | sort | join(" ")')"
wq submit --tenant acme --normaliser nope "$A"
expect "an unknown normaliser is refused with the reason" rc=2 "err~no normaliser with the id 'nope'"
wq submit --tenant acme --mime no/such "$A"
expect "a MIME type nobody consumes is refused" rc=2 "err~no normaliser in .* consumes 'no/such'"
assert_eq "nothing was queued by the refused submissions" 4 "$(status_of | jq .ready)"

# ---- a worker with metrics; SIGTERM when done -----------------------------------
port=$(free_port)
"$WHISKERS" worker --concurrency 2 --metrics-port "$port" 2>"$T/worker.log" &
wpid=$!
started $wpid
assert_true "the worker completes the four jobs" wait_for '.done == 4'
curl -sf "http://127.0.0.1:$port/metrics" >"$T/metrics"
assert_match "metrics: jobs by outcome" 'whiskers_jobs_total\{outcome="ok"\} 4' "$(cat "$T/metrics")"
assert_match "metrics: run-latency histogram" 'whiskers_run_seconds_count\{kind="normaliser"\} 4' "$(cat "$T/metrics")"
assert_match "metrics: expired leases" 'whiskers_leases_expired_total 0' "$(cat "$T/metrics")"
assert_eq "metrics: other paths are 404" 404 \
        "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/")"
# The queue gauges are refreshed every 5 s.
for _ in $(seq 80); do
        curl -sf "http://127.0.0.1:$port/metrics" >"$T/metrics"
        grep -q 'whiskers_queue_jobs{state="done"} 4' "$T/metrics" && break
        sleep 0.1
done
assert_match "metrics: queue depth" 'whiskers_queue_jobs\{state="done"\} 4' "$(cat "$T/metrics")"
kill -TERM $wpid
wait $wpid
assert_eq "SIGTERM: the worker stops cleanly" 0 $?
json_lines() { jq -se 'length > 2 and all(.ts and .level and .msg)' "$1" >/dev/null; }
assert_true "every log line is a JSON object with ts, level and msg" json_lines "$T/worker.log"
assert_match "the log says how it stopped" '"stopped: 4 claimed, 4 completed' "$(cat "$T/worker.log")"

wq results --json
assert_eq "four results, all ok" "ok ok ok ok" "$(jqo '[.[].outcome] | join(" ")')"
# File A's hostnames job: the lower id of the two (files are queued in order;
# results are listed as they ended, which two slots make either way round).
job=$(jqo '[.[] | select(.normaliser == "hostnames") | .job_id] | min')
wq show --json "$job"
expect "show --json: the job is done" rc=0 "out~\"state\": \"done\""
assert_eq "show: the output is NormalizerResults with the file's hostnames" \
        "example.org www.example.org" "$(jqo '[.output.observations[0].results[].name] | join(" ")')"
assert_eq "show: the provenance names the input" "$OOI" "$(jqo '.provenance.input.input_ooi')"
wq show "$job"
expect "show (text)" rc=0 "out~outcome +ok" "out~www.example.org"
wq show 99999
expect "show: no such job" rc=2 "err~99999"

# ---- reuse ----------------------------------------------------------------------
wq submit --tenant acme --normaliser hostnames --mime text/plain --input-ooi "$OOI" --json "$A"
again=$(jqo '.[0].job')
timeout -k 5 90 "$WHISKERS" worker --exit-when-idle 2>"$T/worker2.log"
wq show --json "$again"
assert_match "the same file, meta and normaliser again: the earlier result is reused" \
        '^[0-9]+$' "$(jqo '.result.reused_from')"
assert_eq "a reused result shows the earlier output" "www.example.org" \
        "$(jqo '.output.observations[0].results[1].name')"

# ---- normalisers that fail: results, not retries ---------------------------------
wq submit --tenant acme --mime x/crash "$A"
wq submit --tenant acme --mime x/spin "$A"
wq submit --tenant acme --mime x/flood --input-ooi "$OOI" --json "$A"
flood=$(jqo '.[0].job')
timeout -k 5 90 "$WHISKERS" worker --exit-when-idle 2>"$T/worker3.log"
wq results --json
assert_eq "a crash and a timeout are stored as results" "exit_nonzero timeout_wall" \
        "$(jqo '[.[] | select(.normaliser == "crash" or .normaliser == "spin") | .outcome] | sort | join(" ")')"
wq show --json "$flood"
assert_eq "output stopped early by the check: stored as invalid_output, first attempt, no retry" \
        "done invalid_output 1 stopped_early" \
        "$(jqo '"\(.state) \(.result.outcome) \(.attempt) \(.output.errors[0].code)"')"

# ---- a normaliser that is gone: dead letter ----------------------------------------
mkdir -p "$T/gone" && cp -a "$N/hostnames" "$T/gone/"
wq submit --tenant acme --normaliser "$T/gone/hostnames" --json "$A"
gone=$(jqo '.[0].job')
rm -rf "$T/gone"
timeout -k 5 90 "$WHISKERS" worker --exit-when-idle 2>"$T/worker4.log"
wq results --dead --json
assert_eq "a missing normaliser is dead-lettered at once, with the reason" \
        "$gone normaliser_missing 1" "$(jqo '.[0] | "\(.job_id) \(.last_status.status) \(.attempts)"')"
assert_eq "status counts the dead letter" 1 "$(status_of | jq .dead)"

# ---- SIGTERM with a job running: released -----------------------------------------
S=sqlite://$T/slow.db
wq submit --db "$S" --tenant acme --mime x/slow "$A"
"$WHISKERS" worker --db "$S" --grace-ms 200 2>"$T/worker5.log" &
wpid=$!
started $wpid
assert_true "the slow job starts" wait_for '.running == 1' --db "$S"
kill -TERM $wpid
wait $wpid
assert_eq "SIGTERM during a run: clean exit after the grace time" 0 $?
assert_eq "the cancelled job is back in the queue, its attempt not counted" "1 0" \
        "$(status_of --db "$S" | jq -r '"\(.ready) \(.running)"')"
wq show --json 1 --db "$S"
assert_eq "released, not failed" "queued 0" "$(jqo '"\(.state) \(.attempt)"')"

# The HTTP sink and its outbox: tests/e2e/test_worker_sink.sh.

# ---- a corrupt database file ------------------------------------------------------------
{ printf 'SQLite format 3\0'; head -c 8192 /dev/urandom; } >"$T/bad.db"
sum=$(sha256sum <"$T/bad.db")
wq worker --db "$T/bad.db" --exit-when-idle
expect "a corrupt SQLite file: the worker stops with a clear error" rc=1 "err~(corrupt|not a database)"
assert_eq "the corrupt file is left untouched" "$sum" "$(sha256sum <"$T/bad.db")"

# ---- a full disk (root: a small tmpfs in a private mount namespace) -----------------------
# The disk fills while a job runs; its result (half a megabyte) cannot be
# stored until space is freed: the worker says so, retries, then stores it.
make_norm big '"x/big"' "    import time
    time.sleep(1)
    for i in range(2000):
        yield $(printf "$HOST" '"%s.example%d" % ("a" * 200, i)')"
if [ "$ROOT" = 1 ]; then
        mkdir -p "$T/full"
        unshare -m --propagation private bash -s "$WHISKERS" "$T" "$A" <<'EOF' >"$T/full.out" 2>&1
set -u
W=$1 T=$2 A=$3 DB=sqlite://$2/full/w.db
mount -t tmpfs -o size=2m tmpfs "$T/full"
"$W" submit --db "$DB" --tenant acme --mime x/big --input-ooi 'Hostname|internet|example.org' "$A" >/dev/null
"$W" worker --db "$DB" --exit-when-idle 2>"$T/full.log" &
pid=$!
for _ in $(seq 100); do "$W" status --db "$DB" --json | jq -e '.running == 1' >/dev/null && break; sleep 0.1; done
head -c 4M /dev/zero >"$T/full/fill" 2>/dev/null
for _ in $(seq 100); do grep -q 'is full' "$T/full.log" && break; sleep 0.1; done
rm -f "$T/full/fill"
wait $pid
echo "worker exit $?"
"$W" status --db "$DB" --json | jq -r '"done \(.done)"'
EOF
        assert_match "a full disk: the worker says so and retries" 'is full' "$(cat "$T/full.log")"
        assert_match "... then stores the result once there is space: nothing lost" \
                'worker exit 0.*done 1' "$(tr '\n' ' ' <"$T/full.out")"
else
        skip "full disk" "needs root for a tmpfs mount"
fi

finish
