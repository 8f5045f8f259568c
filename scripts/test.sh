#!/usr/bin/env bash
# Sets up and runs every test: the normal build, the ASan+UBSan build, the
# fuzz targets briefly, the suite again as an unprivileged user, the cgroup v2
# tests in a VM (on a host without a pure v2 hierarchy), and the clang-format
# check; builds the programs with gcc and clang at every
# optimisation level. Every warning is an error here (WHISKERS_WERROR).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

echo "== clang-format"
scripts/check-format.sh

echo "== build and test (release)"
scripts/build.sh build -DWHISKERS_WERROR=ON
(cd build && ctest --output-on-failure -j2)

echo "== files that call each other in a circle (docs/design.md: the four that remain)"
scripts/symbol-cycles.py build --allow 4

echo "== build matrix: gcc and clang; Release, RelWithDebInfo, Debug (programs only)"
scripts/build-matrix.sh

echo "== build and test (ASan + UBSan)"
scripts/build.sh build-asan -DWH_SANITIZE=ON -DWHISKERS_WERROR=ON
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j2)

echo "== fuzz targets: regression corpus, seeds, then 15 s of fuzzing each (docs/fuzzing.md)"
CC=clang scripts/build.sh build-fuzz -DWH_FUZZ=ON
(cd build-fuzz && ctest --output-on-failure -j2 -L fuzz)

echo "== test as an unprivileged user"
scripts/test-unprivileged.sh build

echo "== cgroup v2 in a VM (tests/vm/cgroup-v2.sh; docs/cgroups.md, \"Testing on cgroup v2\")"
tests/vm/cgroup-v2.sh build || [ $? = 77 ] # 77: skipped, and said why
