# whiskers Python runtime, boefje mode (docs/boefjes.md).
#
# Runs inside the sandbox as `python3 -I -S -B -c <this file> ENTRYPOINT`:
# loads ENTRYPOINT (OpenKAT's main.py) from /normaliser and calls its
# run(boefje_meta) as OpenKAT's LocalBoefjeJobRunner does, with the
# BoefjeMeta of /input/boefje_meta.json. run() returns (mime_types, raw)
# pairs; each becomes one line on the output channel:
#
#   {"type": "raw", "mime_types": [...], "data": "<base64 of the bytes>"}
#
# after the runtime's own first line {"type": "runtime", ...}. The pairs are
# written only once run() has returned all of them and every one was well
# formed: a bad pair ends the run with one {"type": "error"} line and exit
# status 1, and no raw line at all. whiskers checks every line again outside
# the sandbox (this file runs beside the boefje: it is not trusted).
#
# Settings (the boefje's schema.json) come in /input/settings.json, not in
# the sandbox's environment, and go into os.environ's mapping only: the
# boefje's os.getenv(), os.environ[...] and .get() find them; the C
# environment (what putenv() changes, what /proc/<pid>/environ shows and what
# a child process starts with) never holds them, and iterating os.environ
# does not list them, so tools the boefje starts (nmap, drill) do not inherit
# them: see hide_settings().
#
# The output channel is fd 1 moved away from print() before the boefje
# loads, as in the normaliser shim (shim.py).
import os
import sys

PYDIR = "/whiskers/python"  # WH_SANDBOX_PYTHON_DIR


def write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def emit(out, record):
    import json

    sys.stderr.flush()
    write_all(out, json.dumps(record).encode("ascii") + b"\n")


def fail(out, phase, error, message, exc=None):
    rec = {"type": "error", "phase": phase, "error": error, "message": message[:4096]}
    if exc is not None:
        import traceback

        tb = traceback.format_exception(type(exc), exc, exc.__traceback__)
        rec["traceback"] = "".join(tb)[-16384:]
    emit(out, rec)
    return 1


def load(root, entry):
    path = root + "/" + entry
    sys.pycache_prefix = "/nonexistent"
    sys.path[:0] = [path.rpartition("/")[0]]
    try:  # an image's dist-packages (docs/packages.md)
        sys.path += [PYDIR + "/" + d for d in sorted(os.listdir(PYDIR))]
    except OSError:
        pass
    module = type(sys)("main")
    module.__file__ = path
    sys.modules["main"] = module
    with open(path, "rb") as f:
        exec(compile(f.read(), path, "exec"), module.__dict__)
    if not callable(getattr(module, "run", None)):
        raise AttributeError(entry + " defines no function run(boefje_meta)")
    return module.run


def hide_settings(settings):
    """Put settings into os.environ (and os.environb) without putenv().

    os.environ is an os._Environ: a dict of encoded keys and values (_data,
    shared with os.environb) whose __setitem__ also calls putenv(). Writing
    _data directly leaves the C environment alone, so os.system(), exec*()
    and subprocess with env=None (its fork-exec path) start children without
    the settings. subprocess's posix_spawn path (CPython 3.13 takes it for
    an executable given with a directory, e.g. "/usr/bin/drill") passes the
    mapping itself instead, iterating os.environ: the class is changed to one
    whose iteration, len() and repr() skip the settings, so that path, and a
    boefje's own env=os.environ or os.environ.copy(), do not carry them
    either. Still carried: a setting the boefje names itself (env={"K":
    os.environ["K"]}) or assigns again (os.environ[K] = ..., which calls
    putenv()): its own choice."""
    hidden = frozenset(os.environ.encodekey(k) for k in settings)
    for k, v in settings.items():
        os.environ._data[os.environ.encodekey(k)] = os.environ.encodevalue(v)

    def visible(env):
        return [k for k in list(env._data) if k not in hidden]

    for env in (os.environ, getattr(os, "environb", None)):
        if env is None:
            continue
        env.__class__ = type("SettingsEnviron", (type(env),), {
            "__iter__": lambda self: iter([self.decodekey(k) for k in visible(self)]),
            "__len__": lambda self: len(visible(self)),
            "__repr__": lambda self: "environ(%r)" % {k: self[k] for k in self},
        })


class BadPair(Exception):
    pass


def as_record(i, pair):
    """One (mime_types, raw) pair as its output line, or BadPair."""
    import base64

    if not isinstance(pair, (tuple, list)) or len(pair) != 2:
        raise BadPair("pair %d is a %s, not a (mime_types, raw) pair" % (i, type(pair).__name__))
    mimes, raw = pair
    if not isinstance(mimes, (set, frozenset, list, tuple)) or \
            not all(isinstance(m, str) for m in mimes):
        raise BadPair("pair %d: mime_types is a %s, not a set of strings"
                      % (i, type(mimes).__name__))
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    if not isinstance(raw, (bytes, bytearray)):
        raise BadPair("pair %d: raw is a %s, not bytes or str" % (i, type(raw).__name__))
    return {"type": "raw", "mime_types": sorted(set(mimes)),
            "data": base64.b64encode(raw).decode("ascii")}


def main(argv):
    out = os.dup(1)  # the item stream: a descriptor only this shim writes
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    v = sys.version_info
    emit(out, {"type": "runtime", "name": "python", "mode": "boefje",
               "implementation": sys.implementation.name,
               "version": "%d.%d.%d" % (v[0], v[1], v[2])})
    import json

    try:
        with open("/input/settings.json", "rb") as f:
            hide_settings(json.loads(f.read()))
        with open("/input/boefje_meta.json", "rb") as f:
            meta = json.loads(f.read())
        run = load(argv[2] if len(argv) > 2 else "/normaliser", argv[1])
    except BaseException as e:
        return fail(out, "load", type(e).__name__, str(e), e)
    try:
        pairs = run(meta)
        if isinstance(pairs, (str, bytes, bytearray, dict)) or not hasattr(pairs, "__iter__"):
            raise BadPair("run() returned a %s, not a list of (mime_types, raw) pairs"
                          % type(pairs).__name__)
        records = [as_record(i, p) for i, p in enumerate(pairs)]
    except BadPair as e:
        return fail(out, "output", "InvalidReturnValueBoefje", str(e))
    except BaseException as e:
        return fail(out, "run", type(e).__name__, str(e), e)
    for rec in records:
        emit(out, rec)
    return 0


sys.exit(main(sys.argv))
