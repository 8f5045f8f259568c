/* The schema API: error records (instance pointer, evaluation path,
 * absolute location, message), the error limit, rejection of unusable
 * schemas (reference loops, bad keyword values, unresolvable references,
 * over-deep nesting), warnings for unknown keywords, number semantics, the
 * registry's offline mappings and failure behaviour, format assertion. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <whiskers/schema.h>

static json_t *parse(const char *text)
{
        json_t *v;
        struct wh_err err;
        if (wh_schema_json_decode(text, strlen(text), &v, &err) < 0)
                fail_msg("bad test JSON %s: %s", text, err.msg);
        return v;
}

/* Compile schema text; NULL (with err) when rejected. */
static struct wh_schema *compile_flags(const char *text, unsigned flags, struct wh_err *err)
{
        struct wh_schema_registry *reg;
        struct wh_schema *s = NULL;
        assert_int_equal(wh_schema_registry_new(flags, &reg, err), 0);
        json_t *doc = parse(text);
        if (wh_schema_compile(reg, doc, NULL, &s, err) < 0)
                s = NULL;
        json_decref(doc);
        wh_schema_registry_free(reg); /* the schema keeps it alive */
        return s;
}

static struct wh_schema *compile(const char *text)
{
        struct wh_err err;
        struct wh_schema *s = compile_flags(text, 0, &err);
        if (!s)
                fail_msg("schema %s rejected: %s", text, err.msg);
        return s;
}

static int check(const struct wh_schema *s, const char *instance, struct wh_schema_errors *e)
{
        struct wh_err err;
        json_t *v = parse(instance);
        int r = wh_schema_validate(s, v, e, &err);
        json_decref(v);
        assert_true(r == WH_SCHEMA_VALID || r == WH_SCHEMA_INVALID);
        return r;
}

static void expect_rejected(const char *schema, const char *needle)
{
        struct wh_err err;
        struct wh_schema *s = compile_flags(schema, 0, &err);
        if (s)
                fail_msg("schema %s was accepted", schema);
        if (!strstr(err.msg, needle))
                fail_msg("schema %s: message \"%s\" lacks \"%s\"", schema, err.msg, needle);
}

static void test_error_locations(void **state)
{
        (void)state;
        struct wh_schema *s = compile(
            "{\"$id\":\"https://x.example/item.json\",\"type\":\"object\","
            "\"properties\":{\"items\":{\"type\":\"array\",\"items\":{\"$ref\":\"#/$defs/svc\"}}},"
            "\"$defs\":{\"svc\":{\"properties\":{\"port\":{\"maximum\":65535}},"
            "\"required\":[\"port\"]}}}");
        struct wh_schema_errors e;
        wh_schema_errors_init(&e, 10);
        assert_int_equal(
            check(s, "{\"items\":[{\"port\":1},{\"port\":2},{\"port\":3},{\"port\":70000},{}]}",
                  &e),
            WH_SCHEMA_INVALID);
        assert_int_equal(e.count, 2);
        assert_false(e.truncated);
        assert_string_equal(e.items[0].instance, "/items/3/port");
        assert_string_equal(e.items[0].keyword,
                            "/properties/items/items/$ref/properties/port/maximum");
        assert_string_equal(e.items[0].schema,
                            "https://x.example/item.json#/$defs/svc/properties/port/maximum");
        assert_string_equal(e.items[0].message, "70000 is greater than the maximum 65535");
        assert_string_equal(e.items[1].instance, "/items/4");
        assert_string_equal(e.items[1].keyword, "/properties/items/items/$ref/required");
        assert_string_equal(e.items[1].message, "required property 'port' is missing");
        /* Pointer escaping of ~ and / in member names. */
        wh_schema_free(s);
        s = compile("{\"properties\":{\"a/b~c\":{\"type\":\"string\"}}}");
        assert_int_equal(check(s, "{\"a/b~c\":1}", &e), WH_SCHEMA_INVALID);
        assert_string_equal(e.items[0].instance, "/a~1b~0c");
        assert_string_equal(e.items[0].keyword, "/properties/a~1b~0c/type");
        assert_string_equal(e.items[0].message, "integer is not of type string");
        assert_int_equal(check(s, "{\"a/b~c\":\"ok\"}", &e), WH_SCHEMA_VALID);
        assert_int_equal(e.count, 0);
        wh_schema_errors_reset(&e);
        wh_schema_free(s);
}

static void test_error_limit(void **state)
{
        (void)state;
        struct wh_schema *s = compile("{\"items\":{\"type\":\"string\"}}");
        struct wh_schema_errors e;
        wh_schema_errors_init(&e, 2);
        assert_int_equal(check(s, "[1,2,3,4,5]", &e), WH_SCHEMA_INVALID);
        assert_int_equal(e.count, 2);
        assert_true(e.truncated);
        assert_string_equal(e.items[1].instance, "/1");
        /* max 0, or no errors struct: the verdict only. */
        wh_schema_errors_reset(&e);
        wh_schema_errors_init(&e, 0);
        assert_int_equal(check(s, "[1]", &e), WH_SCHEMA_INVALID);
        assert_int_equal(e.count, 0);
        assert_int_equal(check(s, "[\"a\"]", NULL), WH_SCHEMA_VALID);
        assert_int_equal(check(s, "[1]", NULL), WH_SCHEMA_INVALID);
        wh_schema_errors_reset(&e);
        wh_schema_free(s);
}

static void test_rejects_loops(void **state)
{
        (void)state;
        expect_rejected("{\"$ref\":\"#\"}", "loops without consuming the instance");
        expect_rejected("{\"$defs\":{\"a\":{\"allOf\":[{\"$ref\":\"#/$defs/b\"}]},"
                        "\"b\":{\"anyOf\":[{\"type\":\"string\"},{\"$ref\":\"#/$defs/a\"}]}},"
                        "\"$ref\":\"#/$defs/a\"}",
                        "#/$defs/a");
        expect_rejected("{\"not\":{\"if\":{\"$ref\":\"#\"}}}", "loops");
        /* Recursion that descends into the instance is fine, at any depth
         * up to the nesting limit. */
        struct wh_schema *s = compile("{\"type\":\"array\",\"items\":{\"$ref\":\"#\"}}");
        char deep[2 * 600 + 1];
        for (int depth = 500; depth <= 600; depth += 100) {
                memset(deep, '[', (size_t)depth);
                memset(deep + depth, ']', (size_t)depth);
                deep[2 * depth] = '\0';
                struct wh_schema_errors e;
                wh_schema_errors_init(&e, 5);
                int r = check(s, deep, &e);
                if (depth == 500) {
                        assert_int_equal(r, WH_SCHEMA_VALID);
                } else {
                        assert_int_equal(r, WH_SCHEMA_INVALID);
                        assert_non_null(strstr(e.items[0].message, "nesting too deep"));
                }
                wh_schema_errors_reset(&e);
        }
        wh_schema_free(s);
}

static void test_dynamic_loop_terminates(void **state)
{
        (void)state;
        /* The $dynamicRef resolves to the root at run time: an in-place loop
         * the compiler cannot see; the validator must stop it. */
        struct wh_schema *s = compile("{\"$id\":\"https://x.example/r\",\"$dynamicAnchor\":\"x\","
                                      "\"anyOf\":[{\"$dynamicRef\":\"#x\"}]}");
        struct wh_schema_errors e;
        wh_schema_errors_init(&e, 5);
        assert_int_equal(check(s, "1", &e), WH_SCHEMA_INVALID);
        assert_non_null(strstr(e.items[0].message, "reference loop"));
        assert_int_equal(check(s, "1", NULL), WH_SCHEMA_INVALID);
        wh_schema_errors_reset(&e);
        wh_schema_free(s);
}

static void test_rejects_bad_schemas(void **state)
{
        (void)state;
        expect_rejected("5", "is not a schema: a schema is a JSON object or boolean");
        expect_rejected("{\"type\":\"strin\"}", "/type: must be one of");
        expect_rejected("{\"minLength\":-1}", "minLength: must be a non-negative integer");
        expect_rejected("{\"minLength\":1.5}", "non-negative integer");
        expect_rejected("{\"multipleOf\":0}", "greater than 0");
        expect_rejected("{\"pattern\":\"(\"}", "invalid pattern '('");
        expect_rejected("{\"patternProperties\":{\"[\":true}}", "invalid pattern '['");
        /* Compile work is bounded: this took rx_compile 10^10 steps (issue 9). */
        expect_rejected("{\"pattern\":\"(?:(?:){99999}){99999}\"}",
                        "invalid pattern '(?:(?:){99999}){99999}': pattern too complex");
        expect_rejected("{\"patternProperties\":{\"(?:(?:){99999}){99999}\":true}}",
                        "pattern too complex");
        expect_rejected("{\"required\":[1]}", "array of strings");
        expect_rejected("{\"allOf\":[]}", "non-empty array");
        expect_rejected("{\"properties\":{\"a\":3}}", "must be a JSON object or a boolean");
        expect_rejected("{\"$ref\":\"#/$defs/nope\"}", "nothing at that JSON pointer");
        expect_rejected("{\"$ref\":\"#nope\"}", "no $anchor or $dynamicAnchor named 'nope'");
        expect_rejected("{\"$ref\":\"https://elsewhere.example/s.json\"}",
                        "nothing is fetched from the network");
        expect_rejected("{\"$defs\":{\"a\":{\"$id\":\"#frag\"}}}", "must not contain a fragment");
        expect_rejected("{\"$anchor\":\"1bad\"}", "$anchor");
        expect_rejected("{\"$schema\":\"https://meta.example/unknown\"}", "meta-schema");
        /* Schema nesting beyond the limit. */
        char deep[700 * 9 + 8];
        size_t n = 0;
        for (int i = 0; i < 700; i++)
                n += (size_t)sprintf(deep + n, "{\"not\":");
        n += (size_t)sprintf(deep + n, "true");
        for (int i = 0; i < 700; i++)
                deep[n++] = '}';
        deep[n] = '\0';
        expect_rejected(deep, "nesting too deep");
}

static void test_warnings(void **state)
{
        (void)state;
        struct wh_schema *s = compile("{\"propertiez\":{},\"properties\":{\"a\":{\"minimun\":1}},"
                                      "\"title\":\"known annotations do not warn\"}");
        assert_int_equal(wh_schema_warning_count(s), 2);
        bool saw_root = false, saw_nested = false;
        for (size_t i = 0; i < 2; i++) {
                const char *w = wh_schema_warning(s, i);
                saw_root |= strstr(w, "'propertiez'") != NULL;
                saw_nested |= strstr(w, "'minimun'") && strstr(w, "#/properties/a");
        }
        assert_true(saw_root && saw_nested);
        assert_null(wh_schema_warning(s, 2));
        /* Unknown keywords are ignored. */
        assert_int_equal(check(s, "{\"a\":0}", NULL), WH_SCHEMA_VALID);
        wh_schema_free(s);
}

static void test_numbers(void **state)
{
        (void)state;
        struct wh_schema *s = compile("{\"type\":\"integer\"}");
        assert_int_equal(check(s, "1.0", NULL), WH_SCHEMA_VALID);
        assert_int_equal(check(s, "1.5", NULL), WH_SCHEMA_INVALID);
        /* Beyond 64 bits: decoded as a double, still an integer number. */
        assert_int_equal(check(s, "123456789012345678901234567890", NULL), WH_SCHEMA_VALID);
        wh_schema_free(s);
        s = compile("{\"enum\":[1,{\"a\":[2]}]}");
        assert_int_equal(check(s, "1.0", NULL), WH_SCHEMA_VALID);
        assert_int_equal(check(s, "{\"a\":[2.0]}", NULL), WH_SCHEMA_VALID);
        assert_int_equal(check(s, "true", NULL), WH_SCHEMA_INVALID);
        wh_schema_free(s);
        s = compile("{\"uniqueItems\":true}");
        assert_int_equal(check(s, "[1,\"1\",[1],{\"a\":1}]", NULL), WH_SCHEMA_VALID);
        assert_int_equal(check(s, "[{\"a\":1,\"b\":2},0,{\"b\":2,\"a\":1.0}]", NULL),
                         WH_SCHEMA_INVALID);
        wh_schema_free(s);
        /* Exact comparison of integers with doubles near 2^53. */
        s = compile("{\"maximum\":9007199254740992}");
        assert_int_equal(check(s, "9007199254740993", NULL), WH_SCHEMA_INVALID);
        assert_int_equal(check(s, "9007199254740992.0", NULL), WH_SCHEMA_VALID);
        wh_schema_free(s);
        s = compile("{\"multipleOf\":0.01}");
        assert_int_equal(check(s, "0.07", NULL), WH_SCHEMA_VALID);
        assert_int_equal(check(s, "0.075", NULL), WH_SCHEMA_INVALID);
        wh_schema_free(s);
        /* Strings count code points, not bytes. */
        s = compile("{\"maxLength\":2}");
        assert_int_equal(check(s, "\"\\u00e9\\u00e9\"", NULL), WH_SCHEMA_VALID);
        assert_int_equal(check(s, "\"\\ud83d\\udc32\\ud83d\\udc32x\"", NULL), WH_SCHEMA_INVALID);
        wh_schema_free(s);
        json_t *v;
        struct wh_err err;
        assert_int_equal(wh_schema_json_decode("1e400", 5, &v, &err), -1);
        assert_non_null(strstr(err.msg, "invalid JSON"));
        /* jansson alone takes "1\0" for 1 (tests/fuzz/regress/json). */
        assert_int_equal(wh_schema_json_decode("1\0", 2, &v, &err), -1);
        assert_string_equal(err.msg,
                            "invalid JSON at line 1 column 2: a NUL byte (write it as \\u0000 "
                            "in a string)");
        assert_int_equal(wh_schema_json_decode("true\0", 5, &v, &err), -1);
}

static void test_evaluation_budget(void **state)
{
        (void)state;
        /* 2^25 paths through anyOf, all failing: stopped by the budget. */
        char text[8192];
        size_t n = (size_t)sprintf(text, "{\"$ref\":\"#/$defs/a0\",\"$defs\":{");
        for (int i = 0; i < 25; i++)
                n += (size_t)sprintf(text + n,
                                     "\"a%d\":{\"anyOf\":[{\"$ref\":\"#/$defs/a%d\"},"
                                     "{\"$ref\":\"#/$defs/a%d\"}]},",
                                     i, i + 1, i + 1);
        sprintf(text + n, "\"a25\":false}}");
        struct wh_schema *s = compile(text);
        struct wh_schema_errors e;
        wh_schema_errors_init(&e, 3);
        assert_int_equal(check(s, "1", &e), WH_SCHEMA_INVALID);
        assert_int_equal(e.count, 1);
        assert_non_null(strstr(e.items[0].message, "validation gave up"));
        wh_schema_errors_reset(&e);
        wh_schema_free(s);
}

static void test_hostile_pattern(void **state)
{
        (void)state;
        struct wh_schema *s = compile("{\"pattern\":\"^(a+)+$\"}");
        struct wh_schema_errors e;
        wh_schema_errors_init(&e, 3);
        assert_int_equal(check(s, "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab\"", &e),
                         WH_SCHEMA_INVALID);
        assert_non_null(strstr(e.items[0].message, "gave up"));
        assert_int_equal(check(s, "\"aaaa\"", &e), WH_SCHEMA_VALID);
        wh_schema_free(s);
        /* Giving up fails closed: "not" must not turn it into a pass. */
        s = compile("{\"not\":{\"pattern\":\"^(a+)+$\"}}");
        assert_int_equal(check(s, "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab\"", NULL),
                         WH_SCHEMA_INVALID);
        assert_int_equal(check(s, "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab\"", &e),
                         WH_SCHEMA_INVALID);
        assert_int_equal(e.count, 1);
        assert_non_null(strstr(e.items[0].message, "gave up"));
        assert_string_equal(e.items[0].keyword, "/not/pattern");
        assert_int_equal(check(s, "\"b\"", NULL), WH_SCHEMA_VALID);
        wh_schema_errors_reset(&e);
        wh_schema_free(s);
}

static void write_file(const char *dir, const char *name, const char *text)
{
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        FILE *f = fopen(path, "we");
        assert_non_null(f);
        assert_int_equal(fputs(text, f) >= 0, 1);
        assert_int_equal(fclose(f), 0);
}

static void test_registry(void **state)
{
        (void)state;
        char dir[] = "/tmp/wh-schema-test-XXXXXX";
        assert_non_null(mkdtemp(dir));
        char sub[600];
        snprintf(sub, sizeof(sub), "%s/defs", dir);
        assert_int_equal(mkdir(sub, 0700), 0);
        write_file(dir, "item.json",
                   "{\"properties\":{\"port\":{\"$ref\":\"defs/port.json\"},"
                   "\"name\":{\"$ref\":\"https://x.example/s/name\"}}}");
        write_file(sub, "port.json", "{\"type\":\"integer\",\"maximum\":65535}");
        write_file(sub, "name.json", "{\"type\":\"string\"}");
        write_file(dir, "escape.json", "{\"$ref\":\"https://x.example/s/..%2Fitem.json\"}");

        struct wh_schema_registry *reg;
        struct wh_schema *s;
        struct wh_err err;
        assert_int_equal(wh_schema_registry_new(0, &reg, &err), 0);
        char path[600];
        snprintf(path, sizeof(path), "%s/item.json", dir);
        /* Sibling files resolve; the https name needs a mapping. */
        assert_int_equal(wh_schema_compile_file(reg, path, &s, &err), -1);
        assert_non_null(strstr(err.msg, "https://x.example/s/name"));
        /* A failed compile that loaded documents leaves the registry unusable. */
        assert_int_equal(wh_schema_registry_map(reg, "https://x.example/s/", sub, &err), 0);
        assert_int_equal(wh_schema_compile_file(reg, path, &s, &err), -1);
        assert_non_null(strstr(err.msg, "unusable"));
        wh_schema_registry_free(reg);

        assert_int_equal(wh_schema_registry_new(0, &reg, &err), 0);
        assert_int_equal(wh_schema_registry_map(reg, "https://x.example/s/", sub, &err), 0);
        /* A compile that failed before changing anything leaves it usable. */
        assert_int_equal(wh_schema_compile_uri(reg, "https://other.example/x", &s, &err), -1);
        assert_non_null(strstr(err.msg, "no schema is known as https://other.example/x"));
        assert_int_equal(wh_schema_compile_file(reg, path, &s, &err), 0);
        assert_int_equal(check(s, "{\"port\":80,\"name\":\"http\"}", NULL), WH_SCHEMA_VALID);
        assert_int_equal(check(s, "{\"port\":80000}", NULL), WH_SCHEMA_INVALID);
        assert_int_equal(check(s, "{\"name\":1}", NULL), WH_SCHEMA_INVALID);
        /* The same registry serves URIs directly, fragments included. */
        struct wh_schema *port;
        assert_int_equal(wh_schema_compile_uri(reg, "https://x.example/s/port", &port, &err), 0);
        assert_int_equal(check(port, "65536", NULL), WH_SCHEMA_INVALID);
        wh_schema_free(port);
        /* Documents added in memory. */
        json_t *doc = parse("{\"$defs\":{\"even\":{\"multipleOf\":2}}}");
        assert_int_equal(wh_schema_registry_add(reg, "urn:example:even", doc, &err), 0);
        json_decref(doc);
        assert_int_equal(wh_schema_compile_uri(reg, "urn:example:even#/$defs/even", &port, &err),
                         0);
        assert_int_equal(check(port, "3", NULL), WH_SCHEMA_INVALID);
        assert_int_equal(check(port, "4", NULL), WH_SCHEMA_VALID);
        wh_schema_free(port);
        wh_schema_registry_free(reg);
        wh_schema_free(s);

        /* Escaping the mapped directory is refused. */
        assert_int_equal(wh_schema_registry_new(0, &reg, &err), 0);
        assert_int_equal(wh_schema_registry_map(reg, "https://x.example/s/", sub, &err), 0);
        snprintf(path, sizeof(path), "%s/escape.json", dir);
        assert_int_equal(wh_schema_compile_file(reg, path, &s, &err), -1);
        assert_non_null(strstr(err.msg, "refusing"));
        assert_int_equal(wh_schema_registry_map(reg, "relative/", sub, &err), -1);
        wh_schema_registry_free(reg);

        const char *names[] = {"defs/port.json", "defs/name.json", "item.json", "escape.json"};
        for (size_t i = 0; i < 4; i++) {
                snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
                assert_int_equal(unlink(path), 0);
        }
        assert_int_equal(rmdir(sub), 0);
        assert_int_equal(rmdir(dir), 0);
}

static void test_format_assertion(void **state)
{
        (void)state;
        struct wh_err err;
        struct wh_schema *lax = compile("{\"format\":\"email\"}");
        struct wh_schema *strict =
            compile_flags("{\"format\":\"email\"}", WH_SCHEMA_ASSERT_FORMAT, &err);
        assert_non_null(strict);
        assert_int_equal(check(lax, "\"not an email\"", NULL), WH_SCHEMA_VALID);
        assert_int_equal(check(strict, "\"not an email\"", NULL), WH_SCHEMA_INVALID);
        assert_int_equal(check(strict, "\"a@example.com\"", NULL), WH_SCHEMA_VALID);
        assert_int_equal(check(strict, "42", NULL), WH_SCHEMA_VALID);
        wh_schema_free(lax);
        wh_schema_free(strict);
        /* Instance data compiled as a regex gets the same compile budget. */
        struct wh_schema *re =
            compile_flags("{\"format\":\"regex\"}", WH_SCHEMA_ASSERT_FORMAT, &err);
        assert_non_null(re);
        struct wh_schema_errors e;
        wh_schema_errors_init(&e, 3);
        assert_int_equal(check(re, "\"(?:(?:){99999}){99999}\"", &e), WH_SCHEMA_INVALID);
        assert_non_null(strstr(e.items[0].message, "is not a valid regex"));
        assert_int_equal(check(re, "\"^(?:(?:){99}){99}$\"", NULL), WH_SCHEMA_VALID);
        wh_schema_errors_reset(&e);
        wh_schema_free(re);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_error_locations),
            cmocka_unit_test(test_error_limit),
            cmocka_unit_test(test_rejects_loops),
            cmocka_unit_test(test_dynamic_loop_terminates),
            cmocka_unit_test(test_rejects_bad_schemas),
            cmocka_unit_test(test_warnings),
            cmocka_unit_test(test_numbers),
            cmocka_unit_test(test_hostile_pattern),
            cmocka_unit_test(test_evaluation_budget),
            cmocka_unit_test(test_registry),
            cmocka_unit_test(test_format_assertion),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
