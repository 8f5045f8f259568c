#!/usr/bin/env bash
# whiskers exec's default limits (issue 8, item 6): a run that asks for no
# limit still has memory 1 GiB, 256 pids and 60 s of wall-clock time, enforced
# by the cgroup where one can be made and by rlimits (RLIMIT_AS, RLIMIT_NPROC)
# where not; --no-default-limits or a 0 lifts them; limits asked for keep
# their rule (a cgroup, or an error).
. "$(dirname "$0")/lib.sh"
host_snapshot start
gib=1073741824

wh_run -- /probe true
expect "no flags: the record shows the default limits" rc=0 status=ok \
        applied.limits.memory_bytes=$gib applied.limits.pids=256 applied.limits.wall_ms=60000 \
        "applied.limits.enforced_by~^(cgroup|rlimit)$"
by=$(st applied.limits.enforced_by)
if [ "$ROOT" = 1 ]; then
        assert_eq "as root the cgroup enforces them" cgroup "$by"
fi

# A fork bomb and a memory bomb with no flags, however they are enforced here.
wh_run -- /probe forkbomb 1000
expect "fork bomb with no flags: stopped below 256 processes ($by)" rc=0 status=ok \
        "out~^OK forked=([0-9]|[0-9][0-9]|1[0-9][0-9]|2[0-4][0-9]|25[0-5]) of 1000 errno=EAGAIN$"
assert_empty "fork bomb: none of its processes remain on the host" \
        "$(sandbox_procs '^/probe forkbomb 1000$')"
wh_run -- /probe memhog 1200
if [ "$by" = cgroup ]; then
        expect "1200 MiB with no flags: oom under the cgroup's 1 GiB" rc=3 status=oom out=
else
        expect "1200 MiB with no flags: refused by RLIMIT_AS" rc=1 "out~^ERR ENOMEM [0-9]+$"
fi

# The rlimit fallback itself, wherever this runs: no cgroup driver at all.
wh_run --cgroup-driver none -- /probe true
expect "--cgroup-driver none: the defaults fall back to rlimits" rc=0 status=ok \
        applied.limits.enforced_by=rlimit applied.limits.pids=256
wh_run --cgroup-driver none -- /probe forkbomb 1000
expect "fork bomb under the RLIMIT_NPROC fallback: stopped below 256" rc=0 \
        "out~^OK forked=([0-9]|[0-9][0-9]|1[0-9][0-9]|2[0-4][0-9]|25[0-5]) of 1000 errno=EAGAIN$"
wh_run --cgroup-driver none -- /probe memhog 1200
expect "1200 MiB under the RLIMIT_AS fallback: ENOMEM below 1 GiB" rc=1 \
        "out~^ERR ENOMEM ([0-9]|[0-9][0-9]|[0-9][0-9][0-9]|10[01][0-9]|102[0-3])$"
wh_run --cgroup-driver none -- /probe memhog 64
expect "64 MiB under the RLIMIT_AS fallback: ok" rc=0 "out=OK 64"

# Lifting them.
wh_run --no-default-limits -- /probe forkbomb 300
expect "--no-default-limits: no pids limit" rc=0 "out=OK forked=300 of 300 errno=none" \
        applied.limits.memory_bytes=0 applied.limits.pids=0 applied.limits.wall_ms=0 \
        applied.limits.enforced_by=none
wh_run --pids 0 -- /probe forkbomb 300
expect "--pids 0 lifts the pids default only" rc=0 "out=OK forked=300 of 300 errno=none" \
        applied.limits.pids=0 applied.limits.memory_bytes=$gib applied.limits.wall_ms=60000
wh_run --wall-ms 5000 -- /probe true
expect "--wall-ms replaces the wall default" rc=0 applied.limits.wall_ms=5000 \
        applied.limits.pids=256

# A limit asked for is not quietly weakened into an rlimit.
wh_run --cgroup-driver none --pids 32 -- /probe true
expect "--pids asked for with no cgroup: still sandbox_error at stage cgroup" rc=5 \
        status=sandbox_error stage=cgroup out=
wh_run --cgroup-driver none --memory 64M --allow-unenforced-limits -- /probe true
expect "--allow-unenforced-limits: unenforced, and said so" rc=0 \
        applied.limits.enforced_by=unenforced applied.limits.memory_bytes=67108864
host_unchanged "host state unchanged" start
finish
