#!/usr/bin/env bash
# End-to-end: --warm-recycle-rss (docs/worker.md "Warm pool"). A zygote
# never sees input, so only the normaliser's own import-time code makes it
# big: this one keeps 40 MB at import. With the bound below that, each job
# finds its entry above it and the next job loads a fresh zygote (ordinals
# 1 1 1, three zygotes, three recycles logged for rss); with the bound
# above it, one zygote serves the three jobs (ordinals 1 2 3).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/worker_lib.sh"

worker_env
make_hostnames ballast
# Written at import, so resident in the zygote (a zero-filled buffer would not be).
printf '_BALLAST = b"x" * (40 << 20)\n' >>"$N/ballast/normalize.py"
for i in 1 2 3; do printf 'h%d.example.org\n' $i >"$T/in$i.txt"; done

# run_with DB BOUND: the three jobs through one worker with --warm-recycle-rss
# BOUND; the jobs (ordinal, zygote, outcome) in $T/DB.json, the metrics in
# $T/DB.metrics, the log in $T/DB.log.
run_with() {
        local db=sqlite://$T/$1.db port wpid
        "$WHISKERS" submit --db "$db" --tenant acme --normaliser ballast --input-ooi "$OOI" \
                "$T/in1.txt" "$T/in2.txt" "$T/in3.txt" >/dev/null || return 1
        port=$(free_port)
        "$WHISKERS" worker --db "$db" --concurrency 1 --warm-recycle-rss "$2" \
                --metrics-port "$port" 2>"$T/$1.log" &
        wpid=$!
        started $wpid
        wait_for '.done == 3' --db "$db" || return 1
        curl -sf "http://127.0.0.1:$port/metrics" >"$T/$1.metrics"
        kill -TERM $wpid
        wait $wpid
        shows_of "$db" | jq -sc '[.[] | {ok: .result.outcome, o: .provenance.status.warm.ordinal,
                              z: .provenance.status.warm.zygote}]' >"$T/$1.json"
}

# ---- below the zygote's RSS: a fresh zygote per job --------------------------------
assert_true "the worker with --warm-recycle-rss 30M runs the three jobs" run_with low 30M
assert_eq "three ok results" "ok ok ok" "$(jq -r '[.[].ok] | join(" ")' "$T/low.json")"
assert_eq "each job starts a fresh zygote (ordinals 1 1 1)" "1 1 1" \
        "$(jq -r '[.[].o] | join(" ")' "$T/low.json")"
assert_eq "three different zygotes" 3 "$(jq '[.[].z | select(. != null)] | unique | length' "$T/low.json")"
m=$(cat "$T/low.metrics")
assert_match "metrics: three loads" 'whiskers_pool_loads_total 3' "$m"
assert_match "metrics: three recycles" 'whiskers_pool_recycles_total 3' "$m"
assert_match "metrics: no warm run lost to cold" 'whiskers_runs_total\{mode="warm"\} 3' "$m"
assert_eq "the log gives rss as the reason of each recycle" 3 \
        "$(grep -cE 'unloaded normaliser ballast for tenant acme: recycled for rss, [0-9]+ kB above --warm-recycle-rss 30720 kB' "$T/low.log")"

# ---- above it: one zygote -------------------------------------------------------
assert_true "the worker with --warm-recycle-rss 500M runs the three jobs" run_with high 500M
assert_eq "one zygote serves the three jobs (ordinals 1 2 3)" "1 2 3" \
        "$(jq -r '[.[].o] | join(" ")' "$T/high.json")"
m=$(cat "$T/high.metrics")
assert_match "metrics: one load" 'whiskers_pool_loads_total 1' "$m"
assert_match "metrics: no recycle" 'whiskers_pool_recycles_total 0' "$m"
rss=$(sed -n 's/^whiskers_pool_rss_bytes //p' "$T/high.metrics")
assert_true "metrics: the entry keeps the 40 MB resident, so 30M is below it (${rss:-none} bytes)" \
        test "${rss:-0}" -gt 41943040

wq worker --db "sqlite://$T/high.db" --warm-recycle-rss 1X --exit-when-idle
expect "a size that is not one is refused" rc=2 "err~--warm-recycle-rss"
finish
