/* The per-input leaf beneath a sandbox's cgroup (cgroup_sub.c) on a fake
 * tree (fake_tree.h): made in the memory hierarchy only, once; its limit
 * set and lifted, its counters reset and read; removed before its parent;
 * refused on v2 and "none" with the reason. The real kernel's side (the
 * move, copy-on-write charges, OOM attribution) is tests/e2e/test_warm_memory.sh. */
#include "fake_tree.h"

static void test_v1_leaf(void **state)
{
        (void)state;
        build(V1_SEPARATE);
        struct wh_cgroup_opts o = opts("v1");
        struct wh_cgroup *cg, *sub, *again;
        struct wh_err err = {0};
        assert_int_equal(wh_cgroup_create(&o, &all_limits, &cg, &err), 0);
        const char *mem = leaf(cg, "memory");
        put_in(mem, "memory.memsw.max_usage_in_bytes", "0\n");
        put_in(mem, "memory.usage_in_bytes", "52428800\n");

        assert_int_equal(wh_cgroup_sub(cg, &sub, &err), 0);
        assert_int_equal(wh_cgroup_sub(cg, &again, &err), 0);
        assert_ptr_equal(sub, again); /* one per sandbox, reused */
        char want[4096];
        snprintf(want, sizeof(want), "%s/input", mem);
        const char *dir = leaf(sub, "memory");
        assert_string_equal(dir, want);
        assert_null(wh_cgroup_dir(sub, "pids")); /* the sandbox's lists every process */
        assert_null(wh_cgroup_dir(sub, "cpuacct"));
        assert_string_equal(slurp_in(dir, "memory.swappiness"), "0");

        /* Lowered below what it inherited, then lifted. */
        assert_int_equal(wh_cgroup_set_memory(sub, 32 << 20, &err), 0);
        assert_string_equal(slurp_in(dir, "memory.limit_in_bytes"), "33554432");
        assert_string_equal(slurp_in(dir, "memory.memsw.limit_in_bytes"), "33554432");
        assert_int_equal(wh_cgroup_set_memory(sub, 0, &err), 0);
        assert_string_equal(slurp_in(dir, "memory.limit_in_bytes"), "-1");
        assert_string_equal(slurp_in(dir, "memory.memsw.limit_in_bytes"), "-1");
        /* The sandbox's own limit, raised. */
        uint64_t used;
        assert_int_equal(wh_cgroup_memory_usage(cg, &used), 0);
        assert_int_equal(used, 52428800);
        assert_int_equal(wh_cgroup_set_memory(cg, used + (64 << 20), &err), 0);
        assert_string_equal(slurp_in(mem, "memory.limit_in_bytes"), "119537664");

        /* Counters: reset before an input, read after it. */
        put_in(dir, "memory.max_usage_in_bytes", "900\n");
        put_in(dir, "memory.failcnt", "3\n");
        assert_int_equal(wh_cgroup_reset_peak(sub), 0);
        assert_string_equal(slurp_in(dir, "memory.max_usage_in_bytes"), "0");
        assert_string_equal(slurp_in(dir, "memory.failcnt"), "0");
        assert_string_equal(slurp_in(dir, "memory.memsw.failcnt"), "0");
        put_in(dir, "memory.max_usage_in_bytes", "33550336\n");
        put_in(dir, "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n");
        struct wh_cgroup_stats st;
        assert_int_equal(wh_cgroup_read_stats(sub, &st), 0);
        assert_true(st.have_mem_peak && st.have_oom);
        assert_false(st.have_cpu);
        assert_int_equal(st.mem_peak, 33550336);
        assert_int_equal(st.oom_kills, 1);

        assert_int_equal(wh_cgroup_attach(sub, 4242, &err), 0);
        assert_string_equal(slurp_in(dir, "cgroup.procs"), "4242");
        assert_false(wh_cgroup_holds(sub, getpid())); /* we are not in the fake tree */

        wh_cgroup_destroy(cg);      /* the leaf first: a cgroup with a child cannot go */
        assert_false(exists(want)); /* dir is gone with the sub */
        assert_int_equal(subdirs("memory/sess"), 0);
}

static void test_refused_without_v1_memory(void **state)
{
        (void)state;
        build(V2_FULL);
        struct wh_cgroup_opts o = opts("v2");
        struct wh_cgroup *cg, *sub = NULL;
        struct wh_err err = {0};
        assert_int_equal(wh_cgroup_create(&o, &all_limits, &cg, &err), 0);
        assert_int_equal(wh_cgroup_sub(cg, &sub, &err), -1);
        assert_int_equal(err.errnum, ENOTSUP);
        assert_non_null(strstr(err.msg, "v2 enables no controller for a child"));
        assert_null(sub);
        assert_int_equal(wh_cgroup_set_memory(cg, 1 << 20, &err), -1);
        uint64_t n;
        assert_int_equal(wh_cgroup_oom_events(cg, &n), -1);
        assert_int_equal(errno, ENOTSUP);
        wh_cgroup_destroy(cg);

        o = opts("none");
        assert_int_equal(wh_cgroup_create(&o, NULL, &cg, &err), 0);
        assert_int_equal(wh_cgroup_sub(cg, &sub, &err), -1);
        assert_int_equal(err.errnum, ENOTSUP);
        wh_cgroup_destroy(cg);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_v1_leaf, setup, teardown),
            cmocka_unit_test_setup_teardown(test_refused_without_v1_memory, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
