#!/usr/bin/env bash
# End-to-end: claimed jobs are run grouped by (normaliser, tenant)
# (docs/worker.md "Warm pool"): a slot runs the waiting jobs of the key it
# holds in a row with one pool entry, another slot prefers a key no slot is
# running, and without --batch a claim takes what the slots run in ~100 ms
# (many short runs, one long run per slot at a time).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/worker_lib.sh"

worker_env
make_hostnames hostnames
make_norm nap '"text/plain"' "    import time
    time.sleep(0.3)
    yield $(printf "$HOST" '"nap.example"')"
runs_of() {
        shows_of "$1" | jq -sc '[.[] | {t: .tenant, ok: .result.outcome, z: .provenance.status.warm.zygote,
                             o: .provenance.status.warm.ordinal}]'
}

# ---- one slot, room for one entry: a b a b a b claimed at once ----------------------
# In claim order each job would evict the other tenant's zygote (six loads,
# every ordinal 1); grouped, a's three run in one zygote, then b's.
G=sqlite://$T/group.db
submit_fresh "$G" hostnames a b a b a b
wq worker --db "$G" --concurrency 1 --batch 8 --warm-max 1 --exit-when-idle
expect "the grouping worker runs the six jobs" rc=0
runs=$(runs_of "$G")
assert_eq "six ok results" "ok ok ok ok ok ok" "$(jq -r '[.[].ok] | join(" ")' <<<"$runs")"
assert_eq "a's jobs ran in a row in one zygote (inputs 1 2 3), so did b's" "1 2 3 / 1 2 3" \
        "$(jq -r '([.[] | select(.t == "a") | .o] | join(" ")) + " / " +
                  ([.[] | select(.t == "b") | .o] | join(" "))' <<<"$runs")"
assert_eq "two loads, not six" 2 "$(grep -c '"loaded normaliser hostnames' "$T/err")"

# ---- two slots: the second prefers a key no slot runs --------------------------------
# nap (0.3 s) for a twice, then hostnames for b: while the first slot runs
# a's first job, the second takes b's (in claim order it would take a's
# second and load a second zygote of a for it).
G2=sqlite://$T/group2.db
submit_fresh "$G2" nap a a
submit_fresh "$G2" hostnames b
wq worker --db "$G2" --concurrency 2 --batch 8 --exit-when-idle
expect "the two-slot worker runs the three jobs" rc=0
# Results are stored in the order the jobs end. Only b's coming first is
# certain: a's second job may run on either slot once b's is done, so the
# order of a's two is not asserted.
order=$("$WHISKERS" results --db "$G2" --json | jq -c '[sort_by(.id)[] | {job: .job_id, ok: .outcome}]')
assert_eq "b's job (3) ended first, then a's two ($order)" "3 ok ok ok" \
        "$(jq -r '[.[0].job] + [.[].ok] | join(" ")' <<<"$order")"

# ---- without --batch: claims follow the run time ----------------------------------------
A=sqlite://$T/adaptive.db
submit_fresh "$A" hostnames $(printf 't %.0s' $(seq 30))
wq worker --db "$A" --concurrency 1 --exit-when-idle --log-level debug
expect "30 short jobs run" rc=0
sizes=$(sed -n 's/.*"claimed \([0-9]*\) jobs".*/\1/p' "$T/err" | tr '\n' ' ')
assert_match "the first claim takes one job per slot" '^1 ' "$sizes"
assert_true "short runs: later claims take several at once (claims: $sizes)" \
        test "$(tr ' ' '\n' <<<"$sizes" | sort -n | tail -1)" -ge 3
S=sqlite://$T/slow.db
submit_fresh "$S" nap t t t t
wq worker --db "$S" --concurrency 1 --exit-when-idle --log-level debug
expect "4 jobs of 0.3 s run" rc=0
sizes=$(sed -n 's/.*"claimed \([0-9]*\) jobs".*/\1/p' "$T/err" | tr '\n' ' ')
assert_eq "runs of 0.3 s: one job per claim, the rest left to other workers" "1 1 1 1 " "$sizes"
finish
