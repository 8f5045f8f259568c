/* Compiling with a deadline (seccomp_bounded.c): a policy libseccomp stalls
 * on ends with a clear error in bounded time instead of hanging the run, and
 * a normal policy gives exactly the program an in-process compile gives. */
#include "seccomp_test.h"

#include <string.h>
#include <time.h>

#include <whiskers/error.h>

/* tests/fuzz/open/seccomp/libseccomp-ordered-conditions-hang: still compiling
 * after 100 s in process with libseccomp 2.5.4. */
static const char stalling_policy[] = "allow openat arg3 >= 1 arg2 <= 1\n"
                                      "allow openat arg5 >= 1 arg2 <= 1\n";

static struct wh_seccomp_policy *parse(const char *text)
{
        struct wh_seccomp_policy *policy = NULL;
        struct wh_err err = {0};
        if (wh_seccomp_policy_parse("test", text, &policy, &err) < 0)
                fail_msg("parse: %s", err.msg);
        return policy;
}

static double seconds_since(const struct timespec *start)
{
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        return (double)(now.tv_sec - start->tv_sec) + (now.tv_nsec - start->tv_nsec) / 1e9;
}

static void test_stalling_policy_times_out(void **state)
{
        (void)state;
        struct wh_seccomp_policy *policy = parse(stalling_policy);
        struct sock_filter *insns = NULL;
        size_t len = 0;
        struct wh_err err = {0};
        struct timespec start;
        clock_gettime(CLOCK_MONOTONIC, &start);
        int rc = wh_seccomp_compile_within(policy->rules, policy->n_rules, 500, &insns, &len, &err);
        double took = seconds_since(&start);
        if (rc == 0) {
                /* A libseccomp that has fixed the stall compiles it: fine too. */
                print_message("libseccomp compiled the stalling policy in %.2f s\n", took);
                free(insns);
        } else {
                assert_string_equal(err.stage, "seccomp");
                assert_non_null(
                    strstr(err.msg, "did not finish compiling the policy within 500 ms"));
                assert_null(insns);
        }
        /* Either way it returned, well before the 100 s it stalled for. */
        assert_true(took < 10.0);
        wh_seccomp_policy_free(policy);
}

static void test_bounded_equals_in_process(void **state)
{
        (void)state;
        struct wh_seccomp_policy *policy = parse(wh_seccomp_default_policy);
        struct sock_filter *a = NULL, *b = NULL;
        size_t len_a = 0, len_b = 0;
        struct wh_err err = {0};
        assert_int_equal(wh_seccomp_compile(policy->rules, policy->n_rules, &a, &len_a, &err), 0);
        assert_int_equal(wh_seccomp_compile_within(policy->rules, policy->n_rules,
                                                   WH_SECCOMP_COMPILE_TIMEOUT_MS, &b, &len_b, &err),
                         0);
        assert_true(len_a > 0);
        assert_int_equal(len_a, len_b);
        assert_memory_equal(a, b, len_a * sizeof(*a));
        free(a);
        free(b);
        wh_seccomp_policy_free(policy);
}

static void test_compiler_errors_come_back(void **state)
{
        (void)state;
        /* More instructions than the kernel takes: the child's own error. */
        char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);
        for (int i = 0; i < 5000; i++)
                fprintf(f, "allow ioctl arg1 == %d\n", 1000 + i);
        fclose(f);
        struct wh_seccomp_policy *policy = parse(text);
        free(text);
        struct sock_filter *insns = NULL;
        size_t len = 0;
        struct wh_err err = {0};
        assert_int_equal(wh_seccomp_compile_within(policy->rules, policy->n_rules,
                                                   WH_SECCOMP_COMPILE_TIMEOUT_MS, &insns, &len,
                                                   &err),
                         -1);
        assert_string_equal(err.stage, "seccomp");
        assert_non_null(strstr(err.msg, "the kernel takes at most"));
        wh_seccomp_policy_free(policy);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_stalling_policy_times_out),
            cmocka_unit_test(test_bounded_equals_in_process),
            cmocka_unit_test(test_compiler_errors_come_back),
        };
        return cmocka_run_group_tests(tests, cache_dir_setup, cache_dir_teardown);
}
