#!/usr/bin/env bash
# End-to-end: the HTTP sink and the store's outbox with the CLI, SQLite and a
# real sandboxed normaliser. A sink answering 500 twice then 200 (one
# successful delivery, the rows say three attempts); a sink answering 500
# forever (the delivery fails after the cap, stays visible in `results
# --undelivered` and `status`, `results --redeliver` queues it again and a
# worker delivers it); a sink that is down (connection refused) likewise; a
# worker SIGKILLed while its POST is in flight (the next worker delivers:
# nothing lost).
. "$(dirname "$0")/lib.sh"

N=$T/normalisers
export WHISKERS_NORMALISERS=$N
OOI='Hostname|internet|example.org'
mkdir -p "$N/hostnames/schemas"
cat >"$N/hostnames/normalizer.json" <<'EOF'
{"id": "hostnames", "name": "hostnames", "version": "1.0.0", "consumes": ["text/plain"],
 "produces": ["Hostname"], "external_types": ["Network"], "runtime": "python3",
 "entrypoint": "normalize.py", "limits": {"wall_ms": 10000}}
EOF
cat >"$N/hostnames/normalize.py" <<'EOF'
def run(input_ooi, raw):
    for n in raw.decode().split():
        yield {"object_type": "Hostname", "network": "Network|internet", "name": n}
EOF
cat >"$N/hostnames/schemas/Hostname.json" <<'EOF'
{"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
 "x-natural-key": ["network", "name"],
 "properties": {"object_type": {"const": "Hostname"}, "primary_key": {"type": "string"},
                "network": {"type": "string"},
                "name": {"type": "string"}},
 "required": ["object_type", "network", "name"], "additionalProperties": false}
EOF
C=$T/c.txt
printf 'sink.example.org\n' >"$C"

wq() { wh_run_raw "$@"; } # lib.sh: out, err and RC for expect
jqo() { jq -r "$1" "$T/out" 2>/dev/null; }

# sink PORT MODE LOG: MODE n answers 500 n times (-1: forever), then 200;
# MODE hang: the first request never gets an answer, later ones 200.
sink() {
        "$PYTHON" - "$@" <<'EOF' &
import http.server, json, sys, time
port, mode, log = int(sys.argv[1]), sys.argv[2], sys.argv[3]
seen = 0
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        global seen
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        seen += 1
        if mode == "hang":
            code = 0 if seen == 1 else 200
        else:
            fails = int(mode)
            code = 500 if fails < 0 or seen <= fails else 200
        with open(log, "a") as f:
            f.write(json.dumps({"path": self.path, "code": code, "body": body.decode(),
                                "job": self.headers.get("X-Whiskers-Job"),
                                "tenant": self.headers.get("X-Whiskers-Tenant"),
                                "kind": self.headers.get("X-Whiskers-Kind"),
                                "type": self.headers.get("Content-Type")}) + "\n")
        if code == 0:
            time.sleep(120)
            return
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", port), H)
server.daemon_threads = True
open(log + ".ready", "w").close()
server.serve_forever()
EOF
        bg_started $!
        for _ in $(seq 50); do [ -e "$3.ready" ] && return; sleep 0.1; done
}
worker() { timeout -k 5 90 "$WHISKERS" worker --exit-when-idle --sink-backoff-ms 20 "$@"; }

# ---- 500 twice, then 200 --------------------------------------------------------------
port=$(free_port)
sink "$port" 2 "$T/sink1.log"
D1=sqlite://$T/sink1.db
wq submit --db "$D1" --tenant acme --normaliser hostnames --input-ooi "$OOI" "$C"
worker --db "$D1" --sink "http://127.0.0.1:$port/{tenant}/results" 2>"$T/worker1.log"
wq show --db "$D1" --json 1
assert_eq "500 twice, then delivered on the third attempt; the row says so" \
        "done delivered 3 200 null" \
        "$(jqo '"\(.state) \(.delivery.state) \(.delivery.attempts) \(.delivery.http_status) \(.delivery.last_error)"')"
assert_eq "three requests, to the tenant's URL, JSON; exactly one answered 200" \
        "/acme/results:500 /acme/results:500 /acme/results:200" \
        "$(jq -r '"\(.path):\(.code)"' "$T/sink1.log" | tr '\n' ' ' | sed 's/ $//')"
assert_eq "the body is the NormalizerResults, with the job's headers" "sink.example.org 1 acme normaliser" \
        "$(tail -n1 "$T/sink1.log" | jq -r '"\(.body | fromjson | .observations[0].results[0].name) \(.job) \(.tenant) \(.kind)"')"
wq results --db "$D1" --undelivered
expect "nothing left undelivered" rc=0
assert_eq "... the listing is empty" "" "$(cat "$T/out")"

# ---- 500 forever: failed, kept, re-queued by the operator, delivered ------------------
port=$(free_port)
sink "$port" -1 "$T/sink2.log"
D2=sqlite://$T/sink2.db
wq submit --db "$D2" --tenant acme --normaliser hostnames --input-ooi "$OOI" "$C"
worker --db "$D2" --sink-attempts 3 --sink "http://127.0.0.1:$port/" 2>"$T/worker2.log"
expect "the worker stops cleanly (exit-when-idle) although the sink never took it" rc=0
wq show --db "$D2" --json 1
assert_eq "the result is stored; its delivery failed after 3 attempts" \
        "done ok failed 3 500 the sink answered HTTP 500" \
        "$(jqo '"\(.state) \(.result.outcome) \(.delivery.state) \(.delivery.attempts) \(.delivery.http_status) \(.delivery.last_error)"')"
assert_eq "exactly the configured attempts" 3 "$(wc -l <"$T/sink2.log")"
assert_match "the worker logs the failed delivery and what to do" \
        'not delivered to the sink after 3 attempts.*--redeliver' "$(cat "$T/worker2.log")"
wq status --db "$D2" --json
assert_eq "status shows it as failed, none pending" "0 1" \
        "$(jqo '"\(.deliveries.pending) \(.deliveries.failed)"')"
wq results --db "$D2" --undelivered --json
assert_eq "results --undelivered lists it" "1 failed 3 500" \
        "$(jqo '.[] | "\(.job_id) \(.state) \(.attempts) \(.http_status)"')"
wq results --db "$D2" --redeliver --tenant other
assert_eq "--redeliver for another tenant touches nothing" \
        "0 failed deliveries queued again" "$(cat "$T/out")"
wq results --db "$D2" --redeliver --job 1
expect "the operator re-queues it" rc=0 "out~1 failed deliveries queued again"
port2=$(free_port)
sink "$port2" 0 "$T/sink3.log"
worker --db "$D2" --sink "http://127.0.0.1:$port2/" 2>"$T/worker3.log"
wq show --db "$D2" --json 1
assert_eq "the sink is back: delivered on the first attempt after the re-queue" \
        "delivered 1 200 1" "$(jqo '"\(.delivery.state) \(.delivery.attempts) \(.delivery.http_status) \(.attempt)"')"
assert_eq "one request to the new sink" 1 "$(wc -l <"$T/sink3.log")"

# ---- a sink that is down ----------------------------------------------------------------
D3=sqlite://$T/sink4.db
wq submit --db "$D3" --tenant acme --normaliser hostnames --input-ooi "$OOI" "$C"
worker --db "$D3" --sink-attempts 2 --sink "http://127.0.0.1:$(free_port)/" 2>"$T/worker4.log"
wq show --db "$D3" --json 1
assert_match "a sink that refuses connections: failed with the network error" \
        'failed 2 null .*(onnect|refused)' \
        "$(jqo '"\(.delivery.state) \(.delivery.attempts) \(.delivery.http_status) \(.delivery.last_error)"')"

# ---- SIGKILL while the POST is in flight ------------------------------------------------
port=$(free_port)
sink "$port" hang "$T/sink5.log"
D4=sqlite://$T/sink5.db
wq submit --db "$D4" --tenant acme --normaliser hostnames --input-ooi "$OOI" "$C"
"$WHISKERS" worker --db "$D4" --sink-timeout-ms 1500 --sink "http://127.0.0.1:$port/" \
        2>"$T/worker5.log" &
wpid=$!
bg_started $wpid
for _ in $(seq 300); do [ -s "$T/sink5.log" ] && break; sleep 0.1; done
kill -9 $wpid
assert_eq "the sink got the request, then the worker died" 1 "$(wc -l <"$T/sink5.log")"
wq show --db "$D4" --json 1
assert_eq "the result is stored, its delivery still pending" "done pending 1" \
        "$(jqo '"\(.state) \(.delivery.state) \(.delivery.attempts)"')"
# The claim's lease (timeout + 2 s) ends; the next worker delivers it.
worker --db "$D4" --sink "http://127.0.0.1:$port/" 2>"$T/worker6.log"
wq show --db "$D4" --json 1
assert_eq "the next worker delivered it: nothing lost" "delivered 2 200" \
        "$(jqo '"\(.delivery.state) \(.delivery.attempts) \(.delivery.http_status)"')"
assert_eq "two requests for job 1, the second answered" "1:0 1:200" \
        "$(jq -r '"\(.job):\(.code)"' "$T/sink5.log" | tr '\n' ' ' | sed 's/ $//')"

finish
