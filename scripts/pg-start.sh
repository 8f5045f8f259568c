#!/usr/bin/env bash
# pg-start.sh DIR [setting=value ...]
#
# Starts a private PostgreSQL server for tests and benchmarks: a cluster in
# DIR/data made by initdb as an unprivileged user (postgres refuses root),
# listening only on 127.0.0.1 on a free port, its unix socket in DIR, login
# by a random password. Prints the postgres:// URL and writes it to DIR/url.
# Extra settings (e.g. fsync=off) go into the cluster's postgresql.conf.
#
# Run again on the same DIR after pg-stop.sh --keep, it starts the same
# cluster on the same port. Installs PostgreSQL with apt-get when missing
# (as root). Never touches a cluster it did not create: the Debian package's
# own cluster is left alone.
set -euo pipefail
dir=${1:?usage: pg-start.sh DIR [setting=value ...]}
shift

bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1; }
bin=$(bindir)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "pg-start: PostgreSQL is not installed; as root run: apt-get install postgresql" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  bin=$(bindir)
fi

if [ "$(id -u)" = 0 ]; then
  user=postgres
  if ! id "$user" >/dev/null 2>&1; then
    user=whiskers-pg
    id "$user" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$user"
  fi
  as() { runuser -u "$user" -- "$@"; }
else
  as() { "$@"; }
fi

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

port_free() { ! ss -Htln "sport = :$1" | grep -q .; }

start() {
  as "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 -o "-p $1" start >/dev/null
}

if [ ! -e "$dir/whiskers-pg" ]; then
  if [ -n "$(ls -A "$dir")" ]; then
    echo "pg-start: $dir is not empty and was not made by pg-start.sh" >&2
    exit 1
  fi
  # The marker: pg-stop.sh removes only directories that carry it.
  touch "$dir/whiskers-pg"
  head -c 18 /dev/urandom | base64 | tr '+/' '-_' >"$dir/password"
  chmod 600 "$dir/password"
  [ "$(id -u)" != 0 ] || chown -R "$user" "$dir"
  if ! as test -w "$dir"; then
    echo "pg-start: user $user cannot reach $dir: choose a directory whose parents it may enter (e.g. under /tmp)" >&2
    rm -f "$dir/whiskers-pg" "$dir/password"
    exit 1
  fi
  as "$bin/initdb" -D "$dir/data" -U whiskers --pwfile="$dir/password" \
    --auth=scram-sha-256 -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; exit 1; }
  {
    echo "listen_addresses = '127.0.0.1'"
    echo "unix_socket_directories = '$dir'"
    for s in "$@"; do echo "$s"; done
  } | as tee -a "$dir/data/postgresql.conf" >/dev/null
  started=
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    port=$((20000 + RANDOM % 40000))
    port_free "$port" || continue
    # Another process may take the port between the check and the bind.
    if start "$port"; then started=1; break; fi
  done
  [ -n "$started" ] || { cat "$dir/log" >&2; echo "pg-start: could not start" >&2; exit 1; }
  echo "$port" >"$dir/port"
  PGPASSWORD=$(cat "$dir/password") as "$bin/createdb" -h "$dir" -p "$port" -U whiskers whiskers
  echo "postgres://whiskers:$(cat "$dir/password")@127.0.0.1:$port/whiskers" >"$dir/url"
  chmod 600 "$dir/url"
else
  port=$(cat "$dir/port")
  as "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1 || start "$port" ||
    { tail -n 20 "$dir/log" >&2; exit 1; }
fi
cat "$dir/url"
