#!/usr/bin/env bash
# registry-stop.sh DIR: stop the registry registry-start.sh started in DIR
# (only the pid it recorded) and remove DIR.
set -euo pipefail
dir=${1:?usage: registry-stop.sh DIR}
[ -d "$dir" ] || exit 0
if [ -f "$dir/pid" ]; then
        pid=$(cat "$dir/pid")
        if kill "$pid" 2>/dev/null; then
                for _ in $(seq 50); do
                        kill -0 "$pid" 2>/dev/null || break
                        sleep 0.1
                done
                kill -9 "$pid" 2>/dev/null || true
        fi
fi
rm -rf "$dir"
