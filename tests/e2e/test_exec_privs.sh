#!/usr/bin/env bash
# whiskers exec privileges: root inside has no capability in any set, cannot
# regain one, and a setuid binary from the host's /usr gains nothing.
. "$(dirname "$0")/lib.sh"
host_snapshot start

zero=0000000000000000
wh_run -- /probe caps
expect "no capabilities in any set; no_new_privs; seccomp filter on" rc=0 \
        "out~ Uid=0,0,0,0 " "out~ CapInh=$zero " "out~ CapPrm=$zero " "out~ CapEff=$zero " \
        "out~ CapBnd=$zero " "out~ CapAmb=$zero " "out~ NoNewPrivs=1 " "out~ Seccomp=2$"

wh_run -- /probe capset
if [ "$(st status)" = seccomp_kill ]; then
        expect "capset to regain CAP_SYS_ADMIN: killed" rc=4 syscall.name=capset out=
else
        expect "capset to regain CAP_SYS_ADMIN: EPERM" rc=1 status=exit_nonzero "out=ERR EPERM"
fi

found=0
for bin in /usr/bin/passwd /usr/bin/su /usr/bin/mount; do
        [ -u "$bin" ] && [ "$(stat -c %u "$bin")" = 0 ] || continue
        found=1
        wh_run -- /probe setuid-exec "$bin"
        expect "setuid-root $bin: euid stays 0-in-sandbox, no capability gained" rc=0 \
                "out~ Uid=0,0,0,0 " "out~ CapPrm=$zero " "out~ CapEff=$zero " "out~ CapAmb=$zero "
done
[ "$found" = 1 ] || skip "setuid binaries" "no setuid-root binary in /usr/bin (package passwd)"

# A setuid binary the caller owns: the setuid bit must not switch ids either.
cp "$PROBE" "$T/suid-probe"
chown "$(expected_host_uid):$(expected_host_gid)" "$T/suid-probe" 2>/dev/null
chmod 4755 "$T/suid-probe"
wh_run --ro-bind "$T/suid-probe:/suid-probe" -- /suid-probe caps
expect "exec of a setuid copy owned by the mapped user: no capability gained" rc=0 \
        "out~ CapPrm=$zero " "out~ CapEff=$zero "

# init (pid 1) runs without the seccomp filter: whoever can read its memory
# through /proc/1/mem can also write it (the same ptrace check) and so make
# it run any system call.
wh_run -- /probe mem-read 1
expect "init's memory (/proc/1/mem) is out of the program's reach" rc=1 \
        "out~^ERR (EACCES|EPERM|ENOENT)$"
wh_run -- /probe ls /proc/1/fd
expect "init's open files (/proc/1/fd) are out of the program's reach" rc=1 \
        "out~^ERR (EACCES|EPERM|ENOENT)$"
wh_run -- /probe ls /proc/self/fd
expect "the program inherits only stdin, stdout, stderr (3 is the listing's own)" rc=0 \
        "out=OK 0 1 2 3"
wh_run -- /probe mem-read 2
expect "control: the program reads its own /proc/self/mem" rc=0 "out=OK 16"

# A host process is out of reach: its pid means nothing inside.
sleep 60 &
victim=$!
bg_started "$victim"
wh_run -- /probe kill "$victim" 9
expect "kill of a host pid from inside: ESRCH" rc=1 status=exit_nonzero "out=ERR ESRCH"
assert_true "the host process is still alive" kill -0 "$victim"

host_unchanged "host unchanged (hostname, core_pattern, /, /usr, /etc, clock)" start
finish
