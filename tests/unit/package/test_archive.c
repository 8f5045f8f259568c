/* Layout archives: deterministic zip/tar export, round trips, and hostile
 * zips refused with nothing half-imported. */
#include "pkgtest.h"

#include <archive.h>
#include <archive_entry.h>
#include <time.h>

struct fixture {
        char *dir, *src, *dst;
        struct wh_store *s, *d;
        struct wh_descriptor root;
        struct wh_desc_list closure; /* index, manifests, configs, layers */
};

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));
        f->dir = pt_tmpdir();
        f->src = pt_path(f->dir, "src");
        f->dst = pt_path(f->dir, "dst");
        char *py = pt_path(f->dir, "py"), *nat = pt_path(f->dir, "nat");
        pt_normaliser(py, "python3", "");
        pt_normaliser(nat, "exec",
                      "\"variant\": {\"name\": \"native\", \"platform\": "
                      "{\"architecture\": \"amd64\", \"variant\": \"v3\"}}");
        f->s = pt_store(f->src);
        f->d = pt_store(f->dst);
        const char *dirs[] = {py, nat};
        pt_pack(f->s, dirs, 2, NULL, &f->root);
        struct wh_err err = {0};
        assert_int_equal(wh_store_closure(f->s, &f->root, false, &f->closure, &err), 0);
        assert_int_equal(f->closure.n, 7);
        free(py);
        free(nat);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        wh_store_close(f->s);
        wh_store_close(f->d);
        wh_desc_list_clear(&f->closure);
        pt_rmrf(f->dir);
        free(f->dir);
        free(f->src);
        free(f->dst);
        free(f);
        return 0;
}

static char *slurp(const char *path, size_t *len)
{
        FILE *fp = fopen(path, "rbe");
        assert_non_null(fp);
        char *buf = malloc(16 << 20);
        *len = fread(buf, 1, 16 << 20, fp);
        fclose(fp);
        return buf;
}

static void test_round_trip_deterministic(void **state)
{
        struct fixture *f = *state;
        struct wh_err err = {0};
        char *z1 = pt_path(f->dir, "a.zip"), *z2 = pt_path(f->dir, "b.zip");
        char *t1 = pt_path(f->dir, "a.tar");
        const char *refs[] = {"kat_nmap_normalize:1.2.0"};
        assert_int_equal(wh_store_export(f->s, refs, 1, WH_ARCHIVE_ZIP, z1, &err), 0);
        assert_int_equal(wh_store_export(f->s, refs, 1, WH_ARCHIVE_TAR, t1, &err), 0);
        /* Imported elsewhere and exported again: the same bytes. */
        struct wh_index_entry *added;
        size_t n;
        if (wh_store_import(f->d, z1, NULL, &added, &n, &err) < 0)
                fail_msg("%s", err.msg);
        assert_int_equal(n, 1);
        assert_string_equal(added[0].desc.digest, f->root.digest);
        free(added);
        /* In another timezone too: zip stores local DOS times. */
        setenv("TZ", "JST-9", 1);
        tzset();
        assert_int_equal(wh_store_export(f->d, refs, 1, WH_ARCHIVE_ZIP, z2, &err), 0);
        unsetenv("TZ");
        tzset();
        size_t l1, l2;
        char *b1 = slurp(z1, &l1), *b2 = slurp(z2, &l2);
        assert_int_equal(l1, l2);
        assert_memory_equal(b1, b2, l1);
        free(b1);
        free(b2);
        struct wh_verify_result v;
        assert_int_equal(wh_store_verify(f->d, &v, &err), 0);
        assert_int_equal(v.nproblems, 0);
        assert_int_equal(v.blobs, 7);
        wh_verify_result_clear(&v);

        /* The zip's entries: layout files, then blobs sorted by digest. */
        struct archive *a = archive_read_new();
        archive_read_support_format_zip(a);
        assert_int_equal(archive_read_open_filename(a, z1, 10240), ARCHIVE_OK);
        struct archive_entry *ae;
        const char *first[] = {"oci-layout", "index.json", "blobs/", "blobs/sha256/"};
        char prev[128] = "";
        size_t i = 0;
        while (archive_read_next_header(a, &ae) == ARCHIVE_OK) {
                const char *name = archive_entry_pathname(ae);
                if (i < 4)
                        assert_string_equal(name, first[i]);
                else {
                        assert_true(strncmp(name, "blobs/sha256/", 13) == 0);
                        assert_true(strcmp(prev, name) < 0);
                        snprintf(prev, sizeof(prev), "%s", name);
                }
                i++;
        }
        assert_int_equal(i, 4 + 7);
        archive_read_free(a);

        /* The tar form imports too (into a third store). */
        char *third = pt_path(f->dir, "third");
        struct wh_store *s3 = pt_store(third);
        assert_int_equal(wh_store_import(s3, t1, NULL, NULL, NULL, &err), 0);
        struct wh_descriptor r;
        assert_int_equal(wh_store_resolve(s3, NULL, &r, &err), 0);
        assert_string_equal(r.digest, f->root.digest);
        wh_store_close(s3);
        free(third);
        free(z1);
        free(z2);
        free(t1);
}

struct zentry {
        const char *name;
        char type;           /* f file, d dir, s symlink */
        const char *content; /* literal content, or NULL with `from` */
        const char *from;    /* a source-store file to copy */
        uint64_t zeros;      /* a file of zero bytes (deflated) */
};

static void make_zip(struct fixture *f, const char *path, const struct zentry *e, size_t n)
{
        struct archive *a = archive_write_new();
        assert_int_equal(archive_write_set_format_zip(a), ARCHIVE_OK);
        assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
        static char zeros[1 << 16];
        for (size_t i = 0; i < n; i++) {
                size_t len = 0;
                char *data = NULL;
                if (e[i].from) {
                        char *p = pt_path(f->src, e[i].from);
                        data = slurp(p, &len);
                        free(p);
                } else if (e[i].content) {
                        data = strdup(e[i].content);
                        len = strlen(data);
                }
                struct archive_entry *ae = archive_entry_new();
                archive_entry_set_pathname(ae, e[i].name);
                archive_entry_set_perm(ae, 0644);
                archive_entry_set_filetype(ae, e[i].type == 'd'   ? AE_IFDIR
                                               : e[i].type == 's' ? AE_IFLNK
                                                                  : AE_IFREG);
                if (e[i].type == 's')
                        archive_entry_set_symlink(ae, "/etc/passwd");
                archive_entry_set_size(ae, (la_int64_t)(e[i].zeros ? e[i].zeros : len));
                assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
                if (len)
                        assert_int_equal(archive_write_data(a, data, len), (la_ssize_t)len);
                for (uint64_t left = e[i].zeros; left;) {
                        size_t chunk = left < sizeof(zeros) ? (size_t)left : sizeof(zeros);
                        assert_int_equal(archive_write_data(a, zeros, chunk), (la_ssize_t)chunk);
                        left -= chunk;
                }
                archive_entry_free(ae);
                free(data);
        }
        assert_int_equal(archive_write_close(a), ARCHIVE_OK);
        archive_write_free(a);
}

static void test_hostile_zips(void **state)
{
        struct fixture *f = *state;
        char blobs[7][96];
        for (size_t i = 0; i < 7; i++)
                snprintf(blobs[i], sizeof(blobs[i]), "blobs/sha256/%s",
                         f->closure.items[i].digest + 7);
        char *zip = pt_path(f->dir, "hostile.zip");
        char *dst_blobs = pt_path(f->dst, "blobs/sha256"),
             *dst_tmp = pt_path(f->dst, ".whiskers/tmp");
        char *index_before = pt_read(f->dst, "index.json");
        /* A valid archive is oci-layout, index.json and the 7 blobs; each case
         * changes one thing. */
#define LAYOUT                                                                                     \
        {"oci-layout", 'f', NULL, "oci-layout", 0},                                                \
        {                                                                                          \
                "index.json", 'f', NULL, "index.json", 0                                           \
        }
#define BLOB(i)                                                                                    \
        {                                                                                          \
                blobs[i], 'f', NULL, blobs[i], 0                                                   \
        }
#define ALL_BLOBS BLOB(0), BLOB(1), BLOB(2), BLOB(3), BLOB(4), BLOB(5), BLOB(6)
        const struct {
                const char *needle;
                struct zentry e[12];
                size_t n;
                struct wh_import_limits lim;
        } cases[] = {
            {"refused entry '../evil'",
             {LAYOUT, ALL_BLOBS, {"../evil", 'f', "x", NULL, 0}},
             10,
             {0}},
            {"refused entry '/etc/evil'", {LAYOUT, {"/etc/evil", 'f', "x", NULL, 0}}, 3, {0}},
            {"not part of an OCI layout",
             {LAYOUT, ALL_BLOBS, {"run.sh", 'f', "x", NULL, 0}},
             10,
             {0}},
            {"links, devices", {LAYOUT, {blobs[0], 's', NULL, NULL, 0}}, 3, {0}},
            {"duplicate entry", {LAYOUT, ALL_BLOBS, {"index.json", 'f', "{}", NULL, 0}}, 10, {0}},
            {"not a sha256 blob", {LAYOUT, {"blobs/sha512/abc", 'f', "x", NULL, 0}}, 3, {0}},
            {"does not match its digest",
             {LAYOUT, BLOB(0), BLOB(1), {blobs[2], 'f', "forged", NULL, 0}},
             5,
             {0}},
            {"missing", {LAYOUT, BLOB(0), BLOB(1), BLOB(2), BLOB(3), BLOB(4), BLOB(5)}, 8, {0}},
            {"not an OCI layout archive",
             {{"oci-layout", 'f', NULL, "oci-layout", 0}, ALL_BLOBS},
             8,
             {0}},
            {"decompression bomb",
             {LAYOUT, {blobs[0], 'f', NULL, NULL, 8u << 20}},
             3,
             {.max_bytes = 1 << 20}},
            {"more than 3 entries", {LAYOUT, ALL_BLOBS}, 9, {.max_entries = 3}},
            {"refused entry 'oci-layout': larger than allowed",
             {{"oci-layout", 'f', NULL, NULL, 8192}, ALL_BLOBS},
             8,
             {0}},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                make_zip(f, zip, cases[i].e, cases[i].n);
                struct wh_err err = {0};
                if (wh_store_import(f->d, zip, &cases[i].lim, NULL, NULL, &err) == 0)
                        fail_msg("case %zu (%s): imported", i, cases[i].needle);
                if (!strstr(err.msg, cases[i].needle))
                        fail_msg("case %zu: error '%s' lacks '%s'", i, err.msg, cases[i].needle);
                char *index_after = pt_read(f->dst, "index.json");
                assert_string_equal(index_before, index_after);
                free(index_after);
                assert_int_equal(pt_count(dst_blobs), 0);
                assert_int_equal(pt_count(dst_tmp), 0);
                assert_false(pt_exists(f->dir, "evil"));
        }
        /* The same archive made valid imports. */
        const struct zentry ok[] = {LAYOUT, ALL_BLOBS};
        make_zip(f, zip, ok, 9);
        struct wh_err err = {0};
        if (wh_store_import(f->d, zip, NULL, NULL, NULL, &err) < 0)
                fail_msg("%s", err.msg);
        assert_int_equal(pt_count(dst_blobs), 7);
#undef LAYOUT
#undef BLOB
#undef ALL_BLOBS
        free(index_before);
        free(zip);
        free(dst_blobs);
        free(dst_tmp);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_round_trip_deterministic, setup, teardown),
            cmocka_unit_test_setup_teardown(test_hostile_zips, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
