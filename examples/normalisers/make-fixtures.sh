#!/usr/bin/env bash
# Regenerates the raw files of the example normalisers' fixtures with the real
# tools (nmap, curl, openssl, ldnsutils; scripts/deps/contract.txt) against
# servers on 127.0.0.1, then their expected.json with `whiskers test
# --update`. Review the diff before committing: the raw files change on every
# run (ports, keys, times) and the expected results must still make sense.
#
#   examples/normalisers/make-fixtures.sh [WHISKERS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
WHISKERS=${1:-${WHISKERS:-$here/../../build/src/cli/whiskers}}
PY=/usr/bin/python3
work=$(mktemp -d /tmp/wh-fixtures.XXXXXX)
pids=()
cleanup() {
        for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
        rm -rf "$work"
}
trap cleanup EXIT

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return; sleep 0.1; done; echo "port $1 did not open" >&2; exit 1; }
# start DIR CMD...: runs `CMD PORT` in DIR in the background on a free port,
# which it leaves in $PORT (not a subshell: the cleanup must know the pid).
start() {
        local dir=$1
        shift
        PORT=$(free_port)
        (cd "$dir" && exec "$@" "$PORT") >/dev/null 2>&1 &
        pids+=($!)
        wait_port "$PORT"
}
# serve DIR: Python's static http.server; serve_script SCRIPT: our own server.
serve() { start "$1" "$PY" -m http.server --bind 127.0.0.1; }
serve_script() { start "$work" "$PY" "$1"; }
# meta FILE INPUT_PK OBJECT_TYPE MIME ENDED_AT: a meta document.
meta() {
        "$PY" - "$@" <<'PY'
import json, sys, uuid
path, pk, otype, mime, ended = sys.argv[1:6]
doc = {"task_id": str(uuid.uuid5(uuid.NAMESPACE_URL, path)),
       "input_ooi": {"object_type": otype, "primary_key": pk},
       "boefje_meta": {"boefje": {"id": mime.split("/")[-1]}, "ended_at": ended},
       "mime_types": [mime]}
open(path, "w").write(json.dumps(doc, indent=2) + "\n")
PY
}
now() { date -u +%Y-%m-%dT%H:%M:%SZ; }
fixture() { mkdir -p "$here/$1/fixtures/$2"; echo "$here/$1/fixtures/$2"; }

# nmap-xml: a TCP connect scan with service detection of 127.0.0.1, where an
# HTTP server and an SSH-like banner server listen; port 1 is closed.
nmap_xml() {
        local dir http banner
        dir=$(fixture nmap-xml localhost)
        serve "$work"
        http=$PORT
        cat >"$work/banner.py" <<'PY'
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8)
conns = []  # kept open: a server that hangs up at once looks "tcpwrapped"
while True:
    c, _ = s.accept()
    try:
        c.sendall(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"); conns.append(c)
    except OSError:  # the port scan's connect, reset at once
        c.close()
PY
        serve_script "$work/banner.py"
        banner=$PORT
        nmap -sT -sV --version-light -Pn -n -p "1,$http,$banner" -oX - 127.0.0.1 >"$dir/raw"
        meta "$dir/meta.json" "IPAddressV4|internet|127.0.0.1" IPAddressV4 boefje/nmap "$(now)"
}

# http-headers: curl -i of Python's http.server (no security headers, a
# versioned Server header) and of a server that sends them.
http_headers() {
        local dir port
        echo "<html><body>hello</body></html>" >"$work/index.html"
        serve "$work"
        port=$PORT
        dir=$(fixture http-headers python-http-server)
        curl -s -i "http://127.0.0.1:$port/" >"$dir/raw"
        meta "$dir/meta.json" "HTTPResource|internet|127.0.0.1|tcp|$port|http|/" HTTPResource \
                boefje/webpage-analysis "$(now)"
        cat >"$work/hardened.py" <<'PY'
import http.server, sys
class Handler(http.server.SimpleHTTPRequestHandler):
    server_version = "webserver"
    sys_version = ""
    def end_headers(self):
        self.send_header("Content-Security-Policy", "default-src 'self'")
        self.send_header("X-Frame-Options", "DENY")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        super().end_headers()
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
PY
        serve_script "$work/hardened.py"
        port=$PORT
        dir=$(fixture http-headers hardened)
        curl -s -i "http://127.0.0.1:$port/" >"$dir/raw"
        meta "$dir/meta.json" "HTTPResource|internet|127.0.0.1|tcp|$port|http|/" HTTPResource \
                boefje/webpage-analysis "$(now)"
}

# x509-cert: openssl-made certificates, printed by `openssl x509 -noout
# -text`: a 1024-bit RSA key; one valid for a day, scanned 30 days later;
# a P-256 key (no findings).
x509_cert() {
        local name key opt days seen dir
        while read -r name key opt days seen; do
                dir=$(fixture x509-cert "$name")
                openssl req -x509 -newkey "$key" -pkeyopt "$opt" -nodes -keyout "$work/key.pem" \
                        -out "$work/cert.pem" -days "$days" -subj "/O=whiskers example/CN=$name.example.test" \
                        -addext "subjectAltName=DNS:$name.example.test,IP:127.0.0.1" 2>/dev/null
                openssl x509 -in "$work/cert.pem" -noout -text >"$dir/raw"
                meta "$dir/meta.json" "Hostname|internet|$name.example.test" Hostname \
                        boefje/ssl-certificates "$(date -u -d "$seen" +%Y-%m-%dT%H:%M:%SZ)"
        done <<'LIST'
weak-rsa rsa:1024 rsa_keygen_bits:1024 365 now
expired rsa:2048 rsa_keygen_bits:2048 1 +30days
ec-p256 ec ec_paramgen_curve:prime256v1 90 now
LIST
}

# dnssec: `drill -D` answers (the zone's DNSKEYs, then www's A record) from
# ldns-testns serving example.test: signed; signed with signatures that
# expired in 2025; unsigned.
dnssec() {
        local kind dir port ksk zsk
        cat >"$work/zone" <<'ZONE'
$ORIGIN example.test.
$TTL 3600
@   IN SOA ns1.example.test. hostmaster.example.test. 2026112301 7200 3600 1209600 3600
@   IN NS  ns1.example.test.
ns1 IN A   127.0.0.1
www IN A   127.0.0.1
ZONE
        ksk=$(cd "$work" && ldns-keygen -a ECDSAP256SHA256 -k example.test)
        zsk=$(cd "$work" && ldns-keygen -a ECDSAP256SHA256 example.test)
        for kind in signed expired unsigned; do
                case $kind in
                signed) (cd "$work" && ldns-signzone -f zone.$kind zone "$ksk" "$zsk") ;;
                expired) (cd "$work" && ldns-signzone -i 20250101000000 -e 20250201000000 \
                        -f zone.$kind zone "$ksk" "$zsk") ;;
                unsigned) ldns-read-zone "$work/zone" >"$work/zone.$kind" ;;
                esac
                testns_data "$work/zone.$kind" >"$work/testns.data"
                port=$(free_port)
                ldns-testns -p "$port" "$work/testns.data" >/dev/null 2>&1 &
                pids+=($!)
                sleep 0.5
                dir=$(fixture dnssec "$kind")
                { drill -D -p "$port" @127.0.0.1 example.test DNSKEY
                  drill -D -p "$port" @127.0.0.1 www.example.test A; } >"$dir/raw"
                meta "$dir/meta.json" "Hostname|internet|www.example.test" Hostname boefje/dnssec "$(now)"
        done
}

# ldns-testns entries answering the two queries from a zone file: each
# RRset with its RRSIGs, or an empty answer.
testns_data() {
        "$PY" - "$1" <<'PY'
import collections, sys
records, sigs = collections.defaultdict(list), collections.defaultdict(list)
for line in open(sys.argv[1]):
    line = line.split(";")[0].strip()
    if not line or line.startswith("$"):
        continue
    f = line.split()
    if len(f) > 4 and f[3] == "RRSIG":
        sigs[(f[0].lower(), f[4])].append(line)
    elif len(f) > 4:
        records[(f[0].lower(), f[3])].append(line)
for name, qtype in (("example.test.", "DNSKEY"), ("www.example.test.", "A")):
    print("ENTRY_BEGIN\nMATCH opcode qtype qname\nADJUST copy_id\nREPLY QR AA NOERROR")
    print("SECTION QUESTION\n%s IN %s\nSECTION ANSWER" % (name, qtype))
    print("\n".join(records[(name, qtype)] + sigs[(name, qtype)]))
    print("ENTRY_END\n")
PY
}

# jsonl-exposure: curl probes well-known sensitive paths of a static server
# that exposes a Git config and an .env file, one JSON record per probe.
jsonl_exposure() {
        local site dir port path
        site="$work/site"
        mkdir -p "$site/.git"
        printf '[core]\n\trepositoryformatversion = 0\n\tbare = false\n' >"$site/.git/config"
        printf 'DATABASE_URL=postgres://app:secret@db/app\n' >"$site/.env"
        serve "$site"
        port=$PORT
        dir=$(fixture jsonl-exposure localhost)
        for path in /.git/config /.env /backup.sql /server-status /index.html; do
                curl -s -o /dev/null -w '%{json}\n' "http://127.0.0.1:$port$path"
        done >"$dir/raw"
        meta "$dir/meta.json" "Hostname|internet|127.0.0.1" Hostname boefje/exposed-files "$(now)"
}

nmap_xml
http_headers
x509_cert
dnssec
jsonl_exposure
make -s -C "$here/x509-cert"
for d in nmap-xml http-headers x509-cert dnssec jsonl-exposure; do
        "$WHISKERS" test --update "$here/$d"
done
