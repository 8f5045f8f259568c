/* Unit tests for base/: sizes, SHA-256, error formatting and kinds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "base/io.h"
#include "base/sha256.h"
#include "base/size.h"

static void test_sizes(void **state)
{
        (void)state;
        struct wh_err err;
        uint64_t v;
        assert_int_equal(wh_parse_size("0", &v, &err), 0);
        assert_int_equal(v, 0);
        assert_int_equal(wh_parse_size("64M", &v, &err), 0);
        assert_int_equal(v, 64ull << 20);
        assert_int_equal(wh_parse_size("64MiB", &v, &err), 0);
        assert_int_equal(v, 64ull << 20);
        assert_int_equal(wh_parse_size("2g", &v, &err), 0);
        assert_int_equal(v, 2ull << 30);
        assert_int_equal(wh_parse_size("512B", &v, &err), 0);
        assert_int_equal(v, 512);
        const char *bad[] = {"12XB",      "",   "-1", "1.5M", "M", "99999999999999999999",
                             "16777216T", "4K4"};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                assert_int_equal(wh_parse_size(bad[i], &v, &err), -1);
                assert_non_null(strstr(err.msg, "is not a size"));
        }
}

static void sha256_vectors(void)
{
        char hex[65];
        wh_sha256_hex("", 0, hex);
        assert_string_equal(hex,
                            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        wh_sha256_hex("abc", 3, hex);
        assert_string_equal(hex,
                            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
        wh_sha256_hex(two, strlen(two), hex);
        assert_string_equal(hex,
                            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
        /* One million 'a', fed in uneven pieces to exercise the block buffer. */
        struct wh_sha256 ctx;
        uint8_t digest[32];
        char chunk[997];
        memset(chunk, 'a', sizeof(chunk));
        wh_sha256_init(&ctx);
        size_t left = 1000000;
        while (left) {
                size_t n = left < sizeof(chunk) ? left : sizeof(chunk);
                wh_sha256_update(&ctx, chunk, n);
                left -= n;
        }
        wh_sha256_final(&ctx, digest);
        wh_hex_encode(digest, 32, hex);
        assert_string_equal(hex,
                            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

/* Both compression paths (SHA extensions where the CPU has them). */
static void test_sha256_vectors(void **state)
{
        (void)state;
        sha256_vectors();
        wh_sha256_force_portable(true);
        sha256_vectors();
        wh_sha256_force_portable(false);
}

static void test_err_format(void **state)
{
        (void)state;
        struct wh_err err;
        assert_int_equal(wh_err_set(&err, ENOENT, "mount", "binding %s", "/x"), -1);
        assert_string_equal(err.stage, "mount");
        assert_string_equal(err.msg, "binding /x: No such file or directory");
        wh_err_prefix(&err, "sandbox");
        assert_string_equal(err.msg, "sandbox: binding /x: No such file or directory");
}

/* The kind comes from whoever made the error: an OS EINVAL says nothing
 * about the input (internal); ENOENT says the path named is not there. */
static void test_err_kinds(void **state)
{
        (void)state;
        struct wh_err err;
        wh_err_set(&err, EINVAL, "load", "mmap");
        assert_int_equal(err.kind, WH_ERR_INTERNAL);
        assert_int_equal(err.errnum, EINVAL);
        wh_err_setk(&err, WH_ERR_INVALID, 0, "meta", "not an object");
        assert_int_equal(err.kind, WH_ERR_INVALID);
        assert_string_equal(err.msg, "not an object");
        wh_err_prefix(&err, "job 1");
        assert_int_equal(err.kind, WH_ERR_INVALID);
        char *text = NULL;
        assert_int_equal(wh_read_file("/nonexistent/whiskers", 16, &text, NULL, &err), -1);
        assert_int_equal(err.kind, WH_ERR_NOT_FOUND);
        assert_int_equal(wh_read_file("/", 16, &text, NULL, &err), -1);
        assert_int_equal(err.kind, WH_ERR_INTERNAL);
        assert_int_equal(err.errnum, EISDIR);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_sizes),
            cmocka_unit_test(test_sha256_vectors),
            cmocka_unit_test(test_err_format),
            cmocka_unit_test(test_err_kinds),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
