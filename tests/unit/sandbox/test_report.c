/* Unit tests for the status record: wh_report_to_json() and status names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include <whiskers/sandbox.h>

static struct wh_report sample(enum wh_status status)
{
        struct wh_report r;
        memset(&r, 0, sizeof(r));
        r.status = status;
        r.exit_code = -1;
        r.syscall_nr = -1;
        r.wall_ms = 12;
        r.cpu_ms = 7;
        r.mem_peak_bytes = 1u << 20;
        r.stdout_bytes = 5;
        r.stderr_bytes = 3;
        strcpy(r.namespaces, "user,pid,mount");
        strcpy(r.cgroup_driver, "v1");
        r.landlock_abi = 6;
        strcpy(r.seccomp_policy_hash, "ab12");
        return r;
}

static json_t *parse(const struct wh_report *r)
{
        char *text = wh_report_to_json(r);
        assert_non_null(text);
        assert_null(strchr(text, '\n')); /* one line: records are streamed */
        json_error_t jerr;
        json_t *o = json_loads(text, 0, &jerr);
        free(text);
        assert_non_null(o);
        return o;
}

static void test_ok_record(void **state)
{
        (void)state;
        struct wh_report r = sample(WH_STATUS_OK);
        r.exit_code = 0;
        json_t *o = parse(&r);
        assert_string_equal(json_string_value(json_object_get(o, "status")), "ok");
        assert_int_equal(json_integer_value(json_object_get(o, "exit_code")), 0);
        assert_int_equal(json_integer_value(json_object_get(o, "wall_ms")), 12);
        assert_int_equal(json_integer_value(json_object_get(o, "cpu_ms")), 7);
        assert_int_equal(json_integer_value(json_object_get(o, "mem_peak_bytes")), 1 << 20);
        assert_int_equal(json_integer_value(json_object_get(o, "stdout_bytes")), 5);
        assert_int_equal(json_integer_value(json_object_get(o, "stderr_bytes")), 3);
        assert_true(json_is_null(json_object_get(o, "syscall")));
        assert_true(json_is_null(json_object_get(o, "stage")));
        assert_true(json_is_null(json_object_get(o, "message")));
        json_t *applied = json_object_get(o, "applied");
        json_t *ns = json_object_get(applied, "namespaces");
        assert_int_equal(json_array_size(ns), 3);
        assert_string_equal(json_string_value(json_array_get(ns, 2)), "mount");
        assert_string_equal(json_string_value(json_object_get(applied, "cgroup_driver")), "v1");
        assert_int_equal(json_integer_value(json_object_get(applied, "landlock_abi")), 6);
        assert_string_equal(json_string_value(json_object_get(applied, "seccomp_policy_hash")),
                            "ab12");
        json_decref(o);
}

static void test_seccomp_record(void **state)
{
        (void)state;
        struct wh_report r = sample(WH_STATUS_SECCOMP_KILL);
        r.syscall_nr = 250;
        strcpy(r.syscall_name, "keyctl");
        strcpy(r.syscall_arch, "x86_64");
        json_t *o = parse(&r);
        json_t *sc = json_object_get(o, "syscall");
        assert_int_equal(json_integer_value(json_object_get(sc, "nr")), 250);
        assert_string_equal(json_string_value(json_object_get(sc, "name")), "keyctl");
        assert_string_equal(json_string_value(json_object_get(sc, "arch")), "x86_64");
        json_decref(o);
}

static void test_sandbox_error_escapes_message(void **state)
{
        (void)state;
        struct wh_report r = sample(WH_STATUS_SANDBOX_ERROR);
        strcpy(r.stage, "mount");
        strcpy(r.message, "cannot bind \"/x\"\n\ttab");
        json_t *o = parse(&r);
        assert_string_equal(json_string_value(json_object_get(o, "stage")), "mount");
        assert_string_equal(json_string_value(json_object_get(o, "message")),
                            "cannot bind \"/x\"\n\ttab");
        json_decref(o);
        /* stage and message belong to sandbox errors only */
        r.status = WH_STATUS_EXIT_NONZERO;
        o = parse(&r);
        assert_true(json_is_null(json_object_get(o, "stage")));
        json_decref(o);
}

/* What limits the run had, and who enforced the cgroup's (issue 8, item 6:
 * whiskers exec's defaults fall back to rlimits without a cgroup). */
static void test_applied_limits(void **state)
{
        (void)state;
        struct wh_report r = sample(WH_STATUS_OK);
        r.limits = (struct wh_limits){.memory_bytes = 1u << 30, .pids = 256, .wall_ms = 60000};
        r.limits_by = WH_LIMITS_BY_RLIMIT;
        json_t *o = parse(&r);
        json_t *l = json_object_get(json_object_get(o, "applied"), "limits");
        assert_int_equal(json_integer_value(json_object_get(l, "memory_bytes")), 1 << 30);
        assert_int_equal(json_integer_value(json_object_get(l, "pids")), 256);
        assert_int_equal(json_integer_value(json_object_get(l, "wall_ms")), 60000);
        assert_int_equal(json_integer_value(json_object_get(l, "cpu_ms")), 0);
        assert_int_equal(json_integer_value(json_object_get(l, "output_bytes")), 0);
        assert_true(json_real_value(json_object_get(l, "cpus")) == 0.0);
        assert_string_equal(json_string_value(json_object_get(l, "enforced_by")), "rlimit");
        json_decref(o);
}

static void test_status_names(void **state)
{
        (void)state;
        const char *names[] = {"ok",  "exit_nonzero", "signal",       "timeout_wall", "timeout_cpu",
                               "oom", "output_limit", "seccomp_kill", "sandbox_error"};
        for (int i = 0; i <= WH_STATUS_SANDBOX_ERROR; i++)
                assert_string_equal(wh_status_name((enum wh_status)i), names[i]);
        assert_string_equal(wh_status_name((enum wh_status)99), "unknown");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_ok_record),
            cmocka_unit_test(test_seccomp_record),
            cmocka_unit_test(test_sandbox_error_escapes_message),
            cmocka_unit_test(test_applied_limits),
            cmocka_unit_test(test_status_names),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
