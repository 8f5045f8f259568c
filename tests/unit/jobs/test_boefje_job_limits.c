/* A boefje job's own limits read back from its meta (wh_boefje_job_args):
 * what wh_submit_boefje writes is read as written, and a "limits" it would
 * not have written is refused (the worker dead-letters such a job rather
 * than running it without its limits). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <whiskers/jobs.h>

static const char input[] = "{\"object_type\": \"Hostname\", \"primary_key\": "
                            "\"Hostname|internet|example.org\"}";

static int args_of(const char *limits, struct wh_boefje_job_args *a, struct wh_err *err)
{
        char meta[512];
        snprintf(meta, sizeof(meta),
                 "{\"input_ooi\": \"Hostname|internet|example.org\", \"net_allow\": [], "
                 "\"net_no_input\": false%s%s}",
                 limits ? ", \"limits\": " : "", limits ? limits : "");
        return wh_boefje_job_args(meta, input, strlen(input), a, err);
}

static void test_read(void **state)
{
        (void)state;
        struct wh_boefje_job_args a;
        struct wh_err err;
        assert_int_equal(args_of("{\"wall_ms\": 500, \"memory_bytes\": 268435456, "
                                 "\"output_bytes\": 4096, \"net_max_conns\": 1000000, "
                                 "\"net_max_bytes\": 1, \"net_max_rate\": 10240}",
                                 &a, &err),
                         0);
        assert_int_equal(a.limits.wall_ms, 500);
        assert_int_equal(a.limits.memory_bytes, 268435456);
        assert_int_equal(a.limits.output_bytes, 4096);
        assert_int_equal(a.limits.net_max_conns, 1000000);
        assert_int_equal(a.limits.net_max_bytes, 1);
        assert_int_equal(a.limits.net_max_rate, 10240);
        wh_boefje_job_args_clear(&a);
        /* A job submitted before limits existed, or without any: all 0. */
        assert_int_equal(args_of(NULL, &a, &err), 0);
        static const struct wh_boefje_limits none;
        assert_memory_equal(&a.limits, &none, sizeof(none));
        wh_boefje_job_args_clear(&a);
}

static void test_refused(void **state)
{
        (void)state;
        static const char *const bad[] = {
            "[500]",                           /* not an object */
            "{\"wall_ms\": 0}",                /* 0 is "not given": never written */
            "{\"wall_ms\": -1}",               /* negative */
            "{\"wall_ms\": 1.5}",              /* not whole */
            "{\"wall_ms\": \"500\"}",          /* a string */
            "{\"net_max_conns\": 1000001}",    /* over its maximum */
            "{\"wall_ms\": 500, \"cpus\": 1}", /* a name it does not know */
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                struct wh_boefje_job_args a;
                struct wh_err err = {0};
                assert_int_equal(args_of(bad[i], &a, &err), -1);
                assert_int_equal(err.kind, WH_ERR_INVALID);
                assert_non_null(strstr(err.msg, "not a boefje job whiskers submitted"));
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_read),
            cmocka_unit_test(test_refused),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
