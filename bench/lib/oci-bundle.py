#!/usr/bin/env python3
"""oci-bundle.py: writes an OCI bundle for the start-up bench.

Usage: oci-bundle.py BUNDLE_DIR BASE_CONFIG [--memory BYTES --pids N] -- ARGS...

BASE_CONFIG is the config.json a runtime's own `spec` command wrote (crun spec,
runc spec), so each runtime starts from its own defaults. The bundle gets a
rootfs that is only mount points plus the usr-merge symlinks (bin, lib, lib64,
sbin -> usr/...), and the host /usr bound read-only: the same file system view
bubblewrap and `whiskers exec` get. The process runs ARGS without a terminal, on
a read-only root, in new pid/net/ipc/uts/mount namespaces (the spec's default
namespaces, none given a path, so the network namespace is new and empty).
--memory/--pids add cgroup limits, as `whiskers exec --memory --pids` does.
"""
import argparse
import json
import os
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("bundle")
    ap.add_argument("base_config")
    ap.add_argument("--memory", type=int)
    ap.add_argument("--pids", type=int)
    ap.add_argument("args", nargs="+")
    a = ap.parse_args()

    with open(a.base_config) as f:
        config = json.load(f)

    rootfs = os.path.join(a.bundle, "rootfs")
    for d in ("usr", "proc", "dev", "sys", "tmp", "etc"):
        os.makedirs(os.path.join(rootfs, d), exist_ok=True)
    for link in ("bin", "lib", "lib64", "sbin"):
        path = os.path.join(rootfs, link)
        if not os.path.lexists(path):
            os.symlink("usr/" + link, path)

    proc = config["process"]
    proc["terminal"] = False
    proc["args"] = a.args
    proc["env"] = ["PATH=/usr/local/bin:/usr/bin:/bin"]
    config["root"] = {"path": "rootfs", "readonly": True}
    config["hostname"] = "bench"
    config["mounts"].append({"destination": "/usr", "type": "bind", "source": "/usr",
                             "options": ["rbind", "ro", "nosuid", "nodev"]})
    namespaces = config["linux"].setdefault("namespaces", [])
    types = {ns["type"] for ns in namespaces}
    for ns in ("pid", "network", "ipc", "uts", "mount"):
        if ns not in types:
            namespaces.append({"type": ns})
    for ns in namespaces:
        if ns["type"] == "network" and "path" in ns:
            sys.exit("oci-bundle.py: base config joins an existing network namespace")

    resources = config["linux"].setdefault("resources", {})
    if a.memory is not None:
        resources["memory"] = {"limit": a.memory}
    if a.pids is not None:
        resources["pids"] = {"limit": a.pids}

    with open(os.path.join(a.bundle, "config.json"), "w") as f:
        json.dump(config, f, indent=1)


if __name__ == "__main__":
    main()
