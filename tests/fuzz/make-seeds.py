#!/usr/bin/env python3
"""Regenerates tests/fuzz/seeds/<target>/ (docs/fuzzing.md "Seeds"): small,
structure-aware inputs taken from the examples, the JSON-Schema-Test-Suite,
the default seccomp policy and a package packed by whiskers itself.

    tests/fuzz/make-seeds.py [WHISKERS_PACKAGE_BINARY]

The binary (default build/whiskers-package) packs and bundles an example
normaliser for the oci and bundle seeds; those are skipped without it.
Seeds are kept small on purpose (a few KB per target): libFuzzer finds its
way from a valid input much faster than from nothing, and the checked-in
corpus stays reviewable. The regression inputs (regress/) are never written
here: they are checked in by hand, one per bug."""
import io, json, os, shutil, subprocess, sys, tarfile, tempfile, zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.normpath(os.path.join(HERE, "..", ".."))
SUITE = os.path.join(os.environ.get("WH_SHARED_DIR", os.path.join(TOP, "..", "shared")),
                     "data", "json-schema-test-suite", "tests", "draft2020-12")
SEEDS = os.path.join(HERE, "seeds")
EXAMPLES = os.path.join(TOP, "examples", "normalisers")


def put(target, name, data):
    d = os.path.join(SEEDS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def compact(v):
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False)


def suite(name):
    with open(os.path.join(SUITE, name)) as f:
        return json.load(f)


def schema_seeds():
    # One seed per keyword family: the schema, then its test instances.
    files = ["type.json", "properties.json", "patternProperties.json", "ref.json",
             "dynamicRef.json", "unevaluatedProperties.json", "if-then-else.json",
             "uniqueItems.json", "contains.json", "multipleOf.json", "anchor.json",
             "optional/ecmascript-regex.json", "optional/format/regex.json",
             "optional/format/date-time.json", "optional/bignum.json"]
    for fname in files:
        groups = suite(fname)
        for i, g in enumerate(groups[:2]):
            lines = [compact(g["schema"])] + [compact(t["data"]) for t in g["tests"][:6]]
            text = "\n".join(lines) + "\n"
            if len(text) < 1500:
                put("schema", "%s-%d" % (fname.replace("/", "-")[:-5], i), text)
            if i == 0:
                put("json", fname.replace("/", "-")[:-5], json.dumps(g["tests"][0]["data"]))
    put("json", "escapes", '{"a\\u0000b": "\\ud83d\\ude00\\n\\t\\"", "n": [-0.0, 1e308, '
        '123456789012345678901234567890, -9223372036854775808], "a\\u0000b": null}')
    put("json", "nesting", "[" * 40 + "{}" + "]" * 40)


def regex_seeds():
    pats = set()
    for fname in ["optional/ecmascript-regex.json", "pattern.json", "patternProperties.json",
                  "optional/non-bmp-regex.json"]:
        for g in suite(fname):
            s = g["schema"]
            for p in [s.get("pattern")] + list(s.get("patternProperties", {}).keys()):
                if p:
                    subjects = [t["data"] for t in g["tests"] if isinstance(t["data"], str)]
                    pats.add((p, tuple(subjects[:4])))
    extra = [("(?<year>[0-9]{4})-(?<m>[0-9]{2})\\k<m>", ("2024-0101",)),
             ("(?<=\\$)[0-9]+(?!x)", ("$42", "$42x")),
             ("^\\p{Lu}\\P{L}*\\u{1F600}[^\\s\\d]+?$", ("A1\U0001F600ab",)),
             ("(a|b)*?c{2,}\\b\\B\\1", ("abcc",)),
             ("[\\w-\\]]+\\x41\\cJ\\0", ("A\n\0",))]
    for i, (p, subj) in enumerate(sorted(pats) + extra):
        put("regex", "pattern-%03d" % i, "\0".join((p,) + subj).encode())


def output_seeds():
    runtime = '{"type":"runtime","name":"python","implementation":"cpython","version":"3.11.2"}'
    host = {"object_type": "Hostname", "network": "Network|internet", "name": "example.org"}
    kft = {"object_type": "KATFindingType", "id": "KAT-WEAK-KEY", "risk_severity": "high"}
    finding = {"object_type": "Finding", "ooi": "Hostname|internet|example.org",
               "finding_type": "KATFindingType|KAT-WEAK-KEY", "description": "weak"}
    rule = {"object_type": "Rule", "id": 1, "expr": "^(?=.*[0-9])[a-z]+$",
            "tags": ["a", "b"], "when": "2026-11-23T14:04:03Z"}
    lines = [runtime, compact(host), compact(kft), compact(finding), compact(rule),
             compact({"type": "declaration", "ooi": host}),
             compact({"type": "affirmation", "ooi": kft})]
    put("output", "all-kinds", b"\0" + "\n".join(lines).encode() + b"\n")
    put("output", "small-reads", b"\x07" + "\n".join(lines[:3]).encode())
    bad = dict(host, name="x" * 300, extra=1)
    put("output", "invalid", b"\0" + "\n".join([compact(bad), '{"object_type": "Rule"',
                                                 compact(dict(rule, expr="(?<"))]).encode())


def meta_seeds():
    for ex in sorted(os.listdir(EXAMPLES)):
        fx = os.path.join(EXAMPLES, ex, "fixtures")
        if os.path.isdir(fx):
            first = sorted(os.listdir(fx))[0]
            with open(os.path.join(fx, first, "meta.json"), "rb") as f:
                put("meta", ex, f.read())
        nj = os.path.join(EXAMPLES, ex, "normalizer.json")
        if os.path.exists(nj):
            with open(nj, "rb") as f:
                put("manifest", ex, f.read())
    put("meta", "whiskers-form", compact({"task_id": "363555f6-5a8f-505f-a517-66eca5c2e277",
                                          "input_ooi": "Hostname|internet|example.org",
                                          "mime_types": ["text/plain"]}))
    put("manifest", "openkat-form", compact({"id": "kat_x", "consumes": ["boefje/x"],
                                             "produces": ["Hostname"]}))
    put("manifest", "variant", compact({
        "id": "x", "version": "1", "consumes": ["a"], "produces": ["B"], "runtime": "python3.11",
        "entrypoint": "n.py", "variant": {"name": "v3", "baseline": False,
                                          "platform": {"os": "linux", "architecture": "amd64",
                                                       "variant": "v3"}},
        "limits": {"memory": "64M", "pids": 4, "wall_ms": 5000, "output_limit": "1M",
                   "items": 1000}}))


def seccomp_seeds():
    with open(os.path.join(TOP, "policies", "default.policy")) as f:
        text = f.read()
    put("seccomp", "default-head", text[:1500])
    put("seccomp", "conditions",
        "allow socket arg0 == AF_UNIX|AF_INET6 arg1 & 0xf == SOCK_STREAM\n"
        "errno EAFNOSUPPORT socket\nerrno 1 ioctl arg1 & 0xffffffff == TIOCSTI\n"
        "allow openat arg0 == -100 arg2 <= 0x7fffffff  # trailing comment\n"
        "allow clone arg0 & CLONE_NEWUSER|CLONE_NEWNS == 0\n\tallow  read\twrite\n")


def warm_seeds():
    """Frames as the supervisor receives them (fuzz_warm.c: a header byte,
    then the datagram; "\n====\n" between frames)."""
    def frames(*fs):
        return "\n====\n".join(fs).encode("latin-1")
    put("warm", "input-ok", frames("@ready\n", "@hello\n", "@exit 1 0 1234 10240\n"))
    put("warm", "exit-codes", frames("@exit 2 256 5000 9000\n", "@exit 3 9 0 0\n",
                                     "@exit 18446744073709551615 2147483647 18446744073709551615"
                                     " 18014398509481983\n"))
    put("warm", "exit-not-canonical", frames("@exit 01 0 0 0\n", "@exit 1 -1 0 0\n",
                                             "@exit 1 0 0 18014398509481984\n",
                                             "@exit 1  0 +0 0\n", "@exit 1 0 0 0 \n"))
    # "input N" goes with the channel or with it and the memory leaf's tasks
    # file ("Z": 2 fds, 2 accepted; "V": 2 sent, 1 accepted, refused).
    put("warm", "supervisor-frames", frames("Uinput 1\n", "Zinput 2\n", "Vinput 3\n", "_go\n",
                                            "Pready\n"))
    put("warm", "bad-frames", frames("@ready", "@ready\x1b[2J\n", "@hel\x00lo\n",
                                     "@ready\nready\n", "`hello\n", "Ahello\n", "E",
                                     "@" + "x" * 255 + "\n", "@" + "x" * 256 + "\n"))


def tar_bytes(entries, fmt=tarfile.PAX_FORMAT):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        for name, kind, data, extra in entries:
            ti = tarfile.TarInfo(name)
            ti.type = kind
            ti.mode = extra.get("mode", 0o644)
            ti.linkname = extra.get("link", "")
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data) if data else None)
    # tarfile pads to 10 KiB; the end marker (two zero blocks) is enough.
    return buf.getvalue().rstrip(b"\0").ljust(-(-len(buf.getvalue().rstrip(b"\0")) // 512) * 512,
                                              b"\0") + b"\0" * 1024


def layer_seeds():
    ok = [("normalizer.json", tarfile.REGTYPE, b'{"id":"x"}', {}),
          ("bin", tarfile.DIRTYPE, b"", {"mode": 0o755}),
          ("bin/run", tarfile.REGTYPE, b"#!/bin/sh\necho\n", {"mode": 0o755}),
          ("bin/link", tarfile.SYMTYPE, b"", {"link": "run"}),
          ("hard", tarfile.LNKTYPE, b"", {"link": "bin/run"})]
    put("layer", "ok.tar", tar_bytes(ok, tarfile.USTAR_FORMAT))
    import gzip
    put("layer", "ok.tar.gz", gzip.compress(tar_bytes(ok, tarfile.GNU_FORMAT), mtime=0))
    # One seed per rule (docs/packages.md §7), each after a valid entry.
    hostile = {"dotdot": ("a/../../etc", tarfile.REGTYPE, b"x", {}),
               "symlink-out": ("up", tarfile.SYMTYPE, b"", {"link": "../../outside"}),
               "hardlink-later": ("h", tarfile.LNKTYPE, b"", {"link": "later"}),
               "setuid": ("suid", tarfile.REGTYPE, b"x", {"mode": 0o4755}),
               "below-file": ("f/x", tarfile.REGTYPE, b"2", {}),
               "fifo": ("fifo", tarfile.FIFOTYPE, b"", {})}
    for name, entry in hostile.items():
        put("layer", name + ".tar", tar_bytes([("f", tarfile.REGTYPE, b"1", {}), entry],
                                              tarfile.USTAR_FORMAT))


def zip_seeds():
    meta = compact({"task_id": "363555f6-5a8f-505f-a517-66eca5c2e277",
                    "input_ooi": "Hostname|internet|example.org"})
    for name, comp in [("stored.zip", zipfile.ZIP_STORED), ("deflated.zip", zipfile.ZIP_DEFLATED)]:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", comp) as z:
            z.writestr(zipfile.ZipInfo("raw", (1980, 1, 1, 0, 0, 0)), b"raw bytes\n" * 20)
            z.writestr(zipfile.ZipInfo("meta.json", (1980, 1, 1, 0, 0, 0)), meta)
        put("zip", name, buf.getvalue())


def package_seeds(binary):
    if not os.access(binary, os.X_OK):
        print("make-seeds: no %s: oci and bundle seeds not made" % binary, file=sys.stderr)
        return
    tmp = tempfile.mkdtemp()
    try:
        store = os.path.join(tmp, "store")
        env = dict(os.environ, SOURCE_DATE_EPOCH="0")
        out = subprocess.run([binary, "pack", "--json", "--into", store,
                              os.path.join(EXAMPLES, "dnssec")], env=env, check=True,
                             capture_output=True, text=True).stdout
        tag = json.loads(out)["tag"]
        subprocess.run([binary, "bundle", "export", "--zstd", store, tag, "--out",
                        os.path.join(tmp, "b")], check=True)
        with open(os.path.join(tmp, "b"), "rb") as f:
            put("bundle", "dnssec.bundle.zst", f.read())
        oci_seed(store)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def oci_seed(store):
    """The layout in fuzz_oci's form: index.json, then each blob, parents
    before children, digests and sizes replaced by @N and #N."""
    def blob(d):
        with open(os.path.join(store, "blobs", "sha256", d.split(":")[1]), "rb") as f:
            return f.read()
    with open(os.path.join(store, "index.json"), "rb") as f:
        index = f.read()
    order, todo = [], [m["digest"] for m in json.loads(index)["manifests"]]
    while todo:
        d = todo.pop(0)
        if d in order:
            continue
        order.append(d)
        try:
            doc = json.loads(blob(d))
        except ValueError:
            continue
        for key in ("config", "layers", "manifests"):
            v = doc.get(key) if isinstance(doc, dict) else None
            for c in (v if isinstance(v, list) else [v] if v else []):
                todo.append(c["digest"])
    parts = [index] + [blob(d) for d in order]
    for i, d in enumerate(order, 1):
        size = str(len(blob(d))).encode()
        for k in range(i):
            if k == 0 or parts[k][:1] == b"{":
                parts[k] = parts[k].replace(d.encode(), b"@%d" % i)
                parts[k] = parts[k].replace(b'"size":' + size, b'"size":#%d' % i)
    put("oci", "dnssec", b"\n----\n".join(parts))


def main():
    shutil.rmtree(SEEDS, ignore_errors=True)
    schema_seeds()
    regex_seeds()
    output_seeds()
    meta_seeds()
    seccomp_seeds()
    warm_seeds()
    layer_seeds()
    zip_seeds()
    package_seeds(sys.argv[1] if len(sys.argv) > 1 else os.path.join(TOP, "build",
                                                                      "whiskers-package"))


main()
