#!/usr/bin/env bash
# whiskers push / pull against a real registry (Debian's docker-registry,
# distribution 2.x) on loopback, started and stopped by
# scripts/registry-start.sh / registry-stop.sh: anonymous and basic auth,
# monolithic and chunked uploads, skipping blobs the registry has,
# signatures carried as referrers (fallback tag), pull by tag and by digest,
# a multi-variant index, bearer tokens from a token server.
. "$(dirname "$0")/lib.sh"

SRC=${WH_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
W=$WHISKERS
if ! command -v docker-registry >/dev/null; then
        skip "registry" "docker-registry is not installed (scripts/deps/registry.txt)"
        finish
fi
start_registry() { # NAME [registry-start options]: sets ADDR
        local dir=$T/$1
        shift
        on_exit "'$SRC/scripts/registry-stop.sh' '$dir'"
        ADDR=$("$SRC/scripts/registry-start.sh" "$dir" "$@") || { fail "registry start" nodump; finish; }
}
start_registry reg

mk_pkg() { # DIR ID SIZE [variant-json runtime]
        mkdir -p "$1/schemas"
        printf '{"id":"%s","version":"1.0.0","consumes":["boefje/x"],"produces":["X"],"runtime":"%s","entrypoint":"normalize.py"%s}\n' \
                "$2" "${5:-python3}" "${4:+,\"variant\":$4}" >"$1/normalizer.json"
        echo "def run(a, b): return []  # $2" >"$1/normalize.py"
        echo '{"type":"object"}' >"$1/schemas/out.json"
        head -c "$3" /dev/urandom >"$1/data.bin"
}
mk_pkg "$T/p1" kat_reg 400000
"$W" pack "$T/p1" --into "$T/a" >/dev/null
"$W" key gen --out "$T/k" >/dev/null 2>&1
mkdir -m 700 "$T/trust" && cp "$T/k.pub" "$T/trust/"
"$W" sign --key "$T/k.key" "$T/a" >/dev/null
digest=$(jq -r '.manifests[0].digest' "$T/a/index.json")

wh_run_raw push --json "$T/a" "$ADDR/kat/reg"
expect "anonymous push, tag = version" rc=0 'out~"blobs_sent":[45]' 'out~"signatures":1' \
        "out~$digest" 'err='
wh_run_raw push --json "$T/a" "$ADDR/kat/reg"
expect "second push skips every blob" rc=0 'out~"blobs_sent":0' 'out~"blobs_skipped":[45]'
wh_run_raw pull --json "$T/b" "$ADDR/kat/reg:1.0.0"
expect "pull by tag, signature included" rc=0 "out~$digest" 'out~"signatures":1' \
        'out~"tag":"kat_reg:1.0.0"'
wh_run_raw verify --trust "$T/trust" "$T/b"
expect "pulled signature verifies offline" rc=0 'out~trusted'
wh_run_raw store verify "$T/b"
expect "pulled store verifies" rc=0
assert_eq "pulled index.json entry is the pushed one" "$(jq -c '.manifests[0]' "$T/a/index.json")" \
        "$(jq -c '.manifests[0]' "$T/b/index.json")"
wh_run_raw pull --json --tag pinned:1 "$T/c" "$ADDR/kat/reg@$digest"
expect "pull by digest with --tag" rc=0 'out~"tag":"pinned:1"' "out~$digest"
wh_run_raw pull "$T/c" "$ADDR/kat/reg@sha256:$(printf '0%.0s' $(seq 64))"
expect "unknown digest: clear error" rc=1 'err~not found|MANIFEST_UNKNOWN'

# The progress line: drawn on a TTY (script(1) gives one), never otherwise
# (the pushes above checked that stderr stayed empty).
if command -v script >/dev/null; then
        script -qc "'$W' pull '$T/tty' '$ADDR/kat/reg:1.0.0'" /dev/null >"$T/tty.out" 2>&1
        assert_match "progress line on a TTY" '\[=+\] +0\.[0-9]/0\.[0-9] MiB' "$(tr '\r' '\n' <"$T/tty.out")"
fi

# Chunked upload (several PATCHes per blob) of a multi-variant package.
mk_pkg "$T/v1" kat_multi 300000 '{"name":"baseline","baseline":true}'
mk_pkg "$T/v2" kat_multi 300000 '{"name":"exec-build"}' exec
chmod +x "$T/v2/normalize.py"
"$W" pack "$T/v1" "$T/v2" --into "$T/m" >/dev/null
mdigest=$(jq -r '.manifests[0].digest' "$T/m/index.json")
wh_run_raw push --json --chunk-size 100K "$T/m" "$ADDR/kat/multi:v1"
expect "chunked push of an index" rc=0 'out~"manifests":3' "out~$mdigest"
wh_run_raw pull --json "$T/m2" "$ADDR/kat/multi:v1"
expect "pull of the index" rc=0 "out~$mdigest"
wh_run_raw inspect "$T/m2"
expect "pulled index keeps its variants" rc=0 'out~exec-build' 'out~baseline'

# Basic auth (htpasswd).
start_registry auth --htpasswd alice:s3cret
wh_run_raw push "$T/a" "$ADDR/kat/reg"
expect "basic: no credentials" rc=1 'err~wants a user name and password'
WHISKERS_REGISTRY_PASSWORD=wrong wh_run_raw push --user alice "$T/a" "$ADDR/kat/reg"
expect "basic: wrong password" rc=1 'err~refused the user name and password'
WHISKERS_REGISTRY_PASSWORD=s3cret wh_run_raw push --json --user alice "$T/a" "$ADDR/kat/reg"
expect "basic: push" rc=0 "out~$digest"
echo s3cret | wh_run_raw pull --password-stdin --user alice "$T/d" "$ADDR/kat/reg:1.0.0"
expect "basic: pull, password on stdin" rc=0 "out~$digest"

# Bearer tokens: docker-registry with "auth: token" and a python3 token
# server (the Docker token flow; JWTs signed RS256 by openssl, certificate in
# the x5c header) that grants alice:s3cret and nobody else.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/tk.key" -out "$T/tk.crt" -days 2 \
        -subj /CN=whiskers-test-token 2>/dev/null
cat >"$T/token.py" <<'PY'
# A token server for docker-registry's "auth: token": the Docker token flow,
# JWTs signed RS256 (openssl does the signing) with the certificate in the
# x5c header. Grants pull,push on every repository asked for to USER:PASSWORD
# (basic auth), nothing to anyone else. Writes its port to PORTFILE.
import base64, http.server, json, os, subprocess, sys, time, urllib.parse
key, cert, creds, portfile = sys.argv[1:5]
der = subprocess.run(["openssl", "x509", "-in", cert, "-outform", "DER"], capture_output=True, check=True).stdout
b64u = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
want = "Basic " + base64.b64encode(creds.encode()).decode()

class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        if self.headers.get("Authorization") != want:
            self.send_response(401); self.send_header("Content-Length", "0"); self.end_headers(); return
        access = []
        for sc in q.get("scope", []):
            typ, name, _ = sc.split(":", 2)
            access.append({"type": typ, "name": name, "actions": ["pull", "push"]})
        now = int(time.time())
        hdr = {"alg": "RS256", "typ": "JWT", "x5c": [base64.b64encode(der).decode()]}
        claims = {"iss": "whiskers-test", "sub": creds.split(":")[0], "aud": q.get("service", [""])[0],
                  "exp": now + 300, "nbf": now - 10, "iat": now, "jti": os.urandom(8).hex(), "access": access}
        signing = b64u(json.dumps(hdr).encode()) + "." + b64u(json.dumps(claims).encode())
        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key], input=signing.encode(),
                             capture_output=True, check=True).stdout
        body = json.dumps({"token": signing + "." + b64u(sig)}).encode()
        self.send_response(200); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)

srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
open(portfile + ".tmp", "w").write(str(srv.server_address[1])); os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
PY
"$PYTHON" "$T/token.py" "$T/tk.key" "$T/tk.crt" alice:s3cret "$T/tport" &
bg_started $!
for _ in $(seq 100); do [ -s "$T/tport" ] && break; sleep 0.05; done
start_registry tokreg --token "http://127.0.0.1:$(cat "$T/tport")/token" "$T/tk.crt"
WHISKERS_REGISTRY_PASSWORD=s3cret wh_run_raw push --json --user alice "$T/a" "$ADDR/kat/tok"
expect "bearer (registry token auth): push" rc=0 "out~$digest" 'out~"signatures":1'
WHISKERS_REGISTRY_PASSWORD=s3cret wh_run_raw pull --json --user alice "$T/tok" "$ADDR/kat/tok:1.0.0"
expect "bearer: pull with signature" rc=0 "out~$digest" 'out~"signatures":1'
wh_run_raw pull "$T/tok2" "$ADDR/kat/tok:1.0.0"
expect "bearer: anonymous refused by the token server" rc=1 'err~token server refused anonymous'
finish
