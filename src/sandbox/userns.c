/* User-namespace id mapping, written by the supervisor for the new init.
 *
 * Exactly one uid and one gid are mapped: the sandbox's root (0) to an
 * unprivileged host id. A root caller maps to --host-uid (default WH_DEFAULT_HOST_ID),
 * never to 0: without that, root inside would be root outside. An
 * unprivileged caller can only map its own ids, and must deny setgroups
 * first (user_namespaces(7)). */
#include "sandbox/internal.h"
#include "base/io.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int write_proc(pid_t pid, const char *file, const char *text, struct wh_err *err)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
        if (wh_write_string(path, text) < 0)
                return wh_err_set(err, errno, "userns", "cannot write %s ('%s')", path, text);
        return 0;
}

int userns_write_maps(pid_t pid, const struct wh_sandbox *sb, struct wh_err *err)
{
        char map[64];
        if (!sb->caller_is_root && write_proc(pid, "setgroups", "deny", err) < 0)
                return -1;
        snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)sb->host_uid);
        if (write_proc(pid, "uid_map", map, err) < 0)
                return -1;
        snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)sb->host_gid);
        return write_proc(pid, "gid_map", map, err);
}

const char *userns_unavailable_reason(int clone_errno)
{
        static char reason[256];
        char buf[32] = "";
        FILE *f;
        if (clone_errno != EPERM && clone_errno != EACCES && clone_errno != ENOSPC &&
            clone_errno != EUSERS)
                return NULL;
        if ((f = fopen("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", "re"))) {
                if (fgets(buf, sizeof(buf), f) && buf[0] == '1') {
                        fclose(f);
                        return "the host forbids unprivileged user namespaces "
                               "(AppArmor: kernel.apparmor_restrict_unprivileged_userns=1). "
                               "Run as root, or allow whiskers with an AppArmor profile that "
                               "grants 'userns,' (docs/sandbox.md, 'Rootless')";
                }
                fclose(f);
        }
        if ((f = fopen("/proc/sys/kernel/unprivileged_userns_clone", "re"))) {
                if (fgets(buf, sizeof(buf), f) && buf[0] == '0') {
                        fclose(f);
                        return "the host forbids unprivileged user namespaces "
                               "(kernel.unprivileged_userns_clone=0); ask the administrator to "
                               "set it to 1, or run as root";
                }
                fclose(f);
        }
        if ((f = fopen("/proc/sys/user/max_user_namespaces", "re"))) {
                if (fgets(buf, sizeof(buf), f) && buf[0] == '0' && buf[1] == '\n') {
                        fclose(f);
                        return "the host allows no user namespaces (user.max_user_namespaces=0)";
                }
                fclose(f);
        }
        snprintf(reason, sizeof(reason),
                 "cannot create a user namespace (%s); the host may forbid them for this user",
                 strerror(clone_errno));
        return reason;
}
