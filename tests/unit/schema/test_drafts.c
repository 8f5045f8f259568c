/* Draft-07 and 2019-09 semantics, selected by "$schema" or by the registry's
 * default-draft flag: array-form items with additionalItems, dependencies,
 * definitions, $ref hiding its siblings, "$id": "#name" anchors,
 * $recursiveRef, and what each draft does NOT have. Each case here failed
 * before the drafts were implemented (all schemas were evaluated as 2020-12,
 * and array-form items was a compile error). Error locations name the
 * draft's own keywords. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <whiskers/schema.h>

#define D7    "\"$schema\":\"http://json-schema.org/draft-07/schema#\","
#define D2019 "\"$schema\":\"https://json-schema.org/draft/2019-09/schema\","

/* NULL (with err) when rejected. */
static struct wh_schema *try_compile(const char *text, unsigned flags, struct wh_err *err)
{
        struct wh_schema_registry *reg;
        struct wh_schema *s = NULL;
        json_t *doc;
        assert_int_equal(wh_schema_registry_new(flags, &reg, err), 0);
        assert_int_equal(wh_schema_json_decode(text, strlen(text), &doc, err), 0);
        if (wh_schema_compile(reg, doc, NULL, &s, err) < 0)
                s = NULL;
        json_decref(doc);
        wh_schema_registry_free(reg); /* the schema keeps it alive */
        return s;
}

static struct wh_schema *compile(const char *text, unsigned flags)
{
        struct wh_err err;
        struct wh_schema *s = try_compile(text, flags, &err);
        if (!s)
                fail_msg("schema %s rejected: %s", text, err.msg);
        return s;
}

/* The verdict; with want_kw, the first error's keyword path must be it. */
static int check(const struct wh_schema *s, const char *instance, const char *want_kw)
{
        struct wh_err err;
        struct wh_schema_errors e;
        json_t *v;
        assert_int_equal(wh_schema_json_decode(instance, strlen(instance), &v, &err), 0);
        wh_schema_errors_init(&e, 4);
        int r = wh_schema_validate(s, v, &e, &err);
        json_decref(v);
        if (want_kw) {
                assert_true(e.count > 0);
                assert_string_equal(e.items[0].keyword, want_kw);
        }
        wh_schema_errors_reset(&e);
        return r;
}

static void test_draft7_items(void **state)
{
        (void)state;
        struct wh_schema *s = compile(
            "{" D7 "\"items\":[{\"type\":\"integer\"}],\"additionalItems\":{\"type\":\"string\"}}",
            0);
        assert_int_equal(check(s, "[1,\"a\",\"b\"]", NULL), WH_SCHEMA_VALID);
        assert_int_equal(check(s, "[\"x\"]", "/items/0/type"), WH_SCHEMA_INVALID);
        assert_int_equal(check(s, "[1,2]", "/additionalItems/type"), WH_SCHEMA_INVALID);
        wh_schema_free(s);
        /* additionalItems means nothing beside a single items schema. */
        s = compile("{" D7 "\"items\":{},\"additionalItems\":false}", 0);
        assert_int_equal(check(s, "[1,2]", NULL), WH_SCHEMA_VALID);
        wh_schema_free(s);
}

static void test_draft7_dependencies(void **state)
{
        (void)state;
        struct wh_schema *s = compile("{" D7 "\"dependencies\":{\"a\":[\"b\"],"
                                      "\"c\":{\"required\":[\"d\"]}}}",
                                      0);
        assert_int_equal(check(s, "{\"a\":1,\"b\":2,\"c\":3,\"d\":4}", NULL), WH_SCHEMA_VALID);
        assert_int_equal(check(s, "{\"a\":1}", "/dependencies"), WH_SCHEMA_INVALID);
        assert_int_equal(check(s, "{\"c\":1}", "/dependencies/c/required"), WH_SCHEMA_INVALID);
        wh_schema_free(s);
}

static void test_draft7_ref_hides_siblings(void **state)
{
        (void)state;
        /* maxItems beside $ref is ignored; "$id": "#num" is an anchor. */
        struct wh_schema *s = compile("{" D7 "\"definitions\":{\"n\":{\"$id\":\"#num\","
                                      "\"type\":\"array\"}},"
                                      "\"$ref\":\"#num\",\"maxItems\":1}",
                                      0);
        assert_int_equal(check(s, "[1,2,3]", NULL), WH_SCHEMA_VALID);
        assert_int_equal(check(s, "{}", "/$ref/type"), WH_SCHEMA_INVALID);
        wh_schema_free(s);
        /* Only a plain name is an anchor; "#" or a pointer stays an error. */
        struct wh_err err;
        assert_null(try_compile("{" D7 "\"definitions\":{\"a\":{\"$id\":\"#/x\"}}}", 0, &err));
        assert_non_null(strstr(err.msg, "must not contain a fragment"));
        assert_null(try_compile("{" D7 "\"definitions\":{\"a\":{\"$id\":\"#\"}}}", 0, &err));
}

/* What a draft does not have is not evaluated (and is warned about). */
static void test_keywords_of_other_drafts(void **state)
{
        (void)state;
        struct wh_schema *s = compile("{" D7 "\"unevaluatedProperties\":false,"
                                      "\"dependentRequired\":{\"a\":[\"b\"]}}",
                                      0);
        assert_int_equal(check(s, "{\"a\":1}", NULL), WH_SCHEMA_VALID);
        assert_int_equal(wh_schema_warning_count(s), 2);
        assert_non_null(strstr(wh_schema_warning(s, 0), "(a draft-07 schema)"));
        wh_schema_free(s);
        /* 2019-09: contains does not count as evaluating items. */
        s = compile("{" D2019 "\"contains\":{\"type\":\"string\"},\"unevaluatedItems\":false}", 0);
        assert_int_equal(check(s, "[\"a\"]", "/unevaluatedItems"), WH_SCHEMA_INVALID);
        wh_schema_free(s);
        s = compile("{\"contains\":{\"type\":\"string\"},\"unevaluatedItems\":false}", 0);
        assert_int_equal(check(s, "[\"a\"]", NULL), WH_SCHEMA_VALID);
        wh_schema_free(s);
}

static void test_recursive_ref(void **state)
{
        (void)state;
        /* The outer resource's $recursiveAnchor redirects the inner tree's
         * recursion: nodes must be objects with an integer "v". */
        const char *text =
            "{" D2019 "\"$id\":\"https://x.example/strict\",\"$recursiveAnchor\":true,"
            "\"$ref\":\"tree\",\"required\":[\"v\"],\"properties\":{\"v\":{\"type\":\"integer\"}},"
            "\"$defs\":{\"tree\":{\"$id\":\"tree\",\"$recursiveAnchor\":true,"
            "\"properties\":{\"kids\":{\"items\":{\"$recursiveRef\":\"#\"}}}}}}";
        struct wh_schema *s = compile(text, 0);
        assert_int_equal(check(s, "{\"v\":1,\"kids\":[{\"v\":2}]}", NULL), WH_SCHEMA_VALID);
        assert_int_equal(check(s, "{\"v\":1,\"kids\":[{}]}",
                               "/$ref/properties/kids/items/$recursiveRef/required"),
                         WH_SCHEMA_INVALID);
        wh_schema_free(s);
}

/* Without "$schema" the registry's default draft applies. */
static void test_default_draft(void **state)
{
        (void)state;
        const char *text = "{\"items\":[{\"type\":\"integer\"}],\"additionalItems\":false}";
        struct wh_err err;
        /* 2020-12 by default: the array form is an error that says why. */
        assert_null(try_compile(text, 0, &err));
        assert_non_null(strstr(err.msg, "the array form is prefixItems"));
        struct wh_schema *s;
        s = compile(text, WH_SCHEMA_DEFAULT_DRAFT7);
        assert_int_equal(check(s, "[1]", NULL), WH_SCHEMA_VALID);
        assert_int_equal(check(s, "[1,2]", "/additionalItems"), WH_SCHEMA_INVALID);
        wh_schema_free(s);
        s = compile(text, WH_SCHEMA_DEFAULT_DRAFT2019_09);
        assert_int_equal(check(s, "[1,2]", "/additionalItems"), WH_SCHEMA_INVALID);
        wh_schema_free(s);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_draft7_items),
            cmocka_unit_test(test_draft7_dependencies),
            cmocka_unit_test(test_draft7_ref_hides_siblings),
            cmocka_unit_test(test_keywords_of_other_drafts),
            cmocka_unit_test(test_recursive_ref),
            cmocka_unit_test(test_default_draft),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
