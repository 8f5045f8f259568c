# whiskers Python runtime, contract v1 (docs/contract.md "Python runtime").
#
# Runs inside the sandbox as `python3 -I [-S] -B -c <this file> ENTRYPOINT`:
# loads ENTRYPOINT from /normaliser, calls its run(input_ooi, raw) as
# OpenKAT's LocalNormalizerJobRunner does, and writes each result as one
# line of JSON (an NDJSON item, docs/contract.md section 3). Results may be
# dicts or what OpenKAT's runner accepts: octopoes OOIs, NormalizerDeclaration,
# NormalizerAffirmation and DeclaredScanProfile (pydantic models, dumped in
# JSON mode). Converting happens here; checking happens outside, in C.
#
# The output channel. Before any normaliser code runs, fd 1 (the pipe the
# runner reads) is moved to a private descriptor and fd 1 becomes stderr:
# print(), os.write(1, ...), C extensions and child processes all write to
# stderr and cannot interleave with the items. The runtime's control line
# {"type":"runtime",...} is the first write on the pipe, made before the
# normaliser is loaded, so nothing can overtake it. Each item is written
# with unbuffered write(2)s as it is yielded: an item yielded before a kill
# (wall time, memory) is not lost.
#
# A failure (an exception while loading or running, a result of an unknown
# class, a value that is not JSON) ends the run with one {"type": "error"}
# line and exit status 1: the runner reports it as data, with the traceback.
#
# WHISKERS_CLOCK (ISO 8601) pins datetime.datetime.now()/utcnow()/today()
# before the normaliser is imported (docs/contract.md "A pinned clock").
#
# Outside a sandbox (the overhead benchmark): ... -c <this> ENTRYPOINT DIR INPUT_DIR
import os
import sys

PYDIR = "/whiskers/python"  # WH_SANDBOX_PYTHON_DIR


def write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def take_stdout():
    """The item stream: fd 1 moved to a descriptor only the shim writes."""
    out = os.dup(1)  # not inheritable: child processes do not get it
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return out


def announce(out):
    v = sys.version_info
    write_all(out, b'{"type":"runtime","name":"python","implementation":"%s","version":"%d.%d.%d"}\n'
              % (sys.implementation.name.encode(), v[0], v[1], v[2]))


def emit_error(out, phase, exc=None, message=None, item=None, error="InvalidItem"):
    import json

    rec = {"type": "error", "phase": phase}
    if exc is not None:
        import traceback

        rec["error"] = type(exc).__name__
        rec["message"] = explain(exc)[:4096]
        tb = traceback.format_exception(type(exc), exc, exc.__traceback__)
        rec["traceback"] = "".join(tb)[-16384:]
    else:
        rec["error"] = error
        rec["message"] = message
    if item is not None:
        rec["item"] = item
    sys.stderr.flush()
    write_all(out, json.dumps(rec).encode("ascii") + b"\n")
    return 1


def explain(exc):
    """The exception's text; a missing module also names the runtime."""
    if isinstance(exc, ImportError) and getattr(exc, "name", None):
        v = sys.version_info
        return "%s: the runtime (%s %d.%d, %s) has no module '%s': run on a runtime image " \
               "that has it (its Debian package) or add a dependency layer (docs/openkat.md)" % (
                   exc, sys.implementation.name, v[0], v[1], sys.executable, exc.name)
    return str(exc)


CLOCK = []  # the pinned instant (a datetime), or empty: the real clock


def pin_clock(iso):
    """Fix datetime.datetime.now()/utcnow()/today() at iso, as OpenKAT's
    reference runner does; must run before the normaliser is imported (it
    binds `from datetime import datetime` at import). The instant is read at
    each call, so a warm runtime can change it per input."""
    import datetime as dt

    real = dt.datetime
    CLOCK[:] = [real.fromisoformat(iso.replace("Z", "+00:00"))]

    class datetime(real):
        @classmethod
        def now(cls, tz=None):
            fixed = CLOCK[0]
            if tz is None:
                return fixed if fixed.tzinfo is None else fixed.astimezone().replace(tzinfo=None)
            return fixed.astimezone(tz)

        @classmethod
        def utcnow(cls):
            return CLOCK[0].astimezone(dt.timezone.utc).replace(tzinfo=None)

        @classmethod
        def today(cls):
            return cls.now()

    datetime.__module__ = "datetime"
    datetime.__qualname__ = "datetime"
    dt.datetime = datetime


def load(root, entry):
    sys.pycache_prefix = "/nonexistent"  # never read __pycache__ beside the code
    path = root + "/" + entry
    here = path.rpartition("/")[0]
    sys.path[:0] = [here] if here == root else [here, root]
    try:  # Python layers and an image's dist-packages (docs/packages.md)
        sys.path += [PYDIR + "/" + d for d in sorted(__import__("os").listdir(PYDIR))]
    except OSError:
        pass
    name = entry.rpartition("/")[2].partition(".")[0] or "normalize"
    module = type(sys)(name)
    module.__file__ = path
    sys.modules[name] = module
    with open(path, "rb") as f:
        exec(compile(f.read(), path, "exec"), module.__dict__)
    run = getattr(module, "run", None)
    if not callable(run):
        raise AttributeError(entry + " defines no function run(input_ooi, raw)")
    return run


def input_ooi(meta):
    """What run() receives, by OpenKAT's rule for its NormalizerMeta
    (LocalNormalizerJobRunner.run); whiskers' own meta: its input_ooi."""
    if "raw_data" not in meta and "normalizer" not in meta:
        return meta.get("input_ooi") or {}
    boefje_meta = meta["raw_data"]["boefje_meta"]
    try:
        return boefje_meta["arguments"]["input"]
    except KeyError:
        return {"primary_key": boefje_meta["input_ooi"]} if boefje_meta.get("input_ooi") else {}


class UnknownResult(Exception):
    pass


def openkat_classes():
    """OpenKAT's result classes, from the modules the normaliser imported
    (a yielded OOI means octopoes is loaded); never imported here."""
    models = sys.modules.get("octopoes.models")
    results = sys.modules.get("boefjes.normalizer_models")
    names = (("OOI", models), ("DeclaredScanProfile", models),
             ("NormalizerDeclaration", results), ("NormalizerAffirmation", results))
    return tuple(getattr(m, n) for n, m in names if m is not None and hasattr(m, n))


def as_item(result):
    """A result as the dict of its NDJSON item."""
    if type(result) is dict:
        return result
    classes = openkat_classes()
    if classes and isinstance(result, classes):
        return result.model_dump(mode="json")
    raise UnknownResult("run() yielded a %s, not a dict or an OpenKAT result (an OOI, "
                        "NormalizerDeclaration, NormalizerAffirmation or DeclaredScanProfile): "
                        "Normalizer returned object of incorrect type: %s"
                        % (type(result).__name__, type(result).__name__))


def handle(run, meta, raw, out):
    """One input: call run(), write each result as an item. Returns the
    exit status (0, or 1 after an error item)."""
    import json

    encode = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode
    n = 0
    try:
        for result in run(input_ooi(meta), raw):
            n += 1
            try:
                line = encode(as_item(result)).encode("utf-8")
            except UnknownResult as e:
                return emit_error(out, "output", None, str(e), n, "InvalidReturnValueNormalizer")
            except (TypeError, ValueError, RecursionError) as e:
                return emit_error(out, "output", e, None, n)
            write_all(out, line + b"\n")
    except BaseException as e:
        return emit_error(out, "run", e, None, n + 1)
    return 0


def try_load(root, entry):
    """The normaliser's run(), or the exception that loading it raised (a
    warm zygote keeps it, and every input reports it as a cold run would)."""
    try:
        if os.environ.get("WHISKERS_CLOCK"):
            pin_clock(os.environ["WHISKERS_CLOCK"])
        return load(root, entry), None
    except BaseException as e:
        return None, e


def serve(out, inputs, run, failure):
    """One input, cold or in a warm child: read it, then handle() it."""
    try:
        import json

        with open(inputs + "/meta.json", "rb") as f:
            meta = json.loads(f.read())
        with open(inputs + "/raw", "rb") as f:
            raw = f.read()
        if failure is not None:
            raise failure
    except BaseException as e:
        return emit_error(out, "load", e)
    return handle(run, meta, raw, out)


def isolated_fork():
    """fork() for warm mode: the child goes into a new user and pid namespace
    (clone with CLONE_NEWUSER | CLONE_NEWPID, the one kind of clone the
    zygote's seccomp policy adds), so it is pid 1 of its own namespace and
    cannot name the zygote, and holds capabilities only in a user namespace
    that owns nothing else. The supervisor checks this before it hands the
    child an input (docs/warm.md "Isolation"). os.fork() takes no flags, so
    this is os.fork()'s own sequence around a raw clone."""
    import ctypes

    nr = {"x86_64": 56, "aarch64": 220}.get(os.uname().machine)
    if nr is None:
        raise OSError("warm mode: no clone system call number for %s" % os.uname().machine)
    libc = ctypes.PyDLL(None, use_errno=True)  # PyDLL: the GIL stays held
    syscall = libc.syscall
    syscall.restype = ctypes.c_long
    syscall.argtypes = [ctypes.c_long] * 6
    api = ctypes.pythonapi
    flags = 0x10000000 | 0x20000000 | 17  # CLONE_NEWUSER | CLONE_NEWPID | SIGCHLD

    def fork():
        api.PyOS_BeforeFork()
        pid = syscall(nr, flags, 0, 0, 0, 0)
        if pid == 0:
            api.PyOS_AfterFork_Child()
            return 0
        errnum = ctypes.get_errno()
        api.PyOS_AfterFork_Parent()
        if pid < 0:
            raise OSError(errnum, "clone into new namespaces: " + os.strerror(errnum))
        return pid

    return fork


def zygote(out, root, entry, inputs, persistent):
    """Warm mode (docs/warm.md): load once, then fork a child per input
    (persistent: a child serves inputs until the supervisor closes its
    channel). fd 0 is the control socket; the zygote never reads an input."""
    import gc
    import socket

    # What serving an input needs, imported once, here: after load() sets
    # sys.pycache_prefix, an import in each child would compile from source
    # (25 ms of CPU per input for json, measured with bench/warm).
    import json  # noqa: F401
    import resource  # noqa: F401 (os.wait4 imports it)
    import traceback  # noqa: F401

    fork = isolated_fork()
    os.environ.pop("WHISKERS_WARM", None)  # the normaliser sees a cold run's environment
    run, failure = try_load(root, entry)
    gc.freeze()  # the loaded objects stay out of the children's collections
    ctl = socket.socket(fileno=0)
    ctl.send(b"ready\n")
    while True:
        # The channel, and with a per-input memory cgroup its tasks file.
        msg, fds, _, _ = socket.recv_fds(ctl, 256, 2)
        word, _, ordinal = msg.decode("ascii", "replace").strip().partition(" ")
        if word != "input" or len(fds) not in (1, 2):
            return 0 if not msg else 2
        sys.stderr.flush()
        pid = fork()
        if pid == 0:
            ctl.detach()  # fd 0 becomes the input's stdin in child()
            os._exit(child(fds, out, inputs, run, failure, persistent))
        for f in fds:
            os.close(f)
        _, status, ru = os.wait4(pid, 0)
        cpu_us = int((ru.ru_utime + ru.ru_stime) * 1000000)
        ctl.send(b"exit %s %d %d %d\n" % (ordinal.encode(), status, cpu_us, ru.ru_maxrss))


def child(fds, out, inputs, run, failure, persistent):
    """Inputs in a fork of the zygote: move into the input's memory cgroup,
    say hello on the channel, take stdin, the item stream and stderr from
    "go", then serve() it. Fork: one input.
    Persistent: after each input point the stdio at /dev/null (the
    supervisor sees its pipes end), say "done CODE", wait for the next "go";
    the channel's end means recycle. State the normaliser keeps between
    inputs stays: that is what persistent means (docs/warm.md)."""
    import socket

    if len(fds) > 1:
        # Moving itself is cheaper than being moved (docs/warm.md "Per-input
        # memory"); if it fails, the supervisor moves it.
        try:
            os.write(fds[1], b"0")
        except OSError:
            pass
        os.close(fds[1])
    os.setpgid(0, 0)  # kill(0, ...) would reach the zygote's process group
    chan = socket.socket(fileno=fds[0])
    chan.send(b"hello\n")
    while True:
        msg, fds, _, _ = socket.recv_fds(chan, 256, 3)
        if persistent and not msg:
            return 0
        if msg != b"go\n" or len(fds) != 3:
            return 2
        take_stdio(fds, out)
        if not persistent:
            chan.close()
        else:
            reap()
        announce(out)
        code = serve(out, inputs, run, failure)
        sys.stderr.flush()
        if not persistent:
            return code
        null = os.open("/dev/null", os.O_RDWR)
        take_stdio((null, os.dup(null), os.dup(null)), out)
        chan.send(b"done %d\n" % code)


def reap():
    """Processes an earlier input started were killed by the supervisor;
    as children of this process they stay zombies (visible in /proc) until
    reaped here, as init reaps a fork's."""
    try:
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass
    except ChildProcessError:
        pass


def take_stdio(fds, out):
    """stdin, the item stream and stderr from fds (closed); fd 1 is stderr."""
    os.dup2(fds[0], 0)
    os.dup2(fds[1], out, inheritable=False)
    os.dup2(fds[2], 2)
    os.dup2(2, 1)
    for f in fds:
        os.close(f)


def main(argv):
    out = take_stdout()
    entry = argv[1]
    root = argv[2] if len(argv) > 2 else "/normaliser"
    inputs = argv[3] if len(argv) > 3 else "/input"
    warm = os.environ.get("WHISKERS_WARM")
    if warm in ("fork", "persistent"):
        return zygote(out, root, entry, inputs, warm == "persistent")
    announce(out)
    run, failure = try_load(root, entry)
    return serve(out, inputs, run, failure)


sys.exit(main(sys.argv))
