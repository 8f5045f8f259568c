/* The v2 driver on this host's real unified hierarchy, for what it offers
 * here: CPU time from cpu.stat, cgroup.kill, removal; and the clear error for
 * a limit whose controller the hierarchy does not have (on a hybrid host the
 * controllers are bound to v1).
 *
 * Skipped without a cgroup2 mount; the no-limit test also needs root. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <time.h>

#include "cgroup_test.h"
#include "sandbox/cgroup.h"

static struct wh_cgroup *cg;
static pid_t child = -1;

/* The unified mount point under /sys/fs/cgroup and our cgroup in it. */
static bool find_v2(char *dir, size_t size)
{
        FILE *mi = fopen("/proc/self/mountinfo", "re");
        char line[4096], mnt[4096] = "";
        while (mi && fgets(line, sizeof(line), mi)) {
                char point[4096];
                if (strstr(line, " - cgroup2 ") && sscanf(line, "%*s %*s %*s %*s %4095s", point) &&
                    strncmp(point, "/sys/fs/cgroup", 14) == 0) {
                        snprintf(mnt, sizeof(mnt), "%s", point);
                        break;
                }
        }
        if (mi)
                fclose(mi);
        const char *self = slurp("/proc/self/cgroup");
        const char *v2 = strstr(self, "0::");
        if (!mnt[0] || !v2 || (v2 != self && v2[-1] != '\n'))
                return false;
        snprintf(dir, size, "%s%.*s", mnt, (int)strcspn(v2 + 3, "\n"), v2 + 3);
        size_t len = strlen(dir);
        if (dir[len - 1] == '/')
                dir[len - 1] = '\0'; /* we are in the root cgroup */
        return true;
}

static int teardown(void **state)
{
        (void)state;
        if (child > 0) {
                kill(child, SIGKILL);
                waitpid(child, NULL, 0);
        }
        wh_cgroup_destroy(cg);
        cg = NULL;
        child = -1;
        return 0;
}

static void test_cpu_stat_and_cgroup_kill(void **state)
{
        (void)state;
        char own[4096];
        if (geteuid() != 0 || !find_v2(own, sizeof(own))) {
                print_message("skipped: needs root and a cgroup2 mount\n");
                skip();
        }
        struct wh_cgroup_opts o = {.driver = "v2", .name_hint = "whiskers-test"};
        struct wh_err err = {0};
        if (wh_cgroup_create(&o, NULL, &cg, &err) < 0)
                fail_msg("create: %s", err.msg);
        const char *dir = wh_cgroup_dir(cg, NULL);
        char want[8192];
        snprintf(want, sizeof(want), "%s/%s", own, leaf_prefix("whiskers-test"));
        assert_memory_equal(dir, want, strlen(want));
        int go_fd = -1;
        child = spawn_waiting(child_spin, &go_fd);
        assert_true(child > 0);
        if (wh_cgroup_attach(cg, child, &err) < 0)
                fail_msg("attach: %s", err.msg);
        go(go_fd);
        assert_int_equal(atoi(slurp_in(dir, "cgroup.procs")), child);
        uint64_t ns = 0;
        const struct timespec tick = {.tv_nsec = 10 * 1000 * 1000};
        for (int i = 0; i < 500 && ns == 0; i++) {
                nanosleep(&tick, NULL);
                assert_int_equal(wh_cgroup_cpu_ns(cg, &ns), 0);
        }
        assert_true(ns > 0);
        struct wh_cgroup_stats st;
        assert_int_equal(wh_cgroup_read_stats(cg, &st), 0);
        assert_true(st.have_cpu && st.cpu_ns >= ns);
        assert_int_equal(wh_cgroup_kill(cg), 0);
        int status;
        assert_int_equal(waitpid(child, &status, 0), child);
        child = -1;
        assert_true(WIFSIGNALED(status));
        assert_int_equal(WTERMSIG(status), SIGKILL);
        char path[4096];
        snprintf(path, sizeof(path), "%s", dir);
        wh_cgroup_destroy(cg);
        cg = NULL;
        assert_false(exists(path));
}

/* Where our v2 cgroup cannot offer memory, asking for a memory limit under
 * v2 fails up front with a message an operator can act on. Runs as any user. */
static void test_memory_limit_unenforceable(void **state)
{
        (void)state;
        char own[4096];
        if (!find_v2(own, sizeof(own)) || strstr(slurp_in(own, "cgroup.controllers"), "memory")) {
                print_message("skipped: no cgroup2 mount, or it has the memory controller\n");
                skip();
        }
        struct wh_cgroup_opts o = {.driver = "v2"};
        struct wh_cgroup_limits lim = {.memory_bytes = 64 << 20};
        struct wh_err err = {0};
        assert_int_equal(wh_cgroup_create(&o, &lim, &cg, &err), -1);
        assert_null(cg);
        print_message("%s\n", err.msg);
        assert_string_equal(err.stage, "cgroup");
        assert_non_null(strstr(err.msg, "cannot enforce the memory limit with cgroups"));
        assert_non_null(strstr(err.msg, "Tried v2: controller memory not available in"));
        assert_non_null(strstr(err.msg, "--cgroup-parent"));
        assert_non_null(strstr(err.msg, "--allow-unenforced-limits"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_teardown(test_cpu_stat_and_cgroup_kill, teardown),
            cmocka_unit_test_teardown(test_memory_limit_unenforceable, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
