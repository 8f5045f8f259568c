#!/usr/bin/env bash
# bench/warm/worker.sh: jobs/s of one `whiskers worker` (one slot by
# default) running a trivial Python normaliser, --warm against --cold, in
# the same run, on SQLite and/or a PostgreSQL started by scripts/pg-start.sh
# (--stores sqlite,pg; --pg is --stores pg). --batch N: that many jobs per
# claim (default: the worker's adaptive claims). Each case: N distinct
# inputs submitted first (no reuse), then the worker's wall time with
# --exit-when-idle (start and stop included); --warm-jobs N gives the warm
# runs more jobs, so that they last long enough to measure throughput
# rather than start-up; --rounds R repeats every case R times, interleaved
# (cold and warm of each store in turn), and reports the median.
# WHISKERS_BEFORE=path/to/whiskers runs every case with that binary too,
# in the same rounds: before and after in one run.
# Appends a table with the date, kernel and load to bench/RESULTS.md
# (--no-append: print only). A benchmark, not a test.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$(dirname "$here")")
cmdline="bench/warm/worker.sh${*:+ $*}"
jobs=100 warm_jobs='' append=1 slots=1 batch='' stores=sqlite rounds=1
while (($#)); do
	case $1 in
	--jobs) jobs=${2:?}; shift ;;
	--warm-jobs) warm_jobs=${2:?}; shift ;;
	--concurrency) slots=${2:?}; shift ;;
	--batch) batch=${2:?}; shift ;;
	--pg) stores=pg ;;
	--stores) stores=${2:?}; shift ;;
	--rounds) rounds=${2:?}; shift ;;
	--no-append) append=0 ;;
	*) echo "usage: bench/warm/worker.sh [--jobs N] [--warm-jobs N] [--concurrency N] [--batch N] [--pg | --stores sqlite,pg] [--rounds R] [--no-append]" >&2; exit 2 ;;
	esac
	shift
done
warm_jobs=${warm_jobs:-$jobs}
W=${WHISKERS:-$repo/build/src/cli/whiskers}
T=$(mktemp -d)
trap '[ -e "$T/pg/whiskers-pg" ] && "$repo/scripts/pg-stop.sh" "$T/pg" >/dev/null 2>&1; rm -rf "$T"' EXIT
. "$here/worker_lib.sh"
trivial_normaliser
pg_url=
case ",$stores," in *,pg,*)
	pg_url=$("$repo/scripts/pg-start.sh" "$T/pg" fsync=off) || exit 1 ;;
esac
store_name() { [ "$1" = pg ] && echo "PostgreSQL (scripts/pg-start.sh, fsync=off)" || echo SQLite; }

rate() { # CASE BINARY STORE MODE JOBS -> jobs/s and wall s
	# Every case has its own inputs and tenant: no run reuses another's
	# results. SQLite: a file per case; PostgreSQL: one database.
	local run_n=$1 w=$2 n=$5 i db
	shift 2
	db=${pg_url:-}
	[ "$1" = sqlite ] && db=sqlite://$T/$run_n.db
	mkdir "$T/in/$run_n"
	for i in $(seq "$n"); do echo "h$run_n-$i.example.org" >"$T/in/$run_n/$i"; done
	"$w" submit --db "$db" --tenant "t$run_n" --normaliser trivial --input-ooi 'Hostname|internet|x' \
		"$T/in/$run_n"/* >/dev/null
	local t0 t1
	t0=$(date +%s.%N)
	"$w" worker --db "$db" --concurrency "$slots" ${batch:+--batch "$batch"} --exit-when-idle "--$2" \
		2>"$T/$run_n.log" || { tail -3 "$T/$run_n.log" >&2; exit 1; }
	t1=$(date +%s.%N)
	local done_n
	done_n=$("$w" results --db "$db" --tenant "t$run_n" --limit "$n" --json | jq '[.[] | select(.outcome == "ok")] | length')
	[ "$done_n" = "$n" ] || { echo "bench: $1 $2: only $done_n of $n ok" >&2; tail -3 "$T/$run_n.log" >&2; exit 1; }
	echo "$n $t0 $t1" | awk '{printf "%.1f %.2f", $1 / ($3 - $2), $3 - $2}'
}
median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

builds=after
[ -n "${WHISKERS_BEFORE:-}" ] && builds="before after"
declare -A rates walls
case_n=0
for _ in $(seq "$rounds"); do
	for store in ${stores//,/ }; do
		for build in $builds; do
			w=$W
			[ "$build" = before ] && w=$WHISKERS_BEFORE
			for mode in cold warm; do
				n=$jobs
				[ "$mode" = warm ] && n=$warm_jobs
				case_n=$((case_n + 1))
				read -r r s <<<"$(rate "$case_n" "$w" "$store" "$mode" "$n")"
				[ -n "$r" ] || exit 1
				rates[$store.$build.$mode]+="$r "
				walls[$store.$build.$mode]+="$s "
			done
		done
	done
done
{
	echo
	echo "## bench/warm/worker.sh — $(date -u '+%Y-%m-%d %H:%M UTC'), kernel $(uname -r), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
	echo
	echo "\`$cmdline\` (cold $jobs jobs, warm $warm_jobs jobs, slots: $slots, claims: ${batch:-adaptive}, trivial Python normaliser; worker start and stop included; $rounds round(s), median; the machine is shared with other work)"
	echo
	if [ "$builds" != after ]; then
		echo "before: \`$WHISKERS_BEFORE\`, after: \`$W\`"
		echo
	fi
	echo "| store | build | worker | wall s (each round) | jobs/s (each round) | jobs/s median |"
	echo "|---|---|---|---|---|---|"
	declare -A med
	for store in ${stores//,/ }; do
		for build in $builds; do
			for mode in cold warm; do
				k=$store.$build.$mode
				med[$mode]=$(tr ' ' '\n' <<<"${rates[$k]}" | grep . | median)
				echo "| $(store_name "$store") | $build | --$mode | ${walls[$k]% } | ${rates[$k]% } | ${med[$mode]} |"
			done
			ratio=$(awk -v w="${med[warm]}" -v c="${med[cold]}" 'BEGIN {printf "%.1f", w / c}')
			echo "| $(store_name "$store") | $build | warm / cold | | | **${ratio}×** (target ≥ 15×) |"
		done
	done
} >"$T/table"
report "$T/table" "$append"
