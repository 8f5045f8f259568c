/* Inputs and developer tools: raw-file ZIPs (built here byte by byte, so
 * each malformation is exact), meta documents, tree digests, JSON diffs,
 * fixtures and the scaffold. */
#include "contract_test.h"

#include <zlib.h>

struct zentry {
        const char *name;
        const char *data;
        size_t len;
        bool deflate;
        uint32_t crc_xor, usize_delta, flags, csize_override;
};

static void le16(unsigned char **p, unsigned v)
{
        *(*p)++ = v & 0xff;
        *(*p)++ = (v >> 8) & 0xff;
}

static void le32(unsigned char **p, uint32_t v)
{
        le16(p, v & 0xffff);
        le16(p, v >> 16);
}

/* Writes a ZIP of the entries to path; returns its size. */
static size_t write_zip(const char *path, const struct zentry *e, size_t n)
{
        unsigned char *buf = calloc(1, 1 << 22), *p = buf, *cd = calloc(1, 1 << 16), *c = cd;
        for (size_t i = 0; i < n; i++) {
                unsigned char *data = malloc(e[i].len + 64);
                uLongf clen = (uLongf)e[i].len + 64;
                if (e[i].deflate) {
                        z_stream zs = {0};
                        assert_int_equal(
                            deflateInit2(&zs, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
                        zs.next_in = (unsigned char *)e[i].data;
                        zs.avail_in = (uInt)e[i].len;
                        zs.next_out = data;
                        zs.avail_out = (uInt)clen;
                        assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
                        clen = zs.total_out;
                        deflateEnd(&zs);
                } else {
                        memcpy(data, e[i].data, e[i].len);
                        clen = e[i].len;
                }
                uint32_t crc =
                    (uint32_t)crc32(0, (const unsigned char *)e[i].data, (uInt)e[i].len) ^
                    e[i].crc_xor;
                uint32_t csize = e[i].csize_override ? e[i].csize_override : (uint32_t)clen;
                uint32_t usize = (uint32_t)e[i].len - e[i].usize_delta;
                uint32_t off = (uint32_t)(p - buf);
                size_t nlen = strlen(e[i].name);
                unsigned method = e[i].deflate ? 8 : 0;
                le32(&p, 0x04034b50), le16(&p, 20), le16(&p, e[i].flags), le16(&p, method);
                le32(&p, 0), le32(&p, crc), le32(&p, csize), le32(&p, usize);
                le16(&p, (unsigned)nlen), le16(&p, 0);
                memcpy(p, e[i].name, nlen), p += nlen;
                memcpy(p, data, clen), p += clen;
                le32(&c, 0x02014b50), le16(&c, 20), le16(&c, 20), le16(&c, e[i].flags);
                le16(&c, method), le32(&c, 0), le32(&c, crc), le32(&c, csize), le32(&c, usize);
                le16(&c, (unsigned)nlen), le16(&c, 0), le16(&c, 0), le16(&c, 0), le16(&c, 0);
                le32(&c, 0), le32(&c, off);
                memcpy(c, e[i].name, nlen), c += nlen;
                free(data);
        }
        uint32_t cd_off = (uint32_t)(p - buf), cd_len = (uint32_t)(c - cd);
        memcpy(p, cd, cd_len), p += cd_len;
        le32(&p, 0x06054b50), le16(&p, 0), le16(&p, 0), le16(&p, (unsigned)n);
        le16(&p, (unsigned)n), le32(&p, cd_len), le32(&p, cd_off), le16(&p, 0);
        size_t size = (size_t)(p - buf);
        FILE *f = fopen(path, "w");
        assert_int_equal(fwrite(buf, 1, size, f), size);
        fclose(f);
        free(buf);
        free(cd);
        return size;
}

static const char meta[] = "{\"task_id\": \"t\"}";

static void test_zip_good(void **state)
{
        (void)state;
        char *dir = tmp_dir(), path[PATH_MAX + 16];
        snprintf(path, sizeof(path), "%s/in.zip", dir);
        char *big = malloc(300000);
        for (size_t i = 0; i < 300000; i++)
                big[i] = "abc\n"[i % 4];
        struct zentry e[2] = {{.name = "meta.json", .data = meta, .len = strlen(meta)},
                              {.name = "raw", .data = big, .len = 300000, .deflate = true}};
        assert_true(write_zip(path, e, 2) < 10000); /* it really deflated */
        char *raw = NULL, *m = NULL;
        size_t raw_len, m_len;
        struct wh_err err = {0};
        assert_int_equal(wh_raw_zip_read(path, 0, &raw, &raw_len, &m, &m_len, &err), 0);
        assert_int_equal(raw_len, 300000);
        assert_memory_equal(raw, big, 300000);
        assert_string_equal(m, meta);
        free(raw), free(m);
        /* The same, stored, and an empty raw file. */
        e[1] = (struct zentry){.name = "raw", .data = "", .len = 0};
        write_zip(path, e, 2);
        assert_int_equal(wh_raw_zip_read(path, 0, &raw, &raw_len, &m, &m_len, &err), 0);
        assert_int_equal(raw_len, 0);
        free(raw), free(m);
        free(big);
        rm_tree(dir);
}

static void test_zip_bad(void **state)
{
        (void)state;
        static const char raw[] = "raw bytes, raw bytes, raw bytes";
        struct zentry ok_meta = {.name = "meta.json", .data = meta, .len = sizeof(meta) - 1};
        struct zentry ok_raw = {
            .name = "raw", .data = raw, .len = sizeof(raw) - 1, .deflate = true};
        struct {
                struct zentry e[3];
                size_t n;
                const char *needle;
        } cases[] = {
            {{ok_meta, {.name = "raw", .data = raw, .len = 31, .crc_xor = 1}}, 2, "CRC-32"},
            {{ok_meta, ok_raw, {.name = "x", .data = "x", .len = 1}}, 3, "exactly two entries"},
            {{ok_meta, {.name = "raw2", .data = raw, .len = 31}}, 2, "\"raw\" and \"meta.json\""},
            {{ok_raw, ok_raw}, 2, "once each"},
            {{ok_meta, {.name = "raw", .data = raw, .len = 31, .deflate = true, .usize_delta = 3}},
             2,
             "declared size"},
            {{ok_meta, {.name = "raw", .data = raw, .len = 31, .csize_override = 0xffffffffu}},
             2,
             "ZIP64"},
            {{ok_meta, {.name = "raw", .data = raw, .len = 31, .flags = 1}}, 2, "encrypted"},
            {{ok_meta}, 1, "exactly two entries"},
        };
        char *dir = tmp_dir(), path[PATH_MAX + 16];
        snprintf(path, sizeof(path), "%s/in.zip", dir);
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                write_zip(path, cases[i].e, cases[i].n);
                char *r = NULL, *m = NULL;
                size_t rl, ml;
                struct wh_err err = {0};
                assert_int_equal(wh_raw_zip_read(path, 0, &r, &rl, &m, &ml, &err), -1);
                if (!strstr(err.msg, cases[i].needle))
                        fail_msg("case %zu: '%s' does not say '%s'", i, err.msg, cases[i].needle);
                assert_null(r);
        }
        /* Over the raw limit; cut short; not a ZIP at all. */
        struct zentry two[2] = {ok_meta, ok_raw};
        size_t size = write_zip(path, two, 2);
        char *r = NULL, *m = NULL;
        size_t rl, ml;
        struct wh_err err = {0};
        assert_int_equal(wh_raw_zip_read(path, 10, &r, &rl, &m, &ml, &err), -1);
        assert_non_null(strstr(err.msg, "larger than 10 bytes"));
        assert_int_equal(truncate(path, (off_t)size - 30), 0);
        assert_int_equal(wh_raw_zip_read(path, 0, &r, &rl, &m, &ml, &err), -1);
        assert_non_null(strstr(err.msg, "not a raw-file ZIP"));
        put(dir, "in.zip", "PK\x03\x04 this is not really a zip file at all, just text....");
        assert_int_equal(wh_raw_zip_read(path, 0, &r, &rl, &m, &ml, &err), -1);
        assert_non_null(strstr(err.msg, "no end of central directory"));
        rm_tree(dir);
}

static void test_meta(void **state)
{
        (void)state;
        struct wh_err err = {0};
        char *m = NULL;
        const char *mimes[] = {"text/plain"};
        assert_int_equal(wh_meta_build("Hostname|internet|a.example", mimes, 1, "id-1", &m, &err),
                         0);
        assert_string_equal(m, "{\"boefje_meta\":{},\"input_ooi\":{\"object_type\":\"Hostname\","
                               "\"primary_key\":\"Hostname|internet|a.example\"},\"mime_types\":"
                               "[\"text/plain\"],\"task_id\":\"id-1\"}");
        json_t *doc = NULL;
        assert_int_equal(wh_meta_check(m, strlen(m), &doc, &err), 0);
        json_decref(doc);
        free(m);
        assert_int_equal(wh_meta_build(NULL, NULL, 0, NULL, &m, &err), 0);
        doc = json_loads(m, 0, NULL);
        const char *uuid = json_string_value(json_object_get(doc, "task_id"));
        assert_int_equal(strlen(uuid), 36);
        assert_int_equal(uuid[14], '4');
        assert_true(json_is_null(json_object_get(doc, "input_ooi")));
        json_decref(doc);
        free(m);
        assert_int_equal(wh_meta_build("nonsense", NULL, 0, NULL, &m, &err), -1);
        static const struct {
                const char *text, *needle;
        } bad[] = {
            {"[]", "must be a JSON object"},
            {"{\"task_id\": 5}", "\"task_id\" must be a string"},
            {"{\"input_ooi\": \"Hostname|x\"}", "\"input_ooi\" must be an object"},
            {"{\"input_ooi\": {\"object_type\": \"A\"}}", "input_ooi.primary_key"},
            {"{\"input_ooi\": {\"object_type\": \"A\", \"primary_key\": \"B|x\"}}",
             "input_ooi.object_type"},
            {"{\"mime_types\": [1]}", "\"mime_types\" must be an array of strings"},
            {"{\"boefje_meta\": 3}", "\"boefje_meta\" must be an object"},
            {"{", "not valid JSON"},
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                assert_int_equal(wh_meta_check(bad[i].text, strlen(bad[i].text), NULL, &err), -1);
                if (!strstr(err.msg, bad[i].needle))
                        fail_msg("case %zu: '%s' does not say '%s'", i, err.msg, bad[i].needle);
                assert_string_equal(err.stage, "meta");
                assert_int_equal(err.errnum, EINVAL);
        }
}

/* OpenKAT's NormalizerMeta: accepted, read the way OpenKAT reads it. */
static void test_openkat_meta(void **state)
{
        (void)state;
        static const char kat[] =
            "{\"id\": \"t-1\", \"normalizer\": {\"id\": \"kat_dns_normalize\", \"version\": null}, "
            "\"raw_data\": {\"id\": \"r\", \"mime_types\": [{\"value\": \"boefje/dns-records\"}, "
            "{\"value\": \"x\"}], \"boefje_meta\": {\"id\": \"b\", \"input_ooi\": "
            "\"Hostname|internet|example.nl\", \"arguments\": {\"input\": {\"name\": "
            "\"example.nl\"}}}}, \"started_at\": null}";
        struct wh_err err = {0};
        json_t *doc = NULL;
        assert_int_equal(wh_meta_check(kat, strlen(kat), &doc, &err), 0);
        struct wh_meta_facts f;
        assert_int_equal(wh_meta_facts(doc, &f), 0);
        assert_true(f.openkat);
        assert_string_equal(f.task_id, "t-1");
        assert_string_equal(f.input_pk, "Hostname|internet|example.nl");
        assert_int_equal(json_array_size(f.mime_types), 2);
        assert_string_equal(json_string_value(json_array_get(f.mime_types, 0)),
                            "boefje/dns-records");
        wh_meta_facts_clear(&f);
        json_decref(doc);

        /* whiskers' own form reads the same facts from its own fields. */
        static const char own[] = "{\"task_id\": \"t-2\", \"input_ooi\": {\"primary_key\": "
                                  "\"Network|internet\"}, \"mime_types\": [\"a\"]}";
        assert_int_equal(wh_meta_check(own, strlen(own), &doc, &err), 0);
        assert_int_equal(wh_meta_facts(doc, &f), 0);
        assert_false(f.openkat);
        assert_string_equal(f.task_id, "t-2");
        assert_string_equal(f.input_pk, "Network|internet");
        wh_meta_facts_clear(&f);
        json_decref(doc);

        static const struct {
                const char *text, *needle;
        } bad[] = {
            {"{\"normalizer\": {\"id\": \"x\"}}", "needs \"raw_data\": {\"boefje_meta\""},
            {"{\"raw_data\": {\"boefje_meta\": null}}", "needs \"raw_data\": {\"boefje_meta\""},
            {"{\"raw_data\": {\"boefje_meta\": {\"input_ooi\": \"nokey\"}}}",
             "\"raw_data.boefje_meta.input_ooi\" must be a primary key"},
            {"{\"raw_data\": {\"boefje_meta\": {\"arguments\": []}}}",
             "\"raw_data.boefje_meta.arguments\" must be an object"},
            {"{\"raw_data\": {\"boefje_meta\": {}, \"mime_types\": [\"a\"]}}",
             "\"raw_data.mime_types\" must be an array of {\"value\": string}"},
            {"{\"id\": 3, \"raw_data\": {\"boefje_meta\": {}}}", "\"id\" must be a string"},
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                assert_int_equal(wh_meta_check(bad[i].text, strlen(bad[i].text), NULL, &err), -1);
                if (!strstr(err.msg, bad[i].needle))
                        fail_msg("case %zu: '%s' does not say '%s'", i, err.msg, bad[i].needle);
                assert_string_equal(err.stage, "meta");
        }
}

/* The documented algorithm, written out again: lines sorted by path. */
static void test_tree_digest(void **state)
{
        (void)state;
        char *dir = tmp_dir(), path[PATH_MAX + 16], got[WH_DIGEST_BUF];
        char again[WH_DIGEST_BUF];
        put(dir, "b.txt", "bee\n");
        put(dir, "a/x.py", "print(1)\n");
        put(dir, "a.txt", "");
        snprintf(path, sizeof(path), "%s/a/x.py", dir);
        chmod(path, 0755);
        snprintf(path, sizeof(path), "%s/link", dir);
        assert_int_equal(symlink("b.txt", path), 0);
        struct wh_err err = {0};
        assert_int_equal(wh_tree_digest(dir, got, &err), 0);
        char h_bee[65], h_print[65], h_empty[65], h_link[65], text[2048], want[72] = "sha256:";
        wh_sha256_hex("bee\n", 4, h_bee);
        wh_sha256_hex("print(1)\n", 9, h_print);
        wh_sha256_hex("", 0, h_empty);
        wh_sha256_hex("b.txt", 5, h_link);
        snprintf(text, sizeof(text),
                 "D a\nF - 0 %s a.txt\nF x 9 %s a/x.py\nF - 4 %s b.txt\nL %s link\n", h_empty,
                 h_print, h_bee, h_link);
        wh_sha256_hex(text, strlen(text), want + 7);
        assert_string_equal(got, want);
        assert_int_equal(wh_tree_digest(dir, again, &err), 0);
        assert_string_equal(got, again);
        put(dir, "b.txt", "bee!\n"); /* content matters */
        assert_int_equal(wh_tree_digest(dir, again, &err), 0);
        assert_string_not_equal(got, again);
        snprintf(path, sizeof(path), "%s/fifo", dir);
        assert_int_equal(mkfifo(path, 0600), 0);
        assert_int_equal(wh_tree_digest(dir, again, &err), -1);
        assert_non_null(strstr(err.msg, "not a directory, regular file or symlink"));
        rm_tree(dir);
}

struct diffs {
        char lines[8][256];
        size_t n;
};

static void on_diff(const char *ptr, const json_t *want, const json_t *got, void *ctx)
{
        struct diffs *d = ctx;
        char *w = want ? json_dumps(want, JSON_ENCODE_ANY | JSON_COMPACT) : strdup("-");
        char *g = got ? json_dumps(got, JSON_ENCODE_ANY | JSON_COMPACT) : strdup("-");
        snprintf(d->lines[d->n++], 256, "%s %s %s", ptr, w, g);
        free(w), free(g);
}

static void test_json_diff(void **state)
{
        (void)state;
        json_t *a =
            json_loads("{\"x\": [1, 2, {\"a/b\": true}], \"y\": \"s\", \"z~\": 1}", 0, NULL);
        json_t *b =
            json_loads("{\"x\": [1, 3, {\"a/b\": false}, 4], \"y\": \"s\", \"n\": null}", 0, NULL);
        struct diffs d = {0};
        assert_int_equal(wh_json_diff(a, b, 0, on_diff, &d), 5);
        assert_string_equal(d.lines[0], "/x/1 2 3");
        assert_string_equal(d.lines[1], "/x/2/a~1b true false");
        assert_string_equal(d.lines[2], "/x/3 - 4");
        assert_string_equal(d.lines[3], "/z~0 1 -");
        assert_string_equal(d.lines[4], "/n - null");
        assert_int_equal(wh_json_diff(a, a, 0, on_diff, &d), 0);
        d.n = 0;
        assert_int_equal(wh_json_diff(a, b, 2, on_diff, &d), 2);
        assert_int_equal(d.n, 2);
        json_decref(a);
        json_decref(b);
}

static void test_scaffold_and_fixtures(void **state)
{
        (void)state;
        char *dir = tmp_dir(), path[PATH_MAX + 16];
        struct wh_err err = {0};
        snprintf(path, sizeof(path), "%s/bad name", dir);
        assert_int_equal(wh_normaliser_scaffold(path, &err), -1);
        assert_non_null(strstr(err.msg, "cannot be a normaliser id"));
        snprintf(path, sizeof(path), "%s/kat_new", dir);
        assert_int_equal(wh_normaliser_scaffold(path, &err), 0);
        assert_int_equal(wh_normaliser_scaffold(path, &err), -1);
        assert_non_null(strstr(err.msg, "choose a new name"));
        struct wh_manifest m;
        assert_int_equal(wh_manifest_load(path, &m, &err), 0);
        assert_string_equal(m.id, "kat_new");
        wh_manifest_clear(&m);
        struct wh_fixture *f;
        size_t n;
        put(path, "fixtures/a-second/raw", "x\n");
        put(path, "fixtures/a-second/meta.json", "{}");
        assert_int_equal(wh_fixtures_list(path, &f, &n, &err), 0);
        assert_int_equal(n, 2);
        assert_string_equal(f[0].name, "a-second");
        assert_string_equal(f[1].name, "basic");
        assert_non_null(strstr(f[1].expected_path, "/fixtures/basic/expected.json"));
        wh_fixtures_free(f, n);
        put(path, "fixtures/broken/raw", "x\n");
        assert_int_equal(wh_fixtures_list(path, &f, &n, &err), -1);
        assert_non_null(strstr(err.msg, "needs a file \"raw\" and a file \"meta.json\""));
        rm_tree(dir);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_zip_good),
            cmocka_unit_test(test_zip_bad),
            cmocka_unit_test(test_meta),
            cmocka_unit_test(test_openkat_meta),
            cmocka_unit_test(test_tree_digest),
            cmocka_unit_test(test_json_diff),
            cmocka_unit_test(test_scaffold_and_fixtures),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
