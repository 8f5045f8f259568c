/* cgroup v2 driver on a fake tree (fake_tree.h): enabling controllers in the
 * parent, the exact values written, counters, cgroup.kill, a missing
 * controller, removal. */
#include "fake_tree.h"

static void test_limits_and_counters(void **state)
{
        (void)state;
        build(V2_FULL);
        struct wh_cgroup_opts o = opts("v2");
        struct wh_cgroup *cg;
        struct wh_err err = {0};
        assert_int_equal(wh_cgroup_create(&o, &all_limits, &cg, &err), 0);
        assert_string_equal(wh_cgroup_driver_name(cg), "v2");
        /* The parent is our own cgroup ("0::/"): controllers are enabled there. */
        assert_string_equal(slurp_in(cgroot, "unified/cgroup.subtree_control"),
                            "+memory +pids +cpu");
        const char *dir = leaf(cg, NULL);
        char want[4096];
        snprintf(want, sizeof(want), "%s/unified/%s", cgroot, leaf_prefix("t"));
        assert_memory_equal(dir, want, strlen(want));
        assert_string_equal(wh_cgroup_dir(cg, "memory"), dir);
        assert_string_equal(slurp_in(dir, "memory.max"), "67108864");
        assert_string_equal(slurp_in(dir, "memory.swap.max"), "0");
        assert_string_equal(slurp_in(dir, "pids.max"), "16");
        assert_string_equal(slurp_in(dir, "cpu.max"), "50000 100000");

        assert_int_equal(wh_cgroup_attach(cg, 31337, &err), 0);
        assert_string_equal(slurp_in(dir, "cgroup.procs"), "31337");

        put_in(dir, "cpu.stat", "usage_usec 2500\nuser_usec 2000\nsystem_usec 500\n");
        put_in(dir, "memory.peak", "66060288\n");
        put_in(dir, "memory.events", "low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\n");
        put_in(dir, "pids.events", "max 85\n");
        struct wh_cgroup_stats st;
        assert_int_equal(wh_cgroup_read_stats(cg, &st), 0);
        assert_true(st.have_cpu && st.have_mem_peak && st.have_oom);
        assert_int_equal(st.cpu_ns, 2500000);
        assert_int_equal(st.mem_peak, 66060288);
        assert_int_equal(st.oom_kills, 1);
        assert_int_equal(st.mem_limit_hits, 12);
        assert_int_equal(st.pids_rejected, 85);
        uint64_t ns;
        assert_int_equal(wh_cgroup_cpu_ns(cg, &ns), 0);
        assert_int_equal(ns, 2500000);

        assert_int_equal(wh_cgroup_kill(cg), 0);
        assert_string_equal(slurp_in(dir, "cgroup.kill"), "1");

        char path[4096];
        snprintf(path, sizeof(path), "%s", dir);
        wh_cgroup_destroy(cg);
        assert_false(exists(path));
        assert_int_equal(subdirs("unified"), 0);
}

static void test_enabled_controllers_left_alone(void **state)
{
        (void)state;
        build(V2_FULL);
        put("unified/cgroup.subtree_control", "cpu memory pids\n");
        struct wh_cgroup_opts o = opts("v2");
        struct wh_cgroup *cg;
        struct wh_err err = {0};
        assert_int_equal(wh_cgroup_create(&o, &all_limits, &cg, &err), 0);
        assert_string_equal(slurp_in(cgroot, "unified/cgroup.subtree_control"),
                            "cpu memory pids\n");
        wh_cgroup_destroy(cg);

        /* Only what is missing is asked for. */
        put("unified/cgroup.subtree_control", "memory\n");
        struct wh_cgroup_limits lim = {.memory_bytes = 1 << 20, .cpus = 2};
        assert_int_equal(wh_cgroup_create(&o, &lim, &cg, &err), 0);
        assert_string_equal(slurp_in(cgroot, "unified/cgroup.subtree_control"), "+cpu");
        assert_string_equal(slurp_in(leaf(cg, NULL), "cpu.max"), "200000 100000");
        assert_string_equal(slurp_in(leaf(cg, NULL), "pids.max"), "max\n");
        wh_cgroup_destroy(cg);
}

/* Without a limit nothing outside our own directory is written. */
static void test_no_limits_writes_nothing_outside(void **state)
{
        (void)state;
        build(V2_EMPTY);
        struct wh_cgroup_opts o = opts("v2");
        struct wh_cgroup *cg;
        struct wh_err err = {0};
        assert_int_equal(wh_cgroup_create(&o, NULL, &cg, &err), 0);
        assert_string_equal(slurp_in(cgroot, "unified/cgroup.subtree_control"), "");
        put_in(leaf(cg, NULL), "cpu.stat", "usage_usec 7\n");
        struct wh_cgroup_stats st;
        assert_int_equal(wh_cgroup_read_stats(cg, &st), 0);
        assert_true(st.have_cpu);
        assert_int_equal(st.cpu_ns, 7000);
        /* No memory controller, no memory.peak (kernel < 5.19 alike): unknown. */
        assert_false(st.have_mem_peak || st.have_oom);
        wh_cgroup_destroy(cg);
        assert_int_equal(subdirs("unified"), 0);
}

static void test_missing_controller(void **state)
{
        (void)state;
        build(V2_EMPTY);
        struct wh_cgroup_opts o = opts("v2");
        struct wh_cgroup_limits lim = {.memory_bytes = 64 << 20};
        struct wh_cgroup *cg = NULL;
        struct wh_err err = {0};
        assert_int_equal(wh_cgroup_create(&o, &lim, &cg, &err), -1);
        assert_null(cg);
        assert_string_equal(err.stage, "cgroup");
        assert_non_null(strstr(err.msg, "cannot enforce the memory limit with cgroups"));
        assert_non_null(strstr(err.msg, "Tried v2: controller memory not available in"));
        assert_non_null(strstr(err.msg, "/unified (it has: 'hugetlb')"));
        assert_non_null(strstr(err.msg, "Delegate=yes"));
        assert_string_equal(slurp_in(cgroot, "unified/cgroup.subtree_control"), "");
        assert_int_equal(subdirs("unified"), 0);
}

/* cgroup.kill missing (kernel < 5.14): the kill loop over cgroup.procs runs
 * instead; on an empty cgroup it returns at once. */
static void test_kill_without_kill_file(void **state)
{
        (void)state;
        build(V2_EMPTY);
        char path[4096];
        snprintf(path, sizeof(path), "%s/unified/cgroup.kill", cgroot);
        assert_int_equal(unlink(path), 0);
        struct wh_cgroup_opts o = opts("v2");
        struct wh_cgroup *cg;
        struct wh_err err = {0};
        assert_int_equal(wh_cgroup_create(&o, NULL, &cg, &err), 0);
        assert_int_equal(wh_cgroup_kill(cg), 0);
        snprintf(path, sizeof(path), "%s/cgroup.kill", leaf(cg, NULL));
        assert_false(exists(path));
        wh_cgroup_destroy(cg);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_limits_and_counters, setup, teardown),
            cmocka_unit_test_setup_teardown(test_enabled_controllers_left_alone, setup, teardown),
            cmocka_unit_test_setup_teardown(test_no_limits_writes_nothing_outside, setup, teardown),
            cmocka_unit_test_setup_teardown(test_missing_controller, setup, teardown),
            cmocka_unit_test_setup_teardown(test_kill_without_kill_file, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
