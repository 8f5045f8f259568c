# bench/warm floor: the same zygote as whiskers' warm mode (the shim's load of
# the normaliser, then gc.freeze), in a sandbox of `whiskers exec`, timing
#   fork-exit   fork(), the child _exit(0)s, waitpid
#   fork-input  fork(), the child runs run() on the raw file and writes the
#               items to a pipe, the parent reads them to EOF, waitpid
# Prints one JSON object: microseconds per case (median, mean) over N forks.
import gc
import json
import os
import statistics
import sys
import time

shim, root, entry, raw_path, n = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
code = open(shim).read().rpartition("sys.exit(main(sys.argv))")[0]
g = {"__name__": "shim"}
exec(compile(code, shim, "exec"), g)
run = g["load"](root, entry)
raw = open(raw_path, "rb").read()
gc.freeze()


def fork_exit():
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)


def fork_input():
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        out = b"".join(json.dumps(item).encode() + b"\n" for item in run({}, raw))
        os.write(w, out)
        os._exit(0)
    os.close(w)
    while os.read(r, 65536):
        pass
    os.close(r)
    os.waitpid(pid, 0)


res = {}
for name, f in (("fork-exit", fork_exit), ("fork-input", fork_input)):
    for _ in range(10):
        f()
    t = []
    for _ in range(n):
        t0 = time.perf_counter_ns()
        f()
        t.append((time.perf_counter_ns() - t0) / 1000)
    res[name] = {"median_us": statistics.median(t), "mean_us": statistics.mean(t)}
print(json.dumps(res))
