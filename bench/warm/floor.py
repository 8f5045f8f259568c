# bench/warm floor: the same zygote as whiskers' warm mode (the shim's load of
# the normaliser, then gc.freeze), in a sandbox of `whiskers exec`, timing
#   fork-exit   fork(), the child _exit(0)s, waitpid
#   fork-input  fork(), the child runs run() on the raw file and writes the
#               items to a pipe, the parent reads them to EOF, waitpid
#   clone-ns-exit  what warm mode does instead of fork(): the shim's
#               isolated_fork() (new user and pid namespaces), the child
#               setpgid(0, 0)s and _exit(0)s, waitpid (needs the zygote's seccomp
#               rule: run.sh passes it)
#   clone-ns-setsid-exit  the same with setsid() instead of setpgid (what
#               warm mode does not do: a session is a scheduling autogroup)
#   check       the supervisor's isolation check of a child, done here on
#               this process: read /proc/PID/status, readlink /proc/PID/ns/user
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


clone_ns = g["isolated_fork"]()


def clone_ns_exit(new_group, *args):
    pid = clone_ns()
    if pid == 0:
        new_group(*args)
        os._exit(0)
    os.waitpid(pid, 0)


def check():
    with open("/proc/%d/status" % os.getpid(), "rb") as f:
        f.read()
    os.readlink("/proc/%d/ns/user" % os.getpid())


cases = (("fork-exit", fork_exit), ("fork-input", fork_input),
         ("clone-ns-exit", lambda: clone_ns_exit(os.setpgid, 0, 0)),
         ("clone-ns-setsid-exit", lambda: clone_ns_exit(os.setsid)), ("check", check))
# Interleaved (one of each case per round), so that the load of a shared
# machine falls on every case alike.
times = {name: [] for name, _ in cases}
for name, f in cases:
    for _ in range(10):
        f()
for _ in range(n):
    for name, f in cases:
        t0 = time.perf_counter_ns()
        f()
        times[name].append((time.perf_counter_ns() - t0) / 1000)
res = {name: {"median_us": statistics.median(t), "mean_us": statistics.mean(t)} for name, t in times.items()}
print(json.dumps(res))
