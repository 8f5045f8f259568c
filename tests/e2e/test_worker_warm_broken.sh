#!/usr/bin/env bash
# End-to-end: broken normalisers in a warm worker (issue 13, "Bad input"):
# each job gets one clear error, the pool does not crash-loop (one load per
# normaliser, zygote starts given up after three failures), nothing is
# retried, and the metrics show it.
#  - a syntax error: the Python zygote keeps the import error and each
#    input's child reports it, as a cold run would;
#  - a zygote that exits while loading: each job runs cold with the warning
#    warm_unavailable and the reason.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/worker_lib.sh"

N=$T/normalisers
export WHISKERS_NORMALISERS=$N WHISKERS_DB=sqlite://$T/w.db
OOI='Hostname|internet|example.org'
HOST='{"object_type": "Hostname", "network": "Network|internet", "name": %s}'
make_norm good '"text/plain"' "    for n in raw.decode().split():
        yield $(printf "$HOST" n)"
make_norm syntax '"text/plain"' "    yield {"
make_norm quits '"text/plain"' "    yield {}"
printf 'import os\nos._exit(3)\n' >>"$N/quits/normalize.py"

for i in 1 2 3 4; do printf 'h%d.example.org\n' $i >"$T/in$i.txt"; done
for n in syntax quits good; do
        wq submit --tenant acme --normaliser $n --input-ooi "$OOI" \
                "$T/in1.txt" "$T/in2.txt" "$T/in3.txt" "$T/in4.txt"
        expect "four jobs of '$n' queued" rc=0
done
port=$(free_port)
"$WHISKERS" worker --concurrency 1 --metrics-port "$port" 2>"$T/worker.log" &
wpid=$!
started $wpid
assert_true "the worker ends all twelve jobs" wait_for '.done == 12'
curl -sf "http://127.0.0.1:$port/metrics" >"$T/metrics"
# Kept: the sandboxes of syntax and good (init and zygote each); none of
# quits, whose zygote is not started again.
sleep 0.5
kept=$(pgrep -c -P "$(pgrep -d, -P $wpid || echo 0)" || true)
assert_eq "two zygotes are kept (syntax, good), no zygote of quits" 2 "$kept"
kill -TERM $wpid
wait $wpid
assert_eq "the worker was still up at the end (no crash)" 0 $?

jobs=$(for id in $(seq 1 12); do wq show --json "$id"; cat "$T/out"; done | jq -sc '.')
per() { jq -r --arg n "$1" "[.[] | select(.normaliser == \$n) | $2] | join(\" \")" <<<"$jobs"; }
assert_eq "syntax error: each job ends once with exit_nonzero, attempt 1" \
        "exit_nonzero/1 exit_nonzero/1 exit_nonzero/1 exit_nonzero/1" \
        "$(per syntax '"\(.result.outcome)/\(.attempt)"')"
assert_eq "syntax error: each job's error names the SyntaxError" "4" \
        "$(jq '[.[] | select(.normaliser == "syntax") | .output | tostring |
                select(test("SyntaxError"))] | length' <<<"$jobs")"
assert_eq "syntax error: every job ran warm, in one zygote (inputs 1 2 3 4)" "1 2 3 4" \
        "$(per syntax '.provenance.status.warm.ordinal')"
assert_eq "a zygote that exits while loading: each job ends once with exit_nonzero" \
        "exit_nonzero/1 exit_nonzero/1 exit_nonzero/1 exit_nonzero/1" \
        "$(per quits '"\(.result.outcome)/\(.attempt)"')"
assert_eq "... each ran cold" "cold cold cold cold" "$(per quits '.provenance.status.mode')"
assert_eq "... each with the warning warm_unavailable and the reason" 4 \
        "$(jq '[.[] | select(.normaliser == "quits") | .output.warnings[]? |
                select(.code == "warm_unavailable" and (.message | test("ran cold")))] | length' \
                <<<"$jobs")"
assert_eq "the good normaliser's four jobs are ok, warm, in one zygote" "1 2 3 4" \
        "$(per good 'select(.result.outcome == "ok") | .provenance.status.warm.ordinal')"
m=$(cat "$T/metrics")
assert_match "metrics: three loads, one per normaliser" 'whiskers_pool_loads_total 3' "$m"
assert_match "metrics: eight warm runs (syntax, good)" 'whiskers_runs_total\{mode="warm"\} 8' "$m"
assert_match "metrics: four cold runs (quits)" 'whiskers_runs_total\{mode="cold"\} 4' "$m"
assert_match "metrics: eight jobs end exit_nonzero" \
        'whiskers_jobs_total\{outcome="exit_nonzero"\} 8' "$m"
assert_match "metrics: nothing retried" 'whiskers_jobs_total\{outcome="retried"\} 0' "$m"
finish
