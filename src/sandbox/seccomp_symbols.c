/* Symbolic constants for policy conditions and errno names for errno rules.
 *
 * The table holds only constants a syscall policy plausibly compares against
 * (socket families and types, clone flags, tty ioctls, personalities); the
 * values come from the system headers, so they are the kernel ABI values. */
#define _GNU_SOURCE
#include "sandbox/seccomp_internal.h"

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/socket.h>

struct symbol {
        const char *name;
        uint64_t value;
};

/* clang-format off */
#define SYM(x) {#x, (uint64_t)(x)}
/* clang-format on */

static const struct symbol symbols[] = {
    SYM(AF_UNSPEC),       SYM(AF_UNIX),        SYM(AF_LOCAL),
    SYM(AF_INET),         SYM(AF_INET6),       SYM(AF_NETLINK),
    SYM(AF_PACKET),       SYM(AF_VSOCK),       SYM(AF_ALG),
    SYM(AF_BLUETOOTH),    SYM(AF_KEY),         SYM(AF_XDP),
    SYM(SOCK_STREAM),     SYM(SOCK_DGRAM),     SYM(SOCK_RAW),
    SYM(SOCK_RDM),        SYM(SOCK_SEQPACKET), SYM(SOCK_PACKET),
    SYM(SOCK_NONBLOCK),   SYM(SOCK_CLOEXEC),   SYM(CLONE_VM),
    SYM(CLONE_FS),        SYM(CLONE_FILES),    SYM(CLONE_SIGHAND),
    SYM(CLONE_PIDFD),     SYM(CLONE_PTRACE),   SYM(CLONE_VFORK),
    SYM(CLONE_PARENT),    SYM(CLONE_THREAD),   SYM(CLONE_SYSVSEM),
    SYM(CLONE_SETTLS),    SYM(CLONE_UNTRACED), SYM(CLONE_NEWNS),
    SYM(CLONE_NEWCGROUP), SYM(CLONE_NEWUTS),   SYM(CLONE_NEWIPC),
    SYM(CLONE_NEWUSER),   SYM(CLONE_NEWPID),   SYM(CLONE_NEWNET),
    SYM(CLONE_NEWTIME),   SYM(TIOCSTI),        SYM(TIOCLINUX),
    SYM(TIOCSETD),        SYM(TIOCGWINSZ),     SYM(TCGETS),
    SYM(FIONREAD),        SYM(FIONBIO),        SYM(FIOCLEX),
    SYM(PER_LINUX),       SYM(PER_LINUX32),    SYM(ADDR_NO_RANDOMIZE),
};

int wh_seccomp_symbol(const char *name, uint64_t *value)
{
        for (size_t i = 0; i < sizeof(symbols) / sizeof(symbols[0]); i++) {
                if (strcmp(symbols[i].name, name) == 0) {
                        *value = symbols[i].value;
                        return 0;
                }
        }
        return -1;
}

int wh_seccomp_errno_value(const char *name)
{
        /* glibc names every errno value Linux has (they end below 140) but
         * gives one name per value, so the aliases are listed here. */
        static const struct symbol aliases[] = {SYM(ENOTSUP), SYM(EWOULDBLOCK), SYM(EDEADLOCK)};
        for (int e = 1; e < 256; e++) {
                const char *known = strerrorname_np(e);
                if (known && strcmp(known, name) == 0)
                        return e;
        }
        for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++) {
                if (strcmp(aliases[i].name, name) == 0)
                        return (int)aliases[i].value;
        }
        return 0;
}
