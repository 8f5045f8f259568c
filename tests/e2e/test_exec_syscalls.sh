#!/usr/bin/env bash
# whiskers exec seccomp: every system call that reaches kernel objects the
# namespaces do not isolate kills the run with status seccomp_kill, the call
# named in the record, CLI exit 4; the 32-bit and x32 entries too. The host
# (hostname, clock, core_pattern) is unchanged afterwards.
. "$(dirname "$0")/lib.sh"
host_snapshot start

# probe's name for the call, and the x86_64 name the record must carry.
killed=(mount:mount umount:umount2 pivot_root:pivot_root unshare:unshare setns:setns
        chroot:chroot keyctl:keyctl bpf:bpf perf_event_open:perf_event_open
        userfaultfd:userfaultfd ptrace:ptrace
        process_vm_readv:process_vm_readv open_by_handle_at:open_by_handle_at
        sethostname:sethostname settimeofday:settimeofday clock_settime:clock_settime
        init_module:init_module reboot:reboot)
for pair in "${killed[@]}"; do
        call=${pair%%:*}
        name=${pair#*:}
        wh_run -- /probe syscall "$call"
        expect "$call: seccomp_kill naming $name, CLI 4" rc=4 status=seccomp_kill \
                "syscall.name=$name" syscall.arch=x86_64 'syscall.nr~^[0-9]+$' exit_code=-1 out=
done

# docs/seccomp-policy.md: io_uring_setup answers ENOSYS so that programs fall back.
wh_run -- /probe syscall io_uring_setup
expect "io_uring_setup: ENOSYS (documented errno answer)" rc=1 status=exit_nonzero \
        "out=ERR ENOSYS"

# Also dangerous, but a refusal by errno is as good as a kill: must not succeed.
refused=(clone-newuser:clone finit_module:finit_module kexec_load:kexec_load
        fsopen:fsopen open_tree:open_tree iopl:iopl)
for pair in "${refused[@]}"; do
        call=${pair%%:*}
        name=${pair#*:}
        wh_run -- /probe syscall "$call"
        if [ "$(st status)" = seccomp_kill ]; then
                expect "$call: seccomp_kill naming $name" rc=4 "syscall.name=$name" out=
        else
                expect "$call: refused" rc=1 status=exit_nonzero "out~^ERR E[A-Z]+$"
        fi
done

# A kernel without IA32 emulation (ia32_emulation=0, or built without it)
# answers int 0x80 with SIGSEGV even outside any sandbox: nothing to filter.
if "$PROBE" int80 >/dev/null 2>&1; then
        wh_run -- /probe int80
        expect "getpid through int 0x80: seccomp_kill, arch i386" rc=4 status=seccomp_kill \
                syscall.arch=i386 out=
else
        skip "getpid through int 0x80" "this kernel has no IA32 emulation (int 0x80 fails" \
                "outside the sandbox too): the i386 entry's seccomp_kill was NOT tested"
fi
wh_run -- /probe x32
if [ "$(st status)" = seccomp_kill ]; then
        expect "getpid through the x32 entry: seccomp_kill, arch x32" rc=4 syscall.arch=x32 out=
else
        expect "getpid through the x32 entry: refused" rc=1 "out=ERR ENOSYS"
fi

# Ordinary calls still work after all this (the filter is not kill-everything).
wh_run -- /probe spin 10
expect "an ordinary program runs under the default policy" rc=0 status=ok out=OK

host_unchanged "host unchanged (hostname, core_pattern, /, /usr, /etc, clock)" start
finish
