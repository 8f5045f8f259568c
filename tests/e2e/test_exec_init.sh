#!/usr/bin/env bash
# whiskers exec: the sandbox's init (pid 1) is out of the program's reach
# (issue 8, items 3 and 4). init runs without seccomp and with the program's
# uid, so the program must not change its rlimits (prlimit); and init is a
# clone of the supervisor that never execs, so /proc/1/cmdline and
# /proc/1/environ must not show the supervisor's arguments or environment.
. "$(dirname "$0")/lib.sh"
host_snapshot start

# ---- rlimits -----------------------------------------------------------------------
# The default policy allows prlimit64 outright; a fixed filter below it keeps
# pid 1 out of its reach.
wh_run -- /probe prlimit 1
expect "prlimit on init (pid 1): EPERM" rc=1 status=exit_nonzero "out=ERR EPERM"
wh_run -- /probe prlimit 0x100000001
expect "prlimit on init with a pid wider than 32 bits: EPERM" rc=1 "out=ERR EPERM"
wh_run -- /probe prlimit 0
expect "prlimit on itself still works" rc=0 status=ok out=OK

# ---- the supervisor's command line and environment ------------------------------
secret=wh-secret-$$-$RANDOM
export WH_E2E_MARKER=$secret-env
wh_run --setenv "TOKEN=$secret-arg" --chdir /tmp -- /probe cat /proc/1/cmdline
expect "/proc/1/cmdline is readable" rc=0 status=ok
assert_eq "/proc/1/cmdline shows init's title, nothing of whiskers' arguments" \
        "whiskers-init|" "$(tr '\0' '|' <"$T/out")"
wh_run --setenv "TOKEN=$secret-arg" -- /probe cat /proc/1/environ
assert_eq "/proc/1/environ holds no --setenv value and none of whiskers' variables" "" \
        "$(grep -a -o -e "$secret" -e WH_E2E_MARKER "$T/out")"
wh_run --setenv "TOKEN=$secret-arg" --chdir /tmp -- /probe env
expect "the program still gets its own environment" rc=0 "out~TOKEN=$secret-arg"
unset WH_E2E_MARKER

host_unchanged "host state unchanged" start
finish
