/* cgroup v1 driver on a fake tree (fake_tree.h): leaves beneath our own
 * cgroup in each hierarchy, the exact values written, attach, counters,
 * missing controllers, undo on failure, removal. */
#include "fake_tree.h"

static const char *const ctrl_names[] = {"memory", "pids", "cpu", "cpuacct"};

static void assert_same_name(const struct wh_cgroup *cg, const char *a, const char *b)
{
        assert_string_equal(strrchr(leaf(cg, a), '/'), strrchr(leaf(cg, b), '/'));
}

static void assert_prefix(const char *s, const char *rel)
{
        char want[4096];
        snprintf(want, sizeof(want), "%s/%s/%s", cgroot, rel, leaf_prefix("t"));
        assert_memory_equal(s, want, strlen(want));
}

static void test_separate_hierarchies(void **state)
{
        (void)state;
        build(V1_SEPARATE);
        struct wh_cgroup_opts o = opts("v1");
        struct wh_cgroup *cg;
        struct wh_err err = {0};
        assert_int_equal(wh_cgroup_create(&o, &all_limits, &cg, &err), 0);
        assert_int_equal(wh_cgroup_driver(cg), WH_CGROUP_V1);
        assert_string_equal(wh_cgroup_driver_name(cg), "v1");

        /* Beneath our own cgroup in each hierarchy: memory:/sess, the rest at /. */
        const char *mem = leaf(cg, "memory");
        assert_prefix(mem, "memory/sess");
        assert_prefix(leaf(cg, "pids"), "pids");
        assert_prefix(leaf(cg, "cpu"), "cpu");
        assert_prefix(leaf(cg, "cpuacct"), "cpuacct");
        assert_same_name(cg, "memory", "pids");
        assert_same_name(cg, "memory", "cpu");
        assert_same_name(cg, "memory", "cpuacct");

        assert_string_equal(slurp_in(mem, "memory.limit_in_bytes"), "67108864");
        assert_string_equal(slurp_in(mem, "memory.memsw.limit_in_bytes"), "67108864");
        assert_string_equal(slurp_in(mem, "memory.swappiness"), "0");
        assert_string_equal(slurp_in(leaf(cg, "pids"), "pids.max"), "16");
        assert_string_equal(slurp_in(leaf(cg, "cpu"), "cpu.cfs_period_us"), "100000");
        assert_string_equal(slurp_in(leaf(cg, "cpu"), "cpu.cfs_quota_us"), "50000");
        /* Our own cgroups are not written. */
        assert_string_equal(slurp_in(cgroot, "memory/memory.limit_in_bytes"),
                            "9223372036854771712\n");

        assert_int_equal(wh_cgroup_attach(cg, 4242, &err), 0);
        for (size_t i = 0; i < 4; i++)
                assert_string_equal(slurp_in(leaf(cg, ctrl_names[i]), "cgroup.procs"), "4242");

        /* Counters as the kernel writes them. */
        put_in(leaf(cg, "cpuacct"), "cpuacct.usage", "123456789\n");
        put_in(mem, "memory.max_usage_in_bytes", "67080192\n");
        put_in(mem, "memory.failcnt", "31\n");
        put_in(mem, "memory.memsw.failcnt", "4\n");
        put_in(mem, "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
        put_in(leaf(cg, "pids"), "pids.events", "max 84\n");
        struct wh_cgroup_stats st;
        assert_int_equal(wh_cgroup_read_stats(cg, &st), 0);
        assert_true(st.have_cpu && st.have_mem_peak && st.have_oom);
        assert_int_equal(st.cpu_ns, 123456789);
        assert_int_equal(st.mem_peak, 67080192);
        assert_int_equal(st.oom_kills, 2);
        assert_int_equal(st.mem_limit_hits, 35);
        assert_int_equal(st.pids_rejected, 84);
        uint64_t ns = 0;
        assert_int_equal(wh_cgroup_cpu_ns(cg, &ns), 0);
        assert_int_equal(ns, 123456789);

        /* A kernel before 4.13 has no oom_kill line: unknown, not zero. */
        put_in(mem, "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\n");
        assert_int_equal(wh_cgroup_read_stats(cg, &st), 0);
        assert_false(st.have_oom);
        assert_true(st.have_mem_peak);

        char dirs[4][4096];
        for (size_t i = 0; i < 4; i++)
                snprintf(dirs[i], sizeof(dirs[i]), "%s", leaf(cg, ctrl_names[i]));
        wh_cgroup_destroy(cg);
        for (size_t i = 0; i < 4; i++)
                assert_false(exists(dirs[i]));
        assert_int_equal(subdirs("memory/sess"), 0);
        assert_int_equal(subdirs("cpu"), 0);
}

static void test_comounted_cpu_cpuacct(void **state)
{
        (void)state;
        build(V1_COMOUNTED);
        struct wh_cgroup_opts o = opts("v1");
        struct wh_cgroup_limits lim = {.cpus = 1.5};
        struct wh_cgroup *cg;
        struct wh_err err = {0};
        assert_int_equal(wh_cgroup_create(&o, &lim, &cg, &err), 0);
        const char *cpu = leaf(cg, "cpu");
        assert_string_equal(cpu, leaf(cg, "cpuacct"));
        assert_prefix(cpu, "cpu,cpuacct");
        assert_string_equal(slurp_in(cpu, "cpu.cfs_quota_us"), "150000");
        /* Memory is joined for accounting only; no pids leaf without a pids limit. */
        assert_string_equal(slurp_in(leaf(cg, "memory"), "memory.limit_in_bytes"),
                            "9223372036854771712\n");
        assert_null(wh_cgroup_dir(cg, "pids"));
        assert_int_equal(subdirs("pids"), 0);
        put_in(cpu, "cpuacct.usage", "777\n");
        struct wh_cgroup_stats st;
        assert_int_equal(wh_cgroup_read_stats(cg, &st), 0);
        assert_int_equal(st.cpu_ns, 777);
        assert_int_equal(st.pids_rejected, 0);
        wh_cgroup_destroy(cg);
        assert_int_equal(subdirs("cpu,cpuacct"), 0);
        assert_int_equal(subdirs("memory/sess"), 0);
}

static void test_without_swap_accounting(void **state)
{
        (void)state;
        build(V1_SEPARATE);
        char path[4096];
        const char *memsw[] = {"memory.memsw.limit_in_bytes", "memory.memsw.failcnt"};
        for (size_t i = 0; i < 2; i++) {
                snprintf(path, sizeof(path), "%s/memory/sess/%s", cgroot, memsw[i]);
                assert_int_equal(unlink(path), 0);
        }
        struct wh_cgroup_opts o = opts("v1");
        struct wh_cgroup_limits lim = {.memory_bytes = 1 << 30};
        struct wh_cgroup *cg;
        struct wh_err err = {0};
        assert_int_equal(wh_cgroup_create(&o, &lim, &cg, &err), 0);
        const char *mem = leaf(cg, "memory");
        assert_string_equal(slurp_in(mem, "memory.limit_in_bytes"), "1073741824");
        assert_string_equal(slurp_in(mem, "memory.swappiness"), "0");
        snprintf(path, sizeof(path), "%s/memory.memsw.limit_in_bytes", mem);
        assert_false(exists(path)); /* never created */
        put_in(mem, "memory.failcnt", "3\n");
        struct wh_cgroup_stats st;
        assert_int_equal(wh_cgroup_read_stats(cg, &st), 0);
        assert_int_equal(st.mem_limit_hits, 3);
        wh_cgroup_destroy(cg);
}

static void test_missing_pids_hierarchy(void **state)
{
        (void)state;
        build(V1_SEPARATE | NO_PIDS);
        struct wh_cgroup_opts o = opts("v1");
        struct wh_cgroup *cg = NULL;
        struct wh_err err = {0};
        assert_int_equal(wh_cgroup_create(&o, &all_limits, &cg, &err), -1);
        assert_null(cg);
        assert_string_equal(err.stage, "cgroup");
        assert_non_null(strstr(err.msg, "cannot enforce the memory, pids, cpu limits"));
        assert_non_null(strstr(err.msg, "Tried v1: no v1 pids hierarchy mounted under"));
        assert_non_null(strstr(err.msg, "--cgroup-parent"));
        assert_non_null(strstr(err.msg, "--allow-unenforced-limits"));
        assert_int_equal(subdirs("memory/sess"), 0);
        assert_int_equal(subdirs("cpu"), 0);
}

static void test_failed_write_undoes_everything(void **state)
{
        (void)state;
        build(V1_SEPARATE);
        char path[4096];
        snprintf(path, sizeof(path), "%s/cpu/cpu.cfs_quota_us", cgroot);
        assert_int_equal(unlink(path), 0); /* as without CONFIG_CFS_BANDWIDTH */
        struct wh_cgroup_opts o = opts("v1");
        struct wh_cgroup *cg = NULL;
        struct wh_err err = {0};
        assert_int_equal(wh_cgroup_create(&o, &all_limits, &cg, &err), -1);
        assert_non_null(strstr(err.msg, "cpu.cfs_quota_us is missing"));
        for (size_t i = 0; i < 4; i++)
                assert_int_equal(subdirs(i == 0 ? "memory/sess" : ctrl_names[i]), 0);
}

static void test_delegated_parent(void **state)
{
        (void)state;
        build(V1_SEPARATE);
        for (size_t i = 0; i < 4; i++) {
                char rel[64];
                snprintf(rel, sizeof(rel), "%s/deleg", ctrl_names[i]);
                mk(rel);
        }
        struct wh_cgroup_opts o = opts("v1");
        o.parent = "/deleg";
        struct wh_cgroup *cg;
        struct wh_err err = {0};
        assert_int_equal(wh_cgroup_create(&o, &all_limits, &cg, &err), 0);
        assert_prefix(leaf(cg, "memory"), "memory/deleg");
        assert_prefix(leaf(cg, "pids"), "pids/deleg");
        assert_prefix(leaf(cg, "cpu"), "cpu/deleg");
        wh_cgroup_destroy(cg);
        assert_int_equal(subdirs("memory/deleg"), 0);

        const char *bad[] = {"deleg", "/deleg/../..", "/./x"};
        for (size_t i = 0; i < 3; i++) {
                o.parent = bad[i];
                assert_int_equal(wh_cgroup_create(&o, &all_limits, &cg, &err), -1);
                assert_non_null(strstr(err.msg, "must be an absolute cgroup path"));
        }
}

/* A hierarchy mounted from a subtree (a container without a cgroup
 * namespace): mountinfo's root field is stripped from our path. */
static void test_mount_root_is_stripped(void **state)
{
        (void)state;
        mk("memory");
        put("memory/memory.limit_in_bytes", "max\n");
        put("memory/memory.swappiness", "60\n");
        put("memory/cgroup.procs", "");
        mk("memory/inner");
        FILE *mi = fopen(mountinfo, "we");
        assert_non_null(mi);
        mount_line(mi, "/docker/abc", "memory", "cgroup", "rw,memory");
        fclose(mi);
        FILE *self = fopen(self_file, "we");
        assert_non_null(self);
        fputs("4:memory:/docker/abc/inner\n", self);
        fclose(self);
        struct wh_cgroup_opts o = opts("v1");
        struct wh_cgroup_limits lim = {.memory_bytes = 1 << 20};
        struct wh_cgroup *cg;
        struct wh_err err = {0};
        assert_int_equal(wh_cgroup_create(&o, &lim, &cg, &err), 0);
        assert_prefix(leaf(cg, "memory"), "memory/inner");
        wh_cgroup_destroy(cg);

        o.parent = "/elsewhere";
        assert_int_equal(wh_cgroup_create(&o, &lim, &cg, &err), -1);
        assert_non_null(strstr(err.msg, "/elsewhere is outside the part of the hierarchy"));
}

/* No limits: a hierarchy used for accounting only is skipped if its leaf
 * cannot be made, and its counters are then reported as unknown. */
static void test_optional_accounting_skipped(void **state)
{
        (void)state;
        build(V1_SEPARATE);
        FILE *self = fopen(self_file, "we");
        assert_non_null(self);
        fputs("4:memory:/gone\n2:cpuacct:/\n1:cpu:/\n", self);
        fclose(self);
        struct wh_cgroup_opts o = opts("v1");
        struct wh_cgroup *cg;
        struct wh_err err = {0};
        assert_int_equal(wh_cgroup_create(&o, NULL, &cg, &err), 0);
        assert_null(wh_cgroup_dir(cg, "memory"));
        assert_null(wh_cgroup_dir(cg, "cpu")); /* separate cpu: no limit, not joined */
        put_in(leaf(cg, "cpuacct"), "cpuacct.usage", "5\n");
        struct wh_cgroup_stats st;
        assert_int_equal(wh_cgroup_read_stats(cg, &st), 0);
        assert_true(st.have_cpu);
        assert_false(st.have_mem_peak || st.have_oom);
        wh_cgroup_destroy(cg);

        /* With a memory limit the same failure is an error naming the directory. */
        struct wh_cgroup_limits lim = {.memory_bytes = 1 << 20};
        assert_int_equal(wh_cgroup_create(&o, &lim, &cg, &err), -1);
        assert_non_null(strstr(err.msg, "memory/gone/t-"));
        assert_int_equal(subdirs("cpuacct"), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_separate_hierarchies, setup, teardown),
            cmocka_unit_test_setup_teardown(test_comounted_cpu_cpuacct, setup, teardown),
            cmocka_unit_test_setup_teardown(test_without_swap_accounting, setup, teardown),
            cmocka_unit_test_setup_teardown(test_missing_pids_hierarchy, setup, teardown),
            cmocka_unit_test_setup_teardown(test_failed_write_undoes_everything, setup, teardown),
            cmocka_unit_test_setup_teardown(test_delegated_parent, setup, teardown),
            cmocka_unit_test_setup_teardown(test_mount_root_is_stripped, setup, teardown),
            cmocka_unit_test_setup_teardown(test_optional_accounting_skipped, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
