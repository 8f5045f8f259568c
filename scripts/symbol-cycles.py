#!/usr/bin/env python3
"""symbol-cycles.py BUILD_DIR: the circles of src/ files that call each other.

A file A depends on B when A's object uses a symbol B's object defines (nm).
Prints each strongly connected set of two or more files with the symbols
that tie it, and a count line; exits 1 if there are more circles than
--allow N (default 0), so CI can hold the count where it is. `#include`
cycles are another matter (none: every header is guarded and layered);
this is about the code. A file built into two programs (src/cli) counts once.
"""
import argparse
import collections
import os
import subprocess
import sys


def objects(build):
    """source path (relative to src/) -> one object file built from it"""
    out = {}
    for root, _, files in os.walk(os.path.join(build, "src")):
        for f in files:
            if not f.endswith(".c.o") or "CMakeFiles" not in root:
                continue
            # build/src/<dir>/CMakeFiles/<target>.dir/<sub/path>.c.o
            rel_dir = os.path.relpath(root, os.path.join(build, "src"))
            module, _, rest = rel_dir.partition("/CMakeFiles/")
            sub = rest.split("/", 1)[1] if "/" in rest else ""
            src = os.path.normpath(os.path.join(module, sub, f[:-2]))
            out.setdefault(src, os.path.join(root, f))
    return out


def symbols(obj):
    defined, used = set(), set()
    text = subprocess.run(["nm", obj], capture_output=True, text=True, check=True).stdout
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "U":
            used.add(parts[1])
        elif len(parts) == 3 and parts[1] in "TDBRVWG":
            defined.add(parts[2])
    return defined, used


def sccs(graph):
    """Tarjan's algorithm, iterative."""
    index, low, on, stack, out, n = {}, {}, set(), [], [], [0]
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = n[0]
        n[0] += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = n[0]
                    n[0] += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                out.append(sorted(comp))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("build")
    ap.add_argument("--allow", type=int, default=0, help="circles allowed before failing")
    a = ap.parse_args()
    objs = objects(a.build)
    if not objs:
        sys.exit(f"symbol-cycles: no objects under {a.build}/src: build first")
    syms = {src: symbols(o) for src, o in objs.items()}
    owner = collections.defaultdict(set)
    for src, (defined, _) in syms.items():
        for s in defined:
            owner[s].add(src)
    graph = {src: set() for src in syms}
    why = collections.defaultdict(set)
    for src, (_, used) in syms.items():
        for s in used:
            for o in owner.get(s, ()):
                if o != src:
                    graph[src].add(o)
                    why[(src, o)].add(s)
    circles = [c for c in sccs(graph) if len(c) > 1]
    circles.sort(key=lambda c: (c[0].split("/")[0], -len(c), c))
    for c in circles:
        print(f"circle of {len(c)}: {' '.join(c)}")
        members = set(c)
        for f in c:
            for t in sorted(graph[f] & members):
                print(f"  {f} -> {t}: {' '.join(sorted(why[(f, t)])[:4])}")
    files = sum(len(c) for c in circles)
    print(f"{len(circles)} circles, {files} files ({len(objs)} files read)")
    return 1 if len(circles) > a.allow else 0


if __name__ == "__main__":
    sys.exit(main())
