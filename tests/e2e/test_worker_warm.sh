#!/usr/bin/env bash
# End-to-end: the worker's pool of warm sandboxes (docs/worker.md "Warm
# pool"). A warm worker stores the same results as a --cold one; each
# tenant gets its own zygote; --warm-recycle replaces a zygote after N jobs;
# the metrics count warm runs, loads and recycles.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/worker_lib.sh"

worker_env
make_hostnames hostnames
for i in 1 2 3 4; do printf 'h%d.example.org\nwww%d.example.org\n' $i $i >"$T/in$i.txt"; done

# Same jobs into two stores: acme gets 1..3, beta 4 (distinct inputs, no reuse).
submit_all() {
        "$WHISKERS" submit --db "$1" --tenant acme --normaliser hostnames --input-ooi "$OOI" \
                "$T/in1.txt" "$T/in2.txt" "$T/in3.txt" >/dev/null &&
                "$WHISKERS" submit --db "$1" --tenant beta --normaliser hostnames \
                        --input-ooi "$OOI" "$T/in4.txt" >/dev/null
}
WARM=sqlite://$T/warm.db COLD=sqlite://$T/cold.db
assert_true "submit to the warm store" submit_all "$WARM"
assert_true "submit to the cold store" submit_all "$COLD"

wq worker --db "$WARM" --concurrency 1 --exit-when-idle
expect "a warm worker runs the four jobs" rc=0
wq worker --db "$COLD" --concurrency 1 --exit-when-idle --cold
expect "a --cold worker runs the four jobs" rc=0

# Per job, in submission order: tenant, mode, zygote, ordinal, output, and
# the provenance without the run's mode and timings.
jobs_of() {
        shows_of "$1" | jq -sc '.'
}
jobs_of "$WARM" >"$T/warm.json"
jobs_of "$COLD" >"$T/cold.json"
assert_eq "warm: four ok results" "ok ok ok ok" "$(jq -r '[.[].result.outcome] | join(" ")' "$T/warm.json")"
assert_eq "warm: every run was warm" "warm warm warm warm" \
        "$(jq -r '[.[].provenance.status.mode] | join(" ")' "$T/warm.json")"
assert_eq "cold: every run was cold" "cold cold cold cold" \
        "$(jq -r '[.[].provenance.status.mode] | join(" ")' "$T/cold.json")"
assert_eq "acme's three jobs: one zygote, inputs 1, 2, 3" "1 2 3" \
        "$(jq -r '[.[:3][] | .provenance.status.warm.ordinal] | join(" ")' "$T/warm.json")"
assert_eq "acme's three jobs share one zygote" 1 \
        "$(jq '[.[:3][] | .provenance.status.warm.zygote] | unique | length' "$T/warm.json")"
z_acme=$(jq -r '.[0].provenance.status.warm.zygote' "$T/warm.json")
z_beta=$(jq -r '.[3].provenance.status.warm.zygote' "$T/warm.json")
assert_true "beta's job ran in a zygote of its own (not acme's $z_acme)" \
        test -n "$z_beta" -a "$z_beta" != null -a "$z_beta" != "$z_acme"
comparable='[.[] | {tenant, outcome: .result.outcome, output, provenance: (.provenance | del(.status) | del(.timings))}]'
assert_eq "warm results equal cold ones (output, provenance but mode/timing)" \
        "$(jq -S "$comparable" "$T/cold.json")" "$(jq -S "$comparable" "$T/warm.json")"
assert_eq "the outputs name the inputs' hostnames" "h4.example.org www4.example.org" \
        "$(jq -r '[.[3].output.observations[0].results[].name] | join(" ")' "$T/warm.json")"

# ---- --warm-recycle 2, metrics ---------------------------------------------------
REC=sqlite://$T/recycle.db
assert_true "submit to the recycle store" submit_all "$REC"
port=$(free_port)
"$WHISKERS" worker --db "$REC" --concurrency 1 --warm-recycle 2 --metrics-port "$port" \
        2>"$T/rec.log" &
wpid=$!
started $wpid
assert_true "the recycling worker runs the four jobs" wait_for '.done == 4' --db "$REC"
curl -sf "http://127.0.0.1:$port/metrics" >"$T/metrics"
kill -TERM $wpid
wait $wpid
jobs_of "$REC" >"$T/rec.json"
assert_eq "acme's jobs: the zygote is replaced after two jobs (ordinals 1 2 1)" "1 2 1" \
        "$(jq -r '[.[:3][] | .provenance.status.warm.ordinal] | join(" ")' "$T/rec.json")"
assert_eq "the third job's zygote is a new one" true \
        "$(jq '.[1].provenance.status.warm.zygote != .[2].provenance.status.warm.zygote' "$T/rec.json")"
m=$(cat "$T/metrics")
assert_match "metrics: four warm runs" 'whiskers_runs_total\{mode="warm"\} 4' "$m"
assert_match "metrics: no cold run" 'whiskers_runs_total\{mode="cold"\} 0' "$m"
assert_match "metrics: three loads (acme twice, beta)" 'whiskers_pool_loads_total 3' "$m"
assert_match "metrics: one recycle" 'whiskers_pool_recycles_total 1' "$m"
assert_match "metrics: two kept" 'whiskers_pool_normalisers 2' "$m"
finish
