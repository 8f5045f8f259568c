/* As an unprivileged user without a delegated cgroup, a limit cannot be
 * enforced: create fails with the operator's options spelled out, and
 * leaves nothing behind. Skipped as root (root can write its own cgroups)
 * and where this user can write its own cgroup (a delegated session). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cgroup_test.h"
#include "sandbox/cgroup.h"

/* Can this user create a cgroup beneath its own in any hierarchy? */
static bool own_cgroup_writable(void)
{
        char self[8192];
        snprintf(self, sizeof(self), "%s", slurp("/proc/self/cgroup"));
        for (char *line = strtok(self, "\n"); line; line = strtok(NULL, "\n")) {
                char *path = strchr(strchr(line, ':') + 1, ':') + 1;
                const char *ctrl = strchr(line, ':') + 1;
                char dir[4096];
                if (strncmp(ctrl, "memory:", 7) == 0)
                        snprintf(dir, sizeof(dir), "/sys/fs/cgroup/memory%s", path);
                else if (strncmp(ctrl, ":", 1) == 0)
                        snprintf(dir, sizeof(dir), "/sys/fs/cgroup/unified%s", path);
                else
                        continue;
                if (access(dir, W_OK) == 0)
                        return true;
                snprintf(dir, sizeof(dir), "/sys/fs/cgroup%s", path);
                if (ctrl[0] == ':' && access(dir, W_OK) == 0)
                        return true;
        }
        return false;
}

static void test_limit_without_delegation(void **state)
{
        (void)state;
        if (geteuid() == 0 || own_cgroup_writable()) {
                print_message("skipped: root, or this user's cgroup is delegated\n");
                skip();
        }
        struct wh_cgroup_limits lim = {.memory_bytes = 64 << 20};
        struct wh_cgroup *cg = NULL;
        struct wh_err err = {0};
        assert_int_equal(wh_cgroup_create(NULL, &lim, &cg, &err), -1);
        assert_null(cg);
        print_message("%s\n", err.msg);
        assert_string_equal(err.stage, "cgroup");
        assert_non_null(strstr(err.msg, "cannot enforce the memory limit with cgroups; delegate "
                                        "a writable cgroup to this user (systemd Delegate=yes"));
        assert_non_null(strstr(err.msg, "Tried "));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_limit_without_delegation),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
