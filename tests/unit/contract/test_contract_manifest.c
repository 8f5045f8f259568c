/* normalizer.json checks and limits: each bad manifest gives an error that
 * names the field; good ones give the values, defaults and overrides. */
#include "contract_test.h"

static int parse(const char *text, struct wh_manifest *m, struct wh_err *err)
{
        json_error_t je;
        json_t *obj = json_loads(text, 0, &je);
        assert_non_null(obj);
        int rc = wh_manifest_parse(obj, "normalizer.json", m, err);
        json_decref(obj);
        return rc;
}

#define BASE                                                                                       \
        "\"id\": \"kat_x\", \"version\": \"1.0\", \"consumes\": [\"text/plain\"], "                \
        "\"produces\": [\"Hostname\"], \"runtime\": \"python3\", \"entrypoint\": \"normalize.py\""

static void test_good_manifest(void **state)
{
        (void)state;
        struct wh_manifest m;
        struct wh_err err = {0};
        assert_int_equal(parse("{" BASE ", \"name\": \"X\", \"external_types\": [\"Network\"], "
                               "\"x-team\": \"blue\", \"limits\": {\"memory\": \"64M\", "
                               "\"wall_ms\": 500, \"items\": 7, \"item_size\": 2048, \"depth\": "
                               "9, \"cpus\": 0.5, \"output_limit\": \"1K\"}}",
                               &m, &err),
                         0);
        assert_string_equal(m.id, "kat_x");
        assert_string_equal(m.name, "X");
        assert_null(m.description);
        assert_true(wh_manifest_produces(&m, "Hostname"));
        assert_false(wh_manifest_produces(&m, "Network"));
        assert_int_equal(json_array_size(m.external_types), 1);
        assert_int_equal(m.limits.run.memory_bytes, 64 << 20);
        assert_int_equal(m.limits.run.wall_ms, 500);
        assert_int_equal(m.limits.max_items, 7);
        assert_int_equal(m.limits.max_item_bytes, 2048);
        assert_int_equal(m.limits.max_depth, 9);
        assert_int_equal(m.limits.run.output_bytes, 1024);
        assert_true(m.limits.run.cpus == 0.5);

        struct wh_normaliser_limits eff, over = {0};
        over.run.wall_ms = 99;
        over.max_depth = 3;
        limits_effective(&m.limits, &over, &eff);
        assert_int_equal(eff.run.wall_ms, 99);
        assert_int_equal(eff.max_depth, 3);
        assert_int_equal(eff.max_items, 7);
        assert_int_equal(eff.run.memory_bytes, 64 << 20);
        wh_manifest_clear(&m);

        assert_int_equal(parse("{" BASE "}", &m, &err), 0);
        limits_effective(&m.limits, NULL, &eff);
        assert_int_equal(eff.run.wall_ms, WH_DEFAULT_WALL_MS);
        assert_int_equal(eff.run.output_bytes, WH_DEFAULT_OUTPUT_BYTES);
        assert_int_equal(eff.max_items, WH_DEFAULT_MAX_ITEMS);
        assert_int_equal(eff.max_item_bytes, WH_DEFAULT_MAX_ITEM_BYTES);
        assert_int_equal(eff.max_depth, WH_DEFAULT_MAX_DEPTH);
        assert_int_equal(eff.run.memory_bytes, 0);
        assert_null(m.external_types);
        wh_manifest_clear(&m);
}

static void test_bad_manifests(void **state)
{
        (void)state;
        static const struct {
                const char *json, *needle;
        } cases[] = {
            {"[1]", "not a JSON object"},
            {"{\"version\": \"1\", \"consumes\": [\"a\"], \"produces\": [], \"runtime\": \"exec\", "
             "\"entrypoint\": \"x\"}",
             "field \"id\" is required"},
            {"{\"id\": 5, \"version\": \"1\"}", "field \"id\" must be a non-empty string"},
            {"{\"id\": \"a b\", \"version\": \"1\", \"runtime\": \"exec\", \"entrypoint\": \"x\"}",
             "field \"id\" must be letters and digits"},
            {"{\"id\": \"a\", \"version\": \"1\", \"runtime\": \"perl\", \"entrypoint\": \"x\"}",
             "field \"runtime\" must be"},
            {"{\"id\": \"a\", \"version\": \"1\", \"runtime\": \"exec\", \"entrypoint\": "
             "\"../x\"}",
             "field \"entrypoint\" must be a relative path"},
            {"{\"id\": \"a\", \"version\": \"1\", \"runtime\": \"exec\", \"entrypoint\": \"x\", "
             "\"consumes\": \"text\"}",
             "field \"consumes\" is required and must be an array"},
            {"{\"id\": \"a\", \"version\": \"1\", \"runtime\": \"exec\", \"entrypoint\": \"x\", "
             "\"consumes\": []}",
             "field \"consumes\" must list at least one"},
            {"{\"id\": \"a\", \"version\": \"1\", \"runtime\": \"exec\", \"entrypoint\": \"x\", "
             "\"consumes\": [\"a\"], \"produces\": [\"Host-name\"]}",
             "field \"produces\" has entry 0 that is not an object type"},
            {"{\"id\": \"a\", \"version\": \"1\", \"runtime\": \"exec\", \"entrypoint\": \"x\", "
             "\"consumes\": [\"a\"], \"produces\": [\"A\", \"A\"]}",
             "field \"produces\" lists \"A\" twice"},
            {"{" BASE ", \"limit\": {}}", "unknown field \"limit\""},
            {"{" BASE ", \"limits\": {\"memroy\": \"1M\"}}", "\"limits.memroy\" is not a known"},
            {"{" BASE ", \"limits\": {\"memory\": \"lots\"}}", "\"limits.memory\" must be a size"},
            {"{" BASE ", \"limits\": {\"wall_ms\": -1}}", "\"limits.wall_ms\" must be a positive"},
            {"{" BASE ", \"limits\": {\"depth\": 5000}}", "\"limits.depth\" must be at most 1000"},
            {"{" BASE ", \"limits\": {\"cpus\": \"2\"}}", "\"limits.cpus\" must be a number"},
            {"{" BASE ", \"external_types\": [1]}", "\"external_types\" has entry 0"},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct wh_manifest m;
                struct wh_err err = {0};
                assert_int_equal(parse(cases[i].json, &m, &err), -1);
                if (!strstr(err.msg, cases[i].needle))
                        fail_msg("case %zu: '%s' does not say '%s'", i, err.msg, cases[i].needle);
                assert_string_equal(err.stage, "manifest");
        }
}

/* OpenKAT's normalizer.json as kat_dns ships it: valid, with OpenKAT's defaults. */
static void test_openkat_manifest(void **state)
{
        (void)state;
        struct wh_manifest m;
        struct wh_err err = {0};
        assert_int_equal(parse("{\"id\": \"kat_dns_normalize\", \"name\": \"DNS records\", "
                               "\"description\": \"Parses DNS records.\", \"consumes\": "
                               "[\"boefje/dns-records\"], \"produces\": [\"Hostname\", "
                               "\"DNSZone\"], \"enabled\": false}",
                               &m, &err),
                         0);
        assert_true(m.openkat);
        assert_string_equal(m.runtime, "python3");
        assert_string_equal(m.entrypoint, "normalize.py");
        assert_null(m.version);
        wh_manifest_clear(&m);

        /* Naming a runtime or an entrypoint makes it whiskers' form: all required. */
        assert_int_equal(parse("{" BASE ", \"enabled\": true}", &m, &err), 0);
        assert_false(m.openkat);
        assert_string_equal(m.version, "1.0");
        wh_manifest_clear(&m);
        static const struct {
                const char *json, *needle;
        } bad[] = {
            {"{\"id\": \"a\", \"consumes\": [\"a\"], \"produces\": [], \"enabled\": \"yes\"}",
             "field \"enabled\" must be true or false"},
            {"{\"id\": \"a\", \"consumes\": [\"a\"], \"produces\": [], \"runtime\": \"python3\"}",
             "field \"version\" is required"},
            {"{\"id\": \"a\", \"version\": \"1\", \"consumes\": [\"a\"], \"produces\": [], "
             "\"entrypoint\": \"normalize.py\"}",
             "field \"runtime\" is required"},
            {"{\"id\": \"a\", \"consumes\": [\"a\"], \"produces\": [], \"version\": \"1 0\"}",
             "field \"version\" must be like 1.2.0"},
            {"{\"id\": \"a\", \"consumes\": [\"a\"], \"produces\": [], \"enable\": true}",
             "unknown field \"enable\""},
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                assert_int_equal(parse(bad[i].json, &m, &err), -1);
                if (!strstr(err.msg, bad[i].needle))
                        fail_msg("case %zu: '%s' does not say '%s'", i, err.msg, bad[i].needle);
        }
}

static void test_manifest_file(void **state)
{
        (void)state;
        char *dir = tmp_dir();
        struct wh_manifest m;
        struct wh_err err = {0};
        assert_int_equal(wh_manifest_load(dir, &m, &err), -1);
        assert_non_null(strstr(err.msg, "normalizer.json"));
        put(dir, "normalizer.json", "{\"id\": \"a\",");
        assert_int_equal(wh_manifest_load(dir, &m, &err), -1);
        assert_non_null(strstr(err.msg, "not valid JSON"));
        put(dir, "normalizer.json", "{\"id\": \"a\", \"id\": \"b\"}");
        assert_int_equal(wh_manifest_load(dir, &m, &err), -1);
        assert_non_null(strstr(err.msg, "duplicate"));
        rm_tree(dir);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_good_manifest),
            cmocka_unit_test(test_bad_manifests),
            cmocka_unit_test(test_openkat_manifest),
            cmocka_unit_test(test_manifest_file),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
