# shellcheck shell=bash
# worker_lib.sh: helpers the worker end-to-end tests share (source lib.sh
# first). Normalisers are made in $N, which the test sets (or worker_env).
#
#   worker_env          N=$T/normalisers, exported as WHISKERS_NORMALISERS; the
#                       input OOI in $OOI; a Hostname object, %s its name, in $HOST
#   make_norm ID CONSUMES BODY [LIMITS]   a Python normaliser; BODY is run()'s
#   make_hostnames ID   a normaliser of text/plain: a Hostname per word
#   submit_fresh DB NORMALISER TENANT...  one job of a fresh input per tenant
#   shows_of DB         every result's `show --json`, in job order
#   wq ARGS...          whiskers ARGS; out, err and RC for expect (lib.sh)
#   jqo FILTER          jq -r FILTER over the last output
#   status_of ARGS...   whiskers status --json ARGS
#   wait_for JQ-CONDITION [STATUS ARGS]   poll status until it holds (30 s)
#   started PID         a background process the test waits for itself; the
#                       final cleanup still kills it if the test fails first

make_norm() {
        local d=$N/$1
        mkdir -p "$d/schemas"
        cat >"$d/normalizer.json" <<EOF
{"id": "$1", "name": "$1", "version": "1.0.0", "consumes": [$2], "produces": ["Hostname"],
 "external_types": ["Network"], "runtime": "python3", "entrypoint": "normalize.py",
 "limits": ${4:-{\"wall_ms\": 10000\}}}
EOF
        printf 'def run(input_ooi, raw):\n%s\n' "$3" >"$d/normalize.py"
        cat >"$d/schemas/Hostname.json" <<'EOF'
{"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
 "x-natural-key": ["network", "name"],
 "properties": {"object_type": {"const": "Hostname"}, "primary_key": {"type": "string"},
                "network": {"type": "string", "x-reference": ["Network"]},
                "name": {"type": "string", "maxLength": 253}},
 "required": ["object_type", "network", "name"], "additionalProperties": false}
EOF
}

worker_env() {
        N=$T/normalisers
        OOI='Hostname|internet|example.org'
        HOST='{"object_type": "Hostname", "network": "Network|internet", "name": %s}'
        export WHISKERS_NORMALISERS=$N
}

make_hostnames() {
        make_norm "$1" '"text/plain"' "    for n in raw.decode().split():
        yield $(printf "$HOST" n)"
}

job_n=0
submit_fresh() {
        local db=$1 norm=$2 t
        shift 2
        for t in "$@"; do
                job_n=$((job_n + 1))
                printf 'h%d.example.org\n' $job_n >"$T/in$job_n.txt"
                "$WHISKERS" submit --db "$db" --tenant "$t" --normaliser "$norm" \
                        --input-ooi "$OOI" "$T/in$job_n.txt" >/dev/null || return 1
        done
}

shows_of() {
        local id
        for id in $("$WHISKERS" results --db "$1" --json | jq -r 'sort_by(.job_id)[].job_id'); do
                "$WHISKERS" show --db "$1" --json "$id"
        done
}

started() { WH_BG_PIDS+=("$1"); }
wq() { wh_run_raw "$@"; }
jqo() { jq -r "$1" "$T/out" 2>/dev/null; }
status_of() { "$WHISKERS" status --json "$@" 2>/dev/null; }
wait_for() {
        local cond=$1
        shift
        for _ in $(seq 300); do
                status_of "$@" | jq -e "$cond" >/dev/null && return 0
                sleep 0.1
        done
        return 1
}
