#!/usr/bin/env bash
# Runs one libFuzzer target (tests/fuzz, docs/fuzzing.md):
#   scripts/fuzz.sh TARGET MINUTES     e.g. scripts/fuzz.sh regex 30
#   scripts/fuzz.sh TARGET SECONDSs    e.g. scripts/fuzz.sh regex 15s (what CI does)
#   scripts/fuzz.sh --list
# First every input of tests/fuzz/regress/TARGET/, seeds/TARGET/ and
# corpus/TARGET/ is replayed (any crash, hang or leak fails), then the
# target fuzzes for the given time. New inputs go to $BUILD/fuzz-corpus/
# TARGET (kept between runs, never into the source tree); a crash is
# written to $BUILD/fuzz-artifacts/TARGET/: minimise it (fuzz_TARGET
# -minimize_crash=1 FILE) and check it in under tests/fuzz/regress/TARGET/. The last line is the result for
# docs/fuzzing.md: target, time, executions, coverage, features, crashes.
#
# BUILD is $WH_FUZZ_BUILD or build-fuzz, configured and built here with
# clang unless WH_FUZZ_NO_BUILD is set (ctest, which built it already).
# The log goes to $WH_FUZZ_LOGS/TARGET.log (default BUILD/fuzz-logs).
# Long campaigns on a shared machine (docs/fuzzing.md, "Results"):
#   WH_FUZZ_LOGS=/some/dir setsid nohup nice -n 19 scripts/fuzz.sh TARGET 30 &
set -euo pipefail
cd "$(dirname "$0")/.."
src=tests/fuzz
if [ "${1:-}" = --list ]; then
  for f in "$src"/fuzz_*.c; do f=${f##*/fuzz_}; echo "${f%.c}"; done
  exit 0
fi
[ $# -eq 2 ] || { echo "usage: $0 TARGET MINUTES|SECONDSs (or --list)" >&2; exit 2; }
target=$1 duration=$2
[ -e "$src/fuzz_$target.c" ] || { echo "fuzz.sh: no target $target ($0 --list)" >&2; exit 2; }
case $duration in
  *s) secs=${duration%s} ;;
  *) secs=$(awk -v m="$duration" 'BEGIN { printf "%d", m * 60 }') ;;
esac
[[ $secs =~ ^[0-9]+$ ]] || { echo "fuzz.sh: bad duration $duration" >&2; exit 2; }

build=${WH_FUZZ_BUILD:-build-fuzz}
if [ -z "${WH_FUZZ_NO_BUILD:-}" ]; then
  CC=clang scripts/build.sh "$build" -DWH_FUZZ=ON >/dev/null
fi
bin=$build/tests/fuzz/fuzz_$target
corpus=$build/fuzz-corpus/$target artifacts=$build/fuzz-artifacts/$target
log=${WH_FUZZ_LOGS:-$build/fuzz-logs}/$target.log
mkdir -p "$corpus" "$artifacts" "${log%/*}"

# Per input: 10 s of wall time is a hang (every engine here bounds its work
# far below that, even under ASan). Except where regexes are searched: a
# search may take RX_STEP_BUDGET steps before it gives up, by design, and
# fuzz_regex makes up to 8 of them: 2.5 s of CPU under ASan, over 10 s of
# wall time at nice 19 on a loaded machine (regress/regex/step-budget-8-
# searches). Archives need room; JSON-like inputs do not.
case $target in
  regex | schema | output) timeout=30 ;;
  *) timeout=10 ;;
esac
opts=(-timeout="$timeout" -rss_limit_mb=2048 -artifact_prefix="$artifacts/")
case $target in
  layer | bundle | zip | oci) opts+=(-max_len=65536) ;;
  *) opts+=(-max_len=8192) ;;
esac
# Dictionaries: the tokens of every language the target's input holds.
case $target in
  json) dicts=(json) ;;
  schema) dicts=(json schema-keywords regex) ;;
  regex) dicts=(regex) ;;
  output) dicts=(json contract schema-keywords regex) ;;
  meta | manifest) dicts=(json contract) ;;
  oci) dicts=(json package contract) ;;
  layer | bundle) dicts=(package) ;;
  zip) dicts=(contract) ;;
  seccomp) dicts=(seccomp) ;;
  warm) dicts=(warm) ;;
  *) dicts=() ;;
esac
if ((${#dicts[@]})); then
  mkdir -p "$build/fuzz-dict"
  for d in "${dicts[@]}"; do cat "$src/dict/$d.dict"; done >"$build/fuzz-dict/$target.dict"
  opts+=(-dict="$build/fuzz-dict/$target.dict")
fi
# Leaks inside libraries we do not build (tests/fuzz/lsan.supp says which).
export LSAN_OPTIONS=suppressions=$PWD/$src/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}
dirs=()
for d in "$src/regress/$target" "$src/seeds/$target" "$src/corpus/$target"; do
  [ -d "$d" ] && dirs+=("$d")
done

replay=()
((${#dirs[@]})) && mapfile -t replay < <(find "${dirs[@]}" -type f | sort)
if ((${#replay[@]})); then
  echo "fuzz.sh: $target: replaying ${#replay[@]} inputs"
  if ! "$bin" "${opts[@]}" "${replay[@]}" >"$log" 2>&1; then
    tail -n 40 "$log"
    echo "fuzz.sh: $target FAILED replaying the regression corpus or seeds (log: $log)" >&2
    exit 1
  fi
fi
((secs > 0)) || exit 0

echo "fuzz.sh: $target: fuzzing for ${secs}s"
rc=0
"$bin" "${opts[@]}" -max_total_time="$secs" -print_final_stats=1 "$corpus" "${dirs[@]}" \
  >"$log" 2>&1 || rc=$?
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
last=$(grep -E '^#[0-9]+' "$log" | tail -n1 || true)
cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
corp=$(sed -n 's/.* corp: \([0-9]*\/[0-9]*[a-zA-Z]*\).*/\1/p' <<<"$last")
ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
crashes=$(find "$artifacts" -type f | wc -l)
if ((rc != 0)); then
  grep -E 'ERROR|SUMMARY|fuzz_assert|Test unit written' "$log" | head -n 20 >&2 || true
  echo "fuzz.sh: $target FOUND A PROBLEM (exit $rc, log: $log, artifacts: $artifacts)" >&2
fi
per_sec=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n1)
echo "result: target=$target seconds=$secs execs=${execs:-?} exec/s=${per_sec:-?}" \
  "cov=${cov:-?} ft=${ft:-?} corp=${corp:-?} corpus-files=$(find "$corpus" -type f | wc -l)" \
  "artifacts=$crashes exit=$rc"
exit "$rc"
