#!/usr/bin/env bash
# bench/warm: per-input cost of a warm run against a cold one and against the
# floor, side by side in one run, for the trivial Python normaliser
# (`whiskers new trivial`, 3 hostnames):
#   cold        `whiskers run --json` once per input (hyperfine -N): sandbox,
#               interpreter start, load, run, checks, provenance
#   warm        one `whiskers run --json --warm` over N copies of the input:
#               per input the provenance's total_us (stage, the fork and the
#               child's run, checks, provenance); inputs 2..N, the first pays
#               the zygote's start, reported apart
#   floor       in a `whiskers exec` sandbox, the same interpreter with the
#               same normaliser loaded by the shim and gc.freeze(): a bare
#               fork()+_exit+waitpid (fork-exit), and fork + run() on the
#               input + items through a pipe (fork-input) — bench/warm/floor.py;
#               what the child's isolation costs: warm's clone into new user
#               and pid namespaces + setpgid + _exit (clone-ns-exit), and the
#               supervisor's check of a child (check)
# Ratios printed: warm/floor (target <= 1.5x of fork-exit), cold/warm.
# Appends the report to bench/RESULTS.md (--no-append: print only).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$(dirname "$here")")
WHISKERS=${WHISKERS:-$repo/build/src/cli/whiskers}
cmdline="WHISKERS=$(printf '%q' "$WHISKERS") bench/warm/run.sh $*"
n=200 append=1
while (($#)); do
	case $1 in
	--inputs) n=$2; shift ;;
	--no-append) append=0 ;;
	-h | --help)
		echo "Usage: bench/warm/run.sh [--inputs N] [--no-append]   (env WHISKERS: the binary)"
		exit 0
		;;
	*) echo "warm: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
command -v hyperfine >/dev/null || apt-get install -y -qq hyperfine >/dev/null
[ -x "$WHISKERS" ] || { echo "warm: $WHISKERS is not executable (set WHISKERS)" >&2; exit 2; }

tmp=$(mktemp -d /tmp/wh-warm-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
cd "$tmp" || exit 1
"$WHISKERS" new trivial >/dev/null || exit 1
mkdir input
printf 'a.example\nb.example\nc.example\n' >input/raw
printf '{"task_id": "bench", "input_ooi": {"object_type": "Hostname", "primary_key": "Hostname|internet|a.example"}}' \
	>input/meta.json
raws=()
for ((i = 0; i < n; i++)); do raws+=(input/raw); done
load=$(cut -d' ' -f1-3 /proc/loadavg)

# Warm and cold must agree before they are timed.
"$WHISKERS" run --json trivial input/raw --meta input/meta.json >cold.json || exit 1
"$WHISKERS" run --json --warm trivial input/raw --meta input/meta.json >warm1.json || exit 1
[ "$(jq -c .results cold.json)" = "$(jq -c .results warm1.json)" ] || {
	echo "warm: warm and cold results differ" >&2
	exit 1
}

hyperfine -N -w 3 -r "$((n < 100 ? n : 100))" --export-json cold-hf.json \
	-n cold "$WHISKERS run --json trivial input/raw --meta input/meta.json" >hyperfine.log 2>&1 ||
	{ cat hyperfine.log >&2; exit 1; }
t0=$(date +%s%N)
"$WHISKERS" run --json trivial "${raws[@]}" --meta input/meta.json >warm.json || exit 1
t1=$(date +%s%N)
# The floor's sandbox gets the zygote's seccomp rule (src/sandbox/warm_isolate.c).
{ cat "$repo/policies/default.policy"; echo "allow clone arg0 & CLONE_NEWNS|CLONE_NEWCGROUP|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWNET == 0"; } >zygote.policy
"$WHISKERS" exec --seccomp-policy "$tmp/zygote.policy" --ro-bind "$tmp/trivial:/normaliser" --ro-bind "$tmp/input:/input" \
	--ro-bind "$repo/runtimes/python/shim.py:/shim.py" --ro-bind "$here/floor.py:/floor.py" \
	-- /usr/bin/python3 -I -S -B /floor.py /shim.py /normaliser normalize.py /input/raw "$n" \
	>floor.json || { echo "warm: the floor run failed" >&2; exit 1; }

report=$tmp/report.md
{
	echo "## $(date -u '+%Y-%m-%d %H:%M:%S UTC') — warm vs cold vs floor"
	echo
	echo "- command: \`$cmdline\`"
	echo "- machine: $(nproc) cores, $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)," \
		"kernel $(uname -r), running as $(id -un), load average at start $load"
	echo "- whiskers: source HEAD $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?'), $(/usr/bin/python3 --version)"
	echo "- normaliser: \`whiskers new trivial\` on 3 hostnames; $n warm inputs in one run; cold: hyperfine -N"
	echo
	python3 - cold-hf.json warm.json floor.json "$((t1 - t0))" <<'PY'
import json, statistics, sys
cold = json.load(open(sys.argv[1]))["results"][0]
warm = json.load(open(sys.argv[2]))
floor = json.load(open(sys.argv[3]))
total_ns = int(sys.argv[4])
assert all(r["status"]["mode"] == "warm" and r["status"]["status"] == "ok" for r in warm)
us = [r["provenance"]["timings"]["total_us"] for r in warm]
first, rest = us[0], us[1:]
rows = [
    ("cold (whiskers run, one input)", statistics.median(cold["times"]) * 1e6, cold["mean"] * 1e6),
    ("warm (per input, 2..N)", statistics.median(rest), statistics.mean(rest)),
    ("warm: the first input (zygote start)", first, first),
    ("warm: whole command / N", total_ns / 1000 / len(us), total_ns / 1000 / len(us)),
    ("floor fork-exit", floor["fork-exit"]["median_us"], floor["fork-exit"]["mean_us"]),
    ("floor fork-input", floor["fork-input"]["median_us"], floor["fork-input"]["mean_us"]),
    ("floor clone-ns-exit (warm's isolated fork)", floor["clone-ns-exit"]["median_us"],
     floor["clone-ns-exit"]["mean_us"]),
    ("floor clone-ns-setsid-exit (setsid instead)", floor["clone-ns-setsid-exit"]["median_us"],
     floor["clone-ns-setsid-exit"]["mean_us"]),
    ("floor check (supervisor's isolation check)", floor["check"]["median_us"],
     floor["check"]["mean_us"]),
]
print("| case | median ms | mean ms |")
print("|---|---:|---:|")
for name, med, mean in rows:
    print("| %s | %.2f | %.2f |" % (name, med / 1000, mean / 1000))
wm = statistics.median(rest)
print()
print("warm / floor fork-exit: **%.2fx** by median (target <= 1.5x: %s); warm / floor fork-input: %.2fx"
      % (wm / floor["fork-exit"]["median_us"],
         "met" if wm <= 1.5 * floor["fork-exit"]["median_us"] else "MISSED",
         wm / floor["fork-input"]["median_us"]))
print("isolation: clone-ns-exit - fork-exit = %+.3f ms per input by median (%.2fx of fork-exit);"
      " the check %.3f ms" % ((floor["clone-ns-exit"]["median_us"] - floor["fork-exit"]["median_us"]) / 1000,
                              floor["clone-ns-exit"]["median_us"] / floor["fork-exit"]["median_us"],
                              floor["check"]["median_us"] / 1000))
print("cold / warm: **%.1fx** by median; cold / (whole warm command / N): %.1fx"
      % (statistics.median(cold["times"]) * 1e6 / wm, cold["mean"] * 1e6 / (total_ns / 1000 / len(us))))
PY
	echo
} >"$report"
cat "$report"
((append)) && { echo; cat "$report"; } >>"$repo/bench/RESULTS.md"
exit 0
