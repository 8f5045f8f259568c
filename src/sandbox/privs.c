/* Privileges, rlimits and the loopback interface, applied inside the sandbox.
 *
 * privs_drop_all() leaves the process with every capability set empty
 * (bounding, ambient, inheritable, permitted, effective), securebits locked so
 * that execve as uid 0 can never grant capabilities back, and no_new_privs so
 * setuid/setgid/file-capability binaries gain nothing. With keep_net_raw
 * (a WH_NET_ALLOW policy with raw sockets), CAP_NET_RAW alone stays in the
 * bounding, permitted, inheritable and ambient sets, so the program holds it
 * after execve: in the sandbox's own user namespace, over its own network
 * namespace only, whose ruleset it cannot change (that needs CAP_NET_ADMIN). */
#define _GNU_SOURCE
#include "sandbox/internal.h"

#include <errno.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

/* capset(2) with the same set as permitted, effective and inheritable. */
static int caps_set(uint32_t caps)
{
        struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
        struct __user_cap_data_struct data[2];
        memset(data, 0, sizeof(data));
        data[0].permitted = data[0].effective = data[0].inheritable = caps;
        return (int)syscall(SYS_capset, &hdr, data);
}

int privs_drop_all(bool keep_net_raw)
{
        const uint32_t keep = keep_net_raw ? 1u << CAP_NET_RAW : 0;
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
                return -1;
        /* Raised before the securebits below forbid it; CAP_SETPCAP is kept
         * until they are set. */
        if (keep && (caps_set(keep | 1u << CAP_SETPCAP) < 0 ||
                     prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_RAW, 0, 0) < 0))
                return -1;
        const unsigned long bits = SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
                                   SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED |
                                   SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;
        if (prctl(PR_SET_SECUREBITS, bits, 0, 0, 0) < 0)
                return -1;
        /* Drop the bounding set up to the highest capability this kernel
         * knows: PR_CAPBSET_DROP fails with EINVAL past it. Every supported
         * kernel knows at least CAP_AUDIT_READ (3.16). */
        for (unsigned long cap = 0;; cap++) {
                if ((keep && cap == CAP_NET_RAW) || prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0)
                        continue;
                if (errno == EINVAL && cap > CAP_AUDIT_READ)
                        break;
                return -1;
        }
        if (caps_set(keep) < 0) /* the ambient CAP_NET_RAW stays: still in both sets */
                return -1;
        return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

static int set_limit(int resource, uint64_t value)
{
        struct rlimit rl = {.rlim_cur = value, .rlim_max = value};
        return setrlimit(resource, &rl);
}

int privs_set_rlimits(const struct child_ctx *ctx)
{
        const struct wh_limits *l = &ctx->run->limits;
        if (set_limit(RLIMIT_NOFILE, l->nofile ? l->nofile : 256) < 0 ||
            set_limit(RLIMIT_FSIZE, l->fsize_bytes ? l->fsize_bytes : 64ull << 20) < 0 ||
            set_limit(RLIMIT_CORE, 0) < 0 ||
            set_limit(RLIMIT_STACK, l->stack_bytes ? l->stack_bytes : 8ull << 20) < 0)
                return -1;
        /* No cgroup could take memory and pids: RLIMIT_NPROC counts the
         * processes of the sandbox's uid in its own user namespace (init
         * included, as in the cgroup), RLIMIT_AS each process's memory. */
        if (ctx->mem_pids_via_rlimit &&
            ((l->pids && set_limit(RLIMIT_NPROC, l->pids) < 0) ||
             (l->memory_bytes && set_limit(RLIMIT_AS, l->memory_bytes) < 0)))
                return -1;
        if (ctx->cpu_via_rlimit && l->cpu_ms) {
                /* Without cgroup accounting, the CPU limit is per process:
                 * SIGXCPU at the limit (rounded up to whole seconds by the
                 * kernel), SIGKILL one second later. */
                struct rlimit rl = {.rlim_cur = (l->cpu_ms + 999) / 1000,
                                    .rlim_max = (l->cpu_ms + 999) / 1000 + 1};
                if (setrlimit(RLIMIT_CPU, &rl) < 0)
                        return -1;
        }
        return 0;
}

int net_loopback_up(void)
{
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -1;
        struct ifreq ifr;
        memset(&ifr, 0, sizeof(ifr));
        strncpy(ifr.ifr_name, "lo", sizeof(ifr.ifr_name) - 1);
        int rc = ioctl(fd, SIOCGIFFLAGS, &ifr);
        if (rc == 0) {
                ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
                rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
        }
        int e = errno;
        close(fd);
        errno = e;
        return rc;
}
