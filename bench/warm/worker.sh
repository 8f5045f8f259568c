#!/usr/bin/env bash
# bench/warm/worker.sh: jobs/s of one `whiskers worker` (SQLite, or with
# --pg a PostgreSQL started by scripts/pg-start.sh; one slot by default)
# running a trivial Python normaliser, --warm against --cold, in the same
# run (--batch N: that many jobs per claim; default: the worker's adaptive
# claims). Each case: N distinct inputs submitted first (no reuse), then the
# worker's wall time with --exit-when-idle (start and stop included).
# Appends a table with the date, kernel and load to bench/RESULTS.md
# (--no-append: print only). A benchmark, not a test.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$(dirname "$here")")
cmdline="bench/warm/worker.sh${*:+ $*}"
jobs=100 append=1 slots=1 batch= pg=0
while (($#)); do
	case $1 in
	--jobs) jobs=${2:?}; shift ;;
	--concurrency) slots=${2:?}; shift ;;
	--batch) batch=${2:?}; shift ;;
	--pg) pg=1 ;;
	--no-append) append=0 ;;
	*) echo "usage: bench/warm/worker.sh [--jobs N] [--concurrency N] [--batch N] [--pg] [--no-append]" >&2; exit 2 ;;
	esac
	shift
done
W=${WHISKERS:-$repo/build/src/cli/whiskers}
T=$(mktemp -d)
trap '[ "$pg" = 1 ] && "$repo/scripts/pg-stop.sh" "$T/pg" >/dev/null 2>&1; rm -rf "$T"' EXIT
. "$here/worker_lib.sh"
trivial_normaliser
for i in $(seq "$jobs"); do echo "h$i.example.org" >"$T/in/$i"; done
store=SQLite url=
if [ "$pg" = 1 ]; then
	url=$("$repo/scripts/pg-start.sh" "$T/pg" fsync=off) || exit 1
	store="PostgreSQL (scripts/pg-start.sh, fsync=off)"
fi
rate() { # MODE -> jobs/s
	# One PostgreSQL database for both: the tenant keeps the warm jobs
	# from reusing the cold results.
	local db=${url:-sqlite://$T/$1.db}
	"$W" submit --db "$db" --tenant "$1" --normaliser trivial --input-ooi 'Hostname|internet|x' "$T"/in/* >/dev/null
	local t0 t1
	t0=$(date +%s.%N)
	"$W" worker --db "$db" --concurrency "$slots" ${batch:+--batch "$batch"} --exit-when-idle "--$1" \
		2>"$T/$1.log" || { tail -3 "$T/$1.log" >&2; exit 1; }
	t1=$(date +%s.%N)
	local done_n
	done_n=$("$W" results --db "$db" --tenant "$1" --limit "$jobs" --json | jq '[.[] | select(.outcome == "ok")] | length')
	[ "$done_n" = "$jobs" ] || { echo "bench: $1: only $done_n of $jobs ok" >&2; tail -3 "$T/$1.log" >&2; exit 1; }
	echo "$jobs $t0 $t1" | awk '{printf "%.1f %.2f", $1 / ($3 - $2), $3 - $2}'
}
read -r cold cold_s <<<"$(rate cold)"
read -r warm warm_s <<<"$(rate warm)"
[ -n "$cold" ] && [ -n "$warm" ] || exit 1
ratio=$(awk -v w="$warm" -v c="$cold" 'BEGIN {printf "%.1f", w / c}')
cat >"$T/table" <<EOF

## bench/warm/worker.sh — $(date -u '+%Y-%m-%d %H:%M UTC'), kernel $(uname -r), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)

\`$cmdline\` ($jobs jobs, $store, slots: $slots, claims: ${batch:-adaptive}, trivial Python normaliser; worker start and stop included; the machine is shared with other work)

| worker | wall s | jobs/s |
|---|---|---|
| --cold | $cold_s | $cold |
| --warm | $warm_s | $warm |
| warm / cold | | **${ratio}×** (target ≥ 15×) |
EOF
report "$T/table" "$append"
