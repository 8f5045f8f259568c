/* Driver choice on fake hosts (fake_tree.h): "auto" ranking, the "none"
 * fallback, option validation, error messages, and leaf names. */
#include "fake_tree.h"

#include <math.h>

static const char *created_driver(unsigned layout, const struct wh_cgroup_limits *lim)
{
        build(layout);
        struct wh_cgroup_opts o = opts(NULL);
        struct wh_cgroup *cg;
        struct wh_err err = {0};
        if (wh_cgroup_create(&o, lim, &cg, &err) < 0)
                fail_msg("create failed: %s", err.msg);
        const char *name = wh_cgroup_driver_name(cg);
        wh_cgroup_destroy(cg);
        return name;
}

static void test_auto_on_hybrid_host(void **state)
{
        (void)state;
        /* v2 without controllers only gives CPU time; v1 gives memory too. */
        assert_string_equal(created_driver(V1_SEPARATE | V2_EMPTY, NULL), "v1");
        assert_string_equal(created_driver(V1_SEPARATE | V2_EMPTY, &all_limits), "v1");
        assert_int_equal(subdirs("unified"), 0);
        assert_int_equal(subdirs("memory/sess"), 0);
}

static void test_auto_prefers_v2(void **state)
{
        (void)state;
        assert_string_equal(created_driver(V2_FULL, NULL), "v2");
        assert_string_equal(created_driver(V2_FULL, &all_limits), "v2");
        /* Both could: v2 first. */
        assert_string_equal(created_driver(V1_SEPARATE | V2_FULL, &all_limits), "v2");
        assert_int_equal(subdirs("memory/sess"), 0);
}

static void test_auto_without_cgroups(void **state)
{
        (void)state;
        build(0);
        struct wh_cgroup_opts o = opts(NULL);
        struct wh_cgroup *cg;
        struct wh_err err = {0};
        assert_int_equal(wh_cgroup_create(&o, NULL, &cg, &err), 0);
        assert_int_equal(wh_cgroup_driver(cg), WH_CGROUP_NONE);
        assert_string_equal(wh_cgroup_driver_name(cg), "none");
        assert_null(wh_cgroup_dir(cg, "memory"));
        assert_int_equal(wh_cgroup_attach(cg, 1234, &err), 0);
        struct wh_cgroup_stats st;
        memset(&st, 0xff, sizeof(st));
        assert_int_equal(wh_cgroup_read_stats(cg, &st), 0);
        assert_false(st.have_cpu || st.have_mem_peak || st.have_oom);
        assert_int_equal(st.cpu_ns, 0);
        uint64_t ns;
        assert_int_equal(wh_cgroup_cpu_ns(cg, &ns), -1);
        assert_int_equal(errno, ENOTSUP);
        assert_int_equal(wh_cgroup_kill(cg), -1);
        assert_int_equal(errno, ENOTSUP);
        wh_cgroup_destroy(cg);

        struct wh_cgroup_limits lim = {.memory_bytes = 1 << 20};
        assert_int_equal(wh_cgroup_create(&o, &lim, &cg, &err), -1);
        assert_string_equal(err.stage, "cgroup");
        assert_non_null(strstr(err.msg, "cannot enforce the memory limit with cgroups; delegate "
                                        "a writable cgroup to this user"));
        assert_non_null(strstr(err.msg, "Tried v2: no cgroup2 filesystem mounted under"));
        assert_non_null(strstr(err.msg, "; v1: no v1 hierarchy mounted under"));
}

static void test_auto_names_every_failure(void **state)
{
        (void)state;
        build(V1_SEPARATE | NO_PIDS | V2_EMPTY);
        struct wh_cgroup_opts o = opts("auto");
        struct wh_cgroup_limits lim = {.pids = 8};
        struct wh_cgroup *cg;
        struct wh_err err = {0};
        assert_int_equal(wh_cgroup_create(&o, &lim, &cg, &err), -1);
        assert_non_null(strstr(err.msg, "cannot enforce the pids limit with cgroups"));
        assert_non_null(strstr(err.msg, "v2: controller pids not available"));
        assert_non_null(strstr(err.msg, "v1: no v1 pids hierarchy"));
        assert_int_equal(subdirs("unified"), 0);
        assert_int_equal(subdirs("memory/sess"), 0);
}

static void test_bad_options(void **state)
{
        (void)state;
        build(V1_SEPARATE);
        struct wh_cgroup_opts o = opts("none");
        struct wh_cgroup *cg;
        struct wh_err err = {0};
        assert_int_equal(wh_cgroup_create(&o, &all_limits, &cg, &err), -1);
        assert_non_null(strstr(err.msg, "cannot enforce the memory, pids, cpu limit with the "
                                        "cgroup driver \"none\""));
        o.driver = "v3";
        assert_int_equal(wh_cgroup_create(&o, NULL, &cg, &err), -1);
        assert_non_null(strstr(err.msg, "unknown cgroup driver 'v3'"));
        o.driver = "v1";
        const double bad_cpus[] = {0.001, -1, NAN, 2e6};
        for (size_t i = 0; i < 4; i++) {
                struct wh_cgroup_limits lim = {.cpus = bad_cpus[i]};
                assert_int_equal(wh_cgroup_create(&o, &lim, &cg, &err), -1);
                assert_non_null(strstr(err.msg, "is out of range"));
        }
        o.name_hint = "a/b";
        assert_int_equal(wh_cgroup_create(&o, NULL, &cg, &err), -1);
        assert_non_null(strstr(err.msg, "invalid cgroup name prefix"));
        assert_int_equal(subdirs("memory/sess"), 0);
}

static void test_unreadable_proc_files(void **state)
{
        (void)state;
        build(V1_SEPARATE);
        struct wh_cgroup_opts o = opts(NULL);
        o.self_cgroup = "/nonexistent/cgroup";
        struct wh_cgroup *cg;
        struct wh_err err = {0};
        assert_int_equal(wh_cgroup_create(&o, NULL, &cg, &err), 0);
        assert_string_equal(wh_cgroup_driver_name(cg), "none");
        wh_cgroup_destroy(cg);
        o.driver = "v1";
        assert_int_equal(wh_cgroup_create(&o, NULL, &cg, &err), -1);
        assert_non_null(strstr(err.msg, "finding this process's cgroup"));
}

/* A taken name (another process, a crashed run) is skipped, never reused. */
static void test_taken_name_is_skipped(void **state)
{
        (void)state;
        build(V2_EMPTY);
        struct wh_cgroup_opts o = opts("v2");
        struct wh_cgroup *first, *second;
        struct wh_err err = {0};
        assert_int_equal(wh_cgroup_create(&o, NULL, &first, &err), 0);
        char prefix[96];
        snprintf(prefix, sizeof(prefix), "/%s", leaf_prefix("t"));
        const char *name = strrchr(leaf(first, NULL), '/');
        assert_memory_equal(name, prefix, strlen(prefix));
        unsigned seq = (unsigned)strtoul(name + strlen(prefix), NULL, 10);
        char taken[128];
        snprintf(taken, sizeof(taken), "unified%s%u", prefix, seq + 1);
        mk(taken);
        assert_int_equal(wh_cgroup_create(&o, NULL, &second, &err), 0);
        char want[128];
        snprintf(want, sizeof(want), "%s%u", prefix, seq + 2);
        assert_string_equal(strrchr(leaf(second, NULL), '/'), want);
        wh_cgroup_destroy(second);
        wh_cgroup_destroy(first);
        assert_int_equal(subdirs("unified"), 1); /* only the one we did not create */
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_auto_on_hybrid_host, setup, teardown),
            cmocka_unit_test_setup_teardown(test_auto_prefers_v2, setup, teardown),
            cmocka_unit_test_setup_teardown(test_auto_without_cgroups, setup, teardown),
            cmocka_unit_test_setup_teardown(test_auto_names_every_failure, setup, teardown),
            cmocka_unit_test_setup_teardown(test_bad_options, setup, teardown),
            cmocka_unit_test_setup_teardown(test_unreadable_proc_files, setup, teardown),
            cmocka_unit_test_setup_teardown(test_taken_name_is_skipped, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
