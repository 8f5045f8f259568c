/* The text entries of the seccomp cache (wh_seccomp_policy_load_compiled):
 * a text seen before is served without parsing, with the same hash and
 * program; a changed text never gets a stale entry's program; a tampered,
 * foreign or unsafe text entry, or a missing program entry, falls back to
 * parsing and compiling. */
#include "seccomp_test.h"

#include <string.h>
#include <sys/stat.h>

#include "base/io.h"

static const char text_a[] = "allow read write\nallow socket arg0 == AF_UNIX\n";
static const char text_b[] = "allow read write\nallow socket arg0 == AF_INET\n";

struct loaded {
        bool parsed; /* the text was parsed, not taken from a text entry */
        bool bpf_from_cache;
        char hash[65];
};

/* Load text the sandbox's way; check the program equals the one compiled
 * from a fresh parse, so a wrong entry can never pass unnoticed. */
static struct loaded load(const char *text)
{
        struct wh_seccomp_policy *p = NULL;
        struct wh_err err;
        if (wh_seccomp_policy_parse_compiled("text.policy", text, &p, &err) < 0)
                fail_msg("%s", err.msg);
        const struct sock_fprog *prog = must_compile(p);

        struct wh_seccomp_policy *ref = must_parse("ref.policy", text);
        struct sock_filter *insns;
        size_t len;
        if (wh_seccomp_compile(ref->rules, ref->n_rules, &insns, &len, &err) < 0)
                fail_msg("%s", err.msg);
        assert_int_equal(prog->len, len);
        assert_memory_equal(prog->filter, insns, len * sizeof(*insns));
        assert_string_equal(wh_seccomp_policy_hash(p), wh_seccomp_policy_hash(ref));
        free(insns);
        wh_seccomp_policy_free(ref);

        struct loaded l = {.parsed = wh_seccomp_policy_canonical(p) != NULL,
                           .bpf_from_cache = p->from_cache};
        snprintf(l.hash, sizeof(l.hash), "%s", wh_seccomp_policy_hash(p));
        wh_seccomp_policy_free(p);
        return l;
}

static void text_entry_path(const char *text, char *path, size_t len)
{
        char dir[256], key[512];
        assert_int_equal(wh_seccomp_cache_dir(dir, sizeof(dir)), 0);
        wh_seccomp_text_key(text, strlen(text), key, sizeof(key));
        assert_int_equal(wh_seccomp_cache_path(dir, key, path, len), 0);
}

static void test_known_text_is_not_parsed(void **state)
{
        (void)state;
        struct loaded first = load(text_a);
        assert_true(first.parsed);
        struct loaded again = load(text_a);
        assert_false(again.parsed);
        assert_true(again.bpf_from_cache);
        assert_string_equal(again.hash, first.hash);

        /* Another text is parsed, gets its own hash and program (load()
         * compares the program with a fresh compile), then its own entry. */
        struct loaded other = load(text_b);
        assert_true(other.parsed);
        assert_string_not_equal(other.hash, first.hash);
        assert_false(load(text_b).parsed);
        assert_false(load(text_a).parsed);

        /* Same rules, other bytes: parsed once, but the program entry of the
         * same policy hash is reused. */
        struct loaded commented = load("# same rules\nallow read write\nallow socket arg0 == 1\n");
        assert_true(commented.parsed);
        assert_true(commented.bpf_from_cache);
        assert_string_equal(commented.hash, first.hash);
}

static void test_default_policy(void **state)
{
        (void)state;
        struct wh_seccomp_policy *p;
        struct wh_err err;
        assert_int_equal(wh_seccomp_policy_load_compiled(NULL, &p, &err), 0);
        struct wh_seccomp_policy *q;
        assert_int_equal(wh_seccomp_policy_load_compiled(NULL, &q, &err), 0);
        assert_null(wh_seccomp_policy_canonical(q));
        assert_string_equal(wh_seccomp_policy_hash(q), wh_seccomp_policy_hash(p));
        const struct sock_fprog *a = must_compile(p), *b = must_compile(q);
        assert_int_equal(a->len, b->len);
        assert_memory_equal(a->filter, b->filter, a->len * sizeof(*a->filter));
        wh_seccomp_policy_free(p);
        wh_seccomp_policy_free(q);

        /* A policy file gets the same treatment, and a bad one no entry. */
        char path[300];
        snprintf(path, sizeof(path), "%s/bad.policy", test_cache_root);
        assert_int_equal(wh_write_file_atomic(path, "allow nosuchcall\n", 17, &err), 0);
        for (int i = 0; i < 2; i++) {
                assert_int_equal(wh_seccomp_policy_load_compiled(path, &p, &err), -1);
                assert_non_null(strstr(err.msg, "bad.policy:1"));
        }
}

static void test_bad_text_entries_are_refused(void **state)
{
        (void)state;
        struct loaded first = load(text_a);
        char path_a[512], path_b[512];
        text_entry_path(text_a, path_a, sizeof(path_a));
        text_entry_path(text_b, path_b, sizeof(path_b));
        load(text_b);
        char *good;
        size_t good_len;
        struct wh_err err;
        assert_int_equal(wh_read_file(path_a, 4096, &good, &good_len, &err), 0);
        assert_int_equal(good_len, 8 + 64 + 32);

        /* B's valid entry under A's name: its digest names B's key. */
        char *b_entry;
        size_t b_len;
        assert_int_equal(wh_read_file(path_b, 4096, &b_entry, &b_len, &err), 0);
        assert_int_equal(wh_write_file_atomic(path_a, b_entry, b_len, &err), 0);
        assert_true(load(text_a).parsed);
        assert_false(load(text_a).parsed); /* rewritten */
        free(b_entry);

        /* A flipped bit in the recorded hash. */
        good[8 + 5] ^= 1;
        assert_int_equal(wh_write_file_atomic(path_a, good, good_len, &err), 0);
        good[8 + 5] ^= 1;
        assert_true(load(text_a).parsed);
        assert_false(load(text_a).parsed);

        /* Truncated, or with bytes appended. */
        assert_int_equal(truncate(path_a, (off_t)good_len - 1), 0);
        assert_true(load(text_a).parsed);
        char longer[200];
        memcpy(longer, good, good_len);
        longer[good_len] = '\n';
        assert_int_equal(wh_write_file_atomic(path_a, longer, good_len + 1, &err), 0);
        assert_true(load(text_a).parsed);

        /* Writable by others: not trusted. */
        assert_false(load(text_a).parsed);
        assert_int_equal(chmod(path_a, 0666), 0);
        assert_true(load(text_a).parsed);

        /* The program entry it names is gone: parsed and compiled again. */
        char dir[256], key[256], bpf_path[512];
        assert_int_equal(wh_seccomp_cache_dir(dir, sizeof(dir)), 0);
        wh_seccomp_cache_key(first.hash, key, sizeof(key));
        assert_int_equal(wh_seccomp_cache_path(dir, key, bpf_path, sizeof(bpf_path)), 0);
        assert_int_equal(unlink(bpf_path), 0);
        struct loaded rebuilt = load(text_a);
        assert_true(rebuilt.parsed);
        assert_false(rebuilt.bpf_from_cache);
        assert_false(load(text_a).parsed);
        free(good);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_known_text_is_not_parsed),
            cmocka_unit_test(test_default_policy),
            cmocka_unit_test(test_bad_text_entries_are_refused),
        };
        return cmocka_run_group_tests(tests, cache_dir_setup, cache_dir_teardown);
}
