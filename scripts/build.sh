#!/usr/bin/env bash
# Configures and builds into build/ (or $1, with extra cmake options after it).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build "$dir" -j"$(nproc)"
# The binary at the top of the build tree, as the README promises.
ln -sfn src/cli/whiskers "$dir/whiskers"
