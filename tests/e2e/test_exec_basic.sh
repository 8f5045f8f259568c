#!/usr/bin/env bash
# whiskers exec basics: exit codes, signals, the status record's shape, stdin,
# stdout/stderr files, the environment, hostname, ids and what /proc and /dev
# show inside.
. "$(dirname "$0")/lib.sh"
host_snapshot start

wh_run -- /probe true
expect "true: ok, exit 0" rc=0 status=ok exit_code=0 signal=0 syscall=null out=OK \
        stdout_bytes=3 stderr_bytes=0 stage=null message=null
assert_eq "status record is one JSON object and a newline" "1 object" \
        "$(wc -l <"$T/status.json") $(jq -c 'type' "$T/status.json" | tr -d '"')"
expect "status record: namespaces, policy hash, numeric accounting" \
        'applied.namespaces|sort|join(",")=cgroup,ipc,mount,net,pid,user,uts' \
        'applied.seccomp_policy_hash~^[0-9a-f]{64}$' 'applied.cgroup_driver~^(v1|v2|none)$' \
        'applied.landlock_abi~^[0-9]+$' 'wall_ms~^[0-9]+$' 'cpu_ms~^[0-9]+$' \
        'mem_peak_bytes~^[0-9]+$'

LAST="whiskers exec --status-fd 3 -- /probe exit 0 3>$T/fd.json"
"$WHISKERS" exec --status-fd 3 --ro-bind "$PROBE:/probe" -- /probe exit 0 3>"$T/fd.json" \
        >"$T/out" 2>"$T/err"
RC=$?
assert_eq "--status-fd 3: the record goes to fd 3" "0 ok" "$RC $(jq -r .status "$T/fd.json")"

wh_run -- /probe exit 3
expect "exit 3: exit_nonzero, CLI 1" rc=1 status=exit_nonzero exit_code=3 signal=0 out=

wh_run -- /probe exit 0
expect "exit 0 without output: ok" rc=0 status=ok exit_code=0 stdout_bytes=0

wh_run -- /probe segv
expect "SIGSEGV: status signal 11, CLI 1" rc=1 status=signal signal=11 exit_code=-1 syscall=null

wh_run -- /probe signal 15
expect "raise SIGTERM: status signal 15" rc=1 status=signal signal=15 out=

head -c 12345 /dev/urandom >"$T/input"
wh_run --stdin "$T/input" -- /probe stdin
expect "--stdin FILE: the program reads the file" rc=0 status=ok "out=OK 12345"
wh_run -- /probe stdin
expect "default stdin is /dev/null" rc=0 "out=OK 0"
LAST="printf abc | whiskers exec --stdin - -- /probe stdin"
printf abc | "$WHISKERS" exec --status-file "$T/status.json" --ro-bind "$PROBE:/probe" \
        --stdin - -- /probe stdin >"$T/out" 2>"$T/err"
RC=$?
expect "--stdin -: inherits whiskers' stdin" rc=0 "out=OK 3"

wh_run --stdout "$T/o" --stderr "$T/e" -- /probe write 5000
expect "--stdout/--stderr FILE: output goes to the files, none to ours" rc=0 out= err= \
        stdout_bytes=5000 'stderr_bytes=8'
assert_eq "--stdout FILE holds exactly the bytes written" "5000 OK 5000" \
        "$(stat -c %s "$T/o") $(cat "$T/e")"

export WH_E2E_SECRET=leak-$$-$RANDOM
wh_run -- /probe env
expect "environment is only PATH" rc=0 "out=PATH=/usr/local/bin:/usr/bin:/bin"
wh_run --setenv FOO=bar --setenv 'X=1=2 3' -- /probe env
assert_eq "--setenv adds exactly those variables" \
        "FOO=bar|PATH=/usr/local/bin:/usr/bin:/bin|X=1=2 3|" "$(sort "$T/out" | tr '\n' '|')"
wh_run -- /probe cat /proc/1/environ
assert_true "whiskers' environment is not visible in the sandbox's init" \
        bash -c "! grep -q '$WH_E2E_SECRET' '$T/out'"
unset WH_E2E_SECRET

wh_run -- /probe hostname
expect "hostname is whiskers" rc=0 "out=OK whiskers"
wh_run --hostname box-1 -- /probe hostname
expect "--hostname box-1" rc=0 "out=OK box-1"

wh_run -- /probe ids
expect "uid and gid 0 inside" rc=0 "out~^OK uid=0 gid=0 euid=0 egid=0 "
wh_run -- /probe cat /proc/self/uid_map
expect "root maps to host uid $(expected_host_uid), one id only" rc=0 \
        "out~^ +0 +$(expected_host_uid) +1\$"
wh_run -- /probe cat /proc/self/gid_map
expect "gid 0 maps to host gid $(expected_host_gid), one id only" rc=0 \
        "out~^ +0 +$(expected_host_gid) +1\$"
if [ "$ROOT" = 1 ]; then
        wh_run --host-uid 4321 --host-gid 4322 -- /probe cat /proc/self/uid_map
        expect "--host-uid 4321 maps root to 4321" rc=0 "out~^ +0 +4321 +1\$"
else
        skip "--host-uid" "mapping to another id needs root"
fi

wh_run -- /probe pids
expect "/proc shows init and the program only" rc=0 "out=OK 1 2"
wh_run --chdir /dev -- /probe ls .
expect "--chdir /dev: cwd is /dev" rc=0 "out~ null( |$)" "out~ urandom( |$)"

wh_run -- /probe ls /dev
expect "/dev has null zero full random urandom fd stdin stdout stderr" rc=0 \
        "out~ null( |$)" "out~ zero( |$)" "out~ full( |$)" "out~ random( |$)" \
        "out~ urandom( |$)" "out~ fd( |$)" "out~ stdin( |$)" "out~ stdout( |$)" \
        "out~ stderr( |$)"
allowed=" null zero full random urandom fd stdin stdout stderr tty pts ptmx shm mqueue console "
extra=""
for name in $(cut -c4- "$T/out"); do
        [[ $allowed == *" $name "* ]] || extra+=" $name"
done
assert_eq "/dev has no other host device" "" "$extra"

host_unchanged "host unchanged (hostname, core_pattern, /, /usr, /etc, clock)" start
finish
