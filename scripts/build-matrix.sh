#!/usr/bin/env bash
# Builds the programs (no tests) with gcc and clang in Release,
# RelWithDebInfo and Debug into build-matrix/CC-TYPE. With gcc every warning
# is an error; clang's own warnings (-Wformat-nonliteral on vprintf-style
# wrappers, -Wsign-compare inside the kernel's NLMSG_OK) are printed, not
# fatal, as in the fuzz build (docs/fuzzing.md). The gcc RelWithDebInfo build
# is scripts/test.sh's own (build/), so it is not repeated here. Each
# configuration prints how long it took.
set -euo pipefail
cd "$(dirname "$0")/.."
for cc in gcc clang; do
        for type in Release RelWithDebInfo Debug; do
                [[ $cc == gcc && $type == RelWithDebInfo ]] && continue
                dir=build-matrix/$cc-$type
                start=$SECONDS
                werror=$([[ $cc == gcc ]] && echo ON || echo OFF)
                CC=$cc cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=$type -DWHISKERS_WERROR=$werror \
                        -DWHISKERS_TESTS=OFF >/dev/null
                cmake --build "$dir" -j"$(nproc)" >/dev/null
                echo "$cc $type: built in $((SECONDS - start)) s"
        done
done
