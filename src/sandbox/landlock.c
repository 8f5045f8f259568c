/* Landlock: the filesystem a sandboxed process may touch, enforced by the
 * kernel even if every other layer were bypassed.
 *
 *   /                 read and execute only
 *   /tmp, --bind DST  full access
 *   /dev              read, write and device ioctls (for null, zero, full...)
 *
 * On ABI >= 4 (Linux 6.7) TCP bind/connect are also denied unless the
 * sandbox has a loopback network; on ABI >= 6 (6.12) abstract unix sockets
 * and signals are scoped to the sandbox. The header of the build machine may
 * predate those, so the constants are defined here when missing. */
#define _GNU_SOURCE
#include "sandbox/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif
#define WH_LANDLOCK_NET_BIND_TCP        (1ULL << 0)
#define WH_LANDLOCK_NET_CONNECT_TCP     (1ULL << 1)
#define WH_LANDLOCK_SCOPE_ABSTRACT_UNIX (1ULL << 0)
#define WH_LANDLOCK_SCOPE_SIGNAL        (1ULL << 1)

/* The ruleset attribute as of ABI 6; older kernels accept a shorter size. */
struct ruleset_attr {
        uint64_t handled_access_fs;
        uint64_t handled_access_net;
        uint64_t scoped;
};

static uint64_t fs_rights_for_abi(int abi)
{
        uint64_t all = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1; /* ABI 1 */
        if (abi >= 2)
                all |= LANDLOCK_ACCESS_FS_REFER;
        if (abi >= 3)
                all |= LANDLOCK_ACCESS_FS_TRUNCATE;
        if (abi >= 5)
                all |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
        return all;
}

static int allow_path(int ruleset, const char *path, uint64_t rights)
{
        int fd = open(path, O_PATH | O_CLOEXEC);
        if (fd < 0)
                return -1;
        struct landlock_path_beneath_attr rule = {.allowed_access = rights, .parent_fd = fd};
        long rc = syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0);
        int e = errno;
        close(fd);
        errno = e;
        return rc < 0 ? -1 : 0;
}

int landlock_apply(const struct wh_sandbox_config *config)
{
        long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
        if (abi < 0)
                return (errno == ENOSYS || errno == EOPNOTSUPP) ? 0 : -1;

        uint64_t all = fs_rights_for_abi((int)abi);
        const uint64_t read_exec =
            LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
        struct ruleset_attr attr = {.handled_access_fs = all};
        size_t attr_size = sizeof(uint64_t);
        if (abi >= 4) {
                attr_size = 2 * sizeof(uint64_t);
                if (config->net == WH_NET_NONE)
                        attr.handled_access_net =
                            WH_LANDLOCK_NET_BIND_TCP | WH_LANDLOCK_NET_CONNECT_TCP;
        }
        if (abi >= 6) {
                attr_size = sizeof(attr);
                attr.scoped = WH_LANDLOCK_SCOPE_ABSTRACT_UNIX | WH_LANDLOCK_SCOPE_SIGNAL;
        }
        int ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, attr_size, 0);
        if (ruleset < 0)
                return -1;
        uint64_t dev = read_exec | LANDLOCK_ACCESS_FS_WRITE_FILE;
        if (abi >= 3)
                dev |= LANDLOCK_ACCESS_FS_TRUNCATE;
        if (abi >= 5)
                dev |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
        int rc = allow_path(ruleset, "/", read_exec);
        if (rc == 0)
                rc = allow_path(ruleset, "/dev", dev);
        if (rc == 0)
                rc = allow_path(ruleset, "/tmp", all);
        for (size_t i = 0; rc == 0 && i < config->n_binds; i++)
                if (config->binds[i].writable)
                        rc = allow_path(ruleset, config->binds[i].dst, all);
        if (rc == 0)
                rc = (int)syscall(SYS_landlock_restrict_self, ruleset, 0);
        int e = errno;
        close(ruleset);
        errno = e;
        return rc < 0 ? -1 : (int)abi;
}
