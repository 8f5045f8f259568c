#!/usr/bin/env bash
# Sets up whiskers and runs the built-in example: a program in the sandbox,
# with its status record, then two runs the sandbox has to stop.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh build >/dev/null
wh=build/src/cli/whiskers

show() { echo; echo "\$ $*"; "$@" || echo "(exit status $?)"; }

show "$wh" exec --status-fd 1 -- /usr/bin/python3 -I -S -c 'import sys; print("hello from", sys.platform)'
show "$wh" exec --memory 64M --allow-unenforced-limits --status-fd 1 -- \
     /usr/bin/python3 -I -S -c 'b = bytearray(512 << 20)'
# bpf(2) is system call 321 on x86-64: not on the allowlist.
show "$wh" exec --status-fd 1 -- /usr/bin/python3 -I -c 'import ctypes; ctypes.CDLL(None).syscall(321, 0, 0, 0)'
