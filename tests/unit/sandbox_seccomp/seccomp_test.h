/* Helpers shared by the seccomp unit tests: a private cache directory per
 * test run (so tests never touch ~/.cache or /var/cache), and loading a
 * policy or failing the test with the error message. */
#ifndef WH_TEST_SECCOMP_H
#define WH_TEST_SECCOMP_H

#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "sandbox/seccomp_internal.h"

static char test_cache_root[64];

static inline int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st, (void)flag, (void)ftw;
        return remove(path);
}

/* cmocka group setup/teardown: WHISKERS_CACHE_DIR -> a fresh temp dir. */
static inline int cache_dir_setup(void **state)
{
        (void)state;
        snprintf(test_cache_root, sizeof(test_cache_root), "/tmp/wh-seccomp-test.XXXXXX");
        if (!mkdtemp(test_cache_root))
                return -1;
        return setenv("WHISKERS_CACHE_DIR", test_cache_root, 1);
}

static inline int cache_dir_teardown(void **state)
{
        (void)state;
        return nftw(test_cache_root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static inline struct wh_seccomp_policy *must_parse(const char *name, const char *text)
{
        struct wh_seccomp_policy *p = NULL;
        struct wh_err err;
        if (wh_seccomp_policy_parse(name, text, &p, &err) < 0)
                fail_msg("%s: %s", name, err.msg);
        return p;
}

static inline const struct sock_fprog *must_compile(struct wh_seccomp_policy *p)
{
        const struct sock_fprog *prog = NULL;
        struct wh_err err;
        if (wh_seccomp_policy_bpf(p, &prog, &err) < 0)
                fail_msg("compiling: %s", err.msg);
        return prog;
}

#endif
