/* Packing: manifest and config contents, the deterministic layer (same
 * digests from a second checkout with other mtimes, modes, owners and
 * creation order), and validation errors that name the field. */
#include "pkgtest.h"
#include "package/digest.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/time.h>

/* The tree both checkouts hold; written forwards or backwards. */
static const struct {
        const char *path, *content;
        mode_t mode;
} tree[] = {
    {"normalizer.json",
     "{\"id\": \"kat_dns\", \"version\": \"0.3.1\", \"consumes\": [\"boefje/dns\"],"
     " \"produces\": [\"Hostname\"], \"runtime\": \"exec\", \"entrypoint\": \"bin/run\"}\n",
     0644},
    {"bin/run", "#!/bin/sh\necho []\n", 0755},
    {"lib/a.py", "A = 1\n", 0644},
    {"lib/zz/deep/b.py", "B = 2\n", 0644},
    {"lib/with-a-rather-long-directory-name-to-need-pax/and-another-long-component-here/"
     "final-file-name-that-pushes-past-one-hundred.py",
     "C = 3\n", 0644},
    {"schemas/out.json", "{\"type\": \"array\"}\n", 0644},
    {"fixtures/in.txt", "data\n", 0600},
};
#define NTREE (sizeof(tree) / sizeof(tree[0]))

static void make_checkout(const char *dir, bool second)
{
        mode_t old = umask(second ? 077 : 022);
        assert_int_equal(mkdir(dir, 0777), 0);
        for (size_t k = 0; k < NTREE; k++) {
                size_t i = second ? NTREE - 1 - k : k;
                mode_t mode = tree[i].mode;
                if (second) /* umask 077 on checkout: group/other bits gone */
                        mode &= 0700;
                pt_write(dir, tree[i].path, tree[i].content, mode);
        }
        char *link = pt_path(dir, "lib/link.py");
        assert_int_equal(symlink("a.py", link), 0);
        free(link);
        umask(old);
        if (!second)
                return;
        /* Other mtimes (and owners when we may) on every entry. */
        const char *all[] = {"",
                             "bin",
                             "bin/run",
                             "lib",
                             "lib/a.py",
                             "lib/zz",
                             "lib/zz/deep",
                             "lib/zz/deep/b.py",
                             "schemas",
                             "schemas/out.json",
                             "normalizer.json",
                             "fixtures",
                             "fixtures/in.txt",
                             "lib/link.py"};
        for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
                char *p = pt_path(dir, all[i]);
                struct timespec ts[2] = {{1000000000 + (time_t)i * 7, 0},
                                         {1000000000 + (time_t)i * 13, 0}};
                assert_int_equal(utimensat(AT_FDCWD, p, ts, AT_SYMLINK_NOFOLLOW), 0);
                if (geteuid() == 0)
                        assert_int_equal(lchown(p, 1234, 4321), 0);
                free(p);
        }
}

static void pack_one(const char *layout, const char *dir, int64_t sde, struct wh_descriptor *d)
{
        struct wh_store *s = pt_store(layout);
        struct wh_err err = {0};
        struct wh_pack_options o = {.source_date_epoch = sde};
        const char *dirs[] = {dir};
        if (wh_pack(s, dirs, 1, &o, d, &err) < 0)
                fail_msg("pack %s: %s", dir, err.msg);
        wh_store_close(s);
}

static void test_second_checkout_same_digests(void **state)
{
        (void)state;
        char *dir = pt_tmpdir();
        char *a = pt_path(dir, "a"), *b = pt_path(dir, "b");
        char *s1 = pt_path(dir, "s1"), *s2 = pt_path(dir, "s2");
        make_checkout(a, false);
        make_checkout(b, true);
        struct wh_descriptor da, da2, db, sa, sb;
        pack_one(s1, a, -1, &da);
        pack_one(s1, a, -1, &da2);
        pack_one(s2, b, -1, &db);
        assert_string_equal(da.digest, da2.digest);
        assert_string_equal(da.digest, db.digest);
        pack_one(s1, a, 1700000000, &sa);
        pack_one(s2, b, 1700000000, &sb);
        assert_string_not_equal(sa.digest, da.digest);
        assert_string_equal(sa.digest, sb.digest);

        struct wh_store *s;
        struct wh_err err = {0};
        json_t *m;
        assert_int_equal(wh_store_open(s1, WH_STORE_READ, &s, &err), 0);
        char *text;
        size_t len;
        assert_int_equal(wh_store_blob_read(s, sa.digest, 1 << 20, &text, &len, &err), 0);
        m = json_loads(text, 0, NULL);
        free(text);
        assert_string_equal(json_string_value(json_object_get(json_object_get(m, "annotations"),
                                                              "org.opencontainers.image.created")),
                            "2023-11-14T22:13:20Z");
        json_decref(m);
        wh_store_close(s);
        free(a);
        free(b);
        free(s1);
        free(s2);
        pt_rmrf(dir);
        free(dir);
}

struct seen_entry {
        char name[300];
        unsigned mode;
        long long mtime, uid, gid;
        bool named_owner;
};

static size_t read_layer(const char *layout, const char *digest, struct seen_entry *out, size_t max,
                         unsigned char header[10])
{
        char *path = NULL;
        assert_true(asprintf(&path, "%s/blobs/sha256/%s", layout, digest + 7) > 0);
        FILE *f = fopen(path, "rbe");
        assert_non_null(f);
        assert_int_equal(fread(header, 1, 10, f), 10);
        fclose(f);
        struct archive *a = archive_read_new();
        archive_read_support_filter_gzip(a);
        archive_read_support_format_tar(a);
        assert_int_equal(archive_read_open_filename(a, path, 10240), ARCHIVE_OK);
        struct archive_entry *ae;
        size_t n = 0;
        while (archive_read_next_header(a, &ae) == ARCHIVE_OK && n < max) {
                snprintf(out[n].name, sizeof(out[n].name), "%s", archive_entry_pathname(ae));
                out[n].mode = archive_entry_mode(ae);
                out[n].mtime = archive_entry_mtime(ae);
                out[n].uid = archive_entry_uid(ae);
                out[n].gid = archive_entry_gid(ae);
                const char *un = archive_entry_uname(ae), *gn = archive_entry_gname(ae);
                out[n].named_owner = (un && *un) || (gn && *gn);
                n++;
        }
        archive_read_free(a);
        free(path);
        return n;
}

static void test_manifest_config_layer(void **state)
{
        (void)state;
        char *dir = pt_tmpdir();
        char *pkg = pt_path(dir, "pkg"), *layout = pt_path(dir, "store");
        pt_normaliser(pkg, "python3", "");
        struct wh_descriptor d;
        pack_one(layout, pkg, -1, &d);
        struct wh_store *s;
        struct wh_err err = {0};
        assert_int_equal(wh_store_open(layout, WH_STORE_READ, &s, &err), 0);
        char *text;
        size_t len;
        assert_int_equal(wh_store_blob_read(s, d.digest, 1 << 20, &text, &len, &err), 0);
        json_t *m = json_loads(text, 0, NULL);
        free(text);
        assert_string_equal(json_string_value(json_object_get(m, "mediaType")), WH_MT_MANIFEST);
        assert_string_equal(json_string_value(json_object_get(m, "artifactType")),
                            WH_AT_NORMALIZER);
        json_t *ann = json_object_get(m, "annotations");
        assert_string_equal(json_string_value(json_object_get(ann, WH_ANN_ID)),
                            "kat_nmap_normalize");
        assert_string_equal(json_string_value(json_object_get(ann, WH_ANN_VERSION)), "1.2.0");
        assert_string_equal(json_string_value(json_object_get(ann, WH_ANN_CONSUMES)),
                            "boefje/nmap");
        assert_string_equal(json_string_value(json_object_get(ann, WH_ANN_PRODUCES)),
                            "IPAddressV4,IPPort");
        assert_string_equal(json_string_value(json_object_get(ann, WH_ANN_RUNTIME)), "python3");
        assert_string_equal(
            json_string_value(json_object_get(ann, "org.opencontainers.image.title")),
            "nmap normaliser");
        assert_null(json_object_get(ann, "org.opencontainers.image.created"));
        json_t *cfgd = json_object_get(m, "config");
        assert_string_equal(json_string_value(json_object_get(cfgd, "mediaType")),
                            WH_MT_NORMALIZER_CONFIG);
        json_t *layer = json_array_get(json_object_get(m, "layers"), 0);
        assert_string_equal(json_string_value(json_object_get(layer, "mediaType")),
                            WH_MT_LAYER_TAR_GZIP);
        char layer_digest[WH_DIGEST_BUF];
        snprintf(layer_digest, sizeof(layer_digest), "%s",
                 json_string_value(json_object_get(layer, "digest")));

        /* The config: normalizer.json plus schema digests and the variant. */
        assert_int_equal(wh_store_blob_read(s, json_string_value(json_object_get(cfgd, "digest")),
                                            1 << 20, &text, &len, &err),
                         0);
        json_t *cfg = json_loads(text, 0, NULL);
        free(text);
        char expect[WH_DIGEST_BUF];
        const char *schema = "{\"type\": \"object\"}\n";
        assert_int_equal(wh_digest_buffer(schema, strlen(schema), expect, &err), 0);
        assert_string_equal(json_string_value(json_object_get(
                                json_object_get(cfg, "schema_digests"), "schemas/output.json")),
                            expect);
        assert_true(json_is_true(json_object_get(json_object_get(cfg, "variant"), "baseline")));
        assert_string_equal(
            json_string_value(json_object_get(json_object_get(cfg, "limits"), "memory")), "128M");
        json_decref(cfg);
        json_decref(m);
        wh_store_close(s);

        /* The layer: sorted, owner 0, no names, mtime 0, fixed modes, no
         * hidden files or __pycache__; gzip header without time or name. */
        struct seen_entry e[32];
        unsigned char hdr[10];
        size_t n = read_layer(layout, layer_digest, e, 32, hdr);
        const char *names[] = {"fixtures/",      "fixtures/scan.xml",  "lib/",
                               "lib/helpers.py", "normalize.py",       "normalizer.json",
                               "schemas/",       "schemas/output.json"};
        assert_int_equal(n, sizeof(names) / sizeof(names[0]));
        for (size_t i = 0; i < n; i++) {
                assert_string_equal(e[i].name, names[i]);
                assert_int_equal(e[i].uid, 0);
                assert_int_equal(e[i].gid, 0);
                assert_int_equal(e[i].mtime, 0);
                assert_false(e[i].named_owner);
                assert_int_equal(e[i].mode & 07777,
                                 names[i][strlen(names[i]) - 1] == '/' ? 0755 : 0644);
        }
        assert_int_equal(hdr[0], 0x1f);
        assert_int_equal(hdr[1], 0x8b);
        assert_int_equal(hdr[3], 0); /* flags: no name, no comment, no extra */
        assert_int_equal(hdr[4] | hdr[5] | hdr[6] | hdr[7], 0); /* MTIME */
        free(pkg);
        free(layout);
        pt_rmrf(dir);
        free(dir);
}

static const struct {
        const char *json, *needle;
} bad_meta[] = {
    {"{\"version\":\"1\",\"consumes\":[\"a\"],\"produces\":[],\"runtime\":\"python3\","
     "\"entrypoint\":\"normalize.py\"}",
     "field \"id\" is required"},
    {"{\"id\":\"x\",\"version\":\"1\",\"consumes\":[\"a\"],\"produces\":[],\"runtime\":\"ruby\","
     "\"entrypoint\":\"normalize.py\"}",
     "field \"runtime\""},
    {"{\"id\":\"x_\",\"version\":\"1\",\"consumes\":[\"a\"],\"produces\":[],\"runtime\":"
     "\"python3\",\"entrypoint\":\"normalize.py\"}",
     "field \"id\" must be"},
    {"{\"id\":\"x\",\"version\":\"1\",\"consumes\":[],\"produces\":[],\"runtime\":\"python3\","
     "\"entrypoint\":\"normalize.py\"}",
     "field \"consumes\""},
    {"{\"id\":\"x\",\"version\":\"1\",\"consumes\":[\"a\",\"a\"],\"produces\":[],\"runtime\":"
     "\"python3\",\"entrypoint\":\"normalize.py\"}",
     "lists \"a\" twice"},
    {"{\"id\":\"x\",\"version\":\"1\",\"consumes\":[\"a\"],\"runtime\":\"python3\","
     "\"entrypoint\":\"normalize.py\"}",
     "field \"produces\" is required"},
    {"{\"id\":\"x\",\"version\":\"1\",\"consumes\":[\"a\"],\"produces\":[],\"runtime\":"
     "\"python3\",\"entrypoint\":\"normalize.py\",\"limit\":{}}",
     "unknown field \"limit\""},
    {"{\"id\":\"x\",\"version\":\"1\",\"consumes\":[\"a\"],\"produces\":[],\"runtime\":"
     "\"python3\",\"entrypoint\":\"normalize.py\",\"limits\":{\"memory\":\"12XB\"}}",
     "field \"limits.memory\""},
    {"{\"id\":\"x\",\"version\":\"1\",\"consumes\":[\"a\"],\"produces\":[],\"runtime\":"
     "\"python3\",\"entrypoint\":\"normalize.py\",\"limits\":{\"disk\":1}}",
     "field \"limits.disk\" is not a known limit"},
    {"{\"id\":\"x\",\"version\":\"1\",\"consumes\":[\"a\"],\"produces\":[],\"runtime\":"
     "\"python3\",\"entrypoint\":\"../normalize.py\"}",
     "field \"entrypoint\""},
    {"{\"id\":\"x\",\"version\":\"1\",\"consumes\":[\"a\"],\"produces\":[],\"runtime\":"
     "\"python3\",\"entrypoint\":\"missing.py\"}",
     "is not a file in the package"},
    {"{\"id\":\"x\",\"version\":\"1\",\"consumes\":[\"a\"],\"produces\":[],\"runtime\":"
     "\"exec\",\"entrypoint\":\"normalize.py\"}",
     "to be executable"},
    {"{\"id\":\"x\",\"version\":\"1\",\"consumes\":[\"a\"],\"produces\":[],\"runtime\":"
     "\"python3\",\"entrypoint\":\"normalize.py\",\"schema_digests\":{}}",
     "computed by whiskers pack"},
    {"{\"id\":\"x\",\"version\":\"1\",\"consumes\":[\"a\"],\"produces\":[],\"runtime\":"
     "\"python3\",\"entrypoint\":\"normalize.py\",\"variant\":{\"name\":\"n\",\"platform\":"
     "{\"architecture\":\"arm64\",\"variant\":\"v3\"}}}",
     "field \"variant.platform.variant\""},
    {"{\"id\":\"x\",\"version\":\"1\",\"consumes\":[\"a\"],\"produces\":[],\"runtime\":"
     "\"python3\",\"entrypoint\":\"normalize.py\",\"variant\":{\"name\":\"n\"}}",
     "exactly one baseline"},
    {"{\"id\": \"x\", \"id\": \"y\"}", "not valid JSON"},
};

static void test_validation_errors(void **state)
{
        (void)state;
        char *dir = pt_tmpdir();
        char *pkg = pt_path(dir, "pkg"), *layout = pt_path(dir, "store");
        struct wh_store *s = pt_store(layout);
        char *empty_index = pt_read(layout, "index.json");
        const char *dirs[] = {pkg};
        struct wh_err err = {0};
        struct wh_descriptor d;
        pt_normaliser(pkg, "python3", "");
        for (size_t i = 0; i < sizeof(bad_meta) / sizeof(bad_meta[0]); i++) {
                pt_write(pkg, "normalizer.json", bad_meta[i].json, 0644);
                PT_EXPECT_ERR(wh_pack(s, dirs, 1, NULL, &d, &err), err, bad_meta[i].needle);
        }
        /* Trees whose layer could not be portable or safe. */
        pt_normaliser(pkg, "python3", "");
        char *p = pt_path(pkg, "lib/escape");
        assert_int_equal(symlink("../../etc/passwd", p), 0);
        PT_EXPECT_ERR(wh_pack(s, dirs, 1, NULL, &d, &err), err, "leads outside the package");
        assert_int_equal(unlink(p), 0);
        assert_int_equal(mkfifo(p, 0644), 0);
        PT_EXPECT_ERR(wh_pack(s, dirs, 1, NULL, &d, &err), err, "not a file, directory or symlink");
        assert_int_equal(unlink(p), 0);
        free(p);
        pt_write(pkg, "lib/caf\xc3\xa9.py", "", 0644);
        PT_EXPECT_ERR(wh_pack(s, dirs, 1, NULL, &d, &err), err, "printable ASCII");
        p = pt_path(pkg, "lib/caf\xc3\xa9.py");
        assert_int_equal(unlink(p), 0);
        free(p);
        pt_write(pkg, "schemas/output.json", "{not json", 0644);
        PT_EXPECT_ERR(wh_pack(s, dirs, 1, NULL, &d, &err), err,
                      "schemas/output.json is not valid JSON");
        char *index = pt_read(layout, "index.json");
        assert_string_equal(index, empty_index); /* nothing was tagged */
        free(index);
        free(empty_index);
        wh_store_close(s);
        free(pkg);
        free(layout);
        pt_rmrf(dir);
        free(dir);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_second_checkout_same_digests),
            cmocka_unit_test(test_manifest_config_layer),
            cmocka_unit_test(test_validation_errors),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
