/* Whole runs through the library and the real sandbox: a Python normaliser
 * loaded once and run several times, an exec one, and runs that fail in
 * each way the caller must see as data. Digests are compared with values
 * computed outside whiskers (sha256sum). */
#include "contract_test.h"

static const char hostname_schema[] =
    "{\"type\": \"object\", \"x-natural-key\": [\"network\", \"name\"],"
    " \"properties\": {\"object_type\": {\"const\": \"Hostname\"},"
    "  \"network\": {\"type\": \"string\", \"x-reference\": [\"Network\"]},"
    "  \"name\": {\"type\": \"string\"}}, \"required\": [\"network\", \"name\"],"
    " \"additionalProperties\": false}";

#define META                                                                                       \
        "{\"task_id\":\"t-1\",\"input_ooi\":{\"object_type\":\"Hostname\",\"primary_key\":"        \
        "\"Hostname|internet|in.example\"}}"
#define META_SHA256 "sha256:a442a2838ea188bf476b8f83d8d6499e7caa01a4beccca59efa40c4b481e2cfe"
#define RAW         "a.example\nb.example\n"
#define RAW_SHA256  "sha256:8fb9a6ebbf9e0b506b9478b431e6e9dcd34fc2153daea407fc818280551cfed5"
#define EXEC_LINE                                                                                  \
        "{\"object_type\":\"Hostname\",\"network\":\"Network|internet\",\"name\":\"x.example\"}\n"
#define EXEC_SHA256 "sha256:4044fe4b2df03cce6c471f7297bd4b0a88fc80f2927571bc5717b23b866428f5"

static char *make_normaliser(const char *runtime, const char *entry, const char *code,
                             const char *limits)
{
        char *dir = tmp_dir(), manifest[1024], path[PATH_MAX + 32];
        snprintf(manifest, sizeof(manifest),
                 "{\"id\": \"t\", \"version\": \"1\", \"consumes\": [\"text/plain\"], "
                 "\"produces\": [\"Hostname\"], \"external_types\": [\"Network\"], "
                 "\"runtime\": \"%s\", \"entrypoint\": \"%s\", \"limits\": {%s}}",
                 runtime, entry, limits);
        put(dir, "normalizer.json", manifest);
        put(dir, "schemas/Hostname.json", hostname_schema);
        put(dir, entry, code);
        snprintf(path, sizeof(path), "%s/%s", dir, entry);
        chmod(path, 0755);
        return dir;
}

static struct wh_normaliser *load(const char *dir)
{
        struct wh_normaliser *n = NULL;
        struct wh_err err = {0};
        if (wh_normaliser_load(dir, NULL, &n, &err) < 0)
                fail_msg("load: %s", err.msg);
        return n;
}

static void run(struct wh_normaliser *n, const char *raw, const char *meta,
                struct wh_run_result *res)
{
        struct wh_run_input in = {
            .raw = raw, .raw_len = strlen(raw), .meta = meta, .meta_len = meta ? strlen(meta) : 0};
        struct wh_err err = {0};
        if (wh_normaliser_run(n, &in, NULL, res, &err) < 0)
                fail_msg("run: %s", err.msg);
        if (res->report.status == WH_STATUS_SANDBOX_ERROR)
                fail_msg("sandbox error at %s: %s", res->report.stage, res->report.message);
}

static const char *prov(const struct wh_run_result *r, const char *a, const char *b, const char *c)
{
        json_t *v = json_object_get(json_object_get(r->provenance, a), b);
        return json_string_value(c ? json_object_get(v, c) : v);
}

static void test_python_reused(void **state)
{
        (void)state;
        char *dir = make_normaliser(
            "python3", "normalize.py",
            "import sys\n"
            "def run(input_ooi, raw):\n"
            "    print('from', input_ooi['primary_key'])\n" /* stdout goes to stderr */
            "    for name in raw.decode().split():\n"
            "        yield {'object_type': 'Hostname', 'network': 'Network|internet', 'name': "
            "name}\n",
            "\"wall_ms\": 20000");
        struct wh_normaliser *n = load(dir);
        for (int round = 0; round < 2; round++) {
                struct wh_run_result res;
                run(n, RAW, META, &res);
                assert_true(res.ok);
                assert_int_equal(res.report.status, WH_STATUS_OK);
                assert_int_equal(res.items, 2);
                json_t *want = json_loads(
                    "{\"observations\": [{\"type\": \"observation\", \"input_ooi\": "
                    "\"Hostname|internet|in.example\", \"results\": [{\"object_type\": "
                    "\"Hostname\", \"network\": \"Network|internet\", \"name\": \"a.example\"}, "
                    "{\"object_type\": \"Hostname\", \"network\": \"Network|internet\", \"name\": "
                    "\"b.example\"}]}], \"declarations\": [], \"affirmations\": [], "
                    "\"scan_profiles\": []}",
                    0, NULL);
                assert_true(json_equal(want, res.results));
                json_decref(want);
                assert_string_equal(res.stderr_text, "from Hostname|internet|in.example\n");
                assert_string_equal(prov(&res, "input", "raw", "digest"), RAW_SHA256);
                assert_string_equal(prov(&res, "input", "meta", "digest"), META_SHA256);
                assert_string_equal(prov(&res, "input", "task_id", NULL), "t-1");
                assert_string_equal(prov(&res, "normaliser", "digest", NULL),
                                    wh_normaliser_digest(n));
                assert_string_equal(prov(&res, "runtime", "name", NULL), "python3");
                assert_non_null(strstr(prov(&res, "runtime", "version", NULL), "3."));
                assert_string_equal(prov(&res, "status", "status", NULL), "ok");
                json_t *report = wh_run_result_json(&res);
                assert_true(json_is_true(json_object_get(report, "ok")));
                json_decref(report);
                wh_run_result_clear(&res);
        }
        char *stage = strdup(n->stage.dir);
        assert_int_equal(access(stage, F_OK), 0);
        wh_normaliser_free(n);
        assert_int_equal(access(stage, F_OK), -1); /* the input directory is gone */
        free(stage);
        rm_tree(dir);
}

static void test_exec_and_path_input(void **state)
{
        (void)state;
        char *dir = make_normaliser("exec", "run.sh",
                                    "#!/bin/sh\n"
                                    "read first\n" /* stdin is the raw file */
                                    "test \"$first\" = a.example || exit 9\n"
                                    "cmp -s /input/raw /dev/stdin; "
                                    "printf '" EXEC_LINE "'\n",
                                    "");
        struct wh_normaliser *n = load(dir);
        put(dir, "raw-file", RAW);
        char raw_path[PATH_MAX + 16];
        snprintf(raw_path, sizeof(raw_path), "%s/raw-file", dir);
        struct wh_run_input in = {.raw_path = raw_path, .meta = META, .meta_len = strlen(META)};
        struct wh_run_result res;
        struct wh_err err = {0};
        assert_int_equal(wh_normaliser_run(n, &in, NULL, &res, &err), 0);
        for (size_t i = 0; i < res.errors.n; i++)
                print_error("%s: %s\n", res.errors.items[i].code, res.errors.items[i].message);
        assert_true(res.ok);
        assert_string_equal(prov(&res, "output", "stdout", "digest"), EXEC_SHA256);
        assert_string_equal(prov(&res, "input", "raw", "digest"), RAW_SHA256);
        assert_string_equal(prov(&res, "runtime", "name", NULL), "exec");
        wh_run_result_clear(&res);
        /* A meta document the contract refuses: nothing runs. */
        in.meta = "{\"input_ooi\": 7}";
        in.meta_len = strlen(in.meta);
        assert_int_equal(wh_normaliser_run(n, &in, NULL, &res, &err), -1);
        assert_string_equal(err.stage, "meta");
        wh_run_result_clear(&res);
        wh_normaliser_free(n);
        rm_tree(dir);
}

static void test_failures_are_data(void **state)
{
        (void)state;
        char *dir = make_normaliser("exec", "run.sh", "#!/bin/sh\nexec /bin/sh /input/raw\n",
                                    "\"wall_ms\": 1500, \"output_limit\": \"64K\"");
        struct wh_normaliser *n = load(dir);
        static const struct {
                const char *script, *code;
                enum wh_status status;
        } cases[] = {
            {"sleep 30", "timeout_wall", WH_STATUS_TIMEOUT_WALL},
            {"yes '{}'", "output_limit", WH_STATUS_OUTPUT_LIMIT},
            {"echo oops >&2; exit 4", "exit_nonzero", WH_STATUS_EXIT_NONZERO},
            {"kill -SEGV $$", "signal", WH_STATUS_SIGNAL},
            {"echo garbage", "invalid_json", WH_STATUS_OK},
            {"echo '{\"object_type\": \"Hostname\", \"network\": \"Network|internet\"}'", "schema",
             WH_STATUS_OK},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct wh_run_result res;
                run(n, cases[i].script, META, &res);
                assert_false(res.ok);
                assert_int_equal(res.report.status, cases[i].status);
                if (!has_error(&res.errors, cases[i].code, 0))
                        fail_msg("case %zu: no %s error", i, cases[i].code);
                assert_non_null(res.results);
                assert_non_null(res.provenance);
                wh_run_result_clear(&res);
        }
        struct wh_run_result res;
        run(n, "true", NULL, &res);
        assert_true(res.ok);
        assert_true(has_error(&res.warnings, "no_output", 0));
        wh_run_result_clear(&res);
        wh_normaliser_free(n);
        rm_tree(dir);
}

static void test_load_errors(void **state)
{
        (void)state;
        struct wh_normaliser *n = NULL;
        struct wh_err err = {0};
        char *dir = make_normaliser("exec", "run.sh", "#!/bin/sh\n", "");
        char path[PATH_MAX + 16];
        snprintf(path, sizeof(path), "%s/run.sh", dir);
        chmod(path, 0644);
        assert_int_equal(wh_normaliser_load(dir, NULL, &n, &err), -1);
        assert_non_null(strstr(err.msg, "chmod +x"));
        unlink(path);
        assert_int_equal(wh_normaliser_load(dir, NULL, &n, &err), -1);
        assert_non_null(strstr(err.msg, "is not a file"));
        rm_tree(dir);
        assert_int_equal(wh_normaliser_load("/nonexistent/n", NULL, &n, &err), -1);
        dir = make_normaliser("python3", "n.py", "", "");
        struct wh_normaliser_options o = {.python = "/nonexistent/python3"};
        assert_int_equal(wh_normaliser_load(dir, &o, &n, &err), -1);
        assert_non_null(strstr(err.msg, "needs the interpreter /nonexistent/python3"));
        rm_tree(dir);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_python_reused),
            cmocka_unit_test(test_exec_and_path_input),
            cmocka_unit_test(test_failures_are_data),
            cmocka_unit_test(test_load_errors),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
