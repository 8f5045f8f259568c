/* Installing a compiled filter. Runs in the payload process between fork and
 * execve, so it is raw system calls only: no allocation, no locks, no
 * libseccomp (whose seccomp_load() allocates and re-generates the program).
 *
 * Below the policy's filter sits a fixed one that no policy can lift: init
 * (pid 1) runs without seccomp and shares the program's uid, and the kernel
 * lets a process with the same uid change another's rlimits with
 * prlimit(pid, ...) - no dumpability check, no capability. The program could
 * lower init's RLIMIT_CPU or RLIMIT_NOFILE, kill it and so turn its own run
 * into a sandbox_error. prlimit64 on pid 1 therefore answers EPERM; on itself
 * (0) or its own children it works as before. Of stacked filters the kernel
 * takes the strictest answer, and ERRNO beats the policy's ALLOW and NOTIFY. */
#include "sandbox/seccomp.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#else
#error "the init guard knows x86-64 and aarch64 only"
#endif
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the init guard reads the low half of arg0 at its first byte"
#endif

/* Other architectures' entries are the policy filter's business (it allows
 * them nothing). The kernel reads prlimit64's pid as 32 bits: so does this. */
static const struct sock_filter init_guard[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_ARCH, 0, 5),
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_prlimit64, 0, 3),
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
};

int wh_seccomp_install(const struct sock_fprog *prog, int *listener_fd)
{
        const struct sock_fprog guard = {.len = sizeof(init_guard) / sizeof(init_guard[0]),
                                         .filter = (struct sock_filter *)init_guard};
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &guard) < 0)
                return -1;
        /* NEW_LISTENER: the kernel returns the notification fd (close-on-exec)
         * through which the supervisor learns of every refused call. */
        long fd =
            syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, prog);
        if (fd < 0)
                return -1;
        *listener_fd = (int)fd;
        return 0;
}
