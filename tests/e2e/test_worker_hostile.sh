#!/usr/bin/env bash
# End-to-end regressions of issue 8 ("Workers"), SQLite, real sandboxed
# normalisers:
#  - item 10: a job of tenant B is not completed with tenant A's result for
#    the same raw, meta and normaliser; `--reuse-across-tenants` allows it;
#  - item 11: a worker killed with SIGKILL mid-run costs its job no attempt
#    (a job allowed one attempt still runs to the end on the next worker);
#  - item 12: `status`, `results` and `show` on a store that does not exist
#    fail with the reason and create nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/worker_lib.sh"

N=$T/normalisers
A=$T/a.txt OOI='Hostname|internet|example.org'
printf 'example.org\n' >"$A"
export WHISKERS_NORMALISERS=$N WHISKERS_DB=sqlite://$T/w.db
HOST='{"object_type": "Hostname", "network": "Network|internet", "name": %s}'
make_norm hostnames '"text/plain"' "    for n in raw.decode().split():
        yield $(printf "$HOST" n)"
make_norm nap '"x/nap"' "    import time
    time.sleep(2)
    yield $(printf "$HOST" '"nap.example"')"

# ---- item 12: reading commands never create a store --------------------------------
mkdir "$T/empty"
for cmd in status results "show 1"; do
        # shellcheck disable=SC2086
        wq $cmd --db "sqlite://$T/empty/no/such.db"
        expect "'$cmd' on a store that does not exist: exit 1 with what to do" rc=1 \
                "err~no job store at .*/empty/no/such.db .*check --db"
        # shellcheck disable=SC2086
        wq $cmd --db "$T/empty"
        expect "'$cmd' on a directory without whiskers.db: exit 1" rc=1 "err~no job store at"
done
assert_empty "nothing was created by the reading commands" "$(ls -A "$T/empty")"
: >"$T/empty/zero.db"
wq status --db "$T/empty/zero.db"
expect "an empty file is no store either" rc=1 "err~holds no job store"
assert_eq "and it stays empty" 0 "$(stat -c %s "$T/empty/zero.db")"

# ---- item 10: reuse stays within the tenant ----------------------------------------------
for tenant in acme globex; do
        wq submit --tenant "$tenant" --normaliser hostnames --input-ooi "$OOI" --json "$A"
        timeout -k 5 90 "$WHISKERS" worker --exit-when-idle 2>>"$T/worker.log"
done
wq results --json --tenant globex
assert_eq "tenant globex's job ran itself: not acme's result reused" "ok null" \
        "$(jqo '.[0] | "\(.outcome) \(.reused_from)"')"
wq submit --tenant globex --normaliser hostnames --input-ooi "$OOI" --json "$A"
again=$(jqo '.[0].job')
timeout -k 5 90 "$WHISKERS" worker --exit-when-idle 2>>"$T/worker.log"
wq show --json "$again"
assert_match "within one tenant the earlier result is still reused" '^[0-9]+$' \
        "$(jqo '.result.reused_from')"
wq submit --tenant initech --normaliser hostnames --input-ooi "$OOI" --json "$A"
cross=$(jqo '.[0].job')
timeout -k 5 90 "$WHISKERS" worker --exit-when-idle --reuse-across-tenants 2>>"$T/worker.log"
wq show --json "$cross"
assert_match "--reuse-across-tenants: another tenant's result is reused" '^[0-9]+$' \
        "$(jqo '.result.reused_from')"

# ---- item 11: SIGKILL of a worker mid-run uses no attempt -----------------------------------
K=sqlite://$T/kill.db
wq submit --db "$K" --tenant acme --normaliser nap --input-ooi "$OOI" --max-attempts 1 --json "$A"
job=$(jqo '.[0].job')
"$WHISKERS" worker --db "$K" --lease-ms 1500 2>"$T/killed.log" &
wpid=$!
started $wpid
assert_true "the job starts on the first worker" wait_for '.running == 1' --db "$K"
sleep 0.5
kill -9 $wpid
wait $wpid 2>/dev/null
# The next worker reaps the lease once it expires and runs the job again.
timeout -k 5 90 "$WHISKERS" worker --db "$K" --lease-ms 1500 --exit-when-idle 2>"$T/next.log"
wq show --json "$job" --db "$K"
assert_eq "killed mid-run with max_attempts 1: done on the next worker, attempt 1, one lost" \
        "done ok 1 1" "$(jqo '"\(.state) \(.result.outcome) \(.attempt) \(.lost_leases)"')"
assert_match "the status record of the lost lease names the killed worker" \
        '"status":"lease_expired".*"lost_leases":1' "$(jqo '.last_status | tojson')"

finish
