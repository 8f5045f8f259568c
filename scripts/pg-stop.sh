#!/usr/bin/env bash
# pg-stop.sh [--keep] [--immediate] DIR
#
# Stops the server that pg-start.sh started in DIR and removes DIR.
# --keep leaves the cluster for pg-start.sh to start again; --immediate
# stops it the way a crash would (no checkpoint, clients cut off).
# Refuses directories that pg-start.sh did not make.
set -euo pipefail
keep=
mode=fast
while [ $# -gt 1 ]; do
  case $1 in
    --keep) keep=1 ;;
    --immediate) mode=immediate ;;
    *) echo "pg-stop: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
dir=${1:?usage: pg-stop.sh [--keep] [--immediate] DIR}
if [ ! -e "$dir/whiskers-pg" ]; then
  echo "pg-stop: $dir was not made by pg-start.sh; leaving it alone" >&2
  exit 1
fi
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
if [ -d "$dir/data" ]; then
  owner=$(stat -c %U "$dir/data")
  run() { if [ "$(id -u)" = 0 ]; then runuser -u "$owner" -- "$@"; else "$@"; fi; }
  if run "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    run "$bin/pg_ctl" -D "$dir/data" -m "$mode" -w -t 60 stop >/dev/null
  fi
fi
[ -n "$keep" ] || rm -rf "$dir"
