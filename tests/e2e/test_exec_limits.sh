#!/usr/bin/env bash
# whiskers exec limits: each hostile load is stopped, reported with the right
# status and accounting, and leaves the host as it was. cgroup limits (pids,
# memory) are enforced as root; as a normal user without a delegated cgroup
# the documented refusal is asserted instead.
. "$(dirname "$0")/lib.sh"
host_snapshot start

host_pid_count() { find /proc -maxdepth 1 -name '[0-9]*' | wc -l; }

# ---- cgroup limits ----------------------------------------------------------
if can_enforce_cgroups; then
        before=$(host_pid_count)
        wh_run --pids 32 --wall-ms 10000 -- /probe forkbomb 1000
        expect "fork bomb under --pids 32: stopped by the limit, not a sandbox error" \
                rc=0 status=ok "out~^OK forked=([0-9]|[12][0-9]|3[01]) of 1000 errno=EAGAIN$"
        assert_empty "fork bomb: none of its processes remain on the host" \
        "$(sandbox_procs '^/probe forkbomb 1000$')"
        after=$(host_pid_count)
        assert_true "fork bomb: host process count not grown ($before -> $after)" \
                test "$after" -lt $((before + 16))

        wh_run --memory 64M --wall-ms 10000 -- /probe memhog 512
        expect "memory bomb under --memory 64M: oom, CLI 3" rc=3 status=oom out= \
                'mem_peak_bytes<=75497472' 'mem_peak_bytes>=33554432'
        wh_run --memory 64M --wall-ms 10000 -- /probe memhog 16
        expect "16 MiB under --memory 64M: ok" rc=0 status=ok "out=OK 16"
else
        wh_run --pids 32 -- /probe true
        expect "--pids without an enforceable cgroup: sandbox_error naming the cgroup" \
                rc=5 status=sandbox_error stage=cgroup 'message~allow-unenforced-limits|cgroup-parent' \
                out=
        wh_run --memory 64M -- /probe true
        expect "--memory without an enforceable cgroup: sandbox_error, nothing ran" \
                rc=5 status=sandbox_error stage=cgroup out=
        wh_run --memory 64M --pids 32 --allow-unenforced-limits -- /probe true
        expect "--allow-unenforced-limits: runs anyway" rc=0 status=ok out=OK
        skip "fork bomb and memory bomb" "need an enforceable cgroup (root or delegation)"
fi

# ---- time limits (supervisor) ---------------------------------------------
wh_run --cpu-ms 300 --wall-ms 10000 -- /probe spin 5000
expect "CPU spin past --cpu-ms 300: timeout_cpu, CLI 3" rc=3 status=timeout_cpu out= \
        'cpu_ms>=300' 'cpu_ms<=2000'

wh_run --wall-ms 300 -- /probe sleep 10000
expect "sleep past --wall-ms 300: timeout_wall, CLI 3" rc=3 status=timeout_wall out= \
        'wall_ms>=300' 'wall_ms<=2000' exit_code=-1

wh_run --wall-ms 5000 --cpu-ms 5000 -- /probe sleep 50
expect "under both time limits: ok" rc=0 status=ok out=OK

# ---- output limit --------------------------------------------------------------
wh_run --output-limit 1M --stdout "$T/flood" -- /probe write 5000000
expect "stdout flood past --output-limit 1M (to a file): output_limit" rc=3 \
        status=output_limit stdout_bytes=1048576
assert_eq "--stdout file holds exactly 1 MiB" 1048576 "$(stat -c %s "$T/flood")"

wh_run --output-limit 1M -- /probe write 5000000
expect "stdout flood through whiskers' stdout: output_limit" rc=3 status=output_limit \
        stdout_bytes=1048576
assert_eq "whiskers' stdout got exactly 1 MiB" 1048576 "$(stat -c %s "$T/out")"

wh_run --output-limit 1M --stderr "$T/flood2" -- /probe write 5000000 2
expect "stderr flood: output_limit, stderr_bytes 1 MiB" rc=3 status=output_limit \
        stderr_bytes=1048576 stdout_bytes=0
assert_eq "--stderr file holds exactly 1 MiB" 1048576 "$(stat -c %s "$T/flood2")"

wh_run --output-limit 1M --stdout "$T/small" -- /probe write 1000000
expect "output under the limit: ok" rc=0 status=ok stdout_bytes=1000000
assert_eq "all 1000000 bytes arrived" 1000000 "$(stat -c %s "$T/small")"

# ---- /tmp size and file size -----------------------------------------------------
name=wh-e2e-fill-$$
wh_run --tmp-size 1M -- /probe fill "/tmp/$name"
expect "filling /tmp under --tmp-size 1M: ENOSPC at <= 1 MiB" rc=1 status=exit_nonzero \
        "out~^ERR ENOSPC [0-9]+$"
bytes=$(cut -d' ' -f3 "$T/out")
assert_true "fill stopped at <= 1 MiB ($bytes bytes)" test "${bytes:-0}" -le 1048576
assert_true "host /tmp has no fill file" test ! -e "/tmp/$name"
rm -f "/tmp/$name"

wh_run --fsize 100K -- /probe fill /tmp/big
if [ "$(st status)" = signal ]; then
        expect "--fsize 100K: killed by SIGXFSZ" rc=1 signal=25
else
        expect "--fsize 100K: EFBIG at 100 KiB" rc=1 status=exit_nonzero "out=ERR EFBIG 102400"
fi

host_unchanged "host unchanged (hostname, core_pattern, /, /usr, /etc, clock)" start
finish
