/* Runs the official JSON-Schema-Test-Suite (drafts 2020-12, 2019-09 and 07)
 * against the validator: every required file must pass completely; the
 * optional files (optional/; for 2020-12 also optional/format/ with format
 * assertion on) are run and their counts printed, without failing the
 * build. Remote references (http://localhost:1234/...) are served from the
 * suite's remotes/ directory, the 2020-12 meta-schemas from ../shared/data
 * (WH_SHARED_DIR) and the older ones from Debian's python3-jsonschema,
 * offline. The older drafts' suites have no "$schema" in most schemas: they
 * run with the registry's default draft set to theirs.
 *
 * Each instance is validated twice, once for the verdict only and once
 * collecting errors: the two must agree, and an invalid verdict must come
 * with at least one error. WH_SCHEMA_SUITE_VERBOSE=1 lists every failure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <whiskers/schema.h>

#define SUITE   WH_SHARED_DIR "/data/json-schema-test-suite"
#define META    WH_SHARED_DIR "/data/json-schema-metaschemas/draft2020-12"
#define TESTDIR SUITE "/tests/draft2020-12"
/* Older drafts' meta-schemas: Debian's python3-jsonschema carries them. */
#define PYMETA "/usr/lib/python3/dist-packages/jsonschema/schemas"

struct counts {
        size_t passed, total;
};

static bool verbose(void)
{
        const char *v = getenv("WH_SCHEMA_SUITE_VERBOSE");
        return v && *v && strcmp(v, "0") != 0;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted *.json names in dir (NULL-terminated, malloc'd). */
static char **list_json(const char *dir)
{
        DIR *d = opendir(dir);
        if (!d)
                return NULL;
        size_t n = 0, cap = 64;
        char **names = calloc(cap + 1, sizeof(*names));
        struct dirent *e;
        while (names && (e = readdir(d))) {
                size_t len = strlen(e->d_name);
                if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0)
                        continue;
                if (n == cap)
                        break;
                names[n++] = strdup(e->d_name);
        }
        closedir(d);
        if (names)
                qsort(names, n, sizeof(*names), cmp_str);
        return names;
}

static void free_list(char **names)
{
        for (size_t i = 0; names && names[i]; i++)
                free(names[i]);
        free(names);
}

static void add_doc(struct wh_schema_registry *reg, const char *uri, json_t *doc)
{
        struct wh_err err;
        if (wh_schema_registry_add(reg, uri, json_incref(doc), &err) < 0)
                fail_msg("adding %s: %s", uri, err.msg);
}

/* Loaded once; the draft suites are skipped when they are missing. */
static void add_older_metaschemas(struct wh_schema_registry *reg)
{
        static json_t *d7, *d2019, *vocabs;
        struct wh_err err;
        if (!d7 && (wh_schema_json_load(PYMETA "/draft7.json", &d7, &err) < 0 ||
                    wh_schema_json_load(PYMETA "/draft2019-09.json", &d2019, &err) < 0 ||
                    wh_schema_json_load(PYMETA "/vocabularies.json", &vocabs, &err) < 0)) {
                json_decref(d7);
                json_decref(d2019);
                d7 = d2019 = NULL;
                return;
        }
        add_doc(reg, "http://json-schema.org/draft-07/schema", d7);
        add_doc(reg, "https://json-schema.org/draft/2019-09/schema", d2019);
        const char *uri;
        json_t *doc;
        json_object_foreach(vocabs, uri, doc)
        {
                if (strstr(uri, "/2019-09/"))
                        add_doc(reg, uri, doc);
        }
}

static struct wh_schema_registry *registry(unsigned flags)
{
        struct wh_schema_registry *reg;
        struct wh_err err;
        assert_int_equal(wh_schema_registry_new(flags, &reg, &err), 0);
        assert_int_equal(
            wh_schema_registry_map(reg, "http://localhost:1234/", SUITE "/remotes", &err), 0);
        assert_int_equal(
            wh_schema_registry_map(reg, "https://json-schema.org/draft/2020-12/", META, &err), 0);
        add_older_metaschemas(reg);
        return reg;
}

static void run_group(const char *file, json_t *group, unsigned flags, struct counts *c)
{
        json_t *tests = json_object_get(group, "tests");
        const char *gdesc = json_string_value(json_object_get(group, "description"));
        struct wh_schema_registry *reg = registry(flags);
        struct wh_schema *schema = NULL;
        struct wh_err err;
        bool compiled =
            wh_schema_compile(reg, json_object_get(group, "schema"), NULL, &schema, &err) == 0;
        if (!compiled && verbose())
                printf("  %s: [%s] schema rejected: %s\n", file, gdesc, err.msg);
        for (size_t i = 0; i < json_array_size(tests); i++) {
                json_t *t = json_array_get(tests, i);
                bool want = json_is_true(json_object_get(t, "valid"));
                json_t *data = json_object_get(t, "data");
                bool ok = false;
                if (compiled) {
                        struct wh_schema_errors errors;
                        wh_schema_errors_init(&errors, 16);
                        int quiet = wh_schema_validate(schema, data, NULL, &err);
                        int loud = wh_schema_validate(schema, data, &errors, &err);
                        assert_int_equal(quiet, loud);
                        /* The text path (our decoder) agrees with the tree. */
                        char *text = json_dumps(data, JSON_ENCODE_ANY | JSON_COMPACT |
                                                          JSON_REAL_PRECISION(17));
                        assert_non_null(text);
                        assert_int_equal(
                            wh_schema_validate_text(schema, text, strlen(text), NULL, &err), quiet);
                        free(text);
                        assert_true(quiet != WH_SCHEMA_INVALID || errors.count > 0);
                        ok = (quiet == WH_SCHEMA_VALID) == want;
                        wh_schema_errors_reset(&errors);
                }
                c->total++;
                c->passed += ok;
                if (!ok && verbose())
                        printf("  %s: [%s] %s: expected %s\n", file, gdesc,
                               json_string_value(json_object_get(t, "description")),
                               want ? "valid" : "invalid");
        }
        wh_schema_free(schema);
        wh_schema_registry_free(reg);
}

static struct counts run_dir(const char *dir, const char *label, unsigned flags)
{
        struct counts sum = {0};
        char **names = list_json(dir);
        assert_non_null(names);
        for (size_t i = 0; names[i]; i++) {
                char path[4096];
                snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
                json_t *doc;
                struct wh_err err;
                if (wh_schema_json_load(path, &doc, &err) < 0)
                        fail_msg("cannot load %s: %s", path, err.msg);
                struct counts c = {0};
                for (size_t g = 0; g < json_array_size(doc); g++)
                        run_group(names[i], json_array_get(doc, g), flags, &c);
                json_decref(doc);
                printf("%-10s %-36s %4zu/%-4zu%s\n", label, names[i], c.passed, c.total,
                       c.passed == c.total ? "" : "  FAILURES");
                sum.passed += c.passed;
                sum.total += c.total;
        }
        free_list(names);
        return sum;
}

/* The suite lives in ../shared, not in the repository: a clone without it
 * skips the suite and says so; CI (CI=true) must have it. */
static void require_data(void)
{
        struct stat st;
        if (stat(TESTDIR, &st) == 0 && stat(META "/schema.json", &st) == 0)
                return;
        const char *ci = getenv("CI");
        if (ci && strcmp(ci, "true") == 0)
                fail_msg("the JSON-Schema-Test-Suite or the meta-schemas are missing: expected %s "
                         "and %s (configure with -DWH_SHARED_DIR=DIR; CI=true needs them)",
                         TESTDIR, META);
        print_message("SKIP: the JSON-Schema-Test-Suite or the meta-schemas are missing (expected "
                      "%s and %s; configure with -DWH_SHARED_DIR=DIR): the official conformance "
                      "suite was NOT run\n",
                      TESTDIR, META);
        skip();
}

static void test_required(void **state)
{
        (void)state;
        require_data();
        struct counts c = run_dir(TESTDIR, "required", 0);
        printf("required total: %zu/%zu passed\n", c.passed, c.total);
        assert_true(c.total > 1000);
        assert_int_equal(c.passed, c.total);
}

static void test_older(const char *dir, unsigned draft_flag)
{
        require_data();
        struct stat st;
        if (stat(PYMETA "/draft7.json", &st) != 0 || stat(PYMETA "/vocabularies.json", &st) != 0) {
                const char *ci = getenv("CI");
                if (ci && strcmp(ci, "true") == 0)
                        fail_msg("the draft-07/2019-09 meta-schemas are missing from %s (install "
                                 "python3-jsonschema: scripts/install-deps.sh)",
                                 PYMETA);
                print_message("SKIP: the draft-07/2019-09 meta-schemas are missing from %s "
                              "(install python3-jsonschema): the %s suite was NOT run\n",
                              PYMETA, dir);
                skip();
        }
        struct counts c = run_dir(dir, "required", draft_flag);
        printf("%s required total: %zu/%zu passed\n", dir, c.passed, c.total);
        /* Optional files: counted and printed, as for 2020-12. */
        char optional[4096];
        snprintf(optional, sizeof(optional), "%s/optional", dir);
        struct counts o = run_dir(optional, "optional", draft_flag);
        printf("%s optional total: %zu/%zu passed\n", dir, o.passed, o.total);
        assert_true(c.total > 800);
        assert_int_equal(c.passed, c.total);
}

static void test_draft7(void **state)
{
        (void)state;
        test_older(SUITE "/tests/draft7", WH_SCHEMA_DEFAULT_DRAFT7);
}

static void test_draft2019_09(void **state)
{
        (void)state;
        test_older(SUITE "/tests/draft2019-09", WH_SCHEMA_DEFAULT_DRAFT2019_09);
}

static void test_optional(void **state)
{
        (void)state;
        require_data();
        struct counts a = run_dir(TESTDIR "/optional", "optional", 0);
        struct counts f = run_dir(TESTDIR "/optional/format", "format", WH_SCHEMA_ASSERT_FORMAT);
        printf("optional total: %zu/%zu passed; optional/format (asserting): %zu/%zu passed\n",
               a.passed, a.total, f.passed, f.total);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_required),
            cmocka_unit_test(test_draft7),
            cmocka_unit_test(test_draft2019_09),
            cmocka_unit_test(test_optional),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
