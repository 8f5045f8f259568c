#!/usr/bin/env bash
# registry-start.sh DIR [--htpasswd USER:PASSWORD] [--token REALM_URL CERT]
#
# Starts a private OCI registry (Debian's docker-registry, distribution 2.x)
# for tests and benchmarks: storage in DIR/data, listening only on
# 127.0.0.1 on a free port, logs in DIR/registry.log, its pid in DIR/pid.
# Prints HOST:PORT and writes it to DIR/addr. With --htpasswd, basic auth
# with that one user (htpasswd from apache2-utils); with --token, bearer
# auth against a token server at REALM_URL whose tokens are signed by the
# key of CERT (service "whiskers-test", issuer "whiskers-test"). As root the
# registry runs as nobody. Stop it with registry-stop.sh DIR.
set -euo pipefail
dir=${1:?usage: registry-start.sh DIR [--htpasswd USER:PASSWORD] [--token REALM CERT]}
shift
bin=$(command -v docker-registry || true)
if [ -z "$bin" ]; then
        echo "registry-start: docker-registry is missing (apt-get install docker-registry;" \
                "scripts/deps/registry.txt)" >&2
        exit 1
fi
mkdir -p "$dir/data"
dir=$(cd "$dir" && pwd)
auth=
while [ $# -gt 0 ]; do
        case $1 in
        --htpasswd)
                user=${2%%:*} pass=${2#*:}
                htpasswd -Bbc "$dir/htpasswd" "$user" "$pass" 2>/dev/null
                auth=$(printf 'auth:\n  htpasswd:\n    realm: whiskers-test\n    path: %s\n' \
                        "$dir/htpasswd")
                shift 2
                ;;
        --token)
                auth=$(printf 'auth:\n  token:\n    realm: %s\n    service: whiskers-test\n    issuer: whiskers-test\n    rootcertbundle: %s\n' "$2" "$3")
                shift 3
                ;;
        *)
                echo "registry-start: unknown option $1" >&2
                exit 2
                ;;
        esac
done
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$dir/config.yml" <<YML
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
$auth
YML
run=()
if [ "$(id -u)" = 0 ]; then
        chown -R nobody:nogroup "$dir/data"
        run=(setpriv --reuid=nobody --regid=nogroup --clear-groups --)
fi
"${run[@]}" "$bin" serve "$dir/config.yml" >"$dir/registry.log" 2>&1 </dev/null &
echo $! >"$dir/pid"
for _ in $(seq 100); do
        code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v2/" || true)
        if [ "$code" = 200 ] || [ "$code" = 401 ]; then
                echo "127.0.0.1:$port" | tee "$dir/addr"
                exit 0
        fi
        kill -0 "$(cat "$dir/pid")" 2>/dev/null || break
        sleep 0.1
done
echo "registry-start: the registry did not come up; see $dir/registry.log:" >&2
tail -5 "$dir/registry.log" >&2
kill "$(cat "$dir/pid")" 2>/dev/null || true
exit 1
