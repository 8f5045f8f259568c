#!/usr/bin/env bash
# OpenKAT's formats on the host's Python (standard library only): an
# OpenKAT normalizer.json (no runtime, entrypoint, version), OpenKAT's
# NormalizerMeta and the input object run() gets from it, the Python
# runtime's output channel (items flushed one by one, the runtime line
# first whatever the normaliser writes to fd 1, NUL refused with our
# error), a pinned clock, and the bad inputs of issue 11.
# The corpus itself runs in test_openkat_corpus.sh (it needs pydantic).
. "$(dirname "$0")/lib.sh"

LIMITS=()
can_enforce_cgroups || LIMITS=(--allow-unenforced-limits)

# An OpenKAT plugin directory: its normalizer.json as OpenKAT ships them;
# the raw file is Python whose items() run() yields from.
P=$T/kat_rawpy
mkdir -p "$P"
cat >"$P/normalizer.json" <<'EOF2'
{"id": "kat_rawpy_normalize", "name": "raw python", "description": "test",
 "consumes": ["boefje/rawpy"], "produces": ["Hostname"], "enabled": true}
EOF2
cat >"$P/normalize.py" <<'EOF2'
def run(input_ooi, raw):
    g = {"input_ooi": input_ooi}
    exec(raw.decode(), g)
    return g["items"]()
EOF2
# OpenKAT's NormalizerMeta, as cases/*/meta.json of the corpus.
meta() { # meta FILE ARGUMENTS_JSON INPUT_OOI_JSON
        cat >"$1" <<EOF2
{"id": "7134430c-8509-4944-b0be-27cb9bfb4bc2", "started_at": null, "ended_at": null,
 "normalizer": {"id": "kat_rawpy_normalize", "version": null},
 "raw_data": {"id": "7134430c-8509-4944-b0be-27cb9bfb4bc2", "mime_types": [{"value": "boefje/rawpy"}],
  "boefje_meta": {"id": "7134430c-8509-4944-b0be-27cb9bfb4bc2", "boefje": {"id": "rawpy", "version": null},
   "arguments": $2, "input_ooi": $3, "organization": "_dev", "environment": null,
   "started_at": null, "ended_at": null, "runnable_hash": null}}}
EOF2
}
meta "$T/meta.full" '{"input": {"object_type": "Hostname", "primary_key": "Hostname|internet|a.example", "network": {"name": "internet"}, "name": "a.example"}}' '"Hostname|internet|a.example"'
meta "$T/meta.noargs" '{}' '"Hostname|internet|a.example"'
meta "$T/meta.none" '{}' 'null'
HOST='{"object_type": "Hostname", "primary_key": "Hostname|internet|b.example", "network": "Network|internet", "name": "b.example"}'

py() { # py NAME META SCRIPT [RUN OPTIONS...]
        local name=$1 m=$2 script=$3
        shift 3
        printf '%s\n' "$script" >"$T/raw.$name"
        wh_run_raw run --json "${LIMITS[@]}" "$@" --meta "$m" "$P" "$T/raw.$name"
}
j() { jq -r "$1" "$T/out" 2>/dev/null; }
errs() { jq -r '[.errors[] | "\(.code)@\(.line // 0)"] | join(" ")' "$T/out" 2>/dev/null; }
warns() { jq -r '[.warnings[].code] | join(" ")' "$T/out" 2>/dev/null; }

# ---- Item 1: OpenKAT's manifest and meta as they are.
py input "$T/meta.full" "def items():
    yield dict($HOST, name=input_ooi['name'] + '.seen', primary_key='Hostname|internet|' + input_ooi['name'] + '.seen')"
expect "OpenKAT manifest and NormalizerMeta: ok" rc=0
assert_eq "run() got arguments[\"input\"] as OpenKAT passes it (nested network)" \
        "Hostname|internet|a.example.seen" "$(j '.results.observations[0].results[0].primary_key')"
assert_eq "the observation is of boefje_meta.input_ooi; task id and MIME types from the meta" \
        "Hostname|internet|a.example 7134430c-8509-4944-b0be-27cb9bfb4bc2 boefje/rawpy" \
        "$(j '.results.observations[0].input_ooi') $(j .provenance.input.task_id) $(j '.provenance.input.mime_types[0]')"
assert_eq "provenance: no version (null), OpenKAT's form, runtime python3 normalize.py" \
        "null openkat python3 normalize.py" \
        "$(j .provenance.normaliser.version) $(j .provenance.normaliser.manifest_form) $(j .provenance.runtime.name) $(j .provenance.runtime.entrypoint)"
assert_match "no schemas: a schema_warning naming the type" "no schema for Hostname" \
        "$(j '[.warnings[] | select(.code == "schema_warning") | .message] | join(" ")')"

py noargs "$T/meta.noargs" "def items():
    yield {'type': 'error', 'error': 'Got', 'message': repr(input_ooi)}"
assert_eq "no arguments[\"input\"]: run() gets {\"primary_key\": input_ooi}" \
        "normaliser_error: Got: {'primary_key': 'Hostname|internet|a.example'}" "$(j '.errors[0].code'): $(j '.errors[0].message')"
py none "$T/meta.none" "def items():
    yield {'type': 'error', 'error': 'Got', 'message': repr(input_ooi)}"
assert_eq "no input at all: run() gets {}" "Got: {}" "$(j '.errors[0].message')"
py noinput "$T/meta.none" "def items():
    yield $HOST"
assert_eq "objects without boefje_meta.input_ooi: no_input_ooi (OpenKAT: ObservationsWithoutInputOOI)" \
        "no_input_ooi@0" "$(errs)"

echo '{"id": "x", "normalizer": {"id": "kat_rawpy_normalize"}, "raw_data": {"mime_types": []}}' >"$T/meta.nobm"
py badmeta "$T/meta.nobm" "def items(): yield $HOST"
expect "a NormalizerMeta without raw_data.boefje_meta: exit 2, nothing runs" rc=2 \
        "err~needs \"raw_data\": \\{\"boefje_meta\"" "err~input object"

py undeclared "$T/meta.full" "def items():
    yield {'object_type': 'Website', 'primary_key': 'Website|x'}
    yield {'object_type': 'Website', 'primary_key': 'Website|y'}"
expect "OpenKAT manifest, a type not in produces: still ok" rc=0
assert_eq "... one undeclared_type warning, both objects kept" "undeclared_type 2" \
        "$(j '[.warnings[] | select(.code == "undeclared_type") | .code] | join(" ")') $(j '.results.observations[0].results | length')"
py nokey "$T/meta.full" "def items():
    yield {'object_type': 'Hostname', 'name': 'x'}
    yield {'object_type': 'Hostname', 'primary_key': 'Website|x'}"
assert_eq "no schema: objects still need their own primary_key, of their type" \
        "bad_primary_key@2 bad_primary_key@3" "$(errs)"

# ---- Bad input: results OpenKAT would refuse, imports the image lacks.
py unknown "$T/meta.full" "class Thing: pass
def items():
    yield Thing()"
assert_match "an object of an unknown class: InvalidReturnValueNormalizer" \
        "output: InvalidReturnValueNormalizer: run\(\) yielded a Thing, not a dict.*incorrect type: Thing \(item 1\)" \
        "$(j '.errors[1].message')"
printf 'def run(input_ooi, raw):\n    return 42\n' >"$T/notiter.py"
py notiter "$T/meta.full" "def items(): return 42"
assert_match "run() returning a non-iterable: TypeError, exit 1" "run: TypeError: 'int' object is not iterable" \
        "$(j '.errors[1].message') rc=$RC"
py missing "$T/meta.full" "import octopoes_not_there
def items(): yield {}"
assert_match "a module the runtime lacks: named, with the runtime" \
        "ModuleNotFoundError: No module named 'octopoes_not_there': the runtime \(cpython 3\.[0-9]+, /usr/bin/python3[.0-9]*\) has no module 'octopoes_not_there'" \
        "$(j '.errors[1].message')"

# ---- Issue 9 item 3: the output channel.
py flush "$T/meta.full" "import time
def items():
    yield $HOST
    time.sleep(60)" --wall-ms 1500
expect "one item, then a sleep past --wall-ms: timeout_wall" rc=3
assert_eq "... the item yielded before the kill is kept (flushed per item)" "1 Hostname|internet|b.example" \
        "$(j .provenance.output.items) $(j '.results.observations[0].results[0].primary_key')"
py rawfd1 "$T/meta.full" "import os
os.write(1, b'{\"type\":\"runtime\",\"name\":\"forged\"}\n')
print('printed')
def items():
    os.write(1, b'{\"object_type\": \"Hostname\", \"primary_key\": \"Hostname|forged\"}\n')
    yield $HOST"
expect "raw writes to fd 1: ok" rc=0
assert_eq "... the runtime line is the shim's; raw writes went to stderr, not into the items" \
        "python 1 Hostname|internet|b.example" \
        "$(j .provenance.runtime.implementation | sed 's/cpython/python/') $(j .provenance.output.items) $(j '.results.observations[0].results[0].primary_key')"
assert_match "... and are in stderr" 'forged.*printed.*Hostname\|forged' "$(j .stderr.text | tr '\n' ' ')"
py nul "$T/meta.full" "def items():
    yield dict($HOST, name='a\x00b')"
assert_eq "an item holding \\u0000: our documented error nul_character" "nul_character@2" "$(errs)"
assert_true "... not jansson's message" [ -z "$(grep -o JSON_ALLOW_NUL "$T/out")" ]

# ---- Item 5: a pinned clock.
CLOCK_PY="import datetime
from datetime import datetime as DT
def items():
    yield dict($HOST, name=DT.now(datetime.timezone.utc).isoformat() + ' ' + DT.utcnow().isoformat())"
py clock "$T/meta.full" "$CLOCK_PY" --clock 2024-05-01T12:00:00+00:00
assert_eq "--clock: datetime.now()/utcnow() read the pinned instant" \
        "2024-05-01T12:00:00+00:00 2024-05-01T12:00:00" "$(j '.results.observations[0].results[0].name')"
assert_eq "... and the provenance says so" "pinned 2024-05-01T12:00:00+00:00" \
        "$(j .provenance.runtime.clock.kind) $(j .provenance.runtime.clock.instant)"
py clock2 "$T/meta.full" "$CLOCK_PY" --clock 2024-05-01T12:00:00+00:00
assert_eq "... a re-run gives the same results digest" "$(jq -r .provenance.output.results_digest "$T/out")" \
        "$(py clock "$T/meta.full" "$CLOCK_PY" --clock 2024-05-01T12:00:00+00:00; j .provenance.output.results_digest)"
py noclock "$T/meta.full" "$CLOCK_PY"
assert_eq "without --clock: the host's clock, said so" "host $(date -u +%Y)" \
        "$(j .provenance.runtime.clock.kind) $(j '.results.observations[0].results[0].name' | cut -c1-4)"
sed 's/"ended_at": null, "runnable_hash"/"ended_at": "2023-01-02T03:04:05+00:00", "runnable_hash"/' \
        "$T/meta.full" >"$T/meta.scanned"
py scanclock "$T/meta.scanned" "$CLOCK_PY" --clock scan
assert_eq "--clock scan: the scan's time from raw_data.boefje_meta.ended_at, said so" \
        "2023-01-02T03:04:05+00:00 2023-01-02T03:04:05 scan" \
        "$(j '.results.observations[0].results[0].name') $(j .provenance.runtime.clock.source)"
py noscan "$T/meta.full" "$CLOCK_PY" --clock scan
expect "--clock scan without ended_at in the meta: exit 2" rc=2 "err~has no boefje_meta.ended_at"
py badclock "$T/meta.full" "$CLOCK_PY" --clock "yesterday"
expect "--clock that is not ISO 8601: exit 2" rc=2 "err~not an ISO 8601 instant"

# ---- Through the job store: OpenKAT's meta submitted, a worker runs it.
printf '%s\n' "def items():
    yield dict($HOST, name=input_ooi['name'] + '.seen', primary_key='Hostname|internet|' + input_ooi['name'] + '.seen')" >"$T/raw.worker"
export WHISKERS_DB=$T/jobs.db
wh_run_raw submit --tenant acme --normaliser "$P" --meta "$T/meta.full" "$T/raw.worker"
expect "submit with OpenKAT's NormalizerMeta: queued" rc=0
wh_run_raw worker --concurrency 1 --exit-when-idle "${LIMITS[@]}"
expect "the worker runs it" rc=0
wh_run_raw show --json 1
assert_eq "the stored NormalizerResults: observed from boefje_meta.input_ooi, run() got arguments[\"input\"]" \
        "Hostname|internet|a.example Hostname|internet|a.example.seen" \
        "$(j '.output.observations[0].input_ooi') $(j '.output.observations[0].results[0].primary_key')"
unset WHISKERS_DB

# ---- Whiskers' own manifest keeps its rules.
W=$T/own
mkdir -p "$W"
echo '{"id": "own", "consumes": ["x"], "produces": ["Hostname"], "runtime": "python3", "entrypoint": "normalize.py"}' >"$W/normalizer.json"
cp "$P/normalize.py" "$W/"
wh_run_raw run --json "$W" "$T/raw.input" --input-ooi 'Hostname|internet|a.example'
expect "whiskers' form still needs a version" rc=2 'err~field "version" is required'
echo '{"id": "own", "version": "1", "consumes": ["x"], "produces": ["Hostname"], "runtime": "python3", "entrypoint": "normalize.py", "enabled": "yes"}' >"$W/normalizer.json"
wh_run_raw run --json "$W" "$T/raw.input" --input-ooi 'Hostname|internet|a.example'
expect "\"enabled\" must be a boolean" rc=2 'err~field "enabled" must be true or false'
mkdir -p "$W/schemas"
echo '{"id": "own", "version": "1", "consumes": ["x"], "produces": ["Hostname"], "runtime": "python3", "entrypoint": "normalize.py"}' >"$W/normalizer.json"
echo '{"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}' >"$W/schemas/Hostname.json"
printf '%s\n' "def items():
    yield {'object_type': 'Hostname', 'name': 'a'}" >"$T/raw.nokey"
wh_run_raw run --json "${LIMITS[@]}" "$W" "$T/raw.nokey" --input-ooi 'Hostname|internet|a.example'
expect "whiskers' form: an object without primary_key whose schema makes none is still valid" rc=0
finish
