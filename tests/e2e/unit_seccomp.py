"""unit_seccomp.py [OFF-DIRECTIVE...] -- COMMAND...: run COMMAND under the
seccomp filter that the systemd unit's directives install (as systemd 252
builds them, reduced to the calls they match), for test_worker_systemd.sh:
systemd is not PID 1 on the test machines, so it cannot apply them itself.

  SystemCallArchitectures=native  the filter knows only the native ABI: a call
                                  of another (x32, i386) kills the process
  SystemCallFilter=~@clock @cpu-emulation @debug @module @obsolete @raw-io
      @reboot @swap               kills the process (SIGSYS); this also covers
                                  what ProtectClock=, ProtectKernelModules= and
                                  PrivateDevices= refuse (EPERM, a lower
                                  precedence than a kill)
  LockPersonality=yes             personality() other than PER_LINUX: EPERM
  RestrictRealtime=yes            sched_setscheduler() to a realtime policy: EPERM
  RestrictSUIDSGID=yes            a set-user/group-id mode bit: EPERM
  RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK
                                  socket() of another family: EAFNOSUPPORT
Directives the unit leaves off, to show what they would do:
  --protect-hostname              ProtectHostname=yes: sethostname() and
                                  setdomainname() EPERM
  --restrict-namespaces           RestrictNamespaces= with any restriction:
                                  clone3() ENOSYS (its flags are out of a
                                  filter's reach), plus the namespace types
                                  the sandbox does not use (time) EPERM

Needs no_new_privs (setpriv --no-new-privs) when not root.
"""
import errno
import os
import sys

import seccomp

EPERM = seccomp.ERRNO(errno.EPERM)
SUID_SGID = (0o4000, 0o2000)
ALLOWED_FAMILIES = {1, 2, 10, 16}  # AF_UNIX, AF_INET, AF_INET6, AF_NETLINK
REALTIME = (1, 2, 6)  # SCHED_FIFO, SCHED_RR, SCHED_DEADLINE
RESET_ON_FORK = 0x40000000
CLONE_NEWTIME = 0x80
# The unit's SystemCallFilter= groups, as `systemd-analyze syscall-filter`
# (systemd 252) lists them.
DENIED = """
    adjtimex clock_adjtime clock_adjtime64 clock_settime clock_settime64 settimeofday
    modify_ldt subpage_prot switch_endian vm86 vm86old
    lookup_dcookie perf_event_open pidfd_getfd ptrace rtas s390_runtime_instr
    sys_debug_setcontext
    delete_module finit_module init_module
    _sysctl afs_syscall bdflush break create_module ftime get_kernel_syms getpmsg gtty idle
    lock mpx prof profil putpmsg query_module security sgetmask ssetmask stime stty sysfs
    tuxcall ulimit uselib ustat vserver
    ioperm iopl pciconfig_iobase pciconfig_read pciconfig_write s390_pci_mmio_read
    s390_pci_mmio_write
    kexec_file_load kexec_load reboot
    swapoff swapon
""".split()


def rule(f, action, call, *args):
    if seccomp.resolve_syscall(seccomp.Arch.NATIVE, call) < 0:
        return  # not a call of this architecture (pciconfig_*, clock_settime64, ...)
    f.add_rule(action, call, *args)


def build(off):
    f = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    for call in DENIED:
        rule(f, seccomp.KILL_PROCESS, call)
    rule(f, EPERM, "personality", seccomp.Arg(0, seccomp.NE, 0))
    for policy in REALTIME:
        rule(f, EPERM, "sched_setscheduler",
             seccomp.Arg(1, seccomp.MASKED_EQ, ~RESET_ON_FORK & 0xffffffff, policy))
    for bit in SUID_SGID:
        for call, mode in (("chmod", 1), ("fchmod", 1), ("fchmodat", 2), ("mknod", 1),
                           ("mknodat", 2), ("creat", 1)):
            rule(f, EPERM, call, seccomp.Arg(mode, seccomp.MASKED_EQ, bit, bit))
        for call, flags in (("open", 1), ("openat", 2)):
            rule(f, EPERM, call, seccomp.Arg(flags, seccomp.MASKED_EQ, os.O_CREAT, os.O_CREAT),
                 seccomp.Arg(flags + 1, seccomp.MASKED_EQ, bit, bit))
    for family in range(46):
        if family not in ALLOWED_FAMILIES:
            rule(f, seccomp.ERRNO(errno.EAFNOSUPPORT), "socket",
                 seccomp.Arg(0, seccomp.EQ, family))
    rule(f, seccomp.ERRNO(errno.EAFNOSUPPORT), "socket", seccomp.Arg(0, seccomp.GE, 46))
    if "--protect-hostname" in off:
        rule(f, EPERM, "sethostname")
        rule(f, EPERM, "setdomainname")
    if "--restrict-namespaces" in off:
        rule(f, seccomp.ERRNO(errno.ENOSYS), "clone3")
        for call in ("unshare", "clone", "setns"):
            rule(f, EPERM, call, seccomp.Arg(1 if call == "setns" else 0, seccomp.MASKED_EQ,
                                             CLONE_NEWTIME, CLONE_NEWTIME))
    return f


def main(argv):
    if "--" not in argv or argv.index("--") + 1 == len(argv):
        sys.exit("usage: unit_seccomp.py [--protect-hostname] [--restrict-namespaces] -- COMMAND...")
    split = argv.index("--")
    off, command = argv[:split], argv[split + 1:]
    unknown = set(off) - {"--protect-hostname", "--restrict-namespaces"}
    if unknown:
        sys.exit("unit_seccomp.py: unknown option %s" % " ".join(sorted(unknown)))
    build(off).load()
    os.execvp(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
