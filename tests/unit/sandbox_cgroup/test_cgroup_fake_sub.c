/* The per-input leaf beneath a sandbox's cgroup (cgroup_sub.c,
 * cgroup_sub_v2.c) on a fake tree (fake_tree.h): on v1 made in the memory
 * hierarchy only, once; on v2 beside the leaf of the sandbox's own
 * processes (wh_cgroup_nest); its limit set and lifted, its counters reset
 * and read; removed before its parent; refused on "none" and on v2 without
 * the nest, with the reason. The real kernel's side (the move, copy-on-write
 * charges, OOM attribution) is tests/e2e/test_warm_memory.sh. */
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

/* v2: the sandbox's own processes are born in <sandbox>/zygote, memory is
 * enabled for the sandbox's children, the input's leaf is <sandbox>/input. */
static void test_v2_nest_and_leaf(void **state)
{
        (void)state;
        build(V2_FULL);
        struct wh_cgroup_opts o = opts("v2");
        struct wh_cgroup *cg, *sub;
        struct wh_err err = {0};
        assert_int_equal(wh_cgroup_create(&o, &all_limits, &cg, &err), 0);
        const char *sb = leaf(cg, NULL);
        char home[512], input[512];
        snprintf(home, sizeof(home), "%s/zygote", sb);
        snprintf(input, sizeof(input), "%s/input", sb);
        assert_string_equal(slurp_in(sb, "cgroup.subtree_control"), "");
        assert_int_equal(wh_cgroup_nest(cg, &err), 0);
        assert_string_equal(slurp_in(sb, "cgroup.subtree_control"), "+memory");
        assert_true(exists(home));

        /* A new process is born in the home leaf, not in the sandbox's. */
        struct wh_cgroup_join join;
        struct stat want_st, got_st;
        assert_int_equal(wh_cgroup_join_prepare(cg, &join, &err), 0);
        assert_int_equal(fstat(join.clone_into_fd, &got_st), 0);
        assert_int_equal(stat(home, &want_st), 0);
        assert_int_equal(got_st.st_ino, want_st.st_ino);
        wh_cgroup_join_release(&join);

        assert_int_equal(wh_cgroup_sub(cg, &sub, &err), 0);
        assert_string_equal(leaf(sub, "memory"), input);
        assert_string_equal(slurp_in(input, "memory.swap.max"), "0");
        assert_int_equal(wh_cgroup_set_memory(sub, 32 << 20, &err), 0);
        assert_string_equal(slurp_in(input, "memory.max"), "33554432");
        assert_int_equal(wh_cgroup_set_memory(sub, 0, &err), 0);
        assert_string_equal(slurp_in(input, "memory.max"), "max");
        /* The sandbox's own limit, raised above what it holds. */
        put_in(sb, "memory.current", "52428800\n");
        uint64_t n;
        assert_int_equal(wh_cgroup_memory_usage(cg, &n), 0);
        assert_int_equal(n, 52428800);
        assert_int_equal(wh_cgroup_set_memory(cg, n + (64 << 20), &err), 0);
        assert_string_equal(slurp_in(sb, "memory.max"), "119537664");

        /* The peak is restarted through the fd it is then read from. */
        put_in(input, "memory.peak", "7\n");
        assert_int_equal(wh_cgroup_reset_peak(sub), 0);
        assert_string_equal(slurp_in(input, "memory.peak"), "0\n");
        put_in(input, "memory.peak", "33550336\n");
        put_in(input, "memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n");
        struct wh_cgroup_stats st;
        assert_int_equal(wh_cgroup_read_stats(sub, &st), 0);
        assert_true(st.have_mem_peak && st.have_oom);
        assert_int_equal(st.mem_peak, 33550336);
        assert_int_equal(st.oom_kills, 1);

        /* Whose OOM: the sandbox's own limit is its memory.events.local;
         * init's or the zygote's kill, the home leaf's. The hierarchical
         * counters of the sandbox include the input's kill and are not used. */
        put_in(sb, "memory.events", "low 0\nhigh 0\nmax 9\noom 3\noom_kill 5\n");
        put_in(sb, "memory.events.local", "low 0\nhigh 0\nmax 2\noom 2\noom_kill 0\n");
        put_in(home, "memory.events.local", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 1\n");
        assert_int_equal(wh_cgroup_oom_events(cg, &n), 0);
        assert_int_equal(n, 2);
        assert_int_equal(wh_cgroup_own_oom_kills(cg, &n), 0);
        assert_int_equal(n, 1);

        /* The leftover sweep's list: every leaf's processes. */
        assert_int_equal(wh_cgroup_attach(sub, 12, &err), 0);
        put_in(home, "cgroup.procs", "10\n11\n");
        char procs[64];
        assert_int_equal(wh_cgroup_procs(cg, procs, sizeof(procs)), 8);
        assert_string_equal(procs, "10\n11\n12");
        assert_int_equal(wh_cgroup_procs(cg, procs, 5), 4); /* cut: cap - 1 */

        assert_int_equal(wh_cgroup_kill(cg), 0);
        assert_string_equal(slurp_in(sb, "cgroup.kill"), "1");
        wh_cgroup_destroy(cg); /* the leaves first: a cgroup with children cannot go */
        assert_int_equal(subdirs("unified"), 0);
}

/* Kernels before 6.12 cannot restart memory.peak (0444; root may open it
 * for writing, the write fails): the leaf reports no peak and the input's
 * stays its child's max RSS (docs/warm.md). */
static void test_v2_leaf_without_resettable_peak(void **state)
{
        (void)state;
        build(V2_FULL);
        struct wh_cgroup_opts o = opts("v2");
        struct wh_cgroup *cg, *sub;
        struct wh_err err = {0};
        assert_int_equal(wh_cgroup_create(&o, &all_limits, &cg, &err), 0);
        char path[512];
        snprintf(path, sizeof(path), "%s/memory.peak", leaf(cg, NULL));
        assert_int_equal(chmod(path, 0444), 0); /* the leaves get its mode */
        assert_int_equal(wh_cgroup_nest(cg, &err), 0);
        assert_int_equal(wh_cgroup_sub(cg, &sub, &err), 0);
        assert_int_equal(wh_cgroup_reset_peak(sub), 0);
        struct wh_cgroup_stats st;
        assert_int_equal(wh_cgroup_read_stats(sub, &st), 0);
        assert_false(st.have_mem_peak);
        wh_cgroup_destroy(cg);
}

static void test_refused_without_a_leaf(void **state)
{
        (void)state;
        /* v2 without memory in the sandbox's cgroup.controllers: nothing is
         * nested, processes stay in the sandbox's own cgroup. */
        build(V2_EMPTY);
        struct wh_cgroup_opts o = opts("v2");
        struct wh_cgroup *cg, *sub = NULL;
        struct wh_err err = {0};
        assert_int_equal(wh_cgroup_create(&o, NULL, &cg, &err), 0);
        assert_int_equal(wh_cgroup_nest(cg, &err), 0);
        assert_string_equal(slurp_in(leaf(cg, NULL), "cgroup.subtree_control"), "");
        assert_int_equal(subdirs("unified"), 1);
        assert_int_equal(wh_cgroup_sub(cg, &sub, &err), -1);
        assert_int_equal(err.errnum, ENOTSUP);
        assert_non_null(strstr(err.msg, "not in a leaf of their own"));
        assert_null(sub);
        wh_cgroup_destroy(cg);

        o = opts("none");
        assert_int_equal(wh_cgroup_create(&o, NULL, &cg, &err), 0);
        assert_int_equal(wh_cgroup_nest(cg, &err), 0);
        assert_int_equal(wh_cgroup_sub(cg, &sub, &err), -1);
        assert_int_equal(err.errnum, ENOTSUP);
        assert_int_equal(wh_cgroup_set_memory(cg, 1 << 20, &err), -1);
        uint64_t n;
        assert_int_equal(wh_cgroup_oom_events(cg, &n), -1);
        assert_int_equal(errno, ENOTSUP);
        wh_cgroup_destroy(cg);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_v1_leaf, setup, teardown),
            cmocka_unit_test_setup_teardown(test_v2_nest_and_leaf, setup, teardown),
            cmocka_unit_test_setup_teardown(test_v2_leaf_without_resettable_peak, setup, teardown),
            cmocka_unit_test_setup_teardown(test_refused_without_a_leaf, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
