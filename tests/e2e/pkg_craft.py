# Crafts broken and hostile OCI layouts for the package tests, the way an
# attacker or a careless tool would write them (whiskers itself refuses to).
#
#   layer LAYOUT TAG KIND     re-tag TAG to a copy of its package whose layer
#                             also holds a hostile entry (KIND below); prints
#                             the new manifest digest
#   size LAYOUT TAG SIZE      make TAG's index.json descriptor state SIZE
#   tar LAYOUT OUT            the layout as a tar (what 'store import' reads)
#   runtime LAYOUT TAG MODE   a runtime image (python3, /usr/bin/python3):
#                             MODE ok, no-config (config blob absent) or
#                             empty-layer (a tar with no entries)
import hashlib, io, json, os, sys, tarfile

KINDS = {
    "dotdot": lambda: [file_entry("../escaped")],
    "absolute": lambda: [file_entry("/tmp/whiskers-hostile-abs")],
    "symlink": lambda: [link_entry("lib", tarfile.SYMTYPE, "/etc")],
    "symlink-up": lambda: [link_entry("up", tarfile.SYMTYPE, "../../../etc")],
    "hardlink": lambda: [link_entry("passwd", tarfile.LNKTYPE, "/etc/passwd")],
    "device": lambda: [device_entry("null")],
    "setuid": lambda: [file_entry("su", 0o4755)],
    "duplicate": lambda: [file_entry("normalize.py"), file_entry("normalize.py")],
}


def file_entry(name, mode=0o644, data=b"x\n"):
    ti = tarfile.TarInfo(name)
    ti.size, ti.mode = len(data), mode
    return ti, data


def link_entry(name, typ, target):
    ti = tarfile.TarInfo(name)
    ti.type, ti.linkname, ti.mode = typ, target, 0o777
    return ti, None


def device_entry(name):
    ti = tarfile.TarInfo(name)
    ti.type, ti.devmajor, ti.devminor, ti.mode = tarfile.CHRTYPE, 1, 3, 0o666
    return ti, None


def blob_path(layout, digest):
    return os.path.join(layout, "blobs", "sha256", digest.split(":", 1)[1])


def put(layout, data):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    path = blob_path(layout, digest)
    if not os.path.exists(path):
        with open(path, "wb") as f:
            f.write(data)
    return {"digest": digest, "size": len(data)}


def load_index(layout):
    with open(os.path.join(layout, "index.json")) as f:
        return json.load(f)


def save_index(layout, index):
    with open(os.path.join(layout, "index.json"), "w") as f:
        json.dump(index, f, separators=(",", ":"), sort_keys=True)


def entry(index, tag):
    for e in index["manifests"]:
        if e.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag:
            return e
    sys.exit(f"no tag {tag}")


def tar_gz(members):
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz", format=tarfile.PAX_FORMAT) as t:
        for ti, data in members:
            t.addfile(ti, io.BytesIO(data) if data is not None else None)
    return out.getvalue()


def hostile_layer(layout, tag, kind):
    index = load_index(layout)
    e = entry(index, tag)
    with open(blob_path(layout, e["digest"]), "rb") as f:
        manifest = json.load(f)
    layer = manifest["layers"][0]
    members = []
    with tarfile.open(blob_path(layout, layer["digest"]), "r:gz") as t:
        for ti in t.getmembers():
            members.append((ti, t.extractfile(ti).read() if ti.isfile() else None))
    new = put(layout, tar_gz(members + KINDS[kind]()))
    manifest["layers"][0] = dict(layer, **new)
    doc = json.dumps(manifest, separators=(",", ":"), sort_keys=True).encode()
    e.update(put(layout, doc))
    save_index(layout, index)
    print(e["digest"])


def runtime(layout, tag, mode):
    os.makedirs(os.path.join(layout, "blobs", "sha256"), exist_ok=True)
    with open(os.path.join(layout, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')
    members = [] if mode == "empty-layer" else [file_entry("usr/bin/python3", 0o755)]
    layer = dict(put(layout, tar_gz(members)), mediaType="application/vnd.oci.image.layer.v1.tar+gzip")
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    cdesc = dict(put(layout, config), mediaType="application/vnd.oci.image.config.v1+json")
    if mode == "no-config":
        os.unlink(blob_path(layout, cdesc["digest"]))
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": cdesc, "layers": [layer],
                "annotations": {"io.whiskers.runtime.name": "python3",
                                "io.whiskers.runtime.interpreter": "/usr/bin/python3"}}
    m = put(layout, json.dumps(manifest, separators=(",", ":"), sort_keys=True).encode())
    save_index(layout, {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                        "manifests": [dict(m, mediaType=manifest["mediaType"],
                                           annotations={"org.opencontainers.image.ref.name": tag})]})


def main():
    cmd, layout = sys.argv[1], sys.argv[2]
    if cmd == "layer":
        hostile_layer(layout, sys.argv[3], sys.argv[4])
    elif cmd == "size":
        index = load_index(layout)
        entry(index, sys.argv[3])["size"] = int(sys.argv[4])
        save_index(layout, index)
    elif cmd == "tar":
        with tarfile.open(sys.argv[3], "w") as t:
            for name in ["oci-layout", "index.json", "blobs", "blobs/sha256"]:
                t.add(os.path.join(layout, name), name, recursive=False)
            for b in sorted(os.listdir(os.path.join(layout, "blobs", "sha256"))):
                t.add(os.path.join(layout, "blobs", "sha256", b), "blobs/sha256/" + b)
    elif cmd == "runtime":
        runtime(layout, sys.argv[3], sys.argv[4])
    else:
        sys.exit("unknown command " + cmd)


main()
