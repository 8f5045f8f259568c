#!/usr/bin/env bash
# whiskers run against hostile output and broken normalisers: each case ends
# in a precise error (code, line) in the run report and the right exit code;
# the runner never crashes, hangs or grows without bound.
. "$(dirname "$0")/lib.sh"

LIMITS=()
can_enforce_cgroups || LIMITS=(--allow-unenforced-limits)

# A normaliser whose raw file is the shell script it runs: each case is a raw.
N=$T/rawsh
mkdir -p "$N/schemas"
cat >"$N/normalizer.json" <<'EOF'
{"id": "rawsh", "version": "1", "consumes": ["text/x-sh"], "produces": ["Hostname"],
 "external_types": ["Network"], "runtime": "exec", "entrypoint": "run.sh",
 "limits": {"wall_ms": 10000, "output_limit": "4M"}}
EOF
printf '#!/bin/sh\nexec /bin/sh /input/raw\n' >"$N/run.sh"
chmod +x "$N/run.sh"
cat >"$N/schemas/Hostname.json" <<'EOF'
{"type": "object", "x-natural-key": ["network", "name"],
 "properties": {"object_type": {"const": "Hostname"},
   "network": {"type": "string", "x-reference": ["Network"]}, "name": {"type": "string"}},
 "required": ["network", "name"], "additionalProperties": false}
EOF
HOST='{"object_type":"Hostname","network":"Network|internet","name":"a.example"}'

# case NAME SCRIPT [RUN OPTIONS...]: run the script as the raw file, --json.
case_run() {
        local name=$1 script=$2
        shift 2
        printf '%s\n' "$script" >"$T/raw.$name"
        wh_run_raw run --json "${LIMITS[@]}" "$@" "$N" "$T/raw.$name" \
                --input-ooi 'Hostname|internet|in.example'
}
# errs: "code@line" of every error, space-separated
errs() { jq -r '[.errors[] | "\(.code)@\(.line // 0)"] | join(" ")' "$T/out" 2>/dev/null; }
j() { jq -r "$1" "$T/out" 2>/dev/null; }
not_crashed() {
        if [ "$RC" -ge 124 ]; then fail "$1: whiskers crashed or hung (exit $RC)"; else pass "$1: no crash"; fi
}

case_run nonjson "echo 'this is not JSON'; echo '$HOST'"
expect "non-JSON line: invalid_json on line 1, exit 1" rc=1
assert_eq "non-JSON line: the error list" "invalid_json@1" "$(errs)"
assert_eq "non-JSON line: the item is quoted, valid lines kept" "this is not JSON 1" \
        "$(j '.errors[0].item') $(j '.results.observations[0].results|length')"
assert_match "non-JSON line: jansson's reason and column" "not JSON: .*column" "$(j '.errors[0].message')"

case_run truncated "printf '%s\n{\"object_type\": \"Hostn' '$HOST'"
assert_eq "truncated last line: truncated on line 2" "truncated@2" "$(errs)"

case_run bignum "echo '{\"object_type\":\"Hostname\",\"n\":123456789012345678901234567890}'; echo '{\"x\": 1e400}'"
assert_eq "huge numbers: number_out_of_range on both lines" \
        "number_out_of_range@1 number_out_of_range@2" "$(errs)"

case_run utf8 "printf '{\"object_type\":\"Hostname\",\"network\":\"Network|internet\",\"name\":\"\\377\\376\"}\n'"
assert_eq "invalid UTF-8: invalid_utf8" "invalid_utf8@1" "$(errs)"
assert_eq "invalid UTF-8: the quoted item is valid UTF-8 (U+FFFD)" "1" \
        "$(j '.errors[0].item' | grep -c $'\xef\xbf\xbd')"

case_run deep "/usr/bin/python3 -c 'print(\"[\" * 10000 + \"]\" * 10000)'"
assert_eq "10 000-deep nesting: too_deep" "too_deep@1" "$(errs)"
assert_match "10 000-deep nesting: names the limit" 'deeper than 64 levels \(limit "depth"\)' \
        "$(j '.errors[0].message')"

START=$(date +%s)
case_run flood "head -c 1073741824 /dev/zero | tr '\\000' x"
expect "1 GB of output: output_limit, exit 3" rc=3
assert_eq "1 GB of output: status and the first error" "output_limit output_limit@0" \
        "$(j .status.status) $(j '.errors[0].code')@$(j '.errors[0].line // 0')"
assert_eq "1 GB of output: at most the limit was read" "4194304" "$(j .provenance.output.stdout.bytes)"
assert_true "1 GB of output: stopped early (< 20 s)" [ $(($(date +%s) - START)) -lt 20 ]
if [ -x /usr/bin/time ]; then
        # Valid items are kept for the results: their number is bounded by
        # "items" (default 100 000); the run is stopped at the next one.
        printf 'while :; do echo '"'%s'"'; done\n' "$HOST" >"$T/raw.flood2"
        /usr/bin/time -f %M -o "$T/rss" "$WHISKERS" run --json "${LIMITS[@]}" --output-limit 16M \
                "$N" "$T/raw.flood2" --input-ooi 'Hostname|internet|in.example' >"$T/out" 2>/dev/null
        rss=$(tail -1 "$T/rss")
        max=307200
        ldd "$WHISKERS" | grep -q libasan && max=$((max * 3)) # redzones and quarantine
        assert_eq "valid items for ever: stopped at item 100 001, 100 000 kept, too_many_items" \
                "sandbox_error output 100000 stopped_early too_many_items@100001" \
                "$(j .status.status) $(j .status.stage) $(j '.results.observations[0].results|length') $(j '.errors[0].code') $(j '.errors[1].code')@$(j '.errors[1].line')"
        assert_true "valid items for ever: whiskers' own peak RSS under $((max / 1024)) MB (${rss} KB)" \
                [ "$rss" -lt "$max" ]
else
        skip "peak RSS" "/usr/bin/time is not installed"
fi

case_run longline "/usr/bin/python3 -c 'print(\"{\\\"a\\\": \\\"\" + \"x\" * 3000000 + \"\\\"}\")'; echo '$HOST'"
assert_eq "a 3 MB item: item_too_large, the next line still read" "item_too_large@1 1" \
        "$(errs) $(j '.results.observations[0].results|length')"

case_run undeclared "echo '{\"object_type\":\"IPAddressV4\",\"address\":\"1.2.3.4\"}'"
assert_eq "undeclared type: undeclared_type" "undeclared_type@1" "$(errs)"
assert_match "undeclared type: says what to do" "not in \"produces\"" "$(j '.errors[0].message')"

case_run schemafail "echo '{\"object_type\":\"Hostname\",\"network\":\"Network|internet\",\"name\":7}'"
assert_eq "schema violation: schema error with paths" "schema@1 /name" \
        "$(errs) $(j '.errors[0].instance_path')"
assert_match "schema violation: the schema location" "schemas/Hostname.json#/properties/name/type$" \
        "$(j '.errors[0].schema_path')"

case_run dangling "echo '{\"object_type\":\"Hostname\",\"network\":\"Netwerk|internet\",\"name\":\"x\"}'"
assert_eq "reference to a wrong type: bad_reference" "bad_reference@1" "$(errs)"

case_run nothing "true"
expect "prints nothing: ok with a warning, exit 0" rc=0
assert_eq "prints nothing: no_output warning, empty results" "no_output 0" \
        "$(j '[.warnings[].code]|join(",")') $(j '.results.observations|length')"

case_run garbage "echo garbage; echo more garbage; exit 0"
expect "exit 0 after garbage: still a failure" rc=1
assert_eq "exit 0 after garbage: status ok, two invalid_json errors" "ok invalid_json@1 invalid_json@2" \
        "$(j .status.status) $(errs)"

case_run exit3 "echo '$HOST'; echo 'why' >&2; exit 3"
assert_eq "exit 3: exit_nonzero with stderr" "exit_nonzero@0 why" "$(errs) $(j .stderr.text)"

case_run many "i=0; while [ \$i -lt 30 ]; do echo '$HOST'; i=\$((i+1)); done" --items 10
assert_eq "30 items, limit 10: stopped at line 11 (too_many_items), 10 kept" \
        "stopped_early@0 too_many_items@11 10" "$(errs) $(j '.results.observations[0].results|length')"

# Checked while it runs: 200 000 items and then 30 s of sleep, stopped at
# the 11th item. Not a timeout: the output check stopped it.
case_run items200k "yes '$HOST' | head -n 200000; sleep 30" --items 10
assert_eq "200 000 items, limit 10: stopped by the output check, not the clock" \
        "sandbox_error output stopped_early@0 too_many_items@11 10 11" \
        "$(j .status.status) $(j .status.stage) $(errs) $(j '.results.observations[0].results|length') $(j .provenance.output.items)"
assert_match "200 000 items, limit 10: the report says why" 'stopped while running: more than 10 items \(limit "items"\)' \
        "$(j '.errors[0].message')"
assert_true "200 000 items, limit 10: wall time far below the 10 s limit ($(j .status.wall_ms) ms)" \
        [ "$(j .status.wall_ms)" -lt 5000 ]
expect "200 000 items, limit 10: exit 1 (the output broke the contract; the host did not fail)" rc=1
case_run garbage4ever "yes garbage" --max-errors 3
expect "garbage for ever: exit 1" rc=1
assert_eq "garbage for ever, --max-errors 3: stopped after 3000 errors, 3 listed" \
        "sandbox_error output stopped_early@0 invalid_json@1 2997" \
        "$(j .status.status) $(j .status.stage) $(j '.errors[0].code')@0 $(j '.errors[1].code')@$(j '.errors[1].line') $(j .errors_not_listed)"

case_run junk "i=0; while [ \$i -lt 150 ]; do echo '{}'; i=\$((i+1)); done"
assert_eq "150 bad lines: 100 listed, 50 counted" "100 50 unknown_item@100" \
        "$(j '.errors|length') $(j .errors_not_listed) $(jq -r '.errors[99] | "\(.code)@\(.line)"' "$T/out")"

case_run sleeper "sleep 60" --wall-ms 500
expect "a sleeping normaliser: timeout_wall, exit 3" rc=3
assert_eq "a sleeping normaliser: the error" "timeout_wall@0" "$(errs)"
not_crashed "every bad-output case"

# ---- Python runtime: an exception becomes an error item with its traceback.
P=$T/rawpy
mkdir -p "$P/schemas"
sed 's/"rawsh"/"rawpy"/; s/"exec"/"python3"/; s/run.sh/normalize.py/' "$N/normalizer.json" >"$P/normalizer.json"
cp "$N/schemas/Hostname.json" "$P/schemas/"
cat >"$P/normalize.py" <<'EOF'
def run(input_ooi, raw):
    g = {}
    exec(raw.decode(), g)
    yield from g["items"]()
EOF
py_case() {
        printf '%s\n' "$2" >"$T/raw.$1"
        wh_run_raw run --json "${LIMITS[@]}" "$P" "$T/raw.$1" --input-ooi 'Hostname|internet|in.example'
}
py_case exception $'def items():\n    yield {"object_type": "Hostname", "network": "Network|internet", "name": "a"}\n    raise ValueError("boom")'
expect "Python exception: exit 1" rc=1
assert_eq "Python exception: exit_nonzero and normaliser_error after the one item" \
        "exit_nonzero@0 normaliser_error@3 1" "$(errs) $(j '.results.observations[0].results|length')"
assert_match "Python exception: message and traceback" "ValueError: boom.*" \
        "$(j '.errors[1].message') $(j '.errors[1].detail' | tail -1)"
py_case bytes $'def items():\n    yield {"object_type": "Hostname", "network": "Network|internet", "name": b"x"}'
assert_match "bytes in an item: a structured error, not a crash" \
        "output: TypeError: Object of type bytes is not JSON serializable \(item 1\)" "$(j '.errors[1].message')"
py_case notdict $'def items():\n    yield ["not", "a", "dict"]'
assert_match "a list instead of a dict: InvalidItem" "yielded a list, not a dict" "$(j '.errors[1].message')"
py_case import $'import requests\ndef items():\n    yield {}'
assert_match "host packages are not there: ModuleNotFoundError" "ModuleNotFoundError" "$(j '.errors[1].message')"

# ---- Manifests and schemas that cannot load: exit 2, nothing runs.
load_case() {
        local desc=$1 want=$2
        wh_run_raw run "${LIMITS[@]}" "$T/broken" "$T/raw.nothing"
        expect "$desc: exit 2" rc=2 "err~$want"
}
rm -rf "$T/broken"
cp -r "$N" "$T/broken"
jq 'del(.produces)' "$N/normalizer.json" >"$T/broken/normalizer.json"
load_case "manifest without produces" 'field "produces" is required'
jq '.version = 2' "$N/normalizer.json" >"$T/broken/normalizer.json"
load_case "manifest with a numeric version" 'field "version" must be a non-empty string'
jq '.limits.wall_ms = "soon"' "$N/normalizer.json" >"$T/broken/normalizer.json"
load_case "manifest with a string wall_ms" '"limits.wall_ms" must be a positive integer'
echo '{"id": ' >"$T/broken/normalizer.json"
load_case "manifest that is not JSON" 'not valid JSON'
cp "$N/normalizer.json" "$T/broken/"
echo '{"$ref": "#"}' >"$T/broken/schemas/Hostname.json"
load_case "schema with a \$ref cycle" 'schema of Hostname: .*'
echo '{"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"}' \
        >"$T/broken/schemas/Hostname.json"
load_case "schema with a two-step \$ref cycle" 'schema of Hostname'
echo '{"type": "object", "requried": ["name"]}' >"$T/broken/schemas/Hostname.json"
load_case "schema with an unknown keyword" "unknown keyword 'requried'"
rm "$T/broken/schemas/Hostname.json"
load_case "no schema for a produced type" 'produces "Hostname" but there is no schema'
finish
