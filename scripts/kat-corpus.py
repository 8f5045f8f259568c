#!/usr/bin/env python3
"""Run OpenKAT's normaliser conformance corpus through whiskers (docs/openkat.md).

    scripts/kat-corpus.py --whiskers BIN --store LAYOUT [--cache DIR] [--schema-dir DIR] CORPUS [CASE...]
    scripts/kat-corpus.py --whiskers BIN --runtime-root ROOT [--schema-dir DIR] CORPUS [CASE...]

Every case CORPUS/cases/<case> (raw, meta.json, case.json, expected.json) runs
with `whiskers run --json`, pinned to case.json's "clock" when it has one.
With --store, it runs the case's package by case.json's "normalizer_id" from
the store, as a worker would (`whiskers pack --plugins CORPUS/plugins` made
it; unsigned packages allowed); with --runtime-root, the plugin directory
exactly as shipped (CORPUS/plugins/<plugin_package path>) on that root. Results are compared with expected.json as JSON; lists in any order
only where case.json says "order_insensitive". An expected error
({"error": {"type": T}}) is equal when the run failed with the same error:
T "ObservationsWithoutInputOOI" is whiskers' no_input_ooi; any other T a
normaliser_error of that Python class (the type is compared, not the
message: OpenKAT's messages carry pydantic URLs and the meta's JSON).

Prints a table (normaliser, cases, equal in every mode, time per mode: cold =
one whiskers run, load included) and exits 0 when every case is equal.

--warm (docs/warm.md): each case runs twice through one warm sandbox
(`whiskers run --warm ... raw raw`); the second input, a fork of a zygote
that already served one, is compared and must have run warm; the time is
that input's own (provenance total_us).

--modes cold,fork,persistent (docs/warm.md "Persistent"; --warm is
--modes fork): each case in each mode, a column per mode. Warm modes run
the case --inputs times (default 3) through one sandbox; inputs 2.. are
compared and timed (the median of their total_us). Persistent needs
--runtime-root: the plugin directory is copied with "warm": "persistent"
added to its normalizer.json (OpenKAT's plugins do not declare it), so one
process serves all the inputs of a case.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, OrderedDict
from pathlib import Path


def canonical(v):
    return json.dumps(v, sort_keys=True)


def multiset_equal(a, b):
    """Lists compared as multisets at every level (order_insensitive cases)."""
    def norm(v):
        if isinstance(v, list):
            return sorted(canonical(norm(x)) for x in v)
        if isinstance(v, dict):
            return {k: norm(x) for k, x in v.items()}
        return v

    return norm(a) == norm(b)


def error_type(report):
    """The OpenKAT exception type whiskers' first relevant error stands for."""
    for e in report.get("errors", []):
        if e["code"] == "no_input_ooi":
            return "ObservationsWithoutInputOOI"
        if e["code"] == "normaliser_error":
            parts = e["message"].split(": ")
            return parts[1] if len(parts) > 1 else parts[0]
    return None


def persistent_copy(plugin, scratch):
    """The plugin directory with "warm": "persistent" in its normalizer.json."""
    copy = Path(scratch) / plugin.name
    if not copy.exists():
        shutil.copytree(plugin, copy)
        manifest = json.loads((copy / "normalizer.json").read_text())
        manifest["warm"] = "persistent"
        (copy / "normalizer.json").write_text(json.dumps(manifest))
    return copy


def judge(case, expected, report):
    """(equal, why not) for one run report."""
    if "error" in expected:
        want = expected["error"]["type"]
        got = error_type(report)
        ok = not report["ok"] and got == want
        return ok, "" if ok else "expected error %s, got %s (ok=%s)" % (want, got, report["ok"])
    if not report["ok"]:
        return False, "run failed: %s" % canonical(report["errors"][:3])[:800]
    got = report["results"]
    ok = multiset_equal(got, expected) if case.get("order_insensitive") else got == expected
    return ok, "" if ok else "results differ from expected.json"


def run_case(args, corpus, case_dir, mode, scratch):
    case = json.loads((case_dir / "case.json").read_text())
    expected = json.loads((case_dir / "expected.json").read_text())
    plugin = corpus / "plugins" / case["plugin_package"].removeprefix("boefjes.plugins.").replace(".", "/")
    if mode == "persistent":
        plugin = persistent_copy(plugin, scratch)
    if args.store:
        cmd = [args.whiskers, "run", "--json", "--store", args.store, "--allow-unsigned",
               "--meta", str(case_dir / "meta.json"), case["normalizer_id"], str(case_dir / "raw")]
        if args.cache:
            cmd += ["--cache", args.cache]
    else:
        cmd = [args.whiskers, "run", "--json", "--runtime-root", args.runtime_root,
               "--meta", str(case_dir / "meta.json"), str(plugin), str(case_dir / "raw")]
    if args.schema_dir:
        cmd += ["--schema-dir", args.schema_dir]
    if mode != "cold":
        cmd += ["--isolation", mode] + [str(case_dir / "raw")] * (args.inputs - 1)
    if case.get("clock"):
        cmd += ["--clock", case["clock"]]
    t0 = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True)
    elapsed = time.monotonic() - t0
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        return case, False, elapsed, "no run report (exit %d): %s" % (proc.returncode, proc.stderr.decode()[:500])
    if mode == "cold":
        ok, why = judge(case, expected, report)
        return case, ok, elapsed, why
    later = report[1:]
    elapsed = statistics.median(r["provenance"]["timings"]["total_us"] for r in later) / 1e6
    for r in later:
        warm = r["status"].get("warm") or {}
        if r["status"]["mode"] != "warm" or warm.get("isolation") != mode:
            return case, False, elapsed, "ran %s %s, not warm %s" % (
                r["status"]["mode"], warm.get("isolation"), mode)
        ok, why = judge(case, expected, r)
        if not ok:
            return case, False, elapsed, "input %d: %s" % (warm.get("ordinal", 0), why)
    return case, True, elapsed, ""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", type=Path)
    ap.add_argument("cases", nargs="*")
    ap.add_argument("--whiskers", default=os.environ.get("WHISKERS", "whiskers"))
    where = ap.add_mutually_exclusive_group(required=True)
    where.add_argument("--store", help="run each case's package (its normalizer_id) from this OCI layout")
    where.add_argument("--runtime-root", help="run each plugin directory on this unpacked runtime image")
    ap.add_argument("--cache", help="with --store: where packages are unpacked (whiskers run --cache)")
    ap.add_argument("--schema-dir", help="schemas for types the plugins ship none for "
                    "(scripts/kat-runtime.sh: BUILD/kat-runtime/schemas)")
    ap.add_argument("--verbose", action="store_true", help="print why each unequal case differs")
    ap.add_argument("--warm", action="store_true", help="--modes fork --inputs 2")
    ap.add_argument("--modes", default="cold", help="comma-separated: cold, fork, persistent")
    ap.add_argument("--inputs", type=int, default=3, help="warm modes: inputs per sandbox (>= 2)")
    args = ap.parse_args()
    if args.warm:
        args.modes, args.inputs = "fork", 2
    modes = args.modes.split(",")
    if set(modes) - {"cold", "fork", "persistent"} or args.inputs < 2:
        ap.error("--modes takes cold, fork, persistent; --inputs at least 2")
    if "persistent" in modes and not args.runtime_root:
        ap.error("persistent needs --runtime-root (a copy of each plugin declares it)")
    dirs = sorted(p for p in (args.corpus / "cases").iterdir() if (p / "case.json").exists())
    if args.cases:
        dirs = [d for d in dirs if d.name in args.cases]
    rows = OrderedDict()
    failed = []
    with tempfile.TemporaryDirectory(prefix="kat-corpus.") as scratch:
        os.chmod(scratch, 0o755)  # the sandbox's uid reads the copies
        for d in dirs:
            for mode in modes:
                case, ok, elapsed, why = run_case(args, args.corpus, d, mode, scratch)
                row = rows.setdefault(case["plugin_package"].removeprefix("boefjes.plugins."), Counter())
                row["cases " + mode] += 1
                row["equal " + mode] += ok
                row["ms " + mode] += elapsed * 1000
                if not ok:
                    failed.append(("%s (%s)" % (d.name, mode), why))
    label = {"cold": "cold/ms", "fork": "fork/ms", "persistent": "persist/ms"}
    head = "%-42s %6s %6s" + " %11s" * len(modes)
    print(head % (("normaliser", "cases", "equal") + tuple(label[m] for m in modes)))
    total = Counter()
    for name, row in sorted(rows.items()) + [("total", total)]:
        if name != "total":
            total.update(row)
        n = row["cases " + modes[0]]
        if n:
            print(head.replace("%11s", "%11.1f").replace("%6s", "%6d") % (
                (name, n, min(row["equal " + m] for m in modes)) + tuple(row["ms " + m] / n for m in modes)))
    for name, why in failed:
        print("NOT EQUAL %s: %s" % (name, why), file=sys.stderr)
    return 0 if dirs and not failed else 1


if __name__ == "__main__":
    sys.exit(main())
