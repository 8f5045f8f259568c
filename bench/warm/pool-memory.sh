#!/usr/bin/env bash
# bench/warm/pool-memory.sh: the memory of a warm worker's pool at K keys
# (K tenants of one trivial Python normaliser: one warm sandbox each). One
# job per tenant, --warm-max K, then, with every sandbox kept: the pool's
# whiskers_pool_rss_bytes (the sum of the inits' and zygotes' VmRSS, shared
# pages counted in each), the same processes' Pss (shared pages split
# between them: what they really cost together), and the worker's own RSS
# (the supervisor state of the K entries plus the worker itself, against a
# worker with one key). Appends a table to bench/RESULTS.md (--no-append:
# print only). A benchmark, not a test.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$(dirname "$here")")
cmdline="bench/warm/pool-memory.sh${*:+ $*}"
keys=32 append=1
while (($#)); do
	case $1 in
	--keys) keys=${2:?}; shift ;;
	--no-append) append=0 ;;
	*) echo "usage: bench/warm/pool-memory.sh [--keys K] [--no-append]" >&2; exit 2 ;;
	esac
	shift
done
W=${WHISKERS:-$repo/build/src/cli/whiskers}
T=$(mktemp -d)
wpid=
trap '[ -n "$wpid" ] && kill "$wpid" 2>/dev/null; rm -rf "$T"' EXIT
. "$here/worker_lib.sh"
trivial_normaliser
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

kb() { sed -n "s/^$2:[[:space:]]*\([0-9]*\) kB/\1/p" "$1" 2>/dev/null | head -1; }
# measure K -> "pool_rss_kB pss_kB entries worker_rss_kB"
measure() {
	local k=$1 db=sqlite://$T/k$1.db i pss=0 p
	for i in $(seq "$k"); do
		echo "h$i.example.org" >"$T/in/$i"
		"$W" submit --db "$db" --tenant "t$i" --normaliser trivial --input-ooi 'Hostname|internet|x' \
			"$T/in/$i" >/dev/null
	done
	"$W" worker --db "$db" --concurrency 1 --warm-max "$k" --metrics-port "$port" 2>"$T/k$k.log" &
	wpid=$!
	for _ in $(seq 600); do
		[ "$("$W" status --db "$db" --json | jq .done)" = "$k" ] && break
		sleep 0.1
	done
	sleep 1.5 # the last entry's RSS is measured when it is given back
	local m
	m=$(curl -sf "http://127.0.0.1:$port/metrics")
	# The inits are the worker's children, the zygotes theirs.
	for p in $(pgrep -P "$wpid") $(pgrep -P "$(pgrep -d, -P "$wpid")"); do
		pss=$((pss + $(kb "/proc/$p/smaps_rollup" Pss)))
	done
	echo "$(($(sed -n 's/^whiskers_pool_rss_bytes //p' <<<"$m") / 1024)) $pss" \
		"$(sed -n 's/^whiskers_pool_normalisers //p' <<<"$m")" "$(kb "/proc/$wpid/status" VmRSS)"
	kill -TERM "$wpid"
	wait "$wpid" || true
	wpid=
}
read -r rss1 pss1 n1 w1 <<<"$(measure 1)"
read -r rssk pssk nk wk <<<"$(measure "$keys")"
[ "$nk" = "$keys" ] || { echo "bench: $nk of $keys entries kept" >&2; exit 1; }
mb() { awk -v v="$1" 'BEGIN {printf "%.1f", v / 1024}'; }
per() { awk -v a="$1" -v b="$2" -v k="$3" 'BEGIN {printf "%.2f", (b - a) / 1024 / (k - 1)}'; }
cat >"$T/table" <<EOF

## bench/warm/pool-memory.sh — $(date -u '+%Y-%m-%d %H:%M UTC'), kernel $(uname -r), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)

\`$cmdline\` (one trivial Python normaliser, one tenant per key, SQLite, one slot; the machine is shared with other work)

| MB | 1 key | $keys keys | per added key |
|---|---|---|---|
| whiskers_pool_rss_bytes (inits + zygotes, VmRSS) | $(mb "$rss1") | $(mb "$rssk") | $(per "$rss1" "$rssk" "$keys") |
| Pss of the same processes | $(mb "$pss1") | $(mb "$pssk") | $(per "$pss1" "$pssk" "$keys") |
| the worker's own VmRSS (supervisor state) | $(mb "$w1") | $(mb "$wk") | $(per "$w1" "$wk" "$keys") |
EOF
report "$T/table" "$append"
