/* Bundles: export (plain, zstd, split) and the all-or-nothing, offline
 * import: round trip, determinism, truncation, a layout archive that is not
 * a bundle, and the signature policy. */
#include "pkgtest.h"

struct fx {
        char *dir, *src, *dst, *trust_dir, *key;
        struct wh_store *s, *d;
        struct wh_trust *trust;
        struct wh_descriptor root;
};

static int setup(void **state)
{
        struct fx *f = calloc(1, sizeof(*f));
        f->dir = pt_tmpdir();
        f->src = pt_path(f->dir, "src");
        f->dst = pt_path(f->dir, "dst");
        f->trust_dir = pt_path(f->dir, "trust");
        f->key = pt_path(f->dir, "k.key");
        char *py = pt_path(f->dir, "py"), *pub = pt_path(f->trust_dir, "k.pub");
        pt_normaliser(py, "python3", "");
        /* Random bytes, so zstd cannot shrink the bundle into one part. */
        char big[20000];
        int ur = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
        assert_int_equal(read(ur, big, sizeof(big)), (ssize_t)sizeof(big));
        close(ur);
        for (size_t i = 0; i < sizeof(big) - 1; i++)
                big[i] = (char)('!' + (unsigned char)big[i] % 90);
        big[sizeof(big) - 1] = '\0';
        pt_write(py, "lib/data.txt", big, 0644);
        f->s = pt_store(f->src);
        f->d = pt_store(f->dst);
        const char *dirs[] = {py};
        pt_pack(f->s, dirs, 1, NULL, &f->root);
        assert_int_equal(mkdir(f->trust_dir, 0700), 0);
        struct wh_err err = {0};
        char id[WH_DIGEST_BUF];
        struct wh_descriptor sig;
        if (wh_key_generate(f->key, pub, id, &err) < 0 ||
            wh_sign(f->s, f->root.digest, f->key, &sig, &err) < 0 ||
            wh_trust_load(f->trust_dir, &f->trust, &err) < 0)
                fail_msg("%s", err.msg);
        free(py), free(pub);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fx *f = *state;
        wh_store_close(f->s);
        wh_store_close(f->d);
        wh_trust_free(f->trust);
        pt_rmrf(f->dir);
        free(f->dir), free(f->src), free(f->dst), free(f->trust_dir), free(f->key), free(f);
        return 0;
}

static const char *const refs[] = {"kat_nmap_normalize:1.2.0"};

static void assert_dst_untouched(struct fx *f)
{
        char *blobs = pt_path(f->dst, "blobs/sha256"), *tmp = pt_path(f->dst, ".whiskers/tmp");
        char *index = pt_read(f->dst, "index.json");
        assert_int_equal(pt_count(blobs), 0);
        assert_int_equal(pt_count(tmp), 0);
        assert_null(strstr(index, "sha256:"));
        free(blobs), free(tmp), free(index);
}

static void test_round_trip_zstd_split(void **state)
{
        struct fx *f = *state;
        struct wh_err err = {0};
        char *out = pt_path(f->dir, "b");
        struct wh_bundle_options o = {.zstd = true, .split_size = 4096};
        if (wh_bundle_export(f->s, refs, 1, out, &o, &err) < 0)
                fail_msg("%s", err.msg);
        assert_true(pt_exists(f->dir, "b.000"));
        assert_true(pt_exists(f->dir, "b.001"));
        assert_false(pt_exists(f->dir, "b"));
        struct wh_bundle_import_options io = {.trust = f->trust};
        struct wh_index_entry *e = NULL;
        size_t n = 0;
        if (wh_bundle_import(f->d, out, &io, &e, &n, &err) < 0)
                fail_msg("%s", err.msg);
        assert_int_equal(n, 2); /* the tag and its signature */
        assert_string_equal(e[0].ref_name, refs[0]);
        assert_string_equal(e[0].desc.digest, f->root.digest);
        assert_string_equal(e[1].subject, f->root.digest);
        struct wh_verify_result vr;
        assert_int_equal(wh_store_verify(f->d, &vr, &err), 0);
        assert_int_equal(vr.nproblems, 0);
        assert_true(vr.blobs >= 6);
        wh_verify_result_clear(&vr);
        struct wh_sig_report rep;
        assert_int_equal(wh_trust_check(f->d, f->root.digest, f->trust, &rep, &err), 0);
        assert_true(rep.trusted);
        wh_sig_report_clear(&rep);
        char *tmp = pt_path(f->dst, ".whiskers/tmp");
        assert_int_equal(pt_count(tmp), 0);
        free(e), free(out), free(tmp);
}

static void test_export_deterministic(void **state)
{
        struct fx *f = *state;
        struct wh_err err = {0};
        char *a = pt_path(f->dir, "a.tar"), *b = pt_path(f->dir, "b.tar");
        assert_int_equal(wh_bundle_export(f->s, refs, 1, a, NULL, &err), 0);
        assert_int_equal(wh_bundle_export(f->s, refs, 1, b, NULL, &err), 0);
        char *x = pt_read(f->dir, "a.tar"), *y = pt_read(f->dir, "b.tar");
        struct stat sa, sb;
        assert_int_equal(stat(a, &sa), 0);
        assert_int_equal(stat(b, &sb), 0);
        assert_int_equal(sa.st_size, sb.st_size);
        assert_memory_equal(x, y, (size_t)sa.st_size);
        assert_string_equal(x, WH_BUNDLE_MANIFEST); /* the first tar header's name */
        free(a), free(b), free(x), free(y);
}

static void test_truncated(void **state)
{
        struct fx *f = *state;
        struct wh_err err = {0};
        char *out = pt_path(f->dir, "t.tar");
        assert_int_equal(wh_bundle_export(f->s, refs, 1, out, NULL, &err), 0);
        struct stat st;
        assert_int_equal(stat(out, &st), 0);
        assert_int_equal(truncate(out, st.st_size / 2), 0);
        struct wh_bundle_import_options io = {.trust = f->trust};
        PT_EXPECT_ERR(wh_bundle_import(f->d, out, &io, NULL, NULL, &err), err, "truncated");
        assert_dst_untouched(f);
        free(out);
}

static void test_layout_archive_is_not_a_bundle(void **state)
{
        struct fx *f = *state;
        struct wh_err err = {0};
        char *out = pt_path(f->dir, "layout.tar");
        assert_int_equal(wh_store_export(f->s, refs, 1, WH_ARCHIVE_TAR, out, &err), 0);
        struct wh_bundle_import_options io = {.trust = f->trust};
        PT_EXPECT_ERR(wh_bundle_import(f->d, out, &io, NULL, NULL, &err), err,
                      "is not a whiskers bundle");
        assert_dst_untouched(f);
        free(out);
}

static void test_signature_policy(void **state)
{
        struct fx *f = *state;
        struct wh_err err = {0};
        char *out = pt_path(f->dir, "u.tar"), *other = pt_path(f->dir, "other");
        struct wh_descriptor root;
        pt_normaliser(other, "exec", "");
        const char *dirs[] = {other};
        pt_pack(f->s, dirs, 1, "unsigned:1", &root);
        const char *r[] = {"unsigned:1"};
        assert_int_equal(wh_bundle_export(f->s, r, 1, out, NULL, &err), 0);
        PT_EXPECT_ERR(wh_bundle_import(f->d, out, NULL, NULL, NULL, &err), err, "trust directory");
        struct wh_bundle_import_options io = {.trust = f->trust};
        PT_EXPECT_ERR(wh_bundle_import(f->d, out, &io, NULL, NULL, &err), err, "not signed");
        assert_dst_untouched(f);
        io = (struct wh_bundle_import_options){.allow_unsigned = true};
        assert_int_equal(wh_bundle_import(f->d, out, &io, NULL, NULL, &err), 0);
        struct wh_descriptor got;
        assert_int_equal(wh_store_resolve(f->d, "unsigned:1", &got, &err), 0);
        assert_string_equal(got.digest, root.digest);
        free(out), free(other);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_round_trip_zstd_split, setup, teardown),
            cmocka_unit_test_setup_teardown(test_export_deterministic, setup, teardown),
            cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
            cmocka_unit_test_setup_teardown(test_layout_archive_is_not_a_bundle, setup, teardown),
            cmocka_unit_test_setup_teardown(test_signature_policy, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
