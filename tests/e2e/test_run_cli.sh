#!/usr/bin/env bash
# whiskers new / run / test from the command line: the scaffold works as
# made; the provenance digests are recomputed here independently (Python,
# sha256sum) from the documented algorithms; raw-file ZIPs (made by Python's
# zipfile) run like RAWFILE + --meta; usage errors exit 2.
. "$(dirname "$0")/lib.sh"

LIMITS=()
can_enforce_cgroups || LIMITS=(--allow-unenforced-limits)
j() { jq -r "$1" "$T/out" 2>/dev/null; }
cd "$T" || exit 1

wh_run_raw new kat_demo
expect "whiskers new: creates the normaliser" rc=0 "out~created kat_demo"
wh_run_raw test --color never "${LIMITS[@]}" kat_demo
expect "whiskers test: the new normaliser passes its fixture" rc=0 "out~1 passed, 0 failed"
wh_run_raw new kat_demo
expect "whiskers new: refuses an existing directory" rc=2 "err~choose a new name"
wh_run_raw new 'bad name'
expect "whiskers new: refuses an invalid id" rc=2 "err~cannot be a normaliser id"

printf 'one.example\ntwo.example\n' >"$T/hosts.txt"
wh_run_raw run --json "${LIMITS[@]}" --results "$T/results.json" kat_demo "$T/hosts.txt" \
        --input-ooi 'Hostname|internet|one.example' --mime text/plain --task-id task-42
expect "whiskers run --json: ok" rc=0
cp "$T/out" "$T/report.json"
assert_eq "--results writes the NormalizerResults" "$(jq -S .results "$T/report.json")" \
        "$(jq -S . "$T/results.json")"
assert_eq "the made meta: task id, input object, MIME type" \
        "task-42 Hostname|internet|one.example text/plain" \
        "$(j .provenance.input.task_id) $(j .provenance.input.input_ooi) $(j '.provenance.input.mime_types[0]')"

# ---- Provenance, recomputed outside whiskers.
assert_eq "provenance: raw digest = sha256sum" "sha256:$(sha256sum <"$T/hosts.txt" | cut -d' ' -f1)" \
        "$(j .provenance.input.raw.digest)"
"$PYTHON" - "$T/report.json" "$T/kat_demo" >"$T/recomputed" <<'EOF'
import hashlib, json, os, stat, sys
report, root = json.load(open(sys.argv[1])), sys.argv[2]
sha = lambda b: hashlib.sha256(b).hexdigest()
canon = lambda v: json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
paths = []
for d, dirs, files in os.walk(root):
    paths += [os.path.relpath(os.path.join(d, n), root) for n in dirs + files]
lines = []
for rel in sorted(paths, key=os.fsencode):
    p = os.path.join(root, rel)
    st = os.lstat(p)
    if stat.S_ISDIR(st.st_mode):
        lines.append("D %s\n" % rel)
    elif stat.S_ISLNK(st.st_mode):
        lines.append("L %s %s\n" % (sha(os.fsencode(os.readlink(p))), rel))
    else:
        x = "x" if st.st_mode & stat.S_IXUSR else "-"
        lines.append("F %s %d %s %s\n" % (x, st.st_size, sha(open(p, "rb").read()), rel))
prov = report["provenance"]
policy = {k: v for k, v in prov["policy"].items() if k != "digest"}
print("sha256:" + sha("".join(lines).encode()))
print("sha256:" + sha(canon(report["results"]).encode()))
print("sha256:" + sha(canon(policy).encode()))
EOF
assert_eq "provenance: normaliser tree digest (docs/contract.md algorithm)" \
        "$(sed -n 1p "$T/recomputed")" "$(j .provenance.normaliser.digest)"
assert_eq "provenance: results digest = canonical JSON of .results" \
        "$(sed -n 2p "$T/recomputed")" "$(j .provenance.output.results_digest)"
assert_eq "provenance: policy digest = canonical JSON of the policy" \
        "$(sed -n 3p "$T/recomputed")" "$(j .provenance.policy.digest)"
assert_eq "provenance: whiskers version, contract version, interpreter" \
        "0.1.0 1 $(readlink -f /usr/bin/python3)" \
        "$(j .provenance.whiskers_version) $(j .provenance.contract_version) $(j .provenance.runtime.interpreter)"
assert_eq "provenance: the interpreter's version as the shim reported it" \
        "$(/usr/bin/python3 -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')" \
        "$(j .provenance.runtime.version)"

# An exec normaliser with known output: the stdout digest and meta digest.
mkdir -p "$T/fixed/schemas"
cp kat_demo/schemas/Hostname.json "$T/fixed/schemas/"
jq '.runtime = "exec" | .entrypoint = "run.sh" | .id = "fixed"' kat_demo/normalizer.json \
        >"$T/fixed/normalizer.json"
LINE='{"object_type":"Hostname","network":"Network|internet","name":"fixed.example"}'
printf '#!/bin/sh\necho %s\n' "'$LINE'" >"$T/fixed/run.sh"
chmod +x "$T/fixed/run.sh"
printf '{"task_id": "x", "input_ooi": {"primary_key": "Hostname|internet|fixed.example"}}' >"$T/meta.json"
wh_run_raw run --json "${LIMITS[@]}" "$T/fixed" "$T/hosts.txt" --meta "$T/meta.json"
assert_eq "provenance: stdout digest = sha256sum of what it printed" \
        "sha256:$(echo "$LINE" | sha256sum | cut -d' ' -f1) $((${#LINE} + 1))" \
        "$(j .provenance.output.stdout.digest) $(j .provenance.output.stdout.bytes)"
assert_eq "provenance: meta digest = sha256sum of the --meta file" \
        "sha256:$(sha256sum <"$T/meta.json" | cut -d' ' -f1)" "$(j .provenance.input.meta.digest)"

# ---- Raw-file ZIPs: deflated and stored, as Python's zipfile writes them.
for method in ZIP_DEFLATED ZIP_STORED; do
        "$PYTHON" - "$T/in.zip" "$T/hosts.txt" "$T/meta.json" "$method" <<'EOF'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w", getattr(zipfile, sys.argv[4])) as z:
    z.write(sys.argv[2], "raw")
    z.write(sys.argv[3], "meta.json")
EOF
        wh_run_raw run --json "${LIMITS[@]}" kat_demo --zip "$T/in.zip"
        expect "--zip ($method): runs" rc=0
        assert_eq "--zip ($method): same raw and meta as the files" \
                "sha256:$(sha256sum <"$T/hosts.txt" | cut -d' ' -f1) sha256:$(sha256sum <"$T/meta.json" | cut -d' ' -f1) 2" \
                "$(j .provenance.input.raw.digest) $(j .provenance.input.meta.digest) $(j '.results.observations[0].results|length')"
done
"$PYTHON" -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1], "w"); z.writestr("raw", "x"); z.writestr("notes.txt", "y")' "$T/bad.zip"
wh_run_raw run kat_demo --zip "$T/bad.zip"
expect "--zip without meta.json: exit 2, says what a raw-file ZIP holds" rc=2 \
        'err~entries must be "raw" and "meta.json"'

# ---- Usage errors: nothing runs, exit 2.
wh_run_raw run kat_demo
expect "run without RAWFILE: exit 2" rc=2 "err~give NORMALISER and RAWFILE"
wh_run_raw run kat_demo "$T/hosts.txt" --meta "$T/meta.json" --input-ooi 'Hostname|internet|a'
expect "run with --meta and --input-ooi: exit 2" rc=2 "err~--meta is the whole meta document"
wh_run_raw run kat_demo "$T/hosts.txt" --input-ooi 'not a reference'
expect "run with a malformed --input-ooi: exit 2" rc=2 "err~is not a primary key"
printf '{"input_ooi": "Hostname|internet|a"}' >"$T/badmeta.json"
wh_run_raw run kat_demo "$T/hosts.txt" --meta "$T/badmeta.json"
expect "run with a meta the contract refuses: exit 2" rc=2 'err~"input_ooi" must be an object'
wh_run_raw run kat_demo "$T/nonexistent"
expect "run on a missing raw file: exit 2" rc=2 "err~cannot read the raw file"
wh_run_raw run --depth 5000 kat_demo "$T/hosts.txt"
expect "--depth over 1000: exit 2" rc=2 "err~at most 1000"
wh_run_raw run "${LIMITS[@]}" kat_demo "$T/hosts.txt"
expect "objects without an input object: no_input_ooi, exit 1" rc=1 "out~no_input_ooi"
for cmd in run test new; do
        wh_run_raw "$cmd" --help
        expect "whiskers $cmd --help" rc=0 "out~Usage: whiskers $cmd"
done
# ---- Input directories: removed at the end; a killed run's is removed by
# the next load once it is a minute old and its lock is gone.
mkdir "$T/tmp"
chmod 755 "$T/tmp"
TMPDIR=$T/tmp wh_run_raw run "${LIMITS[@]}" kat_demo "$T/hosts.txt" --input-ooi 'Hostname|internet|a'
assert_eq "an input directory is removed after the run" "0 " "$RC $(ls "$T/tmp")"
jq '.runtime = "exec" | .entrypoint = "sleep.sh" | .id = "sleepy"' kat_demo/normalizer.json \
        >"$T/fixed/normalizer.json"
printf '#!/bin/sh\nexec sleep 60\n' >"$T/fixed/sleep.sh"
chmod +x "$T/fixed/sleep.sh"
TMPDIR=$T/tmp "$WHISKERS" run "${LIMITS[@]}" "$T/fixed" "$T/hosts.txt" >/dev/null 2>&1 &
victim=$!
for _ in $(seq 50); do [ -n "$(ls "$T/tmp")" ] && break; sleep 0.1; done
sleep 0.3
kill -9 "$victim"
wait "$victim" 2>/dev/null
on_exit "for d in \$(own_cgroup_dirs); do rmdir \"\$d\"/whiskers-$victim-*; done"
stale=$(ls "$T/tmp")
assert_match "a killed run leaves its input directory" "^whiskers-input-" "$stale"
TMPDIR=$T/tmp wh_run_raw run "${LIMITS[@]}" kat_demo "$T/hosts.txt" --input-ooi 'Hostname|internet|a'
assert_eq "... which the next load keeps while it is recent" "$stale" "$(ls "$T/tmp")"
touch -d '2 minutes ago' "$T/tmp/$stale"
TMPDIR=$T/tmp wh_run_raw run "${LIMITS[@]}" kat_demo "$T/hosts.txt" --input-ooi 'Hostname|internet|a'
assert_eq "... and removes once a minute old (no lock holds it)" "" "$(ls "$T/tmp")"
# ---- The summary shows the program's text, and the terminal obeys none of it:
# an object type, a finding's type, object and description, an error quoting
# the output (an item, a property name), with ESC, BEL and C1's CSI; a newline
# in a one-line field does not start a line of its own.
wh_run_raw new hostile_text
cat >"$T/hostile_text/schemas/Finding.json" <<'JSON'
{"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "Finding", "type": "object",
 "x-natural-key": ["finding_type", "ooi"],
 "properties": {"object_type": {"const": "Finding"}, "primary_key": {"type": "string"},
                "finding_type": {"type": "string"}, "ooi": {"type": "string"},
                "description": {"type": "string"}},
 "required": ["object_type", "finding_type", "ooi"], "additionalProperties": false}
JSON
jq '.produces += ["Finding"]' "$T/hostile_text/normalizer.json" >"$T/nj"
mv "$T/nj" "$T/hostile_text/normalizer.json"
cat >"$T/hostile_text/normalize.py" <<'EOF'
def run(input_ooi, raw):
    yield {"object_type": "Finding", "finding_type": "KATFindingType|\x1b[2J",
           "ooi": "Hostname|internet|\u009b31m", "description": "fake\nok line\x1b]52;c;aGk=\x07"}
    yield {"object_type": "Hostname", "network": "Network|internet", "name": "a", "\x1b[1m": "\u009b0m"}
EOF
wh_run_raw run --color never "${LIMITS[@]}" hostile_text "$T/hosts.txt" --input-ooi 'Hostname|internet|a'
expect "a finding's text is shown escaped, on one line" rc=1 \
        'out~\\x1b\[2J on Hostname\|internet\|\\u009b31m: fake\\x0aok line\\x1b\]52;c;aGk=\\x07' \
        'out~\\u009b0m'
assert_eq "no ESC, BEL or C1 byte of the normaliser's reaches the terminal" 0 \
        "$(LC_ALL=C grep -c $'\x1b\|\x07\|\xc2\x9b' "$T/out")"

finish
