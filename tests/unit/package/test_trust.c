/* Trust: keys, signatures as referrers, the trust directory, revocation and
 * rotation, the run-time policy, and signatures travelling in a zip. */
#include "pkgtest.h"
#include "package/digest.h"
#include "package/store.h"

#include <openssl/evp.h>

struct fixture {
        char *dir, *layout, *pkg, *trust;
        struct wh_store *s;
        struct wh_descriptor root;
};

static void keygen(struct fixture *f, const char *name, char id[WH_DIGEST_BUF])
{
        char priv[512], pub[512];
        snprintf(priv, sizeof(priv), "%s/%s.key", f->dir, name);
        snprintf(pub, sizeof(pub), "%s/%s.pub", f->dir, name);
        struct wh_err err = {0};
        if (wh_key_generate(priv, pub, id, &err) < 0)
                fail_msg("%s", err.msg);
}

static void trust_key(struct fixture *f, const char *name)
{
        char *pub = NULL, *dst = NULL;
        assert_true(asprintf(&pub, "%s/%s.pub", f->dir, name) > 0);
        assert_true(asprintf(&dst, "%s.pub", name) > 0);
        char *text = pt_read(f->dir, dst);
        pt_write(f->trust, dst, text, 0644);
        free(text);
        free(pub);
        free(dst);
}

static void sign(struct fixture *f, const char *digest, const char *name)
{
        char priv[512];
        snprintf(priv, sizeof(priv), "%s/%s.key", f->dir, name);
        struct wh_descriptor sig;
        struct wh_err err = {0};
        if (wh_sign(f->s, digest, priv, &sig, &err) < 0)
                fail_msg("%s", err.msg);
        assert_string_equal(sig.media_type, WH_MT_MANIFEST);
}

static enum wh_sig_status only_status(struct fixture *f, const char *digest, bool *trusted)
{
        struct wh_trust *t;
        struct wh_err err = {0};
        if (wh_trust_load(f->trust, &t, &err) < 0)
                fail_msg("%s", err.msg);
        struct wh_sig_report rep;
        assert_int_equal(wh_trust_check(f->s, digest, t, &rep, &err), 0);
        assert_int_equal(rep.n, 1);
        enum wh_sig_status st = rep.sigs[0].status;
        *trusted = rep.trusted;
        wh_sig_report_clear(&rep);
        wh_trust_free(t);
        return st;
}

static int load(struct fixture *f, const char *ref, struct wh_package *p, struct wh_err *err)
{
        struct wh_trust *t;
        if (wh_trust_load(f->trust, &t, err) < 0)
                return -1;
        struct wh_load_options o = {.trust = t};
        int rc = wh_package_load(f->s, ref, &o, p, err);
        wh_trust_free(t);
        return rc;
}

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));
        f->dir = pt_tmpdir();
        f->layout = pt_path(f->dir, "store");
        f->pkg = pt_path(f->dir, "pkg");
        f->trust = pt_path(f->dir, "trust");
        assert_int_equal(mkdir(f->trust, 0755), 0);
        pt_normaliser(f->pkg, "python3", "");
        f->s = pt_store(f->layout);
        const char *dirs[] = {f->pkg};
        pt_pack(f->s, dirs, 1, NULL, &f->root);
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
        free(f->pkg);
        free(f->trust);
        free(f);
        return 0;
}

static void test_keys(void **state)
{
        struct fixture *f = *state;
        char id[WH_DIGEST_BUF], again[WH_DIGEST_BUF];
        keygen(f, "a", id);
        struct stat st;
        char *priv = pt_path(f->dir, "a.key"), *pub = pt_path(f->dir, "a.pub");
        assert_int_equal(stat(priv, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        struct wh_err err = {0};
        assert_int_equal(wh_key_id_file(pub, again, &err), 0);
        assert_string_equal(id, again);
        /* The id is SHA-256 of the raw key: the last 32 bytes of the DER. */
        char *pem = pt_read(f->dir, "a.pub");
        char *b64 = strchr(pem, '\n') + 1;
        *strchr(b64, '\n') = '\0';
        unsigned char der[64];
        assert_int_equal(EVP_DecodeBlock(der, (unsigned char *)b64, (int)strlen(b64)), 45);
        char expect[WH_DIGEST_BUF];
        assert_int_equal(wh_digest_buffer(der + 12, 32, expect, &err), 0);
        assert_string_equal(id, expect);
        free(pem);
        char tmp[WH_DIGEST_BUF];
        PT_EXPECT_ERR(wh_key_generate(priv, pub, tmp, &err), err,
                      "remove it or choose another name");
        assert_int_equal(chmod(priv, 0644), 0);
        struct wh_descriptor sig;
        PT_EXPECT_ERR(wh_sign(f->s, f->root.digest, priv, &sig, &err), err, "chmod 600");
        free(priv);
        free(pub);
}

static void test_sign_verify_policy(void **state)
{
        struct fixture *f = *state;
        char a[WH_DIGEST_BUF], b[WH_DIGEST_BUF];
        keygen(f, "a", a);
        keygen(f, "b", b);
        struct wh_package p;
        struct wh_err err = {0};
        PT_EXPECT_ERR(load(f, NULL, &p, &err), err, "is not signed");

        sign(f, f->root.digest, "a");
        sign(f, "kat_nmap_normalize:1.2.0", "a"); /* a tag works; Ed25519 is deterministic */
        struct wh_index_entry *e;
        size_t n;
        assert_int_equal(wh_store_list(f->s, &e, &n, &err), 0);
        assert_int_equal(n, 2);
        assert_string_equal(e[1].subject, f->root.digest);
        assert_string_equal(e[1].artifact_type, WH_AT_SIGNATURE);
        free(e);

        bool trusted;
        trust_key(f, "b");
        assert_int_equal(only_status(f, f->root.digest, &trusted), WH_SIG_UNTRUSTED_KEY);
        assert_false(trusted);
        PT_EXPECT_ERR(load(f, NULL, &p, &err), err, "untrusted key");

        trust_key(f, "a");
        assert_int_equal(only_status(f, f->root.digest, &trusted), WH_SIG_VALID);
        assert_true(trusted);
        assert_int_equal(load(f, NULL, &p, &err), 0);
        assert_string_equal(p.signed_by, a);
        wh_package_clear(&p);

        char revoked[200];
        snprintf(revoked, sizeof(revoked), "# compromised 2024-05\n\n%s  # key a\n", a);
        pt_write(f->trust, "revoked", revoked, 0644);
        assert_int_equal(only_status(f, f->root.digest, &trusted), WH_SIG_REVOKED_KEY);
        PT_EXPECT_ERR(load(f, NULL, &p, &err), err, "revoked key");
}

/* Rotation: trust the new key, re-sign, then revoke the old one. Packages
 * re-signed keep working; those signed only by the old key stop. */
static void test_rotation(void **state)
{
        struct fixture *f = *state;
        char a[WH_DIGEST_BUF], b[WH_DIGEST_BUF];
        keygen(f, "old", a);
        keygen(f, "new", b);
        char *other = pt_path(f->dir, "other");
        pt_normaliser(other, "python3", "");
        pt_write(other, "lib/helpers.py", "X = 99\n", 0644);
        const char *dirs[] = {other};
        struct wh_descriptor od;
        pt_pack(f->s, dirs, 1, "other:1", &od);
        sign(f, f->root.digest, "old");
        sign(f, od.digest, "old");
        trust_key(f, "old");
        struct wh_package p;
        struct wh_err err = {0};
        assert_int_equal(load(f, "kat_nmap_normalize:1.2.0", &p, &err), 0);
        wh_package_clear(&p);

        trust_key(f, "new");
        sign(f, f->root.digest, "new");
        char revoked[100];
        snprintf(revoked, sizeof(revoked), "%s\n", a);
        pt_write(f->trust, "revoked", revoked, 0644);
        assert_int_equal(load(f, "kat_nmap_normalize:1.2.0", &p, &err), 0);
        assert_string_equal(p.signed_by, b);
        wh_package_clear(&p);
        PT_EXPECT_ERR(load(f, "other:1", &p, &err), err, "revoked key");
        free(other);
}

/* A referrer whose payload was altered: same key id, other signature. */
static void test_tampered_and_malformed(void **state)
{
        struct fixture *f = *state;
        char a[WH_DIGEST_BUF];
        keygen(f, "a", a);
        trust_key(f, "a");
        sign(f, f->root.digest, "a");
        struct wh_index_entry *e;
        size_t n;
        struct wh_err err = {0};
        assert_int_equal(wh_store_list(f->s, &e, &n, &err), 0);
        json_t *m, *payload;
        assert_int_equal(wh_store_read_json(f->s, &e[1].desc, "sig", &m, &err), 0);
        struct wh_descriptor layer;
        assert_int_equal(wh_descriptor_from_json(json_array_get(json_object_get(m, "layers"), 0),
                                                 "l", &layer, &err),
                         0);
        assert_int_equal(wh_store_read_json(f->s, &layer, "p", &payload, &err), 0);
        char sig[100];
        snprintf(sig, sizeof(sig), "%s", json_string_value(json_object_get(payload, "signature")));
        sig[10] = sig[10] == 'A' ? 'B' : 'A';
        for (int round = 0; round < 2; round++) {
                if (round == 0)
                        json_object_set_new(payload, "signature", json_string(sig));
                else /* a valid-looking payload naming another digest */
                        json_object_set_new(payload, "digest", json_string(layer.digest));
                assert_int_equal(wh_store_put_json(f->s, payload, WH_MT_SIGNATURE, &layer, &err),
                                 0);
                json_array_set_new(json_object_get(m, "layers"), 0, wh_descriptor_to_json(&layer));
                struct wh_index_entry bad = {.subject = {0}};
                assert_int_equal(wh_store_put_json(f->s, m, WH_MT_MANIFEST, &bad.desc, &err), 0);
                strcpy(bad.artifact_type, WH_AT_SIGNATURE);
                strcpy(bad.subject, f->root.digest);
                assert_int_equal(wh_store_index_add(f->s, &bad, &err), 0);
        }
        struct wh_trust *t;
        assert_int_equal(wh_trust_load(f->trust, &t, &err), 0);
        struct wh_sig_report rep;
        assert_int_equal(wh_trust_check(f->s, f->root.digest, t, &rep, &err), 0);
        assert_int_equal(rep.n, 3);
        assert_int_equal(rep.sigs[0].status, WH_SIG_VALID);
        assert_int_equal(rep.sigs[1].status, WH_SIG_BAD);
        assert_int_equal(rep.sigs[2].status, WH_SIG_MALFORMED);
        assert_true(rep.trusted);
        wh_sig_report_clear(&rep);
        wh_trust_free(t);
        json_decref(m);
        json_decref(payload);
        free(e);
}

static void test_trust_dir_checks(void **state)
{
        struct fixture *f = *state;
        char a[WH_DIGEST_BUF];
        keygen(f, "a", a);
        trust_key(f, "a");
        struct wh_trust *t;
        struct wh_err err = {0};
        char *pub = pt_path(f->trust, "a.pub");
        assert_int_equal(chmod(pub, 0664), 0);
        PT_EXPECT_ERR(wh_trust_load(f->trust, &t, &err), err, "writable by group or others");
        assert_int_equal(chmod(pub, 0644), 0);
        assert_int_equal(chmod(f->trust, 0777), 0);
        PT_EXPECT_ERR(wh_trust_load(f->trust, &t, &err), err, "writable by group or others");
        assert_int_equal(chmod(f->trust, 0755), 0);
        pt_write(f->trust, "revoked", "# ok\nnot-a-key\n", 0644);
        PT_EXPECT_ERR(wh_trust_load(f->trust, &t, &err), err, "revoked line 2");
        pt_write(f->trust, "revoked", "", 0644);
        pt_write(f->trust, "junk.pub", "hello", 0644);
        PT_EXPECT_ERR(wh_trust_load(f->trust, &t, &err), err, "junk.pub is not a PEM Ed25519");
        free(pub);
}

/* Signatures travel in the zip; gc drops them with their subject. */
static void test_signatures_travel_and_gc(void **state)
{
        struct fixture *f = *state;
        char a[WH_DIGEST_BUF];
        keygen(f, "a", a);
        trust_key(f, "a");
        sign(f, f->root.digest, "a");
        struct wh_err err = {0};
        char *zip = pt_path(f->dir, "pkg.zip"), *copy = pt_path(f->dir, "copy");
        const char *refs[] = {"kat_nmap_normalize:1.2.0"};
        assert_int_equal(wh_store_export(f->s, refs, 1, WH_ARCHIVE_ZIP, zip, &err), 0);
        struct wh_store *c = pt_store(copy);
        struct wh_index_entry *added;
        size_t n;
        if (wh_store_import(c, zip, NULL, &added, &n, &err) < 0)
                fail_msg("%s", err.msg);
        assert_int_equal(n, 2);
        assert_string_equal(added[0].ref_name, "kat_nmap_normalize:1.2.0");
        assert_string_equal(added[1].subject, f->root.digest);
        free(added);
        struct wh_trust *t;
        assert_int_equal(wh_trust_load(f->trust, &t, &err), 0);
        struct wh_load_options o = {.trust = t};
        struct wh_package p;
        assert_int_equal(wh_package_load(c, NULL, &o, &p, &err), 0);
        assert_string_equal(p.signed_by, a);
        wh_package_clear(&p);
        wh_trust_free(t);

        assert_int_equal(wh_store_untag(c, "kat_nmap_normalize:1.2.0", &err), 0);
        struct wh_gc_result g;
        assert_int_equal(wh_store_gc(c, false, &g, &err), 0);
        assert_int_equal(g.referrers_dropped, 1);
        assert_int_equal(g.blobs_kept, 0);
        assert_int_equal(g.blobs_removed, 6); /* manifest, config, layer, sig, payload, {} */
        wh_store_close(c);
        free(zip);
        free(copy);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_keys, setup, teardown),
            cmocka_unit_test_setup_teardown(test_sign_verify_policy, setup, teardown),
            cmocka_unit_test_setup_teardown(test_rotation, setup, teardown),
            cmocka_unit_test_setup_teardown(test_tampered_and_malformed, setup, teardown),
            cmocka_unit_test_setup_teardown(test_trust_dir_checks, setup, teardown),
            cmocka_unit_test_setup_teardown(test_signatures_travel_and_gc, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
