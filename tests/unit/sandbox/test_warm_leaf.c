/* Whose OOM an input's end was (warm_leaf.c) on a fake cgroup v2 tree
 * (../sandbox_cgroup/fake_tree.h), with the counters the kernel would have
 * moved: a kill in the input's leaf is the input's `oom`; the sandbox's own
 * limit reached, or init or the zygote killed, fails the input with
 * sandbox_error at stage warm (the zygote is replaced). v2 counts an event
 * in every cgroup above the one it happened in, so the sandbox's
 * hierarchical counters move in every case: they must not decide. The real
 * kernel's side is tests/e2e/test_warm_memory.sh. */
#include "../sandbox_cgroup/fake_tree.h"
#include "sandbox/warm_internal.h"

#define LIMIT (128ull << 20)

static struct wh_warm w;
static struct wh_run_spec zygote = {.limits.memory_bytes = LIMIT};
static char sb[512], home[600], input[600];

/* A warm sandbox's cgroup as sandbox_launch and warm_start leave it: nested,
 * the zygote loaded (48 MiB), the leaf made, one input begun. */
static int up(void **state)
{
        if (setup(state) < 0)
                return -1;
        build(V2_FULL);
        struct wh_cgroup_opts o = opts("v2");
        struct wh_cgroup_limits lim = {.memory_bytes = LIMIT, .pids = 17};
        struct wh_err err = {0};
        w = (struct wh_warm){
            .zygote = &zygote,
            .limits_by = WH_LIMITS_BY_CGROUP,
            .spare = -1,
            .zsock = -1,
            .zpidfd = -1,
            .notif = -1,
            .tmp_fd = -1,
            .p = {.chan = -1, .pidfd = -1},
            .l = {.pid = -1, .pidfd = -1, .ctl = -1, .out_r = -1, .err_r = -1, .stdin_w = -1}};
        assert_int_equal(wh_cgroup_create(&o, &lim, &w.l.cgroup, &err), 0);
        assert_int_equal(wh_cgroup_nest(w.l.cgroup, &err), 0);
        snprintf(sb, sizeof(sb), "%s", leaf(w.l.cgroup, NULL));
        snprintf(home, sizeof(home), "%s/zygote", sb);
        snprintf(input, sizeof(input), "%s/input", sb);
        put_in(sb, "memory.current", "50331648\n");
        assert_int_equal(warm_leaf_start(&w, &err), 0);
        assert_non_null(w.leaf.cg);
        char why[256];
        if (warm_leaf_begin(&w, LIMIT, why, sizeof(why)) < 0)
                fail_msg("%s", why);
        return 0;
}

static int down(void **state)
{
        warm_down(&w); /* removes the cgroup, if the input's end did not */
        return teardown(state);
}

/* The input's end as warm_input.c's classify() asks for it. */
static enum warm_oom end(struct wh_report *r)
{
        struct wh_cgroup_stats st;
        *r = (struct wh_report){.ordinal = 1, .limits.memory_bytes = LIMIT};
        assert_int_equal(wh_cgroup_read_stats(w.l.cgroup, &st), 0);
        return warm_leaf_end(&w, &st, false, false, r);
}

static void test_limits_set_at_start_and_begin(void **state)
{
        (void)state;
        /* The sandbox's: what it holds + the input's + a quarter of it. */
        assert_string_equal(slurp_in(sb, "memory.max"), "218103808");
        assert_string_equal(slurp_in(input, "memory.max"), "134217728");
        assert_string_equal(slurp_in(input, "memory.peak"), "0\n"); /* restarted */
        struct wh_report r;
        put_in(input, "memory.peak", "7340032\n");
        assert_int_equal(end(&r), WARM_OOM_NONE);
        assert_int_equal(r.mem_peak_bytes, 7340032);
        assert_non_null(w.leaf.cg); /* the zygote is kept */
}

static void test_kill_in_the_leaf_is_the_inputs(void **state)
{
        (void)state;
        const char *killed = "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n";
        put_in(input, "memory.events", killed);
        put_in(input, "memory.events.local", killed);
        put_in(sb, "memory.events", killed); /* hierarchical: it moved too */
        struct wh_report r;
        assert_int_equal(end(&r), WARM_OOM_INPUT);
        assert_non_null(w.leaf.cg);
        /* The next input of the same zygote starts from these counts. */
        char why[256];
        assert_int_equal(warm_leaf_begin(&w, LIMIT, why, sizeof(why)), 0);
        assert_int_equal(end(&r), WARM_OOM_NONE);
}

static void sandbox_ran_out(void)
{
        struct wh_report r;
        assert_int_equal(end(&r), WARM_OOM_SANDBOX);
        assert_int_equal(r.status, WH_STATUS_SANDBOX_ERROR);
        assert_string_equal(r.stage, "warm");
        assert_non_null(strstr(r.message, "the warm sandbox ran out of memory during input"));
        assert_null(w.leaf.cg); /* warm_down: the zygote is replaced */
        assert_int_equal(subdirs("unified"), 0);
}

static void test_sandbox_limit_reached(void **state)
{
        (void)state;
        /* The child, the first victim, was killed in its leaf, but the
         * limit reached was the sandbox's own. */
        put_in(input, "memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 1\n");
        put_in(sb, "memory.events", "low 0\nhigh 0\nmax 6\noom 1\noom_kill 1\n");
        put_in(sb, "memory.events.local", "low 0\nhigh 0\nmax 6\noom 1\noom_kill 0\n");
        sandbox_ran_out();
}

static void test_zygote_killed(void **state)
{
        (void)state;
        put_in(home, "memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 1\n");
        put_in(home, "memory.events.local", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 1\n");
        put_in(sb, "memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 1\n");
        sandbox_ran_out();
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_limits_set_at_start_and_begin, up, down),
            cmocka_unit_test_setup_teardown(test_kill_in_the_leaf_is_the_inputs, up, down),
            cmocka_unit_test_setup_teardown(test_sandbox_limit_reached, up, down),
            cmocka_unit_test_setup_teardown(test_zygote_killed, up, down),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
