#!/usr/bin/env bash
# Boefje jobs in the worker (docs/boefjes.md "In the worker"): `whiskers
# submit --boefje` queues one, a worker runs the boefje in the sandbox,
# stores its raw file content-addressed and queues a job for every
# normaliser consuming one of its MIME types with the result, then runs
# those too. A worker SIGKILLed after the boefje ran and before its result
# committed neither loses nor duplicates the normaliser jobs; a boefje that
# returns a malformed pair stores nothing and says why; each tenant's
# boefje runs with that tenant's settings, which never reach the store; a
# job's own limits (--wall-ms, --memory, --net-max-*...) are stored with it,
# shown, and only ever lower the worker's.
# The same chain on PostgreSQL when it is installed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/worker_lib.sh"

SRC=${WH_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
N=$T/normalisers B=$T/boefjes
DB=$T/w.db
export WHISKERS_NORMALISERS=$N WHISKERS_BOEFJES=$B WHISKERS_DB=sqlite://$DB WHISKERS_CACHE=$T/cache
LIMITS=()
can_enforce_cgroups || LIMITS=(--allow-unenforced-limits)
HOST='{"object_type": "Hostname", "network": "Network|internet", "name": %s}'
make_norm hostnames '"text/x-hostnames"' "    for n in raw.decode().split():
        yield $(printf "$HOST" n)"
make_norm wordlist-size '"boefje/subdomain-wordlist"' "    yield $(printf "$HOST" '"n%d.example.org" % len(raw.split())')"
make_norm pages '"text/html"' "    yield $(printf "$HOST" '"never.example.org"')"
mkdir -p "$B"
cp -r "$SRC/examples/boefjes/subdomain-wordlist" "$B/"
chmod -R a+rX "$T"

# sql QUERY: one value from the store, read behind whiskers' back.
sql() { "$PYTHON" -c 'import sqlite3, sys
print(*sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone())' "$DB" "$1" 2>&1; }
worker() { timeout -k 5 120 "$WHISKERS" worker "${LIMITS[@]}" --exit-when-idle --lease-ms 3000 "$@" 2>>"$T/worker.log"; }

# --- the chain: boefje job -> raw file -> normaliser jobs -> results ---------
wq submit --tenant acme --boefje subdomain-wordlist --input-ooi 'Hostname|internet|example.org' --json
expect "a boefje job is queued: its kind, its boefje" rc=0 'out~"kind": "boefje"' 'out~"boefje": "subdomain-wordlist"'
assert_eq "the store has its kind in a column, the reference as given" "boefje subdomain-wordlist" \
        "$(sql "SELECT kind || ' ' || normaliser FROM job_payload WHERE job_id = $(jqo '.[0].job')")"
J=$(jqo '.[0].job')
assert_eq "its settings are not in the job: its meta holds the input and network only" \
        '{"input_ooi":"Hostname|internet|example.org","net_allow":[],"net_no_input":false}' \
        "$(sql "SELECT meta FROM job_payload WHERE job_id = $J")"
worker
wq show --json "$J"
expect "the worker ran the boefje: its result lists the raw file and its MIME types" rc=0 \
        'out~"state": "done"' 'out~"outcome": "ok"'
raw=$(jqo '.output.raw_files[0].digest')
assert_eq "MIME types" '["boefje/subdomain-wordlist","text/x-hostnames"]' "$(jqo '.output.raw_files[0].mime_types | tostring')"
assert_eq "the raw file is in the store under its digest" \
        "www.example.org mail.example.org vpn.example.org" "$(sql "SELECT replace(data, char(10), ' ') FROM raw WHERE digest = '$raw'" | sed 's/ $//')"
assert_eq "the BoefjeMeta's organization is the job's tenant" acme "$(jqo '.output.boefje_meta.organization')"
assert_eq "exactly the two consuming normalisers got a job, on that raw file, for that tenant" \
        "acme hostnames $raw|acme wordlist-size $raw" \
        "$(sql "SELECT group_concat(x, '|') FROM (SELECT j.tenant || ' ' || p.normaliser || ' ' || p.raw_digest AS x FROM jobs j JOIN job_payload p ON p.job_id = j.id WHERE j.id <> $J ORDER BY p.normaliser)")"
H=$(sql "SELECT job_id FROM job_payload WHERE normaliser = 'hostnames'")
wq show --json "$H"
assert_eq "the worker then ran them: the boefje's candidates as Hostnames" \
        "done mail.example.org vpn.example.org www.example.org" \
        "$(jqo '"\(.state) \([.output.observations[0].results[].name] | sort | join(" "))"')"
assert_eq "their NormalizerMeta names the raw file and the boefje's task" "$raw boefje/subdomain-wordlist" \
        "$(jqo '"\(.meta.raw_data.id) \(.meta.raw_data.mime_types[0].value)"')"
assert_eq "observed from the boefje's input object" "Hostname|internet|example.org" "$(jqo '.output.observations[0].input_ooi')"
wq results --json --tenant acme
assert_eq "whiskers results: the boefje's and both normalisers' results, all ok, with their kinds" \
        "boefje subdomain-wordlist ok|normaliser hostnames ok|normaliser wordlist-size ok" \
        "$(jqo '[.[] | "\(.kind) \(.normaliser) \(.outcome)"] | sort | join("|")')"

# --- a worker killed after the boefje ran -------------------------------------
# The boefje sleeps, so the job is seen running; then the store's write lock
# is held, so the worker cannot commit what the run made; it is SIGKILLed
# once it logged that the boefje ran.
mkdir -p "$B/slow"
echo '{"id": "slow", "consumes": ["Hostname"], "x-whiskers-network": []}' >"$B/slow/boefje.json"
printf 'import time\n\ndef run(boefje_meta):\n    time.sleep(1.5)\n    return [({"text/x-hostnames"}, "a.example.net b.example.net")]\n' >"$B/slow/main.py"
chmod -R a+rX "$B"
wq submit --tenant acme --boefje slow --input-ooi 'Hostname|internet|example.net' --json
K=$(jqo '.[0].job')
"$WHISKERS" worker "${LIMITS[@]}" --lease-ms 3000 --log-level debug 2>"$T/killed.log" &
wpid=$!
started $wpid
for _ in $(seq 100); do [ "$(sql "SELECT state FROM jobs WHERE id = $K")" = 1 ] && break; sleep 0.1; done
assert_eq "whiskers status: one job running, a boefje job" '1 {"normaliser":0,"boefje":1}' \
        "$(status_of | jq -c '"\(.running) \(.running_by_kind | tojson)"' -r)"
"$PYTHON" -c 'import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN IMMEDIATE")
open(sys.argv[2], "w").close()
time.sleep(20)' "$DB" "$T/locked" &
lpid=$!
started $lpid
for _ in $(seq 100); do [ -e "$T/locked" ] && grep -q '"boefje ran: ok' "$T/killed.log" && break; sleep 0.1; done
assert_true "the boefje ran while the store was locked" grep -q "\"boefje ran: ok.*\"job\":$K" "$T/killed.log"
kill -KILL $wpid
wait $wpid 2>/dev/null
kill $lpid
wait $lpid 2>/dev/null
assert_eq "killed before its result committed: the job is still leased, no normaliser job queued" "1 0 0" \
        "$(sql "SELECT (SELECT state FROM jobs WHERE id = $K), (SELECT count(*) FROM jobs WHERE id > $K), (SELECT count(*) FROM results WHERE job_id = $K)")"
sleep 3 # the lease ends
worker
assert_eq "the next worker ran it again: one result, and its normaliser job exactly once" "1 1 hostnames done" \
        "$(sql "SELECT (SELECT count(*) FROM results WHERE job_id = $K), count(*), p.normaliser, CASE j.state WHEN 2 THEN 'done' ELSE j.state END FROM jobs j JOIN job_payload p ON p.job_id = j.id WHERE j.id > $K")"
wq show --json "$K"
assert_eq "the boefje job's result: ok on its second worker" "ok 1 1" "$(jqo '"\(.result.outcome) \(.lost_leases) \(.attempt)"')"

# --- boefje slots: scans wait for one another, not for the worker's slots -----
wq submit --tenant acme --boefje slow --input-ooi 'Hostname|internet|example.com' --json
S1=$(($(jqo '.[0].job') - 1))
wq submit --tenant acme --boefje slow --input-ooi 'Hostname|internet|example.net' --json
worker --concurrency 2 --boefje-slots 1 --batch 4
assert_eq "--boefje-slots 1: two boefje jobs ran one after the other (1.5 s each)" 1 \
        "$(sql "SELECT (SELECT count(*) FROM results r JOIN job_payload p ON p.job_id = r.job_id WHERE r.job_id > $S1 AND p.kind = 'boefje' AND p.normaliser = 'slow') = 2 AND (SELECT max(r.created_at) - min(r.created_at) FROM results r JOIN job_payload p ON p.job_id = r.job_id WHERE r.job_id > $S1 AND p.kind = 'boefje' AND p.normaliser = 'slow') >= 1400")"

# --- a malformed pair: nothing stored, a clear error --------------------------
mkdir -p "$B/bad"
echo '{"id": "bad", "consumes": ["Hostname"], "x-whiskers-network": []}' >"$B/bad/boefje.json"
printf 'def run(boefje_meta):\n    return [({"text/x-hostnames"}, "kept.example.org"), ({"text/x-hostnames"}, 12345)]\n' >"$B/bad/main.py"
chmod -R a+rX "$B"
raws=$(sql "SELECT count(*) FROM raw")
jobs=$(sql "SELECT count(*) FROM jobs")
wq submit --tenant acme --boefje bad --input-ooi 'Hostname|internet|example.org' --json
X=$(jqo '.[0].job')
worker
wq show --json "$X"
expect "the job's result is the error, not a retry" rc=0 'out~"state": "done"' 'out~"outcome": "invalid_output"' \
        'out~pair 1: raw is a int, not bytes or str'
assert_eq "no raw file kept (not even the good pair's), no normaliser job" "$raws $((jobs + 1)) 0" \
        "$(sql "SELECT (SELECT count(*) FROM raw), (SELECT count(*) FROM jobs), (SELECT count(*) FROM raw WHERE data = 'kept.example.org')")"
assert_eq "the result lists no raw file" "[]" "$(jqo '.output.raw_files | tostring')"

# --- tenants: each its own settings, results apart ----------------------------
mkdir -p "$B/keyed" "$T/settings/acme" "$T/settings/globex"
echo '{"id": "keyed", "consumes": ["Hostname"], "x-whiskers-network": []}' >"$B/keyed/boefje.json"
echo '{"type": "object", "properties": {"API_KEY": {"type": "string", "minLength": 8}}, "required": ["API_KEY"]}' >"$B/keyed/schema.json"
cat >"$B/keyed/main.py" <<'EOF'
import hashlib, os

def run(boefje_meta):
    digest = hashlib.sha256(os.environ["API_KEY"].encode()).hexdigest()
    return [({"text/x-key"}, boefje_meta["organization"] + " " + digest)]
EOF
ACME_KEY=acme-secret-$RANDOM$RANDOM GLOBEX_KEY=globex-secret-$RANDOM$RANDOM SHARED_KEY=shared-secret-$RANDOM$RANDOM
echo "{\"API_KEY\": \"$ACME_KEY\"}" >"$T/settings/acme/keyed.json"
echo "{\"API_KEY\": \"$GLOBEX_KEY\"}" >"$T/settings/globex/keyed.json"
echo "{\"API_KEY\": \"$SHARED_KEY\"}" >"$T/settings/keyed.json"
chmod -R a+rX "$T"
sha() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }
declare -A KJ
for t in acme globex initech; do
        wq submit --tenant $t --boefje keyed --input-ooi 'Hostname|internet|example.org' --json
        KJ[$t]=$(jqo '.[0].job')
done
worker --boefje-settings "$T/settings"
raw_of() {
        wq show --json "${KJ[$1]}"
        sql "SELECT CAST(data AS TEXT) FROM raw WHERE digest = '$(jqo '.output.raw_files[0].digest')'"
}
assert_eq "acme's boefje ran with acme's key" "acme $(sha "$ACME_KEY")" "$(raw_of acme)"
assert_eq "globex's with globex's" "globex $(sha "$GLOBEX_KEY")" "$(raw_of globex)"
assert_eq "a tenant without its own file: the shared one" "initech $(sha "$SHARED_KEY")" "$(raw_of initech)"
wq results --json --tenant globex
assert_eq "globex's results list only its job" "${KJ[globex]}" "$(jqo '[.[].job_id] | map(tostring) | join(",")')"
found=$(grep -l -a -e "$ACME_KEY" -e "$GLOBEX_KEY" -e "$SHARED_KEY" "$DB" "$DB-wal" "$T/worker.log" 2>/dev/null)
assert_eq "no key in the store or the worker's log" "" "$found"
wq submit --tenant acme --boefje keyed --input-ooi 'Hostname|internet|example.org' --json
worker # no --boefje-settings: the schema requires API_KEY
wq show --json "$(jqo '.[0].job')"
expect "settings the schema refuses: dead-lettered with why, the value not shown" rc=0 'out~"state": "dead"' \
        'out~bad_settings' 'out~API_KEY|required'

# --- a job's own limits: stored, shown, each only lowering the worker's ------------
wq submit --tenant acme --boefje slow --input-ooi 'Hostname|internet|example.org' --wall-ms 500 \
        --memory 256M --net-max-conns 4 --net-max-rate 10K --json
W=$(jqo '.[0].job')
assert_eq "its own limits are stored with the job" \
        '{"input_ooi":"Hostname|internet|example.org","limits":{"memory_bytes":268435456,"net_max_conns":4,"net_max_rate":10240,"wall_ms":500},"net_allow":[],"net_no_input":false}' \
        "$(sql "SELECT meta FROM job_payload WHERE job_id = $W")"
wq show "$W"
expect "whiskers show lists them" rc=0 \
        "out~limits +memory_bytes 268435456, net_max_conns 4, net_max_rate 10240, wall_ms 500"
wq submit --tenant acme --boefje slow --input-ooi 'Hostname|internet|example.org' --wall-ms 100000000 --json
U=$(jqo '.[0].job')
worker
wq show --json "$W"
expect "the worker ran it under its own 500 ms (its own: 300000): stopped, and said so" rc=0 \
        'out~"state": "done"' 'out~"outcome": "timeout_wall"' 'out~stopped after 500 ms'
assert_eq "... its status record: timeout_wall, 500 ms and 256 MiB applied" "timeout_wall 500 268435456" \
        "$(jqo '"\(.output.status.status) \(.output.status.applied.limits.wall_ms) \(.output.status.applied.limits.memory_bytes)"')"
wq show --json "$U"
assert_eq "a job's limit above the worker's does not raise it: 300000 ms applied, the boefje ran" \
        "ok 300000" "$(jqo '"\(.result.outcome) \(.output.status.applied.limits.wall_ms)"')"
# The network limits reach the sandbox's ruleset: a budget of 1 byte is
# spent by the first packet, which is dropped (nothing leaves the sandbox).
if [ "$ROOT" = 1 ] && command -v slirp4netns >/dev/null && [ -x /usr/sbin/nft ]; then
        mkdir -p "$B/sender"
        echo '{"id": "sender", "consumes": ["Hostname"], "x-whiskers-network": ["192.0.2.1:9/udp"]}' \
                >"$B/sender/boefje.json"
        printf '%s\n' 'import socket' '' 'def run(boefje_meta):' \
                '    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)' '    refused = 0' \
                '    for _ in range(3):' '        try:' '            s.sendto(b"x" * 100, ("192.0.2.1", 9))' \
                '        except OSError:' '            refused += 1' \
                '    return [({"text/x-sent"}, "refused %d of 3" % refused)]' >"$B/sender/main.py"
        chmod -R a+rX "$B"
        wq submit --tenant acme --boefje sender --input-ooi 'Hostname|internet|example.org' \
                --net-max-bytes 1 --json
        NB=$(jqo '.[0].job')
        worker
        wq show --json "$NB"
        assert_eq "--net-max-bytes 1: its datagram to the listed 192.0.2.1:9 refused over the job's byte limit" \
                "ok refused udp 192.0.2.1 9 bytes" \
                "$(jqo '"\(.result.outcome) \(.output.status.network.connections[] | select(.dst == "192.0.2.1") | "\(.verdict) \(.proto) \(.dst) \(.dport) \(.limit)")"')"
        assert_eq "... and the boefje saw every send refused" "refused 3 of 3" \
                "$(sql "SELECT CAST(data AS TEXT) FROM raw WHERE digest = '$(jqo '.output.raw_files[0].digest')'")"
        # whiskers scan takes the same network limits for its one run.
        wq scan --json "${LIMITS[@]}" --boefjes "$B" --boefje sender \
                --input-ooi 'Hostname|internet|example.org' --raw-store "$T/scan-store" --net-max-bytes 1
        assert_eq "scan --net-max-bytes 1: the datagram refused over the byte limit, the boefje ok" \
                "true refused udp 192.0.2.1 9 bytes" \
                "$(jqo '"\(.boefje.ok) \(.boefje.status.network.connections[] | select(.dst == "192.0.2.1") | "\(.verdict) \(.proto) \(.dst) \(.dport) \(.limit)")"')"
else
        skip "a job's network limits in the sandbox" "needs root, slirp4netns and nft: NOT tested here"
fi
# A meta whose limits whiskers did not write (changed behind its back): the
# job can never run as asked, so it is dead-lettered, not run without them.
wq submit --tenant acme --boefje slow --input-ooi 'Hostname|internet|example.org' --wall-ms 500 --json
D=$(jqo '.[0].job')
"$PYTHON" -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1]); c.execute(sys.argv[2]); c.commit()' "$DB" \
        "UPDATE job_payload SET meta = replace(meta, '\"wall_ms\":500', '\"wall_ms\":-1') WHERE job_id = $D"
worker
wq show --json "$D"
expect "a stored limit of -1: dead-lettered as bad_meta, with why" rc=0 'out~"state": "dead"' \
        'out~bad_meta' 'out~its limit wall_ms is not a whole number from 1 to'

# --- bad submissions ----------------------------------------------------------
wq submit --tenant acme --boefje nosuch --input-ooi 'Hostname|internet|example.org'
expect "an unknown boefje: usage error, nothing queued" rc=2 "err~no boefje with the id 'nosuch'"
wq submit --tenant acme --boefje keyed --input-ooi 'not a key'
expect "an input object that is not a primary key: usage error" rc=2 'err~is not a primary key'
wq submit --tenant acme --boefje keyed "$T/settings/keyed.json"
expect "--boefje with a RAWFILE: usage error" rc=2 'err~--boefje'
jobs=$(sql "SELECT count(*) FROM jobs")
wq submit --tenant acme --boefje slow --input-ooi 'Hostname|internet|example.org' --net-max-conns 2000000
expect "--net-max-conns over its maximum: usage error" rc=2 'err~--net-max-conns: at most 1000000'
wq submit --tenant acme --boefje slow --input-ooi 'Hostname|internet|example.org' --wall-ms soon
expect "--wall-ms that is not a number: usage error" rc=2 'err~--wall-ms'
wq submit --tenant acme --boefje slow --input-ooi 'Hostname|internet|example.org' --net-max-bytes 10Q
expect "--net-max-bytes that is not a size: usage error" rc=2 'err~--net-max-bytes'
wq submit --tenant acme --normaliser hostnames --wall-ms 500 "$T/settings/keyed.json"
expect "a job's limits without --boefje: usage error" rc=2 "err~are a boefje job's limits"
assert_eq "none of them queued anything" "$jobs" "$(sql "SELECT count(*) FROM jobs")"

# --- a normaliser whose reference looks like a boefje job's of before --------
# Before the kind column, a job whose reference began with "boefje:" was a
# boefje job: a normaliser package tagged boefje:subdomain-wordlist got the
# boefje subdomain-wordlist run on its raw file (dead: bad_meta).
"$WHISKERS" pack "$N/hostnames" --into "$T/store" --tag boefje:subdomain-wordlist >"$T/pack.out" 2>&1
assert_eq "a normaliser packed under the tag boefje:subdomain-wordlist" 0 "$?"
printf 'a.example.org b.example.org\n' >"$T/lookalike.txt"
LDB=sqlite://$T/lookalike.db
wq submit --db "$LDB" --tenant acme --store "$T/store" --allow-unsigned --normaliser boefje:subdomain-wordlist \
        --input-ooi 'Hostname|internet|example.org' --json "$T/lookalike.txt"
expect "queued as a normaliser job" rc=0 'out~"kind": "normaliser"' 'out~"normaliser": "boefje:subdomain-wordlist"'
L=$(jqo '.[0].job')
worker --db "$LDB" --store "$T/store" --allow-unsigned
wq show --db "$LDB" --json "$L"
assert_eq "the worker ran the package, not the boefje: its Hostnames" \
        "normaliser boefje:subdomain-wordlist done a.example.org b.example.org" \
        "$(jqo '"\(.kind) \(.normaliser) \(.state) \([.output.observations[0].results[].name] | sort | join(" "))"')"

# --- a store of before the kind column ----------------------------------------
# Schema version 3 told a boefje job by the prefix "boefje:" on its
# reference. A store made here, then turned back with SQL into what whiskers
# wrote then; this whiskers migrates it at open and its worker runs both
# kinds. On SQLite here, on PostgreSQL below.
printf 'old.example.org\n' >"$T/old.txt"
# store_sql URL SQL: run SQL on the store at URL; the rows of a query, one a line.
store_sql() {
        case $1 in
        sqlite://*) "$PYTHON" -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1], isolation_level=None)
for q in sys.argv[2].split(";"):
    for r in c.execute(q):
        print(*r)' "${1#sqlite://}" "$2" ;;
        *) psql "$1" -qAt -F ' ' -c "$2" ;;
        esac
}
# old_store URL LABEL
old_store() {
        local db=$1 label=$2
        wq submit --db "$db" --tenant acme --boefje subdomain-wordlist --input-ooi 'Hostname|internet|example.org'
        wq submit --db "$db" --tenant acme --normaliser hostnames --input-ooi 'Hostname|internet|example.org' "$T/old.txt"
        store_sql "$db" "UPDATE job_payload SET normaliser = 'boefje:' || normaliser WHERE kind = 'boefje';
                ALTER TABLE job_payload DROP COLUMN kind; DELETE FROM schema_version WHERE version = 4"
        assert_eq "$label: the old store, version 3, a boefje job by its prefix" "3 boefje:subdomain-wordlist hostnames" \
                "$({ store_sql "$db" "SELECT max(version) FROM schema_version"
                    store_sql "$db" "SELECT normaliser FROM job_payload ORDER BY job_id"; } | tr '\n' ' ' | sed 's/ $//')"
        local port mpid
        port=$(free_port)
        timeout -k 5 120 "$WHISKERS" worker "${LIMITS[@]}" --lease-ms 3000 --db "$db" --metrics-port "$port" \
                2>>"$T/worker.log" &
        mpid=$!
        started $mpid
        assert_true "$label: a worker ran the old store's jobs and those the boefje made" wait_for '.done == 4' --db "$db"
        curl -sf "http://127.0.0.1:$port/metrics" >"$T/metrics"
        kill -TERM $mpid
        wait $mpid 2>/dev/null
        assert_match "$label: metrics, the boefje's run latency apart" 'whiskers_run_seconds_count\{kind="boefje"\} 1' "$(cat "$T/metrics")"
        assert_match "$label: metrics, the normalisers' three runs" 'whiskers_run_seconds_count\{kind="normaliser"\} 3' "$(cat "$T/metrics")"
        assert_eq "$label: migrated to version 4" 4 "$(store_sql "$db" "SELECT max(version) FROM schema_version")"
        wq results --db "$db" --json
        assert_eq "$label: the prefixed job is a boefje job, the prefix gone; both kinds ran, and the jobs the boefje made" \
                "boefje subdomain-wordlist ok|normaliser hostnames ok|normaliser hostnames ok|normaliser wordlist-size ok" \
                "$(jqo '[.[] | "\(.kind) \(.normaliser) \(.outcome)"] | sort | join("|")')"
}
old_store "sqlite://$T/old.db" SQLite

# --- PostgreSQL: the same chain -----------------------------------------------
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
        skip "PostgreSQL" "not installed (scripts/deps/queue.txt): the chain on PostgreSQL was NOT run"
        finish
fi
PGD=$(mktemp -d /tmp/wh-worker-boefje-pg.XXXXXX)
chmod 755 "$PGD"
on_exit "'$SRC/scripts/pg-stop.sh' '$PGD'"
url=$("$SRC/scripts/pg-start.sh" "$PGD" fsync=off) || { fail "pg-start.sh" nodump; finish; }
[ -n "$url" ] || { fail "pg-start.sh printed no URL" nodump; finish; }
unset WHISKERS_DB
wq submit --db "$url" --tenant acme --boefje subdomain-wordlist --input-ooi 'Hostname|internet|example.org' --json
P=$(jqo '.[0].job')
worker --db "$url"
wq results --db "$url" --json
assert_eq "PostgreSQL: the boefje job and both normaliser jobs it made, all ok, with their kinds" \
        "boefje subdomain-wordlist ok|normaliser hostnames ok|normaliser wordlist-size ok" \
        "$(jqo '[.[] | "\(.kind) \(.normaliser) \(.outcome)"] | sort | join("|")')"
wq show --db "$url" --json "$P"
assert_eq "PostgreSQL: the boefje's raw file, routed" '["boefje/subdomain-wordlist","text/x-hostnames"]' \
        "$(jqo '.output.raw_files[0].mime_types | tostring')"
psql "$url" -qAtc "CREATE SCHEMA old" >/dev/null
old_store "$url?options=-csearch_path%3Dold" PostgreSQL
finish
