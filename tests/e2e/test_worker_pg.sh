#!/usr/bin/env bash
# End-to-end on PostgreSQL (a private server on loopback, started and
# stopped here by scripts/pg-start.sh / pg-stop.sh): several worker
# processes sharing one queue, a database that is down when the worker
# starts, a database restarted mid-run, and the chaos run: workers killed
# with SIGKILL at random and restarted, PostgreSQL crashed and restarted,
# and still every job ends exactly once in the results and reaches the sink
# (whose outbox lives in the store). And LISTEN/NOTIFY: a worker polling
# every 60 s runs a job submitted while it idles at once.
. "$(dirname "$0")/lib.sh"

SRC=${WH_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
        skip "PostgreSQL" "not installed (scripts/deps/queue.txt)"
        finish
fi
PGD=$(mktemp -d /tmp/wh-worker-pg.XXXXXX)
chmod 755 "$PGD"
on_exit "'$SRC/scripts/pg-stop.sh' '$PGD'"
# fsync=off: the chaos run crashes clients and the server, never the kernel.
url=$("$SRC/scripts/pg-start.sh" "$PGD" fsync=off) || { fail "pg-start.sh" nodump; finish; }

N=$T/normalisers
export WHISKERS_NORMALISERS=$N
OOI='Hostname|internet|example.org'

# make_norm ID CONSUMES BODY: a Python normaliser; BODY is run()'s.
make_norm() {
        local d=$N/$1
        mkdir -p "$d/schemas"
        cat >"$d/normalizer.json" <<EOF
{"id": "$1", "name": "$1", "version": "1.0.0", "consumes": [$2], "produces": ["Hostname"],
 "external_types": ["Network"], "runtime": "python3", "entrypoint": "normalize.py",
 "limits": {"wall_ms": 10000}}
EOF
        printf 'def run(input_ooi, raw):\n%s\n' "$3" >"$d/normalize.py"
        cat >"$d/schemas/Hostname.json" <<'EOF'
{"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
 "x-natural-key": ["network", "name"],
 "properties": {"object_type": {"const": "Hostname"}, "primary_key": {"type": "string"},
                "network": {"type": "string"},
                "name": {"type": "string"}},
 "required": ["object_type", "network", "name"], "additionalProperties": false}
EOF
}
make_norm hostnames '"text/plain"' '    for n in raw.decode().split():
        yield {"object_type": "Hostname", "network": "Network|internet", "name": n}'
make_norm nap '"x/nap"' '    import time
    time.sleep(0.2)
    yield {"object_type": "Hostname", "network": "Network|internet", "name": raw.decode().strip()}'

make_norm spy '"x/spy"' '    seen = []
    for p in ("/proc/1/cmdline", "/proc/1/environ", "/proc/self/environ"):
        try:
            seen.append(open(p, "rb").read().decode("latin-1").replace("\0", " "))
        except OSError as e:
            seen.append("%s: %s" % (p, e.strerror))
    yield {"object_type": "Hostname", "network": "Network|internet", "name": " | ".join(seen)}'

started() { WH_BG_PIDS+=("$1"); }
# db NAME: a fresh schema of its own; prints its URL.
db() {
        psql "$url" -qAtc "CREATE SCHEMA $1" >/dev/null || return 1
        echo "$url?options=-csearch_path%3D$1"
}
sql() { psql "$1" -qAtc "$2" 2>/dev/null; }
done_count() { "$WHISKERS" status --db "$1" --json 2>/dev/null | jq -r '.done // -1'; }
# wait_done URL N [SECONDS]: until N jobs are done.
wait_done() {
        for _ in $(seq $((${3:-30} * 10))); do
                [ "$(done_count "$1")" = "$2" ] && return 0
                sleep 0.1
        done
        return 1
}
# submit URL MIME COUNT: COUNT distinct one-line files, one job each.
submit() {
        local files=() i
        mkdir -p "$T/in"
        for i in $(seq "$3"); do
                printf 'h%s-%s.example\n' "$i" "$RANDOM" >"$T/in/$i"
                files+=("$T/in/$i")
        done
        "$WHISKERS" submit --db "$1" --tenant acme --mime "$2" --input-ooi "$OOI" \
                "${files[@]}" >/dev/null
}
# once URL N: N jobs, each with exactly one result, none dead.
once() {
        assert_eq "$1" "$3 $3 $3 0" "$(sql "$2" "SELECT (SELECT count(*) FROM results),
                (SELECT count(DISTINCT job_id) FROM results),
                (SELECT count(*) FROM jobs WHERE state = 2),
                (SELECT count(*) FROM dead_letter)" | tr '|' ' ')"
}

# ---- several workers on one queue ---------------------------------------------------
U=$(db multi)
submit "$U" text/plain 60
pids=()
for w in 1 2 3; do
        timeout -k 5 90 "$WHISKERS" worker --db "$U" --concurrency 2 --batch 4 --exit-when-idle --id "multi$w" \
                2>"$T/multi$w.log" &
        pids+=($!)
        started $!
done
rcs=""
for p in "${pids[@]}"; do wait "$p"; rcs+="$? "; done
assert_eq "three workers at once: all stop cleanly" "0 0 0 " "$rcs"
once "three workers: every job completed exactly once" "$U" 60
assert_eq "the results name the workers that made them" 60 \
        "$(sql "$U" "SELECT count(*) FROM results WHERE worker IN ('multi1','multi2','multi3')")"

# ---- the database is down when the worker starts -------------------------------------
U=$(db down)
submit "$U" text/plain 5
"$SRC/scripts/pg-stop.sh" --keep "$PGD"
timeout -k 5 90 "$WHISKERS" worker --db "$U" --exit-when-idle 2>"$T/down.log" &
wpid=$!
started $wpid
for _ in $(seq 50); do grep -q 'cannot reach the store' "$T/down.log" && break; sleep 0.1; done
assert_match "database down at start: the worker says so and waits" \
        'cannot reach the store, retrying' "$(cat "$T/down.log")"
"$SRC/scripts/pg-start.sh" "$PGD" >/dev/null
wait $wpid
assert_eq "... and works once the database is up" 0 $?
once "database down at start: every job once" "$U" 5

# ---- the database restarts in the middle of a run -------------------------------------
U=$(db restart)
submit "$U" x/nap 20
timeout -k 5 90 "$WHISKERS" worker --db "$U" --concurrency 2 --lease-ms 3000 --exit-when-idle \
        2>"$T/restart.log" &
wpid=$!
started $wpid
for _ in $(seq 100); do [ "$(done_count "$U")" -ge 2 ] && break; sleep 0.1; done
"$SRC/scripts/pg-stop.sh" --keep --immediate "$PGD"
sleep 1
"$SRC/scripts/pg-start.sh" "$PGD" >/dev/null
wait $wpid
assert_eq "database restarted mid-run: the worker rides it out" 0 $?
assert_match "... logging the failed store calls" 'failed, retrying in' "$(cat "$T/restart.log")"
once "database restarted mid-run: every job once" "$U" 20

# ---- the sandbox never sees the database's credentials ----------------------------------
# A normaliser reads what it can of its sandbox's init (a copy of the
# worker: its environment is not readable, and its command line shows only
# init's title, docs/sandbox.md) and of its own environment. The password
# must be in none of it.
U=$(db secrets)
password=$(cat "$PGD/password")
submit "$U" x/spy 1
timeout -k 5 90 "$WHISKERS" worker --db "$U" --exit-when-idle 2>"$T/spy1.log"
seen=$(sql "$U" "SELECT output FROM result_body")
assert_match "the normaliser reads init's title, not the worker's command line" \
        '"whiskers-init ' "$seen"
assert_true "... so --db in argv does not leak the URL, nor the password" \
        test "${seen/postgres:\/\//}" = "$seen" -a "${seen/$password/}" = "$seen"
submit "$U" x/spy 1
WHISKERS_DB=$U timeout -k 5 90 "$WHISKERS" worker --exit-when-idle 2>"$T/spy2.log"
seen=$(sql "$U" "SELECT output FROM result_body ORDER BY result_id DESC LIMIT 1")
assert_match "the environment of init is not readable from the sandbox" \
        '/proc/1/environ: Permission denied' "$seen"
assert_true "... so \$WHISKERS_DB does not leak the password either" \
        test "${seen/$password/}" = "$seen"

# ---- NOTIFY wakes an idle worker ----------------------------------------------------------
U=$(db notify)
"$WHISKERS" worker --db "$U" --poll-ms 60000 2>"$T/notify.log" &
wpid=$!
started $wpid
for _ in $(seq 100); do [ "$(sql "$U" "SELECT count(*) FROM workers")" = 1 ] && break; sleep 0.1; done
sleep 0.5 # its first claims found nothing: it idles, next poll in 60 s
submit "$U" text/plain 1
wait_done "$U" 1 20
assert_eq "NOTIFY: a worker polling every 60 s runs a job submitted while it idles" 1 \
        "$(done_count "$U")"
kill -TERM $wpid
wait $wpid
assert_eq "... and stops cleanly" 0 $?

# ---- chaos: kill -9 random workers, crash PostgreSQL; every job exactly once -------------
# The workers deliver to a sink as well: every result must reach it (at
# least once: a worker killed mid-POST delivers again after its lease).
SINK_PORT=$(free_port)
"$PYTHON" - "$SINK_PORT" "$T/chaos-sink.log" <<'EOF' &
import http.server, sys
port, log = int(sys.argv[1]), sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(log, "a") as f:
            f.write(self.headers.get("X-Whiskers-Job") + "\n")
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", port), H)
server.daemon_threads = True
server.serve_forever()
EOF
bg_started $!
U=$(db chaos)
JOBS=120
submit "$U" x/nap $JOBS
start_worker() {
        # --work-dir: what a killed worker leaves behind stays in $T.
        "$WHISKERS" worker --db "$U" --concurrency 2 --lease-ms 1500 --exit-when-idle \
                --sink "http://127.0.0.1:$SINK_PORT/" --sink-timeout-ms 1000 \
                --work-dir "$T" --id "chaos$1-$RANDOM" 2>>"$T/chaos$1.log" &
        cpid[$1]=$!
        started $!
}
declare -a cpid
for w in 1 2 3; do start_worker $w; done
kills=0
for round in $(seq 200); do
        [ "$(done_count "$U")" = $JOBS ] && break
        sleep 0.4
        if [ $((round % 2)) = 0 ] && [ $kills -lt 6 ]; then
                w=$((RANDOM % 3 + 1))
                kill -9 "${cpid[$w]}" 2>/dev/null && kills=$((kills + 1))
                wait "${cpid[$w]}" 2>/dev/null
                start_worker $w
        fi
        if [ "$round" = 6 ]; then
                "$SRC/scripts/pg-stop.sh" --keep --immediate "$PGD"
                sleep 0.5
                "$SRC/scripts/pg-start.sh" "$PGD" >/dev/null
        fi
done
# The survivors stop by themselves once the queue is empty; a worker that
# does not is a failure, not a hang.
alive() { [ -e "/proc/$1" ] && [ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" != Z ]; }
for w in 1 2 3; do
        for _ in $(seq 300); do alive "${cpid[$w]}" || break; sleep 0.1; done
        alive "${cpid[$w]}" && fail "chaos: worker $w did not stop" nodump && kill -9 "${cpid[$w]}"
        wait "${cpid[$w]}" 2>/dev/null
done
assert_true "chaos: workers were killed with SIGKILL during the run" test $kills -ge 3
once "chaos: every job completed exactly once (no loss, no double completion)" "$U" $JOBS
assert_eq "chaos: every result delivered, by the rows" "$JOBS" \
        "$(sql "$U" "SELECT count(*) FROM deliveries WHERE state = 2")"
assert_eq "chaos: ... and by the sink: every job reached it" "$JOBS" \
        "$(sort -un "$T/chaos-sink.log" | wc -l)"
assert_match "chaos: the killed workers' expired leases were reaped by the others" \
        'reaped [0-9]+ expired leases' "$(cat "$T"/chaos*.log)"
# A sandbox's init is a clone of its worker (same command line): none may
# outlive the worker, killed or not.
assert_eq "chaos: no worker or sandbox is left" "" "$(sandbox_procs '--id chaos')"

finish
