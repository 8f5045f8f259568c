/* Packing a plugin tree (wh_pack_tree, `whiskers pack --plugins`): every
 * directory with a normalizer.json, nested ones included, hidden ones and
 * __pycache__ skipped, OpenKAT's form as it is (no version: tagged
 * <id>:unversioned, or the version given), one package each sharing one
 * Python layer blob; duplicate ids and --tag are refused before anything is
 * written. */
#include "pkgtest.h"

#include <jansson.h>

static const char openkat_form[] =
    "{\"id\": \"%s\", \"name\": \"n\", \"consumes\": [\"x/y\"], \"produces\": [\"Probe\"], "
    "\"enabled\": true}\n";

static void plugin(const char *tree, const char *rel, const char *id)
{
        char meta[256], name[256];
        snprintf(meta, sizeof(meta), openkat_form, id);
        snprintf(name, sizeof(name), "%s/normalizer.json", rel);
        pt_write(tree, name, meta, 0644);
        snprintf(name, sizeof(name), "%s/normalize.py", rel);
        pt_write(tree, name, "def run(input_ooi, raw):\n    return []\n", 0644);
        snprintf(name, sizeof(name), "%s/__init__.py", rel);
        pt_write(tree, name, "", 0644);
}

struct seen {
        char lines[8][512];
        size_t n;
};

static void record(void *ctx, const char *dir, const char *tag, const struct wh_descriptor *root)
{
        struct seen *s = ctx;
        assert_true(s->n < 8);
        const char *base = strstr(dir, "/plugins");
        snprintf(s->lines[s->n++], sizeof(s->lines[0]), "%s %s %.14s", tag, base ? base : dir,
                 root->digest);
}

static void test_pack_tree(void **state)
{
        (void)state;
        char *dir = pt_tmpdir(), *tree = pt_path(dir, "plugins"), *layout = pt_path(dir, "layout");
        char *lib = pt_path(dir, "src"), *blobs = pt_path(layout, "blobs/sha256");
        pt_write(dir, "plugins/__init__.py", "", 0644);
        plugin(tree, "kat_dns", "kat_dns_normalize");
        plugin(tree, "kat_manual/csv", "kat_manual_csv");
        pt_write(tree, "kat_manual/__init__.py", "", 0644);
        plugin(tree, ".old/kat_x", "hidden_one");
        plugin(tree, "__pycache__/kat_y", "cached_one");
        pt_write(dir, "src/octopoes/__init__.py", "X = 1\n", 0644);
        struct wh_store *s = pt_store(layout);
        const char *paths[] = {lib};
        struct wh_pack_options o = {
            .source_date_epoch = -1, .python_paths = paths, .n_python_paths = 1};
        struct seen seen = {0};
        struct wh_err err = {0};
        if (wh_pack_tree(s, tree, &o, record, &seen, &err) < 0)
                fail_msg("pack tree: %s", err.msg);
        assert_int_equal(seen.n, 2);
        assert_non_null(strstr(seen.lines[0], "kat_dns_normalize:unversioned /plugins/kat_dns "));
        assert_non_null(
            strstr(seen.lines[1], "kat_manual_csv:unversioned /plugins/kat_manual/csv "));
        /* Per package a config, a manifest and a files layer; one shared
         * Python layer. */
        assert_int_equal(pt_count(blobs), 3 * 2 + 1);
        struct wh_descriptor d;
        assert_int_equal(wh_store_resolve(s, "kat_manual_csv:unversioned", &d, &err), 0);

        /* With a version: tagged with it. */
        o.version = "1.18.0";
        seen.n = 0;
        assert_int_equal(wh_pack_tree(s, tree, &o, record, &seen, &err), 0);
        assert_non_null(strstr(seen.lines[0], "kat_dns_normalize:1.18.0 "));

        /* Two normalisers with one id: refused before any blob is written. */
        plugin(tree, "kat_zz", "kat_dns_normalize");
        size_t before = pt_count(blobs);
        PT_EXPECT_ERR(wh_pack_tree(s, tree, &o, NULL, NULL, &err), err,
                      "both have the id kat_dns_normalize");
        assert_int_equal(pt_count(blobs), before);
        o.tag = "x:1";
        PT_EXPECT_ERR(wh_pack_tree(s, tree, &o, NULL, NULL, &err), err, "drop --tag");
        o.tag = NULL;
        PT_EXPECT_ERR(wh_pack_tree(s, lib, &o, NULL, NULL, &err), err, "holds no normalizer.json");

        wh_store_close(s);
        pt_rmrf(dir);
        free(dir);
        free(tree);
        free(layout);
        free(lib);
        free(blobs);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_pack_tree),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
