/* The store: layout files, blobs, index.json, resolve, gc, verify, and
 * several processes writing at once. */
#include "pkgtest.h"

#include <sys/file.h>
#include <sys/wait.h>

static const char empty_sha[] =
    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
static const char abc_sha[] =
    "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

static void test_layout_created(void **state)
{
        (void)state;
        char *dir = pt_tmpdir();
        char *layout = pt_path(dir, "store");
        struct wh_store *s = pt_store(layout);
        char *doc = pt_read(layout, "oci-layout");
        assert_string_equal(doc, "{\"imageLayoutVersion\":\"1.0.0\"}");
        free(doc);
        doc = pt_read(layout, "index.json");
        assert_non_null(strstr(doc, "\"schemaVersion\":2"));
        assert_non_null(strstr(doc, "\"manifests\":[]"));
        free(doc);
        assert_true(pt_exists(layout, "blobs/sha256"));
        wh_store_close(s);

        /* Reopening keeps the index; a plain directory is not a store. */
        struct wh_err err = {0};
        assert_int_equal(wh_store_open(layout, WH_STORE_READ, &s, &err), 0);
        wh_store_close(s);
        PT_EXPECT_ERR(wh_store_open(dir, WH_STORE_READ, &s, &err), err, "not an OCI image layout");
        PT_EXPECT_ERR(wh_store_open(dir, WH_STORE_WRITE, &s, &err), err, "not an OCI image layout");
        assert_int_equal(pt_count(dir), 1); /* nothing written beside "store" */
        free(layout);
        pt_rmrf(dir);
        free(dir);
}

static void test_blobs(void **state)
{
        (void)state;
        char *dir = pt_tmpdir();
        struct wh_store *s = pt_store(dir);
        struct wh_err err = {0};
        char digest[WH_DIGEST_BUF];
        assert_int_equal(wh_store_put(s, "abc", 3, digest, &err), 0);
        assert_string_equal(digest, abc_sha);
        assert_int_equal(wh_store_put(s, "abc", 3, digest, &err), 0);
        char *data;
        size_t len;
        assert_int_equal(wh_store_blob_read(s, abc_sha, 100, &data, &len, &err), 0);
        assert_int_equal(len, 3);
        assert_memory_equal(data, "abc", 3);
        free(data);
        struct stat st;
        char *path = pt_path(
            dir, "blobs/sha256/ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0444);

        /* A streamed blob that does not match the expected digest never lands. */
        struct wh_blob_writer *w;
        assert_int_equal(wh_blob_writer_new(s, &w, &err), 0);
        assert_int_equal(wh_blob_writer_write(w, "abd", 3, &err), 0);
        PT_EXPECT_ERR(wh_blob_writer_seal(w, abc_sha, NULL, NULL, &err), err,
                      "does not match its digest");
        wh_blob_writer_free(w);
        assert_false(wh_store_blob_exists(s, empty_sha));
        char *tmp = pt_path(dir, ".whiskers/tmp");
        assert_int_equal(pt_count(tmp), 0);

        /* The size limit is enforced while writing. */
        assert_int_equal(wh_blob_writer_new(s, &w, &err), 0);
        wh_blob_writer_set_max(w, 4);
        assert_int_equal(wh_blob_writer_write(w, "abc", 3, &err), 0);
        PT_EXPECT_ERR(wh_blob_writer_write(w, "de", 2, &err), err, "larger than the limit");
        wh_blob_writer_free(w);

        /* A damaged blob is reported on read. */
        assert_int_equal(chmod(path, 0644), 0);
        pt_write(dir,
                 "blobs/sha256/ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                 "abd", 0444);
        PT_EXPECT_ERR(wh_store_blob_read(s, abc_sha, 100, &data, &len, &err), err,
                      "does not match its digest");
        PT_EXPECT_ERR(wh_store_blob_read(s, "sha256:../../etc", 100, &data, &len, &err), err,
                      "not a sha256 digest");
        PT_EXPECT_ERR(wh_store_blob_read(s, empty_sha, 100, &data, &len, &err), err, "missing");
        wh_store_close(s);
        free(tmp);
        free(path);
        pt_rmrf(dir);
        free(dir);
}

static void test_ref_names(void **state)
{
        (void)state;
        const char *good[] = {"a", "kat_nmap_normalize:1.2.0", "x/y:1", "a--b", "a@b+c", "A9"};
        const char *bad[] = {"", ":a", "a:", "a::b", "a/", "/a", "a b", "a..b", "a/../b", "é"};
        for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++)
                assert_true(wh_ref_name_valid(good[i]));
        for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
                assert_false(wh_ref_name_valid(bad[i]));
}

static void test_index_and_resolve(void **state)
{
        (void)state;
        char *dir = pt_tmpdir();
        char *layout = pt_path(dir, "store"), *pkg = pt_path(dir, "pkg");
        struct wh_store *s = pt_store(layout);
        struct wh_err err = {0};
        struct wh_descriptor d, r;
        const char *dirs[] = {pkg};
        pt_normaliser(pkg, "python3", "");
        pt_pack(s, dirs, 1, NULL, &d);

        assert_int_equal(wh_store_resolve(s, "kat_nmap_normalize:1.2.0", &r, &err), 0);
        assert_string_equal(r.digest, d.digest);
        assert_int_equal(wh_store_resolve(s, "kat_nmap_normalize", &r, &err), 0);
        assert_string_equal(r.digest, d.digest);
        assert_int_equal(wh_store_resolve(s, NULL, &r, &err), 0);
        assert_int_equal(wh_store_resolve(s, d.digest, &r, &err), 0);
        assert_string_equal(r.media_type, WH_MT_MANIFEST);
        PT_EXPECT_ERR(wh_store_resolve(s, "nope:1", &r, &err), err,
                      "tags: kat_nmap_normalize:1.2.0");

        /* A second tag for the same manifest, then a retag to another one. */
        pt_pack(s, dirs, 1, "other:2", &r);
        PT_EXPECT_ERR(wh_store_resolve(s, NULL, &r, &err), err, "ambiguous");
        struct wh_index_entry *e;
        size_t n;
        assert_int_equal(wh_store_list(s, &e, &n, &err), 0);
        assert_int_equal(n, 2);
        free(e);
        pt_write(pkg, "lib/helpers.py", "X = 2\n", 0644);
        pt_pack(s, dirs, 1, "other:2", &r);
        assert_string_not_equal(r.digest, d.digest);
        assert_int_equal(wh_store_list(s, &e, &n, &err), 0);
        assert_int_equal(n, 2);
        free(e);
        assert_int_equal(wh_store_untag(s, "other:2", &err), 0);
        PT_EXPECT_ERR(wh_store_untag(s, "other:2", &err), err, "no package tagged");
        assert_int_equal(wh_store_list(s, &e, &n, &err), 0);
        assert_int_equal(n, 1);
        assert_string_equal(e[0].ref_name, "kat_nmap_normalize:1.2.0");
        assert_string_equal(e[0].artifact_type, WH_AT_NORMALIZER);
        free(e);

        /* An entry naming a missing blob is refused; index.json is unchanged. */
        char *before = pt_read(layout, "index.json");
        struct wh_index_entry bad = {.desc = {.media_type = WH_MT_MANIFEST, .size = 3}};
        strcpy(bad.desc.digest, empty_sha);
        strcpy(bad.ref_name, "ghost:1");
        PT_EXPECT_ERR(wh_store_index_add(s, &bad, &err), err, "missing");
        strcpy(bad.ref_name, "bad tag");
        PT_EXPECT_ERR(wh_store_index_add(s, &bad, &err), err, "not a valid tag");
        char *after = pt_read(layout, "index.json");
        assert_string_equal(before, after);
        free(before);
        free(after);
        wh_store_close(s);
        free(layout);
        free(pkg);
        pt_rmrf(dir);
        free(dir);
}

static void test_gc_and_verify(void **state)
{
        (void)state;
        char *dir = pt_tmpdir();
        char *layout = pt_path(dir, "store"), *pkg = pt_path(dir, "pkg");
        struct wh_store *s = pt_store(layout);
        struct wh_err err = {0};
        struct wh_descriptor d;
        const char *dirs[] = {pkg};
        pt_normaliser(pkg, "python3", "");
        pt_pack(s, dirs, 1, NULL, &d);
        char junk[WH_DIGEST_BUF];
        assert_int_equal(wh_store_put(s, "unreferenced", 12, junk, &err), 0);
        pt_write(layout, ".whiskers/tmp/blob.1.stale", "x", 0644);
        pt_write(layout, "index.json.tmp.999999", "{", 0644);

        struct wh_verify_result v;
        assert_int_equal(wh_store_verify(s, &v, &err), 0);
        assert_int_equal(v.nproblems, 0);
        assert_int_equal(v.blobs, 4); /* manifest, config, layer, junk */
        wh_verify_result_clear(&v);

        struct wh_gc_result g;
        assert_int_equal(wh_store_gc(s, true, &g, &err), 0);
        assert_int_equal(g.blobs_removed, 1);
        assert_true(wh_store_blob_exists(s, junk)); /* dry run */
        assert_int_equal(wh_store_gc(s, false, &g, &err), 0);
        assert_int_equal(g.blobs_removed, 1);
        assert_int_equal(g.bytes_removed, 12);
        assert_int_equal(g.blobs_kept, 3);
        assert_int_equal(g.temp_removed, 2);
        assert_false(pt_exists(layout, "index.json.tmp.999999"));
        assert_true(pt_exists(layout, "index.json"));
        assert_false(wh_store_blob_exists(s, junk));
        assert_true(wh_store_blob_exists(s, d.digest));

        /* Damage one blob and delete another: verify names both. */
        struct wh_desc_list l;
        assert_int_equal(wh_store_closure(s, &d, false, &l, &err), 0);
        assert_int_equal(l.n, 3);
        assert_string_equal(l.items[0].digest, d.digest);
        char *cfg = pt_path(layout, "blobs/sha256/");
        char *cfgpath = NULL, *layerpath = NULL;
        assert_true(asprintf(&cfgpath, "%s%s", cfg, l.items[1].digest + 7) > 0);
        assert_true(asprintf(&layerpath, "%s%s", cfg, l.items[2].digest + 7) > 0);
        assert_int_equal(chmod(cfgpath, 0644), 0);
        FILE *f = fopen(cfgpath, "we");
        fputs("{\"tampered\":true}", f);
        fclose(f);
        assert_int_equal(unlink(layerpath), 0);
        assert_int_equal(wh_store_verify(s, &v, &err), 0);
        bool saw_hash = false, saw_missing = false;
        for (size_t i = 0; i < v.nproblems; i++) {
                saw_hash |= strcmp(v.problems[i].digest, l.items[1].digest) == 0 &&
                            strstr(v.problems[i].what, "content hashes to");
                saw_missing |= strcmp(v.problems[i].digest, l.items[2].digest) == 0 &&
                               strstr(v.problems[i].what, "missing");
        }
        assert_true(saw_hash);
        assert_true(saw_missing);
        wh_verify_result_clear(&v);
        wh_desc_list_clear(&l);
        free(cfg);
        free(cfgpath);
        free(layerpath);
        wh_store_close(s);
        free(layout);
        free(pkg);
        pt_rmrf(dir);
        free(dir);
}

/* gc waits for every write handle: a blob written but not yet referenced
 * survives, because by the time gc runs it is referenced. */
static void test_gc_waits_for_writers(void **state)
{
        (void)state;
        char *dir = pt_tmpdir();
        struct wh_store *s = pt_store(dir);
        struct wh_err err = {0};
        char *lock = pt_path(dir, ".whiskers/gc.lock");
        int fd = open(lock, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), -1);
        assert_int_equal(errno, EWOULDBLOCK);
        close(fd);

        struct wh_descriptor cfg = {.media_type = WH_MT_EMPTY, .size = 2}, m = {0};
        assert_int_equal(wh_store_put(s, "{}", 2, cfg.digest, &err), 0);
        int ready[2];
        assert_int_equal(pipe(ready), 0);
        pid_t pid = fork();
        if (pid == 0) {
                /* flock belongs to the open file: drop the inherited one. */
                wh_store_close(s);
                struct wh_store *g;
                struct wh_gc_result res;
                if (wh_store_open(dir, WH_STORE_WRITE, &g, &err) < 0)
                        _exit(2);
                (void)!write(ready[1], "x", 1);
                int rc = wh_store_gc(g, false, &res, &err);
                wh_store_close(g);
                _exit(rc == 0 && res.blobs_removed == 0 ? 0 : 1);
        }
        char c;
        assert_int_equal(read(ready[0], &c, 1), 1);
        json_t *doc = json_pack(
            "{s:i, s:s, s:o, s:[]}", "schemaVersion", 2, "mediaType", WH_MT_MANIFEST, "config",
            json_pack("{s:s, s:s, s:i}", "mediaType", WH_MT_EMPTY, "digest", cfg.digest, "size", 2),
            "layers");
        char *text = json_dumps(doc, JSON_COMPACT);
        json_decref(doc);
        assert_int_equal(wh_store_put(s, text, strlen(text), m.digest, &err), 0);
        strcpy(m.media_type, WH_MT_MANIFEST);
        m.size = strlen(text);
        free(text);
        struct wh_index_entry e = {.desc = m, .ref_name = "held:1"};
        assert_int_equal(wh_store_index_add(s, &e, &err), 0);
        wh_store_close(s);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        close(ready[0]);
        close(ready[1]);
        free(lock);
        pt_rmrf(dir);
        free(dir);
}

/* Several processes packing into one store at once: every tag lands, the
 * store verifies, nothing is left in .whiskers/tmp. */
static void test_concurrent_writers(void **state)
{
        (void)state;
        enum { PROCS = 4, ROUNDS = 3 };
        char *dir = pt_tmpdir();
        char *layout = pt_path(dir, "store");
        wh_store_close(pt_store(layout));
        pid_t pids[PROCS];
        for (int p = 0; p < PROCS; p++) {
                pids[p] = fork();
                assert_true(pids[p] >= 0);
                if (pids[p] > 0)
                        continue;
                struct wh_err err = {0};
                struct wh_store *s;
                if (wh_store_open(layout, WH_STORE_WRITE, &s, &err) < 0)
                        _exit(2);
                for (int r = 0; r < ROUNDS; r++) {
                        char pkg[300], tag[64], body[64];
                        snprintf(pkg, sizeof(pkg), "%s/pkg-%d-%d", dir, p, r);
                        snprintf(tag, sizeof(tag), "proc%d:%d", p, r);
                        snprintf(body, sizeof(body), "X = %d\n", r); /* shared across procs */
                        pt_normaliser(pkg, "python3", "");
                        pt_write(pkg, "lib/helpers.py", body, 0644);
                        const char *dirs[] = {pkg};
                        struct wh_descriptor d;
                        struct wh_pack_options o = {.tag = tag, .source_date_epoch = -1};
                        if (wh_pack(s, dirs, 1, &o, &d, &err) < 0)
                                _exit(3);
                }
                wh_store_close(s);
                _exit(0);
        }
        for (int p = 0; p < PROCS; p++) {
                int status;
                assert_int_equal(waitpid(pids[p], &status, 0), pids[p]);
                assert_true(WIFEXITED(status));
                assert_int_equal(WEXITSTATUS(status), 0);
        }
        struct wh_store *s;
        struct wh_err err = {0};
        assert_int_equal(wh_store_open(layout, WH_STORE_READ, &s, &err), 0);
        struct wh_index_entry *e;
        size_t n;
        assert_int_equal(wh_store_list(s, &e, &n, &err), 0);
        assert_int_equal(n, PROCS * ROUNDS);
        for (int p = 0; p < PROCS; p++) {
                for (int r = 0; r < ROUNDS; r++) {
                        char tag[64];
                        struct wh_descriptor d;
                        snprintf(tag, sizeof(tag), "proc%d:%d", p, r);
                        assert_int_equal(wh_store_resolve(s, tag, &d, &err), 0);
                }
        }
        free(e);
        struct wh_verify_result v;
        assert_int_equal(wh_store_verify(s, &v, &err), 0);
        assert_int_equal(v.nproblems, 0);
        assert_int_equal(v.blobs, 1 + 2 * ROUNDS); /* one config; identical layers stored once */
        wh_verify_result_clear(&v);
        wh_store_close(s);
        char *tmp = pt_path(layout, ".whiskers/tmp");
        assert_int_equal(pt_count(tmp), 0);
        free(tmp);
        free(layout);
        pt_rmrf(dir);
        free(dir);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_layout_created),     cmocka_unit_test(test_blobs),
            cmocka_unit_test(test_ref_names),          cmocka_unit_test(test_index_and_resolve),
            cmocka_unit_test(test_gc_and_verify),      cmocka_unit_test(test_gc_waits_for_writers),
            cmocka_unit_test(test_concurrent_writers),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
