/* The schema module's JSON decoder (jv_decode) and the text entry point
 * wh_schema_validate_text: numbers (integers, 64-bit limits, big integers,
 * correctly rounded doubles on both the fast path and strtod's), strings
 * (escapes, surrogates, \u0000, invalid UTF-8, the vectorised scan at
 * every offset), nesting depth, repeated keys, trailing garbage, truncated
 * texts, error positions, and validation through the text path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <whiskers/schema.h>

#include "schema/jsonval.h"

struct doc {
        struct arena arena;
        struct jv v;
};

/* Decode text (len bytes); 0 or -1 with err. */
static int decode_n(struct doc *d, const char *text, size_t len, struct wh_err *err)
{
        arena_init(&d->arena);
        return jv_decode(&d->arena, text, len, &d->v, err);
}

static void decode_ok(struct doc *d, const char *text)
{
        struct wh_err err;
        if (decode_n(d, text, strlen(text), &err) < 0)
                fail_msg("%s: %s", text, err.msg);
}

/* The text must be refused with a message containing needle. */
static void decode_bad_n(const char *text, size_t len, const char *needle)
{
        struct doc d;
        struct wh_err err;
        if (decode_n(&d, text, len, &err) == 0)
                fail_msg("accepted %.*s", (int)len, text);
        assert_int_equal(err.errnum, 0);
        if (!strstr(err.msg, needle))
                fail_msg("%.*s: \"%s\" lacks \"%s\"", (int)len, text, err.msg, needle);
        arena_free(&d.arena);
}

static void decode_bad(const char *text, const char *needle)
{
        decode_bad_n(text, strlen(text), needle);
}

static void want_int(const char *text, int64_t want)
{
        struct doc d;
        decode_ok(&d, text);
        assert_int_equal(d.v.kind, JV_K_INT);
        assert_true(d.v.u.i == want);
        arena_free(&d.arena);
}

/* A real, bit for bit equal to strtod's correctly rounded value. */
static void want_real(const char *text)
{
        struct doc d;
        decode_ok(&d, text);
        assert_int_equal(d.v.kind, JV_K_REAL);
        double want = strtod(text, NULL);
        if (memcmp(&d.v.u.d, &want, sizeof(want)) != 0)
                fail_msg("%s: got %.17g, want %.17g", text, d.v.u.d, want);
        arena_free(&d.arena);
}

static void test_integers(void **state)
{
        (void)state;
        want_int("0", 0);
        want_int("-0", 0);
        want_int("42", 42);
        want_int(" \t\r\n-17 \n", -17);
        want_int("9223372036854775807", INT64_MAX);
        want_int("-9223372036854775808", INT64_MIN);
        want_int("1000000000000000000", 1000000000000000000);
        /* Beyond 64 bits: still numbers, as doubles. */
        want_real("9223372036854775808");
        want_real("-9223372036854775809");
        want_real("18446744073709551616");
        want_real("123456789012345678901234567890");
}

static uint64_t next(uint64_t *x)
{
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        return *x;
}

/* A random real in JSON syntax: up to 10 integer digits, up to 14 fraction
 * digits, an exponent within +-30 (always one when there is no fraction). */
static void random_real(uint64_t *x, char *buf)
{
        size_t n = 0;
        if (next(x) & 1)
                buf[n++] = '-';
        size_t int_digits = 1 + next(x) % 10, frac_digits = next(x) % 15;
        for (size_t i = 0; i < int_digits; i++)
                buf[n++] =
                    (char)('0' + (i == 0 && int_digits > 1 ? 1 + next(x) % 9 : next(x) % 10));
        if (frac_digits)
                buf[n++] = '.';
        for (size_t i = 0; i < frac_digits; i++)
                buf[n++] = (char)('0' + next(x) % 10);
        if (!frac_digits || next(x) % 2)
                n += (size_t)sprintf(buf + n, "e%d", (int)(next(x) % 61) - 30);
        buf[n] = '\0';
}

static void test_reals(void **state)
{
        (void)state;
        static const char *const texts[] = {
            "1.0",
            "-0.0",
            "0.1",
            "1e2",
            "1E+2",
            "1e-2",
            "2.5e3",
            "-1.5",
            "0.0001",
            "1.7976931348623157e308",
            "5e-324",
            "1e-400",
            "0.30000000000000004441",
            "9007199254740993.0",
            "123456789012345678.5",
            "0.4219218196852704",
            "0.42192181968527043",
            "1e22",
            "1e23",
            "8.98846567431158e307",
        };
        for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
                want_real(texts[i]);
        /* Many digit and exponent shapes: the fast path must round as
         * strtod does, and the rest must reach strtod. */
        uint64_t x = 0x9e3779b97f4a7c15ull;
        for (int i = 0; i < 20000; i++) {
                char buf[80];
                random_real(&x, buf);
                want_real(buf);
        }
}

static void test_bad_numbers(void **state)
{
        (void)state;
        decode_bad("1e400", "out of range");
        decode_bad("-1e400", "out of range");
        decode_bad("1"
                   "000000000000000000000000000000000000000000000000000000000000000000000000"
                   "000000000000000000000000000000000000000000000000000000000000000000000000"
                   "000000000000000000000000000000000000000000000000000000000000000000000000"
                   "000000000000000000000000000000000000000000000000000000000000000000000000"
                   "000000000000000000000000000000000000000000000000000000000000000000000000",
                   "out of range");
        decode_bad("01", "after the JSON value");
        decode_bad("1.", "a digit must follow '.'");
        decode_bad(".5", "unexpected character");
        decode_bad("-", "a digit must follow '-'");
        decode_bad("+1", "unexpected character");
        decode_bad("1e", "exponent has no digits");
        decode_bad("1e+", "exponent has no digits");
        decode_bad("--1", "a digit must follow '-'");
        decode_bad("0x10", "after the JSON value");
        decode_bad("NaN", "unexpected character");
        decode_bad("Infinity", "unexpected character");
}

static void want_str(const char *text, const char *want, size_t want_len)
{
        struct doc d;
        decode_ok(&d, text);
        assert_int_equal(d.v.kind, JV_K_STRING);
        assert_int_equal(d.v.n, want_len);
        assert_memory_equal(d.v.u.s, want, want_len);
        arena_free(&d.arena);
}

static void test_strings(void **state)
{
        (void)state;
        want_str("\"\"", "", 0);
        want_str("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\/\b\f\n\r\t", 8);
        want_str("\"caf\\u00e9 \\u20AC\"", "caf\xc3\xa9 \xe2\x82\xac", 9);
        want_str("\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80", 4);
        want_str("\"a\\u0000b\"", "a\0b", 3);
        want_str("\"\xf0\x9f\x98\x80 \xe2\x82\xac \xc3\xa9\"",
                 "\xf0\x9f\x98\x80 \xe2\x82\xac \xc3\xa9", 11);
        /* Without escapes the string points into the text. */
        const char *text = "[\"plain text, no escapes at all\"]";
        struct doc d;
        decode_ok(&d, text);
        assert_ptr_equal(d.v.u.items[0].u.s, text + 2);
        arena_free(&d.arena);
}

static void test_bad_strings(void **state)
{
        (void)state;
        decode_bad("\"\\ud800\"", "without a low surrogate");
        decode_bad("\"\\ud800\\u0041\"", "without a low surrogate");
        decode_bad("\"\\udc00\"", "lone low surrogate");
        decode_bad("\"\\x41\"", "invalid escape");
        decode_bad("\"\\u12\"", "four hexadecimal digits");
        decode_bad("\"\\u12g4\"", "four hexadecimal digits");
        decode_bad("\"a\x01\"", "control character");
        decode_bad("\"a\tb\"", "control character");
        decode_bad("\"\\n\x1f\"", "control character");
        decode_bad("\"\xff\"", "invalid UTF-8");
        decode_bad("\"\xc0\x80\"", "invalid UTF-8");         /* overlong NUL */
        decode_bad("\"\xe0\x80\xaf\"", "invalid UTF-8");     /* overlong '/' */
        decode_bad("\"\xed\xa0\x80\"", "invalid UTF-8");     /* a surrogate */
        decode_bad("\"\xf4\x90\x80\x80\"", "invalid UTF-8"); /* above U+10FFFF */
        decode_bad("\"\x80\"", "invalid UTF-8");             /* a lone continuation */
        decode_bad("\"\\n\xc3\"", "invalid UTF-8");
        decode_bad_n("\"\xe2\x82", 3, "invalid UTF-8");   /* truncated sequence */
        decode_bad_n("\"a\0b\"", 5, "control character"); /* a raw NUL */
}

/* Each special byte at each offset of a long string: the 16-byte scan
 * must stop exactly there. */
static void test_string_scan_offsets(void **state)
{
        (void)state;
        char text[80], want[80];
        for (size_t at = 0; at < 40; at++) {
                memset(text, 'x', sizeof(text));
                text[0] = '"';
                memcpy(text + 1 + at, "\\n", 2);
                text[60] = '"';
                memset(want, 'x', sizeof(want));
                want[at] = '\n';
                struct doc d;
                struct wh_err err;
                assert_int_equal(decode_n(&d, text, 61, &err), 0);
                assert_int_equal(d.v.n, 58);
                assert_memory_equal(d.v.u.s, want, 58);
                arena_free(&d.arena);

                memset(text, 'x', sizeof(text));
                text[0] = '"';
                text[1 + at] = '\x1f';
                text[60] = '"';
                decode_bad_n(text, 61, "control character");
                text[1 + at] = (char)0xc3; /* a lead byte followed by 'x' */
                decode_bad_n(text, 61, "invalid UTF-8");
                text[1 + at] = '"';
                decode_bad_n(text, 61, "after the JSON value");
        }
}

static char *nested(size_t depth)
{
        char *s = malloc(2 * depth + 1);
        assert_non_null(s);
        memset(s, '[', depth);
        memset(s + depth, ']', depth);
        s[2 * depth] = '\0';
        return s;
}

static void test_depth(void **state)
{
        (void)state;
        char *ok = nested(JV_MAX_DEPTH), *deep = nested(JV_MAX_DEPTH + 1);
        struct doc d;
        decode_ok(&d, ok);
        arena_free(&d.arena);
        decode_bad(deep, "nesting deeper than 2048");
        free(ok);
        free(deep);
}

static void test_structure(void **state)
{
        (void)state;
        decode_bad("", "unexpected end of text");
        decode_bad("   ", "unexpected end of text");
        decode_bad("{", "unexpected end of text");
        decode_bad("[1,", "unexpected end of text");
        decode_bad("[1", "unexpected end of text");
        decode_bad("{\"a\"", "unexpected end of text");
        decode_bad("{\"a\":", "unexpected end of text");
        decode_bad("{\"a\":1", "unexpected end of text");
        decode_bad("\"abc", "unterminated string");
        decode_bad("\"abc\\\"", "unterminated string");
        decode_bad("tru", "invalid literal");
        decode_bad("nul", "invalid literal");
        decode_bad("True", "unexpected character");
        decode_bad("1 2", "after the JSON value");
        decode_bad("{} x", "after the JSON value");
        decode_bad("[1]]", "after the JSON value");
        decode_bad("[1 2]", "expected ',' or ']'");
        decode_bad("{\"a\" 1}", "expected ':'");
        decode_bad("{1:2}", "expected a string");
        decode_bad("[,1]", "unexpected character");
        decode_bad("{\"a\":1,}", "expected a string");
        decode_bad("{\"a\":1 \"b\":2}", "expected ',' or '}'");
        decode_bad("[1,]", "unexpected character");
        /* Positions are 1-based line and column. */
        struct doc d;
        struct wh_err err;
        const char *text = "{\n  \"a\": x}";
        assert_int_equal(decode_n(&d, text, strlen(text), &err), -1);
        assert_non_null(strstr(err.msg, "line 2 column 8"));
        arena_free(&d.arena);
        /* Any value at top level. */
        decode_ok(&d, " null ");
        assert_int_equal(d.v.kind, JV_K_NULL);
        decode_ok(&d, "true");
        assert_int_equal(d.v.kind, JV_K_TRUE);
        decode_ok(&d, "false");
        assert_int_equal(d.v.kind, JV_K_FALSE);
}

static void test_containers(void **state)
{
        (void)state;
        struct doc d;
        /* A repeated key keeps its first position and its last value. */
        decode_ok(&d, "{\"a\":1,\"b\":2,\"a\":3}");
        assert_int_equal(d.v.n, 2);
        assert_int_equal(d.v.u.members[0].len, 1);
        assert_memory_equal(d.v.u.members[0].key, "a", 1);
        assert_true(d.v.u.members[0].val.u.i == 3);
        assert_true(d.v.u.members[1].val.u.i == 2);
        arena_free(&d.arena);
        /* The same in a large object (hashed), and more members than the
         * decoder's local stack holds. */
        char *text = malloc(64 * 1024);
        assert_non_null(text);
        size_t n = 0;
        n += (size_t)sprintf(text + n, "{");
        for (int i = 0; i < 1000; i++)
                n += (size_t)sprintf(text + n, "\"k%d\":[%d,{\"x\":\"%d\"}],", i % 600, i, i);
        n += (size_t)sprintf(text + n, "\"end\":true}");
        decode_ok(&d, text);
        assert_int_equal(d.v.n, 601);
        const struct jv *k5 = jv_get(&d.v, "k5", 2);
        assert_non_null(k5);
        assert_int_equal(k5->kind, JV_K_ARRAY);
        assert_true(k5->u.items[0].u.i == 605); /* the last "k5" */
        assert_memory_equal(d.v.u.members[5].key, "k5", 2);
        assert_non_null(jv_get(&d.v, "end", 3));
        arena_free(&d.arena);
        free(text);
}

static struct wh_schema *compile(const char *text)
{
        struct wh_schema_registry *reg;
        struct wh_schema *s = NULL;
        struct wh_err err;
        json_t *doc;
        assert_int_equal(wh_schema_registry_new(0, &reg, &err), 0);
        assert_int_equal(wh_schema_json_decode(text, strlen(text), &doc, &err), 0);
        if (wh_schema_compile(reg, doc, NULL, &s, &err) < 0)
                fail_msg("schema %s rejected: %s", text, err.msg);
        json_decref(doc);
        wh_schema_registry_free(reg);
        return s;
}

static void test_validate_text(void **state)
{
        (void)state;
        static const struct {
                const char *schema, *text;
                int want;
        } cases[] = {
            {"{\"type\":\"integer\"}", "123456789012345678901234567890", WH_SCHEMA_VALID},
            {"{\"type\":\"integer\"}", "1.0", WH_SCHEMA_VALID},
            {"{\"type\":\"integer\"}", "1.5", WH_SCHEMA_INVALID},
            {"{\"maximum\":9007199254740992}", "9007199254740993", WH_SCHEMA_INVALID},
            {"{\"maximum\":9007199254740992}", "9007199254740992.0", WH_SCHEMA_VALID},
            {"{\"multipleOf\":0.01}", "19.99", WH_SCHEMA_VALID},
            {"{\"multipleOf\":3}", "9", WH_SCHEMA_VALID},
            {"{\"multipleOf\":3}", "10", WH_SCHEMA_INVALID},
            {"{\"const\":1}", "1.0", WH_SCHEMA_VALID},
            {"{\"enum\":[{\"a\":[1,\"x\"]}]}", "{\"a\":[1.0,\"x\"]}", WH_SCHEMA_VALID},
            {"{\"const\":\"a\\u0000b\"}", "\"a\\u0000b\"", WH_SCHEMA_VALID},
            {"{\"const\":\"a\\u0000b\"}", "\"a\"", WH_SCHEMA_INVALID},
            {"{\"maxLength\":1}", "\"\\ud83d\\ude00\"", WH_SCHEMA_VALID},
            {"{\"uniqueItems\":true}", "[1,\"1\",1.0]", WH_SCHEMA_INVALID},
            {"{\"propertyNames\":{\"maxLength\":2}}", "{\"ab\":1,\"abc\":2}", WH_SCHEMA_INVALID},
        };
        struct wh_err err;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct wh_schema *s = compile(cases[i].schema);
                const char *text = cases[i].text;
                int r = wh_schema_validate_text(s, text, strlen(text), NULL, &err);
                if (r != cases[i].want)
                        fail_msg("%s against %s: got %d (%s)", text, cases[i].schema, r,
                                 r < 0 ? err.msg : "");
                wh_schema_free(s);
        }

        /* Errors name the instance location, escaped as a JSON pointer. */
        struct wh_schema *s = compile("{\"additionalProperties\":{\"maximum\":65535}}");
        struct wh_schema_errors errors;
        wh_schema_errors_init(&errors, 5);
        const char *text = "{\"a/b~\":70000,\"ok\":1}";
        assert_int_equal(wh_schema_validate_text(s, text, strlen(text), &errors, &err),
                         WH_SCHEMA_INVALID);
        assert_int_equal(errors.count, 1);
        assert_string_equal(errors.items[0].instance, "/a~1b~0");
        assert_string_equal(errors.items[0].keyword, "/additionalProperties/maximum");
        assert_string_equal(errors.items[0].message, "70000 is greater than the maximum 65535");
        /* Text that is not JSON: -1, errnum 0, and the errors are reset. */
        assert_int_equal(wh_schema_validate_text(s, "{\"a\":", 5, &errors, &err), -1);
        assert_int_equal(err.errnum, 0);
        assert_string_equal(err.stage, "json");
        assert_int_equal(errors.count, 0);
        wh_schema_errors_reset(&errors);
        wh_schema_free(s);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_integers),    cmocka_unit_test(test_reals),
            cmocka_unit_test(test_bad_numbers), cmocka_unit_test(test_strings),
            cmocka_unit_test(test_bad_strings), cmocka_unit_test(test_string_scan_offsets),
            cmocka_unit_test(test_depth),       cmocka_unit_test(test_structure),
            cmocka_unit_test(test_containers),  cmocka_unit_test(test_validate_text),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
