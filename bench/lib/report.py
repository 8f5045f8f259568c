#!/usr/bin/env python3
"""report.py: turns the bench's raw results into Markdown tables.

  report.py startup MANIFEST
      MANIFEST: one line per case, tab-separated: group, case, program, status,
      detail, note. status "ok": detail is a hyperfine --export-json file;
      otherwise detail says why the case did not run. The row of case "plain"
      in a group is that group's baseline (fork+exec of the same program).
  report.py seccomp SAMPLES BASELINE_VARIANT
      SAMPLES: lines "variant<TAB>ns_per_syscall", several per variant, in the
      order they ran. Prints the median per variant and the overhead of the
      "whiskers" variant (seccomp on) over BASELINE_VARIANT; and, given the
      variants "plain" and "plain+allow-all-filter", the floor: what a
      one-instruction allow-everything filter costs.
"""
import json
import statistics
import sys


def startup(manifest):
    rows = []
    with open(manifest) as f:
        for line in f:
            group, case, program, status, detail, note = line.rstrip("\n").split("\t")
            mean = sd = median = None
            if status == "ok":
                with open(detail) as j:
                    r = json.load(j)["results"][0]
                mean, sd, median = r["mean"] * 1e3, r["stddev"] * 1e3, r["median"] * 1e3
            rows.append((group, case, program, mean, sd, median, status, detail, note))
    base = {r[0]: r[3] for r in rows if r[1] == "plain" and r[3]}
    print("| case | program | mean ms | ± sd ms | median ms | × plain fork+exec (mean) | note |")
    print("|---|---|---:|---:|---:|---:|---|")
    for group, case, program, mean, sd, median, status, detail, note in rows:
        if mean is None:
            print(f"| {case} | {program} | – | – | – | – | not runnable: {detail} |")
            continue
        ratio = f"{mean / base[group]:.1f}" if group in base else "–"
        print(f"| {case} | {program} | {mean:.2f} | {sd:.2f} | {median:.2f} | {ratio} | {note} |")
    medians = {r[0]: r[5] for r in rows if r[1] == "plain" and r[5]}
    for group, case, _, mean, _, median, _, _, _ in rows:
        if group == "true" and case == "whiskers" and mean and "true" in base:
            print(f"\nwhiskers exec /bin/true: {mean / base['true']:.1f}x plain fork+exec by mean,"
                  f" {median / medians['true']:.1f}x by median (target: <= 4x)")


def seccomp(samples, baseline):
    values = {}
    with open(samples) as f:
        for line in f:
            variant, ns = line.split("\t")
            values.setdefault(variant, []).append(float(ns))
    med = {v: statistics.median(xs) for v, xs in values.items()}
    print("| loop runs in | median ns/syscall | min | runs |")
    print("|---|---:|---:|---:|")
    for v, xs in values.items():
        print(f"| {v} | {med[v]:.1f} | {min(xs):.1f} | {len(xs)} |")
    if "whiskers" in med and baseline in med:
        by_median = (med["whiskers"] / med[baseline] - 1) * 100
        by_min = (min(values["whiskers"]) / min(values[baseline]) - 1) * 100
        print(f"\nseccomp overhead: {by_median:+.1f} % by median, {by_min:+.1f} % by minimum"
              f" (whiskers default filter vs {baseline}; target: <= 3 %)")
    else:
        print(f"\nseccomp overhead: not measured (need variants whiskers and {baseline})")
    if "plain" in med and "plain+allow-all-filter" in med:
        by_median = (med["plain+allow-all-filter"] / med["plain"] - 1) * 100
        by_min = (min(values["plain+allow-all-filter"]) / min(values["plain"]) - 1) * 100
        print(f"\nfloor (any filter at all: allow-all filter vs none, on the host):"
              f" {by_median:+.1f} % by median, {by_min:+.1f} % by minimum")


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "startup":
        startup(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "seccomp":
        seccomp(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
