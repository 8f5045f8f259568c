#!/usr/bin/env bash
# Boefjes (docs/boefjes.md): our example boefje runs in the sandbox on the
# host's Python, its raw file is stored content-addressed with its MIME
# types, and the normaliser consuming one of them gets it (whiskers scan).
# Malformed pairs, forged output lines and raw files over the limit fail
# the job with one clear error and store nothing; settings reach the
# boefje's environment and never the output, the store or /proc.
. "$(dirname "$0")/lib.sh"

EX=$T/examples
cp -r "$WH_SOURCE_DIR/examples/normalisers" "$EX"
make -s -C "$EX/hostname-list-c" >"$T/make.log" 2>&1 || fail "hostname-list-c builds: $(head -c 400 "$T/make.log")" nodump
WORDLIST=$WH_SOURCE_DIR/examples/boefjes/subdomain-wordlist
chmod -R a+rX "$T"

# Rootless without a delegated cgroup, the example normaliser's memory and
# pids limits can only be rlimits: say that this is accepted.
LIMITS=()
can_enforce_cgroups || LIMITS=(--allow-unenforced-limits)
# scan ARGS...: whiskers scan, output in $T/out and $T/err, RC set.
scan() { wh_run_raw scan "${LIMITS[@]}" "$@"; }
jout() { jq -r "$1" "$T/out" 2>/dev/null; }

# --- the chain --------------------------------------------------------------
S=$T/store
scan --json --boefje "$WORDLIST" --input-ooi 'Hostname|internet|example.org' \
        --normalisers "$EX" --raw-store "$S" --task-id job-1
expect "example boefje and its normaliser succeed" rc=0
digest=$(jout '.boefje.raw_files[0].digest')
assert_eq "one raw file" 1 "$(jout '.boefje.raw_files | length')"
assert_eq "MIME types: boefje/<id> and the declared one" \
        '["boefje/subdomain-wordlist","text/x-hostnames"]' "$(jout '.boefje.raw_files[0].mime_types | tostring')"
blob=$S/sha256/${digest#sha256:}
assert_eq "the raw file is stored under its digest" "${digest#sha256:}" "$(sha256sum "$blob" 2>/dev/null | cut -d' ' -f1)"
assert_eq "the raw file holds the candidates" "www.example.org mail.example.org vpn.example.org" "$(tr '\n' ' ' <"$blob" | sed 's/ $//')"
assert_eq "the job's record names the file and its MIME types" '["boefje/subdomain-wordlist","text/x-hostnames"]' \
        "$(jq -c '.raw_files[0].mime_types' "$S/jobs/job-1.json" 2>/dev/null)"
assert_eq "run() got OpenKAT's serialised input object" "example.org" \
        "$(jq -r '.boefje_meta.arguments.input.name' "$S/jobs/job-1.json" 2>/dev/null)"
assert_eq "exactly the consuming normaliser ran" "hostname_list_c" "$(jout '[.normalisers[].normaliser] | join(",")')"
assert_eq "the normaliser read the boefje's raw file" "$digest" "$(jout '.normalisers[0].raw')"
assert_eq "its Hostnames are the boefje's candidates" "mail.example.org vpn.example.org www.example.org" \
        "$(jout '[.normalisers[0].result.results.observations[0].results[].name] | sort | join(" ")')"
assert_eq "observed from the boefje's input object" "Hostname|internet|example.org" \
        "$(jout '.normalisers[0].result.results.observations[0].input_ooi')"

scan --boefje subdomain-wordlist --boefjes "$WH_SOURCE_DIR/examples/boefjes" \
        --input-ooi 'Hostname|internet|example.org' --normalisers "$EX/hostname-list-c" --raw-store "$S"
expect "a boefje id, the summary: both halves printed" rc=0 \
        'out~boefje subdomain-wordlist \(task [^)]*\): ok, 1 raw file' 'out~normaliser hostname_list_c on sha256:' \
        'out~Hostname +3'
# Through the job store: the raw file becomes a queued job that a worker runs.
DB=sqlite://$T/q.db
scan --json --boefje "$WORDLIST" --input-ooi 'Hostname|internet|example.org' --normalisers "$EX" \
        --raw-store "$S" --db "$DB" --tenant acme
expect "--db: the consuming normaliser's job is queued, not run" rc=0 'out~"job_id": 1'
assert_eq "the tenant is the BoefjeMeta's organization" acme "$(jout '.boefje.boefje_meta.organization')"
timeout -k 5 90 "$WHISKERS" worker "${LIMITS[@]}" --db "$DB" --normalisers "$EX" --exit-when-idle 2>"$T/worker.log"
wh_run_raw show --db "$DB" --json 1
assert_eq "a worker ran it: the boefje's candidates, observed from its input object" \
        "done Hostname|internet|example.org mail.example.org vpn.example.org www.example.org" \
        "$(jout '"\(.state) \(.output.observations[0].input_ooi) \([.output.observations[0].results[].name] | sort | join(" "))"')"
scan --boefje "$WORDLIST" --input-ooi 'Hostname|internet|example.org' --normalisers "$EX/http-headers" --raw-store "$S"
expect "no normaliser consumes the MIME types: said, not an error" rc=0 'out~no normaliser consumes'
scan --boefje "$WORDLIST" --input-ooi 'not a key' --raw-store "$S"
expect "an input object that is not a primary key: usage error" rc=2 'err~is not a primary key'

# --- bad output: one error per job, nothing stored --------------------------
# boefje NAME BODY: a boefje whose run() is BODY (indented Python).
boefje() {
        mkdir -p "$T/b/$1"
        printf '{"id": "%s", "consumes": ["Hostname"], "x-whiskers-network": []}\n' "$1" >"$T/b/$1/boefje.json"
        printf 'import os, sys\n\ndef run(boefje_meta):\n%s\n' "$2" >"$T/b/$1/main.py"
        chmod -R a+rX "$T/b"
}
# bad NAME CODE MESSAGE [ARGS]: the job fails with CODE, and its store stays empty.
bad() {
        local name=$1 code=$2 msg=$3
        shift 3
        rm -rf "$T/bad-store"
        scan --json --boefje "$T/b/$name" --input-ooi 'Hostname|internet|example.org' \
                --raw-store "$T/bad-store" --normalisers "$EX" "$@"
        expect "$name: $code" rc=1 "out~\"code\": \"$code\"" "out~$msg" 'out~"raw_files": \[\]' \
                'out~"normalisers": \[\]'
        assert_eq "$name: nothing stored" "" "$(ls -A "$T/bad-store" 2>/dev/null)"
}
boefje not-a-list '    return {"text/plain": "x"}'
bad not-a-list invalid_output 'run\(\) returned a dict, not a list'
boefje wrong-bytes '    return [({"text/plain"}, b"ok"), (set(), 12345)]'
bad wrong-bytes invalid_output 'pair 1: raw is a int, not bytes or str'
boefje mime-str '    return [("text/plain", "x")]'
bad mime-str invalid_output 'mime_types is a str'
boefje mime-shape '    return [({"text/plain"}, "ok"), ({"not a mime type"}, "x")]'
bad mime-shape invalid_output 'is not type/subtype'
boefje raises '    raise RuntimeError("target unreachable")'
bad raises boefje_error 'run: RuntimeError: target unreachable'
# The shim is not trusted either: a boefje writing its own lines on the
# channel (fd 3, the shim's copy of stdout) is checked outside the sandbox.
boefje forged '    os.write(3, b"{\"type\":\"raw\",\"mime_types\":[\"a/b\"],\"data\":\"!!!!\"}\n")
    return []'
bad forged invalid_output 'is not base64'
boefje big '    return [({"text/plain"}, "x" * 4096)]'
bad big raw_too_large 'over the limit of 4095 bytes' --raw-max 4095
scan --json --boefje "$T/b/big" --input-ooi 'Hostname|internet|example.org' --raw-store "$T/bad-store" --raw-max 4096
expect "a raw file of exactly --raw-max is kept" rc=0 'out~"size": 4096'

# --- the network: refused before anything runs -------------------------------
mkdir -p "$T/b/scanner"
echo '{"id": "scanner", "consumes": ["Hostname", "IPAddressV4"]}' >"$T/b/scanner/boefje.json"
printf 'def run(boefje_meta):\n    open("/tmp/ran", "w")\n    return []\n' >"$T/b/scanner/main.py"
chmod -R a+rX "$T/b"
# refused DESC MESSAGE ARGS...: the job fails with network_refused, nothing ran.
refused() {
        local desc=$1 msg=$2
        shift 2
        rm -rf "$T/bad-store"
        scan --json --boefje "$T/b/scanner" --raw-store "$T/bad-store" "$@"
        expect "$desc: refused before the run" rc=1 'out~"code": "network_refused"' "out~$msg" \
                'out~"raw_files": \[\]'
        assert_eq "$desc: no sandbox ran" "null null" "$(jout '"\(.boefje.status) \(.boefje.provenance.runtime)"')"
}
refused "a hostname that does not resolve" "host 'unresolvable.invalid' does not resolve" \
        --input-ooi 'Hostname|internet|unresolvable.invalid'
refused "the input object on loopback" 'loopback' --input-ooi 'IPAddressV4|internet|127.0.0.1'
refused "metadata address asked for by the caller" 'link-local' --input-ooi 'Hostname|internet|x.invalid' \
        --net-no-input --net-allow 169.254.169.254:80
refused "::1 asked for by the caller" 'loopback' --input-ooi 'Hostname|internet|x.invalid' --net-no-input \
        --net-allow '[::1]:53'
refused "a \${SETTING} that is not set" 'names the setting REMOTE_NS, which is not set' \
        --input-ooi 'Hostname|internet|x.invalid' --net-no-input --net-allow '${REMOTE_NS}:53/both'
scan --json --boefje "$T/b/scanner" --input-ooi 'Hostname|internet|x.invalid' --net-no-input --raw-store "$T/bad-store"
expect "nothing to reach: it runs with no network at all" rc=0 'out~"allow": \[\]'
assert_eq "the example declares that it needs no network" '[]' \
        "$(jq -c '.provenance.network.allow' "$S/jobs/job-1.json" 2>/dev/null)"

# --- settings: the environment only -----------------------------------------
SECRET=wh-secret-$RANDOM$RANDOM
mkdir -p "$T/b/secret"
echo '{"id": "secret-reader", "consumes": ["Hostname"], "x-whiskers-network": []}' >"$T/b/secret/boefje.json"
echo '{"type": "object", "properties": {"API_KEY": {"type": "string", "minLength": 8}}}' >"$T/b/secret/schema.json"
cat >"$T/b/secret/main.py" <<'EOF'
import glob, hashlib, json, os, subprocess

def run(boefje_meta):
    key = os.environ["API_KEY"].encode()
    # Tools the boefje starts must not inherit it (nmap, drill...): one
    # still running while /proc is searched, two that print their environment.
    child = subprocess.Popen(["/bin/sleep", "30"])
    env_out = subprocess.run(["/usr/bin/env"], capture_output=True).stdout + \
        subprocess.run(["env"], capture_output=True).stdout
    hits = []
    for path in glob.glob("/proc/[0-9]*/environ") + glob.glob("/proc/[0-9]*/cmdline"):
        try:
            with open(path, "rb") as f:
                if key in f.read():
                    hits.append(path)
        except OSError:
            pass
    child.kill()
    meta = json.dumps(boefje_meta).encode()
    return [({"text/plain"}, json.dumps({"sha256": hashlib.sha256(os.getenv("API_KEY").encode()).hexdigest(),
                                         "proc_hits": hits, "in_meta": key in meta,
                                         "env_lines": env_out.count(b"\n"), "in_child_env": key in env_out}))]
EOF
chmod -R a+rX "$T/b"
printf '{"API_KEY": "%s"}\n' "$SECRET" >"$T/settings.json"
rm -rf "$T/sec-store"
mkdir -p "$T/work"
TMPDIR=$T/work scan --json --boefje "$T/b/secret" --input-ooi 'Hostname|internet|example.org' \
        --settings "$T/settings.json" --raw-store "$T/sec-store"
expect "a boefje with a secret setting runs" rc=0
assert_eq "its input directory (settings.json) is gone after the run" "" "$(ls -A "$T/work")"
raw=$(cat "$T/sec-store/sha256/"* 2>/dev/null)
assert_eq "the boefje read the setting with os.environ[] and os.getenv()" "$(printf %s "$SECRET" | sha256sum | cut -d' ' -f1)" \
        "$(echo "$raw" | jq -r .sha256)"
assert_eq "no /proc file in the sandbox shows it (environ, cmdline of init, the boefje and its running child)" "[]" \
        "$(echo "$raw" | jq -c .proc_hits)"
assert_eq "a child process's environment does not carry it (/usr/bin/env, env)" false "$(echo "$raw" | jq -c .in_child_env)"
assert_true "... while the children printed an environment" test "$(echo "$raw" | jq .env_lines)" -ge 6
assert_eq "the boefje meta does not carry it" false "$(echo "$raw" | jq -c .in_meta)"
assert_eq "provenance names the setting only" '["API_KEY"]' "$(jout '.boefje.provenance.settings | tostring')"
assert_eq "not in whiskers' output, status or provenance" "" "$(grep -l -- "$SECRET" "$T/out" "$T/err")"
assert_eq "not in the raw store" "" "$(grep -rl -- "$SECRET" "$T/sec-store")"
printf '{"API_KEY": "short-%s"}\n' "${SECRET:0:1}" >"$T/settings.json"
scan --boefje "$T/b/secret" --input-ooi 'Hostname|internet|example.org' --settings "$T/settings.json"
expect "a setting the schema refuses: nothing runs, the value is not shown" rc=2 \
        'err~setting /API_KEY does not match .*minLength.*the value is not shown'
assert_eq "the refused value is not in the message" "" "$(grep -l -- "short-" "$T/err")"
finish
