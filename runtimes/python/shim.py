# whiskers Python runtime, contract v1 (docs/contract.md "Python runtime").
#
# Runs inside the sandbox as `python3 -I -S -B -c <this file> ENTRYPOINT`:
# loads ENTRYPOINT from /normaliser, calls its run(input_ooi, raw) and writes
# each yielded dict as one line of JSON on the real stdout. print() in the
# normaliser goes to stderr, so it cannot corrupt the item stream.
#
# A failure (an exception while loading or running, a yielded value that is
# not a JSON object) ends the run with one {"type": "error", ...} line and
# exit status 1: the runner reports it as data, with the traceback.
# The first line announces the interpreter for the provenance record; it is
# written before any normaliser code is loaded.
#
# Outside a sandbox (the overhead benchmark): ... -c <this> ENTRYPOINT DIR INPUT_DIR
import sys


def emit_error(out, json, phase, exc=None, message=None, item=None):
    rec = {"type": "error", "phase": phase}
    if exc is not None:
        import traceback

        rec["error"] = type(exc).__name__
        rec["message"] = str(exc)[:4096]
        tb = traceback.format_exception(type(exc), exc, exc.__traceback__)
        rec["traceback"] = "".join(tb)[-16384:]
    else:
        rec["error"] = "InvalidItem"
        rec["message"] = message
    if item is not None:
        rec["item"] = item
    out.write(json.dumps(rec).encode("ascii") + b"\n")
    out.flush()
    sys.stderr.flush()
    return 1


def load(root, entry):
    sys.pycache_prefix = "/nonexistent"  # never read __pycache__ beside the code
    path = root + "/" + entry
    here = path.rpartition("/")[0]
    sys.path[:0] = [here] if here == root else [here, root]
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


def main(argv):
    out = open(sys.stdout.fileno(), "wb", closefd=False)
    sys.stdout = sys.stderr
    v = sys.version_info
    out.write(
        b'{"type":"runtime","name":"python","implementation":"%s","version":"%d.%d.%d"}\n'
        % (sys.implementation.name.encode(), v[0], v[1], v[2])
    )
    import json

    entry = argv[1]
    root = argv[2] if len(argv) > 2 else "/normaliser"
    inputs = argv[3] if len(argv) > 3 else "/input"
    try:
        with open(inputs + "/meta.json", "rb") as f:
            meta = json.loads(f.read())
        with open(inputs + "/raw", "rb") as f:
            raw = f.read()
        run = load(root, entry)
    except BaseException as e:
        return emit_error(out, json, "load", e)

    encode = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode
    n = 0
    try:
        for item in run(meta.get("input_ooi") or {}, raw):
            n += 1
            if type(item) is not dict:
                return emit_error(out, json, "output", None,
                                  "run() yielded a %s, not a dict" % type(item).__name__, n)
            try:
                line = encode(item).encode("utf-8")
            except (TypeError, ValueError, RecursionError) as e:
                return emit_error(out, json, "output", e, None, n)
            out.write(line + b"\n")
    except BaseException as e:
        return emit_error(out, json, "run", e, None, n + 1)
    out.flush()
    return 0


sys.exit(main(sys.argv))
