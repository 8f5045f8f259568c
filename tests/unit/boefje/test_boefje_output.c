/* The runtime's output, checked outside the sandbox (src/boefje/output.c):
 * every base64 padding, MIME types at and past their limits, raw files at
 * and past --raw-max, more files than allowed, lines out of place; a bad
 * line anywhere leaves no raw file at all. And the input object as
 * OpenKAT serialises it (src/boefje/ooi.c). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "boefje/internal.h"

#define RUNTIME "{\"type\":\"runtime\",\"name\":\"python\"}\n"

static struct wh_boefje fake(uint64_t raw_max)
{
        struct wh_boefje b = {.raw_max = raw_max};
        b.manifest.id = "t";
        return b;
}

/* Parses RUNTIME + lines; returns the error code or "ok". */
static const char *parse(uint64_t raw_max, const char *lines, struct wh_boefje_result *res)
{
        struct wh_boefje b = fake(raw_max);
        char *out = NULL;
        assert_true(asprintf(&out, "%s", lines) >= 0);
        *res = (struct wh_boefje_result){.ok = true};
        json_t *runtime = NULL;
        output_parse(&b, out, strlen(out), res, &runtime);
        json_decref(runtime);
        free(out);
        return res->error_code ? res->error_code : "ok";
}

static void test_every_padding(void **state)
{
        (void)state;
        struct wh_boefje_result res;
        assert_string_equal(
            parse(16,
                  RUNTIME "{\"type\":\"raw\",\"mime_types\":[],\"data\":\"\"}\n"
                          "{\"type\":\"raw\",\"mime_types\":[\"a/b\"],\"data\":\"YQ==\"}\n"
                          "{\"type\":\"raw\",\"mime_types\":[\"boefje/t\"],\"data\":\"YWI=\"}\n"
                          "{\"type\":\"raw\",\"mime_types\":[\"a/b\",\"c/d\"],\"data\":\"YWJj\"}\n",
                  &res),
            "ok");
        assert_int_equal(res.n_raws, 4);
        for (size_t i = 0; i < 4; i++) {
                assert_int_equal(res.raws[i].len, i);
                assert_memory_equal(res.raws[i].data, "abc", i);
        }
        /* boefje/<id> first, declared ones after, no duplicates */
        assert_int_equal(json_array_size(res.raws[0].mime_types), 1);
        assert_int_equal(json_array_size(res.raws[2].mime_types), 1);
        assert_string_equal(json_string_value(json_array_get(res.raws[3].mime_types, 2)), "c/d");
        assert_string_equal(
            res.raws[1].digest,
            "sha256:ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb");
        wh_boefje_result_clear(&res);
}

static void expect_error(uint64_t raw_max, const char *lines, const char *code)
{
        struct wh_boefje_result res;
        assert_string_equal(parse(raw_max, lines, &res), code);
        assert_false(res.ok);
        assert_int_equal(res.n_raws, 0);
        assert_non_null(res.error_message);
        wh_boefje_result_clear(&res);
}

#define RAW(mimes, data) "{\"type\":\"raw\",\"mime_types\":" mimes ",\"data\":\"" data "\"}\n"
#define OK_RAW           RAW("[\"a/b\"]", "YWJj")

static void test_bad_base64(void **state)
{
        (void)state;
        static const char *const bad[] = {
            RUNTIME OK_RAW RAW("[]", "YQ="), RUNTIME OK_RAW RAW("[]", "Y==="),
            RUNTIME OK_RAW RAW("[]", "YQ=a"), RUNTIME OK_RAW RAW("[]", "YW J"),
            RUNTIME OK_RAW RAW("[]", "YW\\nJj")};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                expect_error(16, bad[i], "invalid_output");
}

static void test_mime_shapes(void **state)
{
        (void)state;
        char line[1024], token[200];
        struct wh_boefje_result res;
        memset(token, 'x', 127);
        token[127] = '\0';
        snprintf(line, sizeof(line), RUNTIME RAW("[\"a/%s\"]", "YQ=="), token);
        assert_string_equal(parse(16, line, &res), "ok"); /* 127 bytes: the longest part */
        wh_boefje_result_clear(&res);
        strcat(token, "x");
        snprintf(line, sizeof(line), RUNTIME RAW("[\"a/%s\"]", "YQ=="), token);
        expect_error(16, line, "invalid_output");
        static const char *const bad[] = {"[\"text\"]",  "[\"/b\"]",        "[\"a/\"]",
                                          "[\"a b/c\"]", "[\"a/b/c\"]",     "[\"a/b\\u0000c\"]",
                                          "[7]",         "[\"\\u00e9/b\"]", "\"a/b\""};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                snprintf(line, sizeof(line),
                         RUNTIME OK_RAW "{\"type\":\"raw\",\"mime_types\":%s,"
                                        "\"data\":\"YQ==\"}\n",
                         bad[i]);
                expect_error(16, line, "invalid_output");
        }
}

static void test_raw_max(void **state)
{
        (void)state;
        struct wh_boefje_result res;
        assert_string_equal(parse(2, RUNTIME RAW("[]", "YWI="), &res), "ok");
        wh_boefje_result_clear(&res);
        expect_error(2, RUNTIME RAW("[]", "YWI=") RAW("[]", "YWJj"), "raw_too_large");
        expect_error(0, RUNTIME RAW("[]", "YQ=="), "raw_too_large");
}

static void test_too_many_files(void **state)
{
        (void)state;
        char *lines = strdup(RUNTIME);
        for (unsigned i = 0; i <= WH_BOEFJE_FILES_MAX; i++) {
                char *more = NULL;
                assert_true(asprintf(&more, "%s" OK_RAW, lines) > 0);
                free(lines);
                lines = more;
        }
        expect_error(16, lines, "too_many_raw_files");
        free(lines);
}

static void test_lines_out_of_place(void **state)
{
        (void)state;
        expect_error(16, OK_RAW, "invalid_output");          /* no announcement */
        expect_error(16, "", "invalid_output");              /* no output at all */
        expect_error(16, RUNTIME RUNTIME, "invalid_output"); /* a second one */
        expect_error(16, RUNTIME OK_RAW "{\"type\":\"raw\"", "invalid_output"); /* cut short */
        expect_error(16, RUNTIME "[1]\n", "invalid_output");
        expect_error(16, RUNTIME "{\"type\":\"raw\",\"mime_types\":[],\"data\":\"\",\"x\":1}\n",
                     "invalid_output");
        /* an error after raw files: the run failed, none is kept */
        expect_error(16,
                     RUNTIME OK_RAW "{\"type\":\"error\",\"phase\":\"run\",\"error\":\"OSError\","
                                    "\"message\":\"no route\"}\n",
                     "boefje_error");
        expect_error(16,
                     RUNTIME "{\"type\":\"error\",\"phase\":\"output\","
                             "\"error\":\"InvalidReturnValueBoefje\",\"message\":\"pair 0\"}\n",
                     "invalid_output");
}

static void test_input_ooi(void **state)
{
        (void)state;
        struct wh_err err = {0};
        json_t *o = wh_boefje_input_ooi("IPPort|internet|2001:db8::1|udp|53", &err);
        assert_non_null(o);
        assert_string_equal(
            json_string_value(json_object_get(json_object_get(o, "address"), "address")),
            "2001:db8::1");
        assert_int_equal(json_integer_value(json_object_get(o, "port")), 53);
        assert_string_equal(json_string_value(json_object_get(o, "protocol")), "udp");
        json_decref(o);
        o = wh_boefje_input_ooi("IPAddressV4|internet|192.0.2.1", &err);
        assert_string_equal(json_string_value(json_object_get(o, "address")), "192.0.2.1");
        assert_string_equal(
            json_string_value(json_object_get(json_object_get(o, "network"), "name")), "internet");
        json_decref(o);
        o = wh_boefje_input_ooi("Finding|x|y", &err); /* unknown: type and key only */
        assert_int_equal(json_object_size(o), 2);
        json_decref(o);
        assert_null(wh_boefje_input_ooi("IPPort|internet|192.0.2.1|tcp|65536", &err));
        assert_null(wh_boefje_input_ooi("no key", &err));
        assert_null(wh_boefje_input_ooi("|x", &err));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_every_padding),  cmocka_unit_test(test_bad_base64),
            cmocka_unit_test(test_mime_shapes),    cmocka_unit_test(test_raw_max),
            cmocka_unit_test(test_too_many_files), cmocka_unit_test(test_lines_out_of_place),
            cmocka_unit_test(test_input_ooi),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
