/* Policy text: parsing, every kind of error (with file:line), the canonical
 * form and its hash, and the built-in default (loads; equals the shipped
 * policies/default.policy). */
#include "seccomp_test.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "base/io.h"

static void test_default_loads(void **state)
{
        (void)state;
        struct wh_seccomp_policy *p;
        struct wh_err err;
        assert_int_equal(wh_seccomp_policy_load(NULL, &p, &err), 0);
        const char *canon = wh_seccomp_policy_canonical(p);
        assert_int_equal(strlen(wh_seccomp_policy_hash(p)), 64);
        assert_non_null(strstr(canon, "\nallow read\n"));
        assert_non_null(strstr(canon, "\nallow clone arg0 & 0x7e020000 == 0x0\n"));
        assert_non_null(strstr(canon, "\nerrno 38 clone3\n"));
        assert_non_null(strstr(canon, "\nerrno 1 ioctl arg1 & 0xffffffff == 0x5412\n"));
        assert_null(strstr(canon, "keyctl"));
        assert_null(strstr(canon, "ptrace"));
        assert_null(strstr(canon, "mount"));
        wh_seccomp_policy_free(p);
}

static void test_default_file_is_the_embedded_policy(void **state)
{
        (void)state;
        char *text;
        size_t len;
        struct wh_err err;
        assert_int_equal(
            wh_read_file(WH_SOURCE_DIR "/policies/default.policy", 1 << 20, &text, &len, &err), 0);
        /* If this fails: regenerate src/sandbox/seccomp_default.c (see its header). */
        assert_string_equal(text, wh_seccomp_default_policy);
        free(text);
}

static const char good_policy[] = "# a comment line\n"
                                  "\n"
                                  "allow read write   # trailing comment\n"
                                  "\tallow\tgetpid\n"
                                  "errno EPERM ptrace\n"
                                  "errno 13 kill\n"
                                  "allow socket arg0 == AF_LOCAL arg1 & 0xf == SOCK_STREAM\n"
                                  "allow clone arg0 & CLONE_NEWUSER|CLONE_NEWNS == 0\n"
                                  "errno ENOTSUP openat arg0 == -100 arg2 >= 0x10\n"
                                  "allow prctl arg0 != 4\n"
                                  "allow getpgid arg0 < 10\n"
                                  "allow getsid arg0 <= 10\n"
                                  "allow getpriority arg0 > 1\n";

static void test_good_policy(void **state)
{
        (void)state;
        struct wh_seccomp_policy *p = must_parse("good.policy", good_policy);
        assert_string_equal(wh_seccomp_policy_canonical(p),
                            "whiskers-seccomp-policy 1\n"
                            "allow clone arg0 & 0x10020000 == 0x0\n"
                            "allow close\n"
                            "allow close_range\n"
                            "allow execve\n"
                            "allow exit_group\n"
                            "allow getpgid arg0 < 0xa\n"
                            "allow getpid\n"
                            "allow getpriority arg0 > 0x1\n"
                            "allow getsid arg0 <= 0xa\n"
                            "allow prctl arg0 != 0x4\n"
                            "allow read\n"
                            "allow sendmsg\n"
                            "allow socket arg0 == 0x1 arg1 & 0xf == 0x1\n"
                            "allow write\n"
                            "errno 1 ptrace\n"
                            "errno 13 kill\n"
                            "errno 95 openat arg0 == 0xffffffffffffff9c arg2 >= 0x10\n");
        wh_seccomp_policy_free(p);
}

struct bad_case {
        const char *text;
        const char *message; /* expected in full after "bad.policy:" */
};

static const struct bad_case bad_cases[] = {
    {"alow read", "1: unknown action \"alow\" (use \"allow\" or \"errno ERRNO\")"},
    {"allow read\n\nallow frobnicate", "3: unknown system call \"frobnicate\""},
    {"allow read socketcall", "1: unknown system call \"socketcall\""},
    {"errno", "1: \"errno\" needs an errno name or number before the system calls"},
    {"errno EFROB read", "1: unknown errno \"EFROB\" (a name such as EPERM, or 1 to 4095)"},
    {"errno 5000 read", "1: unknown errno \"5000\" (a name such as EPERM, or 1 to 4095)"},
    {"# x\nallow", "2: \"allow\" names no system call"},
    {"allow arg0 == 1", "1: \"allow\" names no system call"},
    {"allow socket arg6 == 1", "1: bad condition \"arg6\": arguments are arg0 to arg5"},
    {"allow socket arg0", "1: incomplete condition on arg0: expected \"arg0 OP VALUE\""},
    {"allow socket arg0 ==", "1: incomplete condition on arg0: the value is missing"},
    {"allow socket arg0 =~ 1",
     "1: unknown operator \"=~\" in condition on arg0 (use == != < <= > >=)"},
    {"allow ioctl arg1 & 0xff != 1",
     "1: masked condition on arg1 must read \"arg1 & MASK == VALUE\""},
    {"allow ioctl arg1 &", "1: incomplete condition on arg1: expected \"arg1 & MASK == VALUE\""},
    {"allow ioctl arg1 & 0xff == 0x100",
     "1: condition on arg1 can never hold: VALUE has bits outside MASK"},
    {"allow socket arg0 == AF_FOO",
     "1: bad value \"AF_FOO\": \"AF_FOO\" is not a number or a known constant"},
    {"allow socket arg0 == 1||2",
     "1: bad value \"1||2\": expected numbers or constants joined by |"},
    {"allow socket arg0 == 0x", "1: bad value \"0x\": \"0x\" is not a number or a known constant"},
    {"allow socket arg0 == 99999999999999999999",
     "1: bad value \"99999999999999999999\": \"99999999999999999999\" is not a number or a known "
     "constant"},
    {"allow socket arg0 == 1 arg0 == 2",
     "1: arg0 is compared twice: a rule may compare each argument once"},
    {"allow socket arg0 == 1 read", "1: expected a condition (argN ...) but found \"read\""},
    {"allow getpid\nerrno EPERM getpid",
     "2: getpid already has an unconditional rule (line 1) with a different action; a call has "
     "at most one"},
    {"errno EPERM ioctl arg1 == 1\nerrno EACCES ioctl arg1 == 2",
     "2: conditional errno rules for ioctl must all use one errno (line 1 uses 1, this one 13)"},
    {"errno EPERM execve",
     "1: execve is always allowed (the sandbox calls it before execve); remove this rule"},
    {"errno EPERM sendmsg arg2 == 0",
     "1: sendmsg is always allowed (the sandbox calls it before execve); remove this rule"},
    /* Of two conflicts, the one earlier in the file is reported, whatever the
     * calls' numbers. */
    {"allow getpid\nerrno EPERM kill arg0 == 1\nerrno EACCES kill arg0 == 2\nerrno EPERM getpid",
     "3: conditional errno rules for kill must all use one errno (line 2 uses 1, this one 13)"},
    {"errno EPERM kill arg0 == 1\nallow getpid\nerrno EPERM getpid\nerrno EACCES kill arg0 == 2",
     "3: getpid already has an unconditional rule (line 2) with a different action; a call has "
     "at most one"},
};

static void test_errors_name_file_and_line(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
                struct wh_seccomp_policy *p = NULL;
                struct wh_err err;
                char expected[WH_ERR_MSG_MAX];
                snprintf(expected, sizeof(expected), "bad.policy:%s", bad_cases[i].message);
                if (wh_seccomp_policy_parse("bad.policy", bad_cases[i].text, &p, &err) == 0)
                        fail_msg("accepted: %s", bad_cases[i].text);
                assert_null(p);
                assert_string_equal(err.stage, "seccomp-policy");
                assert_string_equal(err.msg, expected);
        }
}

/* A policy of n rules for one call: "allow ioctl", then conditional errno
 * rules that agree, then (with conflict) one that does not. */
static char *many_rules(size_t n, bool conflict)
{
        char *text = malloc(n * 48 + 64);
        size_t used = (size_t)sprintf(text, "allow ioctl\n");
        for (size_t i = 1; i < n; i++)
                used += (size_t)sprintf(text + used, "errno EPERM ioctl arg1 == %zu\n", i);
        if (conflict)
                sprintf(text + used, "errno EACCES ioctl arg1 == 0\n");
        return text;
}

/* 20 000 rules for one call: still checked against each other (the last one
 * conflicts with line 2, 20 000 lines up), without comparing every pair. */
static void test_many_rules(void **state)
{
        (void)state;
        char *ok = many_rules(20000, false), *bad = many_rules(20000, true);
        struct wh_seccomp_policy *p = must_parse("many.policy", ok);
        wh_seccomp_policy_free(p);
        p = NULL;
        struct wh_err err;
        assert_int_equal(wh_seccomp_policy_parse("many.policy", bad, &p, &err), -1);
        assert_null(p);
        assert_string_equal(err.msg,
                            "many.policy:20001: conditional errno rules for ioctl must all "
                            "use one errno (line 2 uses 1, this one 13)");
        free(ok);
        free(bad);
}

static void test_load_file_errors(void **state)
{
        (void)state;
        char dir[] = "/tmp/wh-seccomp-policy.XXXXXX", path[128];
        assert_non_null(mkdtemp(dir));
        struct wh_seccomp_policy *p = NULL;
        struct wh_err err;

        snprintf(path, sizeof(path), "%s/missing.policy", dir);
        assert_int_equal(wh_seccomp_policy_load(path, &p, &err), -1);
        assert_string_equal(err.stage, "seccomp-policy");
        assert_non_null(strstr(err.msg, "missing.policy"));

        snprintf(path, sizeof(path), "%s/typo.policy", dir);
        assert_int_equal(wh_write_file_atomic(path, "allow read\nallow wrte\n", 22, &err), 0);
        assert_int_equal(wh_seccomp_policy_load(path, &p, &err), -1);
        char expected[256];
        snprintf(expected, sizeof(expected), "%s:2: unknown system call \"wrte\"", path);
        assert_non_null(strstr(err.msg, expected));
        unlink(path);

        snprintf(path, sizeof(path), "%s/binary.policy", dir);
        assert_int_equal(wh_write_file_atomic(path, "allow read\0x", 12, &err), 0);
        assert_int_equal(wh_seccomp_policy_load(path, &p, &err), -1);
        assert_non_null(strstr(err.msg, "contains a NUL byte"));
        unlink(path);

        snprintf(path, sizeof(path), "%s/ok.policy", dir);
        assert_int_equal(wh_write_file_atomic(path, good_policy, strlen(good_policy), &err), 0);
        assert_int_equal(wh_seccomp_policy_load(path, &p, &err), 0);
        struct wh_seccomp_policy *same = must_parse("other name", good_policy);
        assert_string_equal(wh_seccomp_policy_hash(p), wh_seccomp_policy_hash(same));
        wh_seccomp_policy_free(p);
        wh_seccomp_policy_free(same);
        unlink(path);
        rmdir(dir);
}

static const char *hash_of(const char *text, char out[65])
{
        struct wh_seccomp_policy *p = must_parse("hash.policy", text);
        strcpy(out, wh_seccomp_policy_hash(p));
        wh_seccomp_policy_free(p);
        return out;
}

static void test_hash_is_canonical(void **state)
{
        (void)state;
        char a[65], b[65];
        const char *base = "allow read write\n"
                           "errno EPERM ptrace\n"
                           "allow socket arg0 == AF_UNIX arg1 == 1\n"
                           "allow ioctl\n"
                           "errno EPERM ioctl arg1 & 0xffffffff == TIOCSTI\n";
        const char *same[] = {
            /* reordered, commented, re-spaced, aliases and other number spellings,
             * duplicates, and the always-allowed calls written out */
            "# same policy\n"
            "errno EPERM ioctl arg1 & 4294967295 == 0x5412   # TIOCSTI\n"
            "allow ioctl\n\n"
            "allow socket arg1 == 0x1 arg0 == AF_LOCAL\n"
            "errno 1 ptrace\n"
            "allow write\n"
            "  allow   read read\n"
            "allow execve sendmsg close close_range exit_group\n",
        };
        hash_of(base, a);
        for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++)
                assert_string_equal(hash_of(same[i], b), a);

        const char *different[] = {
            "allow read write\nerrno EPERM ptrace\nallow socket arg0 == AF_UNIX arg1 == 1\n"
            "allow ioctl\n",
            "allow read write\nerrno EACCES ptrace\nallow socket arg0 == AF_UNIX arg1 == 1\n"
            "allow ioctl\nerrno EPERM ioctl arg1 & 0xffffffff == TIOCSTI\n",
            "allow read write\nerrno EPERM ptrace\nallow socket arg0 == AF_UNIX arg1 == 2\n"
            "allow ioctl\nerrno EPERM ioctl arg1 & 0xffffffff == TIOCSTI\n",
            "allow read write getpid\nerrno EPERM ptrace\nallow socket arg0 == AF_UNIX arg1 == 1\n"
            "allow ioctl\nerrno EPERM ioctl arg1 & 0xffffffff == TIOCSTI\n",
            "allow read write\nerrno EPERM ptrace\nallow socket arg0 == AF_UNIX arg1 >= 1\n"
            "allow ioctl\nerrno EPERM ioctl arg1 & 0xffffffff == TIOCSTI\n",
        };
        for (size_t i = 0; i < sizeof(different) / sizeof(different[0]); i++)
                assert_string_not_equal(hash_of(different[i], b), a);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_default_loads),
            cmocka_unit_test(test_default_file_is_the_embedded_policy),
            cmocka_unit_test(test_good_policy),
            cmocka_unit_test(test_errors_name_file_and_line),
            cmocka_unit_test(test_many_rules),
            cmocka_unit_test(test_load_file_errors),
            cmocka_unit_test(test_hash_is_canonical),
        };
        return cmocka_run_group_tests(tests, cache_dir_setup, cache_dir_teardown);
}
