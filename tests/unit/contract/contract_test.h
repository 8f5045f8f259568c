/* Helpers for the contract tests: temporary directories with files in them,
 * removed at the end of each test. */
#ifndef WH_TEST_CONTRACT_H
#define WH_TEST_CONTRACT_H

#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "contract/internal.h"

static inline char *tmp_dir(void)
{
        const char *base = getenv("TMPDIR");
        char *path = NULL;
        assert_true(asprintf(&path, "%s/wh-contract-test.XXXXXX", base ? base : "/tmp") > 0);
        assert_non_null(mkdtemp(path));
        assert_int_equal(chmod(path, 0755), 0);
        return path;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st, (void)flag, (void)ftw;
        return remove(path);
}

static inline void rm_tree(char *path)
{
        nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        free(path);
}

/* put(dir, "a/b.json", text): writes the file, making "a" when needed. */
static inline void put(const char *dir, const char *rel, const char *text)
{
        char path[PATH_MAX];
        assert_true(snprintf(path, sizeof(path), "%s/%s", dir, rel) < (int)sizeof(path));
        for (char *p = path + strlen(dir) + 1; (p = strchr(p, '/')); p++) {
                *p = '\0';
                mkdir(path, 0755);
                *p = '/';
        }
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        assert_int_equal(fputs(text, f) >= 0, 1);
        assert_int_equal(fclose(f), 0);
}

static inline bool has_error(const struct wh_contract_errors *e, const char *code, uint64_t line)
{
        for (size_t i = 0; i < e->n; i++)
                if (strcmp(e->items[i].code, code) == 0 && (!line || e->items[i].line == line))
                        return true;
        return false;
}

static inline const struct wh_contract_error *find_error(const struct wh_contract_errors *e,
                                                         const char *code)
{
        for (size_t i = 0; i < e->n; i++)
                if (strcmp(e->items[i].code, code) == 0)
                        return &e->items[i];
        return NULL;
}

#endif
