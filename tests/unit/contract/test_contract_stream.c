/* stdout checked while the normaliser runs: the reader hashes every byte,
 * cuts lines across chunks and stops feeding at the line that settles the
 * run; real runs are stopped early for too many items or errors, and a long
 * line is no reason to stop. */
#include "contract_test.h"

#include "base/sha256.h"

static const char hostname_schema[] =
    "{\"type\": \"object\", \"x-natural-key\": [\"network\", \"name\"],"
    " \"properties\": {\"object_type\": {\"const\": \"Hostname\"},"
    "  \"network\": {\"type\": \"string\", \"x-reference\": [\"Network\"]},"
    "  \"name\": {\"type\": \"string\"}}, \"required\": [\"network\", \"name\"],"
    " \"additionalProperties\": false}";

#define HOST                                                                                       \
        "{\"object_type\":\"Hostname\",\"network\":\"Network|internet\",\"name\":\"a.example\"}"
#define META                                                                                       \
        "{\"input_ooi\":{\"object_type\":\"Hostname\",\"primary_key\":"                            \
        "\"Hostname|internet|in.example\"}}"

static char *make_normaliser(const char *script, const char *limits)
{
        char *dir = tmp_dir(), manifest[1024], path[PATH_MAX + 32];
        snprintf(manifest, sizeof(manifest),
                 "{\"id\": \"s\", \"version\": \"1\", \"consumes\": [\"text/plain\"], "
                 "\"produces\": [\"Hostname\"], \"external_types\": [\"Network\"], "
                 "\"runtime\": \"exec\", \"entrypoint\": \"run.sh\", \"limits\": {%s}}",
                 limits);
        put(dir, "normalizer.json", manifest);
        put(dir, "schemas/Hostname.json", hostname_schema);
        put(dir, "run.sh", script);
        snprintf(path, sizeof(path), "%s/run.sh", dir);
        chmod(path, 0755);
        return dir;
}

/* ---- the reader on its own, fed by hand ---- */

struct fixture {
        char *dir;
        struct wh_normaliser *n;
        struct wh_contract_errors errors, warnings;
        struct checker c;
        struct reader r;
};

static void fixture_init(struct fixture *f, const char *limits, uint64_t error_budget)
{
        f->dir = make_normaliser("#!/bin/sh\n", limits);
        struct wh_err err = {0};
        if (wh_normaliser_load(f->dir, NULL, &f->n, &err) < 0)
                fail_msg("load: %s", err.msg);
        cerrs_init(&f->errors, 100);
        cerrs_init(&f->warnings, 100);
        f->c = (struct checker){.types = &f->n->types,
                                .manifest = &f->n->manifest,
                                .limits = &f->n->limits,
                                .errors = &f->errors,
                                .warnings = &f->warnings,
                                .error_budget = error_budget};
        checker_init(&f->c);
        f->r = (struct reader){.err_fd = -1, .checker = &f->c, .err_keep = 16};
        ndjson_init(&f->r.lines, f->n->limits.max_item_bytes, checker_line, checker_too_long,
                    &f->c);
        assert_int_equal(reader_open(&f->r, &err), 0);
}

static void fixture_clear(struct fixture *f)
{
        ndjson_finish(&f->r.lines); /* again after reader_collect: a no-op */
        free(f->r.err_buf);
        reader_close(&f->r);
        checker_clear(&f->c);
        cerrs_clear(&f->errors);
        cerrs_clear(&f->warnings);
        wh_normaliser_free(f->n);
        rm_tree(f->dir);
}

static int feed(struct fixture *f, const char *s)
{
        return reader_on_stdout(&f->r, s, strlen(s));
}

static void test_reader_stops_at_the_line(void **state)
{
        (void)state;
        struct fixture f;
        fixture_init(&f, "\"items\": 3", 0);
        static const char *const chunks[] = {
            HOST "\n{\"object_type\":\"Hos", /* a line cut across two chunks */
            "tname\",\"network\":\"Network|internet\",\"name\":\"b.example\"}\n\n" HOST "\n",
            HOST "\n" HOST "\n{\"not\": \"fed\"}\n", /* the 4th item settles it */
            HOST "\n",
        };
        struct wh_sha256 h;
        wh_sha256_init(&h);
        assert_int_equal(feed(&f, chunks[0]), 0);
        assert_int_equal(f.c.items, 1);
        assert_int_equal(feed(&f, chunks[1]), 0);
        assert_int_equal(f.c.items, 3);
        assert_int_not_equal(feed(&f, chunks[2]), 0);
        assert_string_equal(f.c.stop, "too_many_items");
        assert_int_equal(f.c.items, 4); /* the line after the 4th item was not checked */
        assert_int_not_equal(feed(&f, chunks[3]), 0);
        assert_int_equal(f.c.items, 4);
        /* Every byte received is hashed and counted, checked or not. */
        size_t total = 0;
        for (size_t i = 0; i < 4; i++) {
                wh_sha256_update(&h, chunks[i], strlen(chunks[i]));
                total += strlen(chunks[i]);
        }
        uint8_t want[WH_SHA256_LEN], got[WH_SHA256_LEN];
        wh_sha256_final(&h, want);
        wh_sha256_final(&f.r.out_hash, got);
        assert_memory_equal(got, want, sizeof(want));
        assert_int_equal(f.r.out_bytes, total);
        struct wh_err err = {0};
        assert_int_equal(reader_collect(&f.r, &err), 0);
        assert_int_equal(f.errors.n, 1); /* no "truncated" for what was not fed */
        assert_true(has_error(&f.errors, "too_many_items", 5));
        assert_int_equal(json_array_size(f.c.objects), 3);
        fixture_clear(&f);
}

static void test_reader_error_budget(void **state)
{
        (void)state;
        struct fixture f;
        fixture_init(&f, "", 5);
        assert_int_equal(feed(&f, "[1]\nnope\n{}\n"), 0);
        assert_null(f.c.stop);
        assert_int_not_equal(feed(&f, "x\ny\nz\nw\n"), 0);
        assert_string_equal(f.c.stop, "too_many_errors");
        assert_int_equal(f.errors.n, 5);
        assert_true(has_error(&f.errors, "invalid_json", 5)); /* "y": the fifth */
        assert_false(has_error(&f.errors, "invalid_json", 6));
        fixture_clear(&f);
}

/* ---- whole runs ---- */

static void run(const char *script, const char *limits, size_t max_errors,
                struct wh_run_result *res, char **dir)
{
        *dir = make_normaliser(script, limits);
        struct wh_normaliser *n = NULL;
        struct wh_err err = {0};
        if (wh_normaliser_load(*dir, NULL, &n, &err) < 0)
                fail_msg("load: %s", err.msg);
        struct wh_run_input in = {.raw = "", .meta = META, .meta_len = strlen(META)};
        struct wh_run_options o = {.max_errors = max_errors};
        if (wh_normaliser_run(n, &in, &o, res, &err) < 0)
                fail_msg("run: %s", err.msg);
        wh_normaliser_free(n);
        for (size_t i = 0; i < res->errors.n && i < 5; i++)
                print_message("  %s@%llu: %s\n", res->errors.items[i].code,
                              (unsigned long long)res->errors.items[i].line,
                              res->errors.items[i].message);
}

static size_t kept_objects(const struct wh_run_result *res)
{
        json_t *obs = json_array_get(json_object_get(res->results, "observations"), 0);
        return json_array_size(json_object_get(obs, "results"));
}

static void test_items_stop_the_run(void **state)
{
        (void)state;
        struct wh_run_result res;
        char *dir;
        /* 200 000 items, then 30 s of sleep: stopped at the 11th item. */
        run("#!/bin/sh\nyes '" HOST "' | head -n 200000\nsleep 30\n",
            "\"items\": 10, \"wall_ms\": 25000", 0, &res, &dir);
        assert_false(res.ok);
        assert_int_equal(res.report.status, WH_STATUS_SANDBOX_ERROR);
        assert_string_equal(res.report.stage, "output");
        assert_true(res.report.wall_ms < 25000); /* stopped, not timed out */
        assert_string_equal(res.errors.items[0].code, "stopped_early");
        assert_non_null(strstr(res.errors.items[0].message, "more than 10 items"));
        assert_true(has_error(&res.errors, "too_many_items", 11));
        assert_int_equal(res.errors.n, 2);
        assert_int_equal(res.items, 11);
        assert_int_equal(kept_objects(&res), 10);
        json_t *out = json_object_get(json_object_get(res.provenance, "output"), "stdout");
        assert_true(json_integer_value(json_object_get(out, "bytes")) < 200000 * 70);
        wh_run_result_clear(&res);
        rm_tree(dir);
}

static void test_errors_stop_the_run(void **state)
{
        (void)state;
        struct wh_run_result res;
        char *dir;
        /* max_errors 2: the budget is 2000 errors, far below the output limit. */
        run("#!/bin/sh\nyes garbage\n", "", 2, &res, &dir);
        assert_int_equal(res.report.status, WH_STATUS_SANDBOX_ERROR);
        assert_string_equal(res.report.stage, "output");
        assert_string_equal(res.errors.items[0].code, "stopped_early");
        assert_non_null(strstr(res.errors.items[0].message, "2000 errors"));
        assert_true(has_error(&res.errors, "invalid_json", 1));
        assert_true(has_error(&res.errors, "invalid_json", 2));
        assert_int_equal(res.errors.n, 3);
        assert_int_equal(res.errors.dropped, 1998);
        assert_true(res.report.stdout_bytes < (16u << 20));
        wh_run_result_clear(&res);
        rm_tree(dir);
}

static void test_long_line_is_not_a_stop(void **state)
{
        (void)state;
        struct wh_run_result res;
        char *dir;
        run("#!/bin/sh\nhead -c 3000000 /dev/zero | tr '\\000' x\necho\necho '" HOST "'\n", "", 0,
            &res, &dir);
        assert_int_equal(res.report.status, WH_STATUS_OK);
        assert_string_equal(res.errors.items[0].code, "item_too_large");
        assert_int_equal(res.errors.items[0].line, 1);
        assert_int_equal(res.errors.n, 1);
        assert_int_equal(kept_objects(&res), 1);
        wh_run_result_clear(&res);
        rm_tree(dir);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_reader_stops_at_the_line),
            cmocka_unit_test(test_reader_error_budget),
            cmocka_unit_test(test_items_stop_the_run),
            cmocka_unit_test(test_errors_stop_the_run),
            cmocka_unit_test(test_long_line_is_not_a_stop),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
