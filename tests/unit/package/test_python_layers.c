/* Python layers (pack --python-path): a shared directory is one blob in the
 * store and one unpacked copy in the cache, whichever packages carry it;
 * two packages with different versions of one library live side by side;
 * the config lists the layers in order and the manifest carries them after
 * the files, and a manifest whose layers disagree with its config is
 * refused. tests/e2e/test_package_python_layers.sh runs them. */
#include "pkgtest.h"

#include <jansson.h>

struct fixture {
        char *dir, *layout, *cache;
        struct wh_store *s;
};

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));
        f->dir = pt_tmpdir();
        assert_int_equal(chmod(f->dir, 0755), 0); /* root's sandboxes must reach the cache */
        f->layout = pt_path(f->dir, "layout");
        f->cache = pt_path(f->dir, "cache");
        f->s = pt_store(f->layout);
        pt_write(f->dir, "shared/octo/__init__.py", "X = 1\n", 0644);
        pt_write(f->dir, "lib1/fakelib/__init__.py", "VERSION = '1.0'\n", 0644);
        pt_write(f->dir, "lib2/fakelib/__init__.py", "VERSION = '2.0'\n", 0644);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        wh_store_close(f->s);
        pt_rmrf(f->dir);
        free(f->dir);
        free(f->layout);
        free(f->cache);
        free(f);
        return 0;
}

static void pack_with(struct fixture *f, const char *name, const char *lib,
                      struct wh_descriptor *root)
{
        char *dir = pt_path(f->dir, name), *shared = pt_path(f->dir, "shared");
        char *libdir = pt_path(f->dir, lib), tag[64];
        pt_normaliser(dir, "python3", "");
        snprintf(tag, sizeof(tag), "%s:1", name);
        const char *paths[] = {shared, libdir};
        const char *dirs[] = {dir};
        struct wh_pack_options o = {
            .tag = tag, .source_date_epoch = -1, .python_paths = paths, .n_python_paths = 2};
        struct wh_err err = {0};
        if (wh_pack(f->s, dirs, 1, &o, root, &err) < 0)
                fail_msg("pack: %s", err.msg);
        free(dir);
        free(shared);
        free(libdir);
}

static json_t *read_doc(struct fixture *f, const char *digest)
{
        char *data = NULL;
        size_t len = 0;
        struct wh_err err = {0};
        assert_int_equal(wh_store_blob_read(f->s, digest, 1 << 20, &data, &len, &err), 0);
        json_t *j = json_loadb(data, len, 0, NULL);
        free(data);
        assert_non_null(j);
        return j;
}

static const char *layer_digest(json_t *manifest, size_t i)
{
        return json_string_value(
            json_object_get(json_array_get(json_object_get(manifest, "layers"), i), "digest"));
}

static void test_shared_once_versions_apart(void **state)
{
        struct fixture *f = *state;
        struct wh_descriptor ra, rb;
        char *blobs = pt_path(f->layout, "blobs/sha256");
        pack_with(f, "a", "lib1", &ra);
        size_t after_a = pt_count(blobs);
        pack_with(f, "b", "lib2", &rb);
        json_t *ma = read_doc(f, ra.digest), *mb = read_doc(f, rb.digest);
        assert_int_equal(json_array_size(json_object_get(ma, "layers")), 3);
        /* Layer 1 (the shared directory) is the same blob in both. */
        assert_string_equal(layer_digest(ma, 1), layer_digest(mb, 1));
        assert_string_not_equal(layer_digest(ma, 2), layer_digest(mb, 2));
        /* b adds its config, its manifest and lib2; not the shared layer (nor
         * its files layer: both directories hold the same files). */
        assert_int_equal(pt_count(blobs), after_a + 3);

        /* The config lists the layers in --python-path order. */
        json_t *cfg = read_doc(
            f, json_string_value(json_object_get(json_object_get(ma, "config"), "digest")));
        json_t *pl = json_object_get(cfg, "python_layers");
        assert_int_equal(json_array_size(pl), 2);
        assert_string_equal(json_string_value(json_object_get(json_array_get(pl, 1), "digest")),
                            layer_digest(ma, 2));

        /* Checked out: the shared layer is one directory in the cache. */
        struct wh_load_options lo = {.allow_unsigned = true};
        struct wh_checkout ca, cb;
        struct wh_err err = {0};
        if (wh_package_checkout(f->s, "a:1", &lo, f->cache, &ca, &err) < 0 ||
            wh_package_checkout(f->s, "b:1", &lo, f->cache, &cb, &err) < 0)
                fail_msg("checkout: %s", err.msg);
        assert_int_equal(ca.n_python_dirs, 2);
        assert_string_equal(ca.python_dirs[0], cb.python_dirs[0]);
        char *v1 = pt_read(ca.python_dirs[1], "fakelib/__init__.py");
        char *v2 = pt_read(cb.python_dirs[1], "fakelib/__init__.py");
        assert_string_equal(v1, "VERSION = '1.0'\n");
        assert_string_equal(v2, "VERSION = '2.0'\n");
        char *layers = pt_path(f->cache, "layers");
        assert_int_equal(pt_count(layers), 4); /* files (a = b), shared, lib1, lib2 */
        json_t *prov = json_object_get(ca.provenance, "python_layers");
        assert_string_equal(json_string_value(json_array_get(prov, 0)), layer_digest(ma, 1));
        free(v1);
        free(v2);
        free(layers);
        free(blobs);
        wh_checkout_clear(&ca);
        wh_checkout_clear(&cb);
        json_decref(cfg);
        json_decref(ma);
        json_decref(mb);
}

static void test_refusals(void **state)
{
        struct fixture *f = *state;
        struct wh_err err = {0};
        struct wh_descriptor root;
        char *dir = pt_path(f->dir, "n");
        pt_normaliser(dir, "python3", "\"python_layers\": []");
        const char *dirs[] = {dir};
        struct wh_pack_options o = {.source_date_epoch = -1};
        PT_EXPECT_ERR(wh_pack(f->s, dirs, 1, &o, &root, &err), err,
                      "field \"python_layers\" is computed by whiskers pack");
        pt_rmrf(dir);
        pt_normaliser(dir, "python3", "");
        const char *nine[9];
        for (size_t i = 0; i < 9; i++)
                nine[i] = f->dir;
        o.python_paths = nine;
        o.n_python_paths = 9;
        PT_EXPECT_ERR(wh_pack(f->s, dirs, 1, &o, &root, &err), err, "at most 8 --python-path");
        const char *missing[] = {"/nonexistent/whiskers-lib"};
        o.python_paths = missing;
        o.n_python_paths = 1;
        PT_EXPECT_ERR(wh_pack(f->s, dirs, 1, &o, &root, &err), err,
                      "--python-path: cannot open directory /nonexistent/whiskers-lib");

        /* A manifest whose third layer is not the config's Python layer. */
        struct wh_descriptor good;
        pack_with(f, "a", "lib1", &good);
        json_t *m = read_doc(f, good.digest);
        json_t *layers = json_object_get(m, "layers");
        json_array_set(layers, 2, json_array_get(layers, 1));
        char *text = json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS);
        struct wh_index_entry e = {0};
        assert_int_equal(wh_store_put(f->s, text, strlen(text), e.desc.digest, &err), 0);
        snprintf(e.desc.media_type, sizeof(e.desc.media_type), "%s", WH_MT_MANIFEST);
        e.desc.size = strlen(text);
        snprintf(e.ref_name, sizeof(e.ref_name), "bad:1");
        assert_int_equal(wh_store_index_add(f->s, &e, &err), 0);
        struct wh_load_options lo = {.allow_unsigned = true};
        struct wh_package p;
        PT_EXPECT_ERR(wh_package_load(f->s, "bad:1", &lo, &p, &err), err,
                      "layer 2 is not the Python layer its config names");
        free(text);
        json_decref(m);
        free(dir);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_shared_once_versions_apart, setup, teardown),
            cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
