#!/usr/bin/env bash
# End-to-end: the bounds of the worker's warm pool (docs/worker.md "Warm
# pool"): --warm-idle-s unloads an idle entry (its sandbox killed) within
# a second or so, with or without --metrics-port; --warm-max and
# --warm-max-mem evict the least recently used idle entry, not another one;
# the pool's resident memory is a metric; --warm-max-per-tenant makes a
# tenant at its quota give up its own entry rather than another tenant's.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/worker_lib.sh"

worker_env
make_hostnames hostnames

# Every process below pid $1.
descendants() {
        local k
        for k in $(ps -o pid= --ppid "$1" 2>/dev/null); do
                echo "$k"
                descendants "$k"
        done
}

# ---- --warm-idle-s --------------------------------------------------------------
IDLE=sqlite://$T/idle.db
submit_fresh "$IDLE" hostnames acme
"$WHISKERS" worker --db "$IDLE" --concurrency 1 --warm-idle-s 2 --log-level debug \
        2>"$T/idle.log" &
wpid=$!
started $wpid
assert_true "the idle test's job runs" wait_for '.done == 1' --db "$IDLE"
done_at=$(date +%s%N)
assert_true "after the job the warm sandbox is kept (init and zygote run)" \
        test "$(descendants $wpid | wc -l)" -ge 2
gone_ms=
for _ in $(seq 100); do
        if [ -z "$(descendants $wpid)" ]; then
                gone_ms=$((($(date +%s%N) - done_at) / 1000000))
                break
        fi
        sleep 0.05
done
assert_true "idle for --warm-idle-s 2: the sandbox is killed within 4.5 s (after ${gone_ms:-never} ms)" \
        test -n "$gone_ms" -a "${gone_ms:-0}" -ge 1500 -a "${gone_ms:-99999}" -le 4500
assert_match "the log says it was unloaded for being idle" \
        'unloaded normaliser hostnames for tenant acme: idle for 2 s' "$(cat "$T/idle.log")"
submit_fresh "$IDLE" hostnames acme
assert_true "a job after that loads it again" wait_for '.done == 2' --db "$IDLE"
assert_eq "two loads in the log" 2 "$(grep -c '"loaded normaliser hostnames' "$T/idle.log")"
kill -TERM $wpid
wait $wpid

# ---- --warm-max: least recently used first -----------------------------------------
# a b a c a b with room for two: c evicts b (a was used after b), a keeps
# its zygote, the second b loads a new one (evicting c, not a).
# --batch 1: one job claimed at a time, so they run in this order (a claim
# of several would run a's three in a row, test_worker_warm_group).
LRU=sqlite://$T/lru.db
submit_fresh "$LRU" hostnames a b a c a b
wq worker --db "$LRU" --concurrency 1 --batch 1 --warm-max 2 --exit-when-idle
expect "the LRU test's worker runs the six jobs" rc=0
runs=$(for id in $(seq 1 6); do "$WHISKERS" show --db "$LRU" --json "$id"; done |
        jq -sc '[.[] | {t: .tenant, ok: .result.outcome, z: .provenance.status.warm.zygote,
                       o: .provenance.status.warm.ordinal}]')
assert_eq "six ok results" "ok ok ok ok ok ok" "$(jq -r '[.[].ok] | join(" ")' <<<"$runs")"
assert_eq "tenant a: one zygote for its three jobs (inputs 1 2 3): not evicted" "1 2 3" \
        "$(jq -r '[.[] | select(.t == "a") | .o] | join(" ")' <<<"$runs")"
assert_eq "tenant a's three jobs share the zygote" 1 \
        "$(jq '[.[] | select(.t == "a") | .z] | unique | length' <<<"$runs")"
assert_eq "tenant b was evicted by c: its second job starts a new zygote (ordinals 1 1)" \
        "1 1 true" \
        "$(jq -r '[.[] | select(.t == "b")] | "\(.[0].o) \(.[1].o) \(.[0].z != .[1].z)"' <<<"$runs")"
assert_match "the log names the evictions: b by c, then c by b" \
        'unloaded normaliser hostnames for tenant b: least recently used of 3.*unloaded normaliser hostnames for tenant c: least recently used of 3' \
        "$(tr '\n' ' ' <"$T/err")"

# ---- --warm-max-mem: the same order, bounded by memory ---------------------------------
# One entry's resident memory is measured first (init and zygote as VmRSS,
# shared pages counted in each: ~15 MB in a release build, twice that when
# init is built with ASan): 2.5 times it holds two entries, not three, so
# a b a c a b evicts as above.
ONE=sqlite://$T/one.db
submit_fresh "$ONE" hostnames a
port=$(free_port)
"$WHISKERS" worker --db "$ONE" --concurrency 1 --batch 1 --metrics-port "$port" 2>"$T/one.log" &
wpid=$!
started $wpid
assert_true "the one-entry worker runs its job" wait_for '.done == 1' --db "$ONE"
sleep 0.3
one=$(curl -sf "http://127.0.0.1:$port/metrics" | sed -n 's/^whiskers_pool_rss_bytes //p')
kill -TERM $wpid
wait $wpid
assert_true "one entry's resident memory is reported (${one:-none})" test "${one:-0}" -gt 1000000
bound_kb=$((${one:-0} * 5 / 2 / 1024))
MEM=sqlite://$T/mem.db
submit_fresh "$MEM" hostnames a b a c a b
port=$(free_port)
"$WHISKERS" worker --db "$MEM" --concurrency 1 --batch 1 --warm-max-mem "${bound_kb}K" --metrics-port "$port" \
        2>"$T/mem.log" &
wpid=$!
started $wpid
assert_true "the memory test's worker runs the six jobs" wait_for '.done == 6' --db "$MEM"
sleep 0.3
curl -sf "http://127.0.0.1:$port/metrics" >"$T/metrics"
kill -TERM $wpid
wait $wpid
rss=$(sed -n 's/^whiskers_pool_rss_bytes //p' "$T/metrics")
assert_true "metrics: the pool's resident memory is that of two entries (${rss:-none}, one ${one:-none})" \
        test "${rss:-0}" -ge $((${one:-0} * 3 / 2)) -a "${rss:-0}" -le $((bound_kb * 1024))
assert_match "metrics: two kept" 'whiskers_pool_normalisers 2' "$(cat "$T/metrics")"
runs=$(for id in $(seq 1 6); do "$WHISKERS" show --db "$MEM" --json "$id"; done |
        jq -sc '[.[] | {t: .tenant, z: .provenance.status.warm.zygote,
                       o: .provenance.status.warm.ordinal}]')
assert_eq "tenant a keeps its zygote (inputs 1 2 3), b's second job starts a new one" \
        "1 2 3 / 1 1" \
        "$(jq -r '([.[] | select(.t == "a") | .o] | join(" ")) + " / " +
                  ([.[] | select(.t == "b") | .o] | join(" "))' <<<"$runs")"
assert_match "the log names the memory bound as the reason" \
        "unloaded normaliser hostnames for tenant b: least recently used, the pool.s [0-9]+ kB above --warm-max-mem ${bound_kb} kB" \
        "$(cat "$T/mem.log")"
wq worker --db "$MEM" --warm-max-mem 12Q --exit-when-idle
expect "a size that is not one is refused" rc=2 "err~--warm-max-mem"

# ---- --warm-max-per-tenant: a tenant recycles its own entry ------------------------
# b:hostnames, then a:hostnames, a:others, b:hostnames with room for two.
# Without a quota, a's second load evicts b's entry (the least recently
# used of all): b's second job starts a new zygote. With one entry per
# tenant, a gives up its own older entry and b keeps its zygote.
make_norm others '"text/plain"' "    for n in raw.decode().split():
        yield $(printf "$HOST" n)"
# quota_run NAME [OPTION...]: the four jobs on one slot, one claim each;
# prints the tenant, normaliser, zygote and ordinal of each, in order.
quota_run() {
        local db=sqlite://$T/$1.db spec
        shift
        for spec in b:hostnames a:hostnames a:others b:hostnames; do
                job_n=$((job_n + 1))
                printf 'h%d.example.org\n' $job_n >"$T/in$job_n.txt"
                "$WHISKERS" submit --db "$db" --tenant "${spec%%:*}" --normaliser "${spec#*:}" \
                        --input-ooi "$OOI" "$T/in$job_n.txt" >/dev/null
        done
        port=$(free_port)
        "$WHISKERS" worker --db "$db" --concurrency 1 --batch 1 --warm-max 2 --metrics-port "$port" \
                "$@" 2>"$T/quota.log" &
        wpid=$!
        started $wpid
        wait_for '.done == 4' --db "$db" || echo "not done" >&2
        curl -sf "http://127.0.0.1:$port/metrics" >"$T/metrics"
        kill -TERM $wpid
        wait $wpid
        for id in 1 2 3 4; do "$WHISKERS" show --db "$db" --json "$id"; done |
                jq -sc '[.[] | {t: .tenant, n: .normaliser, ok: .result.outcome,
                               z: .provenance.status.warm.zygote, o: .provenance.status.warm.ordinal}]'
}
b_zygotes='[.[] | select(.t == "b")] | "\(.[0].o) \(.[1].o) \(.[0].z == .[1].z)"'
runs=$(quota_run noquota)
assert_eq "without a quota: four ok results" "ok ok ok ok" "$(jq -r '[.[].ok] | join(" ")' <<<"$runs")"
assert_eq "without a quota: a's load evicts b's entry, b's second job starts a new zygote" \
        "1 1 false" "$(jq -r "$b_zygotes" <<<"$runs")"
assert_match "without a quota: the log names b's eviction" \
        'unloaded normaliser hostnames for tenant b: least recently used of 3 \(--warm-max 2\)' \
        "$(cat "$T/quota.log")"
runs=$(quota_run quota --warm-max-per-tenant 1)
assert_eq "with --warm-max-per-tenant 1: four ok results" "ok ok ok ok" \
        "$(jq -r '[.[].ok] | join(" ")' <<<"$runs")"
assert_eq "with --warm-max-per-tenant 1: b's second job runs in b's first zygote (ordinals 1 2)" \
        "1 2 true" "$(jq -r "$b_zygotes" <<<"$runs")"
assert_match "the log names a's own entry as the one unloaded, for the quota" \
        'unloaded normaliser hostnames for tenant a: least recently used of the tenant.s 2 \(--warm-max-per-tenant 1\)' \
        "$(cat "$T/quota.log")"
assert_eq "no entry of b was unloaded" 0 "$(grep -c 'unloaded normaliser .* for tenant b' "$T/quota.log")"
assert_match "metrics: one unload for the quota" 'whiskers_pool_quota_unloads_total 1' \
        "$(cat "$T/metrics")"
finish
