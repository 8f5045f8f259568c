/* Checking output items: kinds, types, schemas, primary keys, references,
 * limits; and what a schema directory may contain. */
#include "contract_test.h"

static const char hostname_schema[] =
    "{\"type\": \"object\", \"x-natural-key\": [\"network\", \"name\"],"
    " \"properties\": {\"object_type\": {\"const\": \"Hostname\"}, \"primary_key\": {},"
    "  \"network\": {\"$ref\": \"common.json#/$defs/ref\", \"x-reference\": [\"Network\"]},"
    "  \"name\": {\"type\": \"string\", \"maxLength\": 20}},"
    " \"required\": [\"object_type\", \"network\", \"name\"], \"additionalProperties\": false}";
static const char common_schema[] =
    "{\"$defs\": {\"ref\": {\"type\": \"string\", \"pattern\": \"^[A-Za-z]+\\\\|\"}}}";
static const char kft_schema[] =
    "{\"type\": \"object\", \"x-natural-key\": [\"id\"], \"required\": [\"id\"]}";
static const char finding_schema[] =
    "{\"type\": \"object\", \"x-natural-key\": [{\"field\": \"ooi\", \"whole\": true}, "
    "\"finding_type\"], \"properties\": {\"ooi\": {\"x-reference\": true},"
    " \"finding_type\": {\"x-reference\": [\"KATFindingType\"]}}}";
/* A type whose schema asserts "format": "regex" on output data. */
static const char rule_schema[] =
    "{\"type\": \"object\", \"x-natural-key\": [\"id\"], \"required\": [\"id\"],"
    " \"properties\": {\"expr\": {\"type\": \"string\", \"format\": \"regex\"}}}";
static const char manifest_json[] =
    "{\"id\": \"t\", \"version\": \"1\", \"consumes\": [\"x\"], \"runtime\": \"python3\","
    " \"entrypoint\": \"n.py\", \"external_types\": [\"Network\"],"
    " \"produces\": [\"Hostname\", \"KATFindingType\", \"Finding\", \"Rule\"]}";

struct fixture {
        char *dir;
        struct wh_manifest m;
        struct type_table types;
        struct wh_normaliser_limits limits;
        struct wh_contract_errors errors, warnings;
        struct checker c;
};

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));
        f->dir = tmp_dir();
        put(f->dir, "schemas/Hostname.json", hostname_schema);
        put(f->dir, "schemas/common.json", common_schema);
        put(f->dir, "schemas/KATFindingType.json", kft_schema);
        put(f->dir, "schemas/Finding.json", finding_schema);
        put(f->dir, "schemas/Rule.json", rule_schema);
        json_t *obj = json_loads(manifest_json, 0, NULL);
        struct wh_err err = {0};
        assert_int_equal(wh_manifest_parse(obj, "m", &f->m, &err), 0);
        json_decref(obj);
        if (types_load(&f->types, f->dir, NULL, f->m.produces, f->m.openkat, &err) < 0)
                fail_msg("%s", err.msg);
        limits_effective(&f->m.limits, NULL, &f->limits);
        f->limits.max_items = 20;
        f->limits.max_depth = 8;
        cerrs_init(&f->errors, 100);
        cerrs_init(&f->warnings, 100);
        f->c = (struct checker){.types = &f->types,
                                .manifest = &f->m,
                                .limits = &f->limits,
                                .errors = &f->errors,
                                .warnings = &f->warnings,
                                .python = true};
        checker_init(&f->c);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        checker_clear(&f->c);
        cerrs_clear(&f->errors);
        cerrs_clear(&f->warnings);
        types_clear(&f->types);
        wh_manifest_clear(&f->m);
        rm_tree(f->dir);
        free(f);
        return 0;
}

static uint64_t feed(struct fixture *f, const char *const *lines, size_t n)
{
        for (size_t i = 0; i < n; i++)
                checker_line(&f->c, lines[i], strlen(lines[i]), i + 1, true);
        return n;
}

#define FEED(f, ...)                                                                               \
        do {                                                                                       \
                const char *const l_[] = {__VA_ARGS__};                                            \
                feed(f, l_, sizeof(l_) / sizeof(l_[0]));                                           \
        } while (0)

static void test_valid_output(void **state)
{
        struct fixture *f = *state;
        FEED(f, "{\"type\":\"runtime\",\"name\":\"python\",\"version\":\"3.11.2\"}",
             "{\"object_type\":\"Hostname\",\"network\":\"Network|internet\",\"name\":\"a."
             "example\"}",
             "{\"object_type\":\"KATFindingType\",\"id\":\"KAT-X\"}",
             "{\"object_type\":\"Finding\",\"ooi\":\"Hostname|internet|a.example\","
             "\"finding_type\":\"KATFindingType|KAT-X\"}",
             "{\"type\":\"declaration\",\"ooi\":{\"object_type\":\"Hostname\","
             "\"network\":\"Network|internet\",\"name\":\"b.example\"},\"end_valid_time\":null}",
             "{\"type\":\"affirmation\",\"ooi\":{\"object_type\":\"Hostname\","
             "\"network\":\"Network|internet\",\"name\":\"c.example\"}}",
             "{\"scan_profile_type\":\"declared\",\"reference\":\"Hostname|internet|b.example\","
             "\"level\":2}",
             "   ");
        checker_finish(&f->c, "Hostname|internet|in.example");
        for (size_t i = 0; i < f->errors.n; i++)
                print_error("%s: %s\n", f->errors.items[i].code, f->errors.items[i].message);
        assert_int_equal(f->errors.n, 0);
        assert_int_equal(f->c.items, 6);
        assert_non_null(f->c.runtime);
        assert_true(wh_strset_has(&f->c.keys, "Finding|Hostname|internet|a.example|KAT-X"));
        assert_true(wh_strset_has(&f->c.keys, "Hostname|internet|c.example"));
        json_t *got = results_build(&f->c, "Hostname|internet|in.example");
        json_t *want = json_loads(
            "{\"observations\": [{\"type\": \"observation\", \"input_ooi\": "
            "\"Hostname|internet|in.example\", \"results\": [{\"object_type\":\"Hostname\","
            "\"network\":\"Network|internet\",\"name\":\"a.example\"}, {\"object_type\":"
            "\"KATFindingType\",\"id\":\"KAT-X\"}, {\"object_type\":\"Finding\",\"ooi\":"
            "\"Hostname|internet|a.example\",\"finding_type\":\"KATFindingType|KAT-X\"}]}],"
            " \"declarations\": [{\"type\":\"declaration\",\"ooi\":{\"object_type\":\"Hostname\","
            "\"network\":\"Network|internet\",\"name\":\"b.example\"},\"end_valid_time\":null}],"
            " \"affirmations\": [{\"type\":\"affirmation\",\"ooi\":{\"object_type\":\"Hostname\","
            "\"network\":\"Network|internet\",\"name\":\"c.example\"}}],"
            " \"scan_profiles\": [{\"scan_profile_type\":\"declared\",\"reference\":"
            "\"Hostname|internet|b.example\",\"level\":2}]}",
            0, NULL);
        assert_non_null(want);
        assert_true(json_equal(want, got));
        json_decref(want);
        json_decref(got);
}

static void test_item_errors(void **state)
{
        struct fixture *f = *state;
        FEED(f, "not json", "[1, 2]", "{\"x\": 1e999}", "{\"x\": \"\xff\"}",
             "[[[[[[[[[[1]]]]]]]]]]", "{\"hello\": 1}",
             "{\"object_type\":\"IPAddressV4\",\"address\":\"1.2.3.4\"}",
             "{\"object_type\":\"Hostname\",\"network\":\"Network|internet\",\"name\":"
             "\"much-too-long-a-name.example\"}",
             "{\"type\":\"declaration\",\"ooi\":{\"object_type\":\"Hostname\","
             "\"network\":\"Network|internet\",\"name\":\"b\"},\"extra\":1}",
             "{\"scan_profile_type\":\"declared\",\"reference\":\"Hostname|internet|b\","
             "\"level\":7}",
             "{\"object_type\":\"Hostname\",\"network\":\"Network|internet\",\"name\":\"n\","
             "\"primary_key\":\"Hostname|internet|other\"}",
             "{\"object_type\":\"Finding\",\"ooi\":\"Hostname|internet|nowhere\","
             "\"finding_type\":\"Hostname|internet|n\"}",
             "{\"type\":\"error\",\"error\":\"ValueError\",\"message\":\"boom\","
             "\"traceback\":\"Traceback...\\nValueError: boom\\n\"}",
             "{\"type\":\"runtime\",\"name\":\"late\"}", "{\"a\": 1, \"a\": 2}");
        checker_line(&f->c, "{\"object_type\": \"Hostn", 22, 16, false);
        checker_finish(&f->c, NULL);
        static const struct {
                const char *code;
                uint64_t line;
        } want[] = {
            {"invalid_json", 1},      {"not_an_object", 2},    {"number_out_of_range", 3},
            {"invalid_utf8", 4},      {"too_deep", 5},         {"unknown_item", 6},
            {"undeclared_type", 7},   {"schema", 8},           {"bad_item", 9},
            {"bad_scan_profile", 10}, {"bad_primary_key", 11}, {"bad_reference", 12},
            {"normaliser_error", 13}, {"unknown_item", 14},    {"invalid_json", 15},
            {"truncated", 16},
        };
        for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
                if (!has_error(&f->errors, want[i].code, want[i].line))
                        fail_msg("no %s error on line %llu", want[i].code,
                                 (unsigned long long)want[i].line);
        const struct wh_contract_error *s = find_error(&f->errors, "schema");
        assert_string_equal(s->instance_path, "/name");
        assert_non_null(
            strstr(s->schema_path, "/schemas/Hostname.json#/properties/name/maxLength"));
        assert_non_null(strstr(s->item, "much-too-long"));
        const struct wh_contract_error *n = find_error(&f->errors, "normaliser_error");
        assert_non_null(strstr(n->message, "ValueError: boom"));
        assert_string_equal(n->detail, "Traceback...\nValueError: boom\n");
        assert_non_null(strstr(find_error(&f->errors, "invalid_utf8")->item, "\xef\xbf\xbd"));
        /* The refused Finding's other reference is not reported as dangling. */
        assert_false(has_error(&f->errors, "dangling_reference", 0));
        assert_int_equal(json_array_size(f->c.objects), 0);
}

/* One output line whose regex-format field would take rx_compile 10^10
 * steps (issue 9): refused as a schema error, promptly. */
static void test_regex_bomb_line(void **state)
{
        struct fixture *f = *state;
        FEED(f, "{\"object_type\":\"Rule\",\"id\":\"r1\",\"expr\":\"(?:(?:){99999}){99999}\"}",
             "{\"object_type\":\"Rule\",\"id\":\"r2\",\"expr\":\"^(?=.*[0-9])[a-z0-9]+$\"}");
        checker_finish(&f->c, "Hostname|internet|in.example");
        for (size_t i = 0; i < f->errors.n; i++)
                print_error("%s: %s\n", f->errors.items[i].code, f->errors.items[i].message);
        assert_int_equal(f->errors.n, 1);
        assert_true(has_error(&f->errors, "schema", 1));
        const struct wh_contract_error *e = find_error(&f->errors, "schema");
        assert_string_equal(e->instance_path, "/expr");
        assert_non_null(strstr(e->message, "not a valid regex"));
        assert_int_equal(json_array_size(f->c.objects), 1);
}

static void test_references_and_limits(void **state)
{
        struct fixture *f = *state;
        FEED(f,
             "{\"object_type\":\"Finding\",\"ooi\":\"Hostname|internet|gone\","
             "\"finding_type\":\"KATFindingType|KAT-Y\"}",
             "{\"object_type\":\"Finding\",\"ooi\":\"Hostname|internet|in\","
             "\"finding_type\":\"KATFindingType|KAT-Y\"}",
             "{\"object_type\":\"KATFindingType\",\"id\":\"KAT-Y\"}",
             "{\"scan_profile_type\":\"declared\",\"reference\":\"Hostname|internet|x\",\"level\":"
             "1}");
        const char *kft = "{\"object_type\":\"KATFindingType\",\"id\":\"K\"}";
        for (int i = 0; i < 20; i++)
                checker_line(&f->c, kft, strlen(kft), (uint64_t)(5 + i), true);
        checker_finish(&f->c, "Hostname|internet|in");
        /* gone: dangling; in: the input object; KAT-Y: defined later in the output. */
        const struct wh_contract_error *d = find_error(&f->errors, "dangling_reference");
        assert_non_null(d);
        assert_int_equal(d->line, 1);
        assert_non_null(strstr(d->message, "Hostname|internet|gone"));
        assert_true(has_error(&f->errors, "dangling_reference", 4)); /* the scan profile */
        assert_true(has_error(&f->errors, "too_many_items", 21));
        size_t dangling = 0;
        for (size_t i = 0; i < f->errors.n; i++)
                dangling += strcmp(f->errors.items[i].code, "dangling_reference") == 0;
        assert_int_equal(dangling, 2);
        assert_int_equal(f->c.items, 24);
        assert_int_equal(json_array_size(f->c.objects), 19); /* 20 items kept, 1 a profile */
}

static void test_no_input_ooi(void **state)
{
        struct fixture *f = *state;
        FEED(f, "{\"object_type\":\"KATFindingType\",\"id\":\"KAT-Z\"}");
        checker_finish(&f->c, NULL);
        assert_true(has_error(&f->errors, "no_input_ooi", 0));
        json_t *r = results_build(&f->c, NULL);
        assert_int_equal(json_array_size(json_object_get(r, "observations")), 0);
        json_decref(r);
}

static void test_primary_keys(void **state)
{
        struct fixture *f = *state;
        char why[200];
        json_t *h = json_loads("{\"object_type\":\"Hostname\",\"network\":\"Network|internet\","
                               "\"name\":\"a.example\"}",
                               0, NULL);
        char *pk = pk_of(types_find(&f->types, "Hostname"), h, why, sizeof(why));
        assert_string_equal(pk, "Hostname|internet|a.example");
        free(pk);
        json_object_set_new(h, "network", json_string("internet"));
        assert_null(pk_of(types_find(&f->types, "Hostname"), h, why, sizeof(why)));
        assert_non_null(strstr(why, "not a reference"));
        json_decref(h);
        assert_true(pk_valid("A|b"));
        assert_false(pk_valid("A|"));
        assert_false(pk_valid("|b"));
        assert_false(pk_valid("1A|b"));
        assert_false(pk_valid("A-B|c"));
}

/* Each bad schema directory fails to load with a message saying why. */
static void test_schema_errors(void **state)
{
        (void)state;
        static const struct {
                const char *file, *text, *needle;
        } cases[] = {
            {"schemas/Other.json", "{}", "no schema for it"},
            {"schemas/Hostname.json", "{\"type\": \"object\", \"requried\": [\"a\"]}",
             "unknown keyword 'requried'"},
            {"schemas/Hostname.json", "{\"$ref\": \"#\"}", "Hostname"},
            {"schemas/Hostname.json", "{\"$ref\": \"a.json\"}", "Hostname"},
            {"schemas/Hostname.json", "{\"properties\": {\"a\": {\"x-reference\": 5}}}",
             "x-reference must be true or a non-empty array"},
            {"schemas/Hostname.json", "{\"x-natural-key\": [{\"field\": 1}]}",
             "x-natural-key must be"},
            {"schemas/Hostname.json", "[]", "must be a JSON object"},
            {"schemas/Hostname.json", "{\"type\": ", "Hostname"},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char *dir = tmp_dir();
                put(dir, cases[i].file, cases[i].text);
                json_t *produces = json_pack("[s]", "Hostname");
                struct type_table t;
                struct wh_err err = {0};
                assert_int_equal(types_load(&t, dir, NULL, produces, false, &err), -1);
                if (!strstr(err.msg, cases[i].needle))
                        fail_msg("case %zu: '%s' does not say '%s'", i, err.msg, cases[i].needle);
                types_clear(&t);
                json_decref(produces);
                rm_tree(dir);
        }
}

/* A schema directory serves types the normaliser has no schema for, and
 * an "x-" annotation is not an unknown keyword. */
static void test_schema_dir(void **state)
{
        (void)state;
        char *dir = tmp_dir(), *shared = tmp_dir();
        put(shared, "Hostname.json",
            "{\"type\": \"object\", \"x-owner\": \"team\", "
            "\"properties\": {\"name\": {\"format\": \"hostname\"}}}");
        json_t *produces = json_pack("[s]", "Hostname");
        struct type_table t;
        struct wh_err err = {0};
        assert_int_equal(types_load(&t, dir, shared, produces, false, &err), 0);
        json_t *bad = json_pack("{s:s}", "name", "-bad-.example");
        assert_int_equal(wh_schema_validate(types_find(&t, "Hostname")->schema, bad, NULL, &err),
                         WH_SCHEMA_INVALID); /* formats assert */
        json_decref(bad);
        types_clear(&t);
        json_decref(produces);
        rm_tree(dir);
        rm_tree(shared);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_valid_output, setup, teardown),
            cmocka_unit_test_setup_teardown(test_item_errors, setup, teardown),
            cmocka_unit_test_setup_teardown(test_regex_bomb_line, setup, teardown),
            cmocka_unit_test_setup_teardown(test_references_and_limits, setup, teardown),
            cmocka_unit_test_setup_teardown(test_no_input_ooi, setup, teardown),
            cmocka_unit_test_setup_teardown(test_primary_keys, setup, teardown),
            cmocka_unit_test(test_schema_errors),
            cmocka_unit_test(test_schema_dir),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
