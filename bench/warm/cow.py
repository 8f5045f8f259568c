# bench/warm copy-on-write study (docs/warm.md "Copy-on-write"): what a
# fork of a heavy zygote (an OpenKAT normaliser with pydantic and the
# octopoes models loaded by the shim) costs per input, and what cuts it.
# Runs inside a `whiskers exec` sandbox on the OpenKAT runtime (cow.sh).
#
#   cow.py SHIM ROOT ENTRY INPUT_DIR N
#
# Per variant, N inputs after 5 unmeasured ones; each input is the shim's
# handle() on INPUT_DIR/raw and meta.json with the items written to a pipe
# the parent reads to EOF, as a warm child does (without the supervisor):
#   fork-exit         fork, the child _exits at once (the bare fork)
#   fork              fork, the child handles the input (gc.freeze()n zygote:
#                     what the shim does today)
#   fork-nofreeze     the same without gc.freeze()
#   fork-gcdisable    gc.freeze() and gc.disable() in the child
#   fork-collect      gc.freeze(), and the child runs a full collection
#                     before the input (what a big input triggers anyway)
#   fork-nofreeze-collect  the same without gc.freeze()
#   fork-template     forks of a "template": a child of the zygote that
#                     handled the input once (lazy caches built, its pages
#                     faulted), then gc.freeze()
#   persistent        no fork: the input handled in the same process again
#   prefault-learned  forks whose child, before its input, writes back one
#                     byte of each page a first child's input copied (learned
#                     once from /proc/self/pagemap: the zygote's private
#                     writable pages that child then held alone); the child
#                     runs no input code for it, so nothing of an input
#                     reaches the next. Reported apart: the prefault (what a
#                     child forked ahead would do before its input arrives)
#                     and the input after it, with the input's own faults
#   prefault-empty    the same, learned from a child that handled an empty
#                     raw file and meta (no tenant's input: nothing learned
#                     from one)
#   prefault-all      the same for every present page of the zygote's
#                     private writable mappings (nothing learned)
# Prints one JSON object: per variant median/mean microseconds and the
# children's median minor page faults (ru_minflt, copy-on-write included).
import gc
import json
import os
import statistics
import sys
import time

shim, root, entry, inputs, n = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
code = open(shim).read().rpartition("sys.exit(main(sys.argv))")[0]
g = {"__name__": "shim"}
exec(compile(code, shim, "exec"), g)
import json as _json  # noqa: E402,F401 (what the shim's zygote imports before forking)
import traceback  # noqa: E402,F401

run = g["load"](root, entry)
meta = json.load(open(inputs + "/meta.json"))
raw = open(inputs + "/raw", "rb").read()
handle = g["handle"]


def one_input(meta=meta, raw=raw, must_succeed=True):
    r, w = os.pipe()
    code = handle(run, meta, raw, w)
    os.close(w)
    while os.read(r, 65536):
        pass
    os.close(r)
    assert code == 0 or not must_succeed, "the input failed"


def in_child(body, before=None):
    """fork; the child runs body and _exits; returns the child's minor faults."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        if before:
            before()
        if body:
            code = handle(run, meta, raw, w)
            os._exit(code)
        os._exit(0)
    os.close(w)
    while os.read(r, 65536):
        pass
    os.close(r)
    _, status, ru = os.wait4(pid, 0)
    assert status == 0, "the child failed: %d" % status
    return ru.ru_minflt


def measure(f, count=n):
    for _ in range(5):
        f()
    t, faults = [], []
    for _ in range(count):
        t0 = time.perf_counter_ns()
        flt = f()
        t.append((time.perf_counter_ns() - t0) / 1000)
        if flt is not None:
            faults.append(flt)
    res = {"median_us": round(statistics.median(t)), "mean_us": round(statistics.mean(t))}
    if faults:
        res["minflt"] = statistics.median(faults)
    return res


res = {}
# Before any freeze: the zygote as loaded.
res["fork-nofreeze"] = measure(lambda: in_child(True))
res["fork-nofreeze-collect"] = measure(lambda: in_child(True, gc.collect))
gc.freeze()
res["fork-exit"] = measure(lambda: in_child(False))
res["fork"] = measure(lambda: in_child(True))
res["fork-gcdisable"] = measure(lambda: in_child(True, gc.disable))
res["fork-collect"] = measure(lambda: in_child(True, gc.collect))

# The template: a child that handled the input once, then serves forks.
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(r)
    one_input()
    gc.freeze()
    out = measure(lambda: in_child(True))
    os.write(w, json.dumps(out).encode())
    os._exit(0)
os.close(w)
data = b""
while True:
    chunk = os.read(r, 65536)
    if not chunk:
        break
    data += chunk
os.waitpid(pid, 0)
res["fork-template"] = json.loads(data)
res["persistent"] = measure(one_input)


def writable_ranges():
    """The zygote's private writable mappings, from /proc/self/maps."""
    out = []
    for line in open("/proc/self/maps"):
        f = line.split()
        if f[1] == "rw-p":
            lo, hi = (int(x, 16) for x in f[0].split("-"))
            out.append((lo, hi))
    return out


def pages_where(ranges, bit):
    """The pages of ranges whose /proc/self/pagemap entry has `bit` set
    (63: present; 56: mapped by this process alone)."""
    import array

    pages = []
    with open("/proc/self/pagemap", "rb") as pm:
        for lo, hi in ranges:
            pm.seek(lo // 4096 * 8)
            entries = array.array("Q", pm.read((hi - lo) // 4096 * 8))
            pages += [lo + i * 4096 for i, e in enumerate(entries) if e >> bit & 1 and e >> 63 & 1]
    return pages


def learn(ranges, *args):
    """The pages a child's input copies: a child handles the input (or
    one_input's *args), then lists the zygote's pages it holds alone."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        one_input(*args)
        os.write(w, json.dumps(pages_where(ranges, 56)).encode())
        os._exit(0)
    os.close(w)
    data = b""
    while True:
        chunk = os.read(r, 1 << 20)
        if not chunk:
            break
        data += chunk
    os.waitpid(pid, 0)
    return json.loads(data)


def prefaulted(pages):
    """fork; the child writes back one byte of each page, then handles the
    input; returns (prefault us, input us, the input's minor faults)."""
    import ctypes
    import resource

    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        t0 = time.perf_counter_ns()
        for a in pages:
            b = ctypes.c_ubyte.from_address(a)
            b.value = b.value
        t1 = time.perf_counter_ns()
        f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        one_input()
        t2 = time.perf_counter_ns()
        f1 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        os.write(w, json.dumps([(t1 - t0) / 1000, (t2 - t1) / 1000, f1 - f0]).encode())
        os._exit(0)
    os.close(w)
    data = os.read(r, 4096)
    os.close(r)
    os.waitpid(pid, 0)
    return json.loads(data)


def summary(pages, runs):
    return {"pages": len(pages), "prefault_median_us": round(statistics.median(x[0] for x in runs)),
            "input_median_us": round(statistics.median(x[1] for x in runs)),
            "input_minflt": statistics.median(x[2] for x in runs)}


ranges = writable_ranges()
# Learned from the measured input itself (an upper bound: another input's
# list would match less well), from an empty raw file and meta (no
# tenant's input), every present page, none; interleaved, one of each per
# round, so the load falls on all alike.
lists = {"prefault-learned": learn(ranges), "prefault-empty": learn(ranges, {}, b"", False),
         "prefault-all": pages_where(ranges, 63), "prefault-none": []}
runs = {name: [] for name in lists}
for _ in range(n):
    for name, pages in lists.items():
        runs[name].append(prefaulted(pages))
for name, pages in lists.items():
    res[name] = summary(pages, runs[name])
print(json.dumps(res))
