/* Registry client pieces that need no server: reference parsing, the
 * loopback rule for plain http, and a pull from a closed port failing
 * cleanly (tests/e2e/test_package_registry*.sh cover real and faulty
 * registries). */
#include "pkgtest.h"

#include "package/registry.h"

static void test_ref_parse(void **state)
{
        (void)state;
        struct wh_reg_ref r;
        struct wh_err err = {0};
        assert_int_equal(wh_reg_ref_parse("127.0.0.1:5000/kat/nmap:1.2.0", &r, &err), 0);
        assert_string_equal(r.host, "127.0.0.1:5000");
        assert_string_equal(r.repo, "kat/nmap");
        assert_string_equal(r.tag, "1.2.0");
        assert_string_equal(r.digest, "");
        const char *d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        char text[200];
        snprintf(text, sizeof(text), "registry.example/a/b__c-d.e@%s", d);
        assert_int_equal(wh_reg_ref_parse(text, &r, &err), 0);
        assert_string_equal(r.host, "registry.example");
        assert_string_equal(r.repo, "a/b__c-d.e");
        assert_string_equal(r.tag, "");
        assert_string_equal(r.digest, d);
        assert_int_equal(wh_reg_ref_parse("[::1]:5000/x", &r, &err), 0);
        assert_string_equal(r.host, "[::1]:5000");
        assert_string_equal(r.repo, "x");
        assert_string_equal(r.tag, "");
}

static void test_ref_refused(void **state)
{
        (void)state;
        struct wh_reg_ref r;
        struct wh_err err = {0};
        PT_EXPECT_ERR(wh_reg_ref_parse("nohost", &r, &err), err, "HOST[:PORT]/REPOSITORY");
        PT_EXPECT_ERR(wh_reg_ref_parse("h/Upper", &r, &err), err, "bad repository name");
        PT_EXPECT_ERR(wh_reg_ref_parse("h/a//b", &r, &err), err, "bad repository name");
        PT_EXPECT_ERR(wh_reg_ref_parse("h/a..b", &r, &err), err, "bad repository name");
        PT_EXPECT_ERR(wh_reg_ref_parse("h/a___b", &r, &err), err, "bad repository name");
        PT_EXPECT_ERR(wh_reg_ref_parse("h/a-", &r, &err), err, "bad repository name");
        PT_EXPECT_ERR(wh_reg_ref_parse("h/a:-x", &r, &err), err, "bad tag");
        PT_EXPECT_ERR(wh_reg_ref_parse("h/a@sha256:12", &r, &err), err, "bad digest");
        PT_EXPECT_ERR(wh_reg_ref_parse("h o/a", &r, &err), err, "bad registry host");
}

static void test_loopback(void **state)
{
        (void)state;
        assert_true(wh_reg_host_is_loopback("127.0.0.1:5000"));
        assert_true(wh_reg_host_is_loopback("127.1.2.3"));
        assert_true(wh_reg_host_is_loopback("localhost:80"));
        assert_true(wh_reg_host_is_loopback("[::1]:5000"));
        assert_false(wh_reg_host_is_loopback("localhost.example.com"));
        assert_false(wh_reg_host_is_loopback("128.0.0.1"));
        assert_false(wh_reg_host_is_loopback("registry.example:5000"));
}

/* Port 1 on loopback is closed: a transport error, and the store is as it
 * was (no tag, no blob, no temporary file). */
static void test_pull_closed_port(void **state)
{
        (void)state;
        char *dir = pt_tmpdir(), *layout = pt_path(dir, "s");
        struct wh_store *s = pt_store(layout);
        char *index_before = pt_read(layout, "index.json");
        struct wh_err err = {0};
        PT_EXPECT_ERR(wh_registry_pull(s, "127.0.0.1:1/kat/x:1", NULL, NULL, NULL, &err), err,
                      "127.0.0.1:1");
        PT_EXPECT_ERR(wh_registry_pull(s, "127.0.0.1:1/kat/x", NULL, NULL, NULL, &err), err,
                      "name a tag or digest");
        char *index_after = pt_read(layout, "index.json");
        assert_string_equal(index_before, index_after);
        char *blobs = pt_path(layout, "blobs/sha256"), *tmp = pt_path(layout, ".whiskers/tmp");
        assert_int_equal(pt_count(blobs), 0);
        assert_int_equal(pt_count(tmp), 0);
        wh_store_close(s);
        pt_rmrf(dir);
        free(blobs), free(tmp), free(index_before), free(index_after), free(layout), free(dir);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_ref_parse),
            cmocka_unit_test(test_ref_refused),
            cmocka_unit_test(test_loopback),
            cmocka_unit_test(test_pull_closed_port),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
