#!/usr/bin/env bash
# Runs the test suite again as an unprivileged user (whiskers-test), the way a
# rootless operator would run it. Needs root to create the user.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
if [ "$(id -u)" != 0 ]; then
  (cd "$build" && ctest --output-on-failure -j2)
  exit
fi
id whiskers-test >/dev/null 2>&1 || useradd --system --create-home --shell /bin/bash whiskers-test
# A copy the test user can read and write: tests write next to their binaries.
# The build trees stay behind: the copy builds its own, and root's may hold
# files the test user could not remove.
work=$(mktemp -d /tmp/whiskers-unpriv.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir "$work/src"
tar -C . --exclude='./build*' -cf - . | tar -C "$work/src" -xf -
[ -d ../shared ] && ln -s "$(cd ../shared && pwd)" "$work/shared"
chown -R whiskers-test: "$work"
runuser -u whiskers-test -- bash -c "cd '$work/src' && rm -rf '$build' && scripts/build.sh '$build' && cd '$build' && ctest --output-on-failure -j2 -LE root-only"
