/* The v1 driver on this host's real cgroup v1 hierarchies: limits really
 * bite (OOM kill counted, forks refused, CPU time accounted), kill empties
 * the cgroup, destroy removes every directory.
 *
 * Needs root and v1 memory, pids, cpu and cpuacct hierarchies; skipped
 * otherwise (the suite also runs as an unprivileged user). */
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

static bool v1_usable(void)
{
        return geteuid() == 0 && exists("/sys/fs/cgroup/memory/memory.limit_in_bytes") &&
               exists("/sys/fs/cgroup/pids/cgroup.procs") &&
               (exists("/sys/fs/cgroup/cpuacct/cpuacct.usage") ||
                exists("/sys/fs/cgroup/cpu,cpuacct/cpuacct.usage"));
}

static int setup(void **state)
{
        (void)state;
        /* Orphaned grandchildren come back to us to be reaped. */
        return prctl(PR_SET_CHILD_SUBREAPER, 1) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
        (void)state;
        if (child > 0)
                kill(child, SIGKILL);
        if (cg) {
                wh_cgroup_kill(cg);
                wh_cgroup_destroy(cg);
        }
        reap_all();
        cg = NULL;
        child = -1;
        return 0;
}

static void create_limited(void)
{
        if (!v1_usable()) {
                print_message("skipped: needs root and cgroup v1 memory, pids, cpuacct\n");
                skip();
        }
        struct wh_cgroup_opts o = {.driver = "v1", .name_hint = "whiskers-test"};
        struct wh_cgroup_limits lim = {.memory_bytes = 64 << 20, .pids = 16, .cpus = 0.5};
        struct wh_err err = {0};
        if (wh_cgroup_create(&o, &lim, &cg, &err) < 0)
                fail_msg("create: %s", err.msg);
        assert_string_equal(wh_cgroup_driver_name(cg), "v1");
}

/* Start fn in a child, move it into cg, let it run. */
static void start(int (*fn)(void))
{
        int go_fd = -1;
        child = spawn_waiting(fn, &go_fd);
        assert_true(child > 0);
        struct wh_err err = {0};
        if (wh_cgroup_attach(cg, child, &err) < 0)
                fail_msg("attach: %s", err.msg);
        go(go_fd);
}

static int wait_child(void)
{
        int status;
        assert_int_equal(waitpid(child, &status, 0), child);
        child = -1;
        return status;
}

static void assert_destroyed(void)
{
        const char *names[] = {"memory", "pids", "cpu", "cpuacct"};
        char dirs[4][4096];
        for (size_t i = 0; i < 4; i++) {
                const char *d = wh_cgroup_dir(cg, names[i]);
                assert_non_null(d);
                assert_true(exists(d));
                snprintf(dirs[i], sizeof(dirs[i]), "%s", d);
        }
        wh_cgroup_destroy(cg);
        cg = NULL;
        for (size_t i = 0; i < 4; i++)
                assert_false(exists(dirs[i]));
}

static void test_memory_limit_oom_kill(void **state)
{
        (void)state;
        create_limited();
        const char *mem = wh_cgroup_dir(cg, "memory");
        assert_string_equal(slurp_in(mem, "memory.limit_in_bytes"), "67108864\n");
        assert_string_equal(slurp_in(mem, "memory.swappiness"), "0\n");
        start(child_memhog);
        int status = wait_child();
        assert_true(WIFSIGNALED(status));
        assert_int_equal(WTERMSIG(status), SIGKILL);
        struct wh_cgroup_stats st;
        assert_int_equal(wh_cgroup_read_stats(cg, &st), 0);
        assert_true(st.have_oom && st.have_mem_peak);
        assert_true(st.oom_kills >= 1);
        assert_true(st.mem_peak <= 64u << 20);
        assert_true(st.mem_peak >= 48u << 20);
        print_message("oom_kills=%llu mem_peak=%llu failcnt=%llu\n",
                      (unsigned long long)st.oom_kills, (unsigned long long)st.mem_peak,
                      (unsigned long long)st.mem_limit_hits);
        assert_destroyed();
}

static void test_pids_limit_refuses_forks(void **state)
{
        (void)state;
        create_limited();
        assert_string_equal(slurp_in(wh_cgroup_dir(cg, "pids"), "pids.max"), "16\n");
        start(child_forker);
        int status = wait_child();
        assert_true(WIFEXITED(status));
        int refused = WEXITSTATUS(status);
        assert_true(refused >= 100 - 15); /* the forker itself holds one of 16 */
        struct wh_cgroup_stats st;
        assert_int_equal(wh_cgroup_read_stats(cg, &st), 0);
        assert_true(st.pids_rejected > 0);
        print_message("refused=%d pids_rejected=%llu\n", refused,
                      (unsigned long long)st.pids_rejected);
        /* Its 15 sleeping children are still inside: kill empties it. */
        assert_string_not_equal(slurp_in(wh_cgroup_dir(cg, "pids"), "cgroup.procs"), "");
        assert_int_equal(wh_cgroup_kill(cg), 0);
        assert_string_equal(slurp_in(wh_cgroup_dir(cg, "pids"), "cgroup.procs"), "");
        reap_all();
        assert_destroyed();
}

static void test_cpu_time_and_kill(void **state)
{
        (void)state;
        create_limited();
        const char *cpu = wh_cgroup_dir(cg, "cpu");
        assert_string_equal(slurp_in(cpu, "cpu.cfs_quota_us"), "50000\n");
        assert_string_equal(slurp_in(cpu, "cpu.cfs_period_us"), "100000\n");
        start(child_spin);
        /* Wait (bounded) until some CPU time is accounted. */
        uint64_t ns = 0;
        const struct timespec tick = {.tv_nsec = 10 * 1000 * 1000};
        for (int i = 0; i < 500 && ns == 0; i++) {
                nanosleep(&tick, NULL);
                assert_int_equal(wh_cgroup_cpu_ns(cg, &ns), 0);
        }
        assert_true(ns > 0);
        struct wh_cgroup_stats st;
        assert_int_equal(wh_cgroup_read_stats(cg, &st), 0);
        assert_true(st.have_cpu);
        assert_true(st.cpu_ns >= ns);
        assert_int_equal(wh_cgroup_kill(cg), 0);
        int status = wait_child();
        assert_true(WIFSIGNALED(status));
        assert_int_equal(WTERMSIG(status), SIGKILL);
        assert_string_equal(slurp_in(wh_cgroup_dir(cg, "cpuacct"), "cgroup.procs"), "");
        assert_destroyed();
}

/* Destroy with processes still inside kills them first, then removes. */
static void test_destroy_kills_leftovers(void **state)
{
        (void)state;
        create_limited();
        start(child_family);
        /* Wait until the three grandchildren exist (bounded). */
        const struct timespec tick = {.tv_nsec = 5 * 1000 * 1000};
        int lines = 0;
        for (int i = 0; i < 1000 && lines < 4; i++) {
                nanosleep(&tick, NULL);
                const char *procs = slurp_in(wh_cgroup_dir(cg, "memory"), "cgroup.procs");
                lines = 0;
                for (const char *c = procs; *c; c++)
                        lines += *c == '\n';
        }
        assert_int_equal(lines, 4);
        assert_destroyed();
        int status = wait_child();
        assert_true(WIFSIGNALED(status));
        assert_int_equal(WTERMSIG(status), SIGKILL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_teardown(test_memory_limit_oom_kill, teardown),
            cmocka_unit_test_teardown(test_pids_limit_refuses_forks, teardown),
            cmocka_unit_test_teardown(test_cpu_time_and_kill, teardown),
            cmocka_unit_test_teardown(test_destroy_kills_leftovers, teardown),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
