/*
 * seccomp-allow-exec: runs PROGRAM [ARGS...] under a one-instruction seccomp
 * filter that allows every system call.
 *
 * WHY: any filter at all moves each system call onto the kernel's slower
 * entry path (seccomp work is checked on entry, even when the per-syscall
 * action cache answers "allow" without running the filter). Running the
 * syscall loop under this filter measures that floor, which no policy can go
 * below, so the bench can tell the cost of having a filter from the cost of
 * whiskers' own filter.
 *
 * Usage: seccomp-allow-exec PROGRAM [ARGS...]. Exits 125 when the filter
 * cannot be installed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
        if (argc < 2) {
                fprintf(stderr, "usage: %s PROGRAM [ARGS...]\n", argv[0]);
                return 125;
        }
        struct sock_filter allow_all[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
        struct sock_fprog prog = {.len = 1, .filter = allow_all};
        /* Unprivileged filters need no_new_privs; it changes nothing else here. */
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
                fprintf(stderr, "seccomp-allow-exec: no_new_privs: %s\n", strerror(errno));
                return 125;
        }
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0) {
                fprintf(stderr, "seccomp-allow-exec: install filter: %s\n", strerror(errno));
                return 125;
        }
        execvp(argv[1], argv + 1);
        fprintf(stderr, "seccomp-allow-exec: exec %s: %s\n", argv[1], strerror(errno));
        return 127;
}
