#!/usr/bin/env bash
# Registry client against a misbehaving registry: a small python3 fake on
# loopback answers 500s, loops on 401, drops the connection mid-blob (once:
# the pull resumes; always: it fails), drops a chunk upload (the push
# resumes), serves a corrupted blob, sends uploads to another host, or wants
# a bearer token from its token endpoint. Every failure must be a clear error
# with the store's index.json untouched, no blob published, nothing left in
# .whiskers/tmp and nothing written outside the store.
. "$(dirname "$0")/lib.sh"

W=$WHISKERS
pkg=$T/pkg
mkdir -p "$pkg/schemas"
echo '{"id":"kat_fault","version":"1.0.0","consumes":["boefje/x"],"produces":["X"],"runtime":"python3","entrypoint":"normalize.py"}' >"$pkg/normalizer.json"
echo 'def run(a, b): return []' >"$pkg/normalize.py"
head -c 300000 /dev/urandom >"$pkg/data.bin"
"$W" pack "$pkg" --into "$T/src" >/dev/null || { fail "pack" nodump; finish; }

cat >"$T/fake.py" <<'PY'
# A small fake registry for fault injection: serves the OCI layout LAYOUT
# (manifests by tag = the part after ':' of a ref name, or by digest; blobs)
# and accepts pushes in memory. MODE: ok, 500, 401loop, bearer, drop-once,
# drop-always, drop-patch (the first chunk upload), corrupt, elsewhere (an
# upload location on another host). Writes its port to PORTFILE when ready.
import base64, hashlib, http.server, json, os, sys
layout, mode, portfile = sys.argv[1], sys.argv[2], sys.argv[3]
TOKEN = "tok-" + os.urandom(8).hex()
CREDS = "Basic " + base64.b64encode(b"alice:s3cret").decode()
uploads, pushed, drops = {}, {}, {"n": 0}

def blob(d):
    if d in pushed: return pushed[d]
    p = os.path.join(layout, "blobs", "sha256", d.split(":", 1)[-1])
    return open(p, "rb").read() if os.path.isfile(p) else None

def by_tag(tag):
    for m in json.load(open(os.path.join(layout, "index.json")))["manifests"]:
        ref = m.get("annotations", {}).get("org.opencontainers.image.ref.name", "")
        if ref.rsplit(":", 1)[-1] == tag: return m["digest"]
    return pushed.get("tag:" + tag)

class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def reply(self, code, body=b"", headers=()):
        self.send_response(code)
        for k, v in headers: self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD": self.wfile.write(body)
    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""
    def gate(self):
        if self.path.startswith("/token"):
            auth = self.headers.get("Authorization")
            if auth not in (None, CREDS): return self.reply(401, b"{}") or True
            return self.reply(200, json.dumps({"token": TOKEN}).encode()) or True
        if mode == "500":
            return self.reply(500, b'{"errors":[{"code":"UNKNOWN","message":"injected failure"}]}') or True
        if mode in ("bearer", "401loop"):
            if mode == "bearer" and self.headers.get("Authorization") == "Bearer " + TOKEN: return False
            self.body()
            port = self.server.server_address[1]
            ch = 'Bearer realm="http://127.0.0.1:%d/token",service="fake",scope="repository:x:pull"' % port
            return self.reply(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}', [("WWW-Authenticate", ch)]) or True
        return False
    def do_HEAD(self): self.do_GET()
    def do_GET(self):
        if self.gate(): return
        parts = self.path.split("?")[0].split("/")
        if self.path == "/v2/": return self.reply(200, b"{}")
        if "uploads" in parts:
            u = parts[-1]
            return self.reply(204, b"", [("Range", "0-%d" % (len(uploads[u]) - 1)), ("Location", self.path)])
        ref = parts[-1]
        if parts[-2] == "manifests":
            d = ref if ref.startswith("sha256:") else by_tag(ref)
            data = blob(d) if d else None
            if data is None: return self.reply(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN"}]}')
            mt = json.loads(data).get("mediaType", "application/vnd.oci.image.manifest.v1+json")
            return self.reply(200, data, [("Content-Type", mt), ("Docker-Content-Digest", d)])
        if parts[-2] == "referrers": return self.reply(404, b"{}")
        data = blob(ref)
        if data is None: return self.reply(404, b'{"errors":[{"code":"BLOB_UNKNOWN"}]}')
        if mode == "corrupt" and len(data) > 1000: data = data[:-1] + bytes([data[-1] ^ 1])
        start, code, hdrs = 0, 200, []
        rng = self.headers.get("Range")
        if rng:
            start, code = int(rng.split("=")[1].split("-")[0]), 206
            hdrs = [("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))]
        drop = len(data) > 1000 and self.command == "GET" and (mode == "drop-always" or (mode == "drop-once" and drops["n"] == 0))
        if drop:
            drops["n"] += 1
            self.send_response(code)
            for k, v in hdrs: self.send_header(k, v)
            self.send_header("Content-Length", str(len(data) - start))
            self.end_headers()
            self.wfile.write(data[start:start + (len(data) - start) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        self.reply(code, data[start:], hdrs)
    def do_POST(self):
        if self.gate(): return
        self.body()
        u = os.urandom(6).hex()
        uploads[u] = b""
        where = "http://127.0.0.2:%d" % self.server.server_address[1] if mode == "elsewhere" else ""
        self.reply(202, b"", [("Location", where + "/v2/x/blobs/uploads/" + u)])
    def do_PATCH(self):
        if self.gate(): return
        u = self.path.split("?")[0].split("/")[-1]
        data = self.body()
        if mode == "drop-patch" and drops["n"] == 0:
            drops["n"] += 1
            uploads[u] += data[:len(data) // 2]
            self.close_connection = True
            self.connection.shutdown(2)
            return
        uploads[u] += data
        self.reply(202, b"", [("Location", "/v2/x/blobs/uploads/" + u), ("Range", "0-%d" % (len(uploads[u]) - 1))])
    def do_PUT(self):
        if self.gate(): return
        data = self.body()
        path, _, query = self.path.partition("?")
        parts = path.split("/")
        if parts[-2] == "manifests":
            d = "sha256:" + hashlib.sha256(data).hexdigest()
            pushed[d] = data
            if not parts[-1].startswith("sha256:"): pushed["tag:" + parts[-1]] = d
            return self.reply(201, b"", [("Docker-Content-Digest", d)])
        u = parts[-1]
        data = uploads.pop(u) + data
        d = query.split("digest=")[1].replace("%3A", ":")
        if "sha256:" + hashlib.sha256(data).hexdigest() != d:
            return self.reply(400, b'{"errors":[{"code":"DIGEST_INVALID"}]}')
        pushed[d] = data
        self.reply(201, b"", [("Docker-Content-Digest", d)])

srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
open(portfile + ".tmp", "w").write(str(srv.server_address[1]))
os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
PY

# fake MODE: start the fake registry serving $T/src; sets ADDR.
fake() {
        rm -f "$T/port"
        "$PYTHON" "$T/fake.py" "$T/src" "$1" "$T/port" &
        bg_started $!
        FAKE_PID=$!
        for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
        ADDR=127.0.0.1:$(cat "$T/port")
}
stop_fake() { kill "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null; }

# Another package, with none of the fake's blobs: a store holding it must
# stay as it was through every failed pull.
other=$T/other
mkdir -p "$other"
sed 's/kat_fault/kat_other/' "$pkg/normalizer.json" >"$other/normalizer.json"
echo 'def run(a, b): return [1]' >"$other/normalize.py"
head -c 200000 /dev/urandom >"$other/data.bin"
"$W" pack "$other" --into "$T/dst" >/dev/null
mkdir "$T/snap"
snapshot() { (cd "$T/dst" && find . -type f | sort && cat index.json) >"$T/snap/$1"; }
snapshot before
outside() { ls -A "$T" | grep -v -x -e snap -e port -e out -e err | sort; }
outside >"$T/snap/outside"

pull_fails() { # DESC MODE ERROR-REGEX
        fake "$2"
        wh_run_raw pull "$T/dst" "$ADDR/x:1.0.0"
        stop_fake
        expect "$1" rc=1 "err~$3"
        snapshot after
        assert_true "$1: store unchanged" cmp -s "$T/snap/before" "$T/snap/after"
}
pull_fails "500 from the registry" 500 'answered 500 to GET .*injected failure'
pull_fails "401 loop" 401loop 'keeps answering 401'
pull_fails "connection dropped mid-blob every time" drop-always 'transfer closed'
pull_fails "corrupted blob" corrupt 'does not match its digest'
assert_eq "nothing written outside the store" "$(cat "$T/snap/outside")" "$(outside)"

fake drop-once
wh_run_raw pull --json "$T/dst" "$ADDR/x:1.0.0"
stop_fake
expect "dropped once: the pull resumes" rc=0 'out~"tag":"kat_fault:1.0.0"'
wh_run_raw store verify "$T/dst"
expect "resumed pull: store verifies" rc=0

fake bearer
wh_run_raw pull --json "$T/bearer" "$ADDR/x:1.0.0"
expect "bearer token flow (anonymous token)" rc=0 'out~"blobs_received":2'
wh_run_raw push --json --chunk-size 64K "$T/dst" kat_other:1.0.0 "$ADDR/x:pushed"
expect "bearer: chunked push" rc=0 'out~"blobs_sent":2'
wh_run_raw pull --json "$T/bearer2" "$ADDR/x:pushed"
expect "bearer: pull what was pushed" rc=0 'out~"tag":"kat_other:1.0.0"' \
        "out~$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "kat_other:1.0.0") | .digest' "$T/dst/index.json")"
WHISKERS_REGISTRY_PASSWORD=wrong wh_run_raw pull --user alice "$T/bearer3" "$ADDR/x:1.0.0"
expect "bearer: token server refuses bad credentials" rc=1 'err~token server refused the credentials'
WHISKERS_REGISTRY_PASSWORD=s3cret wh_run_raw pull --user alice "$T/bearer3" "$ADDR/x:1.0.0"
expect "bearer: good credentials" rc=0
stop_fake

fake elsewhere
wh_run_raw push "$T/dst" kat_other:1.0.0 "$ADDR/x:elsewhere"
expect "upload location on another host refused" rc=1 'err~sent us to another server'
stop_fake

fake drop-patch
wh_run_raw push --json --chunk-size 64K "$T/dst" kat_other:1.0.0 "$ADDR/x:resumed"
expect "chunked push resumes after a dropped PATCH" rc=0 'out~"blobs_sent":2'
wh_run_raw pull --json "$T/resumed" "$ADDR/x:resumed"
expect "resumed upload arrived intact" rc=0 'out~"tag":"kat_other:1.0.0"'
stop_fake

finish
