#!/usr/bin/env bash
# Builds the programs (no tests) with gcc and clang in Release,
# RelWithDebInfo and Debug, every warning an error, into build-matrix/CC-TYPE.
# The gcc RelWithDebInfo build is scripts/test.sh's own (build/), so it is
# not repeated here. Each configuration prints how long it took.
set -euo pipefail
cd "$(dirname "$0")/.."
for cc in gcc clang; do
        for type in Release RelWithDebInfo Debug; do
                [[ $cc == gcc && $type == RelWithDebInfo ]] && continue
                dir=build-matrix/$cc-$type
                start=$SECONDS
                CC=$cc cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=$type -DWHISKERS_WERROR=ON \
                        -DWHISKERS_TESTS=OFF >/dev/null
                cmake --build "$dir" -j"$(nproc)" >/dev/null
                echo "$cc $type: built in $((SECONDS - start)) s"
        done
done
