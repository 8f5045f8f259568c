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
# --rounds R: the warm run and the floor R times, alternating, so that the
# load of a shared machine falls on both alike; figures are the medians of the
# rounds' medians. WHISKERS_BEFORE=BINARY adds, in each round, the same warm
# run with that binary (a before/after comparison in one run).
# Appends the report to bench/RESULTS.md (--no-append: print only).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$(dirname "$here")")
WHISKERS=${WHISKERS:-$repo/build/src/cli/whiskers}
BEFORE=${WHISKERS_BEFORE:-}
cmdline="WHISKERS=$(printf '%q' "$WHISKERS")${BEFORE:+ WHISKERS_BEFORE=$(printf '%q' "$BEFORE")} bench/warm/run.sh $*"
n=200 append=1 rounds=1
while (($#)); do
	case $1 in
	--inputs) n=$2; shift ;;
	--rounds) rounds=$2; shift ;;
	--no-append) append=0 ;;
	-h | --help)
		echo "Usage: bench/warm/run.sh [--inputs N] [--rounds R] [--no-append]   (env WHISKERS: the binary; WHISKERS_BEFORE: another, compared)"
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
"$WHISKERS" run --json --warm trivial input/raw --meta input/meta.json >warm-one.json || exit 1
[ "$(jq -c .results cold.json)" = "$(jq -c .results warm-one.json)" ] || {
	echo "warm: warm and cold results differ" >&2
	exit 1
}

hyperfine -N -w 3 -r "$((n < 100 ? n : 100))" --export-json cold-hf.json \
	-n cold "$WHISKERS run --json trivial input/raw --meta input/meta.json" >hyperfine.log 2>&1 ||
	{ cat hyperfine.log >&2; exit 1; }
# The floor's sandbox gets the zygote's seccomp rule (src/sandbox/warm_isolate.c).
{ cat "$repo/policies/default.policy"; echo "allow clone arg0 & CLONE_NEWNS|CLONE_NEWCGROUP|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWNET == 0"; } >zygote.policy
for ((r = 1; r <= rounds; r++)); do
	if [ -n "$BEFORE" ]; then
		t0=$(date +%s%N)
		"$BEFORE" run --json trivial "${raws[@]}" --meta input/meta.json >"before$r.json" || exit 1
		t1=$(date +%s%N)
		echo "$((t1 - t0))" >"before$r.ns"
	fi
	t0=$(date +%s%N)
	"$WHISKERS" run --json trivial "${raws[@]}" --meta input/meta.json >"warm$r.json" || exit 1
	t1=$(date +%s%N)
	echo "$((t1 - t0))" >"warm$r.ns"
	"$WHISKERS" exec --seccomp-policy "$tmp/zygote.policy" --ro-bind "$tmp/trivial:/normaliser" --ro-bind "$tmp/input:/input" \
		--ro-bind "$repo/runtimes/python/shim.py:/shim.py" --ro-bind "$here/floor.py:/floor.py" \
		-- /usr/bin/python3 -I -S -B /floor.py /shim.py /normaliser normalize.py /input/raw "$n" \
		>"floor$r.json" || { echo "warm: the floor run failed" >&2; exit 1; }
done

report=$tmp/report.md
{
	echo "## $(date -u '+%Y-%m-%d %H:%M:%S UTC') — warm vs cold vs floor"
	echo
	echo "- command: \`$cmdline\`"
	echo "- machine: $(nproc) cores, $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)," \
		"kernel $(uname -r), running as $(id -un), load average at start $load"
	echo "- whiskers: source HEAD $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?'), $(/usr/bin/python3 --version)"
	echo "- normaliser: \`whiskers new trivial\` on 3 hostnames; $n warm inputs in one run; cold: hyperfine -N;" \
		"$rounds round(s) of warm${BEFORE:+, warm before} and floor, alternating"
	echo
	python3 - "$rounds" <<'PY'
import json, os, statistics, sys
rounds = int(sys.argv[1])
cold = json.load(open("cold-hf.json"))["results"][0]
med = statistics.median


def warm_run(prefix, r):
    runs = json.load(open("%s%d.json" % (prefix, r)))
    assert all(x["status"]["mode"] == "warm" and x["status"]["status"] == "ok" for x in runs)
    return [x["provenance"]["timings"]["total_us"] for x in runs]


def warm_rows(prefix, label):
    us = [warm_run(prefix, r) for r in range(1, rounds + 1)]
    rest = [u[1:] for u in us]
    rows = [("%s (per input, 2..N)" % label, med([med(x) for x in rest]),
             statistics.mean(v for x in rest for v in x))]
    total = med([int(open("%s%d.ns" % (prefix, r)).read()) / 1000 / len(us[0]) for r in range(1, rounds + 1)])
    if prefix == "warm":
        rows += [("warm: the first input (zygote start)", med([u[0] for u in us]), med([u[0] for u in us]))]
    return rows + [("%s: whole command / N" % label, total, total)]


floors = [json.load(open("floor%d.json" % r)) for r in range(1, rounds + 1)]
floor = {case: {k: med([f[case][k] for f in floors]) for k in ("median_us", "mean_us")} for case in floors[0]}
rows = [("cold (whiskers run, one input)", med(cold["times"]) * 1e6, cold["mean"] * 1e6)]
rows += warm_rows("warm", "warm")
if os.path.exists("before1.json"):
    rows += warm_rows("before", "warm, WHISKERS_BEFORE")
rows += [
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
for name, median, mean in rows:
    print("| %s | %.2f | %.2f |" % (name, median / 1000, mean / 1000))
wm = rows[1][1]
total_us = rows[3][1]
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
      % (med(cold["times"]) * 1e6 / wm, cold["mean"] * 1e6 / total_us))
if os.path.exists("before1.json"):
    before, before_total = rows[4][1], rows[5][1]
    print("warm before / warm: %.2fx by median (%.2f -> %.2f ms per input); whole command / N: %.2fx (%.2f -> %.2f ms)"
          % (before / wm, before / 1000, wm / 1000, before_total / total_us, before_total / 1000, total_us / 1000))
PY
	echo
} >"$report"
cat "$report"
((append)) && { echo; cat "$report"; } >>"$repo/bench/RESULTS.md"
exit 0
